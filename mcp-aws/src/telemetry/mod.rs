//! OpenTelemetry traces and metrics for every request, as a tower layer
//! over the dispatcher, exported over OTLP/HTTP (what the ADOT collector
//! takes).
//!
//! Each request gets a `SERVER` span named after the MCP semantic
//! conventions (`tools/call get_weather`, `initialize`), with
//! `mcp.method.name`, `mcp.protocol.version`, `mcp.session.id`,
//! `jsonrpc.request.id`, `gen_ai.tool.name`, `gen_ai.operation.name`,
//! `mcp.resource.uri`, and on failure `error.type` and
//! `rpc.response.status_code`. A tool call adds a child `execute_tool
//! <tool>` span, the one tool code writes to ([`RequestTelemetry`]). A
//! client's trace continues into the server: its W3C `traceparent` and
//! `tracestate` are read from `params._meta`, else from the HTTP headers.
//!
//! Metrics are listed in [`names`]. Tool arguments and results are not
//! recorded unless [`TelemetryBuilder::record_arguments`] opts in, and even
//! then members named like secrets (`password`, `token`, `api_key`,
//! `authorization`...) are masked.
//!
//! Telemetry is off unless configured: [`Telemetry::from_env`] exports
//! only when an OTLP endpoint or exporter is set in the environment, and
//! otherwise gives a disabled [`Telemetry`] whose layer does nothing.
//!
//! ```no_run
//! use mcp_aws::telemetry::Telemetry;
//! use mcp_core::server::ServerBuilder;
//! use mcp_core::transport::http::StreamableHttp;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 turns export on.
//! let telemetry = Telemetry::from_env("weather")?;
//! let server = ServerBuilder::new("weather", "1.0.0").build()?;
//! let http = StreamableHttp::new(server.layer(telemetry.layer()));
//! // ... serve; on Lambda, `telemetry.flush()` ends every invocation.
//! # let _ = http;
//! # Ok(())
//! # }
//! ```

mod context;
mod export;
mod layer;
mod metrics;
mod redact;

use std::fmt;
use std::sync::Arc;

use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

pub use context::RequestTelemetry;
pub use export::OtlpConfig;
pub use layer::{ResponseFuture, TelemetryLayer, TelemetryService};
pub use metrics::names;

/// The instrumentation scope of every span and metric this crate records.
pub const SCOPE: &str = "mcp-aws";

/// Why telemetry could not be set up or flushed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// The environment or configuration asks for something unsupported.
    #[error("telemetry configuration: {0}")]
    Config(String),
    /// The OTLP exporter could not be built.
    #[error("building the OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// Flushing or shutting down a provider failed (for example the
    /// collector did not answer in time).
    #[error("exporting telemetry: {0}")]
    Export(#[from] opentelemetry_sdk::error::OTelSdkError),
}

/// What the layer shares between requests.
pub(crate) struct Shared {
    pub(crate) tracer: SdkTracer,
    pub(crate) meter: Meter,
    pub(crate) instruments: metrics::Instruments,
    pub(crate) record_arguments: bool,
}

struct Providers {
    tracer: SdkTracerProvider,
    meter: SdkMeterProvider,
}

/// The server's tracer and meter providers, and the [`TelemetryLayer`]
/// recording into them. Cheap to clone.
#[derive(Clone, Default)]
pub struct Telemetry {
    shared: Option<Arc<Shared>>,
    providers: Option<Arc<Providers>>,
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry").field("enabled", &self.shared.is_some()).finish_non_exhaustive()
    }
}

impl Telemetry {
    /// Telemetry that records nothing; its layer only passes requests on.
    pub fn disabled() -> Self {
        Self::default()
    }

    /// OTLP/HTTP export as the standard `OTEL_*` variables configure it
    /// ([`OtlpConfig::from_env`]), or disabled telemetry when they
    /// configure none. `service_name` is the `service.name` unless
    /// `OTEL_SERVICE_NAME` is set.
    ///
    /// # Errors
    /// An unsupported configuration, or an exporter that cannot be built.
    pub fn from_env(service_name: &str) -> Result<Self, TelemetryError> {
        match OtlpConfig::from_env()? {
            Some(config) => Self::builder(service_name).otlp(&config)?.build(),
            None => Ok(Self::disabled()),
        }
    }

    /// A builder, for explicit providers (in-memory exporters in tests, a
    /// custom pipeline) or an explicit OTLP configuration.
    pub fn builder(service_name: &str) -> TelemetryBuilder {
        TelemetryBuilder { service_name: service_name.to_owned(), tracer: None, meter: None, record_arguments: false }
    }

    /// Whether anything is recorded.
    pub fn is_enabled(&self) -> bool {
        self.shared.is_some()
    }

    /// The tower layer recording spans and metrics around the dispatcher.
    pub fn layer(&self) -> TelemetryLayer {
        TelemetryLayer { shared: self.shared.clone() }
    }

    /// The server's meter, for metrics of your own outside requests (inside
    /// one, use [`RequestTelemetry::meter`]).
    pub fn meter(&self) -> Option<Meter> {
        self.shared.as_ref().map(|s| s.meter.clone())
    }

    /// The tracer provider, for example to hand to
    /// `tracing_opentelemetry::layer().with_tracer(..)`.
    pub fn tracer_provider(&self) -> Option<&SdkTracerProvider> {
        self.providers.as_ref().map(|p| &p.tracer)
    }

    /// Exports every finished span and the current metrics now, and waits
    /// until the exporters are done (bounded by their timeouts). The Lambda
    /// adapter calls it at the end of each invocation, before the runtime
    /// freezes the process. Disabled telemetry returns at once.
    ///
    /// It blocks the calling thread: from a busy async server, call it
    /// through `tokio::task::spawn_blocking`.
    ///
    /// # Errors
    /// The first provider's flush that failed; both are always attempted.
    pub fn flush(&self) -> Result<(), TelemetryError> {
        let Some(p) = &self.providers else { return Ok(()) };
        let traces = p.tracer.force_flush();
        let metrics = p.meter.force_flush();
        traces?;
        metrics?;
        Ok(())
    }

    /// Flushes and stops both providers (at process exit).
    ///
    /// # Errors
    /// As [`flush`](Self::flush).
    pub fn shutdown(&self) -> Result<(), TelemetryError> {
        let Some(p) = &self.providers else { return Ok(()) };
        let traces = p.tracer.shutdown();
        let metrics = p.meter.shutdown();
        traces?;
        metrics?;
        Ok(())
    }
}

/// Builds a [`Telemetry`]; see [`Telemetry::builder`].
#[must_use]
pub struct TelemetryBuilder {
    service_name: String,
    tracer: Option<SdkTracerProvider>,
    meter: Option<SdkMeterProvider>,
    record_arguments: bool,
}

impl fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryBuilder").field("service_name", &self.service_name).finish_non_exhaustive()
    }
}

impl TelemetryBuilder {
    /// Records spans into `provider`.
    pub fn tracer_provider(mut self, provider: SdkTracerProvider) -> Self {
        self.tracer = Some(provider);
        self
    }

    /// Records metrics into `provider`.
    pub fn meter_provider(mut self, provider: SdkMeterProvider) -> Self {
        self.meter = Some(provider);
        self
    }

    /// Exports over OTLP/HTTP as `config` says (signals it turns off keep
    /// any provider given explicitly).
    ///
    /// # Errors
    /// The exporter cannot be built (an invalid endpoint).
    pub fn otlp(mut self, config: &OtlpConfig) -> Result<Self, TelemetryError> {
        let resource = export::resource(&self.service_name);
        if let Some(tracer) = config.tracer_provider(resource.clone())? {
            self.tracer = Some(tracer);
        }
        if let Some(meter) = config.meter_provider(resource)? {
            self.meter = Some(meter);
        }
        Ok(self)
    }

    /// Records tool arguments and results on the tool spans
    /// (`gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`), with
    /// secret-looking members masked and values cut to 4 KiB. Off by
    /// default.
    pub fn record_arguments(mut self, record: bool) -> Self {
        self.record_arguments = record;
        self
    }

    /// The telemetry. A signal with no provider records into an SDK
    /// provider without exporters.
    ///
    /// # Errors
    /// None at present; the `Result` leaves room for validation.
    pub fn build(self) -> Result<Telemetry, TelemetryError> {
        let resource = || export::resource(&self.service_name);
        let tracer_provider =
            self.tracer.unwrap_or_else(|| SdkTracerProvider::builder().with_resource(resource()).build());
        let meter_provider =
            self.meter.unwrap_or_else(|| SdkMeterProvider::builder().with_resource(resource()).build());
        let tracer = tracer_provider.tracer(SCOPE);
        let meter = meter_provider.meter(SCOPE);
        let instruments = metrics::Instruments::new(&meter);
        let shared = Shared { tracer, meter, instruments, record_arguments: self.record_arguments };
        Ok(Telemetry {
            shared: Some(Arc::new(shared)),
            providers: Some(Arc::new(Providers { tracer: tracer_provider, meter: meter_provider })),
        })
    }
}
