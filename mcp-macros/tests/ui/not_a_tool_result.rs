use mcp_core::tool;

/// List names.
#[tool]
fn names() -> Vec<String> {
    vec!["a".into()]
}

fn main() {}
