//! The registry service on a loopback socket over moto: registration,
//! listing, get and decommission through the HTTP client; invalid bodies
//! answered 400 naming the field; missing and wrong tokens answered alike.
#![cfg(feature = "registry-service")]

mod moto;
mod registry_common;

use std::time::Duration;

use mcp_aws::registry::health_checker::HealthChecker;
use mcp_aws::registry::{
    DynamoDbRegistry, HttpRegistry, ProtocolType, Registration, RegistryError, Status, available_tools,
};
use serde_json::{Value, json};

use moto::start_moto;
use registry_common::{TOKEN, raw, server, service};

fn body(overrides: Value) -> Vec<u8> {
    let mut base = json!({
        "server_id": "calc", "version": "1.0.0", "server_name": "Calculator",
        "endpoint_url": "http://127.0.0.1:9/mcp",
        "available_tools": [{ "name": "add", "inputSchema": { "type": "object" } }],
    });
    if let (Value::Object(base), Value::Object(over)) = (&mut base, overrides) {
        for (k, v) in over {
            if v.is_null() {
                base.remove(&k);
            } else {
                base.insert(k, v);
            }
        }
    }
    serde_json::to_vec(&base).expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn servers_register_list_get_and_decommission_over_http() {
    let moto = start_moto();
    let (registry, addr) = service(&moto.endpoint, "MCPServerRegistry-svc").await;
    let client = HttpRegistry::new(format!("http://{addr}"), TOKEN).expect("client");

    let server = server();
    let reg = Registration::new("calc", "1.0.0", "Calculator", "http://127.0.0.1:9/mcp")
        .with_metadata("team", "maths")
        .with_tools(available_tools(&server).await.expect("tools"));
    let first = client.register(&reg).await.expect("registered");
    assert_eq!((first.server_id.as_str(), first.status), ("calc", Status::Active));
    client.register(&reg).await.expect("registered again");
    client.register(&Registration::new("other", "2", "Other", "https://other.example/mcp")).await.expect("other");

    let active = client.list(Some(Status::Active)).await.expect("list");
    assert_eq!(active.len(), 2, "re-registering does not duplicate: {active:?}");
    let got = client.get("calc", "1.0.0").await.expect("get").expect("the entry");
    assert_eq!(got.available_tools, reg.available_tools);
    assert_eq!(got.metadata["team"], "maths");
    assert!(got.created_at.is_some());
    assert_eq!(client.get("calc", "9.9.9").await.expect("get"), None);

    let retired = client.decommission("calc", "1.0.0").await.expect("decommission");
    assert_eq!(retired.status, Status::Decommissioned);
    assert_eq!(registry.get("calc", "1.0.0").await.expect("get").expect("kept").status, Status::Decommissioned);
    let ids: Vec<String> =
        client.list(Some(Status::Active)).await.expect("list").into_iter().map(|e| e.server_id).collect();
    assert_eq!(ids, ["other"]);
    assert_eq!(client.list(None).await.expect("list").len(), 2);
    let missing = client.decommission("nope", "1").await;
    assert!(matches!(missing, Err(RegistryError::NotFound { .. })), "{missing:?}");

    // The health endpoint needs no token and checks the table.
    let (status, health) = raw(addr, "GET", "/health", &[], b"").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("healthy")), "{health}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn invalid_bodies_get_400_naming_the_field() {
    let moto = start_moto();
    let (registry, addr) = service(&moto.endpoint, "MCPServerRegistry-bad").await;
    let auth = [("X-Registration-Token", TOKEN), ("Content-Type", "application/json")];
    let many_tools: Vec<Value> = (0..501).map(|i| json!({ "name": format!("t{i}"), "inputSchema": {} })).collect();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("server_id a number", body(json!({ "server_id": 7 })), "server_id"),
        ("missing endpoint_url", body(json!({ "endpoint_url": null })), "endpoint_url"),
        ("version a number", body(json!({ "version": 1 })), "version"),
        ("empty server_name", body(json!({ "server_name": " " })), "server_name"),
        ("endpoint not a URL", body(json!({ "endpoint_url": "not a url" })), "endpoint_url"),
        ("endpoint ftp", body(json!({ "endpoint_url": "ftp://x.example/mcp" })), "endpoint_url"),
        ("health check javascript", body(json!({ "health_check_url": "javascript:alert(1)" })), "health_check_url"),
        ("too many tools", body(json!({ "available_tools": many_tools })), "available_tools"),
        ("tools not a list", body(json!({ "available_tools": "add" })), "available_tools"),
        ("tool name a number", body(json!({ "available_tools": [{ "name": 7 }] })), "available_tools[0].name"),
        (
            "schema not an object",
            body(json!({ "available_tools": [{ "name": "a", "inputSchema": [] }] })),
            "available_tools[0].inputSchema",
        ),
        ("unknown status", body(json!({ "status": "sleeping" })), "status"),
        ("unknown auth type", body(json!({ "authentication_type": "password" })), "authentication_type"),
        ("metadata not a map", body(json!({ "metadata": [1] })), "metadata"),
        ("not JSON", b"{\"server_id\":".to_vec(), "body"),
        ("an array", b"[]".to_vec(), "body"),
    ];
    for (name, payload, field) in cases {
        let (status, answer) = raw(addr, "POST", "/mcp/register", &auth, &payload).await;
        assert_eq!(status, 400, "{name}: {answer}");
        let message = answer["error"].as_str().unwrap_or_default();
        assert!(message.contains(&format!("{field}:")), "{name}: the message names `{field}`: {message}");
    }
    // Larger than a DynamoDB item could hold.
    let huge = body(json!({ "description": "x".repeat(300 * 1024) }));
    let (status, _) = raw(addr, "POST", "/mcp/register", &auth, &huge).await;
    assert_eq!(status, 413);
    let (status, answer) = raw(addr, "GET", "/mcp/servers?status=sleeping", &auth, b"").await;
    assert_eq!(status, 400);
    assert!(answer["error"].as_str().is_some_and(|m| m.starts_with("status:")), "{answer}");
    assert!(registry.list(None).await.expect("list").is_empty(), "nothing invalid was stored");
    let (status, _) = raw(addr, "POST", "/mcp/register", &auth, &body(json!({}))).await;
    assert_eq!(status, 201, "the base body is valid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn missing_and_wrong_tokens_are_refused_alike() {
    let moto = start_moto();
    let (registry, addr) = service(&moto.endpoint, "MCPServerRegistry-auth").await;
    let payload = body(json!({}));
    let missing = raw(addr, "POST", "/mcp/register", &[], &payload).await;
    let wrong = raw(addr, "POST", "/mcp/register", &[("X-Registration-Token", "guess")], &payload).await;
    let near =
        raw(addr, "POST", "/mcp/register", &[("X-Registration-Token", &TOKEN[..TOKEN.len() - 1])], &payload).await;
    let empty = raw(addr, "POST", "/mcp/register", &[("X-Registration-Token", "")], &payload).await;
    assert_eq!(missing.0, 401);
    assert_eq!(missing, wrong, "the answers do not say which");
    assert_eq!(missing, near);
    assert_eq!(missing, empty);
    for (method, path) in
        [("GET", "/mcp/servers"), ("GET", "/mcp/servers/calc/1.0.0"), ("POST", "/mcp/servers/calc/1.0.0/decommission")]
    {
        let (status, _) = raw(addr, method, path, &[("X-Registration-Token", "guess")], b"").await;
        assert_eq!(status, 401, "{method} {path}");
    }
    assert!(registry.list(None).await.expect("list").is_empty());

    let client =
        HttpRegistry::new(format!("http://{addr}"), "guess").expect("client").with_timeout(Duration::from_secs(5));
    let refused = client.register(&Registration::new("calc", "1", "C", "http://127.0.0.1:9/mcp")).await;
    match refused {
        Err(RegistryError::Rejected { status: 401, message }) => assert!(message.contains("token"), "{message}"),
        other => panic!("expected a 401 rejection, got {other:?}"),
    }
}

/// The integration guide's self-registration body, exactly as its Python
/// example posts it (no `server_id`, no `version`).
const GUIDE_BODY: &str = r#"{
    "server_name": "My Custom MCP Server",
    "description": "Provides specialized tools for X",
    "endpoint_url": "https://my-server.example.com/mcp",
    "protocol_type": "jsonrpc",
    "authentication_type": "none",
    "available_tools": [
        {
            "name": "custom_tool",
            "description": "Does something custom",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "input": {"type": "string"}
                },
                "required": ["input"]
            }
        }
    ],
    "health_check_url": "https://my-server.example.com/health",
    "metadata": {
        "team": "platform-team",
        "cost_center": "12345"
    }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn the_guides_self_registration_gets_201_and_updates_the_same_entry() {
    let moto = start_moto();
    let (registry, addr) = service(&moto.endpoint, "MCPServerRegistry-guide").await;
    let headers = [("Content-Type", "application/json"), ("X-Registration-Token", TOKEN)];

    let (status, answer) = raw(addr, "POST", "/mcp/register", &headers, GUIDE_BODY.as_bytes()).await;
    assert_eq!(status, 201, "{answer}");
    let id = answer["server_id"].as_str().expect("a server_id").to_owned();
    assert_eq!(id, Registration::derived_server_id("My Custom MCP Server", "https://my-server.example.com/mcp"));
    assert_eq!(answer["status"], "active");
    assert_eq!(answer["version"], "1.0.0");

    let (status, again) = raw(addr, "POST", "/mcp/register", &headers, GUIDE_BODY.as_bytes()).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["server_id"], id.as_str(), "the same server gets the same id");
    let all = registry.list(None).await.expect("list");
    assert_eq!(all.len(), 1, "re-registering updates the entry: {all:?}");
    assert_eq!(all[0].metadata["cost_center"], "12345");
    assert_eq!(all[0].available_tools[0].name, "custom_tool");
    assert_eq!(all[0].created_at, again["created_at"].as_str().map(str::to_owned));

    // The guide's other enumerations; no health check URL gets the derived one.
    let mut graphql: Value = serde_json::from_str(GUIDE_BODY).expect("json");
    graphql["server_name"] = json!("GraphQL MCP Server");
    graphql["endpoint_url"] = json!("https://abc.appsync-api.us-east-1.amazonaws.com/graphql");
    graphql["protocol_type"] = json!("graphql");
    graphql["authentication_type"] = json!("api_key");
    graphql.as_object_mut().expect("object").remove("health_check_url");
    let payload = serde_json::to_vec(&graphql).expect("json");
    let (status, answer) = raw(addr, "POST", "/mcp/register", &headers, &payload).await;
    assert_eq!(status, 201, "{answer}");
    let id = answer["server_id"].as_str().expect("id");
    assert!(id.starts_with("graphql-mcp-server-"), "{id}");
    let stored = registry.get(id, "1.0.0").await.expect("get").expect("stored");
    assert_eq!(stored.protocol_type, ProtocolType::Graphql);
    assert_eq!(stored.health_check_url.as_deref(), Some("https://abc.appsync-api.us-east-1.amazonaws.com/health"));
    for auth in ["none", "api_key", "oauth", "iam"] {
        let (status, answer) =
            raw(addr, "POST", "/mcp/register", &headers, &body(json!({ "authentication_type": auth }))).await;
        assert_eq!(status, 201, "{auth}: {answer}");
    }
}

/// A table holding two good entries and one item written by another tool
/// with a protocol this crate does not know.
async fn table_with_an_unreadable_item(registry: &DynamoDbRegistry, endpoint: &str) {
    use aws_sdk_dynamodb::types::AttributeValue;
    registry.upsert(&Registration::new("good-a", "1", "A", "http://127.0.0.1:9/mcp")).await.expect("a");
    registry.upsert(&Registration::new("good-b", "1", "B", "http://127.0.0.1:9/mcp")).await.expect("b");
    let s = |v: &str| AttributeValue::S(v.to_owned());
    moto::client(endpoint)
        .await
        .put_item()
        .table_name(registry.table())
        .item("server_id", s("hand-written"))
        .item("version", s("0.1"))
        .item("server_name", s("By hand"))
        .item("endpoint_url", s("https://hand.example.com/mcp"))
        .item("protocol_type", s("soap"))
        .item("status", s("active"))
        .send()
        .await
        .expect("PutItem");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn an_unreadable_item_is_skipped_and_reported_by_the_list_route_and_the_health_checker() {
    let moto = start_moto();
    let (registry, addr) = service(&moto.endpoint, "MCPServerRegistry-mixed").await;
    table_with_an_unreadable_item(&registry, &moto.endpoint).await;
    let auth = [("X-Registration-Token", TOKEN)];

    for path in ["/mcp/servers", "/mcp/servers?status=active"] {
        let (status, answer) = raw(addr, "GET", path, &auth, b"").await;
        assert_eq!(status, 200, "{path}: {answer}");
        let ids: Vec<&str> =
            answer["servers"].as_array().expect("servers").iter().filter_map(|s| s["server_id"].as_str()).collect();
        assert_eq!(ids, ["good-a", "good-b"], "{path}");
        assert_eq!(answer["skipped"], 1, "{path}: {answer}");
        let skipped = &answer["skipped_items"][0];
        assert_eq!((skipped["server_id"].as_str(), skipped["version"].as_str()), (Some("hand-written"), Some("0.1")));
        assert_eq!(skipped["field"], "protocol_type", "{skipped}");
    }
    let client = HttpRegistry::new(format!("http://{addr}"), TOKEN).expect("client");
    assert_eq!(client.list(None).await.expect("the client lists").len(), 2);
    let remote = client.list_report(Some(Status::Active)).await.expect("the client's report");
    assert_eq!((remote.servers.len(), remote.skipped.len()), (2, 1));
    assert_eq!(remote.skipped[0].field, "protocol_type");

    let listing = registry.list_report(None).await.expect("list_report");
    assert_eq!((listing.servers.len(), listing.skipped.len()), (2, 1));

    let checker = HealthChecker::new(registry.clone()).expect("checker").timeout(Duration::from_secs(2));
    let report = checker.check_once().await.expect("a round despite the bad item");
    assert_eq!((report.checked, report.skipped), (2, 1), "{report:?}");
    assert_eq!(report.marked_unhealthy.len(), 2, "nothing listens on port 9: {report:?}");
}
