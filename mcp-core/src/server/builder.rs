//! [`ServerBuilder`]: collects everything a server serves and checks it once.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::json;
use tokio::sync::broadcast;

use super::extract::{RequiredState, StateValue};
use super::input::StateSealer;
use super::prompt::PromptRoute;
use super::resource::{ResourceRoute, TemplateRoute};
use super::routes::Routes;
use super::schema::is_object_schema;
use super::task::engine::{TaskConfig, TaskEngine};
use super::task::{InMemoryTaskStore, TaskStore};
use super::tool::ToolRoute;
use super::{CompleteFn, Context, Server, ServerShared};
use crate::error::Error;
use crate::protocol::CacheScope;
use crate::protocol::completion::{CompleteRequestParams, CompleteResult};
use crate::protocol::lifecycle::Implementation;
use crate::protocol::meta::keys;

/// A server definition that cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Tool names are 1-128 characters of `A-Z a-z 0-9 _ - .`.
    #[error("invalid tool name {0:?}: use 1-128 characters of A-Z, a-z, 0-9, `_`, `-` and `.`")]
    InvalidToolName(String),
    /// Two tools share a name.
    #[error("duplicate tool name {0:?}")]
    DuplicateTool(String),
    /// Two prompts share a name.
    #[error("duplicate prompt name {0:?}")]
    DuplicatePrompt(String),
    /// Two resources share a URI.
    #[error("duplicate resource URI {0:?}")]
    DuplicateResource(String),
    /// A tool's input or output schema is not an object schema.
    #[error("tool {tool:?}: the {which} schema must have `\"type\": \"object\"` at its root{}", schema_fix(which))]
    SchemaNotObject {
        /// The tool.
        tool: String,
        /// `input` or `output`.
        which: &'static str,
    },
    /// A resource template does not parse.
    #[error("{0}")]
    InvalidTemplate(String),
    /// A handler extracts `State<T>` (or another extractor needing state)
    /// but no state of type `T` was registered.
    #[error(
        "{route} takes state of type `{type_name}`, which was never registered: \
         call `ServerBuilder::state` with a value of exactly that type"
    )]
    MissingState {
        /// What needs it, e.g. `tool "add_note"`.
        route: String,
        /// The state's type, e.g. `Arc<Mutex<Notes>>`.
        type_name: String,
    },
}

/// How to fix a non-object schema.
fn schema_fix(which: &str) -> &'static str {
    if which == "output" {
        "; return `Json<T>`, which wraps a non-object `T` as `{\"result\": ..}` with a matching schema, \
         or wrap the schema the same way with `server::schema::output_schema_for`"
    } else {
        "; tool arguments are a struct (or map) of named properties"
    }
}

/// The first state `required` needs that `state` lacks, as an error naming
/// `kind` `name` (`tool` `"add_note"`).
fn check_state(kind: &str, name: &str, required: &[RequiredState], state: &http::Extensions) -> Result<(), BuildError> {
    match required.iter().find(|r| !r.is_registered(state)) {
        Some(missing) => {
            Err(BuildError::MissingState { route: format!("{kind} {name:?}"), type_name: missing.type_name() })
        }
        None => Ok(()),
    }
}

pub(crate) fn validate_tool(route: &ToolRoute, state: &http::Extensions) -> Result<(), BuildError> {
    check_state("tool", &route.tool.name, &route.required_state, state)?;
    let name = &route.tool.name;
    let valid = (1..=128).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !valid {
        return Err(BuildError::InvalidToolName(name.clone()));
    }
    if !is_object_schema(&route.tool.input_schema) {
        return Err(BuildError::SchemaNotObject { tool: name.clone(), which: "input" });
    }
    if route.tool.output_schema.as_ref().is_some_and(|s| !is_object_schema(s)) {
        return Err(BuildError::SchemaNotObject { tool: name.clone(), which: "output" });
    }
    Ok(())
}

/// Whether internal errors reach clients when the code does not say:
/// `MCP_EXPOSE_INTERNAL_ERRORS` when set, else whether this is a debug build.
fn expose_internal_errors_default(var: Option<String>) -> bool {
    match var {
        Some(v) => !matches!(v.trim().to_ascii_lowercase().as_str(), "0" | "false" | "no" | "off"),
        None => cfg!(debug_assertions),
    }
}

/// Logs, once at build, what a model would have to guess: a tool without
/// a description, arguments without one.
fn warn_undocumented(tool: &crate::protocol::tools::Tool) {
    for warning in undocumented(tool) {
        match warning {
            Undocumented::Tool => tracing::warn!(
                tool = %tool.name,
                "tool has no description, and models choose tools by it: add a doc comment or `.with_description(..)`"
            ),
            Undocumented::Arguments(bare) => tracing::warn!(
                tool = %tool.name,
                arguments = %bare,
                "tool arguments without a description: add a doc comment to each parameter (or field)"
            ),
        }
    }
}

/// What [`warn_undocumented`] warns about.
#[derive(Debug, PartialEq, Eq)]
enum Undocumented {
    /// The tool has no description.
    Tool,
    /// These arguments (comma-separated) have none.
    Arguments(String),
}

fn undocumented(tool: &crate::protocol::tools::Tool) -> Vec<Undocumented> {
    let mut out = Vec::new();
    if tool.description.as_deref().is_none_or(str::is_empty) {
        out.push(Undocumented::Tool);
    }
    if let Some(serde_json::Value::Object(properties)) = tool.input_schema.get("properties") {
        let bare: Vec<&str> =
            properties.iter().filter(|(_, p)| p.get("description").is_none()).map(|(name, _)| name.as_str()).collect();
        if !bare.is_empty() {
            out.push(Undocumented::Arguments(bare.join(", ")));
        }
    }
    out
}

/// Anything a server serves: what `#[routes]` collects from an impl block or
/// a module, for [`ServerBuilder::routes`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Route {
    /// A tool.
    Tool(ToolRoute),
    /// A prompt.
    Prompt(PromptRoute),
    /// A resource at a fixed URI.
    Resource(ResourceRoute),
    /// A resource template.
    Template(TemplateRoute),
}

macro_rules! route_from {
    ($($variant:ident($t:ty)),*) => {$(
        impl From<$t> for Route {
            fn from(route: $t) -> Self {
                Self::$variant(route)
            }
        }
    )*};
}
route_from!(Tool(ToolRoute), Prompt(PromptRoute), Resource(ResourceRoute), Template(TemplateRoute));

/// Builds a [`Server`]. See the [module docs](super) for an example.
#[must_use]
pub struct ServerBuilder {
    info: Implementation,
    instructions: Option<String>,
    tools: Vec<ToolRoute>,
    resources: Vec<ResourceRoute>,
    templates: Vec<TemplateRoute>,
    prompts: Vec<PromptRoute>,
    completion: Option<Arc<CompleteFn>>,
    state: http::Extensions,
    state_key: Option<Vec<u8>>,
    state_ttl: Duration,
    page_size: usize,
    list_cache: (u64, CacheScope),
    read_cache: (u64, CacheScope),
    expose_internal_errors: bool,
    reject_unknown_arguments: bool,
    task_store: Option<Arc<dyn TaskStore>>,
    task_config: TaskConfig,
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder").field("info", &self.info).finish_non_exhaustive()
    }
}

impl ServerBuilder {
    /// A builder for a server called `name` at `version`.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            info: Implementation::new(name, version),
            instructions: None,
            tools: Vec::new(),
            resources: Vec::new(),
            templates: Vec::new(),
            prompts: Vec::new(),
            completion: None,
            state: http::Extensions::new(),
            state_key: None,
            state_ttl: Duration::from_secs(600),
            page_size: 100,
            list_cache: (0, CacheScope::Private),
            read_cache: (0, CacheScope::Private),
            expose_internal_errors: expose_internal_errors_default(std::env::var("MCP_EXPOSE_INTERNAL_ERRORS").ok()),
            reject_unknown_arguments: true,
            task_store: None,
            task_config: TaskConfig::default(),
        }
    }

    /// Keeps tasks (the tasks extension) in `store` rather than in an
    /// [`InMemoryTaskStore`] of 10,000 tasks: a shared store lets every
    /// instance of the server read, update and cancel every task.
    pub fn task_store(mut self, store: Arc<dyn TaskStore>) -> Self {
        self.task_store = Some(store);
        self
    }

    /// How long a task is kept after its creation (its `ttlMs`); one hour
    /// by default.
    pub fn task_ttl(mut self, ttl: Duration) -> Self {
        self.task_config.ttl = ttl;
        self
    }

    /// The polling interval clients are told (`pollIntervalMs`); 500 ms by
    /// default.
    pub fn task_poll_interval(mut self, interval: Duration) -> Self {
        self.task_config.poll_interval = interval;
        self
    }

    /// How long a task's worker holds it without renewing (it renews every
    /// third of it while the handler runs); a `working` task whose lease
    /// passes lost its worker and is reported failed. 30 s by default.
    pub fn task_lease(mut self, lease: Duration) -> Self {
        self.task_config.lease = lease.max(Duration::from_millis(3));
        self
    }

    /// Edits the server's `Implementation` (title, icons, website...).
    pub fn info(mut self, f: impl FnOnce(Implementation) -> Implementation) -> Self {
        self.info = f(self.info);
        self
    }

    /// Guidance for the model on how to use this server.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Adds a tool.
    pub fn tool(mut self, route: ToolRoute) -> Self {
        self.tools.push(route);
        self
    }

    /// Adds tools, e.g. a `Vec<ToolRoute>` built elsewhere.
    pub fn tools(mut self, routes: impl IntoIterator<Item = ToolRoute>) -> Self {
        self.tools.extend(routes);
        self
    }

    /// Adds tools, prompts, resources and templates in one go, e.g. all
    /// those `#[routes]` collected from an impl block or module:
    /// `builder.routes(calc::routes())`.
    pub fn routes(mut self, routes: impl IntoIterator<Item = Route>) -> Self {
        for route in routes {
            match route {
                Route::Tool(r) => self.tools.push(r),
                Route::Prompt(r) => self.prompts.push(r),
                Route::Resource(r) => self.resources.push(r),
                Route::Template(r) => self.templates.push(r),
            }
        }
        self
    }

    /// Adds a resource at a fixed URI.
    pub fn resource(mut self, route: ResourceRoute) -> Self {
        self.resources.push(route);
        self
    }

    /// Adds a resource template.
    pub fn resource_template(mut self, route: TemplateRoute) -> Self {
        self.templates.push(route);
        self
    }

    /// Adds a prompt.
    pub fn prompt(mut self, route: PromptRoute) -> Self {
        self.prompts.push(route);
        self
    }

    /// Answers `completion/complete` (prompt arguments and template
    /// variables). Without one, completions are empty. At most 100 values are
    /// sent; `hasMore` is set when there were more.
    pub fn completion<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Context, CompleteRequestParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CompleteResult, Error>> + Send + 'static,
    {
        self.completion = Some(Arc::new(move |ctx, params| Box::pin(f(ctx, params))));
        self
    }

    /// Shared application state, read by handlers with
    /// [`Context::state`]. One value per type.
    pub fn state<T: StateValue>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// The key that authenticates multi-round-trip `requestState` values.
    /// Every instance behind one endpoint needs the same key; without one, a
    /// random key is made at start-up (fine for a single process).
    pub fn request_state_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.state_key = Some(key.into());
        self
    }

    /// How long a `requestState` stays valid (default 10 minutes).
    pub fn request_state_ttl(mut self, ttl: Duration) -> Self {
        self.state_ttl = ttl;
        self
    }

    /// Items per page of `tools/list`, `resources/list`,
    /// `resources/templates/list` and `prompts/list` (default 100).
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// The caching hints (2026-07-28) of list results and of
    /// `server/discover` (default `0` ms, `private`).
    pub fn list_cache(mut self, ttl: Duration, scope: CacheScope) -> Self {
        self.list_cache = (u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX), scope);
        self
    }

    /// The caching hints of `resources/read` results (default `0` ms,
    /// `private`).
    pub fn read_cache(mut self, ttl: Duration, scope: CacheScope) -> Self {
        self.read_cache = (u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX), scope);
        self
    }

    /// Whether a panicking or failing tool's internal message reaches the
    /// client. By default it does in debug builds (development, where the
    /// message is what you need) and does not in release builds (the client
    /// sees only that the tool failed); the environment variable
    /// `MCP_EXPOSE_INTERNAL_ERRORS` overrides that default (`0`, `false`,
    /// `no` or `off` to hide, anything else to show), and this method
    /// overrides both. The message is always logged.
    pub fn expose_internal_errors(mut self, on: bool) -> Self {
        self.expose_internal_errors = on;
        self
    }

    /// Whether a tool call with an argument its input schema does not declare
    /// (a misspelt `lmit`) is refused, naming it, as other invalid arguments
    /// are: an `isError` result from 2025-11-25 on, error -32602 before. On
    /// by default: the official Python and TypeScript clients send only the
    /// schema's properties, so an unknown one is a mistake worth reporting
    /// to the model rather than a value to drop. A schema that allows
    /// `additionalProperties` (a flattened map) accepts any name.
    ///
    /// ```
    /// use mcp_core::server::ServerBuilder;
    ///
    /// // A server whose clients send extra fields it ignores.
    /// let server = ServerBuilder::new("lenient", "1.0.0").reject_unknown_arguments(false).build();
    /// assert!(server.is_ok());
    /// ```
    pub fn reject_unknown_arguments(mut self, on: bool) -> Self {
        self.reject_unknown_arguments = on;
        self
    }

    /// Checks the definitions and builds the server.
    ///
    /// # Errors
    /// [`BuildError`] naming the first invalid or duplicate definition, or
    /// the first handler whose state was never registered
    /// ([`BuildError::MissingState`]).
    pub fn build(self) -> Result<Server, BuildError> {
        let mut routes = Routes::default();
        for route in self.tools {
            validate_tool(&route, &self.state)?;
            warn_undocumented(&route.tool);
            if routes.tool(&route.tool.name).is_some() {
                return Err(BuildError::DuplicateTool(route.tool.name.clone()));
            }
            routes.insert_tool(route);
        }
        let mut seen = std::collections::HashSet::new();
        for route in self.resources {
            check_state("resource", &route.resource.uri, &route.required_state, &self.state)?;
            if !seen.insert(route.resource.uri.clone()) {
                return Err(BuildError::DuplicateResource(route.resource.uri.clone()));
            }
            routes.insert_resource(route);
        }
        for route in self.templates {
            check_state("resource template", &route.template.uri_template, &route.required_state, &self.state)?;
            if let Err(e) = &route.matcher {
                return Err(BuildError::InvalidTemplate(e.clone()));
            }
            routes.insert_template(route);
        }
        for route in self.prompts {
            check_state("prompt", &route.prompt.name, &route.required_state, &self.state)?;
            if routes.has_prompt_name(&route.prompt.name) {
                return Err(BuildError::DuplicatePrompt(route.prompt.name.clone()));
            }
            routes.insert_prompt(route);
        }
        let (events, _) = broadcast::channel(64);
        let wants_tasks = routes.tools.iter().any(|t| t.task_support.allows_tasks());
        let tasks = match self.task_store {
            Some(store) => Some(store),
            None if wants_tasks => Some(Arc::new(InMemoryTaskStore::default()) as Arc<dyn TaskStore>),
            None => None,
        }
        .map(|store| Arc::new(TaskEngine::new(store, self.task_config).with_events(events.clone())));
        let server_info_meta = json!({ keys::SERVER_INFO: &self.info });
        let server_info_meta_json = serde_json::value::to_raw_value(&server_info_meta)
            .unwrap_or_else(|_| unreachable!("a JSON value serialises"));
        Ok(Server {
            shared: Arc::new(ServerShared {
                info: self.info,
                instructions: self.instructions,
                routes: RwLock::new(Arc::new(routes)),
                completion: self.completion,
                state: self.state,
                sealer: StateSealer::new(self.state_key.as_deref(), self.state_ttl),
                events,
                page_size: self.page_size,
                list_cache: self.list_cache,
                read_cache: self.read_cache,
                expose_internal_errors: self.expose_internal_errors,
                reject_unknown_arguments: self.reject_unknown_arguments,
                server_info_meta,
                server_info_meta_json,
                tasks,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{NoArgs, State};

    #[test]
    fn internal_errors_show_in_debug_builds_unless_the_environment_says_no() {
        assert_eq!(expose_internal_errors_default(None), cfg!(debug_assertions));
        for off in ["0", "false", "OFF", " no "] {
            assert!(!expose_internal_errors_default(Some(off.into())), "{off}");
        }
        assert!(expose_internal_errors_default(Some("1".into())));
    }

    #[test]
    fn build_names_unregistered_state() {
        let tool = ToolRoute::new("add_note", |_: Context, _: NoArgs| async { "ok" }).extracts::<State<Arc<String>>>();
        let err = ServerBuilder::new("s", "1").tool(tool.clone()).build().err();
        assert_eq!(
            err,
            Some(BuildError::MissingState { route: "tool \"add_note\"".into(), type_name: "Arc<String>".into() })
        );
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("`Arc<String>`") && msg.contains("ServerBuilder::state"), "{msg}");
        // The wrong type does not count; the right one does.
        assert!(ServerBuilder::new("s", "1").state(String::new()).tool(tool.clone()).build().is_err());
        assert!(ServerBuilder::new("s", "1").state(Arc::new(String::new())).tool(tool).build().is_ok());
    }

    #[test]
    fn build_warns_about_missing_descriptions() {
        #[derive(serde::Deserialize, schemars::JsonSchema)]
        struct Args {
            /// Documented
            _query: String,
            _lmit: u32,
        }
        // What is warned about, read directly: a captured log would depend on
        // tracing's process-wide callsite cache, which tests running on other
        // threads change.
        let search = ToolRoute::new("search", |_: Context, _: Args| async { "" });
        assert_eq!(undocumented(search.tool()), [Undocumented::Tool, Undocumented::Arguments("_lmit".into())]);
        let fine = ToolRoute::new("ok", |_: Context, _: NoArgs| async { "" }).with_description("Fine");
        assert_eq!(undocumented(fine.tool()), []);
        // And build logs them, and still builds.
        let log = crate::test_log::Captured::default();
        let built = tracing::subscriber::with_default(log.clone(), || {
            tracing::callsite::rebuild_interest_cache();
            ServerBuilder::new("s", "1").tool(search).tool(fine).build()
        });
        assert!(built.is_ok());
        assert!(log.lines().iter().all(|l| l.contains("tool=search")), "{:?}", log.lines());
    }

    #[test]
    fn optional_state_is_not_required() {
        let tool = ToolRoute::new("t", |_: Context, _: NoArgs| async { "ok" }).extracts::<Option<State<u8>>>();
        assert!(ServerBuilder::new("s", "1").tool(tool).build().is_ok());
    }

    #[test]
    fn prompts_and_resources_are_checked_too() {
        let prompt = PromptRoute::new("p", |_: Context, _: NoArgs| async { String::new() }).extracts::<State<u8>>();
        let err = ServerBuilder::new("s", "1").prompt(prompt).build().err();
        assert!(matches!(&err, Some(BuildError::MissingState { route, .. }) if route == "prompt \"p\""), "{err:?}");
        let resource =
            ResourceRoute::new("x://r", "r", |_: Context, _: String| async { String::new() }).extracts::<State<u8>>();
        let err = ServerBuilder::new("s", "1").resource(resource).build().err();
        assert!(matches!(&err, Some(BuildError::MissingState { route, .. }) if route == "resource \"x://r\""));
    }
}
