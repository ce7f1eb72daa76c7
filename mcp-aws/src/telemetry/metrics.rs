//! The instruments: requests, tool calls, rate limiting, sessions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use mcp_core::server::Session;
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter};

use crate::observe::{Outcome, RequestInfo};

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

    /// Records one finished request (notifications are not counted).
    pub(crate) fn record(&self, info: &RequestInfo, outcome: Outcome, elapsed: Duration) {
        let Some(method) = info.method.clone() else { return };
        if info.request_id.is_none() {
            return;
        }
        let secs = elapsed.as_secs_f64();
        let method = KeyValue::new("mcp.method.name", method);
        let outcome_kv = KeyValue::new("outcome", outcome.as_str());
        let tool = info.tool().map(|t| KeyValue::new("gen_ai.tool.name", t.to_owned()));
        let error_type = outcome.error_type().map(|e| KeyValue::new("error.type", e));

        let mut attrs = vec![method.clone()];
        attrs.extend(tool.clone());
        attrs.extend(info.protocol_version.clone().map(|v| KeyValue::new("mcp.protocol.version", v)));
        attrs.extend(error_type.clone());
        self.operation_duration.record(secs, &attrs);
        self.requests.add(1, &[method.clone(), outcome_kv.clone()]);
        if outcome == Outcome::RateLimited {
            let mut attrs = vec![method];
            attrs.extend(tool.clone());
            self.rate_limited.add(1, &attrs);
        }
        // A refused call never reached its tool.
        if let Some(tool) = tool.filter(|_| outcome != Outcome::RateLimited) {
            self.tool_calls.add(1, &[tool.clone(), outcome_kv.clone()]);
            self.tool_duration.record(secs, &[tool.clone(), outcome_kv]);
            if let Some(error_type) = error_type {
                self.tool_errors.add(1, &[tool, error_type]);
            }
        }
    }
}
