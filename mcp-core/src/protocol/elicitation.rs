//! Elicitation: `elicitation/create` (server to client; an input request in
//! 2026-07-28), its restricted form schemas, and URL mode (2025-11-25 on).
//!
//! The schema structs carry their `"type"` as a marker field ([`StringType`],
//! ...) so that each one serialises on its own; [`PrimitiveSchemaDefinition`]
//! tells them apart by `type` and the keys present.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::de::{Error as _, Unexpected};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::protocol::content::{JsonObject, float};
use crate::protocol::{Meta, ResultType};

macro_rules! const_str {
    ($(#[$m:meta])* $name:ident = $value:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name;

        impl $name {
            /// The wire string.
            pub const VALUE: &'static str = $value;
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($value)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <Cow<'de, str>>::deserialize(d)?;
                if s == $value {
                    Ok(Self)
                } else {
                    Err(D::Error::invalid_value(Unexpected::Str(&s), &concat!("\"", $value, "\"")))
                }
            }
        }
    };
}

const_str!(
    /// The constant `"string"`.
    StringType = "string"
);
const_str!(
    /// The constant `"boolean"`.
    BooleanType = "boolean"
);
const_str!(
    /// The constant `"array"`.
    ArrayType = "array"
);
const_str!(
    /// The constant `"object"`.
    ObjectType = "object"
);
const_str!(
    /// The constant `"form"` (elicitation mode).
    FormMode = "form"
);
const_str!(
    /// The constant `"url"` (elicitation mode).
    UrlMode = "url"
);

/// `"number"` or `"integer"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberType {
    /// Any number.
    #[default]
    Number,
    /// Integers only.
    Integer,
}

/// A string format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StringFormat {
    /// An e-mail address.
    Email,
    /// A URI.
    Uri,
    /// A date.
    Date,
    /// A date and time.
    DateTime,
}

/// A string field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StringSchema {
    /// `"string"`.
    #[serde(rename = "type")]
    pub kind: StringType,
    /// The field's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// Maximum length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// The format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<StringFormat>,
    /// Default value (2025-11-25 on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A number or integer field.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberSchema {
    /// `"number"` or `"integer"`.
    #[serde(rename = "type")]
    pub kind: NumberType,
    /// The field's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum value.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "float::option")]
    pub minimum: Option<f64>,
    /// Maximum value.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "float::option")]
    pub maximum: Option<f64>,
    /// Default value (2025-11-25 on).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "float::option")]
    pub default: Option<f64>,
}

/// A boolean field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BooleanSchema {
    /// `"boolean"`.
    #[serde(rename = "type")]
    pub kind: BooleanType,
    /// The field's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
}

/// One titled option: `{"const": value, "title": label}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TitledEnumOption {
    /// The value.
    #[serde(rename = "const")]
    pub value: String,
    /// The label shown for it.
    pub title: String,
}

/// Single choice among plain strings (`enum`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntitledSingleSelectEnumSchema {
    /// `"string"`.
    #[serde(rename = "type")]
    pub kind: StringType,
    /// The field's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The allowed values (`enum`).
    #[serde(rename = "enum")]
    pub values: Vec<String>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// Single choice among titled options (`oneOf` of `const`/`title`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledSingleSelectEnumSchema {
    /// `"string"`.
    #[serde(rename = "type")]
    pub kind: StringType,
    /// The field's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The options.
    pub one_of: Vec<TitledEnumOption>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// The `items` of an [`UntitledMultiSelectEnumSchema`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UntitledEnumItems {
    /// `"string"`.
    #[serde(rename = "type")]
    pub kind: StringType,
    /// The allowed values (`enum`).
    #[serde(rename = "enum")]
    pub values: Vec<String>,
}

/// The `items` of a [`TitledMultiSelectEnumSchema`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledEnumItems {
    /// The options.
    pub any_of: Vec<TitledEnumOption>,
}

/// Multiple choice among plain strings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntitledMultiSelectEnumSchema {
    /// `"array"`.
    #[serde(rename = "type")]
    pub kind: ArrayType,
    /// The field's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum number of choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// Maximum number of choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// The allowed values.
    pub items: UntitledEnumItems,
    /// Default choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Vec<String>>,
}

/// Multiple choice among titled options.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledMultiSelectEnumSchema {
    /// `"array"`.
    #[serde(rename = "type")]
    pub kind: ArrayType,
    /// The field's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum number of choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// Maximum number of choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// The options.
    pub items: TitledEnumItems,
    /// Default choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Vec<String>>,
}

/// Single choice with labels in the non-standard `enumNames` (2025-06-18
/// style; deprecated). Without `enumNames` it reads as an
/// [`UntitledSingleSelectEnumSchema`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyTitledEnumSchema {
    /// `"string"`.
    #[serde(rename = "type")]
    pub kind: StringType,
    /// The field's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The allowed values (`enum`).
    #[serde(rename = "enum")]
    pub values: Vec<String>,
    /// Labels for `values`, in the same order.
    pub enum_names: Vec<String>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// One field of an elicitation form: a flat, primitive JSON Schema.
///
/// Variants are tried in declaration order (the more specific shapes first).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PrimitiveSchemaDefinition {
    /// Titled single select (`oneOf`).
    TitledSingleSelectEnum(TitledSingleSelectEnumSchema),
    /// Legacy titled single select (`enum` + `enumNames`).
    LegacyTitledEnum(LegacyTitledEnumSchema),
    /// Untitled single select (`enum`).
    UntitledSingleSelectEnum(UntitledSingleSelectEnumSchema),
    /// A string.
    String(StringSchema),
    /// A number or integer.
    Number(NumberSchema),
    /// A boolean.
    Boolean(BooleanSchema),
    /// Titled multi select (`items.anyOf`).
    TitledMultiSelectEnum(TitledMultiSelectEnumSchema),
    /// Untitled multi select (`items.enum`).
    UntitledMultiSelectEnum(UntitledMultiSelectEnumSchema),
}

macro_rules! schema_from {
    ($($ty:ident => $variant:ident),* $(,)?) => {$(
        impl From<$ty> for PrimitiveSchemaDefinition {
            fn from(s: $ty) -> Self {
                Self::$variant(s)
            }
        }
    )*};
}

schema_from! {
    StringSchema => String,
    NumberSchema => Number,
    BooleanSchema => Boolean,
    UntitledSingleSelectEnumSchema => UntitledSingleSelectEnum,
    TitledSingleSelectEnumSchema => TitledSingleSelectEnum,
    UntitledMultiSelectEnumSchema => UntitledMultiSelectEnum,
    TitledMultiSelectEnumSchema => TitledMultiSelectEnum,
    LegacyTitledEnumSchema => LegacyTitledEnum,
}

/// The `requestedSchema` of a form elicitation: a flat object schema.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestedSchema {
    /// The JSON Schema dialect (`$schema`, 2025-11-25 on).
    #[serde(default, rename = "$schema", skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// `"object"`.
    #[serde(rename = "type")]
    pub kind: ObjectType,
    /// The fields.
    pub properties: BTreeMap<String, PrimitiveSchemaDefinition>,
    /// The names of the required fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<Vec<String>>,
}

impl ElicitRequestedSchema {
    /// A form with no fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a field.
    #[must_use]
    pub fn with_property(
        mut self,
        name: impl Into<String>,
        schema: impl Into<PrimitiveSchemaDefinition>,
        required: bool,
    ) -> Self {
        let name = name.into();
        if required {
            self.required.get_or_insert_with(Vec::new).push(name.clone());
        }
        self.properties.insert(name, schema.into());
        self
    }
}

/// Params of a form-mode `elicitation/create`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestFormParams {
    /// `"form"`; optional (absent means form, and 2025-06-18 has no `mode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FormMode>,
    /// What to ask the user.
    pub message: String,
    /// The form.
    pub requested_schema: ElicitRequestedSchema,
    /// Request metadata (legacy era).
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// Params of a URL-mode `elicitation/create` (2025-11-25 on).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestURLParams {
    /// `"url"`.
    pub mode: UrlMode,
    /// Why the user should open the URL.
    pub message: String,
    /// The URL to open.
    pub url: String,
    /// The elicitation's id (required in 2025-11-25, absent in 2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elicitation_id: Option<String>,
    /// Request metadata (legacy era).
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl ElicitRequestURLParams {
    /// Ask the user to open `url`.
    pub fn new(message: impl Into<String>, url: impl Into<String>) -> Self {
        Self { mode: UrlMode, message: message.into(), url: url.into(), elicitation_id: None, meta: None }
    }

    /// Sets `elicitationId`.
    #[must_use]
    pub fn with_elicitation_id(mut self, id: impl Into<String>) -> Self {
        self.elicitation_id = Some(id.into());
        self
    }
}

/// Params of `elicitation/create`: a form, or (2025-11-25 on) a URL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ElicitRequestParams {
    /// `"mode": "url"`.
    Url(ElicitRequestURLParams),
    /// `"mode": "form"` or no `mode`.
    Form(ElicitRequestFormParams),
}

impl ElicitRequestParams {
    /// A form elicitation. `mode` is left out, which every version reads as
    /// form mode.
    pub fn form(message: impl Into<String>, requested_schema: ElicitRequestedSchema) -> Self {
        Self::Form(ElicitRequestFormParams { mode: None, message: message.into(), requested_schema, meta: None })
    }

    /// A URL elicitation (2025-11-25 on).
    pub fn url(message: impl Into<String>, url: impl Into<String>) -> Self {
        Self::Url(ElicitRequestURLParams::new(message, url))
    }

    /// The message shown to the user.
    pub fn message(&self) -> &str {
        match self {
            Self::Url(p) => &p.message,
            Self::Form(p) => &p.message,
        }
    }
}

/// What the user did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElicitAction {
    /// Submitted the form or consented.
    Accept,
    /// Explicitly declined.
    Decline,
    /// Dismissed without choosing.
    Cancel,
}

/// The client's answer to `elicitation/create`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitResult {
    /// `complete`, when the client sends one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// What the user did.
    pub action: ElicitAction,
    /// The submitted values (accepted form mode only): strings, integers,
    /// booleans or string arrays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<JsonObject>,
    /// Result metadata (legacy era).
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl ElicitResult {
    /// The submitted values, if the user accepted.
    pub fn accepted_content(&self) -> Option<&JsonObject> {
        match self.action {
            ElicitAction::Accept => self.content.as_ref(),
            _ => None,
        }
    }
}

/// Params of `notifications/elicitation/complete` (2025-11-25 only): a URL
/// elicitation finished out of band.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitationCompleteNotificationParams {
    /// The `elicitationId` of the URL elicitation.
    pub elicitation_id: String,
}

/// `data` of the -32042 URL-elicitation-required error (2025-11-25 only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UrlElicitationRequiredErrorData {
    /// The URL elicitations the client must complete before retrying.
    pub elicitations: Vec<ElicitRequestURLParams>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> PrimitiveSchemaDefinition {
        serde_json::from_value(v).expect("schema")
    }

    #[test]
    fn primitive_schema_dispatch() {
        assert!(matches!(parse(json!({"type": "string"})), PrimitiveSchemaDefinition::String(_)));
        assert!(matches!(parse(json!({"type": "integer"})), PrimitiveSchemaDefinition::Number(_)));
        assert!(matches!(
            parse(json!({"type": "string", "enum": ["a"]})),
            PrimitiveSchemaDefinition::UntitledSingleSelectEnum(_)
        ));
        assert!(matches!(
            parse(json!({"type": "string", "enum": ["a"], "enumNames": ["A"]})),
            PrimitiveSchemaDefinition::LegacyTitledEnum(_)
        ));
        assert!(matches!(
            parse(json!({"type": "array", "items": {"type": "string", "enum": ["a"]}})),
            PrimitiveSchemaDefinition::UntitledMultiSelectEnum(_)
        ));
        assert!(serde_json::from_value::<PrimitiveSchemaDefinition>(json!({"type": "object"})).is_err());
        assert!(serde_json::from_value::<StringSchema>(json!({"type": "number"})).is_err());
    }

    #[test]
    fn form_vs_url() {
        let form: ElicitRequestParams =
            serde_json::from_value(json!({"message": "m", "requestedSchema": {"type": "object", "properties": {}}}))
                .expect("form");
        assert!(matches!(form, ElicitRequestParams::Form(ElicitRequestFormParams { mode: None, .. })));
        let url: ElicitRequestParams =
            serde_json::from_value(json!({"mode": "url", "message": "m", "url": "https://x"})).expect("url");
        assert!(matches!(url, ElicitRequestParams::Url(_)));
        let built = ElicitRequestParams::form(
            "Name?",
            ElicitRequestedSchema::new().with_property("name", StringSchema::default(), true),
        );
        assert_eq!(
            serde_json::to_value(&built).expect("json"),
            json!({"message": "Name?", "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}})
        );
    }
}
