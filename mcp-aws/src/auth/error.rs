//! [`AuthError`]: why a request was refused, and how that goes on the wire.

use http::StatusCode;
use mcp_core::jsonrpc::{ErrorCode, ErrorObject, RequestId, Response};
use mcp_core::server::signal::AuthChallenge;
use serde_json::json;

/// Why an API key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyRefusal {
    /// No key with this hash is stored.
    Unknown,
    /// The key is stored with `enabled = false`.
    Disabled,
    /// The key's `expires_at` has passed.
    Expired,
}

impl KeyRefusal {
    /// The word used in messages: `unknown`, `disabled`, `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Disabled => "disabled",
            Self::Expired => "expired",
        }
    }
}

/// A request refused by the [auth layer](super::AuthLayer), or a failure
/// to decide.
///
/// Messages never hold a credential: an API key is named by the first 8
/// hex digits of its SHA-256 hash, a token not at all.
///
/// | variant | JSON-RPC code | HTTP | `WWW-Authenticate` `error` |
/// |---|---|---|---|
/// | [`MissingCredentials`](Self::MissingCredentials) | -31401 | 401 | (none) |
/// | [`InvalidToken`](Self::InvalidToken) | -31401 | 401 | `invalid_token` |
/// | [`InvalidApiKey`](Self::InvalidApiKey) | -31401 | 401 | `invalid_token` |
/// | [`InsufficientScope`](Self::InsufficientScope) | -31403 | 403 | `insufficient_scope` |
/// | [`Unavailable`](Self::Unavailable) | -32603 | 500 (200 in legacy sessions) | (none) |
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The request carried no credentials the layer accepts.
    #[error("unauthorized: no credentials; send `Authorization: Bearer <token>` or an API key")]
    MissingCredentials,
    /// A bearer token was given but is not valid: malformed, badly signed,
    /// expired, for another audience...
    #[error("unauthorized: invalid token: {0}")]
    InvalidToken(String),
    /// An API key was given but is not valid.
    #[error("unauthorized: {} API key ({hash_prefix}...)", reason.as_str())]
    InvalidApiKey {
        /// The first 8 hex digits of the key's SHA-256 hash.
        hash_prefix: String,
        /// Why it was refused.
        reason: KeyRefusal,
    },
    /// The caller is authenticated but lacks what the request needs: these
    /// scopes or permissions (space-separated).
    #[error("forbidden: insufficient scope: requires `{0}`")]
    InsufficientScope(String),
    /// The key store or the issuer could not be asked; the request is
    /// refused (fail closed).
    #[error("auth unavailable: {0}")]
    Unavailable(String),
}

impl AuthError {
    /// The JSON-RPC error code: [`ErrorCode::UNAUTHORIZED`] (-31401),
    /// [`ErrorCode::FORBIDDEN`] (-31403), or -32603 when the layer could not
    /// decide.
    pub fn jsonrpc_code(&self) -> ErrorCode {
        match self {
            Self::MissingCredentials | Self::InvalidToken(_) | Self::InvalidApiKey { .. } => ErrorCode::UNAUTHORIZED,
            Self::InsufficientScope(_) => ErrorCode::FORBIDDEN,
            Self::Unavailable(_) => ErrorCode::INTERNAL_ERROR,
        }
    }

    /// The HTTP status: 401, 403, or 500 when the layer could not decide.
    pub fn http_status(&self) -> StatusCode {
        match self {
            Self::MissingCredentials | Self::InvalidToken(_) | Self::InvalidApiKey { .. } => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Self::Unavailable(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The RFC 6750 `error` attribute of the challenge, if any.
    pub fn oauth_error(&self) -> Option<&'static str> {
        match self {
            Self::InvalidToken(_) | Self::InvalidApiKey { .. } => Some("invalid_token"),
            Self::InsufficientScope(_) => Some("insufficient_scope"),
            Self::MissingCredentials | Self::Unavailable(_) => None,
        }
    }

    /// The `WWW-Authenticate` value for this refusal (RFC 6750 §3, with
    /// RFC 9728's `resource_metadata` when the URL is known), or `None`
    /// when it is not an auth refusal ([`Unavailable`](Self::Unavailable)).
    pub fn www_authenticate(&self, resource_metadata: Option<&str>) -> Option<String> {
        if matches!(self, Self::Unavailable(_)) {
            return None;
        }
        let mut params = Vec::new();
        if let Some(error) = self.oauth_error() {
            params.push(format!("error=\"{error}\""));
            params.push(format!("error_description=\"{}\"", quoted(&self.to_string())));
        }
        if let Self::InsufficientScope(scope) = self {
            params.push(format!("scope=\"{}\"", quoted(scope)));
        }
        if let Some(url) = resource_metadata {
            params.push(format!("resource_metadata=\"{}\"", quoted(url)));
        }
        Some(if params.is_empty() { "Bearer".to_owned() } else { format!("Bearer {}", params.join(", ")) })
    }

    /// The response sent for this refusal: the JSON-RPC error (its `data`
    /// names the OAuth error and, for a missing scope, the scope), and the
    /// [`AuthChallenge`] signal the HTTP edge renders as status and
    /// `WWW-Authenticate`.
    pub fn to_response(&self, id: Option<RequestId>, resource_metadata: Option<&str>) -> Response {
        let mut data = json!({});
        if let Some(error) = self.oauth_error() {
            data["error"] = json!(error);
        }
        if let Self::InsufficientScope(scope) = self {
            data["scope"] = json!(scope);
        }
        let object = ErrorObject::new(self.jsonrpc_code(), self.to_string()).with_data(data);
        let mut response = Response::error(id, object);
        if let Some(www) = self.www_authenticate(resource_metadata) {
            let challenge = match self.http_status() {
                StatusCode::FORBIDDEN => AuthChallenge::forbidden(www),
                _ => AuthChallenge::unauthorized(www),
            };
            response.extensions.insert(challenge);
        }
        response
    }
}

/// `s` made safe inside an RFC 7230 quoted string: quotes, backslashes
/// and control characters become `'` or a space.
fn quoted(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if c.is_control() => ' ',
            c if !c.is_ascii() => '?',
            c => c,
        })
        .collect()
}

/// A key store failed: the store's own message (never a key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("api key store: {0}")]
pub struct StoreError(pub String);

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        Self::Unavailable(e.to_string())
    }
}
