//! A tool-result cache as a tower layer over the dispatcher: in memory by
//! default, in DynamoDB (the deployment guide's `mcp-tool-results-{env}`
//! table, TTL on `expires_at`) with feature `dynamodb`.
//!
//! [`CacheLayer`] answers a `tools/call` of a cached tool from its
//! [`CacheStore`] when it holds a fresh result for the same call, and
//! otherwise lets the call through and stores what comes back. Being a
//! layer, it works on every transport (stdio, HTTP, Lambda, AgentCore) and
//! behind the REST façade and the gateway. What it does:
//!
//! - **which tools**: those that opt in, with their own time to live
//!   (`#[tool(cache_ttl = "60s")]`, [`ToolRoute::cache_ttl`](mcp_core::server::ToolRoute::cache_ttl)),
//!   those named on the layer ([`CacheLayer::tool`]), and, with
//!   [`CacheLayer::cache_read_only`], every tool annotated read-only. Only a
//!   complete, successful result is stored: never a JSON-RPC error, an
//!   `isError` result, an `input_required` round or a task; requests that
//!   carry a later round's input or ask for a task go straight through.
//! - **the key** ([`CacheKey`]): the tool's name and a SHA-256 of the
//!   arguments in canonical form (key order and whitespace do not matter),
//!   the protocol version, the tool's revision, and, when the tool's scope is
//!   [private](mcp_core::protocol::CacheScope::Private) (the default), the caller's
//!   `Principal`: one caller never sees
//!   another's result. A [public](mcp_core::protocol::CacheScope::Public) tool shares one result
//!   between callers.
//! - **freshness**: each result is fresh for its tool's time to live, by
//!   the layer's clock, whatever the store (DynamoDB deletes expired items
//!   lazily; the layer never serves one). 2026-07-28 answers of cached tools
//!   carry the caching hints with `CacheableResult`'s meaning: `ttlMs`, what
//!   is left of the time to live, and `cacheScope`, the scope the layer keyed
//!   the result by.
//! - **single flight**: concurrent identical calls run the tool once; the
//!   others wait for its answer (errors included, which are shared but
//!   never stored).
//! - **bounded memory**: [`InMemoryCacheStore`] bounds entries and bytes
//!   (on `quick_cache`: already a dependency of `auth`, sub-100 ns reads, a
//!   weigher, eviction hooks; single flight lives in the layer so that it
//!   covers every store, DynamoDB included).
//! - **failures**: a store that fails or times out
//!   ([`CacheLayer::store_timeout`]) is logged and counted, and the tool
//!   runs: the caller never sees a cache error.
//! - **invalidation**: [`CacheLayer::invalidate_tool`],
//!   [`invalidate_key`](CacheLayer::invalidate_key),
//!   [`invalidate_all`](CacheLayer::invalidate_all); and automatically when
//!   a tool is replaced at run time ([`Server::add_tool`](mcp_core::server::Server::add_tool)):
//!   its new revision changes its keys, and its old results are dropped.
//! - **metrics**: [`CacheLayer::stats`]; OpenTelemetry counters with
//!   [`CacheLayer::observe`] (feature `otel`), and a span attribute
//!   `mcp.cache.hit` on each cached tool's call; EMF with
//!   [`Emf::with_cache`](crate::emf::Emf::with_cache) (feature `emf`).
//!
//! Place it innermost, just over the dispatcher (under auth, rate limits,
//! telemetry and timeouts): it needs the principal the auth layer inserts,
//! and telemetry then sees hits.
//!
//! ```
//! use std::time::Duration;
//! use mcp_aws::cache::CacheLayer;
//! use mcp_core::protocol::CacheScope;
//! use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
//!
//! let server = ServerBuilder::new("weather", "1.0.0")
//!     .tool(ToolRoute::new("forecast", |_ctx: Context, _: NoArgs| async { "sunny" }).cache_ttl(Duration::from_secs(60)))
//!     .build()
//!     .expect("valid");
//! let cache = CacheLayer::new(&server).default_scope(CacheScope::Public).in_memory(10_000, 64 << 20);
//! let app = server.layer(cache.clone());
//! // Later: `cache.invalidate_tool("forecast").await`, `cache.stats().hits`.
//! # let _ = app;
//! ```

#[cfg(feature = "dynamodb")]
mod dynamodb;
mod flight;
mod future;
mod key;
mod layer;
mod memory;
mod respond;
mod stats;
mod store;

use std::fmt;
use std::future::Future;
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll};

use mcp_core::jsonrpc::{Message, Response};
use mcp_core::server::{Principal, ServerRequest, Target};
use tower_service::Service;

#[cfg(feature = "dynamodb")]
#[cfg_attr(docsrs, doc(cfg(feature = "dynamodb")))]
pub use dynamodb::DynamoDbCacheStore;
pub use future::ResponseFuture;
pub use key::CacheKey;
pub use layer::CacheLayer;
pub use memory::InMemoryCacheStore;
pub use stats::CacheStats;
#[cfg(feature = "emf")]
pub(crate) use stats::Counters;
pub use store::{CacheStore, CachedResult, Invalidation, StoreError};

use flight::{Landing, Role};
use layer::{Policy, Shared};
use respond::Class;

/// The caching service [`CacheLayer`] builds. Cheap to clone.
#[derive(Clone)]
pub struct Cache<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> fmt::Debug for Cache<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache").field("stats", &self.shared.counters.snapshot()).finish_non_exhaustive()
    }
}

crate::inner_accessors!(Cache);

/// A cached tool's call, ready to look up.
struct Plan {
    key: CacheKey,
    policy: Policy,
    /// 2026-07-28: answer with `ttlMs` and `cacheScope`.
    hints: bool,
    /// The tool's revision: a new one (the tool was replaced) drops its old
    /// results.
    revision: u64,
}

impl<S> Service<ServerRequest> for Cache<S>
where
    S: Service<ServerRequest, Response = Option<Response>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Option<Response>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: ServerRequest) -> Self::Future {
        let Some(plan) = self.shared.plan(&req) else {
            return ResponseFuture::passed(self.inner.call(req));
        };
        // A store that answers at once (in memory): a hit needs no task.
        if let Some(Some(hit)) = self.shared.store.peek(&plan.key)
            && !hit.is_expired(self.shared.clock.now_ms())
            && let Some(id) = req.head().id().cloned()
        {
            self.shared.counters.hit();
            mark(&req, true);
            return ResponseFuture::hit(self.shared.answer(id, &plan, &hit));
        }
        // The ready service goes into the future; a clone stays behind.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        ResponseFuture::cached(Box::pin(async move { shared.serve(plan, inner, req).await }))
    }
}

impl Shared {
    /// The plan for `req` when it calls a cached tool and may be served
    /// from the cache.
    fn plan(&self, req: &ServerRequest) -> Option<Plan> {
        let head = req.head();
        if !head.is_tool_call() || head.id().is_none() || !head.is_well_formed() {
            return None;
        }
        let Some(Target::Tool(tool)) = head.target() else { return None };
        let version = head.protocol_version()?;
        let facts = self.server.tool_caching(tool)?;
        let policy = self.policy(tool, &facts)?;
        let params = match &req.message {
            Message::Request(r) => r.params.as_deref(),
            _ => None,
        };
        if respond::bound_to_itself(params) {
            return None;
        }
        let principal = req.extensions.get::<Principal>();
        let key = self.key_parts(&facts, policy.scope, principal, version).key(tool, head.arguments())?;
        Some(Plan { key, policy, hints: version.has_result_type(), revision: facts.revision })
    }

    /// Remembers the revision `tool` was called at; `true` when it changed
    /// (the tool was replaced, so its old results are unreachable).
    fn note_revision(&self, key: &CacheKey, revision: u64) -> bool {
        let tool = key.tool();
        let seen = self.revisions.read().unwrap_or_else(PoisonError::into_inner).get(tool).copied();
        if seen == Some(revision) {
            return false;
        }
        let mut revisions = self.revisions.write().unwrap_or_else(PoisonError::into_inner);
        revisions.insert(Arc::from(tool), revision).is_some_and(|old| old != revision)
    }

    async fn serve<S>(&self, plan: Plan, mut inner: S, req: ServerRequest) -> Result<Option<Response>, S::Error>
    where
        S: Service<ServerRequest, Response = Option<Response>>,
    {
        let Some(id) = req.head().id().cloned() else { return inner.call(req).await };
        // After a replacement the first call is a miss (the key changed):
        // checked here, off the hit path.
        if self.note_revision(&plan.key, plan.revision) {
            tracing::debug!(tool = plan.key.tool(), "tool replaced: its cached results are dropped");
            let drop_old = self.store.invalidate(Invalidation::Tool(plan.key.tool()));
            if let Err(e) = self.bounded(drop_old).await {
                self.store_failed("invalidate", &e);
            }
        }
        if let Some(hit) = self.lookup(&plan.key).await {
            self.counters.hit();
            mark(&req, true);
            return Ok(Some(self.answer(id, &plan, &hit)));
        }
        loop {
            match self.flights.join(&plan.key) {
                Role::Lead(lead) => {
                    // A leader that just landed may have stored it.
                    if let Some(hit) = self.lookup(&plan.key).await {
                        lead.land(Landing::Stored(Arc::clone(&hit)));
                        self.counters.hit();
                        mark(&req, true);
                        return Ok(Some(self.answer(id, &plan, &hit)));
                    }
                    self.counters.miss();
                    mark(&req, false);
                    let response = inner.call(req).await?;
                    return Ok(self.land(lead, &plan, response).await);
                }
                Role::Follow(slot) => match flight::follow(slot).await {
                    Some(Landing::Stored(hit)) => {
                        self.counters.hit();
                        mark(&req, true);
                        return Ok(Some(self.answer(id, &plan, &hit)));
                    }
                    Some(Landing::Shared(payload)) => {
                        mark(&req, false);
                        let payload = (*payload).clone();
                        return Ok(Some(Response { id: Some(id), payload, extensions: http::Extensions::new() }));
                    }
                    Some(Landing::Own) => {
                        self.counters.miss();
                        mark(&req, false);
                        return inner.call(req).await;
                    }
                    // The leader went away: join again.
                    None => {}
                },
            }
        }
    }

    /// Stores the leader's answer when it may be, and tells the followers.
    async fn land(&self, lead: flight::Lead<'_>, plan: &Plan, response: Option<Response>) -> Option<Response> {
        match respond::classify(response.as_ref()) {
            Class::Own => lead.land(Landing::Own),
            Class::Share => {
                if let Some(r) = &response {
                    lead.land(Landing::Shared(Arc::new(r.payload.clone())));
                }
            }
            Class::Store => {
                let mut response = response?;
                let Ok(raw) = &response.payload else { return Some(response) };
                let now = self.clock.now_ms();
                let ttl = u64::try_from(plan.policy.ttl.as_millis()).unwrap_or(u64::MAX);
                let entry = Arc::new(CachedResult::new(raw.clone(), now, now.saturating_add(ttl)));
                if let Err(e) = self.bounded(self.store.put(&plan.key, Arc::clone(&entry))).await {
                    self.store_failed("put", &e);
                }
                if plan.hints {
                    response.payload = Ok(respond::with_hints(&entry, ttl, plan.policy.scope));
                }
                lead.land(Landing::Stored(entry));
                return Some(response);
            }
        }
        response
    }

    /// A fresh result under `key`, if the store has one and answers in time.
    async fn lookup(&self, key: &CacheKey) -> Option<Arc<CachedResult>> {
        match self.bounded(self.store.get(key)).await {
            Ok(Some(hit)) if !hit.is_expired(self.clock.now_ms()) => Some(hit),
            Ok(_) => None,
            Err(e) => {
                self.store_failed("get", &e);
                None
            }
        }
    }

    /// `op`, given at most the store timeout. A store that answers at once
    /// (the in-memory one) never arms a timer.
    async fn bounded<T>(&self, op: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
        let mut op = std::pin::pin!(op);
        if let Poll::Ready(out) = std::future::poll_fn(|cx| Poll::Ready(op.as_mut().poll(cx))).await {
            return out;
        }
        match tokio::time::timeout(self.store_timeout, op).await {
            Ok(out) => out,
            Err(_) => Err(StoreError::new(format!("no answer within {:?}", self.store_timeout), None)),
        }
    }

    fn store_failed(&self, operation: &'static str, error: &dyn fmt::Display) {
        self.counters.store_error();
        tracing::warn!(operation, error = %error, "result cache store failed; the tool runs instead");
    }

    /// The answer to request `id` from a stored result.
    fn answer(&self, id: mcp_core::jsonrpc::RequestId, plan: &Plan, hit: &CachedResult) -> Response {
        let result = if plan.hints {
            let left = hit.expires_at_ms.saturating_sub(self.clock.now_ms());
            respond::with_hints(hit, left, plan.policy.scope)
        } else {
            hit.result.clone()
        };
        Response::result(id, result)
    }
}

/// Marks the call's span: `mcp.cache.hit`.
#[cfg(feature = "otel")]
fn mark(req: &ServerRequest, hit: bool) {
    if let Some(t) = req.extensions.get::<crate::telemetry::RequestTelemetry>() {
        t.set_attribute(opentelemetry::KeyValue::new("mcp.cache.hit", hit));
    }
}

#[cfg(not(feature = "otel"))]
fn mark(_: &ServerRequest, _: bool) {}
