//! Prompts: [`PromptRoute`] (a prompt's metadata plus its handler).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use super::Context;
use super::schema::schema_for;
use super::tool::BoxFuture;
use crate::error::Error;
use crate::protocol::prompts::{GetPromptResult, Prompt, PromptArgument, PromptMessage};

/// Conversion of what a prompt handler returns into a `GetPromptResult`.
pub trait IntoPromptResult {
    /// Converts the value.
    fn into_prompt_result(self) -> GetPromptResult;
}

impl IntoPromptResult for GetPromptResult {
    fn into_prompt_result(self) -> GetPromptResult {
        self
    }
}

impl IntoPromptResult for Vec<PromptMessage> {
    fn into_prompt_result(self) -> GetPromptResult {
        GetPromptResult::new(self)
    }
}

impl IntoPromptResult for PromptMessage {
    fn into_prompt_result(self) -> GetPromptResult {
        GetPromptResult::new(vec![self])
    }
}

impl IntoPromptResult for String {
    fn into_prompt_result(self) -> GetPromptResult {
        GetPromptResult::new(vec![PromptMessage::user_text(self)])
    }
}

type GetFn =
    dyn Fn(Context, Option<&RawValue>) -> Result<BoxFuture<Result<GetPromptResult, Error>>, Error> + Send + Sync;

/// A prompt: its wire description and the handler that renders it.
///
/// Arguments are a struct of strings (`Option<String>` for optional ones);
/// the prompt's argument list, with doc comments as descriptions, is derived
/// from it.
#[derive(Clone)]
pub struct PromptRoute {
    pub(crate) prompt: Prompt,
    pub(crate) get: Arc<GetFn>,
}

impl fmt::Debug for PromptRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromptRoute").field("prompt", &self.prompt).finish_non_exhaustive()
    }
}

impl PromptRoute {
    /// A prompt named `name` rendered by `f(ctx, arguments)`.
    pub fn new<F, A, Fut, R>(name: impl Into<String>, f: F) -> Self
    where
        F: Fn(Context, A) -> Fut + Send + Sync + 'static,
        A: DeserializeOwned + JsonSchema + Send + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        R: IntoPromptResult,
    {
        let name = name.into();
        let mut prompt = Prompt::new(name.clone());
        let arguments = arguments_from_schema(&schema_for::<A>());
        if !arguments.is_empty() {
            prompt.arguments = Some(arguments);
        }
        let get = move |ctx: Context,
                        raw: Option<&RawValue>|
              -> Result<BoxFuture<Result<GetPromptResult, Error>>, Error> {
            let json = raw.map_or("{}", RawValue::get);
            let mut de = serde_json::Deserializer::from_str(json);
            let args: A = serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let path = e.path().to_string();
                Error::invalid_params(format!("invalid arguments for prompt `{name}`: `{path}`: {}", e.into_inner()))
            })?;
            let fut = f(ctx, args);
            Ok(Box::pin(async move { fut.await.map(IntoPromptResult::into_prompt_result) }))
        };
        Self { prompt, get: Arc::new(get) }
    }

    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.prompt.description = Some(description.into());
        self
    }

    /// Sets the title.
    #[must_use]
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.prompt.title = Some(title.into());
        self
    }

    /// The wire description.
    pub fn prompt(&self) -> &Prompt {
        &self.prompt
    }
}

fn arguments_from_schema(schema: &serde_json::Map<String, Value>) -> Vec<PromptArgument> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else { return Vec::new() };
    props
        .iter()
        .map(|(name, prop)| {
            let mut arg = PromptArgument::new(name.clone());
            arg.description = prop.get("description").and_then(Value::as_str).map(str::to_owned);
            arg.required = Some(required.contains(&name.as_str()));
            arg
        })
        .collect()
}
