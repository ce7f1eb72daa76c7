//! Run `mcp-core` servers natively on AWS.
//!
//! The same [`Server`](mcp_core::server::Server) (and the same tower layers
//! around it) deploys to each target without change:
//!
//! | where | module | feature |
//! |---|---|---|
//! | Lambda behind API Gateway (REST, HTTP), Function URLs, ALB | `lambda` | `lambda` |
//! | Bedrock AgentCore Gateway Lambda target | `lambda::gateway` | `lambda` |
//! | Bedrock AgentCore Runtime (`0.0.0.0:8000/mcp`), any container | `agentcore` | `http` |
//! | legacy sessions shared between instances in DynamoDB | `dynamodb` | `dynamodb` |
//! | tasks (the tasks extension) shared between instances in DynamoDB | `tasks` | `dynamodb` |
//!
//! `run` (feature `lambda`) picks the right one from the environment. Every
//! deployment answers `GET /health` (`health`) and CORS preflights
//! (`cors`), and reads its settings from the environment (`config`).
//!
//! The layers work on every transport (stdio, HTTP, Lambda, AgentCore):
//!
//! | feature | what it adds |
//! |---|---|
//! | `auth` | `auth`: API keys (hashed; in memory or DynamoDB with `dynamodb`), OAuth 2.1 bearer tokens (JWT/JWKS), per-tool permissions, RFC 9728 metadata |
//! | `ratelimit` | `ratelimit`: per-key and per-tool quotas on `governor` |
//! | `cache` | `cache`: tool results reused per canonical arguments (and caller), in memory or DynamoDB (with `dynamodb`), single flight |
//! | `otel` | `telemetry`: OpenTelemetry spans and metrics, OTLP/HTTP export |
//! | `json-logs` | `logging`: JSON log lines with request, session and trace ids (turns `otel` on) |
//! | `emf` | `emf`: CloudWatch Embedded Metric Format records on stdout |
//! | `registry` | `registry`: self-registration in the MCP server registry (DynamoDB or HTTP) |
//! | `registry-service` | `registry::{service, health_checker, custom_resource}`: the registry's other side |
//! | `secrets-manager` | `secrets`: Secrets Manager values cached with a TTL and an environment override; the registration token read from a secret on both sides of the registry |
//! | `gateway` | with `secrets-manager`, `secrets::SecretsManagerSource`: the gateway's upstream credentials from Secrets Manager |
//! | (none) | [`timeout`]: per-tool deadlines |
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

/// The parts every layer's service shares: `get_ref`, `get_mut` and
/// `into_inner` (as tower's own layers have them, via [`inner_accessors!`]) for a service that keeps
/// the one it wraps in `inner`, and its `tower::Service` impl, which passes
/// readiness and errors through and hands each request to the service's
/// own `start`, returning `$future`.
macro_rules! inner_service {
    ($service:ident, $future:ident) => {
        impl<S> tower_service::Service<mcp_core::server::ServerRequest> for $service<S>
        where
            S: tower_service::Service<mcp_core::server::ServerRequest, Response = Option<mcp_core::jsonrpc::Response>>,
        {
            type Response = Option<mcp_core::jsonrpc::Response>;
            type Error = S::Error;
            type Future = $future<S::Future>;

            fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), S::Error>> {
                self.inner.poll_ready(cx)
            }

            fn call(&mut self, request: mcp_core::server::ServerRequest) -> Self::Future {
                self.start(request)
            }
        }

        $crate::inner_accessors!($service);
    };
}
pub(crate) use inner_service;

/// `get_ref`, `get_mut` and `into_inner` for a layer's service that keeps
/// the one it wraps in `inner` (the first half of [`inner_service!`], for
/// services whose `call` is written by hand).
macro_rules! inner_accessors {
    ($service:ident) => {
        impl<S> $service<S> {
            /// The inner service.
            pub fn get_ref(&self) -> &S {
                &self.inner
            }

            /// The inner service, mutably.
            pub fn get_mut(&mut self) -> &mut S {
                &mut self.inner
            }

            /// The inner service, unwrapped.
            pub fn into_inner(self) -> S {
                self.inner
            }
        }
    };
}
pub(crate) use inner_accessors;

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod agentcore;
#[cfg(feature = "auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth")))]
pub mod auth;
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub mod cache;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod config;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod cors;
#[cfg(feature = "dynamodb")]
#[cfg_attr(docsrs, doc(cfg(feature = "dynamodb")))]
pub mod dynamodb;
#[cfg(feature = "emf")]
#[cfg_attr(docsrs, doc(cfg(feature = "emf")))]
pub mod emf;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod health;
#[cfg(any(feature = "registry", feature = "auth"))]
mod http_client;
#[cfg(feature = "lambda")]
#[cfg_attr(docsrs, doc(cfg(feature = "lambda")))]
pub mod lambda;
#[cfg(feature = "json-logs")]
#[cfg_attr(docsrs, doc(cfg(feature = "json-logs")))]
pub mod logging;
#[cfg(any(feature = "otel", feature = "emf"))]
mod observe;
#[cfg(feature = "ratelimit")]
#[cfg_attr(docsrs, doc(cfg(feature = "ratelimit")))]
pub mod ratelimit;
#[cfg(feature = "registry")]
#[cfg_attr(docsrs, doc(cfg(feature = "registry")))]
pub mod registry;
#[cfg(feature = "lambda")]
mod run;
#[cfg(feature = "secrets-manager")]
#[cfg_attr(docsrs, doc(cfg(feature = "secrets-manager")))]
pub mod secrets;
#[cfg(feature = "dynamodb")]
#[cfg_attr(docsrs, doc(cfg(feature = "dynamodb")))]
pub mod tasks;
#[cfg(feature = "otel")]
#[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
pub mod telemetry;
pub mod timeout;

#[cfg(feature = "lambda")]
#[cfg_attr(docsrs, doc(cfg(feature = "lambda")))]
pub use run::{HANDLER_VAR, RunError, run, run_with, run_with_health};
