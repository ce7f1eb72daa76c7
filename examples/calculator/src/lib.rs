//! A calculator MCP server: every kind of handler, written with the
//! `mcp_core` macros. Tools (plain, structured output, failing, progress
//! with cancellation, elicitation), a resource, a resource template, a
//! prompt, and completion.
//!
//! `main.rs` serves [`server`] over stdio or Streamable HTTP; the tests
//! compare its listings with the golden files in `tests/golden/`.

use mcp_core::protocol::completion::CompleteResult;
use mcp_core::server::{BuildError, Server, ServerBuilder};
use schemars::JsonSchema;
use serde::Serialize;

/// A quotient with its remainder.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Division {
    /// `a / b`
    pub quotient: f64,
    /// `a % b`
    pub remainder: f64,
}

/// The calculator's tools, resources and prompt; [`calc::routes`] returns
/// them all.
#[mcp_core::routes]
pub mod calc {
    use std::time::Duration;

    use mcp_core::Error;
    use mcp_core::protocol::elicitation::{ElicitAction, ElicitRequestParams};
    use mcp_core::protocol::logging::LoggingLevel;
    use mcp_core::server::{Context, Json, ToolError};
    use serde_json::{Value, json};

    use super::Division;

    /// Add two numbers.
    #[tool(read_only, idempotent, open_world = false)]
    pub fn add(
        /// The left operand
        a: f64,
        /// The right operand
        b: f64,
    ) -> f64 {
        a + b
    }

    /// Subtract `b` from `a`.
    #[tool(read_only, idempotent, open_world = false)]
    pub fn subtract(
        /// The number to subtract from
        a: f64,
        /// The number to subtract
        b: f64,
    ) -> f64 {
        a - b
    }

    /// Multiply two numbers.
    #[tool(read_only, idempotent, open_world = false)]
    pub fn multiply(
        /// The left factor
        a: f64,
        /// The right factor
        b: f64,
    ) -> f64 {
        a * b
    }

    /// Divide `a` by `b`, giving the quotient and the remainder.
    #[tool(read_only, idempotent, open_world = false)]
    pub fn divide(
        /// The dividend
        a: f64,
        /// The divisor (not zero)
        b: f64,
    ) -> Result<Json<Division>, ToolError> {
        if b == 0.0 {
            return Err(ToolError::new("division_by_zero", "cannot divide by zero"));
        }
        let (quotient, remainder) = (a / b, a % b);
        // JSON has no infinity or NaN: they would go out as `null`, which
        // the output schema (numbers) does not allow.
        if !quotient.is_finite() || !remainder.is_finite() {
            return Err(ToolError::new("out_of_range", format!("{a} / {b} is not a finite number")));
        }
        Ok(Json(Division { quotient, remainder }))
    }

    /// Count slowly, reporting progress; cancellable.
    #[tool(read_only, open_world = false)]
    pub async fn count(
        /// How many steps to count (each takes `delay_ms`)
        steps: u32,
        /// Milliseconds per step
        #[arg(default = 100)]
        delay_ms: u64,
        ctx: &Context,
    ) -> Result<String, Error> {
        let delay = Duration::from_millis(delay_ms);
        ctx.log(LoggingLevel::Info, Some("count"), format!("counting to {steps}")).await?;
        for step in 1..=steps {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = ctx.cancelled() => return Err(Error::Cancelled),
            }
            ctx.progress(f64::from(step), Some(f64::from(steps)), Some(&format!("step {step}"))).await?;
        }
        Ok(format!("counted to {steps}"))
    }

    /// Ask the user to confirm a memory reset.
    #[tool(destructive, idempotent, open_world = false)]
    pub async fn confirm_reset(ctx: &Context) -> Result<String, Error> {
        let schema = serde_json::from_value(json!({
            "type": "object",
            "properties": { "confirm": { "type": "boolean", "title": "Reset the memory?" } },
            "required": ["confirm"],
        }))
        .map_err(|e| Error::internal(e.to_string()))?;
        let answer = ctx.elicit(ElicitRequestParams::form("Really reset the calculator memory?", schema)).await?;
        let confirmed = answer.action == ElicitAction::Accept
            && answer.content.as_ref().and_then(|c| c.get("confirm")).and_then(Value::as_bool) == Some(true);
        Ok(if confirmed { "memory reset".into() } else { "reset cancelled".into() })
    }

    /// Mathematical constants.
    #[resource("calc://constants", mime_type = "application/json")]
    pub fn constants() -> String {
        json!({ "pi": std::f64::consts::PI, "e": std::f64::consts::E }).to_string()
    }

    /// The multiplication table of `n`.
    #[resource("calc://table/{n}", name = "multiplication-table", mime_type = "text/plain")]
    pub fn table(
        /// The number whose table to read
        n: i64,
    ) -> String {
        (1..=10).map(|i| format!("{n} x {i} = {}", n.saturating_mul(i))).collect::<Vec<_>>().join("\n")
    }

    /// Explain how to evaluate an expression.
    #[prompt]
    pub fn explain(
        /// The arithmetic expression to explain, e.g. `2 * (3 + 4)`
        expression: String,
        /// The audience: `child` or `engineer` (default `engineer`)
        audience: Option<String>,
    ) -> String {
        let audience = audience.unwrap_or_else(|| "engineer".into());
        format!("Explain step by step, for an audience of {audience}s, how to evaluate `{expression}`.")
    }
}

/// The calculator server.
///
/// # Errors
/// None in practice: the definitions are valid (the tests build it).
pub fn server() -> Result<Server, BuildError> {
    ServerBuilder::new("calculator", env!("CARGO_PKG_VERSION"))
        .instructions("Arithmetic tools. Use `divide` for quotients with remainders.")
        .routes(calc::routes())
        .completion(|_ctx, params| async move {
            let prefix = params.argument.value.to_lowercase();
            let values =
                ["child", "engineer"].iter().filter(|v| v.starts_with(&prefix)).map(|v| (*v).to_owned()).collect();
            Ok(CompleteResult::new(values))
        })
        .build()
}
