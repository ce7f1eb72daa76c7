//! The service contract every transport and deployment takes: one named
//! bound ([`McpService`]), one way to stack layers on a server
//! ([`Layered`]), and one place where a layer's error becomes a JSON-RPC
//! error ([`call`]).
//!
//! ```
//! use std::time::Duration;
//! use mcp_core::server::{IntoLayered, ServerBuilder};
//!
//! let server = ServerBuilder::new("demo", "1.0.0").build().expect("valid");
//! // tower's own layers compose: their errors become JSON-RPC errors that
//! // carry the request's id (a timeout is -31001, "request timed out").
//! let app = server
//!     .layer(tower::timeout::TimeoutLayer::new(Duration::from_secs(30)))
//!     .layer(tower::limit::ConcurrencyLimitLayer::new(64));
//! # fn takes(_: impl IntoLayered) {}
//! takes(app); // what `stdio::serve`, `StreamableHttp::new`, Lambda and `mcp_aws::run` take
//! ```

use std::fmt;
use std::future::Future;

use futures_util::FutureExt as _;

use tower::Layer;
use tower::ServiceExt as _;
use tower_service::Service;

use super::{Server, ServerRequest};
use crate::jsonrpc::{ErrorCode, ErrorObject, RequestId, Response};
use crate::protocol::ProtocolVersion;

/// The error a layer may fail with; the edge turns it into a JSON-RPC error
/// (see [`call`]).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the dispatcher and every stack of layers over it are: a cloneable
/// `tower::Service` from [`ServerRequest`] to an optional JSON-RPC
/// [`Response`] (`None` for notifications and cancelled requests).
///
/// Implemented for every type that fits; write it as a bound instead of
/// spelling the `Service` out. Errors may be anything that converts into
/// [`BoxError`], so tower's own layers (`TimeoutLayer`,
/// `ConcurrencyLimitLayer`, `LoadShedLayer`, `BufferLayer`) compose with this
/// SDK's. Tool and protocol errors travel in `Ok` as JSON-RPC error
/// responses; `Err` is for a layer that refuses or fails a request.
pub trait McpService:
    Service<ServerRequest, Response = Option<Response>, Error: Into<BoxError>, Future: Send + 'static>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> McpService for S
where
    S: Service<ServerRequest, Response = Option<Response>> + Clone + Send + Sync + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
}

/// A server and the stack of layers that answers for it: the one argument
/// every transport and deployment takes (through [`IntoLayered`]).
///
/// Build it with [`Server::layer`], then [`Layered::layer`] for each further
/// layer. As with axum's `Router::layer`, the layer added last sees the
/// request first. A `tower::ServiceBuilder` stack goes in as one layer.
#[derive(Clone)]
pub struct Layered<S = Server> {
    server: Server,
    service: S,
}

impl<S> fmt::Debug for Layered<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Layered").field("server", &self.server).finish_non_exhaustive()
    }
}

impl<S> Layered<S> {
    /// Wraps the stack in one more layer, which sees requests before the
    /// layers already there.
    pub fn layer<L: Layer<S>>(self, layer: L) -> Layered<L::Service> {
        Layered { server: self.server, service: layer.layer(self.service) }
    }

    /// The server underneath: its events, its tool list, its info.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The layered service.
    pub fn service(&self) -> &S {
        &self.service
    }

    /// The server and the layered service.
    pub fn into_parts(self) -> (Server, S) {
        (self.server, self.service)
    }
}

impl Server {
    /// Wraps the server in `layer`: the start of a [`Layered`] stack, which
    /// every transport takes as it takes a bare server.
    pub fn layer<L: Layer<Server>>(self, layer: L) -> Layered<L::Service> {
        let service = layer.layer(self.clone());
        Layered { server: self, service }
    }
}

/// What transports and deployments take: a [`Server`] or a [`Layered`]
/// stack over one.
pub trait IntoLayered {
    /// The layered service.
    type Service: McpService;

    /// The server and its layered service.
    fn into_layered(self) -> Layered<Self::Service>;
}

impl IntoLayered for Server {
    type Service = Server;

    fn into_layered(self) -> Layered<Server> {
        Layered { server: self.clone(), service: self }
    }
}

impl<S: McpService> IntoLayered for Layered<S> {
    type Service = S;

    fn into_layered(self) -> Self {
        self
    }
}

/// Calls `service` with `req` and answers as the transports do: a layer's
/// error becomes a JSON-RPC error response carrying the request's id (see
/// [`error_response`]); for a notification it is logged and dropped.
///
/// A plain function returning the future, not an `async fn`: an async
/// function's future keeps its arguments beside the futures it awaits, so
/// the request would be stored twice (once as the argument, once inside
/// `oneshot`), and transports box this future for every request.
pub fn call<S: McpService>(service: S, req: ServerRequest) -> impl Future<Output = Option<Response>> + Send + 'static {
    let id = req.head().id().cloned();
    let version = req.head().protocol_version();
    service.oneshot(req).map(move |out| match out {
        Ok(resp) => resp,
        Err(e) => {
            let e = e.into();
            match id {
                Some(id) => Some(error_response(Some(id), &*e, version)),
                None => {
                    tracing::warn!(error = %e, "a layer failed a notification");
                    None
                }
            }
        }
    })
}

/// The JSON-RPC error for a layer's failure: tower's timeout is
/// [`ErrorCode::REQUEST_TIMEOUT`], its load shedding
/// [`ErrorCode::SERVER_OVERLOADED`], this crate's [`Error`](crate::Error)
/// maps as the dispatcher maps it, and anything else is an internal error
/// whose details are logged, never sent.
pub fn error_response(
    id: Option<RequestId>,
    error: &(dyn std::error::Error + Send + Sync + 'static),
    version: Option<ProtocolVersion>,
) -> Response {
    let object = if error.is::<tower::timeout::error::Elapsed>() {
        ErrorObject::new(ErrorCode::REQUEST_TIMEOUT, "request timed out")
    } else if error.is::<tower::load_shed::error::Overloaded>() {
        ErrorObject::new(ErrorCode::SERVER_OVERLOADED, "server overloaded; retry later")
    } else if let Some(e) = error.downcast_ref::<crate::Error>() {
        e.to_error_object(version)
    } else {
        tracing::error!(error = %error, "a layer failed the request");
        ErrorObject::new(ErrorCode::INTERNAL_ERROR, "internal error")
    };
    Response::error(id, object)
}
