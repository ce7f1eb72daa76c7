//! Real-shaped Lambda events from each source (API Gateway REST and HTTP
//! APIs, Function URLs, ALB, AgentCore Gateway targets) through the
//! adapter, asserting the Lambda response the runtime would send back:
//! status, headers and the JSON-RPC body.
#![cfg(feature = "lambda")]

mod lambda_common;

use std::collections::HashMap;
use std::sync::Arc;

use lambda_http::lambda_runtime::{Context as LambdaContext, LambdaEvent};
use mcp_aws::config::DeployConfig;
use mcp_aws::cors::Cors;
use mcp_aws::health::Health;
use mcp_aws::lambda::LambdaAdapter;
use mcp_aws::lambda::gateway::{GatewayTarget, TOOL_NAME_KEY};
use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
use mcp_core::transport::http::PeerAddr;
use serde_json::{Value, json};

use lambda_common::{body, event, header, invoke};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// First addend
    a: f64,
    /// Second addend
    b: f64,
}

fn server() -> mcp_core::server::Server {
    ServerBuilder::new("lambda-test", "1.0.0")
        .tool(ToolRoute::new("add", |_ctx: Context, args: AddArgs| async move { format!("{}", args.a + args.b) }))
        .tool(ToolRoute::new("whoami", |ctx: Context, _: NoArgs| async move {
            let peer = ctx.extensions().get::<PeerAddr>().map(|p| p.0.ip().to_string());
            let request_id = ctx.extensions().get::<LambdaContext>().map(|c| c.request_id.clone());
            format!("{} {}", peer.unwrap_or_else(|| "unknown".into()), request_id.unwrap_or_else(|| "none".into()))
        }))
        .tool(ToolRoute::new("refuse", |_ctx: Context, _: NoArgs| async move {
            Err::<String, _>(mcp_core::server::ToolError::new("refused", "refused on purpose"))
        }))
        .build()
        .expect("valid server")
}

#[tokio::test]
async fn api_gateway_rest_base64_body_stage_prefix_and_multi_value_headers() {
    let adapter = LambdaAdapter::new(server());
    let resp = invoke(&adapter, event("apigw-v1-rest.json")).await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    // REST APIs take multi-value headers back.
    assert!(resp["multiValueHeaders"].is_object(), "{resp}");
    assert_eq!(header(&resp, "content-type").as_deref(), Some("application/json"));
    assert_eq!(header(&resp, "access-control-allow-origin").as_deref(), Some("*"));
    let reply = body(&resp);
    assert_eq!(reply["id"], 7);
    assert_eq!(reply["result"]["content"][0]["text"], "5");
}

/// A `tools/call whoami` after `initialize`, in `session` if any.
fn whoami_event(session: Option<&str>) -> Value {
    let mut call = event("apigw-v2-http.json");
    let msg = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "whoami" } });
    call["body"] = Value::String(msg.to_string());
    if let Some(session) = session {
        call["headers"]["MCP-SESSION-ID"] = json!(session);
    }
    call["headers"]["Mcp-Protocol-Version"] = json!("2025-11-25");
    call["headers"]["content-length"] = json!(msg.to_string().len().to_string());
    call
}

#[tokio::test]
async fn http_api_legacy_session_continues_with_case_insensitive_headers() {
    let store = Arc::new(mcp_core::transport::http::InMemorySessionStore::default());
    let adapter = LambdaAdapter::builder(server()).session_store(store).build();
    let resp = invoke(&adapter, event("apigw-v2-http.json")).await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    let session = header(&resp, "mcp-session-id").expect("a session id");
    assert_eq!(body(&resp)["result"]["protocolVersion"], "2025-11-25");

    let resp = invoke(&adapter, whoami_event(Some(&session))).await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    let text = body(&resp)["result"]["content"][0]["text"].as_str().unwrap_or_default().to_owned();
    // The caller's IP from the request context; the Lambda context too.
    assert_eq!(text, "205.255.255.176 req-42");
    assert_eq!(adapter.transport().session_count(), 1);
}

#[tokio::test]
async fn without_a_session_store_legacy_clients_are_served_sessionless_on_any_instance() {
    let (first, second) = (LambdaAdapter::new(server()), LambdaAdapter::new(server()));
    let resp = invoke(&first, event("apigw-v2-http.json")).await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    assert_eq!(header(&resp, "mcp-session-id"), None, "no session to strand on one instance");
    assert_eq!(body(&resp)["result"]["protocolVersion"], "2025-11-25");
    // The next request lands on another instance, which never saw the
    // `initialize`, and is served.
    let resp = invoke(&second, whoami_event(None)).await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    assert_eq!(body(&resp)["result"]["content"][0]["text"], "205.255.255.176 req-42");
    // A session id from elsewhere is ignored, not a 404.
    let resp = invoke(&second, whoami_event(Some("from-another-deployment"))).await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    assert_eq!((first.transport().session_count(), second.transport().session_count()), (0, 0));
}

#[tokio::test]
async fn function_url_base64_stateless_list() {
    let adapter = LambdaAdapter::new(server());
    let resp = invoke(&adapter, event("function-url.json")).await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    let reply = body(&resp);
    assert_eq!(reply["id"], "list-1");
    let names: Vec<&str> =
        reply["result"]["tools"].as_array().expect("tools").iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ["add", "whoami", "refuse"]);
}

#[tokio::test]
async fn alb_multi_value_headers_and_forwarded_ip() {
    let adapter = LambdaAdapter::new(server());
    let resp = invoke(&adapter, event("alb-multi-value.json")).await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    assert!(resp["multiValueHeaders"].is_object(), "an ALB with multi-value headers gets them back: {resp}");
    let text = body(&resp)["result"]["content"][0]["text"].as_str().unwrap_or_default().to_owned();
    // The entry ALB appended, not the one the client claimed.
    assert_eq!(text, "192.0.2.44 req-42");
}

#[tokio::test]
async fn preflight_health_and_wrong_routes() {
    let health = Health::new().check("sessions", || async { Ok(()) });
    let config = DeployConfig::default().with_cors(Cors::Origins(vec!["https://app.example.com".into()]));
    let adapter = LambdaAdapter::builder(server()).config(config).health(health).build();

    let mut preflight = event("apigw-v2-http.json");
    preflight["requestContext"]["http"]["method"] = json!("OPTIONS");
    preflight["body"] = Value::Null;
    preflight["headers"] = json!({
        "host": "r3pmxmplak.execute-api.us-east-2.amazonaws.com",
        "origin": "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-api-key,mcp-session-id",
    });
    let resp = invoke(&adapter, preflight.clone()).await;
    assert_eq!(resp["statusCode"], 204, "{resp}");
    assert_eq!(header(&resp, "access-control-allow-origin").as_deref(), Some("https://app.example.com"));
    let allowed = header(&resp, "access-control-allow-headers").unwrap_or_default();
    for h in ["Content-Type", "X-Api-Key", "Authorization", "Mcp-Session-Id", "MCP-Protocol-Version"] {
        assert!(allowed.contains(h), "{allowed}");
    }
    assert!(header(&resp, "access-control-allow-methods").unwrap_or_default().contains("POST"));
    // An origin not on the list.
    preflight["headers"]["origin"] = json!("https://evil.example");
    assert_eq!(invoke(&adapter, preflight).await["statusCode"], 403);

    let mut get = event("apigw-v2-http.json");
    get["requestContext"]["http"]["method"] = json!("GET");
    get["body"] = Value::Null;
    get["rawPath"] = json!("/prod/health");
    let resp = invoke(&adapter, get.clone()).await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    let report = body(&resp);
    assert_eq!(report["status"], "healthy");
    assert_eq!(report["checks"]["sessions"]["status"], "healthy");
    assert!(report["timestamp"].as_str().is_some_and(|t| t.len() == 24), "{report}");

    // A standalone SSE stream cannot be buffered.
    get["rawPath"] = json!("/mcp");
    let resp = invoke(&adapter, get.clone()).await;
    assert_eq!(resp["statusCode"], 405, "{resp}");
    assert!(header(&resp, "allow").unwrap_or_default().contains("POST"));

    let mut wrong = event("function-url.json");
    wrong["rawPath"] = json!("/elsewhere");
    let resp = invoke(&adapter, wrong).await;
    assert_eq!(resp["statusCode"], 404, "{resp}");
    assert!(body(&resp)["error"]["message"].as_str().unwrap_or_default().contains("/mcp"));
}

#[tokio::test]
async fn bad_bodies_get_specific_errors_and_the_adapter_keeps_serving() {
    let adapter = LambdaAdapter::new(server());
    let mut bad = event("function-url.json");
    bad["body"] = json!("eyJqc29ucnBjIjoi"); // base64 of a truncated object
    let resp = invoke(&adapter, bad).await;
    assert_eq!(resp["statusCode"], 400, "{resp}");
    assert_eq!(body(&resp)["error"]["code"], -32700);

    let mut wrong_type = event("function-url.json");
    wrong_type["headers"]["content-type"] = json!("text/plain");
    assert_eq!(invoke(&adapter, wrong_type).await["statusCode"], 415);

    let resp = invoke(&adapter, event("function-url.json")).await;
    assert_eq!(resp["statusCode"], 200);
}

fn gateway_event(tool: Option<&str>, payload: Value) -> LambdaEvent<Value> {
    let mut context = LambdaContext::default();
    if let Some(tool) = tool {
        let mut custom = HashMap::new();
        custom.insert(TOOL_NAME_KEY.to_owned(), tool.to_owned());
        custom.insert("bedrockAgentCoreGatewayId".to_owned(), "gw-123".to_owned());
        let client = serde_json::from_value(json!({ "custom": custom })).expect("client context");
        context.client_context = Some(client);
    }
    LambdaEvent::new(payload, context)
}

#[tokio::test]
async fn agentcore_gateway_target_calls_tools_by_prefixed_name() {
    let target = GatewayTarget::new(server());
    let out = target.handle(gateway_event(Some("calculator-target___add"), json!({ "a": 40, "b": 2 }))).await;
    assert_eq!(out["content"][0]["text"], "42", "{out}");
    assert_ne!(out["isError"], true);

    // A name without a target prefix works as is.
    let out = target.handle(gateway_event(Some("add"), json!({ "a": 1, "b": 1 }))).await;
    assert_eq!(out["content"][0]["text"], "2");

    // The tool's own error stays a tool error.
    let out = target.handle(gateway_event(Some("t___refuse"), json!({}))).await;
    assert_eq!(out["isError"], true);
    assert!(out["content"][0]["text"].as_str().unwrap_or_default().contains("refused on purpose"), "{out}");
}

#[tokio::test]
async fn agentcore_gateway_target_explains_bad_invocations() {
    let target = GatewayTarget::new(server());
    let cases = [
        (gateway_event(Some("t___nope"), json!({})), "unknown tool: `nope`"),
        (gateway_event(Some("t___add"), json!([1, 2])), "expected a JSON object, got an array"),
        (gateway_event(Some("t___add"), json!({ "a": "two" })), "`a`: invalid type"),
        (gateway_event(None, json!({})), TOOL_NAME_KEY),
    ];
    for (event, needle) in cases {
        let out = target.handle(event).await;
        assert_eq!(out["isError"], true, "{out}");
        let text = out["content"][0]["text"].as_str().unwrap_or_default();
        assert!(text.contains(needle), "{text:?} should mention {needle:?}");
    }
    // Still serving.
    let out = target.handle(gateway_event(Some("t___add"), json!({ "a": 1, "b": 2 }))).await;
    assert_eq!(out["content"][0]["text"], "3");
}

/// A writer the test can read back.
#[cfg(feature = "emf")]
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(feature = "emf")]
impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(feature = "emf")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_invocation_ends_with_one_emf_flush_before_the_response_leaves() {
    let out = Captured::default();
    let emf = mcp_aws::emf::Emf::new("McpTest").with_writer(out.clone());
    let srv = server();
    let flusher = emf.clone();
    let adapter = LambdaAdapter::builder(srv.layer(emf.layer()))
        .on_invocation_end(move || {
            let _ = flusher.flush();
        })
        .build();
    for expected in 1..=2 {
        let resp = invoke(&adapter, event("function-url.json")).await;
        assert_eq!(resp["statusCode"], 200);
        // The record is out by the time the response is.
        let text = String::from_utf8(out.0.lock().map(|b| b.clone()).unwrap_or_default()).unwrap_or_default();
        let records: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
        assert_eq!(records.len(), expected, "{text}");
        let last = &records[expected - 1];
        assert_eq!(last["_aws"]["CloudWatchMetrics"][0]["Namespace"], "McpTest", "{last}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_target_runs_its_end_hooks_per_invocation() {
    use lambda_http::Service as _;
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&count);
    let mut target = GatewayTarget::new(server()).on_invocation_end(move || {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    let out = target.call(gateway_event(Some("t___add"), json!({ "a": 1, "b": 2 }))).await.expect("infallible");
    assert_eq!(out["content"][0]["text"], "3");
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[cfg(feature = "ratelimit")]
#[tokio::test]
async fn rate_limits_key_on_the_callers_ip_from_the_request_context() {
    use mcp_aws::ratelimit::{Counted, Key, Quota, RateLimitLayer};
    let srv = server();
    // The fixture is a `tools/list`: count every request.
    let limiter = RateLimitLayer::new(Key::client_ip()).quota(Quota::per_minute(2)).counting(Counted::AllRequests);
    let adapter = LambdaAdapter::builder(srv.layer(limiter)).build();
    // Two requests from 198.51.100.20 pass, the third is refused.
    for _ in 0..2 {
        assert_eq!(invoke(&adapter, event("function-url.json")).await["statusCode"], 200);
    }
    let resp = invoke(&adapter, event("function-url.json")).await;
    assert_eq!(resp["statusCode"], 429, "{resp}");
    let retry: u64 = header(&resp, "retry-after").and_then(|v| v.parse().ok()).expect("Retry-After in seconds");
    assert!((1..=30).contains(&retry), "{retry}");
    assert_eq!(header(&resp, "ratelimit-limit").as_deref(), Some("2"));
    let reply = body(&resp);
    assert_eq!(reply["error"]["code"], -31029);
    assert!(reply["error"]["data"]["retryAfterMs"].as_u64().is_some_and(|ms| ms > 0));
    // Another caller has its own quota.
    let mut other = event("function-url.json");
    other["requestContext"]["http"]["sourceIp"] = json!("198.51.100.99");
    assert_eq!(invoke(&adapter, other).await["statusCode"], 200);
}

/// Every Lambda HTTP event source, as its fixture.
const SOURCES: [&str; 4] = ["apigw-v1-rest.json", "apigw-v2-http.json", "function-url.json", "alb-multi-value.json"];

/// `event` with a request header set, in whichever maps the source uses.
fn with_header(mut event: Value, name: &str, value: &str) -> Value {
    let mut set = false;
    if let Some(map) = event["headers"].as_object_mut() {
        map.insert(name.to_owned(), json!(value));
        set = true;
    }
    if let Some(map) = event["multiValueHeaders"].as_object_mut() {
        map.insert(name.to_owned(), json!([value]));
        set = true;
    }
    assert!(set, "the event has no header map");
    event
}

/// `event` as an `OPTIONS` preflight.
fn as_preflight(mut event: Value) -> Value {
    if event.get("httpMethod").is_some() {
        event["httpMethod"] = json!("OPTIONS");
    } else {
        event["requestContext"]["http"]["method"] = json!("OPTIONS");
    }
    event["body"] = Value::Null;
    with_header(event, "access-control-request-method", "POST")
}

#[tokio::test]
async fn by_default_cors_on_every_source_is_any_origin_without_credentials_or_reflection() {
    let adapter = LambdaAdapter::new(server());
    for source in SOURCES {
        let call = with_header(event(source), "origin", "https://evil.example");
        let preflight = as_preflight(call.clone());
        for (what, resp) in [("call", invoke(&adapter, call).await), ("preflight", invoke(&adapter, preflight).await)] {
            let status = resp["statusCode"].as_u64().unwrap_or_default();
            assert!(status == 200 || status == 204, "{source} {what}: {resp}");
            assert_eq!(header(&resp, "access-control-allow-origin").as_deref(), Some("*"), "{source} {what}: {resp}");
            assert_eq!(header(&resp, "access-control-allow-credentials"), None, "{source} {what}: {resp}");
        }
    }
}

#[tokio::test]
async fn an_allow_list_with_credentials_reflects_listed_origins_only_on_every_source() {
    let cors = Cors::from_list("https://app.example.com").with_credentials();
    let adapter = LambdaAdapter::builder(server()).config(DeployConfig::default().with_cors(cors)).build();
    for source in SOURCES {
        let listed = with_header(event(source), "origin", "https://app.example.com");
        for resp in [invoke(&adapter, listed.clone()).await, invoke(&adapter, as_preflight(listed)).await] {
            assert_eq!(
                header(&resp, "access-control-allow-origin").as_deref(),
                Some("https://app.example.com"),
                "{source}: {resp}"
            );
            assert_eq!(header(&resp, "access-control-allow-credentials").as_deref(), Some("true"), "{source}: {resp}");
            assert!(header(&resp, "vary").is_some_and(|v| v.contains("Origin")), "{source}: {resp}");
        }
        let other = with_header(event(source), "origin", "https://evil.example");
        for resp in [invoke(&adapter, other.clone()).await, invoke(&adapter, as_preflight(other)).await] {
            assert_eq!(resp["statusCode"], 403, "{source}: {resp}");
            assert_eq!(header(&resp, "access-control-allow-origin"), None, "{source}: {resp}");
            assert_eq!(header(&resp, "access-control-allow-credentials"), None, "{source}: {resp}");
        }
    }
    // A list without credentials echoes the origin and sends none.
    let adapter = LambdaAdapter::builder(server())
        .config(DeployConfig::default().with_cors(Cors::from_list("https://app.example.com")))
        .build();
    let resp = invoke(&adapter, with_header(event("function-url.json"), "origin", "https://app.example.com")).await;
    assert_eq!(header(&resp, "access-control-allow-origin").as_deref(), Some("https://app.example.com"));
    assert_eq!(header(&resp, "access-control-allow-credentials"), None, "{resp}");
}

/// `event` as a request for `path` with `method` and a plain-text `body`,
/// whatever the source's shape (API Gateway REST keeps its `/prod` stage in
/// the request context).
#[cfg(feature = "rest")]
fn rest_event(source: &str, method: &str, path: &str, body: Option<&str>) -> Value {
    let mut e = event(source);
    if e.get("rawPath").is_some() {
        e["rawPath"] = json!(path);
        e["requestContext"]["http"]["path"] = json!(path);
        e["requestContext"]["http"]["method"] = json!(method);
    } else {
        e["path"] = json!(path);
        e["httpMethod"] = json!(method);
        if e["requestContext"].get("stage").is_some() {
            e["requestContext"]["path"] = json!(format!("/prod{path}"));
        }
    }
    e["body"] = body.map_or(Value::Null, |b| json!(b));
    e["isBase64Encoded"] = json!(false);
    with_header(
        with_header(e, "content-type", "application/json"),
        "content-length",
        &body.map_or(0, str::len).to_string(),
    )
}

#[cfg(feature = "rest")]
#[tokio::test]
async fn the_rest_facade_answers_on_every_source() {
    use mcp_core::transport::http::rest::RestOptions;
    let config = DeployConfig::default().with_rest(RestOptions::default());
    let adapter = LambdaAdapter::builder(server()).config(config).build();
    for source in SOURCES {
        let resp = invoke(&adapter, rest_event(source, "POST", "/tools/add", Some(r#"{"a":2,"b":3}"#))).await;
        assert_eq!((resp["statusCode"].clone(), body(&resp)), (json!(200), json!("5")), "{source}: {resp}");
        let guide = r#"{"tool": "add", "params": {"a": 20, "b": 22}}"#;
        let resp = invoke(&adapter, rest_event(source, "POST", "/", Some(guide))).await;
        assert_eq!((resp["statusCode"].clone(), body(&resp)), (json!(200), json!("42")), "{source}: {resp}");
        let resp = invoke(&adapter, rest_event(source, "GET", "/tools", None)).await;
        assert_eq!(resp["statusCode"], 200, "{source}: {resp}");
        assert_eq!(body(&resp)["tools"].as_array().map(Vec::len), Some(3), "{source}: {resp}");
        let resp = invoke(&adapter, rest_event(source, "POST", "/tools/refuse", Some("{}"))).await;
        assert_eq!(resp["statusCode"], 422, "{source}: {resp}");
        assert_eq!(body(&resp)["error"]["code"], "refused", "{source}: {resp}");
        // CORS applies to the façade as to MCP.
        assert_eq!(header(&resp, "access-control-allow-origin").as_deref(), Some("*"), "{source}: {resp}");
        // MCP is still at /mcp.
        let resp = invoke(&adapter, event(source)).await;
        assert_eq!(resp["statusCode"], 200, "{source}: {resp}");
    }
    // Off by default: the same path is not found.
    let resp = invoke(&LambdaAdapter::new(server()), rest_event("function-url.json", "GET", "/tools", None)).await;
    assert_eq!(resp["statusCode"], 404, "{resp}");
}
