//! `subscriptions/listen` (2026-07-28): the stateless era's one stream of
//! list changes and resource updates, opened by the client. What it
//! carries arrives on [`Client::notifications`] as any notification does
//! (a legacy session gets the same notifications without asking).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::calls::object;
use super::error::ClientError;
use super::notification::ServerNotification;
use super::{Client, RequestOptions};
use crate::protocol::methods;
use crate::protocol::subscriptions::{
    SubscriptionFilter, SubscriptionsAcknowledgedNotificationParams, SubscriptionsListenRequestParams,
};

/// An open `subscriptions/listen` stream, from [`Client::listen`]. Dropping
/// it closes the stream (the server stops sending); it also ends when the
/// connection does ([`is_closed`](Self::is_closed)).
#[derive(Debug)]
pub struct Subscription {
    acknowledged: SubscriptionFilter,
    task: JoinHandle<()>,
    ended: CancellationToken,
}

impl Subscription {
    /// What the server said it will send: the requested filter without
    /// what it has nothing of (no prompts, say).
    pub fn acknowledged(&self) -> &SubscriptionFilter {
        &self.acknowledged
    }

    /// Whether the stream has ended (the server closed it, or the
    /// connection is gone).
    pub fn is_closed(&self) -> bool {
        self.ended.is_cancelled()
    }

    /// Resolves once the stream has ended (at once if it has).
    pub async fn closed(&self) {
        self.ended.cancelled().await;
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Dropping the request cancels it on the server.
        self.task.abort();
    }
}

impl Client {
    /// Opens a `subscriptions/listen` stream asking for `filter`'s
    /// notifications, and returns once the server acknowledged it: from
    /// then on the list changes and resource updates it asked for arrive on
    /// [`notifications`](Self::notifications), until the [`Subscription`]
    /// is dropped. Waits up to the client's timeout for the
    /// acknowledgement. The stream does not keep the connection alive:
    /// it ends with the last clone of the client.
    ///
    /// ```
    /// use mcp_core::client::{ClientBuilder, ServerNotification, StdioTransport};
    /// use mcp_core::protocol::subscriptions::SubscriptionFilter;
    /// use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = ServerBuilder::new("live", "1.0.0")
    ///     .tool(ToolRoute::new("first", |_ctx: Context, _: NoArgs| async { "one" }))
    ///     .build()?;
    /// let (client_end, server_end) = tokio::io::duplex(64 * 1024);
    /// let (server_read, server_write) = tokio::io::split(server_end);
    /// tokio::spawn(mcp_core::transport::stdio::serve_on(server.clone(), server_read, server_write, Default::default()));
    /// let (read, write) = tokio::io::split(client_end);
    /// let client = ClientBuilder::new("example", "0.1.0").connect(StdioTransport::from_streams(read, write)).await?;
    ///
    /// let mut notes = client.notifications();
    /// let filter = SubscriptionFilter { tools_list_changed: Some(true), ..Default::default() };
    /// let subscription = client.listen(filter).await?;
    /// assert!(subscription.acknowledged().tools());
    /// server.add_tool(ToolRoute::new("second", |_ctx: Context, _: NoArgs| async { "two" }))?;
    /// loop {
    ///     if notes.recv().await? == ServerNotification::ToolsListChanged {
    ///         break;
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`ClientError::Protocol`] in a legacy session (its notifications
    /// arrive without asking); [`ClientError::Rpc`] when the server refuses
    /// the request; [`ClientError::Timeout`] when no acknowledgement comes;
    /// [`ClientError::Closed`] when the stream ends first.
    pub async fn listen(&self, filter: SubscriptionFilter) -> Result<Subscription, ClientError> {
        if !self.negotiated().protocol_version.is_stateless() {
            return Err(ClientError::Protocol(
                "subscriptions/listen is a 2026-07-28 request: a legacy session's notifications arrive on \
                 notifications() without it"
                    .into(),
            ));
        }
        let listen = SubscriptionsListenRequestParams { notifications: filter, meta: None };
        let params = object(methods::SUBSCRIPTIONS_LISTEN, listen)?;
        // Subscribe before sending, so the acknowledgement is not missed.
        let mut notes = self.notifications();
        let shared = Arc::clone(&self.shared);
        let (done_tx, mut done_rx) = tokio::sync::oneshot::channel();
        let ended = CancellationToken::new();
        let on_end = ended.clone().drop_guard();
        let task = tokio::spawn(async move {
            let _on_end = on_end;
            let opts = RequestOptions::new().timeout(Duration::MAX);
            let outcome = shared.call(methods::SUBSCRIPTIONS_LISTEN, params, &opts).await.map(drop);
            let _ = done_tx.send(outcome);
        });
        let timeout = self.shared.config.timeout;
        let waiting = async {
            loop {
                tokio::select! {
                    note = notes.recv() => match note {
                        Ok(ServerNotification::Other { method, params })
                            if method == methods::NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED =>
                        {
                            let ack: SubscriptionsAcknowledgedNotificationParams =
                                serde_json::from_value(params.unwrap_or_default()).map_err(|e| {
                                    ClientError::Protocol(format!("invalid {}: {e}", methods::NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED))
                                })?;
                            return Ok(ack.notifications);
                        }
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => {
                            return Err(ClientError::Closed(Some("the connection closed".into())));
                        }
                    },
                    ended = &mut done_rx => return Err(match ended {
                        Ok(Err(e)) => e,
                        _ => ClientError::Closed(Some("the server ended the listen stream before acknowledging it".into())),
                    }),
                }
            }
        };
        match tokio::time::timeout(timeout, waiting).await {
            Ok(Ok(acknowledged)) => Ok(Subscription { acknowledged, task, ended }),
            Ok(Err(e)) => {
                task.abort();
                Err(e)
            }
            Err(_) => {
                task.abort();
                Err(ClientError::Timeout { method: methods::SUBSCRIPTIONS_LISTEN.to_owned(), after: timeout })
            }
        }
    }
}
