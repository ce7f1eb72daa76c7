//! The same `add` tool served by this SDK and by rmcp, for the side-by-side
//! comparison: `benches/vs_rmcp.rs` runs both in one criterion binary. The
//! rmcp side lives in the `rmcp-add` crate, which is also the rmcp server
//! `scripts/compare.sh` loads.
//!
//! Both servers answer the stateless (2026-07-28) request in [`CALL_BODY`]
//! with [`HEADERS`], and both are configured for speed the way their
//! documentation allows: rmcp serves statelessly with JSON responses, SSE
//! keep-alive off, the never-session manager and a tool router built once.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};

pub use rmcp_add;

/// The `tools/call` every server answers: `add(2, 3)`.
pub const CALL_BODY: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;

/// The request headers sent with [`CALL_BODY`] (the stateless era's
/// `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` included).
pub const HEADERS: &[(&str, &str)] = &[
    ("host", "127.0.0.1"),
    ("content-type", "application/json"),
    ("accept", "application/json, text/event-stream"),
    ("mcp-protocol-version", "2026-07-28"),
    ("mcp-method", "tools/call"),
    ("mcp-name", "add"),
];

/// An HTTP POST of `body` to `/mcp` with [`HEADERS`].
///
/// # Panics
/// Never: the parts are constants.
pub fn post(body: &'static str) -> http::Request<Full<Bytes>> {
    let mut req = http::Request::post("/mcp");
    for (k, v) in HEADERS {
        req = req.header(*k, *v);
    }
    req.body(Full::new(Bytes::from_static(body.as_bytes()))).expect("constant request")
}

/// Reads a whole response body.
pub async fn body_bytes<B: http_body::Body<Data = Bytes>>(body: B) -> Vec<u8> {
    match body.collect().await {
        Ok(c) => c.to_bytes().to_vec(),
        Err(_) => Vec::new(),
    }
}

/// This SDK's side: `add` written with `#[tool]` (the `ours-add` crate,
/// which `scripts/compare.sh` also serves over HTTP).
pub mod ours {
    pub use ours_add::server;
}
