use mcp_core::server::Context;
use mcp_core::tool;

/// Two contexts.
#[tool]
async fn twice(first: &Context, second: Context) -> String {
    format!("{first:?} {second:?}")
}

fn main() {}
