//! The registry service's HTTP API, client side.
//!
//! | request | answer |
//! |---|---|
//! | `POST /mcp/register` (the [`Registration`] as JSON; `server_id`, `version` and `health_check_url` may be left out, see [`Registration::from_json`]) | 201 `{"server_id","version","status"}` |
//! | `GET /mcp/servers?status=active` | 200 `{"servers":[...],"skipped":0,"skipped_items":[]}` (unreadable table items skipped) |
//! | `GET /mcp/servers/{server_id}/{version}` | 200 the entry, 404 |
//! | `POST /mcp/servers/{server_id}/{version}/decommission` | 200 the entry, 404 |
//!
//! Every request carries `X-Registration-Token`. Errors are
//! `{"error": "..."}`: a 4xx becomes [`RegistryError::Rejected`] (or
//! `NotFound`), while 5xx answers, refused connections and timeouts are
//! retried (three attempts by default) and then reported as
//! [`RegistryError::Unavailable`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), mcp_aws::registry::RegistryError> {
//! use mcp_aws::registry::{HttpRegistry, Status};
//!
//! let registry = HttpRegistry::new("https://registry.example.com", "s3cret")?;
//! let active = registry.list(Some(Status::Active)).await?;
//! # let _ = active; Ok(()) }
//! ```

use std::fmt;
use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::Value;

use super::registrar::Backoff;
use super::{Listing, Registration, RegistryBackend, RegistryError, RegistryFuture, Status};
use crate::http_client::{Answer, HttpClient};

/// The header carrying the registration token.
pub const TOKEN_HEADER: &str = "x-registration-token";

/// A client of the registry service; see the module docs. Cheap to clone.
#[derive(Clone)]
pub struct HttpRegistry {
    client: HttpClient,
    base: String,
    token: ClientToken,
    timeout: Duration,
    attempts: u32,
    backoff: Backoff,
}

impl fmt::Debug for HttpRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the token.
        f.debug_struct("HttpRegistry").field("base", &self.base).field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

/// Where the client's token comes from.
#[derive(Clone)]
enum ClientToken {
    Fixed(String),
    #[cfg(feature = "secrets-manager")]
    Secret(crate::secrets::CachedSecret),
}

impl ClientToken {
    async fn current(&self) -> Result<String, RegistryError> {
        match self {
            Self::Fixed(token) => Ok(token.clone()),
            #[cfg(feature = "secrets-manager")]
            Self::Secret(secret) => secret.get().await.map(|v| v.expose().to_owned()).map_err(secret_error),
        }
    }

    /// After a 401 (once per request): the secret read again, if it
    /// changed; `None` for a fixed token.
    #[cfg_attr(not(feature = "secrets-manager"), allow(clippy::unused_async, unused_variables))]
    async fn rotated(&self, used: &str) -> Option<String> {
        match self {
            Self::Fixed(_) => None,
            #[cfg(feature = "secrets-manager")]
            Self::Secret(secret) => match secret.refresh().await {
                Ok(value) if value.expose() != used => Some(value.expose().to_owned()),
                Ok(_) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "re-reading the registration token failed");
                    None
                }
            },
        }
    }
}

#[cfg(feature = "secrets-manager")]
fn secret_error(e: crate::secrets::SecretError) -> RegistryError {
    RegistryError::Config { variable: "MCP_REGISTRATION_TOKEN_SECRET", reason: e.to_string() }
}

/// What `POST /mcp/register` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Registered {
    /// The registered server.
    pub server_id: String,
    /// Its stored status.
    pub status: Status,
}

impl HttpRegistry {
    /// A client of the service at `base` (e.g. `https://registry.example.com`;
    /// the paths above are appended) sending `token`.
    ///
    /// # Errors
    /// `base` is not an http(s) URL, or the system's TLS roots cannot be
    /// loaded.
    pub fn new(base: impl Into<String>, token: impl Into<String>) -> Result<Self, RegistryError> {
        let base = base.into().trim_end_matches('/').to_owned();
        let uri: http::Uri = base.parse().map_err(|_| RegistryError::Config {
            variable: "registry url",
            reason: format!("{base:?} is not a URL"),
        })?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(RegistryError::Config {
                variable: "registry url",
                reason: format!("{base:?} is not an http(s) URL"),
            });
        }
        Ok(Self {
            client: HttpClient::new()?,
            base,
            token: ClientToken::Fixed(token.into()),
            timeout: Duration::from_secs(10),
            attempts: 3,
            backoff: Backoff::new(Duration::from_millis(200), Duration::from_secs(2)),
        })
    }

    /// A client sending the token kept in `secret` (re-read when its TTL
    /// runs out, and at once when the service answers 401 after a
    /// rotation, the request then being sent again with the new token).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    #[cfg(feature = "secrets-manager")]
    #[cfg_attr(docsrs, doc(cfg(feature = "secrets-manager")))]
    pub fn with_secret_token(
        base: impl Into<String>,
        secret: crate::secrets::CachedSecret,
    ) -> Result<Self, RegistryError> {
        let mut client = Self::new(base, "")?;
        client.token = ClientToken::Secret(secret);
        Ok(client)
    }

    /// How long one attempt may take (default 10 s).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many attempts a request gets when the service is unavailable
    /// (default 3, at least 1), and the delay between them.
    #[must_use]
    pub fn with_retries(mut self, attempts: u32, backoff: Backoff) -> Self {
        self.attempts = attempts.max(1);
        self.backoff = backoff;
        self
    }

    /// The service's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn call(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> Result<Answer, RegistryError> {
        let url = format!("{}{path}", self.base);
        let mut attempt = 0;
        let mut token = self.token.current().await?;
        let mut rotated = false;
        loop {
            let headers = [(TOKEN_HEADER, token.as_str()), ("accept", "application/json")];
            let result = self
                .client
                .send(method.clone(), &url, &headers, body.clone(), self.timeout)
                .await
                .map_err(RegistryError::from);
            let outcome = match result {
                Ok(answer) if answer.status.is_server_error() => Err(RegistryError::Unavailable(format!(
                    "{url}: HTTP {}: {}",
                    answer.status.as_u16(),
                    message(&answer)
                ))),
                other => other,
            };
            if let Ok(answer) = &outcome
                && answer.status == StatusCode::UNAUTHORIZED
                && !rotated
                && let Some(fresh) = self.token.rotated(&token).await
            {
                // The token was rotated since it was read: once more with the new one.
                tracing::info!("the registry refused the token; sending the rotated one");
                (token, rotated) = (fresh, true);
                continue;
            }
            match outcome {
                Err(e) if e.is_retryable() && attempt + 1 < self.attempts => {
                    tracing::debug!(error = %e, attempt, "registry request failed; retrying");
                    tokio::time::sleep(self.backoff.delay(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Registers (or re-registers) `registration`.
    ///
    /// # Errors
    /// [`RegistryError::Rejected`] for a 4xx (the message says why: a bad
    /// token, the invalid field), [`RegistryError::Unavailable`] when every
    /// attempt failed.
    pub async fn register(&self, registration: &Registration) -> Result<Registered, RegistryError> {
        let body = serde_json::to_vec(registration).map_err(|e| RegistryError::Corrupt(e.to_string()))?;
        let answer = self.call(Method::POST, "/mcp/register", Some(body)).await?;
        let json = expect(answer, &[StatusCode::CREATED, StatusCode::OK], None)?;
        let server_id = json.get("server_id").and_then(Value::as_str).unwrap_or(&registration.server_id).to_owned();
        let status =
            json.get("status").and_then(Value::as_str).and_then(Status::from_wire).ok_or_else(|| {
                RegistryError::Corrupt(format!("the registration answer has no valid status: {json}"))
            })?;
        Ok(Registered { server_id, status })
    }

    /// The entry for (`server_id`, `version`).
    ///
    /// # Errors
    /// As [`register`](Self::register).
    pub async fn get(&self, server_id: &str, version: &str) -> Result<Option<Registration>, RegistryError> {
        let path = format!("/mcp/servers/{}/{}", encode(server_id), encode(version));
        let answer = self.call(Method::GET, &path, None).await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        entry(expect(answer, &[StatusCode::OK], None)?).map(Some)
    }

    /// Every entry, or those with `status` (the items the service skipped
    /// as unreadable are left out; see [`list_report`](Self::list_report)).
    ///
    /// # Errors
    /// As [`register`](Self::register).
    pub async fn list(&self, status: Option<Status>) -> Result<Vec<Registration>, RegistryError> {
        Ok(self.list_report(status).await?.servers)
    }

    /// Every entry, or those with `status`, and the table items the service
    /// skipped as unreadable (empty from a service that does not report
    /// them).
    ///
    /// # Errors
    /// As [`register`](Self::register).
    pub async fn list_report(&self, status: Option<Status>) -> Result<Listing, RegistryError> {
        let path = match status {
            Some(s) => format!("/mcp/servers?status={s}"),
            None => "/mcp/servers".to_owned(),
        };
        let json = expect(self.call(Method::GET, &path, None).await?, &[StatusCode::OK], None)?;
        let servers = json.get("servers").cloned().unwrap_or(Value::Null);
        let servers =
            serde_json::from_value(servers).map_err(|e| RegistryError::Corrupt(format!("the server list: {e}")))?;
        let skipped = match json.get("skipped_items") {
            None | Some(Value::Null) => Vec::new(),
            Some(items) => serde_json::from_value(items.clone())
                .map_err(|e| RegistryError::Corrupt(format!("the skipped items: {e}")))?,
        };
        Ok(Listing { servers, skipped })
    }

    /// Marks the entry `decommissioned`; returns it.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`], or as [`register`](Self::register).
    pub async fn decommission(&self, server_id: &str, version: &str) -> Result<Registration, RegistryError> {
        let path = format!("/mcp/servers/{}/{}/decommission", encode(server_id), encode(version));
        let answer = self.call(Method::POST, &path, None).await?;
        entry(expect(answer, &[StatusCode::OK], Some((server_id, version)))?)
    }
}

impl RegistryBackend for HttpRegistry {
    fn register<'a>(&'a self, registration: &'a Registration) -> RegistryFuture<'a, Result<Status, RegistryError>> {
        Box::pin(async move { Ok(HttpRegistry::register(self, registration).await?.status) })
    }

    fn decommission<'a>(
        &'a self,
        server_id: &'a str,
        version: &'a str,
    ) -> RegistryFuture<'a, Result<(), RegistryError>> {
        Box::pin(async move { HttpRegistry::decommission(self, server_id, version).await.map(drop) })
    }
}

fn message(answer: &Answer) -> String {
    let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
    match json.as_ref().and_then(|j| j.get("error")).and_then(Value::as_str) {
        Some(m) => m.to_owned(),
        None => String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)]).into_owned(),
    }
}

/// The JSON body of an answer with one of `ok` statuses; 404 becomes
/// `NotFound` when `key` names the entry; other 4xx are `Rejected`.
fn expect(answer: Answer, ok: &[StatusCode], key: Option<(&str, &str)>) -> Result<Value, RegistryError> {
    if ok.contains(&answer.status) {
        return serde_json::from_slice(&answer.body)
            .map_err(|e| RegistryError::Corrupt(format!("the registry's answer is not JSON: {e}")));
    }
    if let (StatusCode::NOT_FOUND, Some((server_id, version))) = (answer.status, key) {
        return Err(RegistryError::NotFound { server_id: server_id.to_owned(), version: version.to_owned() });
    }
    Err(RegistryError::Rejected { status: answer.status.as_u16(), message: message(&answer) })
}

fn entry(json: Value) -> Result<Registration, RegistryError> {
    serde_json::from_value(json).map_err(|e| RegistryError::Corrupt(format!("the registry entry: {e}")))
}

/// Percent-encodes one path segment (everything but RFC 3986 unreserved
/// characters).
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode("weather-1.2_x~"), "weather-1.2_x~");
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn bad_base_urls_are_refused() {
        assert!(HttpRegistry::new("ftp://x", "t").is_err());
        assert!(HttpRegistry::new("not a url", "t").is_err());
    }
}
