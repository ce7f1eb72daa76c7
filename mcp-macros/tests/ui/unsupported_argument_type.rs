use mcp_core::tool;

/// Wait until a moment.
#[tool]
fn wait_until(
    /// When
    at: std::time::Instant,
) -> String {
    format!("{at:?}")
}

fn main() {}
