//! The MCP request headers of the stateless era (`MCP-Protocol-Version`,
//! `Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`) and their check against the
//! body.
//!
//! The Streamable HTTP transport (and so the Lambda adapters) marks a
//! stateless request with [`CheckMcpHeaders`] beside its
//! [`http::HeaderMap`] in
//! [`ServerRequest::extensions`](super::ServerRequest::extensions); other
//! transports may put a parsed [`McpHeaders`] there instead. The dispatcher
//! then checks the headers at the point the specification orders: after the
//! `_meta` fields are found present, before the version is judged
//! supported. A mismatch is -32020 (HTTP 400). Transports without headers
//! (stdio) insert nothing and nothing is checked.
//!
//! The header map is read in place: a request's MCP headers cost no copy.

use std::borrow::Cow;

use base64::Engine as _;
use serde_json::Value;
use serde_json::value::RawValue;

use super::arguments::{HeaderParam, SchemaFacts};
use super::head::{RequestHead, Target};
use super::routes::Routes;
use crate::error::Error;
use crate::protocol::methods;

/// The MCP headers of one HTTP request, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct McpHeaders {
    /// `MCP-Protocol-Version`.
    pub protocol_version: Option<String>,
    /// `Mcp-Method`.
    pub method: Option<String>,
    /// `Mcp-Name`.
    pub name: Option<String>,
    /// `Mcp-Param-<Name>` headers: the lower-cased `<Name>` and the value.
    pub params: Vec<(String, String)>,
}

/// Marks a request whose [`http::HeaderMap`] (in the same extensions)
/// carries MCP headers the dispatcher must check against the body: the
/// stateless era's requests over HTTP. Costs no allocation; the headers are
/// read where they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckMcpHeaders;

/// Where a request's MCP headers are read from: a parsed [`McpHeaders`],
/// or the HTTP header map itself.
#[derive(Clone, Copy)]
pub(crate) enum HeaderSource<'a> {
    Parsed(&'a McpHeaders),
    Http(&'a http::HeaderMap),
}

impl<'a> HeaderSource<'a> {
    /// The headers to check for a request with these extensions, if any.
    pub(crate) fn of(extensions: &'a http::Extensions) -> Option<Self> {
        if let Some(parsed) = extensions.get::<McpHeaders>() {
            return Some(Self::Parsed(parsed));
        }
        extensions.get::<CheckMcpHeaders>()?;
        extensions.get::<http::HeaderMap>().map(Self::Http)
    }

    fn one(
        self,
        name: &http::HeaderName,
        parsed: impl FnOnce(&'a McpHeaders) -> Option<&'a str>,
    ) -> Option<Cow<'a, str>> {
        match self {
            Self::Parsed(h) => parsed(h).map(Cow::Borrowed),
            Self::Http(map) => map.get(name).map(text),
        }
    }

    /// `MCP-Protocol-Version`.
    pub(crate) fn protocol_version(self) -> Option<Cow<'a, str>> {
        self.one(&typed::PROTOCOL_VERSION, |h| h.protocol_version.as_deref())
    }

    /// `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name`: from a header
    /// map in one walk (a lookup hashes the name byte by byte, and a
    /// request carries only a handful of headers), the first of each.
    fn version_method_name(self) -> [Option<Cow<'a, str>>; 3] {
        match self {
            Self::Parsed(h) => [&h.protocol_version, &h.method, &h.name].map(|v| v.as_deref().map(Cow::Borrowed)),
            Self::Http(map) => {
                let [mut version, mut method, mut name] = [None, None, None];
                for (k, v) in map {
                    let slot = if k == typed::PROTOCOL_VERSION {
                        &mut version
                    } else if k == typed::METHOD {
                        &mut method
                    } else if k == typed::NAME {
                        &mut name
                    } else {
                        continue;
                    };
                    if slot.is_none() {
                        *slot = Some(text(v));
                    }
                }
                [version, method, name]
            }
        }
    }

    /// `Mcp-Param-<lower>`, `lower` being lower-case.
    fn param(self, lower: &str) -> Option<Cow<'a, str>> {
        match self {
            Self::Parsed(h) => h.params.iter().find(|(k, _)| k == lower).map(|(_, v)| Cow::Borrowed(v.as_str())),
            Self::Http(map) => map
                .iter()
                .find(|(k, _)| k.as_str().strip_prefix(names::PARAM_PREFIX) == Some(lower))
                .map(|(_, v)| text(v)),
        }
    }
}

/// A header's text, trimmed. A value that is not visible ASCII is kept
/// lossily, so that it fails the comparison with the body rather than
/// vanishing.
fn text(v: &http::HeaderValue) -> Cow<'_, str> {
    match v.to_str() {
        // Visible ASCII only (`to_str`): an ASCII trim is the whole trim.
        Ok(s) => Cow::Borrowed(s.trim_ascii()),
        Err(_) => Cow::Owned(String::from_utf8_lossy(v.as_bytes()).trim().to_owned()),
    }
}

/// The header names, lower-cased as HTTP/2 and `http` spell them.
pub mod names {
    /// `MCP-Protocol-Version`.
    pub const PROTOCOL_VERSION: &str = "mcp-protocol-version";
    /// `Mcp-Method`.
    pub const METHOD: &str = "mcp-method";
    /// `Mcp-Name`.
    pub const NAME: &str = "mcp-name";
    /// The prefix of `Mcp-Param-*`.
    pub const PARAM_PREFIX: &str = "mcp-param-";
    /// `Mcp-Session-Id`.
    pub const SESSION_ID: &str = "mcp-session-id";
    /// `Last-Event-ID`.
    pub const LAST_EVENT_ID: &str = "last-event-id";
}

/// The names [`McpHeaders`] and the HTTP transport look up, as
/// `HeaderName`s: a lookup by `&str` parses the name every time.
pub(crate) mod typed {
    use http::HeaderName;

    pub(crate) const PROTOCOL_VERSION: HeaderName = HeaderName::from_static(super::names::PROTOCOL_VERSION);
    pub(crate) const METHOD: HeaderName = HeaderName::from_static(super::names::METHOD);
    pub(crate) const NAME: HeaderName = HeaderName::from_static(super::names::NAME);
    #[cfg(feature = "http")]
    pub(crate) const SESSION_ID: HeaderName = HeaderName::from_static(super::names::SESSION_ID);
}

impl McpHeaders {
    /// The `MCP-Protocol-Version` header of a stateless request, from the
    /// request's extensions: a parsed [`McpHeaders`], or the header map a
    /// transport marked with [`CheckMcpHeaders`]. `None` for other
    /// requests.
    ///
    /// ```
    /// use mcp_core::server::{CheckMcpHeaders, McpHeaders};
    ///
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("mcp-protocol-version", http::HeaderValue::from_static("2026-07-28"));
    /// let mut extensions = http::Extensions::new();
    /// extensions.insert(headers);
    /// assert_eq!(McpHeaders::protocol_version_in(&extensions), None, "not marked");
    /// extensions.insert(CheckMcpHeaders);
    /// assert_eq!(McpHeaders::protocol_version_in(&extensions).as_deref(), Some("2026-07-28"));
    /// ```
    pub fn protocol_version_in(extensions: &http::Extensions) -> Option<Cow<'_, str>> {
        HeaderSource::of(extensions)?.protocol_version()
    }

    /// Reads the MCP headers from an HTTP header map. A value that is not
    /// visible ASCII is kept lossily, so that it fails the comparison with
    /// the body rather than vanishing.
    pub fn from_headers(headers: &http::HeaderMap) -> Self {
        let text = |v: &http::HeaderValue| text(v).into_owned();
        let mut out = Self {
            protocol_version: headers.get(typed::PROTOCOL_VERSION).map(text),
            method: headers.get(typed::METHOD).map(text),
            name: headers.get(typed::NAME).map(text),
            params: Vec::new(),
        };
        for (k, v) in headers {
            if let Some(param) = k.as_str().strip_prefix(names::PARAM_PREFIX) {
                out.params.push((param.to_owned(), text(v)));
            }
        }
        out
    }
}

impl HeaderSource<'_> {
    /// Checks the headers against the body of a stateless request whose
    /// `_meta` protocol version is `meta_version`.
    ///
    /// # Errors
    /// [`Error::HeaderMismatch`] naming the header and both values.
    pub(crate) fn check(
        self,
        meta_version: &str,
        method: &str,
        head: &RequestHead,
        routes: &Routes,
    ) -> Result<(), Error> {
        let [version, sent_method, name] = self.version_method_name();
        match version {
            None => return Err(Error::HeaderMismatch("missing `MCP-Protocol-Version` header".into())),
            Some(v) if v != meta_version => {
                return Err(Error::HeaderMismatch(format!(
                    "`MCP-Protocol-Version` header is {v:?} but `_meta` says {meta_version:?}"
                )));
            }
            Some(_) => {}
        }
        match sent_method {
            None => return Err(Error::HeaderMismatch(format!("missing `Mcp-Method` header (expected {method:?})"))),
            Some(m) if m != method => {
                return Err(Error::HeaderMismatch(format!(
                    "`Mcp-Method` header is {m:?} but the body's method is {method:?}"
                )));
            }
            Some(_) => {}
        }
        let field = match method {
            methods::TOOLS_CALL | methods::PROMPTS_GET => "name",
            methods::RESOURCES_READ => "uri",
            methods::TASKS_GET | methods::TASKS_UPDATE | methods::TASKS_CANCEL => "taskId",
            _ => return Ok(()),
        };
        let Some(body_name) = head.target().map(Target::as_str) else {
            // The dispatcher reports the missing field itself.
            return Ok(());
        };
        match name {
            None => {
                return Err(Error::HeaderMismatch(format!(
                    "missing `Mcp-Name` header (expected {body_name:?}, the `{field}` of the body)"
                )));
            }
            Some(n) if n != body_name => {
                return Err(Error::HeaderMismatch(format!(
                    "`Mcp-Name` header is {n:?} but the body's `{field}` is {body_name:?}"
                )));
            }
            Some(_) => {}
        }
        if method == methods::TOOLS_CALL
            && let Some(route) = routes.tool(body_name)
        {
            self.check_params(&route.facts, head.arguments())?;
        }
        Ok(())
    }

    /// Checks `Mcp-Param-*` against the arguments marked `x-mcp-header` in
    /// the tool's input schema.
    fn check_params(self, facts: &SchemaFacts, arguments: Option<&RawValue>) -> Result<(), Error> {
        if facts.header_params.is_empty() {
            return Ok(());
        }
        let args: serde_json::Map<String, Value> =
            arguments.and_then(|a| serde_json::from_str(a.get()).ok()).unwrap_or_default();
        for HeaderParam { argument: prop, header, lower } in &facts.header_params {
            let sent = self.param(lower);
            let expected = args.get(prop).map(|v| match v {
                Value::String(s) => Cow::Borrowed(s.as_str()),
                other => Cow::Owned(other.to_string()),
            });
            match (sent, expected) {
                (None, None) => {}
                (None, Some(_)) => {
                    return Err(Error::HeaderMismatch(format!(
                        "missing `Mcp-Param-{header}` header for argument `{prop}`"
                    )));
                }
                (Some(_), None) => {
                    return Err(Error::HeaderMismatch(format!(
                        "`Mcp-Param-{header}` header sent but argument `{prop}` is absent"
                    )));
                }
                (Some(raw), Some(expected)) => {
                    let decoded = decode_param(&raw).ok_or_else(|| {
                        Error::HeaderMismatch(format!("`Mcp-Param-{header}` header is not valid base64: {raw:?}"))
                    })?;
                    if decoded != expected {
                        return Err(Error::HeaderMismatch(format!(
                            "`Mcp-Param-{header}` header is {decoded:?} but argument `{prop}` is {expected:?}"
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Decodes an `Mcp-Param-*` value: `=?base64?<padded base64>?=` carries
/// UTF-8 in base64 (strictly padded); anything else is the literal value.
/// `None` when the base64 form is malformed.
fn decode_param(raw: &str) -> Option<Cow<'_, str>> {
    let Some(b64) = raw.strip_prefix("=?base64?").and_then(|r| r.strip_suffix("?=")) else {
        return Some(Cow::Borrowed(raw));
    };
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    String::from_utf8(bytes).ok().map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_values_decode_like_the_spec_says() {
        assert_eq!(decode_param("=?base64?SGVsbG8=?=").as_deref(), Some("Hello"));
        assert_eq!(decode_param("=?base64?SGVsbG8?="), None, "unpadded base64 is rejected");
        assert_eq!(decode_param("=?base64?SGVs!!!bG8=?="), None);
        assert_eq!(decode_param("SGVsbG8=").as_deref(), Some("SGVsbG8="));
        assert_eq!(decode_param("=?base64?SGVsbG8=").as_deref(), Some("=?base64?SGVsbG8="), "unterminated is literal");
    }

    #[test]
    fn headers_are_read_case_insensitively_and_trimmed() {
        let mut h = http::HeaderMap::new();
        h.insert("MCP-Protocol-Version", http::HeaderValue::from_static("2026-07-28"));
        h.insert("Mcp-Name", http::HeaderValue::from_static("  add "));
        h.insert("Mcp-Param-Region", http::HeaderValue::from_static("eu"));
        let m = McpHeaders::from_headers(&h);
        assert_eq!(m.protocol_version.as_deref(), Some("2026-07-28"));
        assert_eq!(m.name.as_deref(), Some("add"));
        assert_eq!(m.params, vec![("region".to_owned(), "eu".to_owned())]);
    }

    #[test]
    fn a_marked_header_map_is_read_in_place() {
        let mut h = http::HeaderMap::new();
        h.insert("MCP-Protocol-Version", http::HeaderValue::from_static("2026-07-28"));
        h.insert("Mcp-Method", http::HeaderValue::from_static("tools/call"));
        h.insert("Mcp-Param-Region", http::HeaderValue::from_static(" eu "));
        h.insert("Mcp-Name", http::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap());
        let mut ext = http::Extensions::new();
        ext.insert(h);
        assert!(HeaderSource::of(&ext).is_none(), "an unmarked map is not checked");
        ext.insert(CheckMcpHeaders);
        let source = HeaderSource::of(&ext).unwrap();
        assert!(matches!(source.protocol_version(), Some(Cow::Borrowed("2026-07-28"))));
        let [version, method, name] = source.version_method_name();
        assert!(matches!(version, Some(Cow::Borrowed("2026-07-28"))));
        assert_eq!(method.as_deref(), Some("tools/call"));
        assert_eq!(source.param("region").as_deref(), Some("eu"));
        assert_eq!(source.param("zone"), None);
        // Not visible ASCII: read as UTF-8 (lossily), into a copy.
        assert!(matches!(name, Some(Cow::Owned(n)) if n == "café"));
        // The first of repeated headers, as `HeaderMap::get` reads it.
        let mut twice = ext.get::<http::HeaderMap>().unwrap().clone();
        twice.append("Mcp-Method", http::HeaderValue::from_static("prompts/get"));
        let [_, method, _] = HeaderSource::Http(&twice).version_method_name();
        assert_eq!(method.as_deref(), Some("tools/call"));
        // A parsed `McpHeaders` wins over the map.
        ext.insert(McpHeaders { method: Some("prompts/get".into()), ..McpHeaders::default() });
        let [version, method, name] = HeaderSource::of(&ext).unwrap().version_method_name();
        assert_eq!((version, method.as_deref(), name), (None, Some("prompts/get"), None));
    }
}
