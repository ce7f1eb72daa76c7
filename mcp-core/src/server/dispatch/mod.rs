//! The dispatcher: routes each message by its [head](super::RequestHead) to
//! its handler and holds every per-version rule about what a response looks
//! like.
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | the `tower::Service` impl, routing, notifications |
//! | `era.rs` | settling a request's era and version, and checking it is allowed there |
//! | `lifecycle.rs` | `initialize`, `server/discover`, capabilities |
//! | `lists.rs` | the four list methods, pages and cursors |
//! | `handlers.rs` | running tool, resource, prompt and completion handlers |
//! | `input.rs` | multi-round-trip input (`input_required`, `requestState`) |
//! | `listen.rs` | `subscriptions/listen` |
//! | `tasks.rs` | the tasks extension: task creation and runs, `tasks/*` |
//! | `params.rs` | each method's params, and errors that name the field |

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use futures_util::FutureExt as _;
use serde::Serialize;
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

use super::context::ContextParts;
use super::head::{Method, RequestHead};
use super::headers::HeaderSource;
use super::session::{Session, Sink};
use super::tool::BoxFuture;
use super::{Context, Server, ServerRequest};
use crate::error::Error;
use crate::jsonrpc::{Message, Notification, Request, RequestId, Response};
use crate::protocol::logging::SetLevelRequestParams;
use crate::protocol::{Meta, ProtocolVersion, ResultType};

mod era;
mod handlers;
mod input;
mod lifecycle;
mod listen;
mod lists;
mod params;
mod tasks;

#[cfg(feature = "rest")]
pub(crate) use params::without_position;
use params::{CancelParams, UriParams};
pub(crate) use params::{deserialize_at, parse_params};

impl tower_service::Service<ServerRequest> for Server {
    type Response = Option<Response>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Option<Response>, Infallible>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: ServerRequest) -> Self::Future {
        let ServerRequest { message, session, sink, extensions, cancel, head } = req;
        match message {
            // The box holds the request's future itself, not a wrapper that
            // keeps a second copy of its arguments.
            Message::Request(r) => match self.prepare(r, head, session, sink, extensions, cancel) {
                // Refused before any handler runs: nothing to box but the answer.
                Err(refused) => Box::pin(std::future::ready(Ok(Some(refused)))),
                Ok(prepared) => self.clone().run_boxed(prepared),
            },
            other => {
                self.handle_other(other, &head, session.as_deref());
                Box::pin(std::future::ready(Ok(None)))
            }
        }
    }
}

pub(super) fn raw<T: Serialize + ?Sized>(value: &T) -> Result<Box<RawValue>, Error> {
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

/// A request whose era is settled, with what its handler needs.
struct Prepared {
    call: Call,
    id: RequestId,
    progress_token: Option<crate::protocol::progress::ProgressToken>,
    settled: era::Settled,
    session: Option<Arc<Session>>,
    sink: Sink,
    extensions: http::Extensions,
    cancel: CancellationToken,
}

/// What a method handler produced.
pub(super) enum Reply {
    Result(Box<RawValue>),
    /// The request was cancelled: no response is sent.
    Cancelled,
}

/// Removes a running request from its session however the future ends.
struct Registration {
    session: Arc<Session>,
    id: RequestId,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.session.finish_request(&self.id);
    }
}

/// What a request's future keeps around its handler: its registration
/// (undone however the future ends) and what its response needs.
struct Running {
    registration: Option<Registration>,
    id: RequestId,
    version: ProtocolVersion,
    cancelled: CancellationToken,
}

impl Running {
    /// The response for the handler's outcome; `None` when the request was
    /// cancelled (the client expects no response).
    fn respond(self, outcome: Result<Reply, Error>) -> Option<Response> {
        let Self { registration, id, version, cancelled } = self;
        drop(registration);
        if cancelled.is_cancelled() {
            return None;
        }
        match outcome {
            Ok(Reply::Result(r)) => Some(Response::result(id, r)),
            Ok(Reply::Cancelled) => None,
            Err(e) => Some(Response::error(Some(id), e.to_error_object(Some(version)))),
        }
    }
}

/// A prepared request's method and params, once its context is made.
struct Call {
    method: Method,
    method_name: String,
    params: Option<Box<RawValue>>,
    target: Option<super::head::Target>,
    input: super::head::CallInput,
    decoded: bool,
}

impl Server {
    /// Handles one message: a request gets `Some(response)` (or `None` when
    /// it was cancelled); notifications and the client's responses get
    /// `None`.
    pub async fn handle(&self, req: ServerRequest) -> Option<Response> {
        let ServerRequest { message, session, sink, extensions, cancel, head } = req;
        match message {
            Message::Request(r) => match self.prepare(r, head, session, sink, extensions, cancel) {
                Err(refused) => Some(refused),
                // Awaited in place, not boxed: the caller holds this future.
                Ok(prepared) if prepared.call.method == Method::ToolsCall => self.clone().run_tool(prepared).await,
                Ok(prepared) => self.clone().run_request(prepared).await,
            },
            other => {
                self.handle_other(other, &head, session.as_deref());
                None
            }
        }
    }

    /// A notification, or the client's response to a server request.
    fn handle_other(&self, message: Message, head: &RequestHead, session: Option<&Session>) {
        match message {
            Message::Request(_) => {}
            Message::Notification(n) => self.handle_notification(&n, head, session),
            Message::Response(r) => {
                if let (Some(session), Some(id)) = (session, &r.id)
                    && !session.complete_outgoing(id, r.payload)
                {
                    tracing::debug!(%id, "response to an unknown or abandoned request");
                }
            }
        }
    }

    fn handle_notification(&self, n: &Notification, head: &RequestHead, session: Option<&Session>) {
        match head.method() {
            Some(Method::Initialized) => {
                if let Some(s) = session {
                    s.modify(|st| st.initialized = true);
                }
            }
            Some(Method::Cancelled) => {
                let Some(s) = session else { return };
                match parse_params::<CancelParams>(&n.method, n.params.as_deref()) {
                    Ok(CancelParams { request_id: Some(id) }) => {
                        s.cancel_request(&id);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "ignoring a malformed cancellation"),
                }
            }
            _ => tracing::trace!(method = %n.method, "notification ignored"),
        }
    }

    /// The synchronous part of a request: settles its era from the head
    /// and keeps only what its handler needs, so that the head is not
    /// carried in the request's future. `Err` is the answer to a request
    /// refused before any handler runs.
    fn prepare(
        &self,
        req: Request,
        mut head: RequestHead,
        session: Option<Arc<Session>>,
        sink: Sink,
        extensions: http::Extensions,
        cancel: CancellationToken,
    ) -> Result<Prepared, Response> {
        let Request { id, method: method_name, params } = req;
        let settled = match self.settle(&mut head, &method_name, session.as_deref(), HeaderSource::of(&extensions)) {
            Ok(s) => s,
            Err((e, v)) => return Err(Response::error(Some(id), e.to_error_object(v))),
        };
        let call = Call {
            method: head.method().cloned().unwrap_or_else(|| Method::from_wire(&method_name)),
            method_name,
            params,
            target: head.target.take(),
            input: std::mem::take(&mut head.input),
            decoded: head.decoded,
        };
        Ok(Prepared {
            call,
            id,
            progress_token: head.meta.progress_token.take(),
            settled,
            session,
            sink,
            extensions,
            cancel,
        })
    }

    /// Runs one prepared request in a box sized for its method: a
    /// `tools/call`, the hot path, gets a future of its own, so that the
    /// other methods' handlers do not size it. Takes the server by value
    /// (one pointer) so that the future is `'static`.
    fn run_boxed(self, p: Prepared) -> BoxFuture<Result<Option<Response>, Infallible>> {
        if p.call.method == Method::ToolsCall {
            Box::pin(self.run_tool(p).map(Ok))
        } else {
            Box::pin(self.run_request(p).map(Ok))
        }
    }

    /// The synchronous start of a request: registers it in its session
    /// and makes its handler's context.
    fn begin(&self, p: Prepared) -> (Running, ContextParts, Call) {
        let Prepared { call, id, progress_token, settled, session, sink, extensions, cancel } = p;
        // Transports that track requests themselves (stdio) registered this
        // one already; otherwise register it here so that
        // `notifications/cancelled` reaches it.
        let registration = session
            .as_ref()
            .filter(|s| s.start_request(id.clone(), cancel.clone()))
            .map(|s| Registration { session: Arc::clone(s), id: id.clone() });
        let running = Running { registration, id: id.clone(), version: settled.version, cancelled: cancel.clone() };
        let parts = ContextParts {
            request_id: id,
            version: settled.version,
            session,
            sink,
            progress_token,
            log_level: settled.log_level,
            cancel,
            client_capabilities: settled.capabilities,
            client_info: settled.client_info,
            extensions,
            shared: Arc::clone(&self.shared),
            task: super::context::TaskMode::Plain,
        };
        (running, parts, call)
    }

    /// Runs a prepared `tools/call`.
    async fn run_tool(self, p: Prepared) -> Option<Response> {
        let (running, parts, call) = self.begin(p);
        let Call { target, input, decoded, params, .. } = call;
        let step = self.call_tool(handlers::Named { target, input, decoded, params: params.as_deref() }, parts);
        // Not kept across the handler's run.
        drop(params);
        let outcome = self.finish_tool_call(step).await;
        running.respond(outcome)
    }

    /// Runs any other prepared request.
    async fn run_request(self, p: Prepared) -> Option<Response> {
        let (running, parts, call) = self.begin(p);
        let Call { method, method_name, params, target, input, decoded } = call;
        let version = running.version;
        let session = parts.session.clone();
        let params = params.as_deref();
        let named = handlers::Named { target, input, decoded, params };
        // Handlers get a `Context` (one pointer), not the parts: the futures
        // stay small.
        let outcome = match method {
            // `run_boxed` and `handle` send these to `run_tool`; answered here
            // too, boxed, so that this function serves every method.
            Method::ToolsCall => Box::pin(self.finish_tool_call(self.call_tool(named, parts))).await,
            Method::Initialize => self.initialize(params, session.as_deref()),
            Method::Ping => raw(&serde_json::Map::new()).map(Reply::Result),
            Method::ServerDiscover => self.discover(),
            Method::ToolsList => self.list(&method_name, params, version, lists::ListKind::Tools),
            Method::ResourcesList => self.list(&method_name, params, version, lists::ListKind::Resources),
            Method::ResourcesTemplatesList => self.list(&method_name, params, version, lists::ListKind::Templates),
            Method::PromptsList => self.list(&method_name, params, version, lists::ListKind::Prompts),
            Method::ResourcesRead => self.read_resource(named, Context::new(parts)).await,
            Method::PromptsGet => self.get_prompt(named, Context::new(parts)).await,
            Method::CompletionComplete => self.complete(params, Context::new(parts)).await,
            Method::LoggingSetLevel => self.set_level(params, session.as_deref()),
            Method::ResourcesSubscribe | Method::ResourcesUnsubscribe => {
                self.subscribe(&method, params, session.as_deref())
            }
            // Long-lived and rare: boxed, so that it does not size every
            // request's future.
            Method::SubscriptionsListen => Box::pin(self.listen(params, Context::new(parts))).await,
            // Rare next to `tools/call`: boxed for the same reason.
            Method::TasksGet => Box::pin(self.get_task(params, Context::new(parts))).await,
            Method::TasksUpdate => Box::pin(self.update_task(params, Context::new(parts))).await,
            Method::TasksCancel => Box::pin(self.cancel_task(params, Context::new(parts))).await,
            _ => Err(Error::method_not_found(&method_name)),
        };
        running.respond(outcome)
    }

    fn server_info(&self) -> &serde_json::Value {
        &self.shared.server_info_meta[crate::protocol::meta::keys::SERVER_INFO]
    }

    /// Stamps a typed result for the stateless era: `resultType` and
    /// `_meta.serverInfo`.
    fn stamp(&self, version: ProtocolVersion, result_type: &mut Option<ResultType>, meta: &mut Option<Meta>) {
        if version.has_result_type() {
            *result_type = Some(ResultType::Complete);
            meta.get_or_insert_with(Meta::new)
                .insert(crate::protocol::meta::keys::SERVER_INFO.to_owned(), self.server_info().clone());
        }
    }

    /// Serialises a result that has no `_meta` with the server's
    /// pre-rendered `_meta` (its `serverInfo`) as the last member: what
    /// [`Self::stamp`] produces, without building the map for every call.
    fn with_server_info<T: Serialize>(&self, result: &T) -> Result<Box<RawValue>, Error> {
        raw(&WithMeta { result, meta: &self.shared.server_info_meta_json })
    }

    fn set_level(&self, params: Option<&RawValue>, session: Option<&Session>) -> Result<Reply, Error> {
        let p: SetLevelRequestParams = parse_params(crate::protocol::methods::LOGGING_SET_LEVEL, params)?;
        if let Some(s) = session {
            s.modify(|st| st.log_level = Some(p.level));
        }
        raw(&serde_json::Map::new()).map(Reply::Result)
    }

    fn subscribe(&self, method: &Method, params: Option<&RawValue>, session: Option<&Session>) -> Result<Reply, Error> {
        let p: UriParams = parse_params(method.as_str(), params)?;
        if let Some(s) = session {
            s.modify(|st| {
                if *method == Method::ResourcesSubscribe {
                    st.subscriptions.insert(p.uri);
                } else {
                    st.subscriptions.remove(&p.uri);
                }
            });
        }
        raw(&serde_json::Map::new()).map(Reply::Result)
    }
}
