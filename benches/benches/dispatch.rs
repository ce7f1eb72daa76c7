//! The dispatcher's hot path: bytes in, bytes out, in process.
//!
//! `cargo bench -p mcp-benches --bench dispatch`; the comparison with rmcp
//! is in `peers/benches/vs_rmcp.rs`, outside the workspace.

#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt as _;
use mcp_core::jsonrpc::Message;
use mcp_core::server::{Context, Server, ServerBuilder, Session, Sink, ToolRoute, handle_frame};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// The first addend
    a: f64,
    /// The second addend
    b: f64,
}

fn server(extra_tools: usize) -> Server {
    let mut b = ServerBuilder::new("bench", "1.0.0")
        .tool(ToolRoute::new("add", |_ctx: Context, a: AddArgs| async move { a.a + a.b }).with_description("Add"));
    for i in 0..extra_tools {
        b = b.tool(
            ToolRoute::new(format!("tool_{i}"), |_ctx: Context, a: AddArgs| async move { a.a * a.b })
                .with_description("Multiply two numbers"),
        );
    }
    b.build().expect("valid")
}

/// Runs one frame; the tool completes without yielding, so no runtime is
/// needed on the hot path, but fall back to one if it ever does yield.
fn run(server: &Server, session: Option<&Arc<Session>>, frame: &[u8], rt: &tokio::runtime::Runtime) -> Vec<u8> {
    let ext = http::Extensions::new();
    let sink = Sink::none();
    let fut = handle_frame(server.clone(), frame, session, &sink, &ext);
    match fut.now_or_never() {
        Some(out) => out.expect("a response"),
        None => rt.block_on(handle_frame(server.clone(), frame, session, &sink, &ext)).expect("a response"),
    }
}

fn legacy_session(server: &Server, rt: &tokio::runtime::Runtime) -> Arc<Session> {
    let session = Session::new(None, Sink::none());
    let init = br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#;
    run(server, Some(&session), init, rt);
    session
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let srv = server(0);
    let session = legacy_session(&srv, &rt);

    let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}"#;
    assert!(String::from_utf8(run(&srv, Some(&session), call, &rt)).unwrap_or_default().contains("\"5\""));
    c.bench_function("tools_call/legacy_2025-11-25", |b| {
        b.iter(|| run(&srv, Some(&session), black_box(call), &rt));
    });

    let stateless = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    assert!(String::from_utf8(run(&srv, None, stateless, &rt)).unwrap_or_default().contains("\"5\""));
    c.bench_function("tools_call/stateless_2026-07-28", |b| {
        b.iter(|| run(&srv, None, black_box(stateless), &rt));
    });

    let big = server(49);
    let big_session = legacy_session(&big, &rt);
    let list = br#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    c.bench_function("tools_list/50_tools", |b| {
        b.iter(|| run(&big, Some(&big_session), black_box(list), &rt));
    });

    c.bench_function("jsonrpc/decode", |b| b.iter(|| Message::parse(black_box(stateless)).expect("valid")));
    let msg = Message::parse(stateless).expect("valid");
    c.bench_function("jsonrpc/encode", |b| b.iter(|| black_box(&msg).to_json()));
}

criterion_group!(dispatch, benches);
criterion_main!(dispatch);
