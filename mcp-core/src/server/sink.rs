//! The channel a transport gives the dispatcher for what a request sends
//! besides its response.

use std::fmt;
#[cfg(feature = "http")]
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::jsonrpc::Message;
#[cfg(feature = "http")]
pub(crate) use lazy::LazyReceiver;

/// Where the dispatcher sends messages that are not the response itself:
/// notifications related to a request (progress, log messages) and requests
/// to the client (sampling, elicitation, roots).
///
/// Each item is one encoded JSON-RPC message. On stdio every sink writes to
/// stdout; on HTTP a request's sink is its SSE stream. A sink's channel is
/// bounded, so a slow client slows the handler instead of growing memory.
#[derive(Clone)]
pub struct Sink {
    tx: Tx,
}

#[derive(Clone)]
enum Tx {
    None,
    Open(mpsc::Sender<String>),
    /// The HTTP transport's: the channel is made when the handler first
    /// sends, so that a request answered with plain JSON (most are) costs
    /// no channel.
    #[cfg(feature = "http")]
    Lazy(Arc<lazy::Lazy>),
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sink").field("open", &self.is_open()).finish()
    }
}

/// The receiving side of a [`Sink`] is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the client's stream is closed")]
pub struct SinkClosed;

impl Sink {
    /// A sink and the receiver the transport drains, holding at most
    /// `capacity` messages.
    pub fn channel(capacity: usize) -> (Self, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Self { tx: Tx::Open(tx) }, rx)
    }

    /// A sink whose channel is made on its first message, and the
    /// transport's side of it.
    #[cfg(feature = "http")]
    pub(crate) fn lazy(capacity: usize) -> (Self, LazyReceiver) {
        let (lazy, receiver) = lazy::Lazy::new(capacity);
        (Self { tx: Tx::Lazy(lazy) }, receiver)
    }

    /// A sink that accepts nothing (e.g. an `application/json` response that
    /// cannot carry notifications). Sending to it fails with [`SinkClosed`].
    pub fn none() -> Self {
        Self { tx: Tx::None }
    }

    /// Whether this sink was made by [`Sink::none`]: the transport cannot
    /// carry anything but the response.
    pub fn is_none(&self) -> bool {
        matches!(self.tx, Tx::None)
    }

    /// Whether a receiver may still read what is sent.
    pub fn is_open(&self) -> bool {
        match &self.tx {
            Tx::None => false,
            Tx::Open(tx) => !tx.is_closed(),
            #[cfg(feature = "http")]
            Tx::Lazy(lazy) => lazy.is_open(),
        }
    }

    /// Sends a message, waiting while the channel is full.
    ///
    /// # Errors
    /// [`SinkClosed`] when nobody reads this sink.
    pub async fn send(&self, message: &Message) -> Result<(), SinkClosed> {
        self.send_raw(message.to_json()).await
    }

    /// Sends one already-encoded JSON-RPC message if there is room now.
    ///
    /// # Errors
    /// [`SinkClosed`] when nobody reads this sink or its queue is full.
    pub fn try_send_raw(&self, json: String) -> Result<(), SinkClosed> {
        self.sender()?.try_send(json).map_err(|_| SinkClosed)
    }

    /// Sends one already-encoded JSON-RPC message.
    ///
    /// # Errors
    /// [`SinkClosed`] when nobody reads this sink.
    pub async fn send_raw(&self, json: String) -> Result<(), SinkClosed> {
        self.sender()?.send(json).await.map_err(|_| SinkClosed)
    }

    fn sender(&self) -> Result<&mpsc::Sender<String>, SinkClosed> {
        match &self.tx {
            Tx::None => Err(SinkClosed),
            Tx::Open(tx) => Ok(tx),
            #[cfg(feature = "http")]
            Tx::Lazy(lazy) => lazy.sender(),
        }
    }
}

/// The lazy mode of [`Sink`] (the HTTP transport's).
#[cfg(feature = "http")]
mod lazy {
    use std::fmt;
    use std::future::poll_fn;
    use std::sync::{Arc, Mutex, OnceLock, PoisonError};
    use std::task::Poll;

    use futures_util::task::AtomicWaker;
    use tokio::sync::mpsc;

    use super::SinkClosed;

    /// What a lazy sink shares with its transport.
    pub(crate) struct Lazy {
        capacity: usize,
        /// Set once, when the channel is made.
        tx: OnceLock<mpsc::Sender<String>>,
        state: Mutex<LazyState>,
        /// The transport, waiting for the channel to open.
        opened: AtomicWaker,
    }

    struct LazyState {
        /// The receiver, made with the channel, until the transport takes it.
        rx: Option<mpsc::Receiver<String>>,
        /// The transport answered without a stream (or went away): nothing
        /// sent from now on can be read.
        closed: bool,
    }

    impl Lazy {
        pub(super) fn new(capacity: usize) -> (Arc<Self>, LazyReceiver) {
            let lazy = Arc::new(Self {
                capacity: capacity.max(1),
                tx: OnceLock::new(),
                state: Mutex::new(LazyState { rx: None, closed: false }),
                opened: AtomicWaker::new(),
            });
            (Arc::clone(&lazy), LazyReceiver(lazy))
        }

        pub(super) fn is_open(&self) -> bool {
            match self.tx.get() {
                Some(tx) => !tx.is_closed(),
                None => !self.lock().closed,
            }
        }

        fn lock(&self) -> std::sync::MutexGuard<'_, LazyState> {
            self.state.lock().unwrap_or_else(PoisonError::into_inner)
        }

        /// The sender, making the channel if this is the first message; an
        /// error once the transport has answered without a stream.
        pub(super) fn sender(&self) -> Result<&mpsc::Sender<String>, SinkClosed> {
            if let Some(tx) = self.tx.get() {
                return Ok(tx);
            }
            let tx = {
                // Under the lock, so that the transport either sees the channel
                // made (and streams) or closes it first (and this fails).
                let mut state = self.lock();
                if state.closed {
                    return Err(SinkClosed);
                }
                self.tx.get_or_init(|| {
                    let (tx, rx) = mpsc::channel(self.capacity);
                    state.rx = Some(rx);
                    tx
                })
            };
            self.opened.wake();
            Ok(tx)
        }
    }

    /// The transport's side of [`Sink::lazy`]. Dropping it closes the sink.
    pub(crate) struct LazyReceiver(Arc<Lazy>);

    impl LazyReceiver {
        /// Waits until the handler opens the channel, and takes its receiver.
        pub(crate) async fn opened(&self) -> mpsc::Receiver<String> {
            poll_fn(|cx| {
                if self.0.tx.get().is_none() {
                    self.0.opened.register(cx.waker());
                    if self.0.tx.get().is_none() {
                        return Poll::Pending;
                    }
                }
                match self.0.lock().rx.take() {
                    Some(rx) => Poll::Ready(rx),
                    // Taken already (by an earlier call, or `take_or_close`):
                    // the one caller, `respond`, never asks twice.
                    None => {
                        debug_assert!(false, "the receiver of a lazy sink is taken once");
                        Poll::Pending
                    }
                }
            })
            .await
        }

        /// The receiver if the channel was opened; otherwise closes the sink,
        /// so that later sends fail instead of being lost.
        pub(crate) fn take_or_close(&self) -> Option<mpsc::Receiver<String>> {
            let mut state = self.0.lock();
            if self.0.tx.get().is_none() {
                state.closed = true;
            }
            state.rx.take()
        }

        /// The receiver, opening the channel now if the handler has not.
        pub(crate) fn open_now(&self) -> Option<mpsc::Receiver<String>> {
            // Fails only once closed, which only this side does.
            self.0.sender().ok()?;
            self.0.lock().rx.take()
        }
    }

    impl Drop for LazyReceiver {
        fn drop(&mut self) {
            let mut state = self.0.lock();
            state.closed = true;
            // A receiver never taken goes now: senders see the channel closed.
            state.rx = None;
        }
    }

    impl fmt::Debug for LazyReceiver {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("LazyReceiver").field("opened", &self.0.tx.get().is_some()).finish()
        }
    }
}

#[cfg(all(test, feature = "http"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lazy_sink_opens_on_its_first_message_and_fails_once_closed() {
        let (sink, receiver) = Sink::lazy(4);
        assert!(sink.is_open() && !sink.is_none(), "open before anything is sent");
        // Nothing sent: the transport answers with JSON and closes it.
        assert!(receiver.take_or_close().is_none());
        assert!(!sink.is_open());
        assert_eq!(sink.send_raw("late".into()).await, Err(SinkClosed), "nothing is acknowledged then lost");

        let (sink, receiver) = Sink::lazy(4);
        sink.send_raw("first".into()).await.expect("opens the channel");
        let mut rx = receiver.opened().await;
        assert_eq!(rx.try_recv().ok().as_deref(), Some("first"));
        sink.try_send_raw("second".into()).expect("still open");
        assert_eq!(rx.recv().await.as_deref(), Some("second"));
        drop(rx);
        assert_eq!(sink.send_raw("gone".into()).await, Err(SinkClosed));

        // Dropping the transport's side without taking the receiver closes
        // the sink too (the client went away).
        let (sink, receiver) = Sink::lazy(4);
        drop(receiver);
        assert_eq!(sink.try_send_raw("x".into()), Err(SinkClosed));

        // Opened by the transport (a long call streams): sends go there.
        let (sink, receiver) = Sink::lazy(4);
        let mut rx = receiver.open_now().expect("receiver");
        sink.send_raw("later".into()).await.expect("sent");
        assert_eq!(rx.recv().await.as_deref(), Some("later"));
    }
}
