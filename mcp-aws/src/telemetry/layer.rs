//! [`TelemetryLayer`]: a span per request and per tool call, and the
//! request metrics, around the dispatcher.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use mcp_core::jsonrpc::Response;
use mcp_core::protocol::methods;
use mcp_core::server::{ServerRequest, Session};
use opentelemetry::context::{FutureExt as _, WithContext};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument as _;
use tracing::instrument::Instrumented;

use super::Shared;
use super::context::{RequestTelemetry, parent_context};
use super::metrics::{Labels, attr};
use super::redact::recordable;
use crate::observe::{Outcome, RequestInfo, Text};

/// Wraps the dispatcher in [`Telemetry`](super::Telemetry)'s spans and
/// metrics; see the [module docs](super). A layer of disabled telemetry
/// adds nothing but a branch.
#[derive(Clone)]
pub struct TelemetryLayer {
    pub(crate) shared: Option<Arc<Shared>>,
}

impl fmt::Debug for TelemetryLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryLayer").field("enabled", &self.shared.is_some()).finish()
    }
}

impl<S> Layer<S> for TelemetryLayer {
    type Service = TelemetryService<S>;

    fn layer(&self, inner: S) -> TelemetryService<S> {
        TelemetryService { inner, shared: self.shared.clone() }
    }
}

/// The service [`TelemetryLayer`] builds.
#[derive(Clone)]
pub struct TelemetryService<S> {
    inner: S,
    shared: Option<Arc<Shared>>,
}

impl<S> fmt::Debug for TelemetryService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryService").field("enabled", &self.shared.is_some()).finish_non_exhaustive()
    }
}

crate::inner_service!(TelemetryService, ResponseFuture);

impl<S> TelemetryService<S>
where
    S: Service<ServerRequest, Response = Option<Response>>,
{
    /// What the service's `call` does.
    fn start(&mut self, mut req: ServerRequest) -> ResponseFuture<S::Future> {
        if req.head().method().is_none() {
            return ResponseFuture { state: State::Plain { inner: self.inner.call(req) } };
        }
        let Some(shared) = self.shared.clone() else {
            // Disabled telemetry still gives logs their request ids, when
            // a subscriber listens.
            let span = log_span_untraced(&req);
            if span.is_disabled() {
                return ResponseFuture { state: State::Plain { inner: self.inner.call(req) } };
            }
            return ResponseFuture { state: State::Logged { inner: self.inner.call(req).instrument(span) } };
        };
        #[cfg(feature = "auth")]
        if let Some(record) = req.extensions.get::<Arc<crate::auth::ApiKeyRecord>>()
            && req.head().id().is_some()
        {
            let key: String = record.api_key_hash.chars().take(16).collect();
            let head = req.head();
            let operation = head.tool().or_else(|| head.method().map(|m| m.as_str())).unwrap_or("");
            shared.instruments.api_usage(&key, operation);
        }
        let (ongoing, cx, log_span) = Ongoing::start(shared, &req);
        req.extensions.insert(RequestTelemetry { cx: cx.clone(), meter: ongoing.shared.meter.clone() });
        let inner = self.inner.call(req).with_context(cx).instrument(log_span);
        ResponseFuture { state: State::Traced { inner, ongoing: Guard(Some(ongoing)) } }
    }
}

/// A request being served: its spans and when it started.
struct Ongoing {
    shared: Arc<Shared>,
    /// The metric attributes; `None` for notifications, which are not counted.
    labels: Option<Labels>,
    is_tool_call: bool,
    started: Instant,
    request_cx: Context,
    tool_cx: Option<Context>,
    opened_session: Option<Arc<Session>>,
}

/// Room in the request span's attributes for the two an error adds.
const ERROR_ATTRIBUTES: usize = 2;

impl Ongoing {
    fn start(shared: Arc<Shared>, req: &ServerRequest) -> (Self, Context, tracing::Span) {
        let (mut info, borrowed) = RequestInfo::with_borrowed(req, shared.record_arguments);
        let parent = parent_context(&borrowed, req.extensions.get::<http::HeaderMap>());
        let method = info.method.take().unwrap_or(Text::Static(""));
        let method_kv = KeyValue::new(attr::METHOD, method.value());
        let tool_kv = info.tool_text().map(|tool| KeyValue::new(attr::TOOL, tool.value()));

        let name = match &info.target {
            Some(target) => Cow::Owned(joined(method.as_str(), target.as_str())),
            None => match &method {
                Text::Static(method) => Cow::Borrowed(*method),
                Text::Shared(method) => Cow::Owned(method.to_string()),
            },
        };
        let mut attrs = Vec::with_capacity(8 + ERROR_ATTRIBUTES);
        attrs.push(method_kv);
        attrs.push(KeyValue::new("jsonrpc.protocol.version", "2.0"));
        if let Some(id) = &info.request_id {
            attrs.push(KeyValue::new("jsonrpc.request.id", Arc::clone(id)));
        }
        if let Some(id) = &info.session_id {
            attrs.push(KeyValue::new("mcp.session.id", Arc::clone(id)));
        }
        attrs.extend(info.protocol_version.as_ref().map(|v| KeyValue::new(attr::PROTOCOL_VERSION, v.value())));
        if let Some(uri) = info.uri.take() {
            attrs.push(KeyValue::new("mcp.resource.uri", uri));
        }
        if let Some(tool) = &tool_kv {
            attrs.push(tool.clone());
            attrs.push(KeyValue::new("gen_ai.operation.name", "execute_tool"));
        } else if let Some(prompt) = &info.target {
            attrs.push(KeyValue::new("gen_ai.prompt.name", prompt.value()));
        }
        let tracer = &shared.tracer;
        let span = tracer
            .span_builder(name)
            .with_kind(SpanKind::Server)
            .with_attributes(attrs)
            .start_with_context(tracer, &parent);
        let request_cx = parent.with_span(span);

        let tool_cx = info.tool().zip(tool_kv).map(|(name, tool)| {
            // The result and an error type may follow.
            let mut attrs = Vec::with_capacity(5);
            attrs.push(KeyValue::new("gen_ai.operation.name", "execute_tool"));
            attrs.push(tool);
            if let Some(args) = borrowed.arguments {
                attrs.push(KeyValue::new("gen_ai.tool.call.arguments", recordable(args.get())));
            }
            let span = tracer
                .span_builder(joined("execute_tool", name))
                .with_kind(SpanKind::Internal)
                .with_attributes(attrs)
                .start_with_context(tracer, &request_cx);
            request_cx.with_span(span)
        });
        let cx = tool_cx.clone().unwrap_or_else(|| request_cx.clone());
        let span = cx.span();
        let sc = span.span_context();
        let log_span = tracing::info_span!(
            target: "mcp_aws::request",
            "mcp.request",
            method = %method.as_str(),
            request_id = info.request_id.as_deref(),
            session_id = info.session_id.as_deref(),
            tool = info.tool(),
            trace_id = %sc.trace_id(),
            span_id = %sc.span_id(),
        );
        let opened_session = req.session.as_ref().filter(|_| method.as_str() == methods::INITIALIZE).cloned();
        let labels = info.request_id.is_some().then(|| Labels {
            tool: info.tool_text().cloned(),
            version: info.protocol_version.take(),
            method,
        });
        let ongoing = Self {
            shared,
            labels,
            is_tool_call: info.is_tool_call,
            started: Instant::now(),
            request_cx,
            tool_cx,
            opened_session,
        };
        (ongoing, cx, log_span)
    }

    fn end(self, outcome: Outcome, response: Option<&Response>) {
        let error = response.and_then(|r| r.payload.as_ref().err());
        let error_type = outcome.error_type().map(|e| KeyValue::new(attr::ERROR_TYPE, e));
        if let Some(tool_cx) = &self.tool_cx {
            let span = tool_cx.span();
            if self.shared.record_arguments
                && let Some(Ok(result)) = response.map(|r| &r.payload)
            {
                span.set_attribute(KeyValue::new("gen_ai.tool.call.result", recordable(result.get())));
            }
            if let Some(error_type) = &error_type {
                span.set_attribute(error_type.clone());
                span.set_status(Status::error(outcome.as_str()));
            }
            span.end();
        }
        let span = self.request_cx.span();
        if let Some(error_type) = &error_type {
            span.set_attribute(error_type.clone());
            let message = error.map_or_else(|| outcome.as_str().to_owned(), |e| e.message.to_string());
            span.set_status(Status::error(message));
        }
        if let Some(e) = error {
            span.set_attribute(KeyValue::new("rpc.response.status_code", e.code.to_string()));
        }
        span.end();
        if let Some(labels) = self.labels {
            self.shared.instruments.record(labels, outcome, self.started.elapsed());
        }
        if let Some(session) = &self.opened_session
            && outcome == Outcome::Ok
        {
            self.shared.instruments.sessions.opened(session);
        }
    }
}

/// `"{a} {b}"`, without the formatting machinery.
fn joined(a: &str, b: &str) -> String {
    let mut out = String::with_capacity(a.len() + 1 + b.len());
    out.push_str(a);
    out.push(' ');
    out.push_str(b);
    out
}

/// The request's log span without a trace: its fields are filled only
/// when a subscriber wants the span.
fn log_span_untraced(req: &ServerRequest) -> tracing::Span {
    use tracing::field::Empty;
    let span = tracing::info_span!(
        target: "mcp_aws::request",
        "mcp.request",
        method = Empty,
        request_id = Empty,
        session_id = Empty,
        tool = Empty,
    );
    if !span.is_disabled() {
        let info = RequestInfo::of(req);
        span.record("method", info.method.as_ref().map(Text::as_str));
        span.record("request_id", info.request_id.as_deref());
        span.record("session_id", info.session_id.as_deref());
        span.record("tool", info.tool());
    }
    span
}

pin_project_lite::pin_project! {
    /// The future of [`TelemetryService`].
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F> {
        Plain { #[pin] inner: F },
        Logged { #[pin] inner: Instrumented<F> },
        Traced { #[pin] inner: Instrumented<WithContext<F>>, ongoing: Guard },
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Option<Response>, E>>,
{
    type Output = Result<Option<Response>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Plain { inner } => inner.poll(cx),
            StateProj::Logged { inner } => inner.poll(cx),
            StateProj::Traced { inner, ongoing } => {
                let out = std::task::ready!(inner.poll(cx));
                if let Some(ongoing) = ongoing.0.take() {
                    let outcome = crate::observe::outcome(&out, ongoing.is_tool_call);
                    ongoing.end(outcome, out.as_ref().ok().and_then(Option::as_ref));
                }
                Poll::Ready(out)
            }
        }
    }
}

/// Ends the spans of a request whose future was dropped before it
/// finished (its client went away), as cancelled.
struct Guard(Option<Ongoing>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(ongoing) = self.0.take() {
            ongoing.end(Outcome::Error(mcp_core::jsonrpc::ErrorCode::REQUEST_CANCELLED), None);
        }
    }
}
