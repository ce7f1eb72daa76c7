//! POST: one JSON-RPC message (or, in a 2025-03-26 session, a batch) in;
//! `202`, a JSON response, or an SSE stream out.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::FutureExt as _;
use futures_util::future::Either;
use http::{HeaderValue, StatusCode, header};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};

use super::body::HttpBody;
use super::guard::{Accepts, Seen, json_content_type};
use super::sessions::{LiveSession, OpenError};
use super::{
    BodyError, BoxError, Inner, SESSION_NOT_FOUND, SessionMode, answered, auth_challenge, empty_response,
    error_response, json_response, rate_limit_headers, status_for,
};
use crate::jsonrpc::{ErrorCode, Incoming, Message, RequestId};
use crate::protocol::{ProtocolVersion, methods};
use crate::server::headers::names;
use crate::server::{BoxFuture, CheckMcpHeaders, McpService, ServerRequest, Sink, call, handle_frame};

/// The era a POST is served in.
enum Route {
    Stateless,
    Session(String),
    NewSession,
    MissingSession,
    /// A legacy request (or `initialize` with [`SessionMode::Disabled`])
    /// served without a session, in this version unless its `_meta` says
    /// 2026-07-28.
    Sessionless(ProtocolVersion),
}

/// A fresh session id: 128 random bits, hex (visible ASCII).
fn new_session_id() -> Option<Arc<str>> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    let mut id = String::with_capacity(32);
    for b in bytes {
        id.push_str(&format!("{b:02x}"));
    }
    Some(Arc::from(id))
}

/// A client-chosen session id is usable when it is 1-128 visible ASCII
/// characters.
fn valid_session_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

fn is_initialize(incoming: &Incoming) -> bool {
    matches!(incoming, Incoming::Single(Message::Request(r)) if r.method == methods::INITIALIZE)
}

/// The `MCP-Protocol-Version` and `Mcp-Session-Id` headers a POST is routed
/// by, kept past the point where the header map moves into the request's
/// extensions.
struct RoutingHeaders {
    version: Option<HeaderValue>,
    session_id: Option<HeaderValue>,
}

/// A `Content-Length` header's value, when it is a number.
pub(super) fn declared_length(content_length: Option<&HeaderValue>) -> Option<u64> {
    content_length.and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
}

/// Reads a body of at most `max` bytes; `declared` is its `Content-Length`.
pub(super) async fn read_limited<B>(max: usize, declared: Option<u64>, body: B) -> Result<Bytes, BodyError>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    if declared.is_some_and(|n| n > max as u64) {
        return Err(BodyError::TooLarge(max));
    }
    let refused = |e: BoxError| match e.downcast_ref::<LengthLimitError>() {
        Some(_) => BodyError::TooLarge(max),
        None => BodyError::Unreadable(format!("could not read the request body: {e}")),
    };
    // A body in one frame, the usual case, is handed on as it came: no
    // buffer list, no copy. More frames are joined into one buffer.
    let mut body = std::pin::pin!(Limited::new(body, max));
    let mut first: Option<Bytes> = None;
    let mut joined: Option<Vec<u8>> = None;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(refused)?.into_data() else { continue };
        match (&mut joined, first.take()) {
            (Some(buf), _) => buf.extend_from_slice(&data),
            (None, Some(head)) => {
                let hint = declared.and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
                let mut buf = Vec::with_capacity(hint.max(head.len() + data.len()));
                buf.extend_from_slice(&head);
                buf.extend_from_slice(&data);
                joined = Some(buf);
            }
            (None, None) => first = Some(data),
        }
    }
    Ok(joined.map_or_else(|| first.unwrap_or_default(), Bytes::from))
}

/// A header's text, trimmed; U+FFFD when it is not visible ASCII.
fn header_text(value: &HeaderValue) -> &str {
    // `to_str` admits visible ASCII only, so an ASCII trim is the whole trim.
    value.to_str().map_or("\u{fffd}", str::trim_ascii)
}

impl<S> Inner<S>
where
    S: McpService,
{
    /// Not an `async fn`, for the reason [`Self::respond`] gives: the
    /// header checks run here, and the future keeps only what the rest
    /// reads.
    pub(super) fn post<B>(
        self: Arc<Self>,
        req: http::Request<B>,
    ) -> impl Future<Output = http::Response<HttpBody>> + Send + 'static
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = req.into_parts();
        let seen = Seen::scan(&parts.headers);
        if let Some(refused) = self.refuse_host(&seen, &parts.uri) {
            return Either::Left(std::future::ready(refused));
        }
        if !json_content_type(seen.content_type) {
            return Either::Left(std::future::ready(error_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                ErrorCode::INVALID_REQUEST,
                "unsupported media type: send the JSON-RPC message as `Content-Type: application/json`".into(),
            )));
        }
        let accepts = seen.accepts(&parts.headers);
        if !accepts.json && !accepts.sse {
            return Either::Left(std::future::ready(error_response(
                StatusCode::NOT_ACCEPTABLE,
                None,
                ErrorCode::INVALID_REQUEST,
                "not acceptable: `Accept` must admit application/json or text/event-stream".into(),
            )));
        }
        let declared = declared_length(seen.content_length);
        // What routing reads from the headers, owned: the map itself moves
        // into the extensions.
        let headers = RoutingHeaders {
            version: seen.protocol_version.cloned(),
            session_id: match self.options.sessions {
                SessionMode::Disabled => None,
                _ => seen.session_id.cloned(),
            },
        };
        let http::request::Parts { headers: map, mut extensions, .. } = parts;
        // Layers and handlers read the request's headers from here.
        extensions.insert(map);
        let read = read_limited(self.options.max_body_bytes, declared, body);
        // A combinator, not an async block: the body's future and the
        // answer's take turns in one place instead of sitting side by side.
        Either::Right(read.then(move |read| self.after_read(read, extensions, headers, accepts)))
    }

    /// The rest of a POST once its body is read: the era, then the answer.
    /// Not an `async fn` (see [`Self::respond`]); the session paths, which
    /// look the session up first, are boxed.
    fn after_read(
        self: Arc<Self>,
        read: Result<Bytes, BodyError>,
        mut extensions: http::Extensions,
        headers: RoutingHeaders,
        accepts: Accepts,
    ) -> Either<impl Future<Output = http::Response<HttpBody>> + Send + 'static, BoxFuture<http::Response<HttpBody>>>
    {
        let bytes = match read {
            Ok(b) => b,
            Err(BodyError::TooLarge(max)) => {
                return Either::Right(answered(error_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    None,
                    ErrorCode::INVALID_REQUEST,
                    format!("payload too large: the request body exceeds the {max}-byte limit"),
                )));
            }
            Err(BodyError::Unreadable(why)) => {
                return Either::Right(answered(error_response(
                    StatusCode::BAD_REQUEST,
                    None,
                    ErrorCode::PARSE_ERROR,
                    format!("parse error: {why}"),
                )));
            }
        };
        let incoming = match Incoming::parse(&bytes) {
            Ok(i) => i,
            Err(e) => {
                let mut buf = Vec::new();
                e.into_response().write_to(&mut buf);
                return Either::Right(answered(json_response(StatusCode::BAD_REQUEST, buf)));
            }
        };
        let header_version = headers.version.as_ref().map(header_text);
        // A legacy version named in the header; `Some(Err)` for a 2026-07-28
        // or unknown one, which the stateless era serves or words.
        let legacy_header = header_version.map(|v| ProtocolVersion::from_wire(v).ok().filter(|v| !v.is_stateless()));
        let mode = self.options.sessions;
        let session_id = headers.session_id.as_ref().map(header_text);
        let route = match (legacy_header, session_id) {
            (Some(None), _) => Route::Stateless,
            (_, Some(id)) => Route::Session(id.to_owned()),
            _ if mode != SessionMode::Disabled && is_initialize(&incoming) => Route::NewSession,
            (Some(Some(_)), None) if mode == SessionMode::Required => Route::MissingSession,
            (Some(Some(v)), None) => Route::Sessionless(v),
            (None, None) if mode == SessionMode::Required => Route::Stateless,
            // No header at all: 2025-03-26, as the specification says.
            (None, None) => Route::Sessionless(ProtocolVersion::V2025_03_26),
        };
        match route {
            Route::Stateless => {
                extensions.insert(CheckMcpHeaders);
                Either::Left(self.stateless(incoming, extensions, accepts, None))
            }
            // `Mcp-*` headers are read only if the body turns out to be a
            // 2026-07-28 request (`respond`).
            Route::Sessionless(version) => Either::Left(self.stateless(incoming, extensions, accepts, Some(version))),
            Route::MissingSession => Either::Right(answered(error_response(
                StatusCode::BAD_REQUEST,
                request_id(&incoming),
                ErrorCode::INVALID_REQUEST,
                "bad request: missing `Mcp-Session-Id` header; send `initialize` first and echo the id it returns"
                    .into(),
            ))),
            Route::NewSession => Either::Right(Box::pin(self.initialize(incoming, extensions, None))),
            Route::Session(id) => {
                Either::Right(Box::pin(self.session_post(id, headers.version, incoming, bytes, extensions, accepts)))
            }
        }
    }

    /// A POST naming a session: finds it, checks the version header
    /// against the negotiated one, and answers in it.
    async fn session_post(
        self: Arc<Self>,
        id: String,
        version: Option<HeaderValue>,
        incoming: Incoming,
        bytes: Bytes,
        extensions: http::Extensions,
        accepts: Accepts,
    ) -> http::Response<HttpBody> {
        let live = match self.sessions.get(&id).await {
            Ok(Some(live)) => live,
            Ok(None) if self.options.accept_client_session_ids && is_initialize(&incoming) && valid_session_id(&id) => {
                return self.initialize(incoming, extensions, Some(Arc::from(id))).await;
            }
            Ok(None) => {
                return error_response(
                    StatusCode::NOT_FOUND,
                    request_id(&incoming),
                    SESSION_NOT_FOUND,
                    format!("session not found: `{id}` is unknown or expired; send `initialize` again"),
                );
            }
            Err(e) => {
                tracing::warn!(error = %e, "session store failed");
                return error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    request_id(&incoming),
                    ErrorCode::INTERNAL_ERROR,
                    "internal error: the session store is unavailable; retry later".into(),
                );
            }
        };
        if let (Some(sent), Some(negotiated)) = (version.as_ref().map(header_text), live.session.version())
            && sent != negotiated.as_str()
        {
            return error_response(
                StatusCode::BAD_REQUEST,
                request_id(&incoming),
                ErrorCode::INVALID_REQUEST,
                format!(
                    "bad request: `MCP-Protocol-Version` header is {sent:?} but this session negotiated {negotiated}"
                ),
            );
        }
        self.in_session(live, incoming, &bytes, extensions, accepts).await
    }

    /// A message served without a session: stateless (2026-07-28), or, with
    /// `sessionless` set, a legacy one in that version.
    /// Not an `async fn`, for the reason [`Self::respond`] gives.
    fn stateless(
        self: Arc<Self>,
        incoming: Incoming,
        extensions: http::Extensions,
        accepts: Accepts,
        sessionless: Option<ProtocolVersion>,
    ) -> impl Future<Output = http::Response<HttpBody>> + Send + 'static {
        let message = match incoming {
            Incoming::Single(m) => m,
            Incoming::Batch(_) => {
                let why = match sessionless {
                    None => "JSON-RPC batches are not accepted in protocol version 2026-07-28",
                    Some(_) => "JSON-RPC batches need a session (protocol version 2025-03-26, after `initialize`)",
                };
                return Either::Right(Either::Left(std::future::ready(error_response(
                    StatusCode::BAD_REQUEST,
                    None,
                    ErrorCode::INVALID_REQUEST,
                    format!("invalid request: {why}"),
                ))));
            }
        };
        match message {
            Message::Request(r) => Either::Left(self.respond(r, None, sessionless, extensions, accepts)),
            other => {
                let mut req = match sessionless {
                    Some(v) => ServerRequest::sessionless(other, v, Sink::none()),
                    None => ServerRequest::new(other, None, Sink::none()),
                };
                req.extensions = extensions;
                let called = call(self.service.clone(), req);
                Either::Right(Either::Right(called.map(move |resp| self.accepted_or_refused(resp))))
            }
        }
    }

    /// `initialize`: opens a session and answers with its id.
    async fn initialize(
        self: Arc<Self>,
        incoming: Incoming,
        extensions: http::Extensions,
        id: Option<Arc<str>>,
    ) -> http::Response<HttpBody> {
        let Incoming::Single(message) = incoming else { return empty_response(StatusCode::BAD_REQUEST) };
        let request_id = match &message {
            Message::Request(r) => Some(r.id.clone()),
            _ => None,
        };
        let Some(id) = id.or_else(new_session_id) else {
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                request_id,
                ErrorCode::INTERNAL_ERROR,
                "internal error: no randomness for a session id".into(),
            );
        };
        let live = match self.sessions.open(Arc::clone(&id)) {
            Ok(live) => live,
            Err(OpenError::Full) => {
                let mut resp = error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    request_id,
                    ErrorCode::INTERNAL_ERROR,
                    format!("server busy: {} sessions are open (the limit); retry later", self.sessions.max),
                );
                resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                return resp;
            }
        };
        let mut req = ServerRequest::new(message, Some(Arc::clone(&live.session)), Sink::none());
        req.extensions = extensions;
        let resp = call(self.service.clone(), req).await;
        let Some(resp) = resp else { return empty_response(StatusCode::ACCEPTED) };
        if resp.payload.is_err() {
            self.sessions.close(&id).await;
            let mut buf = Vec::new();
            resp.write_to(&mut buf);
            let mut out = json_response(status_for(&resp), buf);
            rate_limit_headers(&resp, out.headers_mut());
            auth_challenge(&resp, &mut out);
            return out;
        }
        self.sessions.save(&live, true).await;
        let mut buf = Vec::new();
        resp.write_to(&mut buf);
        let mut out = json_response(StatusCode::OK, buf);
        if let Ok(v) = HeaderValue::from_str(&id) {
            out.headers_mut().insert(names::SESSION_ID, v);
        }
        out
    }

    /// A POST in an existing legacy session.
    async fn in_session(
        self: Arc<Self>,
        live: Arc<LiveSession>,
        incoming: Incoming,
        bytes: &[u8],
        extensions: http::Extensions,
        accepts: Accepts,
    ) -> http::Response<HttpBody> {
        match incoming {
            Incoming::Batch(_) => {
                let out =
                    handle_frame(self.service.clone(), bytes, Some(&live.session), &Sink::none(), &extensions).await;
                self.sessions.save(&live, true).await;
                match out {
                    Some(body) => json_response(StatusCode::OK, body),
                    None => empty_response(StatusCode::ACCEPTED),
                }
            }
            Incoming::Single(Message::Request(r)) => self.respond(r, Some(live), None, extensions, accepts).await,
            Incoming::Single(other) => {
                let mut req = ServerRequest::new(other, Some(Arc::clone(&live.session)), Sink::none());
                req.extensions = extensions;
                let resp = call(self.service.clone(), req).await;
                self.sessions.save(&live, live.session.take_changed()).await;
                self.accepted_or_refused(resp)
            }
        }
    }
}

fn request_id(incoming: &Incoming) -> Option<RequestId> {
    match incoming {
        Incoming::Single(Message::Request(r)) => Some(r.id.clone()),
        _ => None,
    }
}
