//! The tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663): a
//! `tools/call` that becomes a task answers with a [`CreateTaskResult`];
//! the client then polls `tasks/get` (a [`DetailedTask`], which inlines the
//! result or the error once the task ends), answers its input requests with
//! `tasks/update`, and may stop it with `tasks/cancel`.
//!
//! The extension exists in the stateless era (2026-07-28) only. Its wire
//! fields are flat (`taskId`, `status`, `createdAt`, `lastUpdatedAt`,
//! `ttlMs`, `pollIntervalMs` at the top level of the result), with no
//! `requestState`: a task's state lives on the server.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::meta::{Meta, ResultType};
use crate::jsonrpc::ErrorObject;

/// The extension's identifier, the key under `capabilities.extensions`.
pub const EXTENSION_ID: &str = "io.modelcontextprotocol/tasks";

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TaskStatus {
    /// The tool is running.
    Working,
    /// The tool waits for the client's answers (`inputRequests`).
    InputRequired,
    /// The tool ended with a result (which may be `isError`).
    Completed,
    /// The task ended with a protocol error.
    Failed,
    /// The client cancelled the task.
    Cancelled,
}

impl TaskStatus {
    /// Whether the task has ended: completed, failed or cancelled.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Working => "working",
            Self::InputRequired => "input_required",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fields every task shape shares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Task {
    /// The server-minted, unguessable id.
    pub task_id: String,
    /// The status.
    pub status: TaskStatus,
    /// A human-readable note on the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// When the task was created (ISO 8601, UTC).
    pub created_at: String,
    /// When the task last changed (ISO 8601, UTC).
    pub last_updated_at: String,
    /// How long after its creation the server keeps the task, in
    /// milliseconds.
    pub ttl_ms: u64,
    /// How often the client should poll, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_interval_ms: Option<u64>,
}

/// The answer to a `tools/call` that became a task: a flat `Result & Task`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreateTaskResult {
    /// Always [`ResultType::Task`].
    pub result_type: ResultType,
    /// The task.
    #[serde(flatten)]
    pub task: Task,
    /// Result metadata (the server's `serverInfo`).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// The answer to `tasks/get`: the task, with what its status implies
/// (`inputRequests` while it waits for input, `result` once completed,
/// `error` once failed).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DetailedTask {
    /// Always [`ResultType::Complete`]: the `tasks/get` request itself
    /// completed.
    pub result_type: ResultType,
    /// The task.
    #[serde(flatten)]
    pub task: Task,
    /// What the task waits for, keyed by server-minted ids (status
    /// `input_required`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<BTreeMap<String, Value>>,
    /// The tool's result (status `completed`), as `tools/call` would have
    /// answered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Box<RawValue>>,
    /// The protocol error (status `failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
    /// Result metadata (the server's `serverInfo`).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// The params of `tasks/get` and `tasks/cancel`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskIdParams {
    /// The task.
    pub task_id: String,
}

/// The params of `tasks/update`: answers to some or all of the task's
/// pending input requests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UpdateTaskParams {
    /// The task.
    pub task_id: String,
    /// Answers keyed as the task's `inputRequests` were; keys the task is
    /// not waiting for are ignored.
    pub input_responses: BTreeMap<String, Value>,
}

/// Milliseconds since the Unix epoch as ISO 8601 (RFC 3339) in UTC with
/// milliseconds (`2026-07-28T12:00:00.000Z`): the form of `createdAt` and
/// `lastUpdatedAt`.
pub fn iso8601_ms(ms: u64) -> String {
    let secs = ms / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, (rem % 3600) / 60, rem % 60, ms % 1000)
}

/// The Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso8601_utc() {
        assert_eq!(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso8601_ms(1_785_240_000_000), "2026-07-28T12:00:00.000Z");
    }

    #[test]
    fn create_task_result_is_flat() {
        let r = CreateTaskResult {
            result_type: ResultType::Task,
            task: Task {
                task_id: "t1".into(),
                status: TaskStatus::Working,
                status_message: None,
                created_at: iso8601_ms(0),
                last_updated_at: iso8601_ms(0),
                ttl_ms: 60_000,
                poll_interval_ms: Some(500),
            },
            meta: None,
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["resultType"], "task");
        assert_eq!(v["taskId"], "t1");
        assert_eq!(v["status"], "working");
        assert_eq!(v["ttlMs"], 60_000);
        assert!(v.get("task").is_none() && v.get("ttl").is_none() && v.get("requestState").is_none());
    }
}
