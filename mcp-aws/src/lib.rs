//! AWS integration for `mcp-core` servers.
//!
//! This crate is the home of the Lambda adapter, Bedrock AgentCore support,
//! rate limiting, OpenTelemetry, auth and the MCP server registry.
//!
//! | feature | what it adds |
//! |---|---|
//! | `ratelimit` | [`ratelimit`]: per-key and per-tool quotas on `governor` |
//! | `otel` | [`telemetry`]: OpenTelemetry spans and metrics, OTLP/HTTP export |
//! | `json-logs` | [`logging`]: JSON log lines with request, session and trace ids (turns `otel` on) |
//! | `emf` | [`emf`]: CloudWatch Embedded Metric Format records on stdout |
//! | (none) | [`timeout`]: per-tool deadlines |
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "emf")]
#[cfg_attr(docsrs, doc(cfg(feature = "emf")))]
pub mod emf;
#[cfg(feature = "json-logs")]
#[cfg_attr(docsrs, doc(cfg(feature = "json-logs")))]
pub mod logging;
#[cfg(any(feature = "otel", feature = "emf"))]
mod observe;
mod peek;
#[cfg(feature = "ratelimit")]
#[cfg_attr(docsrs, doc(cfg(feature = "ratelimit")))]
pub mod ratelimit;
#[cfg(feature = "otel")]
#[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
pub mod telemetry;
pub mod timeout;
