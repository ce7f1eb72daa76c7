//! The registration record, its wire and table names, and its validation.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::RegistryError;

/// At most this many tools in one registration (a DynamoDB item holds
/// 400 KB; the service also caps the body).
pub const MAX_TOOLS: usize = 500;
/// The longest `server_id`, `version`, `server_name` or URL accepted.
pub const MAX_NAME_LEN: usize = 256;
/// The longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// The version given to a registration that names none.
pub const DEFAULT_VERSION: &str = "1.0.0";

/// The wire protocol a registered server speaks: the integration guide's
/// `jsonrpc` and `graphql`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProtocolType {
    /// JSON-RPC 2.0 (MCP).
    #[default]
    Jsonrpc,
    /// GraphQL (e.g. an AppSync API), as in the guide's second example.
    Graphql,
}

/// How clients authenticate to a registered server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthenticationType {
    /// No authentication.
    #[default]
    None,
    /// An API key header.
    ApiKey,
    /// OAuth 2.1 bearer tokens.
    Oauth,
    /// AWS IAM (SigV4).
    Iam,
}

/// A registered server's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Serving, as far as the registry knows.
    #[default]
    Active,
    /// Its health check fails.
    Unhealthy,
    /// Retired: shut down gracefully or deleted by its stack. Never deleted
    /// from the table.
    Decommissioned,
}

impl Status {
    /// The wire string: `active`, `unhealthy` or `decommissioned`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Unhealthy => "unhealthy",
            Self::Decommissioned => "decommissioned",
        }
    }

    /// Parses the wire string.
    pub fn from_wire(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "unhealthy" => Some(Self::Unhealthy),
            "decommissioned" => Some(Self::Decommissioned),
            _ => None,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One tool as the registry lists it: `{name, description, inputSchema}`,
/// taken from the server's own `tools/list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolEntry {
    /// The tool's name.
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its arguments' JSON Schema.
    #[serde(rename = "inputSchema", default = "empty_object")]
    pub input_schema: Value,
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

/// One server in the registry. The field names are the table's attribute
/// names and the HTTP API's JSON keys.
///
/// ```
/// use mcp_aws::registry::{AuthenticationType, Registration};
///
/// let reg = Registration::new("weather", "1.2.0", "Weather", "https://weather.example.com/mcp")
///     .with_description("forecasts")
///     .with_authentication_type(AuthenticationType::Oauth)
///     .with_metadata("team", "forecasting");
/// assert_eq!(reg.health_check_url.as_deref(), Some("https://weather.example.com/health"));
/// assert!(reg.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Registration {
    /// Partition key: the server's stable identifier.
    pub server_id: String,
    /// Sort key: the deployed version.
    pub version: String,
    /// Display name.
    pub server_name: String,
    /// What the server offers.
    #[serde(default)]
    pub description: String,
    /// Where clients reach its MCP endpoint.
    pub endpoint_url: String,
    /// `jsonrpc` (the default) or `graphql`.
    #[serde(default)]
    pub protocol_type: ProtocolType,
    /// How clients authenticate.
    #[serde(default)]
    pub authentication_type: AuthenticationType,
    /// The server's tools, from its own `tools/list`.
    #[serde(default)]
    pub available_tools: Vec<ToolEntry>,
    /// Its state.
    #[serde(default)]
    pub status: Status,
    /// Polled by the registry's health checker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_url: Option<String>,
    /// The CloudFormation stack that deployed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_stack: Option<String>,
    /// The AWS region it runs in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_region: Option<String>,
    /// Free-form attributes (team, cost centre...).
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// When the entry was first written (RFC 3339, set by the registry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When the entry was last written (RFC 3339, set by the registry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

impl Registration {
    /// An `active` registration with no tools yet; the health check URL
    /// defaults to [`default_health_check_url`](Self::default_health_check_url)
    /// of the endpoint (`{scheme}://{authority}/health`).
    pub fn new(
        server_id: impl Into<String>,
        version: impl Into<String>,
        server_name: impl Into<String>,
        endpoint_url: impl Into<String>,
    ) -> Self {
        let endpoint_url = endpoint_url.into();
        let health_check_url = default_health_url(&endpoint_url);
        Self {
            server_id: server_id.into(),
            version: version.into(),
            server_name: server_name.into(),
            description: String::new(),
            endpoint_url,
            protocol_type: ProtocolType::Jsonrpc,
            authentication_type: AuthenticationType::None,
            available_tools: Vec::new(),
            status: Status::Active,
            health_check_url,
            deployment_stack: None,
            deployment_region: None,
            metadata: Map::new(),
            created_at: None,
            updated_at: None,
        }
    }

    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Sets how clients authenticate.
    #[must_use]
    pub fn with_authentication_type(mut self, auth: AuthenticationType) -> Self {
        self.authentication_type = auth;
        self
    }

    /// Sets (or, with `None`, clears) the health check URL. An entry
    /// without one is still checked, at
    /// [`effective_health_check_url`](Self::effective_health_check_url),
    /// and the registry service fills in the derived one.
    #[must_use]
    pub fn with_health_check_url(mut self, url: Option<String>) -> Self {
        self.health_check_url = url;
        self
    }

    /// Sets the deploying stack and the region.
    #[must_use]
    pub fn with_deployment(mut self, stack: Option<String>, region: Option<String>) -> Self {
        self.deployment_stack = stack;
        self.deployment_region = region;
        self
    }

    /// Adds one metadata attribute.
    #[must_use]
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Sets the tool list (the [`Registrar`](super::Registrar) does this
    /// from the server's `tools/list`).
    #[must_use]
    pub fn with_tools(mut self, tools: Vec<ToolEntry>) -> Self {
        self.available_tools = tools;
        self
    }

    /// Sets the status.
    #[must_use]
    pub fn with_status(mut self, status: Status) -> Self {
        self.status = status;
        self
    }

    /// Parses and validates a registration body: wrong types and missing
    /// fields are reported with the field's name.
    ///
    /// The integration guide's self-registration payload is accepted as
    /// written: a body without `server_id` gets
    /// [`derived_server_id`](Self::derived_server_id) of its `server_name`
    /// and `endpoint_url` (so registering the same server again updates the
    /// same entry), one without `version` gets [`DEFAULT_VERSION`], and one
    /// without `health_check_url` (or with `null`) gets
    /// [`default_health_check_url`](Self::default_health_check_url) of its
    /// endpoint, so every entry is checked.
    ///
    /// ```
    /// use mcp_aws::registry::Registration;
    ///
    /// let body = br#"{"server_name":"My Custom MCP Server","endpoint_url":"https://my-server.example.com/mcp"}"#;
    /// let reg = Registration::from_json(body).unwrap();
    /// assert_eq!(reg.server_id, Registration::derived_server_id("My Custom MCP Server", "https://my-server.example.com/mcp"));
    /// assert_eq!(reg.version, "1.0.0");
    /// assert_eq!(reg.health_check_url.as_deref(), Some("https://my-server.example.com/health"));
    /// ```
    ///
    /// # Errors
    /// [`RegistryError::Invalid`] naming the field.
    pub fn from_json(body: &[u8]) -> Result<Self, RegistryError> {
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(invalid("body", "expected a JSON object"));
        }
        let mut object: Map<String, Value> = serde_json::from_slice(body)
            .map_err(|e| RegistryError::Invalid { field: "body".to_owned(), reason: strip_position(&e.to_string()) })?;
        fill_defaults(&mut object);
        if object.get("server_id").is_none_or(Value::is_null) {
            // No id to derive: name what it would be derived from.
            for field in ["server_name", "endpoint_url"] {
                if object.get(field).is_none_or(Value::is_null) {
                    return Err(invalid(field, "missing (a registration without server_id needs it)"));
                }
            }
        }
        let reg = deserialize_named(Value::Object(object))
            .map_err(|(field, reason)| RegistryError::Invalid { field, reason })?;
        reg.validate()?;
        Ok(reg)
    }

    /// The id given to a registration without `server_id`: the server
    /// name as a slug (ASCII letters and digits lower-cased, every other
    /// run of characters one `-`, at most 48 characters, `server` when
    /// nothing is left), a `-`, and the first 12 hex digits of the SHA-256
    /// of `{server_name}\n{endpoint_url}` (the endpoint without trailing
    /// `/`). The same name and endpoint always give the same id; another
    /// endpoint gives another.
    ///
    /// ```
    /// use mcp_aws::registry::Registration;
    ///
    /// let id = Registration::derived_server_id("My Custom MCP Server", "https://my-server.example.com/mcp");
    /// assert!(id.starts_with("my-custom-mcp-server-"));
    /// assert_eq!(id, Registration::derived_server_id("My Custom MCP Server", "https://my-server.example.com/mcp/"));
    /// ```
    pub fn derived_server_id(server_name: &str, endpoint_url: &str) -> String {
        use sha2::{Digest as _, Sha256};
        let mut slug = String::new();
        for c in server_name.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
            if slug.len() >= 48 {
                break;
            }
        }
        let slug = slug.trim_end_matches('-');
        let slug = if slug.is_empty() { "server" } else { slug };
        let digest = Sha256::digest(format!("{server_name}\n{}", endpoint_url.trim_end_matches('/')));
        let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        format!("{slug}-{hex}")
    }

    /// The health check URL derived from an endpoint:
    /// `{scheme}://{authority}/health` (the endpoint's path and query are
    /// dropped), as the guide's `https://my-server.example.com/mcp` and
    /// `https://my-server.example.com/health`. `None` when the endpoint is
    /// not an absolute URL.
    pub fn default_health_check_url(endpoint_url: &str) -> Option<String> {
        default_health_url(endpoint_url)
    }

    /// The URL the health checker polls: `health_check_url`, or the one
    /// derived from the endpoint for entries stored without one.
    pub fn effective_health_check_url(&self) -> Option<String> {
        self.health_check_url.clone().or_else(|| default_health_url(&self.endpoint_url))
    }

    /// Checks lengths, URLs and the tool list.
    ///
    /// # Errors
    /// [`RegistryError::Invalid`] naming the first offending field.
    pub fn validate(&self) -> Result<(), RegistryError> {
        name_field("server_id", &self.server_id)?;
        name_field("version", &self.version)?;
        name_field("server_name", &self.server_name)?;
        url_field("endpoint_url", &self.endpoint_url)?;
        if let Some(url) = &self.health_check_url {
            url_field("health_check_url", url)?;
        }
        if self.available_tools.len() > MAX_TOOLS {
            return Err(invalid(
                "available_tools",
                format!("{} tools; at most {MAX_TOOLS} are accepted", self.available_tools.len()),
            ));
        }
        for (i, tool) in self.available_tools.iter().enumerate() {
            if tool.name.trim().is_empty() || tool.name.len() > MAX_NAME_LEN {
                return Err(invalid(format!("available_tools[{i}].name"), "expected 1 to 256 characters"));
            }
            if !tool.input_schema.is_object() {
                return Err(invalid(format!("available_tools[{i}].inputSchema"), "expected a JSON object"));
            }
        }
        Ok(())
    }
}

/// Fills the defaults [`Registration::from_json`] documents.
fn fill_defaults(object: &mut Map<String, Value>) {
    let text = |object: &Map<String, Value>, key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
    let absent = |object: &Map<String, Value>, key: &str| object.get(key).is_none_or(Value::is_null);
    if absent(object, "server_id")
        && let (Some(name), Some(endpoint)) = (text(object, "server_name"), text(object, "endpoint_url"))
    {
        object.insert("server_id".to_owned(), Value::String(Registration::derived_server_id(&name, &endpoint)));
    }
    if absent(object, "version") {
        object.insert("version".to_owned(), Value::String(DEFAULT_VERSION.to_owned()));
    }
    if absent(object, "health_check_url")
        && let Some(health) = text(object, "endpoint_url").as_deref().and_then(default_health_url)
    {
        object.insert("health_check_url".to_owned(), Value::String(health));
    }
}

/// Deserialises a registration, naming the offending field on failure:
/// `(field, reason)`.
pub(crate) fn deserialize_named(value: Value) -> Result<Registration, (String, String)> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let field = match missing_field(&message) {
            Some(name) if path == "." => name.to_owned(),
            Some(name) => format!("{path}.{name}"),
            None if path == "." => "body".to_owned(),
            None => path,
        };
        (field, strip_position(&message))
    })
}

/// `{scheme}://{authority}/health` for an endpoint URL.
fn default_health_url(endpoint: &str) -> Option<String> {
    let uri: http::Uri = endpoint.parse().ok()?;
    Some(format!("{}://{}/health", uri.scheme_str()?, uri.authority()?))
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> RegistryError {
    RegistryError::Invalid { field: field.into(), reason: reason.into() }
}

fn name_field(field: &str, value: &str) -> Result<(), RegistryError> {
    if value.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.len() > MAX_NAME_LEN {
        return Err(invalid(field, format!("longer than {MAX_NAME_LEN} bytes")));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(())
}

fn url_field(field: &str, value: &str) -> Result<(), RegistryError> {
    if value.len() > MAX_URL_LEN {
        return Err(invalid(field, format!("longer than {MAX_URL_LEN} bytes")));
    }
    let uri: http::Uri = value.parse().map_err(|_| invalid(field, format!("{value:?} is not a URL")))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(invalid(field, format!("{value:?} is not an http or https URL")));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid(field, format!("{value:?} has no host")));
    }
    Ok(())
}

/// The name in serde's "missing field `x`" message.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// serde_json appends " at line L column C"; the field name says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(body: &str) -> String {
        match Registration::from_json(body.as_bytes()) {
            Err(RegistryError::Invalid { field, .. }) => field,
            other => panic!("expected Invalid for {body}, got {other:?}"),
        }
    }

    const OK: &str = r#"{"server_id":"s","version":"1","server_name":"S","endpoint_url":"http://127.0.0.1:1/mcp"}"#;

    #[test]
    fn a_minimal_body_gets_defaults() {
        let reg = Registration::from_json(OK.as_bytes()).expect("valid");
        assert_eq!(reg.status, Status::Active);
        assert_eq!(reg.protocol_type, ProtocolType::Jsonrpc);
        assert!(reg.available_tools.is_empty());
        let json = serde_json::to_value(&reg).expect("serialises");
        assert_eq!(json["authentication_type"], "none");
        assert_eq!(json["protocol_type"], "jsonrpc");
    }

    #[test]
    fn the_guides_body_gets_a_derived_id_a_version_and_a_health_url() {
        let body = r#"{"server_name":"My Custom MCP Server","endpoint_url":"https://my-server.example.com/mcp","protocol_type":"graphql","authentication_type":"api_key"}"#;
        let reg = Registration::from_json(body.as_bytes()).expect("valid");
        assert_eq!(
            reg.server_id,
            Registration::derived_server_id("My Custom MCP Server", "https://my-server.example.com/mcp")
        );
        assert!(
            reg.server_id.starts_with("my-custom-mcp-server-") && reg.server_id.len() == 21 + 12,
            "{}",
            reg.server_id
        );
        assert_eq!(reg.version, DEFAULT_VERSION);
        assert_eq!(reg.protocol_type, ProtocolType::Graphql);
        assert_eq!(reg.health_check_url.as_deref(), Some("https://my-server.example.com/health"));
        assert_ne!(
            reg.server_id,
            Registration::derived_server_id("My Custom MCP Server", "https://other.example.com/mcp")
        );
        assert_eq!(Registration::derived_server_id("!!!", "https://x/mcp").split('-').next(), Some("server"));
        let given = r#"{"server_id":"x","version":"2","server_name":"S","endpoint_url":"https://s.example/mcp","health_check_url":"https://s.example/ready"}"#;
        let reg = Registration::from_json(given.as_bytes()).expect("valid");
        assert_eq!((reg.server_id.as_str(), reg.version.as_str()), ("x", "2"));
        assert_eq!(reg.health_check_url.as_deref(), Some("https://s.example/ready"));
    }

    #[test]
    fn bad_bodies_name_the_field() {
        assert_eq!(field_of(r#"{"version":"1","endpoint_url":"http://a/mcp"}"#), "server_name");
        assert_eq!(field_of(r#"{"server_id":7,"server_name":"S","endpoint_url":"http://a/mcp"}"#), "server_id");
        assert_eq!(field_of(&OK.replace(r#""version":"1""#, r#""version":1"#)), "version");
        assert_eq!(field_of(&OK.replace("http://127.0.0.1:1/mcp", "ftp://x/mcp")), "endpoint_url");
        assert_eq!(field_of(&OK.replace("http://127.0.0.1:1/mcp", "not a url")), "endpoint_url");
        let tools = OK.replace('}', r#","available_tools":[{"name":"a","inputSchema":{}},{"name":5}]}"#);
        assert_eq!(field_of(&tools), "available_tools[1].name");
        let status = OK.replace('}', r#","status":"asleep"}"#);
        assert_eq!(field_of(&status), "status");
        assert_eq!(field_of("[1]"), "body");
        assert_eq!(field_of("{"), "body");
    }
}
