//! Rate limiting on [`governor`](https://docs.rs/governor), as a tower
//! layer over the dispatcher: per-key quotas, burst, per-tool quotas.
//!
//! Every tool call counts against a [`Key`] (the principal, an API key
//! header, the client IP, or one global key). A key's [`Quota`] comes from
//! the layer's [`QuotaResolver`] (for example the API key's own rate) or its
//! default quota, and a call of a tool with its own quota also counts
//! against that. A refused request is answered at once, without reaching the
//! dispatcher, with a JSON-RPC error (code -31029, see [`Rejection`]); over
//! HTTP (and Lambda) it carries `Retry-After` and `RateLimit-*` headers,
//! with status 429 on stateless requests (legacy sessions keep 200, the
//! only status their clients read JSON-RPC errors from). Notifications and responses are never limited, so cancellations
//! and answers to the server's own requests always get through.
//!
//! Only `tools/call` spends a key's quota by default ([`Counted`]):
//! protocol set-up, lists and `ping` are free, so a quota is the number of
//! tool calls a client can make. With `Quota::per_minute(5)` per client,
//! the official Python client's pattern (`initialize`, the
//! `notifications/initialized` notification and its automatic `tools/list`
//! in a legacy session; `server/discover` and `tools/list` in the
//! stateless era) leaves all 5 tool calls; counting every request
//! ([`Counted::AllRequests`]) it would leave 3 (5 − `initialize` −
//! `tools/list`; notifications never count). [`Counted::Methods`] counts
//! the methods you name.
//!
//! Limits are checked in `call`, per request, never in `poll_ready`: one
//! client over its quota does not hold up anyone else. Memory follows the
//! active keys: keys whose buckets are full again are forgotten
//! periodically ([`RateLimitLayer::housekeeping_interval`]).
//!
//! ```
//! use mcp_aws::ratelimit::{Key, Quota, RateLimitLayer};
//! use mcp_core::server::ServerBuilder;
//! use tower_layer::Layer;
//!
//! let server = ServerBuilder::new("demo", "1.0.0").build().expect("valid");
//! let limited = RateLimitLayer::new(Key::principal().or(Key::client_ip()))
//!     .quota(Quota::per_minute(600).with_burst(50))
//!     .tool_quota("search", Quota::per_minute(10))
//!     .layer(server.clone());
//! # let _ = limited;
//! // Or, for any transport (`stdio::serve(app)`, `StreamableHttp::new(app)`,
//! // `mcp_aws::run(app)`), as one of the server's layers:
//! # let server = ServerBuilder::new("demo", "1.0.0").build().expect("valid");
//! let app = server.layer(RateLimitLayer::new(Key::global()).quota(Quota::per_second(100)));
//! # let _ = app;
//! ```

mod counted;
mod error;
mod future;
mod key;
mod layer;
mod limiter;
mod quota;

use std::fmt;
use std::sync::Arc;

use mcp_core::jsonrpc::Response;
use mcp_core::server::ServerRequest;
use tower_service::Service;

pub use counted::Counted;
pub use error::Rejection;
pub use future::ResponseFuture;
/// A manually advanced clock for deterministic tests
/// ([`RateLimitLayer::with_fake_clock`]): governor's `FakeRelativeClock`.
pub use governor::clock::FakeRelativeClock as FakeClock;
pub use key::Key;
pub use layer::RateLimitLayer;
pub use quota::{Quota, QuotaResolver};

use limiter::Limiter;

/// The rate-limited service that [`RateLimitLayer`] builds. Cheap to clone;
/// clones share the limiter.
#[derive(Clone)]
pub struct RateLimit<S> {
    inner: S,
    limiter: Arc<Limiter>,
}

impl<S> fmt::Debug for RateLimit<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit").field("tracked_keys", &self.limiter.tracked_keys()).finish_non_exhaustive()
    }
}

impl<S> RateLimit<S> {
    fn new(inner: S, limiter: Arc<Limiter>) -> Self {
        Self { inner, limiter }
    }

    /// Decides on `request` without calling the inner service: `Ok` admits
    /// it (and spends quota), `Err` says why not.
    ///
    /// # Errors
    /// The [`Rejection`] the service would answer with.
    pub fn check(&self, request: &ServerRequest) -> Result<(), Rejection> {
        if request.head().id().is_none() {
            return Ok(());
        }
        self.limiter.check(request, request.head().tool())
    }

    /// How many keys have state in memory (across the default, per-key and
    /// per-tool limiters).
    pub fn tracked_keys(&self) -> usize {
        self.limiter.tracked_keys()
    }

    /// Forgets idle keys now, as the periodic housekeeping does.
    pub fn forget_idle_keys(&self) {
        self.limiter.forget_idle_keys();
    }
}

crate::inner_service!(RateLimit, ResponseFuture);

impl<S> RateLimit<S>
where
    S: Service<ServerRequest, Response = Option<Response>>,
{
    /// What the service's `call` does.
    fn start(&mut self, request: ServerRequest) -> ResponseFuture<S::Future> {
        match self.check(&request) {
            Ok(()) => ResponseFuture::admitted(self.inner.call(request)),
            Err(rejection) => {
                tracing::debug!(retry_after_ms = rejection.retry_after_ms(), "request rate limited");
                ResponseFuture::rejected(rejection.to_response(request.head().id().cloned()))
            }
        }
    }
}
