//! The `layers` bench's requests in a plain loop, for instruction counts:
//! `layers_loop <bare|ratelimit|both|all|cache> <iterations>` (`all` adds
//! the per-tool timeout layer under the rate limiter; `cache` answers each
//! call from the result cache). Criterion's timings
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

use std::hint::black_box;

use mcp_aws::telemetry::Telemetry;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use tower::Layer as _;

#[path = "../benches/common/layers.rs"]
mod common;
use common::{Discard, limiter, message, run, server};

fn main() {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_default();
    let n: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let server = server();
    let message = message();
    let limiter = limiter();
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
    let timeouts = mcp_aws::timeout::ToolTimeoutLayer::new().default_timeout(std::time::Duration::from_secs(30));
    let all = telemetry.layer().layer(limiter.layer(timeouts.layer(server.clone())));
    let cached = mcp_aws::cache::CacheLayer::new(&server)
        .tool("add", std::time::Duration::from_secs(3600))
        .layer(server.clone());
    black_box(run(&cached, &message)); // warms the cache
    // The timeout layer arms a tokio timer: it needs a runtime to register
    // with, though the tool never yields.
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    let _entered = rt.enter();
    let t = std::time::Instant::now();
    for _ in 0..n {
        let out = match variant.as_str() {
            "bare" => run(&server, black_box(&message)),
            "ratelimit" => run(&limited, black_box(&message)),
            "both" => run(&both, black_box(&message)),
            "all" => run(&all, black_box(&message)),
            "cache" => run(&cached, black_box(&message)),
            _ => panic!("variant"),
        };
        black_box(out);
    }
    eprintln!("{variant}: {:?}/iter", t.elapsed() / n as u32);
    telemetry.shutdown().ok();
}
