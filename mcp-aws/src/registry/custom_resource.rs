//! A CloudFormation custom resource that registers a server at deploy
//! time, as the integration guide does with CDK: `Create` and `Update` put
//! the entry, `Delete` marks it `decommissioned`. The outcome is PUT to the
//! event's pre-signed `ResponseURL` in the custom resource protocol's
//! format; every failure is reported as `FAILED` with a reason, so the
//! stack never waits for the one-hour timeout.
//!
//! `ResourceProperties` are the [`Registration`] fields with their table
//! names (`server_id`, `version`, `server_name`, `endpoint_url`,
//! `available_tools`, `metadata`, ...), or with the integration guide's
//! PascalCase names (`ServerId`, `Version`, `ServerName`, `Description`,
//! `EndpointUrl`, `ProtocolType`, `AuthenticationType`, `AvailableTools`,
//! `Status`, `HealthCheckUrl`, `DeploymentStack`, `DeploymentRegion`,
//! `Metadata`), plus an optional `TableName` (default: the function's
//! `MCP_REGISTRY_TABLE`). `AvailableTools` and `Metadata` may be JSON
//! strings, as CDK's `json.dumps` passes them (CloudFormation properties are
//! strings). Without a version the entry gets `1.0.0`, without a
//! `server_id` the id derived from its name and endpoint, and without a
//! health check URL the one derived from its endpoint (see
//! [`Registration::from_json`]). `deployment_stack` and `deployment_region`
//! default (also when empty) to the stack's name and region. The physical
//! resource id is `{server_id}:{version}`, so changing either replaces the
//! resource and CloudFormation retires the old entry.
//!
//! `Create` and `Update` answer with `Data` holding the guide's
//! `{"ServerID": ..., "Status": "Registered"}` (for `Fn::GetAtt`) and the
//! stored entry's `server_id`, `version`, `status` and `created_at`.
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
                data.insert("ServerID".to_owned(), json!(stored.server_id));
                data.insert("Status".to_owned(), json!("Registered"));
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

/// The guide's PascalCase property names and the table's names for them.
const PASCAL_CASE: [(&str, &str); 13] = [
    ("ServerId", "server_id"),
    ("Version", "version"),
    ("ServerName", "server_name"),
    ("Description", "description"),
    ("EndpointUrl", "endpoint_url"),
    ("ProtocolType", "protocol_type"),
    ("AuthenticationType", "authentication_type"),
    ("AvailableTools", "available_tools"),
    ("Status", "status"),
    ("HealthCheckUrl", "health_check_url"),
    ("DeploymentStack", "deployment_stack"),
    ("DeploymentRegion", "deployment_region"),
    ("Metadata", "metadata"),
];

/// The registration in `ResourceProperties`, with the stack's name and
/// region as deployment defaults.
fn registration(event: &Value, props: Value) -> Result<Registration, RegistryError> {
    let Value::Object(mut props) = props else {
        return Err(RegistryError::Invalid { field: "ResourceProperties".to_owned(), reason: "missing".to_owned() });
    };
    props.remove("ServiceToken");
    props.remove("TableName");
    for (pascal, snake) in PASCAL_CASE {
        if let Some(value) = props.remove(pascal) {
            props.entry(snake.to_owned()).or_insert(value);
        }
    }
    // CloudFormation passes properties as strings: a list or a map may
    // arrive as its JSON text.
    for (field, pascal) in [("available_tools", "AvailableTools"), ("metadata", "Metadata")] {
        if let Some(Value::String(text)) = props.get(field) {
            let parsed = if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(text).map_err(|e| RegistryError::Invalid {
                    field: pascal.to_owned(),
                    reason: format!("not valid JSON: {e}"),
                })?
            };
            if parsed.is_null() {
                props.remove(field);
            } else {
                props.insert(field.to_owned(), parsed);
            }
        }
    }
    // Empty strings (the guide's `properties.get('DeploymentStack', '')`)
    // count as absent.
    for field in ["deployment_stack", "deployment_region", "health_check_url", "version"] {
        if props.get(field).and_then(Value::as_str).is_some_and(|v| v.trim().is_empty()) {
            props.remove(field);
        }
    }
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
    let body = serde_json::to_vec(&Value::Object(props)).map_err(|e| RegistryError::Corrupt(e.to_string()))?;
    Registration::from_json(&body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{AuthenticationType, ProtocolType, Status};

    #[test]
    fn the_guides_pascal_case_properties_are_read() {
        let event = json!({
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/GraphQLMCPServerStack/abc",
        });
        let props = json!({
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:provider",
            "TableName": "MCPServerRegistry-prod",
            "ServerId": "graphql-mcp-server",
            "ServerName": "GraphQL MCP Server",
            "EndpointUrl": "https://abc.appsync-api.us-east-1.amazonaws.com/graphql",
            "ProtocolType": "graphql",
            "AuthenticationType": "api_key",
            "AvailableTools": "[{\"name\": \"query_data\", \"description\": \"Query data via GraphQL\", \"inputSchema\": {\"type\": \"object\"}}]",
            "Status": "active",
            "DeploymentStack": "",
            "DeploymentRegion": "us-east-1",
            "Version": "1.0.0",
        });
        let reg = registration(&event, props).expect("the guide's properties");
        assert_eq!((reg.server_id.as_str(), reg.version.as_str()), ("graphql-mcp-server", "1.0.0"));
        assert_eq!(reg.protocol_type, ProtocolType::Graphql);
        assert_eq!(reg.authentication_type, AuthenticationType::ApiKey);
        assert_eq!(reg.status, Status::Active);
        assert_eq!(reg.available_tools.len(), 1);
        assert_eq!(reg.available_tools[0].name, "query_data");
        assert_eq!(reg.deployment_stack.as_deref(), Some("GraphQLMCPServerStack"));
        assert_eq!(reg.health_check_url.as_deref(), Some("https://abc.appsync-api.us-east-1.amazonaws.com/health"));
    }

    #[test]
    fn a_tool_list_that_is_not_json_names_the_property() {
        let props = json!({ "ServerId": "s", "ServerName": "S", "EndpointUrl": "https://s.example/mcp", "AvailableTools": "[{" });
        match registration(&Value::Null, props) {
            Err(RegistryError::Invalid { field, .. }) => assert_eq!(field, "AvailableTools"),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }
}
