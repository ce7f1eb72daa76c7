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

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

mod decode;
mod error;

pub(crate) use decode::{BorrowedStr, plain_string};
pub use decode::{DecodeError, Incoming};
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn error_response_with_null_id() {
        let m = Message::parse(br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#).unwrap();
        assert!(matches!(m, Message::Response(Response { id: None, payload: Err(_), .. })));
        assert_eq!(m.to_json(), r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#);
    }
}
