use mcp_core::tool;

struct Tenant;

/// Whose.
#[tool]
fn whose(#[from_context] tenant: Tenant) -> String {
    let _ = tenant;
    String::new()
}

fn main() {}
