//! The per-request [`Context`] handlers receive.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

mod task;

use super::ServerShared;
use super::session::{Session, Sink};
use crate::error::Error;
use crate::jsonrpc::{ErrorCode, Message, Notification, Request, RequestId};
use crate::protocol::ProtocolVersion;
use crate::protocol::elicitation::{ElicitRequestParams, ElicitResult};
use crate::protocol::lifecycle::{ClientCapabilities, Implementation};
use crate::protocol::logging::LoggingLevel;
use crate::protocol::methods;
use crate::protocol::progress::ProgressToken;
use crate::protocol::roots::ListRootsResult;
use crate::protocol::sampling::{CreateMessageRequestParams, CreateMessageResult};

/// Everything a handler can know about and do for the request it serves:
/// report progress, log, notice cancellation, read the client's
/// capabilities and the server's shared state, and ask the client for input
/// (elicitation, sampling, roots) in either protocol era.
///
/// Cheap to clone; clones share the request.
#[derive(Clone)]
pub struct Context {
    inner: Arc<Inner>,
}

struct Inner {
    request_id: RequestId,
    version: ProtocolVersion,
    session: Option<Arc<Session>>,
    sink: Sink,
    progress_token: Option<ProgressToken>,
    log_level: Option<LoggingLevel>,
    cancel: CancellationToken,
    client_capabilities: Arc<ClientCapabilities>,
    client_info: Option<Box<Implementation>>,
    extensions: http::Extensions,
    shared: Arc<ServerShared>,
    input: Mutex<InputState>,
    input_needed: Notify,
    task: TaskMode,
    detach: Notify,
    /// What [`Context::follow_external`] handed over.
    external: Mutex<Option<Value>>,
}

/// How a tool call relates to the tasks extension.
#[derive(Clone, Debug, Default)]
pub(crate) enum TaskMode {
    /// An ordinary call.
    #[default]
    Plain,
    /// A call that may become a task ([`Context::continue_as_task`]).
    Capable,
    /// The handler runs for the task with this id.
    Running(Arc<str>),
}

/// Multi-round-trip bookkeeping for one run of a handler.
#[derive(Default)]
pub(crate) struct InputState {
    pub(crate) round: u32,
    pub(crate) answers: BTreeMap<String, Value>,
    pub(crate) used: BTreeSet<String>,
    pub(crate) requested: BTreeMap<String, Value>,
    /// Keys handed out so far, by [`InputKind`].
    counters: [u32; 3],
    pub(crate) protocol_error: Option<Error>,
    /// How long the dispatcher waits, once input is needed, for more
    /// requests for input before it answers `input_required`; `None`
    /// answers at once. Set where the questions arrive one by one from
    /// elsewhere (a gateway bridging a legacy upstream's requests).
    pub(crate) gather: Option<std::time::Duration>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("request_id", &self.inner.request_id)
            .field("version", &self.inner.version)
            .finish_non_exhaustive()
    }
}

/// What the dispatcher knows about a request when it builds its [`Context`].
pub(crate) struct ContextParts {
    pub(crate) request_id: RequestId,
    pub(crate) version: ProtocolVersion,
    pub(crate) session: Option<Arc<Session>>,
    pub(crate) sink: Sink,
    pub(crate) progress_token: Option<ProgressToken>,
    pub(crate) log_level: Option<LoggingLevel>,
    pub(crate) cancel: CancellationToken,
    pub(crate) client_capabilities: Arc<ClientCapabilities>,
    pub(crate) client_info: Option<Box<Implementation>>,
    pub(crate) extensions: http::Extensions,
    pub(crate) shared: Arc<ServerShared>,
    pub(crate) task: TaskMode,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The input a multi-round-trip request asks for, by kind.
#[derive(Clone, Copy)]
enum InputKind {
    Elicitation,
    Sampling,
    Roots,
}

impl InputKind {
    fn method(self) -> &'static str {
        match self {
            Self::Elicitation => methods::ELICITATION_CREATE,
            Self::Sampling => methods::SAMPLING_CREATE_MESSAGE,
            Self::Roots => methods::ROOTS_LIST,
        }
    }

    /// The client capability it needs, also the prefix of the keys its
    /// requests are counted under (`elicitation_1`).
    fn capability(self) -> &'static str {
        match self {
            Self::Elicitation => "elicitation",
            Self::Sampling => "sampling",
            Self::Roots => "roots",
        }
    }

    fn declared(self, caps: &ClientCapabilities) -> bool {
        match self {
            Self::Elicitation => caps.elicitation.is_some(),
            Self::Sampling => caps.sampling.is_some(),
            Self::Roots => caps.roots.is_some(),
        }
    }
}

impl Context {
    pub(crate) fn new(p: ContextParts) -> Self {
        Self {
            inner: Arc::new(Inner {
                request_id: p.request_id,
                version: p.version,
                session: p.session,
                sink: p.sink,
                progress_token: p.progress_token,
                log_level: p.log_level,
                cancel: p.cancel,
                client_capabilities: p.client_capabilities,
                client_info: p.client_info,
                extensions: p.extensions,
                shared: p.shared,
                input: Mutex::new(InputState::default()),
                input_needed: Notify::new(),
                task: p.task,
                detach: Notify::new(),
                external: Mutex::new(None),
            }),
        }
    }

    /// The id of the request being served.
    pub fn request_id(&self) -> &RequestId {
        &self.inner.request_id
    }

    /// The protocol version of this request.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.inner.version
    }

    /// The capabilities the client declared (in `initialize`, or in this
    /// request's `_meta` in the stateless era).
    pub fn client_capabilities(&self) -> &ClientCapabilities {
        &self.inner.client_capabilities
    }

    /// The client's name and version, when it said (in `initialize`, or in
    /// this request's `_meta`).
    pub fn client_info(&self) -> Option<Implementation> {
        self.inner
            .client_info
            .as_deref()
            .cloned()
            .or_else(|| self.inner.session.as_ref().and_then(|s| s.update(|st| st.client_info.clone())))
    }

    /// The progress token the client sent (`_meta.progressToken`), if any:
    /// [`progress`](Self::progress) reports against it.
    pub fn progress_token(&self) -> Option<&ProgressToken> {
        self.inner.progress_token.as_ref()
    }

    /// The legacy session, if this request belongs to one.
    pub fn session(&self) -> Option<&Arc<Session>> {
        self.inner.session.as_ref()
    }

    /// Request extensions set by the transport and by layers (for example
    /// the authenticated principal, or the Lambda request context).
    pub fn extensions(&self) -> &http::Extensions {
        &self.inner.extensions
    }

    /// Shared application state registered with
    /// [`ServerBuilder::state`](super::ServerBuilder::state).
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.inner.shared.state.get::<T>()
    }

    /// Announces a change on the server (a tool list that changed, a
    /// resource that was updated) to the sessions and subscription streams
    /// that follow it, as [`Server::emit`](super::Server::emit) does.
    pub fn emit(&self, event: super::ServerEvent) {
        // No receivers is fine: nobody is listening.
        let _ = self.inner.shared.events.send(event);
    }

    /// Whether failures' internal details may reach the client
    /// ([`ServerBuilder::expose_internal_errors`](super::ServerBuilder::expose_internal_errors)).
    pub(crate) fn expose_internal_errors(&self) -> bool {
        self.inner.shared.expose_internal_errors
    }

    /// Whether the client cancelled the request (or its stream closed).
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancel.is_cancelled()
    }

    /// Resolves when the request is cancelled; use it in `select!` to stop
    /// long work early.
    pub async fn cancelled(&self) {
        self.inner.cancel.cancelled().await;
    }

    /// The request's cancellation token.
    pub fn cancellation_token(&self) -> &CancellationToken {
        &self.inner.cancel
    }

    /// Reports progress, if the client asked for it (a `progressToken` in
    /// `_meta`); otherwise does nothing. `progress` should increase with each
    /// call.
    ///
    /// # Errors
    /// [`Error::Cancelled`] when the client's stream is gone.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) -> Result<(), Error> {
        let Some(token) = &self.inner.progress_token else { return Ok(()) };
        let mut params = json!({ "progressToken": token, "progress": progress });
        if let Some(total) = total {
            params["total"] = json!(total);
        }
        if let Some(message) = message {
            params["message"] = json!(message);
        }
        self.notify(methods::NOTIFICATION_PROGRESS, &params).await
    }

    /// Whether a message at `level` would be sent: in a legacy session, when
    /// it is at or above the session's `logging/setLevel` (everything before
    /// one); in the stateless era, only when the request set a `logLevel`
    /// and the message is at or above it; never for a legacy request served
    /// without a session (its client was not offered `logging`).
    pub fn log_enabled(&self, level: LoggingLevel) -> bool {
        let threshold = if self.inner.version.is_stateless() {
            match self.inner.log_level {
                Some(l) => l,
                None => return false,
            }
        } else {
            let Some(session) = self.inner.session.as_ref() else { return false };
            match session.update(|st| st.log_level) {
                Some(l) => l,
                None => return true,
            }
        };
        level >= threshold
    }

    /// Sends a log message (`notifications/message`) to the client, when
    /// [`log_enabled`](Self::log_enabled) says so.
    ///
    /// # Errors
    /// [`Error::Cancelled`] when the client's stream is gone.
    pub async fn log(&self, level: LoggingLevel, logger: Option<&str>, data: impl Serialize) -> Result<(), Error> {
        if !self.log_enabled(level) {
            return Ok(());
        }
        let mut params = json!({ "level": level, "data": data });
        if let Some(logger) = logger {
            params["logger"] = json!(logger);
        }
        self.notify(methods::NOTIFICATION_MESSAGE, &params).await
    }

    /// Logs `message` at `info`.
    ///
    /// # Errors
    /// As [`log`](Self::log).
    pub async fn info(&self, message: &str) -> Result<(), Error> {
        self.log(LoggingLevel::Info, None, message).await
    }

    async fn notify(&self, method: &str, params: &Value) -> Result<(), Error> {
        let params = serde_json::value::to_raw_value(params).map_err(|e| Error::internal(e.to_string()))?;
        if self.inner.sink.is_none() {
            // The transport answers with a single JSON body (the client
            // accepts nothing else): notifications have nowhere to go.
            return Ok(());
        }
        let msg = Message::Notification(Notification { method: method.to_owned(), params: Some(params) });
        self.inner.sink.send(&msg).await.map_err(|_| Error::Cancelled)
    }

    /// Asks the user for input through the client (`elicitation/create`).
    ///
    /// In the legacy era this sends a request to the client and waits for
    /// the answer. In the stateless era it returns the answer from the
    /// retried request's `inputResponses`; when there is none yet, the call
    /// ends here with an `input_required` result and the handler runs again,
    /// from the start, when the client retries with the answer.
    ///
    /// # Errors
    /// [`Error::MissingClientCapability`] when the client did not declare
    /// elicitation; [`Error::Cancelled`]; the client's own error.
    pub async fn elicit(&self, params: ElicitRequestParams) -> Result<ElicitResult, Error> {
        self.input(None, InputKind::Elicitation, &params).await
    }

    /// [`elicit`](Self::elicit) under a chosen key in `inputRequests`
    /// (stateless era; the key is ignored in the legacy era).
    ///
    /// # Errors
    /// As [`elicit`](Self::elicit).
    pub async fn elicit_as(&self, key: &str, params: ElicitRequestParams) -> Result<ElicitResult, Error> {
        self.input(Some(key), InputKind::Elicitation, &params).await
    }

    /// Asks the client's model for a completion (`sampling/createMessage`),
    /// in either era as [`elicit`](Self::elicit) does.
    ///
    /// # Errors
    /// As [`elicit`](Self::elicit), for the sampling capability.
    pub async fn sample(&self, params: CreateMessageRequestParams) -> Result<CreateMessageResult, Error> {
        self.input(None, InputKind::Sampling, &params).await
    }

    /// [`sample`](Self::sample) under a chosen key.
    ///
    /// # Errors
    /// As [`sample`](Self::sample).
    pub async fn sample_as(&self, key: &str, params: CreateMessageRequestParams) -> Result<CreateMessageResult, Error> {
        self.input(Some(key), InputKind::Sampling, &params).await
    }

    /// Asks the client for its roots (`roots/list`), in either era.
    ///
    /// # Errors
    /// As [`elicit`](Self::elicit), for the roots capability.
    pub async fn list_roots(&self) -> Result<ListRootsResult, Error> {
        self.input(None, InputKind::Roots, &json!({})).await
    }

    /// [`list_roots`](Self::list_roots) under a chosen key.
    ///
    /// # Errors
    /// As [`list_roots`](Self::list_roots).
    pub async fn list_roots_as(&self, key: &str) -> Result<ListRootsResult, Error> {
        self.input(Some(key), InputKind::Roots, &json!({})).await
    }

    async fn input<P: Serialize, R: DeserializeOwned>(
        &self,
        key: Option<&str>,
        kind: InputKind,
        params: &P,
    ) -> Result<R, Error> {
        if self.inner.version.is_stateless() {
            self.input_stateless(key, kind, params).await
        } else {
            self.input_legacy(key, kind, params).await
        }
    }

    fn missing_capability(&self, kind: InputKind) -> Error {
        Error::MissingClientCapability { required: json!({ kind.capability(): {} }) }
    }

    async fn input_legacy<P: Serialize, R: DeserializeOwned>(
        &self,
        key: Option<&str>,
        kind: InputKind,
        params: &P,
    ) -> Result<R, Error> {
        // Legacy versions have no error code for these: the handler's call
        // fails with the message (an `isError` result for a tool; not an
        // internal error, whose message a tool's client would not see).
        let unavailable = |message: String| Error::Other { code: ErrorCode::INTERNAL_ERROR, message, data: None };
        let Some(session) = self.inner.session.as_ref() else {
            return Err(unavailable(format!(
                "`{}` needs a session, and this request has none: the server serves legacy requests without a \
                 session (sessionless mode), so the client's answer could not reach this call; use a server \
                 with sessions, or protocol version 2026-07-28",
                kind.method()
            )));
        };
        if !kind.declared(&self.inner.client_capabilities) {
            return Err(unavailable(format!("the client did not declare the `{}` capability", kind.capability())));
        }
        if matches!(kind, InputKind::Elicitation) && !self.inner.version.has_elicitation() {
            return Err(unavailable(format!("elicitation does not exist in protocol version {}", self.inner.version)));
        }
        let (id, rx) = session.register_outgoing();
        // However this future ends (answered, cancelled, dropped by a
        // timeout), the session forgets the request.
        struct Forget<'a>(&'a Session, &'a RequestId);
        impl Drop for Forget<'_> {
            fn drop(&mut self) {
                self.0.forget_outgoing(self.1);
            }
        }
        let _forget = Forget(session, &id);
        let mut params = serde_json::to_value(params).map_err(|e| Error::internal(e.to_string()))?;
        // The key travels in `_meta`, so that a gateway in between asks its
        // stateless caller under the same key.
        if let (Some(key), Some(object)) = (key, params.as_object_mut()) {
            let meta = object.entry("_meta").or_insert_with(|| json!({}));
            if let Some(meta) = meta.as_object_mut() {
                meta.insert(crate::protocol::meta::keys::INPUT_KEY.into(), json!(key));
            }
        }
        let params = serde_json::value::to_raw_value(&params).map_err(|e| Error::internal(e.to_string()))?;
        let msg = Message::Request(Request { id: id.clone(), method: kind.method().to_owned(), params: Some(params) });
        if self.inner.sink.send(&msg).await.is_err() {
            return Err(Error::Cancelled);
        }
        let answer = tokio::select! {
            answer = rx => answer,
            () = self.inner.cancel.cancelled() => return Err(Error::Cancelled),
        };
        match answer {
            Ok(Ok(raw)) => serde_json::from_str(raw.get())
                .map_err(|e| Error::internal(format!("the client's answer to {} is malformed: {e}", kind.method()))),
            Ok(Err(e)) => Err(Error::Other {
                code: e.code,
                message: format!("the client rejected {}: {}", kind.method(), e.message),
                data: e.data,
            }),
            Err(_) => Err(Error::Cancelled),
        }
    }

    async fn input_stateless<P: Serialize, R: DeserializeOwned>(
        &self,
        key: Option<&str>,
        kind: InputKind,
        params: &P,
    ) -> Result<R, Error> {
        let found = {
            let mut st = lock(&self.inner.input);
            let key = match key {
                Some(k) => k.to_owned(),
                None => {
                    let n = &mut st.counters[kind as usize];
                    *n += 1;
                    format!("{}_{}", kind.capability(), n)
                }
            };
            match st.answers.get(&key).cloned() {
                Some(answer) => {
                    st.used.insert(key.clone());
                    Ok((key, answer))
                }
                None if !kind.declared(&self.inner.client_capabilities) => {
                    let err = self.missing_capability(kind);
                    st.protocol_error.get_or_insert_with(|| err.clone());
                    return Err(err);
                }
                None => {
                    let request = json!({ "method": kind.method(), "params": params });
                    st.requested.insert(key, request);
                    Err(())
                }
            }
        };
        match found {
            Ok((key, answer)) => R::deserialize(answer).map_err(|e| {
                let err = Error::invalid_params(format!("invalid inputResponses.{key}: {e}"));
                lock(&self.inner.input).protocol_error.get_or_insert_with(|| err.clone());
                err
            }),
            Err(()) => {
                // Ask the dispatcher to answer `input_required`; it drops this
                // future, so nothing after this point runs.
                self.inner.input_needed.notify_one();
                std::future::pending().await
            }
        }
    }

    /// Resolves once the handler asked to continue as a task.
    pub(crate) async fn detach_requested(&self) {
        self.inner.detach.notified().await;
    }

    /// Resolves once a stateless handler needs input it does not have.
    pub(crate) async fn input_needed(&self) {
        self.inner.input_needed.notified().await;
    }

    /// Makes the dispatcher wait up to `window` after each request for
    /// input before it ends the round with `input_required`, so that
    /// questions arriving one after another (not from one poll of the
    /// handler) go to the client in one round.
    #[cfg_attr(not(feature = "gateway"), allow(dead_code))]
    pub(crate) fn gather_input_for(&self, window: std::time::Duration) {
        lock(&self.inner.input).gather = Some(window);
    }

    /// The window set by [`Context::gather_input_for`].
    pub(crate) fn input_gather_window(&self) -> Option<std::time::Duration> {
        lock(&self.inner.input).gather
    }

    /// The channel to the client for this request's notifications.
    pub(crate) fn sink(&self) -> &Sink {
        &self.inner.sink
    }

    /// Runs `f` over the multi-round-trip state.
    pub(crate) fn with_input<T>(&self, f: impl FnOnce(&mut InputState) -> T) -> T {
        f(&mut lock(&self.inner.input))
    }

    /// A protocol error recorded by a context method (a missing client
    /// capability), which wins over the handler's own error result.
    pub(crate) fn take_protocol_error(&self) -> Option<Error> {
        lock(&self.inner.input).protocol_error.take()
    }
}
