//! [`DynamoDbCacheStore`]: results in the deployment guide's
//! `mcp-tool-results-{env}` table.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, DeleteRequest, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, TimeToLiveSpecification, WriteRequest,
};
use mcp_core::async_trait;
use serde_json::value::RawValue;

use super::key::CacheKey;
use super::store::{CacheStore, CachedResult, Invalidation, StoreError};

/// The partition key: the tool's name.
const TOOL_NAME: &str = "tool_name";
/// The sort key: [`CacheKey::params_hash`].
const PARAMS_HASH: &str = "params_hash";
/// When the result was stored, in seconds since the epoch (the
/// `CreatedAtIndex` partition key).
const CREATED_AT: &str = "created_at";
/// The TTL attribute: when the result expires, in seconds since the epoch.
const EXPIRES_AT: &str = "expires_at";
/// The result as JSON text.
const RESULT: &str = "result";
/// The expiry in milliseconds, for sub-second precision on read.
const EXPIRES_AT_MS: &str = "expires_at_ms";
/// The largest result stored: DynamoDB items hold 400 KB, keys and
/// attribute names included.
const MAX_RESULT_BYTES: usize = 390_000;
/// The global secondary index on [`CREATED_AT`].
const CREATED_AT_INDEX: &str = "CreatedAtIndex";

/// Results in a DynamoDB table laid out as the deployment guide's
/// `MCPToolResultsTable`: partition key `tool_name` (S), sort key
/// `params_hash` (S), `created_at` (N, seconds; the `CreatedAtIndex` GSI),
/// TTL on `expires_at` (N, seconds), and the result's JSON in `result` (S)
/// with `expires_at_ms` (N) for sub-second expiry. Shared by every
/// instance, so a result computed on one Lambda instance serves the others
/// and outlives cold starts.
///
/// DynamoDB deletes expired items lazily (within a day or two); an expired
/// item is never served. Results over 390 KB (an item holds 400 KB) are
/// not stored. The function needs `dynamodb:GetItem`, `PutItem`,
/// `DeleteItem` and `Query` on the table (and `Scan`, `BatchWriteItem` to
/// invalidate whole tools or everything), as the SAM template in
/// `examples/lambda` grants.
///
/// ```no_run
/// # async fn demo(server: mcp_core::server::Server) {
/// use mcp_aws::cache::{CacheLayer, DynamoDbCacheStore};
///
/// let store = DynamoDbCacheStore::from_env("mcp-tool-results-prod").await;
/// let app = server.clone().layer(CacheLayer::new(&server).store(store));
/// # let _ = app;
/// # }
/// ```
#[derive(Clone)]
pub struct DynamoDbCacheStore {
    client: Client,
    table: Arc<str>,
}

impl fmt::Debug for DynamoDbCacheStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoDbCacheStore").field("table", &self.table).finish_non_exhaustive()
    }
}

fn store_error(what: &str, e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    let message = format!("{what}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e));
    StoreError::new(message, Some(Box::new(e)))
}

/// The item key of `key`.
fn item_key(key: &CacheKey) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (TOOL_NAME.to_owned(), AttributeValue::S(key.tool().to_owned())),
        (PARAMS_HASH.to_owned(), AttributeValue::S(key.params_hash())),
    ])
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<u64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

impl DynamoDbCacheStore {
    /// Results in `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: Arc::from(table.into()) }
    }

    /// Results in `table`, the client configured from the environment
    /// (region, credentials, `AWS_ENDPOINT_URL`).
    pub async fn from_env(table: impl Into<String>) -> Self {
        Self::new(crate::dynamodb::client_from_env().await, table)
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table as the guide lays it out (on-demand billing, the
    /// keys, `CreatedAtIndex`) and turns TTL on `expires_at` on: for tests
    /// and operator tooling; deployments create it with the SAM template.
    ///
    /// # Errors
    /// DynamoDB refused (the table exists) or could not be reached.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let attr = |name: &str, kind| AttributeDefinition::builder().attribute_name(name).attribute_type(kind).build();
        let key = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
        let built = (|| {
            let index = GlobalSecondaryIndex::builder()
                .index_name(CREATED_AT_INDEX)
                .key_schema(key(CREATED_AT, KeyType::Hash)?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()?;
            Ok::<_, aws_sdk_dynamodb::error::BuildError>((
                [
                    attr(TOOL_NAME, ScalarAttributeType::S)?,
                    attr(PARAMS_HASH, ScalarAttributeType::S)?,
                    attr(CREATED_AT, ScalarAttributeType::N)?,
                ],
                [key(TOOL_NAME, KeyType::Hash)?, key(PARAMS_HASH, KeyType::Range)?],
                index,
            ))
        })();
        let (attrs, keys, index) = built.map_err(|e| store_error("CreateTable", e))?;
        let mut create = self
            .client
            .create_table()
            .table_name(&*self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .global_secondary_indexes(index);
        for a in attrs {
            create = create.attribute_definitions(a);
        }
        for k in keys {
            create = create.key_schema(k);
        }
        create.send().await.map_err(|e| store_error("CreateTable", e))?;
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name(EXPIRES_AT)
            .enabled(true)
            .build()
            .map_err(|e| store_error("UpdateTimeToLive", e))?;
        self.client
            .update_time_to_live()
            .table_name(&*self.table)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| store_error("UpdateTimeToLive", e))?;
        Ok(())
    }

    /// Deletes the items `keys` names, 25 to a batch, retrying what
    /// DynamoDB leaves unprocessed.
    async fn delete_all(&self, keys: Vec<HashMap<String, AttributeValue>>) -> Result<(), StoreError> {
        for chunk in keys.chunks(25) {
            let mut requests = Vec::with_capacity(chunk.len());
            for key in chunk {
                let delete = DeleteRequest::builder()
                    .set_key(Some(key.clone()))
                    .build()
                    .map_err(|e| store_error("BatchWriteItem", e))?;
                requests.push(WriteRequest::builder().delete_request(delete).build());
            }
            let mut pending = HashMap::from([(self.table.to_string(), requests)]);
            for _attempt in 0..5 {
                let out = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(pending))
                    .send()
                    .await
                    .map_err(|e| store_error("BatchWriteItem", e))?;
                pending = out.unprocessed_items.unwrap_or_default();
                if pending.values().all(Vec::is_empty) {
                    break;
                }
            }
            if pending.values().any(|v| !v.is_empty()) {
                return Err(StoreError::new("BatchWriteItem: items left unprocessed after 5 attempts", None));
            }
        }
        Ok(())
    }

    /// The keys of every item of `tool`, or of the table.
    async fn keys_of(&self, tool: Option<&str>) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut keys = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let (items, next) = match tool {
                Some(tool) => {
                    let out = self
                        .client
                        .query()
                        .table_name(&*self.table)
                        .key_condition_expression("#t = :t")
                        .expression_attribute_names("#t", TOOL_NAME)
                        .expression_attribute_values(":t", AttributeValue::S(tool.to_owned()))
                        .projection_expression("#t, params_hash")
                        .set_exclusive_start_key(start.take())
                        .send()
                        .await
                        .map_err(|e| store_error("Query", e))?;
                    (out.items, out.last_evaluated_key)
                }
                None => {
                    let out = self
                        .client
                        .scan()
                        .table_name(&*self.table)
                        .projection_expression("tool_name, params_hash")
                        .set_exclusive_start_key(start.take())
                        .send()
                        .await
                        .map_err(|e| store_error("Scan", e))?;
                    (out.items, out.last_evaluated_key)
                }
            };
            keys.extend(items.unwrap_or_default().into_iter().map(|mut item| {
                item.retain(|name, _| name == TOOL_NAME || name == PARAMS_HASH);
                item
            }));
            match next {
                Some(next) if !next.is_empty() => start = Some(next),
                _ => return Ok(keys),
            }
        }
    }
}

#[async_trait]
impl CacheStore for DynamoDbCacheStore {
    async fn get(&self, key: &CacheKey) -> Result<Option<Arc<CachedResult>>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&*self.table)
            .set_key(Some(item_key(key)))
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        let Some(item) = out.item else { return Ok(None) };
        let expires_at_ms = number(&item, EXPIRES_AT_MS).or_else(|| number(&item, EXPIRES_AT).map(|s| s * 1000));
        let created_at_ms = number(&item, CREATED_AT).map_or(0, |s| s * 1000);
        let (Some(expires_at_ms), Some(Ok(text))) = (expires_at_ms, item.get(RESULT).map(AttributeValue::as_s)) else {
            return Err(StoreError::new(
                format!("item {}/{}: no `{RESULT}` string or no `{EXPIRES_AT}` number", key.tool(), key.params_hash()),
                None,
            ));
        };
        let result = RawValue::from_string(text.clone()).map_err(|e| {
            StoreError::new(
                format!("item {}/{}: `{RESULT}` is not JSON", key.tool(), key.params_hash()),
                Some(Box::new(e)),
            )
        })?;
        Ok(Some(Arc::new(CachedResult::new(result, created_at_ms, expires_at_ms))))
    }

    async fn put(&self, key: &CacheKey, result: Arc<CachedResult>) -> Result<(), StoreError> {
        if result.result.get().len() > MAX_RESULT_BYTES {
            // DynamoDB items hold 400 KB at most: such results are not kept.
            tracing::debug!(
                tool = key.tool(),
                bytes = result.result.get().len(),
                "result too large to cache in DynamoDB"
            );
            return Ok(());
        }
        // The TTL attribute rounds up, so DynamoDB never deletes an item
        // before the layer stops serving it.
        let expires_at = result.expires_at_ms.div_ceil(1000);
        self.client
            .put_item()
            .table_name(&*self.table)
            .set_item(Some(item_key(key)))
            .item(CREATED_AT, AttributeValue::N((result.created_at_ms / 1000).to_string()))
            .item(EXPIRES_AT, AttributeValue::N(expires_at.to_string()))
            .item(EXPIRES_AT_MS, AttributeValue::N(result.expires_at_ms.to_string()))
            .item(RESULT, AttributeValue::S(result.result.get().to_owned()))
            .send()
            .await
            .map_err(|e| store_error("PutItem", e))?;
        Ok(())
    }

    async fn invalidate(&self, what: Invalidation<'_>) -> Result<(), StoreError> {
        match what {
            Invalidation::Key(key) => {
                self.client
                    .delete_item()
                    .table_name(&*self.table)
                    .set_key(Some(item_key(key)))
                    .send()
                    .await
                    .map_err(|e| store_error("DeleteItem", e))?;
                Ok(())
            }
            Invalidation::Tool(tool) => self.delete_all(self.keys_of(Some(tool)).await?).await,
            Invalidation::All => self.delete_all(self.keys_of(None).await?).await,
        }
    }
}
