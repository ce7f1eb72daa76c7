//! A calculator MCP server over stdio.
//!
//! Run it with `cargo run -p calculator`, then speak MCP on stdin/stdout (or
//! point an MCP client at the binary). It shows every kind of handler:
//! tools (plain, structured output, failing, progress with cancellation,
//! elicitation), a resource, a resource template, a prompt, and completion.

use std::time::Duration;

use mcp_core::protocol::completion::CompleteResult;
use mcp_core::protocol::elicitation::{ElicitAction, ElicitRequestParams};
use mcp_core::protocol::logging::LoggingLevel;
use mcp_core::protocol::resources::ResourceContents;
use mcp_core::server::{
    Context, Json, NoArgs, PromptRoute, ResourceRoute, ServerBuilder, TemplateRoute, ToolError, ToolRoute,
};
use mcp_core::{Error, server::Server};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Two operands.
#[derive(Deserialize, JsonSchema)]
struct Operands {
    /// The left operand
    a: f64,
    /// The right operand
    b: f64,
}

/// A quotient with its remainder.
#[derive(Serialize, JsonSchema)]
struct Division {
    /// `a / b`
    quotient: f64,
    /// `a % b`
    remainder: f64,
}

#[derive(Deserialize, JsonSchema)]
struct CountArgs {
    /// How many steps to count (each takes `delay_ms`)
    steps: u32,
    /// Milliseconds per step (default 100)
    delay_ms: Option<u64>,
}

#[derive(Deserialize, JsonSchema)]
struct ExplainArgs {
    /// The arithmetic expression to explain, e.g. `2 * (3 + 4)`
    expression: String,
    /// The audience: `child` or `engineer` (default `engineer`)
    audience: Option<String>,
}

fn operands_tool(name: &'static str, description: &str, f: fn(f64, f64) -> f64) -> ToolRoute {
    ToolRoute::new(name, move |_ctx: Context, o: Operands| async move { f(o.a, o.b) }).with_description(description)
}

async fn count(ctx: Context, args: CountArgs) -> Result<String, Error> {
    let delay = Duration::from_millis(args.delay_ms.unwrap_or(100));
    ctx.log(LoggingLevel::Info, Some("count"), format!("counting to {}", args.steps)).await?;
    for step in 1..=args.steps {
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = ctx.cancelled() => return Err(Error::Cancelled),
        }
        ctx.progress(f64::from(step), Some(f64::from(args.steps)), Some(&format!("step {step}"))).await?;
    }
    Ok(format!("counted to {}", args.steps))
}

async fn confirm_reset(ctx: Context, _: NoArgs) -> Result<String, Error> {
    let schema = serde_json::from_value(serde_json::json!({
        "type": "object",
        "properties": { "confirm": { "type": "boolean", "title": "Reset the memory?" } },
        "required": ["confirm"],
    }))
    .map_err(|e| Error::internal(e.to_string()))?;
    let answer = ctx.elicit(ElicitRequestParams::form("Really reset the calculator memory?", schema)).await?;
    let confirmed = answer.action == ElicitAction::Accept
        && answer.content.as_ref().and_then(|c| c.get("confirm")).and_then(serde_json::Value::as_bool) == Some(true);
    Ok(if confirmed { "memory reset".into() } else { "reset cancelled".into() })
}

fn server() -> Result<Server, mcp_core::server::BuildError> {
    ServerBuilder::new("calculator", env!("CARGO_PKG_VERSION"))
        .instructions("Arithmetic tools. Use `divide` for quotients with remainders.")
        .tool(operands_tool("add", "Add two numbers", |a, b| a + b))
        .tool(operands_tool("subtract", "Subtract b from a", |a, b| a - b))
        .tool(operands_tool("multiply", "Multiply two numbers", |a, b| a * b))
        .tool(
            ToolRoute::new("divide", |_ctx: Context, o: Operands| async move {
                if o.b == 0.0 {
                    return Err(ToolError::new("division_by_zero", "cannot divide by zero"));
                }
                Ok(Json(Division { quotient: o.a / o.b, remainder: o.a % o.b }))
            })
            .with_description("Divide a by b, giving the quotient and the remainder"),
        )
        .tool(ToolRoute::new("count", count).with_description("Count slowly, reporting progress; cancellable"))
        .tool(ToolRoute::new("confirm_reset", confirm_reset).with_description("Ask the user to confirm a memory reset"))
        .resource(
            ResourceRoute::new("calc://constants", "constants", |_ctx, uri| async move {
                let text = serde_json::json!({ "pi": std::f64::consts::PI, "e": std::f64::consts::E }).to_string();
                Ok::<_, Error>(ResourceContents::text(uri, Some("application/json".into()), text))
            })
            .with(|r| r.with_description("Mathematical constants").with_mime_type("application/json")),
        )
        .resource_template(
            TemplateRoute::new("calc://table/{n}", "multiplication-table", |_ctx, uri, vars| async move {
                let n: i64 = vars
                    .get("n")
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| Error::ResourceNotFound { uri: uri.clone() })?;
                let table: Vec<String> = (1..=10).map(|i| format!("{n} x {i} = {}", n * i)).collect();
                Ok::<_, Error>(ResourceContents::text(uri, Some("text/plain".into()), table.join("\n")))
            })
            .with(|t| t.with_description("The multiplication table of n").with_mime_type("text/plain")),
        )
        .prompt(
            PromptRoute::new("explain", |_ctx, a: ExplainArgs| async move {
                let audience = a.audience.unwrap_or_else(|| "engineer".into());
                Ok::<_, Error>(format!(
                    "Explain step by step, for an audience of {audience}s, how to evaluate `{}`.",
                    a.expression
                ))
            })
            .with_description("Explain how to evaluate an expression"),
        )
        .completion(|_ctx, params| async move {
            let prefix = params.argument.value.to_lowercase();
            let values =
                ["child", "engineer"].iter().filter(|v| v.starts_with(&prefix)).map(|v| (*v).to_owned()).collect();
            Ok(CompleteResult::new(values))
        })
        .build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Logs go to stderr: stdout carries only protocol messages.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    mcp_core::transport::stdio::serve_stdio(server()?).await?;
    Ok(())
}
