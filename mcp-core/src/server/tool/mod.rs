//! Tools: the [`ToolHandler`] trait, [`ToolRoute`] (a tool's metadata plus
//! its handler), and [`IntoToolResult`], which turns what a tool returns into
//! a `CallToolResult`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::Context;
use super::arguments::{parse_checked, parse_named_arguments};
use super::extract::RequiredState;
use super::schema::object_schema_for;
use super::task::{TaskFollower, TaskSupport};
use crate::error::Error;
use crate::protocol::Meta;
use crate::protocol::content::Icon;
use crate::protocol::tools::{CallToolResult, Tool, ToolAnnotations};

mod result;

pub use result::{IntoToolResult, Json, TOOL_ERROR_META_KEY, ToolError};

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What a tool call resolves to: a result (possibly `isError`), or a protocol
/// error sent as a JSON-RPC error.
pub type ToolOutput = Result<CallToolResult, Error>;

/// A tool's implementation with its types erased.
///
/// [`ToolRoute::new`] implements it for closures and `#[tool]` for
/// functions; implement it yourself only for tools whose arguments are not a
/// Rust type (a proxy, say).
pub trait ToolHandler: Send + Sync + 'static {
    /// Validates `arguments` (`None` when the request had none) and starts
    /// the call.
    ///
    /// # Errors
    /// [`Error::InvalidParams`] naming the offending field when the arguments
    /// do not fit; the dispatcher reports it as the protocol version requires
    /// (an `isError` result from 2025-11-25 on, -32602 before).
    fn call(&self, ctx: Context, arguments: Option<&RawValue>) -> Result<BoxFuture<ToolOutput>, Error>;
}

/// Deserialises tool arguments, naming the field that does not fit.
///
/// # Errors
/// [`Error::InvalidParams`] with the field path and the expected type.
pub fn parse_arguments<A: DeserializeOwned>(tool: &str, arguments: Option<&RawValue>) -> Result<A, Error> {
    parse_named_arguments("tool", tool, arguments)
}

/// Arguments of a tool that takes none: its schema is an empty object.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
pub struct NoArgs {}

struct FnHandler<F, A> {
    name: Arc<str>,
    f: F,
    _args: std::marker::PhantomData<fn(A)>,
}

impl<F, A, Fut, R> ToolHandler for FnHandler<F, A>
where
    F: Fn(Context, A) -> Fut + Send + Sync + 'static,
    A: DeserializeOwned + Send + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoToolResult,
{
    fn call(&self, ctx: Context, arguments: Option<&RawValue>) -> Result<BoxFuture<ToolOutput>, Error> {
        let args: A = parse_arguments(&self.name, arguments)?;
        Ok(self.start(ctx, args))
    }
}

impl<F, A, Fut, R> CheckedCall for FnHandler<F, A>
where
    F: Fn(Context, A) -> Fut + Send + Sync + 'static,
    A: DeserializeOwned + Send + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoToolResult,
{
    fn call_checked(
        &self,
        ctx: Context,
        arguments: Option<&RawValue>,
        declared: &[String],
    ) -> Result<BoxFuture<ToolOutput>, Error> {
        let args: A = parse_checked(&self.name, declared, arguments)?;
        Ok(self.start(ctx, args))
    }
}

impl<F, A, Fut, R> FnHandler<F, A>
where
    F: Fn(Context, A) -> Fut + Send + Sync + 'static,
    A: Send + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoToolResult,
{
    fn start(&self, ctx: Context, args: A) -> BoxFuture<ToolOutput> {
        let expose = ctx.expose_internal_errors();
        let fut = (self.f)(ctx, args);
        let name = Arc::clone(&self.name);
        Box::pin(async move {
            match fut.await.into_tool_result() {
                Err(Error::Internal(detail)) => Ok(internal_failure(&name, &detail, expose)),
                other => other,
            }
        })
    }
}

/// A handler that refuses argument names outside its schema's closed set
/// while it parses its arguments, instead of after a separate check: what
/// [`ToolRoute::new`] (and so `#[tool]`) builds. The dispatcher uses it
/// when unknown arguments are refused and the schema is closed.
pub(crate) trait CheckedCall: Send + Sync + 'static {
    /// [`ToolHandler::call`], refusing names outside `declared` first.
    fn call_checked(
        &self,
        ctx: Context,
        arguments: Option<&RawValue>,
        declared: &[String],
    ) -> Result<BoxFuture<ToolOutput>, Error>;
}

/// The `isError` result of a tool that failed unexpectedly: the detail is
/// logged, and reaches the client only when the server exposes internal
/// errors ([`ServerBuilder::expose_internal_errors`](super::ServerBuilder::expose_internal_errors)).
pub(super) fn internal_failure(name: &str, detail: &str, expose: bool) -> CallToolResult {
    report_internal(&format!("tool `{name}`"), detail, &mut std::io::stderr());
    let mut result = if expose {
        CallToolResult::error_text(format!("tool `{name}` failed: {detail}"))
    } else {
        CallToolResult::error_text(format!("tool `{name}` failed with an internal error"))
    };
    // Marked as a `ToolError` is: the REST façade answers it with 500.
    result
        .meta
        .get_or_insert_with(Default::default)
        .insert(TOOL_ERROR_META_KEY.into(), serde_json::json!({ "code": ToolError::INTERNAL }));
    result
}

/// Logs the internal error of `what` (``tool `add` ``); without a tracing
/// subscriber, where the log would go nowhere, writes it to `out` (stderr)
/// instead, which every transport leaves free for logs.
pub(crate) fn report_internal(what: &str, detail: &str, out: &mut dyn std::io::Write) {
    let no_subscriber = tracing::dispatcher::get_default(|d| d.is::<tracing::subscriber::NoSubscriber>());
    if no_subscriber {
        // Nothing to do if stderr itself is gone.
        let _ = writeln!(out, "ERROR mcp_core: {what} failed with an internal error: {detail}");
    } else {
        tracing::error!(error = %detail, "{what} failed with an internal error");
    }
}

/// A tool: its wire description (name, schemas, annotations) and its
/// handler. Register it with [`ServerBuilder::tool`](super::ServerBuilder::tool).
///
/// ```
/// use mcp_core::server::{Context, ToolRoute};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct AddArgs {
///     /// The first addend
///     a: f64,
///     /// The second addend
///     b: f64,
/// }
///
/// let add = ToolRoute::new("add", |_ctx: Context, args: AddArgs| async move { args.a + args.b })
///     .with_description("Add two numbers");
/// assert_eq!(add.tool().name, "add");
/// ```
#[derive(Clone)]
pub struct ToolRoute {
    pub(crate) tool: Tool,
    pub(crate) handler: Arc<dyn ToolHandler>,
    /// What [`Self::extracts`] recorded.
    pub(crate) required_state: Vec<RequiredState>,
    /// What a caller needs to call it ([`Self::requires`]).
    pub(crate) requires: Option<Arc<[String]>>,
    /// Whether its calls may run as tasks ([`Self::task_support`]).
    pub(crate) task_support: TaskSupport,
    /// The task starts when the handler asks ([`Self::defer_task`]).
    pub(crate) defer_task: bool,
    /// Follows the external work of its tasks ([`Self::task_follower`]).
    pub(crate) follower: Option<Arc<dyn TaskFollower>>,
    /// What result caches may do with it ([`Self::cache_ttl`]).
    pub(crate) caching: super::caching::RouteCaching,
    /// Its input schema's facts, worked out when it is registered.
    pub(crate) facts: Arc<super::arguments::SchemaFacts>,
    /// The handler again, when it checks argument names as it parses them.
    pub(crate) checked: Option<Arc<dyn CheckedCall>>,
}

impl fmt::Debug for ToolRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolRoute").field("tool", &self.tool).finish_non_exhaustive()
    }
}

impl ToolRoute {
    /// A tool named `name` that runs `f`. The input schema comes from `A`
    /// (with doc comments as descriptions), the output schema from `R` when
    /// it is [`Json<T>`].
    pub fn new<F, A, Fut, R>(name: impl Into<String>, f: F) -> Self
    where
        F: Fn(Context, A) -> Fut + Send + Sync + 'static,
        A: DeserializeOwned + JsonSchema + Send + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoToolResult,
    {
        let name = name.into();
        let mut tool = Tool::new(name.clone(), object_schema_for::<A>());
        tool.output_schema = R::output_schema();
        let handler = Arc::new(FnHandler { name: name.into(), f, _args: std::marker::PhantomData });
        Self::from_parts(tool, handler.clone(), Some(handler))
    }

    /// A tool from a wire description and a hand-written handler.
    pub fn from_handler(tool: Tool, handler: impl ToolHandler) -> Self {
        Self::from_parts(tool, Arc::new(handler), None)
    }

    fn from_parts(tool: Tool, handler: Arc<dyn ToolHandler>, checked: Option<Arc<dyn CheckedCall>>) -> Self {
        Self {
            handler,
            checked,
            required_state: Vec::new(),
            requires: None,
            task_support: TaskSupport::Forbidden,
            defer_task: false,
            follower: None,
            caching: Default::default(),
            facts: Arc::new(super::arguments::SchemaFacts::of(&tool)),
            tool,
        }
    }

    /// Lets the tool's calls run as tasks (the `io.modelcontextprotocol/tasks`
    /// extension; see [`task`](super::task)). The macro form is
    /// `#[tool(task = "optional")]` or `#[tool(task = "required")]`.
    ///
    /// ```
    /// use mcp_core::server::task::TaskSupport;
    /// use mcp_core::server::{Context, NoArgs, ToolRoute};
    ///
    /// let route = ToolRoute::new("export", |_ctx: Context, _: NoArgs| async { "exported" })
    ///     .task_support(TaskSupport::Optional);
    /// assert_eq!(route.task_support_level(), TaskSupport::Optional);
    /// ```
    #[must_use]
    pub fn task_support(mut self, support: TaskSupport) -> Self {
        self.task_support = support;
        self
    }

    /// What [`task_support`](Self::task_support) set.
    pub fn task_support_level(&self) -> TaskSupport {
        self.task_support
    }

    /// Follows the work its tasks hand over with
    /// [`Context::follow_external`] (see [`task`](super::task)): `follower`
    /// answers `tasks/get` from the work's own status and stops it on
    /// `tasks/cancel`.
    #[must_use]
    pub fn task_follower(mut self, follower: impl TaskFollower) -> Self {
        self.follower = Some(Arc::new(follower));
        self
    }

    /// For a task-capable tool: the call starts as an ordinary request and
    /// becomes a task only when its handler calls
    /// [`Context::continue_as_task`], so that it can gather input first
    /// with multi-round-trip requests. Without it the task starts with the
    /// call. The macro form is `#[tool(task = "required", defer_task)]`.
    #[must_use]
    pub fn defer_task(mut self) -> Self {
        self.defer_task = true;
        self
    }

    /// The wire description.
    pub fn tool(&self) -> &Tool {
        &self.tool
    }

    /// Callers need all of `requirements` (OAuth scopes, or `action:resource`
    /// permissions such as `execute:reports`) to call this tool; an
    /// authentication layer checks them (`mcp_aws::auth`) and, by default,
    /// hides the tool from callers without them. The macro form is
    /// `#[tool(requires = ["admin:db"])]`. The wire description does not
    /// carry them.
    ///
    /// ```
    /// use mcp_core::server::{Context, NoArgs, ToolRoute};
    ///
    /// let route = ToolRoute::new("drop_tables", |_ctx: Context, _: NoArgs| async { "dropped" })
    ///     .requires(["admin:db"]);
    /// assert_eq!(route.requirements(), ["admin:db"]);
    /// ```
    #[must_use]
    pub fn requires<I: IntoIterator<Item = T>, T: Into<String>>(mut self, requirements: I) -> Self {
        let all: Vec<String> = requirements.into_iter().map(Into::into).collect();
        self.requires = (!all.is_empty()).then(|| Arc::from(all));
        self
    }

    /// What [`requires`](Self::requires) set; empty when anyone may call it.
    pub fn requirements(&self) -> &[String] {
        self.requires.as_deref().unwrap_or(&[])
    }

    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.tool.description = Some(description.into());
        self
    }

    /// Sets the human-readable title.
    #[must_use]
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.tool.title = Some(title.into());
        self
    }

    /// Sets the behaviour hints.
    #[must_use]
    pub fn with_annotations(mut self, annotations: ToolAnnotations) -> Self {
        self.tool.annotations = Some(annotations);
        self
    }

    /// Replaces the input schema (it must be an object schema).
    #[must_use]
    pub fn with_input_schema(mut self, schema: Map<String, Value>) -> Self {
        self.tool.input_schema = schema;
        self.facts = Arc::new(super::arguments::SchemaFacts::of(&self.tool));
        self
    }

    /// Replaces the output schema.
    #[must_use]
    pub fn with_output_schema(mut self, schema: Map<String, Value>) -> Self {
        self.tool.output_schema = Some(schema);
        self
    }

    /// Sets the icons (2025-11-25 on).
    #[must_use]
    pub fn with_icons(mut self, icons: Vec<Icon>) -> Self {
        self.tool.icons = Some(icons);
        self
    }

    /// Sets the tool's `_meta`.
    #[must_use]
    pub fn with_meta(mut self, meta: Meta) -> Self {
        self.tool.meta = Some(meta);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_reach_stderr_without_a_subscriber() {
        let mut out = Vec::new();
        report_internal("tool `add_note`", "no state of type `Notes`", &mut out);
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("tool `add_note` failed with an internal error: no state of type `Notes`"), "{text}");
    }

    #[test]
    fn internal_errors_go_to_the_subscriber_when_there_is_one() {
        let mut out = Vec::new();
        let log = crate::test_log::Captured::default();
        tracing::subscriber::with_default(log.clone(), || {
            // Other tests' threads change tracing's process-wide callsite
            // cache: recompute it for this subscriber.
            tracing::callsite::rebuild_interest_cache();
            report_internal("tool `t`", "detail", &mut out);
        });
        assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
        assert_eq!(log.lines().len(), 1, "{:?}", log.lines());
        assert!(log.lines()[0].contains("error=detail"), "{:?}", log.lines());
    }
}
