//! [`Requirements`]: what a caller needs to call a tool, get a prompt or
//! read a resource, checked by the auth layer after authentication.
//!
//! A requirement is a string the [`Principal`] must
//! [satisfy](Principal::satisfies): an OAuth scope it was granted, or an
//! `action:resource` permission one of its permissions grants (`*`
//! wildcards, `*:*` grants all). A target with several requirements needs
//! all of them.

use std::collections::HashMap;

use mcp_core::jsonrpc::Response;
use mcp_core::server::{Principal, RequestHead, Server, Target};
use serde_json::Value;

use super::error::AuthError;

/// Per-tool, per-prompt and per-resource requirements.
///
/// ```
/// use mcp_aws::auth::Requirements;
///
/// let needs = Requirements::new()
///     .tool("delete_report", ["delete:reports"])
///     .tool("run_agent", ["execute:agents", "mcp/tools"]);
/// # let _ = needs;
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Requirements {
    tools: HashMap<String, Vec<String>>,
    prompts: HashMap<String, Vec<String>>,
    resources: HashMap<String, Vec<String>>,
    /// Where the tools' own requirements (`#[tool(requires = [..])]`,
    /// `ToolRoute::requires`) are read, live.
    server: Option<Server>,
}

fn strings<I: IntoIterator<Item = T>, T: Into<String>>(items: I) -> Vec<String> {
    items.into_iter().map(Into::into).collect()
}

impl Requirements {
    /// No requirements: any authenticated caller may do anything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Calling tool `name` needs all of `requirements`.
    pub fn tool<I: IntoIterator<Item = T>, T: Into<String>>(
        mut self,
        name: impl Into<String>,
        requirements: I,
    ) -> Self {
        self.tools.insert(name.into(), strings(requirements));
        self
    }

    /// Getting prompt `name` needs all of `requirements`.
    pub fn prompt<I: IntoIterator<Item = T>, T: Into<String>>(
        mut self,
        name: impl Into<String>,
        requirements: I,
    ) -> Self {
        self.prompts.insert(name.into(), strings(requirements));
        self
    }

    /// Reading the resource at `uri` needs all of `requirements`.
    pub fn resource<I: IntoIterator<Item = T>, T: Into<String>>(
        mut self,
        uri: impl Into<String>,
        requirements: I,
    ) -> Self {
        self.resources.insert(uri.into(), strings(requirements));
        self
    }

    /// Also the requirements `server`'s tools declare themselves
    /// (`#[tool(requires = [..])]`), read at each request, so tools added
    /// at run time are covered. `mcp_aws::run` does this for the
    /// environment's auth settings.
    ///
    /// ```
    /// use mcp_aws::auth::Requirements;
    /// use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
    ///
    /// let server = ServerBuilder::new("s", "1")
    ///     .tool(ToolRoute::new("drop_tables", |_ctx: Context, _: NoArgs| async { "dropped" }).requires(["admin:db"]))
    ///     .build()
    ///     .unwrap();
    /// let needs = Requirements::new().of_server(&server);
    /// assert!(!needs.is_empty());
    /// ```
    pub fn of_server(mut self, server: &Server) -> Self {
        self.server = Some(server.clone());
        self
    }

    /// Whether no target has requirements.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
            && self.prompts.is_empty()
            && self.resources.is_empty()
            && !self.server.as_ref().is_some_and(Server::has_tool_requirements)
    }

    /// What the request's target needs (nothing for requests without one):
    /// this map's entry and, for a tool, what the tool declares itself.
    pub fn of(&self, head: &RequestHead) -> Vec<String> {
        match head.target() {
            Some(Target::Tool(name)) => self.of_tool(name),
            Some(Target::Prompt(name)) => self.prompts.get(&**name).cloned().unwrap_or_default(),
            Some(Target::Resource(uri)) => self.resources.get(&**uri).cloned().unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn of_tool(&self, name: &str) -> Vec<String> {
        let mut needs = self.tools.get(name).cloned().unwrap_or_default();
        if let Some(own) = self.server.as_ref().and_then(|s| s.tool_requirements(name)) {
            needs.extend(own.iter().cloned());
        }
        needs
    }

    /// Whether `principal` may call tool `name`.
    pub fn allows_tool(&self, principal: &Principal, name: &str) -> bool {
        let mapped = self.tools.get(name).is_none_or(|needs| needs.iter().all(|n| principal.satisfies(n)));
        mapped
            && self
                .server
                .as_ref()
                .and_then(|s| s.tool_requirements(name))
                .is_none_or(|needs| needs.iter().all(|n| principal.satisfies(n)))
    }

    /// Whether some tool has requirements (so `tools/list` is filtered).
    pub(super) fn has_tool_requirements(&self) -> bool {
        !self.tools.is_empty() || self.server.as_ref().is_some_and(Server::has_tool_requirements)
    }

    /// `resp`, a `tools/list` result, without the tools `principal` may not
    /// call. Anything that does not read as a tool list is left as it is.
    pub(super) fn filter_tool_list(&self, principal: &Principal, mut resp: Response) -> Response {
        let Ok(raw) = &resp.payload else { return resp };
        let Ok(mut result) = serde_json::from_str::<Value>(raw.get()) else { return resp };
        let Some(tools) = result.get_mut("tools").and_then(Value::as_array_mut) else { return resp };
        let before = tools.len();
        tools.retain(|t| t.get("name").and_then(Value::as_str).is_none_or(|name| self.allows_tool(principal, name)));
        let removed = tools.len() != before;
        // The list now depends on the caller: a 2026-07-28 cache hint must
        // not let a shared cache serve it to another.
        let shared = result.get("cacheScope").is_some_and(|s| s != "private");
        if shared {
            result["cacheScope"] = Value::from("private");
        }
        if (removed || shared)
            && let Ok(raw) = serde_json::value::to_raw_value(&result)
        {
            resp.payload = Ok(raw);
        }
        resp
    }

    /// Checks the request's target against `principal`.
    ///
    /// # Errors
    /// [`AuthError::InsufficientScope`] naming what the target needs.
    pub fn check(&self, principal: &Principal, head: &RequestHead) -> Result<(), AuthError> {
        // Borrowed, not collected: this runs on every call.
        let none: &[String] = &[];
        let (mapped, own) = match head.target() {
            Some(Target::Tool(name)) => (
                self.tools.get(&**name).map_or(none, Vec::as_slice),
                self.server.as_ref().and_then(|s| s.tool_requirements(name)),
            ),
            Some(Target::Prompt(name)) => (self.prompts.get(&**name).map_or(none, Vec::as_slice), None),
            Some(Target::Resource(uri)) => (self.resources.get(&**uri).map_or(none, Vec::as_slice), None),
            _ => return Ok(()),
        };
        let own = own.as_deref().unwrap_or(none);
        if mapped.iter().chain(own).all(|n| principal.satisfies(n)) {
            Ok(())
        } else {
            Err(AuthError::InsufficientScope(self.of(head).join(" ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(perms: &[&str]) -> Principal {
        Principal::new("u").with_permissions(perms.iter().copied())
    }

    #[test]
    fn exact_permissions_match_only_themselves() {
        let p = with(&["execute:billing"]);
        assert!(p.satisfies("execute:billing"));
        assert!(!p.satisfies("execute:reports"));
        assert!(!p.satisfies("read:billing"));
    }

    #[test]
    fn wildcards_match_either_part() {
        assert!(with(&["execute:*"]).satisfies("execute:anything"));
        assert!(!with(&["execute:*"]).satisfies("read:anything"));
        assert!(with(&["*:reports"]).satisfies("delete:reports"));
        assert!(with(&["*:*"]).satisfies("delete:reports"));
        assert!(!with(&["*"]).satisfies("delete:reports"), "a permission without `:` grants nothing");
        assert!(!with(&[]).satisfies("read:x"));
    }

    #[test]
    fn scopes_satisfy_requirements_too() {
        let p = Principal::new("u").with_scopes(["mcp/tools"]);
        assert!(p.satisfies("mcp/tools"));
        assert!(!p.satisfies("mcp/admin"));
    }

    #[test]
    fn tools_need_all_their_requirements() {
        let needs = Requirements::new().tool("t", ["read:a", "read:b"]);
        assert!(needs.allows_tool(&with(&["read:*"]), "t"));
        assert!(!needs.allows_tool(&with(&["read:a"]), "t"));
        assert!(needs.allows_tool(&with(&[]), "other"));
    }
}
