//! `flags!`: a bit-set type standing for a component `flags` type.

use crate::names::component_name;
use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{braced, Attribute, Ident, Token, Visibility};

pub struct Flags {
    attrs: Vec<Attribute>,
    vis: Visibility,
    ident: Ident,
    flags: Vec<Flag>,
}

struct Flag {
    attrs: Vec<Attribute>,
    ident: Ident,
    name: String,
}

impl Parse for Flags {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let ident = input.parse()?;
        let body;
        braced!(body in input);
        let mut flags = Vec::new();
        while !body.is_empty() {
            let attrs = body.call(Attribute::parse_outer)?;
            body.parse::<Token![const]>()?;
            let ident: Ident = body.parse()?;
            body.parse::<Token![;]>()?;
            let name = component_name(&ident.to_string(), &attrs)?;
            let attrs = attrs
                .into_iter()
                .filter(|a| !a.path().is_ident("component"))
                .collect();
            flags.push(Flag { attrs, ident, name });
        }
        if flags.is_empty() || flags.len() > 32 {
            return Err(syn::Error::new_spanned(
                &ident,
                "component flags have between 1 and 32 flags",
            ));
        }
        Ok(Flags {
            attrs,
            vis,
            ident,
            flags,
        })
    }
}

pub fn expand(f: Flags) -> TokenStream {
    let Flags {
        attrs,
        vis,
        ident,
        flags,
    } = f;
    let p = quote!(::componentry::__private);
    let n = flags.len();
    let consts = flags.iter().enumerate().map(|(k, fl)| {
        let (attrs, id, bit) = (&fl.attrs, &fl.ident, 1u32 << k);
        let doc = format!("The flag `{}`.", fl.name);
        if attrs.iter().any(|a| a.path().is_ident("doc")) {
            quote!(#(#attrs)* pub const #id: Self = Self { bits: #bit };)
        } else {
            quote!(#(#attrs)* #[doc = #doc] pub const #id: Self = Self { bits: #bit };)
        }
    });
    let names: Vec<_> = flags.iter().map(|fl| &fl.name).collect();
    let idents: Vec<_> = flags.iter().map(|fl| fl.ident.to_string()).collect();
    let all: u32 = if n == 32 { u32::MAX } else { (1u32 << n) - 1 };
    quote! {
        #(#attrs)*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        #vis struct #ident {
            bits: u32,
        }

        #[allow(dead_code)]
        impl #ident {
            #(#consts)*

            /// No flags set.
            pub const fn empty() -> Self {
                Self { bits: 0 }
            }

            /// Every flag set.
            pub const fn all() -> Self {
                Self { bits: #all }
            }

            /// The flags as bits, flag `k` (in declaration order) as `1 << k`.
            pub const fn bits(&self) -> u32 {
                self.bits
            }

            /// The flags of `bits`, ignoring bits of no flag.
            pub const fn from_bits_truncate(bits: u32) -> Self {
                Self { bits: bits & #all }
            }

            /// True if no flag is set.
            pub const fn is_empty(&self) -> bool {
                self.bits == 0
            }

            /// True if every flag of `other` is set in `self`.
            pub const fn contains(&self, other: Self) -> bool {
                self.bits & other.bits == other.bits
            }

            /// Sets the flags of `other`.
            pub fn insert(&mut self, other: Self) {
                self.bits |= other.bits;
            }

            /// Clears the flags of `other`.
            pub fn remove(&mut self, other: Self) {
                self.bits &= !other.bits;
            }
        }

        impl ::core::ops::BitOr for #ident {
            type Output = Self;
            fn bitor(self, rhs: Self) -> Self {
                Self { bits: self.bits | rhs.bits }
            }
        }

        impl ::core::ops::BitAnd for #ident {
            type Output = Self;
            fn bitand(self, rhs: Self) -> Self {
                Self { bits: self.bits & rhs.bits }
            }
        }

        impl ::core::ops::BitOrAssign for #ident {
            fn bitor_assign(&mut self, rhs: Self) {
                self.bits |= rhs.bits;
            }
        }

        impl ::core::ops::Not for #ident {
            type Output = Self;
            fn not(self) -> Self {
                Self { bits: !self.bits & #all }
            }
        }

        impl ::core::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let names: &[&str] = &[#(#idents),*];
                f.write_str(::core::stringify!(#ident))?;
                f.write_str("(")?;
                let mut first = true;
                for (k, name) in names.iter().enumerate() {
                    if self.bits & (1 << k) != 0 {
                        if !first {
                            f.write_str(" | ")?;
                        }
                        first = false;
                        f.write_str(name)?;
                    }
                }
                f.write_str(")")
            }
        }

        impl ::componentry::ComponentType for #ident {
            const SIZE32: u32 = #p::flags_size(#n);
            const ALIGN32: u32 = #p::flags_size(#n);
            const FLAT: usize = 1;
            type Core = #p::NotScalar;
            fn typecheck(ty: &#p::TypeRef<'_>) -> #p::Result<()> {
                #p::typecheck_flags::<Self>(ty, &[#(#names),*])
            }
        }

        impl ::componentry::Lower for #ident {
            fn lower_flat(
                &self,
                _: &mut #p::LowerContext<'_>,
                dst: &mut [u64],
            ) -> #p::Result<()> {
                #p::lower_flags(dst, self.bits)
            }
            fn store(&self, cx: &mut #p::LowerContext<'_>, ptr: u32) -> #p::Result<()> {
                #p::write_flags(cx, ptr, #n, self.bits)
            }
        }

        impl ::componentry::Lift for #ident {
            fn lift_flat(_: &mut #p::LiftContext<'_>, src: &[u64]) -> #p::Result<Self> {
                #p::lift_flags(src, #n).map(|bits| Self { bits })
            }
            fn load(_: &mut #p::LiftContext<'_>, bytes: &[u8]) -> #p::Result<Self> {
                #p::load_flags(bytes, #n).map(|bits| Self { bits })
            }
        }
    }
}
