//! [`CacheStats`]: what the cache layer counts, and its OpenTelemetry
//! instruments.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The layer's counters, shared by its services. Read them with
/// [`CacheLayer::stats`](super::CacheLayer::stats); with feature `otel`,
/// [`CacheLayer::observe`](super::CacheLayer::observe) exports them, and with
/// `emf`, [`Emf::with_cache`](crate::emf::Emf::with_cache).
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) store_errors: AtomicU64,
    /// Evictions from the store, when it counts them (the in-memory one).
    pub(crate) evictions: Option<Arc<dyn Fn() -> u64 + Send + Sync>>,
}

impl std::fmt::Debug for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.snapshot(), f)
    }
}

impl Counters {
    pub(crate) fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn store_error(&self) {
        self.store_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            evictions: self.evictions.as_ref().map_or(0, |f| f()),
            store_errors: self.store_errors.load(Ordering::Relaxed),
        }
    }
}

/// The cache layer's counts since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Calls answered from the store (or from a concurrent identical
    /// call's stored result).
    pub hits: u64,
    /// Calls of a cached tool that ran it.
    pub misses: u64,
    /// Entries the in-memory store evicted to stay within its bounds.
    pub evictions: u64,
    /// Store failures (reads, writes, invalidations); each such call ran
    /// the tool instead.
    pub store_errors: u64,
}

impl CacheStats {
    /// The counts since `earlier` (for per-invocation records).
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            hits: self.hits.saturating_sub(earlier.hits),
            misses: self.misses.saturating_sub(earlier.misses),
            evictions: self.evictions.saturating_sub(earlier.evictions),
            store_errors: self.store_errors.saturating_sub(earlier.store_errors),
        }
    }
}

/// OpenTelemetry counter names.
#[cfg(feature = "otel")]
pub(crate) mod names {
    /// Cached-tool calls answered from the cache.
    pub(crate) const HITS: &str = "mcp.server.cache.hits";
    /// Cached-tool calls that ran the tool.
    pub(crate) const MISSES: &str = "mcp.server.cache.misses";
    /// Entries evicted to stay within the bounds.
    pub(crate) const EVICTIONS: &str = "mcp.server.cache.evictions";
    /// Cache store failures.
    pub(crate) const STORE_ERRORS: &str = "mcp.server.cache.store_errors";
}

/// Registers observable counters reading `counters` with `meter`: no cost
/// per request, read at each export.
#[cfg(feature = "otel")]
pub(crate) fn observe(counters: &Arc<Counters>, meter: &opentelemetry::metrics::Meter) {
    type Pick = fn(&CacheStats) -> u64;
    let all: [(&'static str, &'static str, Pick); 4] = [
        (names::HITS, "Tool calls answered from the result cache", |s| s.hits),
        (names::MISSES, "Calls of cached tools that ran the tool", |s| s.misses),
        (names::EVICTIONS, "Cached results evicted to stay within the bounds", |s| s.evictions),
        (names::STORE_ERRORS, "Result cache store failures (the tool ran instead)", |s| s.store_errors),
    ];
    for (name, description, pick) in all {
        let counters = Arc::clone(counters);
        // Registered with the meter provider, which keeps it alive.
        let _counter = meter
            .u64_observable_counter(name)
            .with_description(description)
            .with_unit("{call}")
            .with_callback(move |obs| obs.observe(pick(&counters.snapshot()), &[]))
            .build();
    }
}
