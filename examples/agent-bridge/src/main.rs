//! The agent bridge, deployed unchanged to:
//!
//! - AWS Lambda behind API Gateway, a Function URL or an ALB
//!   (`MCP_LAMBDA_HANDLER` unset or `http`; `template.yaml` deploys it);
//! - a Bedrock AgentCore Gateway Lambda target
//!   (`MCP_LAMBDA_HANDLER=agentcore-gateway`), though that event carries
//!   no caller the bridge could check permissions for, so every call is
//!   refused there;
//! - AgentCore Runtime or any container: off Lambda it serves Streamable
//!   HTTP on `MCP_BIND` (default `0.0.0.0:8000`) at `/mcp`;
//! - stdio (`agent-bridge --stdio`), for a local client: the caller is
//!   `AGENT_BRIDGE_LOCAL_USER` (default `$USER`) with the permissions in
//!   `AGENT_BRIDGE_LOCAL_PERMISSIONS` (comma-separated, default `*:*`).
//!
//! `AGENTS_TABLE` and `EXECUTIONS_TABLE` name the two tables. Over HTTP
//! callers authenticate (`MCP_API_KEYS_TABLE` for the guide's API keys, or
//! `MCP_AUTH_*` for bearer tokens; see `mcp_aws::config`): without auth
//! every tool answers `unauthenticated`. `MCP_TASK_TABLE` keeps tasks in
//! DynamoDB so that any instance answers for any task, and
//! `MCP_RATE_LIMIT_PER_MINUTE` limits each caller (an API key's own
//! `rate_limit` wins). Logs are JSON lines on stderr (level from
//! `RUST_LOG`); `OTEL_EXPORTER_OTLP_ENDPOINT` exports traces and metrics.

use std::sync::Arc;

use agent_bridge::Bridge;
use mcp_aws::config::DeployConfig;
use mcp_aws::ratelimit::RateLimitLayer;
use mcp_aws::telemetry::Telemetry;
use mcp_core::server::{IntoLayered, Principal};
use tower::util::option_layer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = DeployConfig::from_env()?;
    // JSON lines on stderr (CloudWatch Logs takes it; stdout is the
    // protocol's on stdio), traces and metrics over OTLP when configured.
    let telemetry = Telemetry::from_env("agent-bridge")?;
    mcp_aws::logging::init_json(&telemetry)?;
    let bridge = Bridge::from_env().await?;
    let mut args = std::env::args().skip(1);
    let served = match args.next().as_deref() {
        Some("--stdio") => {
            let bridge = Arc::new(bridge.with_local_caller(local_caller()));
            let app = agent_bridge::server(bridge)?.into_layered().layer(telemetry.layer());
            mcp_core::transport::stdio::serve(app).await.map_err(Into::into)
        }
        None => {
            let app = agent_bridge::server(Arc::new(bridge))?
                .into_layered()
                .layer(option_layer(RateLimitLayer::from_config(&config)))
                .layer(telemetry.layer());
            mcp_aws::run_with(app, config).await.map_err(Into::into)
        }
        Some(other) => Err(format!("unknown argument {other:?}; usage: agent-bridge [--stdio]").into()),
    };
    // Whatever is still buffered leaves before the process ends.
    let _ = telemetry.shutdown();
    served
}
/// Who a stdio client is: the local user.
fn local_caller() -> Principal {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let user = env("AGENT_BRIDGE_LOCAL_USER").or_else(|| env("USER")).unwrap_or_else(|| "local".to_owned());
    let permissions = env("AGENT_BRIDGE_LOCAL_PERMISSIONS").unwrap_or_else(|| "*:*".to_owned());
    Principal::new(user).with_permissions(permissions.split(',').map(str::trim).filter(|p| !p.is_empty()))
}
