//! AWS Lambda: the same dispatcher behind API Gateway REST (v1) and HTTP
//! (v2) APIs, Function URLs and ALB ([`LambdaAdapter`]), and as a Bedrock
//! AgentCore Gateway Lambda target ([`gateway`]).
//!
//! The adapter runs in the function's process: no localhost proxy, no
//! child process. Each event becomes an `http::Request` for the Streamable
//! HTTP transport, so every rule of both protocol eras holds here as it
//! does on a socket:
//!
//! - **Stateless (2026-07-28)** requests need nothing but the function.
//! - **Legacy clients** (`initialize` first) are served without a session
//!   by default ([`SessionMode::Disabled`], FastMCP's `stateless_http`):
//!   `initialize` returns no `Mcp-Session-Id`, and each request stands
//!   alone, so any instance answers it, with no shared store. What needs a
//!   session (server-to-client requests, subscriptions, the GET stream) is
//!   refused with an error saying so.
//! - **Legacy sessions** come with a shared [`SessionStore`]
//!   ([`LambdaBuilder::session_store`]): the DynamoDB store (feature
//!   `dynamodb`) lets `initialize` land on one instance and `tools/call` on
//!   another.
//! - Responses are **buffered** (JSON, or a complete SSE body when the
//!   handler sent progress first); with [`LambdaAdapter::run_streaming`] (a
//!   Function URL in `RESPONSE_STREAM` mode) SSE streams as it happens and
//!   the standalone `GET` stream works.
//! - Bodies arrive base64-decoded, header names are case-insensitive,
//!   stage prefixes (`/prod/mcp`) are accepted, `OPTIONS` preflights get CORS
//!   answers, and `GET /health` (and, with feature `auth`, the RFC 9728
//!   metadata document) answers without auth.
//! - Layers see the Lambda context (`lambda_http::Context`), the API
//!   Gateway request context (`lambda_http::request::RequestContext`) and
//!   the caller's IP as [`PeerAddr`] in the request's extensions.
//!
//! ```no_run
//! use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = ServerBuilder::new("hello", "1.0.0")
//!         .tool(ToolRoute::new("hello", |_ctx: Context, _: NoArgs| async { "Hello from Lambda" }))
//!         .build()?;
//!     mcp_aws::lambda::LambdaAdapter::new(server).run().await?;
//!     Ok(())
//! }
//! ```
//!
//! The entry points return [`LambdaError`], a `std::error::Error +
//! Send + Sync + 'static`: `?` turns it into a `Box<dyn Error>`, an
//! `anyhow::Error` or [`RunError`](crate::RunError).

pub mod gateway;
mod hooks;
mod source;

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use lambda_http::Body;
use mcp_core::server::{BoxFuture, IntoLayered, Layered, McpService, Server};
use mcp_core::transport::http::{
    HostPolicy, HttpBody, HttpOptions, InMemorySessionStore, PeerAddr, SessionMode, SessionStore, StreamableHttp,
};
use serde_json::json;
use tower_service::Service;

use crate::config::DeployConfig;
use crate::cors::Cors;
use crate::health::Health;

/// How responses leave the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// The whole body at once (API Gateway, ALB, Function URLs in BUFFERED
    /// mode).
    Buffered,
    /// Streamed as produced (Function URLs in RESPONSE_STREAM mode).
    Streaming,
}

/// Serves a [`Server`] (or the server wrapped in tower layers) as a
/// `lambda_http` handler; see the module docs. Cheap to clone.
pub struct LambdaAdapter<S = Server> {
    http: StreamableHttp<S>,
    health: Health,
    cors: Cors,
    path: Arc<str>,
    delivery: Delivery,
    end: hooks::InvocationEnd,
    #[cfg(feature = "auth")]
    metadata: Option<Arc<crate::auth::ProtectedResourceMetadata>>,
}

impl<S> Clone for LambdaAdapter<S> {
    fn clone(&self) -> Self {
        Self {
            http: self.http.clone(),
            health: self.health.clone(),
            cors: self.cors.clone(),
            path: Arc::clone(&self.path),
            delivery: self.delivery,
            end: self.end.clone(),
            #[cfg(feature = "auth")]
            metadata: self.metadata.clone(),
        }
    }
}

impl<S> fmt::Debug for LambdaAdapter<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaAdapter")
            .field("path", &self.path)
            .field("cors", &self.cors)
            .field("health", &self.health)
            .field("delivery", &self.delivery)
            .finish_non_exhaustive()
    }
}

impl<S: McpService> LambdaAdapter<S> {
    /// Serves `app` (a [`Server`], or one with layers: see
    /// [`Layered`]) with default settings (see
    /// [`LambdaBuilder`]).
    pub fn new(app: impl IntoLayered<Service = S>) -> Self {
        Self::builder(app).build()
    }

    /// A builder, to set a session store, health checks, CORS.
    pub fn builder(app: impl IntoLayered<Service = S>) -> LambdaBuilder<S> {
        LambdaBuilder {
            app: app.into_layered(),
            config: DeployConfig::default(),
            options: None,
            sessions: None,
            store: None,
            health: Health::new(),
            end: hooks::InvocationEnd::default(),
            #[cfg(feature = "auth")]
            metadata: None,
        }
    }
}

/// Settings of a [`LambdaAdapter`]. Defaults: any `Host` (API Gateway and
/// ALB check it), CORS for any origin, MCP at `/mcp` (stage prefixes
/// allowed), legacy clients served without sessions unless a
/// [session store](Self::session_store) is set.
#[must_use]
pub struct LambdaBuilder<S> {
    app: Layered<S>,
    config: DeployConfig,
    options: Option<HttpOptions>,
    sessions: Option<SessionMode>,
    store: Option<Arc<dyn SessionStore>>,
    health: Health,
    end: hooks::InvocationEnd,
    #[cfg(feature = "auth")]
    metadata: Option<Arc<crate::auth::ProtectedResourceMetadata>>,
}

impl<S> fmt::Debug for LambdaBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaBuilder")
            .field("config", &self.config)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl<S: McpService> LambdaBuilder<S> {
    /// Takes the path and CORS settings from `config` (for example
    /// [`DeployConfig::from_env`]).
    pub fn config(mut self, config: DeployConfig) -> Self {
        self.config = config;
        self
    }

    /// Keeps legacy sessions in `store` (DynamoDB, to share them between
    /// instances): `initialize` then opens a session
    /// ([`SessionMode::Optional`]) unless [`sessions`](Self::sessions) says
    /// otherwise.
    pub fn session_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// How legacy sessions are used, whatever the store. Default:
    /// [`SessionMode::Disabled`] without a [session
    /// store](Self::session_store) (a session in one instance's memory would
    /// strand its client when the next request reaches another instance),
    /// [`SessionMode::Optional`] with one.
    pub fn sessions(mut self, mode: SessionMode) -> Self {
        self.sessions = Some(mode);
        self
    }

    /// Answers `GET /health` with these checks.
    pub fn health(mut self, health: Health) -> Self {
        self.health = health;
        self
    }

    /// Serves this RFC 9728 protected-resource metadata at
    /// `/.well-known/oauth-protected-resource` (and its path-suffixed
    /// form), without auth.
    #[cfg(feature = "auth")]
    #[cfg_attr(docsrs, doc(cfg(feature = "auth")))]
    pub fn protected_resource(mut self, metadata: crate::auth::ProtectedResourceMetadata) -> Self {
        self.metadata = Some(Arc::new(metadata));
        self
    }

    /// Runs `hook` at the end of every invocation, before Lambda freezes
    /// the process: flush telemetry (`move || { let _ = telemetry.flush(); }`)
    /// or write the EMF record. Hooks run on a blocking thread, in the
    /// order added; a buffered response leaves once they are done.
    pub fn on_invocation_end(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.end.push(hook);
        self
    }

    /// Replaces the transport options (limits, session expiry). The host
    /// policy and session mode are then the caller's (unless
    /// [`sessions`](Self::sessions) is set); CORS origins are still added to
    /// the host policy.
    pub fn http_options(mut self, options: HttpOptions) -> Self {
        self.options = Some(options);
        self
    }

    /// The adapter.
    pub fn build(self) -> LambdaAdapter<S> {
        let shared = self.store.is_some();
        let mut options = self.options.unwrap_or_else(|| {
            let mut o = HttpOptions::default();
            o.hosts = HostPolicy::default().any_host();
            // Buffered responses gain nothing from switching to SSE early
            // or from keepalive comments: the client sees the body at the end.
            o.json_wait = Duration::from_secs(15 * 60);
            o.sse_keepalive = None;
            o.sessions = if shared { SessionMode::Optional } else { SessionMode::Disabled };
            o
        });
        if let Some(mode) = self.sessions.or(self.config.sessions) {
            options.sessions = mode;
        }
        #[cfg(feature = "rest")]
        if let Some(rest) = self.config.rest_options() {
            options.rest = Some(rest);
        }
        options.hosts = self.config.cors.host_policy(options.hosts);
        let store = self.store.unwrap_or_else(|| Arc::new(InMemorySessionStore::default()));
        let http = StreamableHttp::with_stores(self.app, options, store, None);
        LambdaAdapter {
            http,
            health: self.health,
            cors: self.config.cors,
            path: self.config.path.as_str().into(),
            delivery: Delivery::Buffered,
            end: self.end,
            #[cfg(feature = "auth")]
            metadata: self.metadata,
        }
    }
}

impl<S> LambdaAdapter<S>
where
    S: McpService,
{
    /// Runs the Lambda runtime loop with buffered responses (API Gateway,
    /// ALB, Function URLs in `BUFFERED` mode). With
    /// `AWS_LAMBDA_MAX_CONCURRENCY` above 1 (Lambda Managed Instances) it
    /// serves that many invocations at once.
    ///
    /// # Errors
    /// The runtime API failed.
    pub async fn run(self) -> Result<(), LambdaError> {
        polling_again(|| lambda_http::run_concurrent(self.clone())).await
    }

    /// Runs the Lambda runtime loop with streamed responses (Function URLs
    /// in `RESPONSE_STREAM` mode): SSE reaches the client as it is produced.
    ///
    /// # Errors
    /// The runtime API failed.
    pub async fn run_streaming(mut self) -> Result<(), LambdaError> {
        self.delivery = Delivery::Streaming;
        polling_again(|| lambda_http::run_with_streaming_response_concurrent(StreamingAdapter(self.clone()))).await
    }

    /// Answers one HTTP event, the body still unbuffered.
    pub async fn respond(&self, req: lambda_http::Request) -> http::Response<HttpBody> {
        let (mut parts, body) = req.into_parts();
        let origin = parts.headers.get(header::ORIGIN).cloned();
        let mcp = path_matches(parts.uri.path(), &self.path);
        // A REST façade route, when the transport has one on; its paths are
        // read without the API Gateway stage.
        let facade = !mcp && {
            if let Some(path) = source::path_without_stage(&parts) {
                let query = parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
                if let Ok(uri) = format!("{path}{query}").parse() {
                    parts.uri = uri;
                }
            }
            self.http.serves_path(parts.uri.path())
        };
        let mut resp = if self.cors.answers_preflight(&parts.method) {
            self.cors.preflight(&parts.headers)
        } else if Health::matches(parts.uri.path()) {
            self.health.respond(&parts.method).await
        } else if let Some(resp) = self.metadata(&parts) {
            resp
        } else if !mcp && !facade {
            not_found(parts.uri.path(), &self.path)
        } else if mcp && parts.method == Method::GET && self.delivery == Delivery::Buffered {
            // A standalone SSE stream never ends: a buffered response
            // would hold it until the function times out.
            let mut resp = error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed: this Lambda answers with buffered responses, so it has no standalone SSE \
                 stream; use POST (deploy a Function URL with response streaming for GET streams)",
            );
            resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST, DELETE, OPTIONS"));
            resp
        } else {
            if let Some(ip) = source::client_ip(&parts) {
                parts.extensions.insert(PeerAddr(std::net::SocketAddr::new(ip, 0)));
            }
            let body = match body {
                Body::Empty => Bytes::new(),
                Body::Text(text) => Bytes::from(text),
                Body::Binary(bytes) => Bytes::from(bytes),
                _ => Bytes::new(),
            };
            let req = http::Request::from_parts(parts, Full::new(body));
            match self.http.clone().call(req).await {
                Ok(resp) => resp,
                Err(never) => match never {},
            }
        };
        self.cors.decorate(origin.as_ref(), resp.headers_mut());
        resp
    }

    /// The metadata document, when this is its path and the adapter has one.
    #[cfg(feature = "auth")]
    fn metadata(&self, parts: &http::request::Parts) -> Option<http::Response<HttpBody>> {
        let metadata = self.metadata.as_ref()?;
        crate::auth::ProtectedResourceMetadata::matches(parts.uri.path()).then(|| metadata.respond(&parts.method))
    }

    #[cfg(not(feature = "auth"))]
    fn metadata(&self, _: &http::request::Parts) -> Option<http::Response<HttpBody>> {
        None
    }

    /// Answers one HTTP event with the whole body (what [`run`](Self::run)
    /// does per event).
    pub async fn respond_buffered(&self, req: lambda_http::Request) -> http::Response<Body> {
        let (parts, body) = self.respond(req).await.into_parts();
        let bytes = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(never) => match never {},
        };
        self.end.run().await;
        let body = if bytes.is_empty() {
            Body::Empty
        } else {
            // A uniquely owned `Bytes` becomes a `Vec` without a copy.
            match String::from_utf8(Vec::from(bytes)) {
                Ok(text) => Body::Text(text),
                Err(e) => Body::Binary(e.into_bytes()),
            }
        };
        http::Response::from_parts(parts, body)
    }

    /// The Streamable HTTP transport inside (session count, shutdown).
    pub fn transport(&self) -> &StreamableHttp<S> {
        &self.http
    }
}

/// The Lambda runtime failed: its API could not be reached, or it ended
/// the loop. The runtime's own error (`lambda_http::Error`, a boxed
/// error) is the [`source`](std::error::Error::source).
///
/// Unlike that boxed error, this is a `std::error::Error + Send + Sync +
/// 'static`, so `?` converts it into `Box<dyn Error>`, `anyhow::Error` and
/// [`RunError`](crate::RunError) alike.
#[derive(Debug, thiserror::Error)]
#[error("the Lambda runtime failed")]
pub struct LambdaError(#[source] lambda_http::Error);

impl LambdaError {
    /// The runtime's own error.
    pub fn into_inner(self) -> lambda_http::Error {
        self.0
    }
}

impl From<lambda_http::Error> for LambdaError {
    fn from(error: lambda_http::Error) -> Self {
        Self(error)
    }
}

/// Runs the runtime loop `run` makes, starting it again when its
/// connection to the runtime API fails (a closed keep-alive connection, as
/// some emulators close them after a streamed response) rather than ending
/// the process and paying a cold start. Five failures within 10 s of each
/// other end it.
pub(crate) async fn polling_again<F, Fut>(mut run: F) -> Result<(), LambdaError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), lambda_http::Error>>,
{
    let mut failures = 0u32;
    loop {
        let started = std::time::Instant::now();
        let Err(e) = run().await else { return Ok(()) };
        if started.elapsed() > Duration::from_secs(10) {
            failures = 0;
        }
        failures += 1;
        if failures >= 5 {
            return Err(LambdaError(e));
        }
        tracing::warn!(error = %e, failures, "the Lambda runtime API connection failed; polling again");
        tokio::time::sleep(Duration::from_millis(20 * u64::from(failures))).await;
    }
}

/// Whether `path` is the MCP path, also under a stage or base-path prefix
/// (`/prod/mcp`), with or without a trailing slash.
fn path_matches(path: &str, mcp: &str) -> bool {
    let path = path.trim_end_matches('/');
    let mcp = mcp.trim_end_matches('/');
    if mcp.is_empty() {
        return true;
    }
    path == mcp || path.strip_suffix(mcp).is_some_and(|prefix| prefix.starts_with('/') && !prefix.ends_with('/'))
}

fn error(status: StatusCode, message: &str) -> http::Response<HttpBody> {
    let body = json!({ "jsonrpc": "2.0", "id": null, "error": { "code": -32600, "message": message } });
    let mut resp = http::Response::new(HttpBody::full(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn not_found(path: &str, mcp: &str) -> http::Response<HttpBody> {
    error(StatusCode::NOT_FOUND, &format!("not found: nothing is served at {path}; MCP is at {mcp}"))
}

impl<S> Service<lambda_http::Request> for LambdaAdapter<S>
where
    S: McpService,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: lambda_http::Request) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.respond_buffered(req).await) })
    }
}

/// The adapter answering with unbuffered bodies, for response streaming.
#[derive(Clone)]
struct StreamingAdapter<S>(LambdaAdapter<S>);

impl<S> Service<lambda_http::Request> for StreamingAdapter<S>
where
    S: McpService,
{
    type Response = http::Response<hooks::EndOfBody<HttpBody>>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: lambda_http::Request) -> Self::Future {
        let this = self.0.clone();
        Box::pin(async move {
            let resp = this.respond(req).await;
            Ok(resp.map(|body| hooks::EndOfBody::new(body, this.end.clone())))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::path_matches;

    #[test]
    fn stage_and_base_path_prefixes_match() {
        assert!(path_matches("/mcp", "/mcp"));
        assert!(path_matches("/mcp/", "/mcp"));
        assert!(path_matches("/prod/mcp", "/mcp"));
        assert!(path_matches("/api/v1/mcp", "/mcp"));
        assert!(!path_matches("/notmcp", "/mcp"));
        assert!(!path_matches("/mcp/tools", "/mcp"));
        assert!(!path_matches("//mcp", "/mcp"));
        assert!(path_matches("/anything", "/"));
    }
}
