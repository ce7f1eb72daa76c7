//! Forwarding a request (`tools/call`, `prompts/get`, `resources/read`) to
//! the upstream that owns its target: the params as they are, the result
//! and JSON-RPC errors as they come back, progress under a token of the
//! gateway's, the upstream's log messages, cancellation, the upstream's
//! `input_required` rounds asked of the caller, and a clear failure naming
//! the upstream when it is dead, slow or answers nonsense.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::sync::broadcast;

use super::relist::Relister;
use super::rounds::{Entered, GATHER_WINDOW};
use super::upstream::Upstream;
use crate::Error;
use crate::client::{Client, ClientError, RequestOptions, ServerNotification};
use crate::jsonrpc::ErrorObject;
use crate::protocol::input::{InputRequest, InputRequests, InputRequiredResult, InputResponse};
use crate::protocol::logging::LoggingLevel;
use crate::protocol::meta::keys;
use crate::protocol::methods;
use crate::protocol::progress::ProgressToken;
use crate::protocol::tools::CallToolResult;
use crate::server::{BoxFuture, Context, ToolHandler, ToolOutput};

/// Numbers the progress tokens the gateway sends upstream.
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// At most this many `input_required` rounds of the upstream are passed on
/// to the caller in one request.
const MAX_ROUNDS: usize = 8;

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
        let relister = self.relister.clone();
        let mut params = Map::new();
        params.insert("name".into(), Value::String(self.tool.clone()));
        if let Some(args) = arguments.and_then(|a| serde_json::from_str::<Value>(a.get()).ok()) {
            params.insert("arguments".into(), args);
        }
        Ok(Box::pin(async move {
            match exchange(&upstream, methods::TOOLS_CALL, params, &ctx, &relister).await {
                Ok(value) => Ok(serde_json::from_value::<CallToolResult>(value).unwrap_or_else(|e| {
                    unavailable(upstream.name(), &format!("invalid tools/call result from the server: {e}"))
                })),
                Err(Failure::Caller(e)) => Err(e),
                Err(Failure::Rpc(e)) => Err(rpc_error(e)),
                Err(Failure::Unavailable(reason)) => Ok(unavailable(upstream.name(), &reason)),
            }
        }))
    }
}

/// Why a forwarded request did not complete.
pub(super) enum Failure {
    /// The gateway's own error for its caller: cancelled, or the caller
    /// could not answer what the upstream asked.
    Caller(Error),
    /// The upstream's JSON-RPC error, to pass on as it came.
    Rpc(ErrorObject),
    /// The upstream is dead, slow or answered nonsense: why.
    Unavailable(String),
}

/// The upstream's JSON-RPC error as the gateway's.
pub(super) fn rpc_error(e: ErrorObject) -> Error {
    Error::Other { code: e.code, message: e.message.into_owned(), data: e.data }
}

/// Sends `method` with `params` to `upstream` for `ctx`'s caller and
/// returns the upstream's final result: relays progress and log messages
/// while it runs, asks the caller what the upstream's `input_required`
/// rounds (or a legacy upstream's own requests) want, and gives up when
/// the caller cancels or the upstream's timeout passes. A dead connection
/// is dropped (the next request reconnects; `relister` re-lists the
/// upstream then).
pub(super) async fn exchange(
    upstream: &Arc<Upstream>,
    method: &str,
    mut params: Map<String, Value>,
    ctx: &Context,
    relister: &Relister,
) -> Result<Value, Failure> {
    let (client, fresh) = upstream.client().await.map_err(|e| Failure::Unavailable(e.to_string()))?;
    if fresh {
        relister.watch(upstream, &client, true);
    }
    if ctx.protocol_version().is_stateless() && !client.negotiated().protocol_version.is_stateless() {
        // A legacy upstream asks each question as a request of its own:
        // those asked together go to the caller in one round.
        ctx.gather_input_for(GATHER_WINDOW);
    }
    let entered = upstream.callers.enter(ctx.clone());
    let mut opts = RequestOptions::new().timeout(upstream.spec.timeout).return_input_required().origin(entered.id());
    let mut relay = Relay { ctx, upstream, entered: &entered, progress: None, rx: client.tagged_notifications() };
    if ctx.progress_token().is_some() {
        let ours = ProgressToken::from(format!("gateway-{}", NEXT_TOKEN.fetch_add(1, Ordering::Relaxed)));
        opts = opts.progress(ours.clone());
        relay.progress = Some(ours);
    }
    stamp_caller(&mut params, ctx, client.negotiated().protocol_version.is_stateless());
    for _ in 0..MAX_ROUNDS {
        let call = client.request_with(method, Value::Object(params.clone()), &opts);
        tokio::pin!(call);
        let outcome = loop {
            // Biased, notifications before the answer: the upstream sent
            // them before its answer, and the client queued them first;
            // relaying them after the answer would lose them (the caller's
            // stream ends with the answer).
            tokio::select! {
                biased;
                () = ctx.cancelled() => return Err(Failure::Caller(Error::Cancelled)),
                () = relay.next() => {}
                outcome = &mut call => break outcome,
            }
        };
        let value = outcome.map_err(|e| failed(upstream, &client, e))?;
        if value.get("resultType").and_then(Value::as_str) != Some("input_required") {
            upstream.clear_error();
            return Ok(value);
        }
        let wanted: InputRequiredResult = serde_json::from_value(value)
            .map_err(|e| Failure::Unavailable(format!("invalid input_required result: {e}")))?;
        let responses = ask_caller(ctx, wanted.input_requests.unwrap_or_default()).await.map_err(Failure::Caller)?;
        params.insert("inputResponses".into(), Value::Object(responses));
        match wanted.request_state {
            Some(state) => params.insert("requestState".into(), Value::String(state)),
            None => params.remove("requestState"),
        };
    }
    Err(Failure::Unavailable(format!("still wanted input after {MAX_ROUNDS} rounds")))
}

/// Puts the caller's capabilities (less the tasks extension) in the
/// request's `_meta`, so that the upstream refuses (-32021) what the caller
/// could not answer (a legacy
/// upstream of this SDK narrows its session's capabilities by them;
/// others ignore the key), and in the stateless era the least severe log
/// level the caller wants, so that the upstream logs what the caller
/// would see.
fn stamp_caller(params: &mut Map<String, Value>, ctx: &Context, stateless: bool) {
    let mut meta = Map::new();
    // Without the tasks extension: the gateway does not forward tasks, so
    // a task-capable upstream tool runs to its end within the call.
    let mut caps = std::borrow::Cow::Borrowed(ctx.client_capabilities());
    if caps.has_extension(crate::protocol::tasks::EXTENSION_ID) {
        let without = caps.to_mut();
        if let Some(extensions) = without.extensions.as_mut() {
            extensions.remove(crate::protocol::tasks::EXTENSION_ID);
            if extensions.is_empty() {
                without.extensions = None;
            }
        }
    }
    if let Ok(caps) = serde_json::to_value(&*caps) {
        meta.insert(keys::CLIENT_CAPABILITIES.into(), caps);
    }
    if stateless && let Some(level) = LoggingLevel::ALL.into_iter().find(|l| ctx.log_enabled(*l)) {
        meta.insert(keys::LOG_LEVEL.into(), Value::String(level.as_str().into()));
    }
    params.insert("_meta".into(), Value::Object(meta));
}

/// Relays an upstream's notifications during one request to its caller.
struct Relay<'a> {
    ctx: &'a Context,
    upstream: &'a Upstream,
    entered: &'a Entered,
    /// The token progress comes under, when the caller asked for progress.
    progress: Option<ProgressToken>,
    rx: broadcast::Receiver<(Option<u64>, ServerNotification)>,
}

impl Relay<'_> {
    /// Relays the next notification that belongs to this request: progress
    /// under its token; a log message that came on this request's own
    /// response stream (Streamable HTTP), or, when the transport cannot
    /// tell (stdio), while this is the upstream's only request in flight (a
    /// log message names no request). Pending forever once the connection
    /// is gone.
    async fn next(&mut self) {
        loop {
            match self.rx.recv().await {
                Ok((_, ServerNotification::Progress(p))) if self.progress.as_ref() == Some(&p.progress_token) => {
                    // The caller may be gone; the request goes on.
                    let _ = self.ctx.progress(p.progress, p.total, p.message.as_deref()).await;
                    return;
                }
                Ok((origin, ServerNotification::Log(m)))
                    if origin == Some(self.entered.id())
                        || (origin.is_none() && self.upstream.callers.only(self.entered)) =>
                {
                    let _ = self.ctx.log(m.level, m.logger.as_deref(), m.data).await;
                    return;
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    }
}

/// Asks the gateway's own caller what the upstream asked the gateway, under
/// the upstream's keys and all at once: in the legacy era as requests to
/// the caller, in the stateless era as one `input_required` round of the
/// gateway's own holding every request.
async fn ask_caller(ctx: &Context, requests: InputRequests) -> Result<Map<String, Value>, Error> {
    let asked = requests.into_iter().map(|(key, request)| async move {
        let response = match request {
            InputRequest::Elicitation(p) => InputResponse::Elicitation(ctx.elicit_as(&key, p).await?),
            InputRequest::Sampling(p) => InputResponse::Sampling(ctx.sample_as(&key, p).await?),
            InputRequest::ListRoots(_) => InputResponse::ListRoots(ctx.list_roots_as(&key).await?),
        };
        let value = serde_json::to_value(response).map_err(|e| Error::internal(format!("input response: {e}")))?;
        Ok::<_, Error>((key, value))
    });
    Ok(futures_util::future::try_join_all(asked).await?.into_iter().collect())
}

/// The failure of a request the upstream did not complete; a dead
/// connection is dropped, for the next request to reconnect.
fn failed(upstream: &Upstream, client: &Client, e: ClientError) -> Failure {
    match e {
        ClientError::Rpc(e) => Failure::Rpc(e),
        e @ (ClientError::Closed(_) | ClientError::Transport(_)) => {
            let reason = e.to_string();
            upstream.mark_dead(client, reason.clone());
            Failure::Unavailable(reason)
        }
        ClientError::Timeout { after, .. } => {
            let reason = format!("no answer within {after:?}");
            upstream.set_error(reason.clone());
            Failure::Unavailable(reason)
        }
        e => Failure::Unavailable(e.to_string()),
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
