//! A small server and request builders shared by the layer tests.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_core::jsonrpc::{Message, Response};
use mcp_core::server::{Context, NoArgs, Principal, Server, ServerBuilder, ServerRequest, Sink, ToolError, ToolRoute};
use serde_json::{Value, json};
use tower::{Service, ServiceExt as _};

pub const MODERN: &str = "2026-07-28";

/// `echo` answers at once, `fail` returns a tool error, `expensive` is the
/// tool with its own quota, `slow` sleeps 10 s (or until cancelled).
pub fn server() -> Server {
    ServerBuilder::new("layers-test", "1.0.0")
        .tool(ToolRoute::new("echo", |_ctx: Context, _: NoArgs| async { "echo" }).with_description("Echo"))
        .tool(
            ToolRoute::new("fail", |_ctx: Context, _: NoArgs| async {
                Err::<String, _>(ToolError::new("boom", "it failed"))
            })
            .with_description("Always fails"),
        )
        .tool(ToolRoute::new("expensive", |_ctx: Context, _: NoArgs| async { "costly" }).with_description("Costly"))
        .tool(
            ToolRoute::new("slow", |ctx: Context, _: NoArgs| async move {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(10)) => "slept",
                    () = ctx.cancelled() => "cancelled",
                }
            })
            .with_description("Sleeps"),
        )
        // The telemetry tests send arguments (secrets to redact) that these
        // argument-less tools ignore.
        .reject_unknown_arguments(false)
        .build()
        .expect("valid server")
}

/// A stateless (2026-07-28) request message.
pub fn message(id: i64, method: &str, mut params: Value) -> Message {
    let meta = params.get_mut("_meta").and_then(Value::as_object_mut).map(std::mem::take).unwrap_or_default();
    let mut full_meta = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    for (k, v) in meta {
        full_meta[k] = v;
    }
    params["_meta"] = full_meta;
    let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
    Message::parse(body.to_string().as_bytes()).expect("valid message")
}

/// A stateless request from `principal` (if any).
pub fn request(id: i64, method: &str, params: Value, principal: Option<&str>) -> ServerRequest {
    let mut req = ServerRequest::new(message(id, method, params), None, Sink::none());
    if let Some(p) = principal {
        req.extensions.insert(Principal::new(p));
    }
    req
}

/// A `tools/call` of `tool` from `principal`.
pub fn call(id: i64, tool: &str, principal: Option<&str>) -> ServerRequest {
    request(id, "tools/call", json!({ "name": tool, "arguments": {} }), principal)
}

/// Sends `req` and returns the response as JSON.
pub async fn send<S>(svc: &S, req: ServerRequest) -> Value
where
    S: Service<ServerRequest, Response = Option<Response>, Error = Infallible> + Clone,
{
    let resp = svc.clone().oneshot(req).await.unwrap_or_else(|never| match never {});
    let resp = resp.expect("a response");
    let mut buf = Vec::new();
    resp.write_to(&mut buf);
    serde_json::from_slice(&buf).expect("JSON")
}

/// The JSON-RPC error code of a response, or `None` for a result.
pub fn code(v: &Value) -> Option<i64> {
    v.get("error").map(|e| e["code"].as_i64().expect("integer code"))
}

/// An in-memory writer that clones share.
#[derive(Clone, Default)]
pub struct Buffer(pub Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
