//! Reading a tool's or prompt's arguments: into the handler's own type,
//! naming the field that does not fit, and checking them against the
//! tool's input schema for names it does not declare ([`unknown`]).

use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::Error;
use crate::protocol::tools::Tool;

mod unknown;

pub(crate) use unknown::{check_unknown_arguments, parse_checked};

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
    named_error::<A>(kind, name, json)
}

/// The error for arguments (`json`) that do not fit `A`, naming the field:
/// a second, slower parse that tracks the path, run only on failure.
fn named_error<A: DeserializeOwned>(kind: &str, name: &str, json: &str) -> Result<A, Error> {
    super::dispatch::deserialize_at(json).map_err(|(path, msg)| {
        let message = if path == "." {
            format!("invalid arguments for {kind} `{name}`: {msg}")
        } else {
            format!("invalid arguments for {kind} `{name}`: `{path}`: {msg}")
        };
        Error::InvalidParams { message, data: None }
    })
}

/// What a call needs to know of a tool's input schema, worked out once when
/// the tool is registered instead of on every call.
#[derive(Debug, Default)]
pub(crate) struct SchemaFacts {
    /// The declared argument names (in the schema's order), when the schema
    /// admits no others: it has `properties`, and neither allows
    /// `additionalProperties` nor has `patternProperties`. `None`: any name
    /// is accepted.
    closed: Option<Box<[String]>>,
    /// The arguments marked `x-mcp-header`, which the stateless era's
    /// `Mcp-Param-*` headers must repeat.
    pub(crate) header_params: Box<[HeaderParam]>,
}

/// An argument the `Mcp-Param-<header>` header repeats.
#[derive(Debug)]
pub(crate) struct HeaderParam {
    /// The argument's name.
    pub(crate) argument: String,
    /// The header's suffix as the schema writes it (for messages).
    pub(crate) header: String,
    /// The same, lower-cased (as `http` spells header names).
    pub(crate) lower: String,
}

impl SchemaFacts {
    /// The facts of `tool`'s input schema.
    pub(crate) fn of(tool: &Tool) -> Self {
        let schema = &tool.input_schema;
        let Some(Value::Object(declared)) = schema.get("properties") else { return Self::default() };
        let open = schema.get("additionalProperties").is_some_and(|a| *a != Value::Bool(false))
            || schema.contains_key("patternProperties");
        let header_params = declared
            .iter()
            .filter_map(|(argument, prop)| {
                let header = prop.get("x-mcp-header")?.as_str()?;
                Some(HeaderParam {
                    argument: argument.clone(),
                    header: header.to_owned(),
                    lower: header.to_ascii_lowercase(),
                })
            })
            .collect();
        Self { closed: (!open).then(|| declared.keys().cloned().collect()), header_params }
    }

    /// The declared argument names when the schema admits no others.
    pub(crate) fn closed(&self) -> Option<&[String]> {
        self.closed.as_deref()
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
        let facts = SchemaFacts::of(&Tool::new("search", schema));
        let check = |json: &str| {
            let args = RawValue::from_string(json.to_owned()).expect("json");
            check_unknown_arguments("search", &facts, Some(&args))
        };
        assert!(check(r#"{"limit":1,"query":"q"}"#).is_ok());
        // Escaped keys are read like plain ones.
        assert!(check(r#"{"li\u006dit":1}"#).is_ok());
        let e = check(r#"{"lmit":1,"zz":2,"lmit":3,"q\u0075ery":"q"}"#).expect_err("unknown arguments");
        assert!(e.to_string().contains("unknown arguments `lmit`, `zz`; expected `limit`, `query`"), "{e}");
        // Not an object: left for the handler to refuse.
        assert!(check("[1]").is_ok());
    }

    #[test]
    fn open_schemas_accept_any_name_and_header_params_are_found() {
        let tool = |schema: Value| SchemaFacts::of(&Tool::new("t", serde_json::from_value(schema).expect("schema")));
        let args = RawValue::from_string(r#"{"other":1}"#.to_owned()).expect("json");
        let open = tool(serde_json::json!({"type": "object", "properties": {"a": {}}, "additionalProperties": {}}));
        assert!(check_unknown_arguments("t", &open, Some(&args)).is_ok());
        let patterned = tool(serde_json::json!({"type": "object", "properties": {}, "patternProperties": {"^o": {}}}));
        assert!(check_unknown_arguments("t", &patterned, Some(&args)).is_ok());
        let none = tool(serde_json::json!({"type": "object", "properties": {}}));
        let e = check_unknown_arguments("t", &none, Some(&args)).expect_err("closed");
        assert!(e.to_string().contains("the tool takes no arguments"), "{e}");
        let headed = tool(serde_json::json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"}, "q": {"type": "string"}}}));
        assert_eq!(headed.header_params.len(), 1);
        assert_eq!(
            (headed.header_params[0].argument.as_str(), headed.header_params[0].lower.as_str()),
            ("region", "region")
        );
    }
}
