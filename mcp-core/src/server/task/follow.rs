//! Tasks whose work runs outside the process (a Step Functions execution,
//! a batch job): the handler starts the work and hands the task a
//! reference to it ([`Context::follow_external`](crate::server::Context::follow_external));
//! from then on the route's [`TaskFollower`] reports the task's status on
//! each `tasks/get` and stops the work on `tasks/cancel`, on whichever
//! instance receives them. No worker, and so no lease, is involved: this
//! is the shape for Lambda, where nothing runs between invocations.

use async_trait::async_trait;
use serde_json::Value;

use crate::error::Error;
use crate::protocol::tools::CallToolResult;
use crate::server::Context;

/// Where followed work stands.
#[derive(Debug)]
#[non_exhaustive]
pub enum Followed {
    /// Still running, with an optional note for `statusMessage`.
    Working(Option<String>),
    /// Ended with this result (which may be `isError`): the task completes.
    Completed(CallToolResult),
    /// Ended with a protocol-level failure: the task fails.
    Failed(Error),
}

/// Follows the external work of a tool's tasks. Register it with
/// [`ToolRoute::task_follower`](crate::server::ToolRoute::task_follower).
///
/// The `Context` is the `tasks/get` or `tasks/cancel` request's: it carries
/// the caller's principal and the server's state (an SDK client, say).
#[async_trait]
pub trait TaskFollower: Send + Sync + 'static {
    /// Where the work `reference` names stands (called by `tasks/get`
    /// while the task is `working`).
    ///
    /// # Errors
    /// An error reaching the work: `tasks/get` answers it, and the task is
    /// left as it was.
    async fn poll(&self, ctx: &Context, reference: &Value) -> Result<Followed, Error>;

    /// Stops the work (called once by `tasks/cancel`, before the task is
    /// marked cancelled).
    ///
    /// # Errors
    /// An error stopping the work: `tasks/cancel` answers it, and the task
    /// stays as it was.
    async fn cancel(&self, ctx: &Context, reference: &Value) -> Result<(), Error>;
}
