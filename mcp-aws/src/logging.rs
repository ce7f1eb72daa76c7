//! Structured JSON logs through `tracing-subscriber`: one JSON object per
//! line on stderr (stdout belongs to the stdio transport). A line logged
//! while a request is served lists, under `spans`, the `mcp.request` span
//! the telemetry layer opens around every request (enabled or not), with
//! the request's `method`, `request_id`, `session_id`, `tool` and, with
//! telemetry on, `trace_id` and `span_id`. The level comes from `RUST_LOG`
//! (default `info`).
//!
//! With enabled [`Telemetry`], `tracing` spans that tool code opens also
//! become OpenTelemetry spans, children of the tool call's span, exported
//! with the rest.
//!
//! ```no_run
//! use mcp_aws::telemetry::Telemetry;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let telemetry = Telemetry::from_env("weather")?;
//! mcp_aws::logging::init_json(&telemetry)?;
//! tracing::info!("ready"); // {"timestamp":..,"level":"INFO","fields":{"message":"ready"},..}
//! # Ok(())
//! # }
//! ```

use opentelemetry::trace::TracerProvider as _;
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::{SubscriberInitExt as _, TryInitError};
use tracing_subscriber::{Layer as _, Registry};

use crate::telemetry::{SCOPE, Telemetry};

/// The target of the per-request log span, which the OpenTelemetry bridge
/// skips (the telemetry layer records that span itself).
const REQUEST_TARGET: &str = "mcp_aws::request";

/// A subscriber writing JSON lines to `writer`, with the OpenTelemetry
/// bridge when `telemetry` is enabled. For tests and custom set-ups; most
/// servers call [`init_json`].
pub fn json_subscriber<W>(telemetry: &Telemetry, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .flatten_event(false)
        .with_writer(writer);
    let otel = telemetry.tracer_provider().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer(SCOPE))
            .with_filter(filter_fn(|meta| meta.target() != REQUEST_TARGET))
    });
    Registry::default().with(filter).with(json).with(otel)
}

/// Installs [`json_subscriber`] on stderr as the global subscriber.
///
/// # Errors
/// A global subscriber is already installed.
pub fn init_json(telemetry: &Telemetry) -> Result<(), TryInitError> {
    json_subscriber(telemetry, std::io::stderr).try_init()
}
