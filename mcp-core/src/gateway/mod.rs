//! A gateway: one MCP server in front of several upstream MCP servers
//! (stdio child processes or Streamable HTTP endpoints), exposing their
//! tools, prompts, resources and resource templates as its own.
//!
//! [`Gateway::connect`] connects to every upstream (in either era, through
//! the [`client`](crate::client)), lists their tools, applies each
//! upstream's allow/deny lists and prefix (`<prefix>___<tool>`, AgentCore
//! Gateway's style), refuses a name two upstreams would both expose
//! ([`GatewayError::Clash`], naming both), and registers one
//! [`ToolRoute`](crate::server::ToolRoute) per tool on an ordinary
//! [`Server`]. So there is still one dispatcher: every transport (stdio,
//! Streamable HTTP, Lambda and AgentCore through `mcp_aws::run`) serves
//! [`Gateway::server`], and the auth, rate-limit, telemetry, timeout and
//! cache layers compose over it as over any server, reading the same
//! request head.
//!
//! A call is forwarded with its arguments; the upstream's result comes back
//! as it is, and its JSON-RPC errors keep their code, message and data.
//! Progress is relayed (under a token of the gateway's), and so are the
//! upstream's log messages: those that came on the call's own response
//! stream (Streamable HTTP), or, over stdio, while the call is the
//! upstream's only one in flight (a log message names no request), at the caller's level (a
//! stateless upstream is asked for it in `_meta`); a caller's cancellation
//! cancels the upstream call. What an upstream asks for during a
//! `tools/call`, `prompts/get` or `resources/read` (a stateless
//! upstream's `input_required` round, or a legacy upstream's own
//! elicitation, sampling and roots requests) is asked of the gateway's
//! caller, in the caller's era (requests in its legacy session, or one
//! `input_required` round of the gateway's own holding every request, under
//! the upstream's keys), and the answers sent on. A legacy upstream's
//! request goes to the caller of the call whose response stream it came
//! on (Streamable HTTP), so concurrent calls each ask their own caller;
//! over stdio, where a request names no call, only while one call is in
//! flight to that upstream (otherwise it is refused, saying why). The caller's capabilities
//! travel in each forwarded request's `_meta`, so an upstream refuses
//! (-32021) what the caller could not answer (a legacy upstream of this SDK
//! narrows its session's capabilities by them). An upstream that is dead,
//! slow past its timeout or answers nonsense fails that call with an
//! `isError` result naming it (`upstream `calc` is unavailable: …`),
//! without holding up the others; a dead one is reconnected on its next
//! call and re-listed. An upstream's `notifications/tools/list_changed`
//! re-lists its tools, and its prompt and resource `list_changed` its
//! prompts, resources and templates (a legacy upstream sends them over
//! stdio or HTTP's GET stream; a stateless upstream is asked for them on a
//! `subscriptions/listen` stream the gateway holds open and reopens when
//! it ends).
//!
//! Tasks are not forwarded: the caller's tasks extension is not declared
//! upstream, so a task-capable upstream tool runs to its end within the
//! call (a tool that requires a task is refused by its upstream).
//!
//! The caller's credentials are never passed on (the spec forbids token
//! passthrough): the gateway presents each upstream the credentials its
//! configuration names ([`UpstreamAuth`]): from environment variables, or
//! from a secret store such as AWS Secrets Manager ([`SecretSource`],
//! [`Gateway::connect_with_secrets`]).
//!
//! Configuration comes from code ([`UpstreamSpec`]) or a JSON file
//! ([`GatewayConfig`], `MCP_GATEWAY_CONFIG`; format in [`config`]).
//!
//! ```
//! use mcp_core::gateway::{Gateway, UpstreamSpec};
//! use mcp_core::server::{Context, ServerBuilder, ToolRoute};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Args {
//!     /// Who to greet
//!     name: String,
//! }
//!
//! # #[cfg(not(feature = "http"))]
//! # fn main() {}
//! # #[cfg(feature = "http")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_core::transport::http::{StreamableHttp, serve_listener};
//!
//! // An upstream on Streamable HTTP (feature `http`).
//! let upstream = ServerBuilder::new("hello", "1.0.0")
//!     .tool(ToolRoute::new("greet", |_ctx: Context, a: Args| async move { format!("Hello, {}!", a.name) }))
//!     .build()?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let url = format!("http://{}/mcp", listener.local_addr()?);
//! tokio::spawn(serve_listener(listener, StreamableHttp::new(upstream), std::future::pending()));
//!
//! let gateway = Gateway::connect("gateway", "1.0.0", [UpstreamSpec::http("hello", url).prefix("hello")]).await?;
//! assert_eq!(gateway.server().tools()[0].name, "hello___greet");
//! // Serve `gateway.server()` on any transport, with any layers.
//! # Ok(())
//! # }
//! ```

mod catalog;
pub mod config;
mod forward;
mod relist;
mod rounds;
mod secret;
mod upstream;

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

pub use config::{CONFIG_VAR, ConfigError, GatewayConfig};
pub use secret::{SecretRef, SecretSource};
pub use upstream::{DEFAULT_TIMEOUT, PREFIX_SEPARATOR, Target, UpstreamAuth, UpstreamSpec};

use relist::Relister;
use upstream::Upstream;

use crate::server::{BuildError, Server, ServerBuilder};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An upstream could not be reached.
    #[error("upstream `{upstream}`: cannot connect: {reason}")]
    Connect {
        /// The upstream.
        upstream: String,
        /// Why.
        reason: String,
    },
    /// An upstream's tools could not be listed.
    #[error("upstream `{upstream}`: cannot list its tools: {reason}")]
    List {
        /// The upstream.
        upstream: String,
        /// Why.
        reason: String,
    },
    /// Two upstreams would expose a tool under the same name.
    #[error(
        "tool name `{name}` is exposed by both upstream `{first}` and upstream `{second}`: give one a prefix or deny the tool"
    )]
    Clash {
        /// The exposed name.
        name: String,
        /// The upstream configured first.
        first: String,
        /// The other.
        second: String,
    },
    /// An upstream's tool cannot be served (its name or schema is invalid).
    #[error("upstream `{upstream}`: {source}")]
    Tool {
        /// The upstream.
        upstream: String,
        /// Why.
        #[source]
        source: BuildError,
    },
}

/// Lists every upstream's prompts, resources and templates and adds them
/// to `builder`, refusing a prompt name, resource URI or URI template that
/// two upstreams share; records who owns what in `relister`.
async fn add_catalogs(
    mut builder: ServerBuilder,
    upstreams: &[Arc<Upstream>],
    relister: &Relister,
) -> Result<ServerBuilder, GatewayError> {
    let catalogs = futures_util::future::join_all(upstreams.iter().map(|u| async move {
        let client = u.current().ok_or_else(|| GatewayError::Connect {
            upstream: u.name().to_owned(),
            reason: "the connection closed".into(),
        })?;
        catalog::list(u, &client).await
    }))
    .await;
    let mut owners = relister.catalog_owners.lock().unwrap_or_else(PoisonError::into_inner);
    for (upstream, catalog) in upstreams.iter().zip(catalogs) {
        let mut mine = upstream.catalog.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, entry) in catalog?.entries(upstream, relister) {
            if let Some(first) = owners.get(&key) {
                let (name, first) = (key.as_str().to_owned(), first.clone());
                return Err(GatewayError::Clash { name, first, second: upstream.name().to_owned() });
            }
            builder = match entry {
                catalog::Entry::Prompt(route) => builder.prompt(route),
                catalog::Entry::Resource(route) => builder.resource(route),
                catalog::Entry::Template(route) => builder.resource_template(route),
            };
            owners.insert(key.clone(), upstream.name().to_owned());
            mine.insert(key);
        }
    }
    drop(owners);
    Ok(builder)
}

/// The health of one upstream, as [`Gateway::health`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpstreamHealth {
    /// The upstream's name.
    pub name: String,
    /// `None` when healthy; otherwise the last failure.
    pub error: Option<String>,
}

/// A running gateway: its [`Server`] and its upstream connections. Cheap to
/// clone.
#[derive(Clone)]
pub struct Gateway {
    server: Server,
    upstreams: Arc<[Arc<Upstream>]>,
    relister: Relister,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("server", &self.server)
            .field("upstreams", &self.upstreams.iter().map(|u| u.name()).collect::<Vec<_>>())
            .finish()
    }
}

impl Gateway {
    /// Connects to every upstream (concurrently), lists their tools and
    /// builds the gateway's server, called `name` at `version`.
    ///
    /// # Errors
    /// [`GatewayError`] naming the upstream that could not be reached or
    /// listed, or the two upstreams whose tool names clash.
    pub async fn connect(
        name: impl Into<String>,
        version: impl Into<String>,
        upstreams: impl IntoIterator<Item = UpstreamSpec>,
    ) -> Result<Self, GatewayError> {
        Self::connect_with(ServerBuilder::new(name, version), upstreams).await
    }

    /// As [`connect`](Self::connect), from a [`GatewayConfig`].
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn from_config(config: GatewayConfig) -> Result<Self, GatewayError> {
        Self::connect(config.name, config.version, config.upstreams).await
    }

    /// As [`connect`](Self::connect), adding the upstreams' tools to
    /// `builder` (which may carry tools, settings or state of its own).
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_with(
        builder: ServerBuilder,
        upstreams: impl IntoIterator<Item = UpstreamSpec>,
    ) -> Result<Self, GatewayError> {
        Self::connect_inner(builder, upstreams, None).await
    }

    /// As [`connect_with`](Self::connect_with), reading the upstreams'
    /// secret credentials ([`UpstreamAuth::BearerSecret`],
    /// [`UpstreamAuth::ApiKeySecret`]) from `secrets` on every request to
    /// them (`mcp_aws::secrets::SecretsManagerSource` for AWS Secrets
    /// Manager).
    ///
    /// # Errors
    /// As [`connect`](Self::connect); a secret that cannot be read fails
    /// its upstream's connection, naming the secret (never its value).
    pub async fn connect_with_secrets(
        builder: ServerBuilder,
        upstreams: impl IntoIterator<Item = UpstreamSpec>,
        secrets: Arc<dyn SecretSource>,
    ) -> Result<Self, GatewayError> {
        Self::connect_inner(builder, upstreams, Some(secrets)).await
    }

    async fn connect_inner(
        builder: ServerBuilder,
        upstreams: impl IntoIterator<Item = UpstreamSpec>,
        secrets: Option<Arc<dyn SecretSource>>,
    ) -> Result<Self, GatewayError> {
        let specs: Vec<UpstreamSpec> = upstreams.into_iter().collect();
        let callers: Vec<Arc<rounds::Callers>> = specs.iter().map(|_| Arc::default()).collect();
        let connected = futures_util::future::join_all(
            specs.iter().zip(&callers).map(|(spec, callers)| spec.connect(callers, secrets.as_ref())),
        )
        .await;
        let mut upstreams = Vec::with_capacity(specs.len());
        for ((spec, client), callers) in specs.into_iter().zip(connected).zip(callers) {
            upstreams.push(Arc::new(Upstream::new(spec, client?, callers, secrets.clone())));
        }
        let listed = futures_util::future::join_all(upstreams.iter().map(|u| async move {
            let client = u.current().ok_or_else(|| GatewayError::Connect {
                upstream: u.name().to_owned(),
                reason: "the connection closed".into(),
            })?;
            u.admitted_tools(&client).await
        }))
        .await;
        let relister = Relister::default();
        let mut builder = builder;
        let mut owners: BTreeMap<String, String> = BTreeMap::new();
        for (upstream, tools) in upstreams.iter().zip(listed) {
            let mut mine = upstream.tools.lock().unwrap_or_else(PoisonError::into_inner);
            for (exposed, tool) in tools? {
                if let Some(first) = owners.get(&exposed) {
                    return Err(GatewayError::Clash {
                        name: exposed,
                        first: first.clone(),
                        second: upstream.name().to_owned(),
                    });
                }
                owners.insert(exposed.clone(), upstream.name().to_owned());
                mine.insert(exposed.clone(), tool.name.clone());
                let route = relister.route(upstream, exposed, tool);
                crate::server::validate_tool(&route, &http::Extensions::new())
                    .map_err(|source| GatewayError::Tool { upstream: upstream.name().to_owned(), source })?;
                builder = builder.tool(route);
            }
        }
        builder = add_catalogs(builder, &upstreams, &relister).await?;
        let server = builder.build().map_err(|source| GatewayError::Tool { upstream: "(gateway)".into(), source })?;
        *relister.owners.lock().unwrap_or_else(PoisonError::into_inner) = owners;
        let _ = relister.server.set(server.downgrade());
        for upstream in &upstreams {
            if let Some(client) = upstream.current() {
                relister.watch(upstream, &client, false);
            }
        }
        Ok(Self { server, upstreams: upstreams.into(), relister })
    }

    /// Reads the configuration from `MCP_GATEWAY_CONFIG` and connects.
    ///
    /// # Errors
    /// As [`connect`](Self::connect), and [`GatewayError::Config`].
    pub async fn from_env() -> Result<Self, GatewayError> {
        Self::from_config(GatewayConfig::from_env()?).await
    }

    /// The gateway's server: serve it on any transport, with any layers.
    pub fn server(&self) -> Server {
        self.server.clone()
    }

    /// The upstreams' health as last seen, without network traffic: an
    /// upstream is unhealthy after a call to it failed for want of a
    /// connection or an answer, until a call succeeds again.
    pub fn health(&self) -> Vec<UpstreamHealth> {
        self.upstreams
            .iter()
            .map(|u| {
                let error = match (u.current(), u.last_error()) {
                    (_, Some(e)) => Some(e),
                    (None, None) => Some("not connected".into()),
                    (Some(_), None) => None,
                };
                UpstreamHealth { name: u.name().to_owned(), error }
            })
            .collect()
    }

    /// Pings every upstream (concurrently, each within `timeout`),
    /// reconnecting dead ones, and reports their health.
    pub async fn check(&self, timeout: Duration) -> Vec<UpstreamHealth> {
        futures_util::future::join_all(self.upstreams.iter().map(|u| async move {
            let probe = async {
                let (client, fresh) = u.client().await.map_err(|e| e.to_string())?;
                if fresh {
                    self.relister.watch(u, &client, true);
                }
                match client.ping().await {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        u.mark_dead(&client, e.to_string());
                        Err(e.to_string())
                    }
                }
            };
            let error = match tokio::time::timeout(timeout, probe).await {
                Ok(Ok(())) => {
                    u.clear_error();
                    None
                }
                Ok(Err(e)) => Some(e),
                Err(_) => Some(format!("no answer to ping within {timeout:?}")),
            };
            UpstreamHealth { name: u.name().to_owned(), error }
        }))
        .await
    }
}
