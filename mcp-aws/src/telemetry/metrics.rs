//! The instruments: requests, tool calls, rate limiting, sessions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use mcp_core::server::Session;
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter};

use crate::observe::Outcome;

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
    pub(crate) sessions: Arc<Sessions>,
}

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
            sessions,
        }
    }

    /// Records one finished request.
    pub(crate) fn record(&self, labels: &Labels, outcome: Outcome, error_type: Option<&KeyValue>, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let outcome_kv = KeyValue::new(attr::OUTCOME, outcome.as_str());

        let mut attrs = Attrs::<4>::new();
        attrs.push(&labels.method);
        attrs.extend(labels.tool.as_ref());
        attrs.extend(labels.version.as_ref());
        attrs.extend(error_type);
        self.operation_duration.record(secs, attrs.as_slice());
        self.requests.add(1, &[labels.method.clone(), outcome_kv.clone()]);
        if outcome == Outcome::RateLimited {
            let mut attrs = Attrs::<2>::new();
            attrs.push(&labels.method);
            attrs.extend(labels.tool.as_ref());
            self.rate_limited.add(1, attrs.as_slice());
        }
        // A refused call never reached its tool.
        if let Some(tool) = labels.tool.as_ref().filter(|_| outcome != Outcome::RateLimited) {
            let by_outcome = [tool.clone(), outcome_kv];
            self.tool_calls.add(1, &by_outcome);
            self.tool_duration.record(secs, &by_outcome);
            if let Some(error_type) = error_type {
                self.tool_errors.add(1, &[tool.clone(), error_type.clone()]);
            }
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

/// A request's own metric attributes, made once when it starts. Their
/// values are `'static` or shared, so each measurement clones them without
/// allocating.
pub(crate) struct Labels {
    /// `mcp.method.name`.
    pub(crate) method: KeyValue,
    /// `gen_ai.tool.name`, for a tool call.
    pub(crate) tool: Option<KeyValue>,
    /// `mcp.protocol.version`, when known.
    pub(crate) version: Option<KeyValue>,
}

/// Up to `N` attributes on the stack: the measurements take slices, and
/// the optional attributes make their length vary.
struct Attrs<const N: usize> {
    kvs: [KeyValue; N],
    len: usize,
}

impl<const N: usize> Attrs<N> {
    fn new() -> Self {
        // Placeholders, never read: a static key and a bool allocate nothing.
        Self { kvs: std::array::from_fn(|_| KeyValue::new("", false)), len: 0 }
    }

    fn push(&mut self, kv: &KeyValue) {
        if let Some(slot) = self.kvs.get_mut(self.len) {
            *slot = kv.clone();
            self.len += 1;
        }
    }

    fn extend(&mut self, kv: Option<&KeyValue>) {
        if let Some(kv) = kv {
            self.push(kv);
        }
    }

    fn as_slice(&self) -> &[KeyValue] {
        &self.kvs[..self.len]
    }
}
