//! What the layer reads in a leader's answer (may it be stored, shared or
//! neither) and how it writes a stored result back (with the 2026-07-28
//! `ttlMs`/`cacheScope` hints).

use std::borrow::Cow;

use mcp_core::jsonrpc::Response;
use mcp_core::protocol::CacheScope;
use serde::de::IgnoredAny;
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use super::store::{CachedResult, Members};

/// What may be done with an answer.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Class {
    /// A complete, successful `CallToolResult`: store it.
    Store,
    /// An error or an `isError` result: never stored, but concurrent
    /// identical callers get it too.
    Share,
    /// Bound to its own request (`input_required`, a task, no answer).
    Own,
}

#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(rename = "isError", default)]
    is_error: Option<bool>,
    /// Raw: `Option<Cow<str>>` would allocate for every answer (serde
    /// borrows only a bare `Cow<str>`), and the plain text is the common
    /// case ([`is_complete`]).
    #[serde(rename = "resultType", borrow, default)]
    result_type: Option<&'a RawValue>,
    #[serde(default)]
    content: Option<IgnoredAny>,
    #[serde(default)]
    task: Option<IgnoredAny>,
}

/// Reads the answer the tool gave.
pub(super) fn classify(response: Option<&Response>) -> Class {
    let Some(response) = response else { return Class::Own };
    let raw = match &response.payload {
        Ok(raw) => raw,
        Err(_) => return Class::Share,
    };
    let Ok(peek) = serde_json::from_str::<Peek<'_>>(raw.get()) else { return Class::Own };
    if peek.task.is_some() || peek.result_type.is_some_and(|t| !is_complete(t)) {
        return Class::Own;
    }
    if peek.is_error == Some(true) {
        return Class::Share;
    }
    if peek.content.is_none() { Class::Own } else { Class::Store }
}

/// Whether a `resultType` is the string `"complete"`, escaped or not; any
/// other value (another string, not a string) is not.
fn is_complete(raw: &RawValue) -> bool {
    raw.get() == r#""complete""# || serde_json::from_str::<Cow<'_, str>>(raw.get()).is_ok_and(|t| t == "complete")
}

/// The request carries a later round's input or asks for a task: it is
/// bound to itself, never served from the cache.
pub(super) fn bound_to_itself(params: Option<&RawValue>) -> bool {
    #[derive(Deserialize)]
    struct Round {
        #[serde(default)]
        task: Option<IgnoredAny>,
        #[serde(rename = "inputResponses", default)]
        input_responses: Option<IgnoredAny>,
        #[serde(rename = "requestState", default)]
        request_state: Option<IgnoredAny>,
    }
    let Some(params) = params else { return false };
    let text = params.get();
    // Most calls carry none of them: skip the parse.
    if !(text.contains("\"task\"") || text.contains("\"inputResponses\"") || text.contains("\"requestState\"")) {
        return false;
    }
    serde_json::from_str::<Round>(text)
        .map_or(true, |r| r.task.is_some() || r.input_responses.is_some() || r.request_state.is_some())
}

/// `entry`'s result with the 2026-07-28 caching hints first: `ttlMs`
/// (what is left of its time to live; in whole seconds from one second
/// up, so that one written answer serves a second of hits) and
/// `cacheScope`, with `CacheableResult`'s meaning. Written from the
/// result's members, without parsing it again; the result unchanged when
/// it is not a JSON object.
pub(super) fn with_hints(entry: &CachedResult, ttl_ms: u64, scope: CacheScope) -> Box<RawValue> {
    if ttl_ms < 1_000 {
        return write_hints(entry, ttl_ms, scope);
    }
    let secs = ttl_ms / 1_000;
    if let Some(text) = entry.hinted(secs, scope) {
        return text;
    }
    let text = write_hints(entry, secs * 1_000, scope);
    entry.keep_hinted(secs, scope, &text);
    text
}

fn write_hints(entry: &CachedResult, ttl_ms: u64, scope: CacheScope) -> Box<RawValue> {
    struct Hinted<'a> {
        ttl_ms: u64,
        scope: CacheScope,
        members: &'a Members,
    }
    impl Serialize for Hinted<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut map = s.serialize_map(Some(self.members.len() + 2))?;
            map.serialize_entry("ttlMs", &self.ttl_ms)?;
            map.serialize_entry("cacheScope", &self.scope)?;
            for (k, v) in self.members {
                if !matches!(&**k, "ttlMs" | "cacheScope") {
                    map.serialize_entry(k, v)?;
                }
            }
            map.end()
        }
    }
    entry
        .members()
        .and_then(|members| serde_json::value::to_raw_value(&Hinted { ttl_ms, scope, members }).ok())
        .unwrap_or_else(|| entry.result.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_core::jsonrpc::{ErrorCode, ErrorObject, RequestId};

    fn ok(text: &str) -> Response {
        Response::result(RequestId::Number(1), RawValue::from_string(text.to_owned()).expect("json"))
    }

    #[test]
    fn only_complete_successful_results_are_stored() {
        assert_eq!(classify(Some(&ok(r#"{"content":[],"resultType":"complete"}"#))), Class::Store);
        assert_eq!(classify(Some(&ok(r#"{"content":[]}"#))), Class::Store);
        assert_eq!(classify(Some(&ok(r#"{"content":[],"isError":true}"#))), Class::Share);
        assert_eq!(classify(Some(&ok(r#"{"resultType":"input_required","inputRequests":{}}"#))), Class::Own);
        assert_eq!(classify(Some(&ok(r#"{"task":{"taskId":"t"}}"#))), Class::Own);
        assert_eq!(classify(Some(&ok(r#"{"resultType":"task","content":[]}"#))), Class::Own);
        // Escaped text means the same; `null` is no `resultType`; anything
        // but a string is not "complete".
        assert_eq!(classify(Some(&ok(r#"{"content":[],"resultType":"compl\u0065te"}"#))), Class::Store);
        assert_eq!(classify(Some(&ok(r#"{"content":[],"resultType":null}"#))), Class::Store);
        assert_eq!(classify(Some(&ok(r#"{"content":[],"resultType":3}"#))), Class::Own);
        let error = Response::error(Some(RequestId::Number(1)), ErrorObject::new(ErrorCode::INTERNAL_ERROR, "x"));
        assert_eq!(classify(Some(&error)), Class::Share);
        assert_eq!(classify(None), Class::Own);
    }

    #[test]
    fn later_rounds_and_tasks_bypass_the_cache() {
        let raw = |t: &str| RawValue::from_string(t.to_owned()).expect("json");
        assert!(!bound_to_itself(Some(&raw(r#"{"name":"t","arguments":{"task":"an argument"}}"#))));
        assert!(bound_to_itself(Some(&raw(r#"{"name":"t","task":{"ttl":1000}}"#))));
        assert!(bound_to_itself(Some(&raw(r#"{"name":"t","requestState":"s","inputResponses":{}}"#))));
        assert!(!bound_to_itself(None));
    }

    #[test]
    fn hints_lead_the_result() {
        let entry = |t: &str| CachedResult::new(RawValue::from_string(t.to_owned()).expect("json"), 0, 1);
        let e = entry(r#"{"content":[ 1 ]}"#);
        let hinted = with_hints(&e, 1500, CacheScope::Public);
        assert_eq!(hinted.get(), r#"{"ttlMs":1000,"cacheScope":"public","content":[ 1 ]}"#, "whole seconds");
        assert_eq!(with_hints(&e, 1999, CacheScope::Public).get(), hinted.get(), "written once a second");
        assert_eq!(
            with_hints(&e, 1999, CacheScope::Private).get(),
            r#"{"ttlMs":1000,"cacheScope":"private","content":[ 1 ]}"#
        );
        assert_eq!(
            with_hints(&e, 500, CacheScope::Public).get(),
            r#"{"ttlMs":500,"cacheScope":"public","content":[ 1 ]}"#
        );
        assert_eq!(with_hints(&entry("{ }"), 0, CacheScope::Private).get(), r#"{"ttlMs":0,"cacheScope":"private"}"#);
        assert_eq!(with_hints(&entry("[1]"), 0, CacheScope::Private).get(), "[1]", "not an object: as it was");
    }
}
