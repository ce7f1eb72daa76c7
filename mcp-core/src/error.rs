//! The SDK's error type and its one mapping onto JSON-RPC error codes.
//!
//! Every variant's documentation names the code it becomes. The code can
//! depend on the protocol version (a missing resource is -32002 before
//! 2026-07-28 and -32602 after), so the mapping takes one:
//! [`Error::code_for`] and [`Error::to_error_object`].

use std::borrow::Cow;

use serde_json::{Value, json};

use crate::jsonrpc::{ErrorCode, ErrorObject};
use crate::protocol::ProtocolVersion;

/// A convenient alias for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while serving a request.
///
/// Tool failures are not errors of this kind: a tool's `Err` becomes a
/// `CallToolResult` with `isError: true`. These are protocol errors, sent as
/// JSON-RPC error responses.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not JSON (-32700).
    #[error("parse error: {0}")]
    Parse(String),
    /// The JSON is not a valid request (-32600).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A legacy-era request arrived before `initialize` (-32600).
    #[error("invalid request: session not initialized; send `initialize` first")]
    NotInitialized,
    /// No such method, or not in this protocol version (-32601).
    #[error("method not found: `{method}`{}", .reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    MethodNotFound {
        /// The method name.
        method: String,
        /// Why, when the method exists in other versions.
        reason: Option<&'static str>,
    },
    /// The params are wrongly shaped (-32602). The message names the field.
    #[error("invalid params: {message}")]
    InvalidParams {
        /// What is wrong, naming the field.
        message: String,
        /// Extra data for the client.
        data: Option<Value>,
    },
    /// `tools/call` named a tool that does not exist (-32602).
    #[error("unknown tool: `{0}`")]
    UnknownTool(String),
    /// `prompts/get` named a prompt that does not exist (-32602).
    #[error("unknown prompt: `{0}`")]
    UnknownPrompt(String),
    /// `resources/read` named a URI nothing serves (-32002 before
    /// 2026-07-28, -32602 after), with `data.uri`.
    #[error("resource not found: `{uri}`")]
    ResourceNotFound {
        /// The URI asked for.
        uri: String,
    },
    /// A URL-mode elicitation must complete first (-32042, 2025-11-25).
    #[error("URL elicitation required")]
    UrlElicitationRequired {
        /// The `data` member: `{ "elicitations": [...] }`.
        data: Value,
    },
    /// An HTTP header disagrees with the body (-32020).
    #[error("header mismatch: {0}")]
    HeaderMismatch(String),
    /// The request needs a client capability the client did not declare
    /// (-32021), with `data.requiredCapabilities`.
    #[error("missing required client capability: {}", .required)]
    MissingClientCapability {
        /// The capabilities needed, as a `ClientCapabilities`-shaped object.
        required: Value,
    },
    /// The protocol version is not supported (-32022), with
    /// `data.supported` and `data.requested`.
    #[error("unsupported protocol version {requested:?}; supported: {}", .supported.join(", "))]
    UnsupportedProtocolVersion {
        /// The version the client asked for.
        requested: String,
        /// The versions this server supports for the request's era.
        supported: Vec<&'static str>,
    },
    /// The server failed (-32603). As a JSON-RPC error the message is sent
    /// as is, so keep it safe to show to clients. Returned by a tool, it is an
    /// unexpected failure: the client sees only that the tool failed, unless
    /// the server exposes internal errors.
    #[error("internal error: {0}")]
    Internal(Cow<'static, str>),
    /// The request was cancelled (by the client, or by the transport closing).
    #[error("request cancelled")]
    Cancelled,
    /// A rate limiter rejected the request ([`ErrorCode::RATE_LIMITED`]), with
    /// `data.retryAfterMs`.
    #[error("rate limit exceeded; retry after {retry_after_ms} ms")]
    RateLimited {
        /// How long until a request would be admitted.
        retry_after_ms: u64,
    },
    /// Any other code, for layers and handlers that need one.
    #[error("{message}")]
    Other {
        /// The code.
        code: ErrorCode,
        /// The message.
        message: String,
        /// The data.
        data: Option<Value>,
    },
}

impl Error {
    /// -32602 with a message that names the problem.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::InvalidParams { message: message.into(), data: None }
    }

    /// -32603 with a message safe to show to clients.
    pub fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        Self::Internal(message.into())
    }

    /// The error itself when `e` is an [`Error`]; otherwise an internal
    /// error carrying `e`'s message.
    pub(crate) fn from_display<E: std::fmt::Display + 'static>(e: E) -> Self {
        match (&e as &dyn std::any::Any).downcast_ref::<Self>() {
            Some(err) => err.clone(),
            None => Self::Internal(Cow::Owned(e.to_string())),
        }
    }

    /// -32601 for `method`.
    pub fn method_not_found(method: impl Into<String>) -> Self {
        Self::MethodNotFound { method: method.into(), reason: None }
    }

    /// The JSON-RPC code for this error under `version` (`None` when no
    /// version is known yet, e.g. a parse error before anything was read).
    pub fn code_for(&self, version: Option<ProtocolVersion>) -> ErrorCode {
        match self {
            Self::Parse(_) => ErrorCode::PARSE_ERROR,
            Self::InvalidRequest(_) | Self::NotInitialized => ErrorCode::INVALID_REQUEST,
            Self::MethodNotFound { .. } => ErrorCode::METHOD_NOT_FOUND,
            Self::InvalidParams { .. } | Self::UnknownTool(_) | Self::UnknownPrompt(_) => ErrorCode::INVALID_PARAMS,
            Self::ResourceNotFound { .. } => {
                version.unwrap_or(ProtocolVersion::LATEST_LEGACY).resource_not_found_code()
            }
            Self::UrlElicitationRequired { .. } => ErrorCode::URL_ELICITATION_REQUIRED,
            Self::HeaderMismatch(_) => ErrorCode::HEADER_MISMATCH,
            Self::MissingClientCapability { .. } => ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
            Self::UnsupportedProtocolVersion { .. } => ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
            Self::Internal(_) => ErrorCode::INTERNAL_ERROR,
            Self::Cancelled => ErrorCode::REQUEST_CANCELLED,
            Self::RateLimited { .. } => ErrorCode::RATE_LIMITED,
            Self::Other { code, .. } => *code,
        }
    }

    /// The `data` member of the error object, if any.
    pub fn data(&self) -> Option<Value> {
        match self {
            Self::InvalidParams { data, .. } | Self::Other { data, .. } => data.clone(),
            Self::ResourceNotFound { uri } => Some(json!({ "uri": uri })),
            Self::UrlElicitationRequired { data } => Some(data.clone()),
            Self::MissingClientCapability { required } => Some(json!({ "requiredCapabilities": required })),
            Self::UnsupportedProtocolVersion { requested, supported } => {
                Some(json!({ "supported": supported, "requested": requested }))
            }
            Self::RateLimited { retry_after_ms } => Some(json!({ "retryAfterMs": retry_after_ms })),
            _ => None,
        }
    }

    /// The JSON-RPC error object for this error under `version`.
    pub fn to_error_object(&self, version: Option<ProtocolVersion>) -> ErrorObject {
        ErrorObject { code: self.code_for(version), message: Cow::Owned(self.to_string()), data: self.data() }
    }

    /// The HTTP status a stateless (2026-07-28) response carrying this error
    /// gets: 400 for malformed requests, 404 for unknown methods, 429 when
    /// rate limited, 500 for internal errors, otherwise 200.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Parse(_)
            | Self::InvalidRequest(_)
            | Self::NotInitialized
            | Self::InvalidParams { .. }
            | Self::HeaderMismatch(_)
            | Self::MissingClientCapability { .. }
            | Self::UnsupportedProtocolVersion { .. } => 400,
            Self::MethodNotFound { .. } => 404,
            Self::RateLimited { .. } => 429,
            Self::Internal(_) => 500,
            _ => 200,
        }
    }

    /// Whether this is an error the specification sends as a JSON-RPC error
    /// even from inside a tool (capability and elicitation errors), rather
    /// than as an `isError` tool result.
    pub fn is_protocol_error(&self) -> bool {
        matches!(
            self,
            Self::MissingClientCapability { .. }
                | Self::UrlElicitationRequired { .. }
                | Self::UnsupportedProtocolVersion { .. }
                | Self::Cancelled
                | Self::RateLimited { .. }
        )
    }
}

/// `T`'s name without module paths (`Option<String>`, not
/// `core::option::Option<alloc::string::String>`), for messages.
pub(crate) fn short_type_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut segment_start = 0;
    for (i, c) in full.char_indices() {
        if !(c.is_alphanumeric() || c == '_' || c == ':') {
            out.push_str(last_segment(&full[segment_start..i]));
            out.push(c);
            segment_start = i + c.len_utf8();
        }
    }
    out.push_str(last_segment(&full[segment_start..]));
    out
}

fn last_segment(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

impl From<crate::jsonrpc::DecodeError> for Error {
    fn from(e: crate::jsonrpc::DecodeError) -> Self {
        Self::Other { code: e.error.code, message: e.error.message.into_owned(), data: e.error.data }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_not_found_depends_on_version() {
        let e = Error::ResourceNotFound { uri: "x://y".into() };
        assert_eq!(e.code_for(Some(ProtocolVersion::V2025_06_18)), ErrorCode::RESOURCE_NOT_FOUND);
        assert_eq!(e.code_for(Some(ProtocolVersion::V2026_07_28)), ErrorCode::INVALID_PARAMS);
        assert_eq!(e.to_error_object(None).data, Some(json!({"uri": "x://y"})));
    }

    #[test]
    fn short_type_names() {
        assert_eq!(short_type_name::<Option<String>>(), "Option<String>");
        assert_eq!(short_type_name::<std::sync::Arc<[u8]>>(), "Arc<[u8]>");
        assert_eq!(short_type_name::<(i64, std::collections::HashMap<String, f64>)>(), "(i64, HashMap<String, f64>)");
    }

    #[test]
    fn unsupported_version_data() {
        let e = Error::UnsupportedProtocolVersion { requested: "v9".into(), supported: vec!["2026-07-28"] };
        let o = e.to_error_object(None);
        assert_eq!(o.code.0, -32022);
        assert_eq!(o.data, Some(json!({"supported": ["2026-07-28"], "requested": "v9"})));
    }
}
