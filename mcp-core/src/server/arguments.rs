//! Reading a tool's or prompt's arguments: into the handler's own type,
//! naming the field that does not fit, and checking them against the
//! tool's input schema for names it does not declare.

use std::fmt;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::protocol::tools::Tool;

/// Deserialises the arguments of the `kind` (tool, prompt) called `name`:
/// `{}` when there are none, and an error naming the field that does not
/// fit and the type it expects.
pub(crate) fn parse_named_arguments<A: DeserializeOwned>(
    kind: &str,
    name: &str,
    arguments: Option<&RawValue>,
) -> Result<A, Error> {
    let json = arguments.map_or("{}", RawValue::get);
    // Valid arguments, the common case, parse without tracking the path;
    // only a failure parses again to name the offending field.
    if let Ok(args) = serde_json::from_str(json) {
        return Ok(args);
    }
    super::dispatch::deserialize_at(json).map_err(|(path, msg)| {
        let message = if path == "." {
            format!("invalid arguments for {kind} `{name}`: {msg}")
        } else {
            format!("invalid arguments for {kind} `{name}`: `{path}`: {msg}")
        };
        Error::InvalidParams { message, data: None }
    })
}

/// An error naming the arguments that `tool`'s input schema does not
/// declare, if any. A schema without `properties`, or one that allows
/// additional or pattern properties, accepts any name; arguments that are
/// not an object are left for the handler to refuse.
pub(crate) fn check_unknown_arguments(tool: &Tool, arguments: Option<&RawValue>) -> Result<(), Error> {
    let schema = &tool.input_schema;
    let (Some(arguments), Some(Value::Object(declared))) = (arguments, schema.get("properties")) else {
        return Ok(());
    };
    let open = schema.get("additionalProperties").is_some_and(|a| *a != Value::Bool(false))
        || schema.contains_key("patternProperties");
    if open {
        return Ok(());
    }
    let mut de = serde_json::Deserializer::from_str(arguments.get());
    let Ok(mut unknown) = serde::de::DeserializeSeed::deserialize(UnknownKeys { declared }, &mut de) else {
        return Ok(());
    };
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort();
    unknown.dedup();
    let unknown: Vec<String> = unknown.iter().map(|k| format!("`{k}`")).collect();
    let expected = if declared.is_empty() {
        "the tool takes no arguments".to_owned()
    } else {
        let names: Vec<String> = declared.keys().map(|k| format!("`{k}`")).collect();
        format!("expected {}", names.join(", "))
    };
    let plural = if unknown.len() > 1 { "s" } else { "" };
    Err(Error::invalid_params(format!(
        "invalid arguments for tool `{}`: unknown argument{plural} {}; {expected}",
        tool.name,
        unknown.join(", ")
    )))
}

/// The keys of an arguments object that `declared` lacks, read without
/// building a map or allocating for keys it has: this runs on every call.
struct UnknownKeys<'s> {
    declared: &'s Map<String, Value>,
}

impl<'de> serde::de::DeserializeSeed<'de> for UnknownKeys<'_> {
    type Value = Vec<String>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for UnknownKeys<'_> {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an arguments object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut unknown = Vec::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            map.next_value::<serde::de::IgnoredAny>()?;
            if !self.declared.contains_key(&*key) {
                unknown.push(key.into_owned());
            }
        }
        Ok(unknown)
    }
}

/// An object key, borrowed from the input unless it has escapes.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_found_escaped_or_not_and_named_once() {
        let schema = serde_json::from_value(serde_json::json!({
            "type": "object", "properties": { "limit": {}, "query": {} },
        }))
        .expect("schema");
        let tool = Tool::new("search", schema);
        let args = |json: &str| RawValue::from_string(json.to_owned()).expect("json");
        assert!(check_unknown_arguments(&tool, Some(&args(r#"{"limit":1,"query":"q"}"#))).is_ok());
        // Escaped keys are read like plain ones.
        assert!(check_unknown_arguments(&tool, Some(&args(r#"{"li\u006dit":1}"#))).is_ok());
        let e = check_unknown_arguments(&tool, Some(&args(r#"{"lmit":1,"zz":2,"lmit":3,"q\u0075ery":"q"}"#)))
            .expect_err("unknown arguments");
        assert!(e.to_string().contains("unknown arguments `lmit`, `zz`; expected `limit`, `query`"), "{e}");
        // Not an object: left for the handler to refuse.
        assert!(check_unknown_arguments(&tool, Some(&args("[1]"))).is_ok());
    }
}
