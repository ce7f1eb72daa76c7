use mcp_core::tool;

/// A ttl without a unit, a zero ttl, an unknown scope.
#[tool(cache_ttl = "60")]
fn a() -> String {
    String::new()
}

#[tool(cache_ttl = "0s", cache_scope = "shared")]
fn b() -> String {
    String::new()
}

#[tool(cache_ttl = 60)]
fn c() -> String {
    String::new()
}

fn main() {}
