//! How a [`Client`](super::Client) reaches a server: a child process over
//! stdio ([`StdioTransport`]), Streamable HTTP ([`HttpTransport`]), or any
//! [`Transport`] of your own.

mod auth;
mod http;
mod sse;
mod stateless_headers;
mod stdio;

use std::fmt;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::error::TransportError;
use crate::ProtocolVersion;
use crate::jsonrpc::{Message, RequestId};

pub use self::auth::{ApiKey, AuthHook, BearerToken};
pub use self::http::{HttpTransport, HttpTransportBuilder};
pub use self::stdio::{CapturedStderr, StderrMode, StdioTransport};

/// A way to exchange JSON-RPC messages with one server.
///
/// The client calls [`start`](Self::start) once, then [`send`](Self::send)
/// for every outgoing message; the transport hands every incoming message
/// (responses, notifications, server-to-client requests) to the [`Inbound`]
/// it was started with, in the order it reads them. Implement it for a
/// transport this crate does not ship (a WebSocket, an in-memory pipe with
/// extra framing).
#[async_trait]
pub trait Transport: Send + Sync + fmt::Debug + 'static {
    /// Starts reading: incoming messages go to `inbound` from now on.
    ///
    /// # Errors
    /// When the transport cannot start (the process cannot be read).
    async fn start(&self, inbound: Inbound) -> Result<(), TransportError>;

    /// Sends one message. For a request, the transport may also report a
    /// failure of that request alone later, with [`Inbound::fail`].
    ///
    /// # Errors
    /// When the message could not be delivered.
    async fn send(&self, message: Message) -> Result<(), TransportError>;

    /// Sends a request with extra headers (the stateless era's
    /// `Mcp-Param-*`, as `(name, value)`). Transports without headers send
    /// the message alone, which is the default.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    async fn send_with_headers(&self, message: Message, headers: Vec<(String, String)>) -> Result<(), TransportError> {
        let _ = headers;
        self.send(message).await
    }

    /// The client gave up on request `id` (timeout, or its future was
    /// dropped): stop reading its response. Streamable HTTP closes the
    /// request's stream, which is how the stateless era cancels.
    fn abandon(&self, id: &RequestId) {
        let _ = id;
    }

    /// Whether [`abandon`](Self::abandon) alone cancels the request on the
    /// server in the stateless era (true for HTTP, where closing the stream
    /// cancels; false for stdio, which needs `notifications/cancelled`).
    fn abandon_cancels(&self) -> bool {
        false
    }

    /// The protocol version is settled: transports that send it out of band
    /// (the `MCP-Protocol-Version` header) start doing so.
    fn set_protocol_version(&self, version: ProtocolVersion) {
        let _ = version;
    }

    /// Ends the connection: closes the process's stdin and waits briefly for
    /// it to exit, or ends the HTTP session.
    async fn close(&self) {}
}

/// What a transport reports to the client.
#[derive(Debug)]
pub(crate) enum InboundEvent {
    /// A message from the server.
    Message(Message),
    /// A message the server sent on the stream of one of our requests
    /// (Streamable HTTP): a server request there belongs to that request.
    OnStream(Message, RequestId),
    /// One request failed in the transport (its HTTP exchange, its stream).
    Failed(RequestId, TransportError),
    /// The transport ended; every pending request fails.
    Closed(String),
}

/// Where a [`Transport`] delivers what it reads. Cheap to clone.
#[derive(Clone)]
pub struct Inbound {
    tx: mpsc::Sender<InboundEvent>,
}

impl fmt::Debug for Inbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbound").finish_non_exhaustive()
    }
}

impl Inbound {
    pub(crate) fn new(tx: mpsc::Sender<InboundEvent>) -> Self {
        Self { tx }
    }

    /// Delivers a message from the server. Returns `false` once the client
    /// is gone, when the transport should stop reading.
    pub async fn message(&self, message: Message) -> bool {
        self.tx.send(InboundEvent::Message(message)).await.is_ok()
    }

    /// Delivers a message the server sent on the response stream of our
    /// request `of` (so that a server request there is known to belong to
    /// it). Returns `false` once the client is gone.
    pub async fn message_on_stream(&self, message: Message, of: RequestId) -> bool {
        self.tx.send(InboundEvent::OnStream(message, of)).await.is_ok()
    }

    /// Fails request `id` alone (its HTTP exchange or stream broke).
    pub async fn fail(&self, id: RequestId, error: TransportError) -> bool {
        self.tx.send(InboundEvent::Failed(id, error)).await.is_ok()
    }

    /// The connection ended (the process exited, stdout closed): every
    /// pending request fails with `reason`.
    pub async fn closed(&self, reason: impl Into<String>) {
        let _ = self.tx.send(InboundEvent::Closed(reason.into())).await;
    }

    /// Whether the client is gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}
