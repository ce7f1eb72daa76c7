//! [`Counted`]: which requests spend a key's quota.

use mcp_core::server::Method;

/// Which requests spend a key's quota ([`RateLimitLayer::counting`]).
///
/// Notifications and responses never count, whatever this says. Per-tool
/// quotas ([`RateLimitLayer::tool_quota`]) apply to their tool's calls in
/// every case.
///
/// [`RateLimitLayer::counting`]: super::RateLimitLayer::counting
/// [`RateLimitLayer::tool_quota`]: super::RateLimitLayer::tool_quota
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Counted {
    /// `tools/call` only (the default): `initialize`, `server/discover`,
    /// lists, reads and `ping` are free, so a quota of N admits N tool
    /// calls whatever a client does to set up.
    #[default]
    ToolCalls,
    /// Every request, whatever its method.
    AllRequests,
    /// Requests with these methods (`"tools/call"`, `"resources/read"`...).
    Methods(Vec<String>),
}

impl Counted {
    /// [`Counted::Methods`] from a list of method names.
    pub fn methods<I, M>(methods: I) -> Self
    where
        I: IntoIterator<Item = M>,
        M: Into<String>,
    {
        Self::Methods(methods.into_iter().map(Into::into).collect())
    }

    /// Whether a request with `method` spends quota.
    pub fn counts(&self, method: Option<&Method>) -> bool {
        match self {
            Self::ToolCalls => matches!(method, Some(Method::ToolsCall)),
            Self::AllRequests => true,
            Self::Methods(list) => method.is_some_and(|m| list.iter().any(|name| name == m.as_str())),
        }
    }
}
