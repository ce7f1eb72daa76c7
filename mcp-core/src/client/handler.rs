//! What the client answers when the server asks: elicitation, sampling and
//! roots, whether the server asks with a legacy server-to-client request or
//! with a 2026-07-28 `input_required` round.
//!
//! Each is a trait with one async method, implemented for closures
//! `Fn(Params) -> impl Future<Output = Result<Answer, ErrorObject>>`, so
//! `.elicitation(|params| async move { ... })` on the
//! [`ClientBuilder`](super::ClientBuilder) is enough. The client declares
//! the capability when a handler is set.

use std::future::Future;

use async_trait::async_trait;

use crate::jsonrpc::ErrorObject;
use crate::protocol::elicitation::{ElicitRequestParams, ElicitResult};
use crate::protocol::roots::{ListRootsResult, Root};
use crate::protocol::sampling::{CreateMessageRequestParams, CreateMessageResult};

/// Answers `elicitation/create`: asks the user.
#[async_trait]
pub trait ElicitationHandler: Send + Sync + 'static {
    /// The user's answer (accept with content, decline or cancel).
    ///
    /// # Errors
    /// An error the server receives as the request's JSON-RPC error (legacy)
    /// or that fails the call ([`ClientError::Handler`](super::ClientError::Handler)).
    async fn elicit(&self, params: ElicitRequestParams) -> Result<ElicitResult, ErrorObject>;
}

#[async_trait]
impl<F, Fut> ElicitationHandler for F
where
    F: Fn(ElicitRequestParams) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ElicitResult, ErrorObject>> + Send,
{
    async fn elicit(&self, params: ElicitRequestParams) -> Result<ElicitResult, ErrorObject> {
        self(params).await
    }
}

/// Answers `sampling/createMessage`: asks the application's model.
#[async_trait]
pub trait SamplingHandler: Send + Sync + 'static {
    /// The sampled message.
    ///
    /// # Errors
    /// As [`ElicitationHandler::elicit`].
    async fn sample(&self, params: CreateMessageRequestParams) -> Result<CreateMessageResult, ErrorObject>;
}

#[async_trait]
impl<F, Fut> SamplingHandler for F
where
    F: Fn(CreateMessageRequestParams) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<CreateMessageResult, ErrorObject>> + Send,
{
    async fn sample(&self, params: CreateMessageRequestParams) -> Result<CreateMessageResult, ErrorObject> {
        self(params).await
    }
}

/// Answers `roots/list`.
#[async_trait]
pub trait RootsHandler: Send + Sync + 'static {
    /// The roots the server may work in.
    ///
    /// # Errors
    /// As [`ElicitationHandler::elicit`].
    async fn list_roots(&self) -> Result<ListRootsResult, ErrorObject>;
}

#[async_trait]
impl<F, Fut> RootsHandler for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ListRootsResult, ErrorObject>> + Send,
{
    async fn list_roots(&self) -> Result<ListRootsResult, ErrorObject> {
        self().await
    }
}

/// A fixed list of roots.
#[derive(Clone, Debug)]
pub struct StaticRoots(pub Vec<Root>);

#[async_trait]
impl RootsHandler for StaticRoots {
    async fn list_roots(&self) -> Result<ListRootsResult, ErrorObject> {
        Ok(ListRootsResult { result_type: None, roots: self.0.clone(), meta: None })
    }
}
