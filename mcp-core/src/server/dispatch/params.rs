//! Reading params: the `_meta` pass every request gets, the params of
//! each method, and [`parse_params`], which names the offending field.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::Error;
use crate::jsonrpc::RequestId;
use crate::protocol::lifecycle::{ClientCapabilities, Implementation};
use crate::protocol::logging::LoggingLevel;
use crate::protocol::methods;
use crate::protocol::progress::ProgressToken;
use crate::server::headers::NamePeek;

/// The `_meta` fields the dispatcher reads from every request.
#[derive(Deserialize, Default)]
pub(super) struct RequestMeta {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", default)]
    pub(super) protocol_version: Option<Value>,
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities", default)]
    pub(super) client_capabilities: Option<ClientCapabilities>,
    #[serde(rename = "io.modelcontextprotocol/clientInfo", default)]
    pub(super) client_info: Option<Box<Implementation>>,
    #[serde(rename = "io.modelcontextprotocol/logLevel", default)]
    pub(super) log_level: Option<LoggingLevel>,
    #[serde(rename = "progressToken", default)]
    pub(super) progress_token: Option<ProgressToken>,
}

#[derive(Deserialize)]
struct ParamsPeek<'a> {
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<&'a RawValue>,
}

/// Deserialises params (or `{}` when absent), naming the offending field.
pub(super) fn parse_params<'a, T: Deserialize<'a>>(method: &str, params: Option<&'a RawValue>) -> Result<T, Error> {
    let json = params.map_or("{}", RawValue::get);
    // Valid params, the common case, parse without tracking the path; only
    // a failure parses again to name the offending field.
    if let Ok(v) = serde_json::from_str(json) {
        return Ok(v);
    }
    let mut de = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let mut msg = e.into_inner().to_string();
        if let Some(i) = msg.find(" at line ") {
            msg.truncate(i);
        }
        if path == "." {
            Error::invalid_params(format!("`{method}`: {msg}"))
        } else {
            Error::invalid_params(format!("`{method}`: `{path}`: {msg}"))
        }
    })
}

/// Params with `_meta`, the members the MCP headers name and those of
/// `tools/call`, read in one pass.
#[derive(Deserialize)]
struct MetaPeek<'a> {
    #[serde(rename = "_meta", default)]
    meta: Option<RequestMeta>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    uri: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
    #[serde(rename = "inputResponses", default)]
    input_responses: Option<Value>,
    #[serde(rename = "requestState", default)]
    request_state: Option<String>,
}

/// What one pass over a request's params yields.
#[derive(Default)]
pub(super) struct Peeked<'a> {
    /// `_meta`, defaults when absent.
    pub(super) meta: RequestMeta,
    /// The members `Mcp-Name` and `Mcp-Param-*` are checked against.
    pub(super) names: NamePeek<'a>,
    /// A `tools/call`'s params, when they parsed; `None` sends the call
    /// through [`parse_params`] to word the error.
    pub(super) call: Option<CallParams<'a>>,
}

pub(super) fn peek_meta<'a>(method: &str, params: Option<&'a RawValue>) -> Result<Peeked<'a>, Error> {
    let Some(params) = params else { return Ok(Peeked::default()) };
    if let Ok(p) = serde_json::from_str::<MetaPeek<'a>>(params.get()) {
        let call = match (&p.name, method) {
            (Some(name), methods::TOOLS_CALL) => Some(CallParams {
                name: name.clone(),
                arguments: p.arguments,
                input_responses: p.input_responses,
                request_state: p.request_state,
            }),
            _ => None,
        };
        let names = NamePeek { name: p.name, uri: p.uri, arguments: p.arguments };
        return Ok(Peeked { meta: p.meta.unwrap_or_default(), names, call });
    }
    // Something does not fit: parse in two steps to name it.
    let names = NamePeek::lenient(params);
    let peek: ParamsPeek<'_> = parse_params(method, Some(params))?;
    match peek.meta {
        None => Ok(Peeked { names, ..Peeked::default() }),
        Some(raw) => {
            let mut de = serde_json::Deserializer::from_str(raw.get());
            let meta: RequestMeta = serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let path = e.path().to_string();
                let mut msg = e.into_inner().to_string();
                if let Some(i) = msg.find(" at line ") {
                    msg.truncate(i);
                }
                Error::invalid_params(format!("`{method}`: `_meta.{path}`: {msg}"))
            })?;
            Ok(Peeked { meta, names, call: None })
        }
    }
}

/// The params of `tools/call`, and of `prompts/get` (the same members).
#[derive(Deserialize)]
pub(super) struct CallParams<'a> {
    #[serde(borrow)]
    pub(super) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) arguments: Option<&'a RawValue>,
    #[serde(rename = "inputResponses", default)]
    pub(super) input_responses: Option<Value>,
    #[serde(rename = "requestState", default)]
    pub(super) request_state: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ReadParams {
    pub(super) uri: String,
    #[serde(rename = "inputResponses", default)]
    pub(super) input_responses: Option<Value>,
    #[serde(rename = "requestState", default)]
    pub(super) request_state: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct PageParams {
    #[serde(default)]
    pub(super) cursor: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct UriParams {
    pub(super) uri: String,
}

#[derive(Deserialize)]
pub(super) struct CancelParams {
    #[serde(rename = "requestId", default)]
    pub(super) request_id: Option<RequestId>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListenFilter {
    #[serde(default)]
    pub(super) tools_list_changed: bool,
    #[serde(default)]
    pub(super) prompts_list_changed: bool,
    #[serde(default)]
    pub(super) resources_list_changed: bool,
    #[serde(default)]
    pub(super) resource_subscriptions: Vec<String>,
}

#[derive(Deserialize)]
pub(super) struct ListenParams {
    pub(super) notifications: ListenFilter,
}
