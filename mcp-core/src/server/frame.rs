//! One frame in, one frame out: decoding, batches, and encoding, shared by
//! every transport that carries whole JSON-RPC frames (stdio lines, HTTP
//! bodies, Lambda events).

use std::sync::Arc;

use super::session::{Session, Sink};
use super::{McpService, ServerRequest};
use crate::jsonrpc::{ErrorCode, ErrorObject, Incoming, Response};

/// Decodes `bytes`, calls `service` for each message, and returns the
/// encoded reply: a response, a batch of responses, or `None` when there is
/// nothing to send (notifications, the client's responses, cancelled
/// requests).
///
/// Batches are accepted only when the session negotiated 2025-03-26; anywhere
/// else a batch gets one -32600 error.
pub async fn handle_frame<S>(
    service: S,
    bytes: &[u8],
    session: Option<&Arc<Session>>,
    sink: &Sink,
    extensions: &http::Extensions,
) -> Option<Vec<u8>>
where
    S: McpService,
{
    // A macro rather than a closure: a closure would hold `&S` across the
    // await and make the future `Send` only for `Sync` services.
    macro_rules! call {
        ($message:expr) => {{
            let mut req = ServerRequest::new($message, session.cloned(), sink.clone());
            req.extensions = extensions.clone();
            super::service::call(service.clone(), req)
        }};
    }
    match Incoming::parse(bytes) {
        Err(e) => Some(encode(&e.into_response())),
        Ok(Incoming::Single(message)) => call!(message).await.map(|resp| encode(&resp)),
        Ok(Incoming::Batch(items)) => {
            let version = session.and_then(|s| s.version());
            if !version.is_some_and(|v| v.has_batches()) {
                let why = match version {
                    Some(v) => format!(
                        "invalid request: JSON-RPC batches are not accepted in protocol version {v} (only 2025-03-26)"
                    ),
                    None => {
                        "invalid request: JSON-RPC batches are only accepted after initialize negotiates 2025-03-26"
                            .to_owned()
                    }
                };
                return Some(encode(&Response::error(None, ErrorObject::new(ErrorCode::INVALID_REQUEST, why))));
            }
            let mut out = Vec::new();
            for item in items {
                let resp = match item {
                    Err(e) => Some(e.into_response()),
                    Ok(message) => call!(message).await,
                };
                if let Some(resp) = resp {
                    out.push(resp);
                }
            }
            if out.is_empty() {
                return None;
            }
            let mut buf = vec![b'['];
            for (i, resp) in out.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                resp.write_to(&mut buf);
            }
            buf.push(b']');
            Some(buf)
        }
    }
}

fn encode(resp: &Response) -> Vec<u8> {
    let mut buf = Vec::new();
    resp.write_to(&mut buf);
    buf
}
