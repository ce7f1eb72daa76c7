//! The guide's four tools and two resources as routes.

use std::future::Future;
use std::sync::Arc;

use mcp_core::protocol::tools::CallToolResult;
use mcp_core::server::task::TaskSupport;
use mcp_core::server::{Context, Json, NoArgs, Principal, ResourceRoute, ToolError, ToolRoute};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::bridge::{Bridge, Monitored};
use crate::error::BridgeError;
use crate::follow::{ExecutionFollower, reference};
use crate::tables::AgentListing;

/// `start_agent`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct StartAgentArgs {
    /// Name of the agent to execute
    pub agent_name: String,
    /// User query or task
    pub input_message: String,
    /// Optional agent-specific parameters
    #[serde(default)]
    pub parameters: Map<String, Value>,
}

/// `monitor_agent`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct MonitorAgentArgs {
    /// Execution ID from start_agent
    pub execution_id: String,
}

/// `get_agent_results`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct GetAgentResultsArgs {
    /// Execution ID
    pub execution_id: String,
    /// Include execution metadata
    #[serde(default)]
    pub include_metadata: bool,
}

/// A JSON answer as text, and as structured content when it is an object.
fn json_result(value: Value) -> CallToolResult {
    let text = value.to_string();
    if value.is_object() {
        CallToolResult::text(text).with_structured_content(value)
    } else {
        CallToolResult::text(text)
    }
}

/// `start_agent`: task-capable. A client with the tasks extension gets a
/// task following the execution; any other the guide's
/// `{execution_id, status, poll_interval}`.
pub fn start_agent(bridge: &Arc<Bridge>) -> ToolRoute {
    let b = Arc::clone(bridge);
    ToolRoute::new("start_agent", move |ctx: Context, args: StartAgentArgs| {
        let b = Arc::clone(&b);
        async move {
            let caller = b.caller(ctx.extensions())?;
            let started = b.start(caller, &args.agent_name, &args.input_message, args.parameters).await?;
            // A task from here on (the call returns `CreateTaskResult`);
            // without the extension this returns at once.
            ctx.follow_external(reference(&started.execution_id, &started.execution_arn))
                .await
                .map_err(ToolError::internal)?;
            let answer = serde_json::to_value(&started).map_err(ToolError::internal)?;
            Ok::<_, ToolError>(json_result(answer))
        }
    })
    .with_description("Start an AI agent execution")
    .task_support(TaskSupport::Optional)
    // The execution starts within the request (so a refusal is the call's
    // answer, and on Lambda nothing is left to run after it); the task
    // begins once it runs.
    .defer_task()
    .task_follower(ExecutionFollower(Arc::clone(bridge)))
}

/// `monitor_agent`.
pub fn monitor_agent(bridge: &Arc<Bridge>) -> ToolRoute {
    let b = Arc::clone(bridge);
    ToolRoute::new("monitor_agent", move |ctx: Context, args: MonitorAgentArgs| {
        let b = Arc::clone(&b);
        async move {
            let caller = b.caller(ctx.extensions())?;
            Ok::<Json<Monitored>, ToolError>(Json(b.monitor(caller, &args.execution_id).await?))
        }
    })
    .with_description("Check agent execution status")
}

/// `get_agent_results`.
pub fn get_agent_results(bridge: &Arc<Bridge>) -> ToolRoute {
    let b = Arc::clone(bridge);
    ToolRoute::new("get_agent_results", move |ctx: Context, args: GetAgentResultsArgs| {
        let b = Arc::clone(&b);
        async move {
            let caller = b.caller(ctx.extensions())?;
            let answer = b.results(caller, &args.execution_id, args.include_metadata).await?;
            Ok::<_, ToolError>(json_result(answer))
        }
    })
    .with_description("Retrieve agent execution results")
}

/// `list_available_agents`: the active agents the caller may view.
pub fn list_available_agents(bridge: &Arc<Bridge>) -> ToolRoute {
    let b = Arc::clone(bridge);
    ToolRoute::new("list_available_agents", move |ctx: Context, _: NoArgs| {
        let b = Arc::clone(&b);
        async move {
            let caller = b.caller(ctx.extensions())?;
            Ok::<Json<Vec<AgentListing>>, ToolError>(Json(b.available(caller).await?))
        }
    })
    .with_description("List the AI agents available to you")
}

/// A JSON resource read by `read` for the caller.
fn json_resource<F, Fut, T>(bridge: &Arc<Bridge>, uri: &str, name: &str, description: &str, read: F) -> ResourceRoute
where
    F: Fn(Arc<Bridge>, Principal) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, BridgeError>> + Send + 'static,
    T: Serialize + 'static,
{
    let b = Arc::clone(bridge);
    let read = Arc::new(read);
    let description = description.to_owned();
    ResourceRoute::new(uri, name, move |ctx: Context, _uri: String| {
        let (b, read) = (Arc::clone(&b), Arc::clone(&read));
        let caller = b.caller(ctx.extensions()).cloned();
        async move {
            let caller = caller.map_err(BridgeError::into_protocol)?;
            read(b, caller).await.map(Json).map_err(BridgeError::into_protocol)
        }
    })
    .with(|mut r| {
        r.description = Some(description);
        r.mime_type = Some("application/json".to_owned());
        r
    })
}

/// `agents://available`: the agents, as `list_available_agents` lists them.
pub fn available_resource(bridge: &Arc<Bridge>) -> ResourceRoute {
    json_resource(
        bridge,
        "agents://available",
        "available_agents",
        "List of available AI agents",
        |b, caller| async move { b.available(&caller).await },
    )
}

/// `agents://executions`: the caller's recent executions (everyone's for
/// admins).
pub fn executions_resource(bridge: &Arc<Bridge>) -> ResourceRoute {
    json_resource(
        bridge,
        "agents://executions",
        "agent_executions",
        "Recent agent executions",
        |b, caller| async move { b.executions(&caller).await },
    )
}
