//! `tools/list`, `resources/list`, `resources/templates/list` and
//! `prompts/list`: pages served from the routes, and opaque cursors.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::params::PageParams;
use super::{Reply, Server, parse_params, raw};
use crate::error::Error;
use crate::protocol::{CacheScope, ProtocolVersion, ResultType};

/// A list result serialised straight from the routes, without cloning.
struct Page<'a, T> {
    key: &'static str,
    items: &'a [T],
    next_cursor: Option<String>,
    stateless: Option<(&'a Value, u64, CacheScope)>,
}

impl<T: Serialize> Serialize for Page<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(self.key, self.items)?;
        if let Some(c) = &self.next_cursor {
            map.serialize_entry("nextCursor", c)?;
        }
        if let Some((meta, ttl, scope)) = self.stateless {
            map.serialize_entry("resultType", &ResultType::Complete)?;
            map.serialize_entry("ttlMs", &ttl)?;
            map.serialize_entry("cacheScope", &scope)?;
            map.serialize_entry("_meta", meta)?;
        }
        map.end()
    }
}

impl Server {
    pub(super) fn list(
        &self,
        method: &str,
        params: Option<&RawValue>,
        version: ProtocolVersion,
        kind: ListKind,
    ) -> Result<Reply, Error> {
        let p: PageParams = parse_params(method, params)?;
        let reg = self.routes();
        let start = match &p.cursor {
            None => 0,
            Some(c) => cursor::decode(c, kind.tag())
                .ok_or_else(|| Error::invalid_params(format!("`{method}`: invalid cursor {c:?}")))?,
        };
        let (ttl, scope) = self.shared.list_cache;
        let stateless = version.has_result_type().then_some((&self.shared.server_info_meta, ttl, scope));
        let page = self.shared.page_size;
        let len = match kind {
            ListKind::Tools => reg.tools.len(),
            ListKind::Resources => reg.resources.len(),
            ListKind::Templates => reg.templates.len(),
            ListKind::Prompts => reg.prompts.len(),
        };
        let start = start.min(len);
        let end = (start + page).min(len);
        let next_cursor = (end < len).then(|| cursor::encode(end, kind.tag()));
        macro_rules! page {
            ($items:expr, $key:literal, $field:ident) => {{
                let items: Vec<_> = $items[start..end].iter().map(|r| &r.$field).collect();
                raw(&Page { key: $key, items: &items, next_cursor, stateless })
            }};
        }
        let encode = || match kind {
            ListKind::Tools => page!(reg.tools, "tools", tool),
            ListKind::Resources => page!(reg.resources, "resources", resource),
            ListKind::Templates => page!(reg.templates, "resourceTemplates", template),
            ListKind::Prompts => page!(reg.prompts, "prompts", prompt),
        };
        // The routes keeps encoded pages. Only pages that start where this
        // server's cursors point (multiples of the page size) are kept, so
        // their number stays bounded whatever cursors clients make up.
        let out = if start % page == 0 {
            reg.pages.get_or_encode((kind.tag(), start, stateless.is_some()), encode)
        } else {
            encode()
        };
        out.map(Reply::Result)
    }
}

#[derive(Clone, Copy)]
pub(super) enum ListKind {
    Tools,
    Resources,
    Templates,
    Prompts,
}

impl ListKind {
    fn tag(self) -> char {
        match self {
            Self::Tools => 't',
            Self::Resources => 'r',
            Self::Templates => 'u',
            Self::Prompts => 'p',
        }
    }
}

/// Opaque pagination cursors: the list kind and an offset, base64url.
mod cursor {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    pub(super) fn encode(offset: usize, tag: char) -> String {
        B64.encode(format!("{tag}{offset}"))
    }

    pub(super) fn decode(cursor: &str, tag: char) -> Option<usize> {
        let bytes = B64.decode(cursor).ok()?;
        let text = std::str::from_utf8(&bytes).ok()?;
        text.strip_prefix(tag)?.parse().ok()
    }
}
