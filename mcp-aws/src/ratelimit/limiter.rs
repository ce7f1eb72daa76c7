//! The decision: governor's keyed limiters, one per quota and one per
//! limited tool, and their housekeeping.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use governor::clock::{Clock, FakeRelativeClock};
use governor::middleware::StateInformationMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use mcp_core::server::ServerRequest;

use super::counted::Counted;
use super::error::Rejection;
use super::key::Key;
use super::quota::{Quota, SharedResolver};

type Gov = governor::RateLimiter<String, DashMapStateStore<String>, LimiterClock, StateInformationMiddleware>;

/// The clock of every limiter: the process's monotonic clock, or governor's
/// fake one in tests.
#[derive(Clone, Debug)]
pub(crate) enum LimiterClock {
    Real(Instant),
    Fake(FakeRelativeClock),
}

impl Clock for LimiterClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        match self {
            Self::Real(origin) => Nanos::new(u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)),
            Self::Fake(clock) => clock.now(),
        }
    }
}

/// Everything the layer was configured with.
pub(crate) struct Config {
    pub(crate) key: Key,
    pub(crate) default: Option<Quota>,
    pub(crate) resolver: Option<SharedResolver>,
    pub(crate) tools: Vec<(String, Quota)>,
    pub(crate) counted: Counted,
    pub(crate) housekeeping: Duration,
    pub(crate) clock: LimiterClock,
}

pub(crate) struct Limiter {
    key: Key,
    clock: LimiterClock,
    default: Option<(Quota, Gov)>,
    resolver: Option<SharedResolver>,
    resolved: RwLock<HashMap<Quota, Arc<Gov>>>,
    tools: HashMap<String, (Quota, Gov)>,
    counted: Counted,
    housekeeping_every: u64,
    next_housekeeping: AtomicU64,
}

fn governor(quota: Quota, clock: &LimiterClock) -> Gov {
    governor::RateLimiter::dashmap_with_clock(quota.to_governor(), clock.clone())
        .with_middleware::<StateInformationMiddleware>()
}

fn check(gov: &Gov, quota: Quota, key: &String, now: Nanos, tool: Option<&str>) -> Result<(), Rejection> {
    gov.check_key(key).map(drop).map_err(|not_until| Rejection {
        retry_after: not_until.wait_time_from(now),
        quota,
        tool: tool.map(str::to_owned),
    })
}

impl Limiter {
    pub(crate) fn new(config: Config) -> Self {
        let clock = config.clock;
        let housekeeping_every = u64::try_from(config.housekeeping.as_nanos()).unwrap_or(u64::MAX).max(1);
        Self {
            key: config.key,
            default: config.default.map(|q| (q, governor(q, &clock))),
            resolver: config.resolver,
            resolved: RwLock::new(HashMap::new()),
            tools: config.tools.into_iter().map(|(name, q)| (name, (q, governor(q, &clock)))).collect(),
            counted: config.counted,
            next_housekeeping: AtomicU64::new(clock.now().as_u64().saturating_add(housekeeping_every)),
            housekeeping_every,
            clock,
        }
    }

    /// Admits `req` (a call of `tool`, if any) or says why not. A tool's
    /// quota is checked first, so that a call refused by it does not spend
    /// the key's quota; a request the layer does not count spends none.
    pub(crate) fn check(&self, req: &ServerRequest, tool: Option<&str>) -> Result<(), Rejection> {
        let now = self.clock.now();
        self.housekeep(now);
        let key = self.key.extract(req).unwrap_or_else(|| "anonymous".to_owned());
        if let Some(name) = tool
            && let Some((quota, gov)) = self.tools.get(name)
        {
            check(gov, *quota, &key, now, Some(name))?;
        }
        if !self.counted.counts(req.head().method()) {
            return Ok(());
        }
        let resolved = self.resolver.as_ref().and_then(|r| r.quota(req));
        match (resolved, &self.default) {
            (None, None) => Ok(()),
            (None, Some((quota, gov))) => check(gov, *quota, &key, now, None),
            (Some(q), Some((quota, gov))) if q == *quota => check(gov, *quota, &key, now, None),
            (Some(q), _) => check(&self.group(q), q, &key, now, None),
        }
    }

    /// The limiter for keys with quota `q`.
    fn group(&self, q: Quota) -> Arc<Gov> {
        if let Some(gov) = self.resolved.read().unwrap_or_else(PoisonError::into_inner).get(&q) {
            return Arc::clone(gov);
        }
        let mut groups = self.resolved.write().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(groups.entry(q).or_insert_with(|| Arc::new(governor(q, &self.clock))))
    }

    /// Every `housekeeping_every`, the first request to notice forgets the
    /// keys whose buckets are full again (they behave exactly like new
    /// ones), so memory follows the active keys, not every key ever seen.
    fn housekeep(&self, now: Nanos) {
        let due = self.next_housekeeping.load(Ordering::Relaxed);
        if now.as_u64() < due {
            return;
        }
        let next = now.as_u64().saturating_add(self.housekeeping_every);
        if self.next_housekeeping.compare_exchange(due, next, Ordering::AcqRel, Ordering::Relaxed).is_err() {
            return;
        }
        self.forget_idle_keys();
    }

    pub(crate) fn forget_idle_keys(&self) {
        let tidy = |gov: &Gov| {
            gov.retain_recent();
            gov.shrink_to_fit();
        };
        self.default.iter().for_each(|(_, g)| tidy(g));
        self.tools.values().for_each(|(_, g)| tidy(g));
        let mut groups = self.resolved.write().unwrap_or_else(PoisonError::into_inner);
        groups.values().for_each(|g| tidy(g));
        groups.retain(|_, g| !g.is_empty());
    }

    /// Keys with state in memory, across every limiter.
    pub(crate) fn tracked_keys(&self) -> usize {
        let groups = self.resolved.read().unwrap_or_else(PoisonError::into_inner);
        self.default.iter().map(|(_, g)| g.len()).sum::<usize>()
            + self.tools.values().map(|(_, g)| g.len()).sum::<usize>()
            + groups.values().map(|g| g.len()).sum::<usize>()
    }
}
