//! Legacy-era HTTP sessions: the [`SessionStore`] that keeps their state
//! (shareable between instances), and the live sessions of this process
//! (their streams, their running requests).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::body::LiveStream;
use crate::server::{ServerEvent, Session, SessionState, Sink};

/// A session store failed (unreachable, throttled...).
#[derive(Debug, thiserror::Error)]
#[error("session store: {message}")]
pub struct SessionStoreError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl SessionStoreError {
    /// An error with this message and cause.
    pub fn new(message: impl Into<String>, source: Option<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self { message: message.into(), source }
    }
}

/// Keeps legacy sessions' state by `Mcp-Session-Id`, so that a session
/// opened on one instance can be served by another (the Lambda adapter
/// stores it in DynamoDB). Streams and running requests stay with the
/// instance that holds them; only [`SessionState`] is shared.
///
/// Implement it with plain `async fn` under
/// [`#[async_trait]`](crate::async_trait), re-exported by `mcp-core` so that
/// no extra dependency is needed:
///
/// ```no_run
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::Duration;
///
/// use mcp_core::async_trait;
/// use mcp_core::server::SessionState;
/// use mcp_core::transport::http::{SessionStore, SessionStoreError};
///
/// /// Never expires anything: an example, not a store to deploy.
/// #[derive(Debug, Default)]
/// struct Forever(Mutex<HashMap<String, SessionState>>);
///
/// #[async_trait]
/// impl SessionStore for Forever {
///     async fn load(&self, id: &str) -> Result<Option<SessionState>, SessionStoreError> {
///         Ok(self.0.lock().expect("not poisoned").get(id).cloned())
///     }
///
///     async fn save(&self, id: &str, state: &SessionState, _ttl: Duration) -> Result<(), SessionStoreError> {
///         self.0.lock().expect("not poisoned").insert(id.to_owned(), state.clone());
///         Ok(())
///     }
///
///     async fn delete(&self, id: &str) -> Result<(), SessionStoreError> {
///         self.0.lock().expect("not poisoned").remove(id);
///         Ok(())
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait SessionStore: Send + Sync + fmt::Debug + 'static {
    /// The state saved under `id`, unless it expired or was deleted.
    async fn load(&self, id: &str) -> Result<Option<SessionState>, SessionStoreError>;
    /// Saves (creates or replaces) the state under `id`, to expire `ttl`
    /// from now unless saved again.
    async fn save(&self, id: &str, state: &SessionState, ttl: Duration) -> Result<(), SessionStoreError>;
    /// Deletes `id` (the session ended).
    async fn delete(&self, id: &str) -> Result<(), SessionStoreError>;
}

/// The default [`SessionStore`]: this process's memory, with expiry.
#[derive(Debug, Default)]
pub struct InMemorySessionStore {
    map: Mutex<HashMap<String, (SessionState, Instant)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait::async_trait]
impl SessionStore for InMemorySessionStore {
    async fn load(&self, id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        let mut map = lock(&self.map);
        let out = match map.get(id) {
            Some((_, expires)) if *expires <= Instant::now() => {
                map.remove(id);
                None
            }
            Some((state, _)) => Some(state.clone()),
            None => None,
        };
        Ok(out)
    }

    async fn save(&self, id: &str, state: &SessionState, ttl: Duration) -> Result<(), SessionStoreError> {
        let mut map = lock(&self.map);
        let now = Instant::now();
        if map.len() > 1024 && map.len().is_power_of_two() {
            // Occasional housekeeping keeps abandoned entries bounded.
            map.retain(|_, (_, expires)| *expires > now);
        }
        // A ttl too large to add means "never expires": a century will do.
        let expires = now.checked_add(ttl).or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)));
        map.insert(id.to_owned(), (state.clone(), expires.unwrap_or(now)));
        Ok(())
    }

    async fn delete(&self, id: &str) -> Result<(), SessionStoreError> {
        lock(&self.map).remove(id);
        Ok(())
    }
}

/// Request streams a session keeps for resumption after their connection
/// dropped; beyond this, the oldest is given up.
const MAX_DETACHED: usize = 16;

/// How long a dropped request stream waits for its client to resume.
const RESUME_WINDOW: Duration = Duration::from_secs(300);

/// A session this process is serving.
pub(super) struct LiveSession {
    pub(super) id: Arc<str>,
    pub(super) session: Arc<Session>,
    /// Streams nobody is reading: the GET stream until a client opens it,
    /// request streams whose connection dropped (kept for resumption).
    detached: Mutex<HashMap<u64, (LiveStream, Instant)>>,
    /// Streams a connection is reading, with the token that makes it let go.
    attached: Mutex<HashMap<u64, CancellationToken>>,
    /// Signalled whenever a stream is detached.
    returned: Notify,
    next_stream: AtomicU64,
    epoch: Instant,
    /// Milliseconds since `epoch` of the last activity.
    last_seen: AtomicU64,
    last_saved: AtomicU64,
    /// Requests and streams in progress; a busy session never expires.
    active: AtomicUsize,
    closed: AtomicBool,
    /// Fired when the session ends (or the transport shuts down): its
    /// streams end.
    closing: CancellationToken,
}

impl LiveSession {
    pub(super) fn next_stream(&self) -> u64 {
        self.next_stream.fetch_add(1, Ordering::Relaxed)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn touch(&self) {
        self.last_seen.store(self.now_ms(), Ordering::Relaxed);
    }

    /// A connection starts reading `stream`; the token tells it to stop.
    pub(super) fn attach(&self, stream: u64) -> CancellationToken {
        let token = self.closing.child_token();
        lock(&self.attached).insert(stream, token.clone());
        token
    }

    /// A connection stopped reading `stream`: keep what is left of it (if
    /// anything) for a resuming client.
    pub(super) fn detach(&self, stream_no: u64, stream: Option<LiveStream>) {
        lock(&self.attached).remove(&stream_no);
        self.touch();
        if let Some(stream) = stream
            && !self.closed.load(Ordering::Acquire)
        {
            let mut detached = lock(&self.detached);
            detached.insert(stream_no, (stream, Instant::now()));
            while detached.keys().filter(|n| **n != 0).count() > MAX_DETACHED {
                let oldest = detached.iter().filter(|(n, _)| **n != 0).min_by_key(|(_, (_, at))| *at).map(|(n, _)| *n);
                match oldest {
                    Some(n) => detached.remove(&n),
                    None => break,
                };
            }
        }
        self.returned.notify_waiters();
    }

    pub(super) fn take_stream(&self, stream: u64) -> Option<LiveStream> {
        lock(&self.detached).remove(&stream).map(|(s, _)| s)
    }

    /// Takes `stream` over from the connection still reading it (a client
    /// that reconnects before the server noticed the old connection died),
    /// waiting up to `wait` for it to let go.
    pub(super) async fn take_over(&self, stream: u64, wait: Duration) -> Option<LiveStream> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let returned = self.returned.notified();
            tokio::pin!(returned);
            returned.as_mut().enable();
            if let Some(s) = self.take_stream(stream) {
                return Some(s);
            }
            match lock(&self.attached).get(&stream) {
                Some(token) => token.cancel(),
                None => return None,
            }
            if tokio::time::timeout_at(deadline, returned).await.is_err() {
                return None;
            }
        }
    }

    /// Marks the session busy until the guard drops.
    pub(super) fn activity(self: &Arc<Self>) -> ActivityGuard {
        self.active.fetch_add(1, Ordering::AcqRel);
        ActivityGuard(Arc::clone(self))
    }

    /// Ends the session here: requests cancelled, streams ended, nothing
    /// saved any more.
    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.closing.cancel();
        self.session.close();
        lock(&self.detached).clear();
    }
}

/// Keeps a session from expiring while a request or stream is in progress.
pub(super) struct ActivityGuard(Arc<LiveSession>);

impl Drop for ActivityGuard {
    fn drop(&mut self) {
        // Idle time counts from the end of the activity, not its start.
        self.0.touch();
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The live sessions of this process, bounded in number, expiring when idle.
pub(super) struct Sessions {
    map: Mutex<HashMap<Arc<str>, Arc<LiveSession>>>,
    epoch: Instant,
    /// The parent of every session's `closing` token: fired at shutdown.
    root: CancellationToken,
    pub(super) store: Arc<dyn SessionStore>,
    pub(super) max: usize,
    pub(super) idle: Duration,
    pub(super) queue: usize,
}

/// Why a session could not be opened.
pub(super) enum OpenError {
    Full,
}

impl Sessions {
    pub(super) fn new(store: Arc<dyn SessionStore>, max: usize, idle: Duration, queue: usize) -> Self {
        Self { map: Mutex::default(), epoch: Instant::now(), root: CancellationToken::new(), store, max, idle, queue }
    }

    /// Ends every open stream (shutdown): connections can then finish.
    pub(super) fn end_streams(&self) {
        self.root.cancel();
    }

    pub(super) fn len(&self) -> usize {
        lock(&self.map).len()
    }

    fn make(&self, id: Arc<str>, state: Option<SessionState>) -> Arc<LiveSession> {
        let (outbound, rx) = Sink::channel(self.queue);
        let session = match state {
            Some(state) => Session::restore(Some(Arc::clone(&id)), outbound, state),
            None => Session::new(Some(Arc::clone(&id)), outbound),
        };
        let live = LiveSession {
            id,
            session,
            detached: Mutex::default(),
            attached: Mutex::default(),
            returned: Notify::new(),
            next_stream: AtomicU64::new(1),
            epoch: self.epoch,
            last_seen: AtomicU64::new(0),
            last_saved: AtomicU64::new(0),
            active: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            closing: self.root.child_token(),
        };
        live.touch();
        live.detach(0, Some(LiveStream { stream: 0, next_seq: 1, rx, reply: None, replay: None }));
        Arc::new(live)
    }

    /// Opens a new session under `id`.
    pub(super) fn open(&self, id: Arc<str>) -> Result<Arc<LiveSession>, OpenError> {
        let mut map = lock(&self.map);
        if map.len() >= self.max {
            return Err(OpenError::Full);
        }
        let live = self.make(Arc::clone(&id), None);
        map.insert(id, Arc::clone(&live));
        Ok(live)
    }

    /// The live session `id`, restored from the store when another
    /// instance opened it. `Ok(None)` when it does not exist (or expired).
    pub(super) async fn get(&self, id: &str) -> Result<Option<Arc<LiveSession>>, SessionStoreError> {
        let found = lock(&self.map).get(id).cloned();
        if let Some(live) = found {
            live.touch();
            return Ok(Some(live));
        }
        let Some(state) = self.store.load(id).await? else { return Ok(None) };
        let mut map = lock(&self.map);
        if let Some(live) = map.get(id) {
            return Ok(Some(Arc::clone(live)));
        }
        if map.len() >= self.max {
            return Ok(None);
        }
        let live = self.make(Arc::from(id), Some(state));
        map.insert(Arc::clone(&live.id), Arc::clone(&live));
        Ok(Some(live))
    }

    /// Saves the session's state to the store: always when `changed`,
    /// otherwise when the last save is older than a quarter of the idle
    /// timeout (to keep a shared store's expiry ahead of activity).
    pub(super) async fn save(&self, live: &LiveSession, changed: bool) {
        if live.closed.load(Ordering::Acquire) {
            // Ended (DELETE, expiry): a late save must not bring it back.
            return;
        }
        let now = live.now_ms();
        let refresh_ms = u64::try_from(self.idle.as_millis() / 4).unwrap_or(u64::MAX);
        if !changed && now.saturating_sub(live.last_saved.load(Ordering::Relaxed)) < refresh_ms {
            return;
        }
        live.last_saved.store(now, Ordering::Relaxed);
        let state = live.session.state();
        if let Err(e) = self.store.save(&live.id, &state, self.idle).await {
            tracing::warn!(session = %live.id, error = %e, "could not save the session");
        }
    }

    /// Ends a session: its requests are cancelled and its state deleted.
    pub(super) async fn close(&self, id: &str) -> Option<Arc<LiveSession>> {
        let live = lock(&self.map).remove(id);
        if let Some(live) = &live {
            live.close();
        }
        if let Err(e) = self.store.delete(id).await {
            tracing::warn!(session = %id, error = %e, "could not delete the session");
        }
        live
    }

    /// Removes the sessions idle for longer than the timeout; returns their
    /// ids.
    ///
    /// A session is busy while a connection waits on it (a POST awaiting
    /// its response, an open SSE stream); requests whose client went away
    /// do not keep it alive: they are cancelled when it expires. Request
    /// streams nobody resumed within the resume window are given up.
    pub(super) fn expire(&self) -> Vec<Arc<str>> {
        let idle = u64::try_from(self.idle.as_millis()).unwrap_or(u64::MAX);
        let mut map = lock(&self.map);
        let mut gone = Vec::new();
        map.retain(|id, live| {
            lock(&live.detached).retain(|n, (_, at)| *n == 0 || at.elapsed() < RESUME_WINDOW);
            let idle_for = live.now_ms().saturating_sub(live.last_seen.load(Ordering::Relaxed));
            if live.active.load(Ordering::Acquire) > 0 || idle_for < idle {
                return true;
            }
            live.close();
            gone.push(Arc::clone(id));
            false
        });
        gone
    }

    /// Sends a server event to every session that should hear it. A
    /// session whose queue is full misses it (the notifications are hints
    /// that the client re-lists on anyway).
    pub(super) fn broadcast(&self, event: &ServerEvent) {
        let sessions: Vec<Arc<LiveSession>> = lock(&self.map).values().cloned().collect();
        for live in sessions {
            let Some(msg) = live.session.notification_for(event) else { continue };
            if live.session.outbound().try_send_raw(msg.to_json()).is_err() {
                tracing::debug!(session = %live.id, ?event, "session queue full; notification dropped");
            }
        }
    }
}

/// Runs the session housekeeping: expiry and server-event fan-out. Ends
/// when the transport is dropped.
pub(super) async fn housekeeping(
    sessions: Weak<Sessions>,
    events: Option<Arc<dyn super::events::EventStore>>,
    mut server_events: tokio::sync::broadcast::Receiver<ServerEvent>,
) {
    let period = sessions.upgrade().map_or(Duration::from_secs(1), |s| (s.idle / 4).max(Duration::from_millis(250)));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let Some(sessions) = sessions.upgrade() else { return };
                for id in sessions.expire() {
                    tracing::debug!(session = %id, "session expired");
                    if let Some(events) = &events {
                        events.remove_session(&id);
                    }
                    if let Err(e) = sessions.store.delete(&id).await {
                        tracing::warn!(session = %id, error = %e, "could not delete the expired session");
                    }
                }
            }
            event = server_events.recv() => {
                let Some(sessions) = sessions.upgrade() else { return };
                match event {
                    Ok(event) => sessions.broadcast(&event),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    }
}
