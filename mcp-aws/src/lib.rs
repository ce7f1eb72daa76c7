//! AWS integration for `mcp-core` servers.
//!
//! This crate is the home of the Lambda adapter, Bedrock AgentCore support,
//! rate limiting, OpenTelemetry, auth and the MCP server registry. None of
//! them has landed yet; each is tracked by its own issue.
