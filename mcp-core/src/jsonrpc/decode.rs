//! Decoding a frame into [`Message`]s: one pass over the envelope, the
//! strict rules of JSON-RPC 2.0, and errors that carry the request id when
//! it could be read.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::{ErrorCode, ErrorObject, Message, Notification, Request, RequestId, Response};

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

/// A JSON string (or object key) borrowed from the input unless it has
/// escapes. serde's derive borrows only a bare `Cow<str>` field, so an
/// `Option<Cow<str>>` or a map key read through this costs no allocation
/// in the common case.
pub(crate) struct BorrowedStr<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for BorrowedStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> serde::de::Visitor<'de> for Text {
            type Value = BorrowedStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(Text)
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
}
