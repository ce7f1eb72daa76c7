//! rmcp's equivalent of this SDK's calculator over HTTP: the same `add`
//! tool, written with `#[tool]` and `#[tool_router]`, served over
//! Streamable HTTP configured for speed as rmcp's documentation allows:
//! stateless (legacy session mode off, the never-session manager), JSON
//! responses, SSE keep-alive off, and a tool router built once rather than
//! per request.

use std::convert::Infallible;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, tool, tool_handler, tool_router};
use tokio::net::TcpListener;

/// The arguments of `add`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct AddArgs {
    /// The left operand
    pub a: f64,
    /// The right operand
    pub b: f64,
}

/// The server; cloning it (once per request, by rmcp's service factory)
/// shares the router built once.
#[derive(Clone)]
pub struct Calculator {
    tool_router: Arc<ToolRouter<Self>>,
}

impl Default for Calculator {
    fn default() -> Self {
        Self { tool_router: Arc::new(Self::tool_router()) }
    }
}

#[tool_router]
impl Calculator {
    /// Add two numbers.
    #[tool(annotations(read_only_hint = true))]
    fn add(&self, Parameters(AddArgs { a, b }): Parameters<AddArgs>) -> String {
        (a + b).to_string()
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Calculator {}

/// rmcp's Streamable HTTP service, stateless with JSON responses.
pub fn http_service() -> StreamableHttpService<Calculator, NeverSessionManager> {
    let server = Calculator::default();
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None);
    StreamableHttpService::new(move || Ok(server.clone()), Arc::new(NeverSessionManager::default()), config)
}

/// Serves `service` on `listener` with hyper's HTTP/1 server and the
/// settings this SDK's `serve` uses (keep-alive, `TCP_NODELAY`), one task
/// per connection.
///
/// # Errors
/// Never returns otherwise: it serves until the process ends.
pub async fn serve_http1<S, B>(listener: TcpListener, service: S) -> std::io::Result<()>
where
    S: tower_service::Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let svc = service.clone();
        let handler = hyper::service::service_fn(move |req| {
            let mut svc = svc.clone();
            async move { tower_service::Service::call(&mut svc, req).await }
        });
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), handler)
                .await;
        });
    }
}
