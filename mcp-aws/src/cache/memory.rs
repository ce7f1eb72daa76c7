//! [`InMemoryCacheStore`]: results in this process, bounded in entries and
//! bytes, on [`quick_cache`](https://docs.rs/quick_cache).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mcp_core::async_trait;
use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, Lifecycle, Weighter};

use super::key::CacheKey;
use super::store::{CacheStore, CachedResult, Invalidation, StoreError};

/// Results kept in this process, with an upper bound on both the number of
/// entries and their bytes. Past either, the least valuable entries go
/// (quick_cache's CLOCK-Pro: recently and often read ones stay); each one
/// evicted counts in [`evictions`](Self::evictions).
///
/// Both bounds hold because each entry weighs at least
/// `max_bytes / max_entries` against a capacity of `max_bytes`. Expired
/// entries are dropped when read, and otherwise go as capacity is needed.
///
/// ```
/// use mcp_aws::cache::InMemoryCacheStore;
///
/// let store = InMemoryCacheStore::new(10_000, 64 * 1024 * 1024);
/// assert_eq!(store.len(), 0);
/// ```
#[derive(Clone)]
pub struct InMemoryCacheStore {
    cache: Arc<Cache<CacheKey, Arc<CachedResult>, Weigh, DefaultHashBuilder, Evictions>>,
    evictions: Arc<AtomicU64>,
    max_entries: u64,
    max_bytes: u64,
}

impl fmt::Debug for InMemoryCacheStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryCacheStore")
            .field("entries", &self.cache.len())
            .field("max_entries", &self.max_entries)
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

impl Default for InMemoryCacheStore {
    /// 10,000 entries, 64 MiB.
    fn default() -> Self {
        Self::new(10_000, 64 * 1024 * 1024)
    }
}

/// An entry's weight: its bytes, but never under the share one entry may
/// take.
#[derive(Clone)]
struct Weigh {
    floor: u64,
}

impl Weighter<CacheKey, Arc<CachedResult>> for Weigh {
    fn weight(&self, _key: &CacheKey, value: &Arc<CachedResult>) -> u64 {
        (value.size() as u64).max(self.floor)
    }
}

/// Counts evictions.
#[derive(Clone)]
struct Evictions(Arc<AtomicU64>);

impl Lifecycle<CacheKey, Arc<CachedResult>> for Evictions {
    type RequestState = ();

    fn begin_request(&self) -> Self::RequestState {}

    fn on_evict(&self, _state: &mut (), _key: CacheKey, _value: Arc<CachedResult>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl InMemoryCacheStore {
    /// At most `max_entries` entries and `max_bytes` bytes of results (each
    /// at least 1).
    pub fn new(max_entries: u64, max_bytes: u64) -> Self {
        let max_entries = max_entries.max(1);
        let max_bytes = max_bytes.max(1);
        let floor = (max_bytes / max_entries).max(1);
        let evictions = Arc::new(AtomicU64::new(0));
        let cache = Cache::with(
            usize::try_from(max_entries).unwrap_or(usize::MAX),
            max_bytes,
            Weigh { floor },
            DefaultHashBuilder::default(),
            Evictions(Arc::clone(&evictions)),
        );
        Self { cache: Arc::new(cache), evictions, max_entries, max_bytes }
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    /// The bytes its entries weigh.
    pub fn weight(&self) -> u64 {
        self.cache.weight()
    }

    /// How many entries were evicted to stay within the bounds.
    pub fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }

    fn get_now(&self, key: &CacheKey) -> Option<Arc<CachedResult>> {
        self.cache.get(key)
    }
}

#[async_trait]
impl CacheStore for InMemoryCacheStore {
    async fn get(&self, key: &CacheKey) -> Result<Option<Arc<CachedResult>>, StoreError> {
        Ok(self.get_now(key))
    }

    async fn put(&self, key: &CacheKey, result: Arc<CachedResult>) -> Result<(), StoreError> {
        self.cache.insert(key.clone(), result);
        Ok(())
    }

    fn peek(&self, key: &CacheKey) -> Option<Option<Arc<CachedResult>>> {
        Some(self.get_now(key))
    }

    async fn invalidate(&self, what: Invalidation<'_>) -> Result<(), StoreError> {
        match what {
            Invalidation::Tool(tool) => self.cache.retain(|k, _| k.tool() != tool),
            Invalidation::Key(key) => {
                self.cache.remove(key);
            }
            Invalidation::All => self.cache.clear(),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    fn entry(bytes: usize) -> Arc<CachedResult> {
        let text = format!("\"{}\"", "x".repeat(bytes));
        Arc::new(CachedResult::new(RawValue::from_string(text).expect("json"), 0, u64::MAX))
    }

    fn key(i: u32) -> CacheKey {
        CacheKey::from_parts("t", &format!("{i:064x}")).expect("key")
    }

    #[tokio::test]
    async fn both_bounds_hold_and_evictions_count() {
        let store = InMemoryCacheStore::new(100, 1_000_000);
        for i in 0..1_000 {
            store.put(&key(i), entry(10)).await.expect("put");
        }
        assert!(store.len() <= 100, "entries bounded: {}", store.len());
        assert!(store.evictions() >= 900, "evictions counted: {}", store.evictions());
        let bytes = InMemoryCacheStore::new(1_000_000, 64 * 1024);
        for i in 0..1_000 {
            bytes.put(&key(i), entry(1_000)).await.expect("put");
        }
        assert!(bytes.weight() <= 64 * 1024, "bytes bounded: {}", bytes.weight());
        assert!(bytes.len() < 100);
    }

    #[tokio::test]
    async fn invalidation_by_tool_key_and_all() {
        let store = InMemoryCacheStore::default();
        let other = CacheKey::from_parts("u", &format!("{:064x}", 1)).expect("key");
        for k in [key(1), key(2), other.clone()] {
            store.put(&k, entry(1)).await.expect("put");
        }
        store.invalidate(Invalidation::Key(&key(1))).await.expect("ok");
        assert!(store.get_now(&key(1)).is_none() && store.get_now(&key(2)).is_some());
        store.invalidate(Invalidation::Tool("t")).await.expect("ok");
        assert!(store.get_now(&key(2)).is_none() && store.get_now(&other).is_some());
        store.invalidate(Invalidation::All).await.expect("ok");
        assert!(store.is_empty());
    }
}
