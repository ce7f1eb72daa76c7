//! Work to do at the end of every invocation, before Lambda freezes the
//! process: flushing telemetry (`Telemetry::flush`), writing the EMF record
//! (`Emf::flush`).

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

type Hook = Arc<dyn Fn() + Send + Sync>;

/// The hooks run when an invocation ends. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct InvocationEnd {
    hooks: Arc<Vec<Hook>>,
}

impl fmt::Debug for InvocationEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} hook(s)", self.hooks.len())
    }
}

impl InvocationEnd {
    pub(crate) fn push(&mut self, hook: impl Fn() + Send + Sync + 'static) {
        let mut hooks = Vec::clone(&self.hooks);
        hooks.push(Arc::new(hook));
        self.hooks = Arc::new(hooks);
    }

    /// Runs the hooks on a blocking thread (exporters block), and waits.
    pub(crate) async fn run(&self) {
        if self.hooks.is_empty() {
            return;
        }
        let hooks = Arc::clone(&self.hooks);
        let ran = tokio::task::spawn_blocking(move || hooks.iter().for_each(|hook| hook())).await;
        if let Err(e) = ran {
            tracing::warn!(error = %e, "an end-of-invocation hook panicked");
        }
    }

    /// Runs the hooks without waiting (a streamed body ended: the runtime
    /// is still finishing the response).
    fn spawn(&self) {
        if self.hooks.is_empty() {
            return;
        }
        let hooks = Arc::clone(&self.hooks);
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            drop(handle.spawn_blocking(move || hooks.iter().for_each(|hook| hook())));
        }
    }
}

/// A streamed response body that runs the hooks once it ends (or is
/// dropped, when the client went away).
pub(crate) struct EndOfBody<B> {
    body: B,
    end: Option<InvocationEnd>,
}

impl<B> EndOfBody<B> {
    pub(crate) fn new(body: B, end: InvocationEnd) -> Self {
        Self { body, end: Some(end) }
    }

    fn finish(&mut self) {
        if let Some(end) = self.end.take() {
            end.spawn();
        }
    }
}

impl<B> Drop for EndOfBody<B> {
    fn drop(&mut self) {
        self.finish();
    }
}

impl<B: Body<Data = Bytes> + Unpin> Body for EndOfBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            self.finish();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
