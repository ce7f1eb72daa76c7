//! The `layers` bench's requests in a plain loop, for instruction counts:
//! `layers_loop <bare|ratelimit|both> <iterations>`. Criterion's timings
//! swing by a microsecond on a shared machine; callgrind's counts do not.
//!
//! ```text
//! cargo build --profile bench -p mcp-benches --example layers_loop
//! valgrind --tool=callgrind --separate-threads=yes target/release/examples/layers_loop both 12000
//! ```
//!
//! Run it twice with different iteration counts and divide the difference
//! by the difference in iterations: that is the cost of one request,
//! without the set-up. The main thread's count is the steady one; the batch
//! span processor's thread runs when the scheduler lets it (under callgrind,
//! rarely, so most spans are dropped on the main thread).
//!
//! `SPANS=simple` or `SPANS=none` swaps the batch span processor for a
//! synchronous one or none; `RECORD_ARGUMENTS=1` turns on argument recording.

#![allow(missing_docs)]

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use futures_util::FutureExt as _;
use mcp_aws::ratelimit::{Key, Quota, RateLimitLayer};
use mcp_aws::telemetry::Telemetry;
use mcp_core::jsonrpc::{Message, Response};
use mcp_core::server::{Context, Principal, ServerBuilder, ServerRequest, Sink, ToolRoute};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter};
use tower::{Layer as _, Service, ServiceExt as _};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddArgs {
    a: f64,
    b: f64,
}

#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    fn export(&self, batch: Vec<SpanData>) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        drop(black_box(batch));
        std::future::ready(Ok(()))
    }
}

impl PushMetricExporter for Discard {
    fn export(&self, metrics: &ResourceMetrics) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        black_box(metrics);
        std::future::ready(Ok(()))
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

const CALL: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;

/// One request through `svc`; the tool completes without yielding.
#[inline(never)]
fn run<S>(svc: &S, message: &Message) -> Option<Response>
where
    S: Service<ServerRequest, Response = Option<Response>, Error = Infallible> + Clone,
{
    let mut req = ServerRequest::new(message.clone(), None, Sink::none());
    req.extensions.insert(Principal::new("bench-user"));
    match svc.clone().oneshot(req).now_or_never() {
        Some(Ok(resp)) => resp,
        Some(Err(never)) => match never {},
        None => panic!("the bench tool does not yield"),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_default();
    let n: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let server = ServerBuilder::new("bench", "1.0.0")
        .tool(ToolRoute::new("add", |_ctx: Context, a: AddArgs| async move { a.a + a.b }).with_description("Add"))
        .build()
        .expect("valid");
    let message = Message::parse(CALL).expect("valid");
    let limiter = RateLimitLayer::new(Key::principal().or(Key::client_ip()))
        .quota(Quota::per_second(1_000_000_000))
        .tool_quota("add", Quota::per_second(1_000_000_000));
    // SPANS=simple exports on the calling thread, SPANS=none not at all:
    // the difference from the default is the batch processor's share.
    let spans = match std::env::var("SPANS").as_deref() {
        Ok("simple") => SdkTracerProvider::builder().with_simple_exporter(Discard).build(),
        Ok("none") => SdkTracerProvider::builder().build(),
        _ => SdkTracerProvider::builder().with_span_processor(BatchSpanProcessor::builder(Discard).build()).build(),
    };
    let telemetry = Telemetry::builder("bench")
        .tracer_provider(spans)
        .meter_provider(SdkMeterProvider::builder().with_reader(PeriodicReader::builder(Discard).build()).build())
        .record_arguments(std::env::var_os("RECORD_ARGUMENTS").is_some())
        .build()
        .expect("telemetry");
    let limited = limiter.layer(server.clone());
    let both = telemetry.layer().layer(limiter.layer(server.clone()));
    let t = std::time::Instant::now();
    for _ in 0..n {
        let out = match variant.as_str() {
            "bare" => run(&server, black_box(&message)),
            "ratelimit" => run(&limited, black_box(&message)),
            "both" => run(&both, black_box(&message)),
            _ => panic!("variant"),
        };
        black_box(out);
    }
    eprintln!("{variant}: {:?}/iter", t.elapsed() / n as u32);
    telemetry.shutdown().ok();
}
