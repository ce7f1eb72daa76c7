//! The conformance suite's prompt fixtures.

/// Prompts with no arguments, with arguments, with an embedded resource and
/// with an image.
#[mcp_core::routes]
pub(crate) mod fixtures {
    use mcp_core::protocol::content::{ContentBlock, Role};
    use mcp_core::protocol::prompts::PromptMessage;

    use crate::content::PNG;

    /// A prompt with no arguments.
    #[prompt]
    fn test_simple_prompt() -> Vec<PromptMessage> {
        vec![PromptMessage::user_text("This is a simple prompt for testing.")]
    }

    /// A prompt with two required arguments.
    #[prompt]
    fn test_prompt_with_arguments(
        /// The first argument
        arg1: String,
        /// The second argument
        arg2: String,
    ) -> Vec<PromptMessage> {
        vec![PromptMessage::user_text(format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"))]
    }

    /// A prompt that embeds a resource.
    #[prompt]
    fn test_prompt_with_embedded_resource(
        /// The URI of the resource to embed
        #[arg(rename = "resourceUri")]
        resource_uri: String,
    ) -> Vec<PromptMessage> {
        vec![
            PromptMessage::new(
                Role::User,
                ContentBlock::embedded_text(resource_uri, "text/plain", "Embedded resource content for testing."),
            ),
            PromptMessage::user_text("Please process the embedded resource above."),
        ]
    }

    /// A prompt with an image.
    #[prompt]
    fn test_prompt_with_image() -> Vec<PromptMessage> {
        vec![
            PromptMessage::new(Role::User, ContentBlock::image(PNG, "image/png")),
            PromptMessage::user_text("Please analyze the image above."),
        ]
    }
}
