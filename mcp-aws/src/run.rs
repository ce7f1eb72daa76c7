//! One entry point for every AWS deployment: [`run`] picks the Lambda
//! adapter, the AgentCore Gateway target or the AgentCore Runtime server
//! from the environment, so the same binary deploys to each unchanged.

use std::sync::Arc;

use mcp_core::server::{IntoLayered, Layered, McpService};
use mcp_core::transport::http::{InMemorySessionStore, SessionStore};

use crate::agentcore::serve_runtime_with;
use crate::config::{ConfigError, DeployConfig};
use crate::health::Health;
use crate::lambda::gateway::GatewayTarget;
use crate::lambda::{LambdaAdapter, LambdaError};

/// Selects the Lambda handler: `http` (default: API Gateway, ALB, Function
/// URLs, buffered), `streaming` (Function URLs with response streaming) or
/// `agentcore-gateway` (a Bedrock AgentCore Gateway Lambda target).
pub const HANDLER_VAR: &str = "MCP_LAMBDA_HANDLER";

/// Why [`run`] stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A setting in the environment is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `MCP_SESSION_TABLE` or `MCP_TASK_TABLE` is set but this build has no
    /// DynamoDB support.
    #[error("MCP_SESSION_TABLE or MCP_TASK_TABLE is set but mcp-aws was built without the `dynamodb` feature")]
    NoDynamoDb,
    /// `MCP_LAMBDA_HANDLER` names no handler.
    #[error("{HANDLER_VAR}={0:?} is invalid: expected http, streaming or agentcore-gateway")]
    UnknownHandler(String),
    /// The Lambda runtime failed.
    #[error(transparent)]
    Lambda(#[from] LambdaError),
    /// The HTTP server failed (the address could not be bound).
    #[error("http server: {0}")]
    Io(#[from] std::io::Error),
    /// A registry setting (`MCP_REGISTRY_URL`, `MCP_ENDPOINT_URL`...) is
    /// invalid.
    #[cfg(feature = "registry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "registry")))]
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    /// The auth settings (`MCP_AUTH_*`, `MCP_API_KEYS_TABLE`) cannot work.
    #[cfg(feature = "auth")]
    #[cfg_attr(docsrs, doc(cfg(feature = "auth")))]
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    /// Auth settings are set but this build has no `auth` feature: the
    /// server would run open.
    #[error("MCP_AUTH_* or MCP_API_KEYS_TABLE is set but mcp-aws was built without the `auth` feature")]
    NoAuth,
    /// `MCP_REGISTRY_URL` or `MCP_REGISTRY_TABLE` is set but this build has
    /// no `registry` feature: the server would never appear in the
    /// registry.
    #[error("MCP_REGISTRY_URL or MCP_REGISTRY_TABLE is set but mcp-aws was built without the `registry` feature")]
    NoRegistry,
}

/// The metadata document to serve beside `/health`, if any.
#[cfg(feature = "auth")]
type Metadata = Option<crate::auth::ProtectedResourceMetadata>;
#[cfg(not(feature = "auth"))]
type Metadata = Option<std::convert::Infallible>;

/// Serves `app` (a [`Server`](mcp_core::server::Server), or one with
/// layers: rate limits, telemetry, timeouts, tower's own) where the process
/// finds itself, configured from the environment ([`DeployConfig`]):
///
/// - on Lambda (`AWS_LAMBDA_RUNTIME_API` set): the handler named by
///   `MCP_LAMBDA_HANDLER` (`http`, `streaming`, `agentcore-gateway`);
/// - elsewhere (AgentCore Runtime, a container, a laptop): Streamable HTTP
///   on `MCP_BIND` (default `0.0.0.0:8000`) at `MCP_PATH` (`/mcp`).
///
/// Legacy sessions go to DynamoDB when `MCP_SESSION_TABLE` is set (feature
/// `dynamodb`), and `/health` then checks the table. Tasks (the tasks
/// extension) go to DynamoDB when `MCP_TASK_TABLE` is set, so that any
/// instance reads, updates and cancels any task
/// ([`DynamoDbTaskStore::use_configured`](crate::tasks::DynamoDbTaskStore::use_configured)). Without it, on Lambda,
/// legacy clients are served without sessions
/// ([`SessionMode::Disabled`](mcp_core::transport::http::SessionMode)), so
/// any instance answers any request; off Lambda sessions stay in memory.
///
/// With feature `auth` and `MCP_AUTH_*` or `MCP_API_KEYS_TABLE` set, every
/// request is authenticated ([`ConfiguredAuth`](crate::auth::ConfiguredAuth):
/// the auth layer goes outside `app`'s own layers) and the RFC 9728 metadata
/// is served beside `/health`. Without the feature, those settings are an
/// error rather than an open server.
///
/// Off Lambda, with feature `registry` and `MCP_REGISTRY_URL` or
/// `MCP_REGISTRY_TABLE` set, the server registers itself in the MCP server
/// registry, heartbeats, and is marked `decommissioned` on graceful
/// shutdown (see [`RegistryConfig`](crate::registry::RegistryConfig)).
///
/// ```no_run
/// # #[cfg(feature = "ratelimit")]
/// # async fn deploy() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use mcp_aws::ratelimit::{Key, Quota, RateLimitLayer};
/// use mcp_aws::timeout::ToolTimeoutLayer;
///
/// let server = mcp_core::server::ServerBuilder::new("hello", "1.0.0").build()?;
/// let app = server
///     .layer(ToolTimeoutLayer::new().default_timeout(Duration::from_secs(30)))
///     .layer(RateLimitLayer::new(Key::client_ip()).quota(Quota::per_minute(600)));
/// mcp_aws::run(app).await?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// See [`RunError`].
pub async fn run(app: impl IntoLayered) -> Result<(), RunError> {
    run_with(app, DeployConfig::from_env()?).await
}

/// As [`run`], with explicit settings.
///
/// # Errors
/// See [`RunError`].
pub async fn run_with(app: impl IntoLayered, config: DeployConfig) -> Result<(), RunError> {
    run_with_health(app, config, Health::new()).await
}

/// As [`run_with`], with `health`'s checks on `/health` (beside the
/// session table's, when there is one): a gateway's upstreams, a
/// database the tools need.
///
/// ```no_run
/// # async fn deploy() -> Result<(), Box<dyn std::error::Error>> {
/// use mcp_aws::health::Health;
///
/// let server = mcp_core::server::ServerBuilder::new("hello", "1.0.0").build()?;
/// let health = Health::new().check("upstream", || async { Ok(()) });
/// mcp_aws::run_with_health(server, mcp_aws::config::DeployConfig::from_env()?, health).await?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// See [`RunError`].
pub async fn run_with_health(app: impl IntoLayered, config: DeployConfig, health: Health) -> Result<(), RunError> {
    let app = app.into_layered();
    tasks(app.server(), &config).await?;
    #[cfg(feature = "auth")]
    if let Some(auth) = crate::auth::ConfiguredAuth::from_settings(&config.auth).await? {
        tracing::info!(
            tokens = config.auth.uses_tokens(),
            api_keys = config.auth.api_keys_table.is_some(),
            "authenticating every request"
        );
        // The tools' own requirements (`#[tool(requires = [..])]`) too.
        let requirements = crate::auth::Requirements::new().of_server(app.server());
        return serve(app.layer(auth.layer.requirements(requirements)), config, auth.metadata, health).await;
    }
    if config.auth.is_enabled() {
        return Err(RunError::NoAuth);
    }
    serve(app, config, None, health).await
}

/// [`run_with`], once the stack is final.
async fn serve<S: McpService>(
    app: Layered<S>,
    config: DeployConfig,
    metadata: Metadata,
    health: Health,
) -> Result<(), RunError> {
    let (store, health) = sessions(&config, health).await?;
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        #[cfg(feature = "registry")]
        let registrar = match crate::registry::RegistryConfig::from_env()? {
            Some(registry) => Some(registry.start(app.server()).await?),
            None => None,
        };
        #[cfg(not(feature = "registry"))]
        // Empty counts as unset, as `RegistryConfig` reads them.
        if ["MCP_REGISTRY_URL", "MCP_REGISTRY_TABLE"]
            .iter()
            .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()))
        {
            return Err(RunError::NoRegistry);
        }
        let served = match metadata {
            #[cfg(feature = "auth")]
            Some(metadata) => {
                let other = crate::auth::WithMetadata::new(metadata, health);
                crate::agentcore::serve_runtime_routes(app, &config, other, store).await
            }
            #[cfg(not(feature = "auth"))]
            Some(never) => match never {},
            None => serve_runtime_with(app, &config, health, store).await,
        };
        // Graceful shutdown (SIGTERM, ctrl-c): retire the registry entry.
        #[cfg(feature = "registry")]
        if let Some(registrar) = registrar
            && let Err(e) = registrar.shutdown().await
        {
            tracing::warn!(error = %e, "could not mark the registry entry decommissioned");
        }
        return Ok(served?);
    }
    let handler = std::env::var(HANDLER_VAR).unwrap_or_default();
    // Without a session table, legacy clients are served sessionless: an
    // instance's memory would strand their session on one instance.
    let shared = config.session_table.is_some();
    let adapter = || {
        let builder = LambdaAdapter::builder(app.clone()).config(config.clone());
        let builder = if shared { builder.session_store(Arc::clone(&store)) } else { builder };
        #[cfg(feature = "auth")]
        let builder = match &metadata {
            Some(metadata) => builder.protected_resource(metadata.clone()),
            None => builder,
        };
        builder
    };
    match handler.trim() {
        "" | "http" => adapter().health(health.clone()).build().run().await.map_err(RunError::from),
        "streaming" => adapter().health(health.clone()).build().run_streaming().await.map_err(RunError::from),
        "agentcore-gateway" => GatewayTarget::new(app.clone()).run().await.map_err(RunError::from),
        other => Err(RunError::UnknownHandler(other.to_owned())),
    }
}

/// Puts the server's tasks in `MCP_TASK_TABLE`, when it is set.
async fn tasks(server: &mcp_core::server::Server, config: &DeployConfig) -> Result<(), RunError> {
    let Some(table) = &config.task_table else { return Ok(()) };
    #[cfg(feature = "dynamodb")]
    {
        let client = crate::dynamodb::client_from_env().await;
        if crate::tasks::DynamoDbTaskStore::use_configured(server, config, client).is_some() {
            tracing::info!(table = %table, "tasks in DynamoDB");
        } else {
            tracing::warn!(table = %table, "MCP_TASK_TABLE is set but no tool of this server runs as a task");
        }
        Ok(())
    }
    #[cfg(not(feature = "dynamodb"))]
    {
        let _ = (table, server);
        Err(RunError::NoDynamoDb)
    }
}

/// The session store the settings ask for, and a health endpoint that
/// checks it.
async fn sessions(config: &DeployConfig, health: Health) -> Result<(Arc<dyn SessionStore>, Health), RunError> {
    let Some(table) = &config.session_table else {
        return Ok((Arc::new(InMemorySessionStore::default()), health));
    };
    #[cfg(feature = "dynamodb")]
    {
        let store = crate::dynamodb::DynamoDbSessionStore::from_env(table.clone()).await;
        let probe = store.clone();
        let health = health.check("sessions", move || {
            let probe = probe.clone();
            async move { probe.check().await }
        });
        Ok((Arc::new(store), health))
    }
    #[cfg(not(feature = "dynamodb"))]
    {
        let _ = (table, health);
        Err(RunError::NoDynamoDb)
    }
}
