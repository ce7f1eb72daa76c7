//! The tasks extension in process: creating a task (the `tools/call` that
//! answers `CreateTaskResult`, plus running the tool and settling the task
//! in the in-memory store) and `tasks/get` of a completed task, against the
//! plain stateless `tools/call` of the same tool in the same binary.
//!
//! `cargo bench -p mcp-benches --bench tasks`

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mcp_core::server::task::TaskSupport;
use mcp_core::server::{Context, Server, ServerBuilder, Sink, ToolRoute, handle_frame};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// The first addend
    a: f64,
    /// The second addend
    b: f64,
}

fn server() -> Server {
    ServerBuilder::new("bench", "1.0.0")
        .tool(
            ToolRoute::new("add", |_ctx: Context, a: AddArgs| async move { a.a + a.b })
                .with_description("Add")
                .task_support(TaskSupport::Optional),
        )
        .build()
        .expect("valid")
}

/// Runs one frame, then lets the tasks it spawned run to their end (the
/// tool never waits), so that a task's whole life is in the figure.
fn run(server: &Server, frame: &[u8], rt: &tokio::runtime::Runtime) -> Vec<u8> {
    let ext = http::Extensions::new();
    rt.block_on(async {
        let out = handle_frame(server.clone(), frame, None, &Sink::none(), &ext).await.expect("a response");
        tokio::task::yield_now().await;
        out
    })
}

const PLAIN: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
const CREATE: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}}}}}"#;

fn get_frame(task_id: &str) -> Vec<u8> {
    format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tasks/get","params":{{"taskId":"{task_id}","_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{"extensions":{{"io.modelcontextprotocol/tasks":{{}}}}}}}}}}}}"#
    )
    .into_bytes()
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    let srv = server();
    assert!(String::from_utf8(run(&srv, PLAIN, &rt)).unwrap_or_default().contains("\"5\""));
    let created: serde_json::Value = serde_json::from_slice(&run(&srv, CREATE, &rt)).expect("json");
    let task_id = created["result"]["taskId"].as_str().expect("a task").to_owned();
    let get = get_frame(&task_id);
    let done = String::from_utf8(run(&srv, &get, &rt)).unwrap_or_default();
    assert!(done.contains("\"completed\"") && done.contains("\"5\""), "{done}");

    let mut group = c.benchmark_group("tasks");
    group.bench_function("plain_tools_call", |b| b.iter(|| run(&srv, black_box(PLAIN), &rt)));
    group.bench_function("create_and_run", |b| b.iter(|| run(&srv, black_box(CREATE), &rt)));
    group.bench_function("get_completed", |b| b.iter(|| run(&srv, black_box(&get), &rt)));
    group.finish();
}

criterion_group!(tasks, benches);
criterion_main!(tasks);
