//! Bedrock AgentCore Gateway Lambda targets: the gateway invokes the
//! function with the tool's arguments as the event and the tool's name in
//! the client context (`bedrockAgentCoreToolName`, as
//! `<target>___<tool>`); the function answers with the tool result.
//!
//! [`GatewayTarget`] sends each invocation through the same dispatcher as
//! every other transport (as a stateless `tools/call`), so layers (rate
//! limits, telemetry, timeouts) apply and the tool code is unchanged. The
//! reply is the `CallToolResult` JSON; an unknown tool, arguments that are
//! not an object, or arguments the tool rejects give a result with
//! `isError: true` and a message saying what was wrong.
//!
//! ```no_run
//! use mcp_core::server::{Context, NoArgs, ServerBuilder, ToolRoute};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), mcp_aws::lambda::LambdaError> {
//!     let server = ServerBuilder::new("tools", "1.0.0")
//!         .tool(ToolRoute::new("ping", |_ctx: Context, _: NoArgs| async { "pong" }))
//!         .build()
//!         .expect("valid definitions");
//!     mcp_aws::lambda::gateway::GatewayTarget::new(server).run().await
//! }
//! ```

use std::convert::Infallible;
use std::task::{Context as TaskContext, Poll};

use lambda_http::lambda_runtime::{self, LambdaEvent};
use mcp_core::jsonrpc::{Message, Request, RequestId};
use mcp_core::server::{BoxFuture, IntoLayered, McpService, Server, ServerRequest, Sink};
use serde_json::{Value, json};
use tower_service::Service;

/// The client-context key holding the tool name.
pub const TOOL_NAME_KEY: &str = "bedrockAgentCoreToolName";

/// The separator between the gateway target's name and the tool's.
const TARGET_SEPARATOR: &str = "___";

/// The protocol version the gateway's calls are dispatched under.
const VERSION: &str = "2026-07-28";

/// Serves tools to an AgentCore Gateway; see the module docs.
#[derive(Debug, Clone)]
pub struct GatewayTarget<S = Server> {
    service: S,
    end: super::hooks::InvocationEnd,
}

/// The tool an invocation names: the client context's
/// `bedrockAgentCoreToolName` without its `<target>___` prefix.
pub fn tool_name(context: &lambda_runtime::Context) -> Option<&str> {
    let full = context.client_context.as_ref()?.custom.get(TOOL_NAME_KEY)?;
    let name = full.split_once(TARGET_SEPARATOR).map_or(full.as_str(), |(_, tool)| tool);
    Some(name.trim()).filter(|n| !n.is_empty())
}

impl<S> GatewayTarget<S>
where
    S: McpService,
{
    /// Serves the tools of `app` (a [`Server`], or one with layers: see
    /// [`Layered`](mcp_core::server::Layered)).
    pub fn new(app: impl IntoLayered<Service = S>) -> Self {
        Self { service: app.into_layered().into_parts().1, end: super::hooks::InvocationEnd::default() }
    }

    /// Runs `hook` at the end of every invocation (flush telemetry, write
    /// the EMF record), on a blocking thread, before the reply leaves.
    #[must_use]
    pub fn on_invocation_end(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.end.push(hook);
        self
    }

    /// Runs the Lambda runtime loop.
    ///
    /// # Errors
    /// The runtime API failed.
    pub async fn run(self) -> Result<(), super::LambdaError> {
        super::polling_again(|| lambda_runtime::run_concurrent(self.clone())).await
    }

    /// Answers one invocation: the tool result JSON.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Value {
        let LambdaEvent { payload, context } = event;
        let Some(tool) = tool_name(&context).map(str::to_owned) else {
            return error_result(format!(
                "no tool named: the invocation's client context has no `{TOOL_NAME_KEY}`; this function expects \
                 to be called as a Bedrock AgentCore Gateway Lambda target"
            ));
        };
        let arguments = match payload {
            Value::Object(map) => Value::Object(map),
            Value::Null => json!({}),
            other => {
                return error_result(format!(
                    "invalid arguments for tool `{tool}`: expected a JSON object, got {}",
                    kind(&other)
                ));
            }
        };
        self.call_tool(&tool, arguments, context).await
    }

    /// Calls `tool` with `arguments` through the dispatcher; errors become
    /// `isError` results.
    pub async fn call_tool(&self, tool: &str, arguments: Value, context: lambda_runtime::Context) -> Value {
        let params = json!({
            "name": tool,
            "arguments": arguments,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": VERSION,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": { "name": "bedrock-agentcore-gateway", "version": "1" },
            },
        });
        let params = match serde_json::value::to_raw_value(&params) {
            Ok(p) => p,
            Err(e) => return error_result(format!("internal error: could not encode the call: {e}")),
        };
        let message = Message::Request(Request {
            id: RequestId::Number(1),
            method: "tools/call".to_owned(),
            params: Some(params),
        });
        let mut req = ServerRequest::new(message, None, Sink::none());
        req.extensions.insert(context);
        let reply = mcp_core::server::call(self.service.clone(), req).await;
        match reply.map(|r| r.payload) {
            Some(Ok(result)) => serde_json::from_str(result.get())
                .unwrap_or_else(|e| error_result(format!("internal error: unreadable tool result: {e}"))),
            Some(Err(e)) => error_result(e.message.into_owned()),
            None => error_result(format!("tool `{tool}` gave no result")),
        }
    }
}

/// A `CallToolResult` with `isError: true` and `message`.
fn error_result(message: String) -> Value {
    json!({ "content": [{ "type": "text", "text": message }], "isError": true })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<S> Service<LambdaEvent<Value>> for GatewayTarget<S>
where
    S: McpService,
{
    type Response = Value;
    type Error = Infallible;
    type Future = BoxFuture<Result<Value, Infallible>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, event: LambdaEvent<Value>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let reply = this.handle(event).await;
            this.end.run().await;
            Ok(reply)
        })
    }
}
