//! Multi round-trip requests (2026-07-28): an `input_required` result asks
//! the client to run `elicitation/create`, `sampling/createMessage` or
//! `roots/list` on the server's behalf; the client retries the original
//! request with the answers in `inputResponses`.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::protocol::elicitation::{ElicitRequestParams, ElicitResult};
use crate::protocol::methods;
use crate::protocol::roots::{ListRootsRequestParams, ListRootsResult};
use crate::protocol::sampling::{CreateMessageRequestParams, CreateMessageResult};
use crate::protocol::{Meta, ResultType};

/// A request the server wants the client to fulfil, serialised as
/// `{"method": ..., "params": {...}}` (no `jsonrpc`, no `id`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum InputRequest {
    /// `elicitation/create`.
    Elicitation(ElicitRequestParams),
    /// `sampling/createMessage`.
    Sampling(CreateMessageRequestParams),
    /// `roots/list`; `params` is optional.
    ListRoots(Option<ListRootsRequestParams>),
}

impl InputRequest {
    /// The method name.
    pub const fn method(&self) -> &'static str {
        match self {
            Self::Elicitation(_) => methods::ELICITATION_CREATE,
            Self::Sampling(_) => methods::SAMPLING_CREATE_MESSAGE,
            Self::ListRoots(_) => methods::ROOTS_LIST,
        }
    }

    /// A `roots/list` request without params.
    pub const fn list_roots() -> Self {
        Self::ListRoots(None)
    }
}

#[derive(Serialize)]
struct WireOut<'a, P> {
    method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a P>,
}

#[derive(Deserialize)]
struct WireIn {
    method: String,
    #[serde(default)]
    params: Option<Value>,
}

impl Serialize for InputRequest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let method = self.method();
        match self {
            Self::Elicitation(p) => WireOut { method, params: Some(p) }.serialize(s),
            Self::Sampling(p) => WireOut { method, params: Some(p) }.serialize(s),
            Self::ListRoots(p) => WireOut { method, params: p.as_ref() }.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for InputRequest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = WireIn::deserialize(d)?;
        let params =
            |what: &str| wire.params.clone().ok_or_else(|| D::Error::custom(format!("{what}: missing `params`")));
        match wire.method.as_str() {
            methods::ELICITATION_CREATE => serde_json::from_value(params(methods::ELICITATION_CREATE)?)
                .map(Self::Elicitation)
                .map_err(D::Error::custom),
            methods::SAMPLING_CREATE_MESSAGE => serde_json::from_value(params(methods::SAMPLING_CREATE_MESSAGE)?)
                .map(Self::Sampling)
                .map_err(D::Error::custom),
            methods::ROOTS_LIST => match wire.params {
                None => Ok(Self::ListRoots(None)),
                Some(p) => serde_json::from_value(p).map(|p| Self::ListRoots(Some(p))).map_err(D::Error::custom),
            },
            other => Err(D::Error::custom(format!("unknown input request method {other:?}"))),
        }
    }
}

/// Input requests, keyed by server-chosen names.
pub type InputRequests = BTreeMap<String, InputRequest>;

/// The client's answer to one [`InputRequest`] (told apart by shape:
/// `role`/`model`, `action`, or `roots`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum InputResponse {
    /// Answer to `sampling/createMessage`.
    Sampling(CreateMessageResult),
    /// Answer to `elicitation/create`.
    Elicitation(ElicitResult),
    /// Answer to `roots/list`.
    ListRoots(ListRootsResult),
}

impl InputResponse {
    /// The elicitation answer, if this is one.
    pub fn as_elicitation(&self) -> Option<&ElicitResult> {
        match self {
            Self::Elicitation(r) => Some(r),
            _ => None,
        }
    }

    /// The sampling answer, if this is one.
    pub fn as_sampling(&self) -> Option<&CreateMessageResult> {
        match self {
            Self::Sampling(r) => Some(r),
            _ => None,
        }
    }

    /// The roots answer, if this is one.
    pub fn as_list_roots(&self) -> Option<&ListRootsResult> {
        match self {
            Self::ListRoots(r) => Some(r),
            _ => None,
        }
    }
}

/// Answers, keyed by the names of the [`InputRequests`] they answer.
pub type InputResponses = BTreeMap<String, InputResponse>;

/// A result saying the server needs more input before it can complete the
/// request (`"resultType": "input_required"`). At least one of
/// `inputRequests` and `requestState` must be present.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputRequiredResult {
    /// `input_required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// What the client should ask for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<InputRequests>,
    /// Opaque state the client echoes on retry; the server must authenticate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Result metadata.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl InputRequiredResult {
    /// An empty `input_required` result.
    pub fn new() -> Self {
        Self { result_type: Some(ResultType::InputRequired), ..Self::default() }
    }

    /// Adds an input request under `key`.
    #[must_use]
    pub fn with_input_request(mut self, key: impl Into<String>, request: InputRequest) -> Self {
        self.input_requests.get_or_insert_with(BTreeMap::new).insert(key.into(), request);
        self
    }

    /// Sets `requestState`.
    #[must_use]
    pub fn with_request_state(mut self, state: impl Into<String>) -> Self {
        self.request_state = Some(state.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn input_request_shapes() {
        let roots: InputRequest = serde_json::from_value(json!({"method": "roots/list"})).expect("json");
        assert_eq!(roots, InputRequest::list_roots());
        assert_eq!(serde_json::to_value(&roots).expect("json"), json!({"method": "roots/list"}));
        let roots: InputRequest = serde_json::from_value(json!({"method": "roots/list", "params": {}})).expect("json");
        assert_eq!(serde_json::to_value(&roots).expect("json"), json!({"method": "roots/list", "params": {}}));
        assert!(serde_json::from_value::<InputRequest>(json!({"method": "ping"})).is_err());
        assert!(serde_json::from_value::<InputRequest>(json!({"method": "sampling/createMessage"})).is_err());
    }

    #[test]
    fn input_response_shapes() {
        let r: InputResponse = serde_json::from_value(json!({"action": "decline"})).expect("json");
        assert!(r.as_elicitation().is_some());
        let r: InputResponse = serde_json::from_value(json!({"roots": []})).expect("json");
        assert!(r.as_list_roots().is_some());
    }
}
