//! A calculator MCP server over stdio.
//!
//! Run it with `cargo run -p calculator`, then speak MCP on stdin/stdout (or
//! point an MCP client at the binary). The handlers are in `lib.rs`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Logs go to stderr: stdout carries only protocol messages.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    mcp_core::transport::stdio::serve_stdio(calculator::server()?).await?;
    Ok(())
}
