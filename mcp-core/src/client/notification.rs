//! Notifications from the server, as the client's stream delivers them.

use serde_json::Value;

use crate::jsonrpc::Notification;
use crate::protocol::logging::LoggingMessageNotificationParams;
use crate::protocol::methods;
use crate::protocol::progress::{CancelledNotificationParams, ProgressNotificationParams};
use crate::protocol::resources::ResourceUpdatedNotificationParams;

/// A notification from the server. Progress and log messages of a call
/// arrive while the call runs; match progress to a call by the token you
/// gave it ([`RequestOptions::progress`](super::RequestOptions::progress)).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerNotification {
    /// `notifications/progress`.
    Progress(ProgressNotificationParams),
    /// `notifications/message`: a log message.
    Log(LoggingMessageNotificationParams),
    /// `notifications/tools/list_changed`.
    ToolsListChanged,
    /// `notifications/prompts/list_changed`.
    PromptsListChanged,
    /// `notifications/resources/list_changed`.
    ResourcesListChanged,
    /// `notifications/resources/updated`.
    ResourceUpdated(ResourceUpdatedNotificationParams),
    /// `notifications/cancelled`: the server gave up on a request of ours.
    Cancelled(CancelledNotificationParams),
    /// Any other notification, or a known one whose params did not parse:
    /// the method and the raw params, for forwarding.
    Other {
        /// The method.
        method: String,
        /// The params, if any.
        params: Option<Value>,
    },
}

impl ServerNotification {
    /// Reads a notification.
    pub fn from_notification(n: &Notification) -> Self {
        fn parse<T: serde::de::DeserializeOwned>(n: &Notification) -> Option<T> {
            n.params.as_ref().and_then(|p| serde_json::from_str(p.get()).ok())
        }
        let known = match n.method.as_str() {
            methods::NOTIFICATION_PROGRESS => parse(n).map(Self::Progress),
            methods::NOTIFICATION_MESSAGE => parse(n).map(Self::Log),
            methods::NOTIFICATION_TOOLS_LIST_CHANGED => Some(Self::ToolsListChanged),
            methods::NOTIFICATION_PROMPTS_LIST_CHANGED => Some(Self::PromptsListChanged),
            methods::NOTIFICATION_RESOURCES_LIST_CHANGED => Some(Self::ResourcesListChanged),
            methods::NOTIFICATION_RESOURCES_UPDATED => parse(n).map(Self::ResourceUpdated),
            methods::NOTIFICATION_CANCELLED => parse(n).map(Self::Cancelled),
            _ => None,
        };
        known.unwrap_or_else(|| Self::Other {
            method: n.method.clone(),
            params: n.params.as_ref().and_then(|p| serde_json::from_str(p.get()).ok()),
        })
    }
}
