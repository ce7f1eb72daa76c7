//! The connection core: request ids, the pending-response map, timeouts,
//! cancellation, `_meta` stamping, `input_required` rounds, and the loop
//! that routes what the transport reads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::error::ClientError;
use super::handler::{ElicitationHandler, RootsHandler, SamplingHandler};
use super::notification::ServerNotification;
use super::params::ParamHeaders;
use super::transport::{InboundEvent, Transport};
use super::{Negotiated, RequestOptions};
use crate::jsonrpc::{ErrorCode, ErrorObject, Message, Notification, Request, RequestId, Response};
use crate::protocol::input::{InputRequest, InputRequests, InputRequiredResult, InputResponse, InputResponses};
use crate::protocol::lifecycle::{ClientCapabilities, Implementation};
use crate::protocol::logging::LoggingLevel;
use crate::protocol::meta::keys;
use crate::protocol::methods;
use crate::protocol::progress::CancelledNotificationParams;

type Reply = Result<Box<RawValue>, ClientError>;

/// The handlers the application supplied.
#[derive(Clone, Default)]
pub(super) struct Handlers {
    pub(super) elicitation: Option<Arc<dyn ElicitationHandler>>,
    pub(super) sampling: Option<Arc<dyn SamplingHandler>>,
    pub(super) roots: Option<Arc<dyn RootsHandler>>,
}

/// Settings fixed at connect time.
pub(super) struct Config {
    pub(super) client_info: Implementation,
    pub(super) capabilities: ClientCapabilities,
    pub(super) timeout: Duration,
    pub(super) max_rounds: u32,
}

/// What every clone of a [`Client`](super::Client) shares.
pub(super) struct Shared {
    pub(super) transport: Arc<dyn Transport>,
    pending: Mutex<HashMap<RequestId, oneshot::Sender<Reply>>>,
    /// The [`RequestOptions::origin`] of requests in flight that set one.
    origins: Mutex<HashMap<RequestId, u64>>,
    next_id: AtomicI64,
    notifications: broadcast::Sender<ServerNotification>,
    /// The same notifications with the origin of the request whose stream
    /// carried them; fed only while someone listens (the gateway).
    tagged: broadcast::Sender<(Option<u64>, ServerNotification)>,
    pub(super) handlers: Handlers,
    pub(super) config: Config,
    closed: Mutex<Option<String>>,
    pub(super) negotiated: OnceLock<Negotiated>,
    pub(super) log_level: Mutex<Option<LoggingLevel>>,
    param_headers: ParamHeaders,
}

impl Shared {
    pub(super) fn new(transport: Arc<dyn Transport>, handlers: Handlers, config: Config) -> Self {
        Self {
            transport,
            pending: Mutex::new(HashMap::new()),
            origins: Mutex::new(HashMap::new()),
            next_id: AtomicI64::new(1),
            notifications: broadcast::channel(1024).0,
            tagged: broadcast::channel(1024).0,
            handlers,
            config,
            closed: Mutex::new(None),
            negotiated: OnceLock::new(),
            log_level: Mutex::new(None),
            param_headers: ParamHeaders::default(),
        }
    }

    pub(super) fn subscribe(&self) -> broadcast::Receiver<ServerNotification> {
        self.notifications.subscribe()
    }

    pub(super) fn subscribe_tagged(&self) -> broadcast::Receiver<(Option<u64>, ServerNotification)> {
        self.tagged.subscribe()
    }

    /// The origin of our request `of`, while it is in flight.
    fn origin_of(&self, of: Option<&RequestId>) -> Option<u64> {
        of.and_then(|of| self.origins.lock().ok()?.get(of).copied())
    }

    pub(super) fn is_stateless(&self) -> bool {
        self.negotiated.get().is_some_and(|n| n.protocol_version.is_stateless())
    }

    fn closed_error(&self) -> Option<ClientError> {
        self.closed.lock().ok().and_then(|c| c.clone()).map(|r| ClientError::Closed(Some(r)))
    }

    pub(super) fn close_with(&self, reason: &str) {
        if let Ok(mut c) = self.closed.lock() {
            c.get_or_insert_with(|| reason.to_owned());
        }
        let pending: Vec<_> = self.pending.lock().map(|mut p| p.drain().collect()).unwrap_or_default();
        for (_, tx) in pending {
            let _ = tx.send(Err(ClientError::Closed(Some(reason.to_owned()))));
        }
    }

    /// Adds the `_meta` this request needs: the progress token, and in the
    /// stateless era the protocol version, client capabilities, client info
    /// and log level.
    pub(super) fn stamp(&self, params: &mut Map<String, Value>, opts: &RequestOptions, stateless: bool) {
        if !stateless && opts.progress.is_none() {
            return;
        }
        let meta = params.entry("_meta").or_insert_with(|| Value::Object(Map::new()));
        if !meta.is_object() {
            *meta = Value::Object(Map::new());
        }
        let Value::Object(meta) = meta else { return };
        if let Some(token) = &opts.progress
            && let Ok(v) = serde_json::to_value(token)
        {
            meta.insert(keys::PROGRESS_TOKEN.into(), v);
        }
        if !stateless {
            return;
        }
        let version = crate::ProtocolVersion::LATEST;
        meta.insert(keys::PROTOCOL_VERSION.into(), Value::String(version.as_str().into()));
        // Capabilities the request brings itself (a gateway passing on its
        // caller's) win over the client's own.
        if !meta.contains_key(keys::CLIENT_CAPABILITIES)
            && let Ok(caps) = serde_json::to_value(&self.config.capabilities)
        {
            meta.insert(keys::CLIENT_CAPABILITIES.into(), caps);
        }
        if let Ok(info) = serde_json::to_value(&self.config.client_info) {
            meta.insert(keys::CLIENT_INFO.into(), info);
        }
        if let Some(level) = self.log_level.lock().ok().and_then(|l| *l) {
            meta.insert(keys::LOG_LEVEL.into(), Value::String(level.as_str().into()));
        }
    }

    /// One request and its response: no stamping, no rounds.
    pub(super) async fn round(
        self: &Arc<Self>,
        method: &str,
        params: Option<Box<RawValue>>,
        headers: Vec<(String, String)>,
        timeout: Duration,
        origin: Option<u64>,
    ) -> Result<Box<RawValue>, ClientError> {
        if let Some(e) = self.closed_error() {
            return Err(e);
        }
        let id = RequestId::Number(self.next_id.fetch_add(1, Ordering::Relaxed));
        let _origin = origin.map(|tag| Origin::record(self, &id, tag));
        let (tx, rx) = oneshot::channel();
        if let Ok(mut p) = self.pending.lock() {
            p.insert(id.clone(), tx);
        }
        let mut guard =
            Abandon { shared: self.clone(), id: id.clone(), method: method.to_owned(), armed: true, reason: None };
        let request = Request { id, method: method.to_owned(), params };
        // The timeout covers sending too: over HTTP, a JSON response is read
        // while sending.
        let exchange = async {
            self.transport.send_with_headers(Message::Request(request), headers).await?;
            rx.await.map_err(|_| self.closed_error().unwrap_or(ClientError::Closed(None)))?
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(reply) => {
                guard.disarm();
                reply
            }
            Err(_) => {
                guard.reason = Some("timed out");
                Err(ClientError::Timeout { method: method.to_owned(), after: timeout })
            }
        }
    }

    /// A request with `_meta` stamped and `input_required` rounds answered
    /// by the handlers.
    pub(super) async fn call(
        self: &Arc<Self>,
        method: &str,
        mut params: Map<String, Value>,
        opts: &RequestOptions,
    ) -> Result<Box<RawValue>, ClientError> {
        let stateless = self.is_stateless();
        self.stamp(&mut params, opts, stateless);
        let timeout = opts.timeout.unwrap_or(self.config.timeout);
        let mut relisted = false;
        let mut rounds = 0;
        while rounds <= self.config.max_rounds {
            let raw = serde_json::value::to_raw_value(&params)
                .map_err(|e| ClientError::InvalidParams { method: method.to_owned(), reason: e.to_string() })?;
            let headers = match method {
                methods::TOOLS_CALL if stateless => self.param_headers.headers(&params),
                _ => Vec::new(),
            };
            let result = match self.round(method, Some(raw), headers, timeout, opts.origin).await {
                // A call made before `tools/list` was read may lack its
                // `Mcp-Param-*` headers: learn the marks once and retry.
                Err(ClientError::Rpc(e))
                    if e.code == ErrorCode::HEADER_MISMATCH && method == methods::TOOLS_CALL && !relisted =>
                {
                    relisted = true;
                    self.learn_tools(timeout).await?;
                    continue;
                }
                other => other?,
            };
            rounds += 1;
            if method == methods::TOOLS_LIST {
                self.param_headers.learn(&result);
            }
            if opts.return_input_required {
                return Ok(result);
            }
            let Some(wanted) = input_required(method, &result)? else { return Ok(result) };
            let answers = self.answer(wanted.input_requests.unwrap_or_default()).await?;
            let answers = serde_json::to_value(answers)
                .map_err(|e| ClientError::InvalidParams { method: method.to_owned(), reason: e.to_string() })?;
            params.insert("inputResponses".into(), answers);
            match wanted.request_state {
                Some(state) => params.insert("requestState".into(), Value::String(state)),
                None => params.remove("requestState"),
            };
        }
        Err(ClientError::TooManyRounds { method: method.to_owned(), rounds: self.config.max_rounds })
    }

    /// Reads every page of `tools/list` for its `x-mcp-header` marks.
    async fn learn_tools(self: &Arc<Self>, timeout: Duration) -> Result<(), ClientError> {
        #[derive(Deserialize)]
        struct Next {
            #[serde(default, rename = "nextCursor")]
            next_cursor: Option<String>,
        }
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let mut params = Map::new();
            if let Some(c) = cursor.take() {
                params.insert("cursor".into(), Value::String(c));
            }
            self.stamp(&mut params, &RequestOptions::default(), self.is_stateless());
            let raw = serde_json::value::to_raw_value(&params).map_err(|e| ClientError::InvalidParams {
                method: methods::TOOLS_LIST.into(),
                reason: e.to_string(),
            })?;
            let page = self.round(methods::TOOLS_LIST, Some(raw), Vec::new(), timeout, None).await?;
            self.param_headers.learn(&page);
            let next: Next = serde_json::from_str(page.get())
                .map_err(|e| ClientError::InvalidResult { method: methods::TOOLS_LIST.into(), source: e })?;
            match next.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(()),
            }
        }
        Ok(())
    }

    /// Runs the handlers for one `input_required` round.
    pub(super) async fn answer(&self, requests: InputRequests) -> Result<InputResponses, ClientError> {
        let mut out = InputResponses::new();
        for (key, request) in requests {
            let what = request.method();
            let failed = |error: ErrorObject| ClientError::Handler { what: what.to_owned(), error };
            let missing = || ClientError::NoHandler { what: what.to_owned() };
            let response = match request {
                InputRequest::Elicitation(p) => InputResponse::Elicitation(
                    self.handlers.elicitation.as_ref().ok_or_else(missing)?.elicit(p).await.map_err(failed)?,
                ),
                InputRequest::Sampling(p) => InputResponse::Sampling(
                    self.handlers.sampling.as_ref().ok_or_else(missing)?.sample(p).await.map_err(failed)?,
                ),
                InputRequest::ListRoots(_) => InputResponse::ListRoots(
                    self.handlers.roots.as_ref().ok_or_else(missing)?.list_roots().await.map_err(failed)?,
                ),
            };
            out.insert(key, response);
        }
        Ok(out)
    }

    pub(super) async fn notify(&self, method: &str, params: Option<Box<RawValue>>) -> Result<(), ClientError> {
        if let Some(e) = self.closed_error() {
            return Err(e);
        }
        let n = Notification { method: method.to_owned(), params };
        self.transport.send(Message::Notification(n)).await.map_err(Into::into)
    }

    fn complete(&self, id: &RequestId, reply: Reply) {
        let tx = self.pending.lock().ok().and_then(|mut p| p.remove(id));
        match tx {
            Some(tx) => {
                let _ = tx.send(reply);
            }
            None => tracing::debug!(%id, "client: a response to no pending request (late or unknown id)"),
        }
    }
}

#[derive(Deserialize)]
struct ResultTypePeek {
    #[serde(default, rename = "resultType")]
    result_type: Option<String>,
}

/// The `input_required` result, if `result` is one.
fn input_required(method: &str, result: &RawValue) -> Result<Option<InputRequiredResult>, ClientError> {
    let peek: ResultTypePeek = serde_json::from_str(result.get())
        .map_err(|e| ClientError::InvalidResult { method: method.to_owned(), source: e })?;
    if peek.result_type.as_deref() != Some("input_required") {
        return Ok(None);
    }
    serde_json::from_str(result.get())
        .map(Some)
        .map_err(|e| ClientError::InvalidResult { method: method.to_owned(), source: e })
}

/// Cleans up a request the caller stopped waiting for: forgets it, closes
/// its stream, and tells the server with `notifications/cancelled` unless
/// closing the stream already did.
struct Abandon {
    shared: Arc<Shared>,
    id: RequestId,
    method: String,
    armed: bool,
    reason: Option<&'static str>,
}

impl Abandon {
    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for Abandon {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Ok(mut p) = self.shared.pending.lock() {
            p.remove(&self.id);
        }
        self.shared.transport.abandon(&self.id);
        // `initialize` is never cancelled; a stateless request over HTTP is
        // cancelled by closing its stream.
        let stream_cancels = self.shared.is_stateless() && self.shared.transport.abandon_cancels();
        if self.method == methods::INITIALIZE || stream_cancels || self.shared.closed_error().is_some() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let params = CancelledNotificationParams {
            request_id: Some(self.id.clone()),
            reason: Some(self.reason.unwrap_or("the client abandoned the request").to_owned()),
            meta: None,
        };
        let Ok(params) = serde_json::value::to_raw_value(&params) else { return };
        let shared = self.shared.clone();
        runtime.spawn(async move {
            if let Err(e) = shared.notify(methods::NOTIFICATION_CANCELLED, Some(params)).await {
                tracing::debug!(error = %e, "client: could not send notifications/cancelled");
            }
        });
    }
}

/// Routes what the transport reads until it closes or the client is gone.
pub(super) async fn route(shared: Arc<Shared>, mut inbound: mpsc::Receiver<InboundEvent>) {
    while let Some(event) = inbound.recv().await {
        match event {
            InboundEvent::Message(message) => deliver(&shared, message, None),
            InboundEvent::OnStream(message, of) => deliver(&shared, message, Some(&of)),
            InboundEvent::Failed(id, error) => shared.complete(&id, Err(error.into())),
            InboundEvent::Closed(reason) => {
                shared.close_with(&reason);
                return;
            }
        }
    }
}

/// Hands one message on: a response to its waiting request, a
/// notification to the stream, a server request to the handlers (with the
/// origin of our request `on_stream_of` when it came on that one's stream).
fn deliver(shared: &Arc<Shared>, message: Message, on_stream_of: Option<&RequestId>) {
    match message {
        Message::Response(r) => match r.id {
            Some(id) => shared.complete(&id, r.payload.map_err(ClientError::Rpc)),
            None => tracing::warn!(error = ?r.payload.err(), "client: the server sent an error with no request id"),
        },
        Message::Notification(n) => {
            let note = ServerNotification::from_notification(&n);
            if shared.tagged.receiver_count() > 0 {
                let _ = shared.tagged.send((shared.origin_of(on_stream_of), note.clone()));
            }
            // No receivers is fine: nobody is listening.
            let _ = shared.notifications.send(note);
        }
        Message::Request(req) => {
            let origin = shared.origin_of(on_stream_of);
            tokio::spawn(ORIGIN.scope(origin, serve_request(shared.clone(), req)));
        }
    }
}

tokio::task_local! {
    /// The origin of the request whose stream the server request being
    /// answered came on.
    static ORIGIN: Option<u64>;
}

/// The [`RequestOptions::origin`](super::RequestOptions::origin) of our
/// request whose response stream carried the server request a handler is
/// answering now; `None` outside a handler, when the request set none, or
/// when the transport cannot tell (stdio, a standalone GET stream).
pub(super) fn current_origin() -> Option<u64> {
    ORIGIN.try_with(|o| *o).ok().flatten()
}

/// Keeps a request's origin on record while it is in flight.
struct Origin {
    shared: Arc<Shared>,
    id: RequestId,
}

impl Origin {
    fn record(shared: &Arc<Shared>, id: &RequestId, tag: u64) -> Self {
        if let Ok(mut o) = shared.origins.lock() {
            o.insert(id.clone(), tag);
        }
        Self { shared: Arc::clone(shared), id: id.clone() }
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        if let Ok(mut o) = self.shared.origins.lock() {
            o.remove(&self.id);
        }
    }
}

/// Answers a legacy server-to-client request with the handlers.
async fn serve_request(shared: Arc<Shared>, req: Request) {
    let answer = answer_request(&shared, &req).await;
    let response = match answer {
        Ok(value) => match serde_json::value::to_raw_value(&value) {
            Ok(raw) => Response::result(req.id, raw),
            Err(e) => Response::error(Some(req.id), ErrorObject::new(ErrorCode::INTERNAL_ERROR, e.to_string())),
        },
        Err(e) => Response::error(Some(req.id), e),
    };
    if let Err(e) = shared.transport.send(Message::Response(response)).await {
        tracing::warn!(method = %req.method, error = %e, "client: could not answer the server's request");
    }
}

async fn answer_request(shared: &Shared, req: &Request) -> Result<Value, ErrorObject> {
    fn params<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, ErrorObject> {
        let raw = req.params.as_ref().map_or("{}", |p| p.get());
        serde_json::from_str(raw)
            .map_err(|e| ErrorObject::new(ErrorCode::INVALID_PARAMS, format!("invalid {} params: {e}", req.method)))
    }
    fn encode<T: serde::Serialize>(value: T) -> Result<Value, ErrorObject> {
        serde_json::to_value(value).map_err(|e| ErrorObject::new(ErrorCode::INTERNAL_ERROR, e.to_string()))
    }
    let unsupported = || {
        ErrorObject::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!("method not found: this client does not handle {}", req.method),
        )
    };
    match req.method.as_str() {
        methods::PING => Ok(Value::Object(Map::new())),
        methods::ELICITATION_CREATE => {
            let handler = shared.handlers.elicitation.as_ref().ok_or_else(unsupported)?;
            encode(handler.elicit(params(req)?).await?)
        }
        methods::SAMPLING_CREATE_MESSAGE => {
            let handler = shared.handlers.sampling.as_ref().ok_or_else(unsupported)?;
            encode(handler.sample(params(req)?).await?)
        }
        methods::ROOTS_LIST => {
            let handler = shared.handlers.roots.as_ref().ok_or_else(unsupported)?;
            encode(handler.list_roots().await?)
        }
        _ => Err(unsupported()),
    }
}
