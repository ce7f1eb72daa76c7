//! The Lambda adapter's per-event overhead: an API Gateway HTTP API (v2)
//! event, as the runtime hands it over (JSON text), to the response JSON
//! the runtime sends back, compared in the same run with the dispatcher
//! alone answering the same `tools/call` bytes. The difference is the
//! adapter's cost (event decoding, the Streamable HTTP checks, response
//! encoding), excluding the tool.
//!
//! `cargo bench -p mcp-benches --bench lambda`

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lambda_http::lambda_runtime::{Context as LambdaContext, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Service as _};
use mcp_aws::lambda::LambdaAdapter;
use mcp_core::server::{Context, Server, ServerBuilder, Sink, ToolRoute, handle_frame};
use serde_json::json;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// The first addend
    a: f64,
    /// The second addend
    b: f64,
}

fn server() -> Server {
    ServerBuilder::new("bench", "1.0.0")
        .tool(ToolRoute::new("add", |_ctx: Context, a: AddArgs| async move { a.a + a.b }).with_description("Add"))
        .build()
        .expect("valid")
}

fn call_body() -> String {
    json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "add", "arguments": { "a": 2, "b": 3 },
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": { "name": "bench", "version": "1" },
        } } })
    .to_string()
}

/// A realistic HTTP API event: the headers API Gateway adds included.
fn v2_event(body: &str) -> String {
    json!({
        "version": "2.0", "routeKey": "POST /mcp", "rawPath": "/mcp", "rawQueryString": "",
        "headers": {
            "accept": "application/json, text/event-stream", "content-type": "application/json",
            "content-length": body.len().to_string(), "host": "r3pmxmplak.execute-api.us-east-2.amazonaws.com",
            "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "add",
            "user-agent": "python-httpx/0.28.1", "x-amzn-trace-id": "Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e",
            "x-api-key": "k-123", "x-forwarded-for": "205.255.255.176", "x-forwarded-port": "443",
            "x-forwarded-proto": "https"
        },
        "requestContext": {
            "accountId": "123456789012", "apiId": "r3pmxmplak",
            "domainName": "r3pmxmplak.execute-api.us-east-2.amazonaws.com", "domainPrefix": "r3pmxmplak",
            "http": { "method": "POST", "path": "/mcp", "protocol": "HTTP/1.1", "sourceIp": "205.255.255.176",
                      "userAgent": "python-httpx/0.28.1" },
            "requestId": "JKJaXmPLvHcESHA=", "routeKey": "POST /mcp", "stage": "$default",
            "time": "21/Nov/2026:14:05:09 +0000", "timeEpoch": 1_795_269_909_120_u64
        },
        "body": body, "isBase64Encoded": false
    })
    .to_string()
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let srv = server();
    let body = call_body();
    let event = v2_event(&body);
    let mut lambda = Adapter::from(LambdaAdapter::new(srv.clone()));

    let once = |lambda: &mut Adapter<'_, _, _>| {
        let payload: LambdaRequest = serde_json::from_str(black_box(&event)).expect("an HTTP API event");
        let resp = rt.block_on(lambda.call(LambdaEvent::new(payload, LambdaContext::default()))).expect("infallible");
        serde_json::to_vec(&resp).expect("serialisable")
    };
    let out = String::from_utf8(once(&mut lambda)).unwrap_or_default();
    assert!(out.contains(r#"\"text\":\"5\""#) && out.contains(r#""statusCode":200"#), "{out}");

    let ext = http::Extensions::new();
    let sink = Sink::none();
    let mut g = c.benchmark_group("lambda");
    g.bench_function("dispatcher_only_tools_call", |b| {
        b.iter(|| rt.block_on(handle_frame(srv.clone(), black_box(body.as_bytes()), None, &sink, &ext)))
    });
    g.bench_function("apigw_v2_event_to_response", |b| b.iter(|| once(&mut lambda)));
    g.finish();
}

criterion_group!(lambda, benches);
criterion_main!(lambda);
