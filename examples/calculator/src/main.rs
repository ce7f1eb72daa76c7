//! A calculator MCP server over stdio, or over Streamable HTTP.
//!
//! Run it with `cargo run -p calculator`, then speak MCP on stdin/stdout (or
//! point an MCP client at the binary). `cargo run -p calculator -- --http
//! 3000` serves it at `http://127.0.0.1:3000/mcp` instead, in both protocol
//! eras (stateless 2026-07-28 requests and legacy sessions), with the REST
//! façade beside it (`curl http://127.0.0.1:3000/tools`); this is the
//! server `scripts/compare.sh` measures. The handlers are in `lib.rs`.

use mcp_core::transport::http::{self, HttpOptions, StreamableHttp, rest::RestOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Logs go to stderr: stdout carries only protocol messages.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let server = calculator::server()?;
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        None => mcp_core::transport::stdio::serve(server).await?,
        Some("--http") => {
            let port = args.next().unwrap_or_else(|| "3000".to_owned());
            let port: u16 = port.parse().map_err(|e| format!("--http {port:?} is not a port number: {e}"))?;
            // MCP at /mcp, and the REST façade beside it: GET /tools,
            // POST /tools/{name}, POST / with {"tool", "params"}, /openapi.json.
            let mut options = HttpOptions::default();
            options.rest = Some(RestOptions::default());
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
            eprintln!("calculator: serving MCP at http://127.0.0.1:{port}/mcp, REST at http://127.0.0.1:{port}/tools");
            http::serve_listener(listener, StreamableHttp::with_options(server, options), http::shutdown_signal())
                .await?;
        }
        Some(other) => return Err(format!("unknown argument {other:?}; usage: calculator [--http PORT]").into()),
    }
    Ok(())
}
