//! The registry service: the server side of the HTTP API in
//! [`registry::http`](super::http), backed by the DynamoDB table, as an
//! axum [`Router`] (any HTTP server, or Lambda through [`run_lambda`]).
//!
//! Every route but `GET /health` needs `X-Registration-Token`; the token is
//! compared in constant time, and a missing token and a wrong one get the
//! same 401. The token may live in Secrets Manager and rotate
//! ([`RegistrationToken::from_secret`]). With feature `auth`, the read
//! routes can also be opened to agents holding a read permission
//! ([`router_with_readers`]). On Lambda, [`run_lambda_with_checker`] also
//! answers EventBridge scheduled events with a round of health checks. Invalid bodies get 400 with the field named:
//! `{"error":"invalid registration: endpoint_url: \"ftp://x\" is not an http or https URL"}`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_aws::registry::DynamoDbRegistry;
//! use mcp_aws::registry::service::{RegistrationToken, router};
//!
//! let registry = DynamoDbRegistry::from_env("MCPServerRegistry-prod").await;
//! let app = router(registry, RegistrationToken::new("s3cret"));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::StatusCode;
use http::request::Parts;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::health_checker::{HealthChecker, is_scheduled_event};
use super::http::TOKEN_HEADER;
use super::{DynamoDbRegistry, Registration, RegistryError, Status};

/// The largest registration body accepted (a DynamoDB item holds 400 KB).
pub const MAX_BODY: usize = 256 * 1024;

/// The shared secret servers present in `X-Registration-Token`: fixed, or
/// read from AWS Secrets Manager and re-read as it rotates.
#[derive(Clone)]
pub struct RegistrationToken(TokenSource);

#[derive(Clone)]
enum TokenSource {
    Fixed(Arc<[u8; 32]>),
    #[cfg(feature = "secrets-manager")]
    Secret {
        secret: crate::secrets::CachedSecret,
        recheck: std::time::Duration,
    },
}

impl fmt::Debug for RegistrationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RegistrationToken(..)")
    }
}

/// `presented` against `expected`'s digest, in time independent of where
/// they differ (both sides are hashed first, so lengths leak nothing
/// either). An empty token never matches.
fn digest_matches(expected: &[u8; 32], presented: &[u8]) -> bool {
    let digest: [u8; 32] = Sha256::digest(presented).into();
    bool::from(digest.ct_eq(expected)) & !presented.is_empty()
}

impl RegistrationToken {
    /// A fixed token, kept only as its SHA-256 digest.
    pub fn new(token: impl AsRef<[u8]>) -> Self {
        Self(TokenSource::Fixed(Arc::new(Sha256::digest(token.as_ref()).into())))
    }

    /// Whether `presented` is the token. A token kept in Secrets Manager is
    /// the value cached within its TTL; a token that does not match makes
    /// the secret be read again (at most once per
    /// [`from_cached_secret`](Self::from_cached_secret)'s `recheck`), so
    /// that servers holding a just-rotated token are accepted at once. A
    /// secret that cannot be read accepts nothing.
    pub async fn verify(&self, presented: &[u8]) -> bool {
        match &self.0 {
            TokenSource::Fixed(digest) => digest_matches(digest, presented),
            #[cfg(feature = "secrets-manager")]
            TokenSource::Secret { secret, recheck } => {
                let check = |value: &crate::secrets::SecretValue| {
                    digest_matches(&Sha256::digest(value.expose().as_bytes()).into(), presented)
                };
                match secret.get().await {
                    Ok(value) if check(&value) => true,
                    Ok(_) => match secret.read_if_older_than(*recheck).await {
                        Ok(value) => check(&value),
                        Err(_) => false,
                    },
                    Err(e) => {
                        tracing::error!(error = %e, "the registration token cannot be read");
                        false
                    }
                }
            }
        }
    }

    /// The token from AWS Secrets Manager (a name or an ARN): the secret's
    /// string value, plain or JSON with a `token` field, read now (so that
    /// a bad setting fails at start-up) and re-read every minute, or within
    /// 5 s of a server presenting a token that does not match.
    ///
    /// # Errors
    /// The secret cannot be read or is empty.
    #[cfg(feature = "secrets-manager")]
    #[cfg_attr(docsrs, doc(cfg(feature = "secrets-manager")))]
    pub async fn from_secret(secret_id: &str) -> Result<Self, RegistryError> {
        let secret =
            crate::secrets::CachedSecret::new(secret_id).json_field("token").ttl(std::time::Duration::from_secs(60));
        Self::from_cached_secret(secret, std::time::Duration::from_secs(5)).await
    }

    /// The token kept in `secret`, re-read when its TTL runs out and, when
    /// a presented token does not match, if the value is older than
    /// `recheck`: a rotation is seen within the TTL, and a server already
    /// holding the new token waits at most `recheck`.
    ///
    /// # Errors
    /// The secret cannot be read now, or is empty.
    #[cfg(feature = "secrets-manager")]
    #[cfg_attr(docsrs, doc(cfg(feature = "secrets-manager")))]
    pub async fn from_cached_secret(
        secret: crate::secrets::CachedSecret,
        recheck: std::time::Duration,
    ) -> Result<Self, RegistryError> {
        secret
            .get()
            .await
            .map_err(|e| RegistryError::Config { variable: "MCP_REGISTRATION_TOKEN_SECRET", reason: e.to_string() })?;
        Ok(Self(TokenSource::Secret { secret, recheck }))
    }
}

/// Who may read the registry without the registration token: callers the
/// auth layer accepts (API keys, OAuth bearer tokens, API Gateway's
/// authorizer) holding the read permission (`read:registry` by default).
/// They may list and get **active** servers only; every write, and the
/// other statuses, still need the registration token.
///
/// ```
/// use mcp_aws::auth::{ApiKeyRecord, ApiKeys, AuthLayer, InMemoryApiKeyStore};
/// use mcp_aws::registry::service::RegistryReaders;
///
/// let keys = InMemoryApiKeyStore::new();
/// keys.insert(ApiKeyRecord::new("agent-key", "agent-1", ["read:registry"]));
/// let readers = RegistryReaders::new(AuthLayer::new().api_keys(ApiKeys::new(keys)));
/// # let _ = readers;
/// ```
#[cfg(feature = "auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth")))]
#[derive(Clone, Debug)]
pub struct RegistryReaders {
    auth: crate::auth::AuthLayer,
    permission: String,
}

#[cfg(feature = "auth")]
impl RegistryReaders {
    /// Readers authenticated by `auth`, needing `read:registry`.
    pub fn new(auth: crate::auth::AuthLayer) -> Self {
        Self { auth, permission: "read:registry".to_owned() }
    }

    /// The permission (or scope) a reader needs instead of `read:registry`.
    #[must_use]
    pub fn permission(mut self, permission: impl Into<String>) -> Self {
        self.permission = permission.into();
        self
    }
}

#[derive(Clone, Debug)]
struct AppState {
    registry: DynamoDbRegistry,
    token: RegistrationToken,
    #[cfg(feature = "auth")]
    readers: Option<Arc<RegistryReaders>>,
}

/// The registry service's routes on `registry`, accepting `token`:
///
/// | route | answer |
/// |---|---|
/// | `POST /mcp/register` | 201 `{"server_id","version","status","created_at","updated_at"}` |
/// | `GET /mcp/servers[?status=active]` | 200 `{"servers":[...],"skipped":0,"skipped_items":[]}` |
/// | `GET /mcp/servers/{server_id}/{version}` | 200 the entry, 404 |
/// | `POST /mcp/servers/{server_id}/{version}/decommission` | 200 the entry, 404 |
/// | `GET /health` | 200, or 503 when the table is unreachable (no token) |
///
/// A registration body may leave out `server_id`, `version` and
/// `health_check_url`, as the integration guide's self-registration does;
/// see [`Registration::from_json`] for the defaults.
///
/// The listing skips table items it cannot read instead of failing:
/// `skipped` counts them and `skipped_items` names each one's key and the
/// field at fault (`{"server_id","version","field","reason"}`).
pub fn router(registry: DynamoDbRegistry, token: RegistrationToken) -> Router {
    routes(AppState {
        registry,
        token,
        #[cfg(feature = "auth")]
        readers: None,
    })
}

/// [`router`], whose read routes (`GET /mcp/servers`, `GET
/// /mcp/servers/{server_id}/{version}`) also answer `readers` without the
/// registration token, with the **active** servers only: a reader's list is
/// that of `?status=active` (another `status` is 403), and an entry that is
/// not active is 404 to a reader. A request carrying `X-Registration-Token`
/// is judged by the token alone; one without it by the auth layer (401 with
/// `WWW-Authenticate` without credentials or with bad ones, 403 without the
/// permission).
#[cfg(feature = "auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth")))]
pub fn router_with_readers(registry: DynamoDbRegistry, token: RegistrationToken, readers: RegistryReaders) -> Router {
    routes(AppState { registry, token, readers: Some(Arc::new(readers)) })
}

fn routes(state: AppState) -> Router {
    Router::new()
        .route("/mcp/register", post(register))
        .route("/mcp/servers", get(list))
        .route("/mcp/servers/{server_id}/{version}", get(get_one))
        .route("/mcp/servers/{server_id}/{version}/decommission", post(decommission))
        .route("/health", get(health))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such route") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Serves `router` as a Lambda function behind API Gateway, a Function URL
/// or an ALB.
///
/// # Errors
/// The Lambda runtime failed.
pub async fn run_lambda(router: Router) -> Result<(), crate::lambda::LambdaError> {
    lambda_http::run(router).await.map_err(crate::lambda::LambdaError::from)
}

/// Serves `router` as a Lambda function (as [`run_lambda`]) that also
/// answers EventBridge scheduled events with one round of `checker`
/// ([`HealthChecker::handle_event`]): one function both serves the API and
/// keeps the statuses true, on a `Schedule` event source.
///
/// # Errors
/// The Lambda runtime failed.
pub async fn run_lambda_with_checker(router: Router, checker: HealthChecker) -> Result<(), crate::lambda::LambdaError> {
    use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
    use lambda_http::request::LambdaRequest;
    use lambda_http::{Adapter, Service as _};

    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let (router, checker) = (router.clone(), checker.clone());
        async move {
            if is_scheduled_event(&event.payload) {
                let report = checker.handle_event(&event.payload).await?;
                return Ok::<_, lambda_http::Error>(serde_json::to_value(report)?);
            }
            let request: LambdaRequest = serde_json::from_value(event.payload)?;
            // axum's router is always ready.
            let mut adapter: Adapter<'_, _, Router> = Adapter::from(router);
            let response = adapter.call(LambdaEvent::new(request, event.context)).await?;
            Ok(serde_json::to_value(response)?)
        }
    }))
    .await
    .map_err(crate::lambda::LambdaError::from)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

/// A [`RegistryError`] as the service's answer. Storage failures are logged
/// and reported without their details.
fn failure(e: &RegistryError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!(error = %e, "registry service failure");
        return error(status, "the registry is unavailable; try again");
    }
    error(status, e.to_string())
}

/// The request carried the right token.
struct Authorized;

impl FromRequestParts<AppState> for Authorized {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let presented = parts.headers.get(TOKEN_HEADER).map(http::HeaderValue::as_bytes).unwrap_or_default();
        // A missing token is checked like a wrong one: same time, same answer.
        if state.token.verify(presented).await {
            Ok(Authorized)
        } else {
            Err(error(StatusCode::UNAUTHORIZED, "missing or invalid registration token"))
        }
    }
}

/// A caller of the read routes: the token's holder sees every entry, a
/// reader ([`RegistryReaders`]) the active ones.
enum Reader {
    Token,
    #[cfg_attr(not(feature = "auth"), allow(dead_code))]
    ActiveOnly,
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        #[cfg(feature = "auth")]
        if let Some(readers) = &state.readers
            && !parts.headers.contains_key(TOKEN_HEADER)
        {
            return match readers.auth.authorize_http(&parts.headers, &parts.extensions, &[&readers.permission]).await {
                Ok(principal) => {
                    tracing::debug!(subject = %principal.subject, "registry read by a reader");
                    Ok(Reader::ActiveOnly)
                }
                Err(e) => Err(refusal(&e)),
            };
        }
        Authorized::from_request_parts(parts, state).await.map(|Authorized| Reader::Token)
    }
}

/// An auth refusal as the service's answer, with its challenge.
#[cfg(feature = "auth")]
fn refusal(e: &crate::auth::AuthError) -> Response {
    let status = e.http_status();
    let mut response = error(status, e.to_string());
    if let Some(challenge) = e.www_authenticate(None)
        && let Ok(value) = http::HeaderValue::from_str(&challenge)
    {
        response.headers_mut().insert(http::header::WWW_AUTHENTICATE, value);
    }
    response
}

async fn register(_: Authorized, State(state): State<AppState>, body: Bytes) -> Response {
    let registration = match Registration::from_json(&body) {
        Ok(r) => r,
        Err(e) => return failure(&e),
    };
    match state.registry.upsert(&registration).await {
        Ok(stored) => (
            StatusCode::CREATED,
            axum::Json(json!({
                "server_id": stored.server_id,
                "version": stored.version,
                "status": stored.status,
                "created_at": stored.created_at,
                "updated_at": stored.updated_at,
            })),
        )
            .into_response(),
        Err(e) => failure(&e),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
}

async fn list(
    reader: Reader,
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let query = match query {
        Ok(Query(q)) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("query: {}", e.body_text())),
    };
    let status = match query.status {
        None => None,
        Some(s) => match Status::from_wire(&s) {
            Some(s) => Some(s),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("status: {s:?} is not active, unhealthy or decommissioned"),
                );
            }
        },
    };
    let status = match (reader, status) {
        (Reader::Token, status) => status,
        (Reader::ActiveOnly, None | Some(Status::Active)) => Some(Status::Active),
        (Reader::ActiveOnly, Some(other)) => {
            return error(StatusCode::FORBIDDEN, format!("status: readers see active servers only, not {other}"));
        }
    };
    match state.registry.list_report(status).await {
        Ok(listing) => axum::Json(json!({
            "servers": listing.servers,
            "skipped": listing.skipped.len(),
            "skipped_items": listing.skipped,
        }))
        .into_response(),
        Err(e) => failure(&e),
    }
}

async fn get_one(
    reader: Reader,
    State(state): State<AppState>,
    Path((id, version)): Path<(String, String)>,
) -> Response {
    match state.registry.get(&id, &version).await {
        Ok(Some(entry)) if matches!(reader, Reader::Token) || entry.status == Status::Active => {
            axum::Json(entry).into_response()
        }
        Ok(Some(_)) | Ok(None) => failure(&RegistryError::NotFound { server_id: id, version }),
        Err(e) => failure(&e),
    }
}

async fn decommission(
    _: Authorized,
    State(state): State<AppState>,
    Path((id, version)): Path<(String, String)>,
) -> Response {
    match state.registry.decommission(&id, &version).await {
        Ok(entry) => axum::Json(entry).into_response(),
        Err(e) => failure(&e),
    }
}

async fn health(State(state): State<AppState>) -> Response {
    let registry = state.registry.clone();
    let health = crate::health::Health::new().check("registry", move || {
        let registry = registry.clone();
        async move { registry.check().await.map_err(|e| e.to_string()) }
    });
    health.respond(&http::Method::GET).await.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokens_match_only_themselves() {
        let token = RegistrationToken::new("s3cret");
        assert!(token.verify(b"s3cret").await);
        assert!(!token.verify(b"s3cres").await);
        assert!(!token.verify(b"s3cret ").await);
        assert!(!token.verify(b"").await);
        assert!(!RegistrationToken::new("").verify(b"").await);
        assert_eq!(format!("{token:?}"), "RegistrationToken(..)");
    }
}
