//! Polls each live server's `health_check_url` and keeps its status true:
//! an `active` server whose check fails (no 2xx within 5 s) becomes
//! `unhealthy`, an `unhealthy` one that answers again becomes `active`.
//! Decommissioned entries are never touched, even if one is retired while
//! its check is running (the status change is conditional). An entry
//! stored without `health_check_url` is checked at the URL derived from its
//! endpoint ([`Registration::effective_health_check_url`]); table items
//! that are not registrations are skipped with a warning and counted in
//! [`CheckReport::skipped`].
//!
//! Checks run concurrently, at most [`concurrency`](HealthChecker::concurrency)
//! at a time (16 by default), each within its
//! [`timeout`](HealthChecker::timeout) (5 s), so a round over `n` servers
//! takes about `ceil(n / concurrency) × timeout` at worst.
//!
//! **On Lambda**, a round is one invocation: [`HealthChecker::run_lambda`]
//! answers each EventBridge scheduled event
//! (`{"source":"aws.events","detail-type":"Scheduled Event",...}`) by
//! checking every live server once and returning the [`CheckReport`] as
//! JSON, then waits for the next event; nothing runs between invocations.
//! The registry service's own function can take the schedule too
//! ([`service::run_lambda_with_checker`](super::service::run_lambda_with_checker)).
//!
//! ```no_run
//! # async fn demo() -> Result<(), mcp_aws::registry::RegistryError> {
//! use std::time::Duration;
//! use mcp_aws::registry::DynamoDbRegistry;
//! use mcp_aws::registry::health_checker::HealthChecker;
//!
//! let registry = DynamoDbRegistry::from_env("MCPServerRegistry-prod").await;
//! let checker = HealthChecker::new(registry)?.interval(Duration::from_secs(30));
//! checker.run(mcp_core::transport::http::shutdown_signal()).await;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::io::Write as _;
use std::time::Duration;

use futures_util::StreamExt as _;
use http::Method;
use serde::Serialize;
use serde_json::Value;

use super::{DynamoDbRegistry, Registration, RegistryError, Status};
use crate::http_client::HttpClient;

/// What one round of checks changed. As JSON (the Lambda invocation's
/// result): `{"checked":2,"marked_unhealthy":[["calc","1.0.0"]],"recovered":[],"skipped":0}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CheckReport {
    /// Entries checked.
    pub checked: usize,
    /// `(server_id, version)` marked `unhealthy`.
    pub marked_unhealthy: Vec<(String, String)>,
    /// `(server_id, version)` marked `active` again.
    pub recovered: Vec<(String, String)>,
    /// Table items skipped as unreadable (each logged as a warning).
    pub skipped: usize,
    /// Each checked entry and its outcome.
    pub servers: Vec<ServerCheck>,
}

/// One entry's outcome in a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ServerCheck {
    /// The partition key.
    pub server_id: String,
    /// The sort key.
    pub version: String,
    /// Whether its health check answered 2xx in time.
    pub healthy: bool,
}

impl CheckReport {
    /// The round as CloudWatch Embedded Metric Format records, one JSON
    /// line each for stdout: `ServerHealthy` (1 or 0) per server with
    /// dimensions `Environment` + `ServerId`, and `CheckedServers`,
    /// `UnhealthyServers`, `MarkedUnhealthy`, `Recovered` and
    /// `SkippedItems` with dimension `Environment`. Alarms on a server's
    /// `ServerHealthy` minimum, or on `UnhealthyServers`, watch the
    /// registry.
    ///
    /// ```
    /// use mcp_aws::registry::health_checker::CheckReport;
    ///
    /// let records = CheckReport::default().emf_records("MCPServerRegistry", "prod", 0);
    /// let summary: serde_json::Value = serde_json::from_str(&records[0]).expect("json");
    /// assert_eq!(summary["UnhealthyServers"], 0);
    /// ```
    pub fn emf_records(&self, namespace: &str, environment: &str, timestamp_ms: u64) -> Vec<String> {
        let unhealthy = self.servers.iter().filter(|s| !s.healthy).count();
        let count = |name: &str| serde_json::json!({ "Name": name, "Unit": "Count" });
        let metrics = ["CheckedServers", "UnhealthyServers", "MarkedUnhealthy", "Recovered", "SkippedItems"].map(count);
        let summary = serde_json::json!({
            "_aws": { "Timestamp": timestamp_ms, "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["Environment"]],
                "Metrics": metrics,
            }]},
            "Environment": environment,
            "CheckedServers": self.checked,
            "UnhealthyServers": unhealthy,
            "MarkedUnhealthy": self.marked_unhealthy.len(),
            "Recovered": self.recovered.len(),
            "SkippedItems": self.skipped,
        });
        let per_server = self.servers.iter().map(|s| {
            serde_json::json!({
                "_aws": { "Timestamp": timestamp_ms, "CloudWatchMetrics": [{
                    "Namespace": namespace,
                    "Dimensions": [["Environment", "ServerId"]],
                    "Metrics": [{ "Name": "ServerHealthy", "Unit": "None" }],
                }]},
                "Environment": environment,
                "ServerId": s.server_id,
                "Version": s.version,
                "ServerHealthy": u8::from(s.healthy),
            })
        });
        std::iter::once(summary).chain(per_server).map(|v| v.to_string()).collect()
    }
}

/// Whether `event` is an EventBridge scheduled event (`source` `aws.events`,
/// `detail-type` `Scheduled Event`), as a `Schedule` event source delivers.
///
/// ```
/// use mcp_aws::registry::health_checker::is_scheduled_event;
///
/// let event = serde_json::json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}});
/// assert!(is_scheduled_event(&event));
/// assert!(!is_scheduled_event(&serde_json::json!({"httpMethod": "GET"})));
/// ```
pub fn is_scheduled_event(event: &Value) -> bool {
    event.get("source").and_then(Value::as_str) == Some("aws.events")
        && event.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
}

/// The health checker; see the module docs.
#[derive(Debug, Clone)]
pub struct HealthChecker {
    registry: DynamoDbRegistry,
    client: HttpClient,
    timeout: Duration,
    interval: Duration,
    concurrency: usize,
    metrics: Option<(String, String)>,
}

impl HealthChecker {
    /// A checker over `registry`: 5 s per check, 16 at a time, a round
    /// every 60 s.
    ///
    /// # Errors
    /// The system's TLS roots cannot be loaded.
    pub fn new(registry: DynamoDbRegistry) -> Result<Self, RegistryError> {
        Ok(Self {
            registry,
            client: HttpClient::new()?,
            timeout: Duration::from_secs(5),
            interval: Duration::from_secs(60),
            concurrency: 16,
            metrics: None,
        })
    }

    /// After each round run by [`handle_event`](Self::handle_event), writes
    /// its [EMF records](CheckReport::emf_records) in `namespace` with
    /// dimension `Environment` = `environment` to stdout, where Lambda's
    /// log stream turns them into CloudWatch metrics.
    #[must_use]
    pub fn metrics(mut self, namespace: impl Into<String>, environment: impl Into<String>) -> Self {
        self.metrics = Some((namespace.into(), environment.into()));
        self
    }

    /// How many servers are checked at the same time (default 16, at
    /// least 1).
    #[must_use]
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// How long one server's check may take (default 5 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The pause between rounds (default 60 s).
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    async fn healthy(&self, entry: &Registration) -> bool {
        let Some(url) = entry.effective_health_check_url() else { return true };
        match self.client.send(Method::GET, &url, &[], None, self.timeout).await {
            Ok(answer) => answer.status.is_success(),
            Err(e) => {
                tracing::debug!(server_id = %entry.server_id, error = %e, "health check failed");
                false
            }
        }
    }

    /// Checks every `active` and `unhealthy` entry once, at most
    /// [`concurrency`](Self::concurrency) at a time, and updates the
    /// statuses that changed.
    ///
    /// # Errors
    /// The table could not be read or written.
    pub async fn check_once(&self) -> Result<CheckReport, RegistryError> {
        let active = self.registry.list_report(Some(Status::Active)).await?;
        let unhealthy = self.registry.list_report(Some(Status::Unhealthy)).await?;
        let skipped = active.skipped.len() + unhealthy.skipped.len();
        let entries: Vec<Registration> = active.servers.into_iter().chain(unhealthy.servers).collect();
        // Owned futures: a stream of futures borrowing `self` is not `Send`
        // for every lifetime, which a spawned `run` needs.
        let checks = entries.into_iter().map(|entry| {
            let checker = self.clone();
            async move {
                let healthy = checker.healthy(&entry).await;
                (entry, healthy)
            }
        });
        let outcomes: Vec<_> = futures_util::stream::iter(checks).buffer_unordered(self.concurrency).collect().await;
        let mut report = CheckReport { checked: outcomes.len(), skipped, ..CheckReport::default() };
        for (entry, healthy) in outcomes {
            report.servers.push(ServerCheck {
                server_id: entry.server_id.clone(),
                version: entry.version.clone(),
                healthy,
            });
            let (from, to) = match (entry.status, healthy) {
                (Status::Active, false) => (Status::Active, Status::Unhealthy),
                (Status::Unhealthy, true) => (Status::Unhealthy, Status::Active),
                _ => continue,
            };
            let key = (entry.server_id.clone(), entry.version.clone());
            if self.registry.transition(&key.0, &key.1, from, to).await?.is_some() {
                tracing::info!(server_id = %key.0, version = %key.1, status = %to, "health status changed");
                if to == Status::Unhealthy {
                    report.marked_unhealthy.push(key);
                } else {
                    report.recovered.push(key);
                }
            }
        }
        Ok(report)
    }

    /// Answers one Lambda event: a round of checks for a scheduled event,
    /// whose report is the invocation's result.
    ///
    /// # Errors
    /// The event is not a scheduled event ([`RegistryError::Invalid`]
    /// naming `detail-type`), or the round failed (the invocation then
    /// fails, and EventBridge's retry policy applies).
    pub async fn handle_event(&self, event: &Value) -> Result<CheckReport, RegistryError> {
        if !is_scheduled_event(event) {
            return Err(RegistryError::Invalid {
                field: "detail-type".to_owned(),
                reason: "the health checker answers EventBridge scheduled events only".to_owned(),
            });
        }
        let report = self.check_once().await?;
        tracing::info!(
            checked = report.checked,
            unhealthy = report.marked_unhealthy.len(),
            recovered = report.recovered.len(),
            skipped = report.skipped,
            "health check round"
        );
        if let Some((namespace, environment)) = &self.metrics {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            let millis = u64::try_from(now.as_millis()).unwrap_or(u64::MAX);
            let mut out = std::io::stdout().lock();
            for record in report.emf_records(namespace, environment, millis) {
                let _ = writeln!(out, "{record}");
            }
        }
        Ok(report)
    }

    /// Runs as a Lambda function on an EventBridge schedule: each event is
    /// one round ([`handle_event`](Self::handle_event)).
    ///
    /// # Errors
    /// The Lambda runtime failed.
    pub async fn run_lambda(self) -> Result<(), crate::lambda::LambdaError> {
        use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
        lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
            let checker = self.clone();
            async move {
                let report = checker.handle_event(&event.payload).await.map_err(lambda_http::Error::from)?;
                serde_json::to_value(report).map_err(lambda_http::Error::from)
            }
        }))
        .await
        .map_err(crate::lambda::LambdaError::from)
    }

    /// Runs rounds until `shutdown` completes. A failed round is logged and
    /// the next one runs on schedule.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.check_once().await {
                tracing::warn!(error = %e, "health check round failed");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}
