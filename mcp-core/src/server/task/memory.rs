//! [`InMemoryTaskStore`]: tasks in the process, bounded, forgotten when
//! they expire.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use super::clock::now_ms;
use super::store::{TaskRecord, TaskStore, TaskStoreError};

/// A [`TaskStore`] in the process's memory: fast, but each instance has
/// its own, and a restart forgets every task.
///
/// It holds at most `capacity` tasks. When it is full, a new task first
/// makes room by dropping expired ones, else the tenth of the capacity that
/// ended longest ago; when every task is still running or waiting for
/// input, creation fails with [`TaskStoreError::Full`].
#[derive(Debug)]
pub struct InMemoryTaskStore {
    capacity: usize,
    tasks: Mutex<HashMap<String, TaskRecord>>,
}

impl InMemoryTaskStore {
    /// A store that holds at most `capacity` tasks (at least one).
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), tasks: Mutex::new(HashMap::new()) }
    }

    /// How many tasks it holds, expired ones included until they are swept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether it holds no task.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, TaskRecord>> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for InMemoryTaskStore {
    /// A store of 10,000 tasks.
    fn default() -> Self {
        Self::new(10_000)
    }
}

/// Makes room in a full map: drops every expired task, else the tenth of
/// the capacity that ended longest ago (a batch, so that a store kept full
/// by a steady stream of tasks sweeps once per many creations, not on
/// each). `false` when every task is live and unfinished.
fn make_room(tasks: &mut HashMap<String, TaskRecord>, capacity: usize, now: u64) -> bool {
    let before = tasks.len();
    tasks.retain(|_, t| t.expires_at_ms > now);
    if tasks.len() < before {
        return true;
    }
    let mut ended: Vec<(u64, String)> =
        tasks.values().filter(|t| t.status.is_terminal()).map(|t| (t.updated_at_ms, t.task_id.clone())).collect();
    if ended.is_empty() {
        return false;
    }
    let batch = (capacity / 10).clamp(1, ended.len());
    ended.select_nth_unstable(batch - 1);
    for (_, id) in &ended[..batch] {
        tasks.remove(id);
    }
    true
}

#[async_trait]
impl TaskStore for InMemoryTaskStore {
    async fn create(&self, record: &TaskRecord) -> Result<(), TaskStoreError> {
        let mut tasks = self.lock();
        if tasks.contains_key(&record.task_id) {
            return Err(TaskStoreError::Conflict);
        }
        if tasks.len() >= self.capacity && !make_room(&mut tasks, self.capacity, now_ms()) {
            return Err(TaskStoreError::Full { capacity: self.capacity });
        }
        tasks.insert(record.task_id.clone(), record.clone());
        Ok(())
    }

    async fn load(&self, task_id: &str) -> Result<Option<TaskRecord>, TaskStoreError> {
        let mut tasks = self.lock();
        match tasks.get(task_id) {
            Some(t) if t.expires_at_ms <= now_ms() => {
                tasks.remove(task_id);
                Ok(None)
            }
            found => Ok(found.cloned()),
        }
    }

    async fn replace(&self, record: &TaskRecord, expected_revision: u64) -> Result<(), TaskStoreError> {
        let mut tasks = self.lock();
        match tasks.get_mut(&record.task_id) {
            Some(stored) if stored.revision == expected_revision => {
                *stored = record.clone();
                Ok(())
            }
            _ => Err(TaskStoreError::Conflict),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::tasks::TaskStatus;
    use crate::server::task::engine::{TaskConfig, TaskEngine};

    fn record(engine: &TaskEngine, id: &str, status: TaskStatus, updated: u64) -> TaskRecord {
        let mut r = engine.record(id.to_owned(), None, "t");
        r.status = status;
        r.updated_at_ms = updated;
        r
    }

    fn engine() -> TaskEngine {
        TaskEngine::new(std::sync::Arc::new(InMemoryTaskStore::new(1)), TaskConfig::default())
    }

    #[tokio::test]
    async fn a_full_store_drops_the_longest_ended_tasks_and_refuses_when_all_are_live() {
        let engine = engine();
        let store = InMemoryTaskStore::new(10);
        for i in 0..10u64 {
            let status = if i < 3 { TaskStatus::Completed } else { TaskStatus::Working };
            store.create(&record(&engine, &format!("t{i}"), status, 100 - i)).await.unwrap();
        }
        // Full: the task that ended first (t2, at 98) goes.
        store.create(&record(&engine, "new", TaskStatus::Working, 200)).await.unwrap();
        assert!(store.load("t2").await.unwrap().is_none());
        assert!(store.load("t0").await.unwrap().is_some() && store.load("new").await.unwrap().is_some());
        store.create(&record(&engine, "new2", TaskStatus::Working, 200)).await.unwrap();
        store.create(&record(&engine, "new3", TaskStatus::Working, 200)).await.unwrap();
        // Now every task is live: refused, naming the capacity.
        let err = store.create(&record(&engine, "new4", TaskStatus::Working, 200)).await.unwrap_err();
        assert!(matches!(err, TaskStoreError::Full { capacity: 10 }), "{err}");
        let dup = store.create(&record(&engine, "t5", TaskStatus::Working, 1)).await;
        assert!(matches!(dup, Err(TaskStoreError::Conflict)));
    }

    #[tokio::test]
    async fn expired_tasks_read_as_gone_and_make_room_first() {
        let engine = engine();
        let store = InMemoryTaskStore::new(2);
        let mut old = record(&engine, "old", TaskStatus::Working, 1);
        old.expires_at_ms = 1;
        store.create(&old).await.unwrap();
        store.create(&record(&engine, "live", TaskStatus::Working, 1)).await.unwrap();
        store.create(&record(&engine, "next", TaskStatus::Working, 1)).await.unwrap();
        assert!(store.load("old").await.unwrap().is_none());
        assert_eq!(store.len(), 2);
        // A stale revision loses.
        let mut live = store.load("live").await.unwrap().unwrap();
        live.revision = 5;
        assert!(matches!(store.replace(&live, 4).await, Err(TaskStoreError::Conflict)));
        assert!(store.replace(&live, 0).await.is_ok());
    }
}
