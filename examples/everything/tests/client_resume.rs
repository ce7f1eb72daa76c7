//! A legacy SSE stream that breaks mid-call is resumed with `Last-Event-ID`:
//! a proxy between the client and `examples/everything` cuts the first
//! response stream right after its first progress event; the client opens
//! a GET with the last event id and gets the rest of the call.

mod support;

use support::{free_port, wait_listening};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use mcp_core::client::{ClientBuilder, HttpTransport, Mode, RequestOptions, ServerNotification};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;

struct Proxy {
    cut: AtomicBool,
    gets_with_last_event_id: AtomicUsize,
}

async fn pipe(client: TcpStream, upstream_port: u16, proxy: Arc<Proxy>) {
    let Ok(upstream) = TcpStream::connect(("127.0.0.1", upstream_port)).await else { return };
    let (mut cr, mut cw) = client.into_split();
    let (mut ur, mut uw) = upstream.into_split();
    let watch = proxy.clone();
    let up = tokio::spawn(async move {
        let mut buf = vec![0; 16 * 1024];
        while let Ok(n @ 1..) = cr.read(&mut buf).await {
            let text = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
            if text.starts_with("get ") && text.contains("last-event-id:") {
                watch.gets_with_last_event_id.fetch_add(1, Ordering::SeqCst);
            }
            if uw.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    });
    let mut buf = vec![0; 16 * 1024];
    while let Ok(n @ 1..) = ur.read(&mut buf).await {
        if cw.write_all(&buf[..n]).await.is_err() {
            break;
        }
        let chunk = String::from_utf8_lossy(&buf[..n]);
        if chunk.contains("notifications/progress") && !proxy.cut.swap(true, Ordering::SeqCst) {
            // Drop both directions: the client sees its stream break.
            break;
        }
    }
    up.abort();
}

#[tokio::test]
async fn a_broken_legacy_stream_resumes_with_last_event_id() {
    let port = free_port();
    let _server = Command::new(env!("CARGO_BIN_EXE_everything"))
        .env("PORT", port.to_string())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn everything");
    wait_listening(port).await;

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let proxy_port = listener.local_addr().expect("addr").port();
    let proxy = Arc::new(Proxy { cut: AtomicBool::new(false), gets_with_last_event_id: AtomicUsize::new(0) });
    let accepting = proxy.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(pipe(conn, port, accepting.clone()));
        }
    });

    let url = format!("http://127.0.0.1:{proxy_port}/mcp");
    let client = ClientBuilder::new("resume-test", "0.0.1")
        .mode(Mode::Legacy)
        .timeout(Duration::from_secs(20))
        .connect(HttpTransport::new(&url).expect("url"))
        .await
        .expect("connect");
    let mut notes = client.notifications();
    let opts = RequestOptions::new().progress("resume");
    let result = client.call_tool_with("test_tool_with_progress", (), &opts).await.expect("the call survives the cut");
    assert_eq!(result.content[0].as_text(), Some("\"resume\""));
    assert!(proxy.cut.load(Ordering::SeqCst), "the proxy never cut a stream");
    assert_eq!(proxy.gets_with_last_event_id.load(Ordering::SeqCst), 1, "one resumption GET");
    let mut progress = Vec::new();
    while let Ok(n) = notes.try_recv() {
        if let ServerNotification::Progress(p) = n {
            progress.push(p.progress);
        }
    }
    assert_eq!(progress, vec![0.0, 50.0, 100.0], "every progress event once, none lost or repeated");
    client.close().await;
}
