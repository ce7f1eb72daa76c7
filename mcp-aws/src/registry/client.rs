//! A small HTTP(S) client on hyper (rustls, the system's roots), shared by
//! the registration client, the health checker and the custom resource's
//! response.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::RegistryError;

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
    pub(crate) fn new() -> Result<Self, RegistryError> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| RegistryError::Config { variable: "tls roots", reason: e.to_string() })?
            .https_or_http()
            .enable_http1()
            .build();
        let inner = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector);
        Ok(Self { inner })
    }

    /// Sends one request and reads the answer, all within `timeout`.
    /// Transport failures and timeouts are [`RegistryError::Unavailable`].
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&'static str, &str)],
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Answer, RegistryError> {
        let mut req = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            let value = HeaderValue::from_str(value).map_err(|_| RegistryError::Config {
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
            .map_err(|e| RegistryError::Config { variable: "url", reason: format!("{url}: {e}") })?;
        let exchange = async {
            let resp = self.inner.request(req).await.map_err(|e| RegistryError::Unavailable(format!("{url}: {e}")))?;
            let status = resp.status();
            let body = Limited::new(resp.into_body(), MAX_RESPONSE)
                .collect()
                .await
                .map_err(|e| RegistryError::Unavailable(format!("{url}: reading the response: {e}")))?
                .to_bytes();
            Ok(Answer { status, body })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(answer) => answer,
            Err(_) => Err(RegistryError::Unavailable(format!("{url}: no answer within {} ms", timeout.as_millis()))),
        }
    }
}
