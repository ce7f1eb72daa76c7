//! The two DynamoDB tables the guide keeps: agents (`agent_name` → state
//! machine) and executions (`execution_id` → where the run stands, whose
//! it is, a `ttl` seven days after its last change).

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde_json::{Map, Number, Value};

use crate::error::BridgeError;

/// How long an execution row outlives its last change (the guide's TTL).
pub const EXECUTION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Results over this many bytes (as JSON) stay in Step Functions only: a
/// DynamoDB item holds at most 400 KB. `get_agent_results` reads the
/// output from Step Functions either way.
pub const MAX_STORED_RESULT_BYTES: usize = 300 * 1024;

/// An agent: a row of the agents table.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    /// `agent_name`, the key.
    pub name: String,
    /// The Step Functions state machine that runs it.
    pub state_machine_arn: String,
    /// What it does.
    pub description: String,
    /// `active` unless retired; only active agents are listed or started.
    pub status: String,
    /// Typical run time in seconds (`average_execution_time`).
    pub average_execution_time: f64,
    /// The rest of the item (version, tools, model...), as JSON.
    pub extra: Map<String, Value>,
}

impl Agent {
    fn from_item(item: &HashMap<String, AttributeValue>) -> Option<Self> {
        let mut all = item_to_json(item);
        let name = take_string(&mut all, "agent_name")?;
        let state_machine_arn = take_string(&mut all, "state_machine_arn")?;
        let description = take_string(&mut all, "description").unwrap_or_default();
        let status = take_string(&mut all, "status").unwrap_or_else(|| "active".to_owned());
        let average_execution_time = all.remove("average_execution_time").and_then(|v| v.as_f64()).unwrap_or(30.0);
        Some(Self { name, state_machine_arn, description, status, average_execution_time, extra: all })
    }

    /// Whether it may be listed and started.
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }

    /// The guide's listing entry for this agent.
    pub fn listing(&self) -> AgentListing {
        let text = |key: &str, default: &str| self.extra.get(key).and_then(Value::as_str).unwrap_or(default).to_owned();
        AgentListing {
            name: self.name.clone(),
            description: self.description.clone(),
            version: text("version", "latest"),
            tools: self.extra.get("tools").cloned().unwrap_or_else(|| Value::Array(Vec::new())),
            llm_provider: text("llm_provider", "anthropic"),
            llm_model: text("llm_model", "claude-3-5-sonnet"),
            average_execution_time: self.average_execution_time,
            cost_estimate: self.extra.get("cost_estimate").and_then(Value::as_f64).unwrap_or(0.01),
        }
    }
}

/// An agent as `list_available_agents` shows it (the guide's fields).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AgentListing {
    /// The agent's name, as `start_agent` takes it.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its version.
    pub version: String,
    /// The tools it uses.
    pub tools: Value,
    /// Its model's provider.
    pub llm_provider: String,
    /// Its model.
    pub llm_model: String,
    /// Typical run time, seconds.
    pub average_execution_time: f64,
    /// Typical cost of a run.
    pub cost_estimate: f64,
}

/// A row of the executions table.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRow {
    /// The execution's name (the last part of its ARN), the key.
    pub execution_id: String,
    /// The agent it runs.
    pub agent_name: String,
    /// The guide's status: `running`, `completed`, `failed`, `timeout`,
    /// `cancelled` (see [`crate::status`]).
    pub status: String,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// The execution's output, once completed (unless too large to keep).
    pub result: Option<Value>,
    /// Why it failed, timed out or was cancelled.
    pub error: Option<String>,
    /// `user_id`, `input_message`, `execution_arn` (the guide's metadata).
    pub metadata: Map<String, Value>,
    /// Who started it: the principal's subject.
    pub owner: String,
}

impl ExecutionRow {
    /// The Step Functions execution ARN.
    pub fn execution_arn(&self) -> Option<&str> {
        self.metadata.get("execution_arn").and_then(Value::as_str)
    }

    fn to_item(&self) -> HashMap<String, AttributeValue> {
        let mut item = HashMap::new();
        let s = |v: &str| AttributeValue::S(v.to_owned());
        item.insert("execution_id".to_owned(), s(&self.execution_id));
        item.insert("agent_name".to_owned(), s(&self.agent_name));
        item.insert("status".to_owned(), s(&self.status));
        item.insert("started_at".to_owned(), s(&self.started_at));
        item.insert("updated_at".to_owned(), s(&self.updated_at));
        item.insert("owner".to_owned(), s(&self.owner));
        item.insert("metadata".to_owned(), json_to_attr(&Value::Object(self.metadata.clone())));
        if let Some(result) = &self.result {
            if result.to_string().len() <= MAX_STORED_RESULT_BYTES {
                item.insert("result".to_owned(), json_to_attr(result));
            } else {
                item.insert("result_in_step_functions".to_owned(), AttributeValue::Bool(true));
            }
        }
        if let Some(error) = &self.error {
            item.insert("error".to_owned(), s(error));
        }
        let ttl = now_secs().saturating_add(EXECUTION_TTL.as_secs());
        item.insert("ttl".to_owned(), AttributeValue::N(ttl.to_string()));
        item
    }

    fn from_item(item: &HashMap<String, AttributeValue>) -> Option<Self> {
        let mut all = item_to_json(item);
        let metadata = match all.remove("metadata") {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        Some(Self {
            execution_id: take_string(&mut all, "execution_id")?,
            agent_name: take_string(&mut all, "agent_name")?,
            status: take_string(&mut all, "status")?,
            started_at: take_string(&mut all, "started_at").unwrap_or_default(),
            updated_at: take_string(&mut all, "updated_at").unwrap_or_default(),
            result: all.remove("result"),
            error: take_string(&mut all, "error"),
            owner: take_string(&mut all, "owner")
                .or_else(|| metadata.get("user_id").and_then(Value::as_str).map(str::to_owned))?,
            metadata,
        })
    }
}

/// Both tables.
#[derive(Debug, Clone)]
pub struct Tables {
    client: Client,
    agents: String,
    executions: String,
}

impl Tables {
    /// The agents table `agents` and the executions table `executions`.
    pub fn new(client: Client, agents: impl Into<String>, executions: impl Into<String>) -> Self {
        Self { client, agents: agents.into(), executions: executions.into() }
    }

    /// The agent called `name`, if there is one.
    ///
    /// # Errors
    /// DynamoDB failed.
    pub async fn agent(&self, name: &str) -> Result<Option<Agent>, BridgeError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.agents)
            .key("agent_name", AttributeValue::S(name.to_owned()))
            .send()
            .await
            .map_err(|e| BridgeError::backend("reading the agents table", e))?;
        Ok(out.item.as_ref().and_then(Agent::from_item))
    }

    /// Every active agent (the guide's scan, with `status` as the reserved
    /// word it is in DynamoDB expressions).
    ///
    /// # Errors
    /// DynamoDB failed.
    pub async fn active_agents(&self) -> Result<Vec<Agent>, BridgeError> {
        let items = self
            .scan_all(&self.agents, "scanning the agents table", |scan| {
                scan.filter_expression("attribute_exists(agent_name) AND #s = :active")
                    .expression_attribute_names("#s", "status")
                    .expression_attribute_values(":active", AttributeValue::S("active".to_owned()))
            })
            .await?;
        let mut agents: Vec<Agent> = items.iter().filter_map(Agent::from_item).collect();
        agents.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(agents)
    }

    /// The execution `id`, if the table has it (expired rows read as gone).
    ///
    /// # Errors
    /// DynamoDB failed.
    pub async fn execution(&self, id: &str) -> Result<Option<ExecutionRow>, BridgeError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.executions)
            .key("execution_id", AttributeValue::S(id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| BridgeError::backend("reading the executions table", e))?;
        Ok(out.item.as_ref().filter(|item| !expired(item)).and_then(ExecutionRow::from_item))
    }

    /// Writes `row` (its `ttl` seven days from now).
    ///
    /// # Errors
    /// DynamoDB failed.
    pub async fn save(&self, row: &ExecutionRow) -> Result<(), BridgeError> {
        self.client
            .put_item()
            .table_name(&self.executions)
            .set_item(Some(row.to_item()))
            .send()
            .await
            .map_err(|e| BridgeError::backend("writing the executions table", e))?;
        Ok(())
    }

    /// Up to `limit` executions, newest first: `owner`'s, or everyone's
    /// when `owner` is `None` (admins).
    ///
    /// # Errors
    /// DynamoDB failed.
    pub async fn recent_executions(&self, owner: Option<&str>, limit: usize) -> Result<Vec<ExecutionRow>, BridgeError> {
        let items = self
            .scan_all(&self.executions, "scanning the executions table", |scan| match owner {
                Some(owner) => scan
                    .filter_expression("#o = :owner")
                    .expression_attribute_names("#o", "owner")
                    .expression_attribute_values(":owner", AttributeValue::S(owner.to_owned())),
                None => scan,
            })
            .await?;
        let mut rows: Vec<ExecutionRow> =
            items.iter().filter(|i| !expired(i)).filter_map(ExecutionRow::from_item).collect();
        rows.sort_by(|a, b| b.started_at.cmp(&a.started_at));
        rows.truncate(limit);
        Ok(rows)
    }
}

impl Tables {
    /// Every item of `table` that `configure`'s scan returns, page after
    /// page.
    async fn scan_all(
        &self,
        table: &str,
        doing: &str,
        configure: impl Fn(ScanFluentBuilder) -> ScanFluentBuilder,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, BridgeError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let scan = configure(self.client.scan().table_name(table).set_exclusive_start_key(start));
            let out = scan.send().await.map_err(|e| BridgeError::backend(doing, e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }
}

/// Whether an item's `ttl` has passed (DynamoDB sweeps late).
fn expired(item: &HashMap<String, AttributeValue>) -> bool {
    item.get("ttl").and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<u64>().ok()).is_some_and(|t| t < now_secs())
}

fn take_string(map: &mut Map<String, Value>, key: &str) -> Option<String> {
    match map.remove(key) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A DynamoDB item as a JSON object.
pub(crate) fn item_to_json(item: &HashMap<String, AttributeValue>) -> Map<String, Value> {
    item.iter().map(|(k, v)| (k.clone(), attr_to_json(v))).collect()
}

/// A JSON value as a DynamoDB attribute (numbers as `N`, objects as `M`).
pub(crate) fn json_to_attr(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().map(json_to_attr).collect()),
        Value::Object(map) => AttributeValue::M(map.iter().map(|(k, v)| (k.clone(), json_to_attr(v))).collect()),
    }
}

/// A DynamoDB attribute as JSON (sets as arrays, binary as null).
pub(crate) fn attr_to_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => number(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::L(items) => Value::Array(items.iter().map(attr_to_json).collect()),
        AttributeValue::M(map) => Value::Object(item_to_json(map)),
        AttributeValue::Ss(items) => Value::Array(items.iter().cloned().map(Value::String).collect()),
        AttributeValue::Ns(items) => Value::Array(items.iter().map(|n| number(n)).collect()),
        _ => Value::Null,
    }
}

fn number(n: &str) -> Value {
    if let Ok(i) = n.parse::<i64>() {
        return Value::Number(i.into());
    }
    if let Ok(u) = n.parse::<u64>() {
        return Value::Number(u.into());
    }
    n.parse::<f64>().ok().and_then(Number::from_f64).map_or_else(|| Value::String(n.to_owned()), Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_survives_a_round_trip_through_attributes() {
        let value = json!({"a": [1, -2, 2.5, "x", true, null], "b": {"c": {}}, "big": 18446744073709551615u64});
        assert_eq!(attr_to_json(&json_to_attr(&value)), value);
    }

    #[test]
    fn a_row_round_trips_and_carries_a_seven_day_ttl() {
        let mut metadata = Map::new();
        metadata.insert("user_id".into(), json!("ada"));
        metadata.insert("execution_arn".into(), json!("arn:aws:states:us-east-1:1:execution:m:e1"));
        let row = ExecutionRow {
            execution_id: "e1".into(),
            agent_name: "echo".into(),
            status: "completed".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-01T00:00:01Z".into(),
            result: Some(json!({"answer": 42})),
            error: None,
            metadata,
            owner: "ada".into(),
        };
        let item = row.to_item();
        let ttl: u64 = item["ttl"].as_n().expect("n").parse().expect("number");
        let week = now_secs() + EXECUTION_TTL.as_secs();
        assert!(ttl.abs_diff(week) < 5, "{ttl} vs {week}");
        assert_eq!(ExecutionRow::from_item(&item), Some(row.clone()));
        assert_eq!(row.execution_arn(), Some("arn:aws:states:us-east-1:1:execution:m:e1"));
    }

    #[test]
    fn a_result_too_large_for_an_item_stays_in_step_functions() {
        let row = ExecutionRow {
            execution_id: "e".into(),
            agent_name: "a".into(),
            status: "completed".into(),
            started_at: String::new(),
            updated_at: String::new(),
            result: Some(Value::String("x".repeat(MAX_STORED_RESULT_BYTES + 1))),
            error: None,
            metadata: Map::new(),
            owner: "o".into(),
        };
        let item = row.to_item();
        assert!(!item.contains_key("result"));
        assert_eq!(item.get("result_in_step_functions"), Some(&AttributeValue::Bool(true)));
    }

    #[test]
    fn agents_default_as_the_guide_does() {
        let mut item = HashMap::new();
        item.insert("agent_name".to_owned(), AttributeValue::S("echo".into()));
        item.insert("state_machine_arn".to_owned(), AttributeValue::S("arn:sm".into()));
        let agent = Agent::from_item(&item).expect("an agent");
        assert!(agent.is_active());
        let listing = agent.listing();
        assert_eq!((listing.version.as_str(), listing.average_execution_time), ("latest", 30.0));
        item.remove("state_machine_arn");
        assert_eq!(Agent::from_item(&item), None);
    }
}
