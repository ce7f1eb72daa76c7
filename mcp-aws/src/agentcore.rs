//! Bedrock AgentCore Runtime: the container contract is an MCP server on
//! `0.0.0.0:8000/mcp` (Streamable HTTP), behind the platform's proxy, which
//! assigns the `Mcp-Session-Id` itself; this module serves exactly that,
//! plus `GET /health` and `GET /ping` for the platform's probes.
//!
//! ```no_run
//! use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let server = ServerBuilder::new("hello", "1.0.0")
//!         .tool(ToolRoute::new("hello", |_ctx: Context, _: NoArgs| async { "Hello from AgentCore" }))
//!         .build()
//!         .expect("valid definitions");
//!     mcp_aws::agentcore::serve_runtime(server).await
//! }
//! ```

use std::io;
use std::sync::Arc;

use mcp_core::server::IntoLayered;
use mcp_core::transport::http::{
    HostPolicy, HttpOptions, InMemorySessionStore, SessionStore, StreamableHttp, serve_listener_with, shutdown_signal,
};

use crate::config::DeployConfig;
use crate::health::Health;

/// The transport options AgentCore Runtime needs: any `Host` (the
/// platform's proxy fronts the container), the configured CORS origins,
/// platform-assigned session ids accepted on `initialize`, and the
/// configured path and session mode (`MCP_SESSIONS`).
///
/// Bound to a loopback address (`MCP_BIND=127.0.0.1:…`, a local run), the
/// server is what DNS rebinding targets, so only `localhost` and loopback
/// `Host`s are accepted there, as the specification asks of local servers.
pub fn runtime_options(config: &DeployConfig) -> HttpOptions {
    let mut options = HttpOptions::default();
    let hosts = if config.bind.ip().is_loopback() { HostPolicy::default() } else { HostPolicy::default().any_host() };
    options.hosts = config.cors.host_policy(hosts);
    options.accept_client_session_ids = true;
    options.path.clone_from(&config.path);
    if let Some(mode) = config.sessions {
        options.sessions = mode;
    }
    #[cfg(feature = "rest")]
    {
        options.rest = config.rest_options();
    }
    options
}

/// Serves `app` (a [`Server`](mcp_core::server::Server), or one with layers) as AgentCore Runtime expects, with settings from the
/// environment ([`DeployConfig::from_env`]; `MCP_BIND` moves it off
/// `0.0.0.0:8000` for local runs), until ctrl-c or SIGTERM.
///
/// # Errors
/// The environment holds an invalid setting, or the address cannot be
/// bound.
pub async fn serve_runtime(app: impl IntoLayered) -> io::Result<()> {
    let config = DeployConfig::from_env().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    serve_runtime_with(app, &config, Health::new(), Arc::new(InMemorySessionStore::default())).await
}

/// As [`serve_runtime`], with explicit settings, health checks and a
/// session store.
///
/// # Errors
/// The address cannot be bound.
pub async fn serve_runtime_with(
    app: impl IntoLayered,
    config: &DeployConfig,
    health: Health,
    sessions: Arc<dyn SessionStore>,
) -> io::Result<()> {
    serve_runtime_routes(app, config, health, sessions).await
}

/// As [`serve_runtime_with`], with `other` answering every path but MCP's
/// (the health endpoint, with the auth metadata in front of it).
pub(crate) async fn serve_runtime_routes<O>(
    app: impl IntoLayered,
    config: &DeployConfig,
    other: O,
    sessions: Arc<dyn SessionStore>,
) -> io::Result<()>
where
    O: tower_service::Service<
            http::Request<hyper::body::Incoming>,
            Response = http::Response<mcp_core::transport::http::HttpBody>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + Sync
        + 'static,
    O::Future: Send,
{
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    tracing::info!(address = %config.bind, path = %config.path, "serving MCP (AgentCore Runtime contract)");
    let http = StreamableHttp::with_stores(app, runtime_options(config), sessions, None);
    serve_listener_with(listener, http, other, shutdown_signal()).await
}
