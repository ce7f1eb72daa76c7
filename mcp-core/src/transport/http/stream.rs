//! GET (a legacy session's standalone SSE stream, or the resumption of a
//! dropped one) and DELETE (ending a session).

use std::sync::Arc;

use http::StatusCode;

use super::body::{HttpBody, Replay, SseBody, sse_event};
use super::events::EventId;
use super::guard::Accepts;
use super::respond::{detach_into, sse_response};
use super::sessions::LiveSession;
use super::{
    Inner, SESSION_NOT_FOUND, SessionMode, auth_challenge, empty_response, error_response, json_response,
    method_not_allowed, rate_limit_headers, status_for,
};
use crate::jsonrpc::{ErrorCode, Message, Request, RequestId};
use crate::protocol::{ProtocolVersion, methods};
use crate::server::headers::names;
use crate::server::{McpService, ServerRequest, Sink, call};

/// Marks the request the HTTP transport presents to the layers for a GET
/// or a DELETE, which carry no JSON-RPC message of their own.
///
/// So that an auth layer, a rate limiter or any other layer judges them
/// like every other request (a session id alone is not a credential), the
/// transport puts a `ping` through the stack first, with the GET's or
/// DELETE's headers, extensions and session, and this marker in its
/// extensions. An error the stack answers it with (a 401 with its
/// challenge, a 429) is the HTTP request's answer; otherwise the GET or
/// DELETE goes ahead. The `ping`'s own response is never sent. A layer that
/// counts requests may use the marker to tell these apart.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpProbe {
    /// `GET` or `DELETE`.
    pub method: http::Method,
}

/// How long a resuming GET waits for the old connection to let go.
const TAKE_OVER_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl<S> Inner<S>
where
    S: McpService,
{
    /// The session a GET or DELETE names, or the response refusing it.
    async fn session_of(&self, headers: &http::HeaderMap) -> Result<Arc<LiveSession>, http::Response<HttpBody>> {
        let mode = self.options.sessions;
        let id = match mode {
            SessionMode::Disabled => None,
            _ => headers.get(names::SESSION_ID).and_then(|v| v.to_str().ok()),
        };
        let Some(id) = id else {
            let legacy = headers
                .get(names::PROTOCOL_VERSION)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| ProtocolVersion::from_wire(v.trim()).is_ok_and(|v| !v.is_stateless()));
            return Err(match mode {
                SessionMode::Required if legacy => error_response(
                    StatusCode::BAD_REQUEST,
                    None,
                    ErrorCode::INVALID_REQUEST,
                    "bad request: missing `Mcp-Session-Id` header".into(),
                ),
                SessionMode::Disabled => method_not_allowed(
                    "POST",
                    "this server serves every request without a session (sessionless mode): \
                     there is no stream to open or session to end",
                ),
                _ if legacy => method_not_allowed(
                    "GET, POST, DELETE",
                    "GET and DELETE need the `Mcp-Session-Id` that `initialize` returned; \
                     a request without one is served on its own (sessionless), with no stream to open",
                ),
                _ => method_not_allowed(
                    "GET, POST, DELETE",
                    "stateless MCP uses POST only; GET and DELETE need a legacy session (Mcp-Session-Id)",
                ),
            });
        };
        match self.sessions.get(id).await {
            Ok(Some(live)) => Ok(live),
            Ok(None) => Err(error_response(
                StatusCode::NOT_FOUND,
                None,
                SESSION_NOT_FOUND,
                format!("session not found: `{id}` is unknown or expired"),
            )),
            Err(e) => {
                tracing::warn!(error = %e, "session store failed");
                Err(error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    None,
                    ErrorCode::INTERNAL_ERROR,
                    "internal error: the session store is unavailable; retry later".into(),
                ))
            }
        }
    }

    /// Puts a GET or DELETE on `live` through the layers (see [`HttpProbe`]):
    /// `None` when they admit it, else the response refusing it.
    async fn admit(
        &self,
        live: &LiveSession,
        method: http::Method,
        headers: &http::HeaderMap,
        mut extensions: http::Extensions,
    ) -> Option<http::Response<HttpBody>> {
        let id = RequestId::String(format!("mcp-sdk/http-{}", method.as_str().to_ascii_lowercase()).into());
        let ping = Message::Request(Request { id, method: methods::PING.to_owned(), params: None });
        extensions.insert(headers.clone());
        extensions.insert(HttpProbe { method });
        let mut req = ServerRequest::new(ping, Some(Arc::clone(&live.session)), Sink::none());
        req.extensions = extensions;
        let resp = call(self.service.clone(), req).await?;
        if resp.payload.is_ok() {
            return None;
        }
        let mut buf = Vec::new();
        resp.write_to(&mut buf);
        let mut out = json_response(status_for(&resp), buf);
        rate_limit_headers(&resp, out.headers_mut());
        auth_challenge(&resp, &mut out);
        Some(out)
    }

    pub(super) async fn get(self: Arc<Self>, parts: http::request::Parts) -> http::Response<HttpBody> {
        let headers = parts.headers;
        let live = match self.session_of(&headers).await {
            Ok(l) => l,
            Err(resp) => return resp,
        };
        if let Some(refused) = self.admit(&live, http::Method::GET, &headers, parts.extensions).await {
            return refused;
        }
        if !Accepts::stream(&headers) {
            return error_response(
                StatusCode::NOT_ACCEPTABLE,
                None,
                ErrorCode::INVALID_REQUEST,
                "not acceptable: GET opens an SSE stream; send `Accept: text/event-stream`".into(),
            );
        }
        let last = headers.get(names::LAST_EVENT_ID).and_then(|v| v.to_str().ok());
        let body = match last {
            Some(last) => {
                let Some(after) = EventId::parse(last) else {
                    return error_response(
                        StatusCode::BAD_REQUEST,
                        None,
                        ErrorCode::INVALID_REQUEST,
                        format!("bad request: `Last-Event-ID` {last:?} is not an event id this server issued"),
                    );
                };
                // A client may reconnect before the server noticed its old
                // connection died: take the stream over from it.
                let taken = live.take_over(after.stream, TAKE_OVER_WAIT).await;
                let replayed = self.events.replay(&live.id, after);
                let mut body = match taken {
                    Some(stream) => {
                        let token = live.attach(after.stream);
                        SseBody::new(stream, self.options.sse_keepalive).stop_on(token)
                    }
                    None => SseBody::finished(),
                };
                for (id, data) in replayed {
                    body.push(sse_event(Some(id), &data));
                }
                body
            }
            None => {
                let Some(mut stream) = live.take_stream(0) else {
                    return error_response(
                        StatusCode::CONFLICT,
                        None,
                        ErrorCode::INVALID_REQUEST,
                        "conflict: this session's GET stream is already open".into(),
                    );
                };
                // The session-wide stream is resumable like any other.
                stream
                    .replay
                    .get_or_insert_with(|| Replay { store: Arc::clone(&self.events), session: Arc::clone(&live.id) });
                let mut body = SseBody::new(stream, self.options.sse_keepalive).stop_on(live.attach(0));
                if live.session.version().is_some_and(ProtocolVersion::has_sse_priming) {
                    body.prime(self.options.sse_retry);
                }
                body
            }
        };
        let stream_no = last.and_then(EventId::parse).map_or(0, |id| id.stream);
        sse_response(body.on_drop(detach_into(&live, stream_no)).guard(Box::new(live.activity())))
    }

    pub(super) async fn delete(self: Arc<Self>, parts: http::request::Parts) -> http::Response<HttpBody> {
        let live = match self.session_of(&parts.headers).await {
            Ok(l) => l,
            Err(resp) => return resp,
        };
        if let Some(refused) = self.admit(&live, http::Method::DELETE, &parts.headers, parts.extensions).await {
            return refused;
        }
        self.sessions.close(&live.id).await;
        self.events.remove_session(&live.id);
        empty_response(StatusCode::OK)
    }
}
