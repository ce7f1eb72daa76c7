//! The registration lifecycle next to a running server.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher as _;
use std::sync::Arc;
use std::time::Duration;

use mcp_core::ProtocolVersion;
use mcp_core::protocol::meta::keys;
use mcp_core::protocol::methods;
use mcp_core::server::{Server, ServerEvent, Sink, handle_frame};
use serde_json::{Map, Value, json};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{
    AuthenticationType, DynamoDbRegistry, HttpRegistry, Registration, RegistryBackend, RegistryError, ToolEntry,
};

/// Exponential backoff with jitter: attempt `n` waits between half and all
/// of `min(max, initial × 2ⁿ)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay.
    pub initial: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Backoff {
    /// A backoff from `initial` up to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self { initial, max: max.max(initial) }
    }

    /// The delay before retry `attempt` (0-based), jittered.
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.initial.saturating_mul(1u32 << attempt.min(20)).min(self.max);
        let half = ceiling / 2;
        let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX).max(1);
        // Per-call random keys: good enough to spread retries apart.
        let jitter = RandomState::new().hash_one(attempt) % nanos;
        half + Duration::from_nanos(jitter)
    }
}

impl Default for Backoff {
    /// 1 s doubling up to 60 s.
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(60))
    }
}

/// The server's tools as the registry lists them, from its own
/// `tools/list` (every page), sent through the dispatcher like any client
/// request.
///
/// # Errors
/// [`RegistryError::Tools`] when `tools/list` answers an error.
pub async fn available_tools(server: &Server) -> Result<Vec<ToolEntry>, RegistryError> {
    let mut tools = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 0..1000u32 {
        let mut params = json!({ "_meta": {
            keys::PROTOCOL_VERSION: ProtocolVersion::LATEST.as_str(),
            keys::CLIENT_CAPABILITIES: {},
        }});
        if let Some(c) = cursor.take() {
            params["cursor"] = Value::String(c);
        }
        let request = json!({ "jsonrpc": "2.0", "id": page, "method": methods::TOOLS_LIST, "params": params });
        let frame = serde_json::to_vec(&request).map_err(|e| RegistryError::Tools(e.to_string()))?;
        let reply = handle_frame(server.clone(), &frame, None, &Sink::none(), &http::Extensions::new())
            .await
            .ok_or_else(|| RegistryError::Tools("tools/list gave no answer".to_owned()))?;
        let reply: Value = serde_json::from_slice(&reply).map_err(|e| RegistryError::Tools(e.to_string()))?;
        if let Some(error) = reply.get("error") {
            return Err(RegistryError::Tools(error.to_string()));
        }
        let result = reply.get("result").cloned().unwrap_or(Value::Null);
        let listed = result.get("tools").cloned().unwrap_or(Value::Array(Vec::new()));
        let page: Vec<ToolEntry> = serde_json::from_value(listed).map_err(|e| RegistryError::Tools(e.to_string()))?;
        tools.extend(page);
        match result.get("nextCursor").and_then(Value::as_str) {
            Some(next) if !next.is_empty() => cursor = Some(next.to_owned()),
            _ => return Ok(tools),
        }
    }
    Err(RegistryError::Tools("tools/list kept returning a next cursor".to_owned()))
}

/// Keeps a server's registry entry current; see the [module docs](super).
///
/// Registration happens in the background: if the registry is down the
/// server serves anyway, and the registrar retries with [`Backoff`] until
/// it is back. Each write is an upsert of the same key, so retries never
/// duplicate the entry.
#[must_use = "nothing happens until `spawn`"]
pub struct Registrar {
    server: Server,
    backend: Arc<dyn RegistryBackend>,
    template: Registration,
    heartbeat: Duration,
    backoff: Backoff,
    shutdown_timeout: Duration,
}

impl fmt::Debug for Registrar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registrar")
            .field("server_id", &self.template.server_id)
            .field("version", &self.template.version)
            .field("heartbeat", &self.heartbeat)
            .finish_non_exhaustive()
    }
}

impl Registrar {
    /// Registers `server` in `backend` as `template` describes it (its
    /// `available_tools` are replaced by the server's own on every write).
    /// Heartbeat every 60 s, backoff from 1 s to 60 s.
    pub fn new(server: Server, backend: impl RegistryBackend, template: Registration) -> Self {
        Self {
            server,
            backend: Arc::new(backend),
            template,
            heartbeat: Duration::from_secs(60),
            backoff: Backoff::default(),
            shutdown_timeout: Duration::from_secs(10),
        }
    }

    /// Re-registers (refreshing `updated_at`) at this interval.
    pub fn heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = every.max(Duration::from_millis(10));
        self
    }

    /// Retries failed registrations with this backoff.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// How long [`RegistrarHandle::shutdown`] may spend decommissioning
    /// (default 10 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Starts the lifecycle on the current tokio runtime.
    pub fn spawn(self) -> RegistrarHandle {
        let cancel = CancellationToken::new();
        let (tx, rx) = watch::channel(0u64);
        let key = (self.template.server_id.clone(), self.template.version.clone());
        let backend = Arc::clone(&self.backend);
        let (backoff, timeout) = (self.backoff, self.shutdown_timeout);
        let task = tokio::spawn(self.run(cancel.clone(), tx));
        RegistrarHandle { cancel, task, backend, key, backoff, timeout, registrations: rx }
    }

    async fn register_once(&self) -> Result<(), RegistryError> {
        let tools = available_tools(&self.server).await?;
        let registration = self.template.clone().with_tools(tools).with_status(super::Status::Active);
        self.backend.register(&registration).await.map(drop)
    }

    async fn run(self, cancel: CancellationToken, registrations: watch::Sender<u64>) {
        let mut events = Some(self.server.subscribe_events());
        let mut attempt = 0u32;
        let mut next = Instant::now();
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep_until(next) => {}
                event = recv(&mut events) => match event {
                    Ok(ServerEvent::ToolsListChanged) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Closed) => {
                        events = None;
                        continue;
                    }
                },
            }
            // An in-flight write is finished, not dropped, so that a
            // shutdown's decommission always comes after it.
            match self.register_once().await {
                Ok(()) => {
                    attempt = 0;
                    next = Instant::now() + self.heartbeat;
                    registrations.send_modify(|n| *n += 1);
                    tracing::debug!(server_id = %self.template.server_id, "registered in the MCP server registry");
                }
                Err(e) if e.is_retryable() => {
                    let delay = self.backoff.delay(attempt);
                    attempt = attempt.saturating_add(1);
                    next = Instant::now() + delay;
                    tracing::warn!(error = %e, retry_in_ms = delay.as_millis(), "registry registration failed");
                }
                Err(e) => {
                    next = Instant::now() + self.heartbeat;
                    tracing::error!(error = %e, "registry registration refused; trying again at the next heartbeat");
                }
            }
        }
    }
}

async fn recv(
    events: &mut Option<broadcast::Receiver<ServerEvent>>,
) -> Result<ServerEvent, broadcast::error::RecvError> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// A running [`Registrar`]. Call [`shutdown`](Self::shutdown) on graceful
/// shutdown; dropping the handle stops the lifecycle without
/// decommissioning (as a crash would).
#[derive(Debug)]
pub struct RegistrarHandle {
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    backend: Arc<dyn RegistryBackend>,
    key: (String, String),
    backoff: Backoff,
    timeout: Duration,
    registrations: watch::Receiver<u64>,
}

impl fmt::Debug for dyn RegistryBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RegistryBackend")
    }
}

impl Drop for RegistrarHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl RegistrarHandle {
    /// How many writes have succeeded so far (registrations and
    /// heartbeats).
    pub fn registrations(&self) -> u64 {
        *self.registrations.borrow()
    }

    /// Waits until at least one registration has succeeded.
    pub async fn registered(&self) {
        let mut rx = self.registrations.clone();
        let _ = rx.wait_for(|n| *n > 0).await;
    }

    /// Stops heartbeats and marks the entry `decommissioned`, retrying while
    /// the registry is unavailable, within the shutdown timeout. An entry
    /// that was never written is left alone.
    ///
    /// # Errors
    /// The registry could not be told in time, or refused.
    pub async fn shutdown(mut self) -> Result<(), RegistryError> {
        self.cancel.cancel();
        let _ = (&mut self.task).await;
        let (server_id, version) = (self.key.0.clone(), self.key.1.clone());
        let backend = Arc::clone(&self.backend);
        let backoff = self.backoff;
        let attempts = async move {
            let mut attempt = 0;
            loop {
                match backend.decommission(&server_id, &version).await {
                    Ok(()) | Err(RegistryError::NotFound { .. }) => return Ok(()),
                    Err(e) if e.is_retryable() && attempt < 5 => {
                        tokio::time::sleep(backoff.delay(attempt)).await;
                        attempt += 1;
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        match tokio::time::timeout(self.timeout, attempts).await {
            Ok(result) => result,
            Err(_) => Err(RegistryError::Unavailable(format!(
                "could not decommission within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }
}

/// Where the registration token comes from.
#[derive(Clone)]
enum TokenSetting {
    Value(String),
    #[cfg_attr(not(feature = "secrets-manager"), allow(dead_code))]
    Secret {
        id: String,
        ttl: Duration,
    },
}

impl fmt::Debug for TokenSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(_) => f.write_str("Value(..)"),
            Self::Secret { id, ttl } => f.debug_struct("Secret").field("id", id).field("ttl", ttl).finish(),
        }
    }
}

/// Self-registration settings from the environment, for
/// [`run`](crate::run) and containers:
///
/// | variable | meaning |
/// |---|---|
/// | `MCP_REGISTRY_URL` | the registry service (HTTP backend), with `MCP_REGISTRATION_TOKEN` |
/// | `MCP_REGISTRATION_TOKEN_SECRET` | or: the token's secret in Secrets Manager (name or ARN; plain, or JSON with `token`; feature `secrets-manager`), re-read every `MCP_REGISTRATION_TOKEN_TTL_SECS` (60) and at once after a 401 |
/// | `MCP_REGISTRY_TABLE` | or: the DynamoDB table (e.g. `MCPServerRegistry-prod`) |
/// | `MCP_ENDPOINT_URL` | required: where clients reach this server's `/mcp` |
/// | `MCP_SERVER_ID`, `MCP_SERVER_VERSION` | default: the server's name and version |
/// | `MCP_HEALTH_CHECK_URL` | default: `/health` on the endpoint's host |
/// | `MCP_SERVER_DESCRIPTION`, `MCP_AUTHENTICATION_TYPE` (`none`, `api_key`, `oauth`, `iam`) | |
/// | `MCP_DEPLOYMENT_STACK`, `AWS_REGION` | deployment info |
/// | `MCP_REGISTRY_METADATA` | a JSON object, e.g. `{"team":"search"}` |
/// | `MCP_REGISTRY_HEARTBEAT_SECS`, `MCP_REGISTRY_BACKOFF_MS`, `MCP_REGISTRY_BACKOFF_MAX_MS` | timing (60 s, 1000 ms, 60000 ms) |
///
/// ```
/// use mcp_aws::registry::RegistryConfig;
///
/// let config = RegistryConfig::from_vars(|name| match name {
///     "MCP_REGISTRY_URL" => Some("http://127.0.0.1:9000".to_owned()),
///     "MCP_REGISTRATION_TOKEN" => Some("t".to_owned()),
///     "MCP_ENDPOINT_URL" => Some("http://127.0.0.1:8000/mcp".to_owned()),
///     _ => None,
/// })
/// .expect("valid settings")
/// .expect("registration is configured");
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RegistryConfig {
    /// `Ok(url, token)` for the HTTP backend, `Err(table)` for DynamoDB.
    target: Result<(String, TokenSetting), String>,
    vars: Map<String, Value>,
    /// Heartbeat interval.
    pub heartbeat: Duration,
    /// Retry backoff.
    pub backoff: Backoff,
}

impl RegistryConfig {
    /// Reads the settings through `var`; `Ok(None)` when neither
    /// `MCP_REGISTRY_URL` nor `MCP_REGISTRY_TABLE` is set.
    ///
    /// # Errors
    /// A variable is missing or invalid; the error names it.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, RegistryError> {
        let get = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let target = match (get("MCP_REGISTRY_URL"), get("MCP_REGISTRY_TABLE")) {
            (None, None) => return Ok(None),
            (Some(url), _) => {
                let token = match (get("MCP_REGISTRATION_TOKEN"), get("MCP_REGISTRATION_TOKEN_SECRET")) {
                    (Some(token), _) => TokenSetting::Value(token),
                    (None, Some(id)) if cfg!(feature = "secrets-manager") => {
                        let ttl = match get("MCP_REGISTRATION_TOKEN_TTL_SECS") {
                            None => 60.0,
                            Some(v) => {
                                v.parse::<f64>().ok().filter(|n| n.is_finite() && *n > 0.0).ok_or_else(|| {
                                    RegistryError::Config {
                                        variable: "MCP_REGISTRATION_TOKEN_TTL_SECS",
                                        reason: format!("{v:?} is not a positive number"),
                                    }
                                })?
                            }
                        };
                        TokenSetting::Secret { id, ttl: Duration::from_secs_f64(ttl) }
                    }
                    (None, Some(_)) => {
                        return Err(RegistryError::Config {
                            variable: "MCP_REGISTRATION_TOKEN_SECRET",
                            reason: "needs mcp-aws built with the `secrets-manager` feature".to_owned(),
                        });
                    }
                    (None, None) => {
                        return Err(RegistryError::Config {
                            variable: "MCP_REGISTRATION_TOKEN",
                            reason: "required with MCP_REGISTRY_URL (or MCP_REGISTRATION_TOKEN_SECRET)".to_owned(),
                        });
                    }
                };
                Ok((url, token))
            }
            (None, Some(table)) => Err(table),
        };
        let mut vars = Map::new();
        for name in [
            "MCP_ENDPOINT_URL",
            "MCP_SERVER_ID",
            "MCP_SERVER_VERSION",
            "MCP_HEALTH_CHECK_URL",
            "MCP_SERVER_DESCRIPTION",
            "MCP_AUTHENTICATION_TYPE",
            "MCP_DEPLOYMENT_STACK",
            "AWS_REGION",
            "MCP_REGISTRY_METADATA",
        ] {
            if let Some(v) = get(name) {
                vars.insert(name.to_owned(), Value::String(v));
            }
        }
        if !vars.contains_key("MCP_ENDPOINT_URL") {
            return Err(RegistryError::Config {
                variable: "MCP_ENDPOINT_URL",
                reason: "required to register: where clients reach this server".to_owned(),
            });
        }
        let number = |name: &'static str, default: f64| -> Result<f64, RegistryError> {
            match get(name) {
                None => Ok(default),
                Some(v) => v.parse::<f64>().ok().filter(|n| n.is_finite() && *n > 0.0).ok_or_else(|| {
                    RegistryError::Config { variable: name, reason: format!("{v:?} is not a positive number") }
                }),
            }
        };
        let heartbeat = Duration::from_secs_f64(number("MCP_REGISTRY_HEARTBEAT_SECS", 60.0)?);
        let initial = Duration::from_secs_f64(number("MCP_REGISTRY_BACKOFF_MS", 1000.0)? / 1000.0);
        let max = Duration::from_secs_f64(number("MCP_REGISTRY_BACKOFF_MAX_MS", 60_000.0)? / 1000.0);
        let config = Self { target, vars, heartbeat, backoff: Backoff::new(initial, max) };
        // Parse the template once now so that bad values fail at start-up.
        config.template("server", "0")?;
        Ok(Some(config))
    }

    /// Reads the process environment; see [`from_vars`](Self::from_vars).
    ///
    /// # Errors
    /// As [`from_vars`](Self::from_vars).
    pub fn from_env() -> Result<Option<Self>, RegistryError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).and_then(Value::as_str).map(str::to_owned)
    }

    /// The registration for a server with this name and version.
    ///
    /// # Errors
    /// An invalid value; the error names its variable.
    pub fn template(&self, name: &str, version: &str) -> Result<Registration, RegistryError> {
        let endpoint = self.var("MCP_ENDPOINT_URL").unwrap_or_default();
        let id = self.var("MCP_SERVER_ID").unwrap_or_else(|| name.to_owned());
        let version = self.var("MCP_SERVER_VERSION").unwrap_or_else(|| version.to_owned());
        let mut reg = Registration::new(id, version, name, endpoint)
            .with_description(self.var("MCP_SERVER_DESCRIPTION").unwrap_or_default())
            .with_deployment(self.var("MCP_DEPLOYMENT_STACK"), self.var("AWS_REGION"));
        if let Some(url) = self.var("MCP_HEALTH_CHECK_URL") {
            reg = reg.with_health_check_url(Some(url));
        }
        if let Some(auth) = self.var("MCP_AUTHENTICATION_TYPE") {
            let parsed: AuthenticationType =
                serde_json::from_value(Value::String(auth.clone())).map_err(|_| RegistryError::Config {
                    variable: "MCP_AUTHENTICATION_TYPE",
                    reason: format!("{auth:?}: expected none, api_key, oauth or iam"),
                })?;
            reg = reg.with_authentication_type(parsed);
        }
        if let Some(meta) = self.var("MCP_REGISTRY_METADATA") {
            let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&meta) else {
                return Err(RegistryError::Config {
                    variable: "MCP_REGISTRY_METADATA",
                    reason: "expected a JSON object".to_owned(),
                });
            };
            reg.metadata = map;
        }
        reg.validate().map_err(|e| RegistryError::Config { variable: "MCP_ENDPOINT_URL", reason: e.to_string() })?;
        Ok(reg)
    }

    /// Starts a [`Registrar`] for `server` with these settings.
    ///
    /// # Errors
    /// An invalid setting, or the HTTP client could not be built.
    pub async fn start(&self, server: &Server) -> Result<RegistrarHandle, RegistryError> {
        let info = server.info();
        let template = self.template(&info.name, &info.version)?;
        let registrar = match &self.target {
            Ok((url, token)) => Registrar::new(server.clone(), http_backend(url, token)?, template),
            Err(table) => Registrar::new(server.clone(), DynamoDbRegistry::from_env(table.clone()).await, template),
        };
        Ok(registrar.heartbeat(self.heartbeat).backoff(self.backoff).spawn())
    }
}

fn http_backend(url: &str, token: &TokenSetting) -> Result<HttpRegistry, RegistryError> {
    match token {
        TokenSetting::Value(token) => HttpRegistry::new(url, token.clone()),
        #[cfg(feature = "secrets-manager")]
        TokenSetting::Secret { id, ttl } => {
            let secret = crate::secrets::CachedSecret::new(id.clone()).json_field("token").ttl(*ttl);
            HttpRegistry::with_secret_token(url, secret)
        }
        #[cfg(not(feature = "secrets-manager"))]
        TokenSetting::Secret { .. } => Err(RegistryError::Config {
            variable: "MCP_REGISTRATION_TOKEN_SECRET",
            reason: "needs mcp-aws built with the `secrets-manager` feature".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_within_bounds() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_millis(800));
        for attempt in 0..10 {
            let ceiling = Duration::from_millis(100 * (1 << attempt.min(3)));
            let d = b.delay(attempt);
            assert!(d >= ceiling / 2 && d <= ceiling, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn missing_settings_are_named() {
        let err = RegistryConfig::from_vars(|n| (n == "MCP_REGISTRY_URL").then(|| "http://r".to_owned()))
            .expect_err("no token");
        assert!(err.to_string().contains("MCP_REGISTRATION_TOKEN"), "{err}");
        let err =
            RegistryConfig::from_vars(|n| (n == "MCP_REGISTRY_TABLE").then(|| "t".to_owned())).expect_err("no url");
        assert!(err.to_string().contains("MCP_ENDPOINT_URL"), "{err}");
        assert!(RegistryConfig::from_vars(|_| None).expect("fine").is_none());
    }

    #[test]
    fn the_token_may_come_from_a_secret() {
        let vars = |ttl: &'static str| {
            move |n: &str| match n {
                "MCP_REGISTRY_URL" => Some("http://127.0.0.1:9000".to_owned()),
                "MCP_REGISTRATION_TOKEN_SECRET" => Some("mcp/registration-token".to_owned()),
                "MCP_REGISTRATION_TOKEN_TTL_SECS" => Some(ttl.to_owned()),
                "MCP_ENDPOINT_URL" => Some("http://127.0.0.1:8000/mcp".to_owned()),
                _ => None,
            }
        };
        let config = RegistryConfig::from_vars(vars("30"));
        if cfg!(feature = "secrets-manager") {
            let config = config.expect("valid").expect("configured");
            let debug = format!("{config:?}");
            assert!(debug.contains("mcp/registration-token") && debug.contains("30s"), "{debug}");
            let err = RegistryConfig::from_vars(vars("soon")).expect_err("a bad TTL");
            assert!(err.to_string().contains("MCP_REGISTRATION_TOKEN_TTL_SECS"), "{err}");
        } else {
            let err = config.expect_err("needs the feature");
            assert!(err.to_string().contains("secrets-manager"), "{err}");
        }
    }
}
