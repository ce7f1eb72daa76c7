use mcp_core::server::Json;
use mcp_core::tool;

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Note {
    text: String,
}

/// The first note, if any.
#[tool]
fn first() -> Json<Option<Note>> {
    Json(None)
}

fn main() {}
