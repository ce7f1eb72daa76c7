use mcp_core::tool;

/// Add.
#[tool(name = add, read_only = "yes", title = "Add", title = "Plus")]
fn add(a: f64, #[arg(default = 1.0, default)] b: f64) -> f64 {
    a + b
}

fn main() {}
