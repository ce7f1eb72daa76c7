//! Keeping the gateway's tool list in step with its upstreams: the tools
//! an upstream offers become routes on the gateway's server, re-listed
//! when the upstream says its list changed or after it reconnects.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, PoisonError, Weak};

use tokio::sync::broadcast;

use super::GatewayError;
use super::forward::ProxyTool;
use super::upstream::{Owners, Upstream};
use crate::client::{Client, ServerNotification};
use crate::protocol::tools::Tool;
use crate::server::{ToolRoute, WeakServer};

/// What re-listing needs: the gateway's server (weakly: the routes hold the
/// upstreams, not the other way round) and who owns which exposed name.
#[derive(Clone, Default)]
pub(super) struct Relister {
    pub(super) server: Arc<OnceLock<WeakServer>>,
    pub(super) owners: Owners,
}

impl Relister {
    /// The route exposing `tool` of `upstream` as `exposed`.
    pub(super) fn route(&self, upstream: &Arc<Upstream>, exposed: String, tool: Tool) -> ToolRoute {
        let handler = ProxyTool { upstream: Arc::clone(upstream), tool: tool.name.clone(), relister: self.clone() };
        let mut tool = tool;
        tool.name = exposed;
        ToolRoute::from_handler(tool, handler)
    }

    /// Follows `client`'s list changes (re-listing each time), and re-lists
    /// now when `relist_now` (a new connection). Ends when the connection goes.
    pub(super) fn watch(&self, upstream: &Arc<Upstream>, client: &Client, relist_now: bool) {
        let mut rx = client.notifications();
        let weak = Arc::downgrade(upstream);
        let this = self.clone();
        let fresh = client.clone();
        tokio::spawn(async move {
            // A reconnected upstream may offer other tools now.
            if relist_now && let Some(upstream) = weak.upgrade() {
                this.relist_logged(&upstream, &fresh).await;
            }
            drop(fresh);
            loop {
                match rx.recv().await {
                    Ok(ServerNotification::ToolsListChanged) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
                let Some(upstream) = upstream_alive(&weak) else { return };
                let Some(client) = upstream.current() else { continue };
                this.relist_logged(&upstream, &client).await;
            }
        });
    }

    async fn relist_logged(&self, upstream: &Arc<Upstream>, client: &Client) {
        if let Err(e) = self.relist(upstream, client).await {
            tracing::warn!(upstream = %upstream.name(), error = %e, "could not re-list the upstream's tools");
        }
    }

    /// Lists `upstream`'s tools again and updates the gateway's routes:
    /// gone tools removed, new ones added unless another upstream has the
    /// name (then skipped with a warning: a running gateway keeps serving).
    pub(super) async fn relist(&self, upstream: &Arc<Upstream>, client: &Client) -> Result<(), GatewayError> {
        let tools = upstream.admitted_tools(client).await?;
        let Some(server) = self.server.get().and_then(WeakServer::upgrade) else { return Ok(()) };
        let mut mine = upstream.tools.lock().unwrap_or_else(PoisonError::into_inner);
        let mut owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        let listed: BTreeMap<&str, ()> = tools.iter().map(|(exposed, _)| (exposed.as_str(), ())).collect();
        let gone: Vec<String> = mine.keys().filter(|k| !listed.contains_key(k.as_str())).cloned().collect();
        for exposed in gone {
            server.remove_tool(&exposed);
            owners.remove(&exposed);
            mine.remove(&exposed);
        }
        for (exposed, tool) in tools {
            if let Some(other) = owners.get(&exposed).filter(|o| o.as_str() != upstream.name()) {
                tracing::warn!(tool = %exposed, upstream = %upstream.name(), other = %other, "tool name clash; not exposed");
                continue;
            }
            let upstream_name = tool.name.clone();
            if let Err(e) = server.add_tool(self.route(upstream, exposed.clone(), tool)) {
                tracing::warn!(tool = %exposed, upstream = %upstream.name(), error = %e, "tool not exposed");
                continue;
            }
            owners.insert(exposed.clone(), upstream.name().to_owned());
            mine.insert(exposed, upstream_name);
        }
        Ok(())
    }
}

fn upstream_alive(weak: &Weak<Upstream>) -> Option<Arc<Upstream>> {
    weak.upgrade()
}
