//! The Streamable HTTP transport's limits and error paths, driven through
//! its `tower::Service` with real HTTP requests: each test asserts the
//! status, the JSON-RPC code, and that the server keeps serving afterwards.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt as _, Full, StreamBody};
use mcp_core::server::{Context, NoArgs, ToolRoute};
use mcp_core::transport::http::{HttpOptions, SessionMode, StreamableHttp};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tower::ServiceExt as _;

mod http_common;

use http_common::*;

#[tokio::test]
async fn foreign_host_and_origin_get_403() {
    let (t, _) = transport(HttpOptions::default());
    let (b, body) = stateless(1, "tools/list", json!({}));
    let r = send_json(&t, b.header("origin", "https://evil.example.com"), &body).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let v = r.json().await;
    assert_eq!(error_code(&v), -32600);
    assert!(v["error"]["message"].as_str().unwrap_or("").contains("evil.example.com"), "{v}");

    let req = Request::post("/mcp").header("host", "evil.example.com").body(Full::new(Bytes::from("{}")));
    assert_eq!(send(&t, req.expect("request")).await.status, StatusCode::FORBIDDEN);
    assert_serving(&t).await;
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let mut options = HttpOptions::default();
    options.max_body_bytes = 1024;
    let (t, _) = transport(options);
    let big = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": { "pad": "x".repeat(2048) } });
    let r = send_json(&t, post(&big), &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let v = r.json().await;
    assert_eq!(error_code(&v), -32600);
    assert!(v["error"]["message"].as_str().unwrap_or("").contains("1024-byte"), "{v}");

    // Without Content-Length: the limit applies while reading.
    let chunks: Vec<Result<http_body::Frame<Bytes>, std::convert::Infallible>> =
        (0..4).map(|_| Ok(http_body::Frame::data(Bytes::from(vec![b' '; 512])))).collect();
    let body = StreamBody::new(futures_util::stream::iter(chunks));
    let req = post(&big).body(body).expect("request");
    let resp = t.clone().oneshot(req).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // A body within the limit that comes in several frames is read whole.
    let (b, body) = stateless(7, "tools/list", json!({}));
    let text = body.to_string();
    let chunks: Vec<Result<http_body::Frame<Bytes>, std::convert::Infallible>> = text
        .as_bytes()
        .chunks(text.len() / 3 + 1)
        .map(|c| Ok(http_body::Frame::data(Bytes::copy_from_slice(c))))
        .collect();
    assert_eq!(chunks.len(), 3);
    let resp = t.clone().oneshot(b.body(StreamBody::new(futures_util::stream::iter(chunks))).expect("request")).await;
    let resp = resp.expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK);
    let v: serde_json::Value =
        serde_json::from_slice(&resp.into_body().collect().await.expect("body").to_bytes()).expect("json");
    assert_eq!(v["id"], 7, "{v}");
    assert!(v["result"]["tools"].is_array(), "{v}");
    assert_serving(&t).await;
}

#[tokio::test]
async fn media_types_are_negotiated() {
    let (t, _) = transport(HttpOptions::default());
    let (b, body) = stateless(1, "tools/list", json!({}));
    let req = replacing(b, &body, "content-type", "text/plain");
    assert_eq!(send(&t, req).await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (b, body) = stateless(1, "tools/list", json!({}));
    let req = replacing(b, &body, "accept", "text/html");
    assert_eq!(send(&t, req).await.status, StatusCode::NOT_ACCEPTABLE);
    assert_serving(&t).await;
}

#[tokio::test]
async fn stateless_header_and_meta_errors_follow_the_spec_order() {
    let (t, _) = transport(HttpOptions::default());
    // Mcp-Method disagrees with the body: 400 / -32020.
    let (b, body) = stateless(1, "tools/list", json!({}));
    let req = replacing(b, &body, "mcp-method", "TOOLS/LIST");
    let r = send(&t, req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let v = r.json().await;
    assert_eq!((error_code(&v), v["id"].clone()), (-32020, json!(1)));

    // Mcp-Name disagrees with params.name.
    let (b, body) = stateless(2, "tools/call", json!({ "name": "echo" }));
    let req = replacing(b, &body, "mcp-name", "other");
    let r = send(&t, req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&r.json().await), -32020);

    // No _meta version: -32602 comes before any header check.
    let body = json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {} });
    let r = send_json(&t, post(&body).header("mcp-protocol-version", MODERN).header("mcp-method", "x"), &body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&r.json().await), -32602);

    // Unsupported version in both header and _meta: -32022 with the supported list.
    let mut body =
        json!({ "jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": { "_meta": stateless_meta() } });
    body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("v999.0.0");
    let b = post(&body).header("mcp-protocol-version", "v999.0.0").header("mcp-method", "tools/list");
    let r = send_json(&t, b, &body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let v = r.json().await;
    assert_eq!(error_code(&v), -32022);
    assert_eq!(v["error"]["data"]["supported"], json!([MODERN]));

    // Removed and unknown methods: 404 / -32601.
    for method in ["ping", "no/such/method"] {
        let (b, body) = stateless(5, method, json!({}));
        let r = send_json(&t, b, &body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(error_code(&r.json().await), -32601);
    }

    // Batches are not part of 2026-07-28.
    let batch = json!([{ "jsonrpc": "2.0", "id": 6, "method": "tools/list" }]);
    let r = send_json(&t, post(&batch).header("mcp-protocol-version", MODERN), &batch).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&r.json().await), -32600);

    // Malformed JSON: 400 / -32700.
    let req = post(&json!({})).header("mcp-protocol-version", MODERN).body(Full::new(Bytes::from("{nope")));
    let r = send(&t, req.expect("request")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&r.json().await), -32700);
    assert_serving(&t).await;
}

#[tokio::test]
async fn get_and_delete_are_not_stateless_methods() {
    let (t, _) = transport(HttpOptions::default());
    for method in [http::Method::GET, http::Method::DELETE] {
        let r = send(&t, bodiless(method.clone(), MODERN)).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert!(r.headers.get("allow").is_some());
    }
    assert_serving(&t).await;
}

#[tokio::test]
async fn notifications_get_202_in_both_eras() {
    let (t, _) = transport(HttpOptions::default());
    let mut note = json!({ "jsonrpc": "2.0", "method": "notifications/roots/list_changed", "params": {} });
    note["params"]["_meta"] = stateless_meta();
    let r = send_json(&t, post(&note).header("mcp-protocol-version", MODERN), &note).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert!(r.bytes().await.is_empty());
    let id = initialize(&t).await;
    let r = send_json(&t, in_session(&note, &id), &note).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn sessions_missing_unknown_deleted_and_mismatched() {
    let mut strict = HttpOptions::default();
    strict.sessions = SessionMode::Required;
    let (t, _) = transport(strict);
    let list = json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/list" });

    // Sessions required: a legacy version header without a session id gets
    // 400.
    let r = send_json(&t, post(&list).header("mcp-protocol-version", "2025-11-25"), &list).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json().await["error"]["message"].as_str().unwrap_or("").contains("Mcp-Session-Id"));
    assert_eq!(send(&t, bodiless(http::Method::GET, "2025-11-25")).await.status, StatusCode::BAD_REQUEST);

    // An unknown session id: 404 / -32001.
    let r = send_json(&t, in_session(&list, "no-such-session"), &list).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let v = r.json().await;
    assert_eq!((error_code(&v), v["id"].clone()), (-32001, json!(7)));

    let id = initialize(&t).await;
    let r = send_json(&t, in_session(&list, &id), &list).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json().await["result"]["tools"][0]["name"], "echo");

    // The version header must match what the session negotiated.
    let r =
        send_json(&t, post(&list).header("mcp-session-id", &id).header("mcp-protocol-version", "2025-06-18"), &list)
            .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // A missing version header is fine (2025-03-26 clients send none).
    let r = send_json(&t, post(&list).header("mcp-session-id", &id), &list).await;
    assert_eq!(r.status, StatusCode::OK);

    // DELETE ends the session; the id is then unknown.
    let del = Request::delete("/mcp")
        .header("host", "localhost")
        .header("mcp-session-id", &id)
        .body(Full::new(Bytes::new()))
        .expect("request");
    assert_eq!(send(&t, del).await.status, StatusCode::OK);
    assert_eq!(t.session_count(), 0);
    let r = send_json(&t, in_session(&list, &id), &list).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_serving(&t).await;
}

#[tokio::test]
async fn idle_sessions_expire_and_the_count_is_bounded() {
    let mut options = HttpOptions::default();
    options.session_idle_timeout = Duration::from_millis(300);
    options.max_sessions = 2;
    let (t, _) = transport(options);
    let first = initialize(&t).await;
    let _second = initialize(&t).await;

    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } });
    let r = send_json(&t, post(&body), &body).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "the third session is over the limit");
    assert!(r.headers.get("retry-after").is_some());
    assert_eq!(error_code(&r.json().await), -32603);

    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(t.session_count(), 0, "idle sessions expired");
    let list = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" });
    let r = send_json(&t, in_session(&list, &first), &list).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    initialize(&t).await;
}

#[tokio::test]
async fn duplicate_running_ids_are_refused() {
    let (t, _) = transport(HttpOptions::default());
    let id = initialize(&t).await;
    let call = json!({ "jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": { "name": "steps" } });
    let first = {
        let (t, b, call) = (t.clone(), in_session(&call, &id), call.clone());
        tokio::spawn(async move { send_json(&t, b, &call).await.json().await })
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    let second = send_json(&t, in_session(&call, &id), &call).await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(error_code(&second.json().await), -32600);
    assert_eq!(first.await.expect("first call")["result"]["content"][0]["text"], "done");
}

#[tokio::test]
async fn progress_switches_to_sse_and_a_dropped_stream_resumes_with_last_event_id() {
    let (t, _) = transport(HttpOptions::default());
    let id = initialize(&t).await;
    let call = json!({ "jsonrpc": "2.0", "id": 8, "method": "tools/call",
        "params": { "name": "steps", "_meta": { "progressToken": "p" } } });
    let mut r = send_json(&t, in_session(&call, &id), &call).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("text/event-stream"));
    let (prime_id, prime) = r.next_event().await.expect("priming event");
    assert!(prime.is_empty() && prime_id.is_some(), "2025-11-25 streams start with a priming event");
    let (event_id, first) = r.next_event().await.expect("first progress");
    let first: Value = serde_json::from_str(&first).expect("json");
    assert_eq!(first["params"]["progress"].as_f64(), Some(1.0));
    drop(r); // the connection drops mid-call; the call goes on

    let get = get_stream(&id, Some(&event_id.expect("event id")));
    let mut resumed = send(&t, get).await;
    assert_eq!(resumed.status, StatusCode::OK);
    let mut seen = Vec::new();
    while let Some((_, data)) = resumed.next_event().await {
        let v: Value = serde_json::from_str(&data).expect("json");
        let done = v.get("result").is_some();
        seen.push(v);
        if done {
            break;
        }
    }
    let progress: Vec<_> = seen.iter().filter_map(|v| v["params"]["progress"].as_f64()).collect();
    assert_eq!(progress, vec![2.0, 3.0], "nothing missed, nothing repeated");
    assert_eq!(seen.last().map(|v| v["result"]["content"][0]["text"].clone()), Some(json!("done")));

    // An id this server never issued is refused.
    let get = get_stream(&id, Some("garbage"));
    assert_eq!(send(&t, get).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_standalone_get_stream_is_single() {
    let (t, _) = transport(HttpOptions::default());
    let id = initialize(&t).await;
    let get = || get_stream(&id, None);
    let open = send(&t, get()).await;
    assert_eq!(open.status, StatusCode::OK);
    assert_eq!(send(&t, get()).await.status, StatusCode::CONFLICT);
    drop(open);
    assert_eq!(send(&t, get()).await.status, StatusCode::OK, "reopened after the first one closed");
}

#[tokio::test]
async fn closing_a_stateless_stream_cancels_the_handler() {
    let (t, cancelled) = transport(HttpOptions::default());
    let (b, mut body) = stateless(9, "tools/call", json!({ "name": "wait" }));
    body["params"]["_meta"]["progressToken"] = json!(1);
    let mut r = send_json(&t, b, &body).await;
    assert_eq!(r.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("text/event-stream"));
    let (id, progress) = r.next_event().await.expect("progress");
    assert!(id.is_none(), "stateless events carry no ids");
    assert!(progress.contains("notifications/progress"));
    assert!(!cancelled.load(Ordering::SeqCst));
    drop(r);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(cancelled.load(Ordering::SeqCst), "the handler ended with its stream");
    assert_serving(&t).await;
}

#[tokio::test]
async fn list_changes_reach_the_get_stream() {
    let flag = Arc::new(AtomicBool::new(false));
    let s = server(flag);
    let t = StreamableHttp::with_options(s.clone(), HttpOptions::default());
    let id = initialize(&t).await;
    let get = get_stream(&id, None);
    let mut stream = send(&t, get).await;
    assert_eq!(stream.status, StatusCode::OK);
    let (_, prime) = stream.next_event().await.expect("priming event");
    assert!(prime.is_empty());
    s.add_tool(ToolRoute::new("late", |_ctx: Context, _: NoArgs| async { "late" }).with_description("Added late"))
        .expect("valid tool");
    let (event_id, data) = stream.next_event().await.expect("a notification");
    assert!(event_id.is_some_and(|id| id.starts_with("0.")), "the GET stream is stream 0");
    let v: Value = serde_json::from_str(&data).expect("json");
    assert_eq!(v["method"], "notifications/tools/list_changed");
}

/// The test server under `serve_listener` on a free port, with this header
/// timeout: its address, the sender that stops it, and its task.
async fn serve_with_header_timeout(
    timeout: Duration,
) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
    let mut options = HttpOptions::default();
    options.header_timeout = timeout;
    let t = StreamableHttp::with_options(server(Arc::new(AtomicBool::new(false))), options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(mcp_core::transport::http::serve_listener(listener, t, async {
        let _ = stopped.await;
    }));
    (addr, stop, served)
}

#[tokio::test]
async fn serve_listener_routes_one_path_and_times_out_silent_connections() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (addr, stop, served) = serve_with_header_timeout(Duration::from_millis(200)).await;

    let mut c = tokio::net::TcpStream::connect(addr).await.expect("connect");
    c.write_all(b"GET /elsewhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.expect("write");
    let mut out = String::new();
    c.read_to_string(&mut out).await.expect("read");
    assert!(out.starts_with("HTTP/1.1 404"), "{out}");
    assert!(out.contains("MCP is at /mcp"), "{out}");

    // A client that connects and sends nothing is cut off.
    let mut idle = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(3), idle.read(&mut buf)).await;
    assert!(matches!(n, Ok(Ok(_)) | Ok(Err(_))), "the silent connection was closed by the header timeout");

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), served).await.expect("shut down").expect("task").expect("io");
}

#[tokio::test]
async fn the_header_timeout_cuts_off_trickling_headers_but_not_a_long_answer() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (addr, stop, served) = serve_with_header_timeout(Duration::from_millis(100)).await;

    // Headers sent a byte every 20 ms never complete in time: the
    // connection is closed although bytes keep arriving.
    let mut slow = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let trickle = async {
        for b in b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ".iter().chain([b'a'; 200].iter()) {
            if slow.write_all(&[*b]).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    };
    let cut = tokio::time::timeout(Duration::from_secs(3), trickle).await;
    assert_eq!(cut, Ok(true), "the trickling connection was closed");

    // A call that takes longer than the timeout (three 60 ms steps) is
    // answered, as JSON at the end or as an SSE stream the progress opens:
    // a connection being answered is not stalled.
    for (accept, token, kind) in [
        ("application/json", "", "application/json"),
        ("application/json, text/event-stream", r#","progressToken":"p""#, "text/event-stream"),
    ] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"steps","_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}}{token}}}}}}}"#
        );
        let request = format!(
            "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: {accept}\r\n\
             MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: steps\r\nConnection: close\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut c = tokio::net::TcpStream::connect(addr).await.expect("connect");
        c.write_all(request.as_bytes()).await.expect("write");
        let mut out = String::new();
        tokio::time::timeout(Duration::from_secs(5), c.read_to_string(&mut out))
            .await
            .expect("answered")
            .expect("read");
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        assert!(out.to_ascii_lowercase().contains(&format!("content-type: {kind}")), "{out}");
        assert!(out.contains(r#""text":"done""#), "{out}");
    }

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), served).await.expect("shut down").expect("task").expect("io");
}

#[tokio::test]
async fn a_notification_sent_in_the_handlers_last_turn_is_not_lost() {
    let (t, _) = transport(HttpOptions::default());
    for _ in 0..20 {
        let (b, mut body) = stateless(11, "tools/call", json!({ "name": "quick" }));
        body["params"]["_meta"]["progressToken"] = json!("q");
        let mut r = send_json(&t, b, &body).await;
        assert_eq!(r.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("text/event-stream"));
        let (_, progress) = r.next_event().await.expect("progress");
        assert!(progress.contains("notifications/progress"), "{progress}");
        let (_, result) = r.next_event().await.expect("result");
        assert!(result.contains("\"quick\""), "{result}");
    }
}

#[tokio::test]
async fn a_reconnecting_client_takes_its_stream_over_from_a_dead_connection() {
    let (t, _) = transport(HttpOptions::default());
    let id = initialize(&t).await;
    let call = json!({ "jsonrpc": "2.0", "id": 12, "method": "tools/call",
        "params": { "name": "steps", "_meta": { "progressToken": "p" } } });
    let mut old = send_json(&t, in_session(&call, &id), &call).await;
    let _prime = old.next_event().await.expect("priming event");
    let (event_id, _) = old.next_event().await.expect("first progress");
    // `old` stays alive, as a connection the server has not yet seen die.
    let get = get_stream(&id, Some(&event_id.expect("event id")));
    let (mut resumed, ()) = tokio::join!(send(&t, get), async {
        // The old response ends (the server let go of it) while the GET
        // waits; hyper then drops the body, as this does.
        let mut old = old;
        while old.next_event().await.is_some() {}
        drop(old);
    });
    let mut last = Value::Null;
    while let Some((_, data)) = resumed.next_event().await {
        last = serde_json::from_str(&data).expect("json");
        if last.get("result").is_some() {
            break;
        }
    }
    assert_eq!(last["result"]["content"][0]["text"], "done", "the response reached the new connection");
}

/// A service in front of the server, as `server.layer(..)` stacks it.
type Front =
    tower::util::BoxCloneSyncService<mcp_core::server::ServerRequest, Option<mcp_core::jsonrpc::Response>, Infallible>;

/// Holds every `logging/setLevel` (a request that changes the session's
/// saved state) until the test lets it go: `entered` is notified when one
/// arrives, and it goes on to the server on `release`.
fn holding_set_level(server: mcp_core::server::Server, entered: Arc<Notify>, release: Arc<Notify>) -> Front {
    use mcp_core::jsonrpc::Message;
    Front::new(tower::service_fn(move |req: mcp_core::server::ServerRequest| {
        let (server, entered, release) = (server.clone(), Arc::clone(&entered), Arc::clone(&release));
        async move {
            if matches!(&req.message, Message::Request(r) if r.method == "logging/setLevel") {
                entered.notify_one();
                release.notified().await;
            }
            server.oneshot(req).await
        }
    }))
}

/// A request that changes the session's state is running when DELETE
/// arrives: it is cancelled, and the save it makes when it finishes (after
/// the delete) must not bring the session back. The order is fixed by the
/// layer holding the request: running, then DELETE, then it finishes.
#[tokio::test]
async fn a_deleted_session_stays_deleted() {
    let s = server(Arc::new(AtomicBool::new(false)));
    let (entered, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let (e, r) = (Arc::clone(&entered), Arc::clone(&release));
    let held = tower::layer::layer_fn(move |srv| holding_set_level(srv, Arc::clone(&e), Arc::clone(&r)));
    let t = StreamableHttp::with_options(s.layer(held), HttpOptions::default());
    let id = initialize(&t).await;
    let set_level = json!({ "jsonrpc": "2.0", "id": 13, "method": "logging/setLevel", "params": { "level": "debug" } });
    // JSON only: the response is written once the request's task has ended,
    // its save included.
    let req = replacing(in_session(&set_level, &id), &set_level, "accept", "application/json");
    let running = {
        let t = t.clone();
        tokio::spawn(async move {
            let r = send(&t, req).await;
            (r.status, r.bytes().await)
        })
    };
    entered.notified().await;
    let del = Request::delete("/mcp")
        .header("host", "localhost")
        .header("mcp-session-id", &id)
        .body(Full::new(Bytes::new()))
        .expect("request");
    assert_eq!(send(&t, del).await.status, StatusCode::OK);
    release.notify_one();
    let (status, body) = running.await.expect("the request's task");
    let reply: Option<Value> = serde_json::from_slice(&body).ok();
    assert!(
        reply.as_ref().is_none_or(|r| r.get("result").is_none()),
        "the request of the deleted session was cancelled, not answered: {status} {}",
        String::from_utf8_lossy(&body)
    );
    let list = json!({ "jsonrpc": "2.0", "id": 14, "method": "tools/list" });
    let r = send_json(&t, in_session(&list, &id), &list).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "the cancelled request's late save did not revive the session");
    assert_eq!(t.session_count(), 0);
}

#[tokio::test]
async fn handlers_and_layers_see_the_request_headers_in_both_eras() {
    let (t, _) = transport(HttpOptions::default());
    let (b, body) = stateless(1, "tools/call", json!({ "name": "api_key" }));
    let r = send_json(&t, b.header("x-api-key", "k-stateless"), &body).await;
    assert_eq!(r.json().await["result"]["content"][0]["text"], "k-stateless");

    let session = initialize(&t).await;
    let body = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "api_key" } });
    let r = send_json(&t, in_session(&body, &session).header("x-api-key", "k-session"), &body).await;
    assert_eq!(r.json().await["result"]["content"][0]["text"], "k-session");
    assert_serving(&t).await;
}

/// A layer that refuses every `tools/call` as a rate limiter does, with
/// `data.retryAfterMs`, `limit` and `remaining`.
fn refusing_tool_calls(server: mcp_core::server::Server) -> Front {
    use mcp_core::jsonrpc::{ErrorCode, ErrorObject, Message, Response};
    Front::new(tower::service_fn(move |req: mcp_core::server::ServerRequest| {
        let server = server.clone();
        async move {
            if let Message::Request(r) = &req.message
                && r.method == "tools/call"
            {
                let data = json!({ "retryAfterMs": 1500, "limit": 10, "remaining": 0 });
                let e = ErrorObject::new(ErrorCode::RATE_LIMITED, "rate limited").with_data(data);
                let mut resp = Response::error(Some(r.id.clone()), e);
                // The edge renders the typed signal, not the JSON data.
                let limited = mcp_core::server::signal::RateLimited::new(std::time::Duration::from_millis(1500));
                resp.extensions.insert(limited.with_quota(10, 0));
                return Ok(Some(resp));
            }
            server.oneshot(req).await
        }
    }))
}

#[tokio::test]
async fn rate_limited_replies_get_ratelimit_headers_in_both_eras_and_429_when_stateless() {
    let s = server(Arc::new(AtomicBool::new(false)));
    let t = StreamableHttp::with_options(s.layer(tower::layer::layer_fn(refusing_tool_calls)), HttpOptions::default());
    let check = |headers: &HeaderMap| {
        for (name, want) in
            [("retry-after", "2"), ("ratelimit-limit", "10"), ("ratelimit-remaining", "0"), ("ratelimit-reset", "2")]
        {
            assert_eq!(headers.get(name).and_then(|v| v.to_str().ok()), Some(want), "{name}");
        }
    };

    let (b, body) = stateless(1, "tools/call", json!({ "name": "echo" }));
    let resp = t.clone().oneshot(b.body(Full::new(Bytes::from(body.to_string()))).expect("req")).await;
    let resp = resp.expect("infallible");
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    check(resp.headers());
    let v: Value = serde_json::from_slice(&resp.into_body().collect().await.expect("body").to_bytes()).expect("json");
    assert_eq!((error_code(&v), v["id"].as_i64()), (-31029, Some(1)));

    // Legacy: a session, then a refused call in it.
    let init = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } });
    let resp = t.clone().oneshot(post(&init).body(Full::new(Bytes::from(init.to_string()))).expect("req")).await;
    let resp = resp.expect("infallible");
    let session = resp.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).expect("session").to_owned();
    let call = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "echo" } });
    let mut req = in_session(&call, &session).body(Full::new(Bytes::from(call.to_string()))).expect("req");
    // JSON only, so that the reply cannot switch to a stream.
    req.headers_mut().insert("accept", http::HeaderValue::from_static("application/json"));
    let resp = t.clone().oneshot(req).await.expect("infallible");
    // Legacy clients (the Python SDK's among them) read JSON-RPC errors
    // only from 200 responses; the headers still tell proxies and clients.
    assert_eq!(resp.status(), StatusCode::OK);
    check(resp.headers());
    let v: Value = serde_json::from_slice(&resp.into_body().collect().await.expect("body").to_bytes()).expect("json");
    assert_eq!((error_code(&v), v["error"]["data"]["retryAfterMs"].as_u64()), (-31029, Some(1500)));
    // Other methods still pass.
    let list = json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/list" });
    let req = in_session(&list, &session).body(Full::new(Bytes::from(list.to_string()))).expect("req");
    let resp = t.clone().oneshot(req).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get("retry-after").is_none());
}

#[test]
fn a_call_made_outside_a_runtime_runs_when_polled_inside_one() {
    // tower lets a caller make the future in one place and poll it in
    // another: nothing (the first request's housekeeping spawn included)
    // may need a runtime before the first poll.
    let (mut t, _) = transport(HttpOptions::default());
    let (b, body) = stateless(21, "tools/call", json!({ "name": "echo" }));
    let req = b.body(Full::new(Bytes::from(body.to_string()))).expect("request");
    let fut = tower_service::Service::call(&mut t, req);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let resp = rt.block_on(fut).expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK);
}
