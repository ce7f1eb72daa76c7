//! `start_agent`'s tasks follow their Step Functions execution: each
//! `tasks/get` asks `DescribeExecution` (and records an ended execution in
//! the executions table), `tasks/cancel` calls `StopExecution`. Nothing
//! runs between requests, so this works on Lambda.

use std::sync::Arc;

use mcp_core::jsonrpc::ErrorCode;
use mcp_core::protocol::tools::CallToolResult;
use mcp_core::server::Context;
use mcp_core::server::task::{Followed, TaskFollower};
use mcp_core::{Error, async_trait};
use serde_json::{Value, json};

use crate::bridge::{Bridge, results_of};
use crate::error::BridgeError;
use crate::status;

/// The reference `start_agent` hands its task.
pub fn reference(execution_id: &str, execution_arn: &str) -> Value {
    json!({ "execution_id": execution_id, "execution_arn": execution_arn })
}

/// Follows a task's execution; see the module docs.
#[derive(Debug, Clone)]
pub struct ExecutionFollower(pub Arc<Bridge>);

fn parts(reference: &Value) -> Result<(&str, &str), Error> {
    match (reference["execution_id"].as_str(), reference["execution_arn"].as_str()) {
        (Some(id), Some(arn)) => Ok((id, arn)),
        _ => Err(Error::internal("agent bridge: a task without its execution (id and ARN)")),
    }
}

#[async_trait]
impl TaskFollower for ExecutionFollower {
    async fn poll(&self, _ctx: &Context, reference: &Value) -> Result<Followed, Error> {
        let (id, arn) = parts(reference)?;
        let described = self.0.describe(arn).await.map_err(BridgeError::into_protocol)?;
        let now = status::from_step_functions(described.status());
        if !status::is_terminal(now) {
            return Ok(Followed::Working(Some(format!("Step Functions execution {id} is running"))));
        }
        // Ended: one read and one write record it for `monitor_agent`.
        let row = self.0.tables.execution(id).await.map_err(BridgeError::into_protocol)?;
        let Some(row) = row else {
            return Ok(Followed::Failed(Error::internal(format!("execution {id} is no longer recorded"))));
        };
        let row = self.0.settle(row, &described).await.map_err(BridgeError::into_protocol)?;
        if now == status::COMPLETED {
            let answer = results_of(&row, &described, false);
            return Ok(Followed::Completed(CallToolResult::text(answer.to_string()).with_structured_content(answer)));
        }
        let cause = described.cause().or(described.error()).unwrap_or("no cause given");
        Ok(Followed::Failed(Error::Other {
            code: ErrorCode::INTERNAL_ERROR,
            message: status::message(now, &row.agent_name, Some(cause)),
            data: Some(json!({
                "execution_id": id,
                "status": now,
                "error": described.error(),
                "cause": described.cause(),
            })),
        }))
    }

    async fn cancel(&self, _ctx: &Context, reference: &Value) -> Result<(), Error> {
        let (id, arn) = parts(reference)?;
        self.0.stop(id, arn).await.map_err(BridgeError::into_protocol)
    }
}
