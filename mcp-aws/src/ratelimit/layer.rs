//! [`RateLimitLayer`]: the configuration, and the tower layer applying it.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tower_layer::Layer;

use super::RateLimit;
use super::counted::Counted;
use super::key::Key;
use super::limiter::{Config, Limiter, LimiterClock};
use super::quota::{Quota, QuotaResolver, SharedResolver};

/// Rate limits requests per [`Key`], with a default [`Quota`], per-key
/// quotas from a [`QuotaResolver`], and per-tool quotas. See the
/// [module docs](super).
///
/// Each [`layer`](Layer::layer) call starts a limiter of its own: wrap the
/// dispatcher once, and share the resulting service (it is cheap to clone;
/// clones share the limiter).
#[derive(Clone)]
#[must_use]
pub struct RateLimitLayer {
    key: Key,
    default: Option<Quota>,
    resolver: Option<SharedResolver>,
    tools: Vec<(String, Quota)>,
    counted: Counted,
    housekeeping: Duration,
    clock: Option<super::FakeClock>,
}

impl fmt::Debug for RateLimitLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("key", &self.key)
            .field("default", &self.default)
            .field("resolver", &self.resolver.is_some())
            .field("tools", &self.tools)
            .field("counted", &self.counted)
            .field("housekeeping", &self.housekeeping)
            .finish_non_exhaustive()
    }
}

impl RateLimitLayer {
    /// A limiter counting requests per `key`, with no quota yet: add one
    /// with [`quota`](Self::quota), [`resolver`](Self::resolver) or
    /// [`tool_quota`](Self::tool_quota).
    pub fn new(key: Key) -> Self {
        Self {
            key,
            default: None,
            resolver: None,
            tools: Vec::new(),
            counted: Counted::default(),
            housekeeping: Duration::from_secs(60),
            clock: None,
        }
    }

    /// The limiter the deployment settings ask for: `None` without
    /// `MCP_RATE_LIMIT_PER_MINUTE`; otherwise that many tool calls a minute
    /// per caller (the authenticated principal, else the client IP), and,
    /// with feature `auth`, an API key's own `rate_limit` (from the key
    /// table) instead when it has one.
    ///
    /// ```
    /// use mcp_aws::config::DeployConfig;
    /// use mcp_aws::ratelimit::RateLimitLayer;
    ///
    /// let config = DeployConfig::from_vars(|name| (name == "MCP_RATE_LIMIT_PER_MINUTE").then(|| "120".to_owned()))
    ///     .expect("valid settings");
    /// assert!(RateLimitLayer::from_config(&config).is_some());
    /// assert!(RateLimitLayer::from_config(&DeployConfig::default()).is_none());
    /// ```
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn from_config(config: &crate::config::DeployConfig) -> Option<Self> {
        let per_minute = config.rate_limit_per_minute?;
        let layer = Self::new(Key::principal().or(Key::client_ip())).quota(Quota::per_minute(per_minute));
        #[cfg(feature = "auth")]
        let layer = layer.resolver(|r: &mcp_core::server::ServerRequest| {
            r.extensions.get::<Arc<crate::auth::ApiKeyRecord>>()?.rate_limit.map(Quota::per_minute)
        });
        Some(layer)
    }

    /// The quota of every key the resolver has none for.
    pub fn quota(mut self, quota: Quota) -> Self {
        self.default = Some(quota);
        self
    }

    /// Per-key quotas, for example the API key's own rate from the
    /// request's extensions. Keys it returns `None` for get the default
    /// quota (or no limit, without one).
    pub fn resolver(mut self, resolver: impl QuotaResolver) -> Self {
        self.resolver = Some(Arc::new(resolver));
        self
    }

    /// A quota for calls of one tool, per key, on top of the key's own
    /// quota: for example `Quota::per_minute(10)` on an expensive tool.
    pub fn tool_quota(mut self, tool: impl Into<String>, quota: Quota) -> Self {
        let tool = tool.into();
        self.tools.retain(|(name, _)| *name != tool);
        self.tools.push((tool, quota));
        self
    }

    /// Which requests spend the key's quota: [`Counted::ToolCalls`] by
    /// default, so that protocol set-up (`initialize`, `server/discover`),
    /// lists and `ping` never do; [`Counted::AllRequests`] or
    /// [`Counted::Methods`] to count more. Per-tool quotas always apply to
    /// their tool's calls.
    ///
    /// ```
    /// use mcp_aws::ratelimit::{Counted, Key, Quota, RateLimitLayer};
    ///
    /// // 600 requests a minute, whatever the method.
    /// let all = RateLimitLayer::new(Key::client_ip()).quota(Quota::per_minute(600)).counting(Counted::AllRequests);
    /// // Tool calls and resource reads.
    /// let some = RateLimitLayer::new(Key::client_ip())
    ///     .quota(Quota::per_minute(600))
    ///     .counting(Counted::methods(["tools/call", "resources/read"]));
    /// # let _ = (all, some);
    /// ```
    pub fn counting(mut self, counted: Counted) -> Self {
        self.counted = counted;
        self
    }

    /// How often idle keys are forgotten (default 60 s). A key is idle once
    /// its bucket is full again, so forgetting it changes no decision.
    pub fn housekeeping_interval(mut self, every: Duration) -> Self {
        self.housekeeping = every;
        self
    }

    /// Uses a manually advanced clock instead of the real one, for
    /// deterministic tests.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_aws::ratelimit::{FakeClock, Key, Quota, RateLimitLayer};
    ///
    /// let clock = FakeClock::default();
    /// let layer = RateLimitLayer::new(Key::global()).quota(Quota::per_second(5)).with_fake_clock(clock.clone());
    /// clock.advance(Duration::from_millis(200)); // one request's worth comes back
    /// # let _ = layer;
    /// ```
    pub fn with_fake_clock(mut self, clock: super::FakeClock) -> Self {
        self.clock = Some(clock);
        self
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> RateLimit<S> {
        let clock = match &self.clock {
            Some(fake) => LimiterClock::Fake(fake.clone()),
            None => LimiterClock::Real(Instant::now()),
        };
        let limiter = Limiter::new(Config {
            key: self.key.clone(),
            default: self.default,
            resolver: self.resolver.clone(),
            tools: self.tools.clone(),
            counted: self.counted.clone(),
            housekeeping: self.housekeeping,
            clock,
        });
        RateLimit::new(inner, Arc::new(limiter))
    }
}
