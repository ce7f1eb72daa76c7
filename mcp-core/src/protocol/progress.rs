//! Progress (`notifications/progress`) and cancellation
//! (`notifications/cancelled`).

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::jsonrpc::RequestId;
use crate::protocol::Meta;
use crate::protocol::content::float;

/// A progress token: a string or an integer, chosen by the requester and
/// sent in `_meta.progressToken`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProgressToken {
    /// An integer token.
    Number(i64),
    /// A string token.
    String(Arc<str>),
}

impl fmt::Display for ProgressToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => fmt::Display::fmt(n, f),
            Self::String(s) => fmt::Debug::fmt(&**s, f),
        }
    }
}

impl From<i64> for ProgressToken {
    fn from(n: i64) -> Self {
        Self::Number(n)
    }
}

impl From<&str> for ProgressToken {
    fn from(s: &str) -> Self {
        Self::String(s.into())
    }
}

impl From<String> for ProgressToken {
    fn from(s: String) -> Self {
        Self::String(s.into())
    }
}

impl Serialize for ProgressToken {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Number(n) => s.serialize_i64(*n),
            Self::String(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for ProgressToken {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TokenVisitor;
        impl Visitor<'_> for TokenVisitor {
            type Value = ProgressToken;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ProgressToken, E> {
                Ok(ProgressToken::Number(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ProgressToken, E> {
                i64::try_from(v)
                    .map(ProgressToken::Number)
                    .map_err(|_| E::custom("integer progress token out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ProgressToken, E> {
                Ok(ProgressToken::String(v.into()))
            }
        }
        d.deserialize_any(TokenVisitor)
    }
}

/// Params of `notifications/progress`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressNotificationParams {
    /// The token from the request's `_meta.progressToken`.
    pub progress_token: ProgressToken,
    /// Progress so far; increases with every notification.
    #[serde(with = "float")]
    pub progress: f64,
    /// The total, when known.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "float::option")]
    pub total: Option<f64>,
    /// A human-readable progress message (2025-03-26 on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Notification metadata.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl ProgressNotificationParams {
    /// Progress `progress` (of `total`, when known) for `token`.
    pub fn new(token: ProgressToken, progress: f64, total: Option<f64>) -> Self {
        Self { progress_token: token, progress, total, message: None, meta: None }
    }

    /// Sets `message`.
    #[must_use]
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// Params of `notifications/cancelled`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelledNotificationParams {
    /// The request to cancel (required except in 2025-11-25, where task
    /// cancellation goes through `tasks/cancel` instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
    /// Why, for logging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Notification metadata.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn progress_token_int_vs_string() {
        let n: ProgressToken = serde_json::from_value(json!(7)).expect("json");
        assert_eq!(n, ProgressToken::Number(7));
        let s: ProgressToken = serde_json::from_value(json!("7")).expect("json");
        assert_eq!(s, ProgressToken::from("7"));
        assert_ne!(n, s);
        assert_eq!(serde_json::to_value(&n).expect("json"), json!(7));
        assert_eq!(serde_json::to_value(&s).expect("json"), json!("7"));
        assert!(serde_json::from_value::<ProgressToken>(json!(1.5)).is_err());
        assert!(serde_json::from_value::<ProgressToken>(json!(null)).is_err());
    }

    #[test]
    fn progress_numbers_keep_their_shape() {
        let p = ProgressNotificationParams::new(ProgressToken::Number(1), 50.0, Some(100.0));
        assert_eq!(serde_json::to_string(&p).expect("json"), r#"{"progressToken":1,"progress":50,"total":100}"#);
        let p = ProgressNotificationParams::new(ProgressToken::Number(1), 0.5, None);
        assert_eq!(serde_json::to_string(&p).expect("json"), r#"{"progressToken":1,"progress":0.5}"#);
    }
}
