//! [`AuthLayer`]: the configuration (which credentials are accepted, what
//! each target requires), and the tower layer applying it.

use std::fmt;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, header};
use mcp_core::jsonrpc::Response;
use mcp_core::server::{Principal, ServerRequest};
use tower_layer::Layer;

use super::Auth;
use super::api_key::{ApiKeyRecord, ApiKeys};
use super::error::AuthError;
use super::jwt::JwtVerifier;
use super::metadata::ProtectedResourceMetadata;
use super::permissions::Requirements;

/// Authenticates every request and checks what its target requires. See
/// the [module docs](super).
///
/// Cheap to clone; services it builds share its caches.
#[derive(Clone)]
#[must_use]
pub struct AuthLayer {
    pub(super) config: Arc<AuthConfig>,
}

/// What [`AuthLayer`] holds.
#[derive(Clone)]
pub(super) struct AuthConfig {
    api_keys: Option<ApiKeys>,
    api_key_header: HeaderName,
    api_keys_as_bearer: bool,
    jwt: Option<JwtVerifier>,
    requirements: Requirements,
    pub(super) resource_metadata: Option<String>,
    headerless: Option<Principal>,
    hide_forbidden_tools: bool,
    trust_gateway: bool,
}

impl fmt::Debug for AuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        f.debug_struct("AuthLayer")
            .field("api_keys", &c.api_keys)
            .field("api_key_header", &c.api_key_header)
            .field("api_keys_as_bearer", &c.api_keys_as_bearer)
            .field("jwt", &c.jwt)
            .field("requirements", &c.requirements)
            .field("resource_metadata", &c.resource_metadata)
            .field("headerless", &c.headerless)
            .field("hide_forbidden_tools", &c.hide_forbidden_tools)
            .field("trust_gateway", &c.trust_gateway)
            .finish()
    }
}

impl Default for AuthLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl AuthLayer {
    /// A layer accepting nothing yet: add [`api_keys`](Self::api_keys) or
    /// [`jwt`](Self::jwt) (without either, every request is refused).
    pub fn new() -> Self {
        Self {
            config: Arc::new(AuthConfig {
                api_keys: None,
                api_key_header: HeaderName::from_static("x-api-key"),
                api_keys_as_bearer: false,
                jwt: None,
                requirements: Requirements::new(),
                resource_metadata: None,
                headerless: None,
                hide_forbidden_tools: true,
                trust_gateway: false,
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut AuthConfig)) -> Self {
        f(Arc::make_mut(&mut self.config));
        self
    }

    /// Accepts API keys verified by `keys`, from the `x-api-key` header (or
    /// the one [`api_key_header`](Self::api_key_header) names).
    pub fn api_keys(self, keys: ApiKeys) -> Self {
        self.edit(|c| c.api_keys = Some(keys))
    }

    /// Reads API keys from this header instead of `x-api-key`.
    pub fn api_key_header(self, name: HeaderName) -> Self {
        self.edit(|c| c.api_key_header = name)
    }

    /// Also accepts API keys as `Authorization: Bearer <key>` (a bearer
    /// value that is not a JWT is then looked up as a key).
    pub fn api_keys_as_bearer(self, yes: bool) -> Self {
        self.edit(|c| c.api_keys_as_bearer = yes)
    }

    /// Accepts bearer tokens validated by `verifier`.
    pub fn jwt(self, verifier: JwtVerifier) -> Self {
        self.edit(|c| c.jwt = Some(verifier))
    }

    /// What each tool, prompt or resource requires.
    pub fn requirements(self, requirements: Requirements) -> Self {
        self.edit(|c| c.requirements = requirements)
    }

    /// Names the protected-resource metadata in every challenge
    /// (`resource_metadata="…"`), so that clients find the authorization
    /// server.
    pub fn resource_metadata(self, metadata: &ProtectedResourceMetadata) -> Self {
        let url = metadata.url();
        self.edit(|c| c.resource_metadata = Some(url))
    }

    /// Whether `tools/list` leaves out the tools the caller may not call
    /// (default true). Off, the list shows every tool and calling one the
    /// caller lacks the requirements of is refused with 403.
    pub fn hide_forbidden_tools(self, hide: bool) -> Self {
        self.edit(|c| c.hide_forbidden_tools = hide)
    }

    /// Takes the caller API Gateway's authorizer already authenticated,
    /// from the Lambda request context, instead of asking for credentials
    /// (off by default; never implicit): a JWT authorizer's claims (HTTP
    /// APIs), a Cognito user pool authorizer's claims (REST APIs), a Lambda
    /// authorizer's `principalId` and context, or the IAM caller's ARN.
    /// Requests without such a caller still need credentials. Turn it on
    /// only where every route of the API has an authorizer: the request
    /// context comes from API Gateway, which a client cannot forge, but a
    /// route without an authorizer carries no caller. Needs feature
    /// `lambda`; without it there is no request context and this changes
    /// nothing.
    pub fn trust_gateway_authorizer(self, trust: bool) -> Self {
        self.edit(|c| c.trust_gateway = trust)
    }

    /// Requests that come without HTTP headers (stdio, in-process calls)
    /// run as `principal` instead of being refused.
    pub fn headerless_principal(self, principal: Principal) -> Self {
        self.edit(|c| c.headerless = Some(principal))
    }
}

impl AuthLayer {
    /// Authenticates a plain HTTP request outside the MCP dispatcher (a
    /// route beside MCP, such as the registry service's reads) as this
    /// layer does MCP requests: the caller its headers name (or, with
    /// [`trust_gateway_authorizer`](Self::trust_gateway_authorizer), API
    /// Gateway's authorizer from `extensions`), holding every permission
    /// or scope in `required`.
    ///
    /// # Errors
    /// As on MCP requests: [`AuthError::MissingCredentials`], an invalid
    /// token or refused key (401), and [`AuthError::InsufficientScope`]
    /// naming `required` (403).
    pub async fn authorize_http(
        &self,
        headers: &HeaderMap,
        extensions: &http::Extensions,
        required: &[&str],
    ) -> Result<Principal, AuthError> {
        let gateway = if self.config.trust_gateway { gateway_principal(extensions) } else { None };
        let principal = match gateway {
            Some(principal) => principal,
            None => self.config.authenticate(headers).await?.0,
        };
        if required.iter().all(|r| principal.satisfies(r)) {
            Ok(principal)
        } else {
            Err(AuthError::InsufficientScope(required.join(" ")))
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth { inner, config: Arc::clone(&self.config) }
    }
}

#[cfg(feature = "lambda")]
fn gateway_principal(extensions: &http::Extensions) -> Option<Principal> {
    super::gateway::principal(extensions)
}

#[cfg(not(feature = "lambda"))]
fn gateway_principal(_: &http::Extensions) -> Option<Principal> {
    None
}

/// A bearer value: a JWT has three dot-separated parts.
fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|b| *b == b'.').count() == 2
}

/// A header's value as visible ASCII, trimmed.
fn header_text<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<Result<&'a str, AuthError>> {
    headers.get(name).map(|v| {
        v.to_str()
            .map(str::trim)
            .ok()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| AuthError::InvalidToken(format!("malformed {name} header")))
    })
}

impl AuthConfig {
    /// Who sent `req`, if it may go on: authentication, then the target's
    /// requirements.
    pub(super) async fn admit(&self, req: &ServerRequest) -> Result<(Principal, Option<Arc<ApiKeyRecord>>), AuthError> {
        let gateway = if self.trust_gateway { gateway_principal(&req.extensions) } else { None };
        let (principal, record) = match (gateway, req.extensions.get::<HeaderMap>()) {
            (Some(principal), _) => (principal, None),
            (None, Some(headers)) => self.authenticate(headers).await?,
            (None, None) => (self.headerless.clone().ok_or(AuthError::MissingCredentials)?, None),
        };
        self.requirements.check(&principal, req.head())?;
        Ok((principal, record))
    }

    /// Whether `req`'s answer is a tool list to filter for its caller.
    pub(super) fn filters(&self, req: &ServerRequest) -> bool {
        self.hide_forbidden_tools
            && self.requirements.has_tool_requirements()
            && req.head().method() == Some(&mcp_core::server::Method::ToolsList)
    }

    /// `resp` without the tools `principal` may not call.
    pub(super) fn filter(&self, principal: &Principal, resp: Response) -> Response {
        self.requirements.filter_tool_list(principal, resp)
    }

    /// The caller the headers name: an API key in its header, else the
    /// `Authorization: Bearer` value (a JWT, or a key where allowed).
    async fn authenticate(&self, headers: &HeaderMap) -> Result<(Principal, Option<Arc<ApiKeyRecord>>), AuthError> {
        if let Some(keys) = &self.api_keys
            && let Some(key) = header_text(headers, &self.api_key_header)
        {
            let (principal, record) = keys.verify(key?).await?;
            return Ok((principal, Some(record)));
        }
        let Some(value) = header_text(headers, &header::AUTHORIZATION) else {
            return Err(AuthError::MissingCredentials);
        };
        let value = value?;
        let Some((scheme, token)) = value.split_once(' ') else {
            return Err(if value.eq_ignore_ascii_case("bearer") {
                AuthError::InvalidToken("malformed authorization header: empty bearer token".into())
            } else {
                // Another scheme (Basic...): no credentials this layer reads.
                AuthError::MissingCredentials
            });
        };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::MissingCredentials);
        }
        let token = token.trim();
        match (&self.jwt, &self.api_keys) {
            (Some(jwt), _) if looks_like_jwt(token) => Ok((jwt.verify(token).await?, None)),
            (_, Some(keys)) if self.api_keys_as_bearer => {
                let (principal, record) = keys.verify(token).await?;
                Ok((principal, Some(record)))
            }
            (Some(_), _) => Err(AuthError::InvalidToken("malformed token".into())),
            (None, _) => Err(AuthError::InvalidToken("bearer tokens are not accepted here".into())),
        }
    }
}
