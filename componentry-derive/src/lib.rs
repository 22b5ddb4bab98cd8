//! Derive macros for [componentry](https://docs.rs/componentry)'s typed
//! API: `#[derive(ComponentType, Lift, Lower)]` for records (structs with
//! named fields), variants (enums whose cases carry at most one unnamed
//! payload) and enums (enums whose cases carry nothing), and `flags!` for
//! flags types; and `bindgen!`, which generates typed host bindings from a
//! WIT world (parsed at compile time with `wit-parser`). Use them through
//! `componentry` (feature `derive`, on by default), not directly.
//!
//! Component names are the Rust names in kebab-case (`f_u8` → `f-u8`,
//! `NotFound` → `not-found`); `#[component(name = "…")]` on a field, case
//! or flag overrides that.

mod bindgen;
mod expand;
mod flags;
mod model;
mod names;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

fn output(r: syn::Result<proc_macro2::TokenStream>) -> TokenStream {
    r.unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Implements `componentry::ComponentType`: the type check against a
/// component `record`, `variant` or `enum` and the canonical ABI layout.
/// Fails to compile on tuple or unit structs, unions, empty types, and
/// cases with more than one or named payloads.
#[proc_macro_derive(ComponentType, attributes(component))]
pub fn derive_component_type(input: TokenStream) -> TokenStream {
    output(expand::component_type(&parse_macro_input!(
        input as DeriveInput
    )))
}

/// Implements `componentry::Lift`: reading the value out of a component.
#[proc_macro_derive(Lift, attributes(component))]
pub fn derive_lift(input: TokenStream) -> TokenStream {
    output(expand::lift(&parse_macro_input!(input as DeriveInput)))
}

/// Implements `componentry::Lower`: writing the value into a component.
#[proc_macro_derive(Lower, attributes(component))]
pub fn derive_lower(input: TokenStream) -> TokenStream {
    output(expand::lower(&parse_macro_input!(input as DeriveInput)))
}

/// Defines a flags type: a `Copy` bit set with one associated constant per
/// flag, `|`, `&`, `!`, `contains`, `insert`, `remove`, and the
/// `ComponentType`, `Lift` and `Lower` impls of a component `flags`.
///
/// ```ignore
/// componentry::flags! {
///     /// File permissions.
///     pub Permissions {
///         const READ;
///         #[component(name = "write-it")]
///         const WRITE;
///     }
/// }
/// ```
///
/// Fails to compile with no flags or more than 32.
#[proc_macro]
pub fn flags(input: TokenStream) -> TokenStream {
    flags::expand(parse_macro_input!(input as flags::Flags)).into()
}

/// Generates typed host bindings for a WIT world: Rust types for its
/// types, a `Host` trait and `add_to_linker` per imported interface, and a
/// world struct whose `call_*` methods call its exports. Use it through
/// `componentry::bindgen!`; see its documentation.
#[proc_macro]
pub fn bindgen(input: TokenStream) -> TokenStream {
    output(bindgen::expand(parse_macro_input!(
        input as bindgen::Options
    )))
}
