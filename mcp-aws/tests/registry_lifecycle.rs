//! The whole loop on loopback sockets: MCP servers that register
//! themselves over HTTP with the registry service (on moto), stay listed
//! while they run, are `decommissioned` after a graceful stop and marked
//! `unhealthy` by the health checker after dying; and a server started
//! while the registry is down serves meanwhile and registers once it is up.
#![cfg(feature = "registry-service")]

mod moto;
mod registry_common;

use std::net::SocketAddr;
use std::time::Duration;

use mcp_aws::health::Health;
use mcp_aws::registry::health_checker::HealthChecker;
use mcp_aws::registry::{Backoff, HttpRegistry, Registrar, Registration, RegistryConfig, Status, available_tools};
use mcp_core::server::Server;
use mcp_core::transport::http::{StreamableHttp, serve_listener_with};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use moto::{free_port, start_moto};
use registry_common::{TOKEN, eventually, raw, server, service};

/// An MCP server on loopback (MCP at `/mcp`, `/health` beside it), stopped
/// gracefully by sending on the returned channel.
async fn mcp_server(server: Server) -> (SocketAddr, oneshot::Sender<()>, JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        let _ = serve_listener_with(listener, StreamableHttp::new(server), Health::new(), shutdown).await;
    });
    (addr, stop, task)
}

/// A stateless (2026-07-28) `tools/call` of `add` over HTTP.
async fn call_add(addr: SocketAddr) -> Value {
    let meta = json!({ "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {} });
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": { "name": "add", "arguments": { "a": 2, "b": 3 }, "_meta": meta } });
    let headers = [
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
        ("MCP-Protocol-Version", "2026-07-28"),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "add"),
    ];
    let (status, reply) = raw(addr, "POST", "/mcp", &headers, body.to_string().as_bytes()).await;
    assert_eq!(status, 200, "{reply}");
    reply
}

fn fast(registrar: Registrar) -> Registrar {
    registrar
        .heartbeat(Duration::from_millis(300))
        .backoff(Backoff::new(Duration::from_millis(50), Duration::from_millis(400)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn a_server_started_while_the_registry_is_down_serves_and_registers_later() {
    let moto = start_moto();
    // The registry's address is known, but nothing listens there yet.
    let registry_port = free_port();
    let client = HttpRegistry::new(format!("http://127.0.0.1:{registry_port}"), TOKEN)
        .expect("client")
        .with_timeout(Duration::from_secs(1))
        .with_retries(1, Backoff::new(Duration::from_millis(10), Duration::from_millis(10)));
    let server = server();
    let (addr, _stop, _task) = mcp_server(server.clone()).await;
    let template = Registration::new("calc", "1.0.0", "Calculator", format!("http://{addr}/mcp"));
    let registrar = fast(Registrar::new(server.clone(), client, template)).spawn();

    // Registration keeps failing, and the server serves regardless.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(registrar.registrations(), 0);
    let reply = call_add(addr).await;
    assert_eq!(reply["result"]["content"][0]["text"], "5", "{reply}");

    // The registry comes up on that port; the next retry lands.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", registry_port)).await.expect("bind the registry port");
    let registry =
        mcp_aws::registry::DynamoDbRegistry::new(moto::client(&moto.endpoint).await, "MCPServerRegistry-fault");
    registry.create_table().await.expect("CreateTable");
    let app =
        mcp_aws::registry::service::router(registry.clone(), mcp_aws::registry::service::RegistrationToken::new(TOKEN));
    tokio::spawn(async move { axum::serve(listener, app).await });
    tokio::time::timeout(Duration::from_secs(5), registrar.registered())
        .await
        .expect("registered within the backoff window");

    let entries = registry.list(None).await.expect("list");
    assert_eq!(entries.len(), 1, "exactly one entry: {entries:?}");
    assert_eq!(entries[0].status, Status::Active);
    assert_eq!(entries[0].available_tools, available_tools(&server).await.expect("tools"));
    // Heartbeats rewrite the same entry.
    let first = entries[0].updated_at.clone();
    eventually(Duration::from_secs(5), "a heartbeat", || async { registrar.registrations() >= 2 }).await;
    let entries = registry.list(None).await.expect("list");
    assert_eq!(entries.len(), 1);
    assert!(entries[0].updated_at > first, "the heartbeat refreshed updated_at");
    registrar.shutdown().await.expect("decommissioned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn servers_are_listed_while_running_decommissioned_when_stopped_and_unhealthy_when_killed() {
    let moto = start_moto();
    let (registry, registry_addr) = service(&moto.endpoint, "MCPServerRegistry-e2e").await;

    // Two servers, configured as a deployment configures them: environment variables.
    let mut running = Vec::new();
    for id in ["graceful", "killed"] {
        let server = server();
        let (addr, stop, task) = mcp_server(server.clone()).await;
        let vars = [
            ("MCP_REGISTRY_URL", format!("http://{registry_addr}")),
            ("MCP_REGISTRATION_TOKEN", TOKEN.to_owned()),
            ("MCP_ENDPOINT_URL", format!("http://{addr}/mcp")),
            ("MCP_SERVER_ID", id.to_owned()),
            ("MCP_REGISTRY_METADATA", r#"{"team":"search"}"#.to_owned()),
            ("MCP_REGISTRY_HEARTBEAT_SECS", "0.3".to_owned()),
            ("MCP_REGISTRY_BACKOFF_MS", "50".to_owned()),
        ];
        let config = RegistryConfig::from_vars(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()))
            .expect("valid settings")
            .expect("registration configured");
        let handle = config.start(&server).await.expect("registrar");
        tokio::time::timeout(Duration::from_secs(5), handle.registered()).await.expect("registered");
        running.push((server, stop, task, handle));
    }
    let active = registry.list(Some(Status::Active)).await.expect("list");
    let ids: Vec<&str> = active.iter().map(|e| e.server_id.as_str()).collect();
    assert_eq!(ids, ["graceful", "killed"]);
    assert_eq!(active[0].metadata["team"], "search");
    assert_eq!(active[0].version, "1.0.0", "the server's own version");
    assert_eq!(active[0].available_tools, available_tools(&running[0].0).await.expect("tools"));

    // A tool added at run time reaches the registry without waiting for a heartbeat.
    let route = mcp_core::server::ToolRoute::new(
        "late",
        |_ctx: mcp_core::server::Context, _: mcp_core::server::NoArgs| async { "late" },
    );
    running[0].0.add_tool(route).expect("valid tool");
    eventually(Duration::from_secs(5), "the new tool in the registry", || async {
        let entry = registry.get("graceful", "1.0.0").await.ok().flatten();
        entry.is_some_and(|e| e.available_tools.iter().any(|t| t.name == "late"))
    })
    .await;

    // The health checker sees both alive.
    let checker = HealthChecker::new(registry.clone()).expect("checker").timeout(Duration::from_secs(5));
    let report = checker.check_once().await.expect("round");
    assert_eq!((report.checked, report.marked_unhealthy.len()), (2, 0), "{report:?}");

    let (_, killed_stop, killed_task, killed_handle) = running.pop().expect("killed");
    let (_, stop, task, handle) = running.pop().expect("graceful");
    // Graceful: the server stops, then the registrar retires the entry.
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), task).await.expect("stopped").expect("no panic");
    handle.shutdown().await.expect("decommissioned");
    // Killed: no shutdown path runs at all.
    killed_task.abort();
    drop(killed_handle);
    drop(killed_stop);
    let _ = killed_task.await;

    let report = checker.check_once().await.expect("round");
    assert_eq!(report.marked_unhealthy, [("killed".to_owned(), "1.0.0".to_owned())], "{report:?}");
    let status = |id: &'static str| {
        let registry = registry.clone();
        async move { registry.get(id, "1.0.0").await.expect("get").expect("entry").status }
    };
    assert_eq!(status("graceful").await, Status::Decommissioned);
    assert_eq!(status("killed").await, Status::Unhealthy);
    // The decommissioned entry is not checked again, and stays retired.
    let report = checker.check_once().await.expect("round");
    assert_eq!(report.checked, 1);
    assert_eq!(status("graceful").await, Status::Decommissioned);
    let (code, listed) =
        raw(registry_addr, "GET", "/mcp/servers?status=active", &[("X-Registration-Token", TOKEN)], b"").await;
    assert_eq!((code, listed["servers"].as_array().map(Vec::len)), (200, Some(0)));
}
