use mcp_core::routes;

struct Calc;

#[routes]
impl Calc {
    /// Add.
    #[tool]
    fn add(&self, a: f64, b: f64) -> f64 {
        a + b
    }

    /// Also add.
    #[tool(name = "add")]
    fn plus(&self, a: f64, b: f64) -> f64 {
        a + b
    }
}

fn main() {}
