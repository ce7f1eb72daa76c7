//! The params members [`RequestHead`](super::RequestHead) reads, in one
//! lenient pass ([`Peek`], [`Lenient`]), and its `_meta` members
//! ([`MetaPeek`]) with errors that name the field.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::{HeadMeta, Requested};
use crate::error::Error;
use crate::protocol::ProtocolVersion;
use crate::protocol::lifecycle::{ClientCapabilities, Implementation};
use crate::protocol::logging::LoggingLevel;
use crate::protocol::meta::keys;
use crate::protocol::progress::ProgressToken;

/// The error of params whose `_meta` does not fit, naming the field; `None`
/// when `_meta` is fine (the method's own params type words the error).
pub(super) fn meta_error(method: &str, params: &RawValue) -> Option<Error> {
    #[derive(Deserialize)]
    struct OnlyMeta<'a> {
        #[serde(rename = "_meta", borrow, default)]
        meta: Option<&'a RawValue>,
    }
    let only: OnlyMeta<'_> = match crate::server::dispatch::parse_params(method, Some(params)) {
        Ok(o) => o,
        Err(e) => return Some(e),
    };
    let raw = only.meta?;
    crate::server::dispatch::deserialize_at::<MetaPeek<'_>>(raw.get())
        .err()
        .map(|(path, msg)| Error::invalid_params(format!("`{method}`: `_meta.{path}`: {msg}")))
}

/// The params members the head reads, in one pass.
#[derive(Deserialize)]
pub(super) struct Peek<'a> {
    #[serde(rename = "_meta", borrow, default)]
    pub(super) meta: Option<MetaPeek<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    pub(super) name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    pub(super) uri: Option<Cow<'a, str>>,
    /// Raw, so that a `taskId` of the wrong type leaves the rest readable
    /// (the method's own params type words that error).
    #[serde(rename = "taskId", borrow, default)]
    pub(super) task_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) arguments: Option<&'a RawValue>,
    #[serde(rename = "inputResponses", default)]
    pub(super) input_responses: Option<Value>,
    #[serde(rename = "requestState", default)]
    pub(super) request_state: Option<String>,
    /// `initialize`'s requested version.
    #[serde(rename = "protocolVersion", borrow, default, deserialize_with = "borrowed_str")]
    pub(super) protocol_version: Option<Cow<'a, str>>,
}

/// The members kept when [`Peek`] fails, each `None` when it does not fit.
#[derive(Deserialize, Default)]
pub(super) struct Lenient<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    pub(super) name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    pub(super) uri: Option<Cow<'a, str>>,
    /// Raw, so that a `taskId` of the wrong type leaves the rest readable
    /// (the method's own params type words that error).
    #[serde(rename = "taskId", borrow, default)]
    pub(super) task_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) arguments: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
pub(super) struct MetaPeek<'a> {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", borrow, default)]
    pub(super) protocol_version: Option<&'a RawValue>,
    /// Read on its own ([`client_capabilities`]): most requests send `{}`,
    /// which needs no parse and no allocation.
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities", borrow, default)]
    pub(super) client_capabilities: Option<&'a RawValue>,
    #[serde(rename = "io.modelcontextprotocol/clientInfo", default)]
    pub(super) client_info: Option<Box<Implementation>>,
    #[serde(rename = "io.modelcontextprotocol/logLevel", default)]
    pub(super) log_level: Option<LoggingLevel>,
    #[serde(rename = "progressToken", default)]
    pub(super) progress_token: Option<ProgressToken>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    pub(super) traceparent: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    pub(super) tracestate: Option<Cow<'a, str>>,
}

/// An optional string, borrowed from the input unless it has escapes
/// ([`BorrowedStr`](crate::jsonrpc::BorrowedStr)); `null` is absent.
fn borrowed_str<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Option::<crate::jsonrpc::BorrowedStr<'de>>::deserialize(d).map(|s| s.map(|s| s.0))
}

impl MetaPeek<'_> {
    pub(super) fn requested(&self) -> Requested {
        let Some(raw) = self.protocol_version else { return Requested::Absent };
        let text = crate::jsonrpc::plain_string(raw.get()).map(Cow::Borrowed);
        match text.map_or_else(|| serde_json::from_str::<Cow<'_, str>>(raw.get()), Ok) {
            Ok(s) => match ProtocolVersion::from_wire(&s) {
                Ok(v) => Requested::Known(v),
                Err(_) => Requested::Unknown(s.into()),
            },
            Err(_) => Requested::NotAString(raw.get().into()),
        }
    }

    /// The head's `_meta` members, or the error naming the member that does
    /// not fit.
    pub(super) fn into_head(self, method: &str) -> Result<HeadMeta, Error> {
        Ok(HeadMeta {
            client_capabilities: self.client_capabilities.map(|raw| client_capabilities(method, raw)).transpose()?,
            progress_token: self.progress_token,
            traceparent: self.traceparent.map(Into::into),
            tracestate: self.tracestate.map(Into::into),
            log_level: self.log_level,
            client_info: self.client_info,
        })
    }
}

/// The capabilities a client declared: one shared value for `{}`, else
/// parsed, with an error naming the field that does not fit.
fn client_capabilities(method: &str, raw: &RawValue) -> Result<Arc<ClientCapabilities>, Error> {
    if raw.get().trim() == "{}" {
        return Ok(no_capabilities());
    }
    crate::server::dispatch::deserialize_at::<ClientCapabilities>(raw.get()).map(Arc::new).map_err(|(path, msg)| {
        let at = if path == "." { String::new() } else { format!(".{path}") };
        Error::invalid_params(format!("`{method}`: `_meta.{}{at}`: {msg}", keys::CLIENT_CAPABILITIES))
    })
}

/// The capabilities of a client that declared none: one shared value, not
/// an allocation per request.
pub(crate) fn no_capabilities() -> Arc<ClientCapabilities> {
    static NONE: std::sync::OnceLock<Arc<ClientCapabilities>> = std::sync::OnceLock::new();
    Arc::clone(NONE.get_or_init(|| Arc::new(ClientCapabilities::default())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_borrowed_unless_escaped_and_null_is_absent() {
        let p: Peek<'_> = serde_json::from_str(r#"{"name":"add","uri":null,"protocolVersion":"a\"b"}"#).expect("peek");
        assert!(matches!(p.name, Some(Cow::Borrowed("add"))));
        assert!(p.uri.is_none());
        assert!(matches!(p.protocol_version.as_deref(), Some("a\"b")));
        assert!(matches!(p.protocol_version, Some(Cow::Owned(_))));
        let e = serde_json::from_str::<Peek<'_>>(r#"{"name":3}"#).err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("expected a string")));
        let lenient: Lenient<'_> = serde_json::from_str(r#"{"uri":"file:///x"}"#).expect("lenient");
        assert!(matches!(lenient.uri, Some(Cow::Borrowed("file:///x"))));
    }
}
