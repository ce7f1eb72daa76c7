//! Build MCP (Model Context Protocol) servers in Rust, for every protocol
//! version from 2024-11-05 to 2026-07-28, from one binary.
//!
//! ```no_run
//! use mcp_core::server::ServerBuilder;
//! use mcp_core::tool;
//!
//! /// Add two numbers.
//! #[tool]
//! async fn add(
//!     /// The first addend
//!     a: f64,
//!     /// The second addend
//!     b: f64,
//! ) -> f64 {
//!     a + b
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let server = ServerBuilder::new("calculator", "1.0.0").tool(add_tool()).build().expect("valid definitions");
//!     mcp_core::transport::stdio::serve(server).await
//! }
//! ```
//!
//! The macros ([`tool`], [`prompt`], [`resource`], [`routes`]) expand to the
//! builders of [`server`] ([`ToolRoute`](server::ToolRoute) and friends),
//! which work without them too.
//!
//! # Layout
//!
//! | module | holds |
//! |---|---|
//! | [`jsonrpc`] | the JSON-RPC 2.0 envelope, strict decoding, error codes |
//! | [`protocol`] | MCP wire types for every version, [`ProtocolVersion`] |
//! | [`error`] | [`Error`] and its one mapping onto JSON-RPC codes |
//! | [`server`] | the builder, registries, [`Context`](server::Context), the dispatcher |
//! | [`transport`] | stdio (feature `stdio`, on by default), Streamable HTTP (feature `http`) |
//! | `client` | an MCP client, both transports and eras (feature `client`) |
//!
//! # Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `macros` | yes | `#[tool]`, `#[prompt]`, `#[resource]` and `#[routes]` |
//! | `stdio` | yes | the stdio transport |
//! | `http` | no | Streamable HTTP: a `tower::Service` and a one-line `serve` |
//! | `client` | no | an MCP [`client`]: stdio (child process) and Streamable HTTP, both eras |
//! | `client-tls` | no | `https://` for the client, through rustls |
//!
//! # Implementing the stores
//!
//! The traits a user implements with async methods (the HTTP transport's
//! `SessionStore`, `mcp-aws`'s health checks) are written with
//! [`#[async_trait]`](macro@async_trait), which `mcp-core` re-exports: write
//! `#[mcp_core::async_trait]` on the `impl` and plain `async fn` in it, with
//! no `async-trait` dependency of your own.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[doc(hidden)]
pub mod __private;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
pub mod error;
#[cfg(feature = "gateway")]
#[cfg_attr(docsrs, doc(cfg(feature = "gateway")))]
pub mod gateway;
pub mod jsonrpc;
pub mod protocol;
pub mod server;
pub mod transport;

#[cfg(test)]
mod test_log;

pub use error::{Error, Result};
pub use protocol::ProtocolVersion;

/// The [`async-trait`](https://docs.rs/async-trait) attribute, for
/// implementing this SDK's async traits with plain `async fn` (see
/// [Implementing the stores](crate#implementing-the-stores)).
pub use async_trait::async_trait;

#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
pub use mcp_macros::{prompt, resource, routes, tool};
