use mcp_core::tool;

/// Shout.
#[tool]
fn shout(text: &str, words: &[String]) -> String {
    format!("{} {}", text.to_uppercase(), words.len())
}

fn main() {}
