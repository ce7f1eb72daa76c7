//! What can go wrong talking to a server: [`ClientError`] and the
//! transports' [`TransportError`].

use std::time::Duration;

use crate::jsonrpc::ErrorObject;
use crate::protocol::tools::CallToolResult;

/// Why a client call failed.
///
/// The three families the caller usually tells apart are
/// [`Transport`](Self::Transport) (the connection or HTTP exchange failed),
/// [`Rpc`](Self::Rpc) (the server answered with a JSON-RPC error: code,
/// message and data) and [`ToolFailed`](Self::ToolFailed) (the tool ran and
/// returned `isError: true`, only from
/// [`call_tool_checked`](super::Client::call_tool_checked);
/// [`call_tool`](super::Client::call_tool) returns such results as `Ok`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The transport failed: the process exited, the connection dropped, an
    /// HTTP status without a JSON-RPC error in its body.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The server answered with a JSON-RPC error.
    #[error("server error {}: {}", .0.code, .0.message)]
    Rpc(ErrorObject),
    /// The tool returned a result with `isError: true`.
    #[error("tool {name:?} failed: {}", first_text(result))]
    ToolFailed {
        /// The tool's name.
        name: String,
        /// The failed result, with its content.
        result: Box<CallToolResult>,
    },
    /// No response came within the request's timeout; the request was
    /// cancelled.
    #[error("{method} timed out after {after:?}")]
    Timeout {
        /// The method of the request.
        method: String,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// The server's result did not have the shape the method's result type
    /// requires.
    #[error("invalid {method} result from the server: {source}")]
    InvalidResult {
        /// The method of the request.
        method: String,
        /// What did not match.
        #[source]
        source: serde_json::Error,
    },
    /// The request's params could not be serialised into a JSON object.
    #[error("invalid {method} params: {reason}")]
    InvalidParams {
        /// The method of the request.
        method: String,
        /// Why.
        reason: String,
    },
    /// The server needs input (`input_required`, or a legacy
    /// server-to-client request) that no handler of this client answers.
    #[error("the server asked for {what}, which this client has no handler for")]
    NoHandler {
        /// What the server asked for (`elicitation/create`, ...).
        what: String,
    },
    /// A handler of this client failed while answering an `input_required`
    /// round.
    #[error("the {what} handler failed: {}", .error.message)]
    Handler {
        /// The request the handler answered.
        what: String,
        /// Its error.
        error: ErrorObject,
    },
    /// The server kept answering `input_required` past the round limit.
    #[error("{method}: the server still wanted input after {rounds} rounds")]
    TooManyRounds {
        /// The method of the request.
        method: String,
        /// The limit that was reached.
        rounds: u32,
    },
    /// The task a tool call became was cancelled (with
    /// [`Client::cancel_task`](super::Client::cancel_task), by another
    /// holder of its id, or by the server) before it ended. A task that
    /// failed is [`Rpc`](Self::Rpc) with the task's error.
    #[error("task {task_id} was cancelled{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    TaskCancelled {
        /// The task.
        task_id: String,
        /// The server's note on the status, if any.
        message: Option<String>,
    },
    /// The connection could not be established in the requested protocol
    /// era, or the server speaks no version this client supports.
    #[error("handshake failed: {0}")]
    Handshake(String),
    /// The server broke a protocol rule (a list whose `nextCursor` repeats,
    /// a response to a request never sent).
    #[error("protocol violation by the server: {0}")]
    Protocol(String),
    /// The method does not exist in the negotiated protocol version
    /// (`ping` or `logging/setLevel` in the stateless era, say).
    #[error("{method} does not exist in protocol version {version}")]
    NotInVersion {
        /// The method.
        method: String,
        /// The negotiated version.
        version: crate::ProtocolVersion,
    },
    /// The connection is closed: [`Client::close`](super::Client::close) was
    /// called, or the transport ended.
    #[error("the connection is closed{}", .0.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Closed(Option<String>),
}

fn first_text(result: &CallToolResult) -> &str {
    result.content.iter().find_map(|c| c.as_text()).unwrap_or("no text content")
}

impl ClientError {
    /// The JSON-RPC error, when the server answered with one.
    pub fn as_rpc(&self) -> Option<&ErrorObject> {
        match self {
            Self::Rpc(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a transport could not deliver or receive a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Reading from or writing to the process or socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The HTTP exchange failed below the status line (connection refused,
    /// TLS, a broken stream).
    #[error("HTTP request failed: {0}")]
    Http(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The server answered with an HTTP error status and no JSON-RPC error.
    #[error("HTTP {status}{}", if .body.is_empty() { String::new() } else { format!(": {}", .body) })]
    Status {
        /// The status.
        status: http::StatusCode,
        /// The start of the response body (at most 1 KiB), for the message.
        body: String,
    },
    /// The server sent something that is not an MCP message.
    #[error("malformed message from the server: {0}")]
    Malformed(String),
    /// The server's response stream ended before the response to a request.
    #[error("the response stream ended before the response")]
    StreamEnded,
    /// The URL or a header value is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The transport is closed.
    #[error("the transport is closed")]
    Closed,
}
