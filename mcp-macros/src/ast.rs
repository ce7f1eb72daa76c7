//! The model of one annotated function: its options, its parameters sorted
//! into arguments (from the client) and extractors (from the request), and
//! its return type.

use proc_macro2::Span;
use syn::{Attribute, FnArg, GenericArgument, Ident, Pat, PathArguments, Signature, Type, TypePath, Visibility};

use crate::attr::{Kind, Options, ParamAttrs, doc_text};
use crate::errors::Errors;

/// One `#[tool]`, `#[prompt]` or `#[resource]` function.
pub(crate) struct Handler {
    pub(crate) kind: Kind,
    pub(crate) opts: Options,
    pub(crate) vis: Visibility,
    pub(crate) ident: Ident,
    /// The function's doc comment.
    pub(crate) docs: Option<String>,
    /// The receiver, for methods.
    pub(crate) receiver: Option<syn::Receiver>,
    /// Whether the function is a method (or associated function) of an
    /// impl block handled by `#[routes]`.
    pub(crate) in_impl: bool,
    pub(crate) is_async: bool,
    pub(crate) params: Vec<Param>,
    /// The return type; `None` for `()`.
    pub(crate) output: Option<Type>,
    /// The signature as written, kept for error spans.
    pub(crate) sig: Signature,
}

/// A parameter.
pub(crate) struct Param {
    pub(crate) pat: Pat,
    pub(crate) ty: Type,
    pub(crate) attrs: ParamAttrs,
    pub(crate) role: Role,
}

/// What a parameter is, decided by its type (like axum's extractors) unless
/// `#[arg]` or `#[from_context]` says otherwise.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// An argument the client sends.
    Arg,
    /// The request `Context`, by value or by `&`.
    Context { by_ref: bool },
    /// A `FromContext` value: `State<T>`, `Extension<T>`, `Principal`, an
    /// `Option` of these, or `#[from_context]`.
    Extract,
}

/// What a type looks like to the macro.
pub(crate) enum TypeClass {
    /// `Context`
    Context,
    /// `State<T>`, `Extension<T>`, `Principal`, `Option<..>` of these.
    Extractor,
    /// `&T`, `&mut T`.
    Reference { mutable: bool, to_context: bool },
    /// `impl Trait`, `dyn Trait`, `fn()`, `*const T`, `[T]`, `!`, `_`, a macro.
    Unsupported,
    /// Anything else: a value deserialised from the client's arguments.
    Value,
}

/// The path's last segment, when `ty` is a path.
pub(crate) fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(TypePath { qself: None, path }) => path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// The type arguments of the path's last segment (`T` of `Option<T>`).
pub(crate) fn type_args(segment: &syn::PathSegment) -> Vec<&Type> {
    match &segment.arguments {
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| match g {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `Some(T)` when `ty` is `Option<T>`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    let seg = last_segment(ty)?;
    let args = type_args(seg);
    (seg.ident == "Option" && args.len() == 1).then(|| args[0])
}

pub(crate) fn classify(ty: &Type) -> TypeClass {
    match ty {
        Type::Reference(r) => TypeClass::Reference {
            mutable: r.mutability.is_some(),
            to_context: matches!(classify(&r.elem), TypeClass::Context),
        },
        Type::Group(g) => classify(&g.elem),
        Type::Paren(p) => classify(&p.elem),
        Type::ImplTrait(_)
        | Type::TraitObject(_)
        | Type::BareFn(_)
        | Type::Ptr(_)
        | Type::Slice(_)
        | Type::Never(_)
        | Type::Infer(_)
        | Type::Macro(_)
        | Type::Verbatim(_) => TypeClass::Unsupported,
        Type::Path(_) => {
            let Some(seg) = last_segment(ty) else { return TypeClass::Value };
            let generic = !type_args(seg).is_empty();
            match seg.ident.to_string().as_str() {
                "Context" if !generic => TypeClass::Context,
                "State" | "Extension" if generic => TypeClass::Extractor,
                "Principal" if !generic => TypeClass::Extractor,
                "Option" => match option_inner(ty).map(classify) {
                    Some(TypeClass::Extractor | TypeClass::Context) => TypeClass::Extractor,
                    _ => TypeClass::Value,
                },
                _ => TypeClass::Value,
            }
        }
        _ => TypeClass::Value,
    }
}

/// Allows clippy's `too_many_arguments` on a handler: its parameters are
/// its schema, however many there are.
pub(crate) fn allow_many_params(attrs: &mut Vec<Attribute>) {
    attrs.push(syn::parse_quote!(#[allow(clippy::too_many_arguments)]));
}

/// The function's doc comments, or `description = ".."` when given.
pub(crate) fn description(opts: &Options, attrs: &[Attribute]) -> Option<String> {
    opts.description.as_ref().map(syn::LitStr::value).or_else(|| doc_text(attrs))
}

impl Handler {
    /// Reads a function's signature, taking our attributes off its
    /// parameters (they are not valid Rust there).
    pub(crate) fn parse(
        kind: Kind,
        opts: Options,
        attrs: &[Attribute],
        vis: &Visibility,
        sig: &mut Signature,
        in_impl: bool,
        errors: &mut Errors,
    ) -> Self {
        let mut receiver = None;
        let mut params = Vec::new();
        for input in &mut sig.inputs {
            match input {
                FnArg::Receiver(r) => {
                    r.attrs.retain(|a| !a.path().is_ident("doc"));
                    receiver = Some(r.clone());
                }
                FnArg::Typed(pt) => {
                    let attrs = ParamAttrs::take(std::mem::take(&mut pt.attrs), errors);
                    pt.attrs.clone_from(&attrs.kept);
                    let role = match (&attrs.from_context, attrs.arg.forced, classify(&pt.ty)) {
                        (Some(_), _, _) => Role::Extract,
                        (None, true, _) => Role::Arg,
                        (None, false, TypeClass::Context) => Role::Context { by_ref: false },
                        (None, false, TypeClass::Reference { to_context: true, .. }) => Role::Context { by_ref: true },
                        (None, false, TypeClass::Extractor) => Role::Extract,
                        (None, false, _) => Role::Arg,
                    };
                    params.push(Param { pat: (*pt.pat).clone(), ty: (*pt.ty).clone(), attrs, role });
                }
            }
        }
        let output = match &sig.output {
            syn::ReturnType::Default => None,
            syn::ReturnType::Type(_, ty) => Some((**ty).clone()),
        };
        Self {
            kind,
            docs: description(&opts, attrs),
            opts,
            vis: vis.clone(),
            ident: sig.ident.clone(),
            receiver,
            in_impl,
            is_async: sig.asyncness.is_some(),
            params,
            output,
            sig: sig.clone(),
        }
    }

    /// The name clients see: `name = ".."`, else the function's name.
    pub(crate) fn name(&self) -> (String, Span) {
        match &self.opts.name {
            Some(lit) => (lit.value(), lit.span()),
            None => (self.ident.to_string().trim_start_matches("r#").to_owned(), self.ident.span()),
        }
    }

    /// The name of the generated function that builds the route:
    /// `add` gives `add_tool`.
    pub(crate) fn route_fn(&self) -> Ident {
        let base = self.ident.to_string();
        Ident::new(&format!("{}_{}", base.trim_start_matches("r#"), self.kind.attr()), self.ident.span())
    }

    /// The arguments (parameters the client sends).
    pub(crate) fn args(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| p.role == Role::Arg)
    }
}

impl Param {
    /// The argument's identifier, when its pattern is a plain one.
    pub(crate) fn ident(&self) -> Option<&Ident> {
        match &self.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => Some(&p.ident),
            _ => None,
        }
    }

    /// The name of the argument on the wire (`#[arg(rename)]`, else the
    /// identifier without `r#`).
    pub(crate) fn wire_name(&self) -> Option<String> {
        match &self.attrs.arg.rename {
            Some(lit) => Some(lit.value()),
            None => self.ident().map(|i| i.to_string().trim_start_matches("r#").to_owned()),
        }
    }
}
