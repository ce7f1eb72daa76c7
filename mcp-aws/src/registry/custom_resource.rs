//! A CloudFormation custom resource that registers a server at deploy
//! time, as the integration guide does with CDK: `Create` and `Update` put
//! the entry, `Delete` marks it `decommissioned`. The outcome is PUT to the
//! event's pre-signed `ResponseURL` in the custom resource protocol's
//! format; every failure is reported as `FAILED` with a reason, so the
//! stack never waits for the one-hour timeout.
//!
//! `ResourceProperties` are the [`Registration`] fields with their table
//! names (`server_id`, `version`, `server_name`, `endpoint_url`,
//! `available_tools`, `metadata`, ...), plus an optional `TableName`
//! (default: the function's `MCP_REGISTRY_TABLE`). `deployment_stack` and
//! `deployment_region` default to the stack's name and region. The
//! physical resource id is `{server_id}:{version}`, so changing either
//! replaces the resource and CloudFormation retires the old entry.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_aws::registry::DynamoDbRegistry;
//! use mcp_aws::registry::custom_resource::CustomResource;
//!
//! let registry = DynamoDbRegistry::from_env("MCPServerRegistry-prod").await;
//! CustomResource::new(registry)?.run().await?;
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use http::Method;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::{Map, Value, json};

use super::{DynamoDbRegistry, Registration, RegistryError};
use crate::http_client::HttpClient;

/// Handles custom resource events; see the module docs.
#[derive(Debug, Clone)]
pub struct CustomResource {
    registry: DynamoDbRegistry,
    client: HttpClient,
    timeout: Duration,
}

impl CustomResource {
    /// A handler writing to `registry` unless an event names its own
    /// `TableName`.
    ///
    /// # Errors
    /// The system's TLS roots cannot be loaded.
    pub fn new(registry: DynamoDbRegistry) -> Result<Self, RegistryError> {
        Ok(Self { registry, client: HttpClient::new()?, timeout: Duration::from_secs(60) })
    }

    /// How long the registry work may take before the event is answered
    /// `FAILED` (default 60 s; keep it below the function's timeout).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs as a Lambda function.
    ///
    /// # Errors
    /// The Lambda runtime failed.
    pub async fn run(self) -> Result<(), crate::lambda::LambdaError> {
        lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
            let handler = self.clone();
            async move { handler.handle(event.payload).await.map_err(lambda_http::Error::from) }
        }))
        .await
        .map_err(crate::lambda::LambdaError::from)
    }

    /// Handles one event: does the registry work, PUTs the response to the
    /// `ResponseURL` (three attempts) and returns the response sent.
    ///
    /// # Errors
    /// The event has no `ResponseURL`, or the response could not be
    /// delivered; a failed registry operation is not an error here (it is
    /// reported to CloudFormation as `FAILED`).
    pub async fn handle(&self, event: Value) -> Result<Value, RegistryError> {
        let text = |key: &str| event.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        let url = text("ResponseURL");
        if url.is_empty() {
            return Err(RegistryError::Invalid { field: "ResponseURL".to_owned(), reason: "missing".to_owned() });
        }
        let outcome = match tokio::time::timeout(self.timeout, self.apply(&event)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(RegistryError::Unavailable(format!("no result within {} s", self.timeout.as_secs()))),
        };
        let fallback_id = event
            .get("PhysicalResourceId")
            .and_then(Value::as_str)
            .map_or_else(|| text("LogicalResourceId"), str::to_owned);
        let mut response = json!({
            "StackId": text("StackId"),
            "RequestId": text("RequestId"),
            "LogicalResourceId": text("LogicalResourceId"),
            "NoEcho": false,
        });
        match outcome {
            Ok((physical_id, data)) => {
                response["Status"] = json!("SUCCESS");
                response["PhysicalResourceId"] = json!(physical_id);
                response["Data"] = Value::Object(data);
            }
            Err(e) => {
                tracing::error!(error = %e, request = %text("RequestType"), "custom resource failed");
                response["Status"] = json!("FAILED");
                response["Reason"] = json!(e.to_string());
                response["PhysicalResourceId"] = json!(fallback_id);
            }
        }
        self.respond(&url, &response).await?;
        Ok(response)
    }

    async fn respond(&self, url: &str, response: &Value) -> Result<(), RegistryError> {
        let body = serde_json::to_vec(response).map_err(|e| RegistryError::Corrupt(e.to_string()))?;
        let mut last = RegistryError::Unavailable("not sent".to_owned());
        for attempt in 0..3u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            // The pre-signed S3 URL is signed without a content type.
            let sent = self
                .client
                .send(Method::PUT, url, &[("content-type", "")], Some(body.clone()), Duration::from_secs(10))
                .await;
            match sent {
                Ok(answer) if answer.status.is_success() => return Ok(()),
                Ok(answer) => {
                    last = RegistryError::Rejected {
                        status: answer.status.as_u16(),
                        message: String::from_utf8_lossy(&answer.body).chars().take(300).collect(),
                    };
                }
                Err(e) => last = e.into(),
            }
        }
        Err(last)
    }

    /// The registry work: `(physical id, Data)`.
    async fn apply(&self, event: &Value) -> Result<(String, Map<String, Value>), RegistryError> {
        let kind = event.get("RequestType").and_then(Value::as_str).unwrap_or_default();
        let props = event.get("ResourceProperties").cloned().unwrap_or(Value::Null);
        let registry = match props.get("TableName").and_then(Value::as_str) {
            Some(table) if !table.is_empty() && table != self.registry.table() => self.registry.with_table(table),
            _ => self.registry.clone(),
        };
        match kind {
            "Create" | "Update" => {
                let registration = registration(event, props)?;
                let stored = registry.upsert(&registration).await?;
                let mut data = Map::new();
                data.insert("server_id".to_owned(), json!(stored.server_id));
                data.insert("version".to_owned(), json!(stored.version));
                data.insert("status".to_owned(), json!(stored.status));
                data.insert("created_at".to_owned(), json!(stored.created_at));
                Ok((physical_id(&stored), data))
            }
            "Delete" => {
                let physical = event.get("PhysicalResourceId").and_then(Value::as_str).unwrap_or_default().to_owned();
                // A resource whose Create failed has nothing to retire; a
                // Delete must not fail, or the stack cannot roll back.
                let Ok(registration) = registration(event, props) else { return Ok((physical, Map::new())) };
                match registry.decommission(&registration.server_id, &registration.version).await {
                    Ok(_) | Err(RegistryError::NotFound { .. }) => Ok((physical, Map::new())),
                    Err(e) => Err(e),
                }
            }
            other => Err(RegistryError::Invalid {
                field: "RequestType".to_owned(),
                reason: format!("{other:?}: expected Create, Update or Delete"),
            }),
        }
    }
}

fn physical_id(reg: &Registration) -> String {
    format!("{}:{}", reg.server_id, reg.version)
}

/// The registration in `ResourceProperties`, with the stack's name and
/// region as deployment defaults.
fn registration(event: &Value, props: Value) -> Result<Registration, RegistryError> {
    let Value::Object(mut props) = props else {
        return Err(RegistryError::Invalid { field: "ResourceProperties".to_owned(), reason: "missing".to_owned() });
    };
    props.remove("ServiceToken");
    props.remove("TableName");
    // arn:aws:cloudformation:{region}:{account}:stack/{name}/{id}
    let stack_arn = event.get("StackId").and_then(Value::as_str).unwrap_or_default();
    let region = stack_arn.split(':').nth(3).filter(|r| !r.is_empty());
    let name = stack_arn.split('/').nth(1).filter(|n| !n.is_empty());
    if let (false, Some(name)) = (props.contains_key("deployment_stack"), name) {
        props.insert("deployment_stack".to_owned(), json!(name));
    }
    if let (false, Some(region)) = (props.contains_key("deployment_region"), region) {
        props.insert("deployment_region".to_owned(), json!(region));
    }
    if !props.contains_key("health_check_url") {
        let endpoint = props.get("endpoint_url").and_then(Value::as_str).unwrap_or_default();
        let health = Registration::new("", "", "", endpoint).health_check_url;
        props.insert("health_check_url".to_owned(), json!(health));
    }
    let body = serde_json::to_vec(&Value::Object(props)).map_err(|e| RegistryError::Corrupt(e.to_string()))?;
    Registration::from_json(&body)
}
