//! JSON-RPC error codes (the ones MCP and this SDK use) and error objects.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A JSON-RPC error code.
///
/// The named constants are the codes the MCP specification uses; any other
/// integer is implementation-defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ErrorCode(pub i32);

impl ErrorCode {
    /// Invalid JSON was received (-32700).
    pub const PARSE_ERROR: Self = Self(-32700);
    /// The JSON sent is not a valid request object (-32600).
    pub const INVALID_REQUEST: Self = Self(-32600);
    /// The method does not exist or is not available (-32601).
    pub const METHOD_NOT_FOUND: Self = Self(-32601);
    /// Invalid method parameters (-32602).
    pub const INVALID_PARAMS: Self = Self(-32602);
    /// Internal JSON-RPC error (-32603).
    pub const INTERNAL_ERROR: Self = Self(-32603);
    /// Resource not found, protocol versions before 2026-07-28 (-32002).
    pub const RESOURCE_NOT_FOUND: Self = Self(-32002);
    /// URL-mode elicitation required, 2025-11-25 (-32042).
    pub const URL_ELICITATION_REQUIRED: Self = Self(-32042);
    /// An HTTP header does not match the body, 2026-07-28 (-32020).
    pub const HEADER_MISMATCH: Self = Self(-32020);
    /// The request needs a client capability the client did not declare,
    /// 2026-07-28 (-32021).
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: Self = Self(-32021);
    /// The request's protocol version is not supported, 2026-07-28 (-32022).
    pub const UNSUPPORTED_PROTOCOL_VERSION: Self = Self(-32022);
    /// The request was rejected by a rate limiter (implementation-defined,
    /// outside the ranges the JSON-RPC and MCP specifications reserve).
    pub const RATE_LIMITED: Self = Self(-31029);
    /// The request timed out (implementation-defined).
    pub const REQUEST_TIMEOUT: Self = Self(-31001);
    /// The server shed the request under load (implementation-defined;
    /// HTTP 503).
    pub const SERVER_OVERLOADED: Self = Self(-31003);
    /// The request was cancelled (implementation-defined; normally no
    /// response is sent for a cancelled request at all).
    pub const REQUEST_CANCELLED: Self = Self(-31002);
    /// The request carried no usable credentials, or invalid ones
    /// (implementation-defined, HTTP 401 with `WWW-Authenticate`).
    pub const UNAUTHORIZED: Self = Self(-31401);
    /// The caller is authenticated but lacks a scope or permission the
    /// request needs (implementation-defined, HTTP 403 with
    /// `WWW-Authenticate: Bearer error="insufficient_scope"`).
    pub const FORBIDDEN: Self = Self(-31403);
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A JSON-RPC error object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The error code.
    pub code: ErrorCode,
    /// A short description of the error.
    pub message: Cow<'static, str>,
    /// Additional information about the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

impl ErrorObject {
    /// An error object with no `data`.
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self { code, message: message.into(), data: None }
    }

    /// Sets `data`.
    #[must_use]
    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }
}

impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}
