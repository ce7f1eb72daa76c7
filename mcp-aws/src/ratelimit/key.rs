//! [`Key`]: who a request counts against.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use http::HeaderName;
use mcp_core::server::{Principal, ServerRequest};
use mcp_core::transport::http::PeerAddr;

type KeyFn = dyn Fn(&ServerRequest) -> Option<String> + Send + Sync;

/// Who a request counts against: the authenticated principal, an API key
/// header, the client's IP, or everyone together.
///
/// A key that cannot be read from a request (no principal, no header) falls
/// through to the next one given with [`or`](Self::or); when none applies the
/// request counts against one shared `anonymous` key, so that callers
/// cannot escape the limit by leaving a header out.
///
/// Keys are kept in memory only, prefixed by their kind (`principal:`,
/// `header:`, `ip:`) so that different kinds never collide. They are never
/// logged nor sent to clients.
///
/// ```
/// use mcp_aws::ratelimit::Key;
///
/// // The JWT subject or API key id set by the auth layer, else the
/// // client's address (the socket's, or the Lambda request context's).
/// let key = Key::principal().or(Key::client_ip());
/// # let _ = key;
/// ```
#[derive(Clone)]
pub struct Key {
    kinds: Arc<Vec<Kind>>,
}

enum Kind {
    Principal,
    Header(HeaderName),
    ClientIp,
    ForwardedFor(usize),
    Global,
    Custom(Box<KeyFn>),
    Nested(Key),
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for kind in self.kinds.iter() {
            match kind {
                Kind::Principal => list.entry(&"principal"),
                Kind::Header(h) => list.entry(&format_args!("header {h}")),
                Kind::ClientIp => list.entry(&"client_ip"),
                Kind::ForwardedFor(n) => list.entry(&format_args!("x-forwarded-for ({n} trusted proxies)")),
                Kind::Global => list.entry(&"global"),
                Kind::Custom(_) => list.entry(&"custom"),
                Kind::Nested(k) => list.entry(k),
            };
        }
        list.finish()
    }
}

impl Key {
    fn one(kind: Kind) -> Self {
        Self { kinds: Arc::new(vec![kind]) }
    }

    /// The authenticated [`Principal`]'s subject (a JWT `sub`, an API key
    /// id), as an auth layer placed in the request's extensions.
    pub fn principal() -> Self {
        Self::one(Kind::Principal)
    }

    /// The value of a request header, such as `x-api-key`. Only HTTP (and
    /// Lambda) requests have headers.
    ///
    /// An invalid header name matches no request.
    pub fn header(name: &str) -> Self {
        match HeaderName::try_from(name) {
            Ok(h) => Self::one(Kind::Header(h)),
            Err(_) => Self::one(Kind::Custom(Box::new(|_| None))),
        }
    }

    /// The client's IP address: the socket's on HTTP
    /// ([`PeerAddr`], which `serve` inserts), the request context's source
    /// IP on Lambda. Never the port, so one client is one key.
    pub fn client_ip() -> Self {
        Self::one(Kind::ClientIp)
    }

    /// The client IP that the `trusted_proxies` proxies in front of the
    /// server (load balancers you run) recorded in `X-Forwarded-For`: the
    /// `trusted_proxies`-th address from the right. Addresses further left
    /// were written by the client and are not trusted. A header with fewer
    /// addresses, or an address that does not parse, gives no key.
    pub fn forwarded_for(trusted_proxies: usize) -> Self {
        Self::one(Kind::ForwardedFor(trusted_proxies.max(1)))
    }

    /// One key for every request: a server-wide limit.
    pub fn global() -> Self {
        Self::one(Kind::Global)
    }

    /// A key computed by `f`; `None` falls through.
    pub fn from_fn(f: impl Fn(&ServerRequest) -> Option<String> + Send + Sync + 'static) -> Self {
        Self::one(Kind::Custom(Box::new(f)))
    }

    /// This key, or `next` when this one cannot be read from a request.
    #[must_use]
    pub fn or(self, next: Self) -> Self {
        let kinds: Vec<Kind> = match (Arc::try_unwrap(self.kinds), Arc::try_unwrap(next.kinds)) {
            (Ok(mut a), Ok(b)) => {
                a.extend(b);
                a
            }
            // Shared keys (clones) cannot give up their parts: nest them.
            (a, b) => {
                let a = Self { kinds: a.map_or_else(|shared| shared, Arc::new) };
                let b = Self { kinds: b.map_or_else(|shared| shared, Arc::new) };
                vec![Kind::Nested(a), Kind::Nested(b)]
            }
        };
        Self { kinds: Arc::new(kinds) }
    }

    /// The key of `request`, or `None` when no kind applies.
    pub fn extract(&self, request: &ServerRequest) -> Option<String> {
        self.kinds.iter().find_map(|kind| kind.extract(request))
    }
}

impl Kind {
    fn extract(&self, req: &ServerRequest) -> Option<String> {
        match self {
            Self::Principal => req.extensions.get::<Principal>().map(|p| format!("principal:{}", p.subject)),
            Self::Header(name) => {
                let value = req.extensions.get::<http::HeaderMap>()?.get(name)?;
                let value = std::str::from_utf8(value.as_bytes()).ok()?.trim();
                (!value.is_empty()).then(|| format!("header:{name}:{value}"))
            }
            Self::ClientIp => req.extensions.get::<PeerAddr>().map(|p| format!("ip:{}", canonical(p.0.ip()))),
            Self::ForwardedFor(trusted) => {
                let headers = req.extensions.get::<http::HeaderMap>()?;
                forwarded_client(headers, *trusted).map(|ip| format!("ip:{ip}"))
            }
            Self::Global => Some("global".to_owned()),
            Self::Custom(f) => f(req).map(|k| format!("custom:{k}")),
            Self::Nested(key) => key.extract(req),
        }
    }
}

/// An IPv4-mapped IPv6 address is the IPv4 client it maps.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The `trusted`-th address from the right of every `X-Forwarded-For`
/// header, in order.
fn forwarded_client(headers: &http::HeaderMap, trusted: usize) -> Option<IpAddr> {
    let mut hops: Vec<&str> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let value = std::str::from_utf8(value.as_bytes()).ok()?;
        hops.extend(value.split(',').map(str::trim).filter(|s| !s.is_empty()));
    }
    let hop = hops.len().checked_sub(trusted).and_then(|i| hops.get(i))?;
    hop.parse::<IpAddr>().ok().map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_core::jsonrpc::{Message, Notification};
    use mcp_core::server::Sink;

    fn request() -> ServerRequest {
        ServerRequest::new(Message::Notification(Notification { method: "x".into(), params: None }), None, Sink::none())
    }

    fn with_xff(values: &[&str]) -> ServerRequest {
        let mut req = request();
        let mut headers = http::HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", http::HeaderValue::from_str(v).expect("valid"));
        }
        req.extensions.insert(headers);
        req
    }

    #[test]
    fn forwarded_for_trusts_only_the_configured_proxies() {
        let req = with_xff(&["6.6.6.6, 1.2.3.4", "10.0.0.1"]);
        assert_eq!(Key::forwarded_for(1).extract(&req).as_deref(), Some("ip:10.0.0.1"));
        assert_eq!(Key::forwarded_for(2).extract(&req).as_deref(), Some("ip:1.2.3.4"));
        assert_eq!(Key::forwarded_for(4).extract(&req), None);
        assert_eq!(Key::forwarded_for(1).extract(&with_xff(&["not-an-ip"])), None);
    }

    #[test]
    fn fallbacks_and_kinds_do_not_collide() {
        let mut req = request();
        let key = Key::principal().or(Key::client_ip()).or(Key::global());
        assert_eq!(key.extract(&req).as_deref(), Some("global"));
        req.extensions.insert(PeerAddr("[::ffff:192.0.2.7]:4000".parse().expect("addr")));
        assert_eq!(key.extract(&req).as_deref(), Some("ip:192.0.2.7"));
        req.extensions.insert(Principal::new("alice"));
        assert_eq!(key.extract(&req).as_deref(), Some("principal:alice"));
        let shared = Key::header("x-api-key");
        let chained = shared.clone().or(Key::from_fn(|_| Some("z".into())));
        assert_eq!(chained.extract(&req).as_deref(), Some("custom:z"));
        let mut headers = http::HeaderMap::new();
        headers.insert("x-api-key", http::HeaderValue::from_static("k1"));
        req.extensions.insert(headers);
        assert_eq!(chained.extract(&req).as_deref(), Some("header:x-api-key:k1"));
    }
}
