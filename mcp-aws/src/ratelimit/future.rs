//! [`ResponseFuture`]: the inner service's answer, or an immediate
//! rejection.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use mcp_core::jsonrpc::Response;

pin_project_lite::pin_project! {
    /// The future of [`RateLimit`](super::RateLimit).
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F> {
        Admitted { #[pin] inner: F },
        Rejected { response: Option<Response> },
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn admitted(inner: F) -> Self {
        Self { state: State::Admitted { inner } }
    }

    pub(crate) fn rejected(response: Response) -> Self {
        Self { state: State::Rejected { response: Some(response) } }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Admitted { .. } => "admitted",
            State::Rejected { .. } => "rejected",
        };
        f.debug_struct("ResponseFuture").field("state", &state).finish()
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Option<Response>, E>>,
{
    type Output = Result<Option<Response>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Admitted { inner } => inner.poll(cx),
            StateProj::Rejected { response } => Poll::Ready(Ok(response.take())),
        }
    }
}
