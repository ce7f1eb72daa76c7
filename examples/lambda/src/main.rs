//! The calculator MCP server, deployed unchanged to:
//!
//! - AWS Lambda behind API Gateway (REST or HTTP API), a Function URL or an
//!   ALB (`MCP_LAMBDA_HANDLER` unset or `http`; `streaming` for a Function
//!   URL in response-streaming mode);
//! - a Bedrock AgentCore Gateway Lambda target
//!   (`MCP_LAMBDA_HANDLER=agentcore-gateway`);
//! - Bedrock AgentCore Runtime or any container: off Lambda it serves
//!   Streamable HTTP on `MCP_BIND` (default `0.0.0.0:8000`) at `/mcp`.
//!
//! Settings come from the environment (`ENVIRONMENT`, `LOG_LEVEL`,
//! `MCP_SESSION_TABLE` for legacy sessions in DynamoDB, `CORS_ALLOW_ORIGINS`);
//! see `mcp_aws::config`. The layers do too:
//!
//! - `MCP_TOOL_TIMEOUT_MS`: a deadline for every tool call;
//! - `MCP_RATE_LIMIT_PER_MINUTE`: tool calls a minute per caller (the
//!   authenticated principal, else the client IP), answered with 429 and
//!   `Retry-After` beyond it;
//! - `OTEL_EXPORTER_OTLP_ENDPOINT` (and the other standard OpenTelemetry
//!   variables): traces and metrics over OTLP/HTTP;
//! - `MCP_AUTH_DISCOVERY_URL` with `MCP_AUTH_AUDIENCE` or
//!   `MCP_AUTH_ALLOWED_CLIENTS` (Cognito, AgentCore's `customJWTAuthorizer`):
//!   bearer tokens on every request, and `MCP_API_KEYS_TABLE`: API keys
//!   from DynamoDB. `mcp_aws::run_with` puts that layer outside these, so
//!   the rate limiter counts per authenticated principal;
//! - `ENABLE_CACHING=true` (the deployment guide's variables, with
//!   `CACHE_TTL` in seconds and `DYNAMODB_TABLE` for the results table):
//!   `count`'s results are reused for `CACHE_TTL` (tools that declare
//!   `#[tool(cache_ttl = "..")]` for their own time), in DynamoDB when the
//!   table is set, else in the instance's memory.
//!
//! Off Lambda it registers itself in the MCP server registry when
//! `MCP_REGISTRY_URL` (with `MCP_REGISTRATION_TOKEN`) or `MCP_REGISTRY_TABLE`
//! and `MCP_ENDPOINT_URL` are set; see `mcp_aws::registry::RegistryConfig`.
//! The README next to this file deploys it with SAM.

use std::time::Duration;

use mcp_aws::cache::CacheLayer;
use mcp_aws::config::DeployConfig;
use mcp_aws::ratelimit::RateLimitLayer;
#[cfg(feature = "otel")]
use mcp_aws::telemetry::Telemetry;
use mcp_aws::timeout::ToolTimeoutLayer;
use tower::util::option_layer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = DeployConfig::from_env()?;
    // CloudWatch Logs takes stderr as well as stdout; no colours there.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(&config.log_level))
        .init();
    let timeouts = config.tool_timeout.map(|limit| ToolTimeoutLayer::new().default_timeout(limit));
    // Per caller; an API key's own `rate_limit` (from the key table) wins
    // over the default quota.
    let limits = RateLimitLayer::from_config(&config);
    #[cfg(feature = "otel")]
    let telemetry = Telemetry::from_env("calculator")?;
    let server = calculator::server()?;
    // Innermost: under telemetry (which then marks hits), after auth (whose
    // principal keys private results).
    let cache = CacheLayer::from_config(&server, &config).await?.map(|c| c.tool("count", Duration::ZERO));
    #[cfg(feature = "otel")]
    if let (Some(cache), Some(meter)) = (&cache, telemetry.meter()) {
        cache.observe(&meter);
    }
    let app = server.layer(option_layer(cache)).layer(option_layer(timeouts)).layer(option_layer(limits));
    #[cfg(feature = "otel")]
    {
        let served = mcp_aws::run_with(app.layer(telemetry.layer()), config).await;
        // Whatever is still buffered leaves before the process ends.
        let _ = telemetry.shutdown();
        served?;
    }
    #[cfg(not(feature = "otel"))]
    {
        let otlp = [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        ];
        if let Some(set) = otlp.iter().find(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty())) {
            eprintln!("{set} is set but this build has no `otel` feature: no telemetry is exported");
        }
        mcp_aws::run_with(app, config).await?;
    }
    Ok(())
}
