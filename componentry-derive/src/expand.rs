//! The three derives. Everything they emit goes through
//! `::componentry::__private`, the helpers the crate's own impls use.

use crate::model::{Member, Shape};
use proc_macro2::TokenStream;
use quote::quote;
use syn::{parse_quote, DeriveInput, Generics, Path, Type};

/// `input`'s generics with `T: bound` added for every field/payload type.
fn bounded(input: &DeriveInput, shape: &Shape, bound: Path) -> Generics {
    let mut g = input.generics.clone();
    let w = g.make_where_clause();
    for ty in shape.types() {
        w.predicates.push(parse_quote!(#ty: #bound));
    }
    g
}

/// `<T as ComponentType>::ITEM` for each type, as a slice expression.
fn consts<'a>(types: impl Iterator<Item = &'a Type>, item: TokenStream) -> Vec<TokenStream> {
    types
        .map(|t| quote!(<#t as ::componentry::ComponentType>::#item))
        .collect()
}

/// The payload types of `cases`, `()` for cases without one.
fn payloads(cases: &[Member]) -> Vec<Type> {
    cases
        .iter()
        .map(|c| c.ty.clone().unwrap_or_else(|| parse_quote!(())))
        .collect()
}

pub fn component_type(input: &DeriveInput) -> syn::Result<TokenStream> {
    let shape = Shape::of(input)?;
    let ident = &input.ident;
    let g = bounded(input, &shape, parse_quote!(::componentry::ComponentType));
    let (imp, ty_generics, where_clause) = g.split_for_impl();
    let p = quote!(::componentry::__private);
    let body = match &shape {
        Shape::Record(fields) => {
            let sizes = consts(shape.types(), quote!(SIZE32));
            let aligns = consts(shape.types(), quote!(ALIGN32));
            let flats = consts(shape.types(), quote!(FLAT));
            let resources = consts(shape.types(), quote!(RESOURCES));
            let checks = fields.iter().map(|f| {
                let (name, ty) = (&f.name, &f.ty);
                quote!((#name, <#ty as ::componentry::ComponentType>::typecheck))
            });
            quote! {
                const SIZE32: u32 = #p::record_size(&[#((#sizes, #aligns)),*]);
                const ALIGN32: u32 = #p::record_align(&[#((#sizes, #aligns)),*]);
                const FLAT: usize = 0 #(+ #flats)*;
                type Core = #p::NotScalar;
                const RESOURCES: usize = 0 #(+ #resources)*;
                fn typecheck(ty: &#p::TypeRef<'_>) -> #p::Result<()> {
                    #p::typecheck_record::<Self>(ty, &[#(#checks),*])
                }
            }
        }
        Shape::Enum(cases) => {
            let n = cases.len();
            let names = cases.iter().map(|c| &c.name);
            quote! {
                const SIZE32: u32 = #p::variant_size(#n, 0, 1);
                const ALIGN32: u32 = #p::variant_align(#n, 1);
                const FLAT: usize = 1;
                type Core = #p::NotScalar;
                fn typecheck(ty: &#p::TypeRef<'_>) -> #p::Result<()> {
                    #p::typecheck_enum::<Self>(ty, &[#(#names),*])
                }
            }
        }
        Shape::Variant(cases) => {
            let n = cases.len();
            let tys = payloads(cases);
            let sizes = consts(tys.iter(), quote!(SIZE32));
            let aligns = consts(tys.iter(), quote!(ALIGN32));
            let flats = consts(tys.iter(), quote!(FLAT));
            let resources = consts(tys.iter(), quote!(RESOURCES));
            let checks = cases.iter().zip(&tys).map(|(c, ty)| {
                let name = &c.name;
                quote!((#name, <#ty as ::componentry::ComponentType>::typecheck_payload))
            });
            quote! {
                const SIZE32: u32 = #p::variant_size(
                    #n,
                    #p::max_size(&[#(#sizes),*]),
                    #p::max_align(&[#(#aligns),*]),
                );
                const ALIGN32: u32 = #p::variant_align(#n, #p::max_align(&[#(#aligns),*]));
                const FLAT: usize = 1 + #p::max_size(&[#(#flats as u32),*]) as usize;
                type Core = #p::NotScalar;
                const RESOURCES: usize = 0 #(+ #resources)*;
                fn typecheck(ty: &#p::TypeRef<'_>) -> #p::Result<()> {
                    #p::typecheck_variant::<Self>(ty, &[#(#checks),*])
                }
            }
        }
    };
    Ok(quote! {
        impl #imp ::componentry::ComponentType for #ident #ty_generics #where_clause {
            #body
        }
    })
}

/// `variant_payload_offset` of a variant's cases, as a const expression.
fn payload_offset(cases: &[Member]) -> TokenStream {
    let n = cases.len();
    let aligns = consts(payloads(cases).iter(), quote!(ALIGN32));
    quote!(::componentry::__private::variant_payload_offset(
        #n,
        ::componentry::__private::max_align(&[#(#aligns),*])
    ))
}

/// For each case, the handle positions of the cases before it (the
/// cursor offset of its payload's), as a const expression.
fn resources_before(cases: &[Member]) -> Vec<TokenStream> {
    let counts = consts(payloads(cases).iter(), quote!(RESOURCES));
    (0..cases.len())
        .map(|k| {
            let before = &counts[..k];
            quote!(0usize #(+ #before)*)
        })
        .collect()
}

pub fn lower(input: &DeriveInput) -> syn::Result<TokenStream> {
    let shape = Shape::of(input)?;
    let ident = &input.ident;
    let g = bounded(input, &shape, parse_quote!(::componentry::Lower));
    let (imp, ty_generics, where_clause) = g.split_for_impl();
    let p = quote!(::componentry::__private);
    let body = match &shape {
        Shape::Record(fields) => {
            let idents: Vec<_> = fields.iter().map(|f| &f.ident).collect();
            quote! {
                fn lower_flat(
                    &self,
                    cx: &mut #p::LowerContext<'_>,
                    dst: &mut [u64],
                ) -> #p::Result<()> {
                    let mut pos = 0usize;
                    #(#p::lower_field(&self.#idents, cx, dst, &mut pos)?;)*
                    #p::Ok(())
                }
                fn store(&self, cx: &mut #p::LowerContext<'_>, ptr: u32) -> #p::Result<()> {
                    let mut off = 0u32;
                    #(#p::store_field(&self.#idents, cx, ptr, &mut off)?;)*
                    #p::Ok(())
                }
            }
        }
        Shape::Enum(cases) | Shape::Variant(cases) => {
            let n = cases.len();
            let offset = payload_offset(cases);
            let mut flat_arms = Vec::new();
            let mut store_arms = Vec::new();
            let before = resources_before(cases);
            for (k, c) in cases.iter().enumerate() {
                let (v, b, k) = (&c.ident, &before[k], k as u32);
                if c.ty.is_some() {
                    flat_arms.push(quote!(Self::#v(x) => {
                        cx.seek_resource(base + #b);
                        #p::lower_case(cx, dst, #k, #p::Some(x))
                    }));
                    store_arms.push(quote!(Self::#v(x) => {
                        cx.seek_resource(base + #b);
                        #p::store_case(cx, ptr, #n, off, #k, #p::Some(x))
                    }));
                } else {
                    flat_arms.push(quote!(Self::#v => #p::lower_case::<()>(cx, dst, #k, #p::None)));
                    store_arms.push(
                        quote!(Self::#v => #p::store_case::<()>(cx, ptr, #n, off, #k, #p::None)),
                    );
                }
            }
            quote! {
                fn lower_flat(
                    &self,
                    cx: &mut #p::LowerContext<'_>,
                    dst: &mut [u64],
                ) -> #p::Result<()> {
                    let base = cx.resource_cursor();
                    match self { #(#flat_arms,)* }?;
                    cx.seek_resource(base + <Self as ::componentry::ComponentType>::RESOURCES);
                    #p::Ok(())
                }
                fn store(&self, cx: &mut #p::LowerContext<'_>, ptr: u32) -> #p::Result<()> {
                    let off = #offset;
                    let base = cx.resource_cursor();
                    match self { #(#store_arms,)* }?;
                    cx.seek_resource(base + <Self as ::componentry::ComponentType>::RESOURCES);
                    #p::Ok(())
                }
            }
        }
    };
    Ok(quote! {
        impl #imp ::componentry::Lower for #ident #ty_generics #where_clause {
            #body
        }
    })
}

pub fn lift(input: &DeriveInput) -> syn::Result<TokenStream> {
    let shape = Shape::of(input)?;
    let ident = &input.ident;
    let g = bounded(input, &shape, parse_quote!(::componentry::Lift));
    let (imp, ty_generics, where_clause) = g.split_for_impl();
    let p = quote!(::componentry::__private);
    let body = match &shape {
        Shape::Record(fields) => {
            let idents: Vec<_> = fields.iter().map(|f| &f.ident).collect();
            let tys: Vec<_> = fields.iter().map(|f| &f.ty).collect();
            quote! {
                fn lift_flat(cx: &mut #p::LiftContext<'_>, src: &[u64]) -> #p::Result<Self> {
                    let mut pos = 0usize;
                    #p::Ok(Self {
                        #(#idents: #p::lift_field::<#tys>(cx, src, &mut pos)?,)*
                    })
                }
                fn load(cx: &mut #p::LiftContext<'_>, bytes: &[u8]) -> #p::Result<Self> {
                    let mut off = 0u32;
                    #p::Ok(Self {
                        #(#idents: #p::load_field::<#tys>(cx, bytes, &mut off)?,)*
                    })
                }
            }
        }
        Shape::Enum(cases) | Shape::Variant(cases) => {
            let n = cases.len();
            let offset = payload_offset(cases);
            let before = resources_before(cases);
            let arms = |flat: bool| -> Vec<TokenStream> {
                cases
                    .iter()
                    .enumerate()
                    .map(|(k, c)| {
                        let (v, b, k) = (&c.ident, &before[k], k as u32);
                        match (&c.ty, flat) {
                            (Some(t), true) => quote!(#k => {
                                cx.seek_resource(base + #b);
                                Self::#v(#p::lift_payload::<#t>(cx, src)?)
                            }),
                            (Some(t), false) => quote!(#k => {
                                cx.seek_resource(base + #b);
                                Self::#v(#p::load_payload::<#t>(cx, bytes, #offset)?)
                            }),
                            (None, _) => quote!(#k => Self::#v),
                        }
                    })
                    .collect()
            };
            let flat_arms = arms(true);
            let load_arms = arms(false);
            quote! {
                fn lift_flat(cx: &mut #p::LiftContext<'_>, src: &[u64]) -> #p::Result<Self> {
                    let disc = #p::lift_discriminant(src, #n)?;
                    let base = cx.resource_cursor();
                    let v = match disc {
                        #(#flat_arms,)*
                        d => return #p::Err(#p::bad_discriminant(d, #n)),
                    };
                    cx.seek_resource(base + <Self as ::componentry::ComponentType>::RESOURCES);
                    #p::Ok(v)
                }
                fn load(cx: &mut #p::LiftContext<'_>, bytes: &[u8]) -> #p::Result<Self> {
                    let disc = #p::load_discriminant(bytes, #n)?;
                    let base = cx.resource_cursor();
                    let v = match disc {
                        #(#load_arms,)*
                        d => return #p::Err(#p::bad_discriminant(d, #n)),
                    };
                    cx.seek_resource(base + <Self as ::componentry::ComponentType>::RESOURCES);
                    #p::Ok(v)
                }
            }
        }
    };
    Ok(quote! {
        impl #imp ::componentry::Lift for #ident #ty_generics #where_clause {
            #body
        }
    })
}
