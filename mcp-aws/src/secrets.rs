//! Secrets from AWS Secrets Manager for tool code and deployments, read
//! once and cached with a time to live, as the best-practices guide's
//! `get_api_key()` does (`os.getenv('API_KEY') or get_api_key()`):
//!
//! - an **environment override** wins when set and non-empty (local runs,
//!   tests), and Secrets Manager is then never called;
//! - otherwise the secret's current value is read on first use and kept
//!   for the **TTL** (5 minutes by default), so a rotation is picked up
//!   within one TTL without a restart; concurrent callers share one read;
//! - when a refresh fails, the last value read is served (with a warning,
//!   trying again every 5 s) until Secrets Manager answers again: an outage
//!   does not take every caller down;
//! - a secret stored as JSON gives one field with
//!   [`json_field`](CachedSecret::json_field).
//!
//! The value never appears in `Debug` output, logs or errors
//! ([`SecretValue`] prints as `SecretValue(..)`). The client is built from
//! the standard AWS configuration (region, credentials, and
//! `AWS_ENDPOINT_URL`, which points it at moto in tests).
//!
//! ```no_run
//! use std::sync::LazyLock;
//! use std::time::Duration;
//! use mcp_aws::secrets::{CachedSecret, SecretError};
//!
//! static API_KEY: LazyLock<CachedSecret> = LazyLock::new(|| {
//!     CachedSecret::new("agentcore/api-key").env_override("API_KEY").ttl(Duration::from_secs(300))
//! });
//!
//! async fn call_api() -> Result<(), SecretError> {
//!     let key = API_KEY.get().await?;
//!     let header = format!("Bearer {}", key.expose());
//!     # let _ = header;
//!     Ok(())
//! }
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, OnceCell};
use tokio::time::Instant;

/// After a failed read, how long the last value is used before trying again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// A secret's value. Its `Debug` and `Display` never show it: call
/// [`expose`](Self::expose) where the value is really needed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Arc<str>);

impl SecretValue {
    /// The value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(..)")
    }
}

/// Why a secret could not be read. Never carries the value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// Secrets Manager refused or could not be reached (the SDK's error,
    /// with the secret's id).
    #[error("secret {secret_id}: {message}")]
    Read {
        /// The secret's name or ARN.
        secret_id: String,
        /// What went wrong.
        message: String,
    },
    /// The secret has no usable value: empty, binary, or JSON without the
    /// requested field.
    #[error("secret {secret_id}: {reason}")]
    Unusable {
        /// The secret's name or ARN.
        secret_id: String,
        /// What is missing.
        reason: String,
    },
}

#[derive(Debug, Clone)]
struct Settings {
    secret_id: String,
    env_override: Option<String>,
    json_field: Option<String>,
    ttl: Duration,
}

#[derive(Default)]
struct State {
    client: OnceCell<aws_sdk_secretsmanager::Client>,
    cached: Mutex<Option<(SecretValue, Instant)>>,
}

/// One secret, cached; see the [module docs](self). Cheap to clone: the
/// clones share the cache.
#[derive(Clone)]
#[must_use]
pub struct CachedSecret {
    settings: Arc<Settings>,
    state: Arc<State>,
}

impl fmt::Debug for CachedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedSecret")
            .field("secret_id", &self.settings.secret_id)
            .field("env_override", &self.settings.env_override)
            .field("json_field", &self.settings.json_field)
            .field("ttl", &self.settings.ttl)
            .finish_non_exhaustive()
    }
}

impl CachedSecret {
    /// The secret `secret_id` (a name or an ARN), cached for 5 minutes.
    pub fn new(secret_id: impl Into<String>) -> Self {
        Self {
            settings: Arc::new(Settings {
                secret_id: secret_id.into(),
                env_override: None,
                json_field: None,
                ttl: Duration::from_secs(300),
            }),
            state: Arc::new(State::default()),
        }
    }

    /// Reads through `client` instead of one built from the environment's
    /// AWS configuration.
    pub fn with_client(self, client: aws_sdk_secretsmanager::Client) -> Self {
        let state = State { client: OnceCell::new_with(Some(client)), cached: Mutex::new(None) };
        Self { settings: self.settings, state: Arc::new(state) }
    }

    fn edit(mut self, f: impl FnOnce(&mut Settings)) -> Self {
        f(Arc::make_mut(&mut self.settings));
        self
    }

    /// How long a value read is used before the next read (default 5 min):
    /// the bound on how late a rotation is seen.
    pub fn ttl(self, ttl: Duration) -> Self {
        self.edit(|s| s.ttl = ttl)
    }

    /// The environment variable whose non-empty value is used instead of
    /// the secret (as `os.getenv('API_KEY') or get_api_key()`).
    pub fn env_override(self, variable: impl Into<String>) -> Self {
        self.edit(|s| s.env_override = Some(variable.into()))
    }

    /// A secret stored as a JSON object gives this field's string value; a
    /// secret that is not a JSON object is used whole.
    pub fn json_field(self, field: impl Into<String>) -> Self {
        self.edit(|s| s.json_field = Some(field.into()))
    }

    /// The secret's name or ARN.
    pub fn secret_id(&self) -> &str {
        &self.settings.secret_id
    }

    fn overridden(&self) -> Option<SecretValue> {
        let name = self.settings.env_override.as_deref()?;
        std::env::var(name).ok().filter(|v| !v.is_empty()).map(|v| SecretValue(v.into()))
    }

    /// The value: the environment override, the cached value while it is
    /// younger than the TTL, or a fresh read (the last value read when the
    /// read fails).
    ///
    /// # Errors
    /// The secret could not be read and no earlier value is cached, or it
    /// has no usable value.
    pub async fn get(&self) -> Result<SecretValue, SecretError> {
        self.read_if_older_than(self.settings.ttl).await
    }

    /// Reads the secret again now, whatever its age (after a refusal that
    /// suggests a rotation).
    ///
    /// # Errors
    /// As [`get`](Self::get), but a failed read is an error even when a
    /// value is cached.
    pub async fn refresh(&self) -> Result<SecretValue, SecretError> {
        if let Some(value) = self.overridden() {
            return Ok(value);
        }
        let mut cached = self.state.cached.lock().await;
        let value = self.fetch().await?;
        *cached = Some((value.clone(), Instant::now()));
        Ok(value)
    }

    /// The cached value if it is younger than `age`, else a fresh read
    /// (the last value read when the read fails). Callers that see a
    /// refusal use it to re-read at most once per `age`.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn read_if_older_than(&self, age: Duration) -> Result<SecretValue, SecretError> {
        if let Some(value) = self.overridden() {
            return Ok(value);
        }
        let mut cached = self.state.cached.lock().await;
        if let Some((value, at)) = cached.as_ref()
            && at.elapsed() < age
        {
            return Ok(value.clone());
        }
        match self.fetch().await {
            Ok(value) => {
                *cached = Some((value.clone(), Instant::now()));
                Ok(value)
            }
            Err(e) => match cached.as_mut() {
                Some((value, at)) => {
                    tracing::warn!(error = %e, "reading the secret failed; using the value read before");
                    // Try again in 5 s (or `age`, if shorter), not on every call.
                    let wait = age.min(RETRY_AFTER_FAILURE);
                    let now = Instant::now();
                    *at = now.checked_sub(age.saturating_sub(wait)).unwrap_or(now);
                    Ok(value.clone())
                }
                None => Err(e),
            },
        }
    }

    async fn fetch(&self) -> Result<SecretValue, SecretError> {
        let id = &self.settings.secret_id;
        let client = self
            .state
            .client
            .get_or_init(|| async {
                let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                aws_sdk_secretsmanager::Client::new(&config)
            })
            .await;
        let out = client.get_secret_value().secret_id(id).send().await.map_err(|e| SecretError::Read {
            secret_id: id.clone(),
            message: aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string(),
        })?;
        let unusable = |reason: &str| SecretError::Unusable { secret_id: id.clone(), reason: reason.to_owned() };
        let text = out.secret_string.ok_or_else(|| unusable("the secret has no string value"))?;
        let value = match &self.settings.json_field {
            None => text,
            Some(field) => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(serde_json::Value::Object(map)) => match map.get(field) {
                    Some(serde_json::Value::String(v)) => v.clone(),
                    _ => return Err(unusable(&format!("the secret's JSON has no string `{field}`"))),
                },
                _ => text,
            },
        };
        if value.is_empty() {
            return Err(unusable("the secret is empty"));
        }
        Ok(SecretValue(value.into()))
    }
}

/// The gateway's upstream credentials from Secrets Manager: each
/// [`SecretRef`](mcp_core::gateway::SecretRef) an upstream's `auth` names
/// (`bearer_secret`/`api_key_secret` in the gateway's configuration) is read
/// through one [`CachedSecret`] (its TTL, its JSON field, the last value
/// served through an outage), so a rotation reaches the upstream within one
/// TTL without reconnecting. Give it to
/// [`Gateway::connect_with_secrets`](mcp_core::gateway::Gateway::connect_with_secrets).
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::Duration;
/// use mcp_aws::secrets::SecretsManagerSource;
/// use mcp_core::gateway::{Gateway, GatewayConfig};
/// use mcp_core::server::ServerBuilder;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = GatewayConfig::from_env()?;
/// let secrets = Arc::new(SecretsManagerSource::new().ttl(Duration::from_secs(60)));
/// let gateway =
///     Gateway::connect_with_secrets(ServerBuilder::new(config.name, config.version), config.upstreams, secrets).await?;
/// # let _ = gateway;
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "gateway")]
#[cfg_attr(docsrs, doc(cfg(all(feature = "secrets-manager", feature = "gateway"))))]
#[derive(Clone, Default)]
pub struct SecretsManagerSource {
    client: Option<aws_sdk_secretsmanager::Client>,
    ttl: Option<Duration>,
    secrets: Arc<std::sync::Mutex<std::collections::BTreeMap<mcp_core::gateway::SecretRef, CachedSecret>>>,
}

#[cfg(feature = "gateway")]
impl fmt::Debug for SecretsManagerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secrets = self.secrets.lock().map(|s| s.len()).unwrap_or_default();
        f.debug_struct("SecretsManagerSource").field("ttl", &self.ttl).field("secrets", &secrets).finish()
    }
}

#[cfg(feature = "gateway")]
impl SecretsManagerSource {
    /// Reads through a client built from the environment's AWS
    /// configuration, each secret cached for 5 minutes.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads through `client`.
    #[must_use]
    pub fn with_client(mut self, client: aws_sdk_secretsmanager::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// How long each value read is used (default 5 minutes): the bound on
    /// how late a rotation reaches the upstreams.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    fn cached(&self, secret: &mcp_core::gateway::SecretRef) -> CachedSecret {
        let mut secrets = self.secrets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        secrets
            .entry(secret.clone())
            .or_insert_with(|| {
                let mut cached = CachedSecret::new(secret.id.clone());
                if let Some(client) = &self.client {
                    cached = cached.with_client(client.clone());
                }
                if let Some(ttl) = self.ttl {
                    cached = cached.ttl(ttl);
                }
                match &secret.field {
                    Some(field) => cached.json_field(field.clone()),
                    None => cached,
                }
            })
            .clone()
    }
}

#[cfg(feature = "gateway")]
#[mcp_core::async_trait]
impl mcp_core::gateway::SecretSource for SecretsManagerSource {
    async fn secret(&self, secret: &mcp_core::gateway::SecretRef) -> Result<String, String> {
        let value = self.cached(secret).get().await.map_err(|e| e.to_string())?;
        Ok(value.expose().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_never_show_in_debug_output() {
        let value = SecretValue("hunter2".into());
        assert_eq!(format!("{value:?}"), "SecretValue(..)");
        assert_eq!(value.expose(), "hunter2");
        let secret = CachedSecret::new("agentcore/api-key").env_override("API_KEY");
        assert!(!format!("{secret:?}").contains("hunter2"));
    }
}
