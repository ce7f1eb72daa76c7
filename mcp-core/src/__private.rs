//! Not public API: what the `mcp-macros` expansions call, so that they stay
//! small and users need not depend on serde or schemars themselves. Anything
//! here may change in any release.

use std::fmt::Display;
use std::str::FromStr;

pub use schemars;
pub use serde;
pub use serde_json;

use crate::error::{Error, short_type_name};
use crate::protocol::content::Icon;
use crate::protocol::resources::{ReadResourceResult, ResourceContents};
use crate::server::{IntoReadResult, UriVars};

/// What a `#[tool]` argument's type must be (`M` is a marker that only the
/// macro's expansion uses). The macro bounds the impls of its arguments
/// struct by `T: ToolArgument` for each argument type, so a
/// type that does not qualify gives this message instead of a cascade from
/// serde's and schemars' derives.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool argument: it must implement `serde::Deserialize` and `schemars::JsonSchema`",
    label = "not a tool argument",
    note = "the client sends arguments as JSON, and the tool's input schema describes them",
    note = "for your own type, add `#[derive(serde::Deserialize, schemars::JsonSchema)]`; for another crate's type, \
            take a type that has both (a `String`, a number of milliseconds) and convert it in the tool; \
            for a value taken from the request rather than sent by the client, mark the parameter `#[from_context]`"
)]
// The supertraits are higher-ranked on purpose: the compiler checks a
// where clause's plain global consequences (`Instant: JsonSchema`) on their
// own, which would add an error of its own per trait.
pub trait ToolArgument<M = ()>: for<'de> serde::Deserialize<'de> + for<'a> SchemaOf<'a> {}

#[diagnostic::do_not_recommend]
impl<T: serde::de::DeserializeOwned + schemars::JsonSchema, M> ToolArgument<M> for T {}

/// `JsonSchema`, behind a lifetime only [`ToolArgument`] uses.
pub trait SchemaOf<'a>: schemars::JsonSchema {}

impl<T: schemars::JsonSchema> SchemaOf<'_> for T {}

/// Converts what a `#[resource]` returned, giving text contents the declared
/// MIME type when they carry none.
pub fn read_result<R: IntoReadResult>(
    value: R,
    uri: &str,
    mime_type: Option<&str>,
) -> Result<ReadResourceResult, Error> {
    let mut result = value.into_read_result(uri)?;
    if let Some(mime) = mime_type {
        for contents in &mut result.contents {
            let slot = match contents {
                ResourceContents::Text(t) => &mut t.mime_type,
                ResourceContents::Blob(b) => &mut b.mime_type,
            };
            slot.get_or_insert_with(|| mime.to_owned());
        }
    }
    Ok(result)
}

/// The template variable `name` of `uri`, parsed.
///
/// # Errors
/// [`Error::InvalidParams`] naming the variable and the type it expects.
pub fn template_var<T>(uri: &str, vars: &UriVars, name: &str) -> Result<T, Error>
where
    T: FromStr,
    T::Err: Display,
{
    template_var_opt(uri, vars, name)?
        .ok_or_else(|| Error::invalid_params(format!("`{uri}`: the URI template variable `{name}` is missing")))
}

/// The optional template variable `name` of `uri` (a `{?query}` one),
/// parsed.
///
/// # Errors
/// [`Error::InvalidParams`] naming the variable and the type it expects.
pub fn template_var_opt<T>(uri: &str, vars: &UriVars, name: &str) -> Result<Option<T>, Error>
where
    T: FromStr,
    T::Err: Display,
{
    let Some(raw) = vars.get(name) else { return Ok(None) };
    raw.parse().map(Some).map_err(|e| {
        Error::invalid_params(format!(
            "`{uri}`: the URI template variable `{name}`: expected {}: {e}",
            short_type_name::<T>()
        ))
    })
}

/// Icons from their URLs.
pub fn icons(srcs: &[&str]) -> Vec<Icon> {
    srcs.iter().map(|s| Icon::new(*s)).collect()
}

/// A `_meta` object from a `json!({..})` value (always an object).
pub fn meta(value: serde_json::Value) -> crate::protocol::Meta {
    match value {
        serde_json::Value::Object(map) => map,
        _ => crate::protocol::Meta::new(),
    }
}
