//! This SDK against rmcp in one criterion run: the same `add(2, 3)` call,
//! bytes in, bytes out, in process.
//!
//! `cargo bench --manifest-path peers/Cargo.toml --bench vs_rmcp`
//!
//! - `http/*`: the same `http::Request` (body and headers of a stateless
//!   2026-07-28 `tools/call`) through each SDK's Streamable HTTP
//!   `tower::Service`, and the response body read back. No sockets.
//! - `frame/*`: one JSON-RPC message through each SDK's dispatcher without
//!   HTTP: `handle_frame` here; for rmcp, the `serve_directly` +
//!   `OneshotTransport` pair its stateless HTTP path uses for each request.
//!
//! Both run on one current-thread tokio runtime (rmcp spawns a task per
//! request, so it needs one).

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mcp_core::server::{Server, Sink, handle_frame};
use mcp_core::transport::http::StreamableHttp;
use mcp_peers::{CALL_BODY, body_bytes, ours, post, rmcp_add};
use rmcp::RoleServer;
use rmcp::model::ClientJsonRpcMessage;
use rmcp::transport::OneshotTransport;
use tower_service::Service as _;

async fn ours_frame(server: &Server, bytes: &[u8]) -> Vec<u8> {
    let ext = http::Extensions::new();
    handle_frame(server.clone(), bytes, None, &Sink::none(), &ext).await.unwrap_or_default()
}

async fn rmcp_frame(handler: &rmcp_add::Calculator, bytes: &[u8]) -> Vec<u8> {
    let Ok(message) = serde_json::from_slice::<ClientJsonRpcMessage>(bytes) else { return Vec::new() };
    let (transport, mut rx) = OneshotTransport::<RoleServer>::new(message);
    let running = rmcp::service::serve_directly(handler.clone(), transport, None);
    let reply = rx.recv().await;
    drop(running);
    reply.and_then(|r| serde_json::to_vec(&r).ok()).unwrap_or_default()
}

fn check(name: &str, out: &[u8]) {
    let text = String::from_utf8_lossy(out);
    assert!(text.contains(r#""text":"5""#), "{name} answered {text}");
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let server = ours::server();
    let mut ours_http = StreamableHttp::new(server.clone());
    let mut rmcp_http = rmcp_add::http_service();
    let handler = rmcp_add::Calculator::default();

    let mut ours_call = || {
        let resp = rt.block_on(ours_http.call(post(CALL_BODY))).expect("infallible");
        rt.block_on(body_bytes(resp.into_body()))
    };
    check("ours/http", &ours_call());
    let mut g = c.benchmark_group("tools_call/http");
    g.bench_function("ours", |b| b.iter(|| black_box(ours_call())));
    let mut rmcp_call = || {
        let resp = rt.block_on(rmcp_http.call(post(CALL_BODY))).expect("infallible");
        rt.block_on(body_bytes(resp.into_body()))
    };
    check("rmcp/http", &rmcp_call());
    g.bench_function("rmcp", |b| b.iter(|| black_box(rmcp_call())));
    g.finish();

    let body = CALL_BODY.as_bytes();
    check("ours/frame", &rt.block_on(ours_frame(&server, body)));
    check("rmcp/frame", &rt.block_on(rmcp_frame(&handler, body)));
    let mut g = c.benchmark_group("tools_call/frame");
    g.bench_function("ours", |b| b.iter(|| rt.block_on(ours_frame(&server, black_box(body)))));
    g.bench_function("rmcp", |b| b.iter(|| rt.block_on(rmcp_frame(&handler, black_box(body)))));
    g.finish();
}

criterion_group!(vs_rmcp, benches);
criterion_main!(vs_rmcp);
