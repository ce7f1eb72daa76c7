//! Cheap reads of a request's params, shared by the layers.

use std::borrow::Cow;

use mcp_core::jsonrpc::{Message, RequestId};
use mcp_core::protocol::methods;
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct NamePeek<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
}

/// The `params.name` of a `tools/call` request; `None` for any other
/// message, or when the params do not parse (the dispatcher reports that).
pub(crate) fn tool_name(message: &Message) -> Option<Cow<'_, str>> {
    let Message::Request(r) = message else { return None };
    if r.method != methods::TOOLS_CALL {
        return None;
    }
    let params: &RawValue = r.params.as_deref()?;
    serde_json::from_str::<NamePeek<'_>>(params.get()).ok()?.name
}

/// The id of a request message.
pub(crate) fn request_id(message: &Message) -> Option<&RequestId> {
    match message {
        Message::Request(r) => Some(&r.id),
        _ => None,
    }
}
