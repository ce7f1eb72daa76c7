use mcp_core::tool;

struct Calc;

impl Calc {
    /// Add.
    #[tool]
    fn add(&self, a: f64, b: f64) -> f64 {
        a + b
    }
}

fn main() {}
