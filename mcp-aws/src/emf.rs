//! CloudWatch Embedded Metric Format: request metrics as structured log
//! records on stdout, which CloudWatch Logs turns into metrics. The
//! metrics path for Lambda without a collector.
//!
//! [`EmfLayer`] aggregates in memory; [`Emf::flush`], which the Lambda
//! adapter calls at the end of each invocation, writes one record (one
//! per method and tool when the invocation served several) and starts
//! over. Each record has, in namespace [`Emf::new`]'s:
//!
//! | metric | unit | what |
//! |---|---|---|
//! | `Requests` | Count | requests answered |
//! | `Errors` | Count | JSON-RPC errors and `isError` tool results |
//! | `RateLimited` | Count | requests refused by the rate limiter |
//! | `Duration` | Milliseconds | each request's duration (up to 100 values) |
//!
//! with dimensions `ServiceName` + `Method`, and `ServiceName` + `Method` +
//! `Tool` for tool calls.
//!
//! With feature `auth`, requests made with an API key also count as
//! `APIUsage` (Count) with dimensions `ServiceName` + `ApiKeyHash` (the
//! first 16 hex digits of the key's SHA-256, never the key) + `Operation`
//! (the tool for tool calls, else the method): usage per key, as the
//! deployment guides record it.
//!
//! With feature `cache`, [`Emf::with_cache`] adds a record of the result
//! cache's `CacheHits`, `CacheMisses`, `CacheEvictions` and
//! `CacheStoreErrors` (Count, since the last flush) with dimension
//! `ServiceName`.
//!
//! ```
//! use mcp_aws::emf::Emf;
//! use mcp_core::server::ServerBuilder;
//! use tower_layer::Layer;
//!
//! let emf = Emf::new("MCPServers").with_service_name("weather");
//! let server = ServerBuilder::new("weather", "1.0.0").build().expect("valid");
//! let service = emf.layer().layer(server);
//! // ... at the end of each Lambda invocation:
//! emf.flush().expect("stdout is writable");
//! # let _ = service;
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use mcp_core::jsonrpc::Response;
use mcp_core::server::ServerRequest;
use serde_json::{Value, json};
use tower_layer::Layer;
use tower_service::Service;

use crate::observe::{Outcome, RequestInfo};

/// EMF allows at most 100 values per metric in one record.
const MAX_VALUES: usize = 100;

#[derive(Default)]
struct Aggregate {
    requests: u64,
    errors: u64,
    rate_limited: u64,
    durations_ms: Vec<f64>,
}

struct Inner {
    namespace: String,
    service: String,
    writer: Mutex<Box<dyn Write + Send>>,
    groups: Mutex<BTreeMap<(String, Option<String>), Aggregate>>,
    /// `APIUsage` per (key hash prefix, operation).
    usage: Mutex<BTreeMap<(String, String), u64>>,
    /// The result cache's counters, and their values at the last flush.
    #[cfg(feature = "cache")]
    cache: Mutex<Option<(Arc<crate::cache::Counters>, crate::cache::CacheStats)>>,
}

/// The EMF recorder: its [`layer`](Self::layer) aggregates, its
/// [`flush`](Self::flush) writes. Cheap to clone; clones share the
/// aggregate.
#[derive(Clone)]
pub struct Emf {
    inner: Arc<Inner>,
}

impl fmt::Debug for Emf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emf")
            .field("namespace", &self.inner.namespace)
            .field("service", &self.inner.service)
            .finish_non_exhaustive()
    }
}

impl Emf {
    /// Records into CloudWatch namespace `namespace`, on stdout. The
    /// `ServiceName` dimension is the Lambda function's name
    /// (`AWS_LAMBDA_FUNCTION_NAME`), else `mcp-server`.
    pub fn new(namespace: impl Into<String>) -> Self {
        let service = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "mcp-server".to_owned());
        Self::build(namespace.into(), service, Box::new(std::io::stdout()))
    }

    fn build(namespace: String, service: String, writer: Box<dyn Write + Send>) -> Self {
        let inner = Inner {
            namespace,
            service,
            writer: Mutex::new(writer),
            groups: Mutex::default(),
            usage: Mutex::default(),
            #[cfg(feature = "cache")]
            cache: Mutex::default(),
        };
        Self { inner: Arc::new(inner) }
    }

    /// Sets the `ServiceName` dimension.
    #[must_use]
    pub fn with_service_name(self, name: impl Into<String>) -> Self {
        self.rebuild(|namespace, _, writer| Self::build(namespace, name.into(), writer))
    }

    /// Writes records to `writer` instead of stdout (tests, a file).
    #[must_use]
    pub fn with_writer(self, writer: impl Write + Send + 'static) -> Self {
        self.rebuild(|namespace, service, _| Self::build(namespace, service, Box::new(writer)))
    }

    fn rebuild(self, f: impl FnOnce(String, String, Box<dyn Write + Send>) -> Self) -> Self {
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => {
                let writer = inner.writer.into_inner().unwrap_or_else(PoisonError::into_inner);
                f(inner.namespace, inner.service, writer)
            }
            // Shared already: keep the original writer's target (stdout).
            Err(shared) => f(shared.namespace.clone(), shared.service.clone(), Box::new(std::io::stdout())),
        }
    }

    /// Also records `cache`'s counts at each flush: `CacheHits`,
    /// `CacheMisses`, `CacheEvictions`, `CacheStoreErrors` since the last one.
    #[cfg(feature = "cache")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
    pub fn with_cache(self, cache: &crate::cache::CacheLayer) -> Self {
        let counters = cache.counters();
        let now = counters.snapshot();
        *self.inner.cache.lock().unwrap_or_else(PoisonError::into_inner) = Some((counters, now));
        self
    }

    /// The cache's counts since the last flush, when any is not zero.
    #[cfg(feature = "cache")]
    fn cache_delta(&self) -> Option<crate::cache::CacheStats> {
        let mut cache = self.inner.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let (counters, last) = cache.as_mut()?;
        let now = counters.snapshot();
        let delta = now.since(last);
        *last = now;
        (delta != crate::cache::CacheStats::default()).then_some(delta)
    }

    #[cfg(not(feature = "cache"))]
    fn cache_delta(&self) -> Option<std::convert::Infallible> {
        None
    }

    #[cfg(feature = "cache")]
    fn cache_json(&self, timestamp: u128, delta: &crate::cache::CacheStats) -> Value {
        json!({
            "_aws": {
                "Timestamp": u64::try_from(timestamp).unwrap_or(u64::MAX),
                "CloudWatchMetrics": [{
                    "Namespace": self.inner.namespace,
                    "Dimensions": [["ServiceName"]],
                    "Metrics": [
                        { "Name": "CacheHits", "Unit": "Count" },
                        { "Name": "CacheMisses", "Unit": "Count" },
                        { "Name": "CacheEvictions", "Unit": "Count" },
                        { "Name": "CacheStoreErrors", "Unit": "Count" },
                    ],
                }],
            },
            "ServiceName": self.inner.service,
            "CacheHits": delta.hits,
            "CacheMisses": delta.misses,
            "CacheEvictions": delta.evictions,
            "CacheStoreErrors": delta.store_errors,
        })
    }

    #[cfg(not(feature = "cache"))]
    fn cache_json(&self, _: u128, never: &std::convert::Infallible) -> Value {
        match *never {}
    }

    /// The tower layer that aggregates each request's metrics.
    pub fn layer(&self) -> EmfLayer {
        EmfLayer { emf: self.clone() }
    }

    fn record(&self, info: &RequestInfo, key: Option<&str>, outcome: Outcome, elapsed_ms: f64) {
        let (Some(method), Some(_)) = (&info.method, &info.request_id) else { return };
        if let Some(key) = key {
            let operation = info.tool().unwrap_or(method.as_str()).to_owned();
            let mut usage = self.inner.usage.lock().unwrap_or_else(PoisonError::into_inner);
            *usage.entry((key.to_owned(), operation)).or_default() += 1;
        }
        let key = (method.as_str().to_owned(), info.tool().map(str::to_owned));
        let mut groups = self.inner.groups.lock().unwrap_or_else(PoisonError::into_inner);
        let agg = groups.entry(key).or_default();
        agg.requests += 1;
        agg.errors += u64::from(outcome != Outcome::Ok);
        agg.rate_limited += u64::from(outcome == Outcome::RateLimited);
        if agg.durations_ms.len() < MAX_VALUES {
            agg.durations_ms.push(elapsed_ms);
        }
    }

    /// Writes what was recorded since the last flush as EMF records, one
    /// JSON line each, and starts over. Nothing is written when nothing was
    /// recorded.
    ///
    /// # Errors
    /// The writer failed; the records are dropped either way.
    pub fn flush(&self) -> std::io::Result<()> {
        let groups = std::mem::take(&mut *self.inner.groups.lock().unwrap_or_else(PoisonError::into_inner));
        let usage = std::mem::take(&mut *self.inner.usage.lock().unwrap_or_else(PoisonError::into_inner));
        let cache = self.cache_delta();
        if groups.is_empty() && usage.is_empty() && cache.is_none() {
            return Ok(());
        }
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let mut out = Vec::with_capacity(512 * (groups.len() + usage.len() + 1));
        let records = groups
            .into_iter()
            .map(|((method, tool), agg)| self.record_json(timestamp, &method, tool.as_deref(), &agg))
            .chain(usage.into_iter().map(|((key, operation), n)| self.usage_json(timestamp, &key, &operation, n)))
            .chain(cache.iter().map(|delta| self.cache_json(timestamp, delta)));
        for record in records {
            // Serialising a `Value` into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut out, &record);
            out.push(b'\n');
        }
        let mut writer = self.inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
        writer.write_all(&out)?;
        writer.flush()
    }

    fn usage_json(&self, timestamp: u128, key: &str, operation: &str, count: u64) -> Value {
        json!({
            "_aws": {
                "Timestamp": u64::try_from(timestamp).unwrap_or(u64::MAX),
                "CloudWatchMetrics": [{
                    "Namespace": self.inner.namespace,
                    "Dimensions": [["ServiceName", "ApiKeyHash", "Operation"]],
                    "Metrics": [{ "Name": "APIUsage", "Unit": "Count" }],
                }],
            },
            "ServiceName": self.inner.service,
            "ApiKeyHash": key,
            "Operation": operation,
            "APIUsage": count,
        })
    }

    fn record_json(&self, timestamp: u128, method: &str, tool: Option<&str>, agg: &Aggregate) -> Value {
        let mut dimensions = vec![json!(["ServiceName", "Method"])];
        if tool.is_some() {
            dimensions.push(json!(["ServiceName", "Method", "Tool"]));
        }
        let mut record = json!({
            "_aws": {
                "Timestamp": u64::try_from(timestamp).unwrap_or(u64::MAX),
                "CloudWatchMetrics": [{
                    "Namespace": self.inner.namespace,
                    "Dimensions": dimensions,
                    "Metrics": [
                        { "Name": "Requests", "Unit": "Count" },
                        { "Name": "Errors", "Unit": "Count" },
                        { "Name": "RateLimited", "Unit": "Count" },
                        { "Name": "Duration", "Unit": "Milliseconds" },
                    ],
                }],
            },
            "ServiceName": self.inner.service,
            "Method": method,
            "Requests": agg.requests,
            "Errors": agg.errors,
            "RateLimited": agg.rate_limited,
            "Duration": agg.durations_ms,
        });
        if let Some(tool) = tool {
            record["Tool"] = json!(tool);
        }
        record
    }
}

/// Aggregates each request's metrics into its [`Emf`].
#[derive(Clone, Debug)]
pub struct EmfLayer {
    emf: Emf,
}

impl<S> Layer<S> for EmfLayer {
    type Service = EmfService<S>;

    fn layer(&self, inner: S) -> EmfService<S> {
        EmfService { inner, emf: self.emf.clone() }
    }
}

/// The service [`EmfLayer`] builds.
#[derive(Clone, Debug)]
pub struct EmfService<S> {
    inner: S,
    emf: Emf,
}

crate::inner_service!(EmfService, ResponseFuture);

impl<S> EmfService<S>
where
    S: Service<ServerRequest, Response = Option<Response>>,
{
    /// What the service's `call` does.
    fn start(&mut self, req: ServerRequest) -> ResponseFuture<S::Future> {
        let pending = req.head().id().is_some().then(|| Pending {
            emf: self.emf.clone(),
            info: RequestInfo::of(&req),
            key: api_key_hash(&req),
            started: Instant::now(),
        });
        ResponseFuture { inner: self.inner.call(req), pending }
    }
}

struct Pending {
    emf: Emf,
    info: RequestInfo,
    key: Option<String>,
    started: Instant,
}

/// The first 16 hex digits of the hash of the API key the request was
/// authenticated with, if any.
#[cfg(feature = "auth")]
fn api_key_hash(req: &ServerRequest) -> Option<String> {
    let record = req.extensions.get::<Arc<crate::auth::ApiKeyRecord>>()?;
    Some(record.api_key_hash.chars().take(16).collect())
}

#[cfg(not(feature = "auth"))]
fn api_key_hash(_: &ServerRequest) -> Option<String> {
    None
}

pin_project_lite::pin_project! {
    /// The future of [`EmfService`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        pending: Option<Pending>,
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Option<Response>, E>>,
{
    type Output = Result<Option<Response>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = std::task::ready!(this.inner.poll(cx));
        if let Some(p) = this.pending.take() {
            let outcome = crate::observe::outcome(&out, p.info.is_tool_call);
            p.emf.record(&p.info, p.key.as_deref(), outcome, p.started.elapsed().as_secs_f64() * 1000.0);
        }
        Poll::Ready(out)
    }
}
