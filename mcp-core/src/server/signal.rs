//! Typed signals a layer or the dispatcher attaches to a [`Response`]'s
//! [`extensions`](crate::jsonrpc::Response::extensions) for the transport
//! to render (as HTTP headers and status), so that no transport reads JSON
//! back or compares method names.
//!
//! [`Response`]: crate::jsonrpc::Response

use std::time::Duration;

/// A rate limiter refused the request. HTTP renders it as `Retry-After` and
/// `RateLimit-Reset` (whole seconds, rounded up, at least 1), and
/// `RateLimit-Limit`/`RateLimit-Remaining` when known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimited {
    /// How long until a retry would be admitted.
    pub retry_after: Duration,
    /// The quota's size, when the limiter has one.
    pub limit: Option<u64>,
    /// Requests left in the current window, when known.
    pub remaining: Option<u64>,
}

impl RateLimited {
    /// A refusal to be retried after `retry_after`.
    pub fn new(retry_after: Duration) -> Self {
        Self { retry_after, limit: None, remaining: None }
    }

    /// With the quota's size and what is left of it.
    #[must_use]
    pub fn with_quota(mut self, limit: u64, remaining: u64) -> Self {
        self.limit = Some(limit);
        self.remaining = Some(remaining);
        self
    }

    /// [`retry_after`](Self::retry_after) in whole seconds, rounded up and
    /// at least 1: the value of `Retry-After`.
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_millis().div_ceil(1000).max(1).try_into().unwrap_or(u64::MAX)
    }
}

/// An auth layer refused the request. HTTP renders it as its status (401
/// or 403, in both eras: a legacy client's OAuth flow starts from a real
/// 401) and a `WWW-Authenticate` header (RFC 6750, RFC 9728).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthChallenge {
    /// 401 (no or bad credentials) or 403 (insufficient scope).
    pub status: http::StatusCode,
    /// The `WWW-Authenticate` header's value, e.g.
    /// `Bearer resource_metadata="https://example.com/.well-known/oauth-protected-resource"`.
    pub www_authenticate: String,
}

impl AuthChallenge {
    /// A 401 with this `WWW-Authenticate` value.
    pub fn unauthorized(www_authenticate: impl Into<String>) -> Self {
        Self { status: http::StatusCode::UNAUTHORIZED, www_authenticate: www_authenticate.into() }
    }

    /// A 403 with this `WWW-Authenticate` value.
    pub fn forbidden(www_authenticate: impl Into<String>) -> Self {
        Self { status: http::StatusCode::FORBIDDEN, www_authenticate: www_authenticate.into() }
    }
}
