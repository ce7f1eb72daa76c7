use mcp_core::resource;

/// About.
#[resource(name = "about")]
fn about() -> String {
    "about".into()
}

fn main() {}
