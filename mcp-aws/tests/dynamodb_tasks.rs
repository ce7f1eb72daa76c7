//! The DynamoDB task store against moto in server mode: two Lambda adapter
//! instances sharing the table; a task created on one is completed, read,
//! updated and cancelled through the other; a task whose worker died turns
//! failed after its lease; a result over the item limit fails its task
//! with a clear error; conditional writes refuse a stale revision;
//! `MCP_TASK_TABLE` gives servers built without a store the table.
//!
//! moto comes from the test venv; see `moto/mod.rs`.
#![cfg(all(feature = "lambda", feature = "dynamodb"))]

mod lambda_common;
mod moto;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use mcp_aws::config::DeployConfig;
use mcp_aws::lambda::LambdaAdapter;
use mcp_aws::tasks::DynamoDbTaskStore;
use mcp_core::protocol::elicitation::ElicitRequestParams;
use mcp_core::server::task::{TaskStore, TaskStoreError, TaskSupport};
use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
use mcp_core::transport::http::HttpOptions;
use serde_json::{Value, json};

use lambda_common::{body, event, invoke};
use moto::{client, start_moto};

const TABLE: &str = "mcp-tasks-test";
const TASKS: &str = "io.modelcontextprotocol/tasks";

async fn create_table(client: &aws_sdk_dynamodb::Client) {
    client
        .create_table()
        .table_name(TABLE)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("task_id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("task_id").key_type(KeyType::Hash).build().expect("key"))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("CreateTable");
}

/// One instance: a quick tool, one that runs until cancelled (reporting
/// that it saw the cancellation), one that asks a question, and one whose
/// result is over DynamoDB's item limit.
fn adapter(store: &DynamoDbTaskStore, stopped: &Arc<AtomicBool>) -> LambdaAdapter {
    let server = builder(stopped).task_store(Arc::new(store.clone())).build().expect("valid server");
    LambdaAdapter::builder(server).http_options(any_host()).build()
}

fn any_host() -> HttpOptions {
    let mut options = HttpOptions::default();
    options.hosts = mcp_core::transport::http::HostPolicy::default().any_host();
    options
}

/// The instance's tools, all task-capable.
fn builder(stopped: &Arc<AtomicBool>) -> ServerBuilder {
    let seen = Arc::clone(stopped);
    let forever = ToolRoute::new("forever", move |ctx: Context, _: NoArgs| {
        let seen = Arc::clone(&seen);
        async move {
            ctx.cancelled().await;
            seen.store(true, Ordering::SeqCst);
            "stopped"
        }
    });
    let quick = ToolRoute::new("quick", |_ctx: Context, _: NoArgs| async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        "quick result"
    });
    let confirm = ToolRoute::new("confirm", |ctx: Context, _: NoArgs| async move {
        let schema = serde_json::from_value(json!({"type": "object", "properties": {"ok": {"type": "boolean"}}}))
            .map_err(|e| mcp_core::Error::internal(e.to_string()))?;
        let answer = ctx.elicit_as("ok", ElicitRequestParams::form("Sure?", schema)).await?;
        Ok::<_, mcp_core::Error>(format!("answered {}", answer.content.map(Value::from).unwrap_or_default()))
    });
    let huge = ToolRoute::new("huge", |_ctx: Context, _: NoArgs| async { "x".repeat(500 * 1024) });
    ServerBuilder::new("tasks-moto", "1")
        .tools(
            [forever, quick, confirm, huge]
                .map(|t| t.with_description("A test tool").task_support(TaskSupport::Optional)),
        )
        .task_lease(Duration::from_millis(900))
}

/// A stateless (2026-07-28) request through an HTTP API event.
async fn send(adapter: &LambdaAdapter, method: &str, name: &str, params: Value) -> Value {
    let mut params = params;
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}, "extensions": {TASKS: {}}},
    });
    let message = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let mut e = event("apigw-v2-http.json");
    e["headers"]["content-length"] = json!(message.len().to_string());
    e["headers"]["mcp-protocol-version"] = json!("2026-07-28");
    e["headers"]["mcp-method"] = json!(method);
    e["headers"]["mcp-name"] = json!(name);
    e["body"] = json!(message);
    let resp = invoke(adapter, e).await;
    assert_eq!(resp["statusCode"], 200, "{method}: {resp}");
    body(&resp)
}

async fn create(adapter: &LambdaAdapter, tool: &str) -> String {
    let r = send(adapter, "tools/call", tool, json!({"name": tool, "arguments": {}})).await;
    assert_eq!(r["result"]["resultType"], "task", "{r}");
    r["result"]["taskId"].as_str().expect("taskId").to_owned()
}

async fn get(adapter: &LambdaAdapter, id: &str) -> Value {
    send(adapter, "tasks/get", id, json!({"taskId": id})).await["result"].clone()
}

async fn wait_for(adapter: &LambdaAdapter, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let t = get(adapter, id).await;
        if t["status"] == status {
            return t;
        }
        assert!(Instant::now() < deadline, "task {id} never became {status}: {t}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn item(ddb: &aws_sdk_dynamodb::Client, id: &str) -> std::collections::HashMap<String, AttributeValue> {
    ddb.get_item()
        .table_name(TABLE)
        .key("task_id", AttributeValue::S(id.to_owned()))
        .send()
        .await
        .expect("GetItem")
        .item
        .expect("the task item")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn two_instances_share_tasks_through_dynamodb() {
    let moto = start_moto();
    let ddb = client(&moto.endpoint).await;
    create_table(&ddb).await;
    let store = DynamoDbTaskStore::new(ddb.clone(), TABLE);
    let (stopped_a, stopped_b) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let (a, b) = (adapter(&store, &stopped_a), adapter(&store, &stopped_b));

    // Created on A, its result read on B.
    let id = create(&a, "quick").await;
    assert_eq!(get(&b, &id).await["status"], "working");
    let done = wait_for(&b, &id, "completed").await;
    assert_eq!(done["result"]["content"][0]["text"], "quick result", "{done}");
    let row = item(&ddb, &id).await;
    assert_eq!(row["status"].as_s().expect("status"), "completed");
    let expires: u64 = row["expires_at"].as_n().expect("expires_at").parse().expect("seconds");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    assert!(expires > now + 3000 && expires <= now + 3601, "expires_at {expires}, now {now}");

    // Input asked on A, answered on B: B runs the handler again.
    let id = create(&a, "confirm").await;
    let t = wait_for(&b, &id, "input_required").await;
    assert_eq!(t["inputRequests"]["ok"]["method"], "elicitation/create", "{t}");
    let ack = send(
        &b,
        "tasks/update",
        &id,
        json!({"taskId": id, "inputResponses": {"ok": {"action": "accept", "content": {"ok": true}}}}),
    )
    .await;
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    let done = wait_for(&a, &id, "completed").await;
    assert_eq!(done["result"]["content"][0]["text"], "answered {\"ok\":true}", "{done}");

    // Running on A, cancelled on B: A's handler sees it at its next lease
    // renewal.
    let id = create(&a, "forever").await;
    let ack = send(&b, "tasks/cancel", &id, json!({"taskId": id})).await;
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    assert_eq!(get(&a, &id).await["status"], "cancelled");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !stopped_a.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "A's handler never saw the cancellation");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!stopped_b.load(Ordering::SeqCst), "B never ran it");

    // A result over the item limit fails its task, saying why.
    let id = create(&a, "huge").await;
    let failed = wait_for(&b, &id, "failed").await;
    let message = failed["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("400 KB") && message.contains("resource link"), "{failed}");

    // A stale revision loses; the stored task is untouched.
    let stored = store.load(&id).await.expect("load").expect("the task");
    let mut stale = stored.clone();
    stale.revision += 1;
    assert!(matches!(store.replace(&stale, stored.revision + 7).await, Err(TaskStoreError::Conflict)));
    assert!(matches!(store.create(&stored).await, Err(TaskStoreError::Conflict)));
}

#[test]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
fn a_task_whose_worker_died_fails_after_its_lease() {
    let moto = start_moto();
    // Instance A's runtime shuts down with the handler running: its worker
    // is gone, as in a recycled Lambda instance.
    let dying = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let (store, id) = dying.block_on(async {
        let ddb = client(&moto.endpoint).await;
        create_table(&ddb).await;
        let store = DynamoDbTaskStore::new(ddb, TABLE);
        let a = adapter(&store, &Arc::new(AtomicBool::new(false)));
        let id = create(&a, "forever").await;
        (store, id)
    });
    dying.shutdown_background();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let store = DynamoDbTaskStore::new(client(&moto.endpoint).await, store.table());
        let b = adapter(&store, &Arc::new(AtomicBool::new(false)));
        let failed = wait_for(&b, &id, "failed").await;
        assert!(failed["error"]["message"].as_str().is_some_and(|m| m.contains("lease")), "{failed}");
        assert!(failed.get("result").is_none());
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn mcp_task_table_puts_the_tasks_of_servers_built_without_a_store_in_dynamodb() {
    let moto = start_moto();
    let ddb = client(&moto.endpoint).await;
    create_table(&ddb).await;
    // What `mcp_aws::run` does with the environment: servers built with no
    // task store of their own get the table's.
    let config = DeployConfig::from_vars(|name| (name == "MCP_TASK_TABLE").then(|| TABLE.to_owned())).expect("valid");
    let instance = |stopped: &Arc<AtomicBool>| {
        let server = builder(stopped).build().expect("valid server");
        let store = DynamoDbTaskStore::use_configured(&server, &config, ddb.clone()).expect("a store on the table");
        assert_eq!(store.table(), TABLE);
        LambdaAdapter::builder(server).config(config.clone()).http_options(any_host()).build()
    };
    let stopped = Arc::new(AtomicBool::new(false));
    let (a, b) = (instance(&stopped), instance(&stopped));
    let id = create(&a, "quick").await;
    let done = wait_for(&b, &id, "completed").await;
    assert_eq!(done["result"]["content"][0]["text"], "quick result", "{done}");
    assert_eq!(item(&ddb, &id).await["status"].as_s().expect("status"), "completed");
    let id = create(&b, "forever").await;
    send(&a, "tasks/cancel", &id, json!({"taskId": id})).await;
    assert_eq!(get(&b, &id).await["status"], "cancelled");

    // A server without tasks keeps none, table or not.
    let plain = ServerBuilder::new("plain", "1").build().expect("valid server");
    assert!(DynamoDbTaskStore::use_configured(&plain, &config, ddb.clone()).is_none());
    assert!(DynamoDbTaskStore::use_configured(&plain, &DeployConfig::default(), ddb).is_none());
}
