//! Component names: kebab-case from Rust names, or `#[component(name = "…")]`.

use syn::{Attribute, LitStr};

/// `snake_case`, `CamelCase` or `SCREAMING_CASE` → `kebab-case`.
pub fn kebab(rust: &str) -> String {
    let mut out = String::with_capacity(rust.len() + 4);
    let mut prev_lower = false;
    for c in rust.trim_start_matches("r#").chars() {
        if c == '_' {
            if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
            prev_lower = false;
        } else if c.is_uppercase() {
            if prev_lower {
                out.push('-');
            }
            out.extend(c.to_lowercase());
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The `name` of a `#[component(name = "…")]` attribute, if any.
pub fn override_name(attrs: &[Attribute]) -> syn::Result<Option<String>> {
    let mut name = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("component")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                let lit: LitStr = meta.value()?.parse()?;
                name = Some(lit.value());
                Ok(())
            } else {
                Err(meta.error("expected `name = \"...\"`"))
            }
        })?;
    }
    Ok(name)
}

/// The component name of an item called `rust` with `attrs`.
pub fn component_name(rust: &str, attrs: &[Attribute]) -> syn::Result<String> {
    Ok(override_name(attrs)?.unwrap_or_else(|| kebab(rust)))
}
