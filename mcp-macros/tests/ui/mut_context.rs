use mcp_core::server::Context;
use mcp_core::tool;

/// Progress.
#[tool]
async fn work(ctx: &mut Context) -> String {
    format!("{ctx:?}")
}

fn main() {}
