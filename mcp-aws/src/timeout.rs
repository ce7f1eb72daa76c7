//! Per-tool deadlines, as a tower layer over the dispatcher.
//!
//! A `tools/call` that runs past its tool's deadline is cancelled (its
//! future is dropped and the request's cancellation token fires, so work it
//! spawned from its `Context` stops too) and answered with a message naming
//! the tool and the limit. The server keeps serving. Other methods pass
//! through untouched.
//!
//! The answer is a tool execution failure, as the spec reports them: a
//! result with `isError: true` and the message as its text content (plus
//! `resultType: "complete"` in the stateless era), which the model sees and
//! clients return rather than raise. That holds from protocol 2025-11-25 on,
//! the versions in which this SDK also reports invalid arguments as results
//! ([`ProtocolVersion::tool_input_errors_are_results`]). Requests of older
//! versions, or naming none, and every request once
//! [`ToolTimeoutLayer::as_protocol_error`] is set, get a JSON-RPC error
//! instead: code [`ErrorCode::REQUEST_TIMEOUT`] (-31001,
//! implementation-defined) with `data: {"tool", "timeoutMs"}`.
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
use mcp_core::protocol::{CallToolResult, ProtocolVersion, ResultType};
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
    as_error: bool,
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

    /// Answers every timed-out call with the JSON-RPC error -31001
    /// ([`ErrorCode::REQUEST_TIMEOUT`], `data: {"tool", "timeoutMs"}`), as
    /// before 0.2, instead of an `isError` result. The model then never
    /// sees the timeout, and clients raise it as an error.
    pub fn as_protocol_error(mut self) -> Self {
        self.as_error = true;
        self
    }
}

impl<S> Layer<S> for ToolTimeoutLayer {
    type Service = ToolTimeout<S>;

    fn layer(&self, inner: S) -> ToolTimeout<S> {
        ToolTimeout { inner, deadlines: Arc::clone(&self.deadlines), as_error: self.as_error }
    }
}

/// The service [`ToolTimeoutLayer`] builds.
#[derive(Clone)]
pub struct ToolTimeout<S> {
    inner: S,
    deadlines: Arc<Deadlines>,
    as_error: bool,
}

impl<S> fmt::Debug for ToolTimeout<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolTimeout")
            .field("deadlines", &self.deadlines)
            .field("as_protocol_error", &self.as_error)
            .finish_non_exhaustive()
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
                as_result: !self.as_error,
                version: head.protocol_version(),
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

/// Marks the response to a timed-out call (result or error) for the
/// telemetry layers, which count it as a timeout either way.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimedOut;

/// What a timed-out call is answered with.
struct Overrun {
    tool: Arc<str>,
    limit: Duration,
    id: RequestId,
    cancel: CancellationToken,
    as_result: bool,
    version: Option<ProtocolVersion>,
}

impl Overrun {
    fn into_response(self) -> Response {
        self.cancel.cancel();
        let ms = u64::try_from(self.limit.as_millis()).unwrap_or(u64::MAX);
        tracing::warn!(tool = %self.tool, timeout_ms = ms, "tool call timed out");
        let mut response = self.answer(ms);
        response.extensions.insert(TimedOut);
        response
    }

    fn answer(self, ms: u64) -> Response {
        if let Some(version) = self.version.filter(|v| self.as_result && v.tool_input_errors_are_results()) {
            let text = format!("tool `{}` timed out: it exceeded its {ms} ms limit and was cancelled", self.tool);
            let mut result = CallToolResult::error_text(text);
            if version.has_result_type() {
                result.result_type = Some(ResultType::Complete);
            }
            match serde_json::value::to_raw_value(&result) {
                Ok(raw) => return Response::result(self.id, raw),
                Err(e) => tracing::error!(error = %e, "could not encode the timeout result"),
            }
        }
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
