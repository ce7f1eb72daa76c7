//! `initialize` (legacy era), `server/discover` (2026-07-28), and the
//! capabilities both derive from what is registered.

use std::sync::Arc;

use serde_json::value::RawValue;

use super::{Reply, Server, parse_params, raw};
use crate::error::Error;
use crate::protocol::lifecycle::{
    CompletionsCapability, DiscoverResult, InitializeRequestParams, InitializeResult, LoggingCapability,
    PromptsCapability, ResourcesCapability, ServerCapabilities, ToolsCapability,
};
use crate::protocol::{ProtocolVersion, ResultType, methods};
use crate::server::session::Session;

impl Server {
    /// What the server can do in `version`: derived from what is registered,
    /// never kept by hand. A legacy client served without a session
    /// (`in_session` false) is offered only what a lone request can do: no
    /// subscriptions and no list-change notifications (no stream carries
    /// them), and no `logging` (no session holds a `logging/setLevel`, and a
    /// server that does not declare it sends no log messages).
    pub(super) fn capabilities(&self, version: ProtocolVersion, in_session: bool) -> ServerCapabilities {
        let reg = self.routes();
        let has_resources = !reg.resources.is_empty() || !reg.templates.is_empty();
        let follows = in_session || version.is_stateless();
        ServerCapabilities {
            logging: follows.then_some(LoggingCapability {}),
            completions: (version >= ProtocolVersion::V2025_03_26).then_some(CompletionsCapability {}),
            tools: (!reg.tools.is_empty()).then_some(ToolsCapability { list_changed: Some(follows) }),
            resources: has_resources.then_some(ResourcesCapability {
                subscribe: Some(in_session && !version.is_stateless()),
                list_changed: Some(follows),
            }),
            prompts: (!reg.prompts.is_empty()).then_some(PromptsCapability { list_changed: Some(follows) }),
            // The tasks extension exists in the stateless era only.
            extensions: (version.is_stateless() && self.shared.tasks.is_some()).then(|| {
                std::collections::BTreeMap::from([(
                    crate::protocol::tasks::EXTENSION_ID.to_owned(),
                    crate::protocol::JsonObject::new(),
                )])
            }),
            ..ServerCapabilities::default()
        }
    }

    /// `initialize`: negotiates the version and, in a session, keeps the
    /// client's capabilities there. Without one (sessionless serving, which
    /// the era check alone admits here) the answer is all there is.
    pub(super) fn initialize(&self, params: Option<&RawValue>, session: Option<&Session>) -> Result<Reply, Error> {
        let p: InitializeRequestParams = parse_params(methods::INITIALIZE, params)?;
        let version = ProtocolVersion::negotiate(&p.protocol_version);
        if let Some(session) = session {
            session.modify(|s| {
                s.version = Some(version);
                s.client_capabilities = Arc::new(p.capabilities);
                s.client_info = Some(p.client_info);
            });
        }
        let result = InitializeResult {
            protocol_version: version,
            capabilities: self.capabilities(version, session.is_some()),
            server_info: self.shared.info.clone(),
            instructions: self.shared.instructions.clone(),
            result_type: None,
            meta: None,
        };
        raw(&result).map(Reply::Result)
    }

    pub(super) fn discover(&self) -> Result<Reply, Error> {
        let (ttl, scope) = self.shared.list_cache;
        let result = DiscoverResult {
            result_type: Some(ResultType::Complete),
            supported_versions: ProtocolVersion::MODERN.to_vec(),
            capabilities: self.capabilities(ProtocolVersion::LATEST, false),
            instructions: self.shared.instructions.clone(),
            ttl_ms: Some(ttl),
            cache_scope: Some(scope),
            meta: None,
        };
        self.with_server_info(&result).map(Reply::Result)
    }
}
