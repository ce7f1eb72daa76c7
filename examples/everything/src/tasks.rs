//! The tasks extension fixtures (`io.modelcontextprotocol/tasks`): tools
//! whose calls become tasks when the client declares the extension.

use std::time::Duration;

use mcp_core::Error;
use mcp_core::server::{Context, ServerBuilder};

use crate::input_required::{ask, field};

#[mcp_core::routes]
mod fixtures {
    use super::*;

    /// Greets someone, synchronously (never a task).
    #[tool]
    fn greet(
        /// Who to greet
        name: String,
    ) -> String {
        format!("Hello, {name}!")
    }

    /// Works for `seconds` seconds, then reports; stops when cancelled.
    #[tool(task = "optional")]
    async fn slow_compute(
        ctx: &Context,
        /// How long to work, in seconds
        seconds: f64,
        /// A label echoed in the result
        #[arg(default)]
        label: String,
    ) -> Result<String, Error> {
        let wait = Duration::try_from_secs_f64(seconds)
            .map_err(|e| Error::invalid_params(format!("`seconds` must be a duration in seconds: {e}")))?;
        tokio::select! {
            () = tokio::time::sleep(wait) => Ok(format!("Computed {label} in {seconds}s")),
            () = ctx.cancelled() => Err(Error::Cancelled),
        }
    }

    /// Always fails (a tool error: `isError`) after about a second; only
    /// runs as a task.
    #[tool(task = "required")]
    async fn failing_job(ctx: &Context) -> Result<String, String> {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(800)) => Err("failing_job: the job failed".to_owned()),
            () = ctx.cancelled() => Err("cancelled".to_owned()),
        }
    }

    /// Fails with an internal (protocol-level) error: as a task it ends
    /// `failed` with the error.
    #[tool(task = "optional")]
    async fn protocol_error_job() -> Result<String, Error> {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Err(Error::internal("protocol_error_job: simulated internal failure"))
    }

    /// Asks for confirmation before deleting a file (one elicitation).
    #[tool(task = "optional")]
    async fn confirm_delete(
        ctx: &Context,
        /// The file to delete
        filename: String,
    ) -> Result<String, Error> {
        let answer = ctx.elicit_as("confirm", ask(&format!("Delete {filename}?"), "confirm", "boolean")?).await?;
        if field(&answer, "confirm") == "true" {
            Ok(format!("Deleted {filename}"))
        } else {
            Ok(format!("Kept {filename}"))
        }
    }

    /// Asks two questions at once (two pending input requests).
    #[tool(task = "optional")]
    async fn multi_input(ctx: &Context) -> Result<String, Error> {
        let (name, confirm) =
            tokio::join!(async { ctx.elicit_as("name", ask("What is your name?", "name", "string")?).await }, async {
                ctx.elicit_as("confirm", ask("Proceed?", "confirm", "boolean")?).await
            },);
        let (name, confirm) = (name?, confirm?);
        Ok(format!("name={}, confirm={}", field(&name, "name"), field(&confirm, "confirm")))
    }

    /// Asks the user's name over a multi-round-trip request, then
    /// continues as a task that greets them.
    #[tool(task = "required", defer_task)]
    async fn test_tool_with_task(ctx: &Context) -> Result<String, Error> {
        let answer = ctx.elicit_as("user_name", ask("What is your name?", "name", "string")?).await?;
        ctx.continue_as_task().await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(format!("Hello, {}! (from a task)", field(&answer, "name")))
    }
}

pub(crate) fn register(builder: ServerBuilder) -> ServerBuilder {
    builder.routes(fixtures::routes())
}
