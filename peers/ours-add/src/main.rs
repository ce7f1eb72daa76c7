//! This SDK's twin of `rmcp-add`, for `scripts/compare.sh`: the same one
//! `add` tool over Streamable HTTP at `http://127.0.0.1:$PORT/mcp`, and
//! nothing else (no logging subscriber, no other tools), so that the two
//! servers' memory figures compare like with like. The calculator example
//! is measured beside it as the full example.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3003);
    eprintln!("ours-add: serving MCP at http://127.0.0.1:{port}/mcp");
    mcp_core::transport::http::serve(ours_add::server(), ("127.0.0.1", port)).await?;
    Ok(())
}
