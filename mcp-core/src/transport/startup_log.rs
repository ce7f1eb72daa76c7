//! Each transport says, at start-up, where it serves and which protocol
//! versions.

use tokio::net::TcpListener;

use super::http::{StreamableHttp, serve_listener};
use super::stdio::{StdioOptions, serve_on};
use crate::server::ServerBuilder;
use crate::test_log::Captured;

fn server() -> crate::server::Server {
    ServerBuilder::new("startup", "1.0.0").build().unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "current_thread")]
async fn http_says_where_it_listens_and_which_versions() {
    let log = Captured::default();
    let _guard = tracing::subscriber::set_default(log.clone());
    // Other tests' threads change tracing's process-wide callsite cache.
    tracing::callsite::rebuild_interest_cache();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    // A shutdown that has already happened: serve, log, stop.
    serve_listener(listener, StreamableHttp::new(server()), async {}).await.unwrap_or_else(|e| panic!("{e}"));
    let lines = log.lines();
    let line = lines.iter().find(|l| l.starts_with("INFO") && l.contains("listening")).cloned().unwrap_or_default();
    assert!(line.contains(&format!("http://{addr}/mcp")), "{lines:?}");
    assert!(line.contains("2024-11-05") && line.contains("2026-07-28"), "{line}");
}

#[tokio::test(flavor = "current_thread")]
async fn stdio_says_it_serves_and_where_logs_go() {
    let log = Captured::default();
    let _guard = tracing::subscriber::set_default(log.clone());
    // Other tests' threads change tracing's process-wide callsite cache.
    tracing::callsite::rebuild_interest_cache();
    serve_on(server(), tokio::io::empty(), tokio::io::sink(), StdioOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let lines = log.lines();
    let line = lines.iter().find(|l| l.starts_with("INFO") && l.contains("stdio")).cloned().unwrap_or_default();
    assert!(line.contains("2025-11-25") && line.contains("logs go to stderr"), "{lines:?}");
}
