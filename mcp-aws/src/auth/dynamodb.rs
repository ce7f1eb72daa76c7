//! [`DynamoDbApiKeyStore`]: API keys in a DynamoDB table keyed by
//! `api_key_hash` (string, the key's SHA-256 in lowercase hex), with
//! `user_id` (string), `permissions` (a list or set of strings),
//! `expires_at` (number, Unix seconds), `rate_limit` (number) and `enabled`
//! (boolean, default true).

use std::collections::HashMap;
use std::fmt;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use mcp_core::async_trait;

use super::api_key::{ApiKeyRecord, ApiKeyStore};
use super::error::StoreError;

const KEY: &str = "api_key_hash";

/// API keys in DynamoDB. Cheap to clone.
#[derive(Clone)]
pub struct DynamoDbApiKeyStore {
    client: Client,
    table: String,
}

impl fmt::Debug for DynamoDbApiKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoDbApiKeyStore").field("table", &self.table).finish_non_exhaustive()
    }
}

fn store_error(what: &str, e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError(format!("{what}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))
}

impl DynamoDbApiKeyStore {
    /// Keys in `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// Keys in `table`, the client configured from the environment.
    pub async fn from_env(table: impl Into<String>) -> Self {
        Self::new(crate::dynamodb::client_from_env().await, table)
    }

    /// Stores `record` (operator tooling, tests).
    ///
    /// # Errors
    /// DynamoDB refused or could not be reached.
    pub async fn put(&self, record: &ApiKeyRecord) -> Result<(), StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(KEY, AttributeValue::S(record.api_key_hash.clone()))
            .item("user_id", AttributeValue::S(record.user_id.clone()))
            .item("permissions", AttributeValue::L(record.permissions.iter().cloned().map(AttributeValue::S).collect()))
            .item("enabled", AttributeValue::Bool(record.enabled));
        if let Some(at) = record.expires_at {
            put = put.item("expires_at", AttributeValue::N(at.to_string()));
        }
        if let Some(limit) = record.rate_limit {
            put = put.item("rate_limit", AttributeValue::N(limit.to_string()));
        }
        put.send().await.map_err(|e| store_error("PutItem", e))?;
        Ok(())
    }

    /// Creates the table (on-demand billing, hash key `api_key_hash`).
    ///
    /// # Errors
    /// DynamoDB refused (the table exists) or could not be reached.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let attr = AttributeDefinition::builder().attribute_name(KEY).attribute_type(ScalarAttributeType::S).build();
        let key = KeySchemaElement::builder().attribute_name(KEY).key_type(KeyType::Hash).build();
        let (attr, key) = attr.and_then(|a| Ok((a, key?))).map_err(|e| StoreError(format!("CreateTable: {e}")))?;
        let create = self.client.create_table().table_name(&self.table).attribute_definitions(attr).key_schema(key);
        create.billing_mode(BillingMode::PayPerRequest).send().await.map_err(|e| store_error("CreateTable", e))?;
        Ok(())
    }

    /// Every stored key (a full scan: operator tooling, not the request
    /// path).
    ///
    /// # Errors
    /// DynamoDB refused or could not be reached.
    pub async fn list(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let scan = self.client.scan().table_name(&self.table).set_exclusive_start_key(start);
            let out = scan.send().await.map_err(|e| store_error("Scan", e))?;
            for item in out.items() {
                if let Some(hash) = item.get(KEY).and_then(|v| v.as_s().ok())
                    && let Some(record) = record_of(hash, item)
                {
                    records.push(record);
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(records),
            }
        }
    }

    /// Enables or disables the key with this hash; `false` when there is
    /// none.
    ///
    /// # Errors
    /// DynamoDB refused or could not be reached.
    pub async fn set_enabled(&self, api_key_hash: &str, enabled: bool) -> Result<bool, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(api_key_hash.to_owned()))
            .update_expression("SET enabled = :e")
            .condition_expression("attribute_exists(api_key_hash)")
            .expression_attribute_values(":e", AttributeValue::Bool(enabled));
        match update.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(store_error("UpdateItem", e)),
        }
    }

    /// Deletes the key with this hash.
    ///
    /// # Errors
    /// DynamoDB refused or could not be reached.
    pub async fn delete(&self, api_key_hash: &str) -> Result<(), StoreError> {
        let delete =
            self.client.delete_item().table_name(&self.table).key(KEY, AttributeValue::S(api_key_hash.to_owned()));
        delete.send().await.map_err(|e| store_error("DeleteItem", e))?;
        Ok(())
    }
}

/// A record from an item; `None` when it lacks `user_id`.
fn record_of(hash: &str, item: &HashMap<String, AttributeValue>) -> Option<ApiKeyRecord> {
    let user_id = item.get("user_id")?.as_s().ok()?;
    let permissions = match item.get("permissions") {
        Some(AttributeValue::L(list)) => list.iter().filter_map(|v| v.as_s().ok().cloned()).collect(),
        Some(AttributeValue::Ss(set)) => set.clone(),
        Some(AttributeValue::S(one)) => one.split(',').map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect(),
        _ => Vec::new(),
    };
    let number = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<u64>().ok());
    let mut record = ApiKeyRecord::new("", user_id.clone(), permissions);
    record.api_key_hash = hash.to_owned();
    record.expires_at = number("expires_at");
    record.rate_limit = number("rate_limit").and_then(|n| u32::try_from(n).ok());
    record.enabled = item.get("enabled").and_then(|v| v.as_bool().ok()).copied().unwrap_or(true);
    Some(record)
}

#[async_trait]
impl ApiKeyStore for DynamoDbApiKeyStore {
    async fn get(&self, api_key_hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(api_key_hash.to_owned()))
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        let Some(item) = out.item else { return Ok(None) };
        match record_of(api_key_hash, &item) {
            Some(record) => Ok(Some(record)),
            None => {
                tracing::warn!(key = %super::api_key::prefix(api_key_hash), "api key item without user_id");
                Ok(None)
            }
        }
    }
}
