//! The client's side of the tasks extension against an in-process server
//! of this SDK with task-capable tools: a call that becomes a task and
//! completes (returned, or followed by `call_tool`), input asked mid-task
//! and answered by the elicitation handler, a failed task's error, cancel
//! (by hand, and by dropping a followed call), a client without `.tasks()`,
//! an unknown id, the legacy era, and one case over Streamable HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mcp_core::client::{Client, ClientBuilder, ClientError, HttpTransport, Mode, StdioTransport, ToolCall};
use mcp_core::jsonrpc::ErrorObject;
use mcp_core::protocol::elicitation::{ElicitAction, ElicitRequestParams, ElicitResult};
use mcp_core::protocol::input::{InputResponse, InputResponses};
use mcp_core::protocol::tasks::TaskStatus;
use mcp_core::server::task::TaskSupport;
use mcp_core::server::{Context, NoArgs, Server, ServerBuilder, ToolRoute};
use mcp_core::transport::http::{StreamableHttp, serve_listener};
use serde_json::json;
use tokio::sync::Notify;

/// What the tools report to the test.
#[derive(Default)]
struct Probe {
    release: Notify,
    cancelled: AtomicBool,
    asked: AtomicUsize,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Work {
    /// How long to work, in milliseconds
    ms: u64,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct File {
    /// The file to delete
    name: String,
}

fn ask(message: &str) -> ElicitRequestParams {
    let schema = serde_json::from_value(json!({
        "type": "object", "properties": {"confirm": {"type": "boolean"}}, "required": ["confirm"],
    }))
    .expect("schema");
    ElicitRequestParams::form(message, schema)
}

fn server(probe: &Arc<Probe>) -> Server {
    let work = ToolRoute::new("work", |_ctx: Context, w: Work| async move {
        tokio::time::sleep(Duration::from_millis(w.ms)).await;
        format!("worked {} ms", w.ms)
    })
    .with_description("Works a while")
    .task_support(TaskSupport::Optional);
    let p = Arc::clone(probe);
    let held = ToolRoute::new("held", move |ctx: Context, _: NoArgs| {
        let p = Arc::clone(&p);
        async move {
            tokio::select! {
                () = p.release.notified() => "released".to_owned(),
                () = ctx.cancelled() => {
                    p.cancelled.store(true, Ordering::SeqCst);
                    "cancelled".to_owned()
                }
            }
        }
    })
    .with_description("Works until released or cancelled")
    .task_support(TaskSupport::Optional);
    let p = Arc::clone(probe);
    let delete = ToolRoute::new("delete", move |ctx: Context, f: File| {
        let p = Arc::clone(&p);
        async move {
            p.asked.fetch_add(1, Ordering::SeqCst);
            let answer = ctx.elicit_as("confirm", ask(&format!("Delete {}?", f.name))).await?;
            let yes = answer.content.as_ref().and_then(|c| c.get("confirm")) == Some(&json!(true));
            Ok::<_, mcp_core::Error>(if yes { format!("Deleted {}", f.name) } else { format!("Kept {}", f.name) })
        }
    })
    .with_description("Asks before deleting")
    .task_support(TaskSupport::Optional);
    let broken = ToolRoute::new("broken", |_ctx: Context, _: NoArgs| async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Err::<String, _>(mcp_core::Error::internal("broken: the disk is on fire"))
    })
    .with_description("Fails with a protocol error")
    .task_support(TaskSupport::Optional);
    ServerBuilder::new("tasks-client-test", "1")
        .tool(work)
        .tool(held)
        .tool(delete)
        .tool(broken)
        .task_poll_interval(Duration::from_millis(20))
        .expose_internal_errors(true)
        .build()
        .expect("valid")
}

/// The user accepts the form with `confirm`.
fn accept(confirm: bool) -> ElicitResult {
    let content = json!({"confirm": confirm}).as_object().cloned();
    ElicitResult { result_type: None, action: ElicitAction::Accept, content, meta: None }
}

/// A builder whose elicitation handler confirms everything.
fn confirming() -> ClientBuilder {
    ClientBuilder::new("tasks-client", "1")
        .elicitation(|_p: ElicitRequestParams| async move { Ok::<_, ErrorObject>(accept(true)) })
}

/// Connects `builder` to `server` over an in-process pipe.
async fn connect(server: Server, builder: ClientBuilder) -> Client {
    let (client_end, server_end) = tokio::io::duplex(1 << 16);
    let (read, write) = tokio::io::split(server_end);
    tokio::spawn(mcp_core::transport::stdio::serve_on(server, read, write, Default::default()));
    let (read, write) = tokio::io::split(client_end);
    builder.connect(StdioTransport::from_streams(read, write)).await.expect("connect")
}

fn text(result: &mcp_core::protocol::tools::CallToolResult) -> &str {
    result.content.first().and_then(|c| c.as_text()).unwrap_or_default()
}

/// Polls until `probe.cancelled` is set (2 s at most).
async fn wait_cancelled(probe: &Probe) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while !probe.cancelled.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the handler was never cancelled");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_call_that_becomes_a_task_completes() {
    let probe = Arc::new(Probe::default());
    let client = connect(server(&probe), confirming().tasks()).await;
    let call = client.call_tool_as_task("work", json!({"ms": 30})).await.expect("call");
    let ToolCall::Task(created) = call else { panic!("not a task: {call:?}") };
    assert_eq!(created.task.status, TaskStatus::Working);
    let id = created.task.task_id.clone();
    let result = client.wait_task(&id).await.expect("completed");
    assert_eq!(text(&result), "worked 30 ms");
    let task = client.get_task(&id).await.expect("get");
    assert_eq!(task.task.status, TaskStatus::Completed);
    assert!(task.result.is_some() && task.error.is_none());
    // `call_tool` follows the task to its end.
    let result = client.call_tool("work", json!({"ms": 10})).await.expect("followed");
    assert_eq!(text(&result), "worked 10 ms");
    client.close().await;
}

#[tokio::test]
async fn input_asked_mid_task_is_answered_by_the_elicitation_handler() {
    let probe = Arc::new(Probe::default());
    let client = connect(server(&probe), confirming().tasks()).await;
    let result = client.call_tool("delete", json!({"name": "a.txt"})).await.expect("followed");
    assert_eq!(text(&result), "Deleted a.txt");
    // Asking, then running again with the answer.
    assert_eq!(probe.asked.load(Ordering::SeqCst), 2);

    // By hand: the task waits for input until `tasks/update` answers.
    let call = client.call_tool_as_task("delete", json!({"name": "b.txt"})).await.expect("call");
    let id = call.task_id().expect("a task").to_owned();
    let deadline = Instant::now() + Duration::from_secs(5);
    let task = loop {
        let task = client.get_task(&id).await.expect("get");
        if task.task.status == TaskStatus::InputRequired {
            break task;
        }
        assert!(Instant::now() < deadline, "never asked: {:?}", task.task.status);
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let requests = task.input_requests.expect("inputRequests");
    assert_eq!(requests["confirm"]["method"], "elicitation/create");
    let no = accept(false);
    let answers = InputResponses::from([("confirm".to_owned(), InputResponse::Elicitation(no))]);
    client.update_task(&id, answers).await.expect("update");
    let result = client.wait_task(&id).await.expect("completed");
    assert_eq!(text(&result), "Kept b.txt");
    client.close().await;
}

#[tokio::test]
async fn input_the_client_cannot_give_fails_the_task_with_the_servers_error() {
    let probe = Arc::new(Probe::default());
    // No elicitation handler, so no elicitation capability: the server
    // fails the task with -32021, which the wait passes on.
    let client = connect(server(&probe), ClientBuilder::new("no-handler", "1").tasks()).await;
    let call = client.call_tool_as_task("delete", json!({"name": "c.txt"})).await.expect("call");
    let id = call.task_id().expect("a task").to_owned();
    let err = client.wait_task(&id).await.expect_err("no elicitation");
    assert_eq!(err.as_rpc().map(|e| e.code.0), Some(-32021), "{err:?}");
    client.close().await;
}

#[tokio::test]
async fn input_without_a_handler_fails_the_wait_clearly() {
    let probe = Arc::new(Probe::default());
    // The capability declared by hand, but no handler to answer with.
    let capabilities = serde_json::from_value(json!({"elicitation": {}})).expect("capabilities");
    let client =
        connect(server(&probe), ClientBuilder::new("no-handler", "1").capabilities(capabilities).tasks()).await;
    let call = client.call_tool_as_task("delete", json!({"name": "c.txt"})).await.expect("call");
    let id = call.task_id().expect("a task").to_owned();
    let err = client.wait_task(&id).await.expect_err("no elicitation handler");
    assert!(matches!(&err, ClientError::NoHandler { what } if what == "elicitation/create"), "{err:?}");
    // The task still waits: answering by hand would resume it.
    assert_eq!(client.get_task(&id).await.expect("get").task.status, TaskStatus::InputRequired);
    client.cancel_task(&id).await.expect("cancel");
    client.close().await;
}

#[tokio::test]
async fn a_failed_task_is_its_rpc_error() {
    let probe = Arc::new(Probe::default());
    let client = connect(server(&probe), confirming().tasks()).await;
    let err = client.call_tool("broken", ()).await.expect_err("failed");
    let rpc = err.as_rpc().expect("a JSON-RPC error");
    assert_eq!(rpc.code.0, -32603, "{rpc:?}");
    assert!(rpc.message.contains("the disk is on fire"), "{rpc:?}");
    let ToolCall::Task(created) = client.call_tool_as_task("broken", ()).await.expect("call") else {
        panic!("not a task")
    };
    let err = client.wait_task(&created.task.task_id).await.expect_err("failed");
    assert_eq!(err.as_rpc().map(|e| e.code.0), Some(-32603));
    client.close().await;
}

#[tokio::test]
async fn a_cancelled_task_ends_the_wait_with_task_cancelled() {
    let probe = Arc::new(Probe::default());
    let client = connect(server(&probe), confirming().tasks()).await;
    let call = client.call_tool_as_task("held", ()).await.expect("call");
    let id = call.task_id().expect("a task").to_owned();
    let waiting = tokio::spawn({
        let client = client.clone();
        let id = id.clone();
        async move { client.wait_task(&id).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    client.cancel_task(&id).await.expect("cancel");
    let err = waiting.await.expect("join").expect_err("cancelled");
    assert!(matches!(&err, ClientError::TaskCancelled { task_id, .. } if *task_id == id), "{err:?}");
    wait_cancelled(&probe).await;
    assert_eq!(client.get_task(&id).await.expect("get").task.status, TaskStatus::Cancelled);
    // Cancelling again changes nothing.
    client.cancel_task(&id).await.expect("idempotent");
    client.close().await;
}

#[tokio::test]
async fn dropping_a_followed_call_cancels_its_task() {
    let probe = Arc::new(Probe::default());
    let client = connect(server(&probe), confirming().tasks()).await;
    let gave_up = tokio::time::timeout(Duration::from_millis(100), client.call_tool("held", ())).await;
    assert!(gave_up.is_err(), "the held tool ended: {gave_up:?}");
    wait_cancelled(&probe).await;
    client.close().await;
}

#[tokio::test]
async fn a_client_without_tasks_gets_a_plain_result() {
    let probe = Arc::new(Probe::default());
    let client = connect(server(&probe), confirming()).await;
    let call = client.call_tool_as_task("work", json!({"ms": 5})).await.expect("call");
    let ToolCall::Done(result) = call else { panic!("a task for a client without the extension: {call:?}") };
    assert_eq!(text(&result), "worked 5 ms");
    assert_eq!(text(&client.call_tool("delete", json!({"name": "d.txt"})).await.expect("call")), "Deleted d.txt");
    // The server refuses tasks/* to a client that did not declare them.
    let err = client.get_task("anything").await.expect_err("not declared");
    assert_eq!(err.as_rpc().map(|e| e.code.0), Some(-32021), "{err:?}");
    client.close().await;
}

#[tokio::test]
async fn get_task_on_an_unknown_id_is_the_servers_error() {
    let probe = Arc::new(Probe::default());
    let client = connect(server(&probe), confirming().tasks()).await;
    let err = client.get_task("no-such-task").await.expect_err("unknown");
    let rpc = err.as_rpc().expect("a JSON-RPC error");
    assert_eq!(rpc.code.0, -32602);
    assert!(rpc.message.contains("unknown task"), "{rpc:?}");
    assert!(client.wait_task("no-such-task").await.expect_err("unknown").as_rpc().is_some());
    client.close().await;
}

#[tokio::test]
async fn in_the_legacy_era_tasks_do_nothing() {
    let probe = Arc::new(Probe::default());
    let client = connect(server(&probe), confirming().tasks().mode(Mode::Legacy)).await;
    assert!(!client.negotiated().protocol_version.is_stateless());
    let call = client.call_tool_as_task("work", json!({"ms": 5})).await.expect("call");
    assert!(matches!(call, ToolCall::Done(_)), "{call:?}");
    let err = client.get_task("x").await.expect_err("legacy");
    assert!(matches!(err, ClientError::NotInVersion { .. }), "{err:?}");
    client.close().await;
}

#[tokio::test]
async fn over_http_a_task_asks_for_input_and_completes() {
    let probe = Arc::new(Probe::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    tokio::spawn(serve_listener(listener, StreamableHttp::new(server(&probe)), std::future::pending()));
    let transport = HttpTransport::builder(&url).build().expect("transport");
    let client = confirming().tasks().connect(transport).await.expect("connect");
    assert!(client.negotiated().protocol_version.is_stateless());
    let call = client.call_tool_as_task("delete", json!({"name": "e.txt"})).await.expect("call");
    let id = call.task_id().expect("a task").to_owned();
    assert_eq!(text(&client.wait_task(&id).await.expect("completed")), "Deleted e.txt");
    let err = client.get_task("no-such-task").await.expect_err("unknown");
    assert_eq!(err.as_rpc().map(|e| e.code.0), Some(-32602));
    client.close().await;
}
