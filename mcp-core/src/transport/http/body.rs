//! Response bodies: a whole JSON document, or an SSE stream that carries a
//! request's notifications and then its response.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::events::{EventId, EventStore};
use crate::jsonrpc::Response;
use crate::server::BoxFuture;

/// The body of every response the HTTP transport sends.
pub struct HttpBody(Kind);

enum Kind {
    Full(Option<Bytes>),
    Sse(Box<SseBody>),
}

impl fmt::Debug for HttpBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Full(b) => f.debug_tuple("HttpBody::Full").field(&b.as_ref().map_or(0, Bytes::len)).finish(),
            Kind::Sse(_) => f.write_str("HttpBody::Sse"),
        }
    }
}

impl HttpBody {
    /// A body holding these bytes.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Self(Kind::Full(Some(bytes.into())))
    }

    /// An empty body.
    pub fn empty() -> Self {
        Self(Kind::Full(None))
    }

    pub(super) fn sse(body: SseBody) -> Self {
        Self(Kind::Sse(Box::new(body)))
    }
}

impl Body for HttpBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut self.0 {
            Kind::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Kind::Sse(s) => s.poll_next(cx).map(|b| b.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Kind::Full(b) => b.is_none(),
            Kind::Sse(s) => s.pending.is_empty() && s.live.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Kind::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Sse(_) => SizeHint::default(),
        }
    }
}

/// Where a stream's events go to be replayed later, and the session they
/// belong to. Without it (stateless requests) events carry no ids.
#[derive(Clone)]
pub(super) struct Replay {
    pub(super) store: Arc<dyn EventStore>,
    pub(super) session: Arc<str>,
}

/// The live part of a stream: what feeds it and, for a request's stream,
/// the response that ends it. It outlives a dropped connection in the
/// legacy era (the session keeps it until the client resumes).
pub(super) struct LiveStream {
    pub(super) stream: u64,
    pub(super) next_seq: u64,
    pub(super) rx: mpsc::Receiver<String>,
    pub(super) reply: Option<BoxFuture<Option<Response>>>,
    pub(super) replay: Option<Replay>,
}

impl LiveStream {
    /// Encodes one message as an SSE event, recording it for replay.
    fn event(&mut self, json: String) -> Bytes {
        match &self.replay {
            None => sse_event(None, &json),
            Some(r) => {
                let id = EventId { stream: self.stream, seq: self.next_seq };
                self.next_seq += 1;
                let json: Arc<str> = Arc::from(json);
                let out = sse_event(Some(id), &json);
                r.store.append(&r.session, id, json);
                out
            }
        }
    }
}

/// What happens to a stream's live part when the client goes away before
/// it ended.
pub(super) enum OnDrop {
    /// Cancel the request (stateless era: closing the stream cancels).
    Cancel(CancellationToken),
    /// Keep it for a resuming client (legacy era). Called with `None` when
    /// the stream ended normally.
    Detach(Box<dyn FnOnce(Option<LiveStream>) + Send>),
}

/// An SSE response body.
pub(super) struct SseBody {
    pending: VecDeque<Bytes>,
    live: Option<LiveStream>,
    keepalive: Option<Pin<Box<tokio::time::Interval>>>,
    on_drop: Option<OnDrop>,
    /// Ends the stream early, keeping its live part for whoever takes it
    /// over (a resuming client, or nobody when the session closes).
    stop: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    /// Held for as long as the body lives (an activity guard, say).
    _guard: Option<Box<dyn Send>>,
}

pub(super) fn sse_event(id: Option<EventId>, json: &str) -> Bytes {
    let mut out = String::with_capacity(json.len() + 32);
    if let Some(id) = id {
        out.push_str("id: ");
        out.push_str(&id.to_string());
        out.push('\n');
    }
    out.push_str("event: message\n");
    // Compact JSON has no raw newlines; split anyway so a stray one cannot
    // end the event early.
    for line in json.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

impl SseBody {
    pub(super) fn new(live: LiveStream, keepalive: Option<Duration>) -> Self {
        // Absurd intervals (a day or more) mean "never".
        let keepalive = keepalive.filter(|d| *d < Duration::from_secs(86_400) && !d.is_zero()).map(|d| {
            let mut i = tokio::time::interval_at(tokio::time::Instant::now() + d, d);
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            Box::pin(i)
        });
        Self { pending: VecDeque::new(), live: Some(live), keepalive, on_drop: None, stop: None, _guard: None }
    }

    /// Ends the stream when `token` fires.
    pub(super) fn stop_on(mut self, token: CancellationToken) -> Self {
        self.stop = Some(Box::pin(token.cancelled_owned()));
        self
    }

    /// A stream with nothing live behind it: it sends what is pushed, then
    /// ends.
    pub(super) fn finished() -> Self {
        Self { pending: VecDeque::new(), live: None, keepalive: None, on_drop: None, stop: None, _guard: None }
    }

    /// Sends this first (a priming event, replayed events).
    pub(super) fn push(&mut self, frame: Bytes) {
        self.pending.push_back(frame);
    }

    /// A priming event: the id a client resumes from, with no data, and the
    /// reconnection delay.
    pub(super) fn prime(&mut self, retry: Duration) {
        if let Some(live) = &self.live {
            let id = EventId { stream: live.stream, seq: live.next_seq.saturating_sub(1) };
            self.pending.push_back(Bytes::from(format!("id: {id}\nretry: {}\ndata: \n\n", retry.as_millis())));
        }
    }

    pub(super) fn on_drop(mut self, on_drop: OnDrop) -> Self {
        self.on_drop = Some(on_drop);
        self
    }

    pub(super) fn guard(mut self, guard: Box<dyn Send>) -> Self {
        self._guard = Some(guard);
        self
    }

    /// Queues a message (one that arrived before the body existed).
    pub(super) fn queue_message(&mut self, json: String) {
        if let Some(live) = &mut self.live {
            let frame = live.event(json);
            self.pending.push_back(frame);
        }
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        loop {
            if let Some(frame) = self.pending.pop_front() {
                return Poll::Ready(Some(frame));
            }
            if let Some(stop) = &mut self.stop
                && stop.as_mut().poll(cx).is_ready()
            {
                // Taken over or shut down: end this response; Drop hands the
                // live part back to the session.
                return Poll::Ready(None);
            }
            let Some(live) = &mut self.live else { return Poll::Ready(None) };
            match live.rx.poll_recv(cx) {
                Poll::Ready(Some(json)) => {
                    let frame = live.event(json);
                    return Poll::Ready(Some(frame));
                }
                Poll::Ready(None) if live.reply.is_none() => {
                    // The feed closed (the session ended): so does the stream.
                    self.live = None;
                    return Poll::Ready(None);
                }
                Poll::Ready(None) | Poll::Pending => {}
            }
            if let Some(reply) = &mut live.reply
                && let Poll::Ready(resp) = reply.as_mut().poll(cx)
            {
                live.reply = None;
                // Whatever the handler sent before it finished goes first.
                while let Ok(json) = live.rx.try_recv() {
                    let frame = live.event(json);
                    self.pending.push_back(frame);
                }
                if let Some(resp) = resp {
                    let mut buf = Vec::with_capacity(128);
                    resp.write_to(&mut buf);
                    let frame = live.event(String::from_utf8(buf).unwrap_or_default());
                    self.pending.push_back(frame);
                }
                self.live = None;
                continue;
            }
            if let Some(k) = &mut self.keepalive
                && k.as_mut().poll_tick(cx).is_ready()
            {
                return Poll::Ready(Some(Bytes::from_static(b": keepalive\n\n")));
            }
            return Poll::Pending;
        }
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        let live = self.live.take();
        match self.on_drop.take() {
            Some(OnDrop::Cancel(token)) if live.is_some() => token.cancel(),
            Some(OnDrop::Detach(detach)) => detach(live),
            Some(OnDrop::Cancel(_)) | None => {}
        }
    }
}
