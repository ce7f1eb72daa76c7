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
use serde_json::{Map, Value};

use crate::client::{Client, ClientError, RequestOptions, ServerNotification};
use crate::protocol::input::{InputRequest, InputRequests, InputRequiredResult, InputResponse};
use crate::protocol::methods;
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
            let _entered = upstream.callers.enter(ctx.clone());
            forward(&upstream, &client, &tool, arguments, &ctx).await
        }))
    }
}

/// At most this many `input_required` rounds of the upstream are passed on
/// to the caller in one call.
const MAX_ROUNDS: usize = 8;

/// Calls the upstream, relaying progress and passing its `input_required`
/// rounds (elicitation, sampling, roots) on to the caller, until it
/// answers, the caller cancels, or the timeout passes.
async fn forward(
    upstream: &Upstream,
    client: &Client,
    tool: &str,
    arguments: Option<Box<RawValue>>,
    ctx: &Context,
) -> ToolOutput {
    let mut opts = RequestOptions::new().timeout(upstream.spec.timeout).return_input_required();
    let mut progress = None;
    if let Some(theirs) = ctx.progress_token() {
        let ours = ProgressToken::from(format!("gateway-{}", NEXT_TOKEN.fetch_add(1, Ordering::Relaxed)));
        opts = opts.progress(ours.clone());
        progress = Some((ours, theirs.clone(), client.notifications()));
    }
    let mut params = Map::new();
    params.insert("name".into(), Value::String(tool.to_owned()));
    if let Some(args) = arguments.and_then(|a| serde_json::from_str::<Value>(a.get()).ok()) {
        params.insert("arguments".into(), args);
    }
    // A stateless upstream learns what the caller can answer, so that it
    // refuses (-32021) what the caller could not.
    if client.negotiated().protocol_version.is_stateless()
        && let Ok(caps) = serde_json::to_value(ctx.client_capabilities())
    {
        params.insert("_meta".into(), serde_json::json!({ crate::protocol::meta::keys::CLIENT_CAPABILITIES: caps }));
    }
    for _ in 0..MAX_ROUNDS {
        let call = client.request_with(methods::TOOLS_CALL, Value::Object(params.clone()), &opts);
        tokio::pin!(call);
        let outcome = loop {
            // Biased, progress before the answer: the upstream sent its
            // progress before its answer, and the client queued it first;
            // relaying it after the answer would lose it (the caller's
            // stream ends with the answer).
            tokio::select! {
                biased;
                () = ctx.cancelled() => return Err(Error::Cancelled),
                relay = next_progress(&mut progress) => {
                    if let Some((value, total, message)) = relay {
                        // The caller may be gone; the call goes on.
                        let _ = ctx.progress(value, total, message.as_deref()).await;
                    }
                }
                outcome = &mut call => break outcome,
            }
        };
        let value = match outcome {
            Ok(value) => value,
            Err(e) => return failed(upstream, client, e),
        };
        if value.get("resultType").and_then(Value::as_str) != Some("input_required") {
            upstream.clear_error();
            return serde_json::from_value::<CallToolResult>(value)
                .map_err(|e| format!("invalid tools/call result from the server: {e}"))
                .or_else(|reason| Ok(unavailable(upstream.name(), &reason)));
        }
        let wanted: InputRequiredResult = match serde_json::from_value(value) {
            Ok(w) => w,
            Err(e) => return Ok(unavailable(upstream.name(), &format!("invalid input_required result: {e}"))),
        };
        let responses = ask_caller(ctx, wanted.input_requests.unwrap_or_default()).await?;
        params.insert("inputResponses".into(), Value::Object(responses));
        match wanted.request_state {
            Some(state) => params.insert("requestState".into(), Value::String(state)),
            None => params.remove("requestState"),
        };
    }
    Ok(unavailable(upstream.name(), &format!("still wanted input after {MAX_ROUNDS} rounds")))
}

/// Asks the gateway's own caller what the upstream asked the gateway, under
/// the upstream's keys: in the legacy era as requests to the caller, in the
/// stateless era as the gateway's own `input_required` round.
async fn ask_caller(ctx: &Context, requests: InputRequests) -> Result<Map<String, Value>, Error> {
    let mut responses = Map::new();
    for (key, request) in requests {
        let response = match request {
            InputRequest::Elicitation(p) => InputResponse::Elicitation(ctx.elicit_as(&key, p).await?),
            InputRequest::Sampling(p) => InputResponse::Sampling(ctx.sample_as(&key, p).await?),
            InputRequest::ListRoots(_) => InputResponse::ListRoots(ctx.list_roots_as(&key).await?),
        };
        let value = serde_json::to_value(response).map_err(|e| Error::internal(format!("input response: {e}")))?;
        responses.insert(key, value);
    }
    Ok(responses)
}

/// The answer for a call the upstream did not complete.
fn failed(upstream: &Upstream, client: &Client, e: ClientError) -> ToolOutput {
    match e {
        // The upstream's own protocol error, passed on as it came.
        ClientError::Rpc(e) => Err(Error::Other { code: e.code, message: e.message.into_owned(), data: e.data }),
        e @ (ClientError::Closed(_) | ClientError::Transport(_)) => {
            let reason = e.to_string();
            upstream.mark_dead(client, reason.clone());
            Ok(unavailable(upstream.name(), &reason))
        }
        ClientError::Timeout { after, .. } => {
            let reason = format!("no answer within {after:?}");
            upstream.set_error(reason.clone());
            Ok(unavailable(upstream.name(), &reason))
        }
        e => Ok(unavailable(upstream.name(), &e.to_string())),
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
