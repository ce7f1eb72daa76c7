//! What `#[tool]` puts into `tools/list`: names, descriptions from doc
//! comments, input schemas from parameters, output schemas from `Json<T>`,
//! and the attribute options.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::{Client, STATELESS};
use mcp_core::server::{Context, Json, Server, ServerBuilder};
use mcp_core::tool;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How to round.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Rounding {
    Up,
    Down,
    Nearest,
}

/// A point on the plane.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Point {
    /// Horizontal
    x: f64,
    /// Vertical
    y: f64,
    /// A label, if any
    label: Option<String>,
}

/// The result of a measurement.
#[derive(Serialize, JsonSchema)]
struct Measurement {
    /// The total length
    length: f64,
    /// The points visited
    points: Vec<Point>,
}

/// Add two numbers.
#[tool]
async fn add(
    /// The first addend
    a: f64,
    /// The second addend
    b: f64,
) -> f64 {
    a + b
}

/// Round a number.
///
/// Uses the given mode.
#[tool(name = "round.number", title = "Round", read_only, idempotent, open_world = false)]
fn round(
    /// The number to round
    value: f64,
    /// How to round (default: nearest)
    mode: Option<Rounding>,
    /// Decimal places to keep
    #[arg(default = 0)]
    places: u32,
    /// Whether to log the result
    #[arg(default)]
    verbose: bool,
) -> String {
    let _ = verbose;
    let factor = 10f64.powi(i32::try_from(places).unwrap_or(0));
    let v = value * factor;
    let r = match mode.unwrap_or(Rounding::Nearest) {
        Rounding::Up => v.ceil(),
        Rounding::Down => v.floor(),
        Rounding::Nearest => v.round(),
    };
    (r / factor).to_string()
}

/// Measure a path.
#[tool(destructive = false, icons = ["https://example.com/ruler.png"], meta = { "example.com/cost": 1 })]
async fn measure(
    /// The points, in order
    points: Vec<Point>,
    /// Weights by label
    weights: HashMap<String, f64>,
    /// Labels by index
    names: BTreeMap<String, String>,
    /// Where to start
    origin: Point,
    ctx: &Context,
) -> Json<Measurement> {
    let _ = (weights, names, origin, ctx.request_id());
    let length = points.windows(2).map(|w| (w[1].x - w[0].x).hypot(w[1].y - w[0].y)).sum();
    Json(Measurement { length, points })
}

/// Say hello.
#[tool(description = "Greet someone by name")]
fn greet(
    /// Who
    #[arg(rename = "personName", description = "The person to greet")]
    name: String,
    #[arg(default = "Hello")]
    /// The greeting word
    greeting: String,
) -> String {
    format!("{greeting}, {name}!")
}

/// Does nothing.
#[tool]
fn noop() {}

fn server() -> Server {
    ServerBuilder::new("schemas", "1.0.0")
        .tool(add_tool())
        .tool(round_tool())
        .tool(measure_tool())
        .tool(greet_tool())
        .tool(noop_tool())
        .build()
        .expect("valid server")
}

async fn tool(name: &str) -> Value {
    Client::connect(&server(), STATELESS).await.tool(name).await
}

#[tokio::test]
async fn docs_become_descriptions_and_params_become_properties() {
    let add = tool("add").await;
    assert_eq!(add["description"], "Add two numbers.");
    assert_eq!(
        add["inputSchema"],
        json!({
            "type": "object",
            "properties": {
                "a": { "type": "number", "description": "The first addend" },
                "b": { "type": "number", "description": "The second addend" },
            },
            "required": ["a", "b"],
        })
    );
    assert!(add.get("outputSchema").is_none());
}

#[tokio::test]
async fn options_and_defaults_are_not_required() {
    let round = tool("round.number").await;
    assert_eq!(round["title"], "Round");
    assert_eq!(round["description"], "Round a number.\n\nUses the given mode.");
    assert_eq!(round["annotations"], json!({ "readOnlyHint": true, "idempotentHint": true, "openWorldHint": false }));
    let schema = &round["inputSchema"];
    assert_eq!(schema["required"], json!(["value"]));
    assert_eq!(schema["properties"]["mode"]["enum"], json!(["up", "down", "nearest"]));
    assert_eq!(schema["properties"]["mode"]["description"], "How to round (default: nearest)");
    assert_eq!(schema["properties"]["places"]["default"], 0);
    assert_eq!(schema["properties"]["verbose"]["default"], false);
    assert_eq!(schema["properties"]["verbose"]["type"], "boolean");
}

#[tokio::test]
async fn nested_vectors_maps_and_structured_output() {
    let measure = tool("measure").await;
    assert_eq!(measure["annotations"], json!({ "destructiveHint": false }));
    assert_eq!(measure["icons"], json!([{ "src": "https://example.com/ruler.png" }]));
    assert_eq!(measure["_meta"], json!({ "example.com/cost": 1 }));
    let props = &measure["inputSchema"]["properties"];
    assert_eq!(measure["inputSchema"]["required"], json!(["points", "weights", "names", "origin"]));
    assert_eq!(props["points"]["type"], "array");
    assert_eq!(props["points"]["items"]["type"], "object");
    assert_eq!(props["points"]["items"]["properties"]["x"]["description"], "Horizontal");
    assert_eq!(props["points"]["items"]["required"], json!(["x", "y"]));
    assert_eq!(props["weights"]["additionalProperties"]["type"], "number");
    assert_eq!(props["names"]["additionalProperties"]["type"], "string");
    assert_eq!(props["origin"]["properties"]["label"]["type"], "string");
    let out = &measure["outputSchema"];
    assert_eq!(out["type"], "object");
    assert_eq!(out["required"], json!(["length", "points"]));
    assert_eq!(out["properties"]["length"]["description"], "The total length");
}

#[tokio::test]
async fn description_option_rename_and_string_defaults() {
    let greet = tool("greet").await;
    assert_eq!(greet["description"], "Greet someone by name");
    let schema = &greet["inputSchema"];
    assert_eq!(schema["required"], json!(["personName"]));
    assert_eq!(schema["properties"]["personName"]["description"], "The person to greet");
    assert_eq!(schema["properties"]["greeting"]["default"], "Hello");
    assert_eq!(schema["properties"]["greeting"]["description"], "The greeting word");
    let mut client = Client::connect(&server(), STATELESS).await;
    assert_eq!(client.call_text("greet", json!({ "personName": "Ada" })).await, "Hello, Ada!");
}

#[tokio::test]
async fn a_tool_without_arguments_has_an_empty_object_schema() {
    let noop = tool("noop").await;
    assert_eq!(noop["inputSchema"]["type"], "object");
    assert!(noop["inputSchema"].get("required").is_none(), "{noop}");
    let mut client = Client::connect(&server(), STATELESS).await;
    let r = client.call("noop", json!({})).await;
    assert_eq!(r["result"]["content"], json!([]), "{r}");
}
