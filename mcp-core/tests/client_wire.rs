//! The client's wire behaviour against a scripted peer on an in-process
//! pipe: what it sends in each era, how it falls back, and how it reacts
//! to answers a real server would rarely give.

use std::time::Duration;

use mcp_core::client::{Client, ClientBuilder, ClientError, Mode, RequestOptions, StdioTransport};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines, ReadHalf, WriteHalf};

/// The server's end of the pipe.
struct Peer {
    lines: Lines<BufReader<ReadHalf<DuplexStream>>>,
    out: WriteHalf<DuplexStream>,
}

impl Peer {
    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(5), self.lines.next_line())
            .await
            .expect("the client sent nothing")
            .expect("read")
            .expect("the client closed the pipe");
        serde_json::from_str(&line).expect("the client sent JSON")
    }

    async fn send(&mut self, v: Value) {
        let mut line = v.to_string();
        line.push('\n');
        self.out.write_all(line.as_bytes()).await.expect("write");
    }

    async fn reply(&mut self, request: &Value, result: Value) {
        self.send(json!({"jsonrpc": "2.0", "id": request["id"], "result": result})).await;
    }
}

fn pipe() -> (StdioTransport, Peer) {
    let (client, server) = tokio::io::duplex(1 << 16);
    let (cr, cw) = tokio::io::split(client);
    let (sr, sw) = tokio::io::split(server);
    (StdioTransport::from_streams(cr, cw), Peer { lines: BufReader::new(sr).lines(), out: sw })
}

const DISCOVERED: &str =
    r#"{"resultType":"complete","supportedVersions":["2026-07-28","2099-01-01"],"capabilities":{"tools":{}}}"#;

/// Connects in the stateless era, answering the probe.
async fn stateless(builder: ClientBuilder) -> (Client, Peer) {
    let (transport, mut peer) = pipe();
    let connecting = tokio::spawn(builder.connect(transport));
    let probe = peer.next().await;
    assert_eq!(probe["method"], "server/discover");
    peer.reply(&probe, serde_json::from_str(DISCOVERED).expect("json")).await;
    (connecting.await.expect("join").expect("connect"), peer)
}

#[tokio::test]
async fn falls_back_to_initialize_and_speaks_legacy() {
    let (transport, mut peer) = pipe();
    let connecting = tokio::spawn(ClientBuilder::new("wire", "1.0").connect(transport));
    let probe = peer.next().await;
    assert_eq!(probe["method"], "server/discover");
    assert_eq!(probe["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"], "2026-07-28");
    assert_eq!(probe["params"]["_meta"]["io.modelcontextprotocol/clientInfo"]["name"], "wire");
    peer.send(json!({"jsonrpc": "2.0", "id": probe["id"], "error": {"code": -32601, "message": "Method not found"}}))
        .await;
    let init = peer.next().await;
    assert_eq!(init["method"], "initialize");
    assert_eq!(init["params"]["protocolVersion"], "2025-11-25");
    assert_eq!(init["params"]["clientInfo"], json!({"name": "wire", "version": "1.0"}));
    assert_eq!(init["params"]["capabilities"], json!({}), "no handlers, no capabilities");
    peer.reply(
        &init,
        json!({"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "old", "version": "0"}}),
    )
    .await;
    assert_eq!(peer.next().await, json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let client = connecting.await.expect("join").expect("connect");
    assert_eq!(client.negotiated().protocol_version.as_str(), "2025-06-18");

    // Legacy requests carry no stateless `_meta`.
    let listing = tokio::spawn({
        let client = client.clone();
        async move { client.list_tools().await }
    });
    let list = peer.next().await;
    assert_eq!(list["method"], "tools/list");
    assert!(list.get("params").and_then(|p| p.get("_meta")).is_none(), "{list}");
    peer.reply(&list, json!({"tools": [{"name": "a", "inputSchema": {"type": "object"}}], "nextCursor": "2"})).await;
    let page2 = peer.next().await;
    assert_eq!(page2["params"]["cursor"], "2");
    peer.reply(&page2, json!({"tools": [{"name": "b", "inputSchema": {"type": "object"}}]})).await;
    let tools = listing.await.expect("join").expect("list");
    assert_eq!(tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);

    // A server-to-client request nobody handles: -32601, naming the method.
    peer.send(json!({"jsonrpc": "2.0", "id": "s1", "method": "sampling/createMessage", "params": {}})).await;
    let answer = peer.next().await;
    assert_eq!(answer["id"], "s1");
    assert_eq!(answer["error"]["code"], -32601);
    assert!(answer["error"]["message"].as_str().is_some_and(|m| m.contains("sampling/createMessage")));
    // ping is always answered.
    peer.send(json!({"jsonrpc": "2.0", "id": 9, "method": "ping"})).await;
    assert_eq!(peer.next().await, json!({"jsonrpc": "2.0", "id": 9, "result": {}}));
}

#[tokio::test]
async fn stateless_meta_and_a_repeated_cursor() {
    let (client, mut peer) = stateless(ClientBuilder::new("wire", "1.0")).await;
    assert!(client.negotiated().protocol_version.is_stateless());
    let listing = tokio::spawn({
        let client = client.clone();
        async move { client.list_prompts().await }
    });
    let first = peer.next().await;
    let meta = &first["params"]["_meta"];
    assert_eq!(meta["io.modelcontextprotocol/protocolVersion"], "2026-07-28");
    assert_eq!(meta["io.modelcontextprotocol/clientCapabilities"], json!({}));
    peer.reply(&first, json!({"prompts": [], "nextCursor": "same"})).await;
    let second = peer.next().await;
    peer.reply(&second, json!({"prompts": [], "nextCursor": "same"})).await;
    match listing.await.expect("join") {
        Err(ClientError::Protocol(why)) => assert!(why.contains("repeated the cursor"), "{why}"),
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_malformed_result_is_typed_and_the_connection_survives() {
    let (client, mut peer) = stateless(ClientBuilder::new("wire", "1.0")).await;
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.read_resource("x://y").await }
    });
    let req = peer.next().await;
    peer.reply(&req, json!({"contents": "not a list"})).await;
    match call.await.expect("join") {
        Err(ClientError::InvalidResult { method, .. }) => assert_eq!(method, "resources/read"),
        other => panic!("expected InvalidResult, got {other:?}"),
    }
    // A response to no request is ignored; garbage lines are skipped.
    peer.send(json!({"jsonrpc": "2.0", "id": 4242, "result": {}})).await;
    peer.out.write_all(b"this is not json\n").await.expect("write");
    let ping = tokio::spawn({
        let client = client.clone();
        async move { client.ping().await }
    });
    let req = peer.next().await;
    assert_eq!(req["method"], "server/discover", "stateless ping");
    peer.reply(&req, serde_json::from_str(DISCOVERED).expect("json")).await;
    ping.await.expect("join").expect("ping");
}

#[tokio::test]
async fn input_required_without_a_handler_and_past_the_round_limit() {
    let (client, mut peer) = stateless(ClientBuilder::new("wire", "1.0").max_rounds(2)).await;
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.call_tool("t", ()).await }
    });
    let req = peer.next().await;
    let ask = json!({"resultType": "input_required", "inputRequests": {"r": {"method": "roots/list"}}});
    peer.reply(&req, ask).await;
    match call.await.expect("join") {
        Err(ClientError::NoHandler { what }) => assert_eq!(what, "roots/list"),
        other => panic!("expected NoHandler, got {other:?}"),
    }

    let call = tokio::spawn({
        let client = client.clone();
        async move { client.call_tool("t", ()).await }
    });
    for round in 0..3 {
        let req = peer.next().await;
        if round > 0 {
            assert_eq!(req["params"]["requestState"], format!("s{}", round - 1));
            assert_eq!(req["params"]["inputResponses"], json!({}));
        }
        peer.reply(&req, json!({"resultType": "input_required", "requestState": format!("s{round}")})).await;
    }
    match call.await.expect("join") {
        Err(ClientError::TooManyRounds { method, rounds }) => assert_eq!((method.as_str(), rounds), ("tools/call", 2)),
        other => panic!("expected TooManyRounds, got {other:?}"),
    }
}

#[tokio::test]
async fn a_dropped_call_is_cancelled_on_stdio() {
    let (client, mut peer) = stateless(ClientBuilder::new("wire", "1.0")).await;
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.call_tool_with("slow", (), &RequestOptions::new().progress(1)).await }
    });
    let req = peer.next().await;
    assert_eq!(req["params"]["_meta"]["progressToken"], 1);
    call.abort();
    let cancel = peer.next().await;
    assert_eq!(cancel["method"], "notifications/cancelled");
    assert_eq!(cancel["params"]["requestId"], req["id"]);
    // The late answer goes nowhere; the client keeps working.
    peer.reply(&req, json!({"content": []})).await;
    let next = tokio::spawn({
        let client = client.clone();
        async move { client.call_tool("fast", ()).await }
    });
    let req = peer.next().await;
    peer.reply(&req, json!({"content": [{"type": "text", "text": "ok"}]})).await;
    assert_eq!(next.await.expect("join").expect("call").content[0].as_text(), Some("ok"));
}

#[tokio::test]
async fn stateless_mode_refuses_a_legacy_server() {
    let (transport, mut peer) = pipe();
    let connecting = tokio::spawn(ClientBuilder::new("wire", "1.0").mode(Mode::Stateless).connect(transport));
    let probe = peer.next().await;
    peer.reply(&probe, json!({"supportedVersions": ["2025-11-25"], "capabilities": {}})).await;
    match connecting.await.expect("join") {
        Err(ClientError::Handshake(why)) => assert!(why.contains("no stateless protocol version"), "{why}"),
        other => panic!("expected a handshake error, got {other:?}"),
    }
}

#[tokio::test]
async fn tasks_are_declared_in_stateless_meta_and_followed_at_the_poll_interval() {
    let (client, mut peer) = stateless(ClientBuilder::new("wire", "1.0").tasks()).await;
    let calling = tokio::spawn({
        let client = client.clone();
        async move { client.call_tool("job", ()).await }
    });
    let call = peer.next().await;
    assert_eq!(
        call["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"],
        json!({"extensions": {"io.modelcontextprotocol/tasks": {}}})
    );
    let task = json!({"taskId": "t-9", "status": "working", "createdAt": "2026-07-28T00:00:00.000Z",
        "lastUpdatedAt": "2026-07-28T00:00:00.000Z", "ttlMs": 60_000, "pollIntervalMs": 150});
    let mut created = task.clone();
    created["resultType"] = json!("task");
    let answered = std::time::Instant::now();
    peer.reply(&call, created).await;
    let get = peer.next().await;
    assert!(answered.elapsed() >= Duration::from_millis(140), "polled after {:?}", answered.elapsed());
    assert_eq!(get["method"], "tasks/get");
    assert_eq!(get["params"]["taskId"], "t-9");
    let mut done = task;
    done["resultType"] = json!("complete");
    done["status"] = json!("completed");
    done["result"] = json!({"content": [{"type": "text", "text": "finished"}]});
    peer.reply(&get, done).await;
    let result = calling.await.expect("join").expect("followed");
    assert_eq!(result.content[0].as_text(), Some("finished"));
}

#[tokio::test]
async fn the_tasks_extension_is_not_sent_in_the_legacy_era() {
    let (transport, mut peer) = pipe();
    let connecting = tokio::spawn(ClientBuilder::new("wire", "1.0").tasks().mode(Mode::Legacy).connect(transport));
    let init = peer.next().await;
    assert_eq!(init["method"], "initialize");
    assert_eq!(init["params"]["capabilities"], json!({}), "no extensions in initialize");
    peer.reply(
        &init,
        json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": {"name": "old", "version": "0"}}),
    )
    .await;
    let _initialized = peer.next().await;
    let client = connecting.await.expect("join").expect("connect");
    let err = client.cancel_task("t").await.expect_err("no tasks/* in the legacy era");
    assert!(matches!(err, ClientError::NotInVersion { .. }), "{err:?}");
}
