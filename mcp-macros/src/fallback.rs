//! What a handler expands to when it has errors: the function as written
//! and a stub of its route function, so the user sees our errors and not a
//! cascade of "cannot find `add_tool`".

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Handler;
use crate::expand::{route_type, self_param};

/// A route function that never runs: the errors beside it stop the build.
pub(crate) fn route_fn(h: &Handler) -> TokenStream {
    let vis = &h.vis;
    let route_fn = h.route_fn();
    let self_param = self_param(h);
    let route_type = route_type(h);
    quote! {
        #[doc(hidden)]
        #vis fn #route_fn(#self_param) -> #route_type {
            ::core::panic!("this handler has compile errors")
        }
    }
}
