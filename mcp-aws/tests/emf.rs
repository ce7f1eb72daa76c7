//! EMF records: one per invocation, valid per the Embedded Metric Format
//! specification, with exact counts.

mod common;

use common::{Buffer, call, request, send};
use mcp_aws::emf::Emf;
use mcp_aws::ratelimit::{FakeClock, Key, Quota, RateLimitLayer};
use serde_json::{Value, json};
use tower::Layer as _;

impl Buffer {
    fn take_lines(&self) -> Vec<Value> {
        let bytes = std::mem::take(&mut *self.0.lock().expect("lock"));
        String::from_utf8(bytes)
            .expect("utf-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
            .collect()
    }
}

const UNITS: &[&str] = &["Seconds", "Microseconds", "Milliseconds", "Bytes", "Count", "Percent", "None"];

/// Checks a record against the EMF specification's rules.
fn assert_valid_emf(record: &Value) {
    let aws = &record["_aws"];
    assert!(aws["Timestamp"].as_u64().is_some_and(|t| t > 1_600_000_000_000), "Timestamp in epoch ms: {record}");
    let directives = aws["CloudWatchMetrics"].as_array().expect("CloudWatchMetrics array");
    assert!(!directives.is_empty());
    for d in directives {
        let ns = d["Namespace"].as_str().expect("Namespace");
        assert!(!ns.is_empty() && ns.len() <= 255);
        for set in d["Dimensions"].as_array().expect("Dimensions") {
            let set = set.as_array().expect("a dimension set");
            assert!(set.len() <= 30);
            for name in set {
                let name = name.as_str().expect("dimension name");
                assert!(record[name].is_string(), "dimension {name} is a top-level string member");
            }
        }
        let metrics = d["Metrics"].as_array().expect("Metrics");
        assert!(metrics.len() <= 100);
        for m in metrics {
            let name = m["Name"].as_str().expect("Name");
            assert!(UNITS.contains(&m["Unit"].as_str().expect("Unit")), "{m}");
            match &record[name] {
                Value::Number(_) => {}
                Value::Array(values) => {
                    assert!(values.len() <= 100 && values.iter().all(Value::is_number), "{name}: {values:?}");
                }
                other => panic!("metric {name} must be a number or an array of numbers, got {other}"),
            }
        }
    }
}

#[tokio::test]
async fn one_valid_record_per_invocation_with_exact_counts() {
    let buffer = Buffer::default();
    let emf = Emf::new("MCPTest").with_service_name("weather").with_writer(buffer.clone());
    let limiter = RateLimitLayer::new(Key::global()).quota(Quota::per_hour(3)).with_fake_clock(FakeClock::default());
    let svc = emf.layer().layer(limiter.layer(common::server()));

    // Invocation 1: four calls of one tool (one fails, one refused).
    send(&svc, call(1, "echo", None)).await;
    send(&svc, call(2, "echo", None)).await;
    send(&svc, call(3, "fail", None)).await;
    send(&svc, call(4, "fail", None)).await;
    emf.flush().expect("flush");
    let records = buffer.take_lines();
    assert_eq!(records.len(), 2, "one record per tool served: {records:?}");
    records.iter().for_each(assert_valid_emf);
    let by_tool = |tool: &str| records.iter().find(|r| r["Tool"] == tool).cloned().expect("record");
    let echo = by_tool("echo");
    assert_eq!((echo["Requests"].as_u64(), echo["Errors"].as_u64()), (Some(2), Some(0)));
    assert_eq!((echo["ServiceName"].as_str(), echo["Method"].as_str()), (Some("weather"), Some("tools/call")));
    assert_eq!(echo["Duration"].as_array().map(Vec::len), Some(2));
    let fail = by_tool("fail");
    assert_eq!(
        (fail["Requests"].as_u64(), fail["Errors"].as_u64(), fail["RateLimited"].as_u64()),
        (Some(2), Some(2), Some(1))
    );
    assert_eq!(fail["_aws"]["CloudWatchMetrics"][0]["Namespace"], "MCPTest");

    // Invocation 2: one request, one record; an empty invocation writes none.
    send(&svc, request(5, "tools/list", json!({}), None)).await;
    emf.flush().expect("flush");
    let records = buffer.take_lines();
    assert_eq!(records.len(), 1);
    assert_valid_emf(&records[0]);
    assert_eq!(records[0]["Method"], "tools/list");
    assert!(records[0].get("Tool").is_none());
    assert_eq!(records[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["ServiceName", "Method"]]));
    emf.flush().expect("flush");
    assert!(buffer.take_lines().is_empty());
}
