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

    /// The server state this extractor cannot work without, so that
    /// [`ServerBuilder::build`](super::ServerBuilder::build) can refuse a
    /// server that never registered it. `State<T>` needs `T`; the default is
    /// nothing. Override it for an extractor that reads
    /// [`Context::state`].
    fn required_state() -> Vec<RequiredState> {
        Vec::new()
    }
}

/// A type of server state a handler needs, registered with
/// [`ServerBuilder::state`](super::ServerBuilder::state).
/// [`ServerBuilder::build`](super::ServerBuilder::build) fails, naming the
/// type, when one is missing.
///
/// `#[tool]`, `#[prompt]` and `#[resource]` record what their extractors
/// need; a hand-written handler declares it with `extracts`:
///
/// ```
/// use std::sync::Arc;
/// use mcp_core::server::{Context, NoArgs, ServerBuilder, State, ToolRoute};
///
/// struct Db;
///
/// let rows = ToolRoute::new("rows", |ctx: Context, _: NoArgs| async move {
///     ctx.state::<Arc<Db>>().map_or(0, |_| 42)
/// })
/// .extracts::<State<Arc<Db>>>();
/// let err = ServerBuilder::new("db", "1.0.0").tool(rows).build().err().map(|e| e.to_string());
/// assert!(err.is_some_and(|e| e.contains("`Arc<Db>`")));
/// ```
#[derive(Clone, Copy)]
pub struct RequiredState {
    type_name: fn() -> String,
    registered: fn(&http::Extensions) -> bool,
}

impl RequiredState {
    /// State of type `T`.
    pub fn of<T: StateValue>() -> Self {
        Self { type_name: short_type_name::<T>, registered: |state| state.get::<T>().is_some() }
    }

    /// The type's name without module paths, e.g. `Arc<Mutex<Notes>>`.
    pub fn type_name(&self) -> String {
        (self.type_name)()
    }

    /// Whether `state` holds a value of the type.
    pub(crate) fn is_registered(&self, state: &http::Extensions) -> bool {
        (self.registered)(state)
    }
}

impl std::fmt::Debug for RequiredState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RequiredState").field(&self.type_name()).finish()
    }
}

/// `extracts::<E>()` and the list it fills, on each route type.
macro_rules! route_extracts {
    ($($route:ty),*) => {$(
        impl $route {
            /// Declares that the handler takes the extractor `E` (as the
            /// attribute macros do for each extractor parameter), so that
            /// [`ServerBuilder::build`](crate::server::ServerBuilder::build)
            /// fails, naming the type, when the state `E` needs was never
            /// registered.
            #[must_use]
            pub fn extracts<E: FromContext>(mut self) -> Self {
                self.required_state.extend(E::required_state());
                self
            }
        }
    )*};
}
route_extracts!(super::ToolRoute, super::PromptRoute, super::ResourceRoute, super::TemplateRoute);

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

/// What shared state must be: `Clone` (each call gets its own copy),
/// `Send + Sync + 'static`. Implemented for every such type; it exists to
/// say how to fix a type that is not (wrap it in `Arc`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be shared state: state is cloned for each call, so it must be `Clone + Send + Sync + 'static`",
    label = "not `Clone`, `Send` or `Sync`",
    note = "wrap it in `Arc`: register `Arc::new(value)` with `ServerBuilder::state` and take `State<Arc<..>>` \
            (`Arc<Mutex<..>>` or `Arc<RwLock<..>>` for state that changes)"
)]
pub trait StateValue: Clone + Send + Sync + 'static {}

#[diagnostic::do_not_recommend]
impl<T: Clone + Send + Sync + 'static> StateValue for T {}

impl<T: StateValue> FromContext for State<T> {
    fn from_context(ctx: &Context) -> Result<Self, Error> {
        ctx.state::<T>().cloned().map(State).ok_or_else(|| {
            Error::internal(format!(
                "no state of type `{}`: register it with `ServerBuilder::state`",
                short_type_name::<T>()
            ))
        })
    }

    fn required_state() -> Vec<RequiredState> {
        vec![RequiredState::of::<T>()]
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
