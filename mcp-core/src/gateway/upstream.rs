//! One upstream server: how to reach it ([`UpstreamSpec`]), and the live
//! connection the gateway keeps to it ([`Upstream`]), reconnected on the
//! next call after it dies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::process::Command;

use super::GatewayError;
use super::rounds::{Bridge, Callers};
use super::secret::{SecretAuth, SecretRef, SecretSource};
use crate::client::{ApiKey, BearerToken, Client, ClientBuilder, HttpTransport, Mode, StderrMode, StdioTransport};
use crate::protocol::lifecycle::ClientCapabilities;
use crate::protocol::tools::Tool;

/// The separator between an upstream's prefix and its tool names, as
/// AgentCore Gateway writes them (`<target>___<tool>`).
pub const PREFIX_SEPARATOR: &str = "___";

/// The default time an upstream has to connect or answer a call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where an upstream runs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// A child process speaking MCP on stdin/stdout.
    Stdio {
        /// The program.
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// Extra environment variables.
        env: BTreeMap<String, String>,
        /// Its working directory.
        cwd: Option<PathBuf>,
    },
    /// A Streamable HTTP endpoint.
    Http {
        /// The endpoint URL (`http://…/mcp`, `https://` with feature `client-tls`).
        url: String,
    },
}

/// The credentials the gateway presents to an upstream, never the
/// caller's (the spec forbids token passthrough): read from the
/// environment variable named here when the gateway connects, or from a
/// secret store on every request (through the store's cache, so rotations
/// are picked up; see [`SecretSource`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpstreamAuth {
    /// `Authorization: Bearer <value of env>`.
    Bearer {
        /// The environment variable holding the token.
        token_env: String,
    },
    /// `<header>: <value of env>`.
    ApiKey {
        /// The header (`x-api-key` by default in configuration).
        header: String,
        /// The environment variable holding the key.
        key_env: String,
    },
    /// `Authorization: Bearer <value of the secret>`.
    BearerSecret {
        /// The secret.
        secret: SecretRef,
    },
    /// `<header>: <value of the secret>`.
    ApiKeySecret {
        /// The header (`x-api-key` by default in configuration).
        header: String,
        /// The secret.
        secret: SecretRef,
    },
}

/// How to reach one upstream and what of it to expose.
///
/// ```
/// use mcp_core::gateway::UpstreamSpec;
///
/// let calc = UpstreamSpec::http("calc", "http://127.0.0.1:3000/mcp").prefix("calc").allow(["add", "sub*"]);
/// assert_eq!(calc.exposed_name("add"), "calc___add");
/// assert!(calc.admits("subtract"));
/// assert!(!calc.admits("divide"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpstreamSpec {
    /// The name errors and health reports use.
    pub name: String,
    /// Where it runs.
    pub target: Target,
    /// Tool names are exposed as `<prefix>___<name>` when set.
    pub prefix: Option<String>,
    /// Only these tools and prompts (by name) and resources and templates
    /// (by URI): exact, or a prefix ending in `*`; everything when empty.
    pub allow: Vec<String>,
    /// Never these (same patterns); applied after `allow`.
    pub deny: Vec<String>,
    /// The credentials to present (HTTP only).
    pub auth: Option<UpstreamAuth>,
    /// How long connecting and each call may take.
    pub timeout: Duration,
    /// How the era is settled with it.
    pub mode: Mode,
}

impl UpstreamSpec {
    fn new(name: impl Into<String>, target: Target) -> Self {
        Self {
            name: name.into(),
            target,
            prefix: None,
            allow: Vec::new(),
            deny: Vec::new(),
            auth: None,
            timeout: DEFAULT_TIMEOUT,
            mode: Mode::Auto,
        }
    }

    /// An upstream at a Streamable HTTP `url`.
    pub fn http(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self::new(name, Target::Http { url: url.into() })
    }

    /// An upstream run as a child process over stdio.
    pub fn stdio<I: IntoIterator<Item = T>, T: Into<String>>(
        name: impl Into<String>,
        command: impl Into<String>,
        args: I,
    ) -> Self {
        let args = args.into_iter().map(Into::into).collect();
        Self::new(name, Target::Stdio { command: command.into(), args, env: BTreeMap::new(), cwd: None })
    }

    /// Exposes its tools as `<prefix>___<tool>`.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Exposes only these tools (exact names, or prefixes ending in `*`).
    #[must_use]
    pub fn allow<I: IntoIterator<Item = T>, T: Into<String>>(mut self, patterns: I) -> Self {
        self.allow = patterns.into_iter().map(Into::into).collect();
        self
    }

    /// Hides these tools (exact names, or prefixes ending in `*`).
    #[must_use]
    pub fn deny<I: IntoIterator<Item = T>, T: Into<String>>(mut self, patterns: I) -> Self {
        self.deny = patterns.into_iter().map(Into::into).collect();
        self
    }

    /// Presents these credentials to the upstream.
    #[must_use]
    pub fn auth(mut self, auth: UpstreamAuth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// How long connecting and each call may take.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How the era is settled with it.
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Whether the upstream tool or prompt `name` (or resource URI) passes
    /// the allow and deny lists.
    pub fn admits(&self, name: &str) -> bool {
        let matches = |p: &String| match p.strip_suffix('*') {
            Some(start) => name.starts_with(start),
            None => p == name,
        };
        (self.allow.is_empty() || self.allow.iter().any(matches)) && !self.deny.iter().any(matches)
    }

    /// The name the gateway exposes the upstream tool `name` under.
    pub fn exposed_name(&self, name: &str) -> String {
        match &self.prefix {
            Some(prefix) => format!("{prefix}{PREFIX_SEPARATOR}{name}"),
            None => name.to_owned(),
        }
    }

    /// Connects, within the timeout; secret credentials are read from
    /// `secrets`.
    pub(super) async fn connect(
        &self,
        callers: &Arc<Callers>,
        secrets: Option<&Arc<dyn SecretSource>>,
    ) -> Result<Client, GatewayError> {
        let failed = |reason: String| GatewayError::Connect { upstream: self.name.clone(), reason };
        let builder = ClientBuilder::new("mcp-gateway", env!("CARGO_PKG_VERSION"))
            .mode(self.mode)
            .timeout(self.timeout)
            .probe_timeout(self.timeout)
            // What an upstream asks for is passed on to the gateway's caller
            // (`input_required` rounds); whether the caller can answer is
            // the caller's to say.
            .capabilities(ClientCapabilities {
                elicitation: Some(Default::default()),
                sampling: Some(Default::default()),
                roots: Some(Default::default()),
                ..Default::default()
            })
            // A legacy upstream asks with requests of its own: to the caller.
            .elicitation(Bridge(Arc::clone(callers)))
            .sampling(Bridge(Arc::clone(callers)))
            .roots(Bridge(Arc::clone(callers)));
        let connecting = async {
            match &self.target {
                Target::Stdio { command, args, env, cwd } => {
                    let mut cmd = Command::new(command);
                    cmd.args(args).envs(env);
                    if let Some(cwd) = cwd {
                        cmd.current_dir(cwd);
                    }
                    let transport = StdioTransport::spawn(cmd, StderrMode::Inherit)
                        .map_err(|e| failed(format!("cannot start `{command}`: {e}")))?;
                    builder.connect(transport).await.map_err(|e| failed(e.to_string()))
                }
                Target::Http { url } => {
                    // The GET stream carries a legacy session's list changes.
                    let mut transport = HttpTransport::builder(url).get_stream(true);
                    match &self.auth {
                        Some(UpstreamAuth::Bearer { token_env }) => {
                            let token = secret(token_env).map_err(failed)?;
                            transport = transport.auth(BearerToken::new(&token).map_err(|e| failed(e.to_string()))?);
                        }
                        Some(UpstreamAuth::ApiKey { header, key_env }) => {
                            let key = secret(key_env).map_err(failed)?;
                            transport = transport.auth(ApiKey::new(header, &key).map_err(|e| failed(e.to_string()))?);
                        }
                        Some(UpstreamAuth::BearerSecret { secret }) => {
                            transport = transport.auth(secret_auth(secrets, secret, None).map_err(failed)?);
                        }
                        Some(UpstreamAuth::ApiKeySecret { header, secret }) => {
                            transport = transport.auth(secret_auth(secrets, secret, Some(header)).map_err(failed)?);
                        }
                        None => {}
                    }
                    let transport = transport.build().map_err(|e| failed(e.to_string()))?;
                    builder.connect(transport).await.map_err(|e| failed(e.to_string()))
                }
            }
        };
        match tokio::time::timeout(self.timeout, connecting).await {
            Ok(connected) => connected,
            Err(_) => Err(failed(format!("no answer within {:?}", self.timeout))),
        }
    }
}

/// The hook reading `secret` from `secrets` on each request.
fn secret_auth(
    secrets: Option<&Arc<dyn SecretSource>>,
    secret: &SecretRef,
    header: Option<&str>,
) -> Result<SecretAuth, String> {
    let Some(source) = secrets else {
        return Err(format!(
            "its credential is the secret {secret}, and the gateway was given no secret source \
             (Gateway::connect_with_secrets; mcp_aws::secrets::SecretsManagerSource for AWS Secrets Manager)"
        ));
    };
    let header = header
        .map(|h| http::HeaderName::try_from(h).map_err(|_| format!("{h:?} is not a valid header name")))
        .transpose()?;
    Ok(SecretAuth { source: Arc::clone(source), secret: secret.clone(), header })
}

/// The value of environment variable `var`, never logged.
fn secret(var: &str) -> Result<String, String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        _ => Err(format!("the credential variable {var} is not set")),
    }
}

/// The live side of an upstream: its connection (`None` once it died), the
/// last failure, and the names it has registered on the gateway.
#[derive(Debug)]
pub(super) struct Upstream {
    pub(super) spec: UpstreamSpec,
    client: Mutex<Option<Client>>,
    reconnecting: tokio::sync::Mutex<()>,
    /// The calls in flight, for what the upstream asks during them.
    pub(super) callers: Arc<Callers>,
    /// Where secret credentials are read.
    secrets: Option<Arc<dyn SecretSource>>,
    last_error: Mutex<Option<String>>,
    /// Exposed name -> upstream name, as registered now.
    pub(super) tools: Mutex<BTreeMap<String, String>>,
    /// The prompts, resources and templates it has registered now.
    pub(super) catalog: Mutex<BTreeSet<CatalogKey>>,
}

impl Upstream {
    pub(super) fn new(
        spec: UpstreamSpec,
        client: Client,
        callers: Arc<Callers>,
        secrets: Option<Arc<dyn SecretSource>>,
    ) -> Self {
        Self {
            spec,
            callers,
            secrets,
            client: Mutex::new(Some(client)),
            reconnecting: tokio::sync::Mutex::new(()),
            last_error: Mutex::new(None),
            tools: Mutex::new(BTreeMap::new()),
            catalog: Mutex::new(BTreeSet::new()),
        }
    }

    pub(super) fn name(&self) -> &str {
        &self.spec.name
    }

    /// The connection now, if it is alive.
    pub(super) fn current(&self) -> Option<Client> {
        self.client.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The connection, reconnecting first if it died. Returns whether it
    /// is a new connection.
    pub(super) async fn client(&self) -> Result<(Client, bool), GatewayError> {
        if let Some(c) = self.current() {
            return Ok((c, false));
        }
        let _one = self.reconnecting.lock().await;
        if let Some(c) = self.current() {
            return Ok((c, false));
        }
        match self.spec.connect(&self.callers, self.secrets.as_ref()).await {
            Ok(client) => {
                *self.client.lock().unwrap_or_else(PoisonError::into_inner) = Some(client.clone());
                *self.last_error.lock().unwrap_or_else(PoisonError::into_inner) = None;
                tracing::info!(upstream = %self.spec.name, "reconnected to the upstream");
                Ok((client, true))
            }
            Err(e) => {
                self.set_error(e.to_string());
                Err(e)
            }
        }
    }

    /// Drops the connection `dead` (if it is still the current one) after
    /// it failed with `reason`: the next call reconnects.
    pub(super) fn mark_dead(&self, dead: &Client, reason: String) {
        {
            let mut current = self.client.lock().unwrap_or_else(PoisonError::into_inner);
            if current.as_ref().is_some_and(|c| c.same_connection(dead)) {
                *current = None;
            }
        }
        tracing::warn!(upstream = %self.spec.name, reason = %reason, "upstream connection lost");
        self.set_error(reason);
    }

    pub(super) fn set_error(&self, reason: String) {
        *self.last_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason);
    }

    pub(super) fn clear_error(&self) {
        *self.last_error.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    pub(super) fn last_error(&self) -> Option<String> {
        self.last_error.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The tools it offers that the lists admit, with their exposed names.
    pub(super) async fn admitted_tools(&self, client: &Client) -> Result<Vec<(String, Tool)>, GatewayError> {
        let listed = tokio::time::timeout(self.spec.timeout, client.list_tools()).await;
        let tools = match listed {
            Ok(Ok(tools)) => tools,
            Ok(Err(e)) => return Err(GatewayError::List { upstream: self.spec.name.clone(), reason: e.to_string() }),
            Err(_) => {
                let reason = format!("no answer within {:?}", self.spec.timeout);
                return Err(GatewayError::List { upstream: self.spec.name.clone(), reason });
            }
        };
        Ok(tools
            .into_iter()
            .filter(|t| self.spec.admits(&t.name))
            .map(|t| (self.spec.exposed_name(&t.name), t))
            .collect())
    }
}

/// Shared by the gateway's upstreams: who registered which exposed name.
pub(super) type Owners = Arc<Mutex<BTreeMap<String, String>>>;

/// What names a catalog item on the gateway: a prompt's exposed name, a
/// resource's URI or a template's URI template.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum CatalogKey {
    Prompt(String),
    Resource(String),
    Template(String),
}

impl CatalogKey {
    /// The name or URI it stands for.
    pub(super) fn as_str(&self) -> &str {
        match self {
            Self::Prompt(k) | Self::Resource(k) | Self::Template(k) => k,
        }
    }
}

/// Shared by the gateway's upstreams: who registered which catalog item.
pub(super) type CatalogOwners = Arc<Mutex<BTreeMap<CatalogKey, String>>>;
