//! JSON-RPC 2.0 envelope: [`Message`], [`Request`], [`Notification`],
//! [`Response`], [`RequestId`] and [`ErrorObject`].
//!
//! Decoding is strict: `"jsonrpc"` must be exactly `"2.0"`, ids are strings or
//! integers (never `null`, fractions or objects), `params` is an object, and a
//! response carries exactly one of `result` and `error`. Params and results
//! stay as raw JSON ([`RawValue`]) so that a handler deserialises them once,
//! straight into its own type.
//!
//! ```
//! use mcp_core::jsonrpc::{Incoming, Message};
//!
//! let msg = Incoming::parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
//! let Incoming::Single(Message::Request(req)) = msg else { panic!() };
//! assert_eq!(req.method, "ping");
//! ```

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

mod error;

pub use error::{ErrorCode, ErrorObject};

/// The value of the `jsonrpc` member of every message.
pub const VERSION: &str = "2.0";

/// A request id: a string or an integer, never `null`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RequestId {
    /// An integer id.
    Number(i64),
    /// A string id.
    String(Arc<str>),
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => fmt::Display::fmt(n, f),
            Self::String(s) => fmt::Debug::fmt(&**s, f),
        }
    }
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        Self::Number(n)
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        Self::String(s.into())
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Number(n) => s.serialize_i64(*n),
            Self::String(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = RequestId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RequestId, E> {
                Ok(RequestId::Number(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RequestId, E> {
                i64::try_from(v).map(RequestId::Number).map_err(|_| E::custom("integer id out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RequestId, E> {
                Ok(RequestId::String(v.into()))
            }
        }
        d.deserialize_any(IdVisitor)
    }
}

/// A request: a method call that expects a response.
#[derive(Clone, Debug)]
pub struct Request {
    /// The request id, echoed in the response.
    pub id: RequestId,
    /// The method name.
    pub method: String,
    /// The params object, kept raw.
    pub params: Option<Box<RawValue>>,
}

/// A notification: a method call without an id and without a response.
#[derive(Clone, Debug)]
pub struct Notification {
    /// The method name.
    pub method: String,
    /// The params object, kept raw.
    pub params: Option<Box<RawValue>>,
}

/// A response to a request.
#[derive(Clone, Debug)]
pub struct Response {
    /// The id of the request this answers; `None` only for errors about
    /// messages whose id could not be read.
    pub id: Option<RequestId>,
    /// The result, or the error.
    pub payload: Result<Box<RawValue>, ErrorObject>,
    /// Typed signals for the transport that sends the response (a rate
    /// limiter's figures for `Retry-After`, say); never serialised. Empty
    /// costs nothing.
    pub extensions: http::Extensions,
}

impl Response {
    /// A successful response.
    pub fn result(id: RequestId, result: Box<RawValue>) -> Self {
        Self { id: Some(id), payload: Ok(result), extensions: http::Extensions::new() }
    }

    /// An error response.
    pub fn error(id: Option<RequestId>, error: ErrorObject) -> Self {
        Self { id, payload: Err(error), extensions: http::Extensions::new() }
    }

    /// Appends the response's JSON encoding to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        // One reservation instead of the writer's doublings: the envelope
        // adds under 64 bytes to the result (or about as much to an error's
        // message).
        let body = match &self.payload {
            Ok(raw) => raw.get().len(),
            Err(e) => e.message.len() + 64,
        };
        out.reserve(body + 64);
        // Cannot fail: see `Message::write_to`.
        let _ = serde_json::to_writer(out, &Wire::response(self));
    }

    /// The response's JSON encoding in a buffer of exactly its length, so
    /// that a transport hands it on (as `Bytes`) without another allocation.
    /// A success to a numeric id, the common case, is written without
    /// going through the serialiser; anything else is encoded and trimmed.
    #[cfg(feature = "http")]
    pub(crate) fn to_exact_vec(&self) -> Vec<u8> {
        const HEAD: &[u8] = br#"{"jsonrpc":"2.0","id":"#;
        const MID: &[u8] = br#","result":"#;
        if let (Some(RequestId::Number(n)), Ok(raw)) = (&self.id, &self.payload) {
            let digits = n.unsigned_abs().checked_ilog10().unwrap_or(0) as usize + 1 + usize::from(*n < 0);
            let mut out = Vec::with_capacity(HEAD.len() + digits + MID.len() + raw.get().len() + 1);
            out.extend_from_slice(HEAD);
            // Cannot fail: an integer into a Vec.
            let _ = serde_json::to_writer(&mut out, n);
            out.extend_from_slice(MID);
            out.extend_from_slice(raw.get().as_bytes());
            out.push(b'}');
            return out;
        }
        let mut out = Vec::new();
        self.write_to(&mut out);
        out.shrink_to_fit();
        out
    }

    /// A successful response whose result is `value` serialised.
    ///
    /// # Errors
    /// When `value` cannot be serialised (a map with non-string keys, or a
    /// failing `Serialize` impl).
    pub fn from_result<T: Serialize>(id: RequestId, value: &T) -> Result<Self, serde_json::Error> {
        Ok(Self::result(id, serde_json::value::to_raw_value(value)?))
    }
}

/// Any JSON-RPC message.
#[derive(Clone, Debug)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
    /// A response (to a request this side sent).
    Response(Response),
}

impl Message {
    /// Appends the message's JSON encoding to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        // Serialising these types into a Vec cannot fail: every key is a
        // string and every value is already valid JSON.
        let _ = serde_json::to_writer(out, &Wire::from(self));
    }

    /// The message as a JSON string.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(128);
        self.write_to(&mut out);
        // serde_json writes UTF-8 only.
        String::from_utf8(out).unwrap_or_default()
    }
}

impl From<Request> for Message {
    fn from(r: Request) -> Self {
        Self::Request(r)
    }
}
impl From<Notification> for Message {
    fn from(n: Notification) -> Self {
        Self::Notification(n)
    }
}
impl From<Response> for Message {
    fn from(r: Response) -> Self {
        Self::Response(r)
    }
}

#[derive(Serialize)]
struct Wire<'a> {
    jsonrpc: &'static str,
    #[serde(skip_serializing_if = "IdField::is_absent")]
    id: IdField<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a ErrorObject>,
}

enum IdField<'a> {
    Absent,
    Null,
    Id(&'a RequestId),
}

impl IdField<'_> {
    fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }
}

impl Serialize for IdField<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Id(id) => id.serialize(s),
            _ => s.serialize_unit(),
        }
    }
}

impl<'a> From<&'a Message> for Wire<'a> {
    fn from(m: &'a Message) -> Self {
        let mut w =
            Wire { jsonrpc: VERSION, id: IdField::Absent, method: None, params: None, result: None, error: None };
        match m {
            Message::Request(r) => {
                w.id = IdField::Id(&r.id);
                w.method = Some(&r.method);
                w.params = r.params.as_deref();
            }
            Message::Notification(n) => {
                w.method = Some(&n.method);
                w.params = n.params.as_deref();
            }
            Message::Response(r) => return Wire::response(r),
        }
        w
    }
}

impl<'a> Wire<'a> {
    fn response(r: &'a Response) -> Self {
        let (result, error) = match &r.payload {
            Ok(v) => (Some(&**v), None),
            Err(e) => (None, Some(e)),
        };
        Wire {
            jsonrpc: VERSION,
            id: r.id.as_ref().map_or(IdField::Null, IdField::Id),
            method: None,
            params: None,
            result,
            error,
        }
    }
}

/// Why bytes could not be decoded into a [`Message`].
///
/// Carries the request id when one could be read, so that the error response
/// echoes it.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodeError {
    /// The id of the offending message, when it could be read.
    pub id: Option<RequestId>,
    /// The error to send back.
    pub error: ErrorObject,
}

impl DecodeError {
    fn invalid(id: Option<RequestId>, msg: impl Into<Cow<'static, str>>) -> Self {
        Self { id, error: ErrorObject::new(ErrorCode::INVALID_REQUEST, msg) }
    }

    /// The error response for this failure.
    pub fn into_response(self) -> Response {
        Response::error(self.id, self.error)
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for DecodeError {}

/// A decoded frame: one message or a batch.
#[derive(Debug)]
pub enum Incoming {
    /// A single message.
    Single(Message),
    /// A JSON array of messages; each element decoded on its own.
    Batch(Vec<Result<Message, DecodeError>>),
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    jsonrpc: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    method: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    params: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    error: Option<&'a RawValue>,
}

/// Keeps an explicit `null` as `Some("null")`, unlike `Option`'s default.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

fn syntax_error(e: &serde_json::Error) -> DecodeError {
    DecodeError { id: None, error: ErrorObject::new(ErrorCode::PARSE_ERROR, format!("parse error: {e}")) }
}

impl Incoming {
    /// Decodes one frame (a line on stdio, a body on HTTP).
    ///
    /// # Errors
    /// -32700 for bytes that are not JSON (or not UTF-8), -32600 for JSON that
    /// is not a valid message, -32602 for a `params` member that is not an
    /// object. The error carries the message's id when it could be read.
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                return Err(DecodeError {
                    id: None,
                    error: ErrorObject::new(
                        ErrorCode::PARSE_ERROR,
                        format!("parse error: invalid UTF-8 at byte {}", e.valid_up_to()),
                    ),
                });
            }
        };
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'[') {
            let items: Vec<&RawValue> = serde_json::from_slice(bytes).map_err(|e| syntax_error(&e))?;
            if items.is_empty() {
                return Err(DecodeError::invalid(None, "invalid request: empty batch"));
            }
            return Ok(Self::Batch(items.into_iter().map(|raw| decode_raw(raw.get())).collect()));
        }
        // Decode in one pass; only a failure checks the syntax, so that a
        // truncated object is -32700, not -32600.
        decode_raw(text.trim_matches(is_json_whitespace)).map(Self::Single).map_err(|e| {
            match serde_json::from_slice::<&RawValue>(bytes) {
                Err(syntax) => syntax_error(&syntax),
                Ok(_) => e,
            }
        })
    }
}

impl Message {
    /// Decodes a single message (no batches).
    ///
    /// # Errors
    /// As [`Incoming::parse`]; a batch is -32600.
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        match Incoming::parse(bytes)? {
            Incoming::Single(m) => Ok(m),
            Incoming::Batch(_) => Err(DecodeError::invalid(None, "invalid request: batches are not accepted here")),
        }
    }
}

fn is_json_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn decode_raw(json: &str) -> Result<Message, DecodeError> {
    if !json.starts_with('{') {
        return Err(DecodeError::invalid(None, "invalid request: a message must be a JSON object"));
    }
    let env: Envelope<'_> =
        serde_json::from_str(json).map_err(|e| DecodeError::invalid(None, format!("invalid request: {e}")))?;

    // `"id": null` is only valid on an error response whose request id
    // could not be read.
    let null_id = env.id.is_some_and(|raw| raw.get() == "null");
    let id = match env.id {
        Some(raw) if !null_id || env.method.is_some() || env.error.is_none() => Some(
            plain_id(raw.get()).map_or_else(|| serde_json::from_str::<RequestId>(raw.get()), Ok).map_err(|_| {
                let got = raw.get();
                let why = if !got.is_empty() && got.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()) {
                    "is outside the 64-bit integer range".to_owned()
                } else {
                    format!("must be a string or an integer, got {}", truncate(got))
                };
                DecodeError::invalid(None, format!("invalid request: `id` {why}"))
            })?,
        ),
        _ => None,
    };
    match env.jsonrpc {
        Some(v) if v.get() == "\"2.0\"" => {}
        Some(v) => {
            return Err(DecodeError::invalid(
                id,
                format!("invalid request: `jsonrpc` must be \"2.0\", got {}", truncate(v.get())),
            ));
        }
        None => return Err(DecodeError::invalid(id, "invalid request: missing `jsonrpc` member (must be \"2.0\")")),
    }

    if let Some(method) = env.method {
        let method: String = match plain_string(method.get()) {
            Some(plain) => plain.to_owned(),
            None => serde_json::from_str(method.get()).map_err(|_| {
                DecodeError::invalid(
                    id.clone(),
                    format!("invalid request: `method` must be a string, got {}", truncate(method.get())),
                )
            })?,
        };
        if env.result.is_some() || env.error.is_some() {
            return Err(DecodeError::invalid(id, "invalid request: a request cannot carry `result` or `error`"));
        }
        let params = match env.params {
            None => None,
            Some(p) if p.get().starts_with('{') => Some(p.to_owned()),
            Some(p) => {
                return Err(DecodeError {
                    id,
                    error: ErrorObject::new(
                        ErrorCode::INVALID_PARAMS,
                        format!("invalid params: `params` must be an object, got {}", truncate(p.get())),
                    ),
                });
            }
        };
        return Ok(match id {
            Some(id) => Message::Request(Request { id, method, params }),
            None => Message::Notification(Notification { method, params }),
        });
    }

    // No method: a response.
    let Some(id) = id else {
        if null_id
            && env.result.is_none()
            && let Some(e) = env.error
        {
            let error: ErrorObject = serde_json::from_str(e.get())
                .map_err(|err| DecodeError::invalid(None, format!("invalid response: bad `error` object: {err}")))?;
            return Ok(Message::Response(Response::error(None, error)));
        }
        return Err(DecodeError::invalid(None, "invalid request: missing `method`"));
    };
    match (env.result, env.error) {
        (Some(r), None) => Ok(Message::Response(Response::result(id, r.to_owned()))),
        (None, Some(e)) => {
            let error: ErrorObject = serde_json::from_str(e.get()).map_err(|err| {
                DecodeError::invalid(Some(id.clone()), format!("invalid response: bad `error` object: {err}"))
            })?;
            Ok(Message::Response(Response::error(Some(id), error)))
        }
        (Some(_), Some(_)) => {
            Err(DecodeError::invalid(Some(id), "invalid response: both `result` and `error` are present"))
        }
        (None, None) => Err(DecodeError::invalid(Some(id), "invalid request: missing `method`")),
    }
}

/// The text of a JSON string that serde_json has already checked (a raw
/// value) and that has no escapes: the common case, read without another
/// deserializer. `None` for anything else, which the caller parses.
pub(crate) fn plain_string(raw: &str) -> Option<&str> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then_some(inner)
}

/// An integer id from a checked raw value, without another deserializer;
/// `None` for anything else (strings, out-of-range integers, other JSON),
/// which the caller parses and words the error for.
fn plain_id(raw: &str) -> Option<RequestId> {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return plain_string(raw).map(RequestId::from);
    }
    // serde_json reads `-0` as a float, which is refused as an id.
    (raw != "-0").then(|| raw.parse().ok().map(RequestId::Number)).flatten()
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(bytes: &str) -> DecodeError {
        Incoming::parse(bytes.as_bytes()).expect_err(bytes)
    }

    #[cfg(feature = "http")]
    #[test]
    fn exact_encoding_matches_the_serialiser_and_fills_its_buffer() {
        let raw = || RawValue::from_string(r#"{"content":[]}"#.to_owned()).unwrap();
        let mut responses: Vec<Response> = [0, 7, 9, 10, 99, 100, -1, -10, i64::MIN, i64::MAX]
            .into_iter()
            .map(|n| Response::result(RequestId::Number(n), raw()))
            .collect();
        responses.push(Response::result(RequestId::String("a\"b".into()), raw()));
        responses.push(Response::error(Some(RequestId::Number(3)), ErrorObject::new(ErrorCode::INTERNAL_ERROR, "x")));
        responses.push(Response::error(None, ErrorObject::new(ErrorCode::PARSE_ERROR, "y")));
        for r in responses {
            let mut expected = Vec::new();
            r.write_to(&mut expected);
            let exact = r.to_exact_vec();
            assert_eq!(String::from_utf8_lossy(&exact), String::from_utf8_lossy(&expected));
            assert_eq!(exact.len(), exact.capacity(), "{}", String::from_utf8_lossy(&exact));
        }
    }

    #[test]
    fn request_roundtrip() {
        let m = Message::parse(br#"{"jsonrpc":"2.0","id":"a","method":"tools/list","params":{"cursor":"x"}}"#).unwrap();
        assert_eq!(m.to_json(), r#"{"jsonrpc":"2.0","id":"a","method":"tools/list","params":{"cursor":"x"}}"#);
    }

    #[test]
    fn strictness() {
        assert_eq!(err("{").error.code, ErrorCode::PARSE_ERROR);
        assert_eq!(err(r#"{"id":1,"method":"x"}"#).error.code, ErrorCode::INVALID_REQUEST);
        assert_eq!(err(r#"{"jsonrpc":"1.0","id":1,"method":"x"}"#).id, Some(RequestId::Number(1)));
        assert_eq!(err(r#"{"jsonrpc":"2.0","id":null,"method":"x"}"#).error.code, ErrorCode::INVALID_REQUEST);
        assert_eq!(err(r#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#).error.code, ErrorCode::INVALID_REQUEST);
        assert_eq!(err(r#"{"jsonrpc":"2.0","id":1,"method":"x","params":3}"#).error.code, ErrorCode::INVALID_PARAMS);
        assert_eq!(
            err(r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}"#).error.code,
            ErrorCode::INVALID_REQUEST
        );
        assert_eq!(err("[]").error.code, ErrorCode::INVALID_REQUEST);
        assert_eq!(err("7").error.code, ErrorCode::INVALID_REQUEST);
    }

    #[test]
    fn ids_and_methods_read_without_a_deserializer_match_serde() {
        let ids = [
            "1",
            "-5",
            "0",
            "-0",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            r#""abc""#,
            r#""""#,
            r#""a\"b""#,
            r#""\u0041""#,
            "1.5",
            "1e3",
            "true",
            "[1]",
        ];
        for raw in ids {
            let serde = serde_json::from_str::<RequestId>(raw).ok();
            match plain_id(raw) {
                Some(fast) => assert_eq!(Some(fast), serde, "{raw}"),
                // Left to serde: escapes, floats, out of range, not a string.
                None => assert!(raw.contains('\\') || serde.is_none(), "{raw} should be read fast"),
            }
            let message = format!(r#"{{"jsonrpc":"2.0","id":{raw},"method":"x"}}"#);
            match (Message::parse(message.as_bytes()), serde) {
                (Ok(Message::Request(r)), Some(id)) => assert_eq!(r.id, id, "{raw}"),
                (Err(e), None) => assert!(e.error.message.contains("`id`"), "{raw}: {}", e.error.message),
                (other, serde) => panic!("{raw}: {other:?} but serde reads {serde:?}"),
            }
        }
        assert_eq!(plain_string(r#""tools/call""#), Some("tools/call"));
        assert_eq!(plain_string(r#""to\u006fls/call""#), None);
        let escaped = Message::parse(br#"{"jsonrpc":"2.0","id":1,"method":"to\u006fls/call"}"#).unwrap();
        assert!(matches!(escaped, Message::Request(r) if r.method == "tools/call"));
    }

    #[test]
    fn error_response_with_null_id() {
        let m = Message::parse(br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#).unwrap();
        assert!(matches!(m, Message::Response(Response { id: None, payload: Err(_), .. })));
        assert_eq!(m.to_json(), r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#);
    }
}
