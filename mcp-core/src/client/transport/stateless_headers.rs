//! The stateless era's request headers (`MCP-Protocol-Version`,
//! `Mcp-Method`, `Mcp-Name`), read from the request's own `_meta` and
//! params, and the percent-encoding the AgentCore invocation URL needs.

use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;

use crate::jsonrpc::Request;
use crate::protocol::methods;
use crate::server::headers::names;

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(super) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The parts of a request's params the stateless headers repeat.
#[derive(Deserialize)]
struct Peek {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default, rename = "taskId")]
    task_id: Option<String>,
    #[serde(default, rename = "_meta")]
    meta: Option<PeekMeta>,
}

#[derive(Deserialize)]
struct PeekMeta {
    #[serde(default, rename = "io.modelcontextprotocol/protocolVersion")]
    version: Option<String>,
}

/// The `Mcp-Method`, `Mcp-Name` and `MCP-Protocol-Version` headers of a
/// stateless request: present when its `_meta` names a version.
pub(super) fn stateless_headers(req: &Request, headers: &mut HeaderMap) -> bool {
    let Some(params) = &req.params else { return false };
    let Ok(peek) = serde_json::from_str::<Peek>(params.get()) else { return false };
    let Some(version) = peek.meta.and_then(|m| m.version) else { return false };
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    set(names::PROTOCOL_VERSION, &version);
    set(names::METHOD, &req.method);
    let target = match req.method.as_str() {
        methods::TOOLS_CALL | methods::PROMPTS_GET => peek.name,
        methods::RESOURCES_READ => peek.uri,
        methods::TASKS_GET | methods::TASKS_UPDATE | methods::TASKS_CANCEL => peek.task_id,
        _ => None,
    };
    if let Some(t) = target {
        set(names::NAME, &t);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonrpc::RequestId;

    #[test]
    fn stateless_requests_get_their_headers() {
        let req = Request {
            id: RequestId::Number(1),
            method: "tools/call".into(),
            params: Some(
                serde_json::value::to_raw_value(&serde_json::json!({
                    "name": "echo", "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}
                }))
                .expect("json"),
            ),
        };
        let mut h = HeaderMap::new();
        assert!(stateless_headers(&req, &mut h));
        assert_eq!(h.get("mcp-protocol-version").and_then(|v| v.to_str().ok()), Some("2026-07-28"));
        assert_eq!(h.get("mcp-method").and_then(|v| v.to_str().ok()), Some("tools/call"));
        assert_eq!(h.get("mcp-name").and_then(|v| v.to_str().ok()), Some("echo"));
    }

    #[test]
    fn task_requests_name_their_task() {
        let req = Request {
            id: RequestId::Number(2),
            method: "tasks/get".into(),
            params: Some(
                serde_json::value::to_raw_value(&serde_json::json!({
                    "taskId": "t-1", "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}
                }))
                .expect("json"),
            ),
        };
        let mut h = HeaderMap::new();
        assert!(stateless_headers(&req, &mut h));
        assert_eq!(h.get("mcp-name").and_then(|v| v.to_str().ok()), Some("t-1"));
    }
}
