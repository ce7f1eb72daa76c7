//! The CloudFormation custom resource against moto, its response captured
//! by a loopback HTTP server standing in for the pre-signed `ResponseURL`:
//! Create and Update put the entry, Delete decommissions it, failures are
//! `FAILED` with a reason.
#![cfg(feature = "registry-service")]

mod moto;
mod registry_common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::routing::put;
use mcp_aws::registry::custom_resource::CustomResource;
use mcp_aws::registry::{DynamoDbRegistry, Status};
use serde_json::{Value, json};

use moto::start_moto;
use registry_common::serve;

type Captured = Arc<Mutex<Vec<(String, Option<String>, Value)>>>;

/// A stand-in for S3's pre-signed URL: records each PUT (path, content
/// type, body) and answers 200.
async fn response_url() -> (String, Captured) {
    let captured: Captured = Arc::default();
    let sink = Arc::clone(&captured);
    let app = axum::Router::new().route(
        "/{*path}",
        put(move |uri: http::Uri, headers: http::HeaderMap, body: Bytes| {
            let sink = Arc::clone(&sink);
            async move {
                let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
                let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                sink.lock().expect("lock").push((uri.to_string(), content_type, body));
                ""
            }
        }),
    );
    let addr = serve(app).await;
    (format!("http://{addr}"), captured)
}

fn event(kind: &str, base: &str, request: &str, props: Value) -> Value {
    let mut e = json!({
        "RequestType": kind,
        "ResponseURL": format!("{base}/cfn-responses/{request}?X-Amz-Signature=abc"),
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/mcp-calc/0a1b2c3d",
        "RequestId": request,
        "ResourceType": "Custom::MCPServerRegistration",
        "LogicalResourceId": "Registration",
        "ResourceProperties": props,
    });
    if kind != "Create" {
        e["PhysicalResourceId"] = json!("calc:1.0.0");
    }
    e
}

fn props(description: &str) -> Value {
    json!({
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:registry-cr",
        "server_id": "calc", "version": "1.0.0", "server_name": "Calculator",
        "description": description,
        "endpoint_url": "https://calc.example.com/mcp",
        "authentication_type": "iam",
        "available_tools": [{ "name": "add", "description": "Adds", "inputSchema": { "type": "object" } }],
        "metadata": { "team": "maths", "cost_centre": "cc-42" },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn create_update_and_delete_answer_cloudformation() {
    let moto = start_moto();
    let registry = DynamoDbRegistry::new(moto::client(&moto.endpoint).await, "MCPServerRegistry-cfn");
    registry.create_table().await.expect("CreateTable");
    let handler = CustomResource::new(registry.clone()).expect("handler").timeout(Duration::from_secs(10));
    let (base, captured) = response_url().await;

    let sent = handler.handle(event("Create", &base, "req-1", props("first"))).await.expect("answered");
    assert_eq!(sent["Status"], "SUCCESS", "{sent}");
    let created = registry.get("calc", "1.0.0").await.expect("get").expect("entry");
    assert_eq!(created.status, Status::Active);
    assert_eq!(created.deployment_stack.as_deref(), Some("mcp-calc"));
    assert_eq!(created.deployment_region.as_deref(), Some("eu-west-1"));
    assert_eq!(created.health_check_url.as_deref(), Some("https://calc.example.com/health"));
    assert_eq!(created.available_tools[0].name, "add");
    {
        let got = captured.lock().expect("lock");
        let (path, content_type, body) = &got[0];
        assert_eq!(path, "/cfn-responses/req-1?X-Amz-Signature=abc", "the pre-signed URL is used as given");
        assert_eq!(content_type.as_deref(), Some(""), "no content type, as the URL is signed");
        assert_eq!(body["Status"], "SUCCESS");
        assert_eq!(body["PhysicalResourceId"], "calc:1.0.0");
        assert_eq!(body["StackId"], "arn:aws:cloudformation:eu-west-1:123456789012:stack/mcp-calc/0a1b2c3d");
        assert_eq!(body["RequestId"], "req-1");
        assert_eq!(body["LogicalResourceId"], "Registration");
        assert_eq!(body["Data"]["status"], "active");
        assert_eq!(body, &sent);
    }

    tokio::time::sleep(Duration::from_millis(5)).await;
    let mut update = event("Update", &base, "req-2", props("second"));
    update["OldResourceProperties"] = props("first");
    let sent = handler.handle(update).await.expect("answered");
    assert_eq!((sent["Status"].as_str(), sent["PhysicalResourceId"].as_str()), (Some("SUCCESS"), Some("calc:1.0.0")));
    let updated = registry.get("calc", "1.0.0").await.expect("get").expect("entry");
    assert_eq!(updated.description, "second");
    assert_eq!(updated.created_at, created.created_at, "created_at is kept across updates");
    assert!(updated.updated_at > created.updated_at);

    let sent = handler.handle(event("Delete", &base, "req-3", props("second"))).await.expect("answered");
    assert_eq!(sent["Status"], "SUCCESS", "{sent}");
    assert_eq!(registry.get("calc", "1.0.0").await.expect("get").expect("kept").status, Status::Decommissioned);
    assert_eq!(registry.list(None).await.expect("list").len(), 1, "decommissioned, not deleted");
    assert_eq!(captured.lock().expect("lock").len(), 3, "one response per event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn failures_are_reported_as_failed_with_a_reason() {
    let moto = start_moto();
    let registry = DynamoDbRegistry::new(moto::client(&moto.endpoint).await, "MCPServerRegistry-fail");
    registry.create_table().await.expect("CreateTable");
    let handler = CustomResource::new(registry.clone()).expect("handler").timeout(Duration::from_secs(10));
    let (base, captured) = response_url().await;

    // An invalid property: FAILED, naming it; nothing stored.
    let mut bad = props("x");
    bad["endpoint_url"] = json!("not a url");
    let sent = handler.handle(event("Create", &base, "bad-1", bad.clone())).await.expect("answered");
    assert_eq!(sent["Status"], "FAILED");
    assert!(sent["Reason"].as_str().is_some_and(|r| r.contains("endpoint_url")), "{sent}");
    assert_eq!(sent["PhysicalResourceId"], "Registration", "a FAILED Create still names a resource");
    assert!(registry.list(None).await.expect("list").is_empty());

    // The registry table is missing: FAILED with DynamoDB's reason.
    let mut elsewhere = props("x");
    elsewhere["TableName"] = json!("MCPServerRegistry-missing");
    let sent = handler.handle(event("Create", &base, "bad-2", elsewhere)).await.expect("answered");
    assert_eq!(sent["Status"], "FAILED");
    assert!(sent["Reason"].as_str().is_some_and(|r| r.contains("dynamodb UpdateItem")), "{sent}");

    // An unknown request type.
    let sent = handler.handle(event("Rename", &base, "bad-3", props("x"))).await.expect("answered");
    assert_eq!(sent["Status"], "FAILED");
    assert!(sent["Reason"].as_str().is_some_and(|r| r.contains("RequestType")), "{sent}");

    // Deleting what was never created succeeds, so a rollback completes.
    let sent = handler.handle(event("Delete", &base, "bad-4", bad)).await.expect("answered");
    assert_eq!(sent["Status"], "SUCCESS", "{sent}");
    let sent = handler.handle(event("Delete", &base, "bad-5", props("x"))).await.expect("answered");
    assert_eq!(sent["Status"], "SUCCESS", "{sent}");

    let bodies: Vec<String> = captured.lock().expect("lock").iter().map(|(_, _, b)| b["Status"].to_string()).collect();
    assert_eq!(bodies.len(), 5, "every event was answered: {bodies:?}");

    // No ResponseURL: nothing can be answered, and the handler says so.
    let mut lost = event("Create", &base, "bad-6", props("x"));
    lost.as_object_mut().expect("object").remove("ResponseURL");
    assert!(handler.handle(lost).await.is_err());
    // A ResponseURL that refuses: reported after the retries, not hung.
    let dead = format!("http://127.0.0.1:{}", moto::free_port());
    let result =
        tokio::time::timeout(Duration::from_secs(10), handler.handle(event("Create", &dead, "bad-7", props("x"))))
            .await;
    assert!(result.expect("bounded").is_err());
}

/// The guide's CDK custom resource properties: PascalCase, the tool list
/// as `json.dumps` text.
fn guide_props(table: &str, description_tool: &str) -> Value {
    let tools = json!([{
        "name": "your_tool_1",
        "description": description_tool,
        "inputSchema": {
            "type": "object",
            "properties": { "param1": { "type": "string", "description": "First parameter" } },
            "required": ["param1"]
        }
    }]);
    json!({
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:MCPRegistrationProvider",
        "TableName": table,
        "ServerId": "your-mcp-server-prod",
        "ServerName": "Your MCP Server",
        "EndpointUrl": "https://abcdefg.lambda-url.eu-west-1.on.aws/",
        "ProtocolType": "jsonrpc",
        "AuthenticationType": "api_key",
        "AvailableTools": tools.to_string(),
        "Status": "active",
        "DeploymentStack": "YourMCPServerStack",
        "DeploymentRegion": "eu-west-1",
        "Version": "1.0.0",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn the_guides_pascal_case_events_get_the_guides_responses() {
    let moto = start_moto();
    let table = "MCPServerRegistry-prod";
    // The handler's own table is another one: the event's TableName wins.
    let registry = DynamoDbRegistry::new(moto::client(&moto.endpoint).await, table);
    registry.create_table().await.expect("CreateTable");
    let handler = CustomResource::new(registry.with_table("MCPServerRegistry-default"))
        .expect("handler")
        .timeout(Duration::from_secs(10));
    let (base, captured) = response_url().await;
    let guide_event = |kind: &str, request: &str, props: Value| {
        let mut e = event(kind, &base, request, props);
        e["ResourceType"] = json!("AWS::CloudFormation::CustomResource");
        if kind != "Create" {
            e["PhysicalResourceId"] = json!("your-mcp-server-prod:1.0.0");
        }
        e
    };

    let sent = handler.handle(guide_event("Create", "g-1", guide_props(table, "first"))).await.expect("answered");
    assert_eq!(sent["Status"], "SUCCESS", "{sent}");
    assert_eq!(sent["Data"]["ServerID"], "your-mcp-server-prod");
    assert_eq!(sent["Data"]["Status"], "Registered");
    let created = registry.get("your-mcp-server-prod", "1.0.0").await.expect("get").expect("entry");
    assert_eq!(created.server_name, "Your MCP Server");
    assert_eq!(created.status, Status::Active);
    assert_eq!(created.authentication_type, mcp_aws::registry::AuthenticationType::ApiKey);
    assert_eq!(created.available_tools[0].name, "your_tool_1");
    assert_eq!(created.available_tools[0].description.as_deref(), Some("first"));
    assert_eq!(created.deployment_stack.as_deref(), Some("YourMCPServerStack"));
    assert_eq!(created.health_check_url.as_deref(), Some("https://abcdefg.lambda-url.eu-west-1.on.aws/health"));

    let mut update = guide_event("Update", "g-2", guide_props(table, "second"));
    update["OldResourceProperties"] = guide_props(table, "first");
    let sent = handler.handle(update).await.expect("answered");
    assert_eq!(sent["Status"], "SUCCESS", "{sent}");
    assert_eq!(
        (sent["Data"]["ServerID"].as_str(), sent["Data"]["Status"].as_str()),
        (Some("your-mcp-server-prod"), Some("Registered"))
    );
    let updated = registry.get("your-mcp-server-prod", "1.0.0").await.expect("get").expect("entry");
    assert_eq!(updated.available_tools[0].description.as_deref(), Some("second"));
    assert_eq!(updated.created_at, created.created_at);

    let sent = handler.handle(guide_event("Delete", "g-3", guide_props(table, "second"))).await.expect("answered");
    assert_eq!(sent["Status"], "SUCCESS", "{sent}");
    assert_eq!(sent["PhysicalResourceId"], "your-mcp-server-prod:1.0.0");
    let retired = registry.get("your-mcp-server-prod", "1.0.0").await.expect("get").expect("kept");
    assert_eq!(retired.status, Status::Decommissioned);
    assert_eq!(registry.list(None).await.expect("list").len(), 1);
    let got = captured.lock().expect("lock");
    assert_eq!(got.len(), 3, "one response per event");
    assert_eq!(got[0].2["Data"]["Status"], "Registered");
}
