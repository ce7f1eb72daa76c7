//! [`Rejection`]: why a request was refused, and its JSON-RPC error.

use std::fmt;
use std::time::Duration;

use mcp_core::jsonrpc::{ErrorCode, ErrorObject, RequestId, Response};
use mcp_core::server::signal::RateLimited;
use serde_json::json;

use super::quota::Quota;

/// A request refused by the rate limiter.
///
/// On the wire it is a JSON-RPC error with code
/// [`ErrorCode::RATE_LIMITED`] (-31029, implementation-defined, outside the
/// ranges JSON-RPC and MCP reserve) and `data`:
///
/// | member | meaning |
/// |---|---|
/// | `retryAfterMs` | milliseconds until a retry would be admitted (rounded up) |
/// | `limit` | requests allowed per `windowMs` by the quota that refused |
/// | `remaining` | requests left now: always 0 |
/// | `windowMs` | the quota's period, in milliseconds |
/// | `tool` | the tool whose own quota refused the call, if that was it |
///
/// The Streamable HTTP transport adds `Retry-After` (seconds, rounded up)
/// and `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
/// headers, with status 429 on stateless requests and 200 in legacy
/// sessions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct Rejection {
    pub(crate) retry_after: Duration,
    pub(crate) quota: Quota,
    pub(crate) tool: Option<String>,
}

impl Rejection {
    /// How long until a retry would be admitted.
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// [`retry_after`](Self::retry_after) in whole milliseconds, rounded up.
    pub fn retry_after_ms(&self) -> u64 {
        u64::try_from(self.retry_after.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
    }

    /// The quota that refused the request.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// The tool whose own quota refused the call, if that was it.
    pub fn tool(&self) -> Option<&str> {
        self.tool.as_deref()
    }

    /// The response sent for this rejection: the JSON-RPC error, and the
    /// [`RateLimited`] signal the HTTP edge renders as `Retry-After` and
    /// `RateLimit-*` headers.
    pub fn to_response(&self, id: Option<RequestId>) -> Response {
        let mut response = Response::error(id, self.to_error_object());
        let signal = RateLimited::new(self.retry_after).with_quota(u64::from(self.quota.limit()), 0);
        response.extensions.insert(signal);
        response
    }

    /// The JSON-RPC error object sent for this rejection.
    pub fn to_error_object(&self) -> ErrorObject {
        let window_ms = u64::try_from(self.quota.period().as_millis()).unwrap_or(u64::MAX);
        let mut data = json!({
            "retryAfterMs": self.retry_after_ms(),
            "limit": self.quota.limit(),
            "remaining": 0,
            "windowMs": window_ms,
        });
        if let Some(tool) = &self.tool {
            data["tool"] = json!(tool);
        }
        ErrorObject::new(ErrorCode::RATE_LIMITED, self.to_string()).with_data(data)
    }
}

impl Rejection {
    fn describe(&self) -> String {
        let (limit, period, ms) = (self.quota.limit(), Period(self.quota.period()), self.retry_after_ms());
        match &self.tool {
            Some(tool) => format!("rate limited: tool `{tool}` allows {limit} calls per {period}; retry in {ms} ms"),
            None => format!("rate limited: {limit} requests per {period} allowed; retry in {ms} ms"),
        }
    }
}

/// A period for people: `60 s`, `1500 ms`.
struct Period(Duration);

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.subsec_nanos() == 0 {
            write!(f, "{} s", self.0.as_secs())
        } else {
            write!(f, "{} ms", self.0.as_millis())
        }
    }
}
