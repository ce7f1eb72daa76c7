//! `Json<T>` for a `T` that is not a JSON object (a list, a number, an
//! enum, an alias of one): sent as `{"result": ..}` with a matching output
//! schema, since MCP requires structured content to be an object.

mod common;

use common::{Client, STATELESS};
use mcp_core::server::{Json, ServerBuilder};
use mcp_core::tool;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Serialize, JsonSchema)]
struct Note {
    /// The note's text
    text: String,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code, reason = "`Calm` appears only in the schema")]
enum Mood {
    Calm,
    Busy,
}

/// An alias the macro cannot see through.
type Notes = Vec<Note>;

/// All notes.
#[tool]
fn notes() -> Json<Vec<Note>> {
    Json(vec![Note { text: "milk".into() }, Note { text: "eggs".into() }])
}

/// The same, through an alias.
#[tool]
fn aliased() -> Json<Notes> {
    Json(vec![Note { text: "milk".into() }])
}

/// How many notes.
#[tool]
fn total() -> Result<Json<i64>, String> {
    Ok(Json(2))
}

/// The server's mood.
#[tool]
fn mood() -> Json<Mood> {
    Json(Mood::Busy)
}

/// One note: an object, sent as is.
#[tool]
fn first() -> Json<Note> {
    Json(Note { text: "milk".into() })
}

fn wrapped(inner: Value) -> Value {
    json!({ "type": "object", "properties": { "result": inner }, "required": ["result"] })
}

#[tokio::test]
async fn non_objects_are_wrapped_under_result_with_a_matching_schema() {
    let server = ServerBuilder::new("json", "1.0.0")
        .tool(notes_tool())
        .tool(aliased_tool())
        .tool(total_tool())
        .tool(mood_tool())
        .tool(first_tool())
        .build()
        .expect("non-object outputs build");
    let mut c = Client::connect(&server, STATELESS).await;
    let note = json!({ "type": "object", "properties": { "text": { "type": "string", "description": "The note's text" } }, "required": ["text"] });
    let cases = [
        (
            "notes",
            wrapped(json!({ "type": "array", "items": note })),
            json!({ "result": [{ "text": "milk" }, { "text": "eggs" }] }),
        ),
        ("aliased", wrapped(json!({ "type": "array", "items": note })), json!({ "result": [{ "text": "milk" }] })),
        ("total", wrapped(json!({ "type": "integer" })), json!({ "result": 2 })),
        ("mood", wrapped(json!({ "type": "string", "enum": ["calm", "busy"] })), json!({ "result": "busy" })),
        ("first", note.clone(), json!({ "text": "milk" })),
    ];
    for (name, schema, structured) in cases {
        let tool = c.tool(name).await;
        assert_eq!(tool["outputSchema"], schema, "{name}");
        let r = c.call(name, json!({})).await;
        assert_eq!(r["result"]["structuredContent"], structured, "{name}: {r}");
        let validator = jsonschema::validator_for(&schema).expect("a valid schema");
        assert!(validator.is_valid(&structured), "{name}: the value breaks its own schema");
        // The text block holds the value itself, not the wrapper.
        let text = r["result"]["content"][0]["text"].as_str().unwrap_or_default();
        let unwrapped = structured.get("result").unwrap_or(&structured);
        assert_eq!(serde_json::from_str::<Value>(text).ok().as_ref(), Some(unwrapped), "{name}");
    }
}
