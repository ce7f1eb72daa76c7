//! `Client::listen`: a stateless server's list changes over a
//! `subscriptions/listen` stream, for as long as the subscription is held.

use std::time::Duration;

use mcp_core::client::{Client, ClientBuilder, ClientError, HttpTransport, Mode, ServerNotification, StdioTransport};
use mcp_core::protocol::subscriptions::SubscriptionFilter;
use mcp_core::server::{Context, NoArgs, Server, ServerBuilder, ToolRoute};
use mcp_core::transport::http::{StreamableHttp, serve_listener};
use tokio::sync::broadcast;

fn server() -> Server {
    ServerBuilder::new("live", "1")
        .tool(ToolRoute::new("first", |_ctx: Context, _: NoArgs| async { "one" }))
        .build()
        .expect("server")
}

fn tool(name: &str) -> ToolRoute {
    ToolRoute::new(name, |_ctx: Context, _: NoArgs| async { "more" })
}

/// A client in `mode` connected to [`server`] over an in-process pipe.
async fn on_a_pipe(mode: Mode) -> Client {
    let (client_end, server_end) = tokio::io::duplex(1 << 16);
    let (sr, sw) = tokio::io::split(server_end);
    tokio::spawn(mcp_core::transport::stdio::serve_on(server(), sr, sw, Default::default()));
    let (read, write) = tokio::io::split(client_end);
    ClientBuilder::new("t", "1").mode(mode).connect(StdioTransport::from_streams(read, write)).await.expect("connect")
}

/// Whether a `tools/list_changed` arrives within `wait`.
async fn tools_changed(notes: &mut broadcast::Receiver<ServerNotification>, wait: Duration) -> bool {
    tokio::time::timeout(wait, async {
        loop {
            match notes.recv().await {
                Ok(ServerNotification::ToolsListChanged) => return true,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return false,
            }
        }
    })
    .await
    .unwrap_or(false)
}

#[tokio::test]
async fn list_changes_arrive_over_http_while_the_subscription_is_held() {
    let server = server();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    tokio::spawn(serve_listener(listener, StreamableHttp::new(server.clone()), std::future::pending()));
    let transport = HttpTransport::builder(&url).build().expect("transport");
    let client = ClientBuilder::new("t", "1").connect(transport).await.expect("connect");
    assert!(client.negotiated().protocol_version.is_stateless());

    let mut notes = client.notifications();
    let filter =
        SubscriptionFilter { tools_list_changed: Some(true), prompts_list_changed: Some(true), ..Default::default() };
    let subscription = client.listen(filter).await.expect("listen");
    assert!(subscription.acknowledged().tools());
    assert!(!subscription.acknowledged().prompts(), "the server has no prompts: {:?}", subscription.acknowledged());
    assert!(!tools_changed(&mut notes, Duration::from_millis(200)).await, "nothing changed yet");

    server.add_tool(tool("second")).expect("add");
    assert!(tools_changed(&mut notes, Duration::from_secs(5)).await, "the change arrives on the stream");
    // Calls go on beside the open stream.
    assert_eq!(client.list_tools().await.expect("list").len(), 2);

    drop(subscription);
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.add_tool(tool("third")).expect("add");
    assert!(!tools_changed(&mut notes, Duration::from_millis(500)).await, "a dropped subscription hears nothing");
}

#[tokio::test]
async fn a_legacy_session_is_told_it_needs_no_listen_stream() {
    let client = on_a_pipe(Mode::Legacy).await;
    match client.listen(SubscriptionFilter::default()).await {
        Err(ClientError::Protocol(reason)) => assert!(reason.contains("subscriptions/listen"), "{reason}"),
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_stream_ends_with_the_client() {
    let client = on_a_pipe(Mode::Auto).await;
    let filter = SubscriptionFilter { tools_list_changed: Some(true), ..Default::default() };
    let subscription = client.listen(filter).await.expect("listen");
    assert!(!subscription.is_closed());
    drop(client);
    tokio::time::timeout(Duration::from_secs(5), subscription.closed()).await.expect("the stream ends with the client");
}
