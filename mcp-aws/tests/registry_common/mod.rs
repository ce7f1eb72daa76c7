//! Shared pieces of the registry tests: a server with tools, a registry
//! service on moto, and a raw HTTP/1.1 client for hand-made requests.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use mcp_core::server::{Context, NoArgs, Server, ServerBuilder, ToolRoute};
use serde::Deserialize;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

pub const TOKEN: &str = "registration-token-for-tests";

#[derive(Deserialize, schemars::JsonSchema)]
pub struct AddArgs {
    /// The first addend.
    a: f64,
    /// The second addend.
    b: f64,
}

/// A server with `add` and `ping`.
pub fn server() -> Server {
    ServerBuilder::new("registry-test", "1.0.0")
        .tool(
            ToolRoute::new("add", |_ctx: Context, args: AddArgs| async move { (args.a + args.b).to_string() })
                .with_description("Adds two numbers"),
        )
        .tool(ToolRoute::new("ping", |_ctx: Context, _: NoArgs| async { "pong" }))
        .build()
        .expect("valid server")
}

/// Serves `app` on a free loopback port until the test ends.
#[cfg(feature = "registry-service")]
pub async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A registry table on moto and the service over it, on loopback.
#[cfg(feature = "registry-service")]
pub async fn service(endpoint: &str, table: &str) -> (mcp_aws::registry::DynamoDbRegistry, SocketAddr) {
    use mcp_aws::registry::DynamoDbRegistry;
    use mcp_aws::registry::service::{RegistrationToken, router};
    let registry = DynamoDbRegistry::new(crate::moto::client(endpoint).await, table);
    registry.create_table().await.expect("CreateTable");
    let addr = serve(router(registry.clone(), RegistrationToken::new(TOKEN))).await;
    (registry, addr)
}

/// One HTTP/1.1 exchange over a fresh connection: the status and the body
/// as JSON (`Value::Null` when it is not JSON), within 10 s.
pub async fn raw(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Value) {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.expect("write head");
        // The server may answer (413) before reading all of a large body.
        let _ = stream.write_all(body).await;
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out).await;
        out
    };
    let out = tokio::time::timeout(Duration::from_secs(10), exchange).await.expect("an answer within 10 s");
    let text = String::from_utf8_lossy(&out);
    let status =
        text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status line: {text}"));
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Polls `check` every 50 ms until it holds or `within` passes.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out after {within:?} waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
