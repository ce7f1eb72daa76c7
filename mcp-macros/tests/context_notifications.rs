//! A `#[tool]` that takes the `Context` reports progress and logs: the
//! notifications reach the client, tied to the request, in both eras.

mod common;

use common::{Client, STATELESS};
use mcp_core::protocol::logging::LoggingLevel;
use mcp_core::server::{Context, Server, ServerBuilder};
use mcp_core::{Error, tool};
use serde_json::{Value, json};

/// Count to `steps`, reporting progress.
#[tool]
async fn count(
    /// How many steps
    steps: u32,
    ctx: &Context,
) -> Result<String, Error> {
    ctx.log(LoggingLevel::Info, Some("count"), format!("counting to {steps}")).await?;
    for step in 1..=steps {
        ctx.progress(f64::from(step), Some(f64::from(steps)), Some(&format!("step {step}"))).await?;
    }
    ctx.log(LoggingLevel::Debug, None, json!({ "done": steps })).await?;
    Ok(format!("counted to {steps}"))
}

fn server() -> Server {
    ServerBuilder::new("notify", "1.0.0").tool(count_tool()).build().expect("valid server")
}

fn by_method<'a>(messages: &'a [Value], method: &str) -> Vec<&'a Value> {
    messages.iter().filter(|m| m["method"] == method).collect()
}

#[tokio::test]
async fn progress_and_logs_reach_a_legacy_client() {
    let mut c = Client::connect(&server(), "2025-11-25").await;
    c.request("logging/setLevel", json!({ "level": "info" })).await;
    let r = c
        .request(
            "tools/call",
            json!({ "name": "count", "arguments": { "steps": 3 }, "_meta": { "progressToken": "tok-1" } }),
        )
        .await;
    assert_eq!(r["result"]["content"][0]["text"], "counted to 3", "{r}");
    let sent = c.outbound();
    let progress = by_method(&sent, "notifications/progress");
    let steps: Vec<_> =
        progress.iter().map(|p| (p["params"]["progress"].clone(), p["params"]["message"].clone())).collect();
    assert_eq!(steps, [(json!(1.0), json!("step 1")), (json!(2.0), json!("step 2")), (json!(3.0), json!("step 3"))]);
    assert!(progress.iter().all(|p| p["params"]["progressToken"] == "tok-1" && p["params"]["total"] == 3.0));
    let logs = by_method(&sent, "notifications/message");
    assert_eq!(logs.len(), 1, "the debug line is below the session's level: {logs:?}");
    assert_eq!(logs[0]["params"], json!({ "level": "info", "logger": "count", "data": "counting to 3" }));
}

#[tokio::test]
async fn no_progress_without_a_token() {
    let mut c = Client::connect(&server(), "2025-06-18").await;
    c.call_text("count", json!({ "steps": 2 })).await;
    let sent = c.outbound();
    assert!(by_method(&sent, "notifications/progress").is_empty(), "{sent:?}");
    assert_eq!(by_method(&sent, "notifications/message").len(), 2, "no level set: everything is sent");
}

#[tokio::test]
async fn progress_and_logs_reach_a_stateless_client() {
    let mut c = Client::connect(&server(), STATELESS).await;
    let meta = json!({ "progressToken": 7, "io.modelcontextprotocol/logLevel": "debug" });
    let r = c.request("tools/call", json!({ "name": "count", "arguments": { "steps": 2 }, "_meta": meta })).await;
    assert_eq!(r["result"]["content"][0]["text"], "counted to 2", "{r}");
    let sent = c.outbound();
    assert_eq!(by_method(&sent, "notifications/progress").len(), 2, "{sent:?}");
    assert!(by_method(&sent, "notifications/progress").iter().all(|p| p["params"]["progressToken"] == 7));
    let logs = by_method(&sent, "notifications/message");
    assert_eq!(logs.len(), 2, "{sent:?}");
    assert_eq!(logs[1]["params"]["data"], json!({ "done": 2 }));
}
