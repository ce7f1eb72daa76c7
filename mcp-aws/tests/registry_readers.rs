//! The registry's read routes opened to agents: callers the auth layer
//! accepts with `read:registry` list and get active servers without the
//! registration token; everything else keeps needing the token.
#![cfg(all(feature = "registry-service", feature = "auth"))]

mod moto;
mod registry_common;

use mcp_aws::auth::{ApiKeyRecord, ApiKeys, AuthLayer, InMemoryApiKeyStore};
use mcp_aws::registry::service::{RegistrationToken, RegistryReaders, router_with_readers};
use mcp_aws::registry::{DynamoDbRegistry, Registration, Status};
use serde_json::Value;

use moto::start_moto;
use registry_common::{TOKEN, raw, serve};

fn ids(answer: &Value) -> Vec<&str> {
    answer["servers"].as_array().map(|s| s.iter().filter_map(|e| e["server_id"].as_str()).collect()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn readers_see_active_servers_and_writes_still_need_the_token() {
    let moto = start_moto();
    let registry = DynamoDbRegistry::new(moto::client(&moto.endpoint).await, "MCPServerRegistry-readers");
    registry.create_table().await.expect("CreateTable");
    for (id, status) in [("live", Status::Active), ("sick", Status::Unhealthy), ("gone", Status::Decommissioned)] {
        let reg = Registration::new(id, "1", id, "https://s.example.com/mcp").with_status(status);
        registry.upsert(&reg).await.expect("upsert");
    }
    let keys = InMemoryApiKeyStore::new();
    keys.insert(ApiKeyRecord::new("agent-key", "agent", ["read:registry"]));
    keys.insert(ApiKeyRecord::new("tool-key", "tools-only", ["execute:*"]));
    let readers = RegistryReaders::new(AuthLayer::new().api_keys(ApiKeys::new(keys)));
    let addr = serve(router_with_readers(registry.clone(), RegistrationToken::new(TOKEN), readers)).await;
    let agent = [("x-api-key", "agent-key")];

    // A reader lists and gets the active servers only.
    let (status, answer) = raw(addr, "GET", "/mcp/servers", &agent, b"").await;
    assert_eq!((status, ids(&answer)), (200, vec!["live"]), "{answer}");
    let (status, answer) = raw(addr, "GET", "/mcp/servers?status=active", &agent, b"").await;
    assert_eq!((status, ids(&answer)), (200, vec!["live"]), "{answer}");
    let (status, answer) = raw(addr, "GET", "/mcp/servers?status=unhealthy", &agent, b"").await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer["error"].as_str().is_some_and(|e| e.contains("active servers only")), "{answer}");
    let (status, answer) = raw(addr, "GET", "/mcp/servers/live/1", &agent, b"").await;
    assert_eq!((status, answer["server_id"].as_str()), (200, Some("live")), "{answer}");
    for hidden in ["/mcp/servers/sick/1", "/mcp/servers/gone/1", "/mcp/servers/none/1"] {
        assert_eq!(raw(addr, "GET", hidden, &agent, b"").await.0, 404, "{hidden}");
    }

    // Without credentials, with a bad key, or without the permission: refused by the auth layer.
    let (status, answer) = raw(addr, "GET", "/mcp/servers", &[], b"").await;
    assert_eq!(status, 401, "{answer}");
    assert!(answer["error"].as_str().is_some_and(|e| e.contains("no credentials")), "{answer}");
    assert_eq!(raw(addr, "GET", "/mcp/servers", &[("x-api-key", "nope")], b"").await.0, 401);
    let (status, answer) = raw(addr, "GET", "/mcp/servers", &[("x-api-key", "tool-key")], b"").await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer["error"].as_str().is_some_and(|e| e.contains("read:registry")), "{answer}");

    // Writes need the token, whatever the reader holds.
    let body = br#"{"server_name":"X","endpoint_url":"https://x.example.com/mcp"}"#;
    assert_eq!(raw(addr, "POST", "/mcp/register", &agent, body).await.0, 401);
    assert_eq!(raw(addr, "POST", "/mcp/servers/live/1/decommission", &agent, b"").await.0, 401);
    assert_eq!(registry.get("live", "1").await.expect("get").expect("entry").status, Status::Active);

    // The token's holder still sees everything; a wrong token is judged alone, key or not.
    let (status, answer) = raw(addr, "GET", "/mcp/servers", &[("X-Registration-Token", TOKEN)], b"").await;
    assert_eq!((status, ids(&answer).len()), (200, 3), "{answer}");
    let wrong = [("X-Registration-Token", "wrong"), ("x-api-key", "agent-key")];
    assert_eq!(raw(addr, "GET", "/mcp/servers", &wrong, b"").await.0, 401);
    assert_eq!(raw(addr, "GET", "/mcp/servers/sick/1", &[("X-Registration-Token", TOKEN)], b"").await.0, 200);
}
