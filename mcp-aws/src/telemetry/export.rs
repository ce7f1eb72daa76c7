//! OTLP over HTTP/protobuf, configured like every OpenTelemetry SDK: by the
//! standard `OTEL_*` environment variables, or explicitly.

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};

use super::TelemetryError;

/// Where and how [`Telemetry`](super::Telemetry) exports over OTLP/HTTP.
///
/// [`from_env`](Self::from_env) reads the standard variables; anything not
/// set here is left to the exporter, which reads the rest of them itself
/// (`OTEL_EXPORTER_OTLP_HEADERS`, `_TIMEOUT`, the per-signal `_ENDPOINT`s,
/// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`), as do the batch
/// processor (`OTEL_BSP_*`) and the resource (`OTEL_SERVICE_NAME`,
/// `OTEL_RESOURCE_ATTRIBUTES`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OtlpConfig {
    /// The collector's base URL (`/v1/traces` and `/v1/metrics` are
    /// appended), for example `http://localhost:4318` for the ADOT
    /// collector. `None` leaves it to the environment, then the OTLP default
    /// (`http://localhost:4318`).
    pub endpoint: Option<String>,
    /// Export spans (default true; `OTEL_TRACES_EXPORTER=none` turns it off).
    pub traces: bool,
    /// Export metrics (default true; `OTEL_METRICS_EXPORTER=none`).
    pub metrics: bool,
    /// How often metrics are pushed (default 60 s,
    /// `OTEL_METRIC_EXPORT_INTERVAL` in milliseconds). On Lambda,
    /// [`Telemetry::flush`](super::Telemetry::flush) pushes them at the end
    /// of each invocation anyway.
    pub metric_interval: Duration,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        Self { endpoint: None, traces: true, metrics: true, metric_interval: Duration::from_secs(60) }
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl OtlpConfig {
    /// Export to `endpoint` (a base URL such as `http://127.0.0.1:4318`).
    pub fn endpoint(endpoint: impl Into<String>) -> Self {
        Self { endpoint: Some(endpoint.into()), ..Self::default() }
    }

    /// The configuration the environment asks for, or `None` when it asks
    /// for no export: telemetry is off unless an OTLP endpoint
    /// (`OTEL_EXPORTER_OTLP_ENDPOINT`, or a per-signal one) is set or an
    /// exporter is chosen explicitly (`OTEL_TRACES_EXPORTER=otlp`,
    /// `OTEL_METRICS_EXPORTER=otlp`), and `OTEL_SDK_DISABLED` is not `true`.
    ///
    /// # Errors
    /// [`TelemetryError::Config`] for a protocol other than `http/protobuf`
    /// (this build speaks only that) or an exporter other than `otlp` and
    /// `none`.
    pub fn from_env() -> Result<Option<Self>, TelemetryError> {
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        for name in
            ["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"]
        {
            if let Some(p) = var(name).filter(|p| p != "http/protobuf") {
                return Err(TelemetryError::Config(format!("{name}={p}: only http/protobuf is supported")));
            }
        }
        let exporter = |name: &str| -> Result<Option<bool>, TelemetryError> {
            match var(name).as_deref() {
                None => Ok(None),
                Some("otlp") => Ok(Some(true)),
                Some("none") => Ok(Some(false)),
                Some(other) => Err(TelemetryError::Config(format!("{name}={other}: only otlp and none are supported"))),
            }
        };
        let (traces, metrics) = (exporter("OTEL_TRACES_EXPORTER")?, exporter("OTEL_METRICS_EXPORTER")?);
        let endpoint = var("OTEL_EXPORTER_OTLP_ENDPOINT");
        let any_endpoint = endpoint.is_some()
            || var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
            || var("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT").is_some();
        if !any_endpoint && traces != Some(true) && metrics != Some(true) {
            return Ok(None);
        }
        let metric_interval = var("OTEL_METRIC_EXPORT_INTERVAL")
            .and_then(|ms| ms.parse::<u64>().ok())
            .map_or(Duration::from_secs(60), Duration::from_millis);
        let config =
            Self { endpoint, traces: traces.unwrap_or(true), metrics: metrics.unwrap_or(true), metric_interval };
        Ok((config.traces || config.metrics).then_some(config))
    }

    fn signal_endpoint(&self, path: &str) -> Option<String> {
        self.endpoint.as_ref().map(|base| format!("{}/{path}", base.trim_end_matches('/')))
    }

    pub(crate) fn tracer_provider(&self, resource: Resource) -> Result<Option<SdkTracerProvider>, TelemetryError> {
        if !self.traces {
            return Ok(None);
        }
        let mut builder = opentelemetry_otlp::SpanExporter::builder().with_http();
        if let Some(url) = self.signal_endpoint("v1/traces") {
            builder = builder.with_endpoint(url);
        }
        let exporter = builder.with_protocol(opentelemetry_otlp::Protocol::HttpBinary).build()?;
        let processor = BatchSpanProcessor::builder(exporter).build();
        Ok(Some(SdkTracerProvider::builder().with_span_processor(processor).with_resource(resource).build()))
    }

    pub(crate) fn meter_provider(&self, resource: Resource) -> Result<Option<SdkMeterProvider>, TelemetryError> {
        if !self.metrics {
            return Ok(None);
        }
        let mut builder = opentelemetry_otlp::MetricExporter::builder().with_http();
        if let Some(url) = self.signal_endpoint("v1/metrics") {
            builder = builder.with_endpoint(url);
        }
        let exporter = builder.with_protocol(opentelemetry_otlp::Protocol::HttpBinary).build()?;
        let reader = PeriodicReader::builder(exporter).with_interval(self.metric_interval).build();
        Ok(Some(SdkMeterProvider::builder().with_reader(reader).with_resource(resource).build()))
    }
}

/// The resource: `service.name` (unless `OTEL_SERVICE_NAME` names it),
/// what `OTEL_RESOURCE_ATTRIBUTES` adds, and on Lambda the function's
/// cloud and FaaS attributes.
pub(crate) fn resource(service_name: &str) -> Resource {
    let mut builder = Resource::builder();
    if var("OTEL_SERVICE_NAME").is_none() {
        builder = builder.with_service_name(service_name.to_owned());
    }
    if let Some(function) = var("AWS_LAMBDA_FUNCTION_NAME") {
        builder = builder.with_attributes([
            KeyValue::new("cloud.provider", "aws"),
            KeyValue::new("cloud.platform", "aws_lambda"),
            KeyValue::new("faas.name", function),
        ]);
        if let Some(region) = var("AWS_REGION") {
            builder = builder.with_attribute(KeyValue::new("cloud.region", region));
        }
        if let Some(version) = var("AWS_LAMBDA_FUNCTION_VERSION") {
            builder = builder.with_attribute(KeyValue::new("faas.version", version));
        }
    }
    builder.build()
}
