//! Calling `#[tool]` functions: argument validation per protocol version,
//! return types, errors, panics, extractors, sync and async functions, and
//! methods collected by `#[routes]`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{Client, STATELESS};
use mcp_core::server::{
    Context, Extension, Json, Principal, Server, ServerBuilder, State, TOOL_ERROR_META_KEY, ToolError,
};
use mcp_core::{Error, routes, tool};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

/// Add two numbers.
#[tool]
async fn add(
    /// The first addend
    a: f64,
    /// The second addend
    b: f64,
) -> f64 {
    a + b
}

/// Count the items.
#[tool]
fn count(
    /// The items
    items: Vec<u32>,
) -> usize {
    items.len()
}

#[derive(Serialize, JsonSchema)]
struct Quotient {
    /// `a / b`
    value: f64,
}

/// Divide.
#[tool]
fn divide(a: f64, b: f64) -> Result<Json<Quotient>, ToolError> {
    if b == 0.0 {
        return Err(ToolError::new("division_by_zero", "cannot divide by zero").with_details(json!({ "a": a })));
    }
    Ok(Json(Quotient { value: a / b }))
}

/// Fail with a plain message.
#[tool]
fn refuse(why: String) -> Result<String, String> {
    Err(why)
}

/// Fail unexpectedly.
#[tool]
fn broken(how: String) -> Result<String, ToolError> {
    match how.as_str() {
        "panic" => panic!("secret panic detail"),
        "internal" => Err(ToolError::internal("connection to db-7.internal:5432 refused")),
        _ => std::fs::read_to_string("/nonexistent/secret/path").map_err(ToolError::internal),
    }
}

/// Fail with a protocol error.
#[tool]
fn protocol() -> Result<String, Error> {
    Err(Error::internal("secret internal detail"))
}

#[derive(Clone)]
struct Greeting(&'static str);

#[derive(Clone)]
struct Region(String);

/// Greet the caller.
#[tool]
async fn whoami(
    State(greeting): State<Greeting>,
    principal: Option<Principal>,
    region: Option<Extension<Region>>,
    ctx: Context,
) -> String {
    let who = principal.map_or_else(|| "anonymous".to_owned(), |p| p.subject);
    let region = region.map_or_else(|| "nowhere".to_owned(), |r| r.0.0);
    format!("{} {who} in {region} ({})", greeting.0, ctx.protocol_version())
}

/// Needs a principal.
#[tool]
fn secret(principal: Principal) -> String {
    format!("for {}", principal.subject)
}

/// Needs state nobody registered.
#[tool]
fn stateful(State(n): State<u64>) -> u64 {
    n
}

#[derive(Default)]
struct Counter {
    hits: AtomicU64,
}

#[routes]
impl Counter {
    /// Count a hit.
    #[tool]
    async fn hit(
        &self,
        /// How many hits
        #[arg(default = 1)]
        by: u64,
    ) -> u64 {
        self.hits.fetch_add(by, Ordering::Relaxed) + by
    }

    /// The hits so far.
    #[tool(name = "hits", read_only)]
    fn total(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// A tool that needs no server value.
    #[tool]
    fn version() -> &'static str {
        "1.0"
    }
}

fn builder() -> ServerBuilder {
    ServerBuilder::new("calls", "1.0.0")
        .tool(add_tool())
        .tool(count_tool())
        .tool(divide_tool())
        .tool(refuse_tool())
        .tool(broken_tool())
        .tool(protocol_tool())
        .tool(whoami_tool())
        .tool(secret_tool())
        .routes(Arc::new(Counter::default()).routes())
        .state(Greeting("hello"))
        .expose_internal_errors(false)
}

fn server() -> Server {
    builder().build().expect("valid server")
}

#[tokio::test]
async fn sync_and_async_tools_answer() {
    let mut c = Client::connect(&server(), STATELESS).await;
    assert_eq!(c.call_text("add", json!({ "a": 2, "b": 3.5 })).await, "5.5");
    assert_eq!(c.call_text("count", json!({ "items": [1, 2, 3] })).await, "3");
}

#[tokio::test]
async fn invalid_arguments_are_an_error_result_from_2025_11_25() {
    for version in ["2025-11-25", STATELESS] {
        let mut c = Client::connect(&server(), version).await;
        let missing = c.call_error("add", json!({ "a": 1 })).await;
        assert!(missing.contains("missing field `b`"), "{version}: {missing}");
        let mistyped = c.call_error("add", json!({ "a": "one", "b": 2 })).await;
        assert!(mistyped.contains("`a`") && mistyped.contains("expected f64"), "{version}: {mistyped}");
        let nested = c.call_error("count", json!({ "items": [1, "two"] })).await;
        assert!(nested.contains("`items[1]`") && nested.contains("expected u32"), "{version}: {nested}");
        let negative = c.call_error("count", json!({ "items": [-1] })).await;
        assert!(negative.contains("`items[0]`"), "{version}: {negative}");
    }
}

#[tokio::test]
async fn invalid_arguments_are_32602_before_2025_11_25() {
    for version in ["2024-11-05", "2025-03-26", "2025-06-18"] {
        let mut c = Client::connect(&server(), version).await;
        let r = c.call("add", json!({ "a": "one", "b": 2 })).await;
        assert_eq!(r["error"]["code"], -32602, "{version}: {r}");
        let message = r["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("`a`") && message.contains("expected f64"), "{version}: {r}");
        let r = c.call("add", json!({})).await;
        assert_eq!(r["error"]["code"], -32602, "{version}: {r}");
        assert!(r["error"]["message"].as_str().unwrap_or_default().contains("missing field `a`"), "{r}");
    }
}

#[tokio::test]
async fn unknown_arguments_are_refused_naming_them() {
    for version in ["2025-11-25", STATELESS] {
        let mut c = Client::connect(&server(), version).await;
        let text = c.call_error("add", json!({ "a": 1, "b": 2, "lmit": 3 })).await;
        assert!(text.ends_with("tool `add`: unknown argument `lmit`; expected `a`, `b`"), "{version}: {text}");
        let text = c.call_error("version", json!({ "x": 1, "y": 2 })).await;
        assert!(text.ends_with("unknown arguments `x`, `y`; the tool takes no arguments"), "{text}");
    }
    for version in ["2024-11-05", "2025-06-18"] {
        let mut c = Client::connect(&server(), version).await;
        let r = c.call("add", json!({ "a": 1, "b": 2, "lmit": 3 })).await;
        assert_eq!(r["error"]["code"], -32602, "{version}: {r}");
        assert!(r["error"]["message"].as_str().unwrap_or_default().contains("unknown argument `lmit`"), "{r}");
    }
    let lenient = builder().reject_unknown_arguments(false).build().expect("valid");
    let mut c = Client::connect(&lenient, STATELESS).await;
    assert_eq!(c.call_text("add", json!({ "a": 1, "b": 2, "lmit": 3 })).await, "3");
}

#[tokio::test]
async fn errors_keep_their_message_and_tool_errors_their_code() {
    let mut c = Client::connect(&server(), STATELESS).await;
    assert_eq!(c.call_error("refuse", json!({ "why": "not today" })).await, "not today");
    let r = c.call("divide", json!({ "a": 1, "b": 0 })).await;
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert_eq!(r["result"]["content"][0]["text"], "cannot divide by zero");
    assert_eq!(
        r["result"]["_meta"][TOOL_ERROR_META_KEY],
        json!({ "code": "division_by_zero", "details": { "a": 1.0 } })
    );
    let ok = c.call("divide", json!({ "a": 1, "b": 4 })).await;
    assert_eq!(ok["result"]["structuredContent"], json!({ "value": 0.25 }), "{ok}");
    assert_eq!(ok["result"]["content"][0]["text"], r#"{"value":0.25}"#);
}

#[tokio::test]
async fn unexpected_failures_hide_their_details() {
    let mut c = Client::connect(&server(), STATELESS).await;
    for how in ["panic", "internal", "error"] {
        let text = c.call_error("broken", json!({ "how": how })).await;
        assert_eq!(text, "tool `broken` failed with an internal error", "{how}");
    }
    assert_eq!(c.call_error("protocol", json!({})).await, "tool `protocol` failed with an internal error");
}

#[tokio::test]
async fn unexpected_failures_show_their_details_in_development() {
    let server = builder().expose_internal_errors(true).build().expect("valid");
    let mut c = Client::connect(&server, STATELESS).await;
    let text = c.call_error("broken", json!({ "how": "panic" })).await;
    assert!(text.contains("secret panic detail"), "{text}");
    let text = c.call_error("broken", json!({ "how": "internal" })).await;
    assert!(text.contains("db-7.internal"), "{text}");
}

#[tokio::test]
async fn extractors_read_state_principal_and_extensions() {
    let mut c = Client::connect(&server(), STATELESS).await;
    assert_eq!(c.call_text("whoami", json!({})).await, "hello anonymous in nowhere (2026-07-28)");
    c.extensions.insert(Principal::new("ada"));
    c.extensions.insert(Region("eu-west-1".into()));
    assert_eq!(c.call_text("whoami", json!({})).await, "hello ada in eu-west-1 (2026-07-28)");
    assert_eq!(c.call_text("secret", json!({})).await, "for ada");
    // Extractors are not arguments.
    assert_eq!(c.tool("whoami").await["inputSchema"], json!({ "type": "object", "properties": {} }));
}

#[tokio::test]
async fn a_missing_extractor_fails_the_call() {
    let mut c = Client::connect(&server(), STATELESS).await;
    let text = c.call_error("secret", json!({})).await;
    assert_eq!(text, "authentication required: the request has no authenticated principal");
}

#[tokio::test]
async fn build_names_state_a_tool_takes_that_was_never_registered() {
    let err = builder().tool(stateful_tool()).build().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("tool \"stateful\" takes state of type `u64`, which was never registered"), "{err}");
    assert!(err.contains("ServerBuilder::state"), "{err}");
    let server = builder().tool(stateful_tool()).state(7u64).build().expect("valid");
    let mut c = Client::connect(&server, STATELESS).await;
    assert_eq!(c.call_text("stateful", json!({})).await, "7");
}

#[tokio::test]
async fn methods_share_the_server_value() {
    let mut c = Client::connect(&server(), STATELESS).await;
    assert_eq!(c.call_text("hit", json!({})).await, "1");
    assert_eq!(c.call_text("hit", json!({ "by": 5 })).await, "6");
    assert_eq!(c.call_text("hits", json!({})).await, "6");
    assert_eq!(c.call_text("version", json!({})).await, "1.0");
    assert_eq!(c.tool("hits").await["annotations"]["readOnlyHint"], true);
    assert_eq!(c.tool("hit").await["inputSchema"]["properties"]["by"]["default"], 1);
}

#[test]
fn routes_of_an_impl_block_are_also_available_one_by_one() {
    let counter = Arc::new(Counter::default());
    assert_eq!(Counter::hit_tool(Arc::clone(&counter)).tool().name, "hit");
    assert_eq!(Counter::version_tool().tool().name, "version");
    assert_eq!(counter.routes().len(), 3);
}
