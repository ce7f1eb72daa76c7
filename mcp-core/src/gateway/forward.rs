//! Forwarding a `tools/call` to the upstream that owns the tool: its
//! arguments, result and errors as they are, progress under a token of the
//! gateway's, cancellation, and a clear failure naming the upstream when
//! it is dead, slow or answers nonsense.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::value::RawValue;
use tokio::sync::broadcast;

use super::relist::Relister;
use super::upstream::Upstream;
use crate::Error;
use crate::client::{Client, ClientError, RequestOptions, ServerNotification};
use crate::protocol::progress::ProgressToken;
use crate::protocol::tools::CallToolResult;
use crate::server::{BoxFuture, Context, ToolHandler, ToolOutput};

/// Numbers the progress tokens the gateway sends upstream.
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// The handler of one exposed tool: calls `tool` on `upstream`.
pub(super) struct ProxyTool {
    pub(super) upstream: Arc<Upstream>,
    /// The tool's name upstream (without the prefix).
    pub(super) tool: String,
    pub(super) relister: Relister,
}

impl ToolHandler for ProxyTool {
    fn call(&self, ctx: Context, arguments: Option<&RawValue>) -> Result<BoxFuture<ToolOutput>, Error> {
        let upstream = Arc::clone(&self.upstream);
        let tool = self.tool.clone();
        let relister = self.relister.clone();
        let arguments = arguments.map(ToOwned::to_owned);
        Ok(Box::pin(async move {
            let (client, fresh) = match upstream.client().await {
                Ok(c) => c,
                Err(e) => return Ok(unavailable(upstream.name(), &e.to_string())),
            };
            if fresh {
                relister.watch(&upstream, &client, true);
            }
            forward(&upstream, &client, &tool, arguments, &ctx).await
        }))
    }
}

/// Calls the upstream, relaying progress, until it answers, the caller
/// cancels, or the timeout passes.
async fn forward(
    upstream: &Upstream,
    client: &Client,
    tool: &str,
    arguments: Option<Box<RawValue>>,
    ctx: &Context,
) -> ToolOutput {
    let mut opts = RequestOptions::new().timeout(upstream.spec.timeout);
    let mut progress = None;
    if let Some(theirs) = ctx.progress_token() {
        let ours = ProgressToken::from(format!("gateway-{}", NEXT_TOKEN.fetch_add(1, Ordering::Relaxed)));
        opts = opts.progress(ours.clone());
        progress = Some((ours, theirs.clone(), client.notifications()));
    }
    // No arguments serialise as `null`, which the client sends as none.
    let call = client.call_tool_with(tool, &arguments, &opts);
    tokio::pin!(call);
    let outcome = loop {
        tokio::select! {
            outcome = &mut call => break outcome,
            () = ctx.cancelled() => return Err(Error::Cancelled),
            relay = next_progress(&mut progress) => {
                if let Some((value, total, message)) = relay {
                    // The caller may be gone; the call goes on.
                    let _ = ctx.progress(value, total, message.as_deref()).await;
                }
            }
        }
    };
    match outcome {
        Ok(result) => {
            upstream.clear_error();
            Ok(result)
        }
        // The upstream's own protocol error, passed on as it came.
        Err(ClientError::Rpc(e)) => Err(Error::Other { code: e.code, message: e.message.into_owned(), data: e.data }),
        Err(e @ (ClientError::Closed(_) | ClientError::Transport(_))) => {
            let reason = e.to_string();
            upstream.mark_dead(client, reason.clone());
            Ok(unavailable(upstream.name(), &reason))
        }
        Err(ClientError::Timeout { after, .. }) => {
            let reason = format!("no answer within {after:?}");
            upstream.set_error(reason.clone());
            Ok(unavailable(upstream.name(), &reason))
        }
        Err(e) => Ok(unavailable(upstream.name(), &e.to_string())),
    }
}

/// The next progress report under our token, as (progress, total, message).
/// Pending forever when the call asked for none.
async fn next_progress(
    progress: &mut Option<(ProgressToken, ProgressToken, broadcast::Receiver<ServerNotification>)>,
) -> Option<(f64, Option<f64>, Option<String>)> {
    let Some((ours, _, rx)) = progress else { return std::future::pending().await };
    loop {
        match rx.recv().await {
            Ok(ServerNotification::Progress(p)) if p.progress_token == *ours => {
                return Some((p.progress, p.total, p.message));
            }
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => {
                *progress = None;
                return None;
            }
        }
    }
}

/// The `isError` result of a call the upstream could not serve.
pub(super) fn unavailable(upstream: &str, reason: &str) -> CallToolResult {
    let mut result = CallToolResult::error_text(format!("upstream `{upstream}` is unavailable: {reason}"));
    result
        .meta
        .get_or_insert_with(Default::default)
        .insert("io.mcp-sdk/gateway".into(), serde_json::json!({ "upstream": upstream, "error": "unavailable" }));
    result
}
