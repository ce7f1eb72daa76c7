//! Build MCP (Model Context Protocol) servers in Rust, for every protocol
//! version from 2024-11-05 to 2026-07-28, from one binary.
//!
//! ```no_run
//! use mcp_core::server::{Context, ServerBuilder, ToolRoute};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct AddArgs {
//!     /// The first addend
//!     a: f64,
//!     /// The second addend
//!     b: f64,
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let server = ServerBuilder::new("calculator", "1.0.0")
//!         .tool(ToolRoute::new("add", |_ctx: Context, a: AddArgs| async move { a.a + a.b })
//!             .with_description("Add two numbers"))
//!         .build()
//!         .expect("valid definitions");
//!     mcp_core::transport::stdio::serve_stdio(server).await
//! }
//! ```
//!
//! # Layout
//!
//! | module | holds |
//! |---|---|
//! | [`jsonrpc`] | the JSON-RPC 2.0 envelope, strict decoding, error codes |
//! | [`protocol`] | MCP wire types for every version, [`ProtocolVersion`](protocol::ProtocolVersion) |
//! | [`error`] | [`Error`] and its one mapping onto JSON-RPC codes |
//! | [`server`] | the builder, registries, [`Context`](server::Context), the dispatcher |
//! | [`transport`] | stdio (feature `stdio`, on by default) |
//!
//! # Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `stdio` | yes | the stdio transport |
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod error;
pub mod jsonrpc;
pub mod protocol;
pub mod server;
pub mod transport;

pub use error::{Error, Result};
pub use protocol::ProtocolVersion;
