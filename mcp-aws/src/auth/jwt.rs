//! OAuth 2.1 bearer tokens: [`JwtConfig`] (mirroring AgentCore's
//! `customJWTAuthorizer`) and [`JwtVerifier`], which validates JWT access
//! tokens against the issuer's keys and caches verified tokens until they
//! expire.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, Validation};
use mcp_core::server::Principal;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::error::AuthError;
use super::jwks::{Jwks, KeySource, allowed_url};

/// The algorithm named `alg`, if this layer accepts it: RS256, ES256 or
/// PS256.
pub(super) fn accepted_algorithm(alg: &str) -> Option<Algorithm> {
    match alg {
        "RS256" => Some(Algorithm::RS256),
        "ES256" => Some(Algorithm::ES256),
        "PS256" => Some(Algorithm::PS256),
        _ => None,
    }
}

/// How bearer tokens are validated: where the issuer's keys are, and which
/// claims a token must carry. [`JwtVerifier`] lists the checks.
///
/// ```
/// use mcp_aws::auth::JwtConfig;
///
/// // Cognito, as AgentCore's customJWTAuthorizer configures it.
/// let config = JwtConfig::discovery(
///     "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc/.well-known/openid-configuration",
/// )
/// .allowed_clients(["4abc5client"])
/// .required_scopes(["mcp/tools"]);
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct JwtConfig {
    pub(super) source: KeySource,
    pub(super) issuer: Option<String>,
    pub(super) audiences: Vec<String>,
    pub(super) allowed_clients: Vec<String>,
    pub(super) required_scopes: Vec<String>,
    pub(super) leeway: Duration,
    pub(super) refresh_interval: Duration,
    pub(super) fetch_timeout: Duration,
}

impl JwtConfig {
    fn with_source(source: KeySource, issuer: Option<String>) -> Self {
        Self {
            source,
            issuer,
            audiences: Vec::new(),
            allowed_clients: Vec::new(),
            required_scopes: Vec::new(),
            leeway: Duration::from_secs(60),
            refresh_interval: Duration::from_secs(60),
            fetch_timeout: Duration::from_secs(5),
        }
    }

    /// Keys and issuer from an OIDC discovery document (`discoveryUrl`).
    pub fn discovery(url: impl Into<String>) -> Self {
        Self::with_source(KeySource::Discovery(url.into()), None)
    }

    /// Keys from a JWKS URL, tokens from `issuer`.
    pub fn jwks(url: impl Into<String>, issuer: impl Into<String>) -> Self {
        Self::with_source(KeySource::Jwks(url.into()), Some(issuer.into()))
    }

    /// Requires `iss` to be `issuer` (with discovery, instead of the
    /// document's own `issuer`).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Accepts tokens whose `aud` holds one of these (`allowedAudience`;
    /// RFC 8707: the server's resource URL).
    pub fn audience<I: IntoIterator<Item = T>, T: Into<String>>(mut self, audiences: I) -> Self {
        self.audiences = audiences.into_iter().map(Into::into).collect();
        self
    }

    /// Accepts tokens whose `client_id` is one of these (`allowedClients`).
    pub fn allowed_clients<I: IntoIterator<Item = T>, T: Into<String>>(mut self, clients: I) -> Self {
        self.allowed_clients = clients.into_iter().map(Into::into).collect();
        self
    }

    /// Requires every one of these scopes.
    pub fn required_scopes<I: IntoIterator<Item = T>, T: Into<String>>(mut self, scopes: I) -> Self {
        self.required_scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Clock skew tolerated on `exp` and `nbf` (default 60 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The JWKS is fetched again for an unknown `kid` at most this often
    /// (default 60 s).
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh_interval = interval;
        self
    }

    /// How long a discovery or JWKS fetch may take (default 5 s).
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// The scopes every token must have.
    pub fn scopes(&self) -> &[String] {
        &self.required_scopes
    }
}

/// A verified token, cached until it expires.
#[derive(Clone)]
struct Verified {
    principal: Principal,
    exp: u64,
}

/// Validates bearer tokens, and caches those it accepted (by SHA-256,
/// up to 10 000) until they expire: a token accepted once stays accepted
/// until its `exp`, even if the issuer withdraws its key meanwhile. Cheap
/// to clone; clones share the key and token caches.
///
/// A token is accepted when:
///
/// - its `alg` is RS256, ES256 or PS256 (`none` and HMAC are refused, so a
///   token "signed" with the public key as an HMAC secret never verifies)
///   and matches its key's type, and the signature verifies with the key
///   its `kid` names in the issuer's JWKS;
/// - `exp` is in the future and `nbf`, if present, in the past, both with
///   [`leeway`](JwtConfig::leeway) (default 60 s);
/// - `iss` is the configured (or discovered) issuer;
/// - `aud` holds one of the [audiences](JwtConfig::audience) (RFC 8707:
///   the server's own resource URL), when any are configured;
/// - `client_id` is one of the [allowed clients](JwtConfig::allowed_clients),
///   when any are configured (Cognito access tokens carry no `aud`);
/// - `token_use`, when present (Cognito), is `access`: ID tokens are
///   refused;
/// - it has every [required scope](JwtConfig::required_scopes) (`scope`,
///   space-separated, or `scp`); a token without one is refused with 403
///   `insufficient_scope`.
///
/// At least one of audiences and allowed clients must be configured.
#[derive(Clone)]
pub struct JwtVerifier {
    config: Arc<JwtConfig>,
    jwks: Arc<Jwks>,
    verified: Arc<quick_cache::sync::Cache<[u8; 32], Verified>>,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier").field("config", &self.config).field("jwks", &self.jwks).finish_non_exhaustive()
    }
}

/// Now, in seconds since the Unix epoch.
fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl JwtVerifier {
    /// A verifier for `config`. Keys are fetched on first use.
    ///
    /// # Errors
    /// [`AuthError::Unavailable`] when the configuration cannot work:
    /// neither audiences nor allowed clients, a URL that is not HTTPS (plain
    /// HTTP is accepted on loopback only), or no TLS roots.
    pub fn new(config: JwtConfig) -> Result<Self, AuthError> {
        if config.audiences.is_empty() && config.allowed_clients.is_empty() {
            return Err(AuthError::Unavailable(
                "a JWT configuration needs an audience or allowed clients, or any token from the issuer would do"
                    .into(),
            ));
        }
        let (KeySource::Discovery(url) | KeySource::Jwks(url)) = &config.source;
        allowed_url(url).map_err(AuthError::Unavailable)?;
        let jwks = Jwks::new(config.source.clone(), config.refresh_interval, config.fetch_timeout)?;
        Ok(Self {
            config: Arc::new(config),
            jwks: Arc::new(jwks),
            verified: Arc::new(quick_cache::sync::Cache::new(10_000)),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &JwtConfig {
        &self.config
    }

    /// The principal `token` stands for: its `sub` (or `client_id`), its
    /// scopes, and its claims.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] for a token that fails a check,
    /// [`AuthError::InsufficientScope`] for one without a required scope.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(hit) = self.verified.get(&digest)
            && hit.exp > now_secs()
        {
            return Ok(hit.principal);
        }
        let (principal, exp) = self.verify_uncached(token).await?;
        self.verified.insert(digest, Verified { principal: principal.clone(), exp });
        Ok(principal)
    }

    async fn verify_uncached(&self, token: &str) -> Result<(Principal, u64), AuthError> {
        let invalid = |why: &str| AuthError::InvalidToken(why.to_owned());
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("malformed token"))?;
        let alg = match header.alg {
            alg @ (Algorithm::RS256 | Algorithm::ES256 | Algorithm::PS256) => alg,
            _ => return Err(invalid("unsupported algorithm: only RS256, ES256 and PS256 are accepted")),
        };
        let key = self.jwks.key(header.kid.as_deref(), alg).await?;
        let issuer = match &self.config.issuer {
            Some(issuer) => issuer.clone(),
            None => self.jwks.discovered_issuer().await?.ok_or_else(|| invalid("the issuer is not known"))?,
        };
        let mut validation = Validation::new(alg);
        validation.leeway = self.config.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.set_issuer(&[issuer]);
        if self.config.audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&self.config.audiences);
        }
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            invalid(match e.kind() {
                ErrorKind::ExpiredSignature => "token expired",
                ErrorKind::ImmatureSignature => "token not yet valid",
                ErrorKind::InvalidIssuer => "wrong issuer",
                ErrorKind::InvalidAudience => "wrong audience",
                ErrorKind::InvalidSignature => "bad signature",
                ErrorKind::InvalidAlgorithm => "the token's algorithm does not match its key",
                ErrorKind::MissingRequiredClaim(_) => "a required claim (exp, iss, aud) is missing",
                _ => "malformed token",
            })
        })?;
        let claims = data.claims;
        self.check_claims(&claims)?;
        let str_claim = |name: &str| claims.get(name).and_then(Value::as_str);
        let subject = str_claim("sub").or_else(|| str_claim("client_id")).ok_or_else(|| invalid("no subject"))?;
        let scopes = scopes_of(&claims);
        if let Some(missing) = self.config.required_scopes.iter().find(|s| !scopes.contains(s)) {
            tracing::debug!(scope = %missing, "token lacks a required scope");
            return Err(AuthError::InsufficientScope(self.config.required_scopes.join(" ")));
        }
        let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
        let principal = Principal::new(subject).with_scopes(scopes).with_claims(Value::Object(claims));
        Ok((principal, exp))
    }

    /// The checks beyond jsonwebtoken's: `client_id` and `token_use`.
    fn check_claims(&self, claims: &Map<String, Value>) -> Result<(), AuthError> {
        let str_claim = |name: &str| claims.get(name).and_then(Value::as_str);
        if str_claim("token_use").is_some_and(|u| u != "access") {
            return Err(AuthError::InvalidToken("not an access token (token_use)".into()));
        }
        if !self.config.allowed_clients.is_empty()
            && !str_claim("client_id").is_some_and(|c| self.config.allowed_clients.iter().any(|a| a == c))
        {
            return Err(AuthError::InvalidToken("client not allowed".into()));
        }
        Ok(())
    }
}

/// A token's scopes: `scope` (space-separated) or `scp` (a list or a
/// string).
fn scopes_of(claims: &Map<String, Value>) -> Vec<String> {
    match claims.get("scope").or_else(|| claims.get("scp")) {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}
