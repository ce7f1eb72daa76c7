//! stdio: newline-delimited JSON with a child process (or any pair of byte
//! streams), the child's stderr kept apart from the protocol.

use std::collections::VecDeque;
use std::fmt;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use super::{Inbound, Transport};
use crate::client::error::TransportError;
use crate::jsonrpc::Message;

/// The longest line accepted from the server (16 MiB): a longer one is a
/// broken or hostile server, and ends the connection.
const MAX_LINE: usize = 16 << 20;

/// How many of the child's last stderr lines [`CapturedStderr`] keeps.
const STDERR_LINES: usize = 200;

/// What happens to the child's stderr. Never mixed with the protocol on
/// stdout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StderrMode {
    /// The child writes to this process's stderr (the default).
    #[default]
    Inherit,
    /// Read into a [`CapturedStderr`] (the last 200 lines).
    Capture,
    /// Discarded.
    Null,
}

/// The last lines a child wrote to stderr, under [`StderrMode::Capture`].
/// Cheap to clone; read it while or after the client runs.
#[derive(Clone, Debug, Default)]
pub struct CapturedStderr {
    lines: Arc<Mutex<VecDeque<String>>>,
}

impl CapturedStderr {
    /// The lines kept so far, oldest first.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.iter().cloned().collect()).unwrap_or_default()
    }

    fn push(&self, line: String) {
        if let Ok(mut lines) = self.lines.lock() {
            if lines.len() == STDERR_LINES {
                lines.pop_front();
            }
            lines.push_back(line);
        }
    }
}

type Reader = Box<dyn AsyncRead + Send + Unpin>;
type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// A stdio transport: a spawned server process ([`spawn`](Self::spawn)),
/// or any reader/writer pair ([`from_streams`](Self::from_streams)).
///
/// The child is killed when the client is dropped without
/// [`close`](super::super::Client::close).
pub struct StdioTransport {
    reader: Mutex<Option<Reader>>,
    writer: tokio::sync::Mutex<Option<Writer>>,
    child: tokio::sync::Mutex<Option<Child>>,
    stderr: Option<CapturedStderr>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl fmt::Debug for StdioTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StdioTransport").field("captures_stderr", &self.stderr.is_some()).finish_non_exhaustive()
    }
}

impl StdioTransport {
    /// Spawns `command` with piped stdin and stdout, its stderr as `stderr`
    /// says.
    ///
    /// # Errors
    /// When the process cannot be spawned.
    pub fn spawn(mut command: Command, stderr: StderrMode) -> Result<Self, TransportError> {
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).kill_on_drop(true);
        command.stderr(match stderr {
            StderrMode::Inherit => Stdio::inherit(),
            StderrMode::Capture => Stdio::piped(),
            StderrMode::Null => Stdio::null(),
        });
        let mut child = command.spawn()?;
        let missing = || TransportError::Config("the child's stdio was not piped".into());
        let stdin = child.stdin.take().ok_or_else(missing)?;
        let stdout = child.stdout.take().ok_or_else(missing)?;
        let mut tasks = Vec::new();
        let captured = match child.stderr.take() {
            Some(err) => {
                let captured = CapturedStderr::default();
                let sink = captured.clone();
                tasks.push(tokio::spawn(async move {
                    let mut lines = BufReader::new(err).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        sink.push(line);
                    }
                }));
                Some(captured)
            }
            None => None,
        };
        Ok(Self {
            reader: Mutex::new(Some(Box::new(stdout))),
            writer: tokio::sync::Mutex::new(Some(Box::new(stdin))),
            child: tokio::sync::Mutex::new(Some(child)),
            stderr: captured,
            tasks: Mutex::new(tasks),
        })
    }

    /// A transport over a reader (the server's output) and a writer (its
    /// input): an in-process server on a `tokio::io::duplex` pipe, a socket.
    pub fn from_streams(
        reader: impl AsyncRead + Send + Unpin + 'static,
        writer: impl AsyncWrite + Send + Unpin + 'static,
    ) -> Self {
        Self {
            reader: Mutex::new(Some(Box::new(reader))),
            writer: tokio::sync::Mutex::new(Some(Box::new(writer))),
            child: tokio::sync::Mutex::new(None),
            stderr: None,
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// The child's captured stderr, under [`StderrMode::Capture`].
    pub fn captured_stderr(&self) -> Option<CapturedStderr> {
        self.stderr.clone()
    }
}

async fn read_loop(reader: Reader, inbound: Inbound, stderr: Option<CapturedStderr>) {
    let mut reader = BufReader::new(reader);
    let mut line = Vec::with_capacity(1024);
    let reason = loop {
        line.clear();
        match (&mut reader).take(MAX_LINE as u64 + 1).read_until(b'\n', &mut line).await {
            Ok(0) => break "the server closed its output".to_owned(),
            Ok(_) if line.len() > MAX_LINE && !line.ends_with(b"\n") => {
                break format!("the server sent a line longer than {MAX_LINE} bytes");
            }
            Ok(_) => {}
            Err(e) => break format!("reading the server's output failed: {e}"),
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        match Message::parse(text) {
            Ok(message) => {
                if !inbound.message(message).await {
                    return;
                }
            }
            // A server that prints something else on stdout breaks the
            // protocol; skip the line and keep the connection.
            Err(e) => tracing::warn!(error = %e, "stdio client: skipping a line that is not a JSON-RPC message"),
        }
    };
    let tail = stderr.and_then(|s| s.lines().last().cloned());
    inbound
        .closed(match tail {
            Some(last) => format!("{reason} (last stderr line: {last})"),
            None => reason,
        })
        .await;
}

#[async_trait]
impl Transport for StdioTransport {
    async fn start(&self, inbound: Inbound) -> Result<(), TransportError> {
        let reader = self.reader.lock().ok().and_then(|mut r| r.take()).ok_or(TransportError::Closed)?;
        let task = tokio::spawn(read_loop(reader, inbound, self.stderr.clone()));
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.push(task);
        }
        Ok(())
    }

    async fn send(&self, message: Message) -> Result<(), TransportError> {
        let mut line = Vec::with_capacity(256);
        message.write_to(&mut line);
        line.push(b'\n');
        let mut writer = self.writer.lock().await;
        let w = writer.as_mut().ok_or(TransportError::Closed)?;
        w.write_all(&line).await?;
        w.flush().await?;
        Ok(())
    }

    async fn close(&self) {
        // Closing stdin asks the server to exit (the stdio transport's rule).
        if let Some(mut w) = self.writer.lock().await.take() {
            let _ = w.shutdown().await;
        }
        if let Some(mut child) = self.child.lock().await.take()
            && tokio::time::timeout(Duration::from_secs(2), child.wait()).await.is_err()
        {
            let _ = child.kill().await;
        }
        if let Ok(mut tasks) = self.tasks.lock() {
            for t in tasks.drain(..) {
                t.abort();
            }
        }
    }
}

impl Drop for StdioTransport {
    fn drop(&mut self) {
        if let Ok(mut tasks) = self.tasks.lock() {
            for t in tasks.drain(..) {
                t.abort();
            }
        }
    }
}
