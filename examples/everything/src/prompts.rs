//! The conformance suite's prompt fixtures.

use mcp_core::Error;
use mcp_core::protocol::content::{ContentBlock, Role};
use mcp_core::protocol::prompts::PromptMessage;
use mcp_core::server::{Context, NoArgs, PromptRoute, ServerBuilder};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::content::PNG;

#[derive(Deserialize, JsonSchema)]
struct TwoArgs {
    /// The first argument
    arg1: String,
    /// The second argument
    arg2: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ResourceArg {
    /// The URI of the resource to embed
    resource_uri: String,
}

pub(crate) fn register(builder: ServerBuilder) -> ServerBuilder {
    builder
        .prompt(
            PromptRoute::new("test_simple_prompt", |_ctx: Context, _: NoArgs| async {
                Ok::<_, Error>(vec![PromptMessage::user_text("This is a simple prompt for testing.")])
            })
            .with_description("A prompt with no arguments"),
        )
        .prompt(
            PromptRoute::new("test_prompt_with_arguments", |_ctx: Context, a: TwoArgs| async move {
                Ok::<_, Error>(vec![PromptMessage::user_text(format!(
                    "Prompt with arguments: arg1='{}', arg2='{}'",
                    a.arg1, a.arg2
                ))])
            })
            .with_description("A prompt with two required arguments"),
        )
        .prompt(
            PromptRoute::new("test_prompt_with_embedded_resource", |_ctx: Context, a: ResourceArg| async move {
                Ok::<_, Error>(vec![
                    PromptMessage::new(
                        Role::User,
                        ContentBlock::embedded_text(
                            a.resource_uri,
                            "text/plain",
                            "Embedded resource content for testing.",
                        ),
                    ),
                    PromptMessage::user_text("Please process the embedded resource above."),
                ])
            })
            .with_description("A prompt that embeds a resource"),
        )
        .prompt(
            PromptRoute::new("test_prompt_with_image", |_ctx: Context, _: NoArgs| async {
                Ok::<_, Error>(vec![
                    PromptMessage::new(Role::User, ContentBlock::image(PNG, "image/png")),
                    PromptMessage::user_text("Please analyze the image above."),
                ])
            })
            .with_description("A prompt with an image"),
        )
}
