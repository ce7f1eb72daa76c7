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
//! see `mcp_aws::config`. Off Lambda it registers itself in the MCP server
//! registry when `MCP_REGISTRY_URL` (with `MCP_REGISTRATION_TOKEN`) or
//! `MCP_REGISTRY_TABLE` and `MCP_ENDPOINT_URL` are set; see
//! `mcp_aws::registry::RegistryConfig`. The README next to this file deploys it with SAM.

use mcp_aws::config::DeployConfig;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = DeployConfig::from_env()?;
    // CloudWatch Logs takes stderr as well as stdout; no colours there.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(&config.log_level))
        .init();
    mcp_aws::run_with(calculator::server()?, config).await?;
    Ok(())
}
