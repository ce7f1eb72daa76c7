//! An MCP server over Streamable HTTP with every fixture the official
//! conformance suite (`@modelcontextprotocol/conformance`) exercises, in
//! both protocol eras, written with the SDK's public API only.
//!
//! Run it with `cargo run -p everything`; it listens on
//! `http://127.0.0.1:$PORT/mcp` (`PORT` defaults to 3000). With `--stdio`
//! it serves one client on stdin/stdout instead.

mod content;
mod input_required;
mod prompts;
mod resources;
mod tasks;
mod tools;

use mcp_core::protocol::completion::CompleteResult;
use mcp_core::server::{Server, ServerBuilder};

fn server() -> Result<Server, mcp_core::server::BuildError> {
    let builder = ServerBuilder::new("mcp-sdk-everything", env!("CARGO_PKG_VERSION"))
        .instructions("Conformance fixtures: tools, resources, prompts, multi-round-trip requests and tasks.");
    let builder = tools::register(builder);
    let builder = input_required::register(builder);
    let builder = tasks::register(builder);
    let builder = builder.routes(resources::fixtures::routes()).routes(prompts::fixtures::routes());
    builder.completion(|_ctx, _params| async move { Ok(CompleteResult::new(Vec::new())) }).build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p.parse().map_err(|e| format!("PORT={p:?} is not a port number: {e}"))?,
        Err(_) => 3000,
    };
    let server = server()?;
    if std::env::args().skip(1).any(|a| a == "--stdio") {
        mcp_core::transport::stdio::serve(server).await?;
        return Ok(());
    }
    eprintln!("everything: serving MCP at http://127.0.0.1:{port}/mcp");
    mcp_core::transport::http::serve(server, ("127.0.0.1", port)).await?;
    Ok(())
}
