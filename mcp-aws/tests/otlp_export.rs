//! End to end: the server exports OTLP/HTTP protobuf to a receiver on
//! 127.0.0.1, which decodes the payloads with `opentelemetry-proto` and
//! checks the spans and metrics that arrived.

mod common;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use common::{code, request, send};
use http_body_util::{BodyExt as _, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use mcp_aws::telemetry::{OtlpConfig, Telemetry, names};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::metric;
use prost::Message as _;
use serde_json::json;
use tokio::sync::mpsc;
use tower::Layer as _;

/// What the receiver got: the path and the raw protobuf body.
type Received = (String, Bytes);

/// An OTLP/HTTP receiver on 127.0.0.1: answers every POST with 200 and an
/// empty (valid) protobuf response, and forwards what it got.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Received>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let tx = tx.clone();
                    async move {
                        let path = req.uri().path().to_owned();
                        assert_eq!(
                            req.headers().get("content-type").and_then(|v| v.to_str().ok()),
                            Some("application/x-protobuf")
                        );
                        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let _ = tx.send((path, body));
                        let mut resp = http::Response::new(Full::new(Bytes::new()));
                        resp.headers_mut()
                            .insert("content-type", http::HeaderValue::from_static("application/x-protobuf"));
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    (format!("http://{addr}"), rx)
}

fn string_attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| match &kv.value {
        Some(AnyValue { value: Some(any_value::Value::StringValue(s)) }) => Some(s.as_str()),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_and_metrics_arrive_at_an_otlp_http_receiver_as_protobuf() {
    let (endpoint, mut rx) = receiver().await;
    let telemetry = Telemetry::builder("export-test")
        .otlp(&OtlpConfig::endpoint(endpoint))
        .expect("exporters")
        .build()
        .expect("telemetry");
    let svc = telemetry.layer().layer(common::server());
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let meta = json!({ "traceparent": format!("00-{trace_id}-b7ad6b7169203331-01") });
    for id in 0..3 {
        let v = send(&svc, request(id, "tools/call", json!({ "name": "echo", "_meta": meta }), None)).await;
        assert_eq!(code(&v), None);
    }
    send(&svc, request(3, "tools/call", json!({ "name": "fail" }), None)).await;

    // What the Lambda adapter does at the end of an invocation.
    let flushing = telemetry.clone();
    tokio::task::spawn_blocking(move || flushing.flush()).await.expect("joined").expect("flushed");

    let (mut traces, mut metrics) = (Vec::new(), Vec::new());
    while traces.is_empty() || metrics.is_empty() {
        let (path, body) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("the exporters sent both signals in time")
            .expect("receiver alive");
        match path.as_str() {
            "/v1/traces" => traces.push(ExportTraceServiceRequest::decode(body).expect("trace protobuf")),
            "/v1/metrics" => metrics.push(ExportMetricsServiceRequest::decode(body).expect("metrics protobuf")),
            other => panic!("unexpected path {other}"),
        }
    }

    let resource_spans: Vec<_> = traces.iter().flat_map(|t| &t.resource_spans).collect();
    let resource = resource_spans[0].resource.as_ref().expect("resource");
    assert_eq!(string_attr(&resource.attributes, "service.name"), Some("export-test"));
    let spans: Vec<_> = resource_spans.iter().flat_map(|r| &r.scope_spans).flat_map(|s| &s.spans).collect();
    assert_eq!(spans.len(), 8, "a server span and a tool span per call");
    let traced: Vec<_> = spans.iter().filter(|s| s.name == "tools/call echo").collect();
    assert_eq!(traced.len(), 3);
    for s in &traced {
        assert_eq!(hex(&s.trace_id), trace_id, "the client's trace continues");
        assert_eq!(hex(&s.parent_span_id), "b7ad6b7169203331");
        assert_eq!(string_attr(&s.attributes, "gen_ai.tool.name"), Some("echo"));
        assert_eq!(string_attr(&s.attributes, "mcp.method.name"), Some("tools/call"));
    }
    let failed = spans.iter().find(|s| s.name == "tools/call fail").expect("the failing call's span");
    assert_eq!(string_attr(&failed.attributes, "error.type"), Some("tool_error"));
    let tool = spans.iter().find(|s| s.name == "execute_tool fail").expect("tool span");
    assert_eq!(tool.parent_span_id, failed.span_id);

    let export = metrics.last().expect("a metrics export");
    let all: Vec<_> = export.resource_metrics.iter().flat_map(|r| &r.scope_metrics).flat_map(|s| &s.metrics).collect();
    let calls = all.iter().find(|m| m.name == names::TOOL_CALLS).expect("tool call counter");
    let Some(metric::Data::Sum(sum)) = &calls.data else { panic!("a sum: {calls:?}") };
    let value = |tool: &str, outcome: &str| {
        sum.data_points
            .iter()
            .find(|p| {
                string_attr(&p.attributes, "gen_ai.tool.name") == Some(tool)
                    && string_attr(&p.attributes, "outcome") == Some(outcome)
            })
            .and_then(|p| match p.value {
                Some(opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsInt(n)) => Some(n),
                _ => None,
            })
    };
    assert_eq!((value("echo", "ok"), value("fail", "tool_error")), (Some(3), Some(1)));
    let duration = all.iter().find(|m| m.name == names::OPERATION_DURATION).expect("duration histogram");
    let Some(metric::Data::Histogram(h)) = &duration.data else { panic!("a histogram: {duration:?}") };
    assert_eq!(h.data_points.iter().map(|p| p.count).sum::<u64>(), 4);
    assert_eq!(duration.unit, "s");
    telemetry.shutdown().ok();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
