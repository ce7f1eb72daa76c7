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

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mcp_aws::telemetry::Telemetry;
use mcp_core::server::{Principal, ServerRequest, Sink};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use tower::Layer as _;

#[path = "common/layers.rs"]
mod common;
use common::{Discard, limiter, message, run, server};

fn benches(c: &mut Criterion) {
    let server = server();
    let message = message();
    let limiter = limiter();
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
