//! Deployment settings from the environment, as the AWS deployment guide
//! sets them, each overridable in code.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `ENVIRONMENT` | `dev` | deployment stage; names tables (`mcp-sessions-{env}`) |
//! | `LOG_LEVEL` | `info` | `error`, `warn`, `info`, `debug` or `trace` (any case) |
//! | `MCP_SESSION_TABLE` | none | DynamoDB table for legacy-era sessions; without it sessions live in the instance |
//! | `MCP_REST_PATH` | none | with feature `rest`: serve the REST façade (`GET /tools`, `POST /tools/{name}`, `POST` of `{"tool", "params"}`, `/openapi.json`) under this base path (`/` for the root) |
//! | `MCP_SESSIONS` | see meaning | `optional` (`initialize` opens a session; requests without one are served sessionless), `required`, or `disabled` (no sessions: every legacy request stands alone). Default: `disabled` on Lambda without `MCP_SESSION_TABLE`, else `optional` |
//! | `CORS_ALLOW_ORIGINS` | `*` | comma-separated origins, `*` for any (`Access-Control-Allow-Origin: *`, no credentials), empty to disable CORS |
//! | `CORS_ALLOW_CREDENTIALS` | `false` | `true` lets the listed origins make credentialed calls; needs an explicit `CORS_ALLOW_ORIGINS` list |
//! | `MCP_PATH` | `/mcp` | the path MCP is served on |
//! | `MCP_BIND` | `0.0.0.0:8000` | the address a container (AgentCore Runtime) listens on |
//! | `MCP_RATE_LIMIT_PER_MINUTE` | none | tool calls a minute each caller may make (for a rate-limit layer, which counts `tools/call` only by default) |
//! | `MCP_TOOL_TIMEOUT_MS` | none | the deadline of every tool call, in milliseconds (for a timeout layer) |
//!
//! The last two only describe layers; the deployment builds them (see
//! `examples/lambda`), since the stack of layers is the application's.
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
}

impl Default for DeployConfig {
    fn default() -> Self {
        Self {
            environment: "dev".to_owned(),
            log_level: "info".to_owned(),
            session_table: None,
            #[cfg(feature = "http")]
            sessions: None,
            #[cfg(feature = "rest")]
            rest: None,
            cors: Cors::AnyOrigin,
            path: "/mcp".to_owned(),
            bind: SocketAddr::from(([0, 0, 0, 0], 8000)),
            rate_limit_per_minute: None,
            tool_timeout: None,
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
        config.session_table = var("MCP_SESSION_TABLE").map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
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
        Ok(config)
    }

    /// Uses this DynamoDB table for sessions.
    #[must_use]
    pub fn with_session_table(mut self, table: impl Into<String>) -> Self {
        self.session_table = Some(table.into());
        self
    }

    /// Allows these browser origins.
    #[must_use]
    pub fn with_cors(mut self, cors: Cors) -> Self {
        self.cors = cors;
        self
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
        ] {
            let pairs: &'static [(&'static str, &'static str)] = pairs;
            let err = DeployConfig::from_vars(vars(pairs)).expect_err("invalid");
            assert_eq!(err.variable, variable);
            assert!(err.to_string().contains(variable), "{err}");
        }
    }
}
