//! Streamable HTTP, for both protocol eras at one URL.
//!
//! [`StreamableHttp`] is a [`tower::Service`](tower_service::Service) over
//! `http::Request`s: mount it in an axum app (`Router::route_service("/mcp",
//! svc)`) or let [`serve`] run it on hyper. Each request picks its era:
//!
//! - **Stateless (2026-07-28)**: a non-legacy `MCP-Protocol-Version` header,
//!   or a request whose `_meta` carries the 2026-07-28 protocol version.
//!   POST only (GET and DELETE get 405); notifications get 202; a request gets
//!   `application/json`, or an SSE stream when it sends progress or log
//!   notifications before its response. The `MCP-Protocol-Version`,
//!   `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` headers must match the body
//!   (-32020, HTTP 400). Closing the stream cancels the handler.
//! - **Legacy (2024-11-05 to 2025-11-25)**: `initialize` opens a session
//!   and returns its `Mcp-Session-Id` (cryptographically random); later
//!   requests carry it (404 once unknown or expired). POST
//!   carries messages, GET opens the session's standalone SSE stream,
//!   DELETE ends the session. SSE events have ids; a client whose stream
//!   dropped resumes with `Last-Event-ID` and gets what it missed (an
//!   [`EventStore`]), while its request keeps running. Server-to-client
//!   requests (sampling, elicitation, roots) ride the request's stream.
//! - **Sessionless legacy**: a legacy request with no `Mcp-Session-Id` and no
//!   2026-07-28 marker (a plain `curl` of `tools/list`, or any request after
//!   an `initialize` answered without a session: [`SessionMode::Disabled`],
//!   FastMCP's `stateless_http`) is served on its own, in the version its
//!   `MCP-Protocol-Version` header names (2025-03-26 without one, as the
//!   specification says). Tools, resources, prompts, completion and
//!   progress on the request's stream work; what needs a session
//!   (server-to-client requests, `logging/setLevel`, subscriptions, the GET
//!   stream) is refused with an error naming the mode, and a sessionless
//!   `initialize` does not offer it (no `logging`, `subscribe` or
//!   `listChanged`), so well-behaved clients never ask. Any number of
//!   instances serve such clients with no shared store.
//!   [`SessionMode::Required`] refuses these requests with 400 instead.
//!
//! Layers around the dispatcher see the HTTP request through
//! [`ServerRequest::extensions`](crate::server::ServerRequest::extensions):
//! its `http::HeaderMap` (API keys, `X-Forwarded-For`), whatever the
//! caller put in the `http::Request`'s extensions ([`PeerAddr`] when
//! [`serve`] runs it, the Lambda request context under `mcp-aws`), and, on
//! stateless requests, the [`CheckMcpHeaders`](crate::server::CheckMcpHeaders)
//! mark ([`McpHeaders::protocol_version_in`](crate::server::McpHeaders::protocol_version_in)
//! reads the version header through it).
//!
//! A rate limiter's refusal (code -31029, `data.retryAfterMs`, `limit`,
//! `remaining`) gets `Retry-After` and `RateLimit-Limit`,
//! `RateLimit-Remaining` and `RateLimit-Reset` headers in both eras; its
//! status is 429 on stateless requests and 200 in legacy sessions, whose
//! clients read JSON-RPC errors only from 200 responses.
//!
//! An auth layer's refusal (code -31401 or -31403, with an
//! [`AuthChallenge`] signal) gets its status, 401 or 403, in both eras, and
//! its `WWW-Authenticate` header.
//!
//! Every request passes the [`HostPolicy`] first (403 otherwise: DNS
//! rebinding protection), bodies are limited (413), sessions are bounded in
//! number and expire when idle, and every per-session queue is bounded.
//!
//! ```no_run
//! use mcp_core::server::{Context, ServerBuilder, ToolRoute};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Args {
//!     /// Who to greet
//!     name: String,
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let server = ServerBuilder::new("hello", "1.0.0")
//!         .tool(ToolRoute::new("greet", |_ctx: Context, a: Args| async move { format!("Hello, {}!", a.name) })
//!             .with_description("Greets someone"))
//!         .build()
//!         .expect("valid definitions");
//!     mcp_core::transport::http::serve(server, "127.0.0.1:3000").await
//! }
//! ```

mod body;
mod events;
mod guard;
mod post;
mod respond;
#[cfg(feature = "rest")]
#[cfg_attr(docsrs, doc(cfg(feature = "rest")))]
pub mod rest;
mod serve;
mod sessions;
mod stream;
mod watchdog;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt as _;
use futures_util::future::Either;
use http::{HeaderValue, Method, StatusCode, header};
use tower_service::Service;

pub use body::HttpBody;
pub use events::{EventId, EventStore, InMemoryEventStore};
pub use guard::HostPolicy;
pub use serve::{PeerAddr, serve, serve_listener, serve_listener_with, shutdown_signal};
pub use sessions::{InMemorySessionStore, SessionStore, SessionStoreError};
pub use stream::HttpProbe;

use crate::jsonrpc::{ErrorCode, ErrorObject, Response};
use crate::server::signal::{AuthChallenge, RateLimited};
use crate::server::{BoxFuture, IntoLayered, McpService, Server};
use sessions::Sessions;

/// JSON-RPC code for a request naming a session that does not exist
/// (HTTP 404), as the TypeScript and Python SDKs use it.
pub const SESSION_NOT_FOUND: ErrorCode = ErrorCode(-32001);

/// Settings of the HTTP transport. The defaults suit a local server; a
/// public one widens [`hosts`](Self::hosts).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpOptions {
    /// Which `Host`s and `Origin`s are admitted (default: loopback only).
    pub hosts: HostPolicy,
    /// The largest request body accepted, in bytes (default 4 MiB; 413
    /// above).
    pub max_body_bytes: usize,
    /// Legacy sessions open at once (default 10 000); `initialize` beyond
    /// gets 503.
    pub max_sessions: usize,
    /// A session with no request for this long ends (default 30 min).
    pub session_idle_timeout: Duration,
    /// Messages queued per stream before the handler waits for the client
    /// (default 64).
    pub stream_queue: usize,
    /// A comment line on idle SSE streams at this interval, so that proxies
    /// keep them open (default 15 s; `None` sends none).
    pub sse_keepalive: Option<Duration>,
    /// The reconnection delay announced in priming events (default 1 s).
    pub sse_retry: Duration,
    /// How long a request may run before its response, still pending,
    /// switches from JSON to an SSE stream (when the client accepts both),
    /// so that keepalives hold the connection open (default 10 s).
    pub json_wait: Duration,
    /// Whether `initialize` may bring its own `Mcp-Session-Id` (as
    /// AgentCore Runtime does) instead of getting a fresh one (default
    /// false).
    pub accept_client_session_ids: bool,
    /// How long a connection may take to send a request's headers, and may
    /// stay idle between requests (default 30 s). Used by [`serve`]: a
    /// connection quiet for this long, with no response in progress (an
    /// open SSE stream counts as one), is closed within one and a half
    /// times it. One coarse timer per connection, not one per request.
    pub header_timeout: Duration,
    /// The path [`serve`] answers on (default `/mcp`); other paths get 404.
    pub path: String,
    /// Whether `initialize` opens a session, and how legacy requests
    /// without one are served (default [`SessionMode::Optional`]).
    pub sessions: SessionMode,
    /// The REST façade beside MCP (see [`rest`]); off by default.
    #[cfg(feature = "rest")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rest")))]
    pub rest: Option<rest::RestOptions>,
}

/// How the legacy era's sessions are used (see the [module docs](self)).
///
/// ```
/// use mcp_core::transport::http::{HttpOptions, SessionMode};
///
/// // Many instances, no shared session store: as FastMCP's `stateless_http`.
/// let mut options = HttpOptions::default();
/// options.sessions = SessionMode::Disabled;
/// assert_ne!(options.sessions, SessionMode::default());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionMode {
    /// `initialize` opens a session (`Mcp-Session-Id`); a legacy request
    /// without one is served on its own, sessionless. The default.
    #[default]
    Optional,
    /// `initialize` opens a session, and a legacy request without one gets
    /// 400 (the specification's strict reading).
    Required,
    /// `initialize` opens no session: every legacy request is served on its
    /// own, and an `Mcp-Session-Id` a client sends is ignored; GET and DELETE
    /// get 405. For deployments with many instances and no shared session
    /// store (Lambda's default without a session table).
    Disabled,
}

impl SessionMode {
    /// The name [`FromStr`](std::str::FromStr) reads: `optional`,
    /// `required` or `disabled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Optional => "optional",
            Self::Required => "required",
            Self::Disabled => "disabled",
        }
    }
}

/// A [`SessionMode`] name that is not `optional`, `required` or `disabled`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown session mode {0:?}: expected optional, required or disabled")]
pub struct UnknownSessionMode(pub String);

impl std::str::FromStr for SessionMode {
    type Err = UnknownSessionMode;

    /// Reads `optional`, `required` or `disabled` (any case; `stateless` is
    /// read as `disabled`, FastMCP's name for it).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "optional" => Ok(Self::Optional),
            "required" => Ok(Self::Required),
            "disabled" | "stateless" => Ok(Self::Disabled),
            _ => Err(UnknownSessionMode(s.to_owned())),
        }
    }
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            hosts: HostPolicy::default(),
            max_body_bytes: 4 * 1024 * 1024,
            max_sessions: 10_000,
            session_idle_timeout: Duration::from_secs(30 * 60),
            stream_queue: 64,
            sse_keepalive: Some(Duration::from_secs(15)),
            sse_retry: Duration::from_secs(1),
            json_wait: Duration::from_secs(10),
            accept_client_session_ids: false,
            header_timeout: Duration::from_secs(30),
            path: "/mcp".to_owned(),
            sessions: SessionMode::default(),
            #[cfg(feature = "rest")]
            rest: None,
        }
    }
}

/// The Streamable HTTP transport as a `tower::Service` (see the module
/// docs). Cheap to clone; clones share sessions.
pub struct StreamableHttp<S = Server> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for StreamableHttp<S> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

impl<S> fmt::Debug for StreamableHttp<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamableHttp")
            .field("options", &self.inner.options)
            .field("sessions", &self.inner.sessions.len())
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner<S> {
    server: Server,
    service: S,
    options: HttpOptions,
    sessions: Arc<Sessions>,
    events: Arc<dyn EventStore>,
    housekeeping: OnceLock<()>,
}

impl<S: McpService> StreamableHttp<S> {
    /// Serves `app` (a [`Server`], or one with layers: see [`Layered`])
    /// with default options.
    ///
    /// [`Layered`]: crate::server::Layered
    pub fn new(app: impl IntoLayered<Service = S>) -> Self {
        Self::with_options(app, HttpOptions::default())
    }

    /// Serves `app` with `options`.
    pub fn with_options(app: impl IntoLayered<Service = S>, options: HttpOptions) -> Self {
        Self::with_stores(app, options, Arc::new(InMemorySessionStore::default()), None)
    }

    /// As [`with_options`](Self::with_options), with a shared session store
    /// and, optionally, an event store (default: in memory, bounded).
    pub fn with_stores(
        app: impl IntoLayered<Service = S>,
        options: HttpOptions,
        sessions: Arc<dyn SessionStore>,
        events: Option<Arc<dyn EventStore>>,
    ) -> Self {
        let (server, service) = app.into_layered().into_parts();
        let sessions = Arc::new(Sessions::new(
            sessions,
            options.max_sessions.max(1),
            options.session_idle_timeout,
            options.stream_queue.max(1),
        ));
        let events = events.unwrap_or_else(|| Arc::new(InMemoryEventStore::default()));
        Self { inner: Arc::new(Inner { server, service, options, sessions, events, housekeeping: OnceLock::new() }) }
    }
}

impl<S> StreamableHttp<S> {
    /// The options in force.
    pub fn options(&self) -> &HttpOptions {
        &self.inner.options
    }

    /// Ends every open SSE stream (the first step of a graceful shutdown):
    /// their connections can then finish. Requests keep running.
    pub fn end_streams(&self) {
        self.inner.sessions.end_streams();
    }

    /// Legacy sessions open in this process.
    pub fn session_count(&self) -> usize {
        self.inner.sessions.len()
    }
}

use crate::server::BoxError;

impl<S, B> Service<http::Request<B>> for StreamableHttp<S>
where
    S: McpService,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<HttpBody>;
    type Error = Infallible;
    type Future = BoxFuture<Result<http::Response<HttpBody>, Infallible>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        // Nothing runs until the future is polled (inside a runtime: the
        // first request spawns the session housekeeping).
        let inner = Arc::clone(&self.inner);
        Box::pin(futures_util::future::lazy(move |_| inner.handle(req)).flatten().map(Ok))
    }
}

impl<S> Inner<S>
where
    S: McpService,
{
    /// Routes a request by path and method. Not an `async fn`: POST's
    /// future is returned as it is, without a future around it that would
    /// keep the request a second time, and the rarer paths are boxed.
    fn handle<B>(
        self: Arc<Self>,
        req: http::Request<B>,
    ) -> Either<impl Future<Output = http::Response<HttpBody>> + Send + 'static, BoxFuture<http::Response<HttpBody>>>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.housekeeping.get_or_init(|| {
            let task = sessions::housekeeping(
                Arc::downgrade(&self.sessions),
                Some(Arc::clone(&self.events)),
                self.server.subscribe_events(),
            );
            tokio::spawn(task);
        });
        #[cfg(feature = "rest")]
        if let Some(route) = self.rest_route(req.uri().path()) {
            return match self.refuse_host(&guard::Seen::scan(req.headers()), req.uri()) {
                Some(refused) => Either::Right(answered(refused)),
                None => Either::Right(Box::pin(self.rest(route, req))),
            };
        }
        // POST checks the host itself, from the headers it reads anyway.
        if req.method() != Method::POST
            && let Some(refused) = self.refuse_host(&guard::Seen::scan(req.headers()), req.uri())
        {
            return Either::Right(answered(refused));
        }
        match *req.method() {
            Method::POST => Either::Left(self.post(req)),
            Method::GET => Either::Right(Box::pin(self.get(req.into_parts().0))),
            Method::DELETE => Either::Right(Box::pin(self.delete(req.into_parts().0))),
            _ => Either::Right(answered(method_not_allowed(
                if self.options.sessions == SessionMode::Disabled { "POST" } else { "GET, POST, DELETE" },
                "MCP uses POST, and GET and DELETE for legacy sessions",
            ))),
        }
    }
}

impl<S> Inner<S> {
    /// A 403 when the [`HostPolicy`] refuses the request's host or origin.
    fn refuse_host(&self, seen: &guard::Seen<'_>, uri: &http::Uri) -> Option<http::Response<HttpBody>> {
        let why = self.options.hosts.check_seen(seen, uri).err()?;
        Some(error_response(StatusCode::FORBIDDEN, None, ErrorCode::INVALID_REQUEST, format!("forbidden: {why}")))
    }

    /// The REST façade's route for `path`, unless it is the MCP path.
    #[cfg(feature = "rest")]
    fn rest_route(&self, path: &str) -> Option<rest::Route> {
        let rest = self.options.rest.as_ref()?;
        if path.trim_end_matches('/') == self.options.path.trim_end_matches('/') {
            return None;
        }
        rest.route(path)
    }
}

impl<S> StreamableHttp<S> {
    /// Whether this transport answers `path`: the MCP path, or a route of
    /// the REST façade when it is on. [`serve`] and the Lambda adapter send
    /// it those paths and answer the others themselves.
    pub fn serves_path(&self, path: &str) -> bool {
        #[cfg(feature = "rest")]
        if self.inner.rest_route(path).is_some() {
            return true;
        }
        path == self.inner.options.path
    }
}

/// Why a request body could not be read.
pub(crate) enum BodyError {
    /// Over the limit (the limit).
    TooLarge(usize),
    /// The connection failed mid-body.
    Unreadable(String),
}

/// 405 with `Allow: {allow}` and why.
fn method_not_allowed(allow: &'static str, why: &str) -> http::Response<HttpBody> {
    let mut resp = error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        ErrorCode::INVALID_REQUEST,
        format!("method not allowed: {why}"),
    );
    resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    resp
}

/// A JSON response.
fn json_response(status: StatusCode, body: Vec<u8>) -> http::Response<HttpBody> {
    let mut resp = http::Response::new(HttpBody::full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// A JSON-RPC error as an HTTP response with `status`.
fn error_response(
    status: StatusCode,
    id: Option<crate::jsonrpc::RequestId>,
    code: ErrorCode,
    message: String,
) -> http::Response<HttpBody> {
    let mut buf = Vec::with_capacity(message.len() + 64);
    Response::error(id, ErrorObject::new(code, message)).write_to(&mut buf);
    json_response(status, buf)
}

/// An empty response with `status` (202 for notifications, 200 for DELETE).
/// A response already made, as the boxed future of a path that answers at
/// once (a refusal, an error).
fn answered(resp: http::Response<HttpBody>) -> BoxFuture<http::Response<HttpBody>> {
    Box::pin(std::future::ready(resp))
}

fn empty_response(status: StatusCode) -> http::Response<HttpBody> {
    let mut resp = http::Response::new(HttpBody::empty());
    *resp.status_mut() = status;
    resp
}

/// The HTTP status of a stateless-era JSON-RPC reply, by its error code.
fn status_for(resp: &Response) -> StatusCode {
    let Err(e) = &resp.payload else { return StatusCode::OK };
    match e.code {
        ErrorCode::PARSE_ERROR
        | ErrorCode::INVALID_REQUEST
        | ErrorCode::INVALID_PARAMS
        | ErrorCode::HEADER_MISMATCH
        | ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY
        | ErrorCode::UNSUPPORTED_PROTOCOL_VERSION => StatusCode::BAD_REQUEST,
        ErrorCode::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        ErrorCode::RATE_LIMITED => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::UNAUTHORIZED => StatusCode::UNAUTHORIZED,
        ErrorCode::FORBIDDEN => StatusCode::FORBIDDEN,
        ErrorCode::SERVER_OVERLOADED => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::INTERNAL_ERROR => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::OK,
    }
}

/// The headers of a rate-limited reply, from the [`RateLimited`] signal
/// the limiter attached: `Retry-After` and `RateLimit-Reset` (whole
/// seconds, rounded up, at least 1), and `RateLimit-Limit` and
/// `RateLimit-Remaining` when known (the IETF `RateLimit` header fields
/// draft).
fn rate_limit_headers(resp: &Response, headers: &mut http::HeaderMap) {
    let Some(limited) = resp.extensions.get::<RateLimited>() else { return };
    let secs = HeaderValue::from(limited.retry_after_secs());
    headers.insert(header::RETRY_AFTER, secs.clone());
    headers.insert("ratelimit-reset", secs);
    if let Some(limit) = limited.limit {
        headers.insert("ratelimit-limit", HeaderValue::from(limit));
    }
    if let Some(remaining) = limited.remaining {
        headers.insert("ratelimit-remaining", HeaderValue::from(remaining));
    }
}

/// Renders an auth layer's [`AuthChallenge`] on `out`: its status (401 or
/// 403, whatever the era: legacy clients start their OAuth flow from a real
/// 401) and its `WWW-Authenticate` header.
fn auth_challenge(resp: &Response, out: &mut http::Response<HttpBody>) {
    let Some(challenge) = resp.extensions.get::<AuthChallenge>() else { return };
    *out.status_mut() = challenge.status;
    if let Ok(value) = HeaderValue::from_str(&challenge.www_authenticate) {
        out.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
}
