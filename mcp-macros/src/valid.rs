//! The rules a handler must follow, each reported at the offending token
//! with how to fix it.

use std::collections::BTreeSet;

use quote::ToTokens;
use syn::spanned::Spanned as _;
use syn::{GenericParam, Type};

use crate::ast::{Handler, Param, Role, TypeClass, classify, last_segment, option_inner, type_args};
use crate::attr::Kind;
use crate::errors::Errors;

/// Checks everything about one handler.
pub(crate) fn check(h: &Handler, errors: &mut Errors) {
    if h.kind == Kind::Tool {
        let (name, span) = h.name();
        if let Err(msg) = check_tool_name(&name) {
            errors.push(span, msg);
        }
    }
    check_signature(h, errors);
    let mut context: Option<&Param> = None;
    for param in &h.params {
        check_param(h, param, errors);
        if matches!(param.role, Role::Context { .. }) {
            if context.is_some() {
                errors.push_spanned(
                    &param.ty,
                    "a handler takes at most one `Context`; remove this one and clone the other where you need two",
                );
            }
            context = Some(param);
        }
    }
    check_wire_names(h, errors);
    match h.kind {
        Kind::Tool => check_tool_output(h, errors),
        Kind::Prompt => check_prompt_args(h, errors),
        Kind::Resource => check_template(h, errors),
    }
}

/// Tool names are 1 to 128 characters of `A-Z a-z 0-9 _ - .`.
pub(crate) fn check_tool_name(name: &str) -> Result<(), String> {
    let valid = (1..=128).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if valid {
        Ok(())
    } else if name.len() > 128 {
        Err(format!("tool name is {} characters long; the limit is 128: choose a shorter `name = \"..\"`", name.len()))
    } else {
        Err(format!(
            "invalid tool name `{name}`: use 1 to 128 characters of `A-Z a-z 0-9 _ - .`, e.g. `name = \"{}\"`",
            suggest_name(name)
        ))
    }
}

fn suggest_name(name: &str) -> String {
    let s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '.') { c } else { '_' }).collect();
    if s.is_empty() { "my_tool".to_owned() } else { s.chars().take(128).collect() }
}

fn check_signature(h: &Handler, errors: &mut Errors) {
    let what = h.kind.attr();
    if let Some(param) = h.sig.generics.params.iter().find(|p| !matches!(p, GenericParam::Lifetime(_))) {
        errors.push_spanned(
            param,
            format!(
                "a `#[{what}]` function cannot be generic: its schema is fixed when the server starts; \
                 use concrete types"
            ),
        );
    }
    if let Some(unsafety) = &h.sig.unsafety {
        errors.push(
            unsafety.span,
            format!("a `#[{what}]` function cannot be `unsafe`; wrap the unsafe call in a safe function"),
        );
    }
    if let Some(variadic) = &h.sig.variadic {
        errors.push_spanned(variadic, format!("a `#[{what}]` function cannot be variadic"));
    }
    let Some(r) = &h.receiver else { return };
    if !h.in_impl {
        errors.push_spanned(
            r,
            format!(
                "`#[{what}]` on a method needs `#[mcp_core::routes]` on its impl block, which builds the routes \
                 from a shared server value: `#[routes] impl MyServer {{ #[{what}] fn ..(&self, ..) }}`"
            ),
        );
    } else if r.colon_token.is_some() || r.reference.is_none() {
        errors.push_spanned(
            r,
            "take `&self`: every call shares the server value (`routes` takes it as `Arc<Self>`)".to_owned(),
        );
    } else if r.mutability.is_some() {
        errors.push_spanned(
            r,
            "take `&self`, not `&mut self`: calls run concurrently, so keep mutable state behind a `Mutex` or an atomic"
                .to_owned(),
        );
    }
}

fn check_param(h: &Handler, param: &Param, errors: &mut Errors) {
    if let (Some(span), true) = (param.attrs.from_context, param.attrs.arg.forced) {
        errors.push(
            span,
            "a parameter is either an argument (`#[arg]`) or taken from the context (`#[from_context]`), not both",
        );
    }
    if param.role != Role::Arg
        && let Some(default) = &param.attrs.arg.default
    {
        errors.push(default.span(), "only arguments take a default; this parameter comes from the request context");
    }
    match (param.role, classify(&param.ty)) {
        (Role::Context { .. }, TypeClass::Reference { mutable: true, .. }) => {
            errors.push_spanned(&param.ty, "take `&Context` or `Context`, not `&mut Context`: the context is shared");
        }
        (Role::Context { .. }, _) => {}
        (_, TypeClass::Reference { .. }) => errors.push_spanned(&param.ty, reference_message(&param.ty)),
        (Role::Arg, TypeClass::Unsupported) => errors.push_spanned(
            &param.ty,
            format!(
                "unsupported parameter type `{}`: an argument needs a concrete type that implements \
                 `serde::Deserialize` and `schemars::JsonSchema` (derive both for your own types)",
                tokens(&param.ty)
            ),
        ),
        _ => {}
    }
    if param.role == Role::Arg {
        if param.ident().is_none() {
            errors.push_spanned(
                &param.pat,
                format!(
                    "write the argument as a plain name (`name: Type`): the name is the argument's name in the \
                     `#[{}]` schema; destructure it in the body",
                    h.kind.attr()
                ),
            );
        }
        if mentions_self(&param.ty) {
            errors.push_spanned(&param.ty, "an argument's type cannot use `Self`; name the type");
        }
    }
}

fn reference_message(ty: &Type) -> String {
    let Type::Reference(r) = ty else { return String::new() };
    let owned = match &*r.elem {
        Type::Path(p) if p.path.is_ident("str") => "String".to_owned(),
        Type::Slice(s) => format!("Vec<{}>", tokens(&s.elem)),
        other => tokens(other),
    };
    format!(
        "`{}` cannot be a parameter: arguments are deserialised into owned values, and only the `Context` \
         may be borrowed; take `{owned}` instead",
        tokens(ty)
    )
}

fn tokens(t: &impl ToTokens) -> String {
    let s = t.to_token_stream().to_string();
    // `to_string` spaces every token; undo the common cases.
    s.replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace("& ", "&")
}

fn mentions_self(ty: &Type) -> bool {
    fn walk(ts: proc_macro2::TokenStream) -> bool {
        ts.into_iter().any(|tt| match tt {
            proc_macro2::TokenTree::Ident(i) => i == "Self",
            proc_macro2::TokenTree::Group(g) => walk(g.stream()),
            _ => false,
        })
    }
    walk(ty.to_token_stream())
}

fn check_wire_names(h: &Handler, errors: &mut Errors) {
    let mut seen = BTreeSet::new();
    for param in h.args() {
        if let Some(name) = param.wire_name()
            && !seen.insert(name.clone())
        {
            let span = param.attrs.arg.rename.as_ref().map_or_else(|| param.pat.span(), syn::LitStr::span);
            errors.push(span, format!("two arguments are named `{name}`; rename one with `#[arg(rename = \"..\")]`"));
        }
    }
}

/// The `T` of `Json<T>`, also inside `Result<Json<T>, E>`.
fn json_payload(ty: &Type) -> Option<&Type> {
    let seg = last_segment(ty)?;
    let args = type_args(seg);
    match seg.ident.to_string().as_str() {
        "Json" if args.len() == 1 => Some(args[0]),
        "Result" if !args.is_empty() => json_payload(args[0]),
        _ => None,
    }
}

fn check_tool_output(h: &Handler, errors: &mut Errors) {
    let Some(payload) = h.output.as_ref().and_then(json_payload) else { return };
    // Other non-objects are wrapped as `{"result": ..}`; `None` would be
    // `{"result": null}` against a schema that the cleaning for strict
    // clients has made non-nullable.
    if let Some(inner) = option_inner(payload) {
        errors.push_spanned(
            payload,
            format!(
                "`Json<{0}>` cannot describe its `None`: return `Json<{1}>` and report a missing value as an \
                 error (`Result<Json<{1}>, ToolError>`), or return a struct with an optional field",
                tokens(payload),
                tokens(inner)
            ),
        );
    }
}

fn check_prompt_args(h: &Handler, errors: &mut Errors) {
    for param in h.args() {
        let inner = option_inner(&param.ty).unwrap_or(&param.ty);
        let is_string = last_segment(inner).is_some_and(|s| s.ident == "String" && s.arguments.is_empty());
        if !is_string {
            errors.push_spanned(
                &param.ty,
                format!(
                    "prompt arguments are strings on the wire: take `String` (or `Option<String>` when optional) \
                     instead of `{}`, and parse it in the prompt",
                    tokens(&param.ty)
                ),
            );
        }
    }
}

/// The variable names of an RFC 6570 URI template (`{id}`, `{+path}`,
/// `{?a,b}`), or a message saying what is malformed.
pub(crate) fn template_vars(uri: &str) -> Result<Vec<String>, String> {
    let mut vars = Vec::new();
    let mut rest = uri;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').ok_or_else(|| format!("unclosed `{{` in the URI template `{uri}`"))? + open;
        let expr = rest[open + 1..close].trim_start_matches(['+', '#', '.', '/', ';', '?', '&']);
        for name in expr.split(',') {
            let name = name.split(':').next().unwrap_or(name).trim_end_matches('*');
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "bad variable `{{{}}}` in the URI template `{uri}`; variables are written `{{name}}`",
                    &rest[open + 1..close]
                ));
            }
            vars.push(name.to_owned());
        }
        rest = &rest[close + 1..];
    }
    Ok(vars)
}

fn check_template(h: &Handler, errors: &mut Errors) {
    let Some(uri) = &h.opts.uri else { return };
    let vars = match template_vars(&uri.value()) {
        Ok(v) => v,
        Err(msg) => return errors.push(uri.span(), msg),
    };
    let mut used = BTreeSet::new();
    for param in h.args() {
        let Some(name) = param.wire_name() else { continue };
        if vars.contains(&name) {
            used.insert(name);
        } else if vars.is_empty() {
            errors.push_spanned(
                &param.pat,
                format!(
                    "`{}` has no template variables, so a resource function takes no arguments; \
                     for a family of resources use a URI template such as `\"{}/{{{name}}}\"`",
                    uri.value(),
                    uri.value().trim_end_matches('/')
                ),
            );
        } else {
            errors.push_spanned(
                &param.pat,
                format!(
                    "`{name}` is not a variable of the URI template `{}` (its variables: {})",
                    uri.value(),
                    vars.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
    for var in vars.iter().filter(|v| !used.contains(*v)) {
        errors.push(uri.span(), format!("the URI template variable `{var}` has no parameter; add `{var}: String`"));
    }
}
