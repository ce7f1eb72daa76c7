//! Procedural macros for `mcp-core`: [`macro@tool`], [`macro@prompt`],
//! [`macro@resource`] and [`macro@routes`].
//!
//! Depend on `mcp-core` and use them from there (`use mcp_core::tool;`):
//! the expansions name `::mcp_core` paths only, so a server needs neither
//! this crate nor serde nor schemars in its own manifest.
//!
//! Each macro keeps the function as written and adds one function that
//! builds its route from a generated arguments struct and one closure, so
//! the generated code stays small and the generic code lives in `mcp-core`.
//! Misuse is a compile error at the offending token that says how to fix
//! it.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod ast;
mod attr;
mod container;
mod errors;
mod expand;
mod fallback;
mod valid;

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::quote;

use crate::ast::{Handler, allow_many_params};
use crate::attr::{Kind, Options};
use crate::errors::Errors;

/// Makes a function an MCP tool.
///
/// ```
/// use mcp_core::server::{Context, Json, ServerBuilder, ToolError};
/// use mcp_core::tool;
///
/// /// Divide `a` by `b`.
/// #[tool(read_only, idempotent)]
/// async fn divide(
///     /// The dividend
///     a: f64,
///     /// The divisor
///     #[arg(default = 1.0)]
///     b: f64,
///     ctx: &Context,
/// ) -> Result<Json<Quotient>, ToolError> {
///     ctx.info("dividing").await.ok();
///     if b == 0.0 {
///         return Err(ToolError::new("division_by_zero", "cannot divide by zero"));
///     }
///     Ok(Json(Quotient { value: a / b }))
/// }
///
/// #[derive(serde::Serialize, schemars::JsonSchema)]
/// struct Quotient {
///     /// `a / b`
///     value: f64,
/// }
///
/// let server = ServerBuilder::new("calc", "1.0.0").tool(divide_tool()).build().expect("valid");
/// # let _ = server;
/// ```
///
/// `#[tool] fn add` keeps `add` and adds `fn add_tool() -> ToolRoute`
/// (with `add`'s visibility) to register with `ServerBuilder::tool`. In an
/// impl block, put [`macro@routes`] on the block instead.
///
/// # Parameters
///
/// A parameter is an *argument* the client sends, unless its type marks it
/// as taken from the request, as axum's extractors are. The macro decides by
/// the type's last path segment:
///
/// | type | what |
/// |---|---|
/// | `Context` or `&Context` | the request context: progress, logging, cancellation, `elicit`/`sample`/`list_roots` |
/// | `State<T>` | shared state registered with `ServerBuilder::state` |
/// | `Extension<T>` | a value a transport or layer put into the request (the Lambda context, ...) |
/// | `Principal` | the authenticated caller (the call fails without one; `Option<Principal>` does not) |
/// | `Option<X>` of these | `None` when absent |
/// | `#[from_context] x: T` | any `T: FromContext` (the extension point for auth and Lambda layers) |
/// | anything else | an argument: `Deserialize + JsonSchema` |
///
/// Write `#[arg]` on a parameter to make it an argument whatever its type
/// (your own type named `State`, say).
///
/// Arguments become the properties of the input schema (schemars, cleaned
/// for strict clients: inlined, no `null` branches). Doc comments on a
/// parameter become its description. `Option<T>` arguments and arguments
/// with a default are not required. `#[arg(..)]` options:
///
/// - `default`: `Default::default()` when the client omits it;
/// - `default = expr`: `expr` when omitted (a string literal converts with
///   `Into`, so `default = "x"` fits a `String`); it also appears as the
///   schema's `default`;
/// - `rename = "wireName"`: the property's name;
/// - `description = ".."`: instead of the doc comment.
///
/// The arguments are validated before the function runs: a missing,
/// mistyped or unknown argument is answered with the field and the
/// expected type (an `isError` result from protocol 2025-11-25 on, error
/// -32602 before; `ServerBuilder::reject_unknown_arguments(false)` lets
/// unknown ones through). A type that is not `Deserialize + JsonSchema` is
/// one compile error saying so.
///
/// # Options
///
/// `#[tool(name = "..", title = "..", description = "..", read_only, destructive = false,
/// idempotent, open_world = false, icons = ["https://.."], meta = { "key": "value" }, requires = ["scope"],
/// cache_ttl = "60s", cache_scope = "public")]`:
///
/// - `name`: the tool's name (default: the function's); 1 to 128 of `A-Z a-z 0-9 _ - .`;
/// - `title`: a human-readable title;
/// - `description`: instead of the function's doc comment;
/// - `read_only`, `destructive`, `idempotent`, `open_world`: annotations
///   (alone for `true`, or `= false`);
/// - `icons`: icon URLs, or any expression giving a `Vec<Icon>`;
/// - `meta`: the tool's `_meta`, as a JSON object (`serde_json::json!` syntax);
/// - `requires`: what a caller needs (OAuth scopes or `action:resource`
///   permissions, all of them), checked by an authentication layer
///   (`ToolRoute::requires`): `requires = ["admin:db"]`;
/// - `task`: whether calls may run as tasks (the tasks extension,
///   `ToolRoute::task_support`): `task = "optional"` or `task = "required"`;
/// - `defer_task`: with `task`, the call becomes a task only when the
///   handler calls `ctx.continue_as_task()` (`ToolRoute::defer_task`).
/// - `cache_ttl`: a result cache (`mcp_aws::cache`) may reuse the tool's
///   successful results this long (`"500ms"`, `"60s"`, `"5m"`, `"1h"`;
///   `ToolRoute::cache_ttl`);
/// - `cache_scope`: `"private"` (each caller its own results) or `"public"`
///   (shared by every caller); default: the cache layer's
///   (`ToolRoute::cache_scope`).
///
/// # Return types
///
/// Anything implementing `IntoToolResult`: strings and numbers become text;
/// `Json<T>` gives `structuredContent`, its JSON text and an `outputSchema`
/// (a `T` that is not an object, such as `Vec<Note>`, `i64` or an enum, is
/// sent as `{"result": ..}` with the matching schema; `Json<Option<_>>` is
/// a compile error); `ContentBlock`s and `CallToolResult`
/// pass through; `Result<T, E>` turns `Err` into an `isError` result with
/// the error's message (a protocol `Error` stays a JSON-RPC error;
/// `ToolError` adds a code and details). Unexpected failures (a panic, an
/// internal error) reach the client without details unless the server
/// exposes internal errors (by default, only debug builds do).
///
/// Sync functions run on the async runtime: keep them short, or make them
/// `async` and use `tokio::task::spawn_blocking`.
#[proc_macro_attribute]
pub fn tool(args: TokenStream, input: TokenStream) -> TokenStream {
    handler(Kind::Tool, args, input)
}

/// Makes a function an MCP prompt.
///
/// ```
/// use mcp_core::prompt;
///
/// /// Explain how to evaluate an expression.
/// #[prompt(title = "Explain")]
/// fn explain(
///     /// The expression, e.g. `2 * (3 + 4)`
///     expression: String,
///     /// `child` or `engineer`
///     #[arg(default = "engineer")]
///     audience: String,
/// ) -> String {
///     format!("Explain `{expression}` step by step to an {audience}.")
/// }
///
/// let route = explain_prompt();
/// assert_eq!(route.prompt().arguments.as_ref().map(Vec::len), Some(2));
/// ```
///
/// `#[prompt] fn explain` adds `fn explain_prompt() -> PromptRoute`.
/// Arguments are strings on the wire, so they are `String` (required) or
/// `Option<String>` or have a default (optional); doc comments describe
/// them. Special parameters (`Context`, `State<T>`, ...) work as for
/// [`macro@tool`]. Options: `name`, `title`, `description`, `icons`,
/// `meta`. The function returns anything implementing `IntoPromptResult`:
/// a `String` (one user message), `PromptMessage`s, a `GetPromptResult`,
/// or a `Result` of these.
#[proc_macro_attribute]
pub fn prompt(args: TokenStream, input: TokenStream) -> TokenStream {
    handler(Kind::Prompt, args, input)
}

/// Makes a function an MCP resource, or a resource template when the URI
/// has `{variables}`.
///
/// ```
/// use mcp_core::resource;
///
/// /// The multiplication table of `n`.
/// #[resource("calc://table/{n}", name = "multiplication-table", mime_type = "text/plain")]
/// fn table(
///     /// The number whose table to read
///     n: i64,
/// ) -> String {
///     (1..=10).map(|i| format!("{n} x {i} = {}", n * i)).collect::<Vec<_>>().join("\n")
/// }
///
/// let route = table_resource();
/// assert_eq!(route.template().uri_template, "calc://table/{n}");
/// ```
///
/// `#[resource("uri")] fn f` adds `fn f_resource()`, returning a
/// `ResourceRoute` for a fixed URI or a `TemplateRoute` for a template.
/// Each template variable is a parameter of the same name (or
/// `#[arg(rename)]`), parsed with `FromStr`: a value that does not parse is
/// answered with error -32602 naming the variable and the expected type.
/// `Option<T>` takes an optional (`{?query}`) variable. Parameter doc
/// comments are listed in the description. Special parameters work as for
/// [`macro@tool`]. Options: `name` (default: the function's), `title`,
/// `description`, `mime_type`, `icons`. The function returns anything
/// implementing `IntoReadResult`: a `String` (text at the URI read, with
/// `mime_type`), `Json<T>`, `ResourceContents`, or a `Result` of these.
#[proc_macro_attribute]
pub fn resource(args: TokenStream, input: TokenStream) -> TokenStream {
    handler(Kind::Resource, args, input)
}

/// Collects the `#[tool]`, `#[prompt]` and `#[resource]` functions of an
/// impl block or inline module and adds `routes()`, returning them all for
/// `ServerBuilder::routes`.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use mcp_core::routes;
/// use mcp_core::server::ServerBuilder;
///
/// #[derive(Default)]
/// struct Counter {
///     hits: AtomicU64,
/// }
///
/// #[routes]
/// impl Counter {
///     /// Count one more hit; returns the total.
///     #[tool]
///     fn hit(&self) -> u64 {
///         self.hits.fetch_add(1, Ordering::Relaxed) + 1
///     }
///
///     /// The number of hits so far.
///     #[resource("counter://hits")]
///     fn hits(&self) -> String {
///         self.hits.load(Ordering::Relaxed).to_string()
///     }
/// }
///
/// let server = ServerBuilder::new("counter", "1.0.0").routes(Arc::new(Counter::default()).routes()).build();
/// assert!(server.is_ok());
/// ```
///
/// On an impl block, methods take `&self`; the block gets
/// `routes(self: Arc<Self>)` (or `routes()` when no handler takes `&self`)
/// and one route function per handler, like `hit_tool(self: Arc<Self>)`.
/// On a module (`#[routes] mod tools { .. }`) it adds `tools::routes()`.
/// Inside the block the handler attributes need no import. Two tools (or
/// prompts) with one name, or two resources with one URI, are a compile
/// error.
#[proc_macro_attribute]
pub fn routes(args: TokenStream, input: TokenStream) -> TokenStream {
    container::expand(args.into(), input.into()).into()
}

/// Expands a handler attribute on a free function.
fn handler(kind: Kind, args: TokenStream, input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let opts = Options::parse(kind, args.into(), Span::call_site(), &mut errors);
    let input = proc_macro2::TokenStream::from(input);
    let Ok(mut item) = syn::parse2::<syn::ItemFn>(input.clone()) else {
        errors.push(
            Span::call_site(),
            format!("`#[{}]` goes on a function (in an impl block, put `#[routes]` on the block)", kind.attr()),
        );
        let errors = errors.to_compile_errors();
        return quote!(#input #errors).into();
    };
    let h = Handler::parse(kind, opts, &item.attrs, &item.vis, &mut item.sig, false, &mut errors);
    allow_many_params(&mut item.attrs);
    valid::check(&h, &mut errors);
    let route_fn = if errors.is_empty() { expand::route_fn(&h) } else { fallback::route_fn(&h) };
    let errors = errors.to_compile_errors();
    quote!(#item #route_fn #errors).into()
}
