//! The stdio transport: newline-delimited JSON on stdin and stdout.
//!
//! Only protocol messages go to stdout (logs belong on stderr). Requests run
//! concurrently, so a slow tool never blocks `ping` or another call;
//! `notifications/cancelled` cancels a running request; the server exits
//! when stdin closes, after the requests in flight finish (bounded by a grace
//! period). Lines longer than the limit are answered with a clear -32600
//! error and skipped.

use std::io;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::jsonrpc::{ErrorCode, ErrorObject, Incoming, Message, Response};
use crate::protocol::methods;
use crate::server::{IntoLayered, Server, ServerRequest, Session, Sink, call, handle_frame};

/// Settings of the stdio transport.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StdioOptions {
    /// The longest line accepted, in bytes (default 4 MiB).
    pub max_line_bytes: usize,
    /// Requests handled at once (default 256). More wait for a turn while
    /// reading goes on; reading pauses only with 16 times as many queued.
    pub max_in_flight: usize,
    /// How long requests in flight may finish after stdin closes
    /// (default 5 s).
    pub shutdown_grace: Duration,
}

impl Default for StdioOptions {
    fn default() -> Self {
        Self { max_line_bytes: 4 * 1024 * 1024, max_in_flight: 256, shutdown_grace: Duration::from_secs(5) }
    }
}

/// Serves `app` (a [`Server`], or one with layers: see
/// [`Layered`](crate::server::Layered)) on the process's stdin and stdout
/// until stdin closes.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let server = mcp_core::server::ServerBuilder::new("demo", "1.0.0").build().expect("valid");
/// mcp_core::transport::stdio::serve(server).await
/// # }
/// ```
///
/// # Errors
/// An I/O error reading stdin or writing stdout.
pub async fn serve(app: impl IntoLayered) -> io::Result<()> {
    serve_on(app, tokio::io::stdin(), tokio::io::stdout(), StdioOptions::default()).await
}

/// The former name of [`serve`].
///
/// # Errors
/// As [`serve`].
#[deprecated(since = "0.2.0", note = "use `stdio::serve`, which also takes layered services")]
pub async fn serve_stdio(server: Server) -> io::Result<()> {
    serve(server).await
}

enum Line {
    Data,
    TooLong,
    Eof,
}

async fn read_line<R: AsyncBufRead + Unpin>(r: &mut R, buf: &mut Vec<u8>, max: usize) -> io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    loop {
        let available = r.fill_buf().await?;
        if available.is_empty() {
            return Ok(if too_long {
                Line::TooLong
            } else if buf.is_empty() {
                Line::Eof
            } else {
                Line::Data
            });
        }
        let (chunk, used, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        if !too_long {
            if buf.len() + chunk.len() > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        r.consume(used);
        if done {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(if too_long { Line::TooLong } else { Line::Data });
        }
    }
}

async fn write_loop<W: AsyncWrite + Unpin>(writer: W, mut rx: mpsc::Receiver<String>) -> io::Result<()> {
    let mut w = BufWriter::new(writer);
    while let Some(line) = rx.recv().await {
        w.write_all(line.as_bytes()).await?;
        w.write_all(b"\n").await?;
        while let Ok(more) = rx.try_recv() {
            w.write_all(more.as_bytes()).await?;
            w.write_all(b"\n").await?;
        }
        w.flush().await?;
    }
    w.flush().await
}

/// Forwards server events to a legacy session as notifications.
async fn forward_events(server: Server, session: Arc<Session>) {
    let mut events = server.subscribe_events();
    loop {
        let event = match events.recv().await {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        let Some(msg) = session.notification_for(&event) else { continue };
        if session.outbound().send(&msg).await.is_err() {
            return;
        }
    }
}

fn encode_line(resp: &Response) -> String {
    let mut buf = Vec::new();
    resp.write_to(&mut buf);
    String::from_utf8(buf).unwrap_or_default()
}

/// Serves one connection: `app` (a server, or one with layers) answers
/// what `reader` carries, and replies go to `writer`.
///
/// # Errors
/// An I/O error on `reader` or `writer`.
pub async fn serve_on<A, R, W>(app: A, reader: R, writer: W, options: StdioOptions) -> io::Result<()>
where
    A: IntoLayered,
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (server, service) = app.into_layered().into_parts();
    let versions = super::served_versions();
    tracing::info!("MCP server on stdio (protocol versions {versions}); logs go to stderr, stdout is the protocol's");
    let (sink, rx) = Sink::channel(1024);
    let writer_task = tokio::spawn(write_loop(writer, rx));
    let session = Session::new(None, sink.clone());
    let events_task = tokio::spawn(forward_events(server, Arc::clone(&session)));
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    let mut tasks = JoinSet::new();
    let extensions = http::Extensions::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(options.max_in_flight.max(1)));

    let result = loop {
        // A hard cap on queued requests, far above the concurrency limit.
        while tasks.len() >= options.max_in_flight.max(1).saturating_mul(16) {
            let _ = tasks.join_next().await;
        }
        while tasks.try_join_next().is_some() {}
        match read_line(&mut reader, &mut buf, options.max_line_bytes).await {
            Err(e) => break Err(e),
            Ok(Line::Eof) => break Ok(()),
            Ok(Line::TooLong) => {
                let err = ErrorObject::new(
                    ErrorCode::INVALID_REQUEST,
                    format!("invalid request: message exceeds the {}-byte line limit", options.max_line_bytes),
                );
                let _ = sink.send_raw(encode_line(&Response::error(None, err))).await;
            }
            Ok(Line::Data) if buf.iter().all(u8::is_ascii_whitespace) => {}
            Ok(Line::Data) => match Incoming::parse(&buf) {
                Err(e) => {
                    let _ = sink.send_raw(encode_line(&e.into_response())).await;
                }
                Ok(Incoming::Single(Message::Request(req))) if req.method == methods::INITIALIZE => {
                    // The handshake settles the session before anything
                    // after it runs.
                    let request = ServerRequest::new(Message::Request(req), Some(Arc::clone(&session)), sink.clone());
                    if let Some(resp) = call(service.clone(), request).await {
                        let _ = sink.send_raw(encode_line(&resp)).await;
                    }
                }
                Ok(Incoming::Single(Message::Request(req))) => {
                    let id = req.id.clone();
                    let request = ServerRequest::new(Message::Request(req), Some(Arc::clone(&session)), sink.clone());
                    if !session.start_request(id.clone(), request.cancel.clone()) {
                        let err = ErrorObject::new(
                            ErrorCode::INVALID_REQUEST,
                            format!("invalid request: id {id} is already in use by a running request"),
                        );
                        let _ = sink.send_raw(encode_line(&Response::error(Some(id), err))).await;
                        continue;
                    }
                    let svc = service.clone();
                    let sink = sink.clone();
                    let session = Arc::clone(&session);
                    let permits = Arc::clone(&permits);
                    tasks.spawn(async move {
                        // Waiting for a permit here, not in the read loop,
                        // keeps responses and cancellations flowing while
                        // requests queue.
                        let _permit = permits.acquire_owned().await;
                        let outcome = AssertUnwindSafe(call(svc, request)).catch_unwind().await;
                        session.finish_request(&id);
                        let resp = match outcome {
                            Ok(resp) => resp,
                            Err(_) => Some(Response::error(
                                Some(id),
                                ErrorObject::new(
                                    ErrorCode::INTERNAL_ERROR,
                                    "internal error: the request handler failed",
                                ),
                            )),
                        };
                        if let Some(resp) = resp {
                            let _ = sink.send_raw(encode_line(&resp)).await;
                        }
                    });
                }
                Ok(Incoming::Single(message)) => {
                    // Notifications and the client's responses are quick and
                    // must take effect in order (a cancellation right after
                    // its request): handle them here.
                    let req = ServerRequest::new(message, Some(Arc::clone(&session)), sink.clone());
                    let _ = call(service.clone(), req).await;
                }
                Ok(Incoming::Batch(_)) => {
                    let frame = std::mem::take(&mut buf);
                    let (svc, session, sink, ext) =
                        (service.clone(), Arc::clone(&session), sink.clone(), extensions.clone());
                    tasks.spawn(async move {
                        if let Some(out) = handle_frame(svc, &frame, Some(&session), &sink, &ext).await {
                            let _ = sink.send_raw(String::from_utf8(out).unwrap_or_default()).await;
                        }
                    });
                }
            },
        }
    };

    // stdin closed: let requests in flight finish, then stop.
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(options.shutdown_grace, drain).await.is_err() {
        session.close();
        tasks.shutdown().await;
    }
    session.close();
    events_task.abort();
    drop(session);
    drop(sink);
    let written = writer_task.await.unwrap_or(Ok(()));
    result.and(written)
}
