//! [`CacheStore`]: where results are kept, and what one holds.

use std::sync::{Arc, Mutex, OnceLock};

use mcp_core::async_trait;
use serde_json::value::RawValue;

use super::key::CacheKey;

/// One stored `tools/call` result.
#[derive(Debug)]
#[non_exhaustive]
pub struct CachedResult {
    /// The JSON-RPC `result` as the dispatcher answered it (without the
    /// layer's `ttlMs`/`cacheScope` hints).
    pub result: Box<RawValue>,
    /// When it was stored, in milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// When it stops being fresh, in milliseconds since the Unix epoch.
    pub expires_at_ms: u64,
    /// The result's members, read once, for answers that add members.
    members: OnceLock<Option<Members>>,
    /// The last answer written with hints: whole seconds left, scope, text.
    hinted: Mutex<Option<(u64, mcp_core::protocol::CacheScope, Box<RawValue>)>>,
}

/// A JSON object's members, each value as written.
pub(crate) type Members = Vec<(Box<str>, Box<RawValue>)>;

impl CachedResult {
    /// A result stored at `created_at_ms`, fresh until `expires_at_ms`.
    pub fn new(result: Box<RawValue>, created_at_ms: u64, expires_at_ms: u64) -> Self {
        Self { result, created_at_ms, expires_at_ms, members: OnceLock::new(), hinted: Mutex::new(None) }
    }

    /// The answer written with `ttl_secs` and `scope` last time, if that
    /// is what is asked again (and no other caller holds it now).
    pub(crate) fn hinted(&self, ttl_secs: u64, scope: mcp_core::protocol::CacheScope) -> Option<Box<RawValue>> {
        let last = self.hinted.try_lock().ok()?;
        let (secs, s, text) = last.as_ref()?;
        (*secs == ttl_secs && *s == scope).then(|| text.clone())
    }

    /// Keeps `text` as the answer for `ttl_secs` and `scope`.
    pub(crate) fn keep_hinted(&self, ttl_secs: u64, scope: mcp_core::protocol::CacheScope, text: &RawValue) {
        if let Ok(mut last) = self.hinted.try_lock() {
            *last = Some((ttl_secs, scope, text.to_owned()));
        }
    }

    /// The result's members (`None` when it is not an object), read on
    /// first use.
    pub(crate) fn members(&self) -> Option<&Members> {
        self.members
            .get_or_init(|| {
                serde_json::from_str::<super::key::Entries<Box<str>, Box<RawValue>>>(self.result.get())
                    .ok()
                    .map(|e| e.0)
            })
            .as_ref()
    }

    /// Whether it is past its time to live at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at_ms <= now_ms
    }

    /// The bytes it takes, roughly: what bounds the in-memory store (three
    /// times the result: its members are kept read, and its last answer
    /// written).
    pub fn size(&self) -> usize {
        3 * self.result.get().len() + std::mem::size_of::<Self>()
    }
}

/// What to forget.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Invalidation<'a> {
    /// Every result of this tool.
    Tool(&'a str),
    /// One result.
    Key(&'a CacheKey),
    /// Everything.
    All,
}

/// A store failed; the layer then calls the tool (and counts the failure),
/// never failing the caller.
#[derive(Debug, thiserror::Error)]
#[error("cache store: {message}")]
pub struct StoreError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// An error saying `message`, caused by `source`.
    pub fn new(message: impl Into<String>, source: Option<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self { message: message.into(), source }
    }
}

/// Where the [cache layer](super::CacheLayer) keeps results: in memory
/// ([`InMemoryCacheStore`](super::InMemoryCacheStore), the default) or in
/// DynamoDB ([`DynamoDbCacheStore`](super::DynamoDbCacheStore), feature
/// `dynamodb`).
///
/// Implement it for another backend (Redis, ElastiCache...). A store may
/// return an expired result: the layer checks
/// [`expires_at_ms`](CachedResult::expires_at_ms) against its own clock
/// before serving one. Errors are never shown to callers: the layer logs
/// and counts them, then calls the tool.
#[async_trait]
pub trait CacheStore: Send + Sync + 'static {
    /// The result stored under `key`, if any.
    async fn get(&self, key: &CacheKey) -> Result<Option<Arc<CachedResult>>, StoreError>;

    /// Stores `result` under `key`, replacing what was there.
    async fn put(&self, key: &CacheKey, result: Arc<CachedResult>) -> Result<(), StoreError>;

    /// Forgets results.
    async fn invalidate(&self, what: Invalidation<'_>) -> Result<(), StoreError>;

    /// The result under `key` when the store can tell without waiting
    /// (`Some(None)`: it has none); `None` (the default) when it cannot,
    /// and the layer then awaits [`get`](Self::get). A store in this
    /// process implements it, so that a hit costs no task and no allocation
    /// beyond the answer.
    fn peek(&self, key: &CacheKey) -> Option<Option<Arc<CachedResult>>> {
        let _ = key;
        None
    }
}
