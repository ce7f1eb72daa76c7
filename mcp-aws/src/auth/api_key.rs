//! API keys: the stored record, the [`ApiKeyStore`] trait with an
//! in-memory implementation, and [`ApiKeys`], which verifies keys through a
//! bounded cache.
//!
//! Only a key's SHA-256 hash (lowercase hex, [`hash_key`]) is stored,
//! cached or logged (its first 8 digits); the key itself lives only in the
//! request that carries it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mcp_core::async_trait;
use mcp_core::server::Principal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::{AuthError, KeyRefusal, StoreError};

/// The lowercase hex SHA-256 of `key`: what stores are keyed by.
///
/// ```
/// assert_eq!(
///     mcp_aws::auth::hash_key("abc"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn hash_key(key: &str) -> String {
    format!("{:x}", Sha256::digest(key.as_bytes()))
}

/// One stored API key, as the DynamoDB table holds it (`api_key_hash`,
/// `user_id`, `permissions`, `expires_at`, `rate_limit`, `enabled`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiKeyRecord {
    /// The key's SHA-256, lowercase hex ([`hash_key`]).
    pub api_key_hash: String,
    /// Who the key belongs to: the principal's subject.
    pub user_id: String,
    /// `action:resource` permissions (`*` wildcards, `*:*` for admin).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// When the key stops working, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The key's own quota, requests per minute, for the rate limiter. The
    /// auth layer puts the record in the request's extensions, so a rate
    /// limiter inside it can use it:
    /// `RateLimitLayer::resolver(|r: &ServerRequest| r.extensions.get::<Arc<ApiKeyRecord>>()?.rate_limit.map(Quota::per_minute))`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<u32>,
    /// Whether the key may be used.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

impl ApiKeyRecord {
    /// An enabled key for `user_id` with `permissions`, never expiring,
    /// stored under the hash of `key`.
    pub fn new<I, T>(key: &str, user_id: impl Into<String>, permissions: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        Self {
            api_key_hash: hash_key(key),
            user_id: user_id.into(),
            permissions: permissions.into_iter().map(Into::into).collect(),
            expires_at: None,
            rate_limit: None,
            enabled: true,
        }
    }

    /// Expiring at `at` (seconds since the Unix epoch).
    #[must_use]
    pub fn with_expires_at(mut self, at: u64) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// With a quota of `per_minute` requests.
    #[must_use]
    pub fn with_rate_limit(mut self, per_minute: u32) -> Self {
        self.rate_limit = Some(per_minute);
        self
    }

    /// Enabled or not.
    #[must_use]
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Why the key may not be used now, if it may not.
    fn refusal(&self, now: u64) -> Option<KeyRefusal> {
        if !self.enabled {
            Some(KeyRefusal::Disabled)
        } else if self.expires_at.is_some_and(|at| at <= now) {
            Some(KeyRefusal::Expired)
        } else {
            None
        }
    }

    /// The principal this key stands for: its user, its permissions, and
    /// the record (hash prefix only) as claims.
    fn principal(&self) -> Principal {
        let mut claims = serde_json::json!({
            "user_id": self.user_id,
            "api_key_hash_prefix": prefix(&self.api_key_hash),
            "permissions": self.permissions,
        });
        if let Some(at) = self.expires_at {
            claims["expires_at"] = at.into();
        }
        if let Some(limit) = self.rate_limit {
            claims["rate_limit"] = limit.into();
        }
        Principal::new(self.user_id.clone()).with_permissions(self.permissions.iter().cloned()).with_claims(claims)
    }
}

/// The first 8 hex digits of a key hash: how a key is named in logs and
/// errors.
pub(super) fn prefix(hash: &str) -> String {
    hash.chars().take(8).collect()
}

/// Where API key records live. Implement it for your own store with
/// [`#[async_trait]`](mcp_core::async_trait); [`InMemoryApiKeyStore`] and,
/// with feature `dynamodb`, `DynamoDbApiKeyStore` are provided.
#[async_trait]
pub trait ApiKeyStore: Send + Sync + 'static {
    /// The record stored under `api_key_hash`, if any.
    ///
    /// # Errors
    /// The store could not be read; the request is refused (fail closed).
    async fn get(&self, api_key_hash: &str) -> Result<Option<ApiKeyRecord>, StoreError>;
}

/// API keys in memory: for tests, and for a handful of keys from
/// configuration.
#[derive(Debug, Default, Clone)]
pub struct InMemoryApiKeyStore {
    records: Arc<RwLock<HashMap<String, ApiKeyRecord>>>,
}

impl InMemoryApiKeyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `record` (under its `api_key_hash`), replacing any record
    /// with that hash.
    pub fn insert(&self, record: ApiKeyRecord) {
        let mut records = self.records.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        records.insert(record.api_key_hash.clone(), record);
    }

    /// Removes the record with this hash.
    pub fn remove(&self, api_key_hash: &str) -> Option<ApiKeyRecord> {
        self.records.write().unwrap_or_else(std::sync::PoisonError::into_inner).remove(api_key_hash)
    }
}

#[async_trait]
impl ApiKeyStore for InMemoryApiKeyStore {
    async fn get(&self, api_key_hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        Ok(self.records.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(api_key_hash).cloned())
    }
}

/// A cached answer of the store: the record and its principal (built
/// once), or that there is none.
#[derive(Clone)]
struct Cached {
    found: Option<Arc<(Principal, Arc<ApiKeyRecord>)>>,
    at: Instant,
}

/// Verifies API keys against an [`ApiKeyStore`] through a bounded cache:
/// found keys are remembered for [`ttl`](Self::ttl) (default 5 min), keys
/// the store does not know for [`negative_ttl`](Self::negative_ttl)
/// (default 30 s), so that a flood of made-up keys costs one store read
/// per key and period, and at most [`capacity`](Self::capacity) entries
/// (default 10 000) are kept. A disabled or deleted key can thus keep
/// working for up to the TTL; expiry is checked on every use. Cheap to
/// clone; clones share the cache.
#[derive(Clone)]
pub struct ApiKeys {
    store: Arc<dyn ApiKeyStore>,
    cache: Arc<quick_cache::sync::Cache<String, Cached>>,
    ttl: Duration,
    negative_ttl: Duration,
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeys")
            .field("cached", &self.cache.len())
            .field("ttl", &self.ttl)
            .field("negative_ttl", &self.negative_ttl)
            .finish_non_exhaustive()
    }
}

impl ApiKeys {
    /// Keys from `store`, with the default cache.
    pub fn new(store: impl ApiKeyStore) -> Self {
        Self::from_arc(Arc::new(store))
    }

    /// Keys from a shared store, with the default cache.
    pub fn from_arc(store: Arc<dyn ApiKeyStore>) -> Self {
        Self {
            store,
            cache: Arc::new(quick_cache::sync::Cache::new(10_000)),
            ttl: Duration::from_secs(300),
            negative_ttl: Duration::from_secs(30),
        }
    }

    /// How long a found key is trusted without asking the store again.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How long an unknown key is refused without asking the store again.
    #[must_use]
    pub fn negative_ttl(mut self, ttl: Duration) -> Self {
        self.negative_ttl = ttl;
        self
    }

    /// At most this many keys are cached (a new cache is made; call it
    /// before use).
    #[must_use]
    pub fn capacity(mut self, entries: usize) -> Self {
        self.cache = Arc::new(quick_cache::sync::Cache::new(entries.max(1)));
        self
    }

    /// The principal `key` stands for.
    ///
    /// # Errors
    /// [`AuthError::InvalidApiKey`] for an unknown, disabled or expired
    /// key; [`AuthError::Unavailable`] when the store failed.
    pub async fn verify(&self, key: &str) -> Result<(Principal, Arc<ApiKeyRecord>), AuthError> {
        let hash = hash_key(key);
        let found = match self.cache.get(&hash) {
            Some(c) if c.at.elapsed() < if c.found.is_some() { self.ttl } else { self.negative_ttl } => c.found,
            _ => {
                let record = self.store.get(&hash).await?;
                let found = record.map(|r| Arc::new((r.principal(), Arc::new(r))));
                self.cache.insert(hash.clone(), Cached { found: found.clone(), at: Instant::now() });
                found
            }
        };
        let refused = |reason| AuthError::InvalidApiKey { hash_prefix: prefix(&hash), reason };
        let Some(found) = found else { return Err(refused(KeyRefusal::Unknown)) };
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if let Some(reason) = found.1.refusal(now) {
            return Err(refused(reason));
        }
        Ok((found.0.clone(), Arc::clone(&found.1)))
    }

    /// Forgets every cached answer (after keys were disabled or deleted).
    pub fn clear_cache(&self) {
        self.cache.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts reads.
    struct Counting(InMemoryApiKeyStore, Arc<AtomicUsize>);

    #[async_trait]
    impl ApiKeyStore for Counting {
        async fn get(&self, api_key_hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.get(api_key_hash).await
        }
    }

    #[tokio::test]
    async fn known_and_unknown_keys_cost_one_store_read_per_ttl() {
        let store = InMemoryApiKeyStore::new();
        store.insert(ApiKeyRecord::new("good", "alice", ["read:*"]));
        let reads = Arc::new(AtomicUsize::new(0));
        let keys = ApiKeys::new(Counting(store, Arc::clone(&reads)));
        for _ in 0..3 {
            assert_eq!(keys.verify("good").await.map(|(p, _)| p.subject), Ok("alice".to_owned()));
            let refused = keys.verify("made-up").await.map(|(p, _)| p.subject);
            assert!(matches!(refused, Err(AuthError::InvalidApiKey { reason: KeyRefusal::Unknown, .. })));
        }
        assert_eq!(reads.load(Ordering::SeqCst), 2, "one read per key");
        // Past the negative TTL the store is asked again.
        let keys = keys.negative_ttl(Duration::ZERO);
        let _ = keys.verify("made-up").await;
        let _ = keys.verify("made-up").await;
        assert_eq!(reads.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn errors_name_a_hash_prefix_never_the_key() {
        let keys = ApiKeys::new(InMemoryApiKeyStore::new());
        let Err(e) = keys.verify("super-secret-key-value").await else { panic!("unknown key accepted") };
        let text = format!("{e} {e:?}");
        assert!(!text.contains("super-secret"), "{text}");
        assert!(text.contains(&hash_key("super-secret-key-value")[..8]), "{text}");
    }
}
