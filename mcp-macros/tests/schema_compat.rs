//! Every schema `#[tool]` generates is one strict clients accept: an object
//! root, no `null` branches or values for `Option<T>`, no `"default": null`,
//! no empty `items`, no `$ref` (sub-schemas inlined), `required` naming only
//! declared properties, valid JSON Schema 2020-12; and every tool, as
//! `tools/list` sends it, is valid against the official `Tool` definition
//! of each protocol version (`tests/spec/<version>/schema.json`).

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use common::Client;
use jsonschema::Draft;
use mcp_core::routes;
use mcp_core::server::{Json, Server, ServerBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A colour.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Colour {
    /// Like blood
    Red,
    /// Like grass
    Green,
}

/// A shape, tagged by `kind`.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Shape {
    /// A circle
    Circle {
        /// Its radius
        radius: f64,
    },
    /// A rectangle
    Rect {
        /// Its width
        width: f64,
        /// Its height
        height: f64,
    },
}

/// An address.
#[derive(Deserialize, Serialize, JsonSchema)]
struct Address {
    /// The street
    street: String,
    /// The postcode, if known
    postcode: Option<String>,
    /// Extra lines
    #[serde(default)]
    extra: Vec<String>,
}

/// A customer.
#[derive(Deserialize, Serialize, JsonSchema)]
struct Customer {
    /// Their name
    name: String,
    /// Where they live
    address: Option<Address>,
    /// Their favourite colour
    colour: Option<Colour>,
    /// Their orders
    orders: Vec<Order>,
}

/// An order.
#[derive(Deserialize, Serialize, JsonSchema)]
struct Order {
    /// The order number
    id: u64,
    /// The amounts, by currency
    amounts: BTreeMap<String, f64>,
    /// The discount, if any
    discount: Option<f32>,
}

/// A summary.
#[derive(Serialize, JsonSchema)]
struct Summary {
    /// The customers
    customers: Vec<Customer>,
    /// The total
    total: Option<f64>,
    /// Totals by colour
    by_colour: HashMap<String, u32>,
}

struct Everything;

#[routes]
impl Everything {
    /// Scalars of every kind.
    #[tool]
    fn scalars(
        /// A flag
        flag: bool,
        /// A letter
        letter: char,
        /// Text
        text: String,
        /// A byte
        byte: u8,
        /// A signed number
        signed: i64,
        /// An unsigned number
        unsigned: u32,
        /// A size
        size: usize,
        /// A float
        float: f32,
        /// A double
        double: f64,
    ) -> String {
        format!("{flag}{letter}{text}{byte}{signed}{unsigned}{size}{float}{double}")
    }

    /// Optional values and defaults.
    #[tool]
    fn optionals(
        /// Maybe text
        text: Option<String>,
        /// Maybe a number
        number: Option<i32>,
        /// Maybe a colour
        colour: Option<Colour>,
        /// Maybe an address
        address: Option<Address>,
        /// Maybe a list
        list: Option<Vec<Option<u32>>>,
        /// A default count
        #[arg(default = 3)]
        count: u8,
        /// A defaulted list
        #[arg(default)]
        tags: Vec<String>,
    ) -> String {
        let _ = (text, number, colour, address, list, count, tags);
        String::new()
    }

    /// Enums, nested structs, collections.
    #[tool]
    fn nested(
        /// A colour
        colour: Colour,
        /// A shape
        shape: Shape,
        /// Shapes
        shapes: Vec<Shape>,
        /// A customer
        customer: Customer,
        /// A point in 3D
        point: [f64; 3],
        /// A pair
        pair: (String, u32),
        /// Unique names
        names: HashSet<String>,
        /// Lookups
        lookup: HashMap<String, Vec<Address>>,
        /// Anything at all
        anything: Value,
        untyped: Value,
    ) -> Json<Summary> {
        let _ = (colour, shape, shapes, point, pair, names, lookup, anything, untyped);
        Json(Summary { customers: vec![customer], total: None, by_colour: HashMap::new() })
    }

    /// Structured output only.
    #[tool]
    fn summary() -> Result<Json<Customer>, String> {
        Err("none".into())
    }
}

fn server() -> Server {
    ServerBuilder::new("everything", "1.0.0").routes(Everything::routes()).build().expect("valid server")
}

/// Checks the rules on one (sub-)schema; `path` names it in failures.
fn check_rules(schema: &Value, path: &str, failures: &mut Vec<String>) {
    let mut fail = |why: &str| failures.push(format!("{path}: {why}: {schema}"));
    let Some(map) = schema.as_object() else {
        if schema != &json!(true) {
            fail("a schema is an object");
        }
        return;
    };
    for key in ["$ref", "$defs", "definitions", "$schema"] {
        if map.contains_key(key) {
            fail(&format!("`{key}`: sub-schemas are inlined"));
        }
    }
    if map.get("default") == Some(&Value::Null) {
        fail("`\"default\": null`");
    }
    match map.get("type") {
        Some(Value::Array(types)) if types.contains(&json!("null")) => fail("a `null` type"),
        Some(Value::String(t)) if t == "null" => fail("a `null` type"),
        _ => {}
    }
    if map.get("enum").and_then(Value::as_array).is_some_and(|v| v.contains(&Value::Null)) {
        fail("a `null` enum value");
    }
    for key in ["anyOf", "oneOf"] {
        let null_branch = |b: &Value| b.get("type") == Some(&json!("null")) || b.get("const") == Some(&Value::Null);
        if map.get(key).and_then(Value::as_array).is_some_and(|bs| bs.iter().any(null_branch)) {
            fail(&format!("a `null` branch in `{key}`"));
        }
    }
    match map.get("items") {
        Some(items) if items == &json!({}) || items == &json!(true) => fail("empty `items`"),
        None if map.get("type") == Some(&json!("array")) && !map.contains_key("prefixItems") => {
            fail("an array without `items`");
        }
        _ => {}
    }
    if let Some(required) = map.get("required").and_then(Value::as_array) {
        let props = map.get("properties").and_then(Value::as_object);
        for name in required.iter().filter_map(Value::as_str) {
            if !props.is_some_and(|p| p.contains_key(name)) {
                fail(&format!("`{name}` is required but not a property"));
            }
        }
    }
    for (key, child) in map {
        match (key.as_str(), child) {
            ("properties" | "patternProperties", Value::Object(props)) => {
                for (name, prop) in props {
                    if !prop.is_object() {
                        failures.push(format!("{path}.{name}: a property's schema is an object: {prop}"));
                    }
                    check_rules(prop, &format!("{path}.{name}"), failures);
                }
            }
            ("items" | "additionalProperties" | "not", child) if child.is_object() => {
                check_rules(child, &format!("{path}/{key}"), failures);
            }
            ("anyOf" | "oneOf" | "allOf" | "prefixItems", Value::Array(branches)) => {
                for (i, b) in branches.iter().enumerate() {
                    check_rules(b, &format!("{path}/{key}/{i}"), failures);
                }
            }
            _ => {}
        }
    }
}

/// Checks a tool's input and output schemas.
fn check_tool(tool: &Value, failures: &mut Vec<String>) {
    let name = tool["name"].as_str().unwrap_or("?");
    for key in ["inputSchema", "outputSchema"] {
        let Some(schema) = tool.get(key) else { continue };
        let path = format!("{name}.{key}");
        if schema["type"] != "object" {
            failures.push(format!("{path}: the root is an object schema: {schema}"));
        }
        check_rules(schema, &path, failures);
        if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
            failures.push(format!("{path}: not valid JSON Schema 2020-12: {e}"));
        }
    }
}

/// The official `Tool` definition of `version`.
fn tool_validator(version: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/spec").join(version).join("schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec: Value = serde_json::from_str(&text).expect("the spec is JSON");
    let (defs_key, draft) =
        if spec.get("$defs").is_some() { ("$defs", Draft::Draft202012) } else { ("definitions", Draft::Draft7) };
    let mut schema = json!({ "$schema": spec["$schema"], "$ref": format!("#/{defs_key}/Tool") });
    schema[defs_key] = spec[defs_key].clone();
    jsonschema::options().with_draft(draft).build(&schema).unwrap_or_else(|e| panic!("{version}: {e}"))
}

#[tokio::test]
async fn every_schema_follows_the_rules() {
    let tools = Client::connect(&server(), common::STATELESS).await.tools().await;
    assert_eq!(tools.len(), 4);
    let mut failures = Vec::new();
    for tool in &tools {
        check_tool(tool, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn every_tool_fits_the_official_tool_definition() {
    for version in ["2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"] {
        let validator = tool_validator(version);
        for tool in Client::connect(&server(), version).await.tools().await {
            let errors: Vec<String> =
                validator.iter_errors(&tool).map(|e| format!("at `{}`: {e}", e.instance_path())).collect();
            assert!(errors.is_empty(), "{version}: {}: {}", tool["name"], errors.join("; "));
        }
    }
}

#[test]
fn the_rules_catch_what_they_forbid() {
    let bad = json!({
        "type": "object",
        "properties": {
            "a": { "anyOf": [{ "type": "string" }, { "type": "null" }], "default": null },
            "b": { "type": "array", "items": {} },
            "c": { "$ref": "#/$defs/C" },
            "d": { "type": ["integer", "null"], "enum": [1, null] },
        },
        "required": ["a", "e"],
    });
    let mut failures = Vec::new();
    check_tool(&json!({ "name": "bad", "inputSchema": bad }), &mut failures);
    for expected in [
        "`null` branch",
        "\"default\": null",
        "empty `items`",
        "`$ref`",
        "`null` type",
        "`null` enum",
        "`e` is required",
    ] {
        assert!(failures.iter().any(|f| f.contains(expected)), "{expected} not caught: {failures:#?}");
    }
}
