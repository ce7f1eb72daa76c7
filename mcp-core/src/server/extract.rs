//! Extractors: values a handler takes from the request's [`Context`] rather
//! than from the client's arguments, as axum's extractors take them from the
//! request. `#[tool]`, `#[prompt]` and `#[resource]` functions name them as
//! parameters: [`Context`] itself, [`State<T>`], [`Extension<T>`],
//! [`Principal`], an `Option` of any of these, and any type marked
//! `#[from_context]`.

use std::ops::{Deref, DerefMut};

use super::{Context, Principal};
use crate::error::{Error, short_type_name};
use crate::jsonrpc::ErrorCode;

/// A value a handler takes from the request's [`Context`].
///
/// Implement it for types that layers put into the request's extensions
/// (an authenticated user, the Lambda context) to let handlers take them as
/// parameters; mark such parameters `#[from_context]` in `#[tool]`
/// functions.
///
/// ```
/// use mcp_core::Error;
/// use mcp_core::server::{Context, FromContext};
///
/// /// The tenant an auth layer resolved for the request.
/// #[derive(Clone)]
/// struct Tenant(String);
///
/// impl FromContext for Tenant {
///     fn from_context(ctx: &Context) -> Result<Self, Error> {
///         ctx.extensions().get::<Tenant>().cloned().ok_or_else(|| Error::internal("no tenant for this request"))
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be taken from the request context",
    label = "not an extractor",
    note = "extractors are `Context`, `State<T>`, `Extension<T>`, `Principal`, an `Option` of one of these, \
            or a type implementing `FromContext`; anything else is an argument the client sends"
)]
pub trait FromContext: Sized {
    /// Takes the value from the request.
    ///
    /// # Errors
    /// When the value is not there; a tool reports it as a failed call,
    /// without the message when it is an [`Error::Internal`] (a server
    /// misconfiguration such as unregistered state) unless the server
    /// exposes internal errors.
    fn from_context(ctx: &Context) -> Result<Self, Error>;
}

impl FromContext for Context {
    fn from_context(ctx: &Context) -> Result<Self, Error> {
        Ok(ctx.clone())
    }
}

impl<T: FromContext> FromContext for Option<T> {
    fn from_context(ctx: &Context) -> Result<Self, Error> {
        Ok(T::from_context(ctx).ok())
    }
}

/// The authenticated caller, put into the request by an auth layer. A
/// handler that takes `Principal` fails for anonymous callers, saying so
/// (an expected failure, not an internal one); take `Option<Principal>` to
/// serve them too.
impl FromContext for Principal {
    fn from_context(ctx: &Context) -> Result<Self, Error> {
        ctx.extensions().get::<Self>().cloned().ok_or_else(|| Error::Other {
            code: ErrorCode::INVALID_REQUEST,
            message: "authentication required: the request has no authenticated principal".into(),
            data: None,
        })
    }
}

/// Shared application state registered with
/// [`ServerBuilder::state`](super::ServerBuilder::state), cloned for each
/// call (register an `Arc<T>` for large or shared-mutable state).
///
/// ```
/// use std::sync::Arc;
/// use mcp_core::server::{ServerBuilder, State};
///
/// struct Db;
///
/// /// Count the rows.
/// #[mcp_core::tool]
/// async fn rows(State(db): State<Arc<Db>>) -> u64 {
///     let _db = db;
///     42
/// }
///
/// let server = ServerBuilder::new("db", "1.0.0").state(Arc::new(Db)).tool(rows_tool()).build();
/// assert!(server.is_ok());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct State<T>(pub T);

impl<T: Clone + Send + Sync + 'static> FromContext for State<T> {
    fn from_context(ctx: &Context) -> Result<Self, Error> {
        ctx.state::<T>().cloned().map(State).ok_or_else(|| {
            Error::internal(format!(
                "no state of type `{}`: register it with `ServerBuilder::state`",
                short_type_name::<T>()
            ))
        })
    }
}

/// A value a transport or layer put into the request's extensions (the
/// Lambda request context, a peer address), cloned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extension<T>(pub T);

impl<T: Clone + Send + Sync + 'static> FromContext for Extension<T> {
    fn from_context(ctx: &Context) -> Result<Self, Error> {
        ctx.extensions().get::<T>().cloned().map(Extension).ok_or_else(|| {
            Error::internal(format!("the request has no extension of type `{}`", short_type_name::<T>()))
        })
    }
}

macro_rules! deref {
    ($($t:ident),*) => {$(
        impl<T> Deref for $t<T> {
            type Target = T;

            fn deref(&self) -> &T {
                &self.0
            }
        }

        impl<T> DerefMut for $t<T> {
            fn deref_mut(&mut self) -> &mut T {
                &mut self.0
            }
        }
    )*};
}
deref!(State, Extension);
