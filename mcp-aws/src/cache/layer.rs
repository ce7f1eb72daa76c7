//! [`CacheLayer`]: which tools are cached, for how long, for whom, where;
//! and the handle for invalidating and reading the counters.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use mcp_core::protocol::{CacheScope, ProtocolVersion};
use mcp_core::server::{Principal, ResultCaching, Server, ToolCaching};
use serde_json::value::RawValue;
use tower_layer::Layer;

use super::Cache;
use super::flight::Flights;
use super::key::{CacheKey, KeyParts};
use super::memory::InMemoryCacheStore;
use super::stats::{CacheStats, Counters};
use super::store::{CacheStore, Invalidation, StoreError};

/// Caches `tools/call` results; see the [module docs](super).
///
/// Cheap to clone: clones, and every service they build, share the store,
/// the calls in flight and the counters, so the layer is also the handle
/// for [invalidating](Self::invalidate_tool) and [reading
/// counts](Self::stats).
#[derive(Clone)]
#[must_use]
pub struct CacheLayer {
    pub(super) shared: Arc<Shared>,
}

/// What the layer and its services share.
pub(super) struct Shared {
    pub(super) server: Server,
    /// `"{name} {version}"`: in every key, so that a new release does not
    /// read the old one's results from a shared table.
    pub(super) server_id: String,
    /// The hash state of `server_id`, which every key starts from.
    pub(super) key_prefix: sha2::Sha256,
    pub(super) store: Arc<dyn CacheStore>,
    pub(super) default_ttl: Duration,
    pub(super) default_scope: CacheScope,
    pub(super) read_only: bool,
    pub(super) tools: HashMap<String, ResultCaching>,
    pub(super) store_timeout: Duration,
    pub(super) flights: Flights,
    pub(super) counters: Arc<Counters>,
    pub(super) clock: Clock,
    /// The revision each tool had when last called: a new one means the
    /// tool was replaced, and its old results are dropped.
    pub(super) revisions: RwLock<HashMap<Arc<str>, u64>>,
}

impl fmt::Debug for CacheLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.shared;
        f.debug_struct("CacheLayer")
            .field("default_ttl", &s.default_ttl)
            .field("default_scope", &s.default_scope)
            .field("read_only", &s.read_only)
            .field("tools", &s.tools)
            .field("stats", &s.counters.snapshot())
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the Unix epoch, advancing with tokio's clock (so a
/// paused test clock moves it).
pub(super) struct Clock {
    epoch_ms: u64,
    start: tokio::time::Instant,
}

impl Clock {
    fn new() -> Self {
        let epoch_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self { epoch_ms, start: tokio::time::Instant::now() }
    }

    pub(super) fn now_ms(&self) -> u64 {
        self.epoch_ms.saturating_add(u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX))
    }
}

/// When a tool's results are cached: for how long, for whom.
#[derive(Clone, Copy, Debug)]
pub(super) struct Policy {
    pub(super) ttl: Duration,
    pub(super) scope: CacheScope,
}

impl CacheLayer {
    /// A cache for `server`'s tools, in memory
    /// ([`InMemoryCacheStore::default`]), caching the tools that declare a
    /// time to live (`#[tool(cache_ttl = "60s")]`) and those named with
    /// [`tool`](Self::tool). Default time to live 300 s (the deployment
    /// guide's `CACHE_TTL`), default scope [`CacheScope::Private`].
    ///
    /// The server is read on each call, so tools added or replaced at run
    /// time are followed.
    pub fn new(server: &Server) -> Self {
        let memory = InMemoryCacheStore::default();
        let evictions = memory.clone();
        let counters = Counters { evictions: Some(Arc::new(move || evictions.evictions())), ..Counters::default() };
        let info = server.info();
        Self {
            shared: Arc::new(Shared {
                server: server.clone(),
                server_id: format!("{} {}", info.name, info.version),
                key_prefix: super::key::prefix(&format!("{} {}", info.name, info.version)),
                store: Arc::new(memory),
                default_ttl: Duration::from_secs(300),
                default_scope: CacheScope::Private,
                read_only: false,
                tools: HashMap::new(),
                store_timeout: Duration::from_secs(2),
                flights: Flights::default(),
                counters: Arc::new(counters),
                clock: Clock::new(),
                revisions: RwLock::new(HashMap::new()),
            }),
        }
    }

    /// The cache the deployment's settings ask for
    /// ([`CacheSettings`](crate::config::CacheSettings): `ENABLE_CACHING`,
    /// `CACHE_TTL`, `DYNAMODB_TABLE`, `MCP_CACHE_*`), or `None` when caching
    /// is off. Results go to DynamoDB when `DYNAMODB_TABLE` is set (feature
    /// `dynamodb`), else to memory. The default scope is private when the
    /// settings authenticate callers, public otherwise (everyone is then
    /// one anonymous caller).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use mcp_aws::cache::CacheLayer;
    /// use mcp_aws::config::DeployConfig;
    ///
    /// let server = mcp_core::server::ServerBuilder::new("s", "1").build().expect("valid");
    /// let config = DeployConfig::from_vars(|name| (name == "ENABLE_CACHING").then(|| "true".to_owned())).expect("valid");
    /// let cache = CacheLayer::from_config(&server, &config).await.expect("settings").expect("caching is on");
    /// # let _ = cache;
    /// # }
    /// ```
    ///
    /// # Errors
    /// `DYNAMODB_TABLE` is set but this build has no `dynamodb` feature.
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub async fn from_config(
        server: &Server,
        config: &crate::config::DeployConfig,
    ) -> Result<Option<Self>, crate::config::ConfigError> {
        let settings = &config.cache;
        if !settings.enabled {
            return Ok(None);
        }
        let scope = if config.auth.is_enabled() { CacheScope::Private } else { CacheScope::Public };
        let layer = Self::new(server)
            .default_ttl(settings.ttl)
            .default_scope(scope)
            .cache_read_only(settings.read_only)
            .in_memory(settings.max_entries, settings.max_bytes);
        let Some(table) = &settings.table else { return Ok(Some(layer)) };
        #[cfg(feature = "dynamodb")]
        {
            Ok(Some(layer.store(super::DynamoDbCacheStore::from_env(table.clone()).await)))
        }
        #[cfg(not(feature = "dynamodb"))]
        {
            let _ = layer;
            Err(crate::config::ConfigError {
                variable: "DYNAMODB_TABLE",
                value: table.clone(),
                reason: "caching in DynamoDB needs mcp-aws's `dynamodb` feature",
            })
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Shared)) -> Self {
        if Arc::get_mut(&mut self.shared).is_none() {
            // Shared already (a clone exists): configure a layer of its own.
            let s = &self.shared;
            self.shared = Arc::new(Shared {
                server: s.server.clone(),
                server_id: s.server_id.clone(),
                key_prefix: s.key_prefix.clone(),
                store: Arc::clone(&s.store),
                default_ttl: s.default_ttl,
                default_scope: s.default_scope,
                read_only: s.read_only,
                tools: s.tools.clone(),
                store_timeout: s.store_timeout,
                flights: Flights::default(),
                counters: Arc::new(Counters { evictions: s.counters.evictions.clone(), ..Counters::default() }),
                clock: Clock::new(),
                revisions: RwLock::new(HashMap::new()),
            });
        }
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            f(shared);
        }
        self
    }

    /// Keeps results in `store` instead of the default in-memory one.
    pub fn store(self, store: impl CacheStore) -> Self {
        self.edit(|s| {
            s.store = Arc::new(store);
            s.counters = Arc::new(Counters::default());
        })
    }

    /// Keeps results in memory, at most `max_entries` of them and
    /// `max_bytes` bytes.
    pub fn in_memory(self, max_entries: u64, max_bytes: u64) -> Self {
        let memory = InMemoryCacheStore::new(max_entries, max_bytes);
        let evictions = memory.clone();
        self.edit(|s| {
            s.store = Arc::new(memory);
            s.counters =
                Arc::new(Counters { evictions: Some(Arc::new(move || evictions.evictions())), ..Counters::default() });
        })
    }

    /// The time to live of tools cached without one of their own (the
    /// read-only switch, a scope alone). Zero turns those off.
    pub fn default_ttl(self, ttl: Duration) -> Self {
        self.edit(|s| s.default_ttl = ttl)
    }

    /// The scope of tools that declare none: [`CacheScope::Private`] (the
    /// default: each caller its own results, keyed by the authenticated
    /// [`Principal`]; callers without one share the anonymous context) or
    /// [`CacheScope::Public`] (one result for every caller).
    pub fn default_scope(self, scope: CacheScope) -> Self {
        self.edit(|s| s.default_scope = scope)
    }

    /// Also caches every tool annotated read-only (`#[tool(read_only)]`),
    /// for the default time to live, unless it declares its own.
    pub fn cache_read_only(self, yes: bool) -> Self {
        self.edit(|s| s.read_only = yes)
    }

    /// Caches tool `name` for `ttl` (over what the tool declares; zero: the
    /// [default time to live](Self::default_ttl)).
    pub fn tool(self, name: impl Into<String>, ttl: Duration) -> Self {
        let name = name.into();
        self.edit(|s| {
            s.tools.insert(name, ResultCaching::new(ttl));
        })
    }

    /// Caches tool `name` for `ttl` (zero: the default) in `scope` (over
    /// what the tool declares).
    pub fn tool_in_scope(self, name: impl Into<String>, ttl: Duration, scope: CacheScope) -> Self {
        let name = name.into();
        let mut caching = ResultCaching::new(ttl);
        caching.scope = Some(scope);
        self.edit(|s| {
            s.tools.insert(name, caching);
        })
    }

    /// How long a store operation may take before the call goes on without
    /// it (default 2 s): a slow store never holds a caller up longer.
    pub fn store_timeout(self, timeout: Duration) -> Self {
        self.edit(|s| s.store_timeout = timeout)
    }

    /// The counts so far.
    pub fn stats(&self) -> CacheStats {
        self.shared.counters.snapshot()
    }

    /// Exports the counts as OpenTelemetry counters through `meter`
    /// (`mcp.server.cache.hits`, `.misses`, `.evictions`, `.store_errors`),
    /// read at each export: nothing per request.
    #[cfg(feature = "otel")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
    pub fn observe(&self, meter: &opentelemetry::metrics::Meter) {
        super::stats::observe(&self.shared.counters, meter);
    }

    /// The counters, for EMF.
    #[cfg(feature = "emf")]
    pub(crate) fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.shared.counters)
    }

    /// Forgets every result of tool `name`.
    ///
    /// # Errors
    /// The store failed.
    pub async fn invalidate_tool(&self, name: &str) -> Result<(), StoreError> {
        self.shared.store.invalidate(Invalidation::Tool(name)).await
    }

    /// Forgets one result ([`key_for`](Self::key_for) names it).
    ///
    /// # Errors
    /// The store failed.
    pub async fn invalidate_key(&self, key: &CacheKey) -> Result<(), StoreError> {
        self.shared.store.invalidate(Invalidation::Key(key)).await
    }

    /// Forgets every result.
    ///
    /// # Errors
    /// The store failed.
    pub async fn invalidate_all(&self) -> Result<(), StoreError> {
        self.shared.store.invalidate(Invalidation::All).await
    }

    /// The key a call of `tool` with `arguments` (a JSON object's text) by
    /// `principal` in protocol `version` is stored under, as the tool is
    /// registered now; `None` when the tool is not cached or not
    /// registered, or the arguments are not JSON.
    pub fn key_for(
        &self,
        tool: &str,
        arguments: &str,
        principal: Option<&Principal>,
        version: ProtocolVersion,
    ) -> Option<CacheKey> {
        let facts = self.shared.server.tool_caching(tool)?;
        let policy = self.shared.policy(tool, &facts)?;
        let raw = RawValue::from_string(arguments.to_owned()).ok()?;
        self.shared.key_parts(&facts, policy.scope, principal, version).key(&Arc::from(tool), Some(&raw))
    }
}

impl Shared {
    /// How `tool` is cached, if it is.
    pub(super) fn policy(&self, tool: &str, facts: &ToolCaching) -> Option<Policy> {
        let chosen = match (self.tools.get(tool), facts.declared) {
            (Some(layer), _) => *layer,
            (None, Some(declared)) => declared,
            (None, None) if self.read_only && facts.read_only => ResultCaching::new(Duration::ZERO),
            (None, None) => return None,
        };
        let ttl = if chosen.ttl.is_zero() { self.default_ttl } else { chosen.ttl };
        (!ttl.is_zero()).then(|| Policy { ttl, scope: chosen.scope.unwrap_or(self.default_scope) })
    }

    pub(super) fn key_parts<'a>(
        &'a self,
        facts: &ToolCaching,
        scope: CacheScope,
        principal: Option<&'a Principal>,
        version: ProtocolVersion,
    ) -> KeyParts<'a> {
        KeyParts { prefix: &self.key_prefix, revision: facts.revision, version, scope, principal }
    }
}

impl<S> Layer<S> for CacheLayer {
    type Service = Cache<S>;

    fn layer(&self, inner: S) -> Cache<S> {
        Cache { inner, shared: Arc::clone(&self.shared) }
    }
}
