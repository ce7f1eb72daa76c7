//! [`CacheSettings`]: the tool-result cache's settings (`ENABLE_CACHING`,
//! `CACHE_TTL`, `DYNAMODB_TABLE`, `MCP_CACHE_*`).

use std::time::Duration;

use super::{ConfigError, invalid, value_of};

/// Tool-result cache settings, with the deployment guide's variable
/// names. Plain values: feature `cache` turns them into a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheSettings {
    /// Whether caching is on (`ENABLE_CACHING`).
    pub enabled: bool,
    /// The time to live of tools cached without one of their own
    /// (`CACHE_TTL`).
    pub ttl: Duration,
    /// The DynamoDB table of results (`DYNAMODB_TABLE`); in memory without.
    pub table: Option<String>,
    /// Whether every read-only tool is cached (`MCP_CACHE_READ_ONLY`).
    pub read_only: bool,
    /// The in-memory bound on entries (`MCP_CACHE_MAX_ENTRIES`).
    pub max_entries: u64,
    /// The in-memory bound on bytes (`MCP_CACHE_MAX_BYTES`).
    pub max_bytes: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            ttl: Duration::from_secs(300),
            table: None,
            read_only: false,
            max_entries: 10_000,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

impl CacheSettings {
    /// Caching on, with these settings' other values.
    #[must_use]
    pub fn enabled(mut self) -> Self {
        self.enabled = true;
        self
    }

    pub(super) fn from_vars(var: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let one = |name: &'static str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let flag = |name: &'static str| match one(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("false" | "0") => Ok(false),
            Some("true" | "1") => Ok(true),
            Some(_) => Err(invalid(name, value_of(var, name), "expected true or false")),
        };
        let count = |name: &'static str, default: u64| match one(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid(name, value_of(var, name), "expected a whole number above 0")),
        };
        let mut cache = Self {
            enabled: flag("ENABLE_CACHING")?,
            table: one("DYNAMODB_TABLE"),
            read_only: flag("MCP_CACHE_READ_ONLY")?,
            max_entries: count("MCP_CACHE_MAX_ENTRIES", 10_000)?,
            max_bytes: count("MCP_CACHE_MAX_BYTES", 64 * 1024 * 1024)?,
            ..Self::default()
        };
        if let Some(ttl) = one("CACHE_TTL") {
            cache.ttl = parse_ttl(&ttl).ok_or_else(|| {
                invalid(
                    "CACHE_TTL",
                    value_of(var, "CACHE_TTL"),
                    "expected seconds (a whole number above 0), or a number with ms, s, m or h",
                )
            })?;
        }
        Ok(cache)
    }
}

/// `300` (seconds), `500ms`, `60s`, `5m`, `1h`; `None` for anything else,
/// zero included.
fn parse_ttl(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let ms = match unit.trim() {
        "" | "s" => n.checked_mul(1_000)?,
        "ms" => n,
        "m" => n.checked_mul(60_000)?,
        "h" => n.checked_mul(3_600_000)?,
        _ => return None,
    };
    (ms > 0).then(|| Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_read_seconds_or_a_unit() {
        assert_eq!(parse_ttl("300"), Some(Duration::from_secs(300)));
        assert_eq!(parse_ttl("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_ttl("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_ttl("1h"), Some(Duration::from_secs(3600)));
        for bad in ["0", "0s", "5 minutes", "-1", "", "s"] {
            assert_eq!(parse_ttl(bad), None, "{bad}");
        }
    }
}
