//! The [`Context`] methods of the tasks extension: the task a handler runs
//! for, continuing a call as a task, and following work done elsewhere.

use serde_json::Value;

use super::{Context, TaskMode, lock};
use crate::error::Error;

impl Context {
    /// The id of the task this handler runs for (tasks extension), or
    /// `None` when it serves an ordinary request.
    pub fn task_id(&self) -> Option<&str> {
        match &self.inner.task {
            TaskMode::Running(id) => Some(id),
            _ => None,
        }
    }

    /// Continues this call as a task (tasks extension), for a tool whose
    /// route [defers its task](crate::server::ToolRoute::defer_task): what the
    /// handler did so far (typically gathering input with
    /// [`elicit`](Self::elicit) over multi-round-trip requests) stays in the
    /// request; from here on the call answers with a `CreateTaskResult` and
    /// the handler runs again, from the start, as the task, with the
    /// answers it already has (so earlier `elicit` calls return at once).
    /// Side effects before this point therefore run again: keep them
    /// idempotent, as between multi-round-trip rounds.
    ///
    /// Returns at once when the handler already runs as a task, or when
    /// the call cannot become one (the client does not speak the tasks
    /// extension, or the tool does not support tasks): then the call goes
    /// on in its request.
    ///
    /// # Errors
    /// None today; the `Result` leaves room for stores that refuse work.
    pub async fn continue_as_task(&self) -> Result<(), Error> {
        match self.inner.task {
            TaskMode::Capable => {
                // The dispatcher creates the task and drops this future.
                self.inner.detach.notify_one();
                std::future::pending().await
            }
            TaskMode::Plain | TaskMode::Running(_) => Ok(()),
        }
    }

    /// Hands the task the reference to work that runs outside this process
    /// (a Step Functions execution ARN, say), for a tool whose route has a
    /// [`TaskFollower`](crate::server::task::TaskFollower): when the call is a task
    /// (or may become one), the handler ends here and the task stays
    /// `working`, its status from then on the follower's answer to each
    /// `tasks/get`; `tasks/cancel` asks the follower to stop the work.
    ///
    /// Returns at once when the call is not a task (a client without the
    /// tasks extension): the handler goes on and answers as it would
    /// without tasks (with the reference, for the client to poll some
    /// other way).
    ///
    /// # Errors
    /// None today; the `Result` leaves room for stores that refuse work.
    pub async fn follow_external(&self, reference: Value) -> Result<(), Error> {
        match self.inner.task {
            TaskMode::Capable | TaskMode::Running(_) => {
                *lock(&self.inner.external) = Some(reference);
                self.inner.detach.notify_one();
                std::future::pending().await
            }
            TaskMode::Plain => Ok(()),
        }
    }

    /// What [`follow_external`](Self::follow_external) handed over.
    pub(crate) fn take_external(&self) -> Option<Value> {
        lock(&self.inner.external).take()
    }
}
