//! Running the handlers a request names: tools, resources, prompts and
//! completion. One runner drives each handler's future and settles how it
//! ended (done, asking for input, cancelled, panicked); each method then
//! shapes its own result.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::Poll;

use futures_util::FutureExt as _;
use futures_util::future::CatchUnwind;
use serde_json::value::RawValue;

use super::params::{CallParams, ReadParams};
use super::tasks::{NewTask, extension_required};
use super::{Reply, Server, parse_params, raw};
use crate::error::Error;
use crate::protocol::completion::{CompleteRequestParams, CompleteResult, MAX_COMPLETION_VALUES};
use crate::protocol::tasks::EXTENSION_ID;
use crate::protocol::tools::CallToolResult;
use crate::protocol::{ProtocolVersion, methods};
use crate::server::Context;
use crate::server::arguments::check_unknown_arguments;
use crate::server::context::{ContextParts, TaskMode};
use crate::server::head::{CallInput, Carried, Target};
use crate::server::input::Binding;
use crate::server::routes::ResolvedResource;
use crate::server::task::TaskSupport;
use crate::server::tool::{BoxFuture, ToolRoute, internal_failure, report_internal};

/// What the head knows of a named request (`tools/call`, `prompts/get`,
/// `resources/read`), and its raw params for when it could not read them.
pub(super) struct Named<'a> {
    pub(super) target: Option<Target>,
    pub(super) input: CallInput,
    pub(super) decoded: bool,
    pub(super) params: Option<&'a RawValue>,
}

impl Named<'_> {
    /// The name (or URI) and input: from the head, or, when the head has no
    /// name, from the method's own params type, which words the error.
    fn take(self, method: &str) -> Result<(Arc<str>, CallInput), Error> {
        if self.decoded
            && let Some(target) = self.target
        {
            return Ok((Arc::clone(target.shared()), self.input));
        }
        if method == methods::RESOURCES_READ {
            let p: ReadParams = parse_params(method, self.params)?;
            let input = CallInput { arguments: None, carried: Carried::of(p.input_responses, p.request_state) };
            return Ok((Arc::from(p.uri), input));
        }
        let p: CallParams<'_> = parse_params(method, self.params)?;
        let input = CallInput {
            arguments: p.arguments.map(RawValue::to_owned),
            carried: Carried::of(p.input_responses, p.request_state),
        };
        Ok((Arc::from(p.name), input))
    }
}

/// How a handler run ended.
pub(super) enum Driven<T> {
    Done(T),
    InputRequired,
    Cancelled,
    /// The handler asked to continue as a task.
    Detach,
    Panicked(String),
}

pub(super) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

pub(super) async fn drive<T>(ctx: &Context, fut: BoxFuture<T>) -> Driven<T> {
    let mut fut = AssertUnwindSafe(fut).catch_unwind();
    // Most handlers finish on their first poll, or once what they await is
    // ready: the handler is polled first, as the biased `select!` below
    // would, and the listeners for input, cancellation and detaching (about
    // 700 bytes of futures) are made, in a box of their own, only when it
    // has to wait. That keeps every request's future small.
    if let Poll::Ready(out) = std::future::poll_fn(|cx| Poll::Ready(fut.poll_unpin(cx))).await {
        return done(out);
    }
    Box::pin(wait(ctx, fut)).await
}

fn done<T>(out: std::thread::Result<T>) -> Driven<T> {
    match out {
        Ok(v) => Driven::Done(v),
        Err(panic) => Driven::Panicked(panic_message(&*panic)),
    }
}

/// [`drive`] once the handler has returned `Pending`: runs it until it ends,
/// asks for input, is cancelled or asks to continue as a task. The first
/// turn checks the listeners only: the handler was just polled, and its
/// waker wakes this task when it can go on, so each poll here matches a
/// turn of the biased `select!` the dispatcher used before (the handler
/// first, then input, cancellation, detaching).
async fn wait<T>(ctx: &Context, mut fut: CatchUnwind<AssertUnwindSafe<BoxFuture<T>>>) -> Driven<T> {
    let driven = {
        let mut input = std::pin::pin!(ctx.input_needed());
        let mut cancelled = std::pin::pin!(ctx.cancelled());
        let mut detach = std::pin::pin!(ctx.detach_requested());
        let mut polled = true;
        std::future::poll_fn(|cx| {
            if !std::mem::replace(&mut polled, false)
                && let Poll::Ready(out) = fut.poll_unpin(cx)
            {
                return Poll::Ready(done(out));
            }
            if input.as_mut().poll(cx).is_ready() {
                Poll::Ready(Driven::InputRequired)
            } else if cancelled.as_mut().poll(cx).is_ready() {
                Poll::Ready(Driven::Cancelled)
            } else if detach.as_mut().poll(cx).is_ready() {
                Poll::Ready(Driven::Detach)
            } else {
                Poll::Pending
            }
        })
        .await
    };
    // The window's lock is taken only once input is needed, never on the
    // common path.
    if !matches!(driven, Driven::InputRequired) {
        return driven;
    }
    let Some(window) = ctx.input_gather_window() else { return driven };
    // Questions arriving one by one (a gateway's legacy upstream asks
    // each as its own request): keep running until none has come for
    // `window`, so that the round holds them all.
    loop {
        tokio::select! {
            biased;
            out = &mut fut => return done(out),
            () = ctx.input_needed() => {}
            () = ctx.cancelled() => return Driven::Cancelled,
            () = tokio::time::sleep(window) => return Driven::InputRequired,
        }
    }
}

/// A handler's value, or the reply that ends the request without one.
enum Ran<T> {
    Value(T),
    Reply(Result<Reply, Error>),
    /// The handler asked to continue as a task.
    Detach,
    Panicked(String),
}

/// A `tools/call` after its synchronous part ([`Server::call_tool`]).
pub(super) enum ToolStep<'a> {
    /// Answered without running the handler (an error, most often).
    Done(Result<Reply, Error>),
    /// The call becomes a task.
    Task(futures_util::future::BoxFuture<'a, Result<Reply, Error>>),
    /// The handler started.
    Run(ToolRun),
}

/// A started tool handler and what its result needs.
pub(super) struct ToolRun {
    ctx: Context,
    name: Arc<str>,
    arguments: Option<Box<RawValue>>,
    fut: BoxFuture<Result<CallToolResult, Error>>,
}

impl Server {
    /// Drives a handler of a named request to its end. A stateless request
    /// that asks for input ends the round with `input_required`; `binding`
    /// makes the round's binding then (`None` outside the stateless era).
    async fn run<'b, T>(
        &self,
        ctx: &Context,
        binding: impl FnOnce() -> Option<Binding<'b>>,
        fut: BoxFuture<Result<T, Error>>,
    ) -> Ran<T> {
        match drive(ctx, fut).await {
            Driven::Done(Ok(v)) => Ran::Value(v),
            Driven::Done(Err(e)) => Ran::Reply(Err(ctx.take_protocol_error().unwrap_or(e))),
            Driven::InputRequired => Ran::Reply(match binding() {
                Some(b) => self.input_required(ctx, &b),
                None => Err(Error::internal("input requested outside the stateless protocol")),
            }),
            Driven::Cancelled => Ran::Reply(Ok(Reply::Cancelled)),
            Driven::Detach => Ran::Detach,
            Driven::Panicked(msg) => Ran::Panicked(msg),
        }
    }

    /// The binding of a stateless request's carried input, with that input
    /// opened into its context; `None` in a legacy session.
    fn open_round<'a>(
        &self,
        ctx: &'a Context,
        method: &'a str,
        target: &'a str,
        arguments: Option<&'a RawValue>,
        carried: CallInput,
    ) -> Result<Option<Binding<'a>>, Error> {
        if !ctx.protocol_version().is_stateless() {
            return Ok(None);
        }
        self.resume_round(ctx, method, target, arguments, carried)?;
        Ok(Some(self.binding(ctx, method, target, arguments)))
    }

    /// Opens a stateless request's carried input (`requestState` and
    /// `inputResponses`) into its context; nothing for a first round or a
    /// legacy session.
    fn resume_round(
        &self,
        ctx: &Context,
        method: &str,
        target: &str,
        arguments: Option<&RawValue>,
        carried: CallInput,
    ) -> Result<(), Error> {
        let Some(carried) = carried.carried else { return Ok(()) };
        if !ctx.protocol_version().is_stateless() {
            return Ok(());
        }
        let Carried { input_responses, request_state } = *carried;
        let binding = self.binding(ctx, method, target, arguments);
        self.resume_input(ctx, &binding, request_state.as_deref(), input_responses)
    }

    /// The synchronous part of a `tools/call`: finds the tool, checks the
    /// arguments, and starts its handler (or makes the call a task). Not
    /// an `async fn`: its arguments (the whole context's parts) would stay
    /// in the future for as long as the handler runs.
    pub(super) fn call_tool(&self, named: Named<'_>, mut parts: ContextParts) -> ToolStep<'_> {
        let (name, mut input) = match named.take(methods::TOOLS_CALL) {
            Ok(taken) => taken,
            Err(e) => return ToolStep::Done(Err(e)),
        };
        let arguments = input.arguments.take();
        if let Some(args) = &arguments
            && !args.get().starts_with('{')
        {
            return ToolStep::Done(Err(Error::invalid_params(format!(
                "`tools/call`: `arguments` must be an object, got {}",
                args.get().chars().take(40).collect::<String>()
            ))));
        }
        let reg = self.routes();
        let Some(route) = reg.tool(&name) else { return ToolStep::Done(Err(Error::UnknownTool(name.to_string()))) };
        let args = arguments.as_deref();
        let task = match self.task_mode(route.task_support, &parts) {
            Ok(task) => task,
            Err(e) => return ToolStep::Done(Err(e)),
        };
        if matches!(task, TaskMode::Capable) && !route.defer_task {
            if input.carried.is_some() {
                // A task's input goes through `tasks/update`, not a retry.
                return ToolStep::Done(Err(Error::invalid_params(
                    "`tools/call`: `inputResponses`/`requestState` do not apply: this call becomes a task, \
                     whose input requests are answered with `tasks/update`",
                )));
            }
            if let Err(e) = self.check_arguments(&name, route, args) {
                return ToolStep::Done(self.finish_tool(parts.version, CallToolResult::error_text(e.to_string())));
            }
            // Boxed (here and below): a task's creation should not size
            // every tool call's future.
            return ToolStep::Task(Box::pin(async move {
                self.create_task(NewTask {
                    tool: &name,
                    arguments: arguments.as_deref(),
                    capabilities: &parts.client_capabilities,
                    extensions: &parts.extensions,
                    answers: std::collections::BTreeMap::new(),
                    external: None,
                })
                .await
            }));
        }
        parts.task = task;
        let ctx = Context::new(parts);
        let version = ctx.protocol_version();
        if let Err(e) = self.resume_round(&ctx, methods::TOOLS_CALL, &name, args, input) {
            return ToolStep::Done(Err(e));
        }
        // An unknown argument is reported as any other invalid argument.
        let started = std::panic::catch_unwind(AssertUnwindSafe(|| self.start_tool(&name, route, ctx.clone(), args)));
        match started {
            Err(panic) => ToolStep::Done(self.tool_panicked(version, &name, &panic_message(&*panic))),
            Ok(Ok(fut)) => ToolStep::Run(ToolRun { ctx, name, arguments, fut }),
            Ok(Err(e)) if version.tool_input_errors_are_results() => {
                ToolStep::Done(self.finish_tool(version, CallToolResult::error_text(e.to_string())))
            }
            Ok(Err(e)) => ToolStep::Done(Err(e)),
        }
    }

    /// The rest of a `tools/call` after [`Self::call_tool`].
    pub(super) async fn finish_tool_call(&self, step: ToolStep<'_>) -> Result<Reply, Error> {
        let ToolRun { ctx, name, arguments, fut } = match step {
            ToolStep::Done(outcome) => return outcome,
            ToolStep::Task(task) => return task.await,
            ToolStep::Run(run) => run,
        };
        let version = ctx.protocol_version();
        let binding =
            || version.is_stateless().then(|| self.binding(&ctx, methods::TOOLS_CALL, &name, arguments.as_deref()));
        // Only the task's creation awaits after the handler: the match
        // ends first, so that its value is not kept in this future.
        let answers = match self.run(&ctx, binding, fut).await {
            Ran::Value(result) => {
                if result.is_error == Some(true)
                    && let Some(err) = ctx.take_protocol_error()
                {
                    return Err(err);
                }
                return self.finish_tool(version, result);
            }
            Ran::Reply(r) => return r,
            Ran::Panicked(msg) => return self.tool_panicked(version, &name, &msg),
            Ran::Detach => ctx.with_input(|st| std::mem::take(&mut st.answers)),
        };
        let task: futures_util::future::BoxFuture<'_, _> = Box::pin(self.create_task(NewTask {
            tool: &name,
            arguments: arguments.as_deref(),
            capabilities: ctx.client_capabilities(),
            extensions: ctx.extensions(),
            answers,
            external: ctx.take_external(),
        }));
        task.await
    }

    /// Whether this call may become a task: the tool supports tasks, the
    /// request is stateless and its client declared the extension. A tool
    /// that requires tasks refuses any other client with -32021.
    fn task_mode(&self, support: TaskSupport, parts: &ContextParts) -> Result<TaskMode, Error> {
        if !support.allows_tasks() {
            return Ok(TaskMode::Plain);
        }
        let declared = parts.version.is_stateless()
            && self.shared.tasks.is_some()
            && parts.client_capabilities.has_extension(EXTENSION_ID);
        match (declared, support) {
            (true, _) => Ok(TaskMode::Capable),
            (false, TaskSupport::Required) => Err(extension_required()),
            (false, _) => Ok(TaskMode::Plain),
        }
    }

    /// The error for a prompt, resource or completion handler that panicked
    /// (`what` names it): logged, and with the panic's message only when
    /// the server exposes internal errors.
    fn handler_panicked(&self, what: &str, msg: &str) -> Error {
        let detail = format!("panicked: {msg}");
        report_internal(what, &detail, &mut std::io::stderr());
        if self.shared.expose_internal_errors {
            Error::internal(format!("{what} failed: {detail}"))
        } else {
            Error::internal(format!("{what} failed with an internal error"))
        }
    }

    /// The `isError` result for a panicking tool: no internal details unless
    /// the server exposes them.
    fn tool_panicked(&self, version: ProtocolVersion, name: &str, msg: &str) -> Result<Reply, Error> {
        let detail = format!("panicked: {msg}");
        self.finish_tool(version, internal_failure(name, &detail, self.shared.expose_internal_errors))
    }

    /// Starts the tool's handler, refusing arguments its schema does not
    /// declare (unless the server was built to let them through): while
    /// the arguments are parsed when the handler can ([`ToolRoute::new`]'s),
    /// else before.
    fn start_tool(
        &self,
        name: &str,
        route: &ToolRoute,
        ctx: Context,
        args: Option<&RawValue>,
    ) -> Result<BoxFuture<crate::server::ToolOutput>, Error> {
        let declared = if self.shared.reject_unknown_arguments { route.facts.closed() } else { None };
        match (declared, &route.checked) {
            (Some(declared), Some(checked)) => checked.call_checked(ctx, args, declared),
            _ => {
                self.check_arguments(name, route, args)?;
                route.handler.call(ctx, args)
            }
        }
    }

    /// Refuses arguments the tool's schema does not declare, unless the
    /// server was built to let them through.
    fn check_arguments(&self, name: &str, route: &ToolRoute, args: Option<&RawValue>) -> Result<(), Error> {
        if !self.shared.reject_unknown_arguments {
            return Ok(());
        }
        check_unknown_arguments(name, &route.facts, args)
    }

    fn finish_tool(&self, version: ProtocolVersion, mut result: CallToolResult) -> Result<Reply, Error> {
        if !version.has_structured_content() {
            result.structured_content = None;
        }
        if version.has_result_type() && result.meta.is_none() {
            // The result's members then `_meta`, written in one pass: a
            // flattened wrapper would go through serde's slower map path.
            let wire = ToolResultWithMeta {
                result_type: crate::protocol::ResultType::Complete,
                content: &result.content,
                structured_content: result.structured_content.as_ref(),
                is_error: result.is_error,
                meta: &self.shared.server_info_meta_json,
            };
            return raw(&wire).map(Reply::Result);
        }
        self.stamp(version, &mut result.result_type, &mut result.meta);
        raw(&result).map(Reply::Result)
    }

    pub(super) async fn read_resource(&self, named: Named<'_>, ctx: Context) -> Result<Reply, Error> {
        let (uri, input) = named.take(methods::RESOURCES_READ)?;
        let reg = self.routes();
        let (resolved, vars) = reg.resolve(&uri).ok_or_else(|| Error::ResourceNotFound { uri: uri.to_string() })?;
        let version = ctx.protocol_version();
        let binding = self.open_round(&ctx, methods::RESOURCES_READ, &uri, None, input)?;
        let read = match resolved {
            ResolvedResource::Static(r) => &r.read,
            ResolvedResource::Template(t) => &t.read,
        };
        let what = format!("reading `{uri}`");
        let fut = std::panic::catch_unwind(AssertUnwindSafe(|| read(ctx.clone(), uri.to_string(), vars)))
            .map_err(|p| self.handler_panicked(&what, &panic_message(&*p)))?;
        match self.run(&ctx, move || binding, fut).await {
            Ran::Value(mut result) => {
                self.stamp(version, &mut result.result_type, &mut result.meta);
                if version.has_result_type() {
                    result.ttl_ms = Some(self.shared.read_cache.0);
                    result.cache_scope = Some(self.shared.read_cache.1);
                }
                raw(&result).map(Reply::Result)
            }
            Ran::Reply(r) => r,
            Ran::Detach => Err(Error::internal(format!("{what} cannot become a task"))),
            Ran::Panicked(msg) => Err(self.handler_panicked(&what, &msg)),
        }
    }

    pub(super) async fn get_prompt(&self, named: Named<'_>, ctx: Context) -> Result<Reply, Error> {
        let (name, mut input) = named.take(methods::PROMPTS_GET)?;
        let reg = self.routes();
        let route = reg.prompt(&name).ok_or_else(|| Error::UnknownPrompt(name.to_string()))?;
        let version = ctx.protocol_version();
        let arguments = input.arguments.take();
        let args = arguments.as_deref();
        let binding = self.open_round(&ctx, methods::PROMPTS_GET, &name, args, input)?;
        let what = format!("prompt `{name}`");
        let fut = std::panic::catch_unwind(AssertUnwindSafe(|| (route.get)(ctx.clone(), args)))
            .map_err(|p| self.handler_panicked(&what, &panic_message(&*p)))??;
        match self.run(&ctx, move || binding, fut).await {
            Ran::Value(mut result) => {
                self.stamp(version, &mut result.result_type, &mut result.meta);
                raw(&result).map(Reply::Result)
            }
            Ran::Reply(r) => r,
            Ran::Detach => Err(Error::internal(format!("{what} cannot become a task"))),
            Ran::Panicked(msg) => Err(self.handler_panicked(&what, &msg)),
        }
    }

    pub(super) async fn complete(&self, params: Option<&RawValue>, ctx: Context) -> Result<Reply, Error> {
        let p: CompleteRequestParams = parse_params(methods::COMPLETION_COMPLETE, params)?;
        let version = ctx.protocol_version();
        let mut result = match &self.shared.completion {
            None => CompleteResult::new(Vec::new()),
            Some(f) => match drive(&ctx, f(ctx.clone(), p)).await {
                Driven::Done(r) => r?,
                Driven::Cancelled => return Ok(Reply::Cancelled),
                Driven::InputRequired | Driven::Detach => {
                    return Err(Error::internal("completion handlers cannot ask for input or become tasks"));
                }
                Driven::Panicked(msg) => return Err(self.handler_panicked("completion", &msg)),
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
}

/// A 2026-07-28 tool result without metadata of its own, serialised with
/// the server's `_meta` after its members, as [`CallToolResult`] with that
/// `_meta` would be.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolResultWithMeta<'a> {
    result_type: crate::protocol::ResultType,
    content: &'a [crate::protocol::content::ContentBlock],
    #[serde(skip_serializing_if = "Option::is_none")]
    structured_content: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_error: Option<bool>,
    #[serde(rename = "_meta")]
    meta: &'a RawValue,
}
