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
/// makes room by dropping expired ones, then the longest-ended ones; when
/// every task is still live, creation fails with [`TaskStoreError::Full`].
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

/// Frees one slot in a full map: every expired task, else the task that
/// ended longest ago. `false` when every task is live and unfinished.
fn make_room(tasks: &mut HashMap<String, TaskRecord>, now: u64) -> bool {
    let before = tasks.len();
    tasks.retain(|_, t| t.expires_at_ms > now);
    if tasks.len() < before {
        return true;
    }
    let oldest_ended =
        tasks.values().filter(|t| t.status.is_terminal()).min_by_key(|t| t.updated_at_ms).map(|t| t.task_id.clone());
    match oldest_ended {
        Some(id) => {
            tasks.remove(&id);
            true
        }
        None => false,
    }
}

#[async_trait]
impl TaskStore for InMemoryTaskStore {
    async fn create(&self, record: &TaskRecord) -> Result<(), TaskStoreError> {
        let mut tasks = self.lock();
        if tasks.contains_key(&record.task_id) {
            return Err(TaskStoreError::Conflict);
        }
        if tasks.len() >= self.capacity && !make_room(&mut tasks, now_ms()) {
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
