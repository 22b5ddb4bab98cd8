//! Rust names for WIT names: `snake_case` items, `UpperCamelCase` types,
//! `SHOUTY_CASE` flags, with a `_` after Rust keywords.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// A valid Rust identifier for `s`: keywords get a `_` after them, and
/// anything `Ident::new` would reject (WIT names never are) is made valid
/// rather than panicking.
fn ident(s: String) -> Ident {
    let mut s: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) || s == "_" {
        s.insert(0, '_');
    }
    if KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    Ident::new(&s, Span::call_site())
}

/// `kebab-name` → `kebab_name`.
pub fn snake(wit: &str) -> Ident {
    ident(wit.to_snake_case())
}

/// `kebab-name` → `KebabName`.
pub fn camel(wit: &str) -> Ident {
    ident(wit.to_upper_camel_case())
}

/// `kebab-name` → `KEBAB_NAME`.
pub fn shouty(wit: &str) -> Ident {
    ident(wit.to_shouty_snake_case())
}

/// A `#[doc = ...]` attribute: the WIT docs if any, else `fallback`.
pub fn doc(docs: &wit_parser::Docs, fallback: String) -> TokenStream {
    let text = match &docs.contents {
        Some(d) if !d.trim().is_empty() => d.clone(),
        _ => fallback,
    };
    let lines = text.lines().map(|l| format!(" {l}"));
    quote!(#(#[doc = #lines])*)
}
