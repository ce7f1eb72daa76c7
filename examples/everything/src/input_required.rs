//! The 2026-07-28 multi-round-trip fixtures: tools (and a prompt) that need
//! the client's input. The same `ctx.elicit`/`ctx.sample`/`ctx.list_roots`
//! calls serve both eras; in the stateless era the first call ends the
//! request with `input_required` and the retry carries the answers.

use mcp_core::Error;
use mcp_core::protocol::elicitation::{ElicitRequestParams, ElicitResult};
use mcp_core::protocol::logging::LoggingLevel;
use mcp_core::protocol::prompts::PromptMessage;
use mcp_core::protocol::sampling::{CreateMessageRequestParams, SamplingMessage};
use mcp_core::server::{Context, NoArgs, PromptRoute, ServerBuilder, ToolRoute};
use serde_json::{Value, json};

/// A form elicitation asking for one field of `kind`.
fn ask(message: &str, field: &str, kind: &str) -> Result<ElicitRequestParams, Error> {
    let schema = serde_json::from_value(json!({
        "type": "object",
        "properties": { field: { "type": kind } },
        "required": [field],
    }))
    .map_err(|e| Error::internal(format!("bad elicitation schema: {e}")))?;
    Ok(ElicitRequestParams::form(message, schema))
}

/// The string `field` of an accepted elicitation.
fn field(answer: &ElicitResult, field: &str) -> String {
    answer.content.as_ref().and_then(|c| c.get(field)).map_or_else(String::new, |v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn tool<F, Fut>(name: &str, description: &str, f: F) -> ToolRoute
where
    F: Fn(Context) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<String, Error>> + Send + 'static,
{
    ToolRoute::new(name, move |ctx: Context, _: NoArgs| f(ctx)).with_description(description)
}

pub(crate) fn register(builder: ServerBuilder) -> ServerBuilder {
    builder
        .tool(tool("test_missing_capability", "Needs the client's sampling capability", |ctx| async move {
            if ctx.client_capabilities().sampling.is_none() {
                return Err(Error::MissingClientCapability { required: json!({ "sampling": {} }) });
            }
            Ok("sampling is available".to_owned())
        }))
        .tool(tool("test_streaming_elicitation", "Completes without asking anything mid-stream", |_ctx| async {
            Ok("Streaming elicitation is replaced by input_required in 2026-07-28".to_owned())
        }))
        .tool(tool("test_logging_tool", "Logs only when the request sets a log level", |ctx| async move {
            ctx.log(LoggingLevel::Info, None, "test_logging_tool ran").await?;
            Ok("logged".to_owned())
        }))
        .tool(tool("test_input_required_result_elicitation", "Asks the user's name", |ctx| async move {
            let answer = ctx.elicit_as("user_name", ask("What is your name?", "name", "string")?).await?;
            Ok(format!("Hello, {}!", field(&answer, "name")))
        }))
        .tool(tool("test_input_required_result_sampling", "Asks the client's model a question", |ctx| async move {
            let q = CreateMessageRequestParams::new(
                vec![SamplingMessage::user_text("What is the capital of France?")],
                100,
            );
            let answer = ctx.sample_as("sample_request", q).await?;
            Ok(format!("Sampling result: {}", answer.text()))
        }))
        .tool(tool("test_input_required_result_list_roots", "Asks for the client's roots", |ctx| async move {
            let roots = ctx.list_roots_as("roots_request").await?;
            Ok(format!("Found {} root(s)", roots.roots.len()))
        }))
        .tool(tool(
            "test_input_required_result_request_state",
            "Asks for confirmation, keeping state",
            |ctx| async move {
                let answer = ctx.elicit_as("confirm", ask("Please confirm", "ok", "boolean")?).await?;
                Ok(format!("state-ok: confirmed={}", field(&answer, "ok")))
            },
        ))
        .tool(tool("test_input_required_result_multiple_inputs", "Asks for three inputs at once", |ctx| async move {
            let greeting = CreateMessageRequestParams::new(vec![SamplingMessage::user_text("Write a greeting")], 50);
            let (name, greeting, roots) = tokio::join!(
                async { ctx.elicit_as("user_name", ask("What is your name?", "name", "string")?).await },
                ctx.sample_as("greeting", greeting),
                ctx.list_roots_as("client_roots"),
            );
            let (name, greeting, roots) = (name?, greeting?, roots?);
            Ok(format!("Name: {}, greeting: {}, roots: {}", field(&name, "name"), greeting.text(), roots.roots.len()))
        }))
        .tool(tool(
            "test_input_required_result_multi_round",
            "Asks twice, one round after the other",
            |ctx| async move {
                let name = ctx.elicit_as("step1", ask("What is your name?", "name", "string")?).await?;
                let color = ctx.elicit_as("step2", ask("What is your favorite color?", "color", "string")?).await?;
                Ok(format!("Multi-round complete for {} who likes {}", field(&name, "name"), field(&color, "color")))
            },
        ))
        .tool(tool("test_input_required_result_tampered_state", "Rejects a tampered requestState", |ctx| async move {
            let answer = ctx.elicit_as("confirm", ask("Please confirm", "ok", "boolean")?).await?;
            Ok(format!("confirmed={}", field(&answer, "ok")))
        }))
        .tool(tool(
            "test_input_required_result_capabilities",
            "Asks only through the capabilities the client declared",
            |ctx| async move {
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
            },
        ))
        .prompt(
            PromptRoute::new("test_input_required_result_prompt", |ctx: Context, _: NoArgs| async move {
                let answer = ctx
                    .elicit_as("user_context", ask("What context should the prompt use?", "context", "string")?)
                    .await?;
                Ok::<_, Error>(vec![PromptMessage::user_text(format!(
                    "Prompt with context: {}",
                    field(&answer, "context")
                ))])
            })
            .with_description("A prompt that asks the user for context first"),
        )
}
