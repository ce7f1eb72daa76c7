//! Resumable SSE: event ids and the [`EventStore`] that replays what a
//! client missed after its stream dropped.
//!
//! An event id is `<stream>.<seq>`: the stream's number within its session
//! (0 is the session's standalone GET stream, 1.. are POST response
//! streams) and the event's position on that stream. A client that
//! reconnects with `Last-Event-ID: 3.7` gets stream 3's events after the
//! seventh, then the stream carries on where it left off.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// Where an event sits: its stream within the session and its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventId {
    /// The stream's number within its session (0 is the GET stream).
    pub stream: u64,
    /// The event's position on its stream, from 1 (0 is the priming event).
    pub seq: u64,
}

impl EventId {
    /// Parses a `Last-Event-ID` value; `None` if it is not one of ours.
    pub fn parse(s: &str) -> Option<Self> {
        let (stream, seq) = s.trim().split_once('.')?;
        Some(Self { stream: stream.parse().ok()?, seq: seq.parse().ok()? })
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.stream, self.seq)
    }
}

/// Keeps sent SSE events so that a reconnecting client can replay them.
///
/// Implementations must be bounded: a store that grows with traffic is a
/// memory leak under load. Methods are synchronous (unlike
/// [`SessionStore`](super::SessionStore)'s) because they sit on the
/// streaming path: `append` runs as the response body is polled, where
/// nothing can be awaited. A shared backend should buffer writes itself.
///
/// ```
/// use std::sync::Arc;
///
/// use mcp_core::transport::http::{EventId, EventStore};
///
/// /// Keeps nothing: clients that reconnect miss what was sent meanwhile.
/// #[derive(Debug)]
/// struct NoReplay;
///
/// impl EventStore for NoReplay {
///     fn append(&self, _session: &str, _id: EventId, _data: Arc<str>) {}
///
///     fn replay(&self, _session: &str, _after: EventId) -> Vec<(EventId, Arc<str>)> {
///         Vec::new()
///     }
///
///     fn remove_session(&self, _session: &str) {}
/// }
/// # assert!(NoReplay.replay("s", EventId { stream: 1, seq: 0 }).is_empty());
/// ```
pub trait EventStore: Send + Sync + fmt::Debug + 'static {
    /// Records an event that was sent on `session`'s stream.
    fn append(&self, session: &str, id: EventId, data: Arc<str>);
    /// The events of `after.stream` after `after.seq`, oldest first. Events
    /// the store has already dropped are simply missing.
    fn replay(&self, session: &str, after: EventId) -> Vec<(EventId, Arc<str>)>;
    /// Forgets a session's events (it ended).
    fn remove_session(&self, session: &str);
}

/// The default [`EventStore`]: in memory, at most `events_per_stream` events
/// per stream, `max_streams` streams and `max_bytes` of event data in all
/// (the oldest streams are forgotten first).
#[derive(Debug)]
pub struct InMemoryEventStore {
    events_per_stream: usize,
    max_streams: usize,
    max_bytes: usize,
    inner: Mutex<Streams>,
}

/// A stream: its session and its number.
type StreamKey = (Arc<str>, u64);

#[derive(Debug, Default)]
struct Streams {
    by_key: HashMap<StreamKey, VecDeque<(u64, Arc<str>)>>,
    order: VecDeque<StreamKey>,
    bytes: usize,
}

impl Streams {
    fn forget_oldest(&mut self) {
        if let Some(old) = self.order.pop_front()
            && let Some(events) = self.by_key.remove(&old)
        {
            self.bytes -= events.iter().map(|(_, d)| d.len()).sum::<usize>();
        }
    }
}

impl InMemoryEventStore {
    /// A store keeping `events_per_stream` events on each of at most
    /// `max_streams` streams, and at most `max_bytes` of event data.
    pub fn new(events_per_stream: usize, max_streams: usize, max_bytes: usize) -> Self {
        Self {
            events_per_stream: events_per_stream.max(1),
            max_streams: max_streams.max(1),
            max_bytes,
            inner: Mutex::default(),
        }
    }
}

impl Default for InMemoryEventStore {
    /// 64 events per stream, 4096 streams, 32 MiB.
    fn default() -> Self {
        Self::new(64, 4096, 32 * 1024 * 1024)
    }
}

impl EventStore for InMemoryEventStore {
    fn append(&self, session: &str, id: EventId, data: Arc<str>) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (Arc::<str>::from(session), id.stream);
        if data.len() > self.max_bytes {
            return;
        }
        if !inner.by_key.contains_key(&key) {
            while inner.order.len() >= self.max_streams {
                inner.forget_oldest();
            }
            inner.order.push_back(key.clone());
        }
        while inner.bytes + data.len() > self.max_bytes && inner.order.len() > 1 && inner.order.front() != Some(&key) {
            inner.forget_oldest();
        }
        let len = data.len();
        let events = inner.by_key.entry(key).or_default();
        let mut stream_bytes: usize = events.iter().map(|(_, d)| d.len()).sum();
        let mut freed = 0;
        while events.len() >= self.events_per_stream || (!events.is_empty() && stream_bytes + len > self.max_bytes) {
            if let Some((_, d)) = events.pop_front() {
                stream_bytes -= d.len();
                freed += d.len();
            }
        }
        events.push_back((id.seq, data));
        inner.bytes = inner.bytes + len - freed;
    }

    fn replay(&self, session: &str, after: EventId) -> Vec<(EventId, Arc<str>)> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner
            .by_key
            .get(&(Arc::<str>::from(session), after.stream))
            .map(|events| {
                events
                    .iter()
                    .filter(|(seq, _)| *seq > after.seq)
                    .map(|(seq, data)| (EventId { stream: after.stream, seq: *seq }, Arc::clone(data)))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn remove_session(&self, session: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.order.retain(|(s, _)| &**s != session);
        let mut freed = 0;
        inner.by_key.retain(|(s, _), events| {
            let keep = &**s != session;
            if !keep {
                freed += events.iter().map(|(_, d)| d.len()).sum::<usize>();
            }
            keep
        });
        inner.bytes -= freed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_only_later_events_and_stays_bounded() {
        let store = InMemoryEventStore::new(2, 2, 1 << 20);
        for seq in 1..=3 {
            store.append("s", EventId { stream: 1, seq }, Arc::from(format!("e{seq}")));
        }
        let got: Vec<_> = store.replay("s", EventId { stream: 1, seq: 0 }).into_iter().map(|(_, d)| d).collect();
        assert_eq!(got, vec![Arc::from("e2"), Arc::from("e3")], "the oldest event was dropped");
        assert_eq!(store.replay("s", EventId { stream: 1, seq: 2 }).len(), 1);
        store.append("s", EventId { stream: 2, seq: 1 }, Arc::from("x"));
        store.append("t", EventId { stream: 1, seq: 1 }, Arc::from("y"));
        assert!(store.replay("s", EventId { stream: 1, seq: 0 }).is_empty(), "the oldest stream was forgotten");
        store.remove_session("t");
        assert!(store.replay("t", EventId { stream: 1, seq: 0 }).is_empty());
    }

    #[test]
    fn the_byte_budget_forgets_old_streams() {
        let store = InMemoryEventStore::new(64, 100, 10);
        store.append("s", EventId { stream: 1, seq: 1 }, Arc::from("123456"));
        store.append("s", EventId { stream: 2, seq: 1 }, Arc::from("abcdef"));
        assert!(store.replay("s", EventId { stream: 1, seq: 0 }).is_empty(), "stream 1 made room");
        assert_eq!(store.replay("s", EventId { stream: 2, seq: 0 }).len(), 1);
        store.append("s", EventId { stream: 2, seq: 2 }, Arc::from("ghijkl"));
        let kept: Vec<_> = store.replay("s", EventId { stream: 2, seq: 0 }).into_iter().map(|(id, _)| id.seq).collect();
        assert_eq!(kept, vec![2], "within one stream, older events make room");
        store.append("s", EventId { stream: 3, seq: 1 }, Arc::from("x".repeat(11)));
        assert!(store.replay("s", EventId { stream: 3, seq: 0 }).is_empty(), "larger than the budget: not kept");
    }

    #[test]
    fn event_ids_round_trip() {
        let id = EventId { stream: 3, seq: 7 };
        assert_eq!(EventId::parse(&id.to_string()), Some(id));
        assert_eq!(EventId::parse("nonsense"), None);
    }
}
