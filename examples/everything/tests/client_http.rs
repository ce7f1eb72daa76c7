//! What the HTTP client does on the wire, seen by a proxy between it and
//! `examples/everything`: a legacy SSE stream cut mid-call is resumed with
//! `Last-Event-ID`, and the auth hook signs every request.

mod support;

use support::{Proxy, everything_http};

use std::time::Duration;

use mcp_core::client::{ApiKey, BearerToken, ClientBuilder, HttpTransport, Mode, RequestOptions, ServerNotification};

#[tokio::test]
async fn a_broken_legacy_stream_resumes_with_last_event_id() {
    let (_server, port) = everything_http().await;

    let proxy = Proxy::start(port, true).await;
    let url = format!("http://127.0.0.1:{}/mcp", proxy.port);
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
    assert!(proxy.was_cut(), "the proxy never cut a stream");
    let resumptions = proxy.heads().iter().filter(|h| h.starts_with("get ") && h.contains("last-event-id:")).count();
    assert_eq!(resumptions, 1, "one resumption GET");
    let mut progress = Vec::new();
    while let Ok(n) = notes.try_recv() {
        if let ServerNotification::Progress(p) = n {
            progress.push(p.progress);
        }
    }
    assert_eq!(progress, vec![0.0, 50.0, 100.0], "every progress event once, none lost or repeated");
    client.close().await;
}

/// The auth hook's headers ride every HTTP request the client makes: the
/// POSTs, the standalone GET stream and the closing DELETE.
#[tokio::test]
async fn the_auth_hook_signs_every_request() {
    let (_server, port) = everything_http().await;
    let proxy = Proxy::start(port, false).await;
    let url = format!("http://127.0.0.1:{}/mcp", proxy.port);
    let transport = HttpTransport::builder(&url)
        .auth(BearerToken::new("s3cret-token").expect("token"))
        .header(http::HeaderName::from_static("x-tenant"), http::HeaderValue::from_static("t1"))
        .get_stream(true)
        .build()
        .expect("transport");
    let client = ClientBuilder::new("auth-test", "0.0.1").mode(Mode::Legacy).connect(transport).await.expect("connect");
    client.list_tools().await.expect("tools/list");
    client.close().await;
    let heads = proxy.heads();
    for method in ["post ", "get ", "delete "] {
        assert!(heads.iter().any(|h| h.starts_with(method)), "no {method}request in {heads:?}");
    }
    for head in &heads {
        assert!(head.contains("authorization: bearer s3cret-token"), "unsigned request: {head}");
        assert!(head.contains("x-tenant: t1"), "{head}");
    }

    // An API key hook, on a stateless client.
    let transport =
        HttpTransport::builder(&url).auth(ApiKey::new("x-api-key", "k-123").expect("key")).build().expect("t");
    let client = ClientBuilder::new("auth-test", "0.0.1").connect(transport).await.expect("connect");
    assert!(client.negotiated().protocol_version.is_stateless());
    client.call_tool("test_simple_text", ()).await.expect("call");
    let heads = proxy.heads();
    let last = heads.last().expect("a request");
    assert!(last.contains("x-api-key: k-123") && last.contains("mcp-method: tools/call"), "{last}");
    assert!(last.contains("mcp-name: test_simple_text") && last.contains("mcp-protocol-version: 2026-07-28"), "{last}");
}

/// A call whose tool marks an argument `x-mcp-header`, made before any
/// `tools/list`: the server refuses it (-32020), the client learns the
/// marks and retries, and the call succeeds.
#[tokio::test]
async fn param_headers_are_learnt_on_demand() {
    let (_server, port) = everything_http().await;
    let url = format!("http://127.0.0.1:{port}/mcp");
    let client =
        ClientBuilder::new("params", "0.0.1").connect(HttpTransport::new(&url).expect("url")).await.expect("connect");
    let result =
        client.call_tool("test_header_param", serde_json::json!({"region": "ap-south-1"})).await.expect("call");
    assert_eq!(result.content[0].as_text(), Some("Region: ap-south-1"));
}
