//! MCP wire types, by section of the specification.
//!
//! One set of types covers every protocol version from 2024-11-05 to
//! 2026-07-28: fields that only some versions have are optional, and the
//! runtime fills or omits them according to the negotiated
//! [`ProtocolVersion`]. Type names follow the specification's schema
//! (`CallToolResult`, `ListToolsResult`, ...).

pub mod completion;
pub mod content;
pub mod elicitation;
pub mod input;
pub mod lifecycle;
pub mod logging;
pub mod meta;
pub mod methods;
pub mod progress;
pub mod prompts;
pub mod resources;
pub mod roots;
pub mod sampling;
pub mod subscriptions;
pub mod tasks;
pub mod tools;
pub mod version;

pub use meta::{CacheScope, Meta, ResultType};
pub use version::{ProtocolVersion, UnknownVersion};

pub use completion::{
    CompleteRequestParams, CompleteResult, Completion, CompletionArgument, CompletionContext, PromptReference,
    Reference, ResourceTemplateReference,
};
pub use content::{
    Annotations, AudioContent, ContentBlock, EmbeddedResource, Icon, IconTheme, ImageContent, JsonObject, ResourceLink,
    Role, TextContent,
};
pub use elicitation::{
    BooleanSchema, ElicitAction, ElicitRequestFormParams, ElicitRequestParams, ElicitRequestURLParams,
    ElicitRequestedSchema, ElicitResult, LegacyTitledEnumSchema, NumberSchema, PrimitiveSchemaDefinition, StringSchema,
    TitledMultiSelectEnumSchema, TitledSingleSelectEnumSchema, UntitledMultiSelectEnumSchema,
    UntitledSingleSelectEnumSchema,
};
pub use input::{InputRequest, InputRequests, InputRequiredResult, InputResponse, InputResponses};
pub use lifecycle::{
    ClientCapabilities, CompletionsCapability, DiscoverResult, ElicitationCapability, EmptyResult, Implementation,
    InitializeRequestParams, InitializeResult, LoggingCapability, NotificationParams, PaginatedRequestParams,
    PromptsCapability, RequestParams, ResourcesCapability, RootsCapability, SamplingCapability, ServerCapabilities,
    ToolsCapability,
};
pub use logging::{LoggingLevel, LoggingMessageNotificationParams, SetLevelRequestParams};
pub use progress::{CancelledNotificationParams, ProgressNotificationParams, ProgressToken};
pub use prompts::{GetPromptRequestParams, GetPromptResult, ListPromptsResult, Prompt, PromptArgument, PromptMessage};
pub use resources::{
    BlobResourceContents, ListResourceTemplatesResult, ListResourcesResult, ReadResourceRequestParams,
    ReadResourceResult, Resource, ResourceContents, ResourceTemplate, ResourceUpdatedNotificationParams,
    SubscribeRequestParams, TextResourceContents, UnsubscribeRequestParams,
};
pub use roots::{ListRootsRequestParams, ListRootsResult, Root};
pub use sampling::{
    CreateMessageRequestParams, CreateMessageResult, ModelHint, ModelPreferences, SamplingMessage,
    SamplingMessageContent, SamplingMessageContentBlock, ToolChoice, ToolResultContent, ToolUseContent,
};
pub use subscriptions::{
    SubscriptionFilter, SubscriptionsAcknowledgedNotificationParams, SubscriptionsListenRequestParams,
    SubscriptionsListenResult,
};
pub use tools::{CallToolRequestParams, CallToolResult, ListToolsResult, Tool, ToolAnnotations};
