//! Run `mcp-core` servers natively on AWS.
//!
//! The same [`Server`](mcp_core::server::Server) (and the same tower layers
//! around it) deploys to each target without change:
//!
//! | where | module | feature |
//! |---|---|---|
//! | Lambda behind API Gateway (REST, HTTP), Function URLs, ALB | [`lambda`] | `lambda` |
//! | Bedrock AgentCore Gateway Lambda target | [`lambda::gateway`] | `lambda` |
//! | Bedrock AgentCore Runtime (`0.0.0.0:8000/mcp`), any container | [`agentcore`] | `http` |
//! | legacy sessions shared between instances in DynamoDB | [`dynamodb`] | `dynamodb` |
//!
//! [`run`] picks the right one from the environment. Every deployment
//! answers `GET /health` ([`health`]) and CORS preflights ([`cors`]), and
//! reads its settings from the environment ([`config`]).
//!
//! ```no_run
//! # #[cfg(feature = "lambda")]
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = mcp_core::server::ServerBuilder::new("hello", "1.0.0").build()?;
//!     mcp_aws::run(server).await?;
//!     Ok(())
//! }
//! # #[cfg(not(feature = "lambda"))]
//! # fn main() {}
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "http")]
pub mod agentcore;
#[cfg(feature = "http")]
pub mod config;
#[cfg(feature = "http")]
pub mod cors;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
#[cfg(feature = "http")]
pub mod health;
#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "lambda")]
mod run;

#[cfg(feature = "lambda")]
pub use run::{HANDLER_VAR, RunError, run, run_with};
