//! This SDK's side of the comparison: the `add` tool, written with
//! `#[tool]`, in a server with nothing else. `main.rs` serves it over HTTP
//! for `scripts/compare.sh`; the criterion bench calls it in process.

use mcp_core::server::{Server, ServerBuilder};

/// Add two numbers.
#[mcp_core::tool(read_only)]
async fn add(
    /// The left operand
    a: f64,
    /// The right operand
    b: f64,
) -> f64 {
    a + b
}

/// A server with the one tool.
///
/// # Panics
/// Never: the definitions are valid.
pub fn server() -> Server {
    ServerBuilder::new("ours-add", "1.0.0").tool(add_tool()).build().expect("valid definitions")
}
