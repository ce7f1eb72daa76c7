//! The DynamoDB session store against moto in server mode (a real
//! DynamoDB API on 127.0.0.1): two adapter instances sharing the table
//! continue one legacy session; expired and deleted sessions give 404.
//!
//! moto comes from the test venv; see `moto/mod.rs`.
#![cfg(all(feature = "lambda", feature = "dynamodb"))]

mod lambda_common;
mod moto;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use mcp_aws::dynamodb::DynamoDbSessionStore;
use mcp_aws::lambda::LambdaAdapter;
use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
use mcp_core::transport::http::HttpOptions;
use serde_json::{Value, json};

use lambda_common::{body, event, header, invoke};
use moto::{client, start_moto};

async fn create_table(client: &aws_sdk_dynamodb::Client, table: &str) {
    client
        .create_table()
        .table_name(table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("session_id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .key_schema(
            KeySchemaElement::builder().attribute_name("session_id").key_type(KeyType::Hash).build().expect("key"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("CreateTable");
}

fn server() -> mcp_core::server::Server {
    ServerBuilder::new("sessions-test", "1.0.0")
        .tool(ToolRoute::new("ping", |_ctx: Context, _: NoArgs| async { "pong" }))
        .build()
        .expect("valid server")
}

fn adapter(store: &DynamoDbSessionStore, idle: Duration) -> LambdaAdapter {
    let mut options = HttpOptions::default();
    options.hosts = mcp_core::transport::http::HostPolicy::default().any_host();
    options.session_idle_timeout = idle;
    LambdaAdapter::builder(server()).session_store(Arc::new(store.clone())).http_options(options).build()
}

/// An HTTP API event carrying `message`, in `session` when given.
fn request(message: &Value, session: Option<&str>, method: &str) -> Value {
    let mut e = event("apigw-v2-http.json");
    e["requestContext"]["http"]["method"] = json!(method);
    e["body"] = if method == "POST" { json!(message.to_string()) } else { Value::Null };
    e["headers"]["content-length"] = json!(if method == "POST" { message.to_string().len() } else { 0 }.to_string());
    if let Some(id) = session {
        e["headers"]["mcp-session-id"] = json!(id);
        e["headers"]["mcp-protocol-version"] = json!("2025-11-25");
    }
    e
}

async fn initialize(adapter: &LambdaAdapter) -> String {
    let init = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } });
    let resp = invoke(adapter, request(&init, None, "POST")).await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    header(&resp, "mcp-session-id").expect("a session id")
}

async fn ping(adapter: &LambdaAdapter, session: &str, id: i64) -> Value {
    let call = json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": "ping" } });
    invoke(adapter, request(&call, Some(session), "POST")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn two_instances_share_sessions_through_dynamodb() {
    let moto = start_moto();
    let ddb = client(&moto.endpoint).await;
    create_table(&ddb, "mcp-sessions-test").await;
    let store = DynamoDbSessionStore::new(ddb.clone(), "mcp-sessions-test");
    assert_eq!(store.check().await, Ok(()));

    // `initialize` on one instance, everything after it on another.
    let (a, b) = (adapter(&store, Duration::from_secs(600)), adapter(&store, Duration::from_secs(600)));
    let session = initialize(&a).await;
    let note = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    assert_eq!(invoke(&b, request(&note, Some(&session), "POST")).await["statusCode"], 202);
    let resp = ping(&b, &session, 2).await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    assert_eq!(body(&resp)["result"]["content"][0]["text"], "pong");
    assert_eq!((a.transport().session_count(), b.transport().session_count()), (1, 1));
    // The item is in the table, with its TTL attribute in the future.
    let item = ddb
        .get_item()
        .table_name("mcp-sessions-test")
        .key("session_id", aws_sdk_dynamodb::types::AttributeValue::S(session.clone()))
        .send()
        .await
        .expect("GetItem")
        .item
        .expect("the session item");
    let expires: u64 = item["expires_at"].as_n().expect("a number").parse().expect("epoch seconds");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    assert!(expires > now + 500 && expires <= now + 601, "expires_at {expires}, now {now}");

    // DELETE on the second instance ends it for any instance that did not
    // hold it yet.
    let resp = invoke(&b, request(&Value::Null, Some(&session), "DELETE")).await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    let c = adapter(&store, Duration::from_secs(600));
    let resp = ping(&c, &session, 3).await;
    assert_eq!(resp["statusCode"], 404, "{resp}");
    assert_eq!(body(&resp)["error"]["code"], -32001);

    // An unknown table is reported by the health check, by name.
    let missing = DynamoDbSessionStore::new(ddb.clone(), "no-such-table");
    let err = missing.check().await.expect_err("missing table");
    assert!(err.contains("no-such-table"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn expired_sessions_give_404_on_every_instance() {
    let moto = start_moto();
    let ddb = client(&moto.endpoint).await;
    create_table(&ddb, "mcp-sessions-expiry").await;
    let store = DynamoDbSessionStore::new(ddb.clone(), "mcp-sessions-expiry");

    // Three seconds: long enough that a slow moto (a loaded CI machine)
    // does not expire what the test still needs, short enough to wait out.
    let ttl = Duration::from_secs(3);
    let a = adapter(&store, ttl);
    let session = initialize(&a).await;
    assert_eq!(a.transport().session_count(), 1, "the creator holds the session in memory");
    // DynamoDB's TTL sweep is lazy (moto's never runs): the store itself
    // must treat an item past `expires_at` as gone.
    use mcp_core::transport::http::SessionStore as _;
    let state = mcp_core::server::Session::new(None, mcp_core::server::Sink::none()).state();
    store.save("direct", &state, ttl).await.expect("PutItem");
    assert!(store.load("direct").await.expect("GetItem").is_some());
    tokio::time::sleep(ttl + Duration::from_millis(1100)).await;
    assert!(store.load("direct").await.expect("GetItem").is_none(), "expired by expires_at");
    let raw = ddb
        .get_item()
        .table_name("mcp-sessions-expiry")
        .key("session_id", aws_sdk_dynamodb::types::AttributeValue::S("direct".into()))
        .send()
        .await
        .expect("GetItem");
    assert!(raw.item.is_some(), "the item itself is still in the table");

    // Every instance: `a`, which created the session and still held it in
    // memory, and `b`, which never saw it and can only ask the table.
    let b = adapter(&store, ttl);
    for (name, instance) in [("the instance that created it", &a), ("another instance", &b)] {
        let resp = ping(instance, &session, 2).await;
        assert_eq!(resp["statusCode"], 404, "{name}: {resp}");
        assert_eq!(body(&resp)["error"]["code"], -32001, "{name}: {resp}");
        let message = body(&resp)["error"]["message"].as_str().unwrap_or_default().to_owned();
        assert!(message.contains("unknown or expired"), "{name}: {message}");
    }
    assert_eq!(a.transport().session_count(), 0, "the creator let go of the expired session");
    // A fresh session on the same instances still works.
    let fresh = initialize(&b).await;
    assert_eq!(ping(&a, &fresh, 3).await["statusCode"], 200);
}
