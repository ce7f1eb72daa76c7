//! Running the transport on hyper: accept loop, connection settings,
//! graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use futures_util::future::Either;
use http::StatusCode;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, ToSocketAddrs};
use tower_service::Service;

use super::watchdog::{Watch, Watched};
use super::{HttpBody, StreamableHttp, error_response};
use crate::jsonrpc::ErrorCode;
use crate::server::{IntoLayered, McpService};

/// How long open connections (SSE streams included) may take to finish
/// after shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves `app` (a [`Server`](crate::server::Server), or one with layers)
/// over Streamable HTTP at `addr` (for example
/// `"127.0.0.1:3000"`) on the path `/mcp`, with default options, until
/// ctrl-c or SIGTERM.
///
/// Bind to 127.0.0.1 for a local server; a server on another interface must
/// widen [`HostPolicy`](super::HostPolicy) through
/// [`StreamableHttp::with_options`] and [`serve_listener`].
///
/// # Errors
/// The address cannot be bound.
pub async fn serve(app: impl IntoLayered, addr: impl ToSocketAddrs) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    serve_listener(listener, StreamableHttp::new(app), shutdown_signal()).await
}

/// Serves `service` on `listener` until `shutdown` completes, then lets
/// open connections finish (up to 5 s).
///
/// Requests to paths other than [`HttpOptions::path`](super::HttpOptions::path)
/// get 404. Connections use `TCP_NODELAY` and the options' header timeout,
/// which also closes connections idle between requests.
///
/// # Errors
/// Never at present; the `Result` leaves room for listener failures.
pub async fn serve_listener<S>(
    listener: TcpListener,
    service: StreamableHttp<S>,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()>
where
    S: McpService,
{
    let not_found = NotFound(service.options().path.as_str().into());
    serve_listener_with(listener, service, not_found, shutdown).await
}

/// As [`serve_listener`], with `other` answering every path that is not
/// the MCP path: a health check, metadata documents, a landing page.
///
/// # Errors
/// Never at present; the `Result` leaves room for listener failures.
pub async fn serve_listener_with<S, O>(
    listener: TcpListener,
    service: StreamableHttp<S>,
    other: O,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()>
where
    S: McpService,
    O: Service<http::Request<Incoming>, Response = http::Response<HttpBody>, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    O::Future: Send,
{
    if let Ok(addr) = listener.local_addr() {
        let (path, versions) = (&service.options().path, crate::transport::served_versions());
        tracing::info!("MCP server listening on http://{addr}{path} (protocol versions {versions})");
    }
    // The header timeout is the per-connection watchdog's (see
    // `watchdog.rs`), not hyper's per-request timer.
    let header_timeout = service.options().header_timeout;
    let mut builder = hyper::server::conn::http1::Builder::new();
    // hyper's own header timeout (a default of 30 s, inactive without a
    // timer) is off explicitly.
    builder.header_read_timeout(None).keep_alive(true);
    let graceful = GracefulShutdown::new();
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let svc = service.clone();
        let other = other.clone();
        let watch = Arc::new(Watch::default());
        let requests = Arc::clone(&watch);
        let handler = hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
            let busy = requests.start();
            req.extensions_mut().insert(PeerAddr(peer));
            let answer = if svc.serves_path(req.uri().path()) {
                Either::Left(svc.clone().call(req))
            } else {
                Either::Right(other.clone().call(req))
            };
            answer.map(|out| out.map(|resp| resp.map(|body| Watched { body, _busy: busy })))
        });
        let conn = builder.serve_connection(TokioIo::new(stream), handler);
        let conn = graceful.watch(conn);
        while connections.try_join_next().is_some() {}
        connections.spawn(async move {
            tokio::select! {
                biased;
                served = conn => if let Err(e) = served {
                    tracing::debug!(error = %e, "connection ended with an error");
                },
                () = watch.stalled(header_timeout) => {
                    tracing::debug!(?header_timeout, "closing a connection quiet for the header timeout (no request, none answered)");
                }
            }
        });
    }
    drop(listener);
    // Open SSE streams end so that their connections can close.
    service.end_streams();
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::debug!("connections still open after the shutdown grace period; closing them");
    }
    connections.shutdown().await;
    Ok(())
}

/// The client's socket address, in the request's extensions (for rate
/// limiting by IP, logging).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// Completes on ctrl-c or, on Unix, SIGTERM (what container runtimes send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// The default answer off the MCP path: 404 naming where MCP is.
#[derive(Debug, Clone)]
struct NotFound(std::sync::Arc<str>);

impl<B> Service<http::Request<B>> for NotFound {
    type Response = http::Response<HttpBody>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<http::Response<HttpBody>, Infallible>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let msg = format!("not found: nothing is served at {}; MCP is at {}", req.uri().path(), self.0);
        std::future::ready(Ok(error_response(StatusCode::NOT_FOUND, None, ErrorCode::INVALID_REQUEST, msg)))
    }
}
