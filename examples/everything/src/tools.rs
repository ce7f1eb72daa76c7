//! The conformance suite's tool fixtures for both eras.

use std::time::Duration;

use mcp_core::Error;
use mcp_core::protocol::content::ContentBlock;
use mcp_core::protocol::elicitation::{ElicitRequestParams, ElicitRequestedSchema};
use mcp_core::protocol::logging::LoggingLevel;
use mcp_core::protocol::sampling::{CreateMessageRequestParams, SamplingMessage};
use mcp_core::protocol::tools::CallToolResult;
use mcp_core::server::{Context, NoArgs, ServerBuilder, ServerEvent, ToolRoute};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::content::{PNG, WAV};

#[derive(Deserialize, JsonSchema)]
struct PromptArgs {
    /// The prompt to send to the client's model
    prompt: String,
}

#[derive(Deserialize, JsonSchema)]
struct MessageArgs {
    /// The message to show the user
    message: String,
}

#[derive(Deserialize, JsonSchema)]
struct RegionArgs {
    /// The region to query; also sent as the `Mcp-Param-Region` header
    region: String,
}

/// A tool that takes no arguments.
fn simple<R, Fut>(name: &str, description: &str, f: fn(Context) -> Fut) -> ToolRoute
where
    Fut: std::future::Future<Output = R> + Send + 'static,
    R: mcp_core::server::IntoToolResult,
{
    ToolRoute::new(name, move |ctx: Context, _: NoArgs| f(ctx)).with_description(description)
}

fn schema(value: Value) -> Result<ElicitRequestedSchema, Error> {
    serde_json::from_value(value).map_err(|e| Error::internal(format!("bad elicitation schema: {e}")))
}

async fn elicit_and_report(ctx: &Context, message: &str, requested: Value) -> Result<String, Error> {
    let answer = ctx.elicit(ElicitRequestParams::form(message, schema(requested)?)).await?;
    let action = serde_json::to_value(answer.action).unwrap_or(Value::Null);
    let content = answer.content.map_or(Value::Null, |c| json!(c));
    Ok(format!("User response: action={}, content={content}", action.as_str().unwrap_or("unknown")))
}

pub(crate) fn register(builder: ServerBuilder) -> ServerBuilder {
    builder
        // First: the header-validation scenario calls the first listed tool
        // with `{}`.
        .tool(simple("test_simple_text", "Returns a simple text response", |_ctx| async {
            "This is a simple text response for testing."
        }))
        .tool(simple("test_image_content", "Returns a 1x1 PNG image", |_ctx| async {
            ContentBlock::image(PNG, "image/png")
        }))
        .tool(simple("test_audio_content", "Returns a short WAV clip", |_ctx| async {
            ContentBlock::audio(WAV, "audio/wav")
        }))
        .tool(simple("test_embedded_resource", "Returns an embedded text resource", |_ctx| async {
            ContentBlock::embedded_text(
                "test://embedded-resource",
                "text/plain",
                "This is an embedded resource content.",
            )
        }))
        .tool(simple("test_multiple_content_types", "Returns text, an image and a resource", |_ctx| async {
            vec![
                ContentBlock::text("Multiple content types test:"),
                ContentBlock::image(PNG, "image/png"),
                ContentBlock::embedded_text(
                    "test://mixed-content-resource",
                    "application/json",
                    r#"{"test":"data","value":123}"#,
                ),
            ]
        }))
        .tool(simple("test_tool_with_logging", "Logs three messages while it runs", |ctx| async move {
            for (i, msg) in
                ["Tool execution started", "Tool processing data", "Tool execution completed"].into_iter().enumerate()
            {
                if i > 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                ctx.log(LoggingLevel::Info, None, msg).await?;
            }
            Ok::<_, Error>("Logging test completed")
        }))
        .tool(simple("test_tool_with_progress", "Reports progress three times", |ctx| async move {
            for p in [0.0, 50.0, 100.0] {
                ctx.progress(p, Some(100.0), None).await?;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let token = ctx.progress_token().map_or_else(|| "no progress token".to_owned(), |t| t.to_string());
            Ok::<_, Error>(token)
        }))
        .tool(simple("test_error_handling", "Always fails, as a tool error", |_ctx| async {
            CallToolResult::error_text("This tool intentionally returns an error for testing")
        }))
        .tool(
            ToolRoute::new("test_sampling", |ctx: Context, a: PromptArgs| async move {
                let params = CreateMessageRequestParams::new(vec![SamplingMessage::user_text(a.prompt)], 100);
                let result = ctx.sample(params).await?;
                Ok::<_, Error>(format!("LLM response: {}", result.text()))
            })
            .with_description("Asks the client's model to complete a prompt (sampling)"),
        )
        .tool(
            ToolRoute::new("test_elicitation", |ctx: Context, a: MessageArgs| async move {
                let requested = json!({
                    "type": "object",
                    "properties": { "response": { "type": "string", "description": "Your response" } },
                    "required": ["response"],
                });
                elicit_and_report(&ctx, &a.message, requested).await
            })
            .with_description("Asks the user for a response (elicitation)"),
        )
        .tool(simple("test_elicitation_sep1034_defaults", "Elicits fields that have defaults", |ctx| async move {
            let requested = json!({
                "type": "object",
                "properties": {
                    "name": { "type": "string", "description": "User name", "default": "John Doe" },
                    "age": { "type": "integer", "description": "User age", "default": 30 },
                    "score": { "type": "number", "description": "User score", "default": 95.5 },
                    "status": {
                        "type": "string",
                        "description": "User status",
                        "enum": ["active", "inactive", "pending"],
                        "default": "active",
                    },
                    "verified": { "type": "boolean", "description": "Verified user", "default": true },
                },
            });
            elicit_and_report(&ctx, "Please review and update the form fields with defaults", requested).await
        }))
        .tool(simple("test_elicitation_sep1330_enums", "Elicits every kind of enum field", |ctx| async move {
            let requested = json!({
                "type": "object",
                "properties": {
                    "untitledSingle": { "type": "string", "enum": ["option1", "option2", "option3"] },
                    "titledSingle": {
                        "type": "string",
                        "oneOf": [
                            { "const": "value1", "title": "First Option" },
                            { "const": "value2", "title": "Second Option" },
                            { "const": "value3", "title": "Third Option" },
                        ],
                    },
                    "legacyEnum": {
                        "type": "string",
                        "enum": ["opt1", "opt2", "opt3"],
                        "enumNames": ["Option One", "Option Two", "Option Three"],
                    },
                    "untitledMulti": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 3,
                        "items": { "type": "string", "enum": ["option1", "option2", "option3"] },
                    },
                    "titledMulti": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 3,
                        "items": {
                            "anyOf": [
                                { "const": "value1", "title": "First Choice" },
                                { "const": "value2", "title": "Second Choice" },
                                { "const": "value3", "title": "Third Choice" },
                            ],
                        },
                    },
                },
            });
            elicit_and_report(&ctx, "Please select options from the enum fields", requested).await
        }))
        .tool(
            ToolRoute::new("json_schema_2020_12_tool", |_ctx: Context, args: Value| async move {
                format!("Received: {args}")
            })
            .with_description("Takes arguments described by a JSON Schema 2020-12 document, served as written")
            .with_input_schema(json_schema_2020_12()),
        )
        .tool(
            ToolRoute::new("test_header_param", |_ctx: Context, a: RegionArgs| async move {
                format!("Region: {}", a.region)
            })
            .with_description("Echoes a region that also travels in the Mcp-Param-Region header")
            .with_input_schema(region_schema()),
        )
        .tool(simple("test_trigger_tool_change", "Announces that the tool list changed", |ctx| async move {
            ctx.emit(ServerEvent::ToolsListChanged);
            "tools/list_changed sent"
        }))
        .tool(simple("test_trigger_prompt_change", "Announces that the prompt list changed", |ctx| async move {
            ctx.emit(ServerEvent::PromptsListChanged);
            "prompts/list_changed sent"
        }))
}

fn object(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

fn json_schema_2020_12() -> serde_json::Map<String, Value> {
    object(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": {
                    "street": { "type": "string" },
                    "city": { "type": "string" },
                },
            },
        },
        "properties": {
            "name": { "type": "string", "description": "The contact's name" },
            "address": { "$ref": "#/$defs/address" },
            "contactMethod": { "type": "string", "enum": ["phone", "email"] },
            "phone": { "type": "string" },
            "email": { "type": "string" },
        },
        "allOf": [{ "anyOf": [{ "required": ["phone"] }, { "required": ["email"] }] }],
        "if": { "properties": { "contactMethod": { "const": "phone" } } },
        "then": { "required": ["phone"] },
        "else": { "required": ["email"] },
        "additionalProperties": false,
    }))
}

fn region_schema() -> serde_json::Map<String, Value> {
    object(json!({
        "type": "object",
        "properties": {
            "region": {
                "type": "string",
                "description": "The region to query; also sent as the Mcp-Param-Region header",
                "x-mcp-header": "Region",
            },
        },
        "required": ["region"],
    }))
}
