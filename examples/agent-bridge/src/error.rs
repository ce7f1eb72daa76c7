//! What can go wrong, and how each failure reaches the client: as an
//! `isError` tool result with a code (`_meta["dev.mcp-sdk/error"].code`),
//! or, from a resource read, as a JSON-RPC error.

use mcp_core::server::ToolError;

/// A failed bridge operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    /// The request carries no caller (auth is off): code `unauthenticated`.
    #[error(
        "authentication required: the agent bridge needs to know the caller (configure MCP_API_KEYS_TABLE or \
         MCP_AUTH_*)"
    )]
    Unauthenticated,
    /// The caller lacks the permission named: code `forbidden`.
    #[error("{0}")]
    Forbidden(String),
    /// No such (active) agent: code `not_found`.
    #[error("Agent not found: {0}")]
    AgentNotFound(String),
    /// No such execution, or it expired: code `not_found`.
    #[error("Execution not found: {0}")]
    ExecutionNotFound(String),
    /// An argument is unusable; the message names it: code
    /// `invalid_argument`.
    #[error("{0}")]
    InvalidArgument(String),
    /// DynamoDB or Step Functions failed: an internal error, whose detail
    /// stays in the server's log.
    #[error("{0}")]
    Backend(String),
}

impl BridgeError {
    /// A backend failure while `doing`, with the SDK's full context.
    pub fn backend(doing: &str, e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(format!("{doing}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))
    }

    /// The code clients see.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::AgentNotFound(_) | Self::ExecutionNotFound(_) => "not_found",
            Self::InvalidArgument(_) => "invalid_argument",
            Self::Backend(_) => ToolError::INTERNAL,
        }
    }

    /// As a JSON-RPC error (resource reads, task failures).
    pub fn into_protocol(self) -> mcp_core::Error {
        match self {
            Self::Backend(detail) => {
                tracing::error!(error = %detail, "agent bridge backend failure");
                mcp_core::Error::internal("the agent bridge could not reach DynamoDB or Step Functions")
            }
            other => mcp_core::Error::invalid_params(other.to_string()),
        }
    }
}

impl From<BridgeError> for ToolError {
    fn from(e: BridgeError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}
