//! The header timeout of [`serve`](super::serve): a connection that goes
//! [`HttpOptions::header_timeout`](super::HttpOptions::header_timeout)
//! without a request's headers, while nothing is being answered on it, is
//! closed: a client that connects and sends nothing, one that trickles its
//! headers a byte at a time, and a keep-alive connection left idle.
//!
//! hyper's own `header_read_timeout` does this with a timer armed and
//! dropped for every request (a timer-wheel entry, a boxed `Sleep` and a
//! clock read each time, about 1 µs of a 2-core VM's CPU per request under
//! load). Here each connection has one coarse timer instead, and a request
//! costs two counter updates: [`Watch::start`] when its headers are in (the
//! service is called), and the [`Busy`] guard's drop when hyper has taken
//! its response's last frame, or dropped it. The timer ticks every half timeout
//! and the connection is closed after two quiet ticks in a row: between
//! one and one and a half timeouts after the last activity.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::HttpBody;

/// One connection's activity: requests started and ended, and how many are
/// being answered.
#[derive(Debug, Default)]
pub(super) struct Watch {
    /// Bumped when a request starts and when it ends.
    progress: AtomicU64,
    /// Requests whose responses are not done yet.
    busy: AtomicU64,
}

impl Watch {
    /// A request's headers are in: the connection is busy until the
    /// returned guard drops.
    pub(super) fn start(self: &Arc<Self>) -> Busy {
        self.progress.fetch_add(1, Ordering::Relaxed);
        self.busy.fetch_add(1, Ordering::Relaxed);
        Busy(Arc::clone(self))
    }

    /// Completes once the connection has been quiet (no request started or
    /// ended, none in progress) for at least `timeout`.
    pub(super) async fn stalled(&self, timeout: Duration) {
        let tick = timeout / 2;
        let mut seen = self.progress.load(Ordering::Relaxed);
        let mut quiet = 0;
        loop {
            tokio::time::sleep(tick).await;
            let now = self.progress.load(Ordering::Relaxed);
            if now != seen || self.busy.load(Ordering::Relaxed) > 0 {
                seen = now;
                quiet = 0;
            } else {
                quiet += 1;
                if quiet >= 2 {
                    return;
                }
            }
        }
    }
}

/// Marks a connection busy while a response is being produced or sent.
#[derive(Debug)]
pub(super) struct Busy(Arc<Watch>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
        self.0.progress.fetch_add(1, Ordering::Relaxed);
    }
}

/// A response body that keeps its connection marked busy until hyper has
/// taken its last frame (or dropped it): an SSE stream is not a stalled
/// connection. (hyper drops the body when it takes the last frame, before
/// the bytes reach the socket, as its own header timer also started then.)
#[derive(Debug)]
pub(super) struct Watched {
    pub(super) body: HttpBody,
    pub(super) _busy: Busy,
}

impl Body for Watched {
    type Data = Bytes;
    type Error = <HttpBody as Body>::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn quiet_for_a_whole_timeout_is_stalled_and_busy_never_is() {
        let timeout = Duration::from_secs(30);
        let w = Arc::new(Watch::default());
        // Busy: a long response does not count as stalled.
        let busy = w.start();
        let stalled = tokio::time::timeout(Duration::from_secs(120), w.stalled(timeout)).await;
        assert!(stalled.is_err(), "a connection answering a request is not stalled");
        drop(busy);
        // Quiet from here: stalled after one to one and a half timeouts.
        let began = tokio::time::Instant::now();
        w.stalled(timeout).await;
        let took = began.elapsed();
        assert!(took >= timeout && took <= timeout * 3 / 2, "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn requests_keep_a_connection_alive() {
        let timeout = Duration::from_secs(30);
        let w = Arc::new(Watch::default());
        let worker = Arc::clone(&w);
        let requests = async move {
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_secs(20)).await;
                drop(worker.start());
            }
        };
        tokio::select! {
            () = requests => {}
            () = w.stalled(timeout) => panic!("a request every 20 s keeps a 30 s timeout from firing"),
        }
    }
}
