use mcp_core::routes;

struct Counter {
    hits: u64,
}

#[routes]
impl Counter {
    /// Count a hit.
    #[tool]
    fn hit(&mut self) -> u64 {
        self.hits += 1;
        self.hits
    }
}

fn main() {}
