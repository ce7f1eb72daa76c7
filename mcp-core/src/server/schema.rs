//! JSON Schemas for tool arguments and outputs, derived with schemars and
//! shaped for strict clients: draft 2020-12, sub-schemas inlined, an object
//! root, no `null` branches for optional values (they are simply not
//! `required`), no `"default": null`.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{OnceLock, PoisonError, RwLock};

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

/// The schema of `T`, cleaned for strict clients. Computed once per tool at
/// registration, never per request.
pub fn schema_for<T: JsonSchema>() -> Map<String, Value> {
    let mut settings = SchemaSettings::draft2020_12();
    settings.inline_subschemas = true;
    settings.meta_schema = None;
    let mut value = Value::from(settings.into_generator().into_root_schema_for::<T>());
    clean(&mut value);
    match value {
        Value::Object(mut map) => {
            // The root title is the Rust type's name: noise for a model.
            map.remove("title");
            map
        }
        // `true`/`false` schemas: no constraint, or nothing valid.
        Value::Bool(true) => Map::new(),
        other => {
            let mut map = Map::new();
            map.insert("not".into(), other);
            map
        }
    }
}

/// The schema of `T` as a tool input schema: an object root (a type without
/// properties gets `"type": "object", "properties": {}`).
pub fn object_schema_for<T: JsonSchema>() -> Map<String, Value> {
    let mut map = schema_for::<T>();
    // The arguments type's own doc comment describes a Rust type; the tool's
    // description is what a model reads.
    map.remove("description");
    map.entry("type").or_insert_with(|| Value::String("object".into()));
    if map.len() == 1 {
        // No arguments: some strict clients insist on `properties`.
        map.insert("properties".into(), Value::Object(Map::new()));
    }
    map
}

/// The property under which a tool's structured output sits when its type
/// is not a JSON object (a list, a number, an enum): `{"result": [..]}`, as
/// FastMCP does, since MCP requires `structuredContent` to be an object.
pub const RESULT_KEY: &str = "result";

/// The `outputSchema` of a tool whose structured output is a `T`: `T`'s
/// schema when it is an object schema, else an object whose one required
/// property, [`RESULT_KEY`], has `T`'s schema.
///
/// ```
/// use mcp_core::server::schema::output_schema_for;
///
/// let schema = output_schema_for::<Vec<String>>();
/// assert_eq!(schema["type"], "object");
/// assert_eq!(schema["properties"]["result"]["type"], "array");
/// assert_eq!(schema["required"], serde_json::json!(["result"]));
/// ```
pub fn output_schema_for<T: JsonSchema>() -> Map<String, Value> {
    let schema = schema_for::<T>();
    if is_object_schema(&schema) {
        return schema;
    }
    let mut properties = Map::new();
    properties.insert(RESULT_KEY.into(), Value::Object(schema));
    let mut wrapper = Map::new();
    wrapper.insert("type".into(), "object".into());
    wrapper.insert("properties".into(), Value::Object(properties));
    wrapper.insert("required".into(), Value::Array(vec![RESULT_KEY.into()]));
    wrapper
}

/// Whether a `T` travels wrapped under [`RESULT_KEY`] (see
/// [`output_schema_for`]); worked out once per type, not per call.
pub(crate) fn is_wrapped<T: JsonSchema + 'static>() -> bool {
    static WRAPPED: OnceLock<RwLock<HashMap<TypeId, bool>>> = OnceLock::new();
    let cache = WRAPPED.get_or_init(Default::default);
    let id = TypeId::of::<T>();
    if let Some(&wrapped) = cache.read().unwrap_or_else(PoisonError::into_inner).get(&id) {
        return wrapped;
    }
    let wrapped = !is_object_schema(&schema_for::<T>());
    cache.write().unwrap_or_else(PoisonError::into_inner).insert(id, wrapped);
    wrapped
}

/// Whether a schema's root is an object schema, as MCP requires of tool
/// input and output schemas.
pub fn is_object_schema(schema: &Map<String, Value>) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object")
}

/// The formats JSON Schema 2020-12 defines.
const STANDARD_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
        || v.get("const").is_some_and(Value::is_null) && v.as_object().is_some_and(|o| o.len() == 1)
}

fn clean(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.get("default").is_some_and(Value::is_null) {
                map.remove("default");
            }
            // "type": ["string", "null"] -> "type": "string", and the
            // `null` of an optional enum's values goes with it.
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t.as_str() != Some("null"));
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
                if let Some(Value::Array(values)) = map.get_mut("enum") {
                    values.retain(|v| !v.is_null());
                }
            }
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(branches)) = map.get_mut(key) {
                    let before = branches.len();
                    branches.retain(|b| !is_null_schema(b));
                    if branches.len() == 1 && before > 1 {
                        // Option<T> of a complex T: hoist T into this schema.
                        if let Some(Value::Object(inner)) = branches.pop() {
                            map.remove(key);
                            for (k, val) in inner {
                                map.entry(k).or_insert(val);
                            }
                        }
                    }
                }
            }
            // schemars emits Rust-flavoured formats (`double`, `uint32`) that
            // strict validators reject as unknown.
            if map.get("format").and_then(Value::as_str).is_some_and(|f| !STANDARD_FORMATS.contains(&f)) {
                map.remove("format");
            }
            if map.get("items").is_some_and(|i| i.as_object().is_some_and(Map::is_empty)) {
                map.remove("items");
            }
            // A `serde_json::Value` property is the schema `true`; the MCP
            // `Tool` definition wants every property to be an object.
            if let Some(Value::Object(props)) = map.get_mut("properties") {
                for prop in props.values_mut().filter(|p| **p == Value::Bool(true)) {
                    *prop = Value::Object(Map::new());
                }
            }
            for child in map.values_mut() {
                clean(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(clean),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[allow(dead_code)]
    #[derive(JsonSchema)]
    struct Args {
        /// The name
        name: String,
        /// Optional count
        count: Option<u32>,
        nested: Option<Inner>,
    }

    #[allow(dead_code)]
    #[derive(JsonSchema)]
    struct Inner {
        x: f64,
    }

    #[allow(dead_code)]
    #[derive(JsonSchema)]
    enum Mode {
        Up,
        Down,
    }

    #[allow(dead_code)]
    #[derive(JsonSchema)]
    struct WithEnum {
        mode: Option<Mode>,
    }

    #[allow(dead_code)]
    #[derive(JsonSchema)]
    struct WithValue {
        any: serde_json::Value,
    }

    #[test]
    fn non_object_outputs_are_wrapped_under_result() {
        for (schema, inner) in [
            (output_schema_for::<Vec<u32>>(), json!({ "type": "array", "items": { "type": "integer", "minimum": 0 } })),
            (output_schema_for::<i64>(), json!({ "type": "integer" })),
            (output_schema_for::<Mode>(), json!({ "type": "string", "enum": ["Up", "Down"] })),
        ] {
            assert_eq!(
                Value::Object(schema),
                json!({ "type": "object", "properties": { "result": inner }, "required": ["result"] })
            );
        }
        assert!(is_wrapped::<Vec<u32>>() && is_wrapped::<Mode>() && is_wrapped::<i64>());
        assert!(!is_wrapped::<Args>());
        assert_eq!(output_schema_for::<Args>(), schema_for::<Args>());
    }

    #[test]
    fn untyped_properties_are_empty_object_schemas() {
        assert_eq!(object_schema_for::<WithValue>()["properties"]["any"], json!({}));
    }

    #[test]
    fn optional_enums_lose_their_null_value() {
        let s = object_schema_for::<WithEnum>();
        assert_eq!(s["properties"]["mode"], json!({ "type": "string", "enum": ["Up", "Down"] }));
        assert!(s.get("required").is_none());
    }

    #[test]
    fn optional_fields_are_not_nullable_and_not_required() {
        let s = object_schema_for::<Args>();
        assert_eq!(s["type"], "object");
        assert_eq!(s["required"], json!(["name"]));
        assert_eq!(s["properties"]["count"]["type"], "integer");
        assert_eq!(s["properties"]["name"]["description"], "The name");
        assert_eq!(s["properties"]["nested"]["type"], "object");
        assert!(s["properties"]["count"].get("format").is_none());
        let text = Value::Object(s).to_string();
        assert!(!text.contains("null"), "{text}");
        assert!(!text.contains("$ref"), "{text}");
    }
}
