//! Authentication and authorization as a tower layer over the dispatcher:
//! API keys (stored as SHA-256 hashes, in memory or in DynamoDB), OAuth 2.1
//! bearer tokens (JWTs validated against the issuer's JWKS: Cognito,
//! AgentCore's `customJWTAuthorizer`, any OIDC issuer), and per-tool
//! requirements.
//!
//! [`AuthLayer`] reads the credentials from the HTTP headers the transport
//! puts in [`ServerRequest::extensions`] (`x-api-key`, or
//! `Authorization: Bearer`), inserts the caller's [`Principal`] (and, for
//! an API key, its [`ApiKeyRecord`]) into the extensions for the layers and
//! handlers after it, and checks the [`Requirements`] of the tool, prompt
//! or resource named; `tools/list` leaves out the tools the caller may not
//! call ([`AuthLayer::hide_forbidden_tools`]). A refused request never
//! reaches the dispatcher:
//!
//! | refusal | JSON-RPC | HTTP (both eras) |
//! |---|---|---|
//! | no credentials | -31401 | 401, `WWW-Authenticate: Bearer resource_metadata="…"` |
//! | bad token or key | -31401, `data.error = "invalid_token"` | 401, `Bearer error="invalid_token", …` |
//! | missing scope or permission | -31403, `data.error = "insufficient_scope"`, `data.scope` | 403, `Bearer error="insufficient_scope", scope="…", …` |
//!
//! Every message needs credentials, `initialize` included (a legacy
//! client's OAuth flow starts from its 401). Refused notifications and
//! client responses are dropped without reaching the dispatcher (they have
//! no reply to carry an error; over HTTP they still get 202). Requests
//! without HTTP headers (stdio) are refused unless the layer has a
//! [headerless principal](AuthLayer::headerless_principal). The health
//! endpoint, the metadata document ([`WithMetadata`]) and CORS preflights
//! are answered before the layer and stay open. Tokens are validated, never
//! passed on.
//!
//! ```
//! use mcp_aws::auth::{ApiKeyRecord, ApiKeys, AuthLayer, InMemoryApiKeyStore, Requirements};
//! use mcp_core::server::ServerBuilder;
//!
//! let keys = InMemoryApiKeyStore::new();
//! keys.insert(ApiKeyRecord::new("the-key", "alice", ["execute:*"]));
//! let server = ServerBuilder::new("demo", "1.0.0").build().expect("valid");
//! let app = server.layer(
//!     AuthLayer::new()
//!         .api_keys(ApiKeys::new(keys))
//!         .requirements(Requirements::new().tool("drop_tables", ["admin:db"])),
//! );
//! # let _ = app;
//! ```
//!
//! Deployments configure it from the environment without code
//! ([`AuthSettings`](crate::config::AuthSettings): `MCP_AUTH_DISCOVERY_URL`,
//! `MCP_AUTH_AUDIENCE`, `MCP_AUTH_ALLOWED_CLIENTS`, `MCP_API_KEYS_TABLE`...;
//! see [`ConfiguredAuth`]), which `mcp_aws::run` applies, serving the
//! metadata document beside `/health`.
//!
//! Secrets stay out of logs, spans and errors: a key is named by the first
//! 8 hex digits of its hash, a token not at all.

mod api_key;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod error;
#[cfg(feature = "lambda")]
mod gateway;
mod jwks;
mod jwt;
mod layer;
mod metadata;
mod permissions;
mod settings;

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use mcp_core::jsonrpc::Response;
use mcp_core::server::{BoxError, BoxFuture, Principal, ServerRequest};
use tower_service::Service;

pub use api_key::{ApiKeyRecord, ApiKeyStore, ApiKeys, InMemoryApiKeyStore, hash_key};
#[cfg(feature = "dynamodb")]
#[cfg_attr(docsrs, doc(cfg(feature = "dynamodb")))]
pub use dynamodb::DynamoDbApiKeyStore;
pub use error::{AuthError, KeyRefusal, StoreError};
pub use jwt::{JwtConfig, JwtVerifier};
pub use layer::AuthLayer;
pub use metadata::{ProtectedResourceMetadata, WELL_KNOWN_PATH, WithMetadata};
pub use permissions::Requirements;
pub use settings::ConfiguredAuth;

use layer::AuthConfig;

/// The authenticating service [`AuthLayer`] builds. Cheap to clone.
#[derive(Clone)]
pub struct Auth<S> {
    inner: S,
    config: Arc<AuthConfig>,
}

impl<S> fmt::Debug for Auth<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth").finish_non_exhaustive()
    }
}

crate::inner_accessors!(Auth);

impl<S> Service<ServerRequest> for Auth<S>
where
    S: Service<ServerRequest, Response = Option<Response>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
{
    type Response = Option<Response>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Option<Response>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut req: ServerRequest) -> Self::Future {
        // The ready service goes into the future; a clone stays behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let config = Arc::clone(&self.config);
        Box::pin(async move {
            match config.admit(&req).await {
                Ok((principal, record)) => {
                    let filter = config.filters(&req).then(|| principal.clone());
                    req.extensions.insert::<Principal>(principal);
                    if let Some(record) = record {
                        req.extensions.insert::<Arc<ApiKeyRecord>>(record);
                    }
                    let resp = inner.call(req).await.map_err(Into::into)?;
                    Ok(match filter {
                        Some(principal) => resp.map(|r| config.filter(&principal, r)),
                        None => resp,
                    })
                }
                Err(e) => {
                    let head = req.head();
                    tracing::debug!(reason = %e, method = head.method().map(|m| m.as_str()), "request refused by auth");
                    // Nothing runs. A notification or a client's response
                    // gets the refusal too, without an id: over HTTP it
                    // is a real 401/403 rather than a 202 for a message
                    // that went nowhere; stdio drops it.
                    Ok(Some(e.to_response(head.id().cloned(), config.resource_metadata.as_deref())))
                }
            }
        })
    }
}
