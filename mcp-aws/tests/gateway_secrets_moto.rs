//! The gateway's upstream credentials from Secrets Manager (moto): a bearer
//! token from a JSON secret's field and an API key from a plain secret,
//! presented to the upstreams on every request, a rotation reaching the
//! upstream within the TTL without reconnecting, the caller's own
//! credentials never forwarded, and a secret that cannot be read failing
//! start-up naming it (never a value).
#![cfg(all(feature = "gateway", feature = "secrets-manager", feature = "dynamodb"))]

mod moto;
mod moto_secrets;

use std::sync::Arc;
use std::time::Duration;

use mcp_aws::secrets::SecretsManagerSource;
use mcp_core::client::{Client, ClientBuilder, HttpTransport};
use mcp_core::gateway::{Gateway, GatewayConfig, GatewayError};
use mcp_core::server::{Context, NoArgs, Server, ServerBuilder, ToolRoute};
use mcp_core::transport::http::{StreamableHttp, serve_listener};
use moto::start_moto;
use moto_secrets::secrets_client;
use serde_json::json;

/// An upstream whose `seen` tool answers with the credentials its HTTP
/// request carried.
fn recorder() -> Server {
    ServerBuilder::new("recorder", "1")
        .tool(ToolRoute::new("seen", |ctx: Context, _: NoArgs| async move {
            let headers = ctx.extensions().get::<http::HeaderMap>().cloned().unwrap_or_default();
            let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            format!("authorization={};x-api-key={}", get("authorization"), get("x-api-key"))
        }))
        .build()
        .expect("valid server")
}

async fn serve(server: Server) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    tokio::spawn(serve_listener(listener, StreamableHttp::new(server), std::future::pending()));
    url
}

async fn seen(client: &Client, tool: &str) -> String {
    let result = client.call_tool(tool, json!({})).await.expect("call");
    result.content.first().and_then(|c| c.as_text()).unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn upstream_credentials_come_from_secrets_manager_and_follow_rotations() {
    let moto = start_moto();
    let sm = secrets_client(&moto.endpoint);
    sm.create_secret()
        .name("gw/bearer")
        .secret_string(r#"{"token":"tok-one","note":"x"}"#)
        .send()
        .await
        .expect("create");
    sm.create_secret().name("gw/key").secret_string("key-one").send().await.expect("create");
    let (bearer_up, key_up) = (serve(recorder()).await, serve(recorder()).await);
    let config = GatewayConfig::from_json(
        &json!({"upstreams": [
            {"name": "b", "url": bearer_up, "prefix": "b", "auth": {"bearer_secret": "gw/bearer", "secret_field": "token"}},
            {"name": "k", "url": key_up, "prefix": "k", "auth": {"api_key_secret": "gw/key", "header": "x-api-key"}},
        ]})
        .to_string(),
    )
    .expect("config");
    let secrets = Arc::new(SecretsManagerSource::new().with_client(sm.clone()).ttl(Duration::from_millis(500)));
    let gateway = Gateway::connect_with_secrets(ServerBuilder::new("gw", "1"), config.upstreams.clone(), secrets)
        .await
        .expect("gateway");

    // The gateway served over HTTP, called with a credential of the caller's own.
    let url = serve(gateway.server()).await;
    let transport = HttpTransport::builder(&url)
        .auth(mcp_core::client::BearerToken::new("callers-own-token").expect("token"))
        .build()
        .expect("transport");
    let client = ClientBuilder::new("caller", "1").connect(transport).await.expect("connect");
    assert_eq!(seen(&client, "b___seen").await, "authorization=Bearer tok-one;x-api-key=");
    assert_eq!(seen(&client, "k___seen").await, "authorization=;x-api-key=key-one");

    sm.put_secret_value().secret_id("gw/bearer").secret_string(r#"{"token":"tok-two"}"#).send().await.expect("rotate");
    sm.put_secret_value().secret_id("gw/key").secret_string("key-two").send().await.expect("rotate");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let rotated = seen(&client, "b___seen").await;
    assert_eq!(rotated, "authorization=Bearer tok-two;x-api-key=", "the rotation, without reconnecting");
    assert_eq!(seen(&client, "k___seen").await, "authorization=;x-api-key=key-two");
    assert!(!rotated.contains("callers-own-token"), "the caller's token is never forwarded");

    // A secret that cannot be read stops start-up naming it, not a value.
    let missing = GatewayConfig::from_json(
        &json!({"upstreams": [{"name": "m", "url": bearer_up, "auth": {"bearer_secret": "gw/missing"}}]}).to_string(),
    )
    .expect("config");
    let secrets = Arc::new(SecretsManagerSource::new().with_client(sm.clone()));
    let err = Gateway::connect_with_secrets(ServerBuilder::new("gw", "1"), missing.upstreams.clone(), secrets)
        .await
        .expect_err("no such secret");
    assert!(matches!(&err, GatewayError::Connect { upstream, .. } if upstream == "m"), "{err}");
    assert!(err.to_string().contains("gw/missing"), "{err}");
    // Without a source, a secret credential is refused naming the way to give one.
    let err = Gateway::connect("gw", "1", missing.upstreams).await.expect_err("no source");
    assert!(err.to_string().contains("connect_with_secrets"), "{err}");
}
