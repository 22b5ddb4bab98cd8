//! The options of `bindgen!`: `bindgen!()`, `bindgen!("world")` or
//! `bindgen!({ key: value, ... })`.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, bracketed, Ident, LitBool, LitStr, Path, Token};

/// The options every `bindgen!` accepts, for the unknown-option error.
const KNOWN: &str = "path, inline, world, with, additional_derives, trappable_imports";

/// Which imported functions return `componentry::Result` (an `Err` traps
/// the calling guest).
pub enum Trappable {
    None,
    All,
    /// By WIT function name (`name`, or `[method]res.name` for resources).
    Only(Vec<LitStr>),
}

/// A parsed `bindgen!` invocation.
pub struct Options {
    /// `path`: a WIT file or folder, relative to `CARGO_MANIFEST_DIR`.
    pub path: Option<LitStr>,
    /// `inline`: WIT source text.
    pub inline: Option<LitStr>,
    /// `world`: the world to generate (a name or a `ns:pkg/world` id).
    pub world: Option<LitStr>,
    /// `with`: WIT interface or type → an existing Rust module or type.
    pub with: Vec<(LitStr, Path)>,
    /// `additional_derives`: more derives on every record, variant and enum.
    pub additional_derives: Vec<Path>,
    pub trappable: Trappable,
    /// The span of the whole invocation, for errors without a better one.
    pub span: Span,
}

impl Parse for Options {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut o = Options {
            path: None,
            inline: None,
            world: None,
            with: Vec::new(),
            additional_derives: Vec::new(),
            trappable: Trappable::None,
            span: input.span(),
        };
        if input.is_empty() {
            return Ok(o);
        }
        if input.peek(LitStr) {
            o.world = Some(input.parse()?);
            if input.peek(Token![in]) {
                input.parse::<Token![in]>()?;
                o.path = Some(input.parse()?);
            }
            return finish(input, o);
        }
        let body;
        braced!(body in input);
        let mut seen: Vec<String> = Vec::new();
        while !body.is_empty() {
            let key: Ident = body.call(syn::ext::IdentExt::parse_any)?;
            let name = key.to_string();
            if seen.contains(&name) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("option `{name}` is given twice"),
                ));
            }
            seen.push(name.clone());
            body.parse::<Token![:]>()?;
            match name.as_str() {
                "path" => o.path = Some(body.parse()?),
                "inline" => o.inline = Some(body.parse()?),
                "world" => o.world = Some(body.parse()?),
                "with" => o.with = parse_with(&body)?,
                "additional_derives" => {
                    let list;
                    bracketed!(list in body);
                    o.additional_derives = Punctuated::<Path, Token![,]>::parse_terminated(&list)?
                        .into_iter()
                        .collect();
                }
                "trappable_imports" => o.trappable = parse_trappable(&body)?,
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown option `{name}`; the options are: {KNOWN}"),
                    ))
                }
            }
            if body.is_empty() {
                break;
            }
            body.parse::<Token![,]>()?;
        }
        finish(input, o)
    }
}

fn finish(input: ParseStream<'_>, o: Options) -> syn::Result<Options> {
    if !input.is_empty() {
        return Err(input.error("unexpected tokens after the options"));
    }
    Ok(o)
}

/// `{ "ns:pkg/iface": path::to::module, "ns:pkg/iface/type": path::To, }`
fn parse_with(input: ParseStream<'_>) -> syn::Result<Vec<(LitStr, Path)>> {
    let map;
    braced!(map in input);
    let mut out = Vec::new();
    while !map.is_empty() {
        let key: LitStr = map.parse()?;
        map.parse::<Token![:]>()?;
        let path: Path = map.parse()?;
        out.push((key, path));
        if map.is_empty() {
            break;
        }
        map.parse::<Token![,]>()?;
    }
    Ok(out)
}

/// `true`, `false`, or `["name", ...]`.
fn parse_trappable(input: ParseStream<'_>) -> syn::Result<Trappable> {
    if input.peek(LitBool) {
        let b: LitBool = input.parse()?;
        return Ok(if b.value {
            Trappable::All
        } else {
            Trappable::None
        });
    }
    if input.peek(syn::token::Bracket) {
        let list;
        bracketed!(list in input);
        let names = Punctuated::<LitStr, Token![,]>::parse_terminated(&list)?;
        return Ok(Trappable::Only(names.into_iter().collect()));
    }
    Err(input.error("expected `true`, `false` or a list of WIT function names"))
}
