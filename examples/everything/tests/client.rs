//! The SDK's client against `examples/everything`, over stdio and
//! Streamable HTTP, in both protocol eras: list, call with progress, read,
//! prompt, elicitation and sampling answered by the client's handlers, tool
//! errors told apart from protocol errors, timeouts that cancel.

mod support;

use support::everything_http;

use std::time::Duration;

use mcp_core::client::{
    Client, ClientBuilder, ClientError, HttpTransport, Mode, RequestOptions, ServerNotification, StaticRoots,
    StderrMode, StdioTransport,
};
use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
use mcp_core::protocol::completion::{PromptReference, Reference};
use mcp_core::protocol::content::Role;
use mcp_core::protocol::elicitation::{ElicitAction, ElicitRequestParams, ElicitResult};
use mcp_core::protocol::roots::Root;
use mcp_core::protocol::sampling::{
    CreateMessageRequestParams, CreateMessageResult, SamplingMessageContent, SamplingMessageContentBlock,
};
use serde_json::json;
use tokio::process::{Child, Command};

fn builder(mode: Mode) -> ClientBuilder {
    ClientBuilder::new("everything-client-test", "0.0.1")
        .mode(mode)
        .timeout(Duration::from_secs(20))
        .roots(StaticRoots(vec![Root { uri: "file:///work".into(), name: Some("work".into()), meta: None }]))
        .elicitation(|params: ElicitRequestParams| async move {
            let content = match params.message() {
                "What is your name?" => json!({"name": "Ada"}),
                "What is your favorite color?" => json!({"color": "green"}),
                "Please confirm" => json!({"ok": true}),
                "What context should the prompt use?" => json!({"context": "testing"}),
                other => json!({"response": format!("answer to {other}")}),
            };
            let serde_json::Value::Object(content) = content else {
                return Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, "not an object"));
            };
            Ok(ElicitResult { result_type: None, action: ElicitAction::Accept, content: Some(content), meta: None })
        })
        .sampling(|params: CreateMessageRequestParams| async move {
            let n = params.messages.len();
            Ok(CreateMessageResult {
                result_type: None,
                role: Role::Assistant,
                content: SamplingMessageContent::Single(SamplingMessageContentBlock::text(format!(
                    "{n} message(s) seen"
                ))),
                model: "test-model".into(),
                stop_reason: Some("endTurn".into()),
                meta: None,
            })
        })
}

async fn stdio(mode: Mode) -> Client {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_everything"));
    cmd.arg("--stdio");
    let transport = StdioTransport::spawn(cmd, StderrMode::Capture).expect("spawn everything");
    builder(mode).connect(transport).await.expect("connect over stdio")
}

struct HttpServer {
    child: Child,
    url: String,
}

async fn http_server() -> HttpServer {
    let (child, port) = everything_http().await;
    HttpServer { child, url: format!("http://127.0.0.1:{port}/mcp") }
}

async fn http(server: &HttpServer, mode: Mode) -> Client {
    let transport = HttpTransport::builder(&server.url).get_stream(true).build().expect("transport");
    builder(mode).connect(transport).await.expect("connect over HTTP")
}

/// Everything a client does, checked against the fixtures' known answers.
async fn exercise(client: &Client, stateless: bool) {
    assert_eq!(client.negotiated().protocol_version.is_stateless(), stateless, "era");

    let tools = client.list_tools().await.expect("tools/list");
    assert!(tools.iter().any(|t| t.name == "test_simple_text"), "{tools:?}");
    assert!(tools.iter().any(|t| t.name == "test_elicitation"));

    let text = client.call_tool("test_simple_text", ()).await.expect("call");
    assert!(!text.is_error());
    assert!(text.content[0].as_text().is_some_and(|t| !t.is_empty()));

    // Progress arrives on the notification stream under our token.
    let mut notes = client.notifications();
    let opts = RequestOptions::new().progress("p-1");
    let done = client.call_tool_with("test_tool_with_progress", (), &opts).await.expect("progress call");
    assert_eq!(done.content[0].as_text(), Some("\"p-1\""));
    let mut progress = Vec::new();
    while let Ok(n) = notes.try_recv() {
        if let ServerNotification::Progress(p) = n {
            assert_eq!(p.progress_token.to_string(), "\"p-1\"");
            progress.push(p.progress);
        }
    }
    assert_eq!(progress, vec![0.0, 50.0, 100.0]);

    // A tool error is a result; a protocol error is an Rpc error.
    let failed = client.call_tool("test_error_handling", ()).await.expect("a result");
    assert!(failed.is_error());
    match client.call_tool_checked("test_error_handling", ()).await {
        Err(ClientError::ToolFailed { name, result }) => {
            assert_eq!(name, "test_error_handling");
            assert!(result.is_error());
        }
        other => panic!("expected ToolFailed, got {other:?}"),
    }
    match client.call_tool("no_such_tool", ()).await {
        Err(ClientError::Rpc(e)) => assert_eq!(e.code, ErrorCode::INVALID_PARAMS, "{e}"),
        other => panic!("expected an Rpc error, got {other:?}"),
    }

    let read = client.read_resource("test://static-text").await.expect("read");
    assert_eq!(read.contents[0].uri(), "test://static-text");
    match client.read_resource("test://nope").await {
        Err(ClientError::Rpc(e)) => {
            let want = if stateless { ErrorCode::INVALID_PARAMS } else { ErrorCode::RESOURCE_NOT_FOUND };
            assert_eq!(e.code, want);
        }
        other => panic!("expected an Rpc error, got {other:?}"),
    }
    assert!(client.list_resources().await.expect("resources/list").iter().any(|r| r.uri == "test://static-text"));
    assert!(!client.list_resource_templates().await.expect("templates").is_empty());

    let prompts = client.list_prompts().await.expect("prompts/list");
    assert!(prompts.iter().any(|p| p.name == "test_prompt_with_arguments"));
    let prompt = client.get_prompt("test_prompt_with_arguments", [("arg1", "a"), ("arg2", "b")]).await.expect("prompt");
    assert_eq!(prompt.messages[0].content.as_text(), Some("Prompt with arguments: arg1='a', arg2='b'"));

    let reference = Reference::Prompt(PromptReference { name: "test_prompt_with_arguments".into(), title: None });
    client.complete(reference, "arg1", "x", None).await.expect("complete");

    // Elicitation and sampling: a legacy server-to-client request, or an
    // input_required round, answered by the same handlers.
    let elicited = client.call_tool("test_elicitation", json!({"message": "Who?"})).await.expect("elicitation");
    let text = elicited.content[0].as_text().unwrap_or_default();
    assert!(text.contains("action=accept") && text.contains("answer to Who?"), "{text}");
    let sampled = client.call_tool("test_sampling", json!({"prompt": "hi"})).await.expect("sampling");
    assert_eq!(sampled.content[0].as_text(), Some("LLM response: 1 message(s) seen"));

    // Several inputs in one round, several rounds, state kept between
    // them: input_required rounds in the stateless era, server-to-client
    // requests in the legacy one; the same handlers answer.
    let text = |r: mcp_core::protocol::tools::CallToolResult| r.content[0].as_text().unwrap_or_default().to_owned();
    let many = client.call_tool("test_input_required_result_multiple_inputs", ()).await.expect("multiple inputs");
    assert_eq!(text(many), "Name: Ada, greeting: 1 message(s) seen, roots: 1");
    let rounds = client.call_tool("test_input_required_result_multi_round", ()).await.expect("multi round");
    assert_eq!(text(rounds), "Multi-round complete for Ada who likes green");
    let state = client.call_tool("test_input_required_result_request_state", ()).await.expect("request state");
    assert_eq!(text(state), "state-ok: confirmed=true");
    let prompt = client.get_prompt("test_input_required_result_prompt", std::iter::empty::<(String, String)>()).await;
    let prompt = prompt.expect("a prompt that asks first");
    assert_eq!(prompt.messages[0].content.as_text(), Some("Prompt with context: testing"));

    // A gateway may pass a round on instead: the result comes back as is,
    // and the retry with its answers completes the call.
    if stateless {
        let pass = RequestOptions::new().return_input_required();
        let round = client
            .request_with("tools/call", json!({"name": "test_input_required_result_elicitation"}), &pass)
            .await
            .expect("an input_required result");
        assert_eq!(round["resultType"], "input_required");
        assert_eq!(round["inputRequests"]["user_name"]["method"], "elicitation/create");
        let retry = json!({
            "name": "test_input_required_result_elicitation",
            "inputResponses": {"user_name": {"action": "accept", "content": {"name": "Grace"}}},
            "requestState": round["requestState"],
        });
        let done = client.request_with("tools/call", retry, &pass).await.expect("the retry");
        assert_eq!(done["content"][0]["text"], "Hello, Grace!");
    }

    // An argument marked x-mcp-header also travels as Mcp-Param-Region
    // (stateless era; the server refuses the call without it).
    let region = client.call_tool("test_header_param", json!({"region": "eu-west-1"})).await.expect("header param");
    assert_eq!(text(region), "Region: eu-west-1");
    let region = client.call_tool("test_header_param", json!({"region": "Zürich"})).await.expect("non-ASCII param");
    assert_eq!(text(region), "Region: Zürich");

    // A request that times out is cancelled and the connection keeps
    // serving.
    let quick = RequestOptions::new().timeout(Duration::from_millis(10));
    match client.call_tool_with("test_tool_with_logging", (), &quick).await {
        Err(ClientError::Timeout { method, .. }) => assert_eq!(method, "tools/call"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    client.ping().await.expect("ping after a cancelled call");
    assert!(client.call_tool("test_simple_text", ()).await.is_ok());
}

#[tokio::test]
async fn stdio_stateless() {
    let client = stdio(Mode::Auto).await;
    exercise(&client, true).await;
    client.close().await;
}

#[tokio::test]
async fn stdio_legacy() {
    let client = stdio(Mode::Legacy).await;
    exercise(&client, false).await;
    client.close().await;
    assert!(matches!(client.list_tools().await, Err(ClientError::Closed(_))));
}

#[tokio::test]
async fn http_stateless() {
    let server = http_server().await;
    let client = http(&server, Mode::Auto).await;
    exercise(&client, true).await;
    client.close().await;
    drop(server.child);
}

#[tokio::test]
async fn http_legacy() {
    let server = http_server().await;
    let client = http(&server, Mode::Legacy).await;
    exercise(&client, false).await;
    client.close().await;
}

/// With the tasks extension declared, a task-capable fixture becomes a
/// task: returned by `call_tool_as_task` and followed by `wait_task`, or
/// followed by `call_tool` (its elicitation answered by the handler); a
/// task's protocol error comes back as the JSON-RPC error.
#[tokio::test]
async fn stdio_tasks() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_everything"));
    cmd.arg("--stdio");
    let transport = StdioTransport::spawn(cmd, StderrMode::Capture).expect("spawn everything");
    let client = builder(Mode::Auto).tasks().connect(transport).await.expect("connect over stdio");
    let call = client.call_tool_as_task("slow_compute", json!({"seconds": 0.05, "label": "x"})).await.expect("call");
    let id = call.task_id().expect("a task").to_owned();
    let done = client.wait_task(&id).await.expect("completed");
    assert_eq!(done.content[0].as_text(), Some("Computed x in 0.05s"));
    let kept = client.call_tool("confirm_delete", json!({"filename": "a.txt"})).await.expect("followed");
    assert_eq!(kept.content[0].as_text(), Some("Kept a.txt"));
    match client.call_tool("protocol_error_job", ()).await {
        Err(ClientError::Rpc(e)) => assert_eq!(e.code, ErrorCode::INTERNAL_ERROR, "{e}"),
        other => panic!("expected the task's -32603, got {other:?}"),
    }
    client.close().await;
}

/// No roots handler: the client does not declare the capability, and the
/// server says what is missing.
#[tokio::test]
async fn a_missing_handler_is_a_clear_error() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_everything"));
    cmd.arg("--stdio");
    let transport = StdioTransport::spawn(cmd, StderrMode::Null).expect("spawn everything");
    let client = ClientBuilder::new("bare", "0.0.1").connect(transport).await.expect("connect");
    match client.call_tool("test_input_required_result_list_roots", ()).await {
        Err(ClientError::Rpc(e)) => assert_eq!(e.code, ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY, "{e}"),
        other => panic!("expected -32021, got {other:?}"),
    }
    client.close().await;
}

/// A child that exits fails the pending request and every later one.
#[tokio::test]
async fn a_dead_server_fails_calls() {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "read line; echo 'oops, bye' >&2; exit 3"]);
    let transport = StdioTransport::spawn(cmd, StderrMode::Capture).expect("spawn sh");
    let stderr = transport.captured_stderr().expect("captured");
    let err = builder(Mode::Auto).connect(transport).await.expect_err("no server there");
    assert!(matches!(err, ClientError::Closed(Some(ref why)) if why.contains("closed its output")), "{err}");
    // The stderr reader may lag the exit by a moment.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while stderr.lines().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(stderr.lines(), vec!["oops, bye".to_owned()]);
}
