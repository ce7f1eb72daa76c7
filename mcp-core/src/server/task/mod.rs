//! The tasks extension (`io.modelcontextprotocol/tasks`): tool calls that
//! outlive their request.
//!
//! A tool opts in with [`ToolRoute::task_support`](super::ToolRoute::task_support)
//! (or `#[tool(task = "optional")]`). When a stateless (2026-07-28) client
//! declares the extension, a call to such a tool answers at once with a
//! `CreateTaskResult`; the handler runs in the background, and the client
//! polls `tasks/get` until the task inlines its result (or error). A
//! handler that asks for input (`ctx.elicit(..)`) parks the task in
//! `input_required`; `tasks/update` delivers the answers, and the handler
//! runs again from the start with them, as a multi-round-trip request
//! does. `tasks/cancel` cancels the handler ([`Context::cancelled`](super::Context::cancelled)
//! fires).
//!
//! A tool whose work runs elsewhere (a Step Functions execution) starts it,
//! then calls [`Context::follow_external`](super::Context::follow_external)
//! with a reference to it; the route's [`TaskFollower`] then answers each
//! `tasks/get` from the work's own status and stops it on `tasks/cancel`,
//! so the task needs no worker in the process (Lambda).
//!
//! On Lambda nothing runs between invocations: a handler still running
//! when its invocation ends is frozen with the instance, its lease runs
//! out and the task is reported failed. There, a tool whose work outlives
//! the invocation starts it elsewhere and follows it as above.
//!
//! Tasks live in a [`TaskStore`]: [`InMemoryTaskStore`] by default (bounded,
//! expiring), or a shared one (`mcp_aws::tasks::DynamoDbTaskStore`) so that
//! every instance of a server sees every task. A task is bound to the
//! [`Principal`](super::Principal) that created it: another caller gets
//! the same -32602 as for an unknown id.
//!
//! ```
//! use mcp_core::server::task::TaskSupport;
//! use mcp_core::server::{Context, ServerBuilder, ToolRoute};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Args {
//!     /// Seconds to work
//!     seconds: u64,
//! }
//!
//! let server = ServerBuilder::new("jobs", "1.0.0")
//!     .tool(
//!         ToolRoute::new("render", |ctx: Context, a: Args| async move {
//!             tokio::select! {
//!                 () = tokio::time::sleep(std::time::Duration::from_secs(a.seconds)) => "rendered".to_owned(),
//!                 () = ctx.cancelled() => "stopped".to_owned(),
//!             }
//!         })
//!         .with_description("Render the report")
//!         .task_support(TaskSupport::Optional),
//!     )
//!     .build()
//!     .expect("valid server");
//! # let _ = server;
//! ```

mod clock;
pub(crate) mod engine;
mod follow;
mod memory;
mod store;

pub use follow::{Followed, TaskFollower};
pub use memory::InMemoryTaskStore;
pub use store::{TaskRecord, TaskStore, TaskStoreError};

pub use crate::protocol::tasks::{EXTENSION_ID, TaskStatus};

/// Whether a tool's calls may run as tasks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskSupport {
    /// Never: every call runs to its end within its request (the default).
    #[default]
    Forbidden,
    /// A call becomes a task when the client declares the tasks extension,
    /// and runs as an ordinary call otherwise.
    Optional,
    /// Only as a task: a client without the extension gets -32021
    /// (missing client capability).
    Required,
}

impl TaskSupport {
    /// Whether calls may become tasks.
    pub fn allows_tasks(self) -> bool {
        !matches!(self, Self::Forbidden)
    }
}
