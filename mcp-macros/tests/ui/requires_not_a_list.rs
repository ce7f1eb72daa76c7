use mcp_core::tool;

/// Drop every table.
#[tool(requires = "admin:db")]
async fn drop_tables() -> &'static str {
    "dropped"
}

fn main() {}
