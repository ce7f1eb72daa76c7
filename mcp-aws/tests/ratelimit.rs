//! The rate limiter on governor's fake clock: quota, burst, refill,
//! per-key isolation, per-key and per-tool quotas, exact retry times,
//! housekeeping, an overload from several keys at once, and the HTTP
//! status and headers of a refusal.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use common::{call, code, request, send, server};
use http_body_util::{BodyExt as _, Full};
use mcp_aws::ratelimit::{Counted, FakeClock, Key, Quota, RateLimit, RateLimitLayer};
use mcp_core::jsonrpc::Message;
use mcp_core::server::{Server, ServerRequest, Session, Sink};
use mcp_core::transport::http::{HttpOptions, PeerAddr, StreamableHttp};
use serde_json::{Value, json};
use tower::{Layer as _, ServiceExt as _};

fn limited(layer: RateLimitLayer) -> (RateLimit<Server>, FakeClock) {
    let clock = FakeClock::default();
    (layer.with_fake_clock(clock.clone()).layer(server()), clock)
}

/// Asserts a well-formed refusal of request `id` and returns its data.
fn refused(v: &Value, id: i64) -> Value {
    assert_eq!(code(v), Some(-31029), "{v}");
    assert_eq!(v["id"], id, "{v}");
    let msg = v["error"]["message"].as_str().expect("message");
    assert!(msg.starts_with("rate limited: "), "{msg}");
    let data = v["error"]["data"].clone();
    assert_eq!(data["remaining"], 0);
    assert!(data["retryAfterMs"].as_u64().is_some_and(|ms| ms > 0), "{data}");
    data
}

#[tokio::test]
async fn burst_then_refill_one_request_at_a_time_with_exact_retry_after() {
    let (svc, clock) = limited(RateLimitLayer::new(Key::global()).quota(Quota::per_minute(10).with_burst(3)));
    for id in 0..3 {
        assert_eq!(code(&send(&svc, call(id, "echo", None)).await), None, "burst request {id}");
    }
    let data = refused(&send(&svc, call(3, "echo", None)).await, 3);
    assert_eq!(
        (data["retryAfterMs"].as_u64(), data["limit"].as_u64(), data["windowMs"].as_u64()),
        (Some(6000), Some(10), Some(60_000))
    );

    clock.advance(Duration::from_millis(5999));
    assert_eq!(refused(&send(&svc, call(4, "echo", None)).await, 4)["retryAfterMs"], 1);
    clock.advance(Duration::from_millis(1));
    assert_eq!(code(&send(&svc, call(5, "echo", None)).await), None, "one request came back");
    assert_eq!(refused(&send(&svc, call(6, "echo", None)).await, 6)["retryAfterMs"], 6000);

    // A full refill restores the whole burst, and no more.
    clock.advance(Duration::from_secs(60));
    for id in 7..10 {
        assert_eq!(code(&send(&svc, call(id, "echo", None)).await), None);
    }
    assert_eq!(code(&send(&svc, call(10, "echo", None)).await), Some(-31029));
}

#[tokio::test]
async fn retry_after_rounds_a_fractional_wait_up_to_the_next_millisecond() {
    // 3 per second: one request back every 333.333333 ms.
    let (svc, clock) = limited(RateLimitLayer::new(Key::global()).quota(Quota::per_second(3).with_burst(1)));
    assert_eq!(code(&send(&svc, call(1, "echo", None)).await), None);
    assert_eq!(refused(&send(&svc, call(2, "echo", None)).await, 2)["retryAfterMs"], 334);
    clock.advance(Duration::from_millis(333));
    assert_eq!(refused(&send(&svc, call(3, "echo", None)).await, 3)["retryAfterMs"], 1);
    clock.advance(Duration::from_micros(334));
    assert_eq!(code(&send(&svc, call(4, "echo", None)).await), None);
}

#[tokio::test]
async fn keys_are_isolated_and_resolved_quotas_override_the_default() {
    #[derive(Clone)]
    struct ApiKeyRate(u32);
    let layer = RateLimitLayer::new(Key::principal().or(Key::client_ip()))
        .quota(Quota::per_minute(2))
        .resolver(|req: &ServerRequest| req.extensions.get::<ApiKeyRate>().map(|r| Quota::per_minute(r.0)));
    let (svc, _clock) = limited(layer);
    for who in ["alice", "bob"] {
        for id in 0..2 {
            assert_eq!(code(&send(&svc, call(id, "echo", Some(who))).await), None, "{who} {id}");
        }
        refused(&send(&svc, call(2, "echo", Some(who))).await, 2);
    }
    // A premium key with its own rate of 5 per minute.
    let premium = |id| {
        let mut req = call(id, "echo", Some("carol"));
        req.extensions.insert(ApiKeyRate(5));
        req
    };
    for id in 0..5 {
        assert_eq!(code(&send(&svc, premium(id)).await), None, "carol {id}");
    }
    let data = refused(&send(&svc, premium(5)).await, 5);
    assert_eq!((data["limit"].as_u64(), data["retryAfterMs"].as_u64()), (Some(5), Some(12_000)));
    // No principal: the client IP is the key; one port or another is one client.
    for (id, port) in [(0, 1000), (1, 2000), (2, 3000)] {
        let mut req = call(id, "echo", None);
        req.extensions.insert(PeerAddr(format!("192.0.2.1:{port}").parse().expect("addr")));
        let v = send(&svc, req).await;
        assert_eq!(code(&v), (id == 2).then_some(-31029));
    }
}

#[tokio::test]
async fn a_tool_quota_limits_that_tool_per_key_and_spares_the_key_quota() {
    let layer = RateLimitLayer::new(Key::principal())
        .quota(Quota::per_minute(5))
        .tool_quota("expensive", Quota::per_minute(2).with_burst(1));
    let (svc, clock) = limited(layer);
    assert_eq!(code(&send(&svc, call(1, "expensive", Some("alice"))).await), None);
    let data = refused(&send(&svc, call(2, "expensive", Some("alice"))).await, 2);
    assert_eq!((data["tool"].as_str(), data["retryAfterMs"].as_u64()), (Some("expensive"), Some(30_000)));
    // Another key has its own tool budget.
    assert_eq!(code(&send(&svc, call(3, "expensive", Some("bob"))).await), None);
    // The refused call did not spend alice's key quota: 4 of 5 remain.
    for id in 4..8 {
        assert_eq!(code(&send(&svc, call(id, "echo", Some("alice"))).await), None, "echo {id}");
    }
    assert!(refused(&send(&svc, call(8, "echo", Some("alice"))).await, 8).get("tool").is_none());
    clock.advance(Duration::from_secs(30));
    assert_eq!(code(&send(&svc, call(9, "expensive", Some("alice"))).await), None);
}

/// A legacy-era message (no `_meta`) in `session`, as the official Python
/// client sends.
fn legacy(session: &Arc<Session>, body: Value) -> ServerRequest {
    let message = Message::parse(body.to_string().as_bytes()).expect("valid");
    ServerRequest::new(message, Some(Arc::clone(session)), Sink::none())
}

/// Sends the official client's set-up, then tool calls until one is
/// refused; returns how many were admitted (each one reached the tool).
async fn tool_calls_admitted(
    svc: &RateLimit<Server>,
    setup: Vec<ServerRequest>,
    call: impl Fn(i64) -> ServerRequest,
) -> usize {
    for req in setup {
        let method = req.head().method().map(|m| m.as_str().to_owned());
        if req.head().id().is_none() {
            assert!(svc.check(&req).is_ok(), "{method:?}");
            continue;
        }
        let v = send(svc, req).await;
        assert_ne!(code(&v), Some(-31029), "set-up request {method:?} refused: {v}");
    }
    for id in 100..120 {
        let v = send(svc, call(id)).await;
        if code(&v) == Some(-31029) {
            return usize::try_from(id - 100).expect("small");
        }
        assert_eq!(v["result"]["content"][0]["text"], "echo", "{v}");
    }
    panic!("no tool call was refused");
}

/// The official client in a legacy session: initialize,
/// notifications/initialized, the automatic tools/list, then tool calls.
async fn legacy_client(svc: &RateLimit<Server>) -> usize {
    let session = Session::new(None, Sink::none());
    let setup = vec![
        legacy(
            &session,
            json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": { "name": "mcp", "version": "1.0" } } }),
        ),
        legacy(&session, json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })),
        legacy(&session, json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" })),
    ];
    let call = |id: i64| {
        let body = json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": "echo", "arguments": {} } });
        legacy(&session, body)
    };
    tool_calls_admitted(svc, setup, call).await
}

#[tokio::test]
async fn by_default_only_tool_calls_count_so_the_official_clients_set_up_is_free() {
    let quota = || RateLimitLayer::new(Key::global()).quota(Quota::per_minute(5));
    // Legacy session: initialize, notifications/initialized, the automatic tools/list.
    let (svc, _clock) = limited(quota());
    assert_eq!(legacy_client(&svc).await, 5, "5 per minute is 5 tool calls");

    // Stateless (2026-07-28): server/discover, tools/list, then tool calls.
    let stateless_setup =
        || vec![request(0, "server/discover", json!({}), None), request(1, "tools/list", json!({}), None)];
    let (svc, _clock) = limited(quota());
    assert_eq!(tool_calls_admitted(&svc, stateless_setup(), |id| call(id, "echo", None)).await, 5);

    // Counting every request, the set-up spends two of the five.
    let (svc, _clock) = limited(quota().counting(Counted::AllRequests));
    assert_eq!(legacy_client(&svc).await, 3);
    let (svc, _clock) = limited(quota().counting(Counted::AllRequests));
    assert_eq!(tool_calls_admitted(&svc, stateless_setup(), |id| call(id, "echo", None)).await, 3);
}

#[tokio::test]
async fn counting_named_methods_counts_those_and_spares_the_rest() {
    let layer = RateLimitLayer::new(Key::global()).quota(Quota::per_hour(1)).counting(Counted::methods(["tools/list"]));
    let (svc, _clock) = limited(layer);
    for id in 0..3 {
        assert_eq!(code(&send(&svc, call(id, "echo", None)).await), None, "tools/call is not named");
    }
    assert_eq!(code(&send(&svc, request(3, "tools/list", json!({}), None)).await), None);
    refused(&send(&svc, request(4, "tools/list", json!({}), None)).await, 4);
    assert_ne!(code(&send(&svc, request(5, "ping", json!({}), None)).await), Some(-31029), "ping is not named");
}

#[tokio::test]
async fn notifications_are_never_limited_and_other_methods_count_when_all_requests_do() {
    let layer = RateLimitLayer::new(Key::global()).quota(Quota::per_hour(1)).counting(Counted::AllRequests);
    let (svc, _clock) = limited(layer);
    assert_eq!(code(&send(&svc, request(1, "tools/list", json!({}), None)).await), None);
    refused(&send(&svc, request(2, "ping", json!({}), None)).await, 2);
    let note = mcp_core::jsonrpc::Message::parse(
        br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#,
    )
    .expect("valid");
    let out = svc.clone().oneshot(ServerRequest::new(note, None, mcp_core::server::Sink::none())).await;
    assert!(matches!(out, Ok(None)), "a notification reaches the dispatcher and gets no answer");
}

#[tokio::test]
async fn idle_keys_are_forgotten_so_memory_follows_active_keys() {
    let layer = RateLimitLayer::new(Key::principal())
        .quota(Quota::per_second(10))
        .housekeeping_interval(Duration::from_secs(5));
    let (svc, clock) = limited(layer);
    for i in 0..5_000 {
        let who = format!("user-{i}");
        assert!(svc.check(&call(i, "echo", Some(&who))).is_ok());
    }
    assert_eq!(svc.tracked_keys(), 5_000);
    // One second refills every bucket; the next request past the
    // housekeeping interval sweeps.
    clock.advance(Duration::from_secs(5));
    assert!(svc.check(&call(0, "echo", Some("fresh"))).is_ok());
    assert_eq!(svc.tracked_keys(), 1, "only the key used since the sweep remains");
}

/// 10× the quota from 4 keys, 4 tasks per key, on a multi-threaded runtime,
/// over 10 simulated seconds, while one-off keys churn through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_from_several_keys_admits_the_quota_per_key_and_memory_stays_flat() {
    const KEYS: usize = 4;
    const TASKS: usize = 4;
    const STEPS: u64 = 100; // 100 ms each
    let quota = Quota::per_second(50).with_burst(10);
    let layer = RateLimitLayer::new(Key::principal()).quota(quota).housekeeping_interval(Duration::from_secs(1));
    let (svc, clock) = limited(layer);
    let admitted: Arc<Vec<AtomicUsize>> = Arc::new((0..KEYS).map(|_| AtomicUsize::new(0)).collect());
    let mut tracked = Vec::new();
    for step in 0..STEPS {
        // 5 requests per key are allowed per step; send 50.
        let mut tasks = tokio::task::JoinSet::new();
        for key in 0..KEYS {
            for task in 0..TASKS {
                let (svc, admitted) = (svc.clone(), Arc::clone(&admitted));
                tasks.spawn(async move {
                    let who = format!("key-{key}");
                    let per_task = 50 / TASKS + usize::from(task < 50 % TASKS);
                    for n in 0..per_task {
                        let id = i64::try_from(step as usize * 1000 + key * 100 + task * 20 + n).expect("small");
                        let v = send(&svc, call(id, "echo", Some(&who))).await;
                        match code(&v) {
                            None => {
                                admitted[key].fetch_add(1, Ordering::Relaxed);
                            }
                            Some(_) => {
                                refused(&v, id);
                            }
                        }
                    }
                });
            }
        }
        // One-off clients, each seen once.
        for n in 0..200 {
            assert!(svc.check(&call(0, "echo", Some(&format!("drive-by-{step}-{n}")))).is_ok());
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("no task panicked");
        }
        clock.advance(Duration::from_millis(100));
        tracked.push(svc.tracked_keys());
    }
    // Over 10 s: the burst plus 50 per second.
    let expected = 10.0 + 50.0 * 9.9;
    for (key, n) in admitted.iter().enumerate() {
        let n = n.load(Ordering::Relaxed) as f64;
        assert!((n - expected).abs() <= expected * 0.05, "key {key}: {n} admitted, expected {expected} ± 5%");
    }
    // Housekeeping every second forgets every idle key: within each second
    // the count drops back to the keys in use (the steady ones and that
    // step's one-offs)...
    for (second, window) in tracked.chunks(10).enumerate().skip(1) {
        let low = window.iter().min().copied().unwrap_or(usize::MAX);
        assert!(low <= KEYS + 200, "second {second}: never swept below {low} keys: {tracked:?}");
    }
    // ...so memory holds at most about a second of one-off keys, however
    // many have been seen.
    let late_max = tracked[20..].iter().max().copied().unwrap_or(0);
    assert!(late_max <= KEYS + 200 * 11, "tracked keys grew to {late_max}: {tracked:?}");
}

#[tokio::test]
async fn over_http_a_refusal_is_429_with_retry_after_and_ratelimit_headers() {
    let clock = FakeClock::default();
    let s = server();
    let layer = RateLimitLayer::new(Key::forwarded_for(1).or(Key::client_ip()))
        .quota(Quota::per_minute(1))
        .with_fake_clock(clock.clone());
    let http = StreamableHttp::with_options(s.layer(layer), HttpOptions::default());
    let body = json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": { "name": "echo", "arguments": {},
        "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } } });
    let post = |xff: &'static str| {
        http::Request::post("/mcp")
            .header("host", "127.0.0.1:3000")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", "echo")
            .header("x-forwarded-for", xff)
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("request")
    };
    let ok = http.clone().oneshot(post("198.51.100.1")).await.expect("infallible");
    assert_eq!(ok.status(), 200);
    let no = http.clone().oneshot(post("198.51.100.1")).await.expect("infallible");
    assert_eq!(no.status(), 429);
    let h = |name: &str| no.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(
        (h("retry-after"), h("ratelimit-limit"), h("ratelimit-remaining"), h("ratelimit-reset")),
        (Some("60".into()), Some("1".into()), Some("0".into()), Some("60".into()))
    );
    let v: Value = serde_json::from_slice(&no.into_body().collect().await.expect("body").to_bytes()).expect("json");
    assert_eq!(refused(&v, 7)["retryAfterMs"], 60_000);
    // Another client behind the same proxy is not affected.
    assert_eq!(http.clone().oneshot(post("198.51.100.2")).await.expect("infallible").status(), 200);
}
