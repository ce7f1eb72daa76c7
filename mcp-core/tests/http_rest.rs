//! The REST façade beside Streamable HTTP: every route, every error status
//! with its body, and that the server keeps serving after each; the
//! OpenAPI document following tools added at run time.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use mcp_core::jsonrpc::{ErrorCode, ErrorObject, Message, Response};
use mcp_core::server::signal::RateLimited;
use mcp_core::server::{Context, Json, NoArgs, ServerBuilder, ServerRequest, ToolError, ToolRoute};
use mcp_core::transport::http::rest::{RestOptions, SecurityScheme};
use mcp_core::transport::http::{HttpOptions, StreamableHttp};
use serde_json::{Value, json};
use tower::ServiceExt as _;

mod http_common;

use http_common::{Pair, Reply, add_tool, ask_tool, send};

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Division {
    quotient: i64,
    remainder: i64,
}

fn server() -> mcp_core::server::Server {
    ServerBuilder::new("rest-test", "1.2.3")
        .tool(add_tool())
        .tool(
            ToolRoute::new("divide", |_ctx: Context, p: Pair| async move {
                if p.b == 0 {
                    return Err(ToolError::new("division_by_zero", "cannot divide by zero")
                        .with_details(json!({ "dividend": p.a })));
                }
                Ok(Json(Division { quotient: p.a / p.b, remainder: p.a % p.b }))
            })
            .with_description("Divides"),
        )
        .tool(ToolRoute::new("hello", |_ctx: Context, _: NoArgs| async { "hello" }).with_description("No arguments"))
        .tool(
            ToolRoute::new("broken", |_ctx: Context, _: NoArgs| async {
                Err::<String, _>(ToolError::internal("database password=hunter2 unreachable"))
            })
            .with_description("Fails inside"),
        )
        .tool(ask_tool())
        .tool(
            ToolRoute::new("slow", |_ctx: Context, _: NoArgs| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            })
            .with_description("Overruns the deadline"),
        )
        .tool(ToolRoute::new("limited", |_ctx: Context, _: NoArgs| async { "never" }).with_description("Rate limited"))
        .tool(ToolRoute::new("shed", |_ctx: Context, _: NoArgs| async { "never" }).with_description("Load shed"))
        .build()
        .expect("valid server")
}

type Front = tower::util::BoxCloneSyncService<ServerRequest, Option<Response>, Infallible>;

/// A layer standing in for a rate limiter and a load shedder: it refuses
/// `limited` with -31029 and the typed signal, and `shed` with -31003.
fn refusing(server: mcp_core::server::Server) -> Front {
    Front::new(tower::service_fn(move |req: ServerRequest| {
        let server = server.clone();
        async move {
            let id = match &req.message {
                Message::Request(r) => r.id.clone(),
                _ => return server.oneshot(req).await,
            };
            match req.head().tool() {
                Some("limited") => {
                    let e = ErrorObject::new(ErrorCode::RATE_LIMITED, "rate limited: 10 tool calls a minute")
                        .with_data(json!({ "retryAfterMs": 2500 }));
                    let mut resp = Response::error(Some(id), e);
                    resp.extensions.insert(RateLimited::new(Duration::from_millis(2500)).with_quota(10, 0));
                    Ok(Some(resp))
                }
                Some("shed") => {
                    Ok(Some(Response::error(Some(id), ErrorObject::new(ErrorCode::SERVER_OVERLOADED, "overloaded"))))
                }
                _ => server.oneshot(req).await,
            }
        }
    }))
}

fn facade(rest: RestOptions) -> StreamableHttp<impl mcp_core::server::McpService> {
    let mut options = HttpOptions::default();
    options.rest = Some(rest);
    options.max_body_bytes = 4096;
    let app = server()
        .layer(tower::layer::layer_fn(refusing))
        .layer(tower::timeout::TimeoutLayer::new(Duration::from_millis(200)));
    StreamableHttp::with_options(app, options)
}

fn post(path: &str, body: &str) -> Request<Full<Bytes>> {
    Request::post(path)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("request")
}

fn get(path: &str) -> Request<Full<Bytes>> {
    Request::get(path).header("host", "localhost").body(Full::new(Bytes::new())).expect("request")
}

/// The status and JSON body.
async fn answer(r: Reply) -> (StatusCode, Value) {
    let status = r.status;
    assert_eq!(r.headers.get("content-type").map(|v| v.as_bytes()), Some(&b"application/json"[..]));
    (status, r.json().await)
}

/// `POST /tools/add` still answers: the server kept serving.
async fn assert_serving(t: &StreamableHttp<impl mcp_core::server::McpService>) {
    let (status, body) = answer(send(t, post("/tools/add", r#"{"a":2,"b":3}"#)).await).await;
    assert_eq!((status, body), (StatusCode::OK, json!("5")));
}

#[tokio::test]
async fn tools_answer_plain_json_at_both_routes() {
    let t = facade(RestOptions::default());
    assert_serving(&t).await;
    let (status, body) = answer(send(&t, post("/tools/divide", r#"{"a":7,"b":2}"#)).await).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "quotient": 3, "remainder": 1 })));
    // The Step Functions server guide's form, posted to the base.
    let (status, body) = answer(send(&t, post("/", r#"{"tool": "divide", "params": {"a": 9, "b": 4}}"#)).await).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "quotient": 2, "remainder": 1 })));
    // No arguments: an empty body, `{}`, or no `params`.
    for (path, body) in [("/tools/hello", ""), ("/tools/hello", "{}"), ("/", r#"{"tool":"hello"}"#)] {
        assert_eq!(answer(send(&t, post(path, body)).await).await, (StatusCode::OK, json!("hello")), "{path} {body}");
    }
    let (status, list) = answer(send(&t, get("/tools")).await).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<_> = list["tools"].as_array().expect("tools").iter().map(|t| t["name"].clone()).collect();
    assert_eq!(names.len(), 8);
    assert_eq!(names[0], "add");
    assert_eq!(list["tools"][1]["outputSchema"]["required"], json!(["quotient", "remainder"]));
}

/// What is sent, and the status, error code and a piece of the message
/// expected.
type Case = (&'static str, Request<Full<Bytes>>, StatusCode, &'static str, &'static str);

#[tokio::test]
async fn every_error_status_with_its_body_and_the_server_keeps_serving() {
    let t = facade(RestOptions::default());
    let huge = format!(r#"{{"a":1,"b":2,"pad":"{}"}}"#, "x".repeat(5000));
    let cases: Vec<Case> = vec![
        (
            "arguments that do not fit",
            post("/tools/add", r#"{"a":"two","b":3}"#),
            StatusCode::BAD_REQUEST,
            "invalid_arguments",
            "`a`",
        ),
        ("a missing argument", post("/tools/add", r#"{"a":1}"#), StatusCode::BAD_REQUEST, "invalid_arguments", "`b`"),
        (
            "a body that is not JSON",
            post("/tools/add", "a=1&b=2"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "not JSON",
        ),
        ("an array body", post("/tools/add", "[1,2]"), StatusCode::BAD_REQUEST, "invalid_request", "JSON object"),
        (
            "the guide's form without `tool`",
            post("/", r#"{"params":{}}"#),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "`tool`",
        ),
        (
            "the guide's form with a stray field",
            post("/", r#"{"tool":"add","args":{}}"#),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "`args`",
        ),
        (
            "the guide's form with `params` a string",
            post("/", r#"{"tool":"add","params":"a=1"}"#),
            StatusCode::BAD_REQUEST,
            "invalid_arguments",
            "`params`",
        ),
        ("the guide's form with no body", post("/", ""), StatusCode::BAD_REQUEST, "invalid_request", "\"tool\""),
        ("an unknown tool", post("/tools/nope", "{}"), StatusCode::NOT_FOUND, "unknown_tool", "`nope`"),
        (
            "an unknown tool in the guide's form",
            post("/", r#"{"tool":"nope"}"#),
            StatusCode::NOT_FOUND,
            "unknown_tool",
            "`nope`",
        ),
        ("GET on a tool", get("/tools/add"), StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "POST"),
        ("POST on the list", post("/tools", "{}"), StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "GET"),
        ("too large a body", post("/tools/add", &huge), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "4096"),
        (
            "a body that is not declared JSON",
            Request::post("/tools/add")
                .header("host", "localhost")
                .header("content-type", "text/plain")
                .body(Full::new(Bytes::from("{}")))
                .expect("request"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "application/json",
        ),
        (
            "the tool's own failure",
            post("/tools/divide", r#"{"a":1,"b":0}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "division_by_zero",
            "cannot divide by zero",
        ),
        (
            "a tool that needs a session",
            post("/tools/ask", "{}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "tool_error",
            "sessionless",
        ),
        (
            "an internal failure",
            post("/tools/broken", "{}"),
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error",
        ),
        (
            "a rate limit",
            post("/tools/limited", "{}"),
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "10 tool calls a minute",
        ),
        ("load shedding", post("/tools/shed", "{}"), StatusCode::SERVICE_UNAVAILABLE, "overloaded", "overloaded"),
        ("a deadline", post("/tools/slow", "{}"), StatusCode::GATEWAY_TIMEOUT, "timeout", ""),
    ];
    for (what, req, status, code, says) in cases {
        let r = send(&t, req).await;
        let headers = r.headers.clone();
        let (got, body) = answer(r).await;
        assert_eq!(got, status, "{what}: {body}");
        assert_eq!(body["error"]["code"], code, "{what}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{what}: {message}");
        match code {
            "division_by_zero" => assert_eq!(body["error"]["details"], json!({ "dividend": 1 }), "{what}"),
            "internal_error" => {
                assert_eq!(
                    body,
                    json!({ "error": { "code": "internal_error", "message": "internal error" } }),
                    "{what}"
                );
                assert!(!body.to_string().contains("hunter2"));
            }
            "rate_limited" => {
                assert_eq!(headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("3"), "{what}");
                assert_eq!(headers.get("ratelimit-remaining").and_then(|v| v.to_str().ok()), Some("0"), "{what}");
            }
            "method_not_allowed" => assert!(headers.get("allow").is_some(), "{what}"),
            _ => {}
        }
        assert_serving(&t).await;
    }
}

#[tokio::test]
async fn the_openapi_document_follows_the_tools_and_the_base_path() {
    let rest = RestOptions::at("/api").security(SecurityScheme::api_key("x-api-key")).security(SecurityScheme::Bearer);
    let mut options = HttpOptions::default();
    options.rest = Some(rest);
    let srv = server();
    let t = StreamableHttp::with_options(srv.clone(), options);
    let (status, doc) = answer(send(&t, get("/api/openapi.json")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((doc["openapi"].clone(), doc["info"]["version"].clone()), (json!("3.1.0"), json!("1.2.3")));
    let add = &doc["paths"]["/api/tools/add"]["post"];
    assert_eq!(add["requestBody"]["content"]["application/json"]["schema"]["required"], json!(["a", "b"]));
    assert_eq!(add["responses"]["401"]["$ref"], "#/components/responses/Unauthorized");
    let divide =
        &doc["paths"]["/api/tools/divide"]["post"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(divide["required"], json!(["quotient", "remainder"]));
    assert_eq!(
        doc["components"]["securitySchemes"]["apiKey"],
        json!({ "type": "apiKey", "in": "header", "name": "x-api-key" })
    );
    assert_eq!(
        doc["paths"]["/api"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["tool"]["enum"]
            [0],
        "add"
    );
    // The MCP path stays MCP; the root is not the façade's.
    let (status, _) = answer(send(&t, post("/tools/add", r#"{"a":1,"b":1}"#)).await).await;
    assert_ne!(status, StatusCode::OK, "only under /api");

    // A tool added at run time is in the document and the list at once; a
    // removed one is gone.
    srv.add_tool(ToolRoute::new("late", |_ctx: Context, _: NoArgs| async { "late" }).with_description("Added later"))
        .expect("valid tool");
    assert!(srv.remove_tool("slow"));
    let (_, doc) = answer(send(&t, get("/api/openapi.json")).await).await;
    assert_eq!(doc["paths"]["/api/tools/late"]["post"]["description"], "Added later");
    assert!(doc["paths"].get("/api/tools/slow").is_none());
    let (_, list) = answer(send(&t, get("/api/tools")).await).await;
    assert!(list["tools"].as_array().expect("tools").iter().any(|t| t["name"] == "late"));
    assert_eq!(answer(send(&t, post("/api/tools/late", "")).await).await, (StatusCode::OK, json!("late")));
}
