//! The server's side of tasks: the store, the workers running in this
//! process, and conditional read-modify-write over the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::clock::now_ms;
use super::store::{TaskRecord, TaskStore, TaskStoreError};
use crate::error::Error;
use crate::protocol::tasks::{Task, TaskStatus, iso8601_ms};
use crate::server::ServerEvent;

/// How tasks are kept and timed.
#[derive(Clone)]
pub(crate) struct TaskConfig {
    pub(crate) ttl: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) lease: Duration,
}

impl Default for TaskConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(3600),
            poll_interval: Duration::from_millis(500),
            lease: Duration::from_secs(30),
        }
    }
}

/// The store, and the cancellation tokens of the handlers this process
/// runs for tasks.
pub(crate) struct TaskEngine {
    /// Replaceable until serving starts ([`Server::set_task_store`](crate::server::Server::set_task_store)).
    store: RwLock<Arc<dyn TaskStore>>,
    pub(crate) config: TaskConfig,
    workers: Mutex<HashMap<String, CancellationToken>>,
    /// Where status changes are announced (`notifications/tasks`).
    events: Option<broadcast::Sender<ServerEvent>>,
}

/// How many times a write is retried after losing a race.
const CAS_ATTEMPTS: usize = 16;

pub(crate) fn store_error(e: &TaskStoreError) -> Error {
    Error::internal(format!("tasks: {e}"))
}

impl TaskEngine {
    pub(crate) fn new(store: Arc<dyn TaskStore>, config: TaskConfig) -> Self {
        Self { store: RwLock::new(store), config, workers: Mutex::new(HashMap::new()), events: None }
    }

    /// The store tasks live in.
    pub(crate) fn store(&self) -> Arc<dyn TaskStore> {
        Arc::clone(&self.store.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Keeps tasks in `store` from now on.
    pub(crate) fn set_store(&self, store: Arc<dyn TaskStore>) {
        *self.store.write().unwrap_or_else(PoisonError::into_inner) = store;
    }

    /// Announces each status change on `events`.
    pub(crate) fn with_events(mut self, events: broadcast::Sender<ServerEvent>) -> Self {
        self.events = Some(events);
        self
    }

    /// 128 random bits, URL-safe.
    pub(crate) fn new_id() -> Result<String, Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| Error::internal(format!("no random source for a task id: {e}")))?;
        Ok(B64.encode(bytes))
    }

    /// A new record for `owner`'s call of `tool`.
    pub(crate) fn record(&self, task_id: String, owner: Option<String>, tool: &str) -> TaskRecord {
        let now = now_ms();
        let ttl = u64::try_from(self.config.ttl.as_millis()).unwrap_or(u64::MAX);
        let poll = u64::try_from(self.config.poll_interval.as_millis()).unwrap_or(u64::MAX).max(1);
        TaskRecord {
            task_id,
            owner,
            tool: tool.to_owned(),
            arguments: None,
            client_capabilities: serde_json::Value::Object(serde_json::Map::new()),
            status: TaskStatus::Working,
            status_message: None,
            created_at_ms: now,
            updated_at_ms: now,
            expires_at_ms: now.saturating_add(ttl.max(1)),
            poll_interval_ms: poll,
            result: None,
            error: None,
            input_requests: std::collections::BTreeMap::new(),
            answers: std::collections::BTreeMap::new(),
            round: 0,
            lease_until_ms: Some(now.saturating_add(self.lease_ms())),
            revision: 0,
            external: None,
        }
    }

    pub(crate) fn lease_ms(&self) -> u64 {
        u64::try_from(self.config.lease.as_millis()).unwrap_or(u64::MAX)
    }

    /// The task `task_id` as `owner` may see it: `None` when it does not
    /// exist, expired, or belongs to someone else.
    pub(crate) async fn load_for(&self, task_id: &str, owner: Option<&str>) -> Result<Option<TaskRecord>, Error> {
        let found = self.store().load(task_id).await.map_err(|e| store_error(&e))?;
        Ok(found.filter(|r| r.owner.as_deref() == owner))
    }

    /// Loads the task, lets `change` edit it, and writes it back if it
    /// changed, conditionally on the revision it read; retries a lost race
    /// on a fresh read. `change` returns `false` to leave the task as it
    /// is. Returns the task as stored afterwards (`None`: no such task).
    pub(crate) async fn modify(
        &self,
        task_id: &str,
        mut change: impl FnMut(&mut TaskRecord) -> bool,
    ) -> Result<Option<TaskRecord>, Error> {
        for _ in 0..CAS_ATTEMPTS {
            let Some(stored) = self.store().load(task_id).await.map_err(|e| store_error(&e))? else {
                return Ok(None);
            };
            let mut next = stored.clone();
            if !change(&mut next) {
                return Ok(Some(stored));
            }
            next.revision = stored.revision.wrapping_add(1);
            // A lease renewal is not a change the client sees.
            if next.status != stored.status
                || next.status_message != stored.status_message
                || next.input_requests != stored.input_requests
            {
                next.updated_at_ms = now_ms().max(stored.updated_at_ms);
            }
            match self.store().replace(&next, stored.revision).await {
                Ok(()) => {
                    if next.status != stored.status
                        && let Some(events) = &self.events
                    {
                        // No listener is fine.
                        let _ = events.send(ServerEvent::TaskStatusChanged(next.task_id.clone()));
                    }
                    return Ok(Some(next));
                }
                Err(TaskStoreError::Conflict) => {}
                Err(e) => return Err(store_error(&e)),
            }
        }
        Err(Error::internal("tasks: the task kept changing concurrently; try again"))
    }

    /// Fails a `working` task whose worker's lease has passed: its
    /// instance died (or was recycled) before it could settle the task.
    pub(crate) async fn reap_if_orphaned(&self, record: TaskRecord) -> Result<TaskRecord, Error> {
        let orphaned =
            |r: &TaskRecord| r.status == TaskStatus::Working && r.lease_until_ms.is_some_and(|until| until < now_ms());
        if !orphaned(&record) {
            return Ok(record);
        }
        let id = record.task_id.clone();
        let reaped = self
            .modify(&id, |r| {
                if !orphaned(r) {
                    return false;
                }
                r.status = TaskStatus::Failed;
                r.lease_until_ms = None;
                r.error = Some(crate::jsonrpc::ErrorObject::new(
                    crate::jsonrpc::ErrorCode::INTERNAL_ERROR,
                    "the worker running this task stopped before it finished (its lease expired)",
                ));
                r.status_message = Some("worker lost".to_owned());
                true
            })
            .await?;
        Ok(reaped.unwrap_or(record))
    }

    pub(crate) fn add_worker(&self, task_id: &str, token: CancellationToken) {
        self.workers.lock().unwrap_or_else(PoisonError::into_inner).insert(task_id.to_owned(), token);
    }

    pub(crate) fn remove_worker(&self, task_id: &str) {
        self.workers.lock().unwrap_or_else(PoisonError::into_inner).remove(task_id);
    }

    /// Cancels the handler running `task_id` in this process, if any.
    pub(crate) fn cancel_worker(&self, task_id: &str) {
        if let Some(token) = self.workers.lock().unwrap_or_else(PoisonError::into_inner).remove(task_id) {
            token.cancel();
        }
    }
}

/// The wire view of a record.
pub(crate) fn wire_task(r: &TaskRecord) -> Task {
    Task {
        task_id: r.task_id.clone(),
        status: r.status,
        status_message: r.status_message.clone(),
        created_at: iso8601_ms(r.created_at_ms),
        last_updated_at: iso8601_ms(r.updated_at_ms),
        ttl_ms: r.ttl_ms(),
        poll_interval_ms: Some(r.poll_interval_ms),
    }
}

/// `ms` milliseconds from now, since the Unix epoch.
pub(crate) fn now_plus(ms: u64) -> u64 {
    now_ms().saturating_add(ms)
}
