//! [`TaskStore`]: where tasks live, so that a task outlives the request
//! (and, with a shared store, the instance) that created it.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::jsonrpc::ErrorObject;
use crate::protocol::tasks::TaskStatus;

/// Everything the server keeps about one task. Stores persist it whole
/// (it is `Serialize`) and index it by [`task_id`](Self::task_id); only
/// [`revision`](Self::revision) and [`expires_at_ms`](Self::expires_at_ms)
/// matter to a store itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskRecord {
    /// The task's id (128 random bits, URL-safe base64).
    pub task_id: String,
    /// The subject of the principal that created it; only that principal
    /// may read, update or cancel it. `None` when the server has no
    /// authentication: then the unguessable id is the only key.
    pub owner: Option<String>,
    /// The tool that runs it.
    pub tool: String,
    /// The call's arguments (re-run with the client's answers after
    /// `tasks/update`, on whichever instance receives it).
    pub arguments: Option<Box<RawValue>>,
    /// The capabilities the creating request declared.
    pub client_capabilities: Value,
    /// The status.
    pub status: TaskStatus,
    /// A note on the status.
    pub status_message: Option<String>,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// Last change, milliseconds since the Unix epoch.
    pub updated_at_ms: u64,
    /// When the store may forget the task, milliseconds since the Unix
    /// epoch (`created_at_ms + ttl`).
    pub expires_at_ms: u64,
    /// How often the client should poll, in milliseconds.
    pub poll_interval_ms: u64,
    /// The tool's result, once completed: the `CallToolResult` as JSON.
    pub result: Option<Box<RawValue>>,
    /// The protocol error, once failed.
    pub error: Option<ErrorObject>,
    /// The input requests the task waits for (status `input_required`).
    pub input_requests: BTreeMap<String, Value>,
    /// The client's answers so far, replayed to the handler on each run.
    pub answers: BTreeMap<String, Value>,
    /// How many times the handler has been started.
    pub round: u32,
    /// Until when the worker running the handler holds the task
    /// (milliseconds since the Unix epoch). A `working` task whose lease
    /// has passed lost its worker (the instance died) and is reported
    /// failed. `None` when no worker runs it (waiting for input, ended, or
    /// followed by something other than an in-process worker).
    pub lease_until_ms: Option<u64>,
    /// Bumped by every write; writes are conditional on it, so two
    /// instances never both settle a task.
    pub revision: u64,
    /// The reference to work running outside the process that the task
    /// follows ([`Context::follow_external`](crate::server::Context::follow_external)),
    /// for the tool's [`TaskFollower`](super::TaskFollower).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<Value>,
}

impl TaskRecord {
    /// The time-to-live the client is told, in milliseconds.
    pub fn ttl_ms(&self) -> u64 {
        self.expires_at_ms.saturating_sub(self.created_at_ms)
    }
}

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TaskStoreError {
    /// A conditional write lost: the task already exists (create) or
    /// changed since it was read (replace). The caller reloads and retries.
    #[error("the task changed concurrently")]
    Conflict,
    /// The store holds as many live tasks as it may.
    #[error("the task store is full ({capacity} tasks)")]
    Full {
        /// The store's capacity.
        capacity: usize,
    },
    /// The task is too large for the store (a result over a backend's item
    /// limit).
    #[error("the task is too large to store: {0}")]
    TooLarge(String),
    /// The backend failed.
    #[error("task store failure: {0}")]
    Backend(String),
}

/// Where a server keeps its tasks.
///
/// Implement it to keep tasks somewhere shared (a database), so that a
/// task created on one instance is read, updated and cancelled on another;
/// [`InMemoryTaskStore`](super::InMemoryTaskStore) keeps them in the
/// process. Writes are compare-and-swap on [`TaskRecord::revision`]: that
/// is all a backend needs to offer (DynamoDB: a condition expression).
///
/// ```
/// use mcp_core::server::task::{InMemoryTaskStore, TaskStore};
///
/// fn shared() -> std::sync::Arc<dyn TaskStore> {
///     std::sync::Arc::new(InMemoryTaskStore::new(10_000))
/// }
/// # let _ = shared();
/// ```
#[async_trait]
pub trait TaskStore: Send + Sync + 'static {
    /// Stores a new task.
    ///
    /// # Errors
    /// [`TaskStoreError::Conflict`] when a task with that id exists;
    /// [`TaskStoreError::Full`], [`TaskStoreError::TooLarge`],
    /// [`TaskStoreError::Backend`].
    async fn create(&self, record: &TaskRecord) -> Result<(), TaskStoreError>;

    /// The task, or `None` when there is none (or it expired).
    ///
    /// # Errors
    /// [`TaskStoreError::Backend`].
    async fn load(&self, task_id: &str) -> Result<Option<TaskRecord>, TaskStoreError>;

    /// Replaces the task with `record` if the stored one's revision is
    /// still `expected_revision` (`record.revision` is the new one).
    ///
    /// # Errors
    /// [`TaskStoreError::Conflict`] when the stored revision differs or the
    /// task is gone; [`TaskStoreError::TooLarge`],
    /// [`TaskStoreError::Backend`].
    async fn replace(&self, record: &TaskRecord, expected_revision: u64) -> Result<(), TaskStoreError>;
}
