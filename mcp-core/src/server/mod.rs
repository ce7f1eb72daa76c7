//! The server runtime: a [`ServerBuilder`] collects tools, resources,
//! templates and prompts and builds a [`Server`], the one dispatcher every
//! transport calls. `Server` is a [`tower::Service`](tower_service::Service)
//! over [`ServerRequest`], so rate limiting, telemetry, auth and timeouts are
//! ordinary tower layers around it.
//!
//! ```
//! use mcp_core::server::{Context, ServerBuilder, ToolRoute};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Args {
//!     /// Who to greet
//!     name: String,
//! }
//!
//! let server = ServerBuilder::new("hello", "1.0.0")
//!     .tool(ToolRoute::new("greet", |_ctx: Context, a: Args| async move { format!("Hello, {}!", a.name) }))
//!     .build()
//!     .expect("valid server");
//! # let _ = server;
//! ```

mod arguments;
mod builder;
mod caching;
#[cfg(feature = "gateway")]
pub(crate) use builder::validate_tool;
mod context;
mod dispatch;
#[cfg(feature = "rest")]
pub(crate) use dispatch::without_position;
mod extract;
mod frame;
mod head;
pub mod headers;
mod input;
mod prompt;
mod resource;
#[cfg(feature = "rest")]
pub(crate) use resource::percent_decode;
mod routes;
pub mod schema;
mod service;
mod session;
pub mod signal;
pub(crate) mod sink;
pub mod task;
mod tool;

use std::fmt;
use std::sync::{Arc, RwLock};

use tokio::sync::broadcast;

pub use builder::{BuildError, Route, ServerBuilder};
pub use caching::{ResultCaching, ToolCaching};
pub use context::Context;
pub use extract::{Extension, FromContext, RequiredState, State, StateValue};
pub use frame::handle_frame;
pub use head::{Era, HeadMeta, Method, RequestHead, Target};
pub use headers::{CheckMcpHeaders, McpHeaders};
pub use prompt::{IntoPromptResult, PromptRoute};
pub use resource::{IntoReadResult, ResourceRoute, TemplateRoute, UriTemplate, UriVars};
pub use service::{BoxError, IntoLayered, Layered, McpService, call, error_response};
pub use session::{Session, SessionState, Sink, SinkClosed};
pub use tool::{
    BoxFuture, IntoToolResult, Json, NoArgs, TOOL_ERROR_META_KEY, ToolError, ToolHandler, ToolOutput, ToolRoute,
    parse_arguments,
};

use crate::jsonrpc::Message;
use crate::protocol::completion::{CompleteRequestParams, CompleteResult};
use crate::protocol::lifecycle::Implementation;
use crate::protocol::{CacheScope, ProtocolVersion};
use routes::Routes;

/// What a transport hands the dispatcher: one decoded message and where it
/// came from.
#[derive(Debug)]
#[non_exhaustive]
pub struct ServerRequest {
    /// The message.
    pub message: Message,
    /// The legacy session the message belongs to. `None` means the request
    /// must be a stateless (2026-07-28) one.
    pub session: Option<Arc<Session>>,
    /// Where notifications related to this request, and requests to the
    /// client, go.
    pub sink: Sink,
    /// Values for handlers and layers: the authenticated principal, the
    /// Lambda context, the peer address...
    pub extensions: http::Extensions,
    /// Cancels the request when triggered: the transport fires it when the
    /// client goes away, and `notifications/cancelled` fires it through the
    /// session.
    pub cancel: tokio_util::sync::CancellationToken,
    /// The message's head, decoded by [`ServerRequest::new`].
    head: RequestHead,
}

impl ServerRequest {
    /// A request with no extensions. Decodes the message's
    /// [head](RequestHead) here, once, for every layer and the dispatcher.
    ///
    /// The head is not decoded again: a layer that replaces
    /// [`message`](Self::message) builds a new `ServerRequest` instead.
    pub fn new(message: Message, session: Option<Arc<Session>>, sink: Sink) -> Self {
        let head = RequestHead::decode(&message, session.as_deref(), None);
        Self::with_head(message, session, sink, head)
    }

    /// A request a transport serves without a session when it is a legacy
    /// one ([`Era::Sessionless`]: no session, no 2026-07-28 `_meta`), in
    /// `version` (the `MCP-Protocol-Version` header's, or 2025-03-26 when
    /// there is none); `initialize` is answered without opening a session.
    /// A request carrying the 2026-07-28 `_meta` is served in that era as
    /// with [`new`](Self::new).
    ///
    /// ```
    /// use mcp_core::jsonrpc::Message;
    /// use mcp_core::protocol::ProtocolVersion;
    /// use mcp_core::server::{Era, ServerRequest, Sink};
    ///
    /// let msg = Message::parse(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).unwrap();
    /// let req = ServerRequest::sessionless(msg, ProtocolVersion::V2025_03_26, Sink::none());
    /// assert_eq!(req.head().era(), Era::Sessionless);
    /// assert_eq!(req.head().protocol_version(), Some(ProtocolVersion::V2025_03_26));
    /// ```
    pub fn sessionless(message: Message, version: ProtocolVersion, sink: Sink) -> Self {
        let head = RequestHead::decode(&message, None, Some(version));
        Self::with_head(message, None, sink, head)
    }

    fn with_head(message: Message, session: Option<Arc<Session>>, sink: Sink, head: RequestHead) -> Self {
        Self {
            message,
            session,
            sink,
            extensions: http::Extensions::new(),
            cancel: tokio_util::sync::CancellationToken::new(),
            head,
        }
    }

    /// What the request is: method, id, target, era, protocol version and
    /// the `_meta` members layers use, decoded once.
    pub fn head(&self) -> &RequestHead {
        &self.head
    }
}

/// The authenticated caller. Auth layers insert it into
/// [`ServerRequest::extensions`]; multi-round-trip `requestState` is bound
/// to it, and handlers read it with [`Context::extensions`] (or take it as
/// an argument).
///
/// Besides the subject it carries what the caller may do: OAuth
/// [`scopes`](Self::scopes) (from a token's `scope` claim) and
/// `action:resource` [`permissions`](Self::permissions) (from an API key's
/// record), and the [`claims`](Self::claims) it was built from, so that
/// tool code can check a permission on its own arguments:
///
/// ```
/// use mcp_core::server::Principal;
///
/// let p = Principal::new("user-1").with_permissions(["execute:*", "read:reports"]);
/// assert!(p.has_permission("execute", "billing-agent"));
/// assert!(!p.has_permission("delete", "reports"));
/// assert!(Principal::new("admin").with_permissions(["*:*"]).has_permission("delete", "reports"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Principal {
    /// A stable identifier: a JWT `sub`, an API key's user id...
    pub subject: String,
    /// OAuth scopes granted to the caller (a token's `scope` claim).
    pub scopes: Vec<String>,
    /// `action:resource` permissions, each part a literal or `*` (`*:*`
    /// grants everything).
    pub permissions: Vec<String>,
    /// What the principal was built from, as JSON: a token's claims, or an
    /// API key's record (never the key itself). `None` when given directly.
    pub claims: Option<Arc<serde_json::Value>>,
}

impl Principal {
    /// A principal with this subject, and no scopes or permissions.
    pub fn new(subject: impl Into<String>) -> Self {
        Self { subject: subject.into(), scopes: Vec::new(), permissions: Vec::new(), claims: None }
    }

    /// With these OAuth scopes.
    #[must_use]
    pub fn with_scopes<I: IntoIterator<Item = T>, T: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// With these `action:resource` permissions.
    #[must_use]
    pub fn with_permissions<I: IntoIterator<Item = T>, T: Into<String>>(mut self, permissions: I) -> Self {
        self.permissions = permissions.into_iter().map(Into::into).collect();
        self
    }

    /// With the claims (or key record) the principal came from.
    #[must_use]
    pub fn with_claims(mut self, claims: serde_json::Value) -> Self {
        self.claims = Some(Arc::new(claims));
        self
    }

    /// Whether the caller was granted `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Whether one of the caller's permissions grants `action` on
    /// `resource`: `action:resource` exactly, or with `*` for either part.
    pub fn has_permission(&self, action: &str, resource: &str) -> bool {
        self.permissions.iter().any(|p| permission_grants(p, action, resource))
    }

    /// Whether the caller holds `requirement`, read as a scope or as an
    /// `action:resource` permission: what per-tool requirements check.
    pub fn satisfies(&self, requirement: &str) -> bool {
        if self.has_scope(requirement) {
            return true;
        }
        match requirement.split_once(':') {
            Some((action, resource)) => self.has_permission(action, resource),
            None => false,
        }
    }
}

/// Whether `permission` (`action:resource`, either part `*`) grants
/// `action` on `resource`. A permission without `:` grants nothing.
fn permission_grants(permission: &str, action: &str, resource: &str) -> bool {
    let Some((a, r)) = permission.split_once(':') else { return false };
    (a == "*" || a == action) && (r == "*" || r == resource)
}

/// Something that changed on the server, for the sessions and subscription
/// streams that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// The tool list changed.
    ToolsListChanged,
    /// The prompt list changed.
    PromptsListChanged,
    /// The resource list changed.
    ResourcesListChanged,
    /// The resource with this URI changed.
    ResourceUpdated(String),
    /// The task with this id changed status (tasks extension): listen
    /// streams that asked for it (`notifications.taskIds`) get
    /// `notifications/tasks`.
    TaskStatusChanged(String),
}

type CompleteFn =
    dyn Fn(Context, CompleteRequestParams) -> BoxFuture<Result<CompleteResult, crate::Error>> + Send + Sync;

/// A [`Server`] that may be gone (for tasks the server's routes own).
#[derive(Clone)]
#[cfg_attr(not(feature = "gateway"), allow(dead_code))]
pub(crate) struct WeakServer(std::sync::Weak<ServerShared>);

impl fmt::Debug for WeakServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakServer").finish_non_exhaustive()
    }
}

impl WeakServer {
    /// The server, if it is still alive.
    #[cfg_attr(not(feature = "gateway"), allow(dead_code))]
    pub(crate) fn upgrade(&self) -> Option<Server> {
        self.0.upgrade().map(|shared| Server { shared })
    }
}

/// Server-wide settings and state shared by every request.
pub(crate) struct ServerShared {
    pub(crate) info: Implementation,
    pub(crate) instructions: Option<String>,
    pub(crate) routes: RwLock<Arc<Routes>>,
    pub(crate) completion: Option<Arc<CompleteFn>>,
    pub(crate) state: http::Extensions,
    pub(crate) sealer: input::StateSealer,
    pub(crate) events: broadcast::Sender<ServerEvent>,
    pub(crate) page_size: usize,
    pub(crate) list_cache: (u64, CacheScope),
    pub(crate) read_cache: (u64, CacheScope),
    pub(crate) expose_internal_errors: bool,
    pub(crate) reject_unknown_arguments: bool,
    pub(crate) server_info_meta: serde_json::Value,
    /// `server_info_meta` rendered once, for splicing into results.
    pub(crate) server_info_meta_json: Box<serde_json::value::RawValue>,
    /// Tasks, when a tool supports them or a store was given.
    pub(crate) tasks: Option<Arc<task::engine::TaskEngine>>,
}

/// The dispatcher: routes each message to its handler, holds every
/// per-version rule, and answers with a JSON-RPC response. Cheap to clone.
///
/// Transports call it through [`tower_service::Service`] (or
/// [`Server::handle`]); see [`transport`](crate::transport).
#[derive(Clone)]
pub struct Server {
    pub(crate) shared: Arc<ServerShared>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server").field("info", &self.shared.info).finish_non_exhaustive()
    }
}

impl Server {
    /// A builder for a server called `name` at `version`.
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ServerBuilder {
        ServerBuilder::new(name, version)
    }

    /// The server's name and version.
    pub fn info(&self) -> &Implementation {
        &self.shared.info
    }

    /// Follows server events (list changes, resource updates).
    pub fn subscribe_events(&self) -> broadcast::Receiver<ServerEvent> {
        self.shared.events.subscribe()
    }

    /// Keeps this server's tasks in `store` from now on, for a store the
    /// deployment chooses after the server was built (`mcp_aws::run` with
    /// `MCP_TASK_TABLE`). Call it before serving: tasks already in the old
    /// store are not moved. Returns `false`, and does nothing, when the
    /// server has no tasks (no tool supports them, and
    /// [`ServerBuilder::task_store`] was not given).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use mcp_core::server::task::{InMemoryTaskStore, TaskSupport};
    /// use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
    ///
    /// let job = ToolRoute::new("job", |_ctx: Context, _: NoArgs| async { "done" }).task_support(TaskSupport::Optional);
    /// let server = ServerBuilder::new("s", "1").tool(job).build().unwrap();
    /// assert!(server.set_task_store(Arc::new(InMemoryTaskStore::new(100))));
    /// let plain = ServerBuilder::new("s", "1").build().unwrap();
    /// assert!(!plain.set_task_store(Arc::new(InMemoryTaskStore::new(100))));
    /// ```
    pub fn set_task_store(&self, store: Arc<dyn task::TaskStore>) -> bool {
        match &self.shared.tasks {
            Some(engine) => {
                engine.set_store(store);
                true
            }
            None => false,
        }
    }

    /// The tools registered now, as `tools/list` describes them (every
    /// page, in order).
    ///
    /// ```
    /// use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
    ///
    /// let server = ServerBuilder::new("s", "1")
    ///     .tool(ToolRoute::new("ping", |_ctx: Context, _: NoArgs| async { "pong" }))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(server.tools()[0].name, "ping");
    /// ```
    pub fn tools(&self) -> Vec<crate::protocol::tools::Tool> {
        self.routes().tools.iter().map(|t| t.tool().clone()).collect()
    }

    /// What a caller needs to call tool `name` now
    /// ([`ToolRoute::requires`]); `None` when the tool is unknown or open to
    /// anyone.
    pub fn tool_requirements(&self, name: &str) -> Option<Arc<[String]>> {
        self.routes().tool(name)?.requires.clone()
    }

    /// Whether some tool registered now has requirements.
    pub fn has_tool_requirements(&self) -> bool {
        self.routes().tools.iter().any(|t| t.requires.is_some())
    }

    /// Whether a tool of this name is registered now.
    #[cfg(feature = "rest")]
    pub(crate) fn has_tool(&self, name: &str) -> bool {
        self.routes().tool(name).is_some()
    }

    fn routes(&self) -> Arc<Routes> {
        self.shared.routes.read().map_or_else(|p| Arc::clone(&p.into_inner()), |r| Arc::clone(&r))
    }

    fn update_routes(&self, f: impl FnOnce(&mut Routes)) {
        let mut guard = self.shared.routes.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut next = Routes::clone(&guard);
        f(&mut next);
        *guard = Arc::new(next);
    }

    /// Removes a route with `remove`, emitting `changed` if it existed.
    fn remove_route(&self, remove: impl FnOnce(&mut Routes) -> bool, changed: ServerEvent) -> bool {
        let mut removed = false;
        self.update_routes(|r| removed = remove(r));
        if removed {
            self.emit(changed);
        }
        removed
    }

    /// A handle that does not keep the server alive.
    #[cfg_attr(not(feature = "gateway"), allow(dead_code))]
    pub(crate) fn downgrade(&self) -> WeakServer {
        WeakServer(Arc::downgrade(&self.shared))
    }

    /// Adds (or replaces) a tool at run time and tells subscribed clients.
    ///
    /// # Errors
    /// [`BuildError`] when the tool's name or schema is invalid.
    pub fn add_tool(&self, route: ToolRoute) -> Result<(), BuildError> {
        builder::validate_tool(&route, &self.shared.state)?;
        self.update_routes(|r| r.insert_tool(route));
        self.emit(ServerEvent::ToolsListChanged);
        Ok(())
    }

    /// Removes a tool at run time; returns whether it existed.
    pub fn remove_tool(&self, name: &str) -> bool {
        self.remove_route(|r| r.remove_tool(name), ServerEvent::ToolsListChanged)
    }

    /// Adds (or replaces) a prompt at run time and tells subscribed clients.
    pub fn add_prompt(&self, route: PromptRoute) {
        self.update_routes(|r| r.insert_prompt(route));
        self.emit(ServerEvent::PromptsListChanged);
    }

    /// Adds (or replaces) a resource at run time and tells subscribed
    /// clients.
    pub fn add_resource(&self, route: ResourceRoute) {
        self.update_routes(|r| r.insert_resource(route));
        self.emit(ServerEvent::ResourcesListChanged);
    }

    /// Removes a prompt at run time; returns whether it existed.
    pub fn remove_prompt(&self, name: &str) -> bool {
        self.remove_route(|r| r.remove_prompt(name), ServerEvent::PromptsListChanged)
    }

    /// Removes a resource at run time; returns whether it existed.
    pub fn remove_resource(&self, uri: &str) -> bool {
        self.remove_route(|r| r.remove_resource(uri), ServerEvent::ResourcesListChanged)
    }

    /// Adds (or replaces, by its URI template) a resource template at run
    /// time and tells subscribed clients.
    ///
    /// # Errors
    /// [`BuildError::InvalidTemplate`] when the URI template does not parse.
    pub fn add_resource_template(&self, route: TemplateRoute) -> Result<(), BuildError> {
        if let Err(e) = &route.matcher {
            return Err(BuildError::InvalidTemplate(e.clone()));
        }
        self.update_routes(|r| r.insert_template(route));
        self.emit(ServerEvent::ResourcesListChanged);
        Ok(())
    }

    /// Removes a resource template (by its URI template) at run time;
    /// returns whether it existed.
    pub fn remove_resource_template(&self, uri_template: &str) -> bool {
        self.remove_route(|r| r.remove_template(uri_template), ServerEvent::ResourcesListChanged)
    }

    /// Tells clients subscribed to `uri` that it changed.
    pub fn notify_resource_updated(&self, uri: impl Into<String>) {
        self.emit(ServerEvent::ResourceUpdated(uri.into()));
    }

    /// Broadcasts an event to sessions and subscription streams.
    pub fn emit(&self, event: ServerEvent) {
        // No receivers is fine: nobody is listening.
        let _ = self.shared.events.send(event);
    }
}
