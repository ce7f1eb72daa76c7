//! Attribute parsing: the options of `#[tool(..)]`, `#[prompt(..)]` and
//! `#[resource(..)]`, the parameter attributes `#[arg(..)]` and
//! `#[from_context]`, and doc comments.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned as _;
use syn::{Attribute, Expr, ExprArray, Ident, Lit, LitBool, LitStr, Token, braced};

use crate::errors::Errors;

/// What a handler attribute makes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Tool,
    Prompt,
    Resource,
}

impl Kind {
    /// The attribute's name, as users write it.
    pub(crate) fn attr(self) -> &'static str {
        match self {
            Self::Tool => "tool",
            Self::Prompt => "prompt",
            Self::Resource => "resource",
        }
    }

    /// The kind an attribute names, by its last path segment (`tool`,
    /// `mcp_core::tool`).
    pub(crate) fn of(attr: &Attribute) -> Option<Self> {
        let last = attr.path().segments.last()?;
        match last.ident.to_string().as_str() {
            "tool" => Some(Self::Tool),
            "prompt" => Some(Self::Prompt),
            "resource" => Some(Self::Resource),
            _ => None,
        }
    }

    fn options(self) -> &'static [&'static str] {
        match self {
            Self::Tool => &[
                "name",
                "title",
                "description",
                "read_only",
                "destructive",
                "idempotent",
                "open_world",
                "icons",
                "meta",
                "requires",
                "task",
                "defer_task",
                "cache_ttl",
                "cache_scope",
            ],
            Self::Prompt => &["name", "title", "description", "icons", "meta"],
            Self::Resource => &["name", "title", "description", "mime_type", "icons"],
        }
    }
}

/// A `bool` option: `read_only` or `read_only = false`.
pub(crate) struct Flag {
    pub(crate) value: bool,
}

/// `icons = ["https://..", ..]` or `icons = an_expression()`.
pub(crate) enum Icons {
    Srcs(Vec<LitStr>),
    Expr(Expr),
}

/// The options of a handler attribute.
#[derive(Default)]
pub(crate) struct Options {
    /// `#[resource("uri")]`: the URI or URI template.
    pub(crate) uri: Option<LitStr>,
    pub(crate) name: Option<LitStr>,
    pub(crate) title: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    pub(crate) read_only: Option<Flag>,
    pub(crate) destructive: Option<Flag>,
    pub(crate) idempotent: Option<Flag>,
    pub(crate) open_world: Option<Flag>,
    pub(crate) icons: Option<Icons>,
    /// The braced JSON object of `meta = { .. }`.
    pub(crate) meta: Option<TokenStream>,
    pub(crate) mime_type: Option<LitStr>,
    /// `requires = ["scope", "action:resource", ..]` (tools).
    pub(crate) requires: Option<Vec<LitStr>>,
    /// `task = "optional"` or `task = "required"` (tools): the
    /// `TaskSupport` variant's name.
    pub(crate) task: Option<Ident>,
    /// `defer_task` (tools).
    pub(crate) defer_task: Option<Flag>,
    /// `cache_ttl = "60s"` (tools): the time to live, in milliseconds.
    pub(crate) cache_ttl: Option<u64>,
    /// `cache_scope = "public"` (tools): `true` for public.
    pub(crate) cache_public: Option<bool>,
}

/// One `key`, `key = value` or positional literal of an attribute.
enum Entry {
    Positional(LitStr),
    Flag(Ident),
    Value(Ident, Expr),
    Braced(Ident, TokenStream),
}

struct Entries(Vec<Entry>);

impl Parse for Entries {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut entries = Vec::new();
        while !input.is_empty() {
            if input.peek(LitStr) {
                entries.push(Entry::Positional(input.parse()?));
            } else {
                let key = Ident::parse_any(input)?;
                if input.peek(Token![=]) {
                    input.parse::<Token![=]>()?;
                    if input.peek(syn::token::Brace) {
                        let content;
                        braced!(content in input);
                        entries.push(Entry::Braced(key, content.parse()?));
                    } else {
                        entries.push(Entry::Value(key, input.parse()?));
                    }
                } else {
                    entries.push(Entry::Flag(key));
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(Self(entries))
    }
}

fn lit_str(expr: &Expr, key: &Ident, errors: &mut Errors) -> Option<LitStr> {
    match expr {
        Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) => Some(s.clone()),
        _ => {
            errors.push(expr.span(), format!("`{key}` takes a string literal, e.g. `{key} = \"...\"`"));
            None
        }
    }
}

fn set<T>(slot: &mut Option<T>, value: Option<T>, key: &Ident, errors: &mut Errors) {
    if slot.is_some() {
        errors.push(key.span(), format!("duplicate option `{key}`"));
    } else {
        *slot = value;
    }
}

impl Options {
    /// Parses the tokens inside `#[kind(..)]` (the attribute at `span`),
    /// reporting every problem.
    pub(crate) fn parse(kind: Kind, tokens: TokenStream, span: Span, errors: &mut Errors) -> Self {
        let mut opts = Self::default();
        let entries = match syn::parse2::<Entries>(tokens) {
            Ok(e) => e.0,
            Err(e) => {
                errors.add(e);
                return opts;
            }
        };
        for entry in entries {
            match entry {
                Entry::Positional(lit) if kind == Kind::Resource && opts.uri.is_none() => opts.uri = Some(lit),
                Entry::Positional(lit) => {
                    let msg = match kind {
                        Kind::Resource => {
                            "the URI is given once, first: `#[resource(\"scheme://path\", ..)]`".to_owned()
                        }
                        _ => format!(
                            "unexpected literal; options are written `key = value`, e.g. `#[{}(name = \"...\")]`",
                            kind.attr()
                        ),
                    };
                    errors.push(lit.span(), msg);
                }
                Entry::Flag(key) => opts.flag(kind, &key, None, errors),
                Entry::Value(key, value) => opts.value(kind, &key, value, errors),
                Entry::Braced(key, tokens) if key == "meta" && kind.options().contains(&"meta") => {
                    set(&mut opts.meta, Some(tokens), &key, errors);
                }
                Entry::Braced(key, _) => opts.unknown(kind, &key, errors),
            }
        }
        if kind == Kind::Resource && opts.uri.is_none() {
            errors.push(
                span,
                "`#[resource]` needs the URI it serves first: `#[resource(\"scheme://path\")]`, or a URI template \
                 such as `#[resource(\"scheme://items/{id}\")]`",
            );
        }
        opts
    }

    fn unknown(&self, kind: Kind, key: &Ident, errors: &mut Errors) {
        let known = kind.options().iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ");
        errors.push(key.span(), format!("unknown option `{key}` for `#[{}]`; expected one of {known}", kind.attr()));
    }

    fn flag_slot(&mut self, key: &str) -> Option<&mut Option<Flag>> {
        match key {
            "read_only" => Some(&mut self.read_only),
            "destructive" => Some(&mut self.destructive),
            "idempotent" => Some(&mut self.idempotent),
            "open_world" => Some(&mut self.open_world),
            "defer_task" => Some(&mut self.defer_task),
            _ => None,
        }
    }

    /// `key` alone or `key = true/false`.
    fn flag(&mut self, kind: Kind, key: &Ident, value: Option<&Expr>, errors: &mut Errors) {
        let name = key.to_string();
        if !kind.options().contains(&name.as_str()) {
            return self.unknown(kind, key, errors);
        }
        let Some(slot) = self.flag_slot(&name) else {
            return errors.push(key.span(), format!("`{key}` needs a value: `{key} = \"...\"`"));
        };
        let value = match value {
            None => true,
            Some(Expr::Lit(syn::ExprLit { lit: Lit::Bool(LitBool { value, .. }), .. })) => *value,
            Some(other) => {
                return errors.push(other.span(), format!("`{key}` takes `true` or `false`, or nothing (`{key}`)"));
            }
        };
        set(slot, Some(Flag { value }), key, errors);
    }

    fn value(&mut self, kind: Kind, key: &Ident, value: Expr, errors: &mut Errors) {
        let name = key.to_string();
        if !kind.options().contains(&name.as_str()) {
            return self.unknown(kind, key, errors);
        }
        if self.flag_slot(&name).is_some() {
            return self.flag(kind, key, Some(&value), errors);
        }
        match name.as_str() {
            "name" => set(&mut self.name, lit_str(&value, key, errors), key, errors),
            "title" => set(&mut self.title, lit_str(&value, key, errors), key, errors),
            "description" => set(&mut self.description, lit_str(&value, key, errors), key, errors),
            "mime_type" => set(&mut self.mime_type, lit_str(&value, key, errors), key, errors),
            "icons" => {
                let icons = match value {
                    Expr::Array(ExprArray { elems, .. })
                        if elems.iter().all(|e| matches!(e, Expr::Lit(syn::ExprLit { lit: Lit::Str(_), .. }))) =>
                    {
                        Icons::Srcs(elems.iter().filter_map(|e| lit_str(e, key, errors)).collect())
                    }
                    other => Icons::Expr(other),
                };
                set(&mut self.icons, Some(icons), key, errors);
            }
            "requires" => match value {
                Expr::Array(ExprArray { elems, .. })
                    if elems.iter().all(|e| matches!(e, Expr::Lit(syn::ExprLit { lit: Lit::Str(_), .. }))) =>
                {
                    let all = elems.iter().filter_map(|e| lit_str(e, key, errors)).collect();
                    set(&mut self.requires, Some(all), key, errors);
                }
                other => errors.push(
                    other.span(),
                    "`requires` takes a list of strings: `requires = [\"admin:db\", \"mcp/tools\"]`",
                ),
            },
            "task" => {
                let variant = lit_str(&value, key, errors).and_then(|lit| match lit.value().as_str() {
                    "optional" => Some(Ident::new("Optional", lit.span())),
                    "required" => Some(Ident::new("Required", lit.span())),
                    "forbidden" => Some(Ident::new("Forbidden", lit.span())),
                    _ => {
                        errors.push(lit.span(), "`task` is \"optional\", \"required\" or \"forbidden\"");
                        None
                    }
                });
                set(&mut self.task, variant, key, errors);
            }
            "cache_ttl" => {
                let ms = lit_str(&value, key, errors).and_then(|lit| match duration_ms(&lit.value()) {
                    Some(ms) => Some(ms),
                    None => {
                        errors.push(
                            lit.span(),
                            "`cache_ttl` takes a duration above zero: a whole number and a unit (`ms`, `s`, `m`, `h`), \
                             e.g. `cache_ttl = \"60s\"`",
                        );
                        None
                    }
                });
                set(&mut self.cache_ttl, ms, key, errors);
            }
            "cache_scope" => {
                let public = lit_str(&value, key, errors).and_then(|lit| match lit.value().as_str() {
                    "public" => Some(true),
                    "private" => Some(false),
                    _ => {
                        errors.push(lit.span(), "`cache_scope` is `\"public\"` or `\"private\"`");
                        None
                    }
                });
                set(&mut self.cache_public, public, key, errors);
            }
            "meta" => errors.push(value.span(), "`meta` takes a JSON object: `meta = { \"key\": \"value\" }`"),
            _ => self.unknown(kind, key, errors),
        }
    }
}

/// `"500ms"`, `"60s"`, `"5m"`, `"1h"` in milliseconds; `None` for anything
/// else, zero included.
fn duration_ms(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let per = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    n.checked_mul(per).filter(|ms| *ms > 0)
}

/// A parameter's `#[arg(..)]` options.
#[derive(Default)]
pub(crate) struct ArgOptions {
    /// `#[arg]` was present: the parameter is an argument, whatever its type.
    pub(crate) forced: bool,
    pub(crate) default: Option<ArgDefault>,
    pub(crate) rename: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
}

/// `#[arg(default)]` or `#[arg(default = expr)]`.
pub(crate) enum ArgDefault {
    Trait(Span),
    Expr(Expr),
}

impl ArgDefault {
    pub(crate) fn span(&self) -> Span {
        match self {
            Self::Trait(span) => *span,
            Self::Expr(e) => e.span(),
        }
    }
}

/// What a parameter's attributes say about it.
#[derive(Default)]
pub(crate) struct ParamAttrs {
    pub(crate) docs: Vec<Attribute>,
    pub(crate) arg: ArgOptions,
    /// `#[from_context]`, with its span.
    pub(crate) from_context: Option<Span>,
    /// Attributes the parameter keeps (`#[allow]`, `#[cfg_attr]`...).
    pub(crate) kept: Vec<Attribute>,
}

impl ParamAttrs {
    /// Sorts a parameter's attributes: doc comments and `#[arg]` /
    /// `#[from_context]` are ours (and stripped), the rest stay.
    pub(crate) fn take(attrs: Vec<Attribute>, errors: &mut Errors) -> Self {
        let mut out = Self::default();
        for attr in attrs {
            if attr.path().is_ident("doc") {
                out.docs.push(attr);
            } else if attr.path().is_ident("from_context") {
                if let Err(e) = attr.meta.require_path_only() {
                    errors.add(syn::Error::new(e.span(), "`#[from_context]` takes no options"));
                }
                out.from_context = Some(attr.span());
            } else if attr.path().is_ident("arg") {
                out.arg.forced = true;
                if !matches!(attr.meta, syn::Meta::Path(_)) {
                    out.parse_arg(&attr, errors);
                }
            } else {
                out.kept.push(attr);
            }
        }
        out
    }

    fn parse_arg(&mut self, attr: &Attribute, errors: &mut Errors) {
        let arg = &mut self.arg;
        let result = attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().cloned().ok_or_else(|| meta.error("expected an option name"))?;
            match key.to_string().as_str() {
                "default" if arg.default.is_some() => Err(meta.error("duplicate option `default`")),
                "default" if meta.input.peek(Token![=]) => {
                    arg.default = Some(ArgDefault::Expr(meta.value()?.parse()?));
                    Ok(())
                }
                "default" => {
                    arg.default = Some(ArgDefault::Trait(key.span()));
                    Ok(())
                }
                "rename" | "description" => {
                    let lit: LitStr = meta.value()?.parse()?;
                    let slot = if key == "rename" { &mut arg.rename } else { &mut arg.description };
                    if slot.replace(lit).is_some() {
                        return Err(meta.error(format!("duplicate option `{key}`")));
                    }
                    Ok(())
                }
                _ => Err(meta.error(format!(
                    "unknown option `{key}` for `#[arg]`; expected `default`, `default = expr`, `rename = \"...\"` \
                     or `description = \"...\"`"
                ))),
            }
        });
        if let Err(e) = result {
            errors.add(e);
        }
    }
}

/// The text of doc comments, as rustdoc shows it: one leading space
/// stripped from each line, surrounding blank lines dropped. `None` when
/// there is no doc comment. Only literal docs count (`#[doc = include_str!(..)]`
/// is skipped).
pub(crate) fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .flat_map(|doc| {
            doc.split('\n').map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end().to_owned()).collect::<Vec<_>>()
        })
        .collect();
    let text = lines.join("\n");
    let text = text.trim_matches('\n');
    (!text.trim().is_empty()).then(|| text.to_owned())
}
