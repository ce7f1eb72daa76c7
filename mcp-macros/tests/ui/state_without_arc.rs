use std::sync::Mutex;

use mcp_core::server::{ServerBuilder, State};
use mcp_core::tool;

struct Notes(Vec<String>);

/// Count the notes.
#[tool]
fn count(State(notes): State<Mutex<Notes>>) -> usize {
    notes.lock().map(|n| n.0.len()).unwrap_or(0)
}

fn main() {
    let _ = ServerBuilder::new("notes", "1.0.0").state(Mutex::new(Notes(Vec::new()))).tool(count_tool());
}
