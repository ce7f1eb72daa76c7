//! RFC 9728 protected-resource metadata: the document at
//! `/.well-known/oauth-protected-resource` (and its path-suffixed form,
//! `/.well-known/oauth-protected-resource/mcp`) telling an MCP client which
//! authorization server issues tokens for this server. Served without auth,
//! by [`WithMetadata`] in front of any other HTTP service (the health
//! endpoint, for [`serve_listener_with`]).
//!
//! [`serve_listener_with`]: mcp_core::transport::http::serve_listener_with

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use http::{HeaderValue, Method, StatusCode, header};
use mcp_core::server::BoxFuture;
use mcp_core::transport::http::HttpBody;
use serde::Serialize;
use tower_service::Service;

/// The well-known path prefix (RFC 9728 §3).
pub const WELL_KNOWN_PATH: &str = "/.well-known/oauth-protected-resource";

/// The metadata document (RFC 9728 §2).
///
/// ```
/// use mcp_aws::auth::ProtectedResourceMetadata;
///
/// let meta = ProtectedResourceMetadata::new("https://mcp.example.com/mcp", ["https://auth.example.com"]);
/// assert_eq!(meta.url(), "https://mcp.example.com/.well-known/oauth-protected-resource/mcp");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProtectedResourceMetadata {
    /// The server's resource identifier: its MCP endpoint URL, which
    /// tokens name as their audience (RFC 8707).
    pub resource: String,
    /// Issuers of tokens this server accepts.
    pub authorization_servers: Vec<String>,
    /// Scopes clients may ask for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// How tokens are sent: `["header"]`.
    pub bearer_methods_supported: Vec<String>,
}

impl ProtectedResourceMetadata {
    /// Metadata for `resource`, with tokens from `authorization_servers`.
    pub fn new<I: IntoIterator<Item = T>, T: Into<String>>(
        resource: impl Into<String>,
        authorization_servers: I,
    ) -> Self {
        Self {
            resource: resource.into(),
            authorization_servers: authorization_servers.into_iter().map(Into::into).collect(),
            scopes_supported: Vec::new(),
            bearer_methods_supported: vec!["header".to_owned()],
        }
    }

    /// With the scopes clients may ask for.
    #[must_use]
    pub fn with_scopes<I: IntoIterator<Item = T>, T: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The document's URL, the `resource_metadata` of challenges: the
    /// well-known path inserted between the resource's origin and its path
    /// (RFC 9728 §3.1).
    pub fn url(&self) -> String {
        let (origin, path) = split_origin(&self.resource);
        let path = path.trim_end_matches('/');
        format!("{origin}{WELL_KNOWN_PATH}{path}")
    }

    /// Whether `path` is one the document is served at: the well-known
    /// path, alone or with a suffix, also under a stage prefix.
    pub fn matches(path: &str) -> bool {
        path.find(WELL_KNOWN_PATH).is_some_and(|at| {
            let rest = &path[at + WELL_KNOWN_PATH.len()..];
            rest.is_empty() || rest.starts_with('/')
        })
    }

    /// The HTTP answer to `method` on the metadata path: the document for
    /// GET (and HEAD), 405 otherwise.
    pub fn respond(&self, method: &Method) -> http::Response<HttpBody> {
        let (status, body) = if *method == Method::GET || *method == Method::HEAD {
            (StatusCode::OK, serde_json::to_vec(self).unwrap_or_default())
        } else {
            (StatusCode::METHOD_NOT_ALLOWED, br#"{"error":"the metadata document answers GET"}"#.to_vec())
        };
        let mut resp = http::Response::new(HttpBody::full(body));
        *resp.status_mut() = status;
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
        resp
    }
}

/// `https://host:port` and `/path` of a URL (no path: empty).
fn split_origin(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => url.split_at(after_scheme + i),
        None => (url, ""),
    }
}

/// Serves the metadata document at its paths and passes every other
/// request to `other` (for example [`Health`](crate::health::Health)).
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct WithMetadata<O> {
    metadata: Arc<ProtectedResourceMetadata>,
    other: O,
}

impl<O> WithMetadata<O> {
    /// The document in front of `other`.
    pub fn new(metadata: ProtectedResourceMetadata, other: O) -> Self {
        Self { metadata: Arc::new(metadata), other }
    }
}

impl<O, B> Service<http::Request<B>> for WithMetadata<O>
where
    O: Service<http::Request<B>, Response = http::Response<HttpBody>, Error = Infallible>,
    O::Future: Send + 'static,
{
    type Response = http::Response<HttpBody>;
    type Error = Infallible;
    type Future = BoxFuture<Result<http::Response<HttpBody>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        self.other.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if ProtectedResourceMetadata::matches(req.uri().path()) {
            let resp = self.metadata.respond(req.method());
            return Box::pin(std::future::ready(Ok(resp)));
        }
        Box::pin(self.other.call(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_insert_the_well_known_path() {
        let at = |r: &str| ProtectedResourceMetadata::new(r, ["https://a"]).url();
        assert_eq!(at("https://h.example"), "https://h.example/.well-known/oauth-protected-resource");
        assert_eq!(at("https://h.example/"), "https://h.example/.well-known/oauth-protected-resource");
        assert_eq!(
            at("http://127.0.0.1:80/prod/mcp"),
            "http://127.0.0.1:80/.well-known/oauth-protected-resource/prod/mcp"
        );
    }

    #[test]
    fn paths_match_with_suffix_and_stage() {
        assert!(ProtectedResourceMetadata::matches("/.well-known/oauth-protected-resource"));
        assert!(ProtectedResourceMetadata::matches("/.well-known/oauth-protected-resource/mcp"));
        assert!(ProtectedResourceMetadata::matches("/prod/.well-known/oauth-protected-resource"));
        assert!(!ProtectedResourceMetadata::matches("/.well-known/oauth-protected-resourcex"));
        assert!(!ProtectedResourceMetadata::matches("/mcp"));
    }
}
