//! Streamable HTTP: one POST per message; JSON or SSE responses; the
//! legacy session header, the optional GET stream and `Last-Event-ID`
//! resumption; the stateless era's `Mcp-*` headers; an auth hook.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming as Body;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio_util::sync::CancellationToken;

use super::auth::{AuthHook, BearerToken};
use super::sse::Decoder;
use super::stateless_headers::{percent_encode, stateless_headers};
use super::{Inbound, Transport};
use crate::ProtocolVersion;
use crate::client::error::TransportError;
use crate::jsonrpc::{Incoming, Message, RequestId};
use crate::protocol::methods;
use crate::server::headers::names;

/// The largest JSON response body read (16 MiB).
const MAX_BODY: usize = 16 << 20;
/// How many times a broken legacy SSE stream is resumed with `Last-Event-ID`.
const RESUME_ATTEMPTS: u32 = 3;

#[derive(Clone, Debug)]
enum HttpClient {
    Plain(HyperClient<HttpConnector, Full<Bytes>>),
    #[cfg(feature = "client-tls")]
    Tls(HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>),
}

impl HttpClient {
    fn for_uri(uri: &Uri) -> Result<Self, TransportError> {
        match uri.scheme_str() {
            Some("http") => Ok(Self::Plain(HyperClient::builder(TokioExecutor::new()).build_http())),
            #[cfg(feature = "client-tls")]
            Some("https") => {
                let https = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_native_roots()
                    .map_err(|e| TransportError::Config(format!("no TLS root certificates: {e}")))?
                    .https_only()
                    .enable_http1()
                    .build();
                Ok(Self::Tls(HyperClient::builder(TokioExecutor::new()).build(https)))
            }
            #[cfg(not(feature = "client-tls"))]
            Some("https") => Err(TransportError::Config("https:// URLs need the `client-tls` feature".into())),
            _ => Err(TransportError::Config(format!("{uri} is not an http:// or https:// URL"))),
        }
    }

    async fn send(&self, req: http::Request<Full<Bytes>>) -> Result<http::Response<Body>, TransportError> {
        let res = match self {
            Self::Plain(c) => c.request(req).await,
            #[cfg(feature = "client-tls")]
            Self::Tls(c) => c.request(req).await,
        };
        res.map_err(|e| TransportError::Http(Box::new(e)))
    }
}

/// Builds an [`HttpTransport`].
#[must_use]
pub struct HttpTransportBuilder {
    url: String,
    headers: HeaderMap,
    auth: Option<Arc<dyn AuthHook>>,
    get_stream: bool,
}

impl fmt::Debug for HttpTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransportBuilder")
            .field("url", &self.url)
            .field("auth", &self.auth.is_some())
            .field("get_stream", &self.get_stream)
            .finish_non_exhaustive()
    }
}

impl HttpTransportBuilder {
    /// Adds credentials to every request.
    pub fn auth(mut self, hook: impl AuthHook) -> Self {
        self.auth = Some(Arc::new(hook));
        self
    }

    /// Adds a fixed header to every request.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// In a legacy session, also opens the standalone GET stream for
    /// notifications and requests outside any call (list changes, resource
    /// updates). Off by default.
    pub fn get_stream(mut self, open: bool) -> Self {
        self.get_stream = open;
        self
    }

    /// The transport.
    ///
    /// # Errors
    /// When the URL is not an `http://` or `https://` URL (`https://` needs
    /// the `client-tls` feature).
    pub fn build(self) -> Result<HttpTransport, TransportError> {
        let url: Uri = self.url.parse().map_err(|e| TransportError::Config(format!("bad URL {:?}: {e}", self.url)))?;
        let client = HttpClient::for_uri(&url)?;
        Ok(HttpTransport {
            shared: Arc::new(Shared {
                client,
                url,
                headers: self.headers,
                auth: self.auth,
                get_stream: self.get_stream,
                session: Mutex::new(None),
                version: Mutex::new(None),
                inbound: OnceLock::new(),
                streams: Mutex::new(HashMap::new()),
                closing: CancellationToken::new(),
            }),
        })
    }
}

/// The Streamable HTTP transport, for both protocol eras.
///
/// Each message is a POST to the endpoint. A request's response is JSON or
/// an SSE stream (its progress, logs and, in a legacy session, the server's
/// own requests, then the response). In the legacy era the `Mcp-Session-Id`
/// issued at `initialize` and the `MCP-Protocol-Version` header ride every
/// later request, and a dropped SSE stream is resumed with
/// `Last-Event-ID`. In the stateless era every request carries the
/// `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers, and
/// abandoning a request closes its stream, which cancels it.
#[derive(Debug)]
pub struct HttpTransport {
    shared: Arc<Shared>,
}

struct Shared {
    client: HttpClient,
    url: Uri,
    headers: HeaderMap,
    auth: Option<Arc<dyn AuthHook>>,
    get_stream: bool,
    session: Mutex<Option<HeaderValue>>,
    version: Mutex<Option<ProtocolVersion>>,
    inbound: OnceLock<Inbound>,
    streams: Mutex<HashMap<RequestId, CancellationToken>>,
    closing: CancellationToken,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransport").field("url", &self.url).finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// A transport to `url` (`http://...`, or `https://...` with the
    /// `client-tls` feature) with no credentials.
    ///
    /// # Errors
    /// As [`HttpTransportBuilder::build`].
    pub fn new(url: &str) -> Result<Self, TransportError> {
        Self::builder(url).build()
    }

    /// A builder for a transport to `url`.
    pub fn builder(url: &str) -> HttpTransportBuilder {
        HttpTransportBuilder { url: url.to_owned(), headers: HeaderMap::new(), auth: None, get_stream: false }
    }

    /// A builder for an MCP server hosted on Bedrock AgentCore Runtime: the
    /// runtime's invocation URL for `agent_arn` (URL-encoded, in the ARN's
    /// region, qualifier `DEFAULT`) with `Authorization: Bearer <token>`.
    ///
    /// # Errors
    /// When the ARN has no region or the token cannot be a header.
    pub fn agentcore(agent_arn: &str, bearer_token: &str) -> Result<HttpTransportBuilder, TransportError> {
        let region = agent_arn
            .split(':')
            .nth(3)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| TransportError::Config(format!("{agent_arn:?} is not an ARN with a region")))?;
        let url = format!(
            "https://bedrock-agentcore.{region}.amazonaws.com/runtimes/{}/invocations?qualifier=DEFAULT",
            percent_encode(agent_arn)
        );
        Ok(Self::builder(&url).auth(BearerToken::new(bearer_token)?))
    }

    /// The session id the server issued at `initialize`, if any.
    pub fn session_id(&self) -> Option<String> {
        self.shared.session.lock().ok()?.as_ref().and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
}

impl Drop for HttpTransport {
    fn drop(&mut self) {
        // Ends every stream reader, the standalone GET stream included.
        self.shared.closing.cancel();
    }
}

impl Shared {
    async fn headers(&self, stateless: bool) -> Result<HeaderMap, TransportError> {
        let mut h = self.headers.clone();
        if !stateless {
            if let Some(sid) = self.session.lock().ok().and_then(|s| s.clone()) {
                h.insert(HeaderName::from_static(names::SESSION_ID), sid);
            }
            if let Some(v) = self.version.lock().ok().and_then(|v| *v) {
                h.insert(HeaderName::from_static(names::PROTOCOL_VERSION), HeaderValue::from_static(v.as_str()));
            }
        }
        if let Some(auth) = &self.auth {
            auth.apply(&mut h).await?;
        }
        Ok(h)
    }

    fn request(
        &self,
        method: Method,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<http::Request<Full<Bytes>>, TransportError> {
        let mut req = http::Request::builder()
            .method(method)
            .uri(self.url.clone())
            .body(Full::new(body))
            .map_err(|e| TransportError::Config(e.to_string()))?;
        *req.headers_mut() = headers;
        Ok(req)
    }

    fn inbound(&self) -> Result<&Inbound, TransportError> {
        self.inbound.get().ok_or(TransportError::Config("the transport was not started".into()))
    }

    fn is_legacy_session(&self) -> bool {
        self.session.lock().map(|s| s.is_some()).unwrap_or(false)
    }

    /// Opens a GET stream (the standalone one, or a resumption).
    async fn get(&self, last_event_id: Option<&str>) -> Result<Option<http::Response<Body>>, TransportError> {
        let mut h = self.headers(false).await?;
        h.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        if let Some(id) = last_event_id.and_then(|id| HeaderValue::from_str(id).ok()) {
            h.insert(HeaderName::from_static(names::LAST_EVENT_ID), id);
        }
        let resp = self.client.send(self.request(Method::GET, h, Bytes::new())?).await?;
        if resp.status() == StatusCode::METHOD_NOT_ALLOWED {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(TransportError::Status { status: resp.status(), body: String::new() });
        }
        Ok(Some(resp))
    }
}

async fn read_limited(body: Body, limit: usize) -> Result<Vec<u8>, TransportError> {
    let mut body = body;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| TransportError::Http(Box::new(e)))?;
        if let Some(data) = frame.data_ref() {
            if out.len() + data.len() > limit {
                return Err(TransportError::Malformed(format!("a response body exceeds {limit} bytes")));
            }
            out.extend_from_slice(data);
        }
    }
    Ok(out)
}

fn is_sse(resp: &http::Response<Body>) -> bool {
    resp.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/event-stream"))
}

/// Reads one SSE stream, delivering its messages; resumes a legacy stream
/// that broke before the response to `id`.
async fn pump(shared: Arc<Shared>, mut body: Body, id: Option<RequestId>, cancel: CancellationToken) {
    let Ok(inbound) = shared.inbound().cloned() else { return };
    let mut decoder = Decoder::default();
    let mut answered = false;
    let mut resumes = 0;
    loop {
        let end = loop {
            let frame = tokio::select! {
                () = cancel.cancelled() => return,
                f = body.frame() => f,
            };
            let data = match frame {
                None => break TransportError::StreamEnded,
                Some(Err(e)) => break TransportError::Http(Box::new(e)),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => data,
                    Err(_) => continue,
                },
            };
            let events = match decoder.feed(&data) {
                Ok(events) => events,
                Err(e) => break TransportError::Malformed(e),
            };
            for ev in events {
                if ev.data.is_empty() || ev.event.as_deref().is_some_and(|e| e != "message") {
                    continue;
                }
                match Message::parse(ev.data.as_bytes()) {
                    Ok(message) => {
                        if let (Message::Response(r), Some(want)) = (&message, &id) {
                            answered |= r.id.as_ref() == Some(want);
                        }
                        let delivered = match &id {
                            Some(of) => inbound.message_on_stream(message, of.clone()).await,
                            None => inbound.message(message).await,
                        };
                        if !delivered {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "http client: skipping an SSE event that is not a JSON-RPC message")
                    }
                }
            }
            if answered {
                // The response is the last message of a request's stream.
                return;
            }
        };
        let Some(want) = &id else {
            tracing::debug!(error = %end, "http client: the standalone GET stream ended");
            return;
        };
        // Legacy sessions resume from the last event id the server gave.
        let resumable = shared.is_legacy_session() && decoder.last_event_id.is_some() && resumes < RESUME_ATTEMPTS;
        if !resumable {
            inbound.fail(want.clone(), end).await;
            return;
        }
        resumes += 1;
        tokio::time::sleep(decoder.retry.unwrap_or(Duration::from_millis(100)).min(Duration::from_secs(5))).await;
        match shared.get(decoder.last_event_id.as_deref()).await {
            Ok(Some(resp)) if is_sse(&resp) => body = resp.into_body(),
            Ok(_) => {
                inbound.fail(want.clone(), end).await;
                return;
            }
            Err(e) => {
                inbound.fail(want.clone(), e).await;
                return;
            }
        }
    }
}

impl HttpTransport {
    fn spawn_stream(&self, body: Body, id: Option<RequestId>) {
        let cancel = self.shared.closing.child_token();
        if let (Some(id), Ok(mut streams)) = (&id, self.shared.streams.lock()) {
            streams.insert(id.clone(), cancel.clone());
        }
        let shared = self.shared.clone();
        tokio::spawn(async move {
            pump(shared.clone(), body, id.clone(), cancel).await;
            if let (Some(id), Ok(mut streams)) = (id, shared.streams.lock()) {
                streams.remove(&id);
            }
        });
    }

    async fn open_get_stream(&self) {
        match self.shared.get(None).await {
            Ok(Some(resp)) if is_sse(&resp) => self.spawn_stream(resp.into_body(), None),
            Ok(_) => tracing::debug!("http client: the server offers no standalone GET stream"),
            Err(e) => tracing::debug!(error = %e, "http client: could not open the standalone GET stream"),
        }
    }
}

#[async_trait]
impl Transport for HttpTransport {
    async fn start(&self, inbound: Inbound) -> Result<(), TransportError> {
        self.shared.inbound.set(inbound).map_err(|_| TransportError::Config("the transport was already started".into()))
    }

    async fn send(&self, message: Message) -> Result<(), TransportError> {
        self.send_with_headers(message, Vec::new()).await
    }

    async fn send_with_headers(&self, message: Message, extra: Vec<(String, String)>) -> Result<(), TransportError> {
        let inbound = self.shared.inbound()?.clone();
        let mut stateless_headers_set = HeaderMap::new();
        let (id, is_initialize, stateless) = match &message {
            Message::Request(r) => {
                let stateless = stateless_headers(r, &mut stateless_headers_set);
                (Some(r.id.clone()), r.method == methods::INITIALIZE, stateless)
            }
            _ => (None, false, false),
        };
        let mut headers = self.shared.headers(stateless).await?;
        headers.extend(stateless_headers_set);
        for (name, value) in extra {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| TransportError::Config(format!("{name:?} is not a valid header name")))?;
            let value = HeaderValue::from_str(&value).map_err(|_| {
                TransportError::Config(format!("the value of header {name} is not a valid header value"))
            })?;
            headers.insert(name, value);
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static("application/json, text/event-stream"));
        let mut body = Vec::with_capacity(256);
        message.write_to(&mut body);
        let resp = self.shared.client.send(self.shared.request(Method::POST, headers, body.into())?).await?;

        if is_initialize
            && resp.status().is_success()
            && let Some(sid) = resp.headers().get(names::SESSION_ID)
            && let Ok(mut session) = self.shared.session.lock()
        {
            *session = Some(sid.clone());
        }
        let status = resp.status();
        if !status.is_success() {
            let bytes = read_limited(resp.into_body(), 64 << 10).await.unwrap_or_default();
            // A JSON-RPC error in the body is the server's answer to the
            // request (-32020 with 400, -32601 with 404...).
            if let (Some(id), Ok(Message::Response(mut r))) = (&id, Message::parse(&bytes))
                && r.payload.is_err()
            {
                r.id = Some(id.clone());
                inbound.message(Message::Response(r)).await;
                return Ok(());
            }
            let text = String::from_utf8_lossy(&bytes);
            let body = text.chars().take(1024).collect();
            return Err(TransportError::Status { status, body });
        }
        if id.is_none() {
            // A notification or a response of ours: 202, nothing to read.
            // The session is ready once `initialized` is delivered: open the
            // standalone stream if asked to.
            let initialized = matches!(&message, Message::Notification(n) if n.method == methods::INITIALIZED);
            if initialized && self.shared.get_stream && self.shared.is_legacy_session() {
                self.open_get_stream().await;
            }
            return Ok(());
        }
        if is_sse(&resp) {
            self.spawn_stream(resp.into_body(), id);
            return Ok(());
        }
        let bytes = read_limited(resp.into_body(), MAX_BODY).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(TransportError::Malformed(format!("HTTP {status} with an empty body for a request")));
        }
        match Incoming::parse(&bytes) {
            Ok(Incoming::Single(m)) => {
                inbound.message(m).await;
            }
            Ok(Incoming::Batch(items)) => {
                for m in items.into_iter().flatten() {
                    inbound.message(m).await;
                }
            }
            Err(e) => return Err(TransportError::Malformed(e.to_string())),
        }
        Ok(())
    }

    fn abandon(&self, id: &RequestId) {
        if let Some(token) = self.shared.streams.lock().ok().and_then(|mut s| s.remove(id)) {
            token.cancel();
        }
    }

    fn abandon_cancels(&self) -> bool {
        true
    }

    fn set_protocol_version(&self, version: ProtocolVersion) {
        if let Ok(mut v) = self.shared.version.lock() {
            *v = (!version.is_stateless()).then_some(version);
        }
    }

    async fn close(&self) {
        self.shared.closing.cancel();
        if self.shared.is_legacy_session()
            && let Ok(headers) = self.shared.headers(false).await
            && let Ok(req) = self.shared.request(Method::DELETE, headers, Bytes::new())
        {
            let _ = tokio::time::timeout(Duration::from_secs(2), self.shared.client.send(req)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agentcore_url_encodes_the_arn() {
        let b =
            HttpTransport::agentcore("arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/mcp_server-Ab1", "t")
                .expect("valid");
        assert_eq!(
            b.url,
            "https://bedrock-agentcore.us-east-1.amazonaws.com/runtimes/\
             arn%3Aaws%3Abedrock-agentcore%3Aus-east-1%3A123456789012%3Aruntime%2Fmcp_server-Ab1/invocations?qualifier=DEFAULT"
        );
        assert!(HttpTransport::agentcore("not-an-arn", "t").is_err());
        assert!(!format!("{:?}", BearerToken::new("s3cret").expect("ok")).contains("s3cret"));
    }
}
