use mcp_core::tool;

/// Runs somewhere.
#[tool(task = "sometimes")]
fn export() -> &'static str {
    "exported"
}

fn main() {}
