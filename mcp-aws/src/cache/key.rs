//! [`CacheKey`]: tool name + a SHA-256 of everything that decides a result
//! (the server, the tool's revision, the protocol version, the caller when
//! the scope is private, the canonical arguments).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use mcp_core::protocol::{CacheScope, ProtocolVersion};
use mcp_core::server::Principal;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest as _, Sha256};

/// Where a result is stored: the tool's name (the DynamoDB table's
/// partition key `tool_name`) and a SHA-256 over what else decides the
/// result (its sort key `params_hash`, in lowercase hex).
///
/// The hash covers the server's name and version, the tool's
/// [revision](mcp_core::server::ToolCaching::revision), the protocol
/// version (results are shaped per version), the caller's authorization
/// context for a [private](CacheScope::Private) scope, and the arguments in
/// canonical form: object keys sorted, no insignificant whitespace, so
/// `{"b":1, "a":2}` and `{"a":2,"b":1}` are one key. Nothing in it can be
/// read back: a caller's subject is not stored in the clear.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    tool: Arc<str>,
    hash: [u8; 32],
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheKey").field("tool", &self.tool).field("params_hash", &self.params_hash()).finish()
    }
}

impl CacheKey {
    /// A key from its parts, as a store reads it back (`params_hash` is
    /// the 64 hex digits [`params_hash`](Self::params_hash) writes);
    /// `None` when `params_hash` is not that.
    pub fn from_parts(tool: &str, params_hash: &str) -> Option<Self> {
        let bytes = params_hash.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut hash = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            hash[i] = u8::try_from(hi * 16 + lo).ok()?;
        }
        Some(Self { tool: Arc::from(tool), hash })
    }

    /// The tool's name.
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// The hash, as 64 lowercase hex digits.
    pub fn params_hash(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for b in self.hash {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        out
    }
}

/// The hash state every key of one server starts from: the format's tag
/// and the server's name and version, absorbed once.
pub(crate) fn prefix(server: &str) -> Sha256 {
    let mut h = Sha256::new();
    field(&mut h, b"mcp-sdk/cache/1");
    field(&mut h, server.as_bytes());
    h
}

/// What a key is made of, beside the tool's name.
pub(crate) struct KeyParts<'a> {
    /// [`prefix`] of the server's name and version.
    pub(crate) prefix: &'a Sha256,
    pub(crate) revision: u64,
    pub(crate) version: ProtocolVersion,
    pub(crate) scope: CacheScope,
    pub(crate) principal: Option<&'a Principal>,
}

impl KeyParts<'_> {
    /// The key of a call of `tool` with `arguments`; `None` when the
    /// arguments are not JSON this layer can put in canonical form (the
    /// dispatcher then answers the call).
    pub(crate) fn key(&self, tool: &Arc<str>, arguments: Option<&RawValue>) -> Option<CacheKey> {
        let mut h = self.prefix.clone();
        field(&mut h, tool.as_bytes());
        h.update(self.revision.to_le_bytes());
        field(&mut h, self.version.as_str().as_bytes());
        match (self.scope, self.principal) {
            (CacheScope::Public, _) => field(&mut h, b"public"),
            (CacheScope::Private, None) => field(&mut h, b"private-anonymous"),
            (CacheScope::Private, Some(p)) => {
                field(&mut h, b"private");
                field(&mut h, p.subject.as_bytes());
                h.update(len(p.scopes.len()));
                p.scopes.iter().for_each(|s| field(&mut h, s.as_bytes()));
                h.update(len(p.permissions.len()));
                p.permissions.iter().for_each(|s| field(&mut h, s.as_bytes()));
            }
        }
        let mut canonical = Vec::with_capacity(arguments.map_or(2, |a| a.get().len()));
        canonical_arguments(arguments, &mut canonical)?;
        field(&mut h, &canonical);
        Some(CacheKey { tool: Arc::clone(tool), hash: h.finalize().into() })
    }
}

/// A length-prefixed field, so that no two sequences of fields hash alike.
fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update(len(bytes.len()));
    h.update(bytes);
}

/// A length as 4 bytes (what the hash reads is far below 4 GiB; longer
/// saturates, and stays unambiguous with the bytes that follow).
fn len(n: usize) -> [u8; 4] {
    u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes()
}

/// Writes `arguments` in canonical form: object keys sorted, no
/// whitespace, strings without needless escapes; absent arguments and
/// `null` are `{}`, as the dispatcher reads them. `None` when the text is
/// not JSON.
pub(crate) fn canonical_arguments(arguments: Option<&RawValue>, out: &mut Vec<u8>) -> Option<()> {
    let text = arguments.map_or("{}", RawValue::get).trim();
    if text == "null" {
        out.extend_from_slice(b"{}");
        return Some(());
    }
    write_raw(text, out, 0)
}

/// How deep the borrowing pass goes before the rest of a value is read
/// into a tree: each level re-reads its own text, so a deeply nested value
/// would otherwise be read once per level.
const RAW_DEPTH: usize = 8;

/// Canonical form of one value, reading it without copying where it can.
fn write_raw(text: &str, out: &mut Vec<u8>, depth: usize) -> Option<()> {
    let text = text.trim();
    if depth >= RAW_DEPTH && matches!(text.as_bytes().first(), Some(b'{' | b'[')) {
        let value: Value = serde_json::from_str(text).ok()?;
        write_canonical(&value, out);
        return Some(());
    }
    match text.as_bytes().first()? {
        b'{' => {
            let Entries(mut entries) = serde_json::from_str::<Entries<Cow<'_, str>, &RawValue>>(text).ok()?;
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            out.push(b'{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, k.as_ref()).ok()?;
                out.push(b':');
                write_raw(v.get(), out, depth + 1)?;
            }
            out.push(b'}');
        }
        b'[' => {
            let items: Vec<&RawValue> = serde_json::from_str(text).ok()?;
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_raw(v.get(), out, depth + 1)?;
            }
            out.push(b']');
        }
        // A string with an escape may be written another way: decode it.
        b'"' if text.contains('\\') => {
            let s: Cow<'_, str> = serde_json::from_str(text).ok()?;
            serde_json::to_writer(&mut *out, s.as_ref()).ok()?;
        }
        // Plain strings, numbers, `true`, `false`, `null`: as written
        // (a `RawValue` is valid JSON).
        _ => out.extend_from_slice(text.as_bytes()),
    }
    Some(())
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // Writing a string or a number into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, k);
                out.push(b':');
                write_canonical(v, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(v, out);
            }
            out.push(b']');
        }
        Value::String(s) => {
            let _ = serde_json::to_writer(&mut *out, s);
        }
        // Numbers as their text was (serde_json's `Number` keeps it for
        // integers; floats print shortest-round-trip).
        scalar => {
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}

/// An object's members in order, as `(key, value)` pairs (duplicates kept).
pub(crate) struct Entries<K, V>(pub(crate) Vec<(K, V)>);

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Entries<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<K, V>(std::marker::PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for Visit<K, V> {
            type Value = Entries<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(4));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        let raw = RawValue::from_string(text.to_owned()).expect("json");
        let mut out = Vec::new();
        canonical_arguments(Some(&raw), &mut out).expect("canonical");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn key_order_and_whitespace_do_not_matter() {
        assert_eq!(canonical(r#"{ "b" : [1, {"y":2,"x":1}], "a":"\u0041" }"#), r#"{"a":"A","b":[1,{"x":1,"y":2}]}"#);
        assert_eq!(canonical("null"), "{}");
        assert_eq!(canonical(" {} "), "{}");
        assert_ne!(canonical(r#"{"a":1}"#), canonical(r#"{"a":"1"}"#), "types still matter");
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert_eq!(canonical(&format!(r#"{{"z":{{"b":1,"a":{deep}}}}}"#)), format!(r#"{{"z":{{"a":{deep},"b":1}}}}"#));
        let nested = r#"{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"j":1,"i":"é"}}}}}}}}}"#;
        assert_eq!(canonical(nested), r#"{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":"é","j":1}}}}}}}}}"#);
    }

    #[test]
    fn keys_separate_callers_only_in_private_scope() {
        let tool: Arc<str> = Arc::from("t");
        let (alice, bob) = (Principal::new("alice"), Principal::new("bob"));
        let prefix = prefix("s 1");
        let parts = |scope, principal| KeyParts {
            prefix: &prefix,
            revision: 1,
            version: ProtocolVersion::V2026_07_28,
            scope,
            principal,
        };
        let args = RawValue::from_string(r#"{"q":1}"#.to_owned()).expect("json");
        let key = |scope, p| parts(scope, p).key(&tool, Some(&args)).expect("key");
        assert_eq!(key(CacheScope::Public, Some(&alice)), key(CacheScope::Public, Some(&bob)));
        assert_ne!(key(CacheScope::Private, Some(&alice)), key(CacheScope::Private, Some(&bob)));
        assert_ne!(key(CacheScope::Private, Some(&alice)), key(CacheScope::Private, None));
        let k = key(CacheScope::Public, None);
        assert_eq!(CacheKey::from_parts("t", &k.params_hash()), Some(k.clone()));
        assert_eq!(CacheKey::from_parts("t", "xyz"), None);
        assert_eq!(k.params_hash().len(), 64);
    }
}
