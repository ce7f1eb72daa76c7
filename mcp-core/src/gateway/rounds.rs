//! What a legacy upstream asks during a call (server-to-client elicitation,
//! sampling and roots requests) routed to the caller of that call. The
//! request names no call, so it goes to the upstream's only call in
//! flight; with several in flight it is refused, naming the reason.
//! Each is asked of the caller under the key the upstream asked under when
//! it names one (this SDK's servers do, in `_meta["io.mcp-sdk/inputKey"]`),
//! otherwise under a key counted per call (`elicitation-1`...), so a
//! stateless caller's retry finds its answers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::async_trait;
use crate::client::{ElicitationHandler, RootsHandler, SamplingHandler};
use crate::jsonrpc::{ErrorCode, ErrorObject};
use crate::protocol::elicitation::{ElicitRequestParams, ElicitResult};
use crate::protocol::meta::{Meta, keys};
use crate::protocol::roots::ListRootsResult;
use crate::protocol::sampling::{CreateMessageRequestParams, CreateMessageResult};
use crate::server::Context;

/// The calls in flight to one upstream, with their callers' contexts.
#[derive(Default)]
pub(super) struct Callers {
    calls: Mutex<BTreeMap<u64, (Context, Arc<AtomicU32>)>>,
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
        self.calls.lock().unwrap_or_else(PoisonError::into_inner).insert(id, (ctx, Arc::default()));
        Entered { callers: Arc::clone(self), id }
    }

    /// Whether `ctx`'s call is the only one in flight (so that what the
    /// upstream sends without naming a call belongs to it).
    pub(super) fn only(&self, entered: &Entered) -> bool {
        let calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        calls.len() == 1 && calls.contains_key(&entered.id)
    }

    /// The caller to ask, and the key to ask under: the upstream's own
    /// (`keyed`, from the request's `_meta`), or one counted per call.
    fn sole(&self, what: &str, keyed: Option<String>) -> Result<(Context, String), ErrorObject> {
        let calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all = calls.values();
        match (all.next(), all.next()) {
            (Some((ctx, count)), None) => {
                let key = keyed.unwrap_or_else(|| {
                    let n = count.fetch_add(1, Ordering::Relaxed) + 1;
                    format!("{what}-{n}")
                });
                Ok((ctx.clone(), key))
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

fn error_object(ctx: &Context, e: &crate::Error) -> ErrorObject {
    e.to_error_object(Some(ctx.protocol_version()))
}

#[async_trait]
impl ElicitationHandler for Bridge {
    async fn elicit(&self, params: ElicitRequestParams) -> Result<ElicitResult, ErrorObject> {
        let mut params = params;
        let meta = match &mut params {
            ElicitRequestParams::Form(p) => &mut p.meta,
            ElicitRequestParams::Url(p) => &mut p.meta,
        };
        let (ctx, key) = self.0.sole("elicitation", take_key(meta))?;
        ctx.elicit_as(&key, params).await.map_err(|e| error_object(&ctx, &e))
    }
}

#[async_trait]
impl SamplingHandler for Bridge {
    async fn sample(&self, params: CreateMessageRequestParams) -> Result<CreateMessageResult, ErrorObject> {
        let mut params = params;
        let (ctx, key) = self.0.sole("sampling", take_key(&mut params.meta))?;
        ctx.sample_as(&key, params).await.map_err(|e| error_object(&ctx, &e))
    }
}

#[async_trait]
impl RootsHandler for Bridge {
    async fn list_roots(&self) -> Result<ListRootsResult, ErrorObject> {
        let (ctx, key) = self.0.sole("roots", None)?;
        ctx.list_roots_as(&key).await.map_err(|e| error_object(&ctx, &e))
    }
}
