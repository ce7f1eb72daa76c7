//! What the `layers` bench and the `layers_loop` example share: the
//! server, the request, the limiter with a quota never exhausted, an
//! exporter that discards everything, and one request's run.

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use futures_util::FutureExt as _;
use mcp_aws::ratelimit::{Key, Quota, RateLimitLayer};
use mcp_core::jsonrpc::{Message, Response};
use mcp_core::server::{Context, Principal, Server, ServerBuilder, ServerRequest, Sink, ToolRoute};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tower::{Service, ServiceExt as _};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// The first addend
    a: f64,
    /// The second addend
    b: f64,
}

/// Takes spans and metrics and drops them: export without network time.
#[derive(Debug)]
pub(crate) struct Discard;

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

pub(crate) const CALL: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;

/// A server with the `add` tool, and `slow_add`, which takes 10 ms.
pub(crate) fn server() -> Server {
    ServerBuilder::new("bench", "1.0.0")
        .tool(ToolRoute::new("add", |_ctx: Context, a: AddArgs| async move { a.a + a.b }).with_description("Add"))
        .tool(
            ToolRoute::new("slow_add", |_ctx: Context, a: AddArgs| async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                a.a + a.b
            })
            .with_description("Add, slowly"),
        )
        .build()
        .expect("valid")
}

/// The stateless `tools/call` of `add(2, 3)`.
pub(crate) fn message() -> Message {
    Message::parse(CALL).expect("valid")
}

/// A limiter whose quota the bench never exhausts: every request takes the
/// admit path.
pub(crate) fn limiter() -> RateLimitLayer {
    RateLimitLayer::new(Key::principal().or(Key::client_ip()))
        .quota(Quota::per_second(1_000_000_000))
        .tool_quota("add", Quota::per_second(1_000_000_000))
}

/// One request through `svc`; the tool completes without yielding.
#[inline(never)]
pub(crate) fn run<S>(svc: &S, message: &Message) -> Option<Response>
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
