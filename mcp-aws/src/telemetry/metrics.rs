//! The instruments: requests, tool calls, rate limiting, sessions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::Duration;

use mcp_core::server::Session;
use opentelemetry::KeyValue;
use opentelemetry::metrics::{BoundCounter, BoundHistogram, Counter, Histogram, Meter};

use crate::observe::{Outcome, Text};

/// Metric names, for dashboards and alarms.
pub mod names {
    /// Histogram (s): every request's duration, by `mcp.method.name`,
    /// `gen_ai.tool.name`, `mcp.protocol.version` and `error.type`, as the
    /// MCP semantic conventions define it.
    pub const OPERATION_DURATION: &str = "mcp.server.operation.duration";
    /// Counter: requests by `mcp.method.name` and `outcome` (`ok`,
    /// `tool_error`, `rate_limited`, `timeout`, `error`).
    pub const REQUESTS: &str = "mcp.server.requests";
    /// Counter: tool calls by `gen_ai.tool.name` and `outcome`.
    pub const TOOL_CALLS: &str = "mcp.server.tool.calls";
    /// Histogram (s): tool call duration by `gen_ai.tool.name` and `outcome`.
    pub const TOOL_DURATION: &str = "mcp.server.tool.duration";
    /// Counter: failed tool calls by `gen_ai.tool.name` and `error.type`.
    pub const TOOL_ERRORS: &str = "mcp.server.tool.errors";
    /// Counter: requests refused by the rate limiter, by `mcp.method.name`
    /// (and `gen_ai.tool.name` for tool calls).
    pub const RATE_LIMITED: &str = "mcp.server.rate_limited";
    /// Up-down counter: legacy sessions open now.
    pub const ACTIVE_SESSIONS: &str = "mcp.server.session.active";
    /// Counter: requests per API key (`mcp.api_key.hash`, the first 16 hex
    /// digits of the key's SHA-256, never the key) and operation
    /// (`mcp.operation`: the tool's name, else the method), as the server
    /// guide's `APIUsage` metric (feature `auth`).
    pub const API_USAGE: &str = "mcp.server.api_usage";
}

/// Legacy sessions seen by `initialize` that still exist: the transport
/// drops a session when it ends, so a weak reference tells.
#[derive(Default)]
pub(crate) struct Sessions {
    seen: Mutex<HashMap<usize, Weak<Session>>>,
}

impl Sessions {
    pub(crate) fn opened(&self, session: &Arc<Session>) {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.retain(|_, s| s.strong_count() > 0);
        seen.insert(Arc::as_ptr(session) as usize, Arc::downgrade(session));
    }

    pub(crate) fn active(&self) -> usize {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.retain(|_, s| s.strong_count() > 0);
        seen.len()
    }
}

pub(crate) struct Instruments {
    operation_duration: Histogram<f64>,
    requests: Counter<u64>,
    tool_calls: Counter<u64>,
    tool_duration: Histogram<f64>,
    tool_errors: Counter<u64>,
    rate_limited: Counter<u64>,
    api_usage: Counter<u64>,
    pub(crate) sessions: Arc<Sessions>,
    /// The instruments bound to each label set and outcome seen so far, up
    /// to [`MAX_BOUND`] of them.
    bound: RwLock<HashMap<(Labels, Outcome), Bound>>,
}

/// The most label sets kept bound. Tool names and protocol versions come
/// from clients, so the sets are not bounded by the server; past this many,
/// new ones are recorded unbound, which yields the same points.
const MAX_BOUND: usize = 1024;

impl Instruments {
    pub(crate) fn new(meter: &Meter) -> Self {
        let sessions = Arc::new(Sessions::default());
        let observed = Arc::clone(&sessions);
        // Registered with the meter provider, which keeps it alive.
        let _active = meter
            .i64_observable_up_down_counter(names::ACTIVE_SESSIONS)
            .with_description("Legacy MCP sessions open now")
            .with_unit("{session}")
            .with_callback(move |obs| obs.observe(i64::try_from(observed.active()).unwrap_or(i64::MAX), &[]))
            .build();
        Self {
            operation_duration: meter
                .f64_histogram(names::OPERATION_DURATION)
                .with_description("MCP request duration as observed on the server")
                .with_unit("s")
                .build(),
            requests: meter
                .u64_counter(names::REQUESTS)
                .with_description("MCP requests")
                .with_unit("{request}")
                .build(),
            tool_calls: meter.u64_counter(names::TOOL_CALLS).with_description("Tool calls").with_unit("{call}").build(),
            tool_duration: meter
                .f64_histogram(names::TOOL_DURATION)
                .with_description("Tool call duration")
                .with_unit("s")
                .build(),
            tool_errors: meter
                .u64_counter(names::TOOL_ERRORS)
                .with_description("Failed tool calls")
                .with_unit("{call}")
                .build(),
            rate_limited: meter
                .u64_counter(names::RATE_LIMITED)
                .with_description("Requests refused by the rate limiter")
                .with_unit("{request}")
                .build(),
            api_usage: meter
                .u64_counter(names::API_USAGE)
                .with_description("Requests per API key and operation")
                .with_unit("{request}")
                .build(),
            sessions,
            bound: RwLock::new(HashMap::new()),
        }
    }

    /// Counts one request made with the API key whose hash starts `key`.
    /// (Only the `auth` feature has API keys to count.)
    #[cfg_attr(not(feature = "auth"), allow(dead_code))]
    pub(crate) fn api_usage(&self, key: &str, operation: &str) {
        self.api_usage.add(
            1,
            &[KeyValue::new("mcp.api_key.hash", key.to_owned()), KeyValue::new("mcp.operation", operation.to_owned())],
        );
    }

    /// Records one finished request.
    ///
    /// The SDK finds a measurement's data point by hashing its attributes,
    /// which is most of a measurement's cost; six measurements of up to four
    /// attributes each cost more than the request's two spans. Instruments
    /// bound to a label set skip that lookup, so each label set is bound
    /// once, and later requests with the same labels and outcome find all
    /// of their instruments with one lookup of their own.
    pub(crate) fn record(&self, labels: Labels, outcome: Outcome, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let key = (labels, outcome);
        let full = {
            let bound = self.bound.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(bound) = bound.get(&key) {
                bound.record(secs);
                return;
            }
            bound.len() >= MAX_BOUND
        };
        let measurements = self.measurements(&key.0, outcome);
        if full {
            measurements.record(secs);
            return;
        }
        let bound = measurements.bind();
        bound.record(secs);
        self.bound.write().unwrap_or_else(PoisonError::into_inner).entry(key).or_insert(bound);
    }

    /// What one request with `labels` and `outcome` records, and where.
    fn measurements(&self, labels: &Labels, outcome: Outcome) -> Measurements<'_> {
        let method = KeyValue::new(attr::METHOD, labels.method.value());
        let tool = labels.tool.as_ref().map(|t| KeyValue::new(attr::TOOL, t.value()));
        let outcome_kv = KeyValue::new(attr::OUTCOME, outcome.as_str());
        let error_type = outcome.error_type().map(|e| KeyValue::new(attr::ERROR_TYPE, e));

        let mut duration = vec![method.clone()];
        duration.extend(tool.clone());
        duration.extend(labels.version.as_ref().map(|v| KeyValue::new(attr::PROTOCOL_VERSION, v.value())));
        duration.extend(error_type.clone());
        let rate_limited = (outcome == Outcome::RateLimited).then(|| {
            let mut attrs = vec![method.clone()];
            attrs.extend(tool.clone());
            (&self.rate_limited, attrs)
        });
        // A refused call never reached its tool.
        let tool = tool.filter(|_| outcome != Outcome::RateLimited).map(|tool| ToolMeasurements {
            calls: (&self.tool_calls, vec![tool.clone(), outcome_kv.clone()]),
            duration: (&self.tool_duration, vec![tool.clone(), outcome_kv.clone()]),
            errors: error_type.map(|e| (&self.tool_errors, vec![tool, e])),
        });
        Measurements {
            duration: (&self.operation_duration, duration),
            requests: (&self.requests, vec![method, outcome_kv]),
            rate_limited,
            tool,
        }
    }
}

/// The attribute keys.
pub(crate) mod attr {
    use opentelemetry::Key;

    pub(crate) const METHOD: Key = Key::from_static_str("mcp.method.name");
    pub(crate) const TOOL: Key = Key::from_static_str("gen_ai.tool.name");
    pub(crate) const PROTOCOL_VERSION: Key = Key::from_static_str("mcp.protocol.version");
    pub(crate) const ERROR_TYPE: Key = Key::from_static_str("error.type");
    pub(crate) const OUTCOME: Key = Key::from_static_str("outcome");
}

/// What a request's metrics are recorded by, besides its outcome.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Labels {
    /// `mcp.method.name`.
    pub(crate) method: Text,
    /// `gen_ai.tool.name`, for a tool call.
    pub(crate) tool: Option<Text>,
    /// `mcp.protocol.version`, when known.
    pub(crate) version: Option<Text>,
}

/// One request's measurements: each instrument with its attributes.
struct Measurements<'a> {
    duration: (&'a Histogram<f64>, Vec<KeyValue>),
    requests: (&'a Counter<u64>, Vec<KeyValue>),
    rate_limited: Option<(&'a Counter<u64>, Vec<KeyValue>)>,
    tool: Option<ToolMeasurements<'a>>,
}

struct ToolMeasurements<'a> {
    calls: (&'a Counter<u64>, Vec<KeyValue>),
    duration: (&'a Histogram<f64>, Vec<KeyValue>),
    errors: Option<(&'a Counter<u64>, Vec<KeyValue>)>,
}

impl Measurements<'_> {
    fn record(&self, secs: f64) {
        self.duration.0.record(secs, &self.duration.1);
        self.requests.0.add(1, &self.requests.1);
        if let Some((counter, attrs)) = &self.rate_limited {
            counter.add(1, attrs);
        }
        if let Some(tool) = &self.tool {
            tool.calls.0.add(1, &tool.calls.1);
            tool.duration.0.record(secs, &tool.duration.1);
            if let Some((counter, attrs)) = &tool.errors {
                counter.add(1, attrs);
            }
        }
    }

    fn bind(&self) -> Bound {
        Bound {
            duration: self.duration.0.bind(&self.duration.1),
            requests: self.requests.0.bind(&self.requests.1),
            rate_limited: self.rate_limited.as_ref().map(|(counter, attrs)| counter.bind(attrs)),
            tool: self.tool.as_ref().map(|tool| BoundTool {
                calls: tool.calls.0.bind(&tool.calls.1),
                duration: tool.duration.0.bind(&tool.duration.1),
                errors: tool.errors.as_ref().map(|(counter, attrs)| counter.bind(attrs)),
            }),
        }
    }
}

/// [`Measurements`] bound to their attributes.
struct Bound {
    duration: BoundHistogram<f64>,
    requests: BoundCounter<u64>,
    rate_limited: Option<BoundCounter<u64>>,
    tool: Option<BoundTool>,
}

struct BoundTool {
    calls: BoundCounter<u64>,
    duration: BoundHistogram<f64>,
    errors: Option<BoundCounter<u64>>,
}

impl Bound {
    fn record(&self, secs: f64) {
        self.duration.record(secs);
        self.requests.add(1);
        if let Some(counter) = &self.rate_limited {
            counter.add(1);
        }
        if let Some(tool) = &self.tool {
            tool.calls.add(1);
            tool.duration.record(secs);
            if let Some(counter) = &tool.errors {
                counter.add(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

    use super::*;

    #[test]
    fn label_sets_past_the_bound_ones_count_the_same() {
        let exporter = InMemoryMetricExporter::default();
        let provider =
            SdkMeterProvider::builder().with_reader(PeriodicReader::builder(exporter.clone()).build()).build();
        let instruments = Instruments::new(&provider.meter("test"));
        let tools = MAX_BOUND + 10;
        let labels = |i: usize| Labels {
            method: Text::Static("tools/call"),
            tool: Some(Text::Shared(Arc::from(format!("tool-{i}")))),
            version: None,
        };
        for _ in 0..2 {
            for i in 0..tools {
                instruments.record(labels(i), Outcome::Ok, Duration::from_millis(1));
            }
        }
        instruments.record(labels(0), Outcome::ToolError, Duration::from_millis(1));
        assert_eq!(instruments.bound.read().map(|b| b.len()).ok(), Some(MAX_BOUND));

        provider.force_flush().expect("flush");
        let exports = exporter.get_finished_metrics().expect("metrics");
        let metrics: Vec<_> = exports.last().expect("an export").scope_metrics().flat_map(|s| s.metrics()).collect();
        let calls = metrics.iter().find(|m| m.name() == names::TOOL_CALLS).expect("tool calls");
        let AggregatedMetrics::U64(MetricData::Sum(sum)) = calls.data() else { panic!("a u64 sum") };
        let per_tool = |tool: &str| -> u64 {
            let kv = KeyValue::new(attr::TOOL, tool.to_owned());
            sum.data_points().filter(|p| p.attributes().any(|a| *a == kv)).map(|p| p.value()).sum()
        };
        assert_eq!(per_tool("tool-0"), 3, "bound: two ok, one tool error");
        assert_eq!(per_tool(&format!("tool-{}", tools - 1)), 2, "past the bound ones");
        assert_eq!(sum.data_points().map(|p| p.value()).sum::<u64>(), 2 * tools as u64 + 1);
    }
}
