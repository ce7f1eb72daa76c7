//! The tool-result cache layer: hits and misses, canonical arguments, TTL
//! on a paused clock, private scope between principals (through the real
//! auth layer), errors never stored, single flight, invalidation (by hand
//! and when a tool is replaced), the 2026-07-28 hints, the `#[tool]`
//! options, and the span attribute and counters.

mod auth_common;
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::MODERN;
use mcp_aws::auth::{ApiKeyRecord, ApiKeys, AuthLayer, InMemoryApiKeyStore};
use mcp_aws::cache::{CacheLayer, CacheStats};
use mcp_aws::emf::Emf;
use mcp_core::jsonrpc::{Message, Response};
use mcp_core::protocol::{CacheScope, ProtocolVersion};
use mcp_core::server::{
    BoxError, Context, Principal, Server, ServerBuilder, ServerRequest, Sink, ToolError, ToolRoute,
};
use mcp_core::tool;
use serde_json::Value;
use tower::{Service, ServiceExt as _};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Query {
    /// A number
    n: i64,
    /// A word
    #[serde(default)]
    word: Option<String>,
}

/// A server whose tools count their runs: `lookup` (cached 60 s),
/// `whoami` (cached, private), `flaky` (cached, fails while `n` is
/// negative), `plain` (not cached), `slow` (cached; takes 50 ms).
fn server(runs: &Arc<AtomicUsize>) -> Server {
    let counted = |runs: &Arc<AtomicUsize>| Arc::clone(runs);
    let (a, b, c, d, e) = (counted(runs), counted(runs), counted(runs), counted(runs), counted(runs));
    ServerBuilder::new("cache-test", "1.0.0")
        .tool(
            ToolRoute::new("lookup", move |_ctx: Context, q: Query| {
                let n = a.fetch_add(1, Ordering::SeqCst);
                async move { format!("{}:{}:run{n}", q.n, q.word.unwrap_or_default()) }
            })
            .cache_ttl(Duration::from_secs(60)),
        )
        .tool(
            ToolRoute::new("whoami", move |ctx: Context, _: mcp_core::server::NoArgs| {
                b.fetch_add(1, Ordering::SeqCst);
                let who = ctx.extensions().get::<Principal>().map_or("nobody".to_owned(), |p| p.subject.clone());
                async move { who }
            })
            .cache_ttl(Duration::from_secs(60))
            .cache_scope(CacheScope::Private),
        )
        .tool(
            ToolRoute::new("flaky", move |_ctx: Context, q: Query| {
                c.fetch_add(1, Ordering::SeqCst);
                async move { if q.n < 0 { Err(ToolError::new("negative", "n is negative")) } else { Ok(q.n) } }
            })
            .cache_ttl(Duration::from_secs(60)),
        )
        .tool(ToolRoute::new("plain", move |_ctx: Context, q: Query| {
            d.fetch_add(1, Ordering::SeqCst);
            async move { q.n }
        }))
        .tool(
            ToolRoute::new("slow", move |_ctx: Context, q: Query| {
                e.fetch_add(1, Ordering::SeqCst);
                async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    q.n * 2
                }
            })
            .cache_ttl(Duration::from_secs(60)),
        )
        .build()
        .expect("valid server")
}

/// `tool` called with `arguments` (JSON text, sent as written), by `who`.
fn call(id: i64, tool: &str, arguments: &str, who: Option<&str>) -> ServerRequest {
    // Sent as written: key order and whitespace reach the layer unchanged.
    let text = format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{tool}","arguments":{arguments},"_meta":{{"io.modelcontextprotocol/protocolVersion":"{MODERN}","io.modelcontextprotocol/clientCapabilities":{{}}}}}}}}"#
    );
    let mut req = ServerRequest::new(Message::parse(text.as_bytes()).expect("valid"), None, Sink::none());
    if let Some(who) = who {
        req.extensions.insert(Principal::new(who));
    }
    req
}

async fn send<S>(svc: &S, req: ServerRequest) -> Value
where
    S: Service<ServerRequest, Response = Option<Response>> + Clone,
    S::Error: Into<BoxError>,
{
    let resp: Response = svc.clone().oneshot(req).await.map_err(Into::into).expect("no layer error").expect("answer");
    let mut buf = Vec::new();
    resp.write_to(&mut buf);
    serde_json::from_slice(&buf).expect("json")
}

fn text(resp: &Value) -> String {
    resp["result"]["content"][0]["text"].as_str().unwrap_or_else(|| panic!("no text in {resp}")).to_owned()
}

fn setup() -> (Arc<AtomicUsize>, Server, CacheLayer) {
    let runs = Arc::new(AtomicUsize::new(0));
    let server = server(&runs);
    let cache = CacheLayer::new(&server);
    (runs, server, cache)
}

#[tokio::test]
async fn a_second_identical_call_is_a_hit_and_other_arguments_miss() {
    let (runs, server, cache) = setup();
    let svc = server.layer(cache.clone());
    let first = send(svc.service(), call(1, "lookup", r#"{"n":1}"#, None)).await;
    let second = send(svc.service(), call(2, "lookup", r#"{"n":1}"#, None)).await;
    assert_eq!(text(&first), "1::run0");
    assert_eq!(text(&second), "1::run0", "served from the cache");
    assert_eq!(second["id"], 2, "with the caller's own id");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(text(&send(svc.service(), call(3, "lookup", r#"{"n":2}"#, None)).await), "2::run1");
    let stats: CacheStats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.store_errors), (1, 2, 0));
    // A tool that did not opt in is never cached.
    send(svc.service(), call(4, "plain", r#"{"n":1}"#, None)).await;
    send(svc.service(), call(5, "plain", r#"{"n":1}"#, None)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 4);
    assert_eq!(cache.stats().misses, 2, "uncached tools are not counted");
}

#[tokio::test]
async fn key_order_and_whitespace_do_not_matter() {
    let (runs, server, cache) = setup();
    let svc = server.layer(cache);
    let a = send(svc.service(), call(1, "lookup", r#"{"n":7,"word":"x"}"#, None)).await;
    let b = send(svc.service(), call(2, "lookup", r#"{ "word" : "x",   "n" : 7 }"#, None)).await;
    assert_eq!((text(&a), text(&b)), ("7:x:run0".to_owned(), "7:x:run0".to_owned()));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // A different value is a different call.
    assert_eq!(text(&send(svc.service(), call(3, "lookup", r#"{"word":"y","n":7}"#, None)).await), "7:y:run1");
}

#[tokio::test(start_paused = true)]
async fn results_expire_after_their_ttl_and_the_hints_count_down() {
    let (runs, server, cache) = setup();
    let svc = server.layer(cache.tool("lookup", Duration::from_secs(10)));
    let first = send(svc.service(), call(1, "lookup", r#"{"n":1}"#, None)).await;
    assert_eq!(first["result"]["ttlMs"], 10_000, "a fresh result: the whole TTL");
    assert_eq!(first["result"]["cacheScope"], "private", "the layer's default scope");
    tokio::time::advance(Duration::from_millis(9_000)).await;
    let hit = send(svc.service(), call(2, "lookup", r#"{"n":1}"#, None)).await;
    assert_eq!(text(&hit), "1::run0");
    assert_eq!(hit["result"]["ttlMs"], 1_000, "what is left of it");
    tokio::time::advance(Duration::from_millis(1_000)).await;
    let after = send(svc.service(), call(3, "lookup", r#"{"n":1}"#, None)).await;
    assert_eq!(text(&after), "1::run1", "expired: the tool runs again");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn legacy_versions_get_no_hints_and_their_own_entries() {
    let (runs, server, cache) = setup();
    let svc = server.layer(cache);
    let legacy = || {
        let msg = Message::parse(
            br#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"lookup","arguments":{"n":1}}}"#,
        )
        .expect("valid");
        ServerRequest::sessionless(msg, ProtocolVersion::V2025_06_18, Sink::none())
    };
    let a = send(svc.service(), legacy()).await;
    let b = send(svc.service(), legacy()).await;
    assert_eq!((text(&a), text(&b)), ("1::run0".to_owned(), "1::run0".to_owned()));
    assert!(a["result"].get("ttlMs").is_none() && b["result"].get("cacheScope").is_none(), "{b}");
    assert!(b["result"].get("resultType").is_none(), "a 2025-06-18 result, not a 2026-07-28 one");
    let modern = send(svc.service(), call(1, "lookup", r#"{"n":1}"#, None)).await;
    assert_eq!(text(&modern), "1::run1", "results are shaped per version: separate entries");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_private_result_is_never_served_to_another_principal() {
    let (runs, server, cache) = setup();
    let keys = InMemoryApiKeyStore::new();
    keys.insert(ApiKeyRecord::new("alice-key", "alice", ["execute:*"]));
    keys.insert(ApiKeyRecord::new("bob-key", "bob", ["execute:*"]));
    // The real stack: auth outside, the cache over the dispatcher.
    let svc = server.layer(cache.clone()).layer(AuthLayer::new().api_keys(ApiKeys::new(keys)));
    let with_key = |id, key: &'static str| {
        let mut req = call(id, "whoami", "{}", None);
        let mut headers = http::HeaderMap::new();
        headers.insert("x-api-key", http::HeaderValue::from_static(key));
        req.extensions.insert(headers);
        req
    };
    assert_eq!(text(&send(svc.service(), with_key(1, "alice-key")).await), "alice");
    assert_eq!(text(&send(svc.service(), with_key(2, "bob-key")).await), "bob");
    assert_eq!(text(&send(svc.service(), with_key(3, "alice-key")).await), "alice");
    let bob = send(svc.service(), with_key(4, "bob-key")).await;
    assert_eq!(text(&bob), "bob");
    assert_eq!(bob["result"]["cacheScope"], "private");
    assert_eq!(runs.load(Ordering::SeqCst), 2, "one run per principal");
    assert_eq!(cache.stats().hits, 2);
}

#[tokio::test]
async fn a_public_tool_shares_one_result_between_principals() {
    let (runs, server, cache) = setup();
    let svc = server.layer(cache.tool_in_scope("lookup", Duration::from_secs(60), CacheScope::Public));
    let a = send(svc.service(), call(1, "lookup", r#"{"n":3}"#, Some("alice"))).await;
    let b = send(svc.service(), call(2, "lookup", r#"{"n":3}"#, Some("bob"))).await;
    assert_eq!((text(&a), text(&b)), ("3::run0".to_owned(), "3::run0".to_owned()));
    assert_eq!(b["result"]["cacheScope"], "public");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn errors_are_never_cached() {
    let (runs, server, cache) = setup();
    let svc = server.layer(cache.clone());
    for id in 0..3 {
        let failed = send(svc.service(), call(id, "flaky", r#"{"n":-1}"#, None)).await;
        assert_eq!(failed["result"]["isError"], true, "{failed}");
        assert!(failed["result"].get("ttlMs").is_none(), "an error carries no caching hint");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 3, "each isError result ran the tool");
    // Invalid arguments (an isError result from 2025-11-25 on) and a
    // JSON-RPC error (no such tool) are not stored either.
    for id in 0..2 {
        let bad = send(svc.service(), call(10 + id, "flaky", r#"{"n":"not a number"}"#, None)).await;
        assert_eq!(bad["result"]["isError"], true, "{bad}");
        let unknown = send(svc.service(), call(20 + id, "nope", "{}", None)).await;
        assert!(unknown["error"]["code"].is_i64(), "{unknown}");
    }
    let ok = send(svc.service(), call(30, "flaky", r#"{"n":5}"#, None)).await;
    assert_eq!(text(&ok), "5");
    assert_eq!(cache.stats().hits, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_identical_calls_run_the_tool_once() {
    let (runs, server, cache) = setup();
    let svc = server.layer(cache.clone());
    let calls = (0..100).map(|id| {
        let svc = svc.service().clone();
        tokio::spawn(async move { send(&svc, call(id, "slow", r#"{"n":21}"#, None)).await })
    });
    let answers = futures_util::future::join_all(calls).await;
    for (id, answer) in answers.into_iter().enumerate() {
        let answer = answer.expect("task");
        assert_eq!(text(&answer), "42");
        assert_eq!(answer["id"], id, "each caller gets its own id");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1, "single flight: one run");
    let stats = cache.stats();
    assert_eq!((stats.misses, stats.hits), (1, 99));
}

#[tokio::test]
async fn replacing_a_tool_drops_its_results() {
    let (runs, server, cache) = setup();
    let svc = server.clone().layer(cache);
    assert_eq!(text(&send(svc.service(), call(1, "lookup", r#"{"n":1}"#, None)).await), "1::run0");
    assert_eq!(text(&send(svc.service(), call(2, "lookup", r#"{"n":1}"#, None)).await), "1::run0");
    let replacement = ToolRoute::new("lookup", |_ctx: Context, q: Query| async move { format!("v2:{}", q.n) })
        .cache_ttl(Duration::from_secs(60));
    server.add_tool(replacement).expect("valid tool");
    assert_eq!(text(&send(svc.service(), call(3, "lookup", r#"{"n":1}"#, None)).await), "v2:1");
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the old tool did not run again");
}

#[tokio::test]
async fn invalidation_by_tool_by_key_and_all() {
    let (runs, server, cache) = setup();
    let svc = server.layer(cache.clone());
    let warm = |n: i64| {
        let svc = svc.service().clone();
        async move { text(&send(&svc, call(n, "lookup", &format!(r#"{{"n":{n}}}"#), None)).await) }
    };
    warm(1).await;
    warm(2).await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    let key = cache.key_for("lookup", r#"{"n": 1}"#, None, ProtocolVersion::V2026_07_28).expect("a cached tool");
    cache.invalidate_key(&key).await.expect("invalidated");
    assert_eq!(warm(1).await, "1::run2", "that one call ran again");
    assert_eq!(warm(2).await, "2::run1", "the other is still cached");
    cache.invalidate_tool("lookup").await.expect("invalidated");
    assert_eq!(warm(2).await, "2::run3");
    cache.invalidate_all().await.expect("invalidated");
    assert_eq!(warm(2).await, "2::run4");
    assert!(cache.key_for("plain", "{}", None, ProtocolVersion::V2026_07_28).is_none(), "not a cached tool");
}

/// A counted tool for the macro options.
static QUOTES: AtomicUsize = AtomicUsize::new(0);

/// Today's quote, the same for everyone.
#[tool(read_only, cache_ttl = "2m", cache_scope = "public")]
async fn quote(symbol: String) -> String {
    let n = QUOTES.fetch_add(1, Ordering::SeqCst);
    format!("{symbol}={n}")
}

/// The time, read-only but never declared cacheable.
#[tool(read_only)]
async fn clock() -> String {
    QUOTES.fetch_add(100, Ordering::SeqCst);
    "now".to_owned()
}

#[tokio::test]
async fn the_tool_macro_options_and_the_read_only_switch() {
    let server = ServerBuilder::new("macro", "1.0.0").tool(quote_tool()).tool(clock_tool()).build().expect("valid");
    let declared = server.tool_caching("quote").and_then(|c| c.declared).expect("declared");
    assert_eq!((declared.ttl, declared.scope), (Duration::from_secs(120), Some(CacheScope::Public)));
    let svc = server.clone().layer(CacheLayer::new(&server));
    let a = send(svc.service(), call(1, "quote", r#"{"symbol":"ACME"}"#, Some("alice"))).await;
    let b = send(svc.service(), call(2, "quote", r#"{"symbol":"ACME"}"#, Some("bob"))).await;
    assert_eq!(text(&a), text(&b), "public: shared between callers");
    assert_eq!((a["result"]["ttlMs"].as_u64(), b["result"]["cacheScope"].as_str()), (Some(120_000), Some("public")));
    send(svc.service(), call(3, "clock", "{}", None)).await;
    send(svc.service(), call(4, "clock", "{}", None)).await;
    assert_eq!(QUOTES.load(Ordering::SeqCst), 201, "read-only alone is not cached");
    let switched = server.clone().layer(CacheLayer::new(&server).cache_read_only(true));
    send(switched.service(), call(5, "clock", "{}", None)).await;
    send(switched.service(), call(6, "clock", "{}", None)).await;
    assert_eq!(QUOTES.load(Ordering::SeqCst), 301, "with the switch, read-only tools are cached");
}

#[tokio::test]
async fn later_rounds_and_task_requests_go_straight_through() {
    let (runs, server, cache) = setup();
    let svc = server.layer(cache);
    let with = |id: i64, extra: &str| {
        let text = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"lookup","arguments":{{"n":1}},{extra},"_meta":{{"io.modelcontextprotocol/protocolVersion":"{MODERN}","io.modelcontextprotocol/clientCapabilities":{{}}}}}}}}"#
        );
        ServerRequest::new(Message::parse(text.as_bytes()).expect("valid"), None, Sink::none())
    };
    send(svc.service(), call(1, "lookup", r#"{"n":1}"#, None)).await;
    let later = send(svc.service(), with(2, r#""requestState":"opaque","inputResponses":{}"#)).await;
    assert!(later.get("error").is_some() || later["result"]["content"].is_array(), "{later}");
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the dispatcher judged the later round; no hit was served");
    assert!(later["result"].get("ttlMs").is_none(), "not answered from the cache: {later}");
}

#[tokio::test]
async fn a_hit_marks_the_tool_span_and_the_counters_export() {
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    let spans = InMemorySpanExporter::default();
    let metrics = InMemoryMetricExporter::default();
    let meters = SdkMeterProvider::builder().with_reader(PeriodicReader::builder(metrics.clone()).build()).build();
    let telemetry = mcp_aws::telemetry::Telemetry::builder("cache-test")
        .tracer_provider(SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build())
        .meter_provider(meters)
        .build()
        .expect("telemetry");
    let (_, server, cache) = setup();
    cache.observe(&telemetry.meter().expect("a meter"));
    let buffer = common::Buffer::default();
    let emf = Emf::new("MCPTest").with_service_name("cache").with_writer(buffer.clone()).with_cache(&cache);
    let svc = server.layer(cache).layer(telemetry.layer());
    send(svc.service(), call(1, "lookup", r#"{"n":1}"#, None)).await;
    send(svc.service(), call(2, "lookup", r#"{"n":1}"#, None)).await;
    let finished = spans.get_finished_spans().expect("spans");
    let marks: Vec<bool> = finished
        .iter()
        .filter_map(|s| s.attributes.iter().find(|kv| kv.key.as_str() == "mcp.cache.hit"))
        .filter_map(|kv| match kv.value {
            opentelemetry::Value::Bool(b) => Some(b),
            _ => None,
        })
        .collect();
    assert_eq!(marks, [false, true], "the miss, then the hit");
    telemetry.flush().expect("flush");
    let exported = format!("{:?}", metrics.get_finished_metrics().expect("metrics"));
    assert!(exported.contains("mcp.server.cache.hits") && exported.contains("mcp.server.cache.misses"), "{exported}");
    emf.flush().expect("flush");
    let lines = String::from_utf8(std::mem::take(&mut *buffer.0.lock().expect("lock"))).expect("utf-8");
    let record: Value = serde_json::from_str(lines.lines().next().expect("a record")).expect("json");
    assert_eq!((record["CacheHits"].as_u64(), record["CacheMisses"].as_u64()), (Some(1), Some(1)), "{record}");
    emf.flush().expect("flush");
    assert!(buffer.0.lock().expect("lock").is_empty(), "nothing new: no record");
}

#[tokio::test]
async fn over_streamable_http_two_api_keys_get_their_own_results() {
    use auth_common::{exchange, post};
    use mcp_core::transport::http::StreamableHttp;
    let (runs, server, cache) = setup();
    let keys = InMemoryApiKeyStore::new();
    keys.insert(ApiKeyRecord::new("alice-key", "alice", ["execute:*"]));
    keys.insert(ApiKeyRecord::new("bob-key", "bob", ["execute:*"]));
    let app = server.layer(cache.clone()).layer(AuthLayer::new().api_keys(ApiKeys::new(keys)));
    let http = StreamableHttp::new(app);
    for (id, key, who) in [(1, "alice-key", "alice"), (2, "bob-key", "bob"), (3, "alice-key", "alice")] {
        let (status, _, body) = exchange(&http, post(id, "whoami", &[("x-api-key", key)])).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(text(&body), who);
        assert_eq!(body["id"], id);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2, "alice's second call was a hit");
    assert_eq!(cache.stats().hits, 1);
    let (status, _, _) = exchange(&http, post(4, "whoami", &[])).await;
    assert_eq!(status, 401, "no key: refused before the cache");
}
