//! rmcp's equivalent of this SDK's HTTP example, for `scripts/compare.sh`:
//! the `add` tool over Streamable HTTP at `http://127.0.0.1:$PORT/mcp`,
//! stateless, JSON responses (see [`rmcp_add::http_service`]).

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3001);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("rmcp-add: serving MCP at http://127.0.0.1:{port}/mcp");
    rmcp_add::serve_http1(listener, rmcp_add::http_service()).await?;
    Ok(())
}
