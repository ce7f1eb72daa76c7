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
    /// DynamoDB or Step Functions failed: code `unavailable`, with a
    /// message that says so; the detail stays in the server's log.
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
            Self::Backend(_) => "unavailable",
        }
    }

    /// What the client is told: the message, except for a backend failure,
    /// whose detail (SDK errors, request ids) is logged here instead.
    fn client_message(&self) -> String {
        match self {
            Self::Backend(detail) => {
                tracing::error!(error = %detail, "agent bridge backend failure");
                UNAVAILABLE.to_owned()
            }
            other => other.to_string(),
        }
    }

    /// As a JSON-RPC error (resource reads, task failures): -32603 for a
    /// backend failure, else -32602.
    pub fn into_protocol(self) -> mcp_core::Error {
        let message = self.client_message();
        match self {
            Self::Backend(_) => mcp_core::Error::internal(message),
            _ => mcp_core::Error::invalid_params(message),
        }
    }
}

/// What a client learns of a backend failure.
const UNAVAILABLE: &str = "the agent bridge could not reach DynamoDB or Step Functions; try again";

impl From<BridgeError> for ToolError {
    fn from(e: BridgeError) -> Self {
        Self::new(e.code(), e.client_message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_details_stay_in_the_log() {
        let e = BridgeError::Backend("reading the table: ValidationException, request id 123".to_owned());
        let tool = ToolError::from(e.clone());
        assert_eq!((tool.code.as_str(), tool.message.as_str()), ("unavailable", UNAVAILABLE));
        assert!(e.into_protocol().to_string().ends_with(UNAVAILABLE));
        let refused = ToolError::from(BridgeError::Forbidden("No permission to monitor this execution".to_owned()));
        assert_eq!(
            (refused.code.as_str(), refused.message.as_str()),
            ("forbidden", "No permission to monitor this execution")
        );
    }
}
