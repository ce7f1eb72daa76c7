//! The issuer's signing keys: fetched from its JWKS (found through OIDC
//! discovery, or given directly), cached, and refreshed when a token names
//! a key id not seen yet, at most once per refresh interval so that forged
//! `kid`s cannot make the server hammer the issuer.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use super::error::AuthError;
use crate::http_client::HttpClient;

/// Where the keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum KeySource {
    /// An OIDC discovery document (`.../.well-known/openid-configuration`)
    /// naming `jwks_uri` and `issuer`.
    Discovery(String),
    /// The JWKS itself.
    Jwks(String),
}

/// One usable key: the decoding key and the algorithm its JWK pins, if any.
struct Key {
    key: Arc<DecodingKey>,
    alg: Option<Algorithm>,
}

/// When and what was last fetched.
#[derive(Default)]
struct Refresh {
    /// The last fetch, of any kind.
    last: Option<Instant>,
    /// The last fetch for a key id not in the cache.
    for_unknown_kid: Option<Instant>,
    jwks_uri: Option<String>,
    issuer: Option<String>,
}

/// The key cache. Cheap to share behind an `Arc`.
pub(super) struct Jwks {
    source: KeySource,
    client: HttpClient,
    keys: RwLock<Arc<HashMap<String, Key>>>,
    refresh: tokio::sync::Mutex<Refresh>,
    interval: Duration,
    timeout: Duration,
}

impl fmt::Debug for Jwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.keys.read().map_or(0, |k| k.len());
        f.debug_struct("Jwks").field("source", &self.source).field("keys", &keys).finish_non_exhaustive()
    }
}

impl Jwks {
    pub(super) fn new(source: KeySource, interval: Duration, timeout: Duration) -> Result<Self, AuthError> {
        let client = HttpClient::new().map_err(|e| AuthError::Unavailable(e.to_string()))?;
        Ok(Self {
            source,
            client,
            keys: RwLock::new(Arc::new(HashMap::new())),
            refresh: tokio::sync::Mutex::new(Refresh::default()),
            interval,
            timeout,
        })
    }

    /// The issuer the discovery document names, once fetched.
    pub(super) async fn discovered_issuer(&self) -> Result<Option<String>, AuthError> {
        let mut refresh = self.refresh.lock().await;
        if refresh.last.is_none() {
            self.fetch(&mut refresh).await;
        }
        Ok(refresh.issuer.clone())
    }

    /// The key for a token signed with `alg` naming `kid`: from the cache,
    /// or after one refresh (rate-limited) when the id is new.
    pub(super) async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<DecodingKey>, AuthError> {
        if let Some(key) = self.lookup(kid, alg)? {
            return Ok(key);
        }
        let mut refresh = self.refresh.lock().await;
        // Another request may have refreshed while this one waited.
        if let Some(key) = self.lookup(kid, alg)? {
            return Ok(key);
        }
        // The first fetch is always due; after it, an unknown kid may cause
        // one refresh per interval.
        if refresh.last.is_none() {
            self.fetch(&mut refresh).await;
        } else if refresh.for_unknown_kid.is_none_or(|at| at.elapsed() >= self.interval) {
            refresh.for_unknown_kid = Some(Instant::now());
            self.fetch(&mut refresh).await;
        }
        drop(refresh);
        self.lookup(kid, alg)?.ok_or_else(|| AuthError::InvalidToken("unknown signing key".into()))
    }

    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Result<Option<Arc<DecodingKey>>, AuthError> {
        let keys = Arc::clone(&self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner));
        let found = match kid {
            Some(kid) => keys.get(kid),
            // No `kid`: only unambiguous with a single key.
            None if keys.len() == 1 => keys.values().next(),
            None => None,
        };
        let Some(found) = found else { return Ok(None) };
        if found.alg.is_some_and(|a| a != alg) || found.key.family() != alg.family() {
            return Err(AuthError::InvalidToken("the token's algorithm does not match its key".into()));
        }
        Ok(Some(Arc::clone(&found.key)))
    }

    /// Fetches discovery (once) and the JWKS, replacing the cached keys on
    /// success; failures are logged and leave the cache as it was.
    async fn fetch(&self, refresh: &mut Refresh) {
        refresh.last = Some(Instant::now());
        match self.fetch_keys(refresh).await {
            Ok(keys) => {
                tracing::debug!(keys = keys.len(), "fetched the issuer's signing keys");
                *self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(keys);
            }
            Err(e) => tracing::warn!(error = %e, "could not fetch the issuer's signing keys"),
        }
    }

    async fn fetch_keys(&self, refresh: &mut Refresh) -> Result<HashMap<String, Key>, String> {
        let jwks_uri = match (&self.source, &refresh.jwks_uri) {
            (KeySource::Jwks(url), _) => url.clone(),
            (KeySource::Discovery(_), Some(uri)) => uri.clone(),
            (KeySource::Discovery(url), None) => {
                let doc = self.get_json(url).await?;
                let uri = doc.get("jwks_uri").and_then(Value::as_str).ok_or("discovery document has no jwks_uri")?;
                allowed_url(uri)?;
                let issuer = doc.get("issuer").and_then(Value::as_str).ok_or("discovery document has no issuer")?;
                // OIDC Discovery §4.3: the document is the issuer's own.
                if !url.starts_with(issuer.trim_end_matches('/')) {
                    return Err(format!("{url}: names issuer {issuer}, which it does not belong to"));
                }
                refresh.issuer = Some(issuer.to_owned());
                refresh.jwks_uri = Some(uri.to_owned());
                uri.to_owned()
            }
        };
        let set = self.get_json(&jwks_uri).await?;
        Ok(parse_jwks(&set))
    }

    async fn get_json(&self, url: &str) -> Result<Value, String> {
        let answer = self
            .client
            .send(Method::GET, url, &[("accept", "application/json")], None, self.timeout)
            .await
            .map_err(|e| e.to_string())?;
        if answer.status != StatusCode::OK {
            return Err(format!("{url}: HTTP {}", answer.status));
        }
        serde_json::from_slice(&answer.body).map_err(|e| format!("{url}: not JSON: {e}"))
    }
}

/// Whether the issuer may be fetched from `url`: HTTPS, or plain HTTP to a
/// loopback address (local test issuers).
pub(super) fn allowed_url(url: &str) -> Result<(), String> {
    let uri: http::Uri = url.parse().map_err(|_| format!("{url}: not a URL"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("https"), Some(_)) => Ok(()),
        (Some("http"), Some(host)) if is_loopback(host) => Ok(()),
        _ => Err(format!("{url}: the issuer must be fetched over https (plain http only on loopback)")),
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The signature keys of a JWK set this layer can use: RSA, and EC on
/// P-256; others (symmetric, encryption keys, other curves) are skipped.
fn parse_jwks(set: &Value) -> HashMap<String, Key> {
    let mut keys = HashMap::new();
    for jwk in set.get("keys").and_then(Value::as_array).into_iter().flatten() {
        let field = |name: &str| jwk.get(name).and_then(Value::as_str);
        if field("use").is_some_and(|u| u != "sig") {
            continue;
        }
        let key = match (field("kty"), field("crv")) {
            (Some("RSA"), _) => {
                field("n").zip(field("e")).and_then(|(n, e)| DecodingKey::from_rsa_components(n, e).ok())
            }
            (Some("EC"), Some("P-256")) => {
                field("x").zip(field("y")).and_then(|(x, y)| DecodingKey::from_ec_components(x, y).ok())
            }
            _ => None,
        };
        let alg = match field("alg") {
            None => None,
            Some(a) => match super::jwt::accepted_algorithm(a) {
                Some(alg) => Some(alg),
                // A key pinned to an algorithm this layer refuses.
                None => continue,
            },
        };
        if let Some(key) = key {
            keys.insert(field("kid").unwrap_or_default().to_owned(), Key { key: Arc::new(key), alg });
        }
    }
    keys
}
