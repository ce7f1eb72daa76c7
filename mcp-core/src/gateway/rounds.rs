//! What a legacy upstream asks during a call (server-to-client elicitation,
//! sampling and roots requests) routed to the caller of that call. The
//! request names no call, so it goes to the upstream's only call in
//! flight; with several in flight it is refused, naming the reason.
//! Each is asked of the caller under a key counted per call
//! (`elicitation-1`...), so a stateless caller's retry finds its answers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::async_trait;
use crate::client::{ElicitationHandler, RootsHandler, SamplingHandler};
use crate::jsonrpc::{ErrorCode, ErrorObject};
use crate::protocol::elicitation::{ElicitRequestParams, ElicitResult};
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

    /// The caller to ask, and the key to ask under.
    fn sole(&self, what: &str) -> Result<(Context, String), ErrorObject> {
        let calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all = calls.values();
        match (all.next(), all.next()) {
            (Some((ctx, count)), None) => {
                let n = count.fetch_add(1, Ordering::Relaxed) + 1;
                Ok((ctx.clone(), format!("{what}-{n}")))
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

fn error_object(ctx: &Context, e: &crate::Error) -> ErrorObject {
    e.to_error_object(Some(ctx.protocol_version()))
}

#[async_trait]
impl ElicitationHandler for Bridge {
    async fn elicit(&self, params: ElicitRequestParams) -> Result<ElicitResult, ErrorObject> {
        let (ctx, key) = self.0.sole("elicitation")?;
        ctx.elicit_as(&key, params).await.map_err(|e| error_object(&ctx, &e))
    }
}

#[async_trait]
impl SamplingHandler for Bridge {
    async fn sample(&self, params: CreateMessageRequestParams) -> Result<CreateMessageResult, ErrorObject> {
        let (ctx, key) = self.0.sole("sampling")?;
        ctx.sample_as(&key, params).await.map_err(|e| error_object(&ctx, &e))
    }
}

#[async_trait]
impl RootsHandler for Bridge {
    async fn list_roots(&self) -> Result<ListRootsResult, ErrorObject> {
        let (ctx, key) = self.0.sole("roots")?;
        ctx.list_roots_as(&key).await.map_err(|e| error_object(&ctx, &e))
    }
}
