//! Legacy-era sessions.
//!
//! A [`Session`] is what `initialize` creates in the legacy era: the
//! negotiated version, the client's capabilities, the log level, resource
//! subscriptions, the requests the server has sent to the client and is
//! waiting on, and the client's requests still running (so that
//! `notifications/cancelled` can stop them). A stdio process has one; the
//! HTTP transport keeps one per `Mcp-Session-Id`. Stateless (2026-07-28)
//! requests have none.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::value::RawValue;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::ServerEvent;
pub use super::sink::{Sink, SinkClosed};
use crate::jsonrpc::{ErrorObject, Message, Notification, RequestId};
use crate::protocol::ProtocolVersion;
use crate::protocol::lifecycle::{ClientCapabilities, Implementation};
use crate::protocol::logging::LoggingLevel;
use crate::protocol::methods;

type Pending = oneshot::Sender<Result<Box<RawValue>, ErrorObject>>;

/// The mutable state of a legacy session. It serialises, so that a shared
/// session store (DynamoDB on Lambda) can keep it between instances.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SessionState {
    /// The version `initialize` negotiated; `None` before it.
    #[serde(default)]
    pub version: Option<ProtocolVersion>,
    /// `notifications/initialized` arrived.
    #[serde(default)]
    pub initialized: bool,
    /// The capabilities the client declared in `initialize`.
    #[serde(default)]
    pub client_capabilities: Arc<ClientCapabilities>,
    /// The client's name and version.
    #[serde(default)]
    pub client_info: Option<Implementation>,
    /// The level set by `logging/setLevel`; `None` sends every message.
    #[serde(default)]
    pub log_level: Option<LoggingLevel>,
    /// The resource URIs the client subscribed to.
    #[serde(default)]
    pub subscriptions: HashSet<String>,
}

/// A legacy-era session (see the module docs).
pub struct Session {
    id: Option<Arc<str>>,
    state: Mutex<SessionState>,
    pending: Mutex<HashMap<RequestId, Pending>>,
    running: Mutex<HashMap<RequestId, CancellationToken>>,
    next_id: AtomicI64,
    outbound: Sink,
    /// The saved state changed since the transport last asked.
    changed: AtomicBool,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").field("id", &self.id).field("state", &*lock(&self.state)).finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing holding these locks can panic midway, and the data stays
    // consistent if one did: recover rather than propagate.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Session {
    /// A new, uninitialised session. `outbound` carries messages that belong
    /// to no particular request (list-changed and resource-updated
    /// notifications): stdout on stdio, the GET stream on HTTP.
    pub fn new(id: Option<Arc<str>>, outbound: Sink) -> Arc<Self> {
        Arc::new(Self {
            id,
            state: Mutex::new(SessionState::default()),
            pending: Mutex::new(HashMap::new()),
            running: Mutex::new(HashMap::new()),
            next_id: AtomicI64::new(1),
            outbound,
            changed: AtomicBool::new(false),
        })
    }

    /// A session restored from a saved [`SessionState`] (a shared session
    /// store), with a fresh `outbound` sink.
    pub fn restore(id: Option<Arc<str>>, outbound: Sink, state: SessionState) -> Arc<Self> {
        let session = Self::new(id, outbound);
        *lock(&session.state) = state;
        session
    }

    /// The session id (HTTP's `Mcp-Session-Id`), if the transport has one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// A snapshot of the state.
    pub fn state(&self) -> SessionState {
        lock(&self.state).clone()
    }

    /// The negotiated version, once `initialize` has succeeded.
    pub fn version(&self) -> Option<ProtocolVersion> {
        lock(&self.state).version
    }

    /// The session-wide outbound sink.
    pub fn outbound(&self) -> &Sink {
        &self.outbound
    }

    /// Reads (or adjusts in passing) the state without marking it changed.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut SessionState) -> R) -> R {
        f(&mut lock(&self.state))
    }

    /// Changes the saved state and marks it changed, so that the transport
    /// writes it to a shared session store.
    pub(crate) fn modify<R>(&self, f: impl FnOnce(&mut SessionState) -> R) -> R {
        let out = f(&mut lock(&self.state));
        self.changed.store(true, Ordering::Release);
        out
    }

    /// Whether the saved state changed since the last call: what a
    /// transport with a shared session store asks after each message, to
    /// write the state only when it changed.
    pub fn take_changed(&self) -> bool {
        self.changed.swap(false, Ordering::AcqRel)
    }

    /// Registers a request the server is about to send to the client and
    /// returns its id and the receiver of the client's answer.
    pub(crate) fn register_outgoing(&self) -> (RequestId, oneshot::Receiver<Result<Box<RawValue>, ErrorObject>>) {
        let id = RequestId::Number(self.next_id.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id.clone(), tx);
        (id, rx)
    }

    /// Forgets an outgoing request (its waiter gave up).
    pub(crate) fn forget_outgoing(&self, id: &RequestId) {
        lock(&self.pending).remove(id);
    }

    /// Delivers the client's response to the request with this id. Returns
    /// `false` when no such request is waiting.
    pub(crate) fn complete_outgoing(&self, id: &RequestId, payload: Result<Box<RawValue>, ErrorObject>) -> bool {
        match lock(&self.pending).remove(id) {
            Some(tx) => tx.send(payload).is_ok(),
            None => false,
        }
    }

    /// Tracks a running client request so that `notifications/cancelled`
    /// can stop it. Returns `false`, tracking nothing, when a request with
    /// this id is already running: the id is a duplicate.
    pub fn start_request(&self, id: RequestId, token: CancellationToken) -> bool {
        match lock(&self.running).entry(id) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(token);
                true
            }
        }
    }

    /// Whether a client request with this id is running.
    pub fn is_running(&self, id: &RequestId) -> bool {
        lock(&self.running).contains_key(id)
    }

    pub(crate) fn finish_request(&self, id: &RequestId) {
        lock(&self.running).remove(id);
    }

    /// Cancels a running client request; `false` if none has this id.
    pub fn cancel_request(&self, id: &RequestId) -> bool {
        match lock(&self.running).remove(id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// The notification this session should get for a server event, if
    /// any: list changes once initialised, resource updates for the URIs it
    /// subscribed to.
    pub fn notification_for(&self, event: &ServerEvent) -> Option<Message> {
        let state = lock(&self.state);
        if state.version.is_none_or(ProtocolVersion::is_stateless) {
            return None;
        }
        let (method, params) = match event {
            ServerEvent::ToolsListChanged => (methods::NOTIFICATION_TOOLS_LIST_CHANGED, None),
            ServerEvent::PromptsListChanged => (methods::NOTIFICATION_PROMPTS_LIST_CHANGED, None),
            ServerEvent::ResourcesListChanged => (methods::NOTIFICATION_RESOURCES_LIST_CHANGED, None),
            ServerEvent::ResourceUpdated(uri) if state.subscriptions.contains(uri) => (
                methods::NOTIFICATION_RESOURCES_UPDATED,
                serde_json::value::to_raw_value(&serde_json::json!({ "uri": uri })).ok(),
            ),
            // Legacy sessions have no tasks extension.
            ServerEvent::ResourceUpdated(_) | ServerEvent::TaskStatusChanged(_) => return None,
        };
        Some(Message::Notification(Notification { method: method.to_owned(), params }))
    }

    /// Whether any client request is running.
    pub fn has_running_requests(&self) -> bool {
        !lock(&self.running).is_empty()
    }

    /// Cancels every running request and fails every pending outgoing one
    /// (the connection is gone).
    pub fn close(&self) {
        for (_, token) in lock(&self.running).drain() {
            token.cancel();
        }
        lock(&self.pending).clear();
    }
}
