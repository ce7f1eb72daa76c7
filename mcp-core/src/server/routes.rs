//! What the server serves: tools, resources, templates and prompts, in
//! registration order (lists are deterministic) with name indexes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, PoisonError};

use serde_json::value::RawValue;

use super::prompt::PromptRoute;
use super::resource::{ResourceRoute, TemplateRoute, UriVars};
use super::tool::ToolRoute;

/// FNV-1a, for the name indexes: every call looks its tool up (twice for a
/// stateless `tools/call`), and names are short, where SipHash's set-up
/// costs more than the bytes. The keys are the server's own names (behind
/// the gateway, also those of upstreams its operator configured), so a
/// client cannot fill a bucket (the reason for SipHash); it only looks up.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A name → position index.
type Index = HashMap<String, usize, BuildHasherDefault<Fnv>>;

#[derive(Clone, Default)]
pub(crate) struct Routes {
    pub(crate) tools: Vec<ToolRoute>,
    tool_index: Index,
    pub(crate) resources: Vec<ResourceRoute>,
    resource_index: Index,
    pub(crate) templates: Vec<TemplateRoute>,
    pub(crate) prompts: Vec<PromptRoute>,
    prompt_index: Index,
    /// List results already encoded.
    pub(crate) pages: PageCache,
}

/// What identifies an encoded list page: the list's cursor tag, the index
/// of its first item, and whether it carries the stateless era's fields.
pub(crate) type PageKey = (char, usize, bool);

/// Encoded list results (`tools/list` and the like), built on first
/// request and reused. Sound because a shared routes never changes: an
/// update clones it, and a clone starts with no pages.
#[derive(Default)]
pub(crate) struct PageCache(Mutex<HashMap<PageKey, Box<RawValue>>>);

impl Clone for PageCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PageCache {
    /// The page at `key`, encoding it with `encode` the first time. The
    /// lock is not held while encoding; two first requests may both encode.
    pub(crate) fn get_or_encode<E>(
        &self,
        key: PageKey,
        encode: impl FnOnce() -> Result<Box<RawValue>, E>,
    ) -> Result<Box<RawValue>, E> {
        if let Some(page) = self.0.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return Ok(page.clone());
        }
        let page = encode()?;
        self.0.lock().unwrap_or_else(PoisonError::into_inner).insert(key, page.clone());
        Ok(page)
    }
}

fn upsert<T>(items: &mut Vec<T>, index: &mut Index, key: String, item: T) {
    match index.get(&key) {
        Some(&i) => items[i] = item,
        None => {
            index.insert(key, items.len());
            items.push(item);
        }
    }
}

/// Removes `key`'s item, keeping the order of the others and their index.
fn remove<T>(items: &mut Vec<T>, index: &mut Index, key: &str) -> bool {
    let Some(i) = index.remove(key) else { return false };
    items.remove(i);
    for v in index.values_mut() {
        if *v > i {
            *v -= 1;
        }
    }
    true
}

impl Routes {
    pub(crate) fn insert_tool(&mut self, mut route: ToolRoute) {
        route.caching.revision = super::caching::next_revision();
        let key = route.tool.name.clone();
        upsert(&mut self.tools, &mut self.tool_index, key, route);
    }

    pub(crate) fn remove_tool(&mut self, name: &str) -> bool {
        remove(&mut self.tools, &mut self.tool_index, name)
    }

    pub(crate) fn remove_prompt(&mut self, name: &str) -> bool {
        remove(&mut self.prompts, &mut self.prompt_index, name)
    }

    pub(crate) fn remove_resource(&mut self, uri: &str) -> bool {
        remove(&mut self.resources, &mut self.resource_index, uri)
    }

    pub(crate) fn remove_template(&mut self, uri_template: &str) -> bool {
        let before = self.templates.len();
        self.templates.retain(|t| t.template.uri_template != uri_template);
        self.templates.len() != before
    }

    pub(crate) fn tool(&self, name: &str) -> Option<&ToolRoute> {
        self.tool_index.get(name).map(|&i| &self.tools[i])
    }

    pub(crate) fn insert_prompt(&mut self, route: PromptRoute) {
        let key = route.prompt.name.clone();
        upsert(&mut self.prompts, &mut self.prompt_index, key, route);
    }

    pub(crate) fn prompt(&self, name: &str) -> Option<&PromptRoute> {
        self.prompt_index.get(name).map(|&i| &self.prompts[i])
    }

    pub(crate) fn insert_resource(&mut self, route: ResourceRoute) {
        let key = route.resource.uri.clone();
        upsert(&mut self.resources, &mut self.resource_index, key, route);
    }

    pub(crate) fn insert_template(&mut self, route: TemplateRoute) {
        match self.templates.iter_mut().find(|t| t.template.uri_template == route.template.uri_template) {
            Some(existing) => *existing = route,
            None => self.templates.push(route),
        }
    }

    pub(crate) fn has_prompt_name(&self, name: &str) -> bool {
        self.prompt_index.contains_key(name)
    }

    /// The static resource at `uri`, else the first template matching it.
    pub(crate) fn resolve(&self, uri: &str) -> Option<(ResolvedResource<'_>, UriVars)> {
        if let Some(&i) = self.resource_index.get(uri) {
            return Some((ResolvedResource::Static(&self.resources[i]), UriVars::new()));
        }
        self.templates.iter().find_map(|t| {
            let vars = t.matcher.as_ref().ok()?.matches(uri)?;
            Some((ResolvedResource::Template(t), vars))
        })
    }
}

pub(crate) enum ResolvedResource<'a> {
    Static(&'a ResourceRoute),
    Template(&'a TemplateRoute),
}
