//! Auth against real issuers and stores, in moto's server mode: Cognito
//! access tokens minted by moto's `cognito-idp` (a user pool, an app
//! client, `USER_PASSWORD_AUTH`) are accepted through the pool's JWKS, and
//! API keys are read from moto's DynamoDB.

mod auth_common;
mod moto;

use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use mcp_aws::auth::{ApiKeyRecord, ApiKeys, AuthLayer, DynamoDbApiKeyStore, JwtConfig, JwtVerifier};
use mcp_core::transport::http::StreamableHttp;
use serde_json::{Value, json};

use auth_common::{exchange, post, server};

/// One call of moto's `cognito-idp` JSON API (moto routes by the
/// credential scope; it checks no signature).
async fn cognito(endpoint: &str, action: &str, body: Value) -> Value {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let req = http::Request::post(format!("{endpoint}/"))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("AWSCognitoIdentityProviderService.{action}"))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, \
             Signature=0",
        )
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request");
    let resp = client.request(req).await.expect("moto answers");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    assert!(status.is_success(), "{action}: {status} {}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).expect("json")
}

/// A user pool with an app client and a user; returns the pool id, the
/// client id and the user's access and ID tokens.
async fn cognito_tokens(endpoint: &str) -> (String, String, String, String) {
    let pool = cognito(endpoint, "CreateUserPool", json!({ "PoolName": "mcp-users" })).await;
    let pool = pool["UserPool"]["Id"].as_str().expect("pool id").to_owned();
    let client = cognito(
        endpoint,
        "CreateUserPoolClient",
        json!({ "UserPoolId": pool, "ClientName": "mcp-client",
                "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"] }),
    )
    .await;
    let client = client["UserPoolClient"]["ClientId"].as_str().expect("client id").to_owned();
    cognito(endpoint, "AdminCreateUser", json!({ "UserPoolId": pool, "Username": "alice" })).await;
    let password = json!({ "UserPoolId": pool, "Username": "alice", "Password": "Passw0rd!x", "Permanent": true });
    cognito(endpoint, "AdminSetUserPassword", password).await;
    let auth = cognito(
        endpoint,
        "InitiateAuth",
        json!({ "ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": { "USERNAME": "alice", "PASSWORD": "Passw0rd!x" } }),
    )
    .await;
    let result = &auth["AuthenticationResult"];
    let token = |name: &str| result[name].as_str().unwrap_or_else(|| panic!("no {name}: {auth}")).to_owned();
    (pool, client, token("AccessToken"), token("IdToken"))
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn cognito_access_tokens_from_moto_are_accepted_and_id_tokens_refused() {
    let moto = moto::start_moto();
    let (pool, client, access, id) = cognito_tokens(&moto.endpoint).await;
    // The real AWS issuer form; the keys from moto's JWKS URL for the pool.
    let issuer = format!("https://cognito-idp.us-east-1.amazonaws.com/{pool}");
    let jwks = format!("{}/{pool}/.well-known/jwks.json", moto.endpoint);
    let verifier = JwtVerifier::new(JwtConfig::jwks(jwks, issuer).allowed_clients([client.clone()])).expect("config");
    let http = StreamableHttp::new(server().layer(AuthLayer::new().jwt(verifier)));

    let (status, _, body) = exchange(&http, post(1, "whoami", &[("authorization", &format!("Bearer {access}"))])).await;
    assert_eq!(status, 200, "{body}");
    let sub = body["result"]["content"][0]["text"].as_str().expect("subject");
    assert_eq!(sub.len(), 36, "the Cognito user's sub: {sub}");

    let (status, www, body) = exchange(&http, post(2, "whoami", &[("authorization", &format!("Bearer {id}"))])).await;
    assert_eq!(status, 401, "{body}");
    let www = www.expect("challenge");
    assert!(www.starts_with("Bearer error=\"invalid_token\""), "{www}");
    assert_eq!(body["error"]["code"], -31401);

    // Another app client of the same pool is not allowed.
    let other = JwtVerifier::new(
        JwtConfig::jwks(
            format!("{}/{pool}/.well-known/jwks.json", moto.endpoint),
            format!("https://cognito-idp.us-east-1.amazonaws.com/{pool}"),
        )
        .allowed_clients(["some-other-client"]),
    )
    .expect("config");
    let strict = StreamableHttp::new(server().layer(AuthLayer::new().jwt(other)));
    let (status, www, _) =
        exchange(&strict, post(3, "whoami", &[("authorization", &format!("Bearer {access}"))])).await;
    assert_eq!(status, 401);
    assert!(www.expect("challenge").contains("client not allowed"));
}

#[tokio::test]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn api_keys_from_moto_dynamodb() {
    let moto = moto::start_moto();
    let ddb = moto::client(&moto.endpoint).await;
    ddb.create_table()
        .table_name("mcp-api-keys-test")
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("api_key_hash")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .key_schema(
            KeySchemaElement::builder().attribute_name("api_key_hash").key_type(KeyType::Hash).build().expect("key"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("CreateTable");
    let store = DynamoDbApiKeyStore::new(ddb, "mcp-api-keys-test");
    store.put(&ApiKeyRecord::new("live-key-123456", "alice", ["execute:*"]).with_rate_limit(60)).await.expect("put");
    store.put(&ApiKeyRecord::new("off-key-1234567", "bob", ["*:*"]).with_enabled(false)).await.expect("put");
    let layer = AuthLayer::new()
        .api_keys(ApiKeys::new(store.clone()))
        .requirements(mcp_aws::auth::Requirements::new().tool("drop_tables", ["admin:db"]));
    let http = StreamableHttp::new(server().layer(layer));

    let (status, _, body) = exchange(&http, post(1, "whoami", &[("x-api-key", "live-key-123456")])).await;
    assert_eq!((status, &body["result"]["content"][0]["text"]), (200, &json!("alice")), "{body}");
    for (key, word) in [("off-key-1234567", "disabled"), ("never-stored-99", "unknown")] {
        let (status, _, body) = exchange(&http, post(2, "whoami", &[("x-api-key", key)])).await;
        assert_eq!(status, 401, "{key}");
        let want = format!("unauthorized: {word} API key ({}...)", &mcp_aws::auth::hash_key(key)[..8]);
        assert_eq!(body["error"]["message"], want.as_str());
    }
    let (status, _, _) = exchange(&http, post(3, "drop_tables", &[("x-api-key", "live-key-123456")])).await;
    assert_eq!(status, 403);
    // Only the hash is stored.
    let item = moto::client(&moto.endpoint)
        .await
        .get_item()
        .table_name("mcp-api-keys-test")
        .key("api_key_hash", aws_sdk_dynamodb::types::AttributeValue::S(mcp_aws::auth::hash_key("live-key-123456")))
        .send()
        .await
        .expect("GetItem")
        .item
        .expect("stored");
    assert!(!format!("{item:?}").contains("live-key-123456"));
    assert_eq!(item["rate_limit"].as_n().expect("number"), "60");
}
