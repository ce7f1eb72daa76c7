//! Per-tool deadlines, as a tower layer over the dispatcher.
//!
//! A `tools/call` that runs past its tool's deadline is cancelled (its
//! future is dropped and the request's cancellation token fires, so work it
//! spawned from its `Context` stops too) and answered with a JSON-RPC error
//! naming the tool and the limit: code [`ErrorCode::REQUEST_TIMEOUT`]
//! (-31001, implementation-defined) with `data: {"tool", "timeoutMs"}`. The
//! server keeps serving. Other methods pass through untouched.
//!
//! ```
//! use std::time::Duration;
//! use mcp_aws::timeout::ToolTimeoutLayer;
//! use mcp_core::server::ServerBuilder;
//! use tower_layer::Layer;
//!
//! let server = ServerBuilder::new("demo", "1.0.0").build().expect("valid");
//! let service = ToolTimeoutLayer::new()
//!     .default_timeout(Duration::from_secs(30))
//!     .tool("render_report", Duration::from_secs(120))
//!     .layer(server);
//! # let _ = service;
//! ```

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use mcp_core::jsonrpc::{ErrorCode, ErrorObject, RequestId, Response};
use mcp_core::server::{ServerRequest, Target};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tower_layer::Layer;
use tower_service::Service;

#[derive(Debug, Default)]
struct Deadlines {
    default: Option<Duration>,
    tools: HashMap<String, Duration>,
}

impl Deadlines {
    fn for_tool(&self, tool: &str) -> Option<Duration> {
        self.tools.get(tool).copied().or(self.default)
    }
}

/// Deadlines per tool, and a default for the others (none by default: a
/// layer without deadlines changes nothing).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ToolTimeoutLayer {
    deadlines: Arc<Deadlines>,
}

impl ToolTimeoutLayer {
    /// A layer with no deadlines yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn edit(mut self, f: impl FnOnce(&mut Deadlines)) -> Self {
        let mut d = Deadlines { default: self.deadlines.default, tools: self.deadlines.tools.clone() };
        f(&mut d);
        self.deadlines = Arc::new(d);
        self
    }

    /// The deadline of every tool without its own.
    pub fn default_timeout(self, limit: Duration) -> Self {
        self.edit(|d| d.default = Some(limit))
    }

    /// The deadline of `tool`.
    pub fn tool(self, tool: impl Into<String>, limit: Duration) -> Self {
        let tool = tool.into();
        self.edit(|d| {
            d.tools.insert(tool, limit);
        })
    }
}

impl<S> Layer<S> for ToolTimeoutLayer {
    type Service = ToolTimeout<S>;

    fn layer(&self, inner: S) -> ToolTimeout<S> {
        ToolTimeout { inner, deadlines: Arc::clone(&self.deadlines) }
    }
}

/// The service [`ToolTimeoutLayer`] builds.
#[derive(Clone)]
pub struct ToolTimeout<S> {
    inner: S,
    deadlines: Arc<Deadlines>,
}

impl<S> fmt::Debug for ToolTimeout<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolTimeout").field("deadlines", &self.deadlines).finish_non_exhaustive()
    }
}

crate::inner_service!(ToolTimeout, ResponseFuture);

impl<S> ToolTimeout<S>
where
    S: Service<ServerRequest, Response = Option<Response>>,
{
    /// What the service's `call` does.
    fn start(&mut self, request: ServerRequest) -> ResponseFuture<S::Future> {
        let head = request.head();
        let timed = match (head.target(), head.id()) {
            (Some(Target::Tool(tool)), Some(id)) => self.deadlines.for_tool(tool).map(|limit| Overrun {
                tool: Arc::clone(tool),
                limit,
                id: id.clone(),
                cancel: request.cancel.clone(),
            }),
            _ => None,
        };
        match timed {
            None => ResponseFuture { inner: self.inner.call(request), deadline: None, overrun: None },
            Some(overrun) => ResponseFuture {
                deadline: Some(tokio::time::sleep(overrun.limit)),
                inner: self.inner.call(request),
                overrun: Some(overrun),
            },
        }
    }
}

/// What a timed-out call is answered with.
struct Overrun {
    tool: Arc<str>,
    limit: Duration,
    id: RequestId,
    cancel: CancellationToken,
}

impl Overrun {
    fn into_response(self) -> Response {
        self.cancel.cancel();
        let ms = u64::try_from(self.limit.as_millis()).unwrap_or(u64::MAX);
        tracing::warn!(tool = %self.tool, timeout_ms = ms, "tool call timed out");
        let error = ErrorObject::new(
            ErrorCode::REQUEST_TIMEOUT,
            format!("request timed out: tool `{}` exceeded its {ms} ms limit and was cancelled", self.tool),
        )
        .with_data(json!({ "tool": self.tool, "timeoutMs": ms }));
        Response::error(Some(self.id), error)
    }
}

pin_project_lite::pin_project! {
    /// The future of [`ToolTimeout`]: the inner answer, or a timeout error
    /// once the deadline passes.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        #[pin]
        deadline: Option<tokio::time::Sleep>,
        overrun: Option<Overrun>,
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").field("timed", &self.overrun.is_some()).finish_non_exhaustive()
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Option<Response>, E>>,
{
    type Output = Result<Option<Response>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(out) = this.inner.poll(cx) {
            return Poll::Ready(out);
        }
        if let Some(deadline) = this.deadline.as_pin_mut()
            && deadline.poll(cx).is_ready()
            && let Some(overrun) = this.overrun.take()
        {
            return Poll::Ready(Ok(Some(overrun.into_response())));
        }
        Poll::Pending
    }
}
