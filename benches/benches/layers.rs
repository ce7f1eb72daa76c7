//! The per-request cost the rate limiter and the telemetry layer add to
//! the dispatcher, on a stateless `tools/call` that answers at once.
//!
//! `cargo bench -p mcp-benches --bench layers`
//!
//! Compare each figure with `bare` from the same run: the difference is the
//! layers' cost. `cache_hit` is the same call answered by the result cache
//! (`mcp_aws::cache`); `slow_tool/*` compares a 10 ms tool uncached and
//! answered from the cache. Telemetry exports through a batch processor to an exporter
//! that discards everything, so spans and metrics are built and handed off
//! as in production, without network time.

#![allow(missing_docs)]

use std::convert::Infallible;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;

use mcp_aws::cache::CacheLayer;
use mcp_aws::telemetry::Telemetry;
use mcp_core::jsonrpc::{Message, Response};
use mcp_core::server::{Principal, ServerRequest, Sink};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use tower::{Layer as _, Service, ServiceExt as _};

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
    let cache =
        CacheLayer::new(&server).tool("add", Duration::from_secs(3600)).tool("slow_add", Duration::from_secs(3600));
    let cached = cache.layer(server.clone());
    for svc_out in [run(&server, &message), run(&limited, &message), run(&both, &message), run(&cached, &message)] {
        let resp = svc_out.expect("a response");
        assert!(resp.payload.is_ok_and(|r| r.get().contains("\"5\"")), "the call succeeds");
    }

    let mut group = c.benchmark_group("layers/tools_call");
    group.bench_function("bare", |b| b.iter(|| run(&server, black_box(&message))));
    group.bench_function("ratelimit", |b| b.iter(|| run(&limited, black_box(&message))));
    group.bench_function("ratelimit+telemetry", |b| b.iter(|| run(&both, black_box(&message))));
    group.bench_function("telemetry_disabled", |b| b.iter(|| run(&disabled, black_box(&message))));
    let hit = run(&cached, &message).expect("a response");
    assert!(hit.payload.is_ok_and(|r| r.get().contains("\"ttlMs\"")), "answered from the cache");
    group.bench_function("cache_hit", |b| b.iter(|| run(&cached, black_box(&message))));
    group.finish();

    // A 10 ms tool: each uncached call waits for it; a hit does not.
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    let slow = slow_message();
    assert!(rt.block_on(call(&cached, &slow)).is_some_and(|r| r.payload.is_ok()), "warms the cache");
    let mut group = c.benchmark_group("layers/slow_tool");
    group.sample_size(10).measurement_time(Duration::from_secs(3));
    group.bench_function("uncached", |b| b.iter(|| rt.block_on(call(&server, black_box(&slow)))));
    group.bench_function("cache_hit", |b| b.iter(|| rt.block_on(call(&cached, black_box(&slow)))));
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

/// The stateless `tools/call` of `slow_add(2, 3)`.
fn slow_message() -> Message {
    let text = std::str::from_utf8(common::CALL).expect("utf-8").replace("\"add\"", "\"slow_add\"");
    Message::parse(text.as_bytes()).expect("valid")
}

/// One request through `svc`, on a runtime (for tools that wait).
async fn call<S>(svc: &S, message: &Message) -> Option<Response>
where
    S: Service<ServerRequest, Response = Option<Response>, Error = Infallible> + Clone,
{
    let mut req = ServerRequest::new(message.clone(), None, Sink::none());
    req.extensions.insert(Principal::new("bench-user"));
    svc.clone().oneshot(req).await.unwrap_or_else(|never| match never {})
}

criterion_group!(layers, benches);
criterion_main!(layers);
