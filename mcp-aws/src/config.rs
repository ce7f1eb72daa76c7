//! Deployment settings from the environment, as the AWS deployment guide
//! sets them, each overridable in code.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `ENVIRONMENT` | `dev` | deployment stage; names tables (`mcp-sessions-{env}`) |
//! | `LOG_LEVEL` | `info` | `error`, `warn`, `info`, `debug` or `trace` (any case) |
//! | `MCP_SESSION_TABLE` | none | DynamoDB table for legacy-era sessions; without it sessions live in the instance |
//! | `MCP_TASK_TABLE` | none | DynamoDB table for tasks (the tasks extension; `task_id` key, TTL on `expires_at`), shared by every instance; without it tasks live in the instance |
//! | `MCP_REST_PATH` | none | with feature `rest`: serve the REST façade (`GET /tools`, `POST /tools/{name}`, `POST` of `{"tool", "params"}`, `/openapi.json`) under this base path (`/` for the root) |
//! | `MCP_SESSIONS` | see meaning | `optional` (`initialize` opens a session; requests without one are served sessionless), `required`, or `disabled` (no sessions: every legacy request stands alone). Default: `disabled` on Lambda without `MCP_SESSION_TABLE`, else `optional` |
//! | `CORS_ALLOW_ORIGINS` | `*` | comma-separated origins, `*` for any (`Access-Control-Allow-Origin: *`, no credentials), empty to disable CORS |
//! | `CORS_ALLOW_CREDENTIALS` | `false` | `true` lets the listed origins make credentialed calls; needs an explicit `CORS_ALLOW_ORIGINS` list |
//! | `MCP_PATH` | `/mcp` | the path MCP is served on |
//! | `MCP_BIND` | `0.0.0.0:8000` | the address a container (AgentCore Runtime) listens on |
//! | `MCP_RATE_LIMIT_PER_MINUTE` | none | tool calls a minute each caller may make (for a rate-limit layer, which counts `tools/call` only by default) |
//! | `MCP_TOOL_TIMEOUT_MS` | none | the deadline of every tool call, in milliseconds (for a timeout layer) |
//! | `MCP_AUTH_DISCOVERY_URL` | none | OIDC discovery URL of the token issuer (AgentCore `discoveryUrl`); turns bearer-token auth on |
//! | `MCP_AUTH_JWKS_URL` | none | the issuer's JWKS, instead of discovery (needs `MCP_AUTH_ISSUER`) |
//! | `MCP_AUTH_ISSUER` | none | the tokens' `iss` (with discovery: instead of the document's) |
//! | `MCP_AUTH_AUDIENCE` | none | comma-separated accepted `aud` values (`allowedAudience`; RFC 8707: this server's URL) |
//! | `MCP_AUTH_ALLOWED_CLIENTS` | none | comma-separated accepted `client_id`s (`allowedClients`; Cognito) |
//! | `MCP_AUTH_REQUIRED_SCOPES` | none | comma- or space-separated scopes every token needs |
//! | `MCP_AUTH_RESOURCE_URL` | first URL audience | this server's resource URL, for RFC 9728 metadata and challenges |
//! | `MCP_API_KEYS_TABLE` | none | DynamoDB table of API keys (by `api_key_hash`); turns API-key auth on |
//! | `MCP_AUTH_TRUST_GATEWAY` | `false` | `true` takes the caller API Gateway's authorizer authenticated (Lambda only; every route must have an authorizer) |
//! | `ENABLE_CACHING` | `false` | `true` turns the tool-result cache on (the deployment guide's switch; for a cache layer) |
//! | `CACHE_TTL` | `300` | seconds a cached result stays fresh, for tools cached without a time to live of their own (`60s`, `5m`, `500ms` also read) |
//! | `DYNAMODB_TABLE` | none | with caching: the DynamoDB table of tool results (the guide's `mcp-tool-results-{env}`); without it results stay in the instance's memory |
//! | `MCP_CACHE_READ_ONLY` | `false` | `true` also caches every tool annotated read-only |
//! | `MCP_CACHE_MAX_ENTRIES` | `10000` | the in-memory cache's bound on entries |
//! | `MCP_CACHE_MAX_BYTES` | `67108864` | the in-memory cache's bound on bytes |
//!
//! The rate limit, the timeout and the cache only describe layers; the
//! deployment builds them (see `examples/lambda`; the cache with
//! `mcp_aws::cache::CacheLayer::from_config`), since the stack of layers is
//! the application's. The auth settings ([`AuthSettings`]) are applied by
//! `mcp_aws::run` itself when the `auth` feature is on.
//!
//! ```
//! use mcp_aws::config::DeployConfig;
//!
//! let config = DeployConfig::from_vars(|name| match name {
//!     "ENVIRONMENT" => Some("prod".to_owned()),
//!     "LOG_LEVEL" => Some("WARN".to_owned()),
//!     _ => None,
//! })
//! .expect("valid settings")
//! .with_session_table("sessions-prod");
//! assert_eq!(config.log_level, "warn");
//! assert_eq!(config.session_table.as_deref(), Some("sessions-prod"));
//! ```

use std::net::SocketAddr;
use std::time::Duration;

#[cfg(feature = "http")]
use mcp_core::transport::http::SessionMode;
#[cfg(feature = "rest")]
use mcp_core::transport::http::rest::RestOptions;

use crate::cors::Cors;

mod cache;
pub use cache::CacheSettings;

/// A setting in the environment has a value this crate cannot use.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {variable}={value:?} is invalid: {reason}")]
pub struct ConfigError {
    /// The variable.
    pub variable: &'static str,
    /// Its value.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Where and how the server runs on AWS. See the module docs for the
/// variables.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeployConfig {
    /// The deployment stage (`ENVIRONMENT`).
    pub environment: String,
    /// The log level, lowercase (`LOG_LEVEL`).
    pub log_level: String,
    /// The DynamoDB session table (`MCP_SESSION_TABLE`).
    pub session_table: Option<String>,
    /// The DynamoDB task table (`MCP_TASK_TABLE`).
    pub task_table: Option<String>,
    /// How legacy sessions are used (`MCP_SESSIONS`); `None`: the
    /// deployment's default (see the module docs).
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub sessions: Option<SessionMode>,
    /// The REST façade (`MCP_REST_PATH`); off when `None`.
    #[cfg(feature = "rest")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rest")))]
    pub rest: Option<RestOptions>,
    /// Browser origins allowed (`CORS_ALLOW_ORIGINS`).
    pub cors: Cors,
    /// The MCP path (`MCP_PATH`).
    pub path: String,
    /// The listening address for containers (`MCP_BIND`).
    pub bind: SocketAddr,
    /// Tool calls a minute each caller may make (`MCP_RATE_LIMIT_PER_MINUTE`).
    pub rate_limit_per_minute: Option<u32>,
    /// The deadline of every tool call (`MCP_TOOL_TIMEOUT_MS`).
    pub tool_timeout: Option<Duration>,
    /// Who may call (`MCP_AUTH_*`, `MCP_API_KEYS_TABLE`).
    pub auth: AuthSettings,
    /// The tool-result cache (`ENABLE_CACHING`, `CACHE_TTL`, `DYNAMODB_TABLE`).
    pub cache: CacheSettings,
}

/// Authentication settings, mirroring AgentCore's `customJWTAuthorizer`
/// (`discoveryUrl`, `allowedAudience`, `allowedClients`), plus an API key
/// table. Plain values: the `auth` feature turns them into a layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthSettings {
    /// The issuer's OIDC discovery URL (`MCP_AUTH_DISCOVERY_URL`).
    pub discovery_url: Option<String>,
    /// The issuer's JWKS URL (`MCP_AUTH_JWKS_URL`).
    pub jwks_url: Option<String>,
    /// The tokens' issuer (`MCP_AUTH_ISSUER`).
    pub issuer: Option<String>,
    /// Accepted audiences (`MCP_AUTH_AUDIENCE`).
    pub audience: Vec<String>,
    /// Accepted client ids (`MCP_AUTH_ALLOWED_CLIENTS`).
    pub allowed_clients: Vec<String>,
    /// Scopes every token needs (`MCP_AUTH_REQUIRED_SCOPES`).
    pub required_scopes: Vec<String>,
    /// This server's resource URL (`MCP_AUTH_RESOURCE_URL`, else the first
    /// audience that is a URL).
    pub resource_url: Option<String>,
    /// The DynamoDB table of API keys (`MCP_API_KEYS_TABLE`).
    pub api_keys_table: Option<String>,
    /// Whether API Gateway's authorizer's caller is taken
    /// (`MCP_AUTH_TRUST_GATEWAY`).
    pub trust_gateway: bool,
}

impl AuthSettings {
    /// Whether any auth is configured: bearer tokens or API keys.
    pub fn is_enabled(&self) -> bool {
        self.uses_tokens() || self.api_keys_table.is_some() || self.trust_gateway
    }

    /// Whether bearer tokens are configured.
    pub fn uses_tokens(&self) -> bool {
        self.discovery_url.is_some() || self.jwks_url.is_some()
    }

    fn from_vars(var: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let one = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let list = |name: &str| {
            var(name)
                .map(|v| v.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
                .unwrap_or_default()
        };
        let auth = Self {
            discovery_url: one("MCP_AUTH_DISCOVERY_URL"),
            jwks_url: one("MCP_AUTH_JWKS_URL"),
            issuer: one("MCP_AUTH_ISSUER"),
            audience: list("MCP_AUTH_AUDIENCE"),
            allowed_clients: list("MCP_AUTH_ALLOWED_CLIENTS"),
            required_scopes: list("MCP_AUTH_REQUIRED_SCOPES"),
            resource_url: one("MCP_AUTH_RESOURCE_URL"),
            api_keys_table: one("MCP_API_KEYS_TABLE"),
            trust_gateway: match one("MCP_AUTH_TRUST_GATEWAY").map(|v| v.to_ascii_lowercase()).as_deref() {
                None | Some("false" | "0") => false,
                Some("true" | "1") => true,
                Some(_) => {
                    return Err(invalid(
                        "MCP_AUTH_TRUST_GATEWAY",
                        value_of(var, "MCP_AUTH_TRUST_GATEWAY"),
                        "expected true or false",
                    ));
                }
            },
        };
        let value = |name: &str| value_of(var, name);
        if auth.discovery_url.is_some() && auth.jwks_url.is_some() {
            return Err(invalid(
                "MCP_AUTH_JWKS_URL",
                value("MCP_AUTH_JWKS_URL"),
                "set the discovery URL or the JWKS URL, not both",
            ));
        }
        if auth.jwks_url.is_some() && auth.issuer.is_none() {
            return Err(invalid("MCP_AUTH_ISSUER", String::new(), "MCP_AUTH_JWKS_URL needs MCP_AUTH_ISSUER"));
        }
        if auth.uses_tokens() && auth.audience.is_empty() && auth.allowed_clients.is_empty() {
            return Err(invalid(
                "MCP_AUTH_AUDIENCE",
                String::new(),
                "token auth needs MCP_AUTH_AUDIENCE or MCP_AUTH_ALLOWED_CLIENTS, or any token from the issuer would do",
            ));
        }
        for name in ["MCP_AUTH_DISCOVERY_URL", "MCP_AUTH_JWKS_URL", "MCP_AUTH_RESOURCE_URL"] {
            if let Some(url) = one(name)
                && !(url.starts_with("https://") || url.starts_with("http://"))
            {
                return Err(invalid(name, url, "expected an http(s) URL"));
            }
        }
        Ok(auth)
    }

    /// This server's resource URL: the configured one, or the first
    /// audience that is a URL.
    pub fn resource(&self) -> Option<&str> {
        self.resource_url.as_deref().or_else(|| {
            self.audience.iter().map(String::as_str).find(|a| a.starts_with("https://") || a.starts_with("http://"))
        })
    }
}

impl Default for DeployConfig {
    fn default() -> Self {
        Self {
            environment: "dev".to_owned(),
            log_level: "info".to_owned(),
            session_table: None,
            task_table: None,
            #[cfg(feature = "http")]
            sessions: None,
            #[cfg(feature = "rest")]
            rest: None,
            cors: Cors::AnyOrigin,
            path: "/mcp".to_owned(),
            bind: SocketAddr::from(([0, 0, 0, 0], 8000)),
            rate_limit_per_minute: None,
            tool_timeout: None,
            auth: AuthSettings::default(),
            cache: CacheSettings::default(),
        }
    }
}

impl DeployConfig {
    /// Reads the process environment.
    ///
    /// # Errors
    /// A variable is set to a value that cannot be used; the error names it.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads settings through `var` (the environment, or a map in tests).
    ///
    /// # Errors
    /// A variable is set to a value that cannot be used; the error names it.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        if let Some(env) = var("ENVIRONMENT").filter(|v| !v.trim().is_empty()) {
            let env = env.trim().to_owned();
            if !env.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return Err(invalid("ENVIRONMENT", env, "use letters, digits, '-' and '_' (it names tables)"));
            }
            config.environment = env;
        }
        if let Some(level) = var("LOG_LEVEL").filter(|v| !v.trim().is_empty()) {
            let lower = level.trim().to_ascii_lowercase();
            if !["error", "warn", "info", "debug", "trace", "off"].contains(&lower.as_str()) {
                return Err(invalid("LOG_LEVEL", level, "expected error, warn, info, debug, trace or off"));
            }
            config.log_level = lower;
        }
        let table = |name: &str| var(name).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        config.session_table = table("MCP_SESSION_TABLE");
        config.task_table = table("MCP_TASK_TABLE");
        #[cfg(feature = "rest")]
        if let Some(base) = var("MCP_REST_PATH").filter(|v| !v.trim().is_empty()) {
            if !base.trim().starts_with('/') {
                return Err(invalid("MCP_REST_PATH", base, "must start with '/' (`/` serves the façade at the root)"));
            }
            config.rest = Some(RestOptions::at(&base));
        }
        #[cfg(feature = "http")]
        if let Some(mode) = var("MCP_SESSIONS").filter(|v| !v.trim().is_empty()) {
            config.sessions = Some(
                mode.parse().map_err(|_| invalid("MCP_SESSIONS", mode, "expected optional, required or disabled"))?,
            );
        }
        if let Some(list) = var("CORS_ALLOW_ORIGINS") {
            config.cors = Cors::from_list(&list);
        }
        if let Some(flag) = var("CORS_ALLOW_CREDENTIALS").filter(|v| !v.trim().is_empty()) {
            match flag.trim().to_ascii_lowercase().as_str() {
                "false" | "0" => {}
                "true" | "1" if matches!(config.cors, Cors::Origins(_)) => config.cors = config.cors.with_credentials(),
                "true" | "1" => {
                    return Err(invalid(
                        "CORS_ALLOW_CREDENTIALS",
                        flag,
                        "credentials need an explicit CORS_ALLOW_ORIGINS list, not `*`",
                    ));
                }
                _ => return Err(invalid("CORS_ALLOW_CREDENTIALS", flag, "expected true or false")),
            }
        }
        if let Some(path) = var("MCP_PATH").filter(|v| !v.trim().is_empty()) {
            let path = path.trim().to_owned();
            if !path.starts_with('/') {
                return Err(invalid("MCP_PATH", path, "a path starts with '/'"));
            }
            config.path = path;
        }
        if let Some(bind) = var("MCP_BIND").filter(|v| !v.trim().is_empty()) {
            config.bind =
                bind.trim().parse().map_err(|_| invalid("MCP_BIND", bind, "expected host:port, e.g. 0.0.0.0:8000"))?;
        }
        if let Some(rate) = var("MCP_RATE_LIMIT_PER_MINUTE").filter(|v| !v.trim().is_empty()) {
            let n = rate.trim().parse::<u32>().ok().filter(|n| *n > 0);
            config.rate_limit_per_minute =
                Some(n.ok_or_else(|| invalid("MCP_RATE_LIMIT_PER_MINUTE", rate, "expected a whole number above 0"))?);
        }
        if let Some(ms) = var("MCP_TOOL_TIMEOUT_MS").filter(|v| !v.trim().is_empty()) {
            let n = ms.trim().parse::<u64>().ok().filter(|n| *n > 0);
            let n =
                n.ok_or_else(|| invalid("MCP_TOOL_TIMEOUT_MS", ms, "expected milliseconds, a whole number above 0"))?;
            config.tool_timeout = Some(Duration::from_millis(n));
        }
        config.auth = AuthSettings::from_vars(&var)?;
        config.cache = CacheSettings::from_vars(&var)?;
        Ok(config)
    }

    /// Uses this DynamoDB table for sessions.
    #[must_use]
    pub fn with_session_table(mut self, table: impl Into<String>) -> Self {
        self.session_table = Some(table.into());
        self
    }

    /// Keeps tasks in this DynamoDB table.
    #[must_use]
    pub fn with_task_table(mut self, table: impl Into<String>) -> Self {
        self.task_table = Some(table.into());
        self
    }

    /// Allows these browser origins.
    #[must_use]
    pub fn with_cors(mut self, cors: Cors) -> Self {
        self.cors = cors;
        self
    }

    /// The REST façade's settings, with the security schemes the configured
    /// authentication accepts declared for its OpenAPI document (`x-api-key`
    /// with `MCP_API_KEYS_TABLE`, bearer tokens with `MCP_AUTH_*`); `None`
    /// when the façade is off.
    #[cfg(feature = "rest")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rest")))]
    pub fn rest_options(&self) -> Option<RestOptions> {
        use mcp_core::transport::http::rest::SecurityScheme;
        let mut rest = self.rest.clone()?;
        if self.auth.api_keys_table.is_some() && rest.security.is_empty() {
            rest = rest.security(SecurityScheme::api_key("x-api-key"));
        }
        if self.auth.uses_tokens() && !rest.security.contains(&SecurityScheme::Bearer) {
            rest = rest.security(SecurityScheme::Bearer);
        }
        Some(rest)
    }

    /// Serves the REST façade beside MCP.
    #[cfg(feature = "rest")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rest")))]
    #[must_use]
    pub fn with_rest(mut self, rest: RestOptions) -> Self {
        self.rest = Some(rest);
        self
    }

    /// Serves MCP on `path`.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Listens on `bind` (containers).
    #[must_use]
    pub fn with_bind(mut self, bind: SocketAddr) -> Self {
        self.bind = bind;
        self
    }

    /// The default session table name for this environment,
    /// `mcp-sessions-{environment}`.
    pub fn default_session_table(&self) -> String {
        format!("mcp-sessions-{}", self.environment)
    }
}

/// A variable's raw value, for an error message.
fn value_of(var: &impl Fn(&str) -> Option<String>, name: &str) -> String {
    var(name).unwrap_or_default()
}

fn invalid(variable: &'static str, value: String, reason: &'static str) -> ConfigError {
    ConfigError { variable, value, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn defaults_without_variables() {
        let c = DeployConfig::from_vars(vars(&[])).expect("defaults");
        assert_eq!(c, DeployConfig::default());
        assert_eq!(c.default_session_table(), "mcp-sessions-dev");
    }

    #[test]
    fn every_variable_is_read() {
        let c = DeployConfig::from_vars(vars(&[
            ("ENVIRONMENT", "prod"),
            ("LOG_LEVEL", "DEBUG"),
            ("MCP_SESSION_TABLE", "sessions"),
            ("MCP_TASK_TABLE", " tasks "),
            ("CORS_ALLOW_ORIGINS", "https://a.example"),
            ("MCP_PATH", "/v1/mcp"),
            ("MCP_BIND", "127.0.0.1:9000"),
            ("MCP_RATE_LIMIT_PER_MINUTE", "120"),
            ("MCP_TOOL_TIMEOUT_MS", "2500"),
            ("MCP_SESSIONS", "Disabled"),
            ("MCP_REST_PATH", "/api/"),
        ]))
        .expect("valid");
        #[cfg(feature = "http")]
        assert_eq!(c.sessions, Some(SessionMode::Disabled));
        #[cfg(feature = "rest")]
        assert_eq!(c.rest.as_ref().map(RestOptions::base), Some("/api"));
        assert_eq!(c.environment, "prod");
        assert_eq!(c.log_level, "debug");
        assert_eq!(c.session_table.as_deref(), Some("sessions"));
        assert_eq!(c.task_table.as_deref(), Some("tasks"));
        assert_eq!(c.cors, Cors::Origins(vec!["https://a.example".into()]));
        assert_eq!(c.path, "/v1/mcp");
        let credentialed = DeployConfig::from_vars(vars(&[
            ("CORS_ALLOW_ORIGINS", "https://a.example"),
            ("CORS_ALLOW_CREDENTIALS", "true"),
        ]))
        .expect("valid");
        assert_eq!(credentialed.cors, Cors::CredentialedOrigins(vec!["https://a.example".into()]));
        assert_eq!(c.bind, SocketAddr::from(([127, 0, 0, 1], 9000)));
        assert_eq!(c.rate_limit_per_minute, Some(120));
        assert_eq!(c.tool_timeout, Some(Duration::from_millis(2500)));
    }

    #[test]
    fn auth_settings_mirror_the_agentcore_authorizer() {
        let c = DeployConfig::from_vars(vars(&[
            (
                "MCP_AUTH_DISCOVERY_URL",
                "https://cognito-idp.us-east-1.amazonaws.com/p/.well-known/openid-configuration",
            ),
            ("MCP_AUTH_ALLOWED_CLIENTS", "c1, c2"),
            ("MCP_AUTH_AUDIENCE", "https://mcp.example.com/mcp,api"),
            ("MCP_AUTH_REQUIRED_SCOPES", "mcp/read mcp/write"),
            ("MCP_API_KEYS_TABLE", "keys-prod"),
        ]))
        .expect("valid");
        assert!(c.auth.is_enabled() && c.auth.uses_tokens());
        assert_eq!(c.auth.allowed_clients, ["c1", "c2"]);
        assert_eq!(c.auth.audience, ["https://mcp.example.com/mcp", "api"]);
        assert_eq!(c.auth.required_scopes, ["mcp/read", "mcp/write"]);
        assert_eq!(c.auth.resource(), Some("https://mcp.example.com/mcp"));
        assert_eq!(c.auth.api_keys_table.as_deref(), Some("keys-prod"));
        assert!(!DeployConfig::default().auth.is_enabled());
        let gateway = DeployConfig::from_vars(vars(&[("MCP_AUTH_TRUST_GATEWAY", "TRUE")])).expect("valid");
        assert!(gateway.auth.trust_gateway && gateway.auth.is_enabled() && !gateway.auth.uses_tokens());
    }

    #[test]
    fn cache_settings_read_the_guide_variables() {
        let c = DeployConfig::from_vars(vars(&[
            ("ENABLE_CACHING", "true"),
            ("CACHE_TTL", "300"),
            ("DYNAMODB_TABLE", "mcp-tool-results-prod"),
        ]))
        .expect("valid");
        assert!(c.cache.enabled && !c.cache.read_only);
        assert_eq!(c.cache.ttl, Duration::from_secs(300));
        assert_eq!(c.cache.table.as_deref(), Some("mcp-tool-results-prod"));
        let short = DeployConfig::from_vars(vars(&[("CACHE_TTL", "500ms")])).expect("valid");
        assert_eq!(short.cache.ttl, Duration::from_millis(500));
        assert!(!DeployConfig::default().cache.enabled);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (pairs, variable) in [
            (&[("LOG_LEVEL", "loud")][..], "LOG_LEVEL"),
            (&[("CORS_ALLOW_CREDENTIALS", "true")][..], "CORS_ALLOW_CREDENTIALS"),
            (&[("CORS_ALLOW_ORIGINS", "*"), ("CORS_ALLOW_CREDENTIALS", "yes")][..], "CORS_ALLOW_CREDENTIALS"),
            (&[("MCP_BIND", "port 80")][..], "MCP_BIND"),
            (&[("ENVIRONMENT", "prod/eu")][..], "ENVIRONMENT"),
            (&[("MCP_PATH", "mcp")][..], "MCP_PATH"),
            (&[("MCP_RATE_LIMIT_PER_MINUTE", "0")][..], "MCP_RATE_LIMIT_PER_MINUTE"),
            (&[("MCP_RATE_LIMIT_PER_MINUTE", "lots")][..], "MCP_RATE_LIMIT_PER_MINUTE"),
            (&[("MCP_TOOL_TIMEOUT_MS", "30s")][..], "MCP_TOOL_TIMEOUT_MS"),
            #[cfg(feature = "http")]
            (&[("MCP_SESSIONS", "sometimes")][..], "MCP_SESSIONS"),
            #[cfg(feature = "rest")]
            (&[("MCP_REST_PATH", "api")][..], "MCP_REST_PATH"),
            (&[("MCP_AUTH_DISCOVERY_URL", "https://i/.well-known/openid-configuration")][..], "MCP_AUTH_AUDIENCE"),
            (&[("MCP_AUTH_JWKS_URL", "https://i/jwks"), ("MCP_AUTH_AUDIENCE", "a")][..], "MCP_AUTH_ISSUER"),
            (&[("MCP_AUTH_DISCOVERY_URL", "d"), ("MCP_AUTH_JWKS_URL", "j")][..], "MCP_AUTH_JWKS_URL"),
            (&[("MCP_AUTH_DISCOVERY_URL", "ftp://x"), ("MCP_AUTH_ALLOWED_CLIENTS", "c")][..], "MCP_AUTH_DISCOVERY_URL"),
            (&[("MCP_AUTH_TRUST_GATEWAY", "maybe")][..], "MCP_AUTH_TRUST_GATEWAY"),
            (&[("ENABLE_CACHING", "yes")][..], "ENABLE_CACHING"),
            (&[("CACHE_TTL", "0")][..], "CACHE_TTL"),
            (&[("CACHE_TTL", "five minutes")][..], "CACHE_TTL"),
            (&[("MCP_CACHE_MAX_BYTES", "-1")][..], "MCP_CACHE_MAX_BYTES"),
            (&[("MCP_CACHE_READ_ONLY", "sure")][..], "MCP_CACHE_READ_ONLY"),
        ] {
            let pairs: &'static [(&'static str, &'static str)] = pairs;
            let err = DeployConfig::from_vars(vars(pairs)).expect_err("invalid");
            assert_eq!(err.variable, variable);
            assert!(err.to_string().contains(variable), "{err}");
        }
    }
}
