//! Secrets Manager on moto: the cached secret (TTL, environment override,
//! JSON field, the last value served while the secret is gone), and the
//! registration token read from a secret on both sides of the registry,
//! through a rotation, without restarting either side.
#![cfg(all(feature = "secrets-manager", feature = "registry-service"))]

mod moto;
mod moto_secrets;
mod registry_common;

use std::time::Duration;

use mcp_aws::registry::service::{RegistrationToken, router};
use mcp_aws::registry::{DynamoDbRegistry, HttpRegistry, Registration, RegistryError};
use mcp_aws::secrets::{CachedSecret, SecretError};

use moto::start_moto;
use moto_secrets::secrets_client;
use registry_common::serve;

async fn create(client: &aws_sdk_secretsmanager::Client, name: &str, value: &str) {
    client.create_secret().name(name).secret_string(value).send().await.expect("CreateSecret");
}

async fn rotate(client: &aws_sdk_secretsmanager::Client, name: &str, value: &str) {
    client.put_secret_value().secret_id(name).secret_string(value).send().await.expect("PutSecretValue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn a_cached_secret_follows_rotations_within_its_ttl() {
    let moto = start_moto();
    let sm = secrets_client(&moto.endpoint);
    create(&sm, "agentcore/api-key", "key-one").await;
    let secret = CachedSecret::new("agentcore/api-key").ttl(Duration::from_millis(600)).with_client(sm.clone());
    assert_eq!(secret.get().await.expect("read").expose(), "key-one");

    rotate(&sm, "agentcore/api-key", "key-two").await;
    // Within the TTL the cached value is used; after it, the rotated one.
    assert_eq!(secret.get().await.expect("cached").expose(), "key-one");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(secret.get().await.expect("re-read").expose(), "key-two");
    // The clones share the cache; `refresh` reads now.
    rotate(&sm, "agentcore/api-key", "key-three").await;
    assert_eq!(secret.clone().refresh().await.expect("refresh").expose(), "key-three");
    assert_eq!(secret.get().await.expect("cached").expose(), "key-three");

    // Gone from Secrets Manager: the last value is served, a forced read fails naming the secret.
    sm.delete_secret().secret_id("agentcore/api-key").force_delete_without_recovery(true).send().await.expect("delete");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(secret.get().await.expect("stale").expose(), "key-three");
    let err = secret.refresh().await.expect_err("no such secret");
    assert!(matches!(&err, SecretError::Read { secret_id, .. } if secret_id == "agentcore/api-key"), "{err:?}");
    assert!(!err.to_string().contains("key-three"), "{err}");

    // Never read: an error naming the secret.
    let missing = CachedSecret::new("nope").with_client(sm.clone()).get().await.expect_err("missing");
    assert!(missing.to_string().starts_with("secret nope: "), "{missing}");

    // JSON secrets give one field; a missing field is named.
    create(&sm, "registry/token", r#"{"token":"t-1","note":"x"}"#).await;
    let field = CachedSecret::new("registry/token").json_field("token").with_client(sm.clone());
    assert_eq!(field.get().await.expect("field").expose(), "t-1");
    let other = CachedSecret::new("registry/token").json_field("password").with_client(sm.clone());
    let err = other.get().await.expect_err("no such field");
    assert!(err.to_string().contains("no string `password`"), "{err}");
}

#[tokio::test]
async fn an_environment_override_wins_without_calling_secrets_manager() {
    // PATH is set in every test process; the secret does not exist and no
    // endpoint answers, so only the override can give a value.
    let path = std::env::var("PATH").expect("PATH");
    let unreachable = secrets_client("http://127.0.0.1:9");
    let secret = CachedSecret::new("never-read").env_override("PATH").with_client(unreachable.clone());
    assert_eq!(secret.get().await.expect("override").expose(), path);
    let unset = CachedSecret::new("never-read").env_override("MCP_TEST_UNSET_VARIABLE").with_client(unreachable);
    assert!(matches!(unset.get().await, Err(SecretError::Read { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn the_registration_token_rotates_on_both_sides_without_a_restart() {
    let moto = start_moto();
    let sm = secrets_client(&moto.endpoint);
    create(&sm, "registry/token", r#"{"token":"old-token"}"#).await;
    let registry = DynamoDbRegistry::new(moto::client(&moto.endpoint).await, "MCPServerRegistry-rotation");
    registry.create_table().await.expect("CreateTable");
    // The service keeps the token a minute, but re-reads within 100 ms of a token that does not match.
    let service_secret =
        CachedSecret::new("registry/token").json_field("token").ttl(Duration::from_secs(60)).with_client(sm.clone());
    let token = RegistrationToken::from_cached_secret(service_secret, Duration::from_millis(100)).await.expect("token");
    let base = format!("http://{}", serve(router(registry.clone(), token)).await);
    // The server side keeps it a minute too: only a 401 makes it re-read.
    let client_secret =
        CachedSecret::new("registry/token").json_field("token").ttl(Duration::from_secs(60)).with_client(sm.clone());
    let rotating = HttpRegistry::with_secret_token(&base, client_secret).expect("client");
    let reg = Registration::new("calc", "1.0.0", "Calculator", "http://127.0.0.1:9/mcp");
    rotating.register(&reg).await.expect("registered with the first token");

    rotate(&sm, "registry/token", r#"{"token":"new-token"}"#).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    // A server that already holds the new token is accepted at once: the mismatch makes the service re-read.
    let fresh = HttpRegistry::new(&base, "new-token").expect("client");
    fresh.register(&reg).await.expect("the rotated token is accepted");
    // The old token is refused from now on...
    let stale = HttpRegistry::new(&base, "old-token").expect("client");
    let refused = stale.register(&reg).await;
    assert!(matches!(refused, Err(RegistryError::Rejected { status: 401, .. })), "{refused:?}");
    // ...and the server reading the secret, still holding it, gets a 401, re-reads and succeeds.
    rotating.register(&reg).await.expect("the server picked up the rotation");
    assert_eq!(registry.list(None).await.expect("list").len(), 1, "one entry throughout");

    // A secret that cannot be read fails at start-up, naming the variable and the secret.
    let missing = CachedSecret::new("registry/missing").with_client(sm);
    let err = RegistrationToken::from_cached_secret(missing, Duration::from_secs(5)).await.expect_err("missing");
    assert!(
        err.to_string().contains("MCP_REGISTRATION_TOKEN_SECRET") && err.to_string().contains("registry/missing"),
        "{err}"
    );
}
