//! Resources: static ones ([`ResourceRoute`]) and RFC 6570 templates
//! ([`TemplateRoute`]), with the [`UriTemplate`] matcher.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use serde::Serialize;

use super::Context;
use super::extract::RequiredState;
use super::tool::{BoxFuture, Json};
use crate::error::Error;
use crate::protocol::resources::{ReadResourceResult, Resource, ResourceContents, ResourceTemplate};

/// Conversion of what a resource handler returns into a
/// `ReadResourceResult`: contents pass through, a string becomes text
/// contents at the URI read, [`Json<T>`] becomes `application/json` text, and
/// a `Result`'s `Err` becomes a JSON-RPC error (an [`Error`] as it is, such as
/// [`Error::ResourceNotFound`]; anything else as an internal error with the
/// error's message).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned by a resource",
    label = "not a resource result",
    note = "return a `String`, `Json<T>`, `ResourceContents`, `Vec<ResourceContents>`, a `ReadResourceResult`, \
            or a `Result<_, E>` of one of these with `E: Display`"
)]
pub trait IntoReadResult {
    /// Converts the value; `uri` is the URI that was read.
    ///
    /// # Errors
    /// The error to answer `resources/read` with.
    fn into_read_result(self, uri: &str) -> Result<ReadResourceResult, Error>;
}

impl IntoReadResult for ReadResourceResult {
    fn into_read_result(self, _uri: &str) -> Result<ReadResourceResult, Error> {
        Ok(self)
    }
}

impl IntoReadResult for Vec<ResourceContents> {
    fn into_read_result(self, _uri: &str) -> Result<ReadResourceResult, Error> {
        Ok(ReadResourceResult::new(self))
    }
}

impl IntoReadResult for ResourceContents {
    fn into_read_result(self, _uri: &str) -> Result<ReadResourceResult, Error> {
        Ok(ReadResourceResult::new(vec![self]))
    }
}

impl IntoReadResult for String {
    fn into_read_result(self, uri: &str) -> Result<ReadResourceResult, Error> {
        Ok(ReadResourceResult::new(vec![ResourceContents::text(uri, None, self)]))
    }
}

impl IntoReadResult for &'static str {
    fn into_read_result(self, uri: &str) -> Result<ReadResourceResult, Error> {
        self.to_owned().into_read_result(uri)
    }
}

impl<T: Serialize> IntoReadResult for Json<T> {
    fn into_read_result(self, uri: &str) -> Result<ReadResourceResult, Error> {
        let text = serde_json::to_string(&self.0).map_err(|e| Error::internal(format!("resource `{uri}`: {e}")))?;
        Ok(ReadResourceResult::new(vec![ResourceContents::text(uri, Some("application/json".into()), text)]))
    }
}

impl<T: IntoReadResult, E: fmt::Display + 'static> IntoReadResult for Result<T, E> {
    fn into_read_result(self, uri: &str) -> Result<ReadResourceResult, Error> {
        self.map_err(Error::from_display).and_then(|v| v.into_read_result(uri))
    }
}

type ReadFuture = BoxFuture<Result<ReadResourceResult, Error>>;
type ReadFn = dyn Fn(Context, String, UriVars) -> ReadFuture + Send + Sync;

fn erase<F, Fut>(f: F) -> Arc<ReadFn>
where
    F: Fn(Context, String, UriVars) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoReadResult,
{
    Arc::new(move |ctx, uri, vars| {
        let fut = f(ctx, uri.clone(), vars);
        Box::pin(async move { fut.await.into_read_result(&uri) })
    })
}

/// A resource at a fixed URI, with the handler that reads it.
#[derive(Clone)]
pub struct ResourceRoute {
    pub(crate) resource: Resource,
    pub(crate) read: Arc<ReadFn>,
    /// What [`Self::extracts`] recorded.
    pub(crate) required_state: Vec<RequiredState>,
}

impl fmt::Debug for ResourceRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceRoute").field("resource", &self.resource).finish_non_exhaustive()
    }
}

impl ResourceRoute {
    /// A resource `uri` named `name`, read by `f(ctx, uri)`.
    pub fn new<F, Fut>(uri: impl Into<String>, name: impl Into<String>, f: F) -> Self
    where
        F: Fn(Context, String) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoReadResult,
    {
        Self {
            resource: Resource::new(uri, name),
            read: erase(move |ctx, uri, _| f(ctx, uri)),
            required_state: Vec::new(),
        }
    }

    /// Edits the wire description (description, MIME type, annotations...).
    #[must_use]
    pub fn with(mut self, f: impl FnOnce(Resource) -> Resource) -> Self {
        self.resource = f(self.resource);
        self
    }

    /// The wire description.
    pub fn resource(&self) -> &Resource {
        &self.resource
    }
}

/// A family of resources described by an RFC 6570 URI template.
#[derive(Clone)]
pub struct TemplateRoute {
    pub(crate) template: ResourceTemplate,
    pub(crate) matcher: Result<UriTemplate, String>,
    pub(crate) read: Arc<ReadFn>,
    /// What [`Self::extracts`] recorded.
    pub(crate) required_state: Vec<RequiredState>,
}

impl fmt::Debug for TemplateRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemplateRoute").field("template", &self.template).finish_non_exhaustive()
    }
}

impl TemplateRoute {
    /// A template such as `"file:///logs/{date}"`, read by
    /// `f(ctx, uri, variables)`. A malformed template is reported by
    /// [`ServerBuilder::build`](super::ServerBuilder::build).
    pub fn new<F, Fut>(uri_template: impl Into<String>, name: impl Into<String>, f: F) -> Self
    where
        F: Fn(Context, String, UriVars) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoReadResult,
    {
        let uri_template = uri_template.into();
        let matcher = UriTemplate::parse(&uri_template);
        Self {
            template: ResourceTemplate::new(uri_template, name),
            matcher,
            read: erase(f),
            required_state: Vec::new(),
        }
    }

    /// Edits the wire description.
    #[must_use]
    pub fn with(mut self, f: impl FnOnce(ResourceTemplate) -> ResourceTemplate) -> Self {
        self.template = f(self.template);
        self
    }

    /// The wire description.
    pub fn template(&self) -> &ResourceTemplate {
        &self.template
    }
}

/// The variables a URI matched in a template, percent-decoded.
pub type UriVars = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    /// A variable: `{name}` stops at `/`, `?` and `#`; `{+name}` matches
    /// anything.
    Var {
        name: String,
        reserved: bool,
    },
    /// `{?a,b}`: query parameters, all optional.
    Query(Vec<String>),
}

/// An RFC 6570 URI template, parsed for matching: simple (`{var}`), reserved
/// (`{+var}`) and query (`{?a,b}`) expressions.
#[derive(Debug, Clone, PartialEq)]
pub struct UriTemplate {
    parts: Vec<Part>,
}

impl UriTemplate {
    /// Parses a template.
    ///
    /// # Errors
    /// A message naming the unsupported or malformed expression.
    pub fn parse(template: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let close =
                rest[open..].find('}').ok_or_else(|| format!("unclosed `{{` in URI template `{template}`"))? + open;
            let expr = &rest[open + 1..close];
            let (op, names) = match expr.chars().next() {
                Some(c @ ('+' | '?')) => (Some(c), &expr[1..]),
                Some(c) if c.is_ascii_alphanumeric() || c == '_' => (None, expr),
                _ => return Err(format!("unsupported expression `{{{expr}}}` in URI template `{template}`")),
            };
            let names: Vec<String> = names.split(',').map(str::to_owned).collect();
            if names.iter().any(|n| n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
                return Err(format!("bad variable name in `{{{expr}}}` in URI template `{template}`"));
            }
            match op {
                Some('?') => parts.push(Part::Query(names)),
                _ if names.len() == 1 => {
                    let name = names.into_iter().next().unwrap_or_default();
                    if matches!(parts.last(), Some(Part::Var { .. })) {
                        return Err(format!("adjacent variables in URI template `{template}` cannot be matched"));
                    }
                    parts.push(Part::Var { name, reserved: op == Some('+') });
                }
                _ => {
                    return Err(format!(
                        "multi-variable expression `{{{expr}}}` in URI template `{template}` is not supported"
                    ));
                }
            }
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    /// The variables of `uri` if it matches.
    pub fn matches(&self, uri: &str) -> Option<UriVars> {
        let mut vars = UriVars::new();
        match_parts(&self.parts, uri, &mut vars).then_some(vars)
    }
}

fn match_parts(parts: &[Part], uri: &str, vars: &mut UriVars) -> bool {
    let Some((first, rest)) = parts.split_first() else { return uri.is_empty() };
    match first {
        Part::Literal(lit) => uri.strip_prefix(lit.as_str()).is_some_and(|u| match_parts(rest, u, vars)),
        Part::Query(names) => {
            let Some(query) = uri.strip_prefix('?') else {
                return rest.is_empty() && uri.is_empty() || match_parts(rest, uri, vars);
            };
            let (query, tail) = query.split_once('#').map_or((query, ""), |(q, t)| (q, t));
            for pair in query.split('&') {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                if names.iter().any(|n| n == k) {
                    vars.insert(k.to_owned(), percent_decode(v));
                }
            }
            match_parts(rest, tail, vars)
        }
        Part::Var { name, reserved } => {
            // Try every split point, shortest first, so a following literal
            // anchors the match.
            for (end, ch) in uri.char_indices().chain(std::iter::once((uri.len(), '\0'))) {
                if end > 0 {
                    let mut trial = vars.clone();
                    trial.insert(name.clone(), percent_decode(&uri[..end]));
                    if match_parts(rest, &uri[end..], &mut trial) {
                        *vars = trial;
                        return true;
                    }
                }
                if !reserved && matches!(ch, '/' | '?' | '#') {
                    break;
                }
            }
            false
        }
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// `%XX` sequences decoded (invalid ones kept as they are), the bytes read
/// as UTF-8 (lossily). Also the REST façade's path decoding.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(t: &str, uri: &str) -> Option<Vec<(String, String)>> {
        UriTemplate::parse(t).unwrap().matches(uri).map(|v| v.into_iter().collect())
    }

    #[test]
    fn simple_and_reserved() {
        assert_eq!(m("test://template/{id}/data", "test://template/123/data"), Some(vec![("id".into(), "123".into())]));
        assert_eq!(m("test://template/{id}/data", "test://template/1/2/data"), None);
        assert_eq!(m("file:///{+path}", "file:///a/b/c.txt"), Some(vec![("path".into(), "a/b/c.txt".into())]));
        assert_eq!(m("x://{a}", "x://hello%20world"), Some(vec![("a".into(), "hello world".into())]));
        assert_eq!(m("x://{a}", "x://"), None);
        assert_eq!(m("x://s{?q,n}", "x://s?q=rust&n=2").map(|v| v.len()), Some(2));
    }

    #[test]
    fn rejects_bad_templates() {
        assert!(UriTemplate::parse("x://{a").is_err());
        assert!(UriTemplate::parse("x://{a}{b}").is_err());
        assert!(UriTemplate::parse("x://{#a}").is_err());
    }
}
