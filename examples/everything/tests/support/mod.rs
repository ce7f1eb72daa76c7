//! What the client tests share: a free port, waiting for a spawned server
//! to listen on it, and a recording proxy.

// Each test binary uses a part of this module.
#![allow(dead_code)]

#[path = "../../../../mcp-core/tests/client_support/mod.rs"]
mod ports;

pub(crate) use ports::{free_port, wait_listening};

/// `examples/everything` serving Streamable HTTP on a free port (killed
/// when the child is dropped), once it listens.
pub(crate) async fn everything_http() -> (tokio::process::Child, u16) {
    let port = free_port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_everything"))
        .env("PORT", port.to_string())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn everything");
    wait_listening(port).await;
    (child, port)
}

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A TCP proxy in front of a server on `upstream`: records the head of
/// every HTTP request it forwards and, when asked, cuts the first response
/// stream that carries a progress notification.
pub(crate) struct Proxy {
    /// The port clients connect to.
    pub(crate) port: u16,
    cut_on_progress: bool,
    cut: AtomicBool,
    heads: Mutex<Vec<String>>,
}

impl Proxy {
    pub(crate) async fn start(upstream: u16, cut_on_progress: bool) -> Arc<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let proxy =
            Arc::new(Self { port, cut_on_progress, cut: AtomicBool::new(false), heads: Mutex::new(Vec::new()) });
        let accepting = proxy.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(accepting.clone().pipe(conn, upstream));
            }
        });
        proxy
    }

    /// Whether a stream was cut.
    pub(crate) fn was_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }

    /// The request heads seen so far, lower-cased (method line and headers).
    pub(crate) fn heads(&self) -> Vec<String> {
        self.heads.lock().map(|h| h.clone()).unwrap_or_default()
    }

    async fn pipe(self: Arc<Self>, client: TcpStream, upstream: u16) {
        let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else { return };
        let (mut cr, mut cw) = client.into_split();
        let (mut sr, mut sw) = server.into_split();
        let watch = self.clone();
        let up = tokio::spawn(async move {
            let mut buf = vec![0; 16 * 1024];
            while let Ok(n @ 1..) = cr.read(&mut buf).await {
                let text = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
                if let Some((head, _)) = text.split_once("\r\n\r\n")
                    && let Ok(mut heads) = watch.heads.lock()
                {
                    heads.push(head.to_owned());
                }
                if sw.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        });
        let mut buf = vec![0; 16 * 1024];
        while let Ok(n @ 1..) = sr.read(&mut buf).await {
            if cw.write_all(&buf[..n]).await.is_err() {
                break;
            }
            let chunk = String::from_utf8_lossy(&buf[..n]);
            if self.cut_on_progress
                && chunk.contains("notifications/progress")
                && !self.cut.swap(true, Ordering::SeqCst)
            {
                // Both directions drop: the client sees its stream break.
                break;
            }
        }
        up.abort();
    }
}
