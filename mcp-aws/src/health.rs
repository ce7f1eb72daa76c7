//! The health endpoint: `GET /health` (and `GET /ping`, AgentCore
//! Runtime's probe path), no auth, answering
//! `{"status":"healthy","timestamp":"..."}` or, with checks,
//! `{"status":...,"timestamp":...,"checks":{"name":{"status":...}}}` and 503
//! when any check fails.
//!
//! The same [`Health`] serves on plain HTTP
//! ([`serve_listener_with`](mcp_core::transport::http::serve_listener_with)),
//! on Lambda and on AgentCore Runtime.
//!
//! A check is a [`HealthCheck`]: a closure returning a future, or a type
//! of yours implementing the trait with a plain `async fn`.
//!
//! ```
//! use mcp_aws::health::Health;
//!
//! let health = Health::new().check("config", || async { Ok(()) });
//! # let _ = health;
//! ```

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderValue, Method, StatusCode, header};
use mcp_core::async_trait;
use mcp_core::server::BoxFuture;
use mcp_core::transport::http::HttpBody;
use serde_json::{Map, Value, json};
use tower_service::Service;

/// How long one check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// One check of the health endpoint: `Ok(())` is healthy, `Err(reason)`
/// makes the endpoint answer 503 with the reason.
///
/// Closures returning a future are checks already (`|| async { Ok(()) }`);
/// a type of yours implements it with a plain `async fn` under
/// [`#[async_trait]`](mcp_core::async_trait):
///
/// ```
/// use mcp_aws::health::{Health, HealthCheck};
/// use mcp_core::async_trait;
///
/// /// Healthy while the disk has room.
/// struct Disk {
///     free_bytes: u64,
/// }
///
/// #[async_trait]
/// impl HealthCheck for Disk {
///     async fn check(&self) -> Result<(), String> {
///         if self.free_bytes > 1 << 20 { Ok(()) } else { Err(format!("{} bytes free", self.free_bytes)) }
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let health = Health::new().check("disk", Disk { free_bytes: 512 });
/// let report = health.report().await;
/// assert!(!report.healthy);
/// assert_eq!(report.body["checks"]["disk"]["error"], "512 bytes free");
/// # }
/// ```
#[async_trait]
pub trait HealthCheck: Send + Sync + 'static {
    /// Runs the check. One that takes longer than 3 s fails.
    async fn check(&self) -> Result<(), String>;
}

/// A closure returning a future is a check.
#[async_trait]
impl<F, Fut> HealthCheck for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    async fn check(&self) -> Result<(), String> {
        self().await
    }
}

/// The health endpoint and its checks. Cheap to clone.
#[derive(Clone, Default)]
pub struct Health {
    checks: Arc<Vec<(String, Arc<dyn HealthCheck>)>>,
}

impl fmt::Debug for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.checks.iter().map(|(name, _)| name)).finish()
    }
}

/// The outcome of a health probe.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    /// Whether every check passed.
    pub healthy: bool,
    /// The JSON body.
    pub body: Value,
}

impl Health {
    /// A health endpoint with no checks: healthy while the process serves.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a check called `name` (a [`HealthCheck`]: a closure returning a
    /// future, or a type implementing the trait): `Ok(())` is healthy,
    /// `Err(reason)` makes the endpoint answer 503 with the reason. A check
    /// that takes longer than 3 s fails.
    #[must_use]
    pub fn check(self, name: impl Into<String>, check: impl HealthCheck) -> Self {
        let mut checks = Vec::clone(&self.checks);
        checks.push((name.into(), Arc::new(check)));
        Self { checks: Arc::new(checks) }
    }

    /// Whether `path` is one this endpoint answers (`/health`, `/ping`,
    /// also under a stage prefix such as `/prod/health`).
    pub fn matches(path: &str) -> bool {
        let path = path.trim_end_matches('/');
        path.ends_with("/health") || path.ends_with("/ping")
    }

    /// Runs every check, concurrently.
    pub async fn report(&self) -> HealthReport {
        let runs = self.checks.iter().map(|(name, check)| async move {
            let outcome = match tokio::time::timeout(CHECK_TIMEOUT, check.check()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!("timed out after {} s", CHECK_TIMEOUT.as_secs())),
            };
            (name.clone(), outcome)
        });
        let outcomes = futures_util::future::join_all(runs).await;
        let healthy = outcomes.iter().all(|(_, o)| o.is_ok());
        let mut body = json!({
            "status": if healthy { "healthy" } else { "unhealthy" },
            "timestamp": rfc3339(SystemTime::now()),
        });
        if !outcomes.is_empty() {
            let checks: Map<String, Value> = outcomes
                .into_iter()
                .map(|(name, outcome)| {
                    let v = match outcome {
                        Ok(()) => json!({ "status": "healthy" }),
                        Err(reason) => json!({ "status": "unhealthy", "error": reason }),
                    };
                    (name, v)
                })
                .collect();
            body["checks"] = Value::Object(checks);
        }
        HealthReport { healthy, body }
    }

    /// The HTTP answer to `method` on the health path: 200 or 503 with the
    /// report, 405 for methods other than GET and HEAD.
    pub async fn respond(&self, method: &Method) -> http::Response<HttpBody> {
        if method != Method::GET && method != Method::HEAD {
            let mut resp = json_response(
                StatusCode::METHOD_NOT_ALLOWED,
                &json!({ "status": "error", "error": "the health endpoint answers GET" }),
            );
            resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return resp;
        }
        let report = self.report().await;
        let status = if report.healthy { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
        json_response(status, &report.body)
    }
}

fn json_response(status: StatusCode, body: &Value) -> http::Response<HttpBody> {
    let mut resp = http::Response::new(HttpBody::full(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Answers the health paths and 404 elsewhere: the `other` service for
/// [`serve_listener_with`](mcp_core::transport::http::serve_listener_with).
impl<B: Send + 'static> Service<http::Request<B>> for Health {
    type Response = http::Response<HttpBody>;
    type Error = Infallible;
    type Future = BoxFuture<Result<http::Response<HttpBody>, Infallible>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let health = self.clone();
        Box::pin(async move {
            if Self::matches(req.uri().path()) {
                return Ok(health.respond(req.method()).await);
            }
            let body = json!({ "status": "error", "error": format!("not found: {}", req.uri().path()) });
            Ok(json_response(StatusCode::NOT_FOUND, &body))
        })
    }
}

/// `time` as RFC 3339 in UTC with milliseconds, e.g.
/// `2026-11-21T14:05:09.120Z`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    mcp_core::protocol::tasks::iso8601_ms(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_269_909_120);
        assert_eq!(rfc3339(t), "2026-11-21T14:05:09.120Z");
        // A leap day.
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn stage_prefixed_paths_match() {
        assert!(Health::matches("/health"));
        assert!(Health::matches("/prod/health/"));
        assert!(Health::matches("/ping"));
        assert!(!Health::matches("/mcp"));
        assert!(!Health::matches("/healthz"));
    }

    #[tokio::test]
    async fn a_failing_check_gives_503_and_names_itself() {
        let health = Health::new()
            .check("ok", || async { Ok(()) })
            .check("table", || async { Err("table MCPSessions not found".to_owned()) });
        let resp = health.respond(&Method::GET).await;
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        let report = health.report().await;
        assert_eq!(report.body["status"], "unhealthy");
        assert_eq!(report.body["checks"]["ok"]["status"], "healthy");
        assert_eq!(report.body["checks"]["table"]["error"], "table MCPSessions not found");
        let bare = Health::new().report().await;
        assert!(bare.healthy);
        assert!(bare.body.get("checks").is_none());
        assert!(bare.body["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
}
