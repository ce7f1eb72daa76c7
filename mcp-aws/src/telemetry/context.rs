//! [`RequestTelemetry`], the handle tool code gets through the request
//! context, and W3C trace context extraction.

use std::fmt;

use opentelemetry::metrics::Meter;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;

use crate::observe::Borrowed;

/// The telemetry of the request being served, for tool code: add
/// attributes and events to the request's innermost span (the tool call's,
/// for `tools/call`), and record metrics with the server's meter, through
/// the same exporters.
///
/// The telemetry layer puts it in the request's extensions; handlers read
/// it with [`Context::extensions`](mcp_core::server::Context::extensions).
///
/// ```
/// use mcp_aws::telemetry::RequestTelemetry;
/// use mcp_core::server::Context;
/// use opentelemetry::KeyValue;
///
/// async fn place_order(ctx: Context) -> &'static str {
///     if let Some(t) = ctx.extensions().get::<RequestTelemetry>() {
///         t.set_attribute(KeyValue::new("shop.order.items", 3));
///         t.meter().u64_counter("shop.orders").build().add(1, &[KeyValue::new("shop.tier", "gold")]);
///     }
///     "ordered"
/// }
/// # let _ = place_order;
/// ```
#[derive(Clone)]
pub struct RequestTelemetry {
    pub(crate) cx: Context,
    pub(crate) meter: Meter,
}

impl fmt::Debug for RequestTelemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sc = self.cx.span().span_context().clone();
        f.debug_struct("RequestTelemetry").field("trace_id", &sc.trace_id()).field("span_id", &sc.span_id()).finish()
    }
}

impl RequestTelemetry {
    /// Sets an attribute on the request's innermost span.
    pub fn set_attribute(&self, attribute: KeyValue) {
        self.cx.span().set_attribute(attribute);
    }

    /// Adds an event to the request's innermost span.
    pub fn add_event(&self, name: &'static str, attributes: Vec<KeyValue>) {
        self.cx.span().add_event(name, attributes);
    }

    /// The server's meter: instruments made from it export with the
    /// server's own metrics. Create instruments once and keep them where
    /// the request rate is high.
    pub fn meter(&self) -> &Meter {
        &self.meter
    }

    /// The OpenTelemetry context of the request's innermost span, to
    /// parent spans of your own or propagate to downstream calls.
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// The trace id, in hex, as W3C `traceparent` writes it.
    pub fn trace_id(&self) -> String {
        self.cx.span().span_context().trace_id().to_string()
    }
}

/// `traceparent` and `tracestate`, from `_meta` or HTTP headers.
struct Carrier<'a> {
    traceparent: Option<&'a str>,
    tracestate: Option<&'a str>,
}

impl Extractor for Carrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => self.traceparent,
            "tracestate" => self.tracestate,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

/// The client's trace context: `_meta.traceparent` (the MCP convention),
/// else the HTTP `traceparent` header; an empty context when neither
/// parses.
pub(crate) fn parent_context(meta: &Borrowed<'_>, headers: Option<&http::HeaderMap>) -> Context {
    let header = |name: &str| headers.and_then(|h| h.get(name)).and_then(|v| v.to_str().ok());
    let carrier = match meta.traceparent {
        Some(tp) => Carrier { traceparent: Some(tp), tracestate: meta.tracestate },
        None => Carrier { traceparent: header("traceparent"), tracestate: header("tracestate") },
    };
    if carrier.traceparent.is_none() {
        return Context::new();
    }
    TraceContextPropagator::new().extract_with_context(&Context::new(), &carrier)
}
