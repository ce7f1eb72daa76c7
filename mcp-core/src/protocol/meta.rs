//! `_meta` objects, result types and caching hints shared by every message.

use serde::{Deserialize, Serialize};

/// A `_meta` object: free-form, keys namespaced by their owner.
pub type Meta = serde_json::Map<String, serde_json::Value>;

/// Well-known `_meta` keys.
pub mod keys {
    /// The request's protocol version (2026-07-28, every request).
    pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
    /// The client's capabilities for this request (2026-07-28, every request).
    pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
    /// The client's name and version (2026-07-28).
    pub const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
    /// The log level the client wants for this request (2026-07-28).
    pub const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
    /// The server's name and version, on results (2026-07-28).
    pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
    /// The subscription a notification belongs to (2026-07-28).
    pub const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";
    /// This SDK's own: on a legacy server-to-client request (elicitation,
    /// sampling, roots), the `inputRequests` key the handler asked under, so
    /// that a gateway passing the request on to a stateless caller asks
    /// under the same key.
    pub const INPUT_KEY: &str = "io.mcp-sdk/inputKey";
    /// The progress token (every version).
    pub const PROGRESS_TOKEN: &str = "progressToken";
}

/// How a client should read a result (2026-07-28).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResultType {
    /// The request completed and the result is final.
    #[default]
    Complete,
    /// The server needs more input: an `InputRequiredResult`.
    InputRequired,
    /// The request became a task (tasks extension).
    Task,
}

/// Who may cache a cacheable result (2026-07-28).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheScope {
    /// Any client or intermediary may cache it across authorization contexts.
    Public,
    /// Only within the same authorization context.
    #[default]
    Private,
}
