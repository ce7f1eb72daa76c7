//! Procedural macros for `mcp-core` (`#[tool]`, `#[prompt]`, `#[resource]`).
//!
//! Users never depend on this crate directly: `mcp-core` re-exports its
//! macros. The macros themselves land with the mcp-macros issue; until then
//! servers register handlers with `mcp_core::server` builders.
