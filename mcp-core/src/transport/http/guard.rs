//! Request checks that come before any MCP processing: DNS-rebinding
//! protection (`Host` and `Origin` allow-lists) and content negotiation.

use http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HOST, ORIGIN};
use http::{HeaderMap, HeaderValue};

use crate::server::headers::typed;

/// The request headers the transport reads, found in one pass over the
/// map: a request carries a handful of headers, and a lookup hashes its
/// name (byte by byte for the `Mcp-*` ones), so seven lookups cost about
/// twice the one walk. Each field is the first value of its header.
#[derive(Debug, Default)]
pub(super) struct Seen<'a> {
    pub(super) host: Option<&'a HeaderValue>,
    pub(super) origin: Option<&'a HeaderValue>,
    pub(super) content_type: Option<&'a HeaderValue>,
    pub(super) content_length: Option<&'a HeaderValue>,
    /// The first `Accept`, and whether there are more.
    pub(super) accept: Option<&'a HeaderValue>,
    pub(super) more_accepts: bool,
    pub(super) protocol_version: Option<&'a HeaderValue>,
    pub(super) session_id: Option<&'a HeaderValue>,
}

impl<'a> Seen<'a> {
    pub(super) fn scan(headers: &'a HeaderMap) -> Self {
        fn first<'a>(slot: &mut Option<&'a HeaderValue>, value: &'a HeaderValue) {
            slot.get_or_insert(value);
        }
        let mut seen = Self::default();
        for (name, value) in headers {
            if name == HOST {
                first(&mut seen.host, value);
            } else if name == CONTENT_TYPE {
                first(&mut seen.content_type, value);
            } else if name == ACCEPT {
                seen.more_accepts |= seen.accept.is_some();
                first(&mut seen.accept, value);
            } else if name == CONTENT_LENGTH {
                first(&mut seen.content_length, value);
            } else if name == ORIGIN {
                first(&mut seen.origin, value);
            } else if name == typed::PROTOCOL_VERSION {
                first(&mut seen.protocol_version, value);
            } else if name == typed::SESSION_ID {
                first(&mut seen.session_id, value);
            }
        }
        seen
    }

    /// What the `Accept` headers admit (see [`Accepts::from_headers`]).
    pub(super) fn accepts(&self, headers: &HeaderMap) -> Accepts {
        match (self.accept, self.more_accepts) {
            (Some(only), false) if only.as_bytes() == Accepts::USUAL => Accepts { json: true, sse: true },
            (None, _) => Accepts { json: true, sse: false },
            _ => Accepts::from_headers(headers),
        }
    }
}

/// Which hosts and origins may reach the server.
///
/// The default admits only loopback names (`localhost`, `127.0.0.1`,
/// `[::1]`, any port), which is right for a server bound to 127.0.0.1: a web
/// page elsewhere cannot use the user's browser to reach it (DNS
/// rebinding). A server on a public interface names its own hosts with
/// [`allow_host`](Self::allow_host) or turns the host check off with
/// [`any_host`](Self::any_host) when a proxy in front of it checks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPolicy {
    hosts: Option<Vec<String>>,
    origins: Vec<String>,
    any_origin: bool,
}

const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

impl Default for HostPolicy {
    fn default() -> Self {
        Self { hosts: Some(LOOPBACK.iter().map(|h| (*h).to_owned()).collect()), origins: Vec::new(), any_origin: false }
    }
}

impl HostPolicy {
    /// Also admits requests whose `Host` (without its port) is `host`, and
    /// browser origins on that host.
    #[must_use]
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        let host = host.into().to_ascii_lowercase();
        if let Some(hosts) = &mut self.hosts {
            hosts.push(host);
        }
        self
    }

    /// Admits any `Host` header (a reverse proxy or API gateway in front of
    /// the server checks it). `Origin` is still checked.
    #[must_use]
    pub fn any_host(mut self) -> Self {
        self.hosts = None;
        self
    }

    /// Also admits browser requests from `origin` (for example
    /// `https://app.example.com`), compared exactly, case-insensitively.
    #[must_use]
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        self.origins.push(origin.into().trim_end_matches('/').to_ascii_lowercase());
        self
    }

    /// Admits browser requests from any `Origin`: for a public endpoint
    /// whose callers authenticate with a header (an API key, a bearer
    /// token), behind CORS that allows every origin. Never for a server on
    /// the user's machine: that is what DNS rebinding attacks.
    #[must_use]
    pub fn any_origin(mut self) -> Self {
        self.any_origin = true;
        self
    }

    fn host_allowed(&self, host: &str) -> bool {
        match &self.hosts {
            None => true,
            Some(hosts) => hosts.iter().any(|h| h.eq_ignore_ascii_case(host)),
        }
    }

    /// `Err(reason)` when the request must be refused with 403.
    /// The host is the `Host` header or, in HTTP/2, the URI's authority.
    #[cfg(test)]
    fn check(&self, headers: &HeaderMap, uri: &http::Uri) -> Result<(), String> {
        self.check_seen(&Seen::scan(headers), uri)
    }

    /// `Err(reason)` when the request must be refused with 403, from the
    /// `Host` and `Origin` headers already found (`Seen`). The host is
    /// the `Host` header or, in HTTP/2, the URI's authority.
    pub(super) fn check_seen(&self, seen: &Seen<'_>, uri: &http::Uri) -> Result<(), String> {
        if self.hosts.is_some() {
            let host = seen.host.and_then(|h| h.to_str().ok()).or_else(|| uri.authority().map(|a| a.as_str()));
            let Some(host) = host else {
                return Err("missing or unreadable Host header".into());
            };
            if !self.host_allowed(strip_port(host)) {
                return Err(format!("Host {host:?} is not allowed (allow it with HostPolicy::allow_host)"));
            }
        }
        if self.any_origin {
            return Ok(());
        }
        let Some(origin) = seen.origin else { return Ok(()) };
        let origin = origin.to_str().unwrap_or("").trim_ascii().to_ascii_lowercase();
        if self.origins.contains(&origin) {
            return Ok(());
        }
        let host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
        let host = strip_port(host);
        let loopback = LOOPBACK.contains(&host);
        let own = self.hosts.as_ref().is_some_and(|hosts| hosts.iter().any(|h| h == host));
        if !host.is_empty() && (loopback || own) {
            return Ok(());
        }
        Err(format!("Origin {origin:?} is not allowed (allow it with HostPolicy::allow_origin)"))
    }
}

/// `host[:port]` → `host`, keeping IPv6 brackets.
fn strip_port(host: &str) -> &str {
    let host = host.trim_ascii();
    if host.starts_with('[') {
        return host.find(']').map_or(host, |i| &host[..=i]);
    }
    host.rsplit_once(':').map_or(host, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { host })
}

/// What the client's `Accept` header admits. A POST's reply is a stream
/// only when `sse` is named; a GET's stream is admitted by `*/*` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Accepts {
    pub(super) json: bool,
    pub(super) sse: bool,
}

impl Accepts {
    /// What the official SDKs send on every POST: no parse needed.
    const USUAL: &[u8] = b"application/json, text/event-stream";

    /// Whether a GET may open an SSE stream: `text/event-stream` named, or
    /// anything admitted.
    pub(super) fn stream(headers: &HeaderMap) -> bool {
        let a = Self::from_headers(headers);
        a.sse || a.json && headers.get_all(ACCEPT).iter().all(|v| v.to_str().is_ok_and(|v| v.contains("*/*")))
    }

    pub(super) fn from_headers(headers: &HeaderMap) -> Self {
        let mut values = headers.get_all(ACCEPT).iter();
        if let (Some(only), None) = (values.next(), values.next())
            && only.as_bytes() == Self::USUAL
        {
            return Self { json: true, sse: true };
        }
        let mut out = Self { json: false, sse: false };
        let mut any = false;
        for value in headers.get_all(ACCEPT) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                any = true;
                let media = item.split(';').next().unwrap_or("").trim();
                let is = |m: &str| media.eq_ignore_ascii_case(m);
                // `*/*` (curl's default) and no `Accept` at all ask for
                // nothing in particular: plain JSON, never a stream the
                // caller did not name.
                if is("*/*") || is("application/json") || is("application/*") {
                    out.json = true;
                } else if is("text/event-stream") || is("text/*") {
                    out.sse = true;
                }
            }
        }
        if any { out } else { Self { json: true, sse: false } }
    }
}

/// Whether the body is declared as JSON (or not declared at all).
#[cfg(any(test, feature = "rest"))]
pub(super) fn content_type_is_json(headers: &HeaderMap) -> bool {
    json_content_type(headers.get(CONTENT_TYPE))
}

/// Whether a `Content-Type` value (or none) declares JSON.
pub(super) fn json_content_type(value: Option<&HeaderValue>) -> bool {
    match value.and_then(|v| v.to_str().ok()) {
        None | Some("application/json") => true,
        Some(ct) => {
            let media = ct.split(';').next().unwrap_or("").trim();
            media.eq_ignore_ascii_case("application/json")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl HostPolicy {
        fn check_h(&self, h: &HeaderMap) -> Result<(), String> {
            self.check(h, &http::Uri::from_static("/mcp"))
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, http::HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn loopback_hosts_and_origins_pass_by_default() {
        let p = HostPolicy::default();
        assert!(p.check_h(&headers(&[("host", "localhost:3000")])).is_ok());
        assert!(p.check_h(&headers(&[("host", "127.0.0.1")])).is_ok());
        assert!(p.check_h(&headers(&[("host", "[::1]:8080")])).is_ok());
        assert!(p.check_h(&headers(&[("host", "127.0.0.1:1"), ("origin", "http://localhost:5173")])).is_ok());
    }

    #[test]
    fn foreign_hosts_and_origins_are_refused() {
        let p = HostPolicy::default();
        assert!(p.check_h(&headers(&[("host", "evil.example.com")])).is_err());
        assert!(p.check_h(&headers(&[("host", "localhost"), ("origin", "https://evil.example.com")])).is_err());
        assert!(p.check_h(&headers(&[("host", "localhost"), ("origin", "null")])).is_err());
        assert!(p.check_h(&headers(&[])).is_err(), "no Host at all");
    }

    #[test]
    fn configured_hosts_and_origins_pass() {
        let p = HostPolicy::default().allow_host("mcp.example.com").allow_origin("https://app.example.com/");
        assert!(p.check_h(&headers(&[("host", "MCP.example.com:443")])).is_ok());
        assert!(p.check_h(&headers(&[("host", "mcp.example.com"), ("origin", "https://app.example.com")])).is_ok());
        let any = HostPolicy::default().any_host();
        assert!(any.check_h(&headers(&[("host", "anything")])).is_ok());
        assert!(any.check_h(&headers(&[("host", "anything"), ("origin", "https://evil.example.com")])).is_err());
    }

    #[test]
    fn accept_is_parsed_per_media_type() {
        let a = Accepts::from_headers(&headers(&[("accept", "application/json, text/event-stream")]));
        assert_eq!(a, Accepts { json: true, sse: true });
        let a = Accepts::from_headers(&headers(&[("accept", "application/json;q=0.9")]));
        assert_eq!(a, Accepts { json: true, sse: false });
        let a = Accepts::from_headers(&headers(&[("accept", "text/html")]));
        assert_eq!(a, Accepts { json: false, sse: false });
        assert_eq!(Accepts::from_headers(&headers(&[])), Accepts { json: true, sse: false });
        assert_eq!(Accepts::from_headers(&headers(&[("accept", "*/*")])), Accepts { json: true, sse: false });
        assert!(Accepts::stream(&headers(&[("accept", "*/*")])));
        assert!(Accepts::stream(&headers(&[])));
        assert!(!Accepts::stream(&headers(&[("accept", "application/json")])));
    }

    #[test]
    fn one_pass_reads_what_lookups_read() {
        let cases: &[&[(&'static str, &'static str)]] = &[
            &[],
            &[("accept", "application/json, text/event-stream"), ("content-type", "application/json")],
            &[("accept", "text/event-stream"), ("accept", "application/json")],
            &[("accept", "application/json, text/event-stream"), ("accept", "text/html")],
            &[("accept", "text/html")],
            &[("content-type", "application/json; charset=utf-8"), ("content-length", "12")],
            &[("content-type", "text/plain"), ("content-type", "application/json")],
            &[("mcp-protocol-version", "2025-06-18"), ("mcp-protocol-version", "x"), ("mcp-session-id", "s1")],
            &[("host", "a"), ("host", "b"), ("origin", "http://c"), ("origin", "http://d")],
        ];
        for pairs in cases {
            let h = headers(pairs);
            let seen = Seen::scan(&h);
            assert_eq!(seen.host, h.get(HOST), "{pairs:?}");
            assert_eq!(seen.origin, h.get(ORIGIN), "{pairs:?}");
            assert_eq!(seen.content_type, h.get(CONTENT_TYPE), "{pairs:?}");
            assert_eq!(seen.content_length, h.get(CONTENT_LENGTH), "{pairs:?}");
            assert_eq!(seen.protocol_version, h.get(typed::PROTOCOL_VERSION), "{pairs:?}");
            assert_eq!(seen.session_id, h.get(typed::SESSION_ID), "{pairs:?}");
            assert_eq!(seen.accepts(&h), Accepts::from_headers(&h), "{pairs:?}");
            assert_eq!(json_content_type(seen.content_type), content_type_is_json(&h), "{pairs:?}");
        }
    }
}
