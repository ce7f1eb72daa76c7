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
use std::time::Duration;

use http::Method;

use super::{DynamoDbRegistry, Registration, RegistryError, Status};
use crate::http_client::HttpClient;

/// What one round of checks changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
}

/// The health checker; see the module docs.
#[derive(Debug, Clone)]
pub struct HealthChecker {
    registry: DynamoDbRegistry,
    client: HttpClient,
    timeout: Duration,
    interval: Duration,
}

impl HealthChecker {
    /// A checker over `registry`: 5 s per check, a round every 60 s.
    ///
    /// # Errors
    /// The system's TLS roots cannot be loaded.
    pub fn new(registry: DynamoDbRegistry) -> Result<Self, RegistryError> {
        Ok(Self {
            registry,
            client: HttpClient::new()?,
            timeout: Duration::from_secs(5),
            interval: Duration::from_secs(60),
        })
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

    /// Checks every `active` and `unhealthy` entry once, concurrently, and
    /// updates the statuses that changed.
    ///
    /// # Errors
    /// The table could not be read or written.
    pub async fn check_once(&self) -> Result<CheckReport, RegistryError> {
        let active = self.registry.list_report(Some(Status::Active)).await?;
        let unhealthy = self.registry.list_report(Some(Status::Unhealthy)).await?;
        let skipped = active.skipped.len() + unhealthy.skipped.len();
        let entries: Vec<Registration> = active.servers.into_iter().chain(unhealthy.servers).collect();
        let checks = entries.iter().map(|entry| async move { (entry, self.healthy(entry).await) });
        let outcomes = futures_util::future::join_all(checks).await;
        let mut report = CheckReport { checked: outcomes.len(), skipped, ..CheckReport::default() };
        for (entry, healthy) in outcomes {
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
