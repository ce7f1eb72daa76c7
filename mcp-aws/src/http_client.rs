//! A small HTTP(S) client on hyper (rustls, the system's roots), shared by
//! the registry (registration client, health checker, custom resource's
//! response) and auth (OIDC discovery and JWKS).

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Why a request could not be sent or answered.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientError {
    /// The request could not be built (a bad URL or header value).
    #[error("invalid {variable}: {reason}")]
    Config { variable: &'static str, reason: String },
    /// A transport failure or a timeout.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// The largest response body read.
const MAX_RESPONSE: usize = 1 << 20;

/// HTTP/1.1 over plain TCP or TLS. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct HttpClient {
    inner: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// A response: status and body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
}

impl HttpClient {
    /// A client trusting the system's root certificates.
    pub(crate) fn new() -> Result<Self, ClientError> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| ClientError::Config { variable: "tls roots", reason: e.to_string() })?
            .https_or_http()
            .enable_http1()
            .build();
        let inner = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector);
        Ok(Self { inner })
    }

    /// Sends one request and reads the answer, all within `timeout`.
    /// Transport failures and timeouts are `ClientError::Unavailable`.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&'static str, &str)],
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Answer, ClientError> {
        let mut req = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            let value = HeaderValue::from_str(value).map_err(|_| ClientError::Config {
                variable: "header",
                reason: format!("{name} is not a valid header value"),
            })?;
            req = req.header(*name, value);
        }
        let body = body.map(Bytes::from).unwrap_or_default();
        if !body.is_empty() && !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| ClientError::Config { variable: "url", reason: format!("{url}: {e}") })?;
        let exchange = async {
            let resp = self.inner.request(req).await.map_err(|e| ClientError::Unavailable(format!("{url}: {e}")))?;
            let status = resp.status();
            let body = Limited::new(resp.into_body(), MAX_RESPONSE)
                .collect()
                .await
                .map_err(|e| ClientError::Unavailable(format!("{url}: reading the response: {e}")))?
                .to_bytes();
            Ok(Answer { status, body })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(answer) => answer,
            Err(_) => Err(ClientError::Unavailable(format!("{url}: no answer within {} ms", timeout.as_millis()))),
        }
    }
}
