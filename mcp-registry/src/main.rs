//! Operator CLI for the MCP server registry (work in progress).
fn main() {}
