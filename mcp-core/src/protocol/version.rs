//! Protocol versions and everything that differs between them.
//!
//! Every per-version difference the runtime knows about is a predicate here,
//! so the rest of the code asks `version.has_batches()` rather than comparing
//! strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A protocol version this SDK speaks.
///
/// Unknown versions never get past the edge: a legacy `initialize` negotiates
/// down to [`ProtocolVersion::LATEST_LEGACY`] and a stateless request with an
/// unknown version is rejected with -32022, so there is no `Unknown` variant
/// to handle downstream and the type stays `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// 2024-11-05: the first release.
    V2024_11_05,
    /// 2025-03-26: Streamable HTTP, JSON-RPC batches.
    V2025_03_26,
    /// 2025-06-18: structured tool output, elicitation, no batches.
    V2025_06_18,
    /// 2025-11-25: icons, URL elicitation, tool input errors as results.
    V2025_11_25,
    /// 2026-07-28: the stateless protocol (no `initialize`, no sessions).
    V2026_07_28,
}

/// The protocol version string was not one this SDK supports.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unsupported protocol version {0:?}")]
pub struct UnknownVersion(pub String);

impl ProtocolVersion {
    /// Every supported version, oldest first.
    pub const ALL: [Self; 5] =
        [Self::V2024_11_05, Self::V2025_03_26, Self::V2025_06_18, Self::V2025_11_25, Self::V2026_07_28];
    /// The newest version.
    pub const LATEST: Self = Self::V2026_07_28;
    /// The newest version negotiated with `initialize`.
    pub const LATEST_LEGACY: Self = Self::V2025_11_25;
    /// The versions served statelessly (advertised by `server/discover`).
    pub const MODERN: [Self; 1] = [Self::V2026_07_28];

    /// The wire string, e.g. `"2025-11-25"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V2024_11_05 => "2024-11-05",
            Self::V2025_03_26 => "2025-03-26",
            Self::V2025_06_18 => "2025-06-18",
            Self::V2025_11_25 => "2025-11-25",
            Self::V2026_07_28 => "2026-07-28",
        }
    }

    /// Parses a wire string.
    ///
    /// # Errors
    /// [`UnknownVersion`] for any string that is not a supported version.
    pub fn from_wire(s: &str) -> Result<Self, UnknownVersion> {
        Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| UnknownVersion(s.to_owned()))
    }

    /// The version a legacy `initialize` settles on: the client's own when it
    /// is a supported legacy version, otherwise the newest legacy one.
    pub fn negotiate(requested: &str) -> Self {
        match Self::from_wire(requested) {
            Ok(v) if !v.is_stateless() => v,
            _ => Self::LATEST_LEGACY,
        }
    }

    /// The stateless era (2026-07-28 on): no `initialize`, no sessions, every
    /// request carries its version and client capabilities in `_meta`.
    pub const fn is_stateless(self) -> bool {
        matches!(self, Self::V2026_07_28)
    }

    /// Whether a session's SSE streams open with a priming event (an id to
    /// resume from, no data): from 2025-11-25 on.
    pub const fn has_sse_priming(self) -> bool {
        matches!(self, Self::V2025_11_25 | Self::V2026_07_28)
    }

    /// JSON-RPC batches must be accepted (2025-03-26 only).
    pub const fn has_batches(self) -> bool {
        matches!(self, Self::V2025_03_26)
    }

    /// Tool `outputSchema` / `structuredContent`, elicitation and resource
    /// links exist (2025-06-18 on).
    pub const fn has_structured_content(self) -> bool {
        !matches!(self, Self::V2024_11_05 | Self::V2025_03_26)
    }

    /// Elicitation (`elicitation/create`) exists (2025-06-18 on).
    pub const fn has_elicitation(self) -> bool {
        self.has_structured_content()
    }

    /// Tool argument validation failures are reported as `isError` results
    /// rather than -32602 (2025-11-25 on).
    pub const fn tool_input_errors_are_results(self) -> bool {
        matches!(self, Self::V2025_11_25 | Self::V2026_07_28)
    }

    /// Icons, titles and URL elicitation exist (2025-11-25 on).
    pub const fn has_icons(self) -> bool {
        matches!(self, Self::V2025_11_25 | Self::V2026_07_28)
    }

    /// Every result carries `resultType`, and the list/read results carry
    /// `ttlMs` and `cacheScope` (2026-07-28 on).
    pub const fn has_result_type(self) -> bool {
        self.is_stateless()
    }

    /// The server may send requests to the client (sampling, elicitation,
    /// roots, ping). In the stateless era it asks with `input_required`.
    pub const fn has_server_requests(self) -> bool {
        !self.is_stateless()
    }

    /// The JSON-RPC code for an unknown resource URI: -32002 before
    /// 2026-07-28, -32602 after.
    pub const fn resource_not_found_code(self) -> crate::jsonrpc::ErrorCode {
        if self.is_stateless() {
            crate::jsonrpc::ErrorCode::INVALID_PARAMS
        } else {
            crate::jsonrpc::ErrorCode::RESOURCE_NOT_FOUND
        }
    }

    /// The method exists in this version.
    pub fn has_method(self, method: &str) -> bool {
        use crate::protocol::methods as m;
        match method {
            m::INITIALIZE | m::PING | m::LOGGING_SET_LEVEL | m::RESOURCES_SUBSCRIBE | m::RESOURCES_UNSUBSCRIBE => {
                !self.is_stateless()
            }
            m::SERVER_DISCOVER | m::SUBSCRIPTIONS_LISTEN | m::TASKS_GET | m::TASKS_UPDATE | m::TASKS_CANCEL => {
                self.is_stateless()
            }
            _ => true,
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProtocolVersion {
    type Err = UnknownVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_wire(s)
    }
}

impl Serialize for ProtocolVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProtocolVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::from_wire(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        assert_eq!(ProtocolVersion::negotiate("2025-03-26"), ProtocolVersion::V2025_03_26);
        assert_eq!(ProtocolVersion::negotiate("2026-07-28"), ProtocolVersion::V2025_11_25);
        assert_eq!(ProtocolVersion::negotiate("1999-01-01"), ProtocolVersion::V2025_11_25);
        assert!(ProtocolVersion::V2025_03_26.has_batches());
        assert!(!ProtocolVersion::V2025_06_18.has_batches());
        assert!(ProtocolVersion::V2024_11_05 < ProtocolVersion::V2026_07_28);
    }
}
