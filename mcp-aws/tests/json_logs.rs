//! JSON logs carry the request's ids and trace id, and `tracing` spans in
//! tool code become OpenTelemetry children of the tool call's span.

mod common;

use common::{Buffer, call, send};
use mcp_aws::telemetry::Telemetry;
use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use serde_json::Value;
use tower::Layer as _;
use tracing_subscriber::fmt::MakeWriter;

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

fn lines(buffer: &Buffer) -> Vec<Value> {
    let text = String::from_utf8(buffer.0.lock().expect("lock").clone()).expect("utf-8");
    text.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect()
}

fn server() -> mcp_core::server::Server {
    ServerBuilder::new("logs", "1.0.0")
        .tool(
            ToolRoute::new("work", |_ctx: Context, _: NoArgs| async {
                let span = tracing::info_span!("user.work", items = 2);
                let _entered = span.enter();
                tracing::info!(step = "inside", "working");
                "done"
            })
            .with_description("Logs"),
        )
        .build()
        .expect("valid")
}

#[tokio::test]
async fn log_lines_carry_request_and_trace_ids_and_user_spans_join_the_trace() {
    let spans = InMemorySpanExporter::default();
    let telemetry = Telemetry::builder("logs")
        .tracer_provider(SdkTracerProvider::builder().with_simple_exporter(spans.clone()).build())
        .build()
        .expect("telemetry");
    let buffer = Buffer::default();
    let _guard = tracing::subscriber::set_default(mcp_aws::logging::json_subscriber(&telemetry, buffer.clone()));
    let svc = telemetry.layer().layer(server());
    let v = send(&svc, call(7, "work", None)).await;
    assert_eq!(v["result"]["content"][0]["text"], "done");

    let finished = spans.get_finished_spans().expect("spans");
    let tool = finished.iter().find(|s| s.name == "execute_tool work").expect("tool span");
    let user = finished.iter().find(|s| s.name == "user.work").expect("the tool's tracing span was exported");
    assert_eq!(user.parent_span_id, tool.span_context.span_id(), "a child of the tool call");
    assert_eq!(user.span_context.trace_id(), tool.span_context.trace_id());
    assert_eq!(finished.len(), 3, "no duplicate of the request span from the log span");

    let logs = lines(&buffer);
    let line = logs.iter().find(|l| l["fields"]["message"] == "working").expect("the tool's log line");
    assert_eq!(line["level"], "INFO");
    // The innermost span is the user's; the request span's fields are in
    // the span list of the line's context.
    let request = logs_request_span(line).expect("request span fields");
    assert_eq!(request["request_id"], "7");
    assert_eq!(request["method"], "tools/call");
    assert_eq!(request["tool"], "work");
    assert_eq!(request["trace_id"], tool.span_context.trace_id().to_string());
}

#[tokio::test]
async fn disabled_telemetry_still_puts_request_ids_in_logs() {
    let telemetry = Telemetry::disabled();
    let buffer = Buffer::default();
    let _guard = tracing::subscriber::set_default(mcp_aws::logging::json_subscriber(&telemetry, buffer.clone()));
    let svc = telemetry.layer().layer(server());
    send(&svc, call(9, "work", None)).await;
    let logs = lines(&buffer);
    let line = logs.iter().find(|l| l["fields"]["message"] == "working").expect("log line");
    let request = logs_request_span(line).expect("request span");
    assert_eq!((request["request_id"].as_str(), request["tool"].as_str()), (Some("9"), Some("work")));
    assert!(request.get("trace_id").is_none());
}

/// The `mcp.request` span's fields on a log line.
fn logs_request_span(line: &Value) -> Option<&Value> {
    line["spans"].as_array()?.iter().find(|s| s["name"] == "mcp.request")
}
