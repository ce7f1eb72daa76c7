//! Helpers shared by the HTTP transport tests: a server with tools that
//! stream progress, wait for cancellation and echo headers, request
//! builders for both eras, and a reply reader that parses SSE events.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
use mcp_core::transport::http::{HttpBody, HttpOptions, StreamableHttp};
use serde_json::{Value, json};
use tower::ServiceExt as _;

pub const MODERN: &str = "2026-07-28";

/// Sets its flag when dropped: the handler's future has ended.
pub struct SetOnDrop(pub Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

pub fn server(cancelled: Arc<AtomicBool>) -> mcp_core::server::Server {
    ServerBuilder::new("http-test", "1.0.0")
        .tool(ToolRoute::new("echo", |_ctx: Context, _: NoArgs| async { "echo" }).with_description("Echo"))
        .tool(
            ToolRoute::new("api_key", |ctx: Context, _: NoArgs| async move {
                let headers = ctx.extensions().get::<HeaderMap>();
                let key = headers.and_then(|h| h.get("x-api-key")).and_then(|v| v.to_str().ok());
                key.unwrap_or("none").to_owned()
            })
            .with_description("The request's X-Api-Key header, as layers and handlers see it"),
        )
        .tool(
            ToolRoute::new("steps", |ctx: Context, _: NoArgs| async move {
                for i in 1..=3 {
                    ctx.progress(f64::from(i), Some(3.0), None).await?;
                    tokio::time::sleep(Duration::from_millis(60)).await;
                }
                Ok::<_, mcp_core::Error>("done")
            })
            .with_description("Three progress steps, then done"),
        )
        .tool(
            ToolRoute::new("quick", |ctx: Context, _: NoArgs| async move {
                ctx.progress(1.0, Some(1.0), None).await?;
                Ok::<_, mcp_core::Error>("quick")
            })
            .with_description("One progress step and done, in the same turn"),
        )
        .tool(
            ToolRoute::new("wait", move |ctx: Context, _: NoArgs| {
                let ended = SetOnDrop(Arc::clone(&cancelled));
                async move {
                    let _ended = ended;
                    ctx.progress(0.0, None, None).await?;
                    // Only cancellation (or dropping this future) ends it.
                    std::future::pending::<()>().await;
                    Ok::<_, mcp_core::Error>("unreachable")
                }
            })
            .with_description("Waits until cancelled"),
        )
        .build()
        .expect("valid server")
}

pub fn transport(options: HttpOptions) -> (StreamableHttp, Arc<AtomicBool>) {
    let flag = Arc::new(AtomicBool::new(false));
    let s = server(Arc::clone(&flag));
    (StreamableHttp::with_options(s, options), flag)
}

pub fn post(body: &Value) -> http::request::Builder {
    let _ = body;
    Request::post("/mcp")
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
}

pub fn stateless_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
    })
}

pub fn stateless(id: i64, method: &str, mut params: Value) -> (http::request::Builder, Value) {
    params["_meta"] = stateless_meta();
    let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
    let mut b = post(&body).header("mcp-protocol-version", MODERN).header("mcp-method", method);
    if let Some(name) = body["params"]["name"].as_str() {
        b = b.header("mcp-name", name);
    }
    (b, body)
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: HttpBody,
}

impl Reply {
    pub async fn bytes(self) -> Vec<u8> {
        self.body.collect().await.map(|c| c.to_bytes().to_vec()).unwrap_or_default()
    }

    pub async fn json(self) -> Value {
        let bytes = self.bytes().await;
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
    }

    /// The next SSE event's (id, data), skipping comments.
    pub async fn next_event(&mut self) -> Option<(Option<String>, String)> {
        let mut buf = String::new();
        loop {
            if let Some(end) = buf.find("\n\n") {
                let event: String = buf.drain(..end + 2).collect();
                let mut id = None;
                let mut data = String::new();
                for line in event.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if id.is_none() && data.is_empty() {
                    continue;
                }
                assert!(buf.is_empty(), "one event per frame");
                return Some((id, data));
            }
            let frame = tokio::time::timeout(Duration::from_secs(5), self.body.frame()).await.ok()??.ok()?;
            if let Ok(data) = frame.into_data() {
                buf.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }
}

/// The transport under test, whatever service it wraps.
pub trait Transport:
    tower::Service<Request<Full<Bytes>>, Response = http::Response<HttpBody>, Error = Infallible, Future: Send>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<T> Transport for T where
    T: tower::Service<Request<Full<Bytes>>, Response = http::Response<HttpBody>, Error = Infallible, Future: Send>
        + Clone
        + Send
        + Sync
        + 'static
{
}

pub async fn send(t: &impl Transport, req: Request<Full<Bytes>>) -> Reply {
    let resp = t.clone().oneshot(req).await.expect("infallible");
    let (parts, body) = resp.into_parts();
    Reply { status: parts.status, headers: parts.headers, body }
}

pub async fn send_json(t: &impl Transport, b: http::request::Builder, body: &Value) -> Reply {
    send(t, b.body(Full::new(Bytes::from(body.to_string()))).expect("request")).await
}

/// A stateless `tools/call echo` succeeds: the server is still serving.
pub async fn assert_serving(t: &StreamableHttp) {
    let (b, body) = stateless(900, "tools/call", json!({ "name": "echo" }));
    let r = send_json(t, b, &body).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json().await["result"]["content"][0]["text"], "echo");
}

pub async fn initialize(t: &impl Transport) -> String {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } });
    let r = send_json(t, post(&body), &body).await;
    assert_eq!(r.status, StatusCode::OK);
    let id = r.headers.get("mcp-session-id").expect("session id").to_str().expect("ascii").to_owned();
    assert!(id.len() >= 32 && id.bytes().all(|b| (0x21..=0x7e).contains(&b)), "{id}");
    let note = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let r = send_json(t, in_session(&note, &id), &note).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    id
}

pub fn in_session(body: &Value, id: &str) -> http::request::Builder {
    post(body).header("mcp-session-id", id).header("mcp-protocol-version", "2025-11-25")
}

/// The request with one header replaced (the builder only appends).
pub fn replacing(
    b: http::request::Builder,
    body: &Value,
    name: &'static str,
    value: &'static str,
) -> Request<Full<Bytes>> {
    let mut req = b.body(Full::new(Bytes::from(body.to_string()))).expect("request");
    req.headers_mut().insert(name, http::HeaderValue::from_static(value));
    req
}

/// A GET opening (or, with `last`, resuming) a session's SSE stream.
pub fn get_stream(session: &str, last: Option<&str>) -> Request<Full<Bytes>> {
    let mut b = Request::get("/mcp")
        .header("host", "localhost")
        .header("accept", "text/event-stream")
        .header("mcp-session-id", session);
    if let Some(last) = last {
        b = b.header("last-event-id", last);
    }
    b.body(Full::new(Bytes::new())).expect("request")
}

pub fn error_code(v: &Value) -> i64 {
    v["error"]["code"].as_i64().unwrap_or_else(|| panic!("not an error: {v}"))
}

/// A GET or DELETE with no session id, asking for a stream, with an
/// `MCP-Protocol-Version` header.
pub fn bodiless(method: http::Method, version: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri("/mcp")
        .header("host", "localhost")
        .header("accept", "text/event-stream")
        .header("mcp-protocol-version", version)
        .body(Full::new(Bytes::new()))
        .expect("request")
}

/// Two integers, for an `add` tool.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct Pair {
    /// The first number
    pub a: i64,
    /// The second number
    pub b: i64,
}

/// `add`: the sum of a [`Pair`], as text.
pub fn add_tool() -> ToolRoute {
    ToolRoute::new("add", |_ctx: Context, p: Pair| async move { (p.a + p.b).to_string() }).with_description("Adds")
}

/// `ask`: asks the client through `ctx.elicit`, which needs a session in
/// the legacy era.
pub fn ask_tool() -> ToolRoute {
    ToolRoute::new("ask", |ctx: Context, _: NoArgs| async move {
        let schema = serde_json::from_value(json!({ "type": "object", "properties": {} }))
            .map_err(|e| mcp_core::Error::internal(e.to_string()))?;
        ctx.elicit(mcp_core::protocol::elicitation::ElicitRequestParams::form("Sure?", schema)).await?;
        Ok::<_, mcp_core::Error>("answered")
    })
    .with_description("Asks the client")
}
