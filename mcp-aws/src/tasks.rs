//! Tasks (the `io.modelcontextprotocol/tasks` extension) in DynamoDB, so
//! that a task created on one Lambda instance (or container) is read,
//! updated and cancelled on any other.
//!
//! The table has a string partition key `task_id` and TTL on `expires_at`
//! (epoch seconds). Each item holds the whole [`TaskRecord`] as JSON
//! (`record`) beside `revision` (a number), `status`, `owner` and
//! `expires_at`. Every write is conditional: a new task on
//! `attribute_not_exists(task_id)`, a change on `revision = :expected`, so
//! two instances never both settle a task (the loser re-reads and finds it
//! ended). Reads are strongly consistent, and an item past `expires_at`
//! reads as gone before DynamoDB sweeps it.
//!
//! **Item size.** A DynamoDB item holds at most 400 KB. A task whose
//! record (its result, mostly) would pass [`MAX_RECORD_BYTES`] is refused
//! with [`TaskStoreError::TooLarge`], and the server then fails the task
//! with that message rather than leaving it `working`. Tools with large
//! outputs should put them somewhere else (S3, say) and return a
//! `resource_link` to them.
//!
//! **Calls per task.** Creation is one `PutItem`; each `tasks/get` one
//! `GetItem`; settling (completed, failed, input_required) a `GetItem` and
//! a `PutItem`; `tasks/cancel` and `tasks/update` a `GetItem` plus a
//! `GetItem` and a `PutItem`; while the handler runs, its worker renews
//! its lease with a `GetItem` and a `PutItem` every third of the lease
//! (`ServerBuilder::task_lease`, 30 s by default).
//!
//! `mcp_aws::run` uses it when `MCP_TASK_TABLE` names the table
//! ([`DynamoDbTaskStore::use_configured`]); in code:
//!
//! ```no_run
//! # async fn demo(builder: mcp_core::server::ServerBuilder) {
//! use std::sync::Arc;
//! use mcp_aws::tasks::DynamoDbTaskStore;
//!
//! let store = DynamoDbTaskStore::from_env("mcp-tasks-prod").await;
//! let server = builder.task_store(Arc::new(store)).build();
//! # let _ = server;
//! # }
//! ```

use std::fmt;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use mcp_core::async_trait;
use mcp_core::server::task::{TaskRecord, TaskStore, TaskStoreError};

/// The partition key attribute.
pub const KEY: &str = "task_id";
/// The attribute holding the [`TaskRecord`] as JSON.
pub const RECORD: &str = "record";
/// The revision every write is conditional on.
pub const REVISION: &str = "revision";
/// The task's status (for queries and the console).
pub const STATUS: &str = "status";
/// The creating principal's subject, when there is one.
pub const OWNER: &str = "owner";
/// The TTL attribute: expiry in seconds since the epoch.
pub const EXPIRES_AT: &str = "expires_at";
/// The largest record stored: DynamoDB's 400 KB item limit, less room for
/// the other attributes.
pub const MAX_RECORD_BYTES: usize = 390 * 1024;

/// A [`TaskStore`] on a DynamoDB table; see the module docs.
#[derive(Clone)]
pub struct DynamoDbTaskStore {
    client: Client,
    table: String,
}

impl fmt::Debug for DynamoDbTaskStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoDbTaskStore").field("table", &self.table).finish_non_exhaustive()
    }
}

impl DynamoDbTaskStore {
    /// A store on `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// A store on `table`, with the client configured from the environment
    /// (region, credentials, `AWS_ENDPOINT_URL`), as on Lambda.
    pub async fn from_env(table: impl Into<String>) -> Self {
        Self::new(crate::dynamodb::client_from_env().await, table)
    }

    /// What `mcp_aws::run` does with `MCP_TASK_TABLE`
    /// ([`DeployConfig::task_table`](crate::config::DeployConfig::task_table)):
    /// a store on that table through `client`, made `server`'s task store.
    /// `None` when no table is configured, or when the server has no tasks
    /// (no tool supports them).
    ///
    /// ```no_run
    /// # async fn demo(server: mcp_core::server::Server, client: aws_sdk_dynamodb::Client) {
    /// use mcp_aws::config::DeployConfig;
    /// use mcp_aws::tasks::DynamoDbTaskStore;
    ///
    /// let config = DeployConfig::default().with_task_table("mcp-tasks-prod");
    /// let store = DynamoDbTaskStore::use_configured(&server, &config, client);
    /// assert_eq!(store.map(|s| s.table().to_owned()).as_deref(), Some("mcp-tasks-prod"));
    /// # }
    /// ```
    pub fn use_configured(
        server: &mcp_core::server::Server,
        config: &crate::config::DeployConfig,
        client: Client,
    ) -> Option<Self> {
        let store = Self::new(client, config.task_table.as_deref()?);
        server.set_task_store(std::sync::Arc::new(store.clone())).then_some(store)
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    async fn put(&self, record: &TaskRecord, condition: Condition) -> Result<(), TaskStoreError> {
        let json = serde_json::to_string(record)
            .map_err(|e| TaskStoreError::Backend(format!("task {}: {e}", record.task_id)))?;
        if json.len() > MAX_RECORD_BYTES {
            return Err(TaskStoreError::TooLarge(format!(
                "task {} would take {} bytes in DynamoDB, over the {MAX_RECORD_BYTES} this store allows (items \
                 hold at most 400 KB); return large outputs as a resource link (to S3, say) instead",
                record.task_id,
                json.len()
            )));
        }
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(KEY, AttributeValue::S(record.task_id.clone()))
            .item(RECORD, AttributeValue::S(json))
            .item(REVISION, AttributeValue::N(record.revision.to_string()))
            .item(STATUS, AttributeValue::S(record.status.as_str().to_owned()))
            .item(EXPIRES_AT, AttributeValue::N(record.expires_at_ms.div_ceil(1000).to_string()));
        if let Some(owner) = &record.owner {
            put = put.item(OWNER, AttributeValue::S(owner.clone()));
        }
        put = match condition {
            Condition::New => {
                put.condition_expression("attribute_not_exists(#k)").expression_attribute_names("#k", KEY)
            }
            Condition::Revision(expected) => put
                .condition_expression("#r = :expected")
                .expression_attribute_names("#r", REVISION)
                .expression_attribute_values(":expected", AttributeValue::N(expected.to_string())),
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) => {
                Err(TaskStoreError::Conflict)
            }
            Err(e) => Err(backend("PutItem", &e)),
        }
    }
}

enum Condition {
    New,
    Revision(u64),
}

fn backend(what: &str, e: &(dyn std::error::Error + 'static)) -> TaskStoreError {
    TaskStoreError::Backend(format!("{what}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))
}

#[async_trait]
impl TaskStore for DynamoDbTaskStore {
    async fn create(&self, record: &TaskRecord) -> Result<(), TaskStoreError> {
        self.put(record, Condition::New).await
    }

    async fn load(&self, task_id: &str) -> Result<Option<TaskRecord>, TaskStoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(task_id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend("GetItem", &e))?;
        let Some(item) = out.item else { return Ok(None) };
        let Some(Ok(json)) = item.get(RECORD).map(AttributeValue::as_s) else {
            return Err(TaskStoreError::Backend(format!("task {task_id}: the item has no `{RECORD}` string")));
        };
        let record: TaskRecord = serde_json::from_str(json)
            .map_err(|e| TaskStoreError::Backend(format!("task {task_id}: unreadable record: {e}")))?;
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        if record.expires_at_ms <= now_ms {
            // Past its TTL; DynamoDB has not swept it yet.
            return Ok(None);
        }
        Ok(Some(record))
    }

    async fn replace(&self, record: &TaskRecord, expected_revision: u64) -> Result<(), TaskStoreError> {
        self.put(record, Condition::Revision(expected_revision)).await
    }
}
