//! What the auth layer costs per request: its decision for a cached API
//! key and for a repeated JWT (both served from the layer's caches), a
//! first verification of a new RS256, PS256 or ES256 token (keys already
//! fetched), and the whole layer around the dispatcher against `bare`.
//!
//! `cargo bench -p mcp-benches --bench auth`
//!
//! The issuer's JWKS comes from a one-thread HTTP server on 127.0.0.1 that
//! the bench starts; keys are the test-only ones under
//! `mcp-aws/tests/auth_keys`.

#![allow(missing_docs)]

use std::hint::black_box;
use std::io::{Read as _, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use futures_util::FutureExt as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_aws::auth::{ApiKeyRecord, ApiKeys, AuthLayer, InMemoryApiKeyStore, JwtConfig, JwtVerifier};
use mcp_core::jsonrpc::{Message, Response};
use mcp_core::server::{ServerRequest, Sink};
use serde_json::{Value, json};
use tower::{Layer as _, Service, ServiceExt as _};

// Only the server and the request are used here.
#[allow(dead_code)]
#[path = "common/layers.rs"]
mod common;
use common::{message, server};

const ISSUER: &str = "https://issuer.example";
const KEY: &str = "bench-api-key-0123456789";

fn key_file(name: &str) -> Vec<u8> {
    let path = format!("{}/../mcp-aws/tests/auth_keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Serves the JWKS of the test keys on 127.0.0.1 until the process ends.
fn jwks_server() -> String {
    let keys: Vec<Value> = ["rsa1", "ec1"]
        .iter()
        .map(|k| serde_json::from_slice(&key_file(&format!("{k}.jwk.json"))).expect("jwk"))
        .collect();
    let body = json!({ "keys": keys }).to_string();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/jwks.json", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes()));
        }
    });
    url
}

fn token(alg: Algorithm, key: &str, n: u64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
    let claims = json!({ "iss": ISSUER, "sub": format!("user-{n}"), "aud": "https://mcp.example.com/mcp",
                         "exp": now + 3600, "scope": "mcp:tools" });
    let mut header = Header::new(alg);
    header.kid = Some(key.to_owned());
    let encoding = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&key_file(&format!("{key}.pem"))),
        _ => EncodingKey::from_rsa_pem(&key_file(&format!("{key}.pem"))),
    }
    .expect("key");
    jsonwebtoken::encode(&header, &claims, &encoding).expect("signs")
}

/// One request carrying `header` through `svc`; nothing in it yields.
fn run<S>(svc: &S, message: &Message, header: &(http::HeaderName, http::HeaderValue)) -> Option<Response>
where
    S: Service<ServerRequest, Response = Option<Response>> + Clone,
    S::Error: std::fmt::Debug,
{
    let mut req = ServerRequest::new(message.clone(), None, Sink::none());
    let mut headers = http::HeaderMap::new();
    headers.insert(header.0.clone(), header.1.clone());
    req.extensions.insert(headers);
    svc.clone().oneshot(req).now_or_never().expect("does not yield").expect("no service error")
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let store = InMemoryApiKeyStore::new();
    store.insert(ApiKeyRecord::new(KEY, "bench-user", ["execute:*"]));
    let keys = ApiKeys::new(store);
    let config = JwtConfig::jwks(jwks_server(), ISSUER).audience(["https://mcp.example.com/mcp"]);
    let jwt = JwtVerifier::new(config).expect("config");
    let rs = token(Algorithm::RS256, "rsa1", 0);
    // Warm both caches (and fetch the keys) once.
    rt.block_on(async {
        keys.verify(KEY).await.expect("key");
        jwt.verify(&rs).await.expect("token");
    });

    let mut group = c.benchmark_group("auth/decision");
    group.bench_function("api_key_cached", |b| {
        b.iter(|| keys.verify(black_box(KEY)).now_or_never().expect("cached").expect("valid"));
    });
    group.bench_function("jwt_repeated", |b| {
        b.iter(|| jwt.verify(black_box(&rs)).now_or_never().expect("cached").expect("valid"));
    });
    for (name, alg, key) in [
        ("jwt_first_rs256", Algorithm::RS256, "rsa1"),
        ("jwt_first_ps256", Algorithm::PS256, "rsa1"),
        ("jwt_first_es256", Algorithm::ES256, "ec1"),
    ] {
        let mut n = 0;
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    n += 1;
                    token(alg, key, n)
                },
                |t| jwt.verify(&t).now_or_never().expect("keys cached").expect("valid"),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();

    let server = server();
    let message = message();
    let layer = AuthLayer::new().api_keys(keys.clone()).jwt(jwt.clone());
    let guarded = layer.layer(server.clone());
    let api_key = (http::HeaderName::from_static("x-api-key"), http::HeaderValue::from_static(KEY));
    let bearer = (http::header::AUTHORIZATION, http::HeaderValue::from_str(&format!("Bearer {rs}")).expect("ascii"));
    for header in [&api_key, &bearer] {
        let resp = run(&guarded, &message, header).expect("a response");
        assert!(resp.payload.is_ok_and(|r| r.get().contains("\"5\"")), "the call succeeds");
    }
    let mut group = c.benchmark_group("auth/tools_call");
    group.bench_function("bare", |b| b.iter(|| run(&server, black_box(&message), &api_key)));
    group.bench_function("api_key", |b| b.iter(|| run(&guarded, black_box(&message), &api_key)));
    group.bench_function("jwt", |b| b.iter(|| run(&guarded, black_box(&message), &bearer)));
    // The layer's fixed part (boxed future, principal into the extensions)
    // without any credential check: a fixed principal for requests with no
    // headers.
    let fixed = AuthLayer::new().headerless_principal(mcp_core::server::Principal::new("fixed")).layer(server.clone());
    group.bench_function("fixed_principal", |b| {
        b.iter(|| {
            let req = ServerRequest::new(black_box(&message).clone(), None, Sink::none());
            fixed.clone().oneshot(req).now_or_never().expect("does not yield").expect("no service error")
        });
    });
    group.finish();
}

criterion_group!(auth, benches);
criterion_main!(auth);
