//! Running one request and answering it: JSON when the handler answers
//! without sending anything first, else an SSE stream (in a legacy
//! session, one that can be resumed).

use std::future::Future;
use std::sync::{Arc, Weak};

use futures_util::FutureExt as _;
use futures_util::future::Either;
use http::{HeaderValue, StatusCode, header};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::body::{HttpBody, LiveStream, OnDrop, Replay, SseBody};
use super::guard::Accepts;
use super::sessions::LiveSession;
use super::{Inner, auth_challenge, empty_response, error_response, json_response, rate_limit_headers, status_for};
use crate::jsonrpc::{ErrorCode, ErrorObject, Message, Request, RequestId, Response};
use crate::protocol::ProtocolVersion;
use crate::server::signal::AuthChallenge;
use crate::server::{BoxFuture, CheckMcpHeaders, Era, McpService, ServerRequest, Sink, call};

impl<S> Inner<S>
where
    S: McpService,
{
    /// Runs a request and answers with JSON, or with an SSE stream as soon
    /// as the handler sends anything before its response. Without a session
    /// `sessionless` is the version a legacy request is served in.
    ///
    /// Not an `async fn`: the set-up runs here, and the future returned
    /// keeps only what answering needs. (An async function's future keeps
    /// its arguments beside what it awaits, and every future around this
    /// one is moved whole when made, and boxed once per request.)
    pub(super) fn respond(
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
    pub(super) fn accepted_or_refused(&self, resp: Option<Response>) -> http::Response<HttpBody> {
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
