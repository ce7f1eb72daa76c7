//! [`IntoToolResult`]: what a tool returns, turned into a `CallToolResult`
//! ([`Json`] for structured output, [`ToolError`] for failures with a code).

use std::any::Any;
use std::fmt;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::ToolOutput;
use crate::error::{Error, short_type_name};
use crate::protocol::content::ContentBlock;
use crate::protocol::tools::CallToolResult;
use crate::server::schema::{RESULT_KEY, is_wrapped, output_schema_for};

/// Conversion of a tool's return value into a `CallToolResult`.
///
/// Strings and numbers become one text block; [`Json<T>`] becomes
/// `structuredContent` plus its JSON text (and gives the tool an
/// `outputSchema`); content blocks and `CallToolResult` pass through;
/// `Result<T, E>` turns `Err` into an `isError` result whose text is the
/// error's message, except that a protocol [`Error`] (a missing client
/// capability, say) stays a JSON-RPC error, and a [`ToolError`] adds its code
/// and details.
///
/// Unexpected failures, [`Error::Internal`] and a [`ToolError`] with code
/// [`ToolError::INTERNAL`], become an `isError` result that says only that
/// the tool failed; the details are logged, and reach the client only when
/// the server [exposes internal errors](crate::server::ServerBuilder::expose_internal_errors).
///
/// Implement it for your own result types when a conversion here does not
/// fit; `#[tool]` functions may return any type that implements it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned by a tool",
    label = "not a tool result",
    note = "return a `String`, a number, `Json<T>` (structured output), a `ContentBlock`, `Vec<ContentBlock>`, \
            a `CallToolResult`, or a `Result<_, E>` of one of these with `E: Display`"
)]
pub trait IntoToolResult {
    /// Converts the value.
    ///
    /// # Errors
    /// A protocol error to send as a JSON-RPC error.
    fn into_tool_result(self) -> ToolOutput;

    /// The `outputSchema` this type implies, if any.
    fn output_schema() -> Option<Map<String, Value>> {
        None
    }
}

impl IntoToolResult for CallToolResult {
    fn into_tool_result(self) -> ToolOutput {
        Ok(self)
    }
}

impl IntoToolResult for ContentBlock {
    fn into_tool_result(self) -> ToolOutput {
        Ok(CallToolResult::new(vec![self]))
    }
}

impl IntoToolResult for Vec<ContentBlock> {
    fn into_tool_result(self) -> ToolOutput {
        Ok(CallToolResult::new(self))
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> ToolOutput {
        Ok(CallToolResult::text(self))
    }
}

impl IntoToolResult for &'static str {
    fn into_tool_result(self) -> ToolOutput {
        Ok(CallToolResult::text(self))
    }
}

impl IntoToolResult for () {
    fn into_tool_result(self) -> ToolOutput {
        Ok(CallToolResult::new(Vec::new()))
    }
}

macro_rules! display_results {
    ($($t:ty),*) => {$(
        impl IntoToolResult for $t {
            fn into_tool_result(self) -> ToolOutput {
                Ok(CallToolResult::text(self.to_string()))
            }
        }
    )*};
}
display_results!(bool, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, char);

macro_rules! float_results {
    ($($t:ty => $exact:expr),*) => {$(
        impl IntoToolResult for $t {
            fn into_tool_result(self) -> ToolOutput {
                // A whole number below the type's exact-integer bound reads
                // the same as an integer (`5.0` displays as `5`), which is
                // written without the float formatter's digit search.
                // `-0.0` is left to it: it displays as `-0`.
                let text = if self.fract() == 0.0 && self.abs() < $exact && !(self == 0.0 && self.is_sign_negative()) {
                    (self as i64).to_string()
                } else {
                    self.to_string()
                };
                Ok(CallToolResult::text(text))
            }
        }
    )*};
}
// 2^24 and 2^53: below them every whole number is a distinct float, so its
// shortest round-trip digits are its own.
float_results!(f32 => 16_777_216.0, f64 => 9_007_199_254_740_992.0);

/// Structured tool output: serialised as `structuredContent` and as a JSON
/// text block, and the tool's `outputSchema` is derived from `T`.
///
/// MCP requires structured content to be a JSON object. A `T` whose schema
/// is not an object schema (a `Vec`, a number, a string, an enum) is sent
/// wrapped under the key [`"result"`](crate::server::schema::RESULT_KEY), with the
/// matching output schema, as FastMCP does; the text block holds `T`
/// itself.
///
/// ```
/// use mcp_core::server::{IntoToolResult, Json};
///
/// let result = Json(vec![1, 2, 3]).into_tool_result().expect("serialisable");
/// assert_eq!(result.structured_content, Some(serde_json::json!({ "result": [1, 2, 3] })));
/// let schema = <Json<Vec<u32>> as IntoToolResult>::output_schema().unwrap_or_default();
/// assert_eq!(schema["required"], serde_json::json!(["result"]));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T: Serialize + JsonSchema + 'static> IntoToolResult for Json<T> {
    fn into_tool_result(self) -> ToolOutput {
        let value = serde_json::to_value(&self.0).map_err(|e| Error::internal(format!("tool output: {e}")))?;
        let text = value.to_string();
        let structured = if is_wrapped::<T>() {
            let mut wrapper = Map::new();
            wrapper.insert(RESULT_KEY.into(), value);
            Value::Object(wrapper)
        } else if value.is_object() {
            value
        } else {
            // An object schema with a non-object value (`Option<Struct>`
            // giving `None`): sending it would break the output schema.
            return Err(Error::internal(format!(
                "tool output: `{}` serialised to `{text}`, not the JSON object its schema promises",
                short_type_name::<T>()
            )));
        };
        Ok(CallToolResult::text(text).with_structured_content(structured))
    }

    fn output_schema() -> Option<Map<String, Value>> {
        Some(output_schema_for::<T>())
    }
}

/// The `_meta` key under which a [`ToolError`]'s code and details travel.
pub const TOOL_ERROR_META_KEY: &str = "dev.mcp-sdk/error";

/// A tool failure with a machine-readable code and details, reported as an
/// `isError` result: the message as text, and `{code, details}` in the
/// result's `_meta` under [`TOOL_ERROR_META_KEY`]. It plays the part of the
/// MCP best-practice guide's `MCPError(message, code, details)`.
///
/// ```
/// use mcp_core::server::ToolError;
///
/// let err = ToolError::new("not_found", "no order 42").with_details(serde_json::json!({ "order": 42 }));
/// assert_eq!(err.to_string(), "no order 42");
/// ```
///
/// An error with code [`ToolError::INTERNAL`] (made by
/// [`ToolError::internal`]) is an unexpected failure: the client learns only
/// that the tool failed, unless the server exposes internal errors.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ToolError {
    /// A short machine-readable code, e.g. `"not_found"`.
    pub code: String,
    /// What went wrong, for the model and the user.
    pub message: String,
    /// Anything else a client may use.
    pub details: Option<Value>,
}

impl ToolError {
    /// The code of unexpected failures, whose message stays on the server.
    pub const INTERNAL: &'static str = "internal_error";

    /// A tool error with a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into(), details: None }
    }

    /// An unexpected failure (a database down, a bug): the message is logged
    /// and the client sees only that the tool failed, unless the server
    /// exposes internal errors. Handy with `map_err`:
    /// `db.query(..).map_err(ToolError::internal)?`.
    pub fn internal(error: impl fmt::Display) -> Self {
        Self::new(Self::INTERNAL, error.to_string())
    }

    /// Sets the details.
    #[must_use]
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }
}

impl<T: IntoToolResult, E: fmt::Display + 'static> IntoToolResult for Result<T, E> {
    fn into_tool_result(self) -> ToolOutput {
        match self {
            Ok(v) => v.into_tool_result(),
            Err(e) => {
                let any: &dyn Any = &e;
                if let Some(err) = any.downcast_ref::<Error>()
                    && (err.is_protocol_error() || matches!(err, Error::Internal(_)))
                {
                    return Err(err.clone());
                }
                if let Some(te) = any.downcast_ref::<ToolError>() {
                    if te.code == ToolError::INTERNAL {
                        return Err(Error::internal(te.message.clone()));
                    }
                    // Not `structuredContent`: that must match the tool's
                    // `outputSchema`, which describes success.
                    let mut error = serde_json::json!({ "code": te.code });
                    if let Some(d) = &te.details {
                        error["details"] = d.clone();
                    }
                    let mut result = CallToolResult::error_text(te.message.clone());
                    result.meta.get_or_insert_with(Default::default).insert(TOOL_ERROR_META_KEY.into(), error);
                    return Ok(result);
                }
                Ok(CallToolResult::error_text(e.to_string()))
            }
        }
    }

    fn output_schema() -> Option<Map<String, Value>> {
        T::output_schema()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(out: ToolOutput) -> String {
        let result = out.expect("a result");
        let json = serde_json::to_value(&result.content).expect("content");
        json[0]["text"].as_str().expect("a text block").to_owned()
    }

    #[test]
    fn floats_read_as_display_writes_them() {
        let f64s = [
            0.0,
            -0.0,
            5.0,
            -5.0,
            0.5,
            1e15,
            1e16,
            9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            -9_007_199_254_740_991.0,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            123_456_789.0,
        ];
        for v in f64s {
            assert_eq!(text_of(v.into_tool_result()), v.to_string(), "{v:?}");
        }
        let f32s = [0.0f32, -0.0, 7.0, 16_777_215.0, 16_777_216.0, 1.234_567_9e11, 0.25, f32::MAX, f32::NAN];
        for v in f32s {
            assert_eq!(text_of(v.into_tool_result()), v.to_string(), "{v:?}");
        }
    }
}
