//! The per-request cost the rate limiter and the telemetry layer add to
//! the dispatcher, on a stateless `tools/call` that answers at once.
//!
//! `cargo bench -p mcp-benches --bench layers`
//!
//! Compare each figure with `bare` from the same run: the difference is the
//! layers' cost. Telemetry exports through a batch processor to an exporter
//! that discards everything, so spans and metrics are built and handed off
//! as in production, without network time.

#![allow(missing_docs)]

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
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
    /// The first addend
    a: f64,
    /// The second addend
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

fn benches(c: &mut Criterion) {
    let server = ServerBuilder::new("bench", "1.0.0")
        .tool(ToolRoute::new("add", |_ctx: Context, a: AddArgs| async move { a.a + a.b }).with_description("Add"))
        .build()
        .expect("valid");
    let message = Message::parse(CALL).expect("valid");
    // A quota the bench never exhausts: every request takes the admit path.
    let limiter = RateLimitLayer::new(Key::principal().or(Key::client_ip()))
        .quota(Quota::per_second(1_000_000_000))
        .tool_quota("add", Quota::per_second(1_000_000_000));
    let telemetry = Telemetry::builder("bench")
        .tracer_provider(
            SdkTracerProvider::builder().with_span_processor(BatchSpanProcessor::builder(Discard).build()).build(),
        )
        .meter_provider(SdkMeterProvider::builder().with_reader(PeriodicReader::builder(Discard).build()).build())
        .build()
        .expect("telemetry");

    let limited = limiter.layer(server.clone());
    let both = telemetry.layer().layer(limiter.layer(server.clone()));
    let disabled = Telemetry::disabled().layer().layer(server.clone());
    for svc_out in [run(&server, &message), run(&limited, &message), run(&both, &message)] {
        let resp = svc_out.expect("a response");
        assert!(resp.payload.is_ok_and(|r| r.get().contains("\"5\"")), "the call succeeds");
    }

    let mut group = c.benchmark_group("layers/tools_call");
    group.bench_function("bare", |b| b.iter(|| run(&server, black_box(&message))));
    group.bench_function("ratelimit", |b| b.iter(|| run(&limited, black_box(&message))));
    group.bench_function("ratelimit+telemetry", |b| b.iter(|| run(&both, black_box(&message))));
    group.bench_function("telemetry_disabled", |b| b.iter(|| run(&disabled, black_box(&message))));
    group.finish();

    // The limiter's decision alone (key, tool name, two governor checks)
    // on one prepared request: its whole per-request cost, without the
    // dispatcher's noise around it.
    let mut req = ServerRequest::new(message.clone(), None, Sink::none());
    req.extensions.insert(Principal::new("bench-user"));
    c.bench_function("layers/ratelimit_decision", |b| {
        b.iter(|| limited.check(black_box(&req)).is_ok());
    });
    telemetry.shutdown().ok();
}

criterion_group!(layers, benches);
criterion_main!(layers);
