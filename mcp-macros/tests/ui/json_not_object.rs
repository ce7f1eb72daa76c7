use mcp_core::server::Json;
use mcp_core::tool;

/// List some numbers.
#[tool]
fn numbers() -> Json<Vec<u32>> {
    Json(vec![1, 2, 3])
}

/// A sum, inside a `Result`.
#[tool]
fn sum(items: Vec<f64>) -> Result<Json<f64>, String> {
    Ok(Json(items.iter().sum()))
}

fn main() {}
