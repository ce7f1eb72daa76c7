//! Spans and metrics of the telemetry layer, read back from the SDK's
//! in-memory exporters: names, attributes, parent/child links from an
//! incoming `traceparent` (in `_meta` and in HTTP headers), exact counter
//! values, what tool code records, and that arguments stay out unless
//! opted in.

mod common;

use std::sync::Arc;

use common::{call, code, request, send};
use mcp_aws::ratelimit::{FakeClock, Key, Quota, RateLimitLayer};
use mcp_aws::telemetry::{RequestTelemetry, Telemetry, TelemetryService, names};
use mcp_core::jsonrpc::Message;
use mcp_core::server::{Context, NoArgs, Server, ServerBuilder, ServerRequest, Session, Sink, ToolRoute};
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::{KeyValue, Value as OtelValue};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::json;
use tower::Layer as _;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00f067aa0ba902b7";

struct Harness {
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
    metrics: InMemoryMetricExporter,
}

impl Harness {
    fn new(record_arguments: bool) -> Self {
        let spans = InMemorySpanExporter::default();
        let metrics = InMemoryMetricExporter::default();
        let telemetry = Telemetry::builder("telemetry-test")
            .tracer_provider(SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build())
            .meter_provider(
                SdkMeterProvider::builder().with_reader(PeriodicReader::builder(metrics.clone()).build()).build(),
            )
            .record_arguments(record_arguments)
            .build()
            .expect("telemetry");
        Self { telemetry, spans, metrics }
    }

    fn service(&self, server: Server) -> TelemetryService<Server> {
        self.telemetry.layer().layer(server)
    }

    fn spans(&self) -> Vec<SpanData> {
        self.spans.get_finished_spans().expect("spans")
    }

    /// The latest export of every metric, after a flush.
    fn metrics(&self) -> Vec<ResourceMetrics> {
        self.telemetry.flush().expect("flush");
        self.metrics.get_finished_metrics().expect("metrics")
    }
}

fn span<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name:?} in {:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>()))
}

fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a OtelValue> {
    span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| &kv.value)
}

fn text(span: &SpanData, key: &str) -> Option<String> {
    attr(span, key).map(|v| v.as_str().into_owned())
}

/// The value of the data point of metric `name` whose attributes include
/// all of `with`, from the last export (sums and up-down counters), or the
/// count (histograms).
fn point(exports: &[ResourceMetrics], name: &str, with: &[KeyValue]) -> Option<f64> {
    let metric = exports.last()?.scope_metrics().flat_map(|s| s.metrics()).find(|m| m.name() == name)?;
    let matches = |attrs: &mut dyn Iterator<Item = &KeyValue>| {
        let attrs: Vec<&KeyValue> = attrs.collect();
        with.iter().all(|w| attrs.contains(&w))
    };
    match metric.data() {
        AggregatedMetrics::U64(MetricData::Sum(sum)) => {
            sum.data_points().filter(|p| matches(&mut p.attributes())).map(|p| p.value() as f64).reduce(|a, b| a + b)
        }
        AggregatedMetrics::I64(MetricData::Sum(sum)) => {
            sum.data_points().filter(|p| matches(&mut p.attributes())).map(|p| p.value() as f64).reduce(|a, b| a + b)
        }
        AggregatedMetrics::F64(MetricData::Histogram(h)) => {
            h.data_points().filter(|p| matches(&mut p.attributes())).map(|p| p.count() as f64).reduce(|a, b| a + b)
        }
        other => panic!("unexpected data for {name}: {other:?}"),
    }
}

fn kv(k: &'static str, v: &'static str) -> KeyValue {
    KeyValue::new(k, v)
}

#[tokio::test]
async fn a_tool_call_continues_the_clients_trace_from_meta_with_a_server_span_and_a_tool_span() {
    let h = Harness::new(false);
    let svc = h.service(common::server());
    let traceparent = format!("00-{TRACE}-{PARENT}-01");
    let params =
        json!({ "name": "echo", "arguments": { "password": "hunter2" }, "_meta": { "traceparent": traceparent } });
    let v = send(&svc, request(42, "tools/call", params, None)).await;
    assert_eq!(code(&v), None, "{v}");

    let spans = h.spans();
    assert_eq!(spans.len(), 2);
    let server = span(&spans, "tools/call echo");
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(server.span_context.trace_id(), TraceId::from_hex(TRACE).expect("hex"));
    assert_eq!(server.parent_span_id, SpanId::from_hex(PARENT).expect("hex"));
    assert!(server.parent_span_is_remote);
    for (key, want) in [
        ("mcp.method.name", "tools/call"),
        ("gen_ai.tool.name", "echo"),
        ("gen_ai.operation.name", "execute_tool"),
        ("jsonrpc.request.id", "42"),
        ("mcp.protocol.version", "2026-07-28"),
    ] {
        assert_eq!(text(server, key).as_deref(), Some(want), "{key}");
    }
    assert_eq!(server.status, Status::Unset);
    assert!(attr(server, "error.type").is_none());

    let tool = span(&spans, "execute_tool echo");
    assert_eq!(tool.span_kind, SpanKind::Internal);
    assert_eq!(tool.span_context.trace_id(), server.span_context.trace_id());
    assert_eq!(tool.parent_span_id, server.span_context.span_id(), "the tool span is the request span's child");
    // Arguments are not recorded by default, and nowhere does the secret appear.
    assert!(attr(tool, "gen_ai.tool.call.arguments").is_none());
    assert!(!format!("{spans:?}").contains("hunter2"));
}

#[tokio::test]
async fn the_http_traceparent_header_is_used_without_meta_and_legacy_sessions_are_attributed() {
    let h = Harness::new(false);
    let server = common::server();
    let svc = h.service(server.clone());
    let session = Session::new(Some(Arc::from("session-1")), Sink::none());
    let init = Message::parse(
        br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
    )
    .expect("valid");
    let mut req = ServerRequest::new(init, Some(Arc::clone(&session)), Sink::none());
    let mut headers = http::HeaderMap::new();
    headers.insert("traceparent", format!("00-{TRACE}-{PARENT}-01").parse().expect("header"));
    req.extensions.insert(headers);
    assert_eq!(code(&send(&svc, req).await), None);

    let list = Message::parse(br#"{"jsonrpc":"2.0","id":"l1","method":"tools/list"}"#).expect("valid");
    send(&svc, ServerRequest::new(list, Some(Arc::clone(&session)), Sink::none())).await;

    let spans = h.spans();
    let init = span(&spans, "initialize");
    assert_eq!(init.span_context.trace_id(), TraceId::from_hex(TRACE).expect("hex"));
    assert_eq!(init.parent_span_id, SpanId::from_hex(PARENT).expect("hex"));
    assert_eq!(text(init, "mcp.session.id").as_deref(), Some("session-1"));
    let list = span(&spans, "tools/list");
    assert_eq!(text(list, "mcp.protocol.version").as_deref(), Some("2025-06-18"), "the session's negotiated version");
    assert_eq!(text(list, "jsonrpc.request.id").as_deref(), Some("\"l1\""));
    assert_ne!(list.span_context.trace_id(), init.span_context.trace_id(), "no traceparent: a new trace");
    assert_eq!(list.parent_span_id, SpanId::INVALID);

    // The session counts as active while it exists.
    assert_eq!(point(&h.metrics(), names::ACTIVE_SESSIONS, &[]), Some(1.0));
    drop(session);
    assert_eq!(point(&h.metrics(), names::ACTIVE_SESSIONS, &[]), Some(0.0));
}

#[tokio::test]
async fn counters_and_histograms_count_each_outcome_exactly() {
    let h = Harness::new(false);
    let limiter = RateLimitLayer::new(Key::global())
        .tool_quota("expensive", Quota::per_hour(1))
        .with_fake_clock(FakeClock::default());
    let svc = h.telemetry.layer().layer(limiter.layer(common::server()));
    for id in 0..3 {
        send(&svc, call(id, "echo", None)).await;
    }
    for id in 3..5 {
        send(&svc, call(id, "fail", None)).await;
    }
    for id in 5..7 {
        send(&svc, call(id, "expensive", None)).await; // the second is refused
    }
    send(&svc, call(7, "missing", None)).await;
    send(&svc, request(8, "tools/list", json!({}), None)).await;

    let m = h.metrics();
    let call_kv = kv("mcp.method.name", "tools/call");
    assert_eq!(point(&m, names::REQUESTS, &[call_kv.clone(), kv("outcome", "ok")]), Some(4.0));
    assert_eq!(point(&m, names::REQUESTS, &[call_kv.clone(), kv("outcome", "tool_error")]), Some(2.0));
    assert_eq!(point(&m, names::REQUESTS, &[call_kv.clone(), kv("outcome", "rate_limited")]), Some(1.0));
    assert_eq!(point(&m, names::REQUESTS, &[call_kv.clone(), kv("outcome", "error")]), Some(1.0));
    assert_eq!(point(&m, names::REQUESTS, &[kv("mcp.method.name", "tools/list")]), Some(1.0));
    assert_eq!(point(&m, names::OPERATION_DURATION, std::slice::from_ref(&call_kv)), Some(8.0));
    assert_eq!(
        point(&m, names::OPERATION_DURATION, &[call_kv.clone(), kv("error.type", "-32602")]),
        Some(1.0),
        "an unknown tool is -32602"
    );
    assert_eq!(point(&m, names::TOOL_CALLS, &[kv("gen_ai.tool.name", "echo")]), Some(3.0));
    assert_eq!(
        point(&m, names::TOOL_CALLS, &[kv("gen_ai.tool.name", "expensive")]),
        Some(1.0),
        "the refused call never ran"
    );
    assert_eq!(point(&m, names::TOOL_DURATION, &[kv("gen_ai.tool.name", "fail")]), Some(2.0));
    assert_eq!(
        point(&m, names::TOOL_ERRORS, &[kv("gen_ai.tool.name", "fail"), kv("error.type", "tool_error")]),
        Some(2.0)
    );
    assert_eq!(point(&m, names::TOOL_ERRORS, &[kv("gen_ai.tool.name", "echo")]), None);
    assert_eq!(point(&m, names::RATE_LIMITED, &[call_kv, kv("gen_ai.tool.name", "expensive")]), Some(1.0));

    let spans = h.spans();
    let failed = spans.iter().find(|s| s.name == "tools/call fail").expect("span");
    assert_eq!(text(failed, "error.type").as_deref(), Some("tool_error"));
    assert!(matches!(failed.status, Status::Error { .. }));
    let refused =
        spans.iter().find(|s| s.name == "tools/call expensive" && attr(s, "error.type").is_some()).expect("span");
    assert_eq!(text(refused, "rpc.response.status_code").as_deref(), Some("-31029"));
}

#[tokio::test]
async fn tool_code_records_attributes_and_metrics_through_the_request_context() {
    let h = Harness::new(true);
    let server = ServerBuilder::new("business", "1.0.0")
        .tool(
            ToolRoute::new("order", |ctx: Context, _: NoArgs| async move {
                let t = ctx.extensions().get::<RequestTelemetry>().expect("telemetry in the context");
                t.set_attribute(KeyValue::new("shop.order.items", 3));
                t.meter().u64_counter("shop.orders").build().add(2, &[KeyValue::new("shop.tier", "gold")]);
                t.trace_id()
            })
            .with_description("Orders"),
        )
        .reject_unknown_arguments(false)
        .build()
        .expect("valid");
    let svc = h.service(server);
    let params = json!({ "name": "order", "arguments": { "apiKey": "sk-123", "sku": "A7" } });
    let v = send(&svc, request(1, "tools/call", params, None)).await;
    let trace_id = v["result"]["content"][0]["text"].as_str().expect("text").to_owned();

    let spans = h.spans();
    let tool = span(&spans, "execute_tool order");
    assert_eq!(attr(tool, "shop.order.items"), Some(&OtelValue::I64(3)));
    assert_eq!(tool.span_context.trace_id().to_string(), trace_id);
    assert_eq!(text(tool, "gen_ai.tool.call.arguments").as_deref(), Some(r#"{"apiKey":"[REDACTED]","sku":"A7"}"#));
    assert!(text(tool, "gen_ai.tool.call.result").is_some_and(|r| r.contains(&trace_id)));
    assert_eq!(point(&h.metrics(), "shop.orders", &[kv("shop.tier", "gold")]), Some(2.0));
}

#[tokio::test]
async fn disabled_telemetry_passes_requests_through() {
    let svc = Telemetry::disabled().layer().layer(common::server());
    let v = send(&svc, call(1, "echo", None)).await;
    assert_eq!(v["result"]["content"][0]["text"], "echo");
    assert!(Telemetry::disabled().flush().is_ok());
}

/// Requests made with an API key are counted per key hash and operation
/// (the server guide's `APIUsage`), never with the key itself; token and
/// refused requests are not.
#[cfg(feature = "auth")]
#[tokio::test]
async fn api_key_usage_is_counted_by_hash_and_operation() {
    use mcp_aws::auth::{ApiKeyRecord, ApiKeys, AuthLayer, InMemoryApiKeyStore, hash_key};
    let h = Harness::new(false);
    let store = InMemoryApiKeyStore::new();
    store.insert(ApiKeyRecord::new("key-usage-0123456789", "alice", ["*:*"]));
    let auth = AuthLayer::new().api_keys(ApiKeys::new(store));
    let svc = auth.layer(h.service(common::server()));
    let with_key = |id: i64, tool: &str, key: &'static str| {
        let mut req = call(id, tool, None);
        let mut headers = http::HeaderMap::new();
        headers.insert("x-api-key", http::HeaderValue::from_static(key));
        req.extensions.insert(headers);
        req
    };
    // The auth service's error is boxed: `server::call` answers as the edge does.
    let reply = |req: ServerRequest| {
        let svc = svc.clone();
        async move {
            let resp = mcp_core::server::call(svc, req).await.expect("a response");
            let mut buf = Vec::new();
            resp.write_to(&mut buf);
            serde_json::from_slice::<serde_json::Value>(&buf).expect("JSON")
        }
    };
    for id in 1..=3 {
        assert!(reply(with_key(id, "echo", "key-usage-0123456789")).await.get("result").is_some());
    }
    assert_eq!(code(&reply(with_key(4, "echo", "key-unknown-000000")).await), Some(-31401));
    let exports = h.metrics();
    let hash = hash_key("key-usage-0123456789")[..16].to_owned();
    let key = KeyValue::new("mcp.api_key.hash", hash);
    assert_eq!(point(&exports, names::API_USAGE, &[key.clone(), kv("mcp.operation", "echo")]), Some(3.0));
    assert_eq!(point(&exports, names::API_USAGE, &[]), Some(3.0), "the refused request is not usage");
    let dump = format!("{exports:?}");
    assert!(!dump.contains("key-usage-0123456789"), "the key itself is never an attribute");
}
