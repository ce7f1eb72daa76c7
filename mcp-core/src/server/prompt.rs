//! Prompts: [`PromptRoute`] (a prompt's metadata plus its handler).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use super::Context;
use super::arguments::parse_named_arguments;
use super::extract::RequiredState;
use super::schema::schema_for;
use super::tool::BoxFuture;
use crate::error::Error;
use crate::protocol::Meta;
use crate::protocol::content::Icon;
use crate::protocol::prompts::{GetPromptResult, Prompt, PromptArgument, PromptMessage};

/// Conversion of what a prompt handler returns into a `GetPromptResult`:
/// messages, one message, a string (one user message), or a `Result` of one
/// of these, whose `Err` becomes a JSON-RPC error (an [`Error`] as it is,
/// anything else as an internal error with the error's message).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned by a prompt",
    label = "not a prompt result",
    note = "return a `String`, a `PromptMessage`, `Vec<PromptMessage>`, a `GetPromptResult`, \
            or a `Result<_, E>` of one of these with `E: Display`"
)]
pub trait IntoPromptResult {
    /// Converts the value.
    ///
    /// # Errors
    /// The error to answer `prompts/get` with.
    fn into_prompt_result(self) -> Result<GetPromptResult, Error>;
}

impl IntoPromptResult for GetPromptResult {
    fn into_prompt_result(self) -> Result<GetPromptResult, Error> {
        Ok(self)
    }
}

impl IntoPromptResult for Vec<PromptMessage> {
    fn into_prompt_result(self) -> Result<GetPromptResult, Error> {
        Ok(GetPromptResult::new(self))
    }
}

impl IntoPromptResult for PromptMessage {
    fn into_prompt_result(self) -> Result<GetPromptResult, Error> {
        Ok(GetPromptResult::new(vec![self]))
    }
}

impl IntoPromptResult for String {
    fn into_prompt_result(self) -> Result<GetPromptResult, Error> {
        Ok(GetPromptResult::new(vec![PromptMessage::user_text(self)]))
    }
}

impl<T: IntoPromptResult, E: fmt::Display + 'static> IntoPromptResult for Result<T, E> {
    fn into_prompt_result(self) -> Result<GetPromptResult, Error> {
        self.map_err(Error::from_display).and_then(IntoPromptResult::into_prompt_result)
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
    /// What [`Self::extracts`] recorded.
    pub(crate) required_state: Vec<RequiredState>,
}

impl fmt::Debug for PromptRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromptRoute").field("prompt", &self.prompt).finish_non_exhaustive()
    }
}

impl PromptRoute {
    /// A prompt named `name` rendered by `f(ctx, arguments)`.
    pub fn new<F, A, Fut>(name: impl Into<String>, f: F) -> Self
    where
        F: Fn(Context, A) -> Fut + Send + Sync + 'static,
        A: DeserializeOwned + JsonSchema + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoPromptResult,
    {
        let name = name.into();
        let mut prompt = Prompt::new(name.clone());
        let arguments = arguments_from_schema(&schema_for::<A>(), field_order::<A>());
        if !arguments.is_empty() {
            prompt.arguments = Some(arguments);
        }
        let get =
            move |ctx: Context, raw: Option<&RawValue>| -> Result<BoxFuture<Result<GetPromptResult, Error>>, Error> {
                let args: A = parse_named_arguments("prompt", &name, raw)?;
                let fut = f(ctx, args);
                Ok(Box::pin(async move { fut.await.into_prompt_result() }))
            };
        Self { prompt, get: Arc::new(get), required_state: Vec::new() }
    }

    /// A prompt from a wire description and a handler that takes the raw
    /// arguments (for prompts whose arguments are not a Rust type: a
    /// gateway's).
    #[cfg(feature = "gateway")]
    pub(crate) fn from_parts<F>(prompt: Prompt, get: F) -> Self
    where
        F: Fn(Context, Option<&RawValue>) -> BoxFuture<Result<GetPromptResult, Error>> + Send + Sync + 'static,
    {
        let get = move |ctx: Context, raw: Option<&RawValue>| Ok(get(ctx, raw));
        Self { prompt, get: Arc::new(get), required_state: Vec::new() }
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

    /// Sets the icons (2025-11-25 on).
    #[must_use]
    pub fn with_icons(mut self, icons: Vec<Icon>) -> Self {
        self.prompt.icons = Some(icons);
        self
    }

    /// Sets the prompt's `_meta`.
    #[must_use]
    pub fn with_meta(mut self, meta: Meta) -> Self {
        self.prompt.meta = Some(meta);
        self
    }

    /// The wire description.
    pub fn prompt(&self) -> &Prompt {
        &self.prompt
    }
}

/// The prompt's arguments, in the order the struct declares its fields (a
/// schema's properties are sorted by name).
fn arguments_from_schema(schema: &serde_json::Map<String, Value>, order: &[&str]) -> Vec<PromptArgument> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else { return Vec::new() };
    let mut arguments: Vec<PromptArgument> = props
        .iter()
        .map(|(name, prop)| {
            let mut arg = PromptArgument::new(name.clone());
            arg.description = prop.get("description").and_then(Value::as_str).map(str::to_owned);
            arg.required = Some(required.contains(&name.as_str()));
            arg
        })
        .collect();
    arguments.sort_by_key(|a| order.iter().position(|f| *f == a.name).unwrap_or(usize::MAX));
    arguments
}

/// The field names a derived `Deserialize` struct declares, in order: serde
/// hands them to `deserialize_struct`, which this deserializer records and
/// then refuses. Empty for types that are not structs.
fn field_order<A: DeserializeOwned>() -> &'static [&'static str] {
    struct Fields(&'static [&'static str]);

    #[derive(Debug)]
    struct Stop;

    impl fmt::Display for Stop {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("field names recorded")
        }
    }

    impl std::error::Error for Stop {}

    impl serde::de::Error for Stop {
        fn custom<T: fmt::Display>(_: T) -> Self {
            Self
        }
    }

    impl<'de> serde::Deserializer<'de> for &mut Fields {
        type Error = Stop;

        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }

        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = fields;
            Err(Stop)
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }

    let mut fields = Fields(&[]);
    // Always `Err(Stop)`: only the recorded names matter.
    let _ = A::deserialize(&mut fields);
    fields.0
}
