//! tower's own layers (`ConcurrencyLimitLayer`, `TimeoutLayer`) compose with
//! this SDK's rate-limit and telemetry layers over one server, and the one
//! stack serves stdio, Streamable HTTP and the Lambda adapter alike. A
//! timeout from tower's layer reaches the client as a JSON-RPC error that
//! carries the request's id.

mod lambda_common;

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use lambda_common::{body, header, invoke};
use mcp_aws::lambda::LambdaAdapter;
use mcp_aws::ratelimit::{Key, Quota, RateLimitLayer};
use mcp_aws::telemetry::Telemetry;
use mcp_core::server::{Context, Layered, McpService, NoArgs, ServerBuilder, ToolRoute};
use mcp_core::transport::http::{HttpBody, StreamableHttp};
use mcp_core::transport::stdio::serve_on;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tower::ServiceExt as _;
use tower::limit::ConcurrencyLimitLayer;
use tower::timeout::TimeoutLayer;

const TIMEOUT: Duration = Duration::from_millis(300);

/// One server behind all four layers: telemetry sees each request first,
/// then tower's concurrency limit and timeout, then the rate limiter.
fn app(quota: u32, telemetry: &Telemetry) -> Layered<impl McpService> {
    let server = ServerBuilder::new("layers", "1.0.0")
        .tool(ToolRoute::new("quick", |_ctx: Context, _: NoArgs| async { "done" }))
        .tool(ToolRoute::new("slow", |_ctx: Context, _: NoArgs| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "too late"
        }))
        .build()
        .expect("valid server");
    server
        .layer(RateLimitLayer::new(Key::global()).quota(Quota::per_minute(quota)))
        .layer(TimeoutLayer::new(TIMEOUT))
        .layer(ConcurrencyLimitLayer::new(4))
        .layer(telemetry.layer())
}

/// Telemetry that keeps finished spans in `spans`.
fn telemetry(spans: &InMemorySpanExporter) -> Telemetry {
    Telemetry::builder("layers-test")
        .tracer_provider(SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build())
        .build()
        .expect("telemetry")
}

fn call(id: u64, tool: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": tool, "arguments": {},
        "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                   "io.modelcontextprotocol/clientCapabilities": {} } } })
}

fn assert_timed_out(reply: &Value, id: u64) {
    assert_eq!(reply["id"], id, "the error carries the request's id: {reply}");
    assert_eq!(reply["error"]["code"], -31001, "{reply}");
    assert_eq!(reply["error"]["message"], "request timed out", "{reply}");
}

fn assert_done(reply: &Value, id: u64) {
    assert_eq!(reply["id"], id, "{reply}");
    assert_eq!(reply["result"]["content"][0]["text"], "done", "{reply}");
}

#[tokio::test]
async fn on_stdio_a_towers_timeout_is_a_json_rpc_error_with_the_requests_id() {
    let spans = InMemorySpanExporter::default();
    let telemetry = telemetry(&spans);
    let (client, server_end) = tokio::io::duplex(64 * 1024);
    let (server_r, server_w) = tokio::io::split(server_end);
    let serving = tokio::spawn(serve_on(app(100, &telemetry), server_r, server_w, Default::default()));
    let (client_r, mut client_w) = tokio::io::split(client);
    let mut lines = BufReader::new(client_r).lines();
    for (id, tool) in [(1, "slow"), (2, "quick")] {
        client_w.write_all(format!("{}\n", call(id, tool)).as_bytes()).await.expect("write");
    }
    // The quick call answers while the slow one still runs.
    let first: Value = serde_json::from_str(&lines.next_line().await.expect("read").expect("a line")).expect("json");
    assert_done(&first, 2);
    let second: Value = serde_json::from_str(&lines.next_line().await.expect("read").expect("a line")).expect("json");
    assert_timed_out(&second, 1);
    // End of input: the server finishes what runs and stops.
    client_w.shutdown().await.expect("shutdown");
    serving.await.expect("joined").expect("served");
    let names: Vec<_> = spans.get_finished_spans().expect("spans").iter().map(|s| s.name.to_string()).collect();
    assert!(names.iter().any(|n| n == "tools/call quick"), "telemetry saw the calls: {names:?}");
}

async fn reply(resp: http::Response<HttpBody>) -> Value {
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    serde_json::from_slice(&bytes).expect("json")
}

#[tokio::test]
async fn over_http_the_same_stack_times_out_and_rate_limits() {
    let spans = InMemorySpanExporter::default();
    let http = StreamableHttp::new(app(2, &telemetry(&spans)));
    let post = |id: u64, tool: &str| {
        http::Request::post("/mcp")
            .header("host", "127.0.0.1:3000")
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", tool)
            .body(Full::new(Bytes::from(call(id, tool).to_string())))
            .expect("request")
    };
    let timed_out = http.clone().oneshot(post(7, "slow")).await.expect("infallible");
    assert_timed_out(&reply(timed_out).await, 7);
    let ok = http.clone().oneshot(post(8, "quick")).await.expect("infallible");
    assert_eq!(ok.status(), 200);
    assert_done(&reply(ok).await, 8);
    // The quota (2 a minute) is spent: 429 with Retry-After.
    let refused = http.clone().oneshot(post(9, "quick")).await.expect("infallible");
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let v = reply(refused).await;
    assert_eq!((v["id"].clone(), v["error"]["code"].clone()), (json!(9), json!(-31029)), "{v}");
}

#[tokio::test]
async fn on_lambda_the_same_stack_times_out_and_rate_limits() {
    let spans = InMemorySpanExporter::default();
    let adapter = LambdaAdapter::new(app(2, &telemetry(&spans)));
    let event = |id: u64, tool: &str| {
        let mut e = lambda_common::event("function-url.json");
        e["headers"]["mcp-method"] = json!("tools/call");
        e["headers"]["mcp-name"] = json!(tool);
        e["body"] = json!(call(id, tool).to_string());
        e["isBase64Encoded"] = json!(false);
        e
    };
    let resp = invoke(&adapter, event(11, "slow")).await;
    assert_timed_out(&body(&resp), 11);
    let resp = invoke(&adapter, event(12, "quick")).await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    assert_done(&body(&resp), 12);
    let resp = invoke(&adapter, event(13, "quick")).await;
    assert_eq!(resp["statusCode"], 429, "{resp}");
    assert!(header(&resp, "retry-after").is_some(), "{resp}");
}
