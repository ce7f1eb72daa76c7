//! What the telemetry and EMF layers learn about a request before and after
//! the dispatcher runs it: method, tool, protocol version, trace context,
//! and how it ended.
// With `emf` alone, the span-only facts go unread.
#![cfg_attr(not(feature = "otel"), allow(dead_code))]

use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use mcp_core::jsonrpc::{ErrorCode, Message, RequestId, Response};
use mcp_core::protocol::{ProtocolVersion, methods};
use mcp_core::server::{McpHeaders, ServerRequest};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

/// The params members the layers read. `A` reads `arguments`: kept raw
/// when they are recorded, skipped otherwise.
#[derive(Deserialize, Default)]
struct ParamsPeek<'a, A> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(default)]
    arguments: A,
    #[serde(borrow, default)]
    uri: Option<Cow<'a, str>>,
    #[serde(rename = "protocolVersion", borrow, default)]
    protocol_version: Option<Cow<'a, str>>,
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<MetaPeek<'a>>,
}

#[derive(Deserialize, Default)]
struct MetaPeek<'a> {
    #[serde(borrow, default)]
    traceparent: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tracestate: Option<Cow<'a, str>>,
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", borrow, default)]
    protocol_version: Option<Cow<'a, str>>,
}

/// How [`ParamsPeek`] reads `arguments`.
trait ArgumentsPeek<'a>: Deserialize<'a> + Default {
    fn raw(self) -> Option<&'a RawValue>;
}

impl ArgumentsPeek<'_> for IgnoredAny {
    fn raw(self) -> Option<&'static RawValue> {
        None
    }
}

impl<'a> ArgumentsPeek<'a> for Option<&'a RawValue> {
    fn raw(self) -> Option<&'a RawValue> {
        self
    }
}

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

/// The methods a server receives, most frequent first.
const METHODS: [&str; 19] = [
    methods::TOOLS_CALL,
    methods::TOOLS_LIST,
    methods::RESOURCES_READ,
    methods::PROMPTS_GET,
    methods::RESOURCES_LIST,
    methods::RESOURCES_TEMPLATES_LIST,
    methods::PROMPTS_LIST,
    methods::COMPLETION_COMPLETE,
    methods::SERVER_DISCOVER,
    methods::SUBSCRIPTIONS_LISTEN,
    methods::INITIALIZE,
    methods::INITIALIZED,
    methods::PING,
    methods::RESOURCES_SUBSCRIBE,
    methods::RESOURCES_UNSUBSCRIBE,
    methods::LOGGING_SET_LEVEL,
    methods::NOTIFICATION_CANCELLED,
    methods::NOTIFICATION_PROGRESS,
    methods::NOTIFICATION_ROOTS_LIST_CHANGED,
];

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

/// What the telemetry layer reads from a request's params without keeping:
/// borrowed from them, unless a string needs unescaping.
#[derive(Debug, Default)]
pub(crate) struct Borrowed<'a> {
    /// W3C `traceparent` from `_meta`.
    pub(crate) traceparent: Option<Cow<'a, str>>,
    /// W3C `tracestate` from `_meta`.
    pub(crate) tracestate: Option<Cow<'a, str>>,
    /// The raw `arguments` of a tool call.
    pub(crate) arguments: Option<&'a RawValue>,
}

impl RequestInfo {
    pub(crate) fn of(req: &ServerRequest) -> Self {
        Self::with_borrowed(req, false).0
    }

    /// The facts, and what else the telemetry layer needs from the params
    /// (the client's trace context, and the tool's arguments when
    /// `arguments`), from one parse.
    pub(crate) fn with_borrowed(req: &ServerRequest, arguments: bool) -> (Self, Borrowed<'_>) {
        if arguments { Self::peek::<Option<&RawValue>>(req) } else { Self::peek::<IgnoredAny>(req) }
    }

    fn peek<'a, A: ArgumentsPeek<'a>>(req: &'a ServerRequest) -> (Self, Borrowed<'a>) {
        let (method, params, id) = match &req.message {
            Message::Request(r) => (&r.method, r.params.as_deref(), Some(id_text(&r.id))),
            Message::Notification(n) => (&n.method, n.params.as_deref(), None),
            Message::Response(_) => return (Self::default(), Borrowed::default()),
        };
        let peek: ParamsPeek<'_, A> = params.and_then(|p| serde_json::from_str(p.get()).ok()).unwrap_or_default();
        let meta = peek.meta.unwrap_or_default();
        let session_version = req.session.as_ref().and_then(|s| s.version()).map(|v| Text::Static(v.as_str()));
        let header_version =
            || req.extensions.get::<McpHeaders>().and_then(|h| h.protocol_version.as_deref()).map(version_text);
        let named = method == methods::TOOLS_CALL || method == methods::PROMPTS_GET;
        let info = Self {
            is_tool_call: method == methods::TOOLS_CALL,
            target: if named { peek.name.map(|n| Text::Shared(Arc::from(n))) } else { None },
            uri: peek.uri.map(Cow::into_owned),
            protocol_version: session_version
                .or_else(|| meta.protocol_version.as_deref().map(version_text))
                .or_else(header_version)
                .or_else(|| peek.protocol_version.as_deref().map(version_text)),
            request_id: id,
            session_id: req.session.as_ref().and_then(|s| s.id()).map(Arc::from),
            method: Some(Text::new(method, METHODS)),
        };
        let arguments = if info.is_tool_call { peek.arguments.raw() } else { None };
        (info, Borrowed { traceparent: meta.traceparent, tracestate: meta.tracestate, arguments })
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

/// The response in a dispatcher's output.
pub(crate) fn response(out: &Result<Option<Response>, std::convert::Infallible>) -> Option<&Response> {
    match out {
        Ok(r) => r.as_ref(),
        Err(never) => match *never {},
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
