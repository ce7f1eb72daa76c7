//! The 2026-07-28 multi-round-trip fixtures: tools (and a prompt) that need
//! the client's input. The same `ctx.elicit`/`ctx.sample`/`ctx.list_roots`
//! calls serve both eras; in the stateless era the first call ends the
//! request with `input_required` and the retry carries the answers.

use mcp_core::Error;
use mcp_core::protocol::elicitation::{ElicitRequestParams, ElicitResult};
use mcp_core::protocol::logging::LoggingLevel;
use mcp_core::protocol::prompts::PromptMessage;
use mcp_core::protocol::sampling::{CreateMessageRequestParams, SamplingMessage};
use mcp_core::server::{Context, ServerBuilder};
use serde_json::{Value, json};

/// A form elicitation asking for one field of `kind`.
pub(crate) fn ask(message: &str, field: &str, kind: &str) -> Result<ElicitRequestParams, Error> {
    let schema = serde_json::from_value(json!({
        "type": "object",
        "properties": { field: { "type": kind } },
        "required": [field],
    }))
    .map_err(|e| Error::internal(format!("bad elicitation schema: {e}")))?;
    Ok(ElicitRequestParams::form(message, schema))
}

/// The string `field` of an accepted elicitation.
pub(crate) fn field(answer: &ElicitResult, field: &str) -> String {
    answer.content.as_ref().and_then(|c| c.get(field)).map_or_else(String::new, |v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// The 2026-07-28 fixtures (listed in both eras, as the reference does).
#[mcp_core::routes]
mod fixtures {
    use super::*;

    /// Needs the client's sampling capability.
    #[tool]
    fn test_missing_capability(ctx: &Context) -> Result<&'static str, Error> {
        if ctx.client_capabilities().sampling.is_none() {
            return Err(Error::MissingClientCapability { required: json!({ "sampling": {} }) });
        }
        Ok("sampling is available")
    }

    /// Completes without asking anything mid-stream.
    #[tool]
    fn test_streaming_elicitation() -> &'static str {
        "Streaming elicitation is replaced by input_required in 2026-07-28"
    }

    /// Logs only when the request sets a log level.
    #[tool]
    async fn test_logging_tool(ctx: &Context) -> Result<&'static str, Error> {
        ctx.log(LoggingLevel::Info, None, "test_logging_tool ran").await?;
        Ok("logged")
    }

    /// Asks the user's name.
    #[tool]
    async fn test_input_required_result_elicitation(ctx: &Context) -> Result<String, Error> {
        let answer = ctx.elicit_as("user_name", ask("What is your name?", "name", "string")?).await?;
        Ok(format!("Hello, {}!", field(&answer, "name")))
    }

    /// Asks the client's model a question.
    #[tool]
    async fn test_input_required_result_sampling(ctx: &Context) -> Result<String, Error> {
        let q =
            CreateMessageRequestParams::new(vec![SamplingMessage::user_text("What is the capital of France?")], 100);
        let answer = ctx.sample_as("sample_request", q).await?;
        Ok(format!("Sampling result: {}", answer.text()))
    }

    /// Asks for the client's roots.
    #[tool]
    async fn test_input_required_result_list_roots(ctx: &Context) -> Result<String, Error> {
        let roots = ctx.list_roots_as("roots_request").await?;
        Ok(format!("Found {} root(s)", roots.roots.len()))
    }

    /// Asks for confirmation, keeping state between rounds.
    #[tool]
    async fn test_input_required_result_request_state(ctx: &Context) -> Result<String, Error> {
        let answer = ctx.elicit_as("confirm", ask("Please confirm", "ok", "boolean")?).await?;
        Ok(format!("state-ok: confirmed={}", field(&answer, "ok")))
    }

    /// Asks for three inputs at once.
    #[tool]
    async fn test_input_required_result_multiple_inputs(ctx: &Context) -> Result<String, Error> {
        let greeting = CreateMessageRequestParams::new(vec![SamplingMessage::user_text("Write a greeting")], 50);
        let (name, greeting, roots) = tokio::join!(
            async { ctx.elicit_as("user_name", ask("What is your name?", "name", "string")?).await },
            ctx.sample_as("greeting", greeting),
            ctx.list_roots_as("client_roots"),
        );
        let (name, greeting, roots) = (name?, greeting?, roots?);
        Ok(format!("Name: {}, greeting: {}, roots: {}", field(&name, "name"), greeting.text(), roots.roots.len()))
    }

    /// Asks twice, one round after the other.
    #[tool]
    async fn test_input_required_result_multi_round(ctx: &Context) -> Result<String, Error> {
        let name = ctx.elicit_as("step1", ask("What is your name?", "name", "string")?).await?;
        let color = ctx.elicit_as("step2", ask("What is your favorite color?", "color", "string")?).await?;
        Ok(format!("Multi-round complete for {} who likes {}", field(&name, "name"), field(&color, "color")))
    }

    /// Rejects a tampered requestState.
    #[tool]
    async fn test_input_required_result_tampered_state(ctx: &Context) -> Result<String, Error> {
        let answer = ctx.elicit_as("confirm", ask("Please confirm", "ok", "boolean")?).await?;
        Ok(format!("confirmed={}", field(&answer, "ok")))
    }

    /// Asks only through the capabilities the client declared.
    #[tool]
    async fn test_input_required_result_capabilities(ctx: &Context) -> Result<String, Error> {
        let caps = ctx.client_capabilities();
        let (elicit, sample) = (caps.elicitation.is_some(), caps.sampling.is_some());
        let q = CreateMessageRequestParams::new(vec![SamplingMessage::user_text("Say hello")], 50);
        let (e, s) = tokio::join!(
            async {
                if elicit {
                    ctx.elicit_as("elicit_input", ask("Any input?", "value", "string")?).await.map(Some)
                } else {
                    Ok(None)
                }
            },
            async { if sample { ctx.sample_as("sample_input", q).await.map(Some) } else { Ok(None) } },
        );
        let (e, s) = (e?, s?);
        Ok(format!("elicitation={}, sampling={}", e.is_some(), s.map(|s| s.text()).unwrap_or_default()))
    }

    /// A prompt that asks the user for context first.
    #[prompt]
    async fn test_input_required_result_prompt(ctx: &Context) -> Result<Vec<PromptMessage>, Error> {
        let answer =
            ctx.elicit_as("user_context", ask("What context should the prompt use?", "context", "string")?).await?;
        Ok(vec![PromptMessage::user_text(format!("Prompt with context: {}", field(&answer, "context")))])
    }
}

pub(crate) fn register(builder: ServerBuilder) -> ServerBuilder {
    builder.routes(fixtures::routes())
}
