//! The tool-result cache on DynamoDB (moto in server mode): the guide's
//! table layout as boto3 reads it back, hits across layer instances (two
//! Lambda instances), an expired item never served, invalidation deleting
//! items, and moto stopped mid-test: calls are still answered.

mod moto;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcp_aws::cache::{CacheLayer, CacheStore as _, CachedResult, DynamoDbCacheStore};
use mcp_core::jsonrpc::{Message, Response};
use mcp_core::protocol::ProtocolVersion;
use mcp_core::server::{Context, Server, ServerBuilder, ServerRequest, Sink, ToolRoute};
use serde_json::Value;
use serde_json::value::RawValue;
use tower::ServiceExt as _;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Args {
    /// A number
    n: i64,
}

const TABLE: &str = "mcp-tool-results-test";

fn server(runs: &Arc<AtomicUsize>) -> Server {
    let runs = Arc::clone(runs);
    ServerBuilder::new("cache-dynamodb", "1.0.0")
        .tool(
            ToolRoute::new("square", move |_ctx: Context, a: Args| {
                let run = runs.fetch_add(1, Ordering::SeqCst);
                async move { format!("{}:run{run}", a.n * a.n) }
            })
            .cache_ttl(Duration::from_secs(300)),
        )
        .build()
        .expect("valid")
}

fn call(id: i64, n: i64) -> ServerRequest {
    let text = format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"square","arguments":{{"n":{n}}},"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}}}}}}}}"#
    );
    ServerRequest::new(Message::parse(text.as_bytes()).expect("valid"), None, Sink::none())
}

async fn text(layer: &CacheLayer, server: &Server, req: ServerRequest) -> String {
    let svc = server.clone().layer(layer.clone());
    let resp: Response = svc.service().clone().oneshot(req).await.expect("never a layer error").expect("an answer");
    let mut buf = Vec::new();
    resp.write_to(&mut buf);
    let v: Value = serde_json::from_slice(&buf).expect("json");
    v["result"]["content"][0]["text"].as_str().unwrap_or_else(|| panic!("no text: {v}")).to_owned()
}

/// The test venv's Python (next to `moto_server`).
fn python() -> PathBuf {
    match std::env::var_os("MOTO_SERVER") {
        Some(moto) => PathBuf::from(moto).with_file_name("python"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/venv/bin/python"),
    }
}

/// What boto3 reads back: the table's description, its TTL, and every item.
fn boto3_view(endpoint: &str) -> Value {
    let script = r#"
import boto3, json, sys
db = boto3.client("dynamodb", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
t = db.describe_table(TableName=sys.argv[2])["Table"]
ttl = db.describe_time_to_live(TableName=sys.argv[2])["TimeToLiveDescription"]
items = db.scan(TableName=sys.argv[2])["Items"]
print(json.dumps({"keys": t["KeySchema"], "attrs": t["AttributeDefinitions"],
                  "indexes": t.get("GlobalSecondaryIndexes", []), "ttl": ttl, "items": items}, default=str))
"#;
    let out = Command::new(python()).args(["-c", script, endpoint, TABLE]).output().expect("python runs");
    assert!(out.status.success(), "boto3: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

async fn store(endpoint: &str) -> DynamoDbCacheStore {
    DynamoDbCacheStore::new(moto::client(endpoint).await, TABLE)
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn results_are_shared_through_the_guides_table_as_boto3_reads_it() {
    let moto = moto::start_moto();
    let table = store(&moto.endpoint).await;
    table.create_table().await.expect("table");
    let runs = Arc::new(AtomicUsize::new(0));
    let server = server(&runs);
    // Two layers on one table: two Lambda instances.
    let one = CacheLayer::new(&server).store(table.clone());
    let two = CacheLayer::new(&server).store(store(&moto.endpoint).await);
    assert_eq!(text(&one, &server, call(1, 7)).await, "49:run0");
    assert_eq!(text(&two, &server, call(2, 7)).await, "49:run0", "the other instance reads it");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!((one.stats().misses, two.stats().hits), (1, 1));

    let view = boto3_view(&moto.endpoint);
    let keys: Vec<(&str, &str)> = view["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| (k["AttributeName"].as_str().unwrap_or(""), k["KeyType"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(keys, [("tool_name", "HASH"), ("params_hash", "RANGE")]);
    let created_at = serde_json::json!({"AttributeName": "created_at", "AttributeType": "N"});
    assert!(view["attrs"].as_array().is_some_and(|a| a.contains(&created_at)), "{view}");
    assert_eq!(view["indexes"][0]["IndexName"], "CreatedAtIndex");
    assert_eq!(view["indexes"][0]["KeySchema"][0]["AttributeName"], "created_at");
    assert_eq!(view["ttl"]["AttributeName"], "expires_at");
    assert_eq!(view["ttl"]["TimeToLiveStatus"], "ENABLED");
    let items = view["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item["tool_name"]["S"], "square");
    let hash = item["params_hash"]["S"].as_str().expect("params_hash");
    assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()), "{hash}");
    let key = one.key_for("square", r#"{"n":7}"#, None, ProtocolVersion::V2026_07_28).expect("key");
    assert_eq!(hash, key.params_hash(), "the layer's key names the item");
    let number = |name: &str| item[name]["N"].as_str().and_then(|n| n.parse::<u64>().ok()).expect(name);
    let (created, expires) = (number("created_at"), number("expires_at"));
    assert!(created > 1_700_000_000, "epoch seconds: {created}");
    assert!((299..=301).contains(&(expires - created)), "the tool's 300 s: {created} → {expires}");
    let result: Value = serde_json::from_str(item["result"]["S"].as_str().expect("result")).expect("json");
    assert_eq!(result["content"][0]["text"], "49:run0");
    assert!(result.get("ttlMs").is_none(), "stored without the per-answer hints");
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn an_expired_item_is_never_served_and_invalidation_deletes_items() {
    let moto = moto::start_moto();
    let table = store(&moto.endpoint).await;
    table.create_table().await.expect("table");
    let runs = Arc::new(AtomicUsize::new(0));
    let server = server(&runs);
    let layer = CacheLayer::new(&server).store(table.clone());
    // An item DynamoDB has not swept yet: past its `expires_at`.
    let key = layer.key_for("square", r#"{"n":3}"#, None, ProtocolVersion::V2026_07_28).expect("key");
    let stale = RawValue::from_string(r#"{"resultType":"complete","content":[{"type":"text","text":"stale"}]}"#.into())
        .expect("json");
    table.put(&key, Arc::new(CachedResult::new(stale, 1_000, 2_000))).await.expect("put");
    assert!(table.get(&key).await.expect("get").is_some(), "still in the table");
    assert_eq!(text(&layer, &server, call(1, 3)).await, "9:run0", "expired: the tool ran");
    assert_eq!(text(&layer, &server, call(2, 3)).await, "9:run0", "and its fresh result is served");
    text(&layer, &server, call(3, 4)).await;
    assert_eq!(boto3_view(&moto.endpoint)["items"].as_array().map(Vec::len), Some(2));
    layer.invalidate_key(&key).await.expect("invalidated");
    assert_eq!(boto3_view(&moto.endpoint)["items"].as_array().map(Vec::len), Some(1));
    layer.invalidate_tool("square").await.expect("invalidated");
    assert_eq!(boto3_view(&moto.endpoint)["items"].as_array().map(Vec::len), Some(0));
    text(&layer, &server, call(4, 5)).await;
    layer.invalidate_all().await.expect("invalidated");
    assert_eq!(boto3_view(&moto.endpoint)["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn calls_are_answered_when_dynamodb_goes_away() {
    let moto = moto::start_moto();
    let endpoint = moto.endpoint.clone();
    let table = store(&endpoint).await;
    table.create_table().await.expect("table");
    let runs = Arc::new(AtomicUsize::new(0));
    let server = server(&runs);
    let layer = CacheLayer::new(&server).store(table).store_timeout(Duration::from_secs(3));
    assert_eq!(text(&layer, &server, call(1, 2)).await, "4:run0");
    assert_eq!(text(&layer, &server, call(2, 2)).await, "4:run0");
    drop(moto); // DynamoDB is gone.
    assert_eq!(text(&layer, &server, call(3, 2)).await, "4:run1", "the tool answers");
    assert_eq!(text(&layer, &server, call(4, 6)).await, "36:run2");
    let stats = layer.stats();
    assert!(stats.store_errors >= 4, "each failed get and put counted: {stats:?}");
    assert_eq!(stats.hits, 1);
}
