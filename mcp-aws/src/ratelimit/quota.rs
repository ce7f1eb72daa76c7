//! [`Quota`]: how many requests a key may make, and how fast they come back.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use mcp_core::server::ServerRequest;

/// A rate: `limit` requests per `period`, with bursts of up to `burst`
/// requests at once (by default `burst == limit`).
///
/// Requests come back one at a time, evenly: `per_minute(60)` admits a new
/// request every second once the burst is spent (the generic cell rate
/// algorithm, as `governor` implements it).
///
/// ```
/// use std::time::Duration;
/// use mcp_aws::ratelimit::Quota;
///
/// let q = Quota::per_minute(10).with_burst(2);
/// assert_eq!(q.limit(), 10);
/// assert_eq!(q.burst(), 2);
/// assert_eq!(q.replenish_interval(), Duration::from_secs(6));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    limit: NonZeroU32,
    period: Duration,
    burst: NonZeroU32,
}

impl Quota {
    /// `limit` requests per `period`. A `limit` of 0 counts as 1, and a
    /// zero `period` as one nanosecond.
    pub fn new(limit: u32, period: Duration) -> Self {
        let limit = NonZeroU32::new(limit).unwrap_or(NonZeroU32::MIN);
        Self { limit, period: period.max(Duration::from_nanos(1)), burst: limit }
    }

    /// `limit` requests per second.
    pub fn per_second(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(1))
    }

    /// `limit` requests per minute.
    pub fn per_minute(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(60))
    }

    /// `limit` requests per hour.
    pub fn per_hour(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(3600))
    }

    /// Sets how many requests may arrive at once (0 counts as 1).
    #[must_use]
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        self
    }

    /// Requests per [`period`](Self::period).
    pub fn limit(&self) -> u32 {
        self.limit.get()
    }

    /// The period [`limit`](Self::limit) counts over.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Requests admitted at once.
    pub fn burst(&self) -> u32 {
        self.burst.get()
    }

    /// How long one spent request takes to come back: `period / limit`.
    pub fn replenish_interval(&self) -> Duration {
        (self.period / self.limit.get()).max(Duration::from_nanos(1))
    }

    pub(crate) fn to_governor(self) -> governor::Quota {
        // `replenish_interval` is never zero, so `with_period` always
        // succeeds; the fallback keeps this free of panics anyway.
        governor::Quota::with_period(self.replenish_interval())
            .unwrap_or_else(|| governor::Quota::per_second(self.limit))
            .allow_burst(self.burst)
    }
}

/// Picks the quota of each request's key, for example an API key's own
/// requests-per-minute that the auth layer put in the request's extensions.
/// `None` falls back to the layer's default quota.
///
/// Implemented for every `Fn(&ServerRequest) -> Option<Quota>`; implement
/// it by hand for a resolver with state.
pub trait QuotaResolver: Send + Sync + 'static {
    /// The quota for this request's key, or `None` for the default.
    fn quota(&self, request: &ServerRequest) -> Option<Quota>;
}

impl<F> QuotaResolver for F
where
    F: Fn(&ServerRequest) -> Option<Quota> + Send + Sync + 'static,
{
    fn quota(&self, request: &ServerRequest) -> Option<Quota> {
        self(request)
    }
}

pub(crate) type SharedResolver = Arc<dyn QuotaResolver>;
