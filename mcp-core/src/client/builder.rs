//! [`ClientBuilder`]: who the client is, what it answers, and how it
//! settles the protocol era when it connects.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::error::ClientError;
use super::handler::{ElicitationHandler, RootsHandler, SamplingHandler};
use super::peer::{Config, Handlers, Shared, route};
use super::transport::{Inbound, Transport};
use super::{Client, Lifetime, Negotiated, RequestOptions};
use crate::ProtocolVersion;
use crate::protocol::lifecycle::{
    ClientCapabilities, DiscoverResult, ElicitationCapability, Implementation, InitializeRequestParams,
    InitializeResult, RootsCapability, SamplingCapability,
};
use crate::protocol::meta::keys;
use crate::protocol::methods;
use crate::protocol::tasks::EXTENSION_ID;

/// How the client settles the protocol era.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// Probe `server/discover`; use the stateless 2026-07-28 protocol when
    /// the server offers it, otherwise the legacy `initialize` handshake
    /// (the default).
    #[default]
    Auto,
    /// The legacy `initialize` handshake only.
    Legacy,
    /// The stateless protocol only; fails when the server does not offer it.
    Stateless,
}

/// Builds a [`Client`]: its name, handlers, capabilities, timeouts and
/// era choice; [`connect`](Self::connect) then settles the era with the
/// server.
#[must_use]
pub struct ClientBuilder {
    client_info: Implementation,
    capabilities: Option<ClientCapabilities>,
    handlers: Handlers,
    mode: Mode,
    timeout: Duration,
    probe_timeout: Duration,
    max_rounds: u32,
    legacy_version: ProtocolVersion,
    tasks: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client_info", &self.client_info)
            .field("mode", &self.mode)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A client called `name` at `version`.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            client_info: Implementation::new(name, version),
            capabilities: None,
            handlers: Handlers::default(),
            mode: Mode::Auto,
            timeout: Duration::from_secs(60),
            probe_timeout: Duration::from_secs(10),
            max_rounds: 8,
            legacy_version: ProtocolVersion::LATEST_LEGACY,
            tasks: false,
        }
    }

    /// Sets the full client info (title, description, icons...).
    pub fn client_info(mut self, info: Implementation) -> Self {
        self.client_info = info;
        self
    }

    /// Replaces the capabilities the client declares, which otherwise
    /// follow the handlers set (elicitation, sampling, roots).
    pub fn capabilities(mut self, capabilities: ClientCapabilities) -> Self {
        self.capabilities = Some(capabilities);
        self
    }

    /// Answers elicitation requests (form mode).
    pub fn elicitation(mut self, handler: impl ElicitationHandler) -> Self {
        self.handlers.elicitation = Some(Arc::new(handler));
        self
    }

    /// Answers sampling requests.
    pub fn sampling(mut self, handler: impl SamplingHandler) -> Self {
        self.handlers.sampling = Some(Arc::new(handler));
        self
    }

    /// Answers `roots/list` ([`StaticRoots`](super::StaticRoots) for a fixed
    /// list).
    pub fn roots(mut self, handler: impl RootsHandler) -> Self {
        self.handlers.roots = Some(Arc::new(handler));
        self
    }

    /// Declares the tasks extension (`io.modelcontextprotocol/tasks`):
    /// every stateless request carries
    /// `capabilities.extensions["io.modelcontextprotocol/tasks"] = {}` in
    /// its `_meta`, so a call to a task-capable tool may answer with a task
    /// instead of a result. [`Client::call_tool`] then follows such a task
    /// to its end transparently; [`Client::call_tool_as_task`] returns it
    /// ([the module docs](super#tasks) for the calls).
    ///
    /// The extension exists in the stateless era (2026-07-28) only: in the
    /// legacy era it is not sent (`initialize` does not carry it) and this
    /// option has no effect. It is added to the capabilities set with
    /// [`capabilities`](Self::capabilities) too.
    pub fn tasks(mut self) -> Self {
        self.tasks = true;
        self
    }

    /// Sets how the era is settled (default [`Mode::Auto`]).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// How long a request waits for its response (default 60 s; per round
    /// of an `input_required` exchange). A request that times out is
    /// cancelled on the server.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long [`Mode::Auto`] waits for `server/discover` before it takes
    /// the server for a legacy one (default 10 s).
    pub fn probe_timeout(mut self, timeout: Duration) -> Self {
        self.probe_timeout = timeout;
        self
    }

    /// The most `input_required` rounds one request may take (default 8).
    pub fn max_rounds(mut self, rounds: u32) -> Self {
        self.max_rounds = rounds;
        self
    }

    /// The version the legacy handshake asks for (default the newest
    /// legacy one, 2025-11-25).
    pub fn legacy_version(mut self, version: ProtocolVersion) -> Self {
        if !version.is_stateless() {
            self.legacy_version = version;
        }
        self
    }

    fn derived_capabilities(&self) -> ClientCapabilities {
        ClientCapabilities {
            elicitation: self.handlers.elicitation.as_ref().map(|_| ElicitationCapability::default()),
            sampling: self.handlers.sampling.as_ref().map(|_| SamplingCapability::default()),
            roots: self.handlers.roots.as_ref().map(|_| RootsCapability::default()),
            ..ClientCapabilities::default()
        }
    }

    /// The capabilities `initialize` declares: those set, or those the
    /// handlers imply.
    fn legacy_capabilities(&self) -> ClientCapabilities {
        self.capabilities.clone().unwrap_or_else(|| self.derived_capabilities())
    }

    /// The capabilities stateless requests declare: the legacy ones, plus
    /// the tasks extension when [`tasks`](Self::tasks) was set.
    fn stateless_capabilities(&self) -> ClientCapabilities {
        let mut capabilities = self.legacy_capabilities();
        if self.tasks {
            capabilities.extensions.get_or_insert_with(Default::default).entry(EXTENSION_ID.to_owned()).or_default();
        }
        capabilities
    }

    /// Connects over `transport` and settles the era: the returned client is
    /// ready for calls.
    ///
    /// # Errors
    /// When the transport fails, or the handshake does ([`Mode::Stateless`]
    /// against a legacy server, a server that answers `initialize` with an
    /// error or a version this SDK does not know).
    pub async fn connect(self, transport: impl Transport) -> Result<Client, ClientError> {
        let transport: Arc<dyn Transport> = Arc::new(transport);
        let (tx, rx) = mpsc::channel(256);
        transport.start(Inbound::new(tx)).await?;
        let capabilities = self.stateless_capabilities();
        let config = Config {
            client_info: self.client_info.clone(),
            capabilities,
            timeout: self.timeout,
            max_rounds: self.max_rounds,
        };
        let shared = Arc::new(Shared::new(transport, self.handlers.clone(), config));
        let task = tokio::spawn(route(shared.clone(), rx));
        // Stops the routing task if the handshake fails.
        let lifetime = Arc::new(Lifetime { task, shared: shared.clone() });
        let negotiated = match self.mode {
            Mode::Legacy => self.initialize(&shared).await?,
            Mode::Stateless => match self.discover(&shared, self.timeout).await? {
                Some(n) => n,
                None => {
                    return Err(ClientError::Handshake(
                        "the server's server/discover offers no stateless protocol version this client speaks".into(),
                    ));
                }
            },
            Mode::Auto => match self.discover(&shared, self.probe_timeout).await {
                Ok(Some(n)) => n,
                Ok(None) => self.initialize(&shared).await?,
                Err(e) if legacy_evidence(&e) => {
                    tracing::debug!(error = %e, "client: no server/discover; falling back to initialize");
                    self.initialize(&shared).await?
                }
                Err(e) => return Err(e),
            },
        };
        shared.transport.set_protocol_version(negotiated.protocol_version);
        let _ = shared.negotiated.set(negotiated.clone());
        Ok(Client { shared, lifetime, negotiated: Arc::new(negotiated) })
    }

    /// `server/discover`; `None` when the server answers but offers no
    /// stateless version this client speaks.
    async fn discover(&self, shared: &Arc<Shared>, timeout: Duration) -> Result<Option<Negotiated>, ClientError> {
        let mut params = Map::new();
        shared.stamp(&mut params, &RequestOptions::default(), true);
        let raw = serde_json::value::to_raw_value(&params).map_err(|e| ClientError::InvalidParams {
            method: methods::SERVER_DISCOVER.into(),
            reason: e.to_string(),
        })?;
        let result = shared.round(methods::SERVER_DISCOVER, Some(raw), Vec::new(), timeout, None).await?;
        // Versions this SDK does not know are skipped, not refused.
        let value: Value = serde_json::from_str(result.get())
            .map_err(|e| ClientError::InvalidResult { method: methods::SERVER_DISCOVER.into(), source: e })?;
        let offers_modern = value
            .get("supportedVersions")
            .and_then(Value::as_array)
            .is_some_and(|vs| vs.iter().any(|v| v.as_str() == Some(ProtocolVersion::LATEST.as_str())));
        if !offers_modern {
            return Ok(None);
        }
        let mut value = value;
        if let Some(Value::Array(vs)) = value.get_mut("supportedVersions") {
            vs.retain(|v| v.as_str().is_some_and(|s| ProtocolVersion::from_wire(s).is_ok()));
        }
        let discovered: DiscoverResult = serde_json::from_value(value)
            .map_err(|e| ClientError::InvalidResult { method: methods::SERVER_DISCOVER.into(), source: e })?;
        let server_info = discovered
            .meta
            .as_ref()
            .and_then(|m| m.get(keys::SERVER_INFO))
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        Ok(Some(Negotiated {
            protocol_version: ProtocolVersion::LATEST,
            capabilities: discovered.capabilities,
            server_info,
            instructions: discovered.instructions,
        }))
    }

    /// The legacy handshake: `initialize`, then `notifications/initialized`.
    async fn initialize(&self, shared: &Arc<Shared>) -> Result<Negotiated, ClientError> {
        let params = InitializeRequestParams {
            protocol_version: self.legacy_version.as_str().to_owned(),
            capabilities: self.legacy_capabilities(),
            client_info: self.client_info.clone(),
            meta: None,
        };
        let raw = serde_json::value::to_raw_value(&params)
            .map_err(|e| ClientError::InvalidParams { method: methods::INITIALIZE.into(), reason: e.to_string() })?;
        let result = shared.round(methods::INITIALIZE, Some(raw), Vec::new(), self.timeout, None).await?;
        let version: Value = serde_json::from_str(result.get())
            .map_err(|e| ClientError::InvalidResult { method: methods::INITIALIZE.into(), source: e })?;
        let version = version.get("protocolVersion").and_then(Value::as_str).unwrap_or_default();
        match ProtocolVersion::from_wire(version) {
            Ok(v) if !v.is_stateless() => {}
            _ => {
                return Err(ClientError::Handshake(format!(
                    "the server answered initialize with protocol version {version:?}, which this client does not speak"
                )));
            }
        }
        let init: InitializeResult = serde_json::from_str(result.get())
            .map_err(|e| ClientError::InvalidResult { method: methods::INITIALIZE.into(), source: e })?;
        shared.transport.set_protocol_version(init.protocol_version);
        shared.notify(methods::INITIALIZED, None).await?;
        Ok(Negotiated {
            protocol_version: init.protocol_version,
            capabilities: init.capabilities,
            server_info: Some(init.server_info),
            instructions: init.instructions,
        })
    }
}

/// Whether a failed `server/discover` says "legacy server": a JSON-RPC
/// error, an HTTP client-error status (a legacy HTTP server wants a
/// session), no answer in time, or an answer of the wrong shape. Broken
/// connections are not evidence.
fn legacy_evidence(e: &ClientError) -> bool {
    use super::error::TransportError;
    match e {
        ClientError::Rpc(_) | ClientError::Timeout { .. } | ClientError::InvalidResult { .. } => true,
        ClientError::Transport(TransportError::Status { status, .. }) => status.is_client_error(),
        _ => false,
    }
}
