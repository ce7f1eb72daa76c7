//! The dispatcher: era detection, validation, routing, and every
//! per-version rule about what a response looks like.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use futures_util::FutureExt as _;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::context::{ContextParts, InputState};
use super::headers::{McpHeaders, NamePeek};
use super::input::Binding;
use super::registry::ResolvedResource;
use super::session::{Session, Sink};
use super::tool::{BoxFuture, internal_failure};
use super::{Context, Principal, Server, ServerEvent, ServerRequest};
use crate::error::Error;
use crate::jsonrpc::{Message, Notification, Request, RequestId, Response};
use crate::protocol::completion::{CompleteRequestParams, CompleteResult, MAX_COMPLETION_VALUES};
use crate::protocol::lifecycle::{ClientCapabilities, Implementation, InitializeRequestParams};
use crate::protocol::logging::{LoggingLevel, SetLevelRequestParams};
use crate::protocol::meta::keys;
use crate::protocol::progress::ProgressToken;
use crate::protocol::tools::CallToolResult;
use crate::protocol::{CacheScope, Meta, ProtocolVersion, ResultType, methods};

mod params;

use params::{
    CallParams, CancelParams, ListenFilter, ListenParams, PageParams, ReadParams, RequestMeta, UriParams, parse_params,
    peek_meta,
};

impl tower_service::Service<ServerRequest> for Server {
    type Response = Option<Response>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Option<Response>, Infallible>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: ServerRequest) -> Self::Future {
        let ServerRequest { message, session, sink, extensions, cancel } = req;
        match message {
            // The box holds the request's future itself, not a wrapper that
            // keeps a second copy of its arguments.
            Message::Request(r) => Box::pin(self.clone().handle_request(r, session, sink, extensions, cancel).map(Ok)),
            other => {
                self.handle_other(other, session.as_deref());
                Box::pin(std::future::ready(Ok(None)))
            }
        }
    }
}

fn raw<T: Serialize + ?Sized>(value: &T) -> Result<Box<RawValue>, Error> {
    serde_json::value::to_raw_value(value).map_err(|e| Error::internal(format!("failed to encode the result: {e}")))
}

/// A result serialised with a `_meta` member after its own.
#[derive(serde::Serialize)]
struct WithMeta<'a, T> {
    #[serde(flatten)]
    result: &'a T,
    #[serde(rename = "_meta")]
    meta: &'a RawValue,
}

/// The protocol facts of one request.
struct Era {
    version: ProtocolVersion,
    capabilities: Arc<ClientCapabilities>,
    client_info: Option<Box<Implementation>>,
    log_level: Option<LoggingLevel>,
}

/// How a handler run ended.
enum Driven<T> {
    Done(T),
    InputRequired,
    Cancelled,
    Panicked(String),
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

async fn drive<T>(ctx: &Context, fut: BoxFuture<T>) -> Driven<T> {
    let fut = AssertUnwindSafe(fut).catch_unwind();
    tokio::select! {
        biased;
        out = fut => match out {
            Ok(v) => Driven::Done(v),
            Err(panic) => Driven::Panicked(panic_message(&*panic)),
        },
        () = ctx.input_needed() => Driven::InputRequired,
        () = ctx.cancelled() => Driven::Cancelled,
    }
}

/// What a method handler produced.
enum Reply {
    Result(Box<RawValue>),
    /// The request was cancelled: no response is sent.
    Cancelled,
}

/// Removes a running request from its session however the future ends.
struct RunningGuard<'a> {
    session: Option<&'a Session>,
    id: &'a RequestId,
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.session {
            s.finish_request(self.id);
        }
    }
}

/// A list result serialised straight from the registry, without cloning.
struct Page<'a, T> {
    key: &'static str,
    items: &'a [T],
    next_cursor: Option<String>,
    stateless: Option<(&'a Value, u64, CacheScope)>,
}

impl<T: Serialize> Serialize for Page<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(self.key, self.items)?;
        if let Some(c) = &self.next_cursor {
            map.serialize_entry("nextCursor", c)?;
        }
        if let Some((meta, ttl, scope)) = self.stateless {
            map.serialize_entry("resultType", &ResultType::Complete)?;
            map.serialize_entry("ttlMs", &ttl)?;
            map.serialize_entry("cacheScope", &scope)?;
            map.serialize_entry("_meta", meta)?;
        }
        map.end()
    }
}

impl Server {
    /// Handles one message: a request gets `Some(response)` (or `None` when
    /// it was cancelled); notifications and the client's responses get
    /// `None`.
    pub async fn handle(&self, req: ServerRequest) -> Option<Response> {
        let ServerRequest { message, session, sink, extensions, cancel } = req;
        match message {
            Message::Request(r) => self.clone().handle_request(r, session, sink, extensions, cancel).await,
            other => {
                self.handle_other(other, session.as_deref());
                None
            }
        }
    }

    /// A notification, or the client's response to a server request.
    fn handle_other(&self, message: Message, session: Option<&Session>) {
        match message {
            Message::Request(_) => {}
            Message::Notification(n) => self.handle_notification(&n, session),
            Message::Response(r) => {
                if let (Some(session), Some(id)) = (session, &r.id)
                    && !session.complete_outgoing(id, r.payload)
                {
                    tracing::debug!(%id, "response to an unknown or abandoned request");
                }
            }
        }
    }

    fn handle_notification(&self, n: &Notification, session: Option<&Session>) {
        match n.method.as_str() {
            methods::INITIALIZED => {
                if let Some(s) = session {
                    s.update(|st| st.initialized = true);
                }
            }
            methods::NOTIFICATION_CANCELLED => {
                let Some(s) = session else { return };
                match parse_params::<CancelParams>(&n.method, n.params.as_deref()) {
                    Ok(CancelParams { request_id: Some(id) }) => {
                        s.cancel_request(&id);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "ignoring a malformed cancellation"),
                }
            }
            other => tracing::trace!(method = other, "notification ignored"),
        }
    }

    /// Runs one request. Takes the server by value (one pointer) so that
    /// the future is `'static` and [`tower_service::Service::call`] can box it directly.
    async fn handle_request(
        self,
        req: Request,
        session: Option<Arc<Session>>,
        sink: Sink,
        extensions: http::Extensions,
        cancel: CancellationToken,
    ) -> Option<Response> {
        let Request { id, method, params } = req;
        // The synchronous part settles the era in a plain function, so that
        // its temporaries (the parsed `_meta`) are not kept in this future.
        let (era, progress_token, call) =
            match self.prepare(&method, params.as_deref(), session.as_deref(), extensions.get::<McpHeaders>()) {
                Ok(p) => p,
                Err((e, v)) => return Some(Response::error(Some(id), e.to_error_object(v))),
            };
        let version = era.version;

        // Transports that track requests themselves (stdio) registered this
        // one already; otherwise register it here so that
        // `notifications/cancelled` reaches it.
        let registered_here = session.as_ref().is_some_and(|s| s.start_request(id.clone(), cancel.clone()));
        let guard_id = id.clone();
        let guard = RunningGuard { session: session.as_deref().filter(|_| registered_here), id: &guard_id };
        let cancelled = cancel.clone();
        let parts = ContextParts {
            request_id: id.clone(),
            version,
            session: session.clone(),
            sink,
            progress_token,
            log_level: era.log_level,
            cancel,
            client_capabilities: era.capabilities,
            client_info: era.client_info,
            extensions,
            shared: Arc::clone(&self.shared),
        };
        let params = params.as_deref();
        // Handlers get a `Context` (one pointer), not the parts: the futures
        // stay small, and each request boxes one of them.
        let outcome = if method == methods::TOOLS_CALL {
            match call.map_or_else(|| parse_params(methods::TOOLS_CALL, params), Ok) {
                Ok(p) => self.call_tool(p, Context::new(parts)).await,
                Err(e) => Err(e),
            }
        } else {
            // Only `tools/call` has these; not kept across the awaits below.
            drop(call);
            match method.as_str() {
                methods::INITIALIZE => self.initialize(params, session.as_deref()),
                methods::PING => raw(&json!({})).map(Reply::Result),
                methods::SERVER_DISCOVER => self.discover(),
                methods::TOOLS_LIST => self.list(&method, params, version, ListKind::Tools),
                methods::RESOURCES_LIST => self.list(&method, params, version, ListKind::Resources),
                methods::RESOURCES_TEMPLATES_LIST => self.list(&method, params, version, ListKind::Templates),
                methods::PROMPTS_LIST => self.list(&method, params, version, ListKind::Prompts),
                methods::RESOURCES_READ => self.read_resource(params, Context::new(parts)).await,
                methods::PROMPTS_GET => self.get_prompt(params, Context::new(parts)).await,
                methods::COMPLETION_COMPLETE => self.complete(params, Context::new(parts)).await,
                methods::LOGGING_SET_LEVEL => self.set_level(params, session.as_deref()),
                methods::RESOURCES_SUBSCRIBE | methods::RESOURCES_UNSUBSCRIBE => {
                    self.subscribe(&method, params, session.as_deref())
                }
                // Long-lived and rare: boxed, so that it does not size every
                // request's future.
                methods::SUBSCRIPTIONS_LISTEN => Box::pin(self.listen(params, Context::new(parts))).await,
                _ => Err(Error::method_not_found(&method)),
            }
        };
        drop(guard);
        if cancelled.is_cancelled() {
            // The client gave up on this request: it expects no response.
            return None;
        }
        match outcome {
            Ok(Reply::Result(r)) => Some(Response::result(id, r)),
            Ok(Reply::Cancelled) => None,
            Err(e) => Some(Response::error(Some(id), e.to_error_object(Some(version)))),
        }
    }

    /// Reads `_meta` and settles the request's era: everything the
    /// dispatcher decides before a handler runs.
    #[allow(clippy::type_complexity)]
    fn prepare<'a>(
        &self,
        method: &str,
        params: Option<&'a RawValue>,
        session: Option<&Session>,
        headers: Option<&McpHeaders>,
    ) -> Result<(Era, Option<ProgressToken>, Option<CallParams<'a>>), (Error, Option<ProtocolVersion>)> {
        let peeked = peek_meta(method, params).map_err(|e| (e, None))?;
        let (era, progress_token) = self.era(method, peeked.meta, &peeked.names, session, headers)?;
        Ok((era, progress_token, peeked.call))
    }

    /// Decides the request's era and checks it is allowed there.
    #[allow(clippy::type_complexity)]
    fn era(
        &self,
        method: &str,
        meta: RequestMeta,
        names: &NamePeek<'_>,
        session: Option<&Session>,
        headers: Option<&McpHeaders>,
    ) -> Result<(Era, Option<ProgressToken>), (Error, Option<ProtocolVersion>)> {
        let progress_token = meta.progress_token.clone();
        let stateless = meta.protocol_version.is_some() || session.is_none();
        if stateless {
            let modern = Some(ProtocolVersion::LATEST);
            let requested = match meta.protocol_version {
                Some(Value::String(s)) => s,
                Some(other) => {
                    return Err((
                        Error::invalid_params(format!(
                            "`_meta.{}` must be a string, got {other}",
                            keys::PROTOCOL_VERSION
                        )),
                        modern,
                    ));
                }
                None => {
                    let hint = if headers.is_some_and(|h| h.protocol_version.is_none()) {
                        " (a legacy client must send the `Mcp-Session-Id` header that `initialize` returned)"
                    } else {
                        ""
                    };
                    return Err((
                        Error::invalid_params(format!(
                            "missing `_meta.{}`: a request without a session must carry its protocol version{hint}",
                            keys::PROTOCOL_VERSION
                        )),
                        modern,
                    ));
                }
            };
            let Some(capabilities) = meta.client_capabilities else {
                return Err((Error::invalid_params(format!("missing `_meta.{}`", keys::CLIENT_CAPABILITIES)), modern));
            };
            if let Some(headers) = headers {
                headers.check(&requested, method, names, &self.registry()).map_err(|e| (e, modern))?;
            }
            let version = match ProtocolVersion::from_wire(&requested) {
                Ok(v) if v.is_stateless() => v,
                _ => {
                    let supported = ProtocolVersion::MODERN.iter().map(|v| v.as_str()).collect();
                    return Err((Error::UnsupportedProtocolVersion { requested, supported }, modern));
                }
            };
            if !version.has_method(method) {
                return Err((
                    Error::MethodNotFound {
                        method: method.to_owned(),
                        reason: Some("not part of protocol version 2026-07-28"),
                    },
                    modern,
                ));
            }
            return Ok((
                Era {
                    version,
                    capabilities: Arc::new(capabilities),
                    client_info: meta.client_info,
                    log_level: meta.log_level,
                },
                progress_token,
            ));
        }
        let Some(session) = session else { unreachable!("stateless when there is no session") };
        // The client info stays in the session (the context reads it on
        // demand): no per-request string copies.
        let (version, capabilities) = session.update(|s| (s.version, Arc::clone(&s.client_capabilities)));
        let version = match version {
            Some(v) => {
                if method == methods::INITIALIZE {
                    return Err((Error::InvalidRequest("session already initialized".into()), Some(v)));
                }
                v
            }
            None if method == methods::INITIALIZE => ProtocolVersion::LATEST_LEGACY,
            None if method == methods::PING => ProtocolVersion::LATEST_LEGACY,
            None => return Err((Error::NotInitialized, None)),
        };
        if !version.has_method(method) {
            return Err((
                Error::MethodNotFound {
                    method: method.to_owned(),
                    reason: Some("only in the stateless protocol (2026-07-28)"),
                },
                Some(version),
            ));
        }
        Ok((Era { version, capabilities, client_info: None, log_level: None }, progress_token))
    }

    fn server_info(&self) -> &Value {
        &self.shared.server_info_meta[keys::SERVER_INFO]
    }

    /// Stamps a typed result for the stateless era: `resultType` and
    /// `_meta.serverInfo`.
    fn stamp(&self, version: ProtocolVersion, result_type: &mut Option<ResultType>, meta: &mut Option<Meta>) {
        if version.has_result_type() {
            *result_type = Some(ResultType::Complete);
            meta.get_or_insert_with(Meta::new).insert(keys::SERVER_INFO.to_owned(), self.server_info().clone());
        }
    }

    fn capabilities(&self, version: ProtocolVersion) -> Value {
        let reg = self.registry();
        let mut caps = serde_json::Map::new();
        caps.insert("logging".into(), json!({}));
        if version >= ProtocolVersion::V2025_03_26 {
            caps.insert("completions".into(), json!({}));
        }
        if !reg.tools.is_empty() {
            caps.insert("tools".into(), json!({ "listChanged": true }));
        }
        if !reg.resources.is_empty() || !reg.templates.is_empty() {
            let subscribe = !version.is_stateless();
            caps.insert("resources".into(), json!({ "subscribe": subscribe, "listChanged": true }));
        }
        if !reg.prompts.is_empty() {
            caps.insert("prompts".into(), json!({ "listChanged": true }));
        }
        Value::Object(caps)
    }

    fn initialize(&self, params: Option<&RawValue>, session: Option<&Session>) -> Result<Reply, Error> {
        let p: InitializeRequestParams = parse_params(methods::INITIALIZE, params)?;
        let session = session.ok_or_else(|| Error::InvalidRequest("initialize needs a session".into()))?;
        let version = ProtocolVersion::negotiate(&p.protocol_version);
        session.update(|s| {
            s.version = Some(version);
            s.client_capabilities = Arc::new(p.capabilities);
            s.client_info = Some(p.client_info);
        });
        let mut result = json!({
            "protocolVersion": version,
            "capabilities": self.capabilities(version),
            "serverInfo": self.server_info(),
        });
        if let Some(i) = &self.shared.instructions {
            result["instructions"] = json!(i);
        }
        raw(&result).map(Reply::Result)
    }

    fn discover(&self) -> Result<Reply, Error> {
        let (ttl, scope) = self.shared.list_cache;
        let supported: Vec<&str> = ProtocolVersion::MODERN.iter().map(|v| v.as_str()).collect();
        let mut result = json!({
            "resultType": ResultType::Complete,
            "supportedVersions": supported,
            "capabilities": self.capabilities(ProtocolVersion::LATEST),
            "ttlMs": ttl,
            "cacheScope": scope,
            "_meta": self.shared.server_info_meta,
        });
        if let Some(i) = &self.shared.instructions {
            result["instructions"] = json!(i);
        }
        raw(&result).map(Reply::Result)
    }

    fn list(
        &self,
        method: &str,
        params: Option<&RawValue>,
        version: ProtocolVersion,
        kind: ListKind,
    ) -> Result<Reply, Error> {
        let p: PageParams = parse_params(method, params)?;
        let reg = self.registry();
        let start = match &p.cursor {
            None => 0,
            Some(c) => cursor::decode(c, kind.tag())
                .ok_or_else(|| Error::invalid_params(format!("`{method}`: invalid cursor {c:?}")))?,
        };
        let (ttl, scope) = self.shared.list_cache;
        let stateless = version.has_result_type().then_some((&self.shared.server_info_meta, ttl, scope));
        let page = self.shared.page_size;
        let len = match kind {
            ListKind::Tools => reg.tools.len(),
            ListKind::Resources => reg.resources.len(),
            ListKind::Templates => reg.templates.len(),
            ListKind::Prompts => reg.prompts.len(),
        };
        let start = start.min(len);
        let end = (start + page).min(len);
        let next_cursor = (end < len).then(|| cursor::encode(end, kind.tag()));
        macro_rules! page {
            ($items:expr, $key:literal, $field:ident) => {{
                let items: Vec<_> = $items[start..end].iter().map(|r| &r.$field).collect();
                raw(&Page { key: $key, items: &items, next_cursor, stateless })
            }};
        }
        let encode = || match kind {
            ListKind::Tools => page!(reg.tools, "tools", tool),
            ListKind::Resources => page!(reg.resources, "resources", resource),
            ListKind::Templates => page!(reg.templates, "resourceTemplates", template),
            ListKind::Prompts => page!(reg.prompts, "prompts", prompt),
        };
        // The registry keeps encoded pages. Only pages that start where this
        // server's cursors point (multiples of the page size) are kept, so
        // their number stays bounded whatever cursors clients make up.
        let out = if start % page == 0 {
            reg.pages.get_or_encode((kind.tag(), start, stateless.is_some()), encode)
        } else {
            encode()
        };
        out.map(Reply::Result)
    }

    fn open_input(
        &self,
        binding: &Binding<'_>,
        request_state: Option<&str>,
        responses: Option<Value>,
    ) -> Result<InputState, Error> {
        let mut st = InputState::default();
        if let Some(state) = request_state {
            let opened = self.shared.sealer.open(state, binding)?;
            st.round = opened.round;
            st.answers = opened.answers;
        }
        match responses {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                // Answers sealed in the state are authoritative: a retry
                // cannot rewrite an earlier round's answer.
                for (k, v) in map {
                    st.answers.entry(k).or_insert(v);
                }
            }
            Some(other) => {
                return Err(Error::invalid_params(format!("`inputResponses` must be an object, got {other}")));
            }
        }
        Ok(st)
    }

    fn input_required(&self, ctx: &Context, binding: &Binding<'_>) -> Result<Reply, Error> {
        let (requests, carried, round) = ctx.with_input(|st| {
            let carried: std::collections::BTreeMap<String, Value> =
                st.answers.iter().filter(|(k, _)| st.used.contains(*k)).map(|(k, v)| (k.clone(), v.clone())).collect();
            (std::mem::take(&mut st.requested), carried, st.round)
        });
        let state = self.shared.sealer.seal(binding, round + 1, &carried);
        let result = json!({
            "resultType": ResultType::InputRequired,
            "inputRequests": requests,
            "requestState": state,
            "_meta": self.shared.server_info_meta,
        });
        raw(&result).map(Reply::Result)
    }

    fn binding<'a>(
        &self,
        ctx: &'a Context,
        method: &'a str,
        target: &'a str,
        args: Option<&'a RawValue>,
    ) -> Binding<'a> {
        let principal = ctx.extensions().get::<Principal>().map(|p| p.subject.as_str());
        Binding::new(method, target, args, principal)
    }

    /// Opens a stateless request's carried input (`requestState` and
    /// `inputResponses`) into its context.
    fn resume_input(
        &self,
        ctx: &Context,
        binding: &Binding<'_>,
        request_state: Option<&str>,
        responses: Option<Value>,
    ) -> Result<(), Error> {
        if request_state.is_none() && responses.is_none() {
            // A first round: nothing to carry.
            return Ok(());
        }
        let opened = self.open_input(binding, request_state, responses)?;
        ctx.with_input(|st| *st = opened);
        Ok(())
    }

    /// Runs a tool.
    async fn call_tool(&self, p: CallParams<'_>, ctx: Context) -> Result<Reply, Error> {
        if let Some(args) = p.arguments
            && !args.get().starts_with('{')
        {
            return Err(Error::invalid_params(format!(
                "`tools/call`: `arguments` must be an object, got {}",
                args.get().chars().take(40).collect::<String>()
            )));
        }
        let reg = self.registry();
        let route = reg.tool(&p.name).ok_or_else(|| Error::UnknownTool(p.name.clone().into_owned()))?;
        let version = ctx.protocol_version();
        let binding = version.is_stateless().then(|| self.binding(&ctx, methods::TOOLS_CALL, &p.name, p.arguments));
        if let Some(b) = &binding {
            self.resume_input(&ctx, b, p.request_state.as_deref(), p.input_responses)?;
        }
        let started = std::panic::catch_unwind(AssertUnwindSafe(|| route.handler.call(ctx.clone(), p.arguments)));
        let fut = match started {
            Err(panic) => return self.tool_panicked(version, &p.name, &panic_message(&*panic)),
            Ok(Ok(fut)) => fut,
            Ok(Err(e)) if version.tool_input_errors_are_results() => {
                return self.finish_tool(version, CallToolResult::error_text(e.to_string()));
            }
            Ok(Err(e)) => return Err(e),
        };
        match drive(&ctx, fut).await {
            Driven::Done(Ok(result)) => {
                if result.is_error == Some(true)
                    && let Some(err) = ctx.take_protocol_error()
                {
                    return Err(err);
                }
                self.finish_tool(version, result)
            }
            Driven::Done(Err(e)) => Err(ctx.take_protocol_error().unwrap_or(e)),
            Driven::InputRequired => match &binding {
                Some(b) => self.input_required(&ctx, b),
                None => Err(Error::internal("input requested outside the stateless protocol")),
            },
            Driven::Cancelled => Ok(Reply::Cancelled),
            Driven::Panicked(msg) => self.tool_panicked(version, &p.name, &msg),
        }
    }

    /// The `isError` result for a panicking tool: no internal details unless
    /// the server exposes them.
    fn tool_panicked(&self, version: ProtocolVersion, name: &str, msg: &str) -> Result<Reply, Error> {
        let detail = format!("panicked: {msg}");
        self.finish_tool(version, internal_failure(name, &detail, self.shared.expose_internal_errors))
    }

    fn finish_tool(&self, version: ProtocolVersion, mut result: CallToolResult) -> Result<Reply, Error> {
        if !version.has_structured_content() {
            result.structured_content = None;
        }
        if version.has_result_type() && result.meta.is_none() {
            result.result_type = Some(ResultType::Complete);
            return self.with_server_info(&result).map(Reply::Result);
        }
        self.stamp(version, &mut result.result_type, &mut result.meta);
        raw(&result).map(Reply::Result)
    }

    /// Serialises a result that has no `_meta` with the server's
    /// pre-rendered `_meta` (its `serverInfo`) as the last member: what
    /// [`Self::stamp`] produces, without building the map for every call.
    fn with_server_info<T: Serialize>(&self, result: &T) -> Result<Box<RawValue>, Error> {
        raw(&WithMeta { result, meta: &self.shared.server_info_meta_json })
    }

    async fn read_resource(&self, params: Option<&RawValue>, ctx: Context) -> Result<Reply, Error> {
        let p: ReadParams = parse_params(methods::RESOURCES_READ, params)?;
        let reg = self.registry();
        let (resolved, vars) = reg.resolve(&p.uri).ok_or_else(|| Error::ResourceNotFound { uri: p.uri.clone() })?;
        let version = ctx.protocol_version();
        let binding = version.is_stateless().then(|| self.binding(&ctx, methods::RESOURCES_READ, &p.uri, None));
        if let Some(b) = &binding {
            self.resume_input(&ctx, b, p.request_state.as_deref(), p.input_responses)?;
        }
        let read = match resolved {
            ResolvedResource::Static(r) => &r.read,
            ResolvedResource::Template(t) => &t.read,
        };
        let fut = std::panic::catch_unwind(AssertUnwindSafe(|| read(ctx.clone(), p.uri.clone(), vars)))
            .map_err(|_| Error::internal(format!("reading `{}` failed with an internal error", p.uri)))?;
        match drive(&ctx, fut).await {
            Driven::Done(Ok(mut result)) => {
                self.stamp(version, &mut result.result_type, &mut result.meta);
                if version.has_result_type() {
                    result.ttl_ms = Some(self.shared.read_cache.0);
                    result.cache_scope = Some(self.shared.read_cache.1);
                }
                raw(&result).map(Reply::Result)
            }
            Driven::Done(Err(e)) => Err(ctx.take_protocol_error().unwrap_or(e)),
            Driven::InputRequired => match &binding {
                Some(b) => self.input_required(&ctx, b),
                None => Err(Error::internal("input requested outside the stateless protocol")),
            },
            Driven::Cancelled => Ok(Reply::Cancelled),
            Driven::Panicked(msg) => {
                tracing::error!(uri = %p.uri, panic = %msg, "resource handler panicked");
                Err(Error::internal(format!("reading `{}` failed with an internal error", p.uri)))
            }
        }
    }

    async fn get_prompt(&self, params: Option<&RawValue>, ctx: Context) -> Result<Reply, Error> {
        // `prompts/get` params have the shape of `tools/call`'s.
        let p: CallParams<'_> = parse_params(methods::PROMPTS_GET, params)?;
        let reg = self.registry();
        let route = reg.prompt(&p.name).ok_or_else(|| Error::UnknownPrompt(p.name.clone().into_owned()))?;
        let version = ctx.protocol_version();
        let binding = version.is_stateless().then(|| self.binding(&ctx, methods::PROMPTS_GET, &p.name, p.arguments));
        if let Some(b) = &binding {
            self.resume_input(&ctx, b, p.request_state.as_deref(), p.input_responses)?;
        }
        let fut = std::panic::catch_unwind(AssertUnwindSafe(|| (route.get)(ctx.clone(), p.arguments)))
            .map_err(|_| Error::internal(format!("prompt `{}` failed with an internal error", p.name)))??;
        match drive(&ctx, fut).await {
            Driven::Done(Ok(mut result)) => {
                self.stamp(version, &mut result.result_type, &mut result.meta);
                raw(&result).map(Reply::Result)
            }
            Driven::Done(Err(e)) => Err(ctx.take_protocol_error().unwrap_or(e)),
            Driven::InputRequired => match &binding {
                Some(b) => self.input_required(&ctx, b),
                None => Err(Error::internal("input requested outside the stateless protocol")),
            },
            Driven::Cancelled => Ok(Reply::Cancelled),
            Driven::Panicked(msg) => {
                tracing::error!(prompt = %p.name, panic = %msg, "prompt handler panicked");
                Err(Error::internal(format!("prompt `{}` failed with an internal error", p.name)))
            }
        }
    }

    async fn complete(&self, params: Option<&RawValue>, ctx: Context) -> Result<Reply, Error> {
        let p: CompleteRequestParams = parse_params(methods::COMPLETION_COMPLETE, params)?;
        let version = ctx.protocol_version();
        let mut result = match &self.shared.completion {
            None => CompleteResult::new(Vec::new()),
            Some(f) => match drive(&ctx, f(ctx.clone(), p)).await {
                Driven::Done(r) => r?,
                Driven::Cancelled => return Ok(Reply::Cancelled),
                Driven::InputRequired => return Err(Error::internal("completion handlers cannot ask for input")),
                Driven::Panicked(msg) => {
                    tracing::error!(panic = %msg, "completion handler panicked");
                    return Err(Error::internal("completion failed with an internal error"));
                }
            },
        };
        let c = &mut result.completion;
        if c.values.len() > MAX_COMPLETION_VALUES {
            c.total = Some(c.total.unwrap_or(0).max(c.values.len() as u64));
            c.values.truncate(MAX_COMPLETION_VALUES);
            c.has_more = Some(true);
        }
        self.stamp(version, &mut result.result_type, &mut result.meta);
        raw(&result).map(Reply::Result)
    }

    fn set_level(&self, params: Option<&RawValue>, session: Option<&Session>) -> Result<Reply, Error> {
        let p: SetLevelRequestParams = parse_params(methods::LOGGING_SET_LEVEL, params)?;
        if let Some(s) = session {
            s.update(|st| st.log_level = Some(p.level));
        }
        raw(&json!({})).map(Reply::Result)
    }

    fn subscribe(&self, method: &str, params: Option<&RawValue>, session: Option<&Session>) -> Result<Reply, Error> {
        let p: UriParams = parse_params(method, params)?;
        if let Some(s) = session {
            s.update(|st| {
                if method == methods::RESOURCES_SUBSCRIBE {
                    st.subscriptions.insert(p.uri);
                } else {
                    st.subscriptions.remove(&p.uri);
                }
            });
        }
        raw(&json!({})).map(Reply::Result)
    }

    async fn listen(&self, params: Option<&RawValue>, ctx: Context) -> Result<Reply, Error> {
        let p: ListenParams = parse_params(methods::SUBSCRIPTIONS_LISTEN, params)?;
        let reg = self.registry();
        let f = p.notifications;
        let honoured = ListenFilter {
            tools_list_changed: f.tools_list_changed && !reg.tools.is_empty(),
            prompts_list_changed: f.prompts_list_changed && !reg.prompts.is_empty(),
            resources_list_changed: f.resources_list_changed && !(reg.resources.is_empty() && reg.templates.is_empty()),
            resource_subscriptions: if reg.resources.is_empty() && reg.templates.is_empty() {
                Vec::new()
            } else {
                f.resource_subscriptions
            },
        };
        drop(reg);
        let sink = ctx.sink().clone();
        let cancel = ctx.cancellation_token().clone();
        if !sink.is_open() {
            return Err(Error::InvalidRequest("subscriptions/listen needs a stream to send notifications on".into()));
        }
        // The spec: the subscription id is the listen request's own id.
        let tag = json!({ keys::SUBSCRIPTION_ID: ctx.request_id() });
        let mut filter = serde_json::Map::new();
        if honoured.tools_list_changed {
            filter.insert("toolsListChanged".into(), json!(true));
        }
        if honoured.prompts_list_changed {
            filter.insert("promptsListChanged".into(), json!(true));
        }
        if honoured.resources_list_changed {
            filter.insert("resourcesListChanged".into(), json!(true));
        }
        if !honoured.resource_subscriptions.is_empty() {
            filter.insert("resourceSubscriptions".into(), json!(honoured.resource_subscriptions));
        }
        let mut events = self.subscribe_events();
        let ack = json!({ "notifications": filter, "_meta": tag });
        if send_notification(&sink, methods::NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED, ack).await.is_err() {
            return Ok(Reply::Cancelled);
        }
        loop {
            let event = tokio::select! {
                ev = events.recv() => ev,
                () = cancel.cancelled() => return Ok(Reply::Cancelled),
            };
            let (method, params) = match event {
                Ok(ServerEvent::ToolsListChanged) if honoured.tools_list_changed => {
                    (methods::NOTIFICATION_TOOLS_LIST_CHANGED, json!({ "_meta": tag }))
                }
                Ok(ServerEvent::PromptsListChanged) if honoured.prompts_list_changed => {
                    (methods::NOTIFICATION_PROMPTS_LIST_CHANGED, json!({ "_meta": tag }))
                }
                Ok(ServerEvent::ResourcesListChanged) if honoured.resources_list_changed => {
                    (methods::NOTIFICATION_RESOURCES_LIST_CHANGED, json!({ "_meta": tag }))
                }
                Ok(ServerEvent::ResourceUpdated(uri)) if honoured.resource_subscriptions.contains(&uri) => {
                    (methods::NOTIFICATION_RESOURCES_UPDATED, json!({ "uri": uri, "_meta": tag }))
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            };
            if send_notification(&sink, method, params).await.is_err() {
                return Ok(Reply::Cancelled);
            }
        }
        raw(&json!({ "resultType": ResultType::Complete, "_meta": tag })).map(Reply::Result)
    }
}

async fn send_notification(sink: &Sink, method: &str, params: Value) -> Result<(), Error> {
    let params = raw(&params)?;
    let msg = Message::Notification(Notification { method: method.to_owned(), params: Some(params) });
    sink.send(&msg).await.map_err(|_| Error::Cancelled)
}

#[derive(Clone, Copy)]
enum ListKind {
    Tools,
    Resources,
    Templates,
    Prompts,
}

impl ListKind {
    fn tag(self) -> char {
        match self {
            Self::Tools => 't',
            Self::Resources => 'r',
            Self::Templates => 'u',
            Self::Prompts => 'p',
        }
    }
}

/// Opaque pagination cursors: the list kind and an offset, base64url.
mod cursor {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    pub(super) fn encode(offset: usize, tag: char) -> String {
        B64.encode(format!("{tag}{offset}"))
    }

    pub(super) fn decode(cursor: &str, tag: char) -> Option<usize> {
        let bytes = B64.decode(cursor).ok()?;
        let text = std::str::from_utf8(&bytes).ok()?;
        text.strip_prefix(tag)?.parse().ok()
    }
}
