//! Arguments a tool's input schema does not declare: found by a check of
//! their own ([`check_unknown_arguments`]) for handlers that take raw
//! arguments, or while the handler's own type is parsed ([`parse_checked`]),
//! so that `#[tool]` functions read their arguments once.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::SchemaFacts;
use crate::error::Error;
use crate::jsonrpc::BorrowedStr;

/// An error naming the arguments of the tool called `name` that its input
/// schema does not declare, if any ([`SchemaFacts::closed`]); arguments
/// that are not an object are left for the handler to refuse.
pub(crate) fn check_unknown_arguments(
    name: &str,
    facts: &SchemaFacts,
    arguments: Option<&RawValue>,
) -> Result<(), Error> {
    match facts.closed() {
        Some(declared) => check_declared(name, declared, arguments),
        None => Ok(()),
    }
}

fn check_declared(name: &str, declared: &[String], arguments: Option<&RawValue>) -> Result<(), Error> {
    let Some(arguments) = arguments else { return Ok(()) };
    let mut de = serde_json::Deserializer::from_str(arguments.get());
    match DeserializeSeed::deserialize(UnknownKeys { declared }, &mut de) {
        Ok(unknown) if !unknown.is_empty() => Err(unknown_arguments(name, declared, unknown)),
        _ => Ok(()),
    }
}

/// Parses the arguments of the tool called `name` into `A`, refusing names
/// outside `declared` (the closed set of its input schema) in the same pass.
///
/// The top-level object's keys are read once, checked, and handed to `A`'s
/// own field visitor; values go straight to serde_json, so nested data costs
/// nothing extra. The errors are those of [`check_unknown_arguments`]
/// followed by [`parse_arguments`](crate::server::parse_arguments): an
/// unknown name wins over a value that does not fit, as when the two ran one
/// after the other. A type that does not read its arguments as a map (a
/// newtype, say) gets the separate check.
pub(crate) fn parse_checked<A: DeserializeOwned>(
    name: &str,
    declared: &[String],
    arguments: Option<&RawValue>,
) -> Result<A, Error> {
    let json = arguments.map_or("{}", RawValue::get);
    match parse_recording::<A>(declared, json) {
        (Ok(args), Some(unknown)) if unknown.is_empty() => Ok(args),
        (Ok(_), Some(unknown)) => Err(unknown_arguments(name, declared, unknown)),
        (Ok(args), None) => check_declared(name, declared, arguments).map(|()| args),
        (Err(_), _) => {
            check_declared(name, declared, arguments)?;
            super::named_error("tool", name, json)
        }
    }
}

/// `json` parsed into `A`, and the top-level keys outside `declared`:
/// `None` when `A` did not read the top level as a map.
fn parse_recording<A: DeserializeOwned>(
    declared: &[String],
    json: &str,
) -> (Result<A, serde_json::Error>, Option<Vec<String>>) {
    let recorder = Recorder { declared, unknown: RefCell::new(Vec::new()), read_keys: Cell::new(false) };
    let mut de = serde_json::Deserializer::from_str(json);
    let parsed =
        A::deserialize(Recording { de: &mut de, recorder: &recorder }).and_then(|args| de.end().map(|()| args));
    let unknown = recorder.read_keys.get().then(|| recorder.unknown.into_inner());
    (parsed, unknown)
}

/// The error naming `unknown` (in any order, repeats allowed) and what the
/// tool called `name` declares.
fn unknown_arguments(name: &str, declared: &[String], mut unknown: Vec<String>) -> Error {
    unknown.sort();
    unknown.dedup();
    let unknown: Vec<String> = unknown.iter().map(|k| format!("`{k}`")).collect();
    let expected = if declared.is_empty() {
        "the tool takes no arguments".to_owned()
    } else {
        let names: Vec<String> = declared.iter().map(|k| format!("`{k}`")).collect();
        format!("expected {}", names.join(", "))
    };
    let plural = if unknown.len() > 1 { "s" } else { "" };
    Error::invalid_params(format!(
        "invalid arguments for tool `{name}`: unknown argument{plural} {}; {expected}",
        unknown.join(", ")
    ))
}

/// The keys of an arguments object that `declared` lacks, read without
/// building a map or allocating for keys it has.
struct UnknownKeys<'s> {
    declared: &'s [String],
}

impl<'de> DeserializeSeed<'de> for UnknownKeys<'_> {
    type Value = Vec<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for UnknownKeys<'_> {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an arguments object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut unknown = Vec::new();
        while let Some(BorrowedStr(key)) = map.next_key::<BorrowedStr<'de>>()? {
            map.next_value::<de::IgnoredAny>()?;
            if !self.declared.iter().any(|d| *d == *key) {
                unknown.push(key.into_owned());
            }
        }
        Ok(unknown)
    }
}

/// What [`parse_checked`] learns while `A` parses: the top-level keys
/// outside `declared`, and whether the top level was read as a map at all.
struct Recorder<'s> {
    declared: &'s [String],
    unknown: RefCell<Vec<String>>,
    read_keys: Cell<bool>,
}

/// A deserializer that is `D` except at the top level, where a map (a
/// struct's fields, a flattened or buffered object) is read through
/// [`RecordingMap`].
struct Recording<'r, 's, D> {
    de: D,
    recorder: &'r Recorder<'s>,
}

/// Forwards `deserialize_*` methods to the wrapped deserializer untouched.
macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Self::Error> {
            self.de.$method($($arg,)* visitor)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Recording<'_, '_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.de.deserialize_any(RecordingVisitor { inner: visitor, recorder: self.recorder })
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.de.deserialize_map(RecordingVisitor { inner: visitor, recorder: self.recorder })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.de.deserialize_struct(name, fields, RecordingVisitor { inner: visitor, recorder: self.recorder })
    }

    forward! {
        deserialize_bool(), deserialize_i8(), deserialize_i16(), deserialize_i32(), deserialize_i64(),
        deserialize_i128(), deserialize_u8(), deserialize_u16(), deserialize_u32(), deserialize_u64(),
        deserialize_u128(), deserialize_f32(), deserialize_f64(), deserialize_char(), deserialize_str(),
        deserialize_string(), deserialize_bytes(), deserialize_byte_buf(), deserialize_option(),
        deserialize_unit(), deserialize_unit_struct(name: &'static str),
        deserialize_newtype_struct(name: &'static str), deserialize_seq(), deserialize_tuple(len: usize),
        deserialize_tuple_struct(name: &'static str, len: usize),
        deserialize_enum(name: &'static str, variants: &'static [&'static str]),
        deserialize_identifier(), deserialize_ignored_any(),
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

/// `V`, except that a map it is handed is a [`RecordingMap`].
struct RecordingVisitor<'r, 's, V> {
    inner: V,
    recorder: &'r Recorder<'s>,
}

/// Forwards `visit_*` methods to the wrapped visitor untouched.
macro_rules! forward_visit {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for RecordingVisitor<'_, '_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.recorder.read_keys.set(true);
        self.inner.visit_map(RecordingMap { inner: map, recorder: self.recorder })
    }

    forward_visit! {
        visit_bool(bool), visit_i8(i8), visit_i16(i16), visit_i32(i32), visit_i64(i64), visit_i128(i128),
        visit_u8(u8), visit_u16(u16), visit_u32(u32), visit_u64(u64), visit_u128(u128), visit_f32(f32),
        visit_f64(f64), visit_char(char), visit_str(&str), visit_borrowed_str(&'de str), visit_string(String),
        visit_bytes(&[u8]), visit_borrowed_bytes(&'de [u8]), visit_byte_buf(Vec<u8>),
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_some(d)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_newtype_struct(d)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_seq(seq)
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_enum(data)
    }
}

/// The top-level object: each key is read once, recorded when `declared`
/// lacks it, and handed on as a string; values pass through.
struct RecordingMap<'r, 's, M> {
    inner: M,
    recorder: &'r Recorder<'s>,
}

impl<'de, M: MapAccess<'de>> MapAccess<'de> for RecordingMap<'_, '_, M> {
    type Error = M::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        let Some(BorrowedStr(key)) = self.inner.next_key::<BorrowedStr<'de>>()? else { return Ok(None) };
        if !self.recorder.declared.iter().any(|d| *d == *key) {
            self.recorder.unknown.borrow_mut().push(key.clone().into_owned());
        }
        match key {
            Cow::Borrowed(k) => seed.deserialize(BorrowedStrDeserializer::new(k)).map(Some),
            Cow::Owned(k) => seed.deserialize(StringDeserializer::new(k)).map(Some),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        self.inner.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    /// Both ways of checking, for one type: the separate check then the
    /// parse, and the parse that checks.
    fn both<A: DeserializeOwned + PartialEq + fmt::Debug>(declared: &[&str], json: &str) -> Result<A, String> {
        let declared: Vec<String> = declared.iter().map(|d| (*d).to_owned()).collect();
        let raw = RawValue::from_string(json.to_owned()).expect("json");
        let separate = check_declared("t", &declared, Some(&raw))
            .and_then(|()| super::super::parse_named_arguments::<A>("tool", "t", Some(&raw)))
            .map_err(|e| e.to_string());
        let checked = parse_checked::<A>("t", &declared, Some(&raw)).map_err(|e| e.to_string());
        assert_eq!(checked, separate, "{json}");
        checked
    }

    /// Whether `A` read the top level as a map, so that the parse did the
    /// check (rather than falling back to the separate one).
    fn checked_in_the_parse<A: DeserializeOwned>(json: &str) -> bool {
        parse_recording::<A>(&[], json).1.is_some()
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Search {
        query: String,
        #[serde(default)]
        limit: Option<u32>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Flat {
        a: u8,
        #[serde(flatten)]
        rest: BTreeMap<String, u8>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Strict {
        a: u8,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Wrapper(BTreeMap<String, u8>);

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(untagged)]
    enum Either {
        A { a: u8 },
        B { b: String },
    }

    #[test]
    fn the_parse_that_checks_says_what_the_separate_check_says() {
        let search = ["query", "limit"];
        assert_eq!(
            both::<Search>(&search, r#"{"query":"q","limit":3}"#),
            Ok(Search { query: "q".into(), limit: Some(3) })
        );
        // Escaped keys are read like plain ones, by the check and the type.
        assert_eq!(both::<Search>(&search, r#"{"q\u0075ery":"q"}"#), Ok(Search { query: "q".into(), limit: None }));
        let e = both::<Search>(&search, r#"{"query":"q","lmit":1,"zz":2,"lmit":3,"z\u007a":4}"#).expect_err("unknown");
        assert!(e.contains("unknown arguments `lmit`, `zz`; expected `query`, `limit`"), "{e}");
        // An unknown name wins over a value that does not fit, and over a
        // missing field.
        let e = both::<Search>(&search, r#"{"query":7,"other":1}"#).expect_err("unknown");
        assert!(e.contains("unknown argument `other`"), "{e}");
        let e = both::<Search>(&search, r#"{"other":1}"#).expect_err("unknown");
        assert!(e.contains("unknown argument `other`"), "{e}");
        // Without unknown names, the type's own error, naming the field.
        let e = both::<Search>(&search, r#"{"query":7}"#).expect_err("type");
        assert!(e.contains("`query`"), "{e}");
        let e = both::<Search>(&search, r#"{"query":"q","query":"r"}"#).expect_err("duplicate");
        assert!(e.contains("duplicate field `query`"), "{e}");
        // Nested objects are the type's business, not the check's.
        both::<Flat>(&["a", "b"], r#"{"a":1,"b":2}"#).expect("flattened");
        let e = both::<Flat>(&["a", "b"], r#"{"a":1,"b":2,"c":3}"#).expect_err("flattened, unknown");
        assert!(e.contains("unknown argument `c`"), "{e}");
        let e = both::<Strict>(&["a"], r#"{"a":1,"x":2}"#).expect_err("denied");
        assert!(e.contains("unknown argument `x`"), "{e}");
        // Types read another way get the separate check.
        both::<Wrapper>(&["a"], r#"{"a":1}"#).expect("newtype");
        let e = both::<Wrapper>(&["a"], r#"{"a":1,"y":2}"#).expect_err("newtype, unknown");
        assert!(e.contains("unknown argument `y`"), "{e}");
        assert_eq!(both::<Either>(&["a", "b"], r#"{"b":"x"}"#), Ok(Either::B { b: "x".into() }));
        let e = both::<Either>(&["a", "b"], r#"{"a":1,"c":2}"#).expect_err("untagged, unknown");
        assert!(e.contains("unknown argument `c`"), "{e}");
        let e = both::<Search>(&[], r#"{"query":"q"}"#).expect_err("no arguments");
        assert!(e.contains("the tool takes no arguments"), "{e}");

        assert!(checked_in_the_parse::<Search>(r#"{"query":"q"}"#));
        assert!(checked_in_the_parse::<Flat>(r#"{"a":1}"#));
        assert!(checked_in_the_parse::<Either>(r#"{"a":1}"#));
        assert!(checked_in_the_parse::<crate::server::NoArgs>("{}"));
        assert!(!checked_in_the_parse::<Wrapper>(r#"{"a":1}"#));
    }

    #[test]
    fn no_arguments_read_as_an_empty_object() {
        let checked: Result<BTreeMap<String, u8>, Error> = parse_checked("t", &["a".to_owned()], None);
        assert_eq!(checked.ok(), Some(BTreeMap::new()));
        let missing: Result<Search, Error> = parse_checked("t", &["query".to_owned()], None);
        assert!(missing.is_err_and(|e| e.to_string().contains("missing field `query`")));
    }
}
