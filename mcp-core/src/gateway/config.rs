//! The gateway's configuration file: JSON, read from the path (or the
//! inline document) in `MCP_GATEWAY_CONFIG`.
//!
//! ```json
//! {
//!   "name": "my-gateway",
//!   "version": "1.0.0",
//!   "timeout_ms": 30000,
//!   "upstreams": [
//!     { "name": "calc", "url": "http://127.0.0.1:3000/mcp", "prefix": "calc",
//!       "auth": { "bearer_env": "CALC_TOKEN" } },
//!     { "name": "files", "command": "python", "args": ["server.py", "stdio"],
//!       "env": { "ROOT": "/data" }, "allow": ["read_*"], "deny": ["read_secret"],
//!       "timeout_ms": 5000, "mode": "legacy" }
//!   ]
//! }
//! ```
//!
//! Each upstream has a `name` and exactly one of `url` (Streamable HTTP) or
//! `command` (a child process over stdio, with optional `args`, `env`,
//! `cwd`). Optional: `prefix` (tools exposed as `<prefix>___<tool>`),
//! `allow` and `deny` (tool and prompt names and resource URIs, exact or
//! prefixes ending in `*`; prompts take the prefix too), `auth`
//! (`{"bearer_env": VAR}` or `{"api_key_env": VAR, "header": "x-api-key"}`:
//! the *names* of environment variables holding the credentials, never the
//! credentials themselves; or `{"bearer_secret": ID}` or
//! `{"api_key_secret": ID, "header": "x-api-key"}`, each with an optional
//! `"secret_field"`: a secret read through the gateway's
//! [`SecretSource`](super::SecretSource), such as AWS Secrets Manager, by
//! name or ARN, and the field holding the value when the secret is a JSON
//! object), `timeout_ms` (the gateway-wide one by default,
//! itself 30000 by default) and `mode` (`auto`, `legacy`, `stateless`).
//! Unknown fields are errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::secret::SecretRef;
use super::upstream::{DEFAULT_TIMEOUT, Target, UpstreamAuth, UpstreamSpec};
use crate::client::Mode;

/// The environment variable holding the configuration: a file path, or the
/// JSON document itself when it starts with `{`.
pub const CONFIG_VAR: &str = "MCP_GATEWAY_CONFIG";

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `MCP_GATEWAY_CONFIG` is not set.
    #[error("{CONFIG_VAR} is not set: give it a config file path or a JSON document")]
    Missing,
    /// The file cannot be read.
    #[error("cannot read the gateway config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The document does not parse, or a field is wrong.
    #[error("invalid gateway config at `{path}`: {message}")]
    Invalid {
        /// Where (`upstreams[1].url`).
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// The gateway's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GatewayConfig {
    /// The gateway's server name (`mcp-gateway` by default).
    pub name: String,
    /// Its version (this crate's by default).
    pub version: String,
    /// The upstreams.
    pub upstreams: Vec<UpstreamSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: Option<String>,
    version: Option<String>,
    timeout_ms: Option<u64>,
    upstreams: Vec<UpstreamEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpstreamEntry {
    name: String,
    url: Option<String>,
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    cwd: Option<PathBuf>,
    prefix: Option<String>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
    auth: Option<AuthEntry>,
    timeout_ms: Option<u64>,
    #[serde(default)]
    mode: ModeEntry,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthEntry {
    bearer_env: Option<String>,
    api_key_env: Option<String>,
    bearer_secret: Option<String>,
    api_key_secret: Option<String>,
    secret_field: Option<String>,
    header: Option<String>,
}

impl AuthEntry {
    fn into_auth(self) -> Result<UpstreamAuth, &'static str> {
        let secret = |id: String, field: Option<String>| SecretRef { id, field };
        let header = |h: Option<String>| h.unwrap_or_else(|| "x-api-key".into());
        match self {
            Self {
                bearer_env: Some(token_env),
                api_key_env: None,
                bearer_secret: None,
                api_key_secret: None,
                secret_field: None,
                header: None,
            } => Ok(UpstreamAuth::Bearer { token_env }),
            Self {
                bearer_env: None,
                api_key_env: Some(key_env),
                bearer_secret: None,
                api_key_secret: None,
                secret_field: None,
                header: h,
            } => Ok(UpstreamAuth::ApiKey { header: header(h), key_env }),
            Self {
                bearer_env: None,
                api_key_env: None,
                bearer_secret: Some(id),
                api_key_secret: None,
                secret_field: field,
                header: None,
            } => Ok(UpstreamAuth::BearerSecret { secret: secret(id, field) }),
            Self {
                bearer_env: None,
                api_key_env: None,
                bearer_secret: None,
                api_key_secret: Some(id),
                secret_field: field,
                header: h,
            } => Ok(UpstreamAuth::ApiKeySecret { header: header(h), secret: secret(id, field) }),
            _ => {
                Err("give one of `bearer_env`, `api_key_env`, `bearer_secret` or `api_key_secret`; `header` goes with \
                      an API key, `secret_field` with a secret")
            }
        }
    }
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum ModeEntry {
    #[default]
    Auto,
    Legacy,
    Stateless,
}

fn invalid(path: String, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { path, message: message.into() }
}

impl GatewayConfig {
    /// Reads `MCP_GATEWAY_CONFIG`: a path, or a JSON document starting with `{`.
    ///
    /// # Errors
    /// [`ConfigError`] when it is unset, unreadable or invalid.
    pub fn from_env() -> Result<Self, ConfigError> {
        let value = std::env::var(CONFIG_VAR).map_err(|_| ConfigError::Missing)?;
        if value.trim_start().starts_with('{') { Self::from_json(&value) } else { Self::from_file(value.trim()) }
    }

    /// Reads a JSON config file.
    ///
    /// # Errors
    /// [`ConfigError`] when it is unreadable or invalid.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        Self::from_json(&text)
    }

    /// Parses a JSON config document.
    ///
    /// ```
    /// use mcp_core::gateway::GatewayConfig;
    ///
    /// let config = GatewayConfig::from_json(r#"{"upstreams": [{"name": "calc", "url": "http://127.0.0.1:3000/mcp", "prefix": "calc"}]}"#)?;
    /// assert_eq!(config.upstreams[0].exposed_name("add"), "calc___add");
    ///
    /// let err = GatewayConfig::from_json(r#"{"upstreams": [{"name": "calc"}]}"#).unwrap_err();
    /// assert_eq!(err.to_string(), "invalid gateway config at `upstreams[0]`: give exactly one of `url` or `command`");
    /// # Ok::<(), mcp_core::gateway::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the field.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let file: File =
            serde_path_to_error::deserialize(de).map_err(|e| invalid(e.path().to_string(), e.inner().to_string()))?;
        let default_timeout = file.timeout_ms.map_or(DEFAULT_TIMEOUT, Duration::from_millis);
        let mut upstreams = Vec::with_capacity(file.upstreams.len());
        for (i, entry) in file.upstreams.into_iter().enumerate() {
            upstreams.push(entry.into_spec(i, default_timeout)?);
        }
        if upstreams.is_empty() {
            return Err(invalid("upstreams".into(), "name at least one upstream"));
        }
        let mut seen = BTreeMap::new();
        for (i, u) in upstreams.iter().enumerate() {
            if let Some(first) = seen.insert(u.name.clone(), i) {
                let message = format!("upstream name {:?} is also upstreams[{first}]'s", u.name);
                return Err(invalid(format!("upstreams[{i}].name"), message));
            }
        }
        Ok(Self {
            name: file.name.unwrap_or_else(|| "mcp-gateway".into()),
            version: file.version.unwrap_or_else(|| env!("CARGO_PKG_VERSION").into()),
            upstreams,
        })
    }
}

impl UpstreamEntry {
    fn into_spec(self, i: usize, default_timeout: Duration) -> Result<UpstreamSpec, ConfigError> {
        let at = |field: &str| {
            if field.is_empty() { format!("upstreams[{i}]") } else { format!("upstreams[{i}].{field}") }
        };
        if self.name.trim().is_empty() {
            return Err(invalid(at("name"), "must not be empty"));
        }
        let target = match (self.url, self.command) {
            (Some(url), None) => {
                if !self.args.is_empty() || !self.env.is_empty() || self.cwd.is_some() {
                    return Err(invalid(at(""), "`args`, `env` and `cwd` are for `command` upstreams"));
                }
                Target::Http { url }
            }
            (None, Some(command)) => {
                if self.auth.is_some() {
                    return Err(invalid(at("auth"), "credentials are for `url` upstreams"));
                }
                Target::Stdio { command, args: self.args, env: self.env, cwd: self.cwd }
            }
            _ => return Err(invalid(at(""), "give exactly one of `url` or `command`")),
        };
        let auth = self.auth.map(AuthEntry::into_auth).transpose().map_err(|m| invalid(at("auth"), m))?;
        if let Some(prefix) = &self.prefix
            && prefix.is_empty()
        {
            return Err(invalid(at("prefix"), "must not be empty"));
        }
        if self.timeout_ms == Some(0) {
            return Err(invalid(at("timeout_ms"), "must be more than 0"));
        }
        Ok(UpstreamSpec {
            name: self.name,
            target,
            prefix: self.prefix,
            allow: self.allow,
            deny: self.deny,
            auth,
            timeout: self.timeout_ms.map_or(default_timeout, Duration::from_millis),
            mode: match self.mode {
                ModeEntry::Auto => Mode::Auto,
                ModeEntry::Legacy => Mode::Legacy,
                ModeEntry::Stateless => Mode::Stateless,
            },
        })
    }
}
