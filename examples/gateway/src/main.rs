//! The AgentCore guide's pattern 2: keep an existing MCP server as it is
//! and put authentication, rate limits and observability in front of it.
//! One or more upstream servers (stdio child processes or Streamable HTTP
//! endpoints) are served as one, wherever `mcp_aws::run` serves: AWS
//! Lambda, Bedrock AgentCore Runtime (`0.0.0.0:8000/mcp`), any host.
//!
//! The upstreams come from `MCP_GATEWAY_CONFIG`: a JSON file path, or the
//! document itself (format: `mcp_core::gateway::config`). For example, the
//! calculator over stdio under the prefix `calc` (tools `calc___add`...):
//!
//! ```json
//! {"upstreams": [{"name": "calc", "command": "target/debug/calculator", "prefix": "calc"}]}
//! ```
//!
//! In front of it, from the environment:
//!
//! - who may call: `MCP_AUTH_DISCOVERY_URL` with `MCP_AUTH_ALLOWED_CLIENTS`
//!   or `MCP_AUTH_AUDIENCE` (Cognito, AgentCore's `customJWTAuthorizer`),
//!   `MCP_API_KEYS_TABLE` (API keys from DynamoDB), or, for a single host,
//!   `MCP_GATEWAY_API_KEYS`: comma-separated keys accepted as `x-api-key`
//!   or `Authorization: Bearer` (kept only as SHA-256 hashes in memory).
//!   The caller's credentials are checked here and never reach an
//!   upstream, which sees only what the configuration gives it;
//! - `MCP_RATE_LIMIT_PER_MINUTE`: tool calls a minute per caller (the
//!   authenticated principal, else the client IP), 429 with `Retry-After`
//!   beyond it;
//! - `MCP_TOOL_TIMEOUT_MS`: a deadline for every tool call;
//! - upstream credentials: from environment variables the configuration
//!   names, or from AWS Secrets Manager (`"auth": {"bearer_secret": ID}`,
//!   with an optional `"secret_field"` for a JSON secret), read through a
//!   cache of `MCP_GATEWAY_SECRET_TTL_SECS` seconds (300 by default), so a
//!   rotation reaches the upstream without a restart;
//! - `OTEL_EXPORTER_OTLP_ENDPOINT`: traces and metrics over OTLP/HTTP;
//!   JSON logs on stderr (level from `RUST_LOG`);
//! - the rest of `mcp_aws::config` (`MCP_BIND`, `MCP_PATH`, `LOG_LEVEL`...).
//!
//! `/health` (and `/ping`) answer 503 naming an upstream whose last call
//! failed for want of a connection or an answer.
//!
//! It refuses to start when an upstream cannot be reached or two upstreams
//! expose the same tool name, naming them.

use std::sync::Arc;
use std::time::Duration;

use mcp_aws::auth::{ApiKeyRecord, ApiKeys, AuthLayer, InMemoryApiKeyStore};
use mcp_aws::config::DeployConfig;
use mcp_aws::health::Health;
use mcp_aws::ratelimit::RateLimitLayer;
use mcp_aws::secrets::SecretsManagerSource;
use mcp_aws::telemetry::Telemetry;
use mcp_aws::timeout::ToolTimeoutLayer;
use mcp_core::gateway::{Gateway, GatewayConfig};
use mcp_core::server::ServerBuilder;
use tower::util::option_layer;

/// Comma-separated API keys the gateway accepts on a single host.
const API_KEYS_VAR: &str = "MCP_GATEWAY_API_KEYS";

/// How long an upstream credential read from Secrets Manager is used.
const SECRET_TTL_VAR: &str = "MCP_GATEWAY_SECRET_TTL_SECS";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // JSON logs on stderr with each request's ids (CloudWatch, AgentCore).
    let telemetry = Telemetry::from_env("gateway")?;
    mcp_aws::logging::init_json(&telemetry)?;
    let config = DeployConfig::from_env()?;
    // Upstream credentials named as secrets (`bearer_secret`,
    // `api_key_secret`) are read from Secrets Manager, each cached for
    // `MCP_GATEWAY_SECRET_TTL_SECS` (300 by default); nothing is read when
    // the configuration names none.
    let upstreams = GatewayConfig::from_env()?;
    let mut secrets = SecretsManagerSource::new();
    if let Some(ttl) = secret_ttl()? {
        secrets = secrets.ttl(ttl);
    }
    let builder = ServerBuilder::new(upstreams.name, upstreams.version);
    let gateway = Gateway::connect_with_secrets(builder, upstreams.upstreams, Arc::new(secrets)).await?;
    for upstream in gateway.health() {
        tracing::info!(upstream = %upstream.name, "upstream connected");
    }
    let timeouts = config.tool_timeout.map(|limit| ToolTimeoutLayer::new().default_timeout(limit));
    // Per caller; an API key's own `rate_limit` wins over the default.
    let limits = RateLimitLayer::from_config(&config);
    let local_keys = local_api_keys()?;
    let app = gateway.server().layer(option_layer(timeouts)).layer(option_layer(limits)).layer(telemetry.layer());
    // Authentication goes outside the rest, so the rate limiter counts per
    // authenticated caller.
    // `/health` reports each upstream as last seen (no traffic per probe).
    let mut health = Health::new();
    for upstream in gateway.health() {
        let gateway = gateway.clone();
        let name = upstream.name;
        health = health.check(format!("upstream:{name}"), move || {
            let status = gateway.health().into_iter().find(|h| h.name == name).and_then(|h| h.error);
            async move { status.map_or(Ok(()), Err) }
        });
    }
    let served = match local_keys {
        Some(auth) => mcp_aws::run_with_health(app.layer(auth), config, health).await,
        None => mcp_aws::run_with_health(app, config, health).await,
    };
    let _ = telemetry.shutdown();
    served?;
    Ok(())
}

/// `MCP_GATEWAY_SECRET_TTL_SECS`, if set.
fn secret_ttl() -> Result<Option<Duration>, String> {
    let Ok(value) = std::env::var(SECRET_TTL_VAR) else { return Ok(None) };
    value
        .trim()
        .parse()
        .map(|secs| Some(Duration::from_secs(secs)))
        .map_err(|_| format!("{SECRET_TTL_VAR} must be a whole number of seconds, got {value:?}"))
}

/// The auth layer for `MCP_GATEWAY_API_KEYS`, if set.
fn local_api_keys() -> Result<Option<AuthLayer>, String> {
    let Ok(value) = std::env::var(API_KEYS_VAR) else { return Ok(None) };
    let keys: Vec<&str> = value.split(',').map(str::trim).filter(|k| !k.is_empty()).collect();
    if keys.is_empty() {
        return Err(format!("{API_KEYS_VAR} is set but holds no key"));
    }
    let store = InMemoryApiKeyStore::new();
    for (i, key) in keys.iter().enumerate() {
        store.insert(ApiKeyRecord::new(key, format!("local-key-{}", i + 1), ["*:*"]));
    }
    Ok(Some(AuthLayer::new().api_keys(ApiKeys::new(store)).api_keys_as_bearer(true)))
}
