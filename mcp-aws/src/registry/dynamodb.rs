//! The registry table in DynamoDB: `MCPServerRegistry-{env}`, partition key
//! `server_id`, sort key `version`, every attribute native (see the
//! [module docs](super)).
//!
//! ```no_run
//! # async fn demo() -> Result<(), mcp_aws::registry::RegistryError> {
//! use mcp_aws::registry::{DynamoDbRegistry, Status};
//!
//! let registry = DynamoDbRegistry::from_env(DynamoDbRegistry::table_for("prod")).await;
//! for entry in registry.list(Some(Status::Active)).await? {
//!     println!("{} {} {}", entry.server_id, entry.version, entry.endpoint_url);
//! }
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::time::SystemTime;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnValue, ScalarAttributeType,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::model::deserialize_named;
use super::{Registration, RegistryBackend, RegistryError, RegistryFuture, Status};
use crate::health::rfc3339;

/// The partition key.
pub const SERVER_ID: &str = "server_id";
/// The sort key.
pub const VERSION: &str = "version";

/// The registry table; see the module docs. Cheap to clone.
#[derive(Clone)]
pub struct DynamoDbRegistry {
    client: Client,
    table: String,
}

impl fmt::Debug for DynamoDbRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoDbRegistry").field("table", &self.table).finish_non_exhaustive()
    }
}

fn dynamo<E, R>(operation: &'static str, e: SdkError<E, R>) -> RegistryError
where
    E: std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    RegistryError::DynamoDb { operation, message: DisplayErrorContext(&e).to_string() }
}

impl DynamoDbRegistry {
    /// The table name for a deployment stage: `MCPServerRegistry-{env}`.
    pub fn table_for(environment: &str) -> String {
        format!("MCPServerRegistry-{environment}")
    }

    /// A registry on `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// A registry on `table`, the client configured from the environment
    /// (region, credentials, `AWS_ENDPOINT_URL`).
    pub async fn from_env(table: impl Into<String>) -> Self {
        Self::new(crate::dynamodb::client_from_env().await, table)
    }

    /// The same client on another table.
    #[must_use]
    pub fn with_table(&self, table: impl Into<String>) -> Self {
        Self::new(self.client.clone(), table)
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table (on-demand billing), for local development and
    /// tests; deployments create it with their stack.
    ///
    /// # Errors
    /// DynamoDB refused, e.g. the table exists.
    pub async fn create_table(&self) -> Result<(), RegistryError> {
        let attr = |name: &str| {
            AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()
        };
        let key = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
        let built = (|| -> Result<_, aws_sdk_dynamodb::error::BuildError> {
            Ok((
                vec![attr(SERVER_ID)?, attr(VERSION)?],
                vec![key(SERVER_ID, KeyType::Hash)?, key(VERSION, KeyType::Range)?],
            ))
        })();
        let (attrs, keys) =
            built.map_err(|e| RegistryError::DynamoDb { operation: "CreateTable", message: e.to_string() })?;
        self.client
            .create_table()
            .table_name(&self.table)
            .set_attribute_definitions(Some(attrs))
            .set_key_schema(Some(keys))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .map_err(|e| dynamo("CreateTable", e))?;
        Ok(())
    }

    /// Whether the table is reachable (`DescribeTable`), for a health check.
    ///
    /// # Errors
    /// The table does not exist or DynamoDB cannot be reached.
    pub async fn check(&self) -> Result<(), RegistryError> {
        self.client.describe_table().table_name(&self.table).send().await.map_err(|e| dynamo("DescribeTable", e))?;
        Ok(())
    }

    /// Creates or replaces the entry for (`server_id`, `version`), keeping
    /// the first `created_at` and setting `updated_at` to now. Writing the
    /// same registration twice leaves one entry. Returns the stored entry.
    ///
    /// # Errors
    /// The registration is invalid, or DynamoDB failed.
    pub async fn upsert(&self, registration: &Registration) -> Result<Registration, RegistryError> {
        registration.validate()?;
        let Value::Object(fields) =
            serde_json::to_value(registration).map_err(|e| RegistryError::Corrupt(e.to_string()))?
        else {
            return Err(RegistryError::Corrupt("a registration serialises to an object".to_owned()));
        };
        let now = rfc3339(SystemTime::now());
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(SERVER_ID, AttributeValue::S(registration.server_id.clone()))
            .key(VERSION, AttributeValue::S(registration.version.clone()))
            .return_values(ReturnValue::AllNew);
        let mut sets =
            vec!["#created_at = if_not_exists(#created_at, :now)".to_owned(), "#updated_at = :now".to_owned()];
        update = update
            .expression_attribute_names("#created_at", "created_at")
            .expression_attribute_names("#updated_at", "updated_at")
            .expression_attribute_values(":now", AttributeValue::S(now));
        for (name, value) in fields {
            if matches!(name.as_str(), SERVER_ID | VERSION | "created_at" | "updated_at") {
                continue;
            }
            sets.push(format!("#{name} = :{name}"));
            update = update
                .expression_attribute_names(format!("#{name}"), name.clone())
                .expression_attribute_values(format!(":{name}"), to_attribute(value));
        }
        // Optional attributes the new registration leaves out are removed,
        // so an upsert replaces the entry (apart from `created_at`).
        let removes: Vec<&str> = [
            ("health_check_url", registration.health_check_url.is_none()),
            ("deployment_stack", registration.deployment_stack.is_none()),
            ("deployment_region", registration.deployment_region.is_none()),
        ]
        .into_iter()
        .filter_map(|(name, absent)| absent.then_some(name))
        .collect();
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            let names: Vec<String> = removes.iter().map(|n| format!("#{n}")).collect();
            for n in &removes {
                update = update.expression_attribute_names(format!("#{n}"), *n);
            }
            expression.push_str(&format!(" REMOVE {}", names.join(", ")));
        }
        let out = update.update_expression(expression).send().await.map_err(|e| dynamo("UpdateItem", e))?;
        from_item(out.attributes.unwrap_or_default())
    }

    /// The entry for (`server_id`, `version`), read consistently.
    ///
    /// # Errors
    /// DynamoDB failed, or the item is not a registration.
    pub async fn get(&self, server_id: &str, version: &str) -> Result<Option<Registration>, RegistryError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(SERVER_ID, AttributeValue::S(server_id.to_owned()))
            .key(VERSION, AttributeValue::S(version.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo("GetItem", e))?;
        out.item.map(from_item).transpose()
    }

    /// Every readable entry, or those with `status`, by a paginated scan;
    /// unreadable items are skipped with a warning (see
    /// [`list_report`](Self::list_report)).
    ///
    /// # Errors
    /// DynamoDB failed.
    pub async fn list(&self, status: Option<Status>) -> Result<Vec<Registration>, RegistryError> {
        Ok(self.list_report(status).await?.servers)
    }

    /// Every entry, or those with `status`, by a paginated scan. An item
    /// that is not a registration (written by another tool, an older
    /// version or by hand) never fails the listing: it is logged as a
    /// warning naming its key and the offending field, and reported in
    /// [`Listing::skipped`].
    ///
    /// # Errors
    /// DynamoDB failed.
    pub async fn list_report(&self, status: Option<Status>) -> Result<Listing, RegistryError> {
        let mut listing = Listing::default();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let mut scan =
                self.client.scan().table_name(&self.table).consistent_read(true).set_exclusive_start_key(start);
            if let Some(status) = status {
                scan = scan
                    .filter_expression("#status = :status")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":status", AttributeValue::S(status.as_str().to_owned()));
            }
            let out = scan.send().await.map_err(|e| dynamo("Scan", e))?;
            for item in out.items.unwrap_or_default() {
                match read_item(item) {
                    Ok(entry) => listing.servers.push(entry),
                    Err(skipped) => {
                        tracing::warn!(
                            table = %self.table,
                            server_id = %skipped.server_id,
                            version = %skipped.version,
                            field = %skipped.field,
                            reason = %skipped.reason,
                            "skipping an unreadable registry item"
                        );
                        listing.skipped.push(skipped);
                    }
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        listing.servers.sort_by(|a, b| (&a.server_id, &a.version).cmp(&(&b.server_id, &b.version)));
        Ok(listing)
    }

    /// Sets an existing entry's `status` (and `updated_at`); returns the
    /// updated entry.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] when there is no such entry; DynamoDB
    /// failures.
    pub async fn set_status(
        &self,
        server_id: &str,
        version: &str,
        status: Status,
    ) -> Result<Registration, RegistryError> {
        self.update_status(server_id, version, status, None)
            .await?
            .ok_or_else(|| RegistryError::NotFound { server_id: server_id.to_owned(), version: version.to_owned() })
    }

    /// Sets `to` only while the entry's status is `from` (so that a health
    /// check never overwrites a decommission that happened meanwhile);
    /// `None` when the entry is missing or in another state.
    ///
    /// # Errors
    /// DynamoDB failures.
    pub async fn transition(
        &self,
        server_id: &str,
        version: &str,
        from: Status,
        to: Status,
    ) -> Result<Option<Registration>, RegistryError> {
        self.update_status(server_id, version, to, Some(from)).await
    }

    async fn update_status(
        &self,
        server_id: &str,
        version: &str,
        status: Status,
        from: Option<Status>,
    ) -> Result<Option<Registration>, RegistryError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(SERVER_ID, AttributeValue::S(server_id.to_owned()))
            .key(VERSION, AttributeValue::S(version.to_owned()))
            .update_expression("SET #status = :status, #updated_at = :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#updated_at", "updated_at")
            .expression_attribute_names("#server_id", SERVER_ID)
            .expression_attribute_values(":status", AttributeValue::S(status.as_str().to_owned()))
            .expression_attribute_values(":now", AttributeValue::S(rfc3339(SystemTime::now())))
            .return_values(ReturnValue::AllNew);
        update = match from {
            None => update.condition_expression("attribute_exists(#server_id)"),
            Some(from) => update
                .condition_expression("attribute_exists(#server_id) AND #status = :from")
                .expression_attribute_values(":from", AttributeValue::S(from.as_str().to_owned())),
        };
        match update.send().await {
            Ok(out) => from_item(out.attributes.unwrap_or_default()).map(Some),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(None),
            Err(e) => Err(dynamo("UpdateItem", e)),
        }
    }

    /// Marks the entry `decommissioned`: an update, never a delete.
    ///
    /// # Errors
    /// As [`set_status`](Self::set_status).
    pub async fn decommission(&self, server_id: &str, version: &str) -> Result<Registration, RegistryError> {
        self.set_status(server_id, version, Status::Decommissioned).await
    }
}

impl RegistryBackend for DynamoDbRegistry {
    fn register<'a>(&'a self, registration: &'a Registration) -> RegistryFuture<'a, Result<Status, RegistryError>> {
        Box::pin(async move { Ok(self.upsert(registration).await?.status) })
    }

    fn decommission<'a>(
        &'a self,
        server_id: &'a str,
        version: &'a str,
    ) -> RegistryFuture<'a, Result<(), RegistryError>> {
        Box::pin(async move { DynamoDbRegistry::decommission(self, server_id, version).await.map(drop) })
    }
}

/// A JSON value as a native DynamoDB attribute.
pub fn to_attribute(value: Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s),
        Value::Array(items) => AttributeValue::L(items.into_iter().map(to_attribute).collect()),
        Value::Object(map) => AttributeValue::M(map.into_iter().map(|(k, v)| (k, to_attribute(v))).collect()),
    }
}

/// A DynamoDB attribute as JSON: the inverse of [`to_attribute`]; sets
/// become arrays and binary values base64 strings.
pub fn from_attribute(value: AttributeValue) -> Value {
    use base64::Engine as _;
    let number = |n: String| -> Value {
        if let Ok(i) = n.parse::<i64>() {
            return Value::from(i);
        }
        if let Ok(u) = n.parse::<u64>() {
            return Value::from(u);
        }
        n.parse::<f64>().ok().and_then(Number::from_f64).map_or(Value::String(n), Value::Number)
    };
    let b64 =
        |b: aws_sdk_dynamodb::primitives::Blob| Value::String(base64::engine::general_purpose::STANDARD.encode(b));
    match value {
        AttributeValue::S(s) => Value::String(s),
        AttributeValue::N(n) => number(n),
        AttributeValue::Bool(b) => Value::Bool(b),
        AttributeValue::L(items) => Value::Array(items.into_iter().map(from_attribute).collect()),
        AttributeValue::M(map) => Value::Object(map.into_iter().map(|(k, v)| (k, from_attribute(v))).collect()),
        AttributeValue::Ss(set) => Value::Array(set.into_iter().map(Value::String).collect()),
        AttributeValue::Ns(set) => Value::Array(set.into_iter().map(number).collect()),
        AttributeValue::B(b) => b64(b),
        AttributeValue::Bs(set) => Value::Array(set.into_iter().map(b64).collect()),
        _ => Value::Null,
    }
}

fn from_item(item: HashMap<String, AttributeValue>) -> Result<Registration, RegistryError> {
    read_item(item).map_err(|s| {
        RegistryError::Corrupt(format!("server {} version {}: {}: {}", s.server_id, s.version, s.field, s.reason))
    })
}

/// An item as a registration, or what made it unreadable.
fn read_item(item: HashMap<String, AttributeValue>) -> Result<Registration, SkippedItem> {
    let object: Map<String, Value> = item.into_iter().map(|(k, v)| (k, from_attribute(v))).collect();
    let key = |name: &str| object.get(name).and_then(Value::as_str).unwrap_or("?").to_owned();
    let (server_id, version) = (key(SERVER_ID), key(VERSION));
    deserialize_named(Value::Object(object)).map_err(|(field, reason)| SkippedItem {
        server_id,
        version,
        field: if field == "body" { "item".to_owned() } else { field },
        reason,
    })
}

/// An item [`DynamoDbRegistry::list_report`] could not read as a
/// registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SkippedItem {
    /// Its partition key (`?` if it has no string one).
    pub server_id: String,
    /// Its sort key (`?` if it has no string one).
    pub version: String,
    /// The attribute that could not be read, e.g. `protocol_type` or
    /// `available_tools[0].name`.
    pub field: String,
    /// Why.
    pub reason: String,
}

/// The result of [`DynamoDbRegistry::list_report`] (and of
/// [`HttpRegistry::list_report`](super::HttpRegistry::list_report)).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Listing {
    /// The readable entries, ordered by `server_id` then `version`.
    pub servers: Vec<Registration>,
    /// The items that were skipped as unreadable.
    pub skipped: Vec<SkippedItem>,
}
