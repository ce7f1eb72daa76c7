//! What a legacy upstream asks during a call (server-to-client elicitation,
//! sampling and roots requests) routed to the caller of that call: over
//! Streamable HTTP the request comes on the call's own response stream,
//! which tells the call ([`client::origin`](crate::client::origin)); over
//! stdio it names no call, so it goes to the upstream's only call in
//! flight, and with several in flight it is refused, naming the reason.
//! Each is asked of the caller under the key the upstream asked under when
//! it names one (this SDK's servers do, in `_meta["io.mcp-sdk/inputKey"]`),
//! otherwise under a key counted per call (`elicitation-1`...), so a
//! stateless caller's retry finds its answers. A stateless caller's
//! round waits [`GATHER_WINDOW`] after each question for the next, so the
//! questions the upstream asks together reach the caller in one round;
//! when the caller's request ends (that round answered `input_required`,
//! or cancelled), the questions still waiting are answered with an error
//! and their tasks end.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio_util::sync::{CancellationToken, DropGuard};

use crate::async_trait;
use crate::client::{ElicitationHandler, RootsHandler, SamplingHandler};
use crate::jsonrpc::{ErrorCode, ErrorObject};
use crate::protocol::elicitation::{ElicitRequestParams, ElicitResult};
use crate::protocol::meta::{Meta, keys};
use crate::protocol::roots::ListRootsResult;
use crate::protocol::sampling::{CreateMessageRequestParams, CreateMessageResult};
use crate::server::Context;

/// How long a stateless caller's round waits after a legacy upstream's
/// question for the next one before it goes to the caller. A legacy
/// upstream asking several things at once sends them as separate requests
/// (microseconds apart on one connection); the window also covers a busy
/// machine.
pub(super) const GATHER_WINDOW: Duration = Duration::from_millis(50);

/// One call in flight: its caller's context, the count of keys it handed
/// out, and the token cancelled when the call ends.
struct Call {
    ctx: Context,
    count: Arc<AtomicU32>,
    ended: CancellationToken,
}

/// The calls in flight to one upstream, with their callers' contexts.
#[derive(Default)]
pub(super) struct Callers {
    calls: Mutex<BTreeMap<u64, Call>>,
    next: AtomicU64,
}

impl std::fmt::Debug for Callers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.calls.lock().unwrap_or_else(PoisonError::into_inner).len();
        f.debug_struct("Callers").field("in_flight", &n).finish()
    }
}

/// Removes its call from [`Callers`] when the call ends.
pub(super) struct Entered {
    callers: Arc<Callers>,
    id: u64,
    /// Cancels the call's token, ending the questions still waiting.
    _ended: DropGuard,
}

impl Entered {
    /// The number the call is recorded under: its upstream requests'
    /// [`origin`](crate::client::RequestOptions::origin).
    pub(super) fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        self.callers.calls.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.id);
    }
}

impl Callers {
    /// Records a call from `ctx`'s caller until the guard drops.
    pub(super) fn enter(self: &Arc<Self>, ctx: Context) -> Entered {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let ended = CancellationToken::new();
        let call = Call { ctx, count: Arc::default(), ended: ended.clone() };
        self.calls.lock().unwrap_or_else(PoisonError::into_inner).insert(id, call);
        Entered { callers: Arc::clone(self), id, _ended: ended.drop_guard() }
    }

    /// Whether `ctx`'s call is the only one in flight (so that what the
    /// upstream sends without naming a call belongs to it).
    pub(super) fn only(&self, entered: &Entered) -> bool {
        let calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        calls.len() == 1 && calls.contains_key(&entered.id)
    }

    /// The caller to ask, the key to ask under (the upstream's own,
    /// `keyed`, from the request's `_meta`, or one counted per call) and
    /// the token cancelled when the call ends.
    fn asked_of(&self, what: &str, keyed: Option<String>) -> Result<(Context, String, CancellationToken), ErrorObject> {
        let calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        // The call whose stream the request came on, when the transport
        // says (none if that call has ended: never another caller's).
        let mut all = calls.values();
        let (first, second) = match crate::client::origin() {
            Some(id) => (calls.get(&id), None),
            None => (all.next(), all.next()),
        };
        match (first, second) {
            (Some(call), None) => {
                let key = keyed.unwrap_or_else(|| {
                    let n = call.count.fetch_add(1, Ordering::Relaxed) + 1;
                    format!("{what}-{n}")
                });
                Ok((call.ctx.clone(), key, call.ended.clone()))
            }
            (None, _) => {
                Err(ErrorObject::new(ErrorCode::INVALID_REQUEST, format!("no call in flight to ask {what} for")))
            }
            (Some(_), Some(_)) => Err(ErrorObject::new(
                ErrorCode::INVALID_REQUEST,
                format!("several calls in flight: the gateway cannot tell whose caller to ask {what} of"),
            )),
        }
    }
}

/// The client handlers that pass a legacy upstream's requests on.
#[derive(Clone)]
pub(super) struct Bridge(pub(super) Arc<Callers>);

/// Takes the key an upstream of this SDK asked under out of the request's
/// `_meta` (dropping an emptied `_meta`).
fn take_key(meta: &mut Option<Meta>) -> Option<String> {
    let found = meta.as_mut()?.remove(keys::INPUT_KEY)?;
    if meta.as_ref().is_some_and(Meta::is_empty) {
        *meta = None;
    }
    found.as_str().map(str::to_owned)
}

/// Asks `ctx`'s caller with `ask`, unless the call ends first: then the
/// upstream gets an error (its call is being cancelled, or a stateless
/// caller's round ended and the question goes out in the retry).
async fn asked<T>(
    ctx: &Context,
    ended: &CancellationToken,
    ask: impl Future<Output = Result<T, crate::Error>>,
) -> Result<T, ErrorObject> {
    tokio::select! {
        out = ask => out.map_err(|e| e.to_error_object(Some(ctx.protocol_version()))),
        () = ended.cancelled() => Err(ErrorObject::new(
            ErrorCode::REQUEST_CANCELLED,
            "the gateway's call ended before its caller answered",
        )),
    }
}

#[async_trait]
impl ElicitationHandler for Bridge {
    async fn elicit(&self, params: ElicitRequestParams) -> Result<ElicitResult, ErrorObject> {
        let mut params = params;
        let meta = match &mut params {
            ElicitRequestParams::Form(p) => &mut p.meta,
            ElicitRequestParams::Url(p) => &mut p.meta,
        };
        let (ctx, key, ended) = self.0.asked_of("elicitation", take_key(meta))?;
        asked(&ctx, &ended, ctx.elicit_as(&key, params)).await
    }
}

#[async_trait]
impl SamplingHandler for Bridge {
    async fn sample(&self, params: CreateMessageRequestParams) -> Result<CreateMessageResult, ErrorObject> {
        let mut params = params;
        let (ctx, key, ended) = self.0.asked_of("sampling", take_key(&mut params.meta))?;
        asked(&ctx, &ended, ctx.sample_as(&key, params)).await
    }
}

#[async_trait]
impl RootsHandler for Bridge {
    async fn list_roots(&self) -> Result<ListRootsResult, ErrorObject> {
        let (ctx, key, ended) = self.0.asked_of("roots", None)?;
        asked(&ctx, &ended, ctx.list_roots_as(&key)).await
    }
}
