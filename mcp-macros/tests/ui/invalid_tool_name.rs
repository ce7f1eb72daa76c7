use mcp_core::tool;

/// Add.
#[tool(name = "add numbers")]
fn add(a: f64, b: f64) -> f64 {
    a + b
}

fn main() {}
