//! Legacy clients served without a session: a plain JSON-RPC POST (the
//! deployment guides' `curl` lines), and a client whose `initialize` was
//! answered without an `Mcp-Session-Id` (`SessionMode::Disabled`, as
//! FastMCP's `stateless_http`), across "instances" (separate transports)
//! that share nothing. Each test asserts status, body and that what needs a
//! session is refused with an error naming the mode.

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use mcp_core::Error;
use mcp_core::server::{Context, NoArgs, PromptRoute, ResourceRoute, ServerBuilder, ToolRoute};
use mcp_core::transport::http::{HttpOptions, SessionMode, StreamableHttp};
use serde_json::{Value, json};

mod http_common;

use http_common::{Reply, add_tool, ask_tool, bodiless, error_code, send, send_json};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct GreetArgs {
    /// Who to greet
    name: String,
}

fn server() -> mcp_core::server::Server {
    ServerBuilder::new("sessionless-test", "1.0.0")
        .tool(add_tool())
        .tool(
            ToolRoute::new("steps", |ctx: Context, _: NoArgs| async move {
                for i in 1..=2 {
                    ctx.progress(f64::from(i), Some(2.0), None).await?;
                    // Sent in a session; not offered without one.
                    ctx.info("stepping").await?;
                }
                Ok::<_, Error>("stepped")
            })
            .with_description("Two progress steps"),
        )
        .tool(ask_tool())
        .resource(ResourceRoute::new("notes://one", "one", |_ctx: Context, _uri: String| async { "note one" }))
        .prompt(
            PromptRoute::new("greet", |_ctx: Context, a: GreetArgs| async move { format!("Hello, {}!", a.name) })
                .with_description("Greets"),
        )
        .build()
        .expect("valid server")
}

fn instance(mode: SessionMode) -> StreamableHttp {
    let mut options = HttpOptions::default();
    options.sessions = mode;
    StreamableHttp::with_options(server(), options)
}

/// A POST as `curl -H 'Content-Type: application/json' -d BODY` sends it:
/// `Accept: */*`, no MCP headers.
fn curl(body: &Value) -> Request<Full<Bytes>> {
    Request::post("/mcp")
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/json")
        .header("accept", "*/*")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request")
}

/// A POST as a legacy SDK client sends it after an `initialize` that
/// returned no session: its negotiated version in the header.
fn legacy(_body: &Value, version: &'static str) -> http::request::Builder {
    Request::post("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", version)
}

fn request(id: i64, method: &str, params: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })
}

async fn result(r: Reply) -> Value {
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json().await;
    assert!(v.get("error").is_none(), "{v}");
    v["result"].clone()
}

#[tokio::test]
async fn the_guides_curl_lines_get_plain_json_answers() {
    let t = instance(SessionMode::default());
    let list = request(1, "tools/list", json!({}));
    let r = send(&t, curl(&list)).await;
    assert_eq!(r.headers.get("content-type").map(|v| v.as_bytes()), Some(&b"application/json"[..]));
    assert!(r.headers.get("mcp-session-id").is_none());
    let tools = result(r).await;
    let names: Vec<_> = tools["tools"].as_array().expect("tools").iter().map(|t| t["name"].clone()).collect();
    assert_eq!(names, [json!("add"), json!("steps"), json!("ask")]);
    // Served as 2025-03-26, which has no `resultType`.
    assert!(tools.get("resultType").is_none());

    let call = request(2, "tools/call", json!({ "name": "add", "arguments": { "a": 2, "b": 3 } }));
    let r = send(&t, curl(&call)).await;
    assert_eq!(result(r).await["content"][0]["text"], "5");

    // A tool that reports progress still answers with JSON: `*/*` asked for
    // no stream.
    let steps = request(3, "tools/call", json!({ "name": "steps", "_meta": { "progressToken": "p" } }));
    let r = send(&t, curl(&steps)).await;
    assert_eq!(r.headers.get("content-type").map(|v| v.as_bytes()), Some(&b"application/json"[..]));
    assert_eq!(result(r).await["content"][0]["text"], "stepped");

    // Bad arguments are an error naming the field (-32602: 2025-03-26 has
    // no tool-error results for them), and the next request is served.
    let bad = request(4, "tools/call", json!({ "name": "add", "arguments": { "a": "two", "b": 3 } }));
    let r = send(&t, curl(&bad)).await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json().await;
    assert_eq!(error_code(&v), -32602);
    assert!(v["error"]["message"].as_str().unwrap_or("").contains("`a`"), "{v}");
    assert_eq!(result(send(&t, curl(&list)).await).await["tools"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn the_header_names_the_version_and_no_header_means_2025_03_26() {
    let t = instance(SessionMode::default());
    // Invalid tool arguments are a tool error result from 2025-11-25 on, and
    // a -32602 error before: the version the request is served in shows.
    let bad = request(1, "tools/call", json!({ "name": "add", "arguments": { "a": "two", "b": 3 } }));
    let r = result(send_json(&t, legacy(&bad, "2025-11-25"), &bad).await).await;
    assert_eq!(r["isError"], true, "{r}");
    for older in [legacy(&bad, "2025-06-18"), legacy(&bad, "2024-11-05")] {
        let r = send_json(&t, older, &bad).await;
        assert_eq!(r.status, StatusCode::OK, "legacy clients read errors from 200s");
        assert_eq!(error_code(&r.json().await), -32602);
    }
    let r = send(&t, curl(&bad)).await;
    assert_eq!(error_code(&r.json().await), -32602, "no header: 2025-03-26");
    let complete = request(
        1,
        "completion/complete",
        json!({ "ref": { "type": "ref/prompt", "name": "greet" }, "argument": { "name": "name", "value": "A" } }),
    );
    let r = result(send(&t, curl(&complete)).await).await;
    assert_eq!(r["completion"]["values"], json!([]));
    let list = request(2, "tools/list", json!({}));
    let r = result(send_json(&t, legacy(&list, "2025-11-25"), &list).await).await;
    assert_eq!(r["tools"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn a_disabled_mode_client_works_across_instances_that_share_nothing() {
    let (a, b) = (instance(SessionMode::Disabled), instance(SessionMode::Disabled));
    let init = request(
        1,
        "initialize",
        json!({ "protocolVersion": "2025-11-25", "capabilities": { "elicitation": {} }, "clientInfo": { "name": "c", "version": "1" } }),
    );
    let r = send_json(&a, legacy(&init, "2025-11-25"), &init).await;
    assert!(r.headers.get("mcp-session-id").is_none(), "no session is opened");
    let init = result(r).await;
    assert_eq!(init["protocolVersion"], "2025-11-25");
    // Only what a lone request can do: no subscriptions, no list-change
    // notifications, and no logging (nothing would hold its level).
    let caps = &init["capabilities"];
    assert_eq!(caps["resources"], json!({ "subscribe": false, "listChanged": false }), "{init}");
    assert_eq!(
        (caps["tools"]["listChanged"].clone(), caps["prompts"]["listChanged"].clone()),
        (json!(false), json!(false))
    );
    assert!(caps.get("logging").is_none(), "{init}");
    assert!(caps.get("completions").is_some(), "{init}");
    let note = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let r = send_json(&b, legacy(&note, "2025-11-25"), &note).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);

    // Alternate instances: each request stands alone.
    let v = "2025-11-25";
    let list = request(2, "tools/list", json!({}));
    assert_eq!(result(send_json(&b, legacy(&list, v), &list).await).await["tools"].as_array().map(Vec::len), Some(3));
    let call = request(3, "tools/call", json!({ "name": "add", "arguments": { "a": 1, "b": 2 } }));
    assert_eq!(result(send_json(&a, legacy(&call, v), &call).await).await["content"][0]["text"], "3");
    let read = request(4, "resources/read", json!({ "uri": "notes://one" }));
    assert_eq!(result(send_json(&b, legacy(&read, v), &read).await).await["contents"][0]["text"], "note one");
    let prompt = request(5, "prompts/get", json!({ "name": "greet", "arguments": { "name": "Ada" } }));
    let r = result(send_json(&a, legacy(&prompt, v), &prompt).await).await;
    assert_eq!(r["messages"][0]["content"]["text"], "Hello, Ada!");
    // A session id the client sends anyway is ignored, not a 404.
    let r = send_json(&b, legacy(&list, v).header("mcp-session-id", "stale"), &list).await;
    assert_eq!(result(r).await["tools"].as_array().map(Vec::len), Some(3));
    assert_eq!((a.session_count(), b.session_count()), (0, 0));
}

#[tokio::test]
async fn progress_rides_the_requests_own_stream() {
    let t = instance(SessionMode::Disabled);
    let steps = request(7, "tools/call", json!({ "name": "steps", "_meta": { "progressToken": "p" } }));
    let mut r = send_json(&t, legacy(&steps, "2025-06-18"), &steps).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers.get("content-type").map(|v| v.as_bytes()), Some(&b"text/event-stream"[..]));
    let mut progress = Vec::new();
    let last = loop {
        let (_, data) = r.next_event().await.expect("an event");
        let v: Value = serde_json::from_str(&data).expect("JSON");
        match v["method"].as_str() {
            Some("notifications/progress") => progress.push(v["params"]["progress"].clone()),
            Some(other) => panic!("only progress rides a sessionless stream, got {other}: {v}"),
            None => break v,
        }
    };
    assert_eq!(progress, [json!(1.0), json!(2.0)]);
    assert_eq!((last["id"].clone(), last["result"]["content"][0]["text"].clone()), (json!(7), json!("stepped")));
}

#[tokio::test]
async fn what_needs_a_session_is_refused_naming_the_mode() {
    for mode in [SessionMode::Optional, SessionMode::Disabled] {
        let t = instance(mode);
        let v = "2025-11-25";
        for (method, params) in [
            ("logging/setLevel", json!({ "level": "debug" })),
            ("resources/subscribe", json!({ "uri": "notes://one" })),
            ("resources/unsubscribe", json!({ "uri": "notes://one" })),
        ] {
            let req = request(1, method, params);
            let r = send_json(&t, legacy(&req, v), &req).await;
            assert_eq!(r.status, StatusCode::OK, "{method}");
            let body = r.json().await;
            assert_eq!(error_code(&body), -32600, "{method}: {body}");
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains(method) && message.contains("sessionless"), "{message}");
        }
        // A server-to-client request fails at once, as the tool's error.
        let ask = request(2, "tools/call", json!({ "name": "ask" }));
        let r = tokio::time::timeout(std::time::Duration::from_secs(5), send_json(&t, legacy(&ask, v), &ask))
            .await
            .expect("no hang");
        let r = result(r).await;
        assert_eq!(r["isError"], true, "{r}");
        assert!(r["content"][0]["text"].as_str().unwrap_or_default().contains("sessionless"), "{r}");
        // Batches need a session.
        let batch = json!([request(3, "tools/list", json!({}))]);
        let r = send_json(&t, legacy(&batch, "2025-03-26"), &batch).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.json().await["error"]["message"].as_str().unwrap_or_default().contains("session"));
        // No standalone stream to open, and no session to end.
        for method in [http::Method::GET, http::Method::DELETE] {
            let r = send(&t, bodiless(method.clone(), v)).await;
            assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{mode:?} {method}");
            let allow = r.headers.get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            assert_eq!(allow.contains("GET"), mode != SessionMode::Disabled, "{allow}");
            assert!(r.json().await["error"]["message"].as_str().unwrap_or_default().contains("session"));
        }
        // Still serving.
        let list = request(4, "tools/list", json!({}));
        assert_eq!(
            result(send_json(&t, legacy(&list, v), &list).await).await["tools"].as_array().map(Vec::len),
            Some(3)
        );
    }
}

#[tokio::test]
async fn optional_mode_still_opens_sessions_and_modern_requests_keep_their_rules() {
    let t = instance(SessionMode::Optional);
    let init = request(
        1,
        "initialize",
        json!({ "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "c", "version": "1" } }),
    );
    let r = send(&t, curl(&init)).await;
    assert!(r.headers.get("mcp-session-id").is_some(), "initialize opens a session");
    let caps = result(r).await["capabilities"].clone();
    assert_eq!(caps["resources"], json!({ "subscribe": true, "listChanged": true }));
    assert_eq!(caps["logging"], json!({}));
    assert_eq!(t.session_count(), 1);

    // The 2026-07-28 header without `_meta`: -32602, 400, as before.
    let list = request(2, "tools/list", json!({}));
    let r = send_json(&t, legacy(&list, "2026-07-28"), &list).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&r.json().await), -32602);
    // `_meta` with client capabilities but no version, no header: modern,
    // and the missing version is named.
    let partial = request(3, "tools/list", json!({ "_meta": { "io.modelcontextprotocol/clientCapabilities": {} } }));
    let r = send(&t, curl(&partial)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let v = r.json().await;
    assert!(v["error"]["message"].as_str().unwrap_or_default().contains("protocolVersion"), "{v}");
    // The full 2026-07-28 `_meta` without the headers that era requires is
    // held to its rules (-32020), not served as a legacy request.
    let modern = request(
        4,
        "tools/list",
        json!({ "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } }),
    );
    let r = send(&t, curl(&modern)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&r.json().await), -32020);
}
