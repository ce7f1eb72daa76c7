//! The DynamoDB registry against moto in server mode: upsert, idempotence,
//! `created_at` kept, decommission as an update, status-filtered listing,
//! native attributes, and `available_tools` equal to the server's own
//! `tools/list`.
#![cfg(feature = "registry")]

mod moto;
mod registry_common;

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use mcp_aws::registry::{AuthenticationType, DynamoDbRegistry, Registration, RegistryError, Status, available_tools};
use mcp_core::server::{Server, Sink, handle_frame};
use serde_json::{Value, json};

use moto::{client, start_moto};
use registry_common::server;

/// The server's `tools/list` as a client sees it.
async fn tools_list(server: &Server) -> Value {
    let req = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": { "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {} } } });
    let frame = serde_json::to_vec(&req).expect("json");
    let reply =
        handle_frame(server.clone(), &frame, None, &Sink::none(), &http::Extensions::new()).await.expect("a reply");
    let reply: Value = serde_json::from_slice(&reply).expect("json reply");
    reply["result"]["tools"].clone()
}

fn entry(id: &str, version: &str) -> Registration {
    Registration::new(id, version, "Registry test", format!("http://127.0.0.1:9/{id}/mcp"))
        .with_description("a test server")
        .with_authentication_type(AuthenticationType::ApiKey)
        .with_deployment(Some("stack-1".to_owned()), Some("eu-west-1".to_owned()))
        .with_metadata("team", "search")
        .with_metadata("cost_centre", 42)
}

async fn registry(endpoint: &str, table: &str) -> (DynamoDbRegistry, aws_sdk_dynamodb::Client) {
    let ddb = client(endpoint).await;
    let registry = DynamoDbRegistry::new(ddb.clone(), table);
    registry.create_table().await.expect("CreateTable");
    registry.check().await.expect("the table exists");
    (registry, ddb)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn upsert_is_idempotent_keeps_created_at_and_stores_native_attributes() {
    let moto = start_moto();
    let table = DynamoDbRegistry::table_for("test");
    assert_eq!(table, "MCPServerRegistry-test");
    let (registry, ddb) = registry(&moto.endpoint, &table).await;

    let server = server();
    let tools = available_tools(&server).await.expect("tools/list");
    let registration = entry("calc", "1.0.0").with_tools(tools);
    let first = registry.upsert(&registration).await.expect("first upsert");
    let created = first.created_at.clone().expect("created_at set");
    assert_eq!(first.updated_at.as_deref(), Some(created.as_str()));
    assert_eq!(first.status, Status::Active);

    // The stored tool list is the server's own tools/list, field for field.
    let stored = registry.get("calc", "1.0.0").await.expect("GetItem").expect("the entry");
    assert_eq!(serde_json::to_value(&stored.available_tools).expect("json"), tools_list(&server).await);
    assert_eq!(stored.available_tools.len(), 2);
    assert_eq!(stored.metadata["cost_centre"], 42);

    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = registry.upsert(&registration.clone().with_description("changed")).await.expect("second upsert");
    assert_eq!(second.created_at.as_deref(), Some(created.as_str()), "created_at is preserved");
    assert!(second.updated_at.as_deref() > Some(created.as_str()), "updated_at moves: {second:?}");
    assert_eq!(second.description, "changed");
    let scan = ddb.scan().table_name(&table).send().await.expect("Scan");
    assert_eq!(scan.count, 1, "one entry after two upserts");

    // What a `get-item` user sees: native maps and lists, snake_case names.
    let raw = ddb
        .get_item()
        .table_name(&table)
        .key("server_id", AttributeValue::S("calc".into()))
        .key("version", AttributeValue::S("1.0.0".into()))
        .send()
        .await
        .expect("GetItem")
        .item
        .expect("item");
    assert_eq!(raw["status"], AttributeValue::S("active".into()));
    assert_eq!(raw["protocol_type"], AttributeValue::S("jsonrpc".into()));
    assert_eq!(raw["authentication_type"], AttributeValue::S("api_key".into()));
    assert_eq!(raw["deployment_region"], AttributeValue::S("eu-west-1".into()));
    let AttributeValue::L(tools) = &raw["available_tools"] else { panic!("available_tools is a list: {raw:?}") };
    let AttributeValue::M(add) = &tools[0] else { panic!("a tool is a map") };
    assert_eq!(add["name"], AttributeValue::S("add".into()));
    assert_eq!(add["description"], AttributeValue::S("Adds two numbers".into()));
    let AttributeValue::M(schema) = &add["inputSchema"] else { panic!("inputSchema is a map") };
    assert_eq!(schema["type"], AttributeValue::S("object".into()));
    let AttributeValue::M(meta) = &raw["metadata"] else { panic!("metadata is a map") };
    assert_eq!(meta["cost_centre"], AttributeValue::N("42".into()));
    for key in ["server_name", "endpoint_url", "health_check_url", "deployment_stack", "created_at", "updated_at"] {
        assert!(matches!(raw.get(key), Some(AttributeValue::S(_))), "{key} is a string: {raw:?}");
    }

    // An upsert without the optional attributes removes them.
    let bare =
        Registration::new("calc", "1.0.0", "Registry test", "http://127.0.0.1:9/calc/mcp").with_health_check_url(None);
    let replaced = registry.upsert(&bare).await.expect("upsert");
    assert!(replaced.health_check_url.is_none() && replaced.deployment_stack.is_none(), "{replaced:?}");
    assert_eq!(replaced.created_at.as_deref(), Some(created.as_str()));

    // Invalid registrations never reach the table.
    let bad = Registration::new("calc", "2.0.0", "x", "ftp://nowhere");
    assert!(
        matches!(registry.upsert(&bad).await, Err(RegistryError::Invalid { field, .. }) if field == "endpoint_url")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn decommission_is_an_update_and_listing_filters_on_status() {
    let moto = start_moto();
    let table = DynamoDbRegistry::table_for("list");
    let (registry, ddb) = registry(&moto.endpoint, &table).await;
    let tools = available_tools(&server()).await.expect("tools/list");
    for (id, version) in [("a", "1"), ("a", "2"), ("b", "1")] {
        registry.upsert(&entry(id, version).with_tools(tools.clone())).await.expect("upsert");
    }
    let before = registry.get("a", "1").await.expect("get").expect("entry");
    // Every optional part is filled in, so that losing one shows.
    assert_eq!(before.available_tools.len(), 2, "{before:?}");
    assert_eq!(before.description, "a test server");
    assert_eq!(serde_json::Value::Object(before.metadata.clone()), json!({ "team": "search", "cost_centre": 42 }));
    assert!(
        before.health_check_url.is_some() && before.deployment_stack.is_some() && before.deployment_region.is_some()
    );

    tokio::time::sleep(Duration::from_millis(5)).await;
    let retired = registry.decommission("a", "1").await.expect("decommission");
    assert!(retired.updated_at > before.updated_at, "updated_at moves: {retired:?}");
    // Only the status and `updated_at` change; the rest of the entry is
    // kept, field for field, in the answer and in the table.
    let mut expected = before.clone();
    expected.status = Status::Decommissioned;
    expected.updated_at.clone_from(&retired.updated_at);
    assert_eq!(retired, expected);
    assert_eq!(registry.get("a", "1").await.expect("get").as_ref(), Some(&expected));
    registry.set_status("b", "1", Status::Unhealthy).await.expect("set_status");

    let ids = |entries: Vec<Registration>| {
        entries.into_iter().map(|e| format!("{}@{}", e.server_id, e.version)).collect::<Vec<_>>()
    };
    assert_eq!(ids(registry.list(Some(Status::Active)).await.expect("list")), ["a@2"]);
    assert_eq!(ids(registry.list(Some(Status::Decommissioned)).await.expect("list")), ["a@1"]);
    assert_eq!(ids(registry.list(Some(Status::Unhealthy)).await.expect("list")), ["b@1"]);
    assert_eq!(ids(registry.list(None).await.expect("list")), ["a@1", "a@2", "b@1"]);

    // Never a delete: the item is still in the table.
    assert_eq!(ddb.scan().table_name(&table).send().await.expect("Scan").count, 3);
    // Unknown entries are reported, not created.
    let missing = registry.decommission("nope", "1").await;
    assert!(matches!(missing, Err(RegistryError::NotFound { .. })), "{missing:?}");
    assert_eq!(registry.get("nope", "1").await.expect("get"), None);
    assert_eq!(ddb.scan().table_name(&table).send().await.expect("Scan").count, 3);
}
