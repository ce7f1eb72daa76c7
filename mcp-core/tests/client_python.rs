//! The client against servers no one here wrote: the official Python SDK's
//! `MCPServer` (`mcp` 2.x, tests/interop/python_mcp_server.py) over stdio
//! and Streamable HTTP in both protocol eras, and its FastMCP of the 1.x
//! line (`mcp` 1.30, tests/interop/python_fastmcp1_server.py), which
//! speaks only the legacy era, so the client's automatic mode falls back
//! to `initialize`. Needs `.cache/venv` and `.cache/venv-mcp1` (made by
//! scripts/test.sh); fails rather than skips without them.

mod client_support;

use client_support::{free_port, wait_listening};

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use mcp_core::client::{
    Client, ClientBuilder, ClientError, HttpTransport, Mode, RequestOptions, ServerNotification, StderrMode,
    StdioTransport,
};
use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
use mcp_core::protocol::elicitation::{ElicitAction, ElicitRequestParams, ElicitResult};
use serde_json::json;
use tokio::process::{Child, Command};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python SDK a fixture server runs on.
#[derive(Clone, Copy)]
enum Sdk {
    /// `mcp` 2.x, `MCPServer`: both eras.
    V2,
    /// `mcp` 1.x, FastMCP: the legacy era only.
    V1,
}

fn python_for(sdk: Sdk) -> Command {
    let (venv, script) = match sdk {
        Sdk::V2 => (".cache/venv", "tests/interop/python_mcp_server.py"),
        Sdk::V1 => (".cache/venv-mcp1", "tests/interop/python_fastmcp1_server.py"),
    };
    let python = repo().join(venv).join("bin/python");
    assert!(python.exists(), "{} is missing: run scripts/test.sh once to install the Python SDK", python.display());
    let mut cmd = Command::new(python);
    cmd.arg(repo().join(script));
    cmd
}

fn builder(mode: Mode) -> ClientBuilder {
    ClientBuilder::new("rust-client-interop", "0.0.1").mode(mode).timeout(Duration::from_secs(30)).elicitation(
        |params: ElicitRequestParams| async move {
            assert_eq!(params.message(), "What is your name?");
            let serde_json::Value::Object(content) = json!({"name": "Ferris"}) else {
                return Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, "not an object"));
            };
            Ok(ElicitResult { result_type: None, action: ElicitAction::Accept, content: Some(content), meta: None })
        },
    )
}

async fn stdio(mode: Mode) -> Client {
    stdio_on(Sdk::V2, mode).await
}

async fn stdio_on(sdk: Sdk, mode: Mode) -> Client {
    let mut cmd = python_for(sdk);
    cmd.arg("stdio");
    let transport = StdioTransport::spawn(cmd, StderrMode::Capture).expect("spawn python");
    let stderr = transport.captured_stderr();
    match builder(mode).connect(transport).await {
        Ok(c) => c,
        Err(e) => panic!("connect: {e}; stderr: {:?}", stderr.map(|s| s.lines())),
    }
}

async fn http_server() -> (Child, String) {
    http_server_on(Sdk::V2).await
}

async fn http_server_on(sdk: Sdk) -> (Child, String) {
    let port = free_port();
    let mut cmd = python_for(sdk);
    let child = cmd
        .args(["http", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn python");
    wait_listening(port).await;
    (child, format!("http://127.0.0.1:{port}/mcp"))
}

async fn exercise(client: &Client, stateless: bool, tag: &str) {
    assert_eq!(client.negotiated().protocol_version.is_stateless(), stateless);
    let tools = client.list_tools().await.expect("tools/list");
    let names: Vec<_> = tools.iter().map(|t| t.name.as_str()).collect();
    for want in ["add", "count", "ask_name", "sleepy", "fail"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }

    let sum = client.call_tool_checked("add", json!({"a": 2, "b": 40})).await.expect("add");
    assert_eq!(sum.content[0].as_text(), Some("42"));

    let mut notes = client.notifications();
    let opts = RequestOptions::new().progress(format!("count-{tag}"));
    let counted = client.call_tool_with("count", json!({"steps": 3}), &opts).await.expect("count");
    assert_eq!(counted.content[0].as_text(), Some("counted 3"));
    let mut progress = Vec::new();
    while let Ok(n) = notes.try_recv() {
        if let ServerNotification::Progress(p) = n {
            progress.push((p.progress, p.message));
        }
    }
    assert_eq!(progress.len(), 3, "{progress:?}");
    assert_eq!(progress[2], (3.0, Some("step 3".to_owned())));

    let failed = client.call_tool("fail", ()).await.expect("a tool error is a result");
    assert!(failed.is_error());
    assert!(matches!(client.call_tool_checked("fail", ()).await, Err(ClientError::ToolFailed { .. })));

    let hello = client.call_tool("ask_name", ()).await.expect("elicitation");
    assert_eq!(hello.content[0].as_text(), Some("Hello, Ferris!"));

    let read = client.read_resource("fixture://greeting").await.expect("read");
    assert_eq!(read.contents[0].uri(), "fixture://greeting");
    let prompt = client.get_prompt("greet", [("name", "Ada")]).await.expect("prompt");
    assert!(prompt.messages[0].content.as_text().is_some_and(|t| t.contains("Ada")), "{prompt:?}");

    // Cancellation reaches the server: the tool sees it.
    let quick = RequestOptions::new().timeout(Duration::from_millis(300));
    let slow = client.call_tool_with("sleepy", json!({"tag": tag}), &quick).await;
    assert!(matches!(slow, Err(ClientError::Timeout { .. })), "{slow:?}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let seen = client.call_tool("was_cancelled", json!({"tag": tag})).await.expect("was_cancelled");
        if seen.content[0].as_text() == Some("true") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the server never saw the cancellation");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn python_stdio_stateless() {
    let client = stdio(Mode::Auto).await;
    exercise(&client, true, "stdio-stateless").await;
    client.close().await;
}

#[tokio::test]
async fn python_stdio_legacy() {
    let client = stdio(Mode::Legacy).await;
    exercise(&client, false, "stdio-legacy").await;
    client.close().await;
}

#[tokio::test]
async fn python_http_both_eras() {
    let (_server, url) = http_server().await;
    let stateless = builder(Mode::Auto).connect(HttpTransport::new(&url).expect("url")).await.expect("connect");
    exercise(&stateless, true, "http-stateless").await;
    stateless.close().await;
    let legacy = builder(Mode::Legacy).connect(HttpTransport::new(&url).expect("url")).await.expect("connect");
    exercise(&legacy, false, "http-legacy").await;
    legacy.close().await;
}

#[tokio::test]
async fn fastmcp_1x_stdio_falls_back_to_the_legacy_era() {
    let client = stdio_on(Sdk::V1, Mode::Auto).await;
    exercise(&client, false, "fastmcp1-stdio").await;
    client.close().await;
}

#[tokio::test]
async fn fastmcp_1x_http_falls_back_to_the_legacy_era() {
    let (_server, url) = http_server_on(Sdk::V1).await;
    let client = builder(Mode::Auto).connect(HttpTransport::new(&url).expect("url")).await.expect("connect");
    exercise(&client, false, "fastmcp1-http").await;
    client.close().await;
}
