//! The per-tool timeout layer, on tokio's paused clock: an overrunning
//! tool is cancelled and answered with a message naming the tool and the
//! limit (an `isError` result from 2025-11-25 on, else the -31001 error,
//! and always the error with `as_protocol_error`); everything else passes,
//! and the server keeps serving.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{call, code, request, send, server};
use mcp_aws::timeout::{ToolTimeout, ToolTimeoutLayer};
use mcp_core::jsonrpc::Message;
use mcp_core::server::{Server, ServerRequest, Session, Sink};
use serde_json::{Value, json};
use tower::Layer as _;

/// Asserts the `isError` result of a timed-out call of `slow` after 250 ms.
fn assert_timeout_result(v: &Value, id: i64) {
    assert_eq!(v["id"], id, "{v}");
    assert!(v.get("error").is_none(), "a result, not an error: {v}");
    assert_eq!(v["result"]["isError"], true, "{v}");
    assert_eq!(v["result"]["content"][0]["type"], "text", "{v}");
    let text = v["result"]["content"][0]["text"].as_str().expect("text");
    assert!(text.contains("`slow`") && text.contains("250 ms") && text.contains("timed out"), "{text}");
}

/// Asserts the -31001 error of a timed-out call of `slow` after 250 ms.
fn assert_timeout_error(v: &Value, id: i64) {
    assert_eq!((code(v), v["id"].as_i64()), (Some(-31001), Some(id)), "{v}");
    assert_eq!(v["error"]["data"], json!({ "tool": "slow", "timeoutMs": 250 }));
    let msg = v["error"]["message"].as_str().expect("message");
    assert!(msg.contains("`slow`") && msg.contains("250 ms"), "{msg}");
}

fn slow_in_250ms() -> ToolTimeoutLayer {
    ToolTimeoutLayer::new().default_timeout(Duration::from_secs(20)).tool("slow", Duration::from_millis(250))
}

fn legacy(session: &Arc<Session>, body: Value) -> ServerRequest {
    let message = Message::parse(body.to_string().as_bytes()).expect("valid");
    ServerRequest::new(message, Some(Arc::clone(session)), Sink::none())
}

/// A legacy session at `version`, initialized through `svc`.
async fn session_at(svc: &ToolTimeout<Server>, version: &str) -> Arc<Session> {
    let session = Session::new(None, Sink::none());
    let init = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": { "name": "c", "version": "1" } } });
    let v = send(svc, legacy(&session, init)).await;
    assert_eq!(v["result"]["protocolVersion"], version, "{v}");
    session
}

fn slow_call(session: &Arc<Session>, id: i64) -> ServerRequest {
    legacy(session, json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": "slow" } }))
}

#[tokio::test(start_paused = true)]
async fn an_overrunning_tool_is_cancelled_and_answered_with_an_is_error_result_naming_it_and_its_limit() {
    let svc = slow_in_250ms().layer(server());
    let req = call(1, "slow", None);
    let cancel = req.cancel.clone();
    let started = tokio::time::Instant::now();
    let v = send(&svc, req).await;
    assert_eq!(started.elapsed(), Duration::from_millis(250), "answered at the deadline");
    assert_timeout_result(&v, 1);
    assert_eq!(v["result"]["resultType"], "complete", "a stateless result is complete: {v}");
    assert!(cancel.is_cancelled(), "the request's cancellation token fired");

    // The server keeps serving; fast tools and other methods are untouched.
    let v = send(&svc, call(2, "echo", None)).await;
    assert_eq!(v["result"]["content"][0]["text"], "echo", "{v}");
    let v = send(&svc, request(3, "tools/list", json!({}), None)).await;
    assert!(v["result"]["tools"].is_array(), "{v}");
}

#[tokio::test(start_paused = true)]
async fn in_a_2025_11_25_session_a_timeout_is_a_result_and_before_it_the_error() {
    let svc = slow_in_250ms().layer(server());
    let session = session_at(&svc, "2025-11-25").await;
    let v = send(&svc, slow_call(&session, 1)).await;
    assert_timeout_result(&v, 1);
    assert!(v["result"].get("resultType").is_none(), "no resultType before 2026-07-28: {v}");

    // 2025-06-18 reports invalid arguments as -32602, and timeouts as -31001.
    let session = session_at(&svc, "2025-06-18").await;
    assert_timeout_error(&send(&svc, slow_call(&session, 2)).await, 2);
}

#[tokio::test(start_paused = true)]
async fn as_protocol_error_keeps_the_json_rpc_error_in_every_era() {
    let svc = slow_in_250ms().as_protocol_error().layer(server());
    let req = call(1, "slow", None);
    let cancel = req.cancel.clone();
    let started = tokio::time::Instant::now();
    assert_timeout_error(&send(&svc, req).await, 1);
    assert_eq!(started.elapsed(), Duration::from_millis(250));
    assert!(cancel.is_cancelled());
    let session = session_at(&svc, "2025-11-25").await;
    assert_timeout_error(&send(&svc, slow_call(&session, 2)).await, 2);
}

#[tokio::test(start_paused = true)]
async fn a_tool_without_its_own_limit_gets_the_default_and_none_means_no_limit() {
    let with_default = ToolTimeoutLayer::new().default_timeout(Duration::from_secs(3)).layer(server());
    let started = tokio::time::Instant::now();
    let v = send(&with_default, call(1, "slow", None)).await;
    assert_eq!(started.elapsed(), Duration::from_secs(3));
    let text = v["result"]["content"][0]["text"].as_str().expect("text");
    assert!(text.contains("3000 ms"), "{v}");

    let unlimited = ToolTimeoutLayer::new().tool("echo", Duration::from_millis(1)).layer(server());
    let started = tokio::time::Instant::now();
    let v = send(&unlimited, call(2, "slow", None)).await;
    assert_eq!(started.elapsed(), Duration::from_secs(10), "ran to completion");
    assert_eq!(v["result"]["content"][0]["text"], "slept", "{v}");
}
