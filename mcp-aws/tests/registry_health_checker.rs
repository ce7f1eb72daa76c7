//! The health checker's bounds, on moto with real HTTP health endpoints:
//! at most `concurrency` checks in flight, a server that never answers is
//! `unhealthy` after the per-server timeout (the round does not wait for
//! it), and a scheduled event is one round.
#![cfg(feature = "registry-service")]

mod moto;
mod registry_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use mcp_aws::registry::health_checker::HealthChecker;
use mcp_aws::registry::{DynamoDbRegistry, Registration, RegistryError, Status};
use serde_json::json;

use moto::start_moto;
use registry_common::serve;

#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
    calls: AtomicUsize,
}

/// `/health` answers 200 after 200 ms, counting the checks in flight;
/// `/hang/health` never answers in time.
fn health_app(gauge: Arc<Gauge>) -> Router {
    Router::new()
        .route(
            "/health",
            get(move || {
                let gauge = Arc::clone(&gauge);
                async move {
                    gauge.calls.fetch_add(1, Ordering::SeqCst);
                    let now = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
                    gauge.max.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    gauge.now.fetch_sub(1, Ordering::SeqCst);
                    "ok"
                }
            }),
        )
        .route("/hang/health", get(|| async { tokio::time::sleep(Duration::from_secs(30)).await }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: ./scripts/test.sh runs it (or MOTO_SERVER=... cargo test -- --include-ignored)"]
async fn checks_are_bounded_in_number_and_time_and_a_scheduled_event_is_one_round() {
    let moto = start_moto();
    let registry = DynamoDbRegistry::new(moto::client(&moto.endpoint).await, "MCPServerRegistry-bounds");
    registry.create_table().await.expect("CreateTable");
    let gauge = Arc::new(Gauge::default());
    let addr = serve(health_app(Arc::clone(&gauge))).await;
    for i in 0..6 {
        let reg = Registration::new(format!("srv-{i}"), "1.0.0", "Server", format!("http://{addr}/mcp"));
        registry.upsert(&reg).await.expect("upsert");
    }
    let hung = Registration::new("hung", "1.0.0", "Hung", format!("http://{addr}/mcp"))
        .with_health_check_url(Some(format!("http://{addr}/hang/health")));
    registry.upsert(&hung).await.expect("upsert");

    let checker =
        HealthChecker::new(registry.clone()).expect("checker").concurrency(2).timeout(Duration::from_millis(700));
    let started = Instant::now();
    let report = checker.check_once().await.expect("round");
    let elapsed = started.elapsed();
    assert_eq!(report.checked, 7, "{report:?}");
    assert_eq!(report.marked_unhealthy, [("hung".to_owned(), "1.0.0".to_owned())]);
    assert_eq!(gauge.calls.load(Ordering::SeqCst), 6, "each server checked once");
    assert_eq!(gauge.max.load(Ordering::SeqCst), 2, "never more than `concurrency` checks in flight");
    // Seven checks two at a time: about 3 × 200 ms plus the 700 ms timeout, far below the hung server's 30 s.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(registry.get("hung", "1.0.0").await.expect("get").expect("entry").status, Status::Unhealthy);
    let outcomes: Vec<(&str, bool)> = report.servers.iter().map(|s| (s.server_id.as_str(), s.healthy)).collect();
    assert_eq!(outcomes.len(), 7);
    assert!(outcomes.contains(&("hung", false)) && outcomes.iter().filter(|(_, ok)| *ok).count() == 6, "{outcomes:?}");

    // The round as EMF: a summary and one ServerHealthy per server.
    let records: Vec<serde_json::Value> = report
        .emf_records("MCPServerRegistry", "test", 1)
        .iter()
        .map(|r| serde_json::from_str(r).expect("a JSON line"))
        .collect();
    assert_eq!(records.len(), 8);
    assert_eq!((records[0]["UnhealthyServers"].as_u64(), records[0]["CheckedServers"].as_u64()), (Some(1), Some(7)));
    assert_eq!(records[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"], "MCPServerRegistry");
    let hung_record = records.iter().find(|r| r["ServerId"] == "hung").expect("the hung server's record");
    assert_eq!((hung_record["ServerHealthy"].as_u64(), hung_record["Environment"].as_str()), (Some(0), Some("test")));
    assert_eq!(hung_record["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Environment", "ServerId"]]));

    // A scheduled event is one more round, reported as JSON-ready data.
    let event = json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}});
    let report = checker.handle_event(&event).await.expect("round");
    assert_eq!((report.checked, report.marked_unhealthy.len()), (7, 0), "{report:?}");
    assert_eq!(gauge.calls.load(Ordering::SeqCst), 12);
    assert_eq!(serde_json::to_value(&report).expect("json")["checked"], 7);

    // Anything else is refused by name, and checks nothing.
    let refused = checker.handle_event(&json!({"httpMethod": "GET"})).await;
    assert!(matches!(&refused, Err(RegistryError::Invalid { field, .. }) if field == "detail-type"), "{refused:?}");
    assert_eq!(gauge.calls.load(Ordering::SeqCst), 12);
}
