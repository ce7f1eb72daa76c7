//! POST: one JSON-RPC message (or, in a 2025-03-26 session, a batch) in;
//! `202`, a JSON response, or an SSE stream out.

use std::future::Future;
use std::sync::{Arc, Weak};

use bytes::Bytes;
use futures_util::FutureExt as _;
use futures_util::future::Either;
use http::{HeaderValue, StatusCode, header};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::body::{HttpBody, LiveStream, OnDrop, Replay, SseBody};
use super::guard::{Accepts, Seen, json_content_type};
use super::sessions::{LiveSession, OpenError};
use super::{
    BodyError, BoxError, Inner, SESSION_NOT_FOUND, SessionMode, auth_challenge, empty_response, error_response,
    json_response, rate_limit_headers, status_for,
};
use crate::jsonrpc::{ErrorCode, ErrorObject, Incoming, Message, Request, RequestId, Response};
use crate::protocol::{ProtocolVersion, methods};
use crate::server::headers::names;
use crate::server::signal::AuthChallenge;
use crate::server::{BoxFuture, CheckMcpHeaders, Era, McpService, ServerRequest, Sink, call, handle_frame};

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
    match Limited::new(body, max).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError::TooLarge(max)),
        Err(e) => Err(BodyError::Unreadable(format!("could not read the request body: {e}"))),
    }
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
        let ready = |resp| -> BoxFuture<http::Response<HttpBody>> { Box::pin(std::future::ready(resp)) };
        let bytes = match read {
            Ok(b) => b,
            Err(BodyError::TooLarge(max)) => {
                return Either::Right(ready(error_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    None,
                    ErrorCode::INVALID_REQUEST,
                    format!("payload too large: the request body exceeds the {max}-byte limit"),
                )));
            }
            Err(BodyError::Unreadable(why)) => {
                return Either::Right(ready(error_response(
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
                return Either::Right(ready(json_response(StatusCode::BAD_REQUEST, buf)));
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
            Route::MissingSession => Either::Right(ready(error_response(
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

    /// Runs a request and answers with JSON, or with an SSE stream as soon
    /// as the handler sends anything before its response. Without a session
    /// `sessionless` is the version a legacy request is served in.
    ///
    /// Not an `async fn`: the set-up runs here, and the future returned
    /// keeps only what answering needs. (An async function's future keeps
    /// its arguments beside what it awaits, and every future around this
    /// one is moved whole when made, and boxed once per request.)
    fn respond(
        self: Arc<Self>,
        request: Request,
        live: Option<Arc<LiveSession>>,
        sessionless: Option<ProtocolVersion>,
        extensions: http::Extensions,
        accepts: Accepts,
    ) -> impl Future<Output = http::Response<HttpBody>> + Send + 'static {
        let id = request.id.clone();
        // The channel is made only if the handler sends something before
        // its response: most requests are answered with plain JSON.
        let (sink, lazy) = if accepts.sse {
            let (sink, lazy) = Sink::lazy(self.options.stream_queue);
            (sink, Some(lazy))
        } else {
            (Sink::none(), None)
        };
        let message = Message::Request(request);
        let mut req = match (&live, sessionless) {
            (Some(l), _) => ServerRequest::new(message, Some(Arc::clone(&l.session)), sink),
            (None, Some(v)) => ServerRequest::sessionless(message, v, sink),
            (None, None) => ServerRequest::new(message, None, sink),
        };
        // Legacy clients, in a session or not, read errors from 200s.
        let legacy = live.is_some() || req.head().sessionless;
        req.extensions = extensions;
        if sessionless.is_some() && req.head().era() == Era::Stateless {
            req.extensions.insert(CheckMcpHeaders);
        }
        // The request's own token: the transport fires it when the client
        // goes away.
        let cancel = req.cancel.clone();
        let service = self.service.clone();
        let reply: BoxFuture<Option<Response>> = match &live {
            // Stateless: the handler runs inside this response; dropping the
            // response (the client went away) cancels it.
            None => {
                // Whatever the handler spawned from its context learns of
                // the cancellation too.
                let on_drop = cancel.clone().drop_guard();
                Box::pin(call(service, req).map(move |out| {
                    on_drop.disarm();
                    out
                }))
            }
            // Legacy: the handler runs on its own, so that a dropped stream
            // can be resumed; `notifications/cancelled` stops it.
            Some(live) => {
                if !live.session.start_request(id.clone(), cancel.clone()) {
                    return Either::Left(std::future::ready(error_response(
                        StatusCode::CONFLICT,
                        Some(id.clone()),
                        ErrorCode::INVALID_REQUEST,
                        format!("invalid request: id {id} is already in use by a running request"),
                    )));
                }
                let task = run_in_session(Arc::clone(&self), Arc::clone(live), id.clone(), req);
                let handle = tokio::spawn(task);
                Box::pin(async move {
                    handle.await.unwrap_or_else(|_| {
                        Some(Response::error(
                            Some(id),
                            ErrorObject::new(ErrorCode::INTERNAL_ERROR, "internal error: the request handler failed"),
                        ))
                    })
                })
            }
        };
        Either::Right(self.answer(live, lazy, reply, legacy, accepts.json, cancel))
    }

    /// Waits for the handler and answers: JSON when it answers without
    /// sending anything first, else an SSE stream.
    async fn answer(
        self: Arc<Self>,
        live: Option<Arc<LiveSession>>,
        lazy: Option<crate::server::sink::LazyReceiver>,
        mut reply: BoxFuture<Option<Response>>,
        legacy: bool,
        json: bool,
        cancel: CancellationToken,
    ) -> http::Response<HttpBody> {
        // A connection is waiting on the session: it is busy.
        let _busy = live.as_ref().map(LiveSession::activity);
        let (rx, first) = match (&lazy, json) {
            (Some(lazy), true) => {
                tokio::select! {
                    biased;
                    mut rx = lazy.opened() => {
                        // The first message is in already: the handler
                        // opened the channel to send it.
                        let first = rx.try_recv().ok();
                        (rx, first)
                    }
                    resp = &mut reply => match lazy.take_or_close() {
                        // The handler sent something and finished in the same
                        // turn: the messages go first, on a stream.
                        Some(mut rx) => match rx.try_recv() {
                            Ok(first) => {
                                reply = Box::pin(std::future::ready(resp));
                                (rx, Some(first))
                            }
                            Err(_) => return self.json_reply(resp, legacy),
                        },
                        None => return self.json_reply(resp, legacy),
                    },
                    // A long call: stream, so that keepalives (and, in a
                    // session, the priming event) keep the connection useful.
                    // (Built on first poll: a handler that answers at once
                    // never reads the clock or touches the timer.)
                    () = async { tokio::time::sleep(self.options.json_wait).await } => match lazy.open_now() {
                        Some(rx) => (rx, None),
                        None => return self.json_reply(reply.await, legacy),
                    },
                }
            }
            (Some(lazy), false) => {
                // A client that takes only a stream still gets an auth
                // layer's refusal as a real 401/403 (its OAuth flow starts
                // from the status), when the refusal comes at once.
                match (&mut reply).now_or_never() {
                    Some(resp) => {
                        let rx = lazy.take_or_close();
                        if resp.as_ref().is_some_and(|r| r.extensions.get::<AuthChallenge>().is_some())
                            && rx.as_ref().is_none_or(mpsc::Receiver::is_empty)
                        {
                            return self.json_reply(resp, legacy);
                        }
                        reply = Box::pin(std::future::ready(resp));
                        // Finished without sending: a closed channel, so that
                        // the stream goes straight to the response.
                        (rx.unwrap_or_else(|| mpsc::channel(1).1), None)
                    }
                    None => (lazy.open_now().unwrap_or_else(|| mpsc::channel(1).1), None),
                }
            }
            (None, _) => return self.json_reply(reply.await, legacy),
        };
        self.sse_reply(live, rx, reply, first, cancel)
    }

    /// The answer to a notification or a client's response: 202, unless a
    /// layer refused it (an auth layer's 401/403, a rate limiter's 429),
    /// whose error then comes with its own status and headers.
    fn accepted_or_refused(&self, resp: Option<Response>) -> http::Response<HttpBody> {
        self.json_reply(resp, false)
    }

    fn json_reply(&self, resp: Option<Response>, legacy: bool) -> http::Response<HttpBody> {
        let Some(resp) = resp else { return empty_response(StatusCode::ACCEPTED) };
        let status = match status_for(&resp) {
            // Legacy clients read JSON-RPC errors from 200 responses only:
            // the official Python SDK (2.x) replaces the body of any other
            // status with a generic -32603, which would hide a rate
            // limiter's -31029 and `retryAfterMs`. The `Retry-After` and
            // `RateLimit-*` headers are still sent.
            _ if legacy => StatusCode::OK,
            s => s,
        };
        let mut out = json_response(status, resp.to_exact_vec());
        rate_limit_headers(&resp, out.headers_mut());
        auth_challenge(&resp, &mut out);
        out
    }

    fn sse_reply(
        &self,
        live: Option<Arc<LiveSession>>,
        rx: mpsc::Receiver<String>,
        reply: BoxFuture<Option<Response>>,
        first: Option<String>,
        cancel: CancellationToken,
    ) -> http::Response<HttpBody> {
        let stream_no = live.as_ref().map_or(0, |l| l.next_stream());
        let stream = LiveStream {
            stream: stream_no,
            next_seq: 1,
            rx,
            reply: Some(reply),
            replay: live.as_ref().map(|l| Replay { store: Arc::clone(&self.events), session: Arc::clone(&l.id) }),
        };
        let mut body = SseBody::new(stream, self.options.sse_keepalive);
        match &live {
            None => body = body.on_drop(OnDrop::Cancel(cancel)),
            Some(l) => {
                if l.session.version().is_some_and(ProtocolVersion::has_sse_priming) {
                    body.prime(self.options.sse_retry);
                }
                body =
                    body.on_drop(detach_into(l, stream_no)).stop_on(l.attach(stream_no)).guard(Box::new(l.activity()));
            }
        }
        if let Some(first) = first {
            body.queue_message(first);
        }
        sse_response(body)
    }
}

/// A request's handler in a legacy session, on its own task.
async fn run_in_session<S>(
    inner: Arc<Inner<S>>,
    live: Arc<LiveSession>,
    id: RequestId,
    req: ServerRequest,
) -> Option<Response>
where
    S: McpService,
{
    struct Finish<'a>(&'a LiveSession, &'a RequestId);
    impl Drop for Finish<'_> {
        fn drop(&mut self) {
            self.0.session.finish_request(self.1);
        }
    }
    let finish = Finish(&live, &id);
    let resp = call(inner.service.clone(), req).await;
    drop(finish);
    // The dispatcher marks the session changed when the request changed
    // what is saved (log level, subscriptions).
    inner.sessions.save(&live, live.session.take_changed()).await;
    resp
}

/// Keeps a stream whose client went away in its session, for resumption.
pub(super) fn detach_into(live: &Arc<LiveSession>, stream_no: u64) -> OnDrop {
    let weak: Weak<LiveSession> = Arc::downgrade(live);
    OnDrop::Detach(Box::new(move |stream| {
        if let Some(live) = weak.upgrade() {
            live.detach(stream_no, stream);
        }
    }))
}

pub(super) fn sse_response(body: SseBody) -> http::Response<HttpBody> {
    let mut resp = http::Response::new(HttpBody::sse(body));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

fn request_id(incoming: &Incoming) -> Option<RequestId> {
    match incoming {
        Incoming::Single(Message::Request(r)) => Some(r.id.clone()),
        _ => None,
    }
}
