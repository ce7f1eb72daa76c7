//! The per-tool timeout layer, on tokio's paused clock: an overrunning
//! tool is cancelled and answered with a timeout error naming the tool and
//! the limit; everything else passes, and the server keeps serving.

mod common;

use std::time::Duration;

use common::{call, code, request, send, server};
use mcp_aws::timeout::ToolTimeoutLayer;
use serde_json::json;
use tower::Layer as _;

#[tokio::test(start_paused = true)]
async fn an_overrunning_tool_is_cancelled_and_answered_with_its_name_and_limit() {
    let svc = ToolTimeoutLayer::new()
        .default_timeout(Duration::from_secs(20))
        .tool("slow", Duration::from_millis(250))
        .layer(server());
    let req = call(1, "slow", None);
    let cancel = req.cancel.clone();
    let started = tokio::time::Instant::now();
    let v = send(&svc, req).await;
    assert_eq!(started.elapsed(), Duration::from_millis(250), "answered at the deadline");
    assert_eq!((code(&v), v["id"].as_i64()), (Some(-31001), Some(1)), "{v}");
    assert_eq!(v["error"]["data"], json!({ "tool": "slow", "timeoutMs": 250 }));
    let msg = v["error"]["message"].as_str().expect("message");
    assert!(msg.contains("`slow`") && msg.contains("250 ms"), "{msg}");
    assert!(cancel.is_cancelled(), "the request's cancellation token fired");

    // The server keeps serving; fast tools and other methods are untouched.
    let v = send(&svc, call(2, "echo", None)).await;
    assert_eq!(v["result"]["content"][0]["text"], "echo", "{v}");
    let v = send(&svc, request(3, "tools/list", json!({}), None)).await;
    assert!(v["result"]["tools"].is_array(), "{v}");
}

#[tokio::test(start_paused = true)]
async fn a_tool_without_its_own_limit_gets_the_default_and_none_means_no_limit() {
    let with_default = ToolTimeoutLayer::new().default_timeout(Duration::from_secs(3)).layer(server());
    let started = tokio::time::Instant::now();
    let v = send(&with_default, call(1, "slow", None)).await;
    assert_eq!(started.elapsed(), Duration::from_secs(3));
    assert_eq!(v["error"]["data"]["timeoutMs"], 3000);

    let unlimited = ToolTimeoutLayer::new().tool("echo", Duration::from_millis(1)).layer(server());
    let started = tokio::time::Instant::now();
    let v = send(&unlimited, call(2, "slow", None)).await;
    assert_eq!(started.elapsed(), Duration::from_secs(10), "ran to completion");
    assert_eq!(v["result"]["content"][0]["text"], "slept", "{v}");
}
