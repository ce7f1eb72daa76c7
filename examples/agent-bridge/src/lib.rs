//! The Step Functions agent bridge of the MCP server implementation guide,
//! built on the SDK: AI agents are Step Functions state machines, and MCP
//! clients start, follow and read their executions.
//!
//! - tools `start_agent` (`agent_name`, `input_message`, optional
//!   `parameters`), `monitor_agent` (`execution_id`), `get_agent_results`
//!   (`execution_id`, `include_metadata`) and `list_available_agents`;
//! - resources `agents://available` and `agents://executions`;
//! - the agents table (`AGENTS_TABLE`: `agent_name` → `state_machine_arn`,
//!   `description`, `status`, `average_execution_time`...) and the
//!   executions table (`EXECUTIONS_TABLE`: `execution_id` → agent, status,
//!   result or error, owner, metadata, `ttl` seven days on), in DynamoDB.
//!
//! `start_agent` is task-capable (the `io.modelcontextprotocol/tasks`
//! extension): a client that declares the extension gets a task whose
//! status follows the execution (completed with its output, failed with
//! its cause; cancelling the task stops the execution); any other client
//! gets `{execution_id, status, poll_interval}` and polls `monitor_agent`.
//!
//! Permissions are the caller's (an API key's `permissions`, or a token's):
//! `execute:<agent>` to start an agent, `view:<agent>` to list it; an
//! execution is read by its owner or an admin (`*:*`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//!
//! let bridge = agent_bridge::Bridge::from_env().await?;
//! let server = agent_bridge::server(Arc::new(bridge))?;
//! mcp_aws::run(server).await?;
//! # Ok(())
//! # }
//! ```

pub mod bridge;
pub mod error;
pub mod follow;
pub mod status;
pub mod tables;
pub mod tools;

use std::sync::Arc;

pub use bridge::Bridge;
pub use error::BridgeError;
use mcp_core::server::{BuildError, Server, ServerBuilder};
use tables::Tables;

/// The variable naming the agents table.
pub const AGENTS_TABLE: &str = "AGENTS_TABLE";
/// The variable naming the executions table.
pub const EXECUTIONS_TABLE: &str = "EXECUTIONS_TABLE";

/// A required setting is missing.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} is not set: it names a DynamoDB table the agent bridge needs")]
pub struct MissingTable(pub &'static str);

impl Bridge {
    /// The bridge the environment describes: `AGENTS_TABLE`,
    /// `EXECUTIONS_TABLE`, and the AWS settings (region, credentials,
    /// `AWS_ENDPOINT_URL`).
    ///
    /// # Errors
    /// A table variable is missing or empty.
    pub async fn from_env() -> Result<Self, MissingTable> {
        let var = |name: &'static str| {
            std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).ok_or(MissingTable(name))
        };
        let (agents, executions) = (var(AGENTS_TABLE)?, var(EXECUTIONS_TABLE)?);
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let tables = Tables::new(aws_sdk_dynamodb::Client::new(&config), agents, executions);
        Ok(Self::new(tables, aws_sdk_sfn::Client::new(&config)))
    }
}

/// The bridge's tools and resources on a builder, for more settings (a
/// task store, lease, poll interval) before `build()`.
pub fn builder(bridge: &Arc<Bridge>) -> ServerBuilder {
    ServerBuilder::new("agent-bridge", env!("CARGO_PKG_VERSION"))
        .instructions(
            "Start AI agents (Step Functions executions) with start_agent, follow them with monitor_agent (or as a \
             task), and read what they produced with get_agent_results.",
        )
        .tool(tools::start_agent(bridge))
        .tool(tools::monitor_agent(bridge))
        .tool(tools::get_agent_results(bridge))
        .tool(tools::list_available_agents(bridge))
        .resource(tools::available_resource(bridge))
        .resource(tools::executions_resource(bridge))
        // Agents take seconds to minutes: no point asking more often.
        .task_poll_interval(std::time::Duration::from_secs(2))
}

/// The bridge's server.
///
/// # Errors
/// None in practice: the routes are fixed and valid.
pub fn server(bridge: Arc<Bridge>) -> Result<Server, BuildError> {
    builder(&bridge).build()
}
