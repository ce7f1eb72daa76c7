//! The request head: what layers and the dispatcher need to know about a
//! message, decoded once, where the frame is decoded.
//!
//! [`ServerRequest::new`](super::ServerRequest::new) reads the message's
//! params in one pass and keeps the result as a [`RequestHead`]: the
//! [`Method`], the id, the [`Target`] (tool, prompt or resource), the
//! [`Era`] and protocol version, and the `_meta` members layers use (progress
//! token, W3C trace context, log level, client capabilities and info). A
//! tool call's `arguments` stay raw JSON until the tool's own type reads
//! them. Layers read the head the way tower-http's layers read
//! `http::request::Parts`, and never parse the params themselves:
//!
//! ```
//! use mcp_core::jsonrpc::Message;
//! use mcp_core::server::{Era, Method, ServerRequest, Sink};
//!
//! let msg = Message::parse(br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"add","arguments":{"a":1},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#).unwrap();
//! let req = ServerRequest::new(msg, None, Sink::none());
//! let head = req.head();
//! assert_eq!(head.method(), Some(&Method::ToolsCall));
//! assert_eq!(head.tool(), Some("add"));
//! assert_eq!(head.era(), Era::Stateless);
//! assert_eq!(head.arguments().map(|a| a.get()), Some(r#"{"a":1}"#));
//! ```

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use serde_json::value::RawValue;

mod peek;

pub(crate) use peek::no_capabilities;
use peek::{Lenient, Peek, meta_error};

use super::session::Session;
use crate::error::Error;
use crate::jsonrpc::{Message, RequestId};
use crate::protocol::lifecycle::{ClientCapabilities, Implementation};
use crate::protocol::logging::LoggingLevel;
use crate::protocol::progress::ProgressToken;
use crate::protocol::{ProtocolVersion, methods};

macro_rules! methods_enum {
    ($($(#[$doc:meta])* $variant:ident = $wire:path,)*) => {
        /// A message's method: one variant per method this SDK knows, and
        /// [`Method::Other`] for the rest.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Method {
            $($(#[$doc])* $variant,)*
            /// A method this SDK does not know.
            Other(Arc<str>),
        }

        impl Method {
            /// The method named `s` on the wire.
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $($wire => Self::$variant,)*
                    other => Self::Other(Arc::from(other)),
                }
            }

            /// The wire name, `'static` for the methods this SDK knows.
            pub fn as_static(&self) -> Option<&'static str> {
                match self {
                    $(Self::$variant => Some($wire),)*
                    Self::Other(_) => None,
                }
            }

            /// The wire name.
            pub fn as_str(&self) -> &str {
                match self {
                    Self::Other(s) => s,
                    known => known.as_static().unwrap_or_default(),
                }
            }
        }
    };
}

methods_enum! {
    /// `initialize`.
    Initialize = methods::INITIALIZE,
    /// `notifications/initialized`.
    Initialized = methods::INITIALIZED,
    /// `ping`.
    Ping = methods::PING,
    /// `server/discover`.
    ServerDiscover = methods::SERVER_DISCOVER,
    /// `tools/list`.
    ToolsList = methods::TOOLS_LIST,
    /// `tools/call`.
    ToolsCall = methods::TOOLS_CALL,
    /// `resources/list`.
    ResourcesList = methods::RESOURCES_LIST,
    /// `resources/templates/list`.
    ResourcesTemplatesList = methods::RESOURCES_TEMPLATES_LIST,
    /// `resources/read`.
    ResourcesRead = methods::RESOURCES_READ,
    /// `resources/subscribe`.
    ResourcesSubscribe = methods::RESOURCES_SUBSCRIBE,
    /// `resources/unsubscribe`.
    ResourcesUnsubscribe = methods::RESOURCES_UNSUBSCRIBE,
    /// `prompts/list`.
    PromptsList = methods::PROMPTS_LIST,
    /// `prompts/get`.
    PromptsGet = methods::PROMPTS_GET,
    /// `completion/complete`.
    CompletionComplete = methods::COMPLETION_COMPLETE,
    /// `logging/setLevel`.
    LoggingSetLevel = methods::LOGGING_SET_LEVEL,
    /// `subscriptions/listen`.
    SubscriptionsListen = methods::SUBSCRIPTIONS_LISTEN,
    /// `tasks/get` (tasks extension).
    TasksGet = methods::TASKS_GET,
    /// `tasks/update` (tasks extension).
    TasksUpdate = methods::TASKS_UPDATE,
    /// `tasks/cancel` (tasks extension).
    TasksCancel = methods::TASKS_CANCEL,
    /// `notifications/cancelled`.
    Cancelled = methods::NOTIFICATION_CANCELLED,
    /// `notifications/progress`.
    Progress = methods::NOTIFICATION_PROGRESS,
    /// `notifications/roots/list_changed`.
    RootsListChanged = methods::NOTIFICATION_ROOTS_LIST_CHANGED,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request acts on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// The tool a `tools/call` names.
    Tool(Arc<str>),
    /// The prompt a `prompts/get` names.
    Prompt(Arc<str>),
    /// The resource a `resources/read` (or `resources/subscribe`) names.
    Resource(Arc<str>),
    /// The task a `tasks/get`, `tasks/update` or `tasks/cancel` names.
    Task(Arc<str>),
}

impl Target {
    /// The tool name, prompt name or resource URI.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Tool(s) | Self::Prompt(s) | Self::Resource(s) | Self::Task(s) => s,
        }
    }

    /// The shared text, for layers that keep it (span attributes, keys).
    pub fn shared(&self) -> &Arc<str> {
        match self {
            Self::Tool(s) | Self::Prompt(s) | Self::Resource(s) | Self::Task(s) => s,
        }
    }
}

/// How a request is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Era {
    /// The stateless protocol (2026-07-28): the request carries its
    /// protocol version and client capabilities in `_meta`.
    Stateless,
    /// Inside a legacy session that `initialize` opened.
    Session,
    /// Neither: a legacy-style request with no session.
    Sessionless,
}

/// The `_meta` members of a request that layers and handlers use.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct HeadMeta {
    /// `progressToken`.
    pub progress_token: Option<ProgressToken>,
    /// W3C `traceparent`.
    pub traceparent: Option<Box<str>>,
    /// W3C `tracestate`.
    pub tracestate: Option<Box<str>>,
    /// `io.modelcontextprotocol/logLevel` (2026-07-28).
    pub log_level: Option<LoggingLevel>,
    /// `io.modelcontextprotocol/clientCapabilities` (2026-07-28).
    pub client_capabilities: Option<Arc<ClientCapabilities>>,
    /// `io.modelcontextprotocol/clientInfo` (2026-07-28).
    pub client_info: Option<Box<Implementation>>,
}

/// `_meta["io.modelcontextprotocol/protocolVersion"]` as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum Requested {
    /// Not sent.
    #[default]
    Absent,
    /// A version this SDK knows.
    Known(ProtocolVersion),
    /// A string naming no version this SDK knows.
    Unknown(Box<str>),
    /// Not a string: the JSON as sent.
    NotAString(Box<str>),
}

/// The parts of a `tools/call`, `prompts/get` or `resources/read` the
/// dispatcher takes: the raw arguments, and a multi-round-trip request's
/// carried input.
#[derive(Debug, Default)]
pub(crate) struct CallInput {
    pub(crate) arguments: Option<Box<RawValue>>,
    /// Boxed: most requests carry none, and the head moves with the request.
    pub(crate) carried: Option<Box<Carried>>,
}

/// A later round's `inputResponses` and `requestState`.
#[derive(Debug)]
pub(crate) struct Carried {
    pub(crate) input_responses: Option<Value>,
    pub(crate) request_state: Option<String>,
}

impl Carried {
    /// `None` when the request carries neither.
    pub(crate) fn of(input_responses: Option<Value>, request_state: Option<String>) -> Option<Box<Self>> {
        (input_responses.is_some() || request_state.is_some())
            .then(|| Box::new(Self { input_responses, request_state }))
    }
}

/// What [`ServerRequest::head`](super::ServerRequest::head) returns: the
/// facts of one message, decoded once.
#[derive(Debug, Default)]
pub struct RequestHead {
    method: Option<Method>,
    id: Option<RequestId>,
    pub(crate) target: Option<Target>,
    era: Option<Era>,
    version: Option<ProtocolVersion>,
    pub(crate) requested: Requested,
    pub(crate) meta: HeadMeta,
    pub(crate) input: CallInput,
    /// Why the params could not be read, worded with the offending
    /// `_meta` field. `None` with [`Self::decoded`] false: the method's own
    /// params type words the error.
    pub(crate) meta_error: Option<Box<Error>>,
    pub(crate) decoded: bool,
    /// `initialize`'s `protocolVersion`, until it is negotiated.
    initialize_version: Option<Box<str>>,
    /// A [`Era::Sessionless`] request the transport serves without a
    /// session (its version is set).
    pub(crate) sessionless: bool,
}

impl RequestHead {
    /// The method; `None` for a response from the client.
    pub fn method(&self) -> Option<&Method> {
        self.method.as_ref()
    }

    /// The request id; `None` for notifications and for the client's
    /// responses (which layers let through).
    pub fn id(&self) -> Option<&RequestId> {
        self.id.as_ref()
    }

    /// The tool, prompt or resource the request names.
    pub fn target(&self) -> Option<&Target> {
        self.target.as_ref()
    }

    /// The tool a `tools/call` names.
    pub fn tool(&self) -> Option<&str> {
        match &self.target {
            Some(Target::Tool(t)) => Some(t),
            _ => None,
        }
    }

    /// Whether this is a `tools/call`.
    pub fn is_tool_call(&self) -> bool {
        self.method == Some(Method::ToolsCall)
    }

    /// How the request is served (a client's response counts as
    /// [`Era::Sessionless`]).
    pub fn era(&self) -> Era {
        self.era.unwrap_or(Era::Sessionless)
    }

    /// The protocol version: the stateless `_meta`'s, the session's, or
    /// the one `initialize` negotiates. `None` when the request names none
    /// this SDK supports (the dispatcher answers it with an error).
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.version
    }

    /// The `_meta` members layers use.
    pub fn meta(&self) -> &HeadMeta {
        &self.meta
    }

    /// A `tools/call`'s or `prompts/get`'s raw `arguments`.
    pub fn arguments(&self) -> Option<&RawValue> {
        self.input.arguments.as_deref()
    }

    /// Whether the params were read without a problem. When not, the
    /// dispatcher answers with an error naming the field, so a layer that
    /// answers on its own (a result cache) lets the request through.
    pub fn is_well_formed(&self) -> bool {
        self.decoded && self.meta_error.is_none()
    }

    /// Decodes the head of `message`, in a session or not. `sessionless`
    /// is the version a legacy request with neither a session nor a
    /// 2026-07-28 marker is served in, when the transport serves such
    /// requests (`None`: it does not, and the dispatcher refuses them).
    pub(crate) fn decode(message: &Message, session: Option<&Session>, sessionless: Option<ProtocolVersion>) -> Self {
        let (method, params, id) = match message {
            Message::Request(r) => (&r.method, r.params.as_deref(), Some(r.id.clone())),
            Message::Notification(n) => (&n.method, n.params.as_deref(), None),
            Message::Response(_) => return Self { decoded: true, ..Self::default() },
        };
        let method = Method::from_wire(method);
        let mut head = Self { id, decoded: true, ..Self::default() };
        if let Some(params) = params {
            head.read_params(&method, params);
        }
        // Outside a session, the 2026-07-28 `_meta` members mark a modern
        // request even when its version is missing (the dispatcher then says
        // so) rather than a sessionless legacy one.
        let modern = head.requested != Requested::Absent
            || (session.is_none() && (head.meta.client_capabilities.is_some() || head.meta.client_info.is_some()));
        head.era = Some(if modern {
            Era::Stateless
        } else if session.is_some() {
            Era::Session
        } else {
            Era::Sessionless
        });
        head.sessionless = head.era == Some(Era::Sessionless) && sessionless.is_some();
        head.version = match (&head.requested, session) {
            (Requested::Known(v), _) => v.is_stateless().then_some(*v),
            (Requested::Absent, Some(s)) => s.version(),
            _ if head.sessionless && method != Method::Initialize => sessionless,
            _ => None,
        };
        if head.version.is_none() && method == Method::Initialize {
            head.version = head.initialize_version.take().map(|v| ProtocolVersion::negotiate(&v));
        }
        head.method = Some(method);
        head
    }

    fn read_params(&mut self, method: &Method, params: &RawValue) {
        match serde_json::from_str::<Peek<'_>>(params.get()) {
            Ok(p) => {
                let meta = p.meta.unwrap_or_default();
                self.requested = meta.requested();
                match meta.into_head(method.as_str()) {
                    Ok(head) => self.meta = head,
                    Err(e) => self.meta_error = Some(Box::new(e)),
                }
                self.target =
                    target(method, p.name.as_deref(), p.uri.as_deref()).or_else(|| task_target(method, p.task_id));
                if method == &Method::Initialize {
                    self.initialize_version = p.protocol_version.map(Into::into);
                }
                if self.target.is_some() {
                    self.input = CallInput {
                        arguments: p.arguments.map(RawValue::to_owned),
                        carried: Carried::of(p.input_responses, p.request_state),
                    };
                }
            }
            Err(_) => {
                // Something does not fit: keep what can be read for the
                // layers and the header checks, and word the error.
                self.decoded = false;
                let lenient: Lenient<'_> = serde_json::from_str(params.get()).unwrap_or_default();
                self.target = target(method, lenient.name.as_deref(), lenient.uri.as_deref())
                    .or_else(|| task_target(method, lenient.task_id));
                self.input.arguments = lenient.arguments.map(RawValue::to_owned);
                self.meta_error = meta_error(method.as_str(), params).map(Box::new);
            }
        }
    }
}

fn target(method: &Method, name: Option<&str>, uri: Option<&str>) -> Option<Target> {
    match method {
        Method::ToolsCall => name.map(|n| Target::Tool(Arc::from(n))),
        Method::PromptsGet => name.map(|n| Target::Prompt(Arc::from(n))),
        Method::ResourcesRead | Method::ResourcesSubscribe | Method::ResourcesUnsubscribe => {
            uri.map(|u| Target::Resource(Arc::from(u)))
        }
        _ => None,
    }
}

fn task_target(method: &Method, task_id: Option<&RawValue>) -> Option<Target> {
    match method {
        Method::TasksGet | Method::TasksUpdate | Method::TasksCancel => {
            let id: Cow<'_, str> = serde_json::from_str(task_id?.get()).ok()?;
            Some(Target::Task(Arc::from(id.as_ref())))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(json: &str, session: Option<&Session>) -> RequestHead {
        RequestHead::decode(&Message::parse(json.as_bytes()).expect("valid message"), session, None)
    }

    const META: &str = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"progressToken":"p1","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}"#;

    #[test]
    fn a_stateless_tool_call_reads_in_one_pass() {
        let h = head(
            &format!(
                r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"add","arguments":{{"a":1}},{META}}}}}"#
            ),
            None,
        );
        assert_eq!(h.method(), Some(&Method::ToolsCall));
        assert_eq!(h.id(), Some(&RequestId::Number(3)));
        assert_eq!(h.target(), Some(&Target::Tool(Arc::from("add"))));
        assert_eq!((h.era(), h.protocol_version()), (Era::Stateless, Some(ProtocolVersion::V2026_07_28)));
        assert_eq!(h.arguments().map(RawValue::get), Some(r#"{"a":1}"#));
        assert_eq!(h.meta().progress_token, Some(ProgressToken::String("p1".into())));
        assert!(h.meta().traceparent.as_deref().is_some_and(|t| t.starts_with("00-0af7")));
        assert!(h.meta().client_capabilities.is_some() && h.decoded && h.meta_error.is_none());
    }

    #[test]
    fn the_era_follows_the_meta_version_then_the_session() {
        let session = Session::new(None, crate::server::Sink::none());
        let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
        assert_eq!(head(list, Some(&session)).era(), Era::Session);
        assert_eq!(head(list, None).era(), Era::Sessionless);
        let legacy_in_meta = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2025-06-18"}}}"#;
        let h = head(legacy_in_meta, Some(&session));
        assert_eq!(
            (h.era(), h.protocol_version()),
            (Era::Stateless, None),
            "a legacy version is not served statelessly"
        );
        let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;
        assert_eq!(head(init, Some(&session)).protocol_version(), Some(ProtocolVersion::V2025_06_18));
    }

    #[test]
    fn notifications_and_responses_have_no_id() {
        let n = head(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":4}}"#, None);
        assert_eq!((n.method(), n.id()), (Some(&Method::Cancelled), None));
        let r = head(r#"{"jsonrpc":"2.0","id":9,"result":{}}"#, None);
        assert_eq!((r.method(), r.id()), (None, None));
    }

    #[test]
    fn params_that_do_not_fit_keep_what_they_can_and_name_the_field() {
        let h = head(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","_meta":{"progressToken":[1]}}}"#,
            None,
        );
        assert!(!h.decoded);
        assert_eq!(h.tool(), Some("add"), "the lenient pass keeps the name for layers");
        let e = h.meta_error.expect("an error naming the field").to_string();
        assert!(e.contains("_meta.progressToken"), "{e}");
        let other = head(r#"{"jsonrpc":"2.0","id":1,"method":"x/y"}"#, None);
        assert_eq!(other.method(), Some(&Method::Other(Arc::from("x/y"))));
        assert_eq!(other.method().map(Method::as_str), Some("x/y"));
    }
}
