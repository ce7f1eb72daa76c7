//! What a tool says about reusing its results, for result-cache layers
//! (`mcp_aws::cache`): a time to live and a [`CacheScope`] per tool
//! (`#[tool(cache_ttl = "60s")]`, [`ToolRoute::cache_ttl`]), read live from
//! the [`Server`] with [`Server::tool_caching`]. The dispatcher itself
//! caches nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::Server;
use super::tool::ToolRoute;
use crate::protocol::CacheScope;

/// How long a tool's successful results may be reused, and by whom.
///
/// ```
/// use std::time::Duration;
/// use mcp_core::protocol::CacheScope;
/// use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
///
/// let server = ServerBuilder::new("s", "1")
///     .tool(
///         ToolRoute::new("rates", |_ctx: Context, _: NoArgs| async { "1.08" })
///             .cache_ttl(Duration::from_secs(60))
///             .cache_scope(CacheScope::Public),
///     )
///     .build()
///     .unwrap();
/// let declared = server.tool_caching("rates").and_then(|c| c.declared).expect("declared");
/// assert_eq!((declared.ttl, declared.scope), (Duration::from_secs(60), Some(CacheScope::Public)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ResultCaching {
    /// How long a result stays fresh.
    pub ttl: Duration,
    /// Who may be served a stored result: [`CacheScope::Public`] any
    /// caller, [`CacheScope::Private`] only the caller it was made for.
    /// `None`: the cache layer's default.
    pub scope: Option<CacheScope>,
}

impl ResultCaching {
    /// Results fresh for `ttl`, in the layer's default scope.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, scope: None }
    }
}

/// What [`Server::tool_caching`] tells a cache layer about one tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ToolCaching {
    /// What the tool declared, if anything.
    pub declared: Option<ResultCaching>,
    /// Whether the tool is annotated read-only (`readOnlyHint`).
    pub read_only: bool,
    /// Changes each time a tool of this name is registered (replaced at run
    /// time): caches key on it, so a replaced tool is never answered with
    /// its predecessor's results. Tools registered in the same order get
    /// the same revisions in every process of one binary.
    pub revision: u64,
}

/// A route's caching facts, kept beside its handler.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RouteCaching {
    pub(crate) declared: Option<ResultCaching>,
    pub(crate) revision: u64,
}

/// The next route revision (process-wide).
pub(crate) fn next_revision() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl ToolRoute {
    /// Lets a result cache reuse this tool's successful results for `ttl`
    /// (`#[tool(cache_ttl = "60s")]`). Only a cache layer acts on it.
    #[must_use]
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        let scope = self.caching.declared.and_then(|d| d.scope);
        self.caching.declared = Some(ResultCaching { ttl, scope });
        self
    }

    /// Who a cached result may be served to (`#[tool(cache_scope =
    /// "public")]`); without [`cache_ttl`](Self::cache_ttl) it marks the
    /// tool for the layer's default time to live.
    #[must_use]
    pub fn cache_scope(mut self, scope: CacheScope) -> Self {
        let declared = self.caching.declared.get_or_insert(ResultCaching { ttl: Duration::ZERO, scope: None });
        declared.scope = Some(scope);
        self
    }

    /// What [`cache_ttl`](Self::cache_ttl) and
    /// [`cache_scope`](Self::cache_scope) set (a zero `ttl`: the layer's
    /// default).
    pub fn caching(&self) -> Option<ResultCaching> {
        self.caching.declared
    }
}

impl Server {
    /// The caching facts of tool `name` as registered now; `None` when no
    /// such tool is registered.
    pub fn tool_caching(&self, name: &str) -> Option<ToolCaching> {
        let routes = self.routes();
        let route = routes.tool(name)?;
        Some(ToolCaching {
            declared: route.caching.declared,
            read_only: route.tool.annotations.as_ref().and_then(|a| a.read_only_hint).unwrap_or(false),
            revision: route.caching.revision,
        })
    }
}
