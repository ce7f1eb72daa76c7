//! CORS for MCP endpoints that browsers call (web-based agents, the MCP
//! Inspector): answers preflight `OPTIONS` requests and marks responses.
//!
//! The allowed request headers are the ones MCP clients send:
//! `Content-Type`, `Accept`, `X-Api-Key`, `Authorization`, `Mcp-Session-Id`,
//! `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, `Last-Event-ID`, and any
//! `Mcp-Param-*` header the preflight asks for; `Mcp-Session-Id` is exposed
//! so that browser clients can read it.
//!
//! By default ([`Cors::AnyOrigin`]) every origin gets
//! `Access-Control-Allow-Origin: *` and never
//! `Access-Control-Allow-Credentials`: browsers then send no cookies or
//! HTTP authentication cross-origin, and no `Origin` is reflected. Only an
//! explicit allow-list echoes a matching origin, and only an allow-list
//! [`with_credentials`](Cors::with_credentials) (`CORS_ALLOW_CREDENTIALS=true`
//! beside `CORS_ALLOW_ORIGINS`) lets those origins make credentialed calls.

use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use mcp_core::transport::http::{HostPolicy, HttpBody};

const ALLOW_HEADERS: &str = "Content-Type, Accept, X-Api-Key, Authorization, Mcp-Session-Id, MCP-Protocol-Version, \
                             Mcp-Method, Mcp-Name, Last-Event-ID";
const ALLOW_METHODS: &str = "POST, GET, DELETE, OPTIONS";
const EXPOSE_HEADERS: &str = "Mcp-Session-Id, MCP-Protocol-Version, Retry-After, WWW-Authenticate";

/// Which browser origins may call the endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Cors {
    /// Any origin (`Access-Control-Allow-Origin: *`, no credentials): right
    /// for a public API whose callers authenticate with a header.
    #[default]
    AnyOrigin,
    /// These origins only (`https://app.example.com`), echoed back, without
    /// credentials.
    Origins(Vec<String>),
    /// These origins only, echoed back with
    /// `Access-Control-Allow-Credentials: true`: their pages may call with
    /// the browser's cookies and HTTP authentication. List only origins you
    /// trust with the caller's credentials.
    CredentialedOrigins(Vec<String>),
    /// No CORS headers; browsers cannot call the endpoint cross-origin.
    Disabled,
}

impl Cors {
    /// From a comma-separated list such as `CORS_ALLOW_ORIGINS`: `*` is
    /// any origin, an empty list disables CORS.
    pub fn from_list(list: &str) -> Self {
        let origins: Vec<String> =
            list.split(',').map(|o| o.trim().trim_end_matches('/').to_owned()).filter(|o| !o.is_empty()).collect();
        if origins.iter().any(|o| o == "*") {
            Self::AnyOrigin
        } else if origins.is_empty() {
            Self::Disabled
        } else {
            Self::Origins(origins)
        }
    }

    /// This allow-list, letting its origins send credentials
    /// ([`Cors::CredentialedOrigins`]). Any origin and disabled CORS stay as
    /// they are: credentials are never allowed for every origin.
    pub fn with_credentials(self) -> Self {
        match self {
            Self::Origins(list) => Self::CredentialedOrigins(list),
            other => other,
        }
    }

    /// Whether responses carry `Access-Control-Allow-Credentials: true`.
    pub fn allows_credentials(&self) -> bool {
        matches!(self, Self::CredentialedOrigins(_))
    }

    /// `policy` admitting the origins CORS admits (the transport refuses
    /// other `Origin`s with 403).
    pub fn host_policy(&self, policy: HostPolicy) -> HostPolicy {
        match self {
            Self::AnyOrigin => policy.any_origin(),
            Self::Origins(list) | Self::CredentialedOrigins(list) => {
                list.iter().fold(policy, |p, o| p.allow_origin(o.clone()))
            }
            Self::Disabled => policy,
        }
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`.
    fn allow_origin(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        match self {
            Self::AnyOrigin => Some(HeaderValue::from_static("*")),
            Self::Origins(list) | Self::CredentialedOrigins(list) => {
                let origin = origin?;
                let text = origin.to_str().ok()?.trim_end_matches('/');
                list.iter().any(|o| o.eq_ignore_ascii_case(text)).then(|| origin.clone())
            }
            Self::Disabled => None,
        }
    }

    /// Whether a request with `method` is a preflight this policy answers
    /// (any `OPTIONS`, unless CORS is disabled).
    pub fn answers_preflight(&self, method: &Method) -> bool {
        *method == Method::OPTIONS && !matches!(self, Self::Disabled)
    }

    /// The answer to a preflight: 204 with the allowed methods and headers
    /// (plus any `Mcp-Param-*` header asked for), or 403 for an origin not
    /// allowed.
    pub fn preflight(&self, headers: &HeaderMap) -> http::Response<HttpBody> {
        let mut resp = http::Response::new(HttpBody::empty());
        let Some(origin) = self.allow_origin(headers.get(header::ORIGIN)) else {
            *resp.status_mut() = StatusCode::FORBIDDEN;
            return resp;
        };
        *resp.status_mut() = StatusCode::NO_CONTENT;
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOW_METHODS));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers(headers));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
        self.mark_listed(h, HeaderMap::insert);
        resp
    }

    /// Adds `Access-Control-Allow-Origin` and `-Expose-Headers` to the
    /// response to a request from `origin` (its `Origin` header).
    pub fn decorate(&self, origin: Option<&HeaderValue>, response: &mut HeaderMap) {
        let Some(origin) = self.allow_origin(origin) else { return };
        response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        response.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE_HEADERS));
        self.mark_listed(response, |h, k, v| h.append(k, v));
    }

    /// `Vary: Origin` for an echoed origin, and the credentials header
    /// when the allow-list has them.
    fn mark_listed<R>(&self, h: &mut HeaderMap, add: impl Fn(&mut HeaderMap, header::HeaderName, HeaderValue) -> R) {
        if matches!(self, Self::Origins(_) | Self::CredentialedOrigins(_)) {
            add(h, header::VARY, HeaderValue::from_static("Origin"));
        }
        if self.allows_credentials() {
            h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        }
    }
}

/// The fixed list plus the `Mcp-Param-*` headers the preflight asks for
/// (their names depend on the tool, so no fixed list can hold them).
fn allow_headers(headers: &HeaderMap) -> HeaderValue {
    let asked = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS).and_then(|v| v.to_str().ok()).unwrap_or("");
    let params: Vec<&str> = asked
        .split(',')
        .map(str::trim)
        .filter(|h| h.len() > 10 && h[..10].eq_ignore_ascii_case("mcp-param-"))
        .filter(|h| h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .collect();
    if params.is_empty() {
        return HeaderValue::from_static(ALLOW_HEADERS);
    }
    let value = format!("{ALLOW_HEADERS}, {}", params.join(", "));
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static(ALLOW_HEADERS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn preflight_lists_mcp_headers_and_asked_param_headers() {
        let req = headers(&[
            ("origin", "https://app.example.com"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type, mcp-param-region, x-evil header"),
        ]);
        let resp = Cors::AnyOrigin.preflight(&req);
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        let allow = resp.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS].to_str().unwrap_or_default();
        for h in ["X-Api-Key", "Authorization", "Mcp-Session-Id", "MCP-Protocol-Version", "mcp-param-region"] {
            assert!(allow.contains(h), "{allow} lacks {h}");
        }
        assert!(!allow.contains("evil"));
        assert_eq!(resp.headers()[header::ACCESS_CONTROL_ALLOW_METHODS], ALLOW_METHODS);
        assert_eq!(resp.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    }

    #[test]
    fn listed_origins_are_echoed_and_others_refused() {
        let cors = Cors::from_list("https://a.example, https://b.example/");
        let ok = cors.preflight(&headers(&[("origin", "https://b.example")]));
        assert_eq!(ok.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://b.example");
        let no = cors.preflight(&headers(&[("origin", "https://evil.example")]));
        assert_eq!(no.status(), StatusCode::FORBIDDEN);
        assert_eq!(Cors::from_list(" * "), Cors::AnyOrigin);
        assert_eq!(Cors::from_list(""), Cors::Disabled);
        assert!(ok.headers().get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
    }

    #[test]
    fn credentials_only_for_an_allow_list_that_asks_for_them() {
        let asked = headers(&[("origin", "https://a.example")]);
        assert_eq!(Cors::AnyOrigin.with_credentials(), Cors::AnyOrigin);
        assert_eq!(Cors::Disabled.with_credentials(), Cors::Disabled);
        let any = Cors::AnyOrigin.preflight(&asked);
        assert!(any.headers().get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
        let cors = Cors::from_list("https://a.example").with_credentials();
        let ok = cors.preflight(&asked);
        assert_eq!(ok.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://a.example");
        assert_eq!(ok.headers()[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        let mut marked = HeaderMap::new();
        cors.decorate(asked.get(header::ORIGIN), &mut marked);
        assert_eq!(
            (marked[header::ACCESS_CONTROL_ALLOW_CREDENTIALS].to_str().ok(), marked[header::VARY].to_str().ok()),
            (Some("true"), Some("Origin"))
        );
        let mut other = HeaderMap::new();
        cors.decorate(Some(&HeaderValue::from_static("https://evil.example")), &mut other);
        assert!(other.is_empty(), "{other:?}");
    }
}
