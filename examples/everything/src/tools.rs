//! The conformance suite's tool fixtures for both eras.

use std::time::Duration;

use mcp_core::Error;
use mcp_core::protocol::content::ContentBlock;
use mcp_core::protocol::elicitation::{ElicitRequestParams, ElicitRequestedSchema};
use mcp_core::protocol::logging::LoggingLevel;
use mcp_core::protocol::sampling::{CreateMessageRequestParams, SamplingMessage};
use mcp_core::protocol::tools::CallToolResult;
use mcp_core::server::{Context, ServerBuilder, ServerEvent, ToolRoute};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::content::{PNG, WAV};

#[derive(Deserialize, JsonSchema)]
struct RegionArgs {
    /// The region to query; also sent as the `Mcp-Param-Region` header
    region: String,
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

/// The tool fixtures both eras share, in listing order (the
/// header-validation scenario calls the first listed tool with `{}`).
#[mcp_core::routes]
mod fixtures {
    use super::*;

    /// Returns a simple text response.
    #[tool(read_only)]
    fn test_simple_text() -> &'static str {
        "This is a simple text response for testing."
    }

    /// Returns a 1x1 PNG image.
    #[tool(read_only)]
    fn test_image_content() -> ContentBlock {
        ContentBlock::image(PNG, "image/png")
    }

    /// Returns a short WAV clip.
    #[tool(read_only)]
    fn test_audio_content() -> ContentBlock {
        ContentBlock::audio(WAV, "audio/wav")
    }

    /// Returns an embedded text resource.
    #[tool(read_only)]
    fn test_embedded_resource() -> ContentBlock {
        ContentBlock::embedded_text("test://embedded-resource", "text/plain", "This is an embedded resource content.")
    }

    /// Returns text, an image and a resource.
    #[tool(read_only)]
    fn test_multiple_content_types() -> Vec<ContentBlock> {
        vec![
            ContentBlock::text("Multiple content types test:"),
            ContentBlock::image(PNG, "image/png"),
            ContentBlock::embedded_text(
                "test://mixed-content-resource",
                "application/json",
                r#"{"test":"data","value":123}"#,
            ),
        ]
    }

    /// Logs three messages while it runs.
    #[tool]
    async fn test_tool_with_logging(ctx: &Context) -> Result<&'static str, Error> {
        for (i, msg) in
            ["Tool execution started", "Tool processing data", "Tool execution completed"].into_iter().enumerate()
        {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            ctx.log(LoggingLevel::Info, None, msg).await?;
        }
        Ok("Logging test completed")
    }

    /// Reports progress three times; returns the progress token.
    #[tool]
    async fn test_tool_with_progress(ctx: &Context) -> Result<String, Error> {
        for p in [0.0, 50.0, 100.0] {
            ctx.progress(p, Some(100.0), None).await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(ctx.progress_token().map_or_else(|| "no progress token".to_owned(), ToString::to_string))
    }

    /// Always fails, as a tool error.
    #[tool]
    fn test_error_handling() -> CallToolResult {
        CallToolResult::error_text("This tool intentionally returns an error for testing")
    }

    /// Asks the client's model to complete a prompt (sampling).
    #[tool]
    async fn test_sampling(
        /// The prompt to send to the client's model
        prompt: String,
        ctx: &Context,
    ) -> Result<String, Error> {
        let params = CreateMessageRequestParams::new(vec![SamplingMessage::user_text(prompt)], 100);
        let result = ctx.sample(params).await?;
        Ok(format!("LLM response: {}", result.text()))
    }

    /// Asks the user for a response (elicitation).
    #[tool]
    async fn test_elicitation(
        /// The message to show the user
        message: String,
        ctx: &Context,
    ) -> Result<String, Error> {
        let requested = json!({
            "type": "object",
            "properties": { "response": { "type": "string", "description": "Your response" } },
            "required": ["response"],
        });
        elicit_and_report(ctx, &message, requested).await
    }

    /// Elicits fields that have defaults.
    #[tool]
    async fn test_elicitation_sep1034_defaults(ctx: &Context) -> Result<String, Error> {
        elicit_and_report(ctx, "Please review and update the form fields with defaults", defaults_schema()).await
    }

    /// Elicits every kind of enum field.
    #[tool]
    async fn test_elicitation_sep1330_enums(ctx: &Context) -> Result<String, Error> {
        elicit_and_report(ctx, "Please select options from the enum fields", enums_schema()).await
    }

    /// Announces that the tool list changed.
    #[tool]
    fn test_trigger_tool_change(ctx: &Context) -> &'static str {
        ctx.emit(ServerEvent::ToolsListChanged);
        "tools/list_changed sent"
    }

    /// Announces that the prompt list changed.
    #[tool]
    fn test_trigger_prompt_change(ctx: &Context) -> &'static str {
        ctx.emit(ServerEvent::PromptsListChanged);
        "prompts/list_changed sent"
    }
}

fn defaults_schema() -> Value {
    json!({
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
    })
}

fn enums_schema() -> Value {
    json!({
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
    })
}

pub(crate) fn register(builder: ServerBuilder) -> ServerBuilder {
    builder
        .routes(fixtures::routes())
        // Two tools whose input schemas are written out by hand, because the
        // suite checks them as written (`x-mcp-header`, JSON Schema 2020-12).
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
