//! Keeping the gateway's lists in step with its upstreams: the tools,
//! prompts, resources and templates an upstream offers become routes on
//! the gateway's server, re-listed when the upstream says that list
//! changed or after it reconnects.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock, PoisonError};
use std::time::Duration;

use tokio::sync::broadcast;

use super::GatewayError;
use super::catalog;
use super::forward::ProxyTool;
use super::upstream::{CatalogKey, CatalogOwners, Owners, Upstream};
use crate::client::{Client, ClientError, ServerNotification, Subscription};
use crate::protocol::subscriptions::SubscriptionFilter;
use crate::protocol::tools::Tool;
use crate::server::{ToolRoute, WeakServer};

/// What re-listing needs: the gateway's server (weakly: the routes hold the
/// upstreams, not the other way round) and who owns which exposed name.
#[derive(Clone, Default)]
pub(super) struct Relister {
    pub(super) server: Arc<OnceLock<WeakServer>>,
    pub(super) owners: Owners,
    pub(super) catalog_owners: CatalogOwners,
}

/// Which of an upstream's lists to list again.
#[derive(Clone, Copy)]
struct Lists {
    tools: bool,
    catalog: bool,
}

impl Lists {
    const ALL: Self = Self { tools: true, catalog: true };

    /// The lists `notification` says changed, if any.
    fn changed_by(notification: &ServerNotification) -> Option<Self> {
        match notification {
            ServerNotification::ToolsListChanged => Some(Self { tools: true, catalog: false }),
            ServerNotification::PromptsListChanged | ServerNotification::ResourcesListChanged => {
                Some(Self { tools: false, catalog: true })
            }
            _ => None,
        }
    }
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
    /// now when `relist_now` (a new connection). A stateless upstream is
    /// asked for them with `subscriptions/listen` (and re-listed once its
    /// stream is open, for what changed before); a legacy one sends them
    /// unasked. Ends when the connection goes.
    pub(super) fn watch(&self, upstream: &Arc<Upstream>, client: &Client, relist_now: bool) {
        let mut rx = client.notifications();
        let weak = Arc::downgrade(upstream);
        let this = self.clone();
        let fresh = client.clone();
        tokio::spawn(async move {
            let stateless = fresh.negotiated().protocol_version.is_stateless();
            let mut listening = Listening::default();
            if stateless {
                listening.open(&fresh, weak.upgrade().as_deref()).await;
            }
            // A reconnected upstream may offer other things now, and a new
            // stream has missed what changed before it opened.
            if (relist_now || listening.is_open())
                && let Some(upstream) = weak.upgrade()
            {
                this.relist_logged(&upstream, &fresh, Lists::ALL).await;
            }
            drop(fresh);
            loop {
                let lists = tokio::select! {
                    // The connection's end first: once it is gone, this task
                    // must not reopen a stream on the next connection (its
                    // own watcher does).
                    biased;
                    note = rx.recv() => match note {
                        Ok(n) => match Lists::changed_by(&n) {
                            Some(lists) => lists,
                            None => continue,
                        },
                        Err(broadcast::error::RecvError::Lagged(_)) => Lists::ALL,
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                    // The stream ended while the connection lives (a stateless
                    // upstream restarted, say): open another, then re-list.
                    () = listening.retry_due(), if stateless => {
                        let Some(upstream) = weak.upgrade() else { return };
                        let Some(client) = upstream.current() else { return };
                        if !listening.open(&client, Some(&upstream)).await {
                            continue;
                        }
                        Lists::ALL
                    }
                };
                let Some(upstream) = weak.upgrade() else { return };
                let Some(client) = upstream.current() else { continue };
                this.relist_logged(&upstream, &client, lists).await;
            }
        });
    }

    async fn relist_logged(&self, upstream: &Arc<Upstream>, client: &Client, lists: Lists) {
        if lists.tools
            && let Err(e) = self.relist(upstream, client).await
        {
            tracing::warn!(upstream = %upstream.name(), error = %e, "could not re-list the upstream's tools");
        }
        if lists.catalog
            && let Err(e) = self.relist_catalog(upstream, client).await
        {
            tracing::warn!(upstream = %upstream.name(), error = %e, "could not re-list the upstream's prompts and resources");
        }
    }

    /// Lists `upstream`'s prompts, resources and templates again and
    /// updates the gateway's routes as [`relist`](Self::relist) does tools.
    async fn relist_catalog(&self, upstream: &Arc<Upstream>, client: &Client) -> Result<(), GatewayError> {
        let listed = catalog::list(upstream, client).await?.entries(upstream, self);
        let Some(server) = self.server.get().and_then(WeakServer::upgrade) else { return Ok(()) };
        let mut mine = upstream.catalog.lock().unwrap_or_else(PoisonError::into_inner);
        let mut owners = self.catalog_owners.lock().unwrap_or_else(PoisonError::into_inner);
        let keys: BTreeSet<&CatalogKey> = listed.iter().map(|(key, _)| key).collect();
        let gone: Vec<CatalogKey> = mine.iter().filter(|k| !keys.contains(k)).cloned().collect();
        for key in gone {
            key.remove_from(&server);
            owners.remove(&key);
            mine.remove(&key);
        }
        for (key, entry) in listed {
            if let Some(other) = owners.get(&key).filter(|o| o.as_str() != upstream.name()) {
                tracing::warn!(name = %key.as_str(), upstream = %upstream.name(), other = %other, "name clash; not exposed");
                continue;
            }
            if let Err(e) = entry.add_to(&server) {
                tracing::warn!(name = %key.as_str(), upstream = %upstream.name(), error = %e, "not exposed");
                continue;
            }
            owners.insert(key.clone(), upstream.name().to_owned());
            mine.insert(key);
        }
        Ok(())
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

/// The first wait before opening a stateless upstream's listen stream
/// again; it doubles after each failure, up to [`RELISTEN_MAX`].
const RELISTEN_FIRST: Duration = Duration::from_secs(1);
const RELISTEN_MAX: Duration = Duration::from_secs(30);

/// A stateless upstream's `subscriptions/listen` stream, reopened (with
/// growing waits) when it ends or could not be opened; not asked again of
/// an upstream that refused it.
#[derive(Default)]
struct Listening {
    subscription: Option<Subscription>,
    backoff: Option<Duration>,
    refused: bool,
}

impl Listening {
    fn is_open(&self) -> bool {
        self.subscription.as_ref().is_some_and(|s| !s.is_closed())
    }

    /// Opens the stream for every list change; returns whether it opened
    /// (otherwise logs why and waits longer before the next try).
    async fn open(&mut self, client: &Client, upstream: Option<&Upstream>) -> bool {
        let filter = SubscriptionFilter {
            tools_list_changed: Some(true),
            prompts_list_changed: Some(true),
            resources_list_changed: Some(true),
            resource_subscriptions: None,
        };
        match client.listen(filter).await {
            Ok(subscription) => {
                self.subscription = Some(subscription);
                self.backoff = None;
                true
            }
            Err(e) => {
                let name = upstream.map_or("?", Upstream::name);
                tracing::info!(upstream = %name, error = %e, "no subscriptions/listen stream: list changes seen on reconnection until one opens");
                self.subscription = None;
                self.refused = matches!(e, ClientError::Rpc(_));
                self.backoff = Some(self.backoff.map_or(RELISTEN_FIRST, |b| (b * 2).min(RELISTEN_MAX)));
                false
            }
        }
    }

    /// Resolves when it is time to open the stream again: after the
    /// backoff once an attempt failed, or a first wait once it ended.
    async fn retry_due(&mut self) {
        if self.refused {
            return std::future::pending().await;
        }
        match &self.subscription {
            Some(subscription) => {
                subscription.closed().await;
                tokio::time::sleep(RELISTEN_FIRST).await;
            }
            None => tokio::time::sleep(self.backoff.unwrap_or(RELISTEN_FIRST)).await,
        }
    }
}
