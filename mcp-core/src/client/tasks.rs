//! The tasks extension (`io.modelcontextprotocol/tasks`) from the client's
//! side: a `tools/call` that answers with a task ([`ToolCall::Task`]), and
//! `tasks/get`, `tasks/update` and `tasks/cancel`, with the loop that
//! follows a task to its end (polling, and answering its input requests
//! with the builder's handlers).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::calls::object;
use super::error::ClientError;
use super::{Client, RequestOptions};
use crate::protocol::input::{InputRequest, InputRequests, InputResponses};
use crate::protocol::methods;
use crate::protocol::tasks::{CreateTaskResult, DetailedTask, TaskIdParams, TaskStatus, UpdateTaskParams};
use crate::protocol::tools::CallToolResult;

/// How long to wait between polls when the server suggests no
/// `pollIntervalMs`.
const DEFAULT_POLL: Duration = Duration::from_millis(500);
/// The shortest wait between polls, whatever the server suggests.
const MIN_POLL: Duration = Duration::from_millis(10);
/// The longest wait between polls, whatever the server suggests.
const MAX_POLL: Duration = Duration::from_secs(30);

/// How a `tools/call` answered: at once with its result, or with a task
/// that runs on ([`Client::call_tool_as_task`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ToolCall {
    /// The tool ran within the request; this is its result (which may be
    /// `isError`).
    Done(CallToolResult),
    /// The call became a task: follow it with
    /// [`Client::wait_task`] (or [`Client::get_task`]), stop it with
    /// [`Client::cancel_task`].
    Task(CreateTaskResult),
}

impl ToolCall {
    /// The task's id, when the call became a task.
    pub fn task_id(&self) -> Option<&str> {
        match self {
            Self::Done(_) => None,
            Self::Task(created) => Some(&created.task.task_id),
        }
    }
}

/// Reads `resultType` only.
#[derive(Deserialize)]
struct ResultKind {
    #[serde(default, rename = "resultType")]
    result_type: Option<String>,
}

/// The `tools/call` result `raw`, told apart: a task or a result.
pub(super) fn tool_call(raw: &RawValue) -> Result<ToolCall, ClientError> {
    let invalid = |source| ClientError::InvalidResult { method: methods::TOOLS_CALL.to_owned(), source };
    let kind: ResultKind = serde_json::from_str(raw.get()).map_err(invalid)?;
    if kind.result_type.as_deref() == Some("task") {
        serde_json::from_str(raw.get()).map(ToolCall::Task).map_err(invalid)
    } else {
        serde_json::from_str(raw.get()).map(ToolCall::Done).map_err(invalid)
    }
}

/// The wait before the next poll: the server's `pollIntervalMs` within
/// [`MIN_POLL`, `MAX_POLL`], or [`DEFAULT_POLL`].
fn poll_interval(suggested_ms: Option<u64>) -> Duration {
    suggested_ms.map_or(DEFAULT_POLL, |ms| Duration::from_millis(ms).clamp(MIN_POLL, MAX_POLL))
}

/// Cancels a task that [`Client::call_tool`] followed for its caller, if
/// the caller stops waiting (drops the future, or the follow fails) before
/// the task ended: nobody else knows its id.
struct CancelUnlessEnded {
    client: Option<Client>,
    task_id: String,
}

impl CancelUnlessEnded {
    fn ended(&mut self) {
        self.client = None;
    }
}

impl Drop for CancelUnlessEnded {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let task_id = std::mem::take(&mut self.task_id);
        runtime.spawn(async move {
            if let Err(e) = client.cancel_task(&task_id).await {
                tracing::debug!(task = %task_id, error = %e, "client: could not cancel an abandoned task");
            }
        });
    }
}

impl Client {
    /// Calls tool `name` with `arguments` and returns how the server
    /// answered: [`ToolCall::Done`] with the result, or [`ToolCall::Task`]
    /// when the call became a task (the client declared
    /// [`tasks`](super::ClientBuilder::tasks), the era is stateless and the
    /// tool supports tasks). `input_required` rounds before the answer are
    /// answered by the handlers, as for [`call_tool`](Self::call_tool).
    ///
    /// # Errors
    /// As [`call_tool`](Self::call_tool).
    pub async fn call_tool_as_task(&self, name: &str, arguments: impl Serialize) -> Result<ToolCall, ClientError> {
        self.tools_call(name, arguments, &RequestOptions::default()).await
    }

    /// The task `task_id` as the server sees it now (`tasks/get`): its
    /// status, and its pending input requests, result or error.
    ///
    /// # Errors
    /// [`ClientError::NotInVersion`] in the legacy era; [`ClientError::Rpc`]
    /// when the server refuses (an unknown or expired id is -32602, a
    /// client that did not declare the extension gets -32021); otherwise as
    /// [`request`](Self::request).
    pub async fn get_task(&self, task_id: &str) -> Result<DetailedTask, ClientError> {
        self.get_task_with(task_id, &RequestOptions::default()).await
    }

    async fn get_task_with(&self, task_id: &str, opts: &RequestOptions) -> Result<DetailedTask, ClientError> {
        let params = TaskIdParams { task_id: task_id.to_owned() };
        self.task_request(methods::TASKS_GET, object(methods::TASKS_GET, params)?, opts).await
    }

    /// Answers some or all of the task's pending input requests
    /// (`tasks/update`), keyed as its `inputRequests` were; the server
    /// ignores keys it is not waiting for, and resumes the task once every
    /// request is answered. [`wait_task`](Self::wait_task) does this with
    /// the builder's handlers.
    ///
    /// # Errors
    /// As [`get_task`](Self::get_task).
    pub async fn update_task(&self, task_id: &str, responses: InputResponses) -> Result<(), ClientError> {
        self.update_task_with(task_id, responses, &RequestOptions::default()).await
    }

    async fn update_task_with(
        &self,
        task_id: &str,
        responses: InputResponses,
        opts: &RequestOptions,
    ) -> Result<(), ClientError> {
        let input_responses = responses
            .into_iter()
            .map(|(key, response)| serde_json::to_value(response).map(|v| (key, v)))
            .collect::<Result<_, _>>()
            .map_err(|e| ClientError::InvalidParams {
                method: methods::TASKS_UPDATE.to_owned(),
                reason: e.to_string(),
            })?;
        let params = UpdateTaskParams { task_id: task_id.to_owned(), input_responses };
        self.task_request::<Value>(methods::TASKS_UPDATE, object(methods::TASKS_UPDATE, params)?, opts).await.map(drop)
    }

    /// Cancels the task (`tasks/cancel`): its handler on the server is
    /// cancelled, and its status becomes `cancelled`. Cancelling a task
    /// that already ended changes nothing.
    ///
    /// # Errors
    /// As [`get_task`](Self::get_task).
    pub async fn cancel_task(&self, task_id: &str) -> Result<(), ClientError> {
        let params = TaskIdParams { task_id: task_id.to_owned() };
        let params = object(methods::TASKS_CANCEL, params)?;
        self.task_request::<Value>(methods::TASKS_CANCEL, params, &RequestOptions::default()).await.map(drop)
    }

    /// Follows the task to its end and returns the tool's result: polls
    /// `tasks/get` at the server's `pollIntervalMs` (kept within 10 ms and
    /// 30 s; 500 ms when it suggests none), and answers each
    /// `input_required` status with the builder's elicitation, sampling and
    /// roots handlers through `tasks/update` (at most
    /// [`max_rounds`](super::ClientBuilder::max_rounds) times).
    ///
    /// There is no overall deadline (a task may run for its whole `ttlMs`):
    /// wrap the call in `tokio::time::timeout`, or drop the future, to stop
    /// waiting. Stopping to wait does not cancel the task; use
    /// [`cancel_task`](Self::cancel_task).
    ///
    /// # Errors
    /// [`ClientError::Rpc`] with the task's error when it failed (and when
    /// `tasks/get` is refused); [`ClientError::TaskCancelled`] when it was
    /// cancelled; [`ClientError::NoHandler`] or [`ClientError::Handler`]
    /// when its input cannot be answered; [`ClientError::TooManyRounds`];
    /// otherwise as [`get_task`](Self::get_task).
    pub async fn wait_task(&self, task_id: &str) -> Result<CallToolResult, ClientError> {
        let mut guard = CancelUnlessEnded { client: None, task_id: task_id.to_owned() };
        self.follow(task_id, None, &RequestOptions::default(), &mut guard).await
    }

    /// What [`call_tool`](Self::call_tool) does with a task: follows it as
    /// [`wait_task`](Self::wait_task) does, and cancels it if the caller
    /// stops waiting before it ended.
    pub(super) async fn follow_created(
        &self,
        created: CreateTaskResult,
        opts: &RequestOptions,
    ) -> Result<CallToolResult, ClientError> {
        let task = created.task;
        let mut guard = CancelUnlessEnded { client: Some(self.clone()), task_id: task.task_id.clone() };
        let first = Some(poll_interval(task.poll_interval_ms));
        self.follow(&task.task_id, first, opts, &mut guard).await
    }

    /// The polling loop: waits `delay` (if any) before the first poll.
    async fn follow(
        &self,
        task_id: &str,
        mut delay: Option<Duration>,
        opts: &RequestOptions,
        guard: &mut CancelUnlessEnded,
    ) -> Result<CallToolResult, ClientError> {
        let mut rounds = 0;
        loop {
            if let Some(d) = delay.take() {
                tokio::time::sleep(d).await;
            }
            let task = self.get_task_with(task_id, opts).await?;
            let interval = poll_interval(task.task.poll_interval_ms);
            match task.task.status {
                TaskStatus::Working => delay = Some(interval),
                TaskStatus::InputRequired => {
                    let Some(requests) = task.input_requests.filter(|r| !r.is_empty()) else {
                        delay = Some(interval);
                        continue;
                    };
                    rounds += 1;
                    if rounds > self.shared.config.max_rounds {
                        return Err(ClientError::TooManyRounds {
                            method: methods::TASKS_UPDATE.to_owned(),
                            rounds: self.shared.config.max_rounds,
                        });
                    }
                    let answers = self.shared.answer(input_requests(requests)?).await?;
                    self.update_task_with(task_id, answers, opts).await?;
                }
                TaskStatus::Completed => {
                    guard.ended();
                    let raw = task
                        .result
                        .ok_or_else(|| ClientError::Protocol(format!("task {task_id} completed without a result")))?;
                    return serde_json::from_str(raw.get())
                        .map_err(|e| ClientError::InvalidResult { method: methods::TASKS_GET.to_owned(), source: e });
                }
                TaskStatus::Failed => {
                    guard.ended();
                    return Err(task.error.map_or_else(
                        || ClientError::Protocol(format!("task {task_id} failed without an error")),
                        ClientError::Rpc,
                    ));
                }
                TaskStatus::Cancelled => {
                    guard.ended();
                    return Err(ClientError::TaskCancelled {
                        task_id: task_id.to_owned(),
                        message: task.task.status_message,
                    });
                }
            }
        }
    }

    /// A `tasks/*` request: refused locally in the legacy era, which has no
    /// such methods.
    async fn task_request<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        params: Map<String, Value>,
        opts: &RequestOptions,
    ) -> Result<T, ClientError> {
        if !self.shared.is_stateless() {
            return Err(ClientError::NotInVersion {
                method: method.to_owned(),
                version: self.negotiated.protocol_version,
            });
        }
        self.typed(method, params, opts).await
    }
}

/// A task's `inputRequests`, typed.
fn input_requests(requests: std::collections::BTreeMap<String, Value>) -> Result<InputRequests, ClientError> {
    requests
        .into_iter()
        .map(|(key, request)| serde_json::from_value::<InputRequest>(request).map(|r| (key, r)))
        .collect::<Result<_, _>>()
        .map_err(|e| ClientError::InvalidResult { method: methods::TASKS_GET.to_owned(), source: e })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_interval_is_bounded() {
        assert_eq!(poll_interval(None), DEFAULT_POLL);
        assert_eq!(poll_interval(Some(0)), MIN_POLL);
        assert_eq!(poll_interval(Some(250)), Duration::from_millis(250));
        assert_eq!(poll_interval(Some(u64::MAX)), MAX_POLL);
    }

    #[test]
    fn a_tool_call_result_is_told_apart_from_a_task() {
        let raw = |s: &str| RawValue::from_string(s.to_owned()).expect("json");
        let done = tool_call(&raw(r#"{"content":[{"type":"text","text":"hi"}]}"#)).expect("result");
        assert!(matches!(done, ToolCall::Done(_)));
        assert_eq!(done.task_id(), None);
        let task = tool_call(&raw(
            r#"{"resultType":"task","taskId":"t1","status":"working","createdAt":"x","lastUpdatedAt":"x","ttlMs":1000}"#,
        ))
        .expect("task");
        assert_eq!(task.task_id(), Some("t1"));
        assert!(tool_call(&raw(r#"{"resultType":"task","taskId":7}"#)).is_err());
    }
}
