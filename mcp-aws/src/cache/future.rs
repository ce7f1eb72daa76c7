//! [`ResponseFuture`]: the inner service's answer, a hit answered at once,
//! or the layer's own work (a lookup that waits, a miss, a flight).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use mcp_core::jsonrpc::Response;
use mcp_core::server::BoxFuture;

pin_project_lite::pin_project! {
    /// The future of [`Cache`](super::Cache).
    pub struct ResponseFuture<F, E> {
        #[pin]
        state: State<F, E>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F, E> {
        Passed { #[pin] inner: F },
        Hit { response: Option<Response> },
        Cached { work: BoxFuture<Result<Option<Response>, E>> },
    }
}

impl<F, E> ResponseFuture<F, E> {
    pub(super) fn passed(inner: F) -> Self {
        Self { state: State::Passed { inner } }
    }

    pub(super) fn hit(response: Response) -> Self {
        Self { state: State::Hit { response: Some(response) } }
    }

    pub(super) fn cached(work: BoxFuture<Result<Option<Response>, E>>) -> Self {
        Self { state: State::Cached { work } }
    }
}

impl<F, E> std::fmt::Debug for ResponseFuture<F, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Passed { .. } => "passed",
            State::Hit { .. } => "hit",
            State::Cached { .. } => "cached",
        };
        f.debug_struct("ResponseFuture").field("state", &state).finish()
    }
}

impl<F, E> Future for ResponseFuture<F, E>
where
    F: Future<Output = Result<Option<Response>, E>>,
{
    type Output = Result<Option<Response>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Passed { inner } => inner.poll(cx),
            StateProj::Hit { response } => Poll::Ready(Ok(response.take())),
            StateProj::Cached { work } => work.as_mut().poll(cx),
        }
    }
}
