//! What the telemetry and EMF layers learn about a request before and after
//! the dispatcher runs it: method, tool, protocol version, trace context,
//! and how it ended.
// With `emf` alone, the span-only facts go unread.
#![cfg_attr(not(feature = "otel"), allow(dead_code))]

use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use mcp_core::jsonrpc::{ErrorCode, RequestId, Response};
use mcp_core::protocol::ProtocolVersion;
use mcp_core::server::{McpHeaders, Method, ServerRequest, Target};
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct ResultPeek {
    #[serde(rename = "isError", default)]
    is_error: bool,
}

/// Text that clones without copying: a name known in advance (a method, a
/// protocol version), or one shared copy of what the request carried.
/// Equal when the text is.
#[derive(Debug, Clone)]
pub(crate) enum Text {
    /// One of the SDK's own names.
    Static(&'static str),
    /// A name only the request knows.
    Shared(Arc<str>),
}

impl Text {
    /// `s` as one of the `known` names when it is one, else as a shared copy.
    fn new(s: &str, known: impl IntoIterator<Item = &'static str>) -> Self {
        known.into_iter().find(|k| *k == s).map_or_else(|| Self::Shared(Arc::from(s)), Self::Static)
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Static(s) => s,
            Self::Shared(s) => s,
        }
    }

    /// An attribute value sharing the text rather than copying it.
    #[cfg(feature = "otel")]
    pub(crate) fn value(&self) -> opentelemetry::Value {
        match self {
            Self::Static(s) => opentelemetry::Value::from(*s),
            Self::Shared(s) => opentelemetry::Value::from(Arc::clone(s)),
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

fn method_text(method: &Method) -> Text {
    method.as_static().map_or_else(|| Text::Shared(Arc::from(method.as_str())), Text::Static)
}

fn version_text(version: &str) -> Text {
    Text::new(version, ProtocolVersion::ALL.map(ProtocolVersion::as_str))
}

/// The facts of one incoming message.
#[derive(Debug, Default)]
pub(crate) struct RequestInfo {
    /// The method, for requests and notifications.
    pub(crate) method: Option<Text>,
    /// `params.name` of `tools/call` and `prompts/get`.
    pub(crate) target: Option<Text>,
    /// Whether this is a `tools/call`.
    pub(crate) is_tool_call: bool,
    /// `params.uri` of resource methods.
    pub(crate) uri: Option<String>,
    /// The protocol version: the session's, the stateless `_meta`'s, or the
    /// one `initialize` asks for.
    pub(crate) protocol_version: Option<Text>,
    /// The request id, as text.
    pub(crate) request_id: Option<Arc<str>>,
    /// The legacy session's id.
    pub(crate) session_id: Option<Arc<str>>,
}

/// What the telemetry layer reads from the request head without keeping.
#[derive(Debug, Default)]
pub(crate) struct Borrowed<'a> {
    /// W3C `traceparent` from `_meta`.
    pub(crate) traceparent: Option<&'a str>,
    /// W3C `tracestate` from `_meta`.
    pub(crate) tracestate: Option<&'a str>,
    /// The raw `arguments` of a tool call.
    pub(crate) arguments: Option<&'a RawValue>,
}

impl RequestInfo {
    /// The facts, from the request head.
    pub(crate) fn of(req: &ServerRequest) -> Self {
        let head = req.head();
        let header_version = || McpHeaders::protocol_version_in(&req.extensions).map(|v| version_text(&v));
        Self {
            is_tool_call: head.is_tool_call(),
            target: match head.target() {
                Some(Target::Tool(name) | Target::Prompt(name)) => Some(Text::Shared(Arc::clone(name))),
                _ => None,
            },
            uri: match head.target() {
                Some(Target::Resource(uri)) => Some(uri.to_string()),
                _ => None,
            },
            protocol_version: head.protocol_version().map(|v| Text::Static(v.as_str())).or_else(header_version),
            request_id: head.id().map(id_text),
            session_id: req.session.as_ref().and_then(|s| s.id()).map(Arc::from),
            method: head.method().map(method_text),
        }
    }

    /// The facts, and what else the telemetry layer needs from the head
    /// (the client's trace context, and the tool's arguments when
    /// `arguments`).
    pub(crate) fn with_borrowed(req: &ServerRequest, arguments: bool) -> (Self, Borrowed<'_>) {
        let info = Self::of(req);
        let meta = req.head().meta();
        let arguments = if arguments && info.is_tool_call { req.head().arguments() } else { None };
        let borrowed =
            Borrowed { traceparent: meta.traceparent.as_deref(), tracestate: meta.tracestate.as_deref(), arguments };
        (info, borrowed)
    }

    /// The tool's name, for a `tools/call`.
    pub(crate) fn tool(&self) -> Option<&str> {
        self.tool_text().map(Text::as_str)
    }

    /// The tool's name, for a `tools/call`.
    pub(crate) fn tool_text(&self) -> Option<&Text> {
        if self.is_tool_call { self.target.as_ref() } else { None }
    }
}

/// A request id as its `Display` writes it: a number in decimal, a string
/// quoted.
fn id_text(id: &RequestId) -> Arc<str> {
    match id {
        RequestId::Number(n) => {
            // At most 19 digits and a sign.
            let mut buf = [0u8; 20];
            let mut at = buf.len();
            let mut rest = n.unsigned_abs();
            loop {
                at -= 1;
                buf[at] = b'0' + (rest % 10) as u8;
                rest /= 10;
                if rest == 0 {
                    break;
                }
            }
            if *n < 0 {
                at -= 1;
                buf[at] = b'-';
            }
            Arc::from(std::str::from_utf8(&buf[at..]).unwrap_or_default())
        }
        RequestId::String(_) => Arc::from(id.to_string()),
    }
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Outcome {
    /// A result (or a notification, which has none).
    Ok,
    /// A tool result with `isError: true`.
    ToolError,
    /// Refused by the rate limiter.
    RateLimited,
    /// Ended by the timeout layer.
    Timeout,
    /// Any other JSON-RPC error.
    Error(ErrorCode),
}

impl Outcome {
    pub(crate) fn of(response: Option<&Response>, is_tool_call: bool) -> Self {
        let Some(resp) = response else { return Self::Ok };
        if resp.extensions.get::<crate::timeout::TimedOut>().is_some() {
            return Self::Timeout;
        }
        match &resp.payload {
            Err(e) if e.code == ErrorCode::RATE_LIMITED => Self::RateLimited,
            Err(e) if e.code == ErrorCode::REQUEST_TIMEOUT => Self::Timeout,
            Err(e) => Self::Error(e.code),
            Ok(result) if is_tool_call && may_be_error(result.get()) => {
                match serde_json::from_str::<ResultPeek>(result.get()) {
                    Ok(ResultPeek { is_error: true }) => Self::ToolError,
                    _ => Self::Ok,
                }
            }
            Ok(_) => Self::Ok,
        }
    }

    /// The `outcome` attribute value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::ToolError => "tool_error",
            Self::RateLimited => "rate_limited",
            Self::Timeout => "timeout",
            Self::Error(_) => "error",
        }
    }

    /// The semantic conventions' `error.type`: the JSON-RPC code as text,
    /// or `tool_error`; `None` on success.
    pub(crate) fn error_type(self) -> Option<Cow<'static, str>> {
        match self {
            Self::Ok => None,
            Self::ToolError => Some(Cow::Borrowed("tool_error")),
            Self::RateLimited => Some(Cow::Owned(ErrorCode::RATE_LIMITED.to_string())),
            Self::Timeout => Some(Cow::Owned(ErrorCode::REQUEST_TIMEOUT.to_string())),
            Self::Error(code) => Some(Cow::Owned(code.to_string())),
        }
    }
}

/// Whether a tool result's raw JSON can hold an `isError` member: only
/// when the name appears as is, or escaped (letters escape only as `\uXXXX`).
/// Most results hold neither, and a substring search costs a fraction of
/// the parse that settles it otherwise.
fn may_be_error(raw: &str) -> bool {
    raw.contains("isError") || raw.contains("\\u")
}

/// How a service's output ended: a layer's error counts as an internal
/// error (the edge answers it with -32603, or -31001 for tower's timeout).
pub(crate) fn outcome<E>(out: &Result<Option<Response>, E>, is_tool_call: bool) -> Outcome {
    match out {
        Ok(r) => Outcome::of(r.as_ref(), is_tool_call),
        Err(_) => Outcome::Error(ErrorCode::INTERNAL_ERROR),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(result: &str, is_tool_call: bool) -> Outcome {
        let raw = RawValue::from_string(result.to_owned()).expect("valid JSON");
        Outcome::of(Some(&Response::result(RequestId::Number(1), raw)), is_tool_call)
    }

    #[test]
    fn a_tool_result_is_an_error_only_when_its_own_is_error_member_says_so() {
        assert_eq!(outcome(r#"{"content":[],"isError":true}"#, true), Outcome::ToolError);
        assert_eq!(outcome(r#"{"content":[],"is\u0045rror":true}"#, true), Outcome::ToolError, "an escaped name");
        assert_eq!(outcome(r#"{"content":[],"isError":false}"#, true), Outcome::Ok);
        assert_eq!(outcome(r#"{"content":[{"type":"text","text":"isError"}]}"#, true), Outcome::Ok);
        assert_eq!(outcome(r#"{"content":[{"type":"text","text":"\u0041"}]}"#, true), Outcome::Ok);
        assert_eq!(outcome(r#"{"content":[{"type":"text","text":"5"}]}"#, true), Outcome::Ok);
        assert_eq!(outcome(r#"{"isError":true}"#, false), Outcome::Ok, "only tool results are read");
    }

    #[test]
    fn request_ids_read_as_their_display_writes_them() {
        for n in [0, 7, -7, 42, 1_000_000, i64::MAX, i64::MIN] {
            let id = RequestId::Number(n);
            assert_eq!(*id_text(&id), id.to_string());
        }
        let id = RequestId::String(Arc::from("l\"1"));
        assert_eq!(*id_text(&id), id.to_string());
    }
}
