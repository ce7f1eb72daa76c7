//! Legacy-era sessions in DynamoDB, so that `initialize` on one Lambda
//! instance (or container) and `tools/call` on another continue one
//! session.
//!
//! The table has a string partition key `session_id`; each item holds the
//! session's state as JSON (`state`) and its expiry in epoch seconds
//! (`expires_at`), which is the table's TTL attribute. DynamoDB deletes
//! expired items lazily, so reads also treat an item past `expires_at` as
//! gone: an expired session answers 404 at once.
//!
//! ```no_run
//! # async fn demo(server: mcp_core::server::Server) {
//! use std::sync::Arc;
//! use mcp_aws::dynamodb::DynamoDbSessionStore;
//!
//! let store = DynamoDbSessionStore::from_env("mcp-sessions-prod").await;
//! let adapter = mcp_aws::lambda::LambdaAdapter::builder(server)
//!     .session_store(Arc::new(store))
//!     .build();
//! # let _ = adapter;
//! # }
//! ```

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use mcp_core::async_trait;
use mcp_core::server::SessionState;
use mcp_core::transport::http::{SessionStore, SessionStoreError};

/// The partition key attribute.
pub const KEY: &str = "session_id";
/// The attribute holding the session state as JSON.
pub const STATE: &str = "state";
/// The TTL attribute: expiry in seconds since the epoch.
pub const EXPIRES_AT: &str = "expires_at";

/// A [`SessionStore`] on a DynamoDB table; see the module docs.
#[derive(Clone)]
pub struct DynamoDbSessionStore {
    client: Client,
    table: String,
}

impl fmt::Debug for DynamoDbSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoDbSessionStore").field("table", &self.table).finish_non_exhaustive()
    }
}

impl DynamoDbSessionStore {
    /// A store on `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// A store on `table`, with the client configured from the environment
    /// (region, credentials, `AWS_ENDPOINT_URL`), as on Lambda.
    pub async fn from_env(table: impl Into<String>) -> Self {
        Self::new(client_from_env().await, table)
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Whether the table is reachable (`DescribeTable`): a check for
    /// [`Health`](crate::health::Health).
    ///
    /// # Errors
    /// The table does not exist, or DynamoDB cannot be reached.
    pub async fn check(&self) -> Result<(), String> {
        match self.client.describe_table().table_name(&self.table).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(format!("table {}: {}", self.table, aws_sdk_dynamodb::error::DisplayErrorContext(&e))),
        }
    }
}

/// A DynamoDB client configured from the environment (region,
/// credentials, `AWS_ENDPOINT_URL`).
pub(crate) async fn client_from_env() -> Client {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    Client::new(&config)
}

fn store_error(what: &str, e: impl std::error::Error + Send + Sync + 'static) -> SessionStoreError {
    let message = format!("{what}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e));
    SessionStoreError::new(message, Some(Box::new(e)))
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[async_trait]
impl SessionStore for DynamoDbSessionStore {
    async fn load(&self, id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        let Some(item) = out.item else { return Ok(None) };
        let expires = item.get(EXPIRES_AT).and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<u64>().ok());
        if expires.is_some_and(|at| at <= now_secs()) {
            // Past its TTL; DynamoDB has not swept it yet.
            return Ok(None);
        }
        let Some(Ok(json)) = item.get(STATE).map(AttributeValue::as_s) else {
            return Err(SessionStoreError::new(format!("session {id}: the item has no `{STATE}` string"), None));
        };
        let state = serde_json::from_str(json)
            .map_err(|e| SessionStoreError::new(format!("session {id}: unreadable state: {e}"), Some(Box::new(e))))?;
        Ok(Some(state))
    }

    async fn save(&self, id: &str, state: &SessionState, ttl: Duration) -> Result<(), SessionStoreError> {
        let json = serde_json::to_string(state)
            .map_err(|e| SessionStoreError::new(format!("session {id}: {e}"), Some(Box::new(e))))?;
        // Round up so that a sub-second ttl still outlives this second.
        let expires = now_secs().saturating_add(ttl.as_secs()).saturating_add(u64::from(ttl.subsec_nanos() > 0));
        self.client
            .put_item()
            .table_name(&self.table)
            .item(KEY, AttributeValue::S(id.to_owned()))
            .item(STATE, AttributeValue::S(json))
            .item(EXPIRES_AT, AttributeValue::N(expires.to_string()))
            .send()
            .await
            .map_err(|e| store_error("PutItem", e))?;
        Ok(())
    }

    async fn delete(&self, id: &str) -> Result<(), SessionStoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(id.to_owned()))
            .send()
            .await
            .map_err(|e| store_error("DeleteItem", e))?;
        Ok(())
    }
}
