//! Helpers shared by the Lambda tests: event fixtures and the runtime's
//! view of a response.
#![allow(dead_code, unreachable_pub)]

use lambda_http::lambda_runtime::{Context as LambdaContext, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Service as _};
use mcp_aws::lambda::LambdaAdapter;
use mcp_core::server::McpService;
use serde_json::Value;

pub fn event(name: &str) -> Value {
    let path = format!("{}/tests/events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("event JSON")
}

/// Runs `event` through lambda_http's own event → request → response
/// conversion around the adapter: what the runtime would send back.
pub async fn invoke<S: McpService>(adapter: &LambdaAdapter<S>, event: Value) -> Value {
    let payload: LambdaRequest = serde_json::from_value(event).expect("a Lambda HTTP event");
    let mut context = LambdaContext::default();
    context.request_id = "req-42".to_owned();
    let mut svc = Adapter::from(adapter.clone());
    let resp = svc.call(LambdaEvent::new(payload, context)).await.expect("infallible");
    serde_json::to_value(resp).expect("serialisable")
}

/// The response's headers (single- or multi-value), lowercased.
pub fn header(resp: &Value, name: &str) -> Option<String> {
    for key in ["headers", "multiValueHeaders"] {
        if let Some(map) = resp[key].as_object() {
            for (k, v) in map {
                if k.eq_ignore_ascii_case(name) {
                    return Some(match v {
                        Value::Array(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
                        other => other.as_str().unwrap_or_default().to_owned(),
                    });
                }
            }
        }
    }
    None
}

pub fn body(resp: &Value) -> Value {
    assert_eq!(resp["isBase64Encoded"], false, "JSON bodies go back as text: {resp}");
    let text = resp["body"].as_str().unwrap_or_else(|| panic!("no body: {resp}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}
