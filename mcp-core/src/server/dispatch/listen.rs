//! `subscriptions/listen` (2026-07-28): a long-lived request that streams
//! list-changed and resource-updated notifications until cancelled.

use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::params::{ListenFilter, ListenParams};
use super::{Reply, Server, parse_params, raw};
use crate::error::Error;
use crate::jsonrpc::{Message, Notification};
use crate::protocol::meta::keys;
use crate::protocol::tasks::EXTENSION_ID;
use crate::protocol::{ResultType, methods};
use crate::server::session::Sink;
use crate::server::{Context, ServerEvent};

impl Server {
    pub(super) async fn listen(&self, params: Option<&RawValue>, ctx: Context) -> Result<Reply, Error> {
        let p: ListenParams = parse_params(methods::SUBSCRIPTIONS_LISTEN, params)?;
        let reg = self.routes();
        let f = p.notifications;
        let honoured = ListenFilter {
            tools_list_changed: f.tools_list_changed && !reg.tools.is_empty(),
            prompts_list_changed: f.prompts_list_changed && !reg.prompts.is_empty(),
            resources_list_changed: f.resources_list_changed && !(reg.resources.is_empty() && reg.templates.is_empty()),
            resource_subscriptions: if reg.resources.is_empty() && reg.templates.is_empty() {
                Vec::new()
            } else {
                f.resource_subscriptions
            },
            // Only for a client that speaks the tasks extension.
            task_ids: if self.shared.tasks.is_some() && ctx.client_capabilities().has_extension(EXTENSION_ID) {
                f.task_ids
            } else {
                Vec::new()
            },
        };
        drop(reg);
        let sink = ctx.sink().clone();
        let cancel = ctx.cancellation_token().clone();
        if !sink.is_open() {
            return Err(Error::InvalidRequest("subscriptions/listen needs a stream to send notifications on".into()));
        }
        // The spec: the subscription id is the listen request's own id.
        let tag = json!({ keys::SUBSCRIPTION_ID: ctx.request_id() });
        let mut filter = serde_json::Map::new();
        if honoured.tools_list_changed {
            filter.insert("toolsListChanged".into(), json!(true));
        }
        if honoured.prompts_list_changed {
            filter.insert("promptsListChanged".into(), json!(true));
        }
        if honoured.resources_list_changed {
            filter.insert("resourcesListChanged".into(), json!(true));
        }
        if !honoured.resource_subscriptions.is_empty() {
            filter.insert("resourceSubscriptions".into(), json!(honoured.resource_subscriptions));
        }
        if !honoured.task_ids.is_empty() {
            filter.insert("taskIds".into(), json!(honoured.task_ids));
        }
        let mut events = self.subscribe_events();
        let ack = json!({ "notifications": filter, "_meta": tag });
        if send_notification(&sink, methods::NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED, ack).await.is_err() {
            return Ok(Reply::Cancelled);
        }
        loop {
            let event = tokio::select! {
                ev = events.recv() => ev,
                () = cancel.cancelled() => return Ok(Reply::Cancelled),
            };
            let (method, params) = match event {
                Ok(ServerEvent::ToolsListChanged) if honoured.tools_list_changed => {
                    (methods::NOTIFICATION_TOOLS_LIST_CHANGED, json!({ "_meta": tag }))
                }
                Ok(ServerEvent::PromptsListChanged) if honoured.prompts_list_changed => {
                    (methods::NOTIFICATION_PROMPTS_LIST_CHANGED, json!({ "_meta": tag }))
                }
                Ok(ServerEvent::ResourcesListChanged) if honoured.resources_list_changed => {
                    (methods::NOTIFICATION_RESOURCES_LIST_CHANGED, json!({ "_meta": tag }))
                }
                Ok(ServerEvent::ResourceUpdated(uri)) if honoured.resource_subscriptions.contains(&uri) => {
                    (methods::NOTIFICATION_RESOURCES_UPDATED, json!({ "uri": uri, "_meta": tag }))
                }
                Ok(ServerEvent::TaskStatusChanged(id)) if honoured.task_ids.contains(&id) => {
                    match self.task_notification(&ctx, &id).await {
                        Some(mut params) => {
                            params["_meta"] = tag.clone();
                            (methods::NOTIFICATION_TASKS, params)
                        }
                        None => continue,
                    }
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            };
            if send_notification(&sink, method, params).await.is_err() {
                return Ok(Reply::Cancelled);
            }
        }
        raw(&json!({ "resultType": ResultType::Complete, "_meta": tag })).map(Reply::Result)
    }
}

async fn send_notification(sink: &Sink, method: &str, params: Value) -> Result<(), Error> {
    let params = raw(&params)?;
    let msg = Message::Notification(Notification { method: method.to_owned(), params: Some(params) });
    sink.send(&msg).await.map_err(|_| Error::Cancelled)
}
