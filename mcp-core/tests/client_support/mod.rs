//! What the client interop tests share: a free port, and waiting for a
//! spawned server to listen on it.

use std::time::Duration;

/// A port nothing listens on (the OS's pick, released at once).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Waits until something accepts connections on `port` (a server process
/// starting up), failing after 30 s.
pub(crate) async fn wait_listening(port: u16) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "no server listened on port {port}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
