//! An MCP client: connect to any MCP server over stdio or Streamable HTTP,
//! in either protocol era, and call its tools, resources and prompts.
//!
//! [`ClientBuilder::connect`] settles the era: with [`Mode::Auto`] (the
//! default) it probes `server/discover` and speaks the stateless
//! 2026-07-28 protocol when the server offers it (every request carries
//! its version, client info and capabilities in `_meta`), and otherwise
//! runs the legacy `initialize` handshake and keeps its session. A
//! [`Client`] is a cheap-to-clone handle: clones share one connection, and
//! the connection ends when the last clone is dropped (the child process
//! is killed) or at [`Client::close`].
//!
//! - Typed calls: [`list_tools`](Client::list_tools) (every page),
//!   [`call_tool`](Client::call_tool), [`read_resource`](Client::read_resource),
//!   [`get_prompt`](Client::get_prompt), [`complete`](Client::complete),
//!   [`ping`](Client::ping); and the raw [`request`](Client::request) for
//!   anything else (a gateway forwards through it).
//! - What the server asks for (elicitation, sampling, roots) is answered by
//!   the handlers set on the builder, whether it asks with a legacy
//!   server-to-client request or with an `input_required` result, which
//!   the client answers and retries transparently.
//!   A gateway that passes rounds on to its own caller asks for them with
//!   [`RequestOptions::return_input_required`].
//! - Progress, log messages and list changes arrive on
//!   [`notifications`](Client::notifications); in the stateless era the
//!   list changes and resource updates come once
//!   [`listen`](Client::listen) opened a `subscriptions/listen` stream.
//! - Over HTTP: the auth hook ([`AuthHook`]: [`BearerToken`], [`ApiKey`],
//!   a closure) signs every request; the stateless era's `MCP-Protocol-Version`,
//!   `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` headers are set (the last
//!   from the `x-mcp-header` marks of the tools `tools/list` returned); a
//!   legacy SSE stream that breaks is resumed with `Last-Event-ID`.
//! - A request that times out or whose future is dropped is cancelled on
//!   the server (`notifications/cancelled`, or closing its HTTP stream).
//! - Tasks (the `io.modelcontextprotocol/tasks` extension, stateless era):
//!   declared with [`ClientBuilder::tasks`]; see [Tasks](#tasks).
//! - Errors are typed: [`ClientError::Transport`], [`ClientError::Rpc`]
//!   (code, message, data), and a tool's own failure is a result with
//!   `isError` ([`ClientError::ToolFailed`] from
//!   [`call_tool_checked`](Client::call_tool_checked)).
//!
//! An in-process server on a pipe (the same code talks to a child process
//! with [`StdioTransport::spawn`], or to a URL with [`HttpTransport`]):
//!
//! ```
//! use mcp_core::client::{ClientBuilder, StdioTransport};
//! use mcp_core::server::{Context, ServerBuilder, ToolRoute};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Args {
//!     /// Who to greet
//!     name: String,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = ServerBuilder::new("hello", "1.0.0")
//!     .tool(ToolRoute::new("greet", |_ctx: Context, a: Args| async move { format!("Hello, {}!", a.name) }))
//!     .build()?;
//! let (client_end, server_end) = tokio::io::duplex(64 * 1024);
//! let (server_read, server_write) = tokio::io::split(server_end);
//! tokio::spawn(mcp_core::transport::stdio::serve_on(server, server_read, server_write, Default::default()));
//!
//! let (read, write) = tokio::io::split(client_end);
//! let client = ClientBuilder::new("example", "0.1.0").connect(StdioTransport::from_streams(read, write)).await?;
//! assert!(client.negotiated().protocol_version.is_stateless());
//! let tools = client.list_tools().await?;
//! assert_eq!(tools[0].name, "greet");
//! let result = client.call_tool("greet", serde_json::json!({"name": "Ada"})).await?;
//! assert_eq!(result.content[0].as_text(), Some("Hello, Ada!"));
//! client.close().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Tasks
//!
//! A client that declares the tasks extension ([`ClientBuilder::tasks`];
//! stateless era only) lets a task-capable tool answer a call with a task
//! that runs on in the server. [`call_tool`](Client::call_tool) follows
//! such a task to its end transparently and returns its result;
//! [`call_tool_as_task`](Client::call_tool_as_task) returns the task
//! ([`ToolCall::Task`]) for the caller to follow with
//! [`wait_task`](Client::wait_task) (polling `tasks/get`, answering its
//! input requests with the handlers through `tasks/update`), inspect with
//! [`get_task`](Client::get_task), answer by hand with
//! [`update_task`](Client::update_task) or stop with
//! [`cancel_task`](Client::cancel_task). A task that failed is
//! [`ClientError::Rpc`] with its error; one that was cancelled is
//! [`ClientError::TaskCancelled`].
//!
//! ```
//! use std::time::Duration;
//!
//! use mcp_core::client::{ClientBuilder, StdioTransport, ToolCall};
//! use mcp_core::server::task::TaskSupport;
//! use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let render = ToolRoute::new("render", |_ctx: Context, _: NoArgs| async move {
//!     tokio::time::sleep(Duration::from_millis(50)).await;
//!     "rendered"
//! })
//! .with_description("Render the report")
//! .task_support(TaskSupport::Optional);
//! let server = ServerBuilder::new("jobs", "1.0.0").tool(render).task_poll_interval(Duration::from_millis(20)).build()?;
//! let (client_end, server_end) = tokio::io::duplex(64 * 1024);
//! let (server_read, server_write) = tokio::io::split(server_end);
//! tokio::spawn(mcp_core::transport::stdio::serve_on(server, server_read, server_write, Default::default()));
//!
//! let (read, write) = tokio::io::split(client_end);
//! let client = ClientBuilder::new("example", "0.1.0").tasks().connect(StdioTransport::from_streams(read, write)).await?;
//! // The call becomes a task; wait for its result.
//! let ToolCall::Task(created) = client.call_tool_as_task("render", ()).await? else { panic!("not a task") };
//! let result = client.wait_task(&created.task.task_id).await?;
//! assert_eq!(result.content[0].as_text(), Some("rendered"));
//! // Or let `call_tool` follow the task.
//! let result = client.call_tool("render", ()).await?;
//! assert_eq!(result.content[0].as_text(), Some("rendered"));
//! client.close().await;
//! # Ok(())
//! # }
//! ```
//!
//! Over HTTP, with a bearer token on every request:
//!
//! ```no_run
//! use mcp_core::client::{BearerToken, ClientBuilder, HttpTransport};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let transport = HttpTransport::builder("http://127.0.0.1:3000/mcp").auth(BearerToken::new("token")?).build()?;
//! let client = ClientBuilder::new("example", "0.1.0").connect(transport).await?;
//! println!("{:?}", client.list_tools().await?);
//! # Ok(())
//! # }
//! ```

mod builder;
mod calls;
mod error;
mod handler;
mod listen;
mod notification;
mod params;
mod peer;
mod tasks;
pub mod transport;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::task::JoinHandle;

pub use builder::{ClientBuilder, Mode};
pub use error::{ClientError, TransportError};
pub use handler::{ElicitationHandler, RootsHandler, SamplingHandler, StaticRoots};
pub use listen::Subscription;
pub use notification::ServerNotification;
pub use tasks::ToolCall;
pub use transport::{ApiKey, AuthHook, BearerToken, HttpTransport, StderrMode, StdioTransport, Transport};

use crate::ProtocolVersion;
use crate::protocol::lifecycle::{Implementation, ServerCapabilities};
use crate::protocol::progress::ProgressToken;

/// What the handshake settled.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Negotiated {
    /// The protocol version: 2026-07-28 in the stateless era, the one
    /// `initialize` agreed on otherwise.
    pub protocol_version: ProtocolVersion,
    /// What the server supports.
    pub capabilities: ServerCapabilities,
    /// The server's name and version (optional in the stateless era).
    pub server_info: Option<Implementation>,
    /// How to use the server, for the model.
    pub instructions: Option<String>,
}

/// Per-request settings.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RequestOptions {
    /// The progress token to send (`_meta.progressToken`): the server
    /// reports progress under it on [`Client::notifications`].
    pub progress: Option<ProgressToken>,
    /// This request's timeout, instead of the client's.
    pub timeout: Option<Duration>,
    /// Return an `input_required` result as it is instead of answering it
    /// with the handlers (for a gateway that passes the round on to its own
    /// caller, who retries with `inputResponses` and `requestState`).
    pub return_input_required: bool,
    /// A tag the handlers read with [`origin`] while they answer a server
    /// request that came on this request's response stream (Streamable
    /// HTTP), so that an application with several requests in flight knows
    /// which one the server asks for (a gateway asks that request's caller).
    pub origin: Option<u64>,
}

impl RequestOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for progress under `token`.
    #[must_use]
    pub fn progress(mut self, token: impl Into<ProgressToken>) -> Self {
        self.progress = Some(token.into());
        self
    }

    /// Sets this request's timeout.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Returns `input_required` results instead of answering them.
    #[must_use]
    pub fn return_input_required(mut self) -> Self {
        self.return_input_required = true;
        self
    }

    /// Tags this request with `origin`, which the handlers read with
    /// [`origin`] while they answer a server request sent on its stream.
    #[must_use]
    pub fn origin(mut self, origin: u64) -> Self {
        self.origin = Some(origin);
        self
    }
}

/// Inside an elicitation, sampling or roots handler: the
/// [`RequestOptions::origin`] of the request of ours whose response stream
/// carried the server request being answered. `None` outside a handler,
/// when that request set no origin, or when the transport cannot tell which
/// request the server asks for (stdio, or a request on the standalone GET
/// stream), and for `input_required` rounds (the handlers then run inside
/// the call that asks, which knows its own request).
pub fn origin() -> Option<u64> {
    peer::current_origin()
}

/// A connection to one MCP server. Cheap to clone; every clone shares the
/// connection, which ends when the last one is dropped or at
/// [`close`](Self::close).
#[derive(Clone)]
pub struct Client {
    shared: Arc<peer::Shared>,
    lifetime: Arc<Lifetime>,
    negotiated: Arc<Negotiated>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("transport", &self.shared.transport)
            .field("negotiated", &self.negotiated)
            .finish_non_exhaustive()
    }
}

/// Stops the routing task when the last clone of the client goes.
struct Lifetime {
    task: JoinHandle<()>,
    shared: Arc<peer::Shared>,
}

impl Drop for Lifetime {
    fn drop(&mut self) {
        self.task.abort();
        self.shared.close_with("the client was dropped");
    }
}

impl Client {
    /// A builder.
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(name, version)
    }

    /// Whether `other` is a clone of this client (the same connection).
    pub fn same_connection(&self, other: &Client) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// What the handshake settled: version, server capabilities and info.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// Notifications from the server from now on: progress, log messages,
    /// list changes. A receiver that falls more than 1024 behind loses the
    /// oldest (`RecvError::Lagged`).
    pub fn notifications(&self) -> broadcast::Receiver<ServerNotification> {
        self.shared.subscribe()
    }

    /// [`notifications`](Self::notifications), each with the
    /// [`RequestOptions::origin`] of the request whose response stream
    /// carried it (`None` when none did, or the transport cannot tell).
    #[cfg_attr(not(feature = "gateway"), allow(dead_code))]
    pub(crate) fn tagged_notifications(&self) -> broadcast::Receiver<(Option<u64>, ServerNotification)> {
        self.shared.subscribe_tagged()
    }

    /// Ends the connection: pending requests fail with
    /// [`ClientError::Closed`], a legacy HTTP session is deleted, a child
    /// process has its stdin closed and is killed if it does not exit
    /// within 2 s.
    pub async fn close(&self) {
        self.shared.close_with("the client closed the connection");
        self.shared.transport.close().await;
        self.lifetime.task.abort();
    }
}
