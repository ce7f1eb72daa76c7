//! The auth layer end to end: a negative matrix over Streamable HTTP (the
//! real transport, called in-process) and Lambda events, with tokens minted
//! here from vendored test keys and a JWKS served by a local issuer on
//! 127.0.0.1. Each refusal is checked for its exact status,
//! `WWW-Authenticate` and JSON-RPC error, and followed by a good request.

mod auth_common;
#[cfg(feature = "emf")]
mod common;
mod lambda_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use auth_common::{call_body, exchange, post, request, server};
use bytes::Bytes;
use http_body_util::Full;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_aws::auth::{
    ApiKeyRecord, ApiKeys, AuthLayer, InMemoryApiKeyStore, JwtConfig, JwtVerifier, ProtectedResourceMetadata,
    Requirements,
};
use mcp_aws::lambda::LambdaAdapter;
use mcp_core::server::Principal;
use mcp_core::transport::http::StreamableHttp;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const RESOURCE: &str = "https://mcp.example.com/mcp";
const META: &str = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";
const CLIENT: &str = "client-a";
const GOOD_KEY: &str = "key-good-0123456789";
const ADMIN_KEY: &str = "key-admin-0123456789";

fn pem(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/auth_keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn jwk(name: &str) -> Value {
    serde_json::from_slice(&pem(&format!("{name}.jwk.json"))).expect("jwk json")
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs()
}

// ---------------------------------------------------------------- issuer --

/// A local OIDC issuer: discovery at `/.well-known/openid-configuration`,
/// the JWKS at `/jwks.json` (503 while `down`), counting JWKS fetches.
struct Issuer {
    url: String,
    jwks: Arc<std::sync::Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
}

impl Issuer {
    async fn start(keys: &[&str]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
        let jwks = Arc::new(std::sync::Mutex::new(json!({ "keys": keys.iter().map(|k| jwk(k)).collect::<Vec<_>>() })));
        let fetches = Arc::new(AtomicUsize::new(0));
        let down = Arc::new(AtomicBool::new(false));
        let (j, f, d, u) = (Arc::clone(&jwks), Arc::clone(&fetches), Arc::clone(&down), url.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let (j, f, d, u) = (Arc::clone(&j), Arc::clone(&f), Arc::clone(&d), u.clone());
                let svc = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let (status, body) = match req.uri().path() {
                        "/.well-known/openid-configuration" => {
                            (200, json!({ "issuer": u, "jwks_uri": format!("{u}/jwks.json") }))
                        }
                        "/jwks.json" if d.load(Ordering::SeqCst) => {
                            f.fetch_add(1, Ordering::SeqCst);
                            (503, json!({}))
                        }
                        "/jwks.json" => {
                            f.fetch_add(1, Ordering::SeqCst);
                            (200, j.lock().expect("jwks").clone())
                        }
                        _ => (404, json!({})),
                    };
                    let resp = http::Response::builder()
                        .status(status)
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(body.to_string())));
                    std::future::ready(resp)
                });
                tokio::spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, svc).await;
                });
            }
        });
        Self { url, jwks, fetches, down }
    }

    fn discovery(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.url)
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Good claims from this issuer, for `CLIENT` and the resource.
    fn claims(&self) -> Value {
        json!({ "iss": self.url, "sub": "user-1", "aud": RESOURCE, "client_id": CLIENT,
                "exp": now() + 600, "iat": now(), "scope": "mcp:tools" })
    }
}

/// A token over `claims`, signed by test key `key` with `alg`, naming
/// `kid`.
fn sign(claims: &Value, alg: Algorithm, key: &str, kid: &str) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem(&format!("{key}.pem"))),
        Algorithm::HS256 => Ok(EncodingKey::from_secret(&pem(&format!("{key}.pub.pem")))),
        _ => EncodingKey::from_rsa_pem(&pem(&format!("{key}.pem"))),
    }
    .expect("test key");
    jsonwebtoken::encode(&header, claims, &key).expect("signs")
}

fn b64url(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ABC[(n >> (18 - 6 * i)) as usize & 63]));
        }
    }
    out
}

/// An unsigned token (`alg: none`).
fn unsigned(claims: &Value) -> String {
    let header = json!({ "alg": "none", "typ": "JWT", "kid": "rsa1" });
    format!("{}.{}.", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()))
}

// ---------------------------------------------------------------- server --

fn keys() -> InMemoryApiKeyStore {
    let store = InMemoryApiKeyStore::new();
    store.insert(ApiKeyRecord::new(GOOD_KEY, "alice", ["execute:*"]));
    store.insert(ApiKeyRecord::new(ADMIN_KEY, "root", ["*:*"]));
    store.insert(ApiKeyRecord::new("key-disabled-0123", "bob", ["*:*"]).with_enabled(false));
    store.insert(ApiKeyRecord::new("key-expired-0123", "carol", ["*:*"]).with_expires_at(now() - 10));
    store
}

fn layer(issuer: &Issuer, config: impl FnOnce(JwtConfig) -> JwtConfig) -> AuthLayer {
    let jwt = config(JwtConfig::discovery(issuer.discovery()).audience([RESOURCE]).allowed_clients([CLIENT]));
    let meta = ProtectedResourceMetadata::new(RESOURCE, [issuer.url.clone()]);
    AuthLayer::new()
        .api_keys(ApiKeys::new(keys()))
        .jwt(JwtVerifier::new(jwt).expect("valid config"))
        .requirements(Requirements::new().tool("drop_tables", ["admin:db"]))
        .resource_metadata(&meta)
}

fn invalid_token(description: &str) -> String {
    format!(
        "Bearer error=\"invalid_token\", error_description=\"unauthorized: {description}\", resource_metadata=\"{META}\""
    )
}

/// A 401 `invalid_token` refusal described as `description`.
fn bad(description: &str) -> Want {
    (401, invalid_token(description), -31401, format!("unauthorized: {description}"))
}

/// The 401 for a request without credentials.
fn missing() -> Want {
    let message = "unauthorized: no credentials; send `Authorization: Bearer <token>` or an API key";
    (401, format!("Bearer resource_metadata=\"{META}\""), -31401, message.to_owned())
}

/// The 403 for a caller without `scope`.
fn forbidden(scope: &str) -> Want {
    let message = format!("forbidden: insufficient scope: requires `{scope}`");
    let www = format!(
        "Bearer error=\"insufficient_scope\", error_description=\"{message}\", scope=\"{scope}\", resource_metadata=\"{META}\""
    );
    (403, www, -31403, message)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Asserts a refusal: status, exact challenge, JSON-RPC code and message,
/// that no secret was echoed; then that a good request is served.
async fn assert_refused<S: mcp_core::server::McpService>(
    http: &StreamableHttp<S>,
    case: &str,
    creds: &[(&str, &str)],
    tool: &str,
    want: (u16, &str, i64, &str),
) {
    let (status, www, body) = exchange(http, post(41, tool, creds)).await;
    assert_eq!(status, want.0, "{case}: status; {body}");
    assert_eq!(www.as_deref(), Some(want.1), "{case}: WWW-Authenticate");
    assert_eq!(body["id"], 41, "{case}: {body}");
    assert_eq!(body["error"]["code"], want.2, "{case}: {body}");
    assert_eq!(body["error"]["message"], want.3, "{case}: {body}");
    let text = body.to_string();
    for (_, secret) in creds {
        let secret = secret.trim_start_matches("Bearer ");
        assert!(secret.len() < 8 || !text.contains(secret), "{case}: the credential was echoed: {text}");
    }
    let (status, _, body) = exchange(http, post(42, "whoami", &[("x-api-key", GOOD_KEY)])).await;
    assert_eq!((status, &body["result"]["content"][0]["text"]), (200, &json!("alice")), "{case}: next request");
}

/// Status, `WWW-Authenticate`, JSON-RPC code and message of a refusal.
type Want = (u16, String, i64, String);
/// Credential headers: name and value.
type Creds = Vec<(&'static str, String)>;

#[tokio::test]
async fn http_negative_matrix() {
    let issuer = Issuer::start(&["rsa1", "ec1"]).await;
    let http = StreamableHttp::new(server().layer(layer(&issuer, |c| c)));
    let claims = issuer.claims();
    let with = |patch: Value| {
        let mut c = claims.clone();
        for (k, v) in patch.as_object().expect("object") {
            if v.is_null() {
                c.as_object_mut().expect("object").remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        sign(&c, Algorithm::RS256, "rsa1", "rsa1")
    };
    let key_hash = |k: &str| mcp_aws::auth::hash_key(k)[..8].to_owned();
    let key_refused = |word: &str, key: &str| bad(&format!("{word} API key ({}...)", key_hash(key)));
    let token = |t: String| vec![("authorization", bearer(&t))];
    // Good tokens first: RS256, ES256, PS256 are all accepted.
    for (alg, key, kid) in
        [(Algorithm::RS256, "rsa1", "rsa1"), (Algorithm::ES256, "ec1", "ec1"), (Algorithm::PS256, "rsa1", "rsa1")]
    {
        let token = bearer(&sign(&claims, alg, key, kid));
        let (status, www, body) = exchange(&http, post(1, "whoami", &[("authorization", &token)])).await;
        assert_eq!((status, www, &body["result"]["content"][0]["text"]), (200, None, &json!("user-1")), "{alg:?}");
    }

    let cases: Vec<(&str, Creds, &str, Want)> = vec![
        ("missing header", vec![], "whoami", missing()),
        ("other scheme", vec![("authorization", "Basic dXNlcjpwYXNz".into())], "whoami", missing()),
        (
            "empty bearer",
            vec![("authorization", "Bearer".into())],
            "whoami",
            bad("invalid token: malformed authorization header: empty bearer token"),
        ),
        ("not a jwt", token("opaque-token-value".into()), "whoami", bad("invalid token: malformed token")),
        ("garbage jwt", token("aaaa.bbbb.cccc".into()), "whoami", bad("invalid token: malformed token")),
        ("expired", token(with(json!({ "exp": now() - 120 }))), "whoami", bad("invalid token: token expired")),
        (
            "not yet valid",
            token(with(json!({ "nbf": now() + 600 }))),
            "whoami",
            bad("invalid token: token not yet valid"),
        ),
        (
            "no exp",
            token(with(json!({ "exp": null }))),
            "whoami",
            bad("invalid token: a required claim (exp, iss, aud) is missing"),
        ),
        (
            "wrong iss",
            token(with(json!({ "iss": "https://evil.example" }))),
            "whoami",
            bad("invalid token: wrong issuer"),
        ),
        (
            "wrong aud",
            token(with(json!({ "aud": "https://other.example/mcp" }))),
            "whoami",
            bad("invalid token: wrong audience"),
        ),
        (
            "wrong client_id",
            token(with(json!({ "client_id": "client-b" }))),
            "whoami",
            bad("invalid token: client not allowed"),
        ),
        (
            "token_use=id",
            token(with(json!({ "token_use": "id" }))),
            "whoami",
            bad("invalid token: not an access token (token_use)"),
        ),
        (
            "bad signature",
            token(sign(&claims, Algorithm::RS256, "rsa2", "rsa1")),
            "whoami",
            bad("invalid token: bad signature"),
        ),
        ("alg none", token(unsigned(&claims)), "whoami", bad("invalid token: malformed token")),
        (
            "HS256 with the public key",
            token(sign(&claims, Algorithm::HS256, "rsa1", "rsa1")),
            "whoami",
            bad("invalid token: unsupported algorithm: only RS256, ES256 and PS256 are accepted"),
        ),
        (
            "RS256 naming an EC key",
            token(sign(&claims, Algorithm::RS256, "rsa1", "ec1")),
            "whoami",
            bad("invalid token: the token's algorithm does not match its key"),
        ),
        (
            "unknown API key",
            vec![("x-api-key", "no-such-key-123".into())],
            "whoami",
            key_refused("unknown", "no-such-key-123"),
        ),
        (
            "disabled API key",
            vec![("x-api-key", "key-disabled-0123".into())],
            "whoami",
            key_refused("disabled", "key-disabled-0123"),
        ),
        (
            "expired API key",
            vec![("x-api-key", "key-expired-0123".into())],
            "whoami",
            key_refused("expired", "key-expired-0123"),
        ),
        (
            "malformed API key header",
            vec![("x-api-key", "k\u{e9}y".into())],
            "whoami",
            bad("invalid token: malformed x-api-key header"),
        ),
        (
            "key without the tool's permission",
            vec![("x-api-key", GOOD_KEY.into())],
            "drop_tables",
            forbidden("admin:db"),
        ),
        (
            "token without the tool's scope",
            token(sign(&claims, Algorithm::RS256, "rsa1", "rsa1")),
            "drop_tables",
            forbidden("admin:db"),
        ),
    ];
    let count = cases.len();
    for (case, creds, tool, (status, www, code, message)) in cases {
        let creds: Vec<(&str, &str)> = creds.iter().map(|(n, v)| (*n, v.as_str())).collect();
        assert_refused(&http, case, &creds, tool, (status, &www, code, &message)).await;
    }
    assert!(count >= 22, "{count} cases");

    // The admin key and a token with the scope may drop tables.
    let (status, _, _) = exchange(&http, post(5, "drop_tables", &[("x-api-key", ADMIN_KEY)])).await;
    assert_eq!(status, 200);
    let admin = bearer(&with(json!({ "scope": "mcp:tools admin:db" })));
    let (status, _, _) = exchange(&http, post(6, "drop_tables", &[("authorization", &admin)])).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn unknown_kids_refresh_the_jwks_once_then_fail_and_a_dead_issuer_fails_closed_fast() {
    let issuer = Issuer::start(&["rsa1"]).await;
    let http = StreamableHttp::new(server().layer(layer(&issuer, |c| c)));
    let good = bearer(&sign(&issuer.claims(), Algorithm::RS256, "rsa1", "rsa1"));
    assert_eq!(exchange(&http, post(1, "whoami", &[("authorization", &good)])).await.0, 200);
    assert_eq!(issuer.fetches(), 1, "keys fetched once, on first use");

    // A forged kid: one refresh, then 401.
    let forged = bearer(&sign(&issuer.claims(), Algorithm::RS256, "rsa1", "forged-1"));
    let (status, www, _) = exchange(&http, post(2, "whoami", &[("authorization", &forged)])).await;
    assert_eq!((status, www), (401, Some(invalid_token("invalid token: unknown signing key"))));
    assert_eq!(issuer.fetches(), 2, "one refresh for the unknown kid");
    // More forged kids within the refresh interval do not reach the issuer.
    for n in 0..5 {
        let forged = bearer(&sign(&issuer.claims(), Algorithm::RS256, "rsa1", &format!("forged-x{n}")));
        assert_eq!(exchange(&http, post(3, "whoami", &[("authorization", &forged)])).await.0, 401);
    }
    assert_eq!(issuer.fetches(), 2, "refreshes are rate-limited");
}

#[tokio::test]
async fn a_dead_issuer_keeps_cached_keys_working_and_fails_new_kids_closed_fast() {
    let issuer = Issuer::start(&["rsa1"]).await;
    let http = StreamableHttp::new(server().layer(layer(&issuer, |c| c.refresh_interval(Duration::ZERO))));
    let token = |sub: &str, key: &str| {
        let mut claims = issuer.claims();
        claims["sub"] = json!(sub);
        bearer(&sign(&claims, Algorithm::RS256, key, key))
    };
    assert_eq!(exchange(&http, post(1, "whoami", &[("authorization", &token("u1", "rsa1"))])).await.0, 200);
    issuer.down.store(true, Ordering::SeqCst);
    // A token not seen before, signed by a cached key: served, no fetch.
    let (status, _, body) = exchange(&http, post(2, "whoami", &[("authorization", &token("u2", "rsa1"))])).await;
    assert_eq!((status, &body["result"]["content"][0]["text"]), (200, &json!("u2")));
    assert_eq!(issuer.fetches(), 1);
    // The issuer rotates to a key this server has not fetched: refused at
    // once (the fetch fails), not after a long wait.
    issuer.jwks.lock().expect("jwks")["keys"].as_array_mut().expect("keys").push(jwk("rsa2"));
    let started = Instant::now();
    let (status, www, _) = exchange(&http, post(3, "whoami", &[("authorization", &token("u3", "rsa2"))])).await;
    assert_eq!((status, www), (401, Some(invalid_token("invalid token: unknown signing key"))));
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    assert_eq!(issuer.fetches(), 2);
    // Back up: the new key is fetched and accepted.
    issuer.down.store(false, Ordering::SeqCst);
    assert_eq!(exchange(&http, post(4, "whoami", &[("authorization", &token("u3", "rsa2"))])).await.0, 200);
}

#[tokio::test]
async fn required_scopes_give_403_insufficient_scope() {
    let issuer = Issuer::start(&["rsa1"]).await;
    let http = StreamableHttp::new(server().layer(layer(&issuer, |c| c.required_scopes(["mcp:tools", "mcp:admin"]))));
    let token = bearer(&sign(&issuer.claims(), Algorithm::RS256, "rsa1", "rsa1"));
    let want = forbidden("mcp:tools mcp:admin");
    let (status, www, body) = exchange(&http, post(1, "whoami", &[("authorization", &token)])).await;
    assert_eq!((status, www.as_deref()), (want.0, Some(want.1.as_str())));
    assert_eq!(
        (body["error"]["code"].clone(), body["error"]["data"].clone()),
        (json!(-31403), json!({ "error": "insufficient_scope", "scope": "mcp:tools mcp:admin" }))
    );
    let mut claims = issuer.claims();
    claims["scope"] = json!("mcp:admin mcp:tools");
    let token = bearer(&sign(&claims, Algorithm::RS256, "rsa1", "rsa1"));
    assert_eq!(exchange(&http, post(2, "whoami", &[("authorization", &token)])).await.0, 200);
}

/// `initialize` without credentials in a legacy session is a real 401,
/// not the 200 legacy clients get for other JSON-RPC errors: their OAuth
/// flow starts from it.
#[tokio::test]
async fn legacy_initialize_without_credentials_is_a_real_401() {
    let issuer = Issuer::start(&["rsa1"]).await;
    let http = StreamableHttp::new(server().layer(layer(&issuer, |c| c)));
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "protocolVersion": "2025-06-18",
        "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } });
    let init =
        |creds: Option<&str>| request(&body, &creds.map(|key| ("x-api-key", key)).into_iter().collect::<Vec<_>>());
    let resp = http.clone().oneshot(init(None)).await.expect("infallible");
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["www-authenticate"], format!("Bearer resource_metadata=\"{META}\"").as_str());
    assert!(resp.headers().get("mcp-session-id").is_none(), "no session for a refused initialize");
    assert_eq!(http.session_count(), 0);
    let resp = http.clone().oneshot(init(Some(GOOD_KEY))).await.expect("infallible");
    assert_eq!(resp.status(), 200);
    let session = resp.headers()["mcp-session-id"].to_str().expect("ascii").to_owned();
    // In the session, a call without credentials is 401 too.
    let list = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" });
    let call = request(&list, &[("mcp-protocol-version", "2025-06-18"), ("mcp-session-id", &session)]);
    let (status, www, body) = exchange(&http, call).await;
    assert_eq!(
        (status, www.as_deref(), &body["error"]["code"]),
        (401, Some(format!("Bearer resource_metadata=\"{META}\"").as_str()), &json!(-31401))
    );
    // A notification without credentials is refused the same way, not
    // accepted with a 202 and dropped; with them it is accepted.
    let note = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let headers = [("mcp-protocol-version", "2025-06-18"), ("mcp-session-id", &session)];
    let (status, www, body) = exchange(&http, request(&note, &headers)).await;
    assert_eq!((status, www.is_some(), &body["error"]["code"]), (401, true, &json!(-31401)), "{body}");
    assert_eq!(body["id"], Value::Null);
    let with_key = [headers[0], headers[1], ("x-api-key", GOOD_KEY)];
    let resp = http.clone().oneshot(request(&note, &with_key)).await.expect("infallible");
    assert_eq!(resp.status(), 202);

    // GET and DELETE carry no JSON-RPC message, yet the session id alone is
    // no credential: both are authenticated like every other request.
    let bare = |method: &str, creds: &[(&str, &str)]| {
        let mut b = http::Request::builder()
            .method(method)
            .uri("/mcp")
            .header("host", "127.0.0.1:3000")
            .header("accept", "text/event-stream")
            .header("mcp-protocol-version", "2025-06-18")
            .header("mcp-session-id", session.as_str());
        for (k, v) in creds {
            b = b.header(*k, *v);
        }
        b.body(Full::new(Bytes::new())).expect("request")
    };
    for method in ["GET", "DELETE"] {
        let (status, www, body) = exchange(&http, bare(method, &[])).await;
        assert_eq!((status, www.is_some(), &body["error"]["code"]), (401, true, &json!(-31401)), "{method}: {body}");
    }
    assert_eq!(http.session_count(), 1, "a refused DELETE ends nothing");
    let stream = http.clone().oneshot(bare("GET", &[("x-api-key", GOOD_KEY)])).await.expect("infallible");
    assert_eq!(stream.status(), 200);
    drop(stream);
    let resp = http.clone().oneshot(bare("DELETE", &[("x-api-key", GOOD_KEY)])).await.expect("infallible");
    assert_eq!(resp.status(), 200);
    assert_eq!(http.session_count(), 0);
}

// ---------------------------------------------------------------- Lambda --

fn lambda_event(id: u64, tool: &str, creds: &[(&str, &str)]) -> Value {
    let mut e = lambda_common::event("function-url.json");
    e["headers"]["mcp-method"] = json!("tools/call");
    e["headers"]["mcp-name"] = json!(tool);
    for (name, value) in creds {
        e["headers"][*name] = json!(value);
    }
    e["body"] = json!(call_body(id, tool).to_string());
    e["isBase64Encoded"] = json!(false);
    e
}

#[tokio::test]
async fn lambda_events_get_the_same_refusals() {
    use lambda_common::{body, header, invoke};
    let issuer = Issuer::start(&["rsa1"]).await;
    let adapter = LambdaAdapter::new(server().layer(layer(&issuer, |c| c)));
    let expired = {
        let mut claims = issuer.claims();
        claims["exp"] = json!(now() - 120);
        bearer(&sign(&claims, Algorithm::RS256, "rsa1", "rsa1"))
    };
    let unknown = format!("unknown API key ({}...)", &mcp_aws::auth::hash_key("nope-nope-nope")[..8]);
    let cases = [
        ("missing", vec![], "whoami", missing()),
        ("expired token", vec![("authorization", expired.as_str())], "whoami", bad("invalid token: token expired")),
        ("unknown key", vec![("x-api-key", "nope-nope-nope")], "whoami", bad(&unknown)),
        ("no permission", vec![("x-api-key", GOOD_KEY)], "drop_tables", forbidden("admin:db")),
    ];
    for (case, creds, tool, (status, www, code, message)) in cases {
        let resp = invoke(&adapter, lambda_event(9, tool, &creds)).await;
        assert_eq!(resp["statusCode"], status, "{case}: {resp}");
        assert_eq!(header(&resp, "www-authenticate"), Some(www), "{case}");
        assert_eq!(
            (&body(&resp)["error"]["code"], &body(&resp)["error"]["message"]),
            (&json!(code), &json!(message)),
            "{case}"
        );
        let ok = invoke(&adapter, lambda_event(10, "whoami", &[("x-api-key", GOOD_KEY)])).await;
        assert_eq!(ok["statusCode"], 200, "{case}: next request: {ok}");
        assert_eq!(body(&ok)["result"]["content"][0]["text"], "alice");
    }
    let good = bearer(&sign(&issuer.claims(), Algorithm::RS256, "rsa1", "rsa1"));
    let resp = invoke(&adapter, lambda_event(11, "whoami", &[("authorization", &good)])).await;
    assert_eq!(body(&resp)["result"]["content"][0]["text"], "user-1", "{resp}");
}

/// Requests without HTTP headers (stdio, in-process) are refused, unless
/// the layer runs them as a fixed principal.
#[tokio::test]
async fn headerless_requests_need_a_fixed_principal() {
    use mcp_core::jsonrpc::Message;
    use mcp_core::server::{ServerRequest, Sink, call};
    let request = || {
        let msg = Message::parse(call_body(1, "whoami").to_string().as_bytes()).expect("message");
        ServerRequest::new(msg, None, Sink::none())
    };
    let refused = call(server().layer(AuthLayer::new()).into_parts().1, request()).await.expect("a reply");
    assert_eq!(refused.payload.expect_err("refused").code.0, -31401);
    let fixed = AuthLayer::new().headerless_principal(Principal::new("local-operator"));
    let served = call(server().layer(fixed).into_parts().1, request()).await.expect("a reply");
    let result: Value = serde_json::from_str(served.payload.expect("served").get()).expect("json");
    assert_eq!(result["content"][0]["text"], "local-operator");
}

/// The settings a deployment reads from the environment build the layer
/// and the RFC 9728 document, which the Lambda adapter and the container's
/// extra routes serve without auth while `/mcp` asks for a token.
#[tokio::test]
async fn settings_from_the_environment_secure_lambda_and_serve_the_metadata() {
    use lambda_common::{body, header, invoke};
    use mcp_aws::auth::{ConfiguredAuth, WithMetadata};
    let issuer = Issuer::start(&["rsa1"]).await;
    let config = mcp_aws::config::DeployConfig::from_vars(|name| match name {
        "MCP_AUTH_DISCOVERY_URL" => Some(issuer.discovery()),
        "MCP_AUTH_AUDIENCE" => Some(RESOURCE.to_owned()),
        "MCP_AUTH_REQUIRED_SCOPES" => Some("mcp:tools".to_owned()),
        _ => None,
    })
    .expect("valid settings");
    let auth = ConfiguredAuth::from_settings(&config.auth).await.expect("usable").expect("auth configured");
    let meta = auth.metadata.clone().expect("the resource URL is known");
    let adapter = LambdaAdapter::builder(server().layer(auth.layer)).protected_resource(meta.clone()).build();

    let mut get = lambda_common::event("function-url.json");
    get["rawPath"] = json!("/.well-known/oauth-protected-resource/mcp");
    get["requestContext"]["http"]["method"] = json!("GET");
    get["requestContext"]["http"]["path"] = get["rawPath"].clone();
    get.as_object_mut().expect("event").remove("body");
    get["isBase64Encoded"] = json!(false);
    let resp = invoke(&adapter, get).await;
    assert_eq!(resp["statusCode"], 200, "{resp}");
    assert_eq!(
        body(&resp),
        json!({ "resource": RESOURCE, "authorization_servers": [issuer.url], "scopes_supported": ["mcp:tools"],
                "bearer_methods_supported": ["header"] })
    );
    let resp = invoke(&adapter, lambda_event(1, "whoami", &[])).await;
    assert_eq!(resp["statusCode"], 401, "{resp}");
    assert_eq!(header(&resp, "www-authenticate"), Some(format!("Bearer resource_metadata=\"{META}\"")));
    let token = bearer(&sign(&issuer.claims(), Algorithm::RS256, "rsa1", "rsa1"));
    let resp = invoke(&adapter, lambda_event(2, "whoami", &[("authorization", &token)])).await;
    assert_eq!(body(&resp)["result"]["content"][0]["text"], "user-1", "{resp}");

    // Off Lambda: the document in front of the health endpoint.
    let routes = WithMetadata::new(meta, mcp_aws::health::Health::new());
    for (path, status) in [("/.well-known/oauth-protected-resource", 200), ("/health", 200), ("/elsewhere", 404)] {
        let req = http::Request::get(path).body(Full::new(Bytes::new())).expect("request");
        assert_eq!(routes.clone().oneshot(req).await.expect("infallible").status(), status, "{path}");
    }
}

/// `tools/list` leaves out the tools a caller may not call, unless told
/// not to; calling one is refused either way.
#[tokio::test]
async fn tool_lists_hide_what_the_caller_may_not_call() {
    let issuer = Issuer::start(&["rsa1"]).await;
    let list = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": { "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } } });
    let names = |body: &Value| -> Vec<String> {
        let tools = body["result"]["tools"].as_array().unwrap_or_else(|| panic!("a tool list: {body}"));
        tools.iter().filter_map(|t| t["name"].as_str().map(str::to_owned)).collect()
    };
    for (hide, key, want) in [
        (true, GOOD_KEY, vec!["whoami"]),
        (true, ADMIN_KEY, vec!["whoami", "drop_tables"]),
        (false, GOOD_KEY, vec!["whoami", "drop_tables"]),
    ] {
        let http = StreamableHttp::new(server().layer(layer(&issuer, |c| c).hide_forbidden_tools(hide)));
        let headers = [("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/list"), ("x-api-key", key)];
        let (status, _, body) = exchange(&http, request(&list, &headers)).await;
        assert_eq!(
            (status, names(&body)),
            (200, want.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()),
            "hide={hide}"
        );
    }
}

/// Behind API Gateway with an authorizer, the layer can take the caller
/// the gateway authenticated (opt-in); requirements still apply, and
/// without an authorizer's caller credentials are still needed.
#[tokio::test]
async fn gateway_authorizer_callers_when_trusted() {
    use lambda_common::{body, invoke};
    let issuer = Issuer::start(&["rsa1"]).await;
    let trusting = LambdaAdapter::new(server().layer(layer(&issuer, |c| c).trust_gateway_authorizer(true)));
    let wary = LambdaAdapter::new(server().layer(layer(&issuer, |c| c)));
    let v2 = |tool: &str, authorizer: Value| {
        let mut e = lambda_event(5, tool, &[]);
        e["requestContext"]["authorizer"] = authorizer;
        e
    };
    let jwt = json!({ "jwt": { "claims": { "sub": "jwt-user", "scope": "mcp:tools" }, "scopes": null } });
    let v1 = {
        let mut e = lambda_common::event("apigw-v1-rest.json");
        e["body"] = json!(call_body(6, "whoami").to_string());
        e["isBase64Encoded"] = json!(false);
        e["headers"]["Mcp-Name"] = json!("whoami");
        e["multiValueHeaders"]["Mcp-Name"] = json!(["whoami"]);
        e["requestContext"]["authorizer"] = json!({ "claims": { "sub": "cognito-user", "token_use": "access" } });
        e
    };
    let subject = |resp: &Value| body(resp)["result"]["content"][0]["text"].as_str().map(str::to_owned);
    for (case, event, want) in [
        ("http api jwt authorizer", v2("whoami", jwt.clone()), "jwt-user"),
        (
            "lambda authorizer",
            v2("whoami", json!({ "lambda": { "principalId": "lam-user", "tier": "gold" } })),
            "lam-user",
        ),
        (
            "iam",
            v2("whoami", json!({ "iam": { "userArn": "arn:aws:iam::123456789012:user/ops" } })),
            "arn:aws:iam::123456789012:user/ops",
        ),
        ("rest api cognito authorizer", v1.clone(), "cognito-user"),
    ] {
        let resp = invoke(&trusting, event.clone()).await;
        assert_eq!(subject(&resp).as_deref(), Some(want), "{case}: {resp}");
        // Not trusted: the same event needs credentials.
        assert_eq!(invoke(&wary, event).await["statusCode"], 401, "{case}");
    }
    // Requirements apply to gateway callers too.
    let resp = invoke(&trusting, v2("drop_tables", jwt)).await;
    assert_eq!((resp["statusCode"].clone(), body(&resp)["error"]["code"].clone()), (json!(403), json!(-31403)));
    // No authorizer: credentials as usual.
    assert_eq!(invoke(&trusting, lambda_event(7, "whoami", &[])).await["statusCode"], 401);
    let resp = invoke(&trusting, lambda_event(8, "whoami", &[("x-api-key", GOOD_KEY)])).await;
    assert_eq!(subject(&resp).as_deref(), Some("alice"));
}

/// With EMF inside the auth layer, each API key's use is recorded as
/// `APIUsage` per key hash and operation, never with the key.
#[cfg(feature = "emf")]
#[tokio::test]
async fn api_key_usage_goes_to_emf_by_hash_and_operation() {
    let issuer = Issuer::start(&["rsa1"]).await;
    let lines = common::Buffer::default();
    let emf = mcp_aws::emf::Emf::new("MCPTest").with_service_name("calc").with_writer(lines.clone());
    let http = StreamableHttp::new(server().layer(emf.layer()).layer(layer(&issuer, |c| c)));
    for (id, tool, key) in [(1, "whoami", GOOD_KEY), (2, "whoami", GOOD_KEY), (3, "drop_tables", ADMIN_KEY)] {
        assert_eq!(exchange(&http, post(id, tool, &[("x-api-key", key)])).await.0, 200);
    }
    // Refused and token-authenticated requests are not key usage.
    assert_eq!(exchange(&http, post(4, "whoami", &[("x-api-key", "nope-nope-nope")])).await.0, 401);
    let token = bearer(&sign(&issuer.claims(), Algorithm::RS256, "rsa1", "rsa1"));
    assert_eq!(exchange(&http, post(5, "whoami", &[("authorization", &token)])).await.0, 200);
    emf.flush().expect("flush");
    let text = String::from_utf8(lines.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(!text.contains(GOOD_KEY) && !text.contains(ADMIN_KEY), "{text}");
    let mut usage: Vec<(String, String, u64)> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .filter(|r| r.get("APIUsage").is_some())
        .map(|r| {
            let dims = &r["_aws"]["CloudWatchMetrics"][0]["Dimensions"];
            assert_eq!(dims, &json!([["ServiceName", "ApiKeyHash", "Operation"]]));
            (
                r["ApiKeyHash"].as_str().unwrap_or_default().to_owned(),
                r["Operation"].as_str().unwrap_or_default().to_owned(),
                r["APIUsage"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    usage.sort();
    let hash = |k: &str| mcp_aws::auth::hash_key(k)[..16].to_owned();
    let mut want = vec![(hash(GOOD_KEY), "whoami".to_owned(), 2), (hash(ADMIN_KEY), "drop_tables".to_owned(), 1)];
    want.sort();
    assert_eq!(usage, want);
}

/// The REST façade goes through the same auth layer: 401 with the
/// challenge, 403 for a missing permission, the caller's result otherwise;
/// and its OpenAPI document declares the schemes the settings accept.
#[cfg(feature = "rest")]
#[tokio::test]
async fn the_rest_facade_is_authenticated_like_mcp() {
    use mcp_core::transport::http::HttpOptions;
    use mcp_core::transport::http::rest::RestOptions;
    let issuer = Issuer::start(&["rsa1"]).await;
    let mut options = HttpOptions::default();
    options.rest = Some(RestOptions::default());
    let http = StreamableHttp::with_options(server().layer(layer(&issuer, |c| c)), options);
    let rest = |path: &str, creds: &[(&str, &str)]| {
        let mut req =
            http::Request::post(path).header("host", "127.0.0.1:3000").header("content-type", "application/json");
        for (name, value) in creds {
            req = req.header(*name, *value);
        }
        req.body(Full::new(Bytes::from_static(b"{}"))).expect("request")
    };
    let (status, www, body) = exchange(&http, rest("/tools/whoami", &[])).await;
    assert_eq!((status, body["error"]["code"].clone()), (401, json!("unauthorized")), "{body}");
    assert!(www.is_some_and(|w| w.starts_with("Bearer resource_metadata=")), "a challenge");
    let (status, www, body) = exchange(&http, rest("/tools/drop_tables", &[("x-api-key", GOOD_KEY)])).await;
    assert_eq!((status, body["error"]["code"].clone()), (403, json!("forbidden")), "{body}");
    assert!(www.is_some_and(|w| w.contains("insufficient_scope")), "a 403 challenge");
    assert!(!body.to_string().contains(GOOD_KEY), "the key is never echoed");
    let (status, _, body) = exchange(&http, rest("/tools/whoami", &[("x-api-key", GOOD_KEY)])).await;
    assert_eq!((status, body), (200, json!("alice")));
    let (status, _, body) = exchange(&http, rest("/", &[("x-api-key", ADMIN_KEY)])).await;
    assert_eq!(status, 400, "{body}");

    let config = mcp_aws::config::DeployConfig::from_vars(|name| match name {
        "MCP_REST_PATH" => Some("/".to_owned()),
        "MCP_API_KEYS_TABLE" => Some("keys".to_owned()),
        "MCP_AUTH_JWKS_URL" => Some("https://issuer.example/jwks".to_owned()),
        "MCP_AUTH_ISSUER" => Some("https://issuer.example".to_owned()),
        "MCP_AUTH_AUDIENCE" => Some(RESOURCE.to_owned()),
        _ => None,
    })
    .expect("valid settings");
    let rest = config.rest_options().expect("the façade is on");
    let doc = mcp_core::transport::http::rest::openapi_document(&server(), &rest);
    assert_eq!(doc["components"]["securitySchemes"]["apiKey"]["name"], "x-api-key");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert_eq!(
        doc["paths"]["/tools/whoami"]["post"]["responses"]["401"]["$ref"],
        "#/components/responses/Unauthorized"
    );
}

/// A sessionless legacy client (Lambda's default) is authenticated on every
/// request, `initialize` included.
#[tokio::test]
async fn sessionless_legacy_requests_are_authenticated_each() {
    use mcp_core::transport::http::{HttpOptions, SessionMode};
    let issuer = Issuer::start(&["rsa1"]).await;
    let mut options = HttpOptions::default();
    options.sessions = SessionMode::Disabled;
    let http = StreamableHttp::with_options(server().layer(layer(&issuer, |c| c)), options);
    let init = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "c", "version": "1" } } });
    let (status, www, _) = exchange(&http, request(&init, &[])).await;
    assert_eq!((status, www.is_some()), (401, true));
    let (status, _, body) = exchange(&http, request(&init, &[("x-api-key", GOOD_KEY)])).await;
    assert_eq!((status, body["result"]["protocolVersion"].clone()), (200, json!("2025-11-25")), "{body}");
    let call = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "whoami" } });
    let legacy = [("mcp-protocol-version", "2025-11-25")];
    let (status, _, _) = exchange(&http, request(&call, &legacy)).await;
    assert_eq!(status, 401, "no credentials on a later request: refused, not carried over");
    let (status, _, body) = exchange(&http, request(&call, &[legacy[0], ("x-api-key", GOOD_KEY)])).await;
    assert_eq!((status, body["result"]["content"][0]["text"].clone()), (200, json!("alice")), "{body}");
}

/// A tool's own requirements (`#[tool(requires = [..])]`) are enforced and
/// hide it from callers without them, including a tool added at run time.
#[tokio::test]
async fn a_tools_own_requirements_are_enforced_and_hide_it() {
    use mcp_aws::auth::Requirements;
    use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};

    /// Purge the reports.
    #[mcp_core::tool(requires = ["admin:reports"])]
    async fn purge() -> &'static str {
        "purged"
    }

    let srv = ServerBuilder::new("own-requirements", "1.0.0")
        .tool(ToolRoute::new("whoami", |_ctx: Context, _: NoArgs| async { "me" }).with_description("Who"))
        .tool(purge_tool())
        .build()
        .expect("valid server");
    assert_eq!(srv.tool_requirements("purge").as_deref(), Some(&["admin:reports".to_owned()][..]));
    let auth = AuthLayer::new().api_keys(ApiKeys::new(keys())).requirements(Requirements::new().of_server(&srv));
    let http = StreamableHttp::new(srv.clone().layer(auth));
    let (status, www, body) = exchange(&http, post(1, "purge", &[("x-api-key", GOOD_KEY)])).await;
    assert_eq!(status, 403, "{body}");
    assert!(www.is_some_and(|w| w.contains("insufficient_scope") && w.contains("admin:reports")));
    let (status, _, body) = exchange(&http, post(2, "purge", &[("x-api-key", ADMIN_KEY)])).await;
    assert_eq!((status, body["result"]["content"][0]["text"].clone()), (200, json!("purged")), "{body}");

    let list = json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": { "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } } });
    let headers = [("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/list"), ("x-api-key", GOOD_KEY)];
    let (_, _, body) = exchange(&http, request(&list, &headers)).await;
    let names: Vec<_> = body["result"]["tools"].as_array().expect("tools").iter().map(|t| t["name"].clone()).collect();
    assert_eq!(names, [json!("whoami")], "purge is hidden from a caller who may not call it");

    // Added at run time: enforced at once.
    srv.add_tool(ToolRoute::new("wipe", |_ctx: Context, _: NoArgs| async { "wiped" }).requires(["admin:*"]))
        .expect("valid tool");
    let (status, _, _) = exchange(&http, post(4, "wipe", &[("x-api-key", GOOD_KEY)])).await;
    assert_eq!(status, 403);
    let (status, _, _) = exchange(&http, post(5, "wipe", &[("x-api-key", ADMIN_KEY)])).await;
    assert_eq!(status, 200);
}

/// A client that accepts only `text/event-stream` still gets the refusal
/// as a real 401 with its challenge, not inside a 200 stream.
#[tokio::test]
async fn a_stream_only_client_gets_a_real_401() {
    let issuer = Issuer::start(&["rsa1"]).await;
    let http = StreamableHttp::new(server().layer(layer(&issuer, |c| c)));
    let mut req = post(7, "whoami", &[]);
    req.headers_mut().insert("accept", http::HeaderValue::from_static("text/event-stream"));
    let (status, www, body) = exchange(&http, req).await;
    assert_eq!((status, www.is_some()), (401, true), "{body}");
    // With credentials the same client gets its stream.
    let mut req = post(8, "whoami", &[("x-api-key", GOOD_KEY)]);
    req.headers_mut().insert("accept", http::HeaderValue::from_static("text/event-stream"));
    let resp = http.clone().oneshot(req).await.expect("infallible");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().get("content-type").map(|v| v.as_bytes()), Some(&b"text/event-stream"[..]));
}

/// A tool list filtered for its caller is never offered to shared caches,
/// even when the server marks its lists `public`.
#[tokio::test]
async fn a_filtered_tool_list_is_private_to_its_caller() {
    use mcp_core::protocol::CacheScope;
    use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
    let issuer = Issuer::start(&["rsa1"]).await;
    let public = ServerBuilder::new("public-lists", "1.0.0")
        .tool(ToolRoute::new("whoami", |_ctx: Context, _: NoArgs| async { "me" }).with_description("Who"))
        .tool(ToolRoute::new("drop_tables", |_ctx: Context, _: NoArgs| async { "dropped" }).with_description("Drop"))
        .list_cache(std::time::Duration::from_secs(300), CacheScope::Public)
        .build()
        .expect("valid server");
    let list = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": { "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } } });
    let headers = [("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/list"), ("x-api-key", GOOD_KEY)];
    let open = StreamableHttp::new(public.clone().layer(AuthLayer::new().api_keys(ApiKeys::new(keys()))));
    let (_, _, body) = exchange(&open, request(&list, &headers)).await;
    assert_eq!(body["result"]["cacheScope"], "public", "no requirements: the list is the same for everyone");
    let filtered = StreamableHttp::new(public.layer(layer(&issuer, |c| c)));
    let (_, _, body) = exchange(&filtered, request(&list, &headers)).await;
    assert_eq!(body["result"]["cacheScope"], "private", "{body}");
    assert_eq!(body["result"]["ttlMs"], 300_000, "the lifetime stays");
}
