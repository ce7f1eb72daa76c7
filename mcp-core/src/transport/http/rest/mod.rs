//! A REST façade over the same layered service as `tools/call`, for clients
//! that speak neither MCP era: shell scripts, API Gateway test consoles,
//! services generated from an OpenAPI document.
//!
//! Turned on with [`HttpOptions::rest`](super::HttpOptions::rest), it
//! answers beside the MCP path, on every deployment of
//! [`StreamableHttp`](super::StreamableHttp) (a socket, Lambda, AgentCore):
//!
//! | request | answer |
//! |---|---|
//! | `GET {base}tools` | `{"tools": [...]}`, as `tools/list` gives them (every page) |
//! | `POST {base}tools/{name}` with the arguments object as the body | the tool's result |
//! | `POST {base}` with `{"tool": "...", "params": {...}}` (the Step Functions server guide's form) | the tool's result |
//! | `GET {base}openapi.json` | an OpenAPI 3.1 document, generated from the tools registered now |
//!
//! Every call is dispatched as a `tools/call` through the server's layers,
//! so authentication, rate limits, telemetry, timeouts and caching apply
//! unchanged. Answers are plain JSON: the structured result when the tool
//! gives one, else its text (a JSON string), else its content array. Errors
//! are `{"error": {"code", "message", "details"}}`:
//!
//! | status | code | when |
//! |---|---|---|
//! | 400 | `invalid_request`, `invalid_arguments` | a body that is not a JSON object, a missing `tool`, arguments that do not fit (the message names the field) |
//! | 401, 403 | `unauthorized`, `forbidden` | an authentication layer refused the caller |
//! | 404 | `unknown_tool`, `not_found` | no such tool or route |
//! | 405, 413, 415 | `method_not_allowed`, `payload_too_large`, `unsupported_media_type` | |
//! | 422 | the tool's own code (`tool_error` by default) | the tool ran and reported a failure (`isError`) |
//! | 429 | `rate_limited` | a rate limiter refused the call (`Retry-After` and `RateLimit-*` headers) |
//! | 500 | `internal_error` | the tool or the server failed; no details |
//! | 503 | `overloaded` | load shedding |
//! | 504 | `timeout` | the tool overran its deadline |
//!
//! Calls are served as sessionless legacy requests in protocol version
//! 2025-06-18 (structured results, argument errors as errors), so a tool
//! that needs a session (`ctx.elicit`) fails with 422 saying so.

mod facade;
mod openapi;

use crate::server::percent_decode;

pub use openapi::document as openapi_document;

/// Settings of the REST façade.
///
/// ```
/// use mcp_core::transport::http::HttpOptions;
/// use mcp_core::transport::http::rest::{RestOptions, SecurityScheme};
///
/// let mut options = HttpOptions::default();
/// options.rest = Some(RestOptions::at("/api").security(SecurityScheme::api_key("x-api-key")));
/// assert_eq!(options.rest.as_ref().map(|r| r.base()), Some("/api"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestOptions {
    base: String,
    /// The security schemes the OpenAPI document declares (what the
    /// server's authentication layers accept); none by default.
    pub security: Vec<SecurityScheme>,
}

impl Default for RestOptions {
    /// The façade at the server's root (`/tools`, `/openapi.json`, and the
    /// guide's `POST /`).
    fn default() -> Self {
        Self::at("/")
    }
}

impl RestOptions {
    /// The façade under `base` (`/` for the root; a trailing `/` is
    /// ignored, a missing leading one added).
    pub fn at(base: &str) -> Self {
        let trimmed = base.trim().trim_end_matches('/');
        let base = if trimmed.starts_with('/') { trimmed.to_owned() } else { format!("/{trimmed}") };
        Self { base: if base.is_empty() { "/".to_owned() } else { base }, security: Vec::new() }
    }

    /// Declares a security scheme in the OpenAPI document.
    #[must_use]
    pub fn security(mut self, scheme: SecurityScheme) -> Self {
        self.security.push(scheme);
        self
    }

    /// The base path (`/` or `/something`, no trailing `/`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `base` joined with `rest` (`rest` starts with `/`; `/` alone is the
    /// base itself).
    pub(crate) fn path(&self, rest: &str) -> String {
        match (self.base.as_str(), rest) {
            ("/", _) => rest.to_owned(),
            (base, "/") => base.to_owned(),
            (base, _) => format!("{base}{rest}"),
        }
    }

    /// The façade route `path` names, if any (the method is checked by the
    /// handler, which answers 405 for the wrong one). The path may carry a
    /// stage or base-path prefix in front of the base, as API Gateway
    /// stages do, except for the guide's `POST {base}`, which must be
    /// exact.
    pub(crate) fn route(&self, path: &str) -> Option<Route> {
        let prefix = if self.base == "/" { "" } else { self.base.as_str() };
        let at = |suffix: &str| -> Option<usize> {
            let full = format!("{prefix}{suffix}");
            let start = path.len().checked_sub(full.len())?;
            (path.ends_with(&full) && (start == 0 || path[..start].starts_with('/'))).then_some(start)
        };
        if at("/tools").is_some() || at("/tools/").is_some() {
            return Some(Route::List);
        }
        if at("/openapi.json").is_some() {
            return Some(Route::OpenApi);
        }
        if let Some(i) = path.rfind("/tools/") {
            let (head, name) = (&path[..i], &path[i + "/tools/".len()..]);
            let head_ok = head.ends_with(prefix) && {
                let start = head.len() - prefix.len();
                start == 0 || head[..start].starts_with('/')
            };
            if head_ok && !name.is_empty() && !name.contains('/') {
                return Some(Route::Call(percent_decode(name)));
            }
        }
        let exact = path.trim_end_matches('/');
        (exact == prefix).then_some(Route::Guide)
    }
}

/// A security scheme the OpenAPI document declares.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecurityScheme {
    /// An API key in a request header (`x-api-key` in the guides).
    ApiKey {
        /// The header's name.
        header: String,
    },
    /// `Authorization: Bearer <token>` (an OAuth 2.1 access token, a JWT).
    Bearer,
}

impl SecurityScheme {
    /// An API key in the header `header`.
    pub fn api_key(header: impl Into<String>) -> Self {
        Self::ApiKey { header: header.into() }
    }
}

/// What a façade path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `GET {base}tools`.
    List,
    /// `POST {base}tools/{name}`.
    Call(String),
    /// `POST {base}` with `{"tool", "params"}`.
    Guide,
    /// `GET {base}openapi.json`.
    OpenApi,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_at_the_root_and_under_a_base_with_stage_prefixes() {
        let root = RestOptions::default();
        assert_eq!(root.route("/tools"), Some(Route::List));
        assert_eq!(root.route("/prod/tools"), Some(Route::List));
        assert_eq!(root.route("/tools/add"), Some(Route::Call("add".into())));
        assert_eq!(root.route("/prod/tools/get%20time"), Some(Route::Call("get time".into())));
        assert_eq!(root.route("/openapi.json"), Some(Route::OpenApi));
        assert_eq!(root.route("/"), Some(Route::Guide));
        assert_eq!(root.route(""), Some(Route::Guide));
        assert_eq!(root.route("/mcp"), None);
        assert_eq!(root.route("/tools/a/b"), None);
        assert_eq!(root.route("/mytools"), None);

        let api = RestOptions::at("api/");
        assert_eq!(api.base(), "/api");
        assert_eq!(api.route("/api/tools"), Some(Route::List));
        assert_eq!(api.route("/stage/api/tools/add"), Some(Route::Call("add".into())));
        assert_eq!(api.route("/api"), Some(Route::Guide));
        assert_eq!(api.route("/api/"), Some(Route::Guide));
        assert_eq!(api.route("/tools"), None);
        assert_eq!(api.route("/xapi/tools"), None);
        assert_eq!(api.route("/"), None);
        assert_eq!(api.path("/tools"), "/api/tools");
        assert_eq!(api.path("/"), "/api");
        assert_eq!(root.path("/tools"), "/tools");
    }

    #[test]
    fn percent_decoding_keeps_invalid_sequences() {
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
