//! The server and HTTP helpers shared by the auth tests.
#![allow(dead_code, unreachable_pub)]

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use mcp_core::server::{Context, NoArgs, Principal, Server, ServerBuilder, ToolRoute};
use mcp_core::transport::http::{HttpBody, StreamableHttp};
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// `whoami` answers with the principal's subject; `drop_tables` is the
/// tool the tests guard with a requirement.
pub fn server() -> Server {
    ServerBuilder::new("auth-test", "1.0.0")
        .tool(ToolRoute::new("whoami", |ctx: Context, _: NoArgs| async move {
            ctx.extensions().get::<Principal>().map_or_else(|| "nobody".to_owned(), |p| p.subject.clone())
        }))
        .tool(ToolRoute::new("drop_tables", |_ctx: Context, _: NoArgs| async move { "dropped" }))
        .build()
        .expect("valid server")
}

/// A stateless `tools/call` of `tool`, no arguments.
pub fn call_body(id: u64, tool: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": tool, "arguments": {},
        "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } } })
}

/// A POST to `/mcp` carrying `body`, with `headers` after the usual ones.
pub fn request(body: &Value, headers: &[(&str, &str)]) -> http::Request<Full<Bytes>> {
    let mut req = http::Request::post("/mcp")
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (name, value) in headers {
        req = req.header(*name, http::HeaderValue::from_bytes(value.as_bytes()).expect("header value"));
    }
    req.body(Full::new(Bytes::from(body.to_string()))).expect("request")
}

/// A stateless `tools/call` of `tool` with credential headers `creds`.
pub fn post(id: u64, tool: &str, creds: &[(&str, &str)]) -> http::Request<Full<Bytes>> {
    let mut headers = vec![("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/call"), ("mcp-name", tool)];
    headers.extend_from_slice(creds);
    request(&call_body(id, tool), &headers)
}

/// Status, `WWW-Authenticate` and body of one exchange.
pub async fn exchange<S: mcp_core::server::McpService>(
    http: &StreamableHttp<S>,
    req: http::Request<Full<Bytes>>,
) -> (u16, Option<String>, Value) {
    let resp: http::Response<HttpBody> = http.clone().oneshot(req).await.expect("infallible");
    let status = resp.status().as_u16();
    let www = resp.headers().get("www-authenticate").map(|v| v.to_str().expect("ascii").to_owned());
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("json body") };
    (status, www, body)
}
