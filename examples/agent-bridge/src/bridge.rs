//! The bridge's operations, as the guide's `StepFunctionsAgentMCPServer`
//! has them: start an execution, refresh it from Step Functions, answer
//! `monitor_agent` and `get_agent_results`, list agents and executions.

use std::time::SystemTime;

use aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;
use aws_sdk_sfn::primitives::{DateTime, DateTimeFormat};
use mcp_core::server::Principal;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::error::BridgeError;
use crate::status;
use crate::tables::{AgentListing, ExecutionRow, Tables};

/// Seconds a plain client is told to wait between `monitor_agent` calls.
pub const POLL_INTERVAL_SECS: u64 = 5;

/// Step Functions and the two tables.
#[derive(Debug, Clone)]
pub struct Bridge {
    pub(crate) tables: Tables,
    sfn: aws_sdk_sfn::Client,
    local: Option<Principal>,
}

/// What `start_agent` answers a client without the tasks extension.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Started {
    /// The execution's id, for `monitor_agent` and `get_agent_results`.
    pub execution_id: String,
    /// `started`.
    pub status: String,
    /// The agent started.
    pub agent_name: String,
    /// The agent's average run time, seconds.
    pub estimated_time: f64,
    /// Seconds to wait between polls.
    pub poll_interval: u64,
    /// The Step Functions execution ARN (not part of the answer).
    #[serde(skip)]
    pub execution_arn: String,
}

/// What `monitor_agent` answers.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Monitored {
    /// The execution.
    pub execution_id: String,
    /// `running`, `completed`, `failed`, `timeout`, `cancelled`, or
    /// `error` when Step Functions could not be asked.
    pub status: String,
    /// 0 to 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    /// A line for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the status last changed (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Why Step Functions could not be asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An execution's current Step Functions view, and the row brought up to
/// date with it.
#[derive(Debug)]
pub struct Refreshed {
    /// The row as stored now.
    pub row: ExecutionRow,
    /// `DescribeExecution`'s answer.
    pub described: DescribeExecutionOutput,
}

impl Bridge {
    /// A bridge on these tables and Step Functions client.
    pub fn new(tables: Tables, sfn: aws_sdk_sfn::Client) -> Self {
        Self { tables, sfn, local: None }
    }

    /// Requests without an authenticated caller act as `principal` (for
    /// stdio, where the caller is whoever started the process). Without
    /// it they are refused.
    #[must_use]
    pub fn with_local_caller(mut self, principal: Principal) -> Self {
        self.local = Some(principal);
        self
    }

    /// Who is calling: the authenticated principal, else the local caller.
    ///
    /// # Errors
    /// [`BridgeError::Unauthenticated`] when there is neither.
    pub fn caller<'a>(&'a self, extensions: &'a http::Extensions) -> Result<&'a Principal, BridgeError> {
        extensions.get::<Principal>().or(self.local.as_ref()).ok_or(BridgeError::Unauthenticated)
    }

    /// Starts `agent_name` on `input_message` for `caller` (who needs
    /// `execute:<agent>`), with the caller's identity in the execution's
    /// input, and records it in the executions table.
    ///
    /// # Errors
    /// Forbidden, no such agent, or a backend failure.
    pub async fn start(
        &self,
        caller: &Principal,
        agent_name: &str,
        input_message: &str,
        parameters: Map<String, Value>,
    ) -> Result<Started, BridgeError> {
        if agent_name.trim().is_empty() || agent_name.len() > MAX_AGENT_NAME {
            return Err(BridgeError::InvalidArgument(format!(
                "`agent_name` must be 1 to {MAX_AGENT_NAME} bytes, got {}",
                agent_name.len()
            )));
        }
        if !caller.has_permission("execute", agent_name) {
            return Err(BridgeError::Forbidden(format!(
                "No permission to execute agent: {agent_name} (needs execute:{agent_name})"
            )));
        }
        let agent = match self.tables.agent(agent_name).await? {
            Some(agent) if agent.is_active() => agent,
            _ => return Err(BridgeError::AgentNotFound(agent_name.to_owned())),
        };
        let now = now_rfc3339();
        let input = json!({
            "messages": [{"role": "user", "content": input_message}],
            "parameters": parameters,
            "metadata": {"user_id": caller.subject, "source": "mcp_server", "timestamp": now},
        });
        let started = self
            .sfn
            .start_execution()
            .state_machine_arn(&agent.state_machine_arn)
            .name(execution_name(agent_name)?)
            .input(input.to_string())
            .send()
            .await
            .map_err(|e| BridgeError::backend("starting the execution", e))?;
        let arn = started.execution_arn().to_owned();
        let execution_id = arn.rsplit(':').next().unwrap_or(&arn).to_owned();
        let mut metadata = Map::new();
        metadata.insert("user_id".into(), Value::String(caller.subject.clone()));
        metadata.insert("input_message".into(), Value::String(input_message.to_owned()));
        metadata.insert("execution_arn".into(), Value::String(arn.clone()));
        let row = ExecutionRow {
            execution_id: execution_id.clone(),
            agent_name: agent.name.clone(),
            status: status::RUNNING.to_owned(),
            started_at: now.clone(),
            updated_at: now,
            result: None,
            error: None,
            metadata,
            owner: caller.subject.clone(),
        };
        self.tables.save(&row).await?;
        tracing::info!(execution_id = %execution_id, agent = %agent.name, "agent execution started");
        Ok(Started {
            execution_id,
            status: "started".to_owned(),
            agent_name: agent.name,
            estimated_time: agent.average_execution_time,
            poll_interval: POLL_INTERVAL_SECS,
            execution_arn: arn,
        })
    }

    /// The execution `id` if `caller` owns it or is an admin (`*:*`).
    ///
    /// # Errors
    /// Not found, forbidden, or a backend failure.
    pub async fn owned_execution(
        &self,
        caller: &Principal,
        id: &str,
        doing: &str,
    ) -> Result<ExecutionRow, BridgeError> {
        check_execution_id(id)?;
        let row = self.tables.execution(id).await?.ok_or_else(|| BridgeError::ExecutionNotFound(id.to_owned()))?;
        if row.owner != caller.subject && !is_admin(caller) {
            return Err(BridgeError::Forbidden(format!("No permission to {doing} this execution")));
        }
        Ok(row)
    }

    /// Asks Step Functions where the execution stands.
    ///
    /// # Errors
    /// A backend failure.
    pub async fn describe(&self, arn: &str) -> Result<DescribeExecutionOutput, BridgeError> {
        self.sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .map_err(|e| BridgeError::backend("describing the execution", e))
    }

    /// `row` brought up to date with Step Functions (saved when its status
    /// changed, with the output or the cause).
    ///
    /// # Errors
    /// A backend failure.
    pub async fn refresh(&self, row: ExecutionRow) -> Result<Refreshed, BridgeError> {
        let arn = row.execution_arn().ok_or_else(|| BridgeError::Backend("execution row without an ARN".to_owned()))?;
        let described = self.describe(arn).await?;
        let row = self.settle(row, &described).await?;
        Ok(Refreshed { row, described })
    }

    /// Records `described`'s status in `row`, if it changed.
    pub(crate) async fn settle(
        &self,
        mut row: ExecutionRow,
        described: &DescribeExecutionOutput,
    ) -> Result<ExecutionRow, BridgeError> {
        let now = status::from_step_functions(described.status());
        if now == row.status {
            return Ok(row);
        }
        row.status = now.to_owned();
        row.updated_at = now_rfc3339();
        if now == status::COMPLETED {
            row.result = described.output().map(parse_output);
        } else if status::is_terminal(now) {
            row.error = described.cause().or(described.error()).map(str::to_owned);
        }
        self.tables.save(&row).await?;
        Ok(row)
    }

    /// `monitor_agent`: the execution's status, refreshed from Step
    /// Functions.
    ///
    /// # Errors
    /// Not found, forbidden, or the table could not be read. A Step
    /// Functions failure is an answer with status `error`, as in the guide.
    pub async fn monitor(&self, caller: &Principal, id: &str) -> Result<Monitored, BridgeError> {
        let row = self.owned_execution(caller, id, "monitor").await?;
        match self.refresh(row).await {
            Ok(Refreshed { row, .. }) => Ok(Monitored {
                execution_id: row.execution_id.clone(),
                progress: Some(status::progress(&row.status)),
                message: Some(status::message(&row.status, &row.agent_name, row.error.as_deref())),
                updated_at: Some(row.updated_at.clone()),
                status: row.status,
                error: None,
            }),
            Err(e) => {
                tracing::warn!(execution_id = %id, error = %e, "monitor_agent: Step Functions unreachable");
                Ok(Monitored {
                    execution_id: id.to_owned(),
                    status: "error".to_owned(),
                    progress: None,
                    message: None,
                    updated_at: None,
                    error: Some("could not reach Step Functions; try again".to_owned()),
                })
            }
        }
    }

    /// `get_agent_results`: the outcome of an ended execution, with the
    /// guide's metadata when asked.
    ///
    /// # Errors
    /// Not found, forbidden, or a backend failure.
    pub async fn results(&self, caller: &Principal, id: &str, include_metadata: bool) -> Result<Value, BridgeError> {
        let row = self.owned_execution(caller, id, "access").await?;
        let Refreshed { row, described } = self.refresh(row).await?;
        Ok(results_of(&row, &described, include_metadata))
    }

    /// Stops the execution (`tasks/cancel`), and records it cancelled.
    ///
    /// # Errors
    /// A backend failure.
    pub async fn stop(&self, execution_id: &str, arn: &str) -> Result<(), BridgeError> {
        self.sfn
            .stop_execution()
            .execution_arn(arn)
            .error("mcp.TaskCancelled")
            .cause("cancelled by the client (tasks/cancel)")
            .send()
            .await
            .map_err(|e| BridgeError::backend("stopping the execution", e))?;
        if let Some(mut row) = self.tables.execution(execution_id).await?
            && !status::is_terminal(&row.status)
        {
            row.status = status::CANCELLED.to_owned();
            row.updated_at = now_rfc3339();
            row.error = Some("cancelled by the client".to_owned());
            self.tables.save(&row).await?;
        }
        Ok(())
    }

    /// The active agents `caller` may see (`view:<agent>`).
    ///
    /// # Errors
    /// A backend failure.
    pub async fn available(&self, caller: &Principal) -> Result<Vec<AgentListing>, BridgeError> {
        let agents = self.tables.active_agents().await?;
        Ok(agents.iter().filter(|a| caller.has_permission("view", &a.name)).map(|a| a.listing()).collect())
    }

    /// The 50 newest executions `caller` may read (all of them for admins).
    ///
    /// # Errors
    /// A backend failure.
    pub async fn executions(&self, caller: &Principal) -> Result<Vec<Value>, BridgeError> {
        let owner = (!is_admin(caller)).then_some(caller.subject.as_str());
        let rows = self.tables.recent_executions(owner, 50).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                json!({
                    "execution_id": r.execution_id,
                    "agent_name": r.agent_name,
                    "status": r.status,
                    "started_at": r.started_at,
                    "updated_at": r.updated_at,
                    "owner": r.owner,
                })
            })
            .collect())
    }
}

/// The guide's `get_agent_results` answer for `row` as `described`.
pub fn results_of(row: &ExecutionRow, described: &DescribeExecutionOutput, include_metadata: bool) -> Value {
    if !status::is_terminal(&row.status) {
        return json!({
            "execution_id": row.execution_id,
            "status": row.status,
            "message": "Execution not yet complete",
        });
    }
    let started = described.start_date();
    let stopped = described.stop_date();
    let millis = |t: &DateTime| t.to_millis().unwrap_or(0);
    let elapsed_ms = stopped.map_or(0, |s| u64::try_from(millis(s) - millis(started)).unwrap_or(0));
    let mut out = json!({
        "execution_id": row.execution_id,
        "status": row.status,
        "agent_name": row.agent_name,
        "started_at": row.started_at,
        "completed_at": stopped.map_or_else(|| row.updated_at.clone(), rfc3339),
        "execution_time_ms": elapsed_ms,
    });
    if row.status == status::COMPLETED
        && let Some(output) = described.output().map(parse_output)
    {
        out["result"] = output.get("result").cloned().unwrap_or_else(|| output.clone());
        out["tools_used"] = output.get("tools_used").cloned().unwrap_or_else(|| json!([]));
        out["tokens_used"] = output.get("tokens").cloned().unwrap_or_else(|| json!({}));
    } else if let Some(error) = &row.error {
        out["error"] = Value::String(error.clone());
    }
    if include_metadata {
        out["metadata"] = Value::Object(row.metadata.clone());
    }
    out
}

/// The longest agent name taken (a DynamoDB key holds 2 KB).
pub const MAX_AGENT_NAME: usize = 256;

/// An execution id is a Step Functions execution name: 1 to 80 letters,
/// digits, `-` or `_` (what `start_agent` makes).
fn check_execution_id(id: &str) -> Result<(), BridgeError> {
    let valid = (1..=80).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        let shown: String = id.chars().take(40).collect();
        Err(BridgeError::InvalidArgument(format!(
            "`execution_id` {shown:?} is not an execution id (1 to 80 letters, digits, '-' or '_', as start_agent \
             returns it)"
        )))
    }
}

/// Whether `caller` is an admin (`*:*`).
pub fn is_admin(caller: &Principal) -> bool {
    caller.permissions.iter().any(|p| p == "*:*")
}

/// Output JSON, or the raw text when it is not JSON.
fn parse_output(output: &str) -> Value {
    serde_json::from_str(output).unwrap_or_else(|_| Value::String(output.to_owned()))
}

/// `mcp-<agent>-<UTC time>-<random>`: unique, within Step Functions' 80
/// characters of letters, digits, `-` and `_`.
fn execution_name(agent: &str) -> Result<String, BridgeError> {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).map_err(|e| BridgeError::Backend(format!("no random source: {e}")))?;
    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let stamp: String = now_rfc3339().chars().filter(char::is_ascii_digit).take(14).collect();
    let safe: String = agent
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(48)
        .collect();
    Ok(format!("mcp-{safe}-{stamp}-{suffix}"))
}

fn rfc3339(t: &DateTime) -> String {
    t.fmt(DateTimeFormat::DateTime).unwrap_or_default()
}

fn now_rfc3339() -> String {
    rfc3339(&DateTime::from(SystemTime::now()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sfn::types::ExecutionStatus;

    fn row(status: &str) -> ExecutionRow {
        let mut metadata = Map::new();
        metadata.insert("user_id".into(), json!("ada"));
        ExecutionRow {
            execution_id: "e1".into(),
            agent_name: "echo".into(),
            status: status.into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-01T00:00:02Z".into(),
            result: None,
            error: Some("boom".into()),
            metadata,
            owner: "ada".into(),
        }
    }

    fn described(status: &str, output: Option<&str>) -> DescribeExecutionOutput {
        DescribeExecutionOutput::builder()
            .execution_arn("arn:aws:states:us-east-1:1:execution:m:e1")
            .state_machine_arn("arn:aws:states:us-east-1:1:stateMachine:m")
            .status(ExecutionStatus::from(status))
            .start_date(DateTime::from_secs(1_000))
            .stop_date(DateTime::from_millis(1_002_500))
            .set_output(output.map(str::to_owned))
            .build()
            .expect("a complete output")
    }

    #[test]
    fn results_follow_the_guide() {
        let done = results_of(&row("completed"), &described("SUCCEEDED", Some(r#"{"answer": "hi"}"#)), false);
        assert_eq!(done["result"], json!({"answer": "hi"}));
        assert_eq!(done["tools_used"], json!([]));
        assert_eq!(done["execution_time_ms"], 2_500);
        assert!(done.get("metadata").is_none());
        let failed = results_of(&row("failed"), &described("FAILED", None), true);
        assert_eq!(failed["error"], "boom");
        assert_eq!(failed["metadata"]["user_id"], "ada");
        let running = results_of(&row("running"), &described("RUNNING", None), true);
        assert_eq!(running["message"], "Execution not yet complete");
    }

    #[test]
    fn execution_names_are_unique_and_valid() {
        let a = execution_name("my agent/with:odd chars").expect("a name");
        let b = execution_name("my agent/with:odd chars").expect("a name");
        assert_ne!(a, b);
        assert!(a.len() <= 80 && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{a}");
        assert!(execution_name(&"x".repeat(200)).expect("a name").len() <= 80);
    }

    #[test]
    fn execution_ids_are_checked_before_any_lookup() {
        assert!(check_execution_id("mcp-echo-20261205032736-a9361e63").is_ok());
        for bad in ["", "a:b", &"x".repeat(81), "with space"] {
            let e = check_execution_id(bad).expect_err(bad);
            assert!(e.to_string().starts_with("`execution_id`"), "{e}");
            assert_eq!(e.code(), "invalid_argument");
        }
    }

    #[test]
    fn admins_hold_star_star() {
        assert!(is_admin(&Principal::new("root").with_permissions(["*:*"])));
        assert!(!is_admin(&Principal::new("ada").with_permissions(["execute:*", "view:*"])));
    }
}
