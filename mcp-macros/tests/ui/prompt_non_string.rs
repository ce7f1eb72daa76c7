use mcp_core::prompt;

/// Count to n.
#[prompt]
fn count(n: u32) -> String {
    format!("Count to {n}.")
}

fn main() {}
