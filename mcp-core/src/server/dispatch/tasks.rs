//! The tasks extension: creating a task from a `tools/call`, running its
//! handler in the background (with the same multi-round-trip input
//! machinery as a stateless request: a handler that needs input parks the
//! task, and runs again from the start once `tasks/update` answered), and
//! `tasks/get`, `tasks/update` and `tasks/cancel`.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use serde_json::json;
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

use super::handlers::{Driven, drive, panic_message};
use super::{Reply, Server, parse_params, raw};
use crate::error::Error;
use crate::jsonrpc::RequestId;
use crate::protocol::lifecycle::ClientCapabilities;
use crate::protocol::tasks::{
    CreateTaskResult, DetailedTask, EXTENSION_ID, TaskIdParams, TaskStatus, UpdateTaskParams,
};
use crate::protocol::tools::CallToolResult;
use crate::protocol::{ProtocolVersion, ResultType, methods};
use crate::server::context::{ContextParts, TaskMode};
use crate::server::session::Sink;
use crate::server::task::engine::{TaskEngine, store_error, wire_task};
use crate::server::task::{Followed, TaskFollower, TaskRecord};
use crate::server::tool::internal_failure;
use crate::server::{Context, Principal};
use crate::server::{TOOL_ERROR_META_KEY, ToolError};

/// The error for a client that did not declare the extension.
pub(super) fn extension_required() -> Error {
    Error::MissingClientCapability { required: json!({ "extensions": { EXTENSION_ID: {} } }) }
}

/// What a new task starts from.
pub(super) struct NewTask<'a> {
    pub(super) tool: &'a str,
    pub(super) arguments: Option<&'a RawValue>,
    pub(super) capabilities: &'a ClientCapabilities,
    pub(super) extensions: &'a http::Extensions,
    /// Answers gathered before the task (a deferred task's
    /// multi-round-trip rounds).
    pub(super) answers: std::collections::BTreeMap<String, serde_json::Value>,
    /// Work the handler handed over before the task existed
    /// ([`Context::follow_external`]): the task follows it and runs no
    /// handler.
    pub(super) external: Option<serde_json::Value>,
}

fn owner_of(extensions: &http::Extensions) -> Option<String> {
    extensions.get::<Principal>().map(|p| p.subject.clone())
}

impl Server {
    fn engine(&self) -> Result<&Arc<TaskEngine>, Error> {
        self.shared.tasks.as_ref().ok_or_else(|| Error::method_not_found("tasks are not enabled on this server"))
    }

    /// Stores a new task, starts its handler, and answers with the
    /// `CreateTaskResult`. The task exists in the store before the answer
    /// leaves, so an immediate `tasks/get` finds it.
    pub(super) async fn create_task(&self, new: NewTask<'_>) -> Result<Reply, Error> {
        let engine = Arc::clone(self.engine()?);
        let mut record = engine.record(TaskEngine::new_id()?, owner_of(new.extensions), new.tool);
        record.arguments = new.arguments.map(RawValue::to_owned);
        record.client_capabilities =
            serde_json::to_value(new.capabilities).map_err(|e| Error::internal(format!("tasks: {e}")))?;
        record.answers = new.answers;
        let follows = new.external.is_some();
        if follows {
            record.external = new.external;
            record.lease_until_ms = None;
        }
        engine.store().create(&record).await.map_err(|e| store_error(&e))?;
        let result = CreateTaskResult {
            result_type: ResultType::Task,
            task: wire_task(&record),
            meta: Some(self.server_info_meta()),
        };
        let reply = raw(&result).map(Reply::Result);
        if !follows {
            self.spawn_run(record, new.extensions.clone());
        }
        reply
    }

    fn server_info_meta(&self) -> crate::protocol::Meta {
        let mut meta = crate::protocol::Meta::new();
        meta.insert(crate::protocol::meta::keys::SERVER_INFO.to_owned(), self.server_info().clone());
        meta
    }

    /// Runs the task's handler in the background.
    fn spawn_run(&self, record: TaskRecord, extensions: http::Extensions) {
        let Some(engine) = self.shared.tasks.clone() else { return };
        let token = CancellationToken::new();
        engine.add_worker(&record.task_id, token.clone());
        let server = self.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move { server.run_task(&engine, record, extensions, token).await });
            }
            Err(_) => {
                // Not on a runtime: nothing can run the handler.
                engine.remove_worker(&record.task_id);
                tracing::error!(task = %record.task_id, "no async runtime to run the task on");
            }
        }
    }

    /// One run of a task's handler, from the start, with the answers the
    /// task holds; settles the task with how the run ended.
    async fn run_task(
        self,
        engine: &TaskEngine,
        record: TaskRecord,
        extensions: http::Extensions,
        token: CancellationToken,
    ) {
        let id: Arc<str> = Arc::from(record.task_id.as_str());
        let outcome = self.run_handler(engine, &record, extensions, &token).await;
        engine.remove_worker(&id);
        let settled = match outcome {
            Outcome::Result(mut result) => match inlined(&mut result) {
                Ok(json) => {
                    let json = &json;
                    engine
                        .modify(&id, |r| {
                            settle(r, |r| {
                                r.status = TaskStatus::Completed;
                                r.result = Some(json.clone());
                            })
                        })
                        .await
                }
                Err(e) => fail(engine, &id, &e).await,
            },
            Outcome::Failed(e) => fail(engine, &id, &e).await,
            Outcome::InputRequired(st) => {
                let st = &st;
                engine
                    .modify(&id, |r| {
                        settle(r, |r| {
                            r.status = TaskStatus::InputRequired;
                            r.input_requests.clone_from(&st.0);
                            r.answers.clone_from(&st.1);
                            r.round = r.round.saturating_add(1);
                        })
                    })
                    .await
            }
            Outcome::Follow(reference) => {
                let reference = &reference;
                engine
                    .modify(&id, |r| {
                        if r.status.is_terminal() {
                            return false;
                        }
                        r.external = Some(reference.clone());
                        r.lease_until_ms = None;
                        true
                    })
                    .await
            }
            Outcome::Cancelled => return,
        };
        if let Err(e) = settled {
            // The store refused the outcome (a result too large, say): the
            // task fails with that reason rather than staying `working`.
            if let Err(again) = fail(engine, &id, &e).await {
                tracing::error!(task = %id, error = %again, "could not settle the task");
            }
        }
    }

    async fn run_handler(
        &self,
        engine: &TaskEngine,
        record: &TaskRecord,
        extensions: http::Extensions,
        token: &CancellationToken,
    ) -> Outcome {
        let version = ProtocolVersion::LATEST;
        let Some(route) = self.routes().tool(&record.tool).cloned() else {
            return Outcome::Failed(Error::UnknownTool(record.tool.clone()));
        };
        let capabilities: ClientCapabilities =
            serde_json::from_value(record.client_capabilities.clone()).unwrap_or_default();
        let ctx = Context::new(ContextParts {
            request_id: RequestId::from(record.task_id.as_str()),
            version,
            session: None,
            sink: Sink::none(),
            progress_token: None,
            log_level: None,
            cancel: token.clone(),
            client_capabilities: Arc::new(capabilities),
            client_info: None,
            extensions,
            shared: Arc::clone(&self.shared),
            task: TaskMode::Running(Arc::from(record.task_id.as_str())),
        });
        ctx.with_input(|st| {
            st.answers.clone_from(&record.answers);
            st.round = record.round;
        });
        let args = record.arguments.as_deref();
        let started = std::panic::catch_unwind(AssertUnwindSafe(|| route.handler.call(ctx.clone(), args)));
        let fut = match started {
            Err(panic) => return self.task_panicked(&record.tool, &panic_message(&*panic)),
            // Invalid arguments are a tool error in this version.
            Ok(Err(e)) => return Outcome::Result(CallToolResult::error_text(e.to_string())),
            Ok(Ok(fut)) => fut,
        };
        let driven = tokio::select! {
            biased;
            d = drive(&ctx, fut) => d,
            () = heartbeat(engine, &record.task_id, token) => Driven::Cancelled,
        };
        match driven {
            Driven::Done(Ok(result)) => match ctx.take_protocol_error() {
                Some(err) if result.is_error == Some(true) => Outcome::Failed(err),
                // An unexpected failure (an internal error, a panic) is a
                // protocol-level failure of the task, not a tool error.
                _ if is_internal_failure(&result) => Outcome::Failed(Error::internal(first_text(&result))),
                _ => Outcome::Result(result),
            },
            Driven::Done(Err(e)) => Outcome::Failed(ctx.take_protocol_error().unwrap_or(e)),
            Driven::InputRequired => Outcome::InputRequired(
                ctx.with_input(|st| (std::mem::take(&mut st.requested), std::mem::take(&mut st.answers))),
            ),
            // The work runs elsewhere from now on.
            Driven::Detach => ctx.take_external().map_or(Outcome::Cancelled, Outcome::Follow),
            Driven::Cancelled => Outcome::Cancelled,
            Driven::Panicked(msg) => self.task_panicked(&record.tool, &msg),
        }
    }

    /// A panicking handler fails its task with an internal error, whose
    /// message has the panic's only when the server exposes internal
    /// errors.
    fn task_panicked(&self, tool: &str, msg: &str) -> Outcome {
        let result = internal_failure(tool, &format!("panicked: {msg}"), self.shared.expose_internal_errors);
        Outcome::Failed(Error::internal(first_text(&result)))
    }

    /// The task `params` names, as the caller may see it.
    async fn task_for(&self, ctx: &Context, method: &str, params: Option<&RawValue>) -> Result<TaskRecord, Error> {
        if !ctx.client_capabilities().has_extension(EXTENSION_ID) {
            return Err(extension_required());
        }
        let engine = self.engine()?;
        let p: TaskIdParams = parse_params(method, params)?;
        let owner = owner_of(ctx.extensions());
        let found = engine.load_for(&p.task_id, owner.as_deref()).await?;
        let record = found.ok_or_else(|| unknown_task(method, &p.task_id))?;
        engine.reap_if_orphaned(record).await
    }

    /// `tasks/get`.
    pub(super) async fn get_task(&self, params: Option<&RawValue>, ctx: Context) -> Result<Reply, Error> {
        let r = self.task_for(&ctx, methods::TASKS_GET, params).await?;
        let r = self.poll_external(&ctx, r).await?;
        self.with_server_info(&detailed(&r)).map(Reply::Result)
    }

    /// The params of `notifications/tasks` for `task_id` (the task as
    /// `tasks/get` shows it), when the listener may see the task.
    pub(super) async fn task_notification(&self, ctx: &Context, task_id: &str) -> Option<serde_json::Value> {
        let engine = self.shared.tasks.as_ref()?;
        let owner = owner_of(ctx.extensions());
        let r = engine.load_for(task_id, owner.as_deref()).await.ok()??;
        let mut params = serde_json::to_value(detailed(&r)).ok()?;
        // A notification is not a result.
        params.as_object_mut()?.remove("resultType");
        Some(params)
    }
}

/// A task as `tasks/get` shows it.
fn detailed(r: &TaskRecord) -> DetailedTask {
    DetailedTask {
        result_type: ResultType::Complete,
        task: wire_task(r),
        input_requests: (r.status == TaskStatus::InputRequired).then(|| r.input_requests.clone()),
        result: r.result.clone().filter(|_| r.status == TaskStatus::Completed),
        error: r.error.clone().filter(|_| r.status == TaskStatus::Failed),
        meta: None,
    }
}

impl Server {
    /// `tasks/update`: records the answers to pending input requests; once
    /// none is pending, the handler runs again with every answer.
    pub(super) async fn update_task(&self, params: Option<&RawValue>, ctx: Context) -> Result<Reply, Error> {
        if !ctx.client_capabilities().has_extension(EXTENSION_ID) {
            return Err(extension_required());
        }
        let engine = Arc::clone(self.engine()?);
        let p: UpdateTaskParams = parse_params(methods::TASKS_UPDATE, params)?;
        let owner = owner_of(ctx.extensions());
        if engine.load_for(&p.task_id, owner.as_deref()).await?.is_none() {
            return Err(unknown_task(methods::TASKS_UPDATE, &p.task_id));
        }
        let lease = engine.lease_ms();
        let mut resumed = false;
        let updated = engine
            .modify(&p.task_id, |r| {
                resumed = false;
                if r.status != TaskStatus::InputRequired {
                    return false;
                }
                let mut changed = false;
                for (key, answer) in &p.input_responses {
                    if r.input_requests.remove(key).is_some() {
                        r.answers.insert(key.clone(), answer.clone());
                        changed = true;
                    }
                }
                if changed && r.input_requests.is_empty() {
                    r.status = TaskStatus::Working;
                    r.lease_until_ms = Some(crate::server::task::engine::now_plus(lease));
                    resumed = true;
                }
                changed
            })
            .await?;
        if resumed && let Some(record) = updated {
            self.spawn_run(record, ctx.extensions().clone());
        }
        self.ack()
    }

    /// `tasks/cancel`: idempotent; cancels the handler if it runs here (a
    /// worker elsewhere sees the status at its next lease renewal).
    pub(super) async fn cancel_task(&self, params: Option<&RawValue>, ctx: Context) -> Result<Reply, Error> {
        let r = self.task_for(&ctx, methods::TASKS_CANCEL, params).await?;
        let engine = self.engine()?;
        if !r.status.is_terminal()
            && let (Some(reference), Some(follower)) = (&r.external, self.follower_of(&r))
        {
            follower.cancel(&ctx, reference).await?;
        }
        engine
            .modify(&r.task_id, |r| {
                settle(r, |r| {
                    r.status = TaskStatus::Cancelled;
                    r.status_message = Some("cancelled by the client".to_owned());
                })
            })
            .await?;
        engine.cancel_worker(&r.task_id);
        self.ack()
    }

    fn follower_of(&self, r: &TaskRecord) -> Option<Arc<dyn TaskFollower>> {
        self.routes().tool(&r.tool).and_then(|route| route.follower.clone())
    }

    /// A `working` task that follows external work, refreshed from the
    /// follower's view of that work (settled once it ended).
    async fn poll_external(&self, ctx: &Context, r: TaskRecord) -> Result<TaskRecord, Error> {
        let (Some(reference), true) = (&r.external, r.status == TaskStatus::Working) else { return Ok(r) };
        let Some(follower) = self.follower_of(&r) else { return Ok(r) };
        let followed = follower.poll(ctx, reference).await?;
        let engine = self.engine()?;
        let (status, result, error, message) = match followed {
            Followed::Working(message) if message == r.status_message => return Ok(r),
            Followed::Working(message) => (TaskStatus::Working, None, None, message),
            Followed::Completed(mut result) => (TaskStatus::Completed, Some(inlined(&mut result)?), None, None),
            Followed::Failed(e) => {
                (TaskStatus::Failed, None, Some(e.to_error_object(Some(ProtocolVersion::LATEST))), None)
            }
        };
        let updated = engine
            .modify(&r.task_id, |stored| {
                if stored.status != TaskStatus::Working {
                    return false;
                }
                stored.status = status;
                stored.result.clone_from(&result);
                stored.error.clone_from(&error);
                stored.status_message.clone_from(&message);
                true
            })
            .await?;
        Ok(updated.unwrap_or(r))
    }

    fn ack(&self) -> Result<Reply, Error> {
        self.with_server_info(&json!({ "resultType": ResultType::Complete })).map(Reply::Result)
    }
}

/// Whether a tool's `isError` result marks an unexpected failure
/// ([`ToolError::INTERNAL`](crate::server::ToolError::INTERNAL)).
fn is_internal_failure(result: &CallToolResult) -> bool {
    result.is_error == Some(true)
        && result
            .meta
            .as_ref()
            .and_then(|m| m.get(TOOL_ERROR_META_KEY))
            .and_then(|e| e.get("code"))
            .and_then(serde_json::Value::as_str)
            == Some(ToolError::INTERNAL)
}

fn first_text(result: &CallToolResult) -> String {
    result.content.iter().find_map(|c| c.as_text().map(str::to_owned)).unwrap_or_else(|| "internal error".to_owned())
}

fn unknown_task(method: &str, task_id: &str) -> Error {
    Error::invalid_params(format!("`{method}`: unknown task `taskId` {task_id:?} (it may have expired)"))
}

/// The result as `tools/call` would have answered it, for `tasks/get` to
/// inline.
fn inlined(result: &mut CallToolResult) -> Result<Box<RawValue>, Error> {
    result.result_type = Some(ResultType::Complete);
    raw(result)
}

/// How a run of a task's handler ended.
enum Outcome {
    Result(CallToolResult),
    Failed(Error),
    /// The pending input requests, and every answer so far.
    InputRequired(
        (std::collections::BTreeMap<String, serde_json::Value>, std::collections::BTreeMap<String, serde_json::Value>),
    ),
    /// The handler handed the work over ([`Context::follow_external`]).
    Follow(serde_json::Value),
    Cancelled,
}

/// Applies `end` to a task that has not ended yet (a cancellation that
/// came first wins); `false` when it had.
fn settle(r: &mut TaskRecord, end: impl FnOnce(&mut TaskRecord)) -> bool {
    if r.status.is_terminal() {
        return false;
    }
    end(r);
    r.lease_until_ms = None;
    if r.status != TaskStatus::InputRequired {
        r.input_requests.clear();
    }
    true
}

async fn fail(engine: &TaskEngine, id: &str, e: &Error) -> Result<Option<TaskRecord>, Error> {
    let error = e.to_error_object(Some(ProtocolVersion::LATEST));
    engine
        .modify(id, |r| {
            settle(r, |r| {
                r.status = TaskStatus::Failed;
                r.result = None;
                r.error = Some(error.clone());
            })
        })
        .await
}

/// Renews the worker's lease on the task every third of it while the
/// handler runs; cancels the handler's token when the task was cancelled
/// elsewhere (or is gone). Never resolves.
async fn heartbeat(engine: &TaskEngine, id: &str, token: &CancellationToken) {
    let every = engine.config.lease / 3;
    loop {
        tokio::time::sleep(every).await;
        let lease = engine.lease_ms();
        let renewed = engine
            .modify(id, |r| {
                if r.status != TaskStatus::Working {
                    return false;
                }
                r.lease_until_ms = Some(crate::server::task::engine::now_plus(lease));
                true
            })
            .await;
        match renewed {
            Ok(Some(r)) if r.status == TaskStatus::Working => {}
            Ok(_) => {
                // Cancelled elsewhere (or gone): the handler sees its
                // context cancelled and ends as it chooses.
                token.cancel();
                return std::future::pending().await;
            }
            // A store hiccup: try again at the next beat.
            Err(e) => tracing::warn!(task = %id, error = %e, "could not renew the task's lease"),
        }
    }
}
