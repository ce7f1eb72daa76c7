use mcp_core::resource;

/// An item.
#[resource("shop://items/{id}")]
fn item(name: String) -> String {
    name
}

/// A fixed resource.
#[resource("shop://about")]
fn about(section: String) -> String {
    section
}

fn main() {}
