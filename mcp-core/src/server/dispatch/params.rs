//! Reading params: each method's own params type, and [`parse_params`],
//! which names the offending field. (The `_meta` members every request
//! carries are read once, into the request head.)

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::Error;
use crate::jsonrpc::RequestId;

/// Deserialises params (or `{}` when absent), naming the offending field.
pub(crate) fn parse_params<'a, T: Deserialize<'a>>(method: &str, params: Option<&'a RawValue>) -> Result<T, Error> {
    let json = params.map_or("{}", RawValue::get);
    // Valid params, the common case, parse without tracking the path; only
    // a failure parses again to name the offending field.
    if let Ok(v) = serde_json::from_str(json) {
        return Ok(v);
    }
    deserialize_at(json).map_err(|(path, msg)| {
        if path == "." {
            Error::invalid_params(format!("`{method}`: {msg}"))
        } else {
            Error::invalid_params(format!("`{method}`: `{path}`: {msg}"))
        }
    })
}

/// `json` as a `T`, or where and why it does not fit: the field path (`.`
/// for the whole value) and serde's message without its position (the path
/// says more than a column).
pub(crate) fn deserialize_at<'a, T: Deserialize<'a>>(json: &'a str) -> Result<T, (String, String)> {
    let mut de = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        (path, without_position(&e.into_inner()))
    })
}

/// A serde_json error's message without its "at line N column M" tail.
pub(crate) fn without_position(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg,
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
    /// The tasks extension's filter: status notifications for these tasks.
    #[serde(default)]
    pub(super) task_ids: Vec<String>,
}

#[derive(Deserialize)]
pub(super) struct ListenParams {
    pub(super) notifications: ListenFilter,
}
