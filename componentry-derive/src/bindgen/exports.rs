//! Exports: a `Guest` struct per exported interface and the world struct,
//! both holding `TypedFunc`s resolved (and type-checked) once, when they
//! are made from an instance; `call_*` methods; `Guest{Resource}` views
//! for exported resources.

use super::imports::{method_name, resource_of};
use super::names::{camel, snake};
use super::{Ctx, Gen, IfaceInfo};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use wit_parser::{Function, FunctionKind, InterfaceId, WorldItem, WorldKey};

/// One exported function: its struct field, lookup and `call_*` method.
struct Export {
    field: Ident,
    ty: TokenStream,
    lookup: TokenStream,
    call: TokenStream,
}

impl Gen<'_> {
    /// The typed function of export `f` found by `find` (an expression of
    /// type `Option<Func>` using `store` and `instance`).
    fn export(
        &self,
        ctx: &Ctx,
        f: &Function,
        owner: &str,
        find: TokenStream,
    ) -> syn::Result<Export> {
        let field = match f.kind {
            FunctionKind::Freestanding => snake(&f.name),
            _ => snake(&f.name.replace(['[', ']', '.'], "-")),
        };
        let (ps, ts): (Vec<_>, Vec<_>) = self.params(ctx, f)?.into_iter().unzip();
        // The call takes strings, lists and records by reference.
        let bts = f
            .params
            .iter()
            .map(|p| self.borrowed_ty(ctx, &p.ty))
            .collect::<syn::Result<Vec<_>>>()?;
        let ret = self.result(ctx, f)?;
        let ty = quote!(::componentry::TypedFunc<(#(#ts,)*), #ret>);
        let wit = self.wit_func(f);
        let missing = format!("the component has no export `{owner}{}` ({wit})", f.name);
        let mismatch = format!("export `{owner}{}`: WIT says `{wit}`, but {{}}", f.name);
        let lookup = quote! {
            let #field = match #find {
                ::core::option::Option::Some(f) => f
                    .typed::<(#(#ts,)*), #ret>(&mut store)
                    .map_err(|e| ::componentry::Error::link(
                        ::componentry::__alloc::format!(#mismatch, e.message()),
                    ))?,
                ::core::option::Option::None => {
                    return ::core::result::Result::Err(::componentry::Error::link(#missing));
                }
            };
        };
        let method = match f.kind {
            FunctionKind::Constructor(_) => format_ident!("call_constructor"),
            _ => format_ident!("call_{}", method_name(f)),
        };
        let doc = super::names::doc(&f.docs, format!("Calls `{}: {wit}`.", f.name));
        let call = quote! {
            #doc
            pub fn #method<T: 'static>(
                &self,
                store: impl ::componentry::AsContextMut<Data = T>,
                #(#ps: #bts),*
            ) -> ::componentry::Result<#ret> {
                FIELD.call_as(store, (#(#ps,)*))
            }
        };
        Ok(Export {
            field,
            ty,
            lookup,
            call,
        })
    }

    /// The items of the module of exported interface `id`.
    pub fn export_interface(
        &self,
        ctx: &Ctx,
        id: InterfaceId,
        info: &IfaceInfo,
    ) -> syn::Result<TokenStream> {
        let iface = &self.resolve.interfaces[id];
        let mut out = self.define_types(ctx, iface.types.iter())?;
        let name = &info.name;
        let owner = format!("{name}#");
        let mut fields = Vec::new();
        let mut lookups = Vec::new();
        let mut calls = Vec::new();
        // Resource name → its `call_*` methods.
        let mut resources: Vec<(String, Vec<TokenStream>)> = Vec::new();
        for f in iface.functions.values() {
            let find = {
                let n = &f.name;
                quote! {
                    instance
                        .get_export(&mut store, ::core::option::Option::Some(&iface), #n)
                        .and_then(|i| instance.get_func(&mut store, i))
                }
            };
            let e = self.export(ctx, f, &owner, find)?;
            let field = &e.field;
            match resource_of(f)? {
                None => calls.push(replace_field(e.call, quote!(self.#field))),
                Some(r) => {
                    let r = self.resource_root(r);
                    let rname = self.resolve.types[r].name.clone().unwrap_or_default();
                    let call = replace_field(e.call, quote!(self.guest.#field));
                    match resources.iter_mut().find(|(n, _)| *n == rname) {
                        Some((_, v)) => v.push(call),
                        None => resources.push((rname, vec![call])),
                    }
                }
            }
            fields.push((e.field, e.ty));
            lookups.push(e.lookup);
        }
        let mut accessors = Vec::new();
        for (rname, methods) in &resources {
            let view = format_ident!("Guest{}", camel(rname));
            let acc = snake(rname);
            let d = format!(" The functions of the exported resource `{rname}`, whose handles are `componentry::ResourceAny`.");
            out.extend(quote! {
                #[doc = #d]
                pub struct #view<'a> {
                    guest: &'a Guest,
                }
                impl #view<'_> {
                    #(#methods)*
                }
            });
            let d = format!(" The functions of resource `{rname}`.");
            accessors.push(quote! {
                #[doc = #d]
                pub fn #acc(&self) -> #view<'_> {
                    #view { guest: self }
                }
            });
        }
        let (fnames, ftys): (Vec<_>, Vec<_>) = fields.into_iter().unzip();
        let missing = format!("the component has no export `{name}`");
        let d = format!(" The exported interface `{name}`: its functions, type-checked once.");
        out.extend(quote! {
            #[doc = #d]
            #[derive(Clone)]
            pub struct Guest {
                #(#fnames: #ftys,)*
            }
            impl Guest {
                /// Finds the interface's functions in `instance` and checks
                /// their types against the WIT; a missing or mistyped
                /// function is a link error naming it and both types.
                pub fn new(
                    mut store: impl ::componentry::AsContextMut,
                    instance: &::componentry::Instance,
                ) -> ::componentry::Result<Guest> {
                    let iface = match instance.get_export(&mut store, ::core::option::Option::None, #name) {
                        ::core::option::Option::Some(i) => i,
                        ::core::option::Option::None => {
                            return ::core::result::Result::Err(::componentry::Error::link(#missing));
                        }
                    };
                    #(#lookups)*
                    ::core::result::Result::Ok(Guest { #(#fnames,)* })
                }
                #(#accessors)*
                #(#calls)*
            }
        });
        Ok(out)
    }

    /// The world struct: exported interfaces and functions, `new`,
    /// `instantiate` and `add_to_linker`.
    pub fn world_struct(
        &self,
        ctx: &Ctx,
        imported: &[(&WorldKey, InterfaceId)],
        exported: &[(&WorldKey, InterfaceId)],
    ) -> syn::Result<TokenStream> {
        let w = &self.resolve.worlds[self.world];
        let world = camel(&w.name);
        let mut fields = Vec::new();
        let mut lookups = Vec::new();
        let mut methods = Vec::new();
        for (key, id) in exported {
            let info = &self.exports[id];
            let acc = match key {
                WorldKey::Name(n) => snake(n),
                WorldKey::Interface(_) => {
                    let base = self.resolve.id_of(*id).unwrap_or_default();
                    let base = base.split('@').next().unwrap_or_default();
                    snake(&base.replace([':', '/'], "-"))
                }
            };
            let field = format_ident!("interface_{}", acc.to_string().trim_end_matches('_'));
            let path = self.rel(ctx, &info.path);
            fields.push((field.clone(), quote!(#path Guest)));
            lookups.push(quote!(let #field = #path Guest::new(&mut store, instance)?;));
            let d = format!(" The exported interface `{}`.", info.name);
            methods.push(quote! {
                #[doc = #d]
                pub fn #acc(&self) -> &#path Guest {
                    &self.#field
                }
            });
        }
        for item in w.exports.values() {
            if let WorldItem::Function(f) = item {
                let n = &f.name;
                let find = quote!(instance.get_func(&mut store, #n));
                let e = self.export(ctx, f, "", find)?;
                let field = &e.field;
                methods.push(replace_field(e.call, quote!(self.#field)));
                lookups.push(e.lookup);
                fields.push((e.field, e.ty));
            }
        }
        let (fnames, ftys): (Vec<_>, Vec<_>) = fields.into_iter().unzip();
        let add = self.world_add_to_linker(ctx, imported)?;
        let d = format!(
            " The world `{}`: its exports, found in an instance and type-checked once.",
            w.name
        );
        Ok(quote! {
            #[doc = #d]
            #[derive(Clone)]
            pub struct #world {
                #(#fnames: #ftys,)*
            }
            impl #world {
                /// Instantiates `component` with `linker` and finds the
                /// world's exports in the instance (see [`Self::new`]).
                pub fn instantiate<T: 'static>(
                    mut store: impl ::componentry::AsContextMut<Data = T>,
                    component: &::componentry::Component,
                    linker: &::componentry::Linker<T>,
                ) -> ::componentry::Result<Self> {
                    let instance = linker.instantiate(&mut store, component)?;
                    Self::new(store, &instance)
                }

                /// Finds the world's exports in `instance` and checks their
                /// types against the WIT; a missing or mistyped export is a
                /// link error naming it and both types.
                #[allow(unused_mut, unused_variables)]
                pub fn new(
                    mut store: impl ::componentry::AsContextMut,
                    instance: &::componentry::Instance,
                ) -> ::componentry::Result<Self> {
                    #(#lookups)*
                    ::core::result::Result::Ok(Self { #(#fnames,)* })
                }
                #add
                #(#methods)*
            }
        })
    }

    /// `World::add_to_linker`, adding every imported interface and the
    /// world-level imports.
    fn world_add_to_linker(
        &self,
        ctx: &Ctx,
        imported: &[(&WorldKey, InterfaceId)],
    ) -> syn::Result<TokenStream> {
        let mut bounds = Vec::new();
        let mut calls = Vec::new();
        for (_, id) in imported {
            let info = &self.imports[id];
            let iface = &self.resolve.interfaces[*id];
            if iface.functions.is_empty()
                && !iface.types.values().any(|t| {
                    matches!(
                        self.resolve.types[*t].kind,
                        wit_parser::TypeDefKind::Resource
                    )
                })
            {
                continue;
            }
            let path = match &info.with {
                Some(p) => quote!(#p::),
                None => self.rel(ctx, &info.path),
            };
            bounds.push(quote!(#path Host));
            calls.push(quote!(#path add_to_linker::<T, U>(linker, get)?;));
        }
        if let Some(defs) = self.world_linker_defs(ctx)? {
            let w = &self.resolve.worlds[self.world];
            let tr = format_ident!("{}Imports", camel(&w.name));
            bounds.push(quote!(#tr));
            calls.push(quote! {
                let mut inst = linker.root();
                #defs
            });
        }
        if bounds.is_empty() {
            return Ok(TokenStream::new());
        }
        Ok(quote! {
            /// Defines all of the world's imports in `linker`, implemented
            /// by the host state that `get` returns from the store's data.
            pub fn add_to_linker<T: 'static, U: #(#bounds +)* 'static>(
                linker: &mut ::componentry::Linker<T>,
                get: fn(&mut T) -> &mut U,
            ) -> ::componentry::Result<()> {
                #(#calls)*
                ::core::result::Result::Ok(())
            }
        })
    }
}

/// Replaces the placeholder `FIELD` in `call` with `with`.
fn replace_field(call: TokenStream, with: TokenStream) -> TokenStream {
    call.into_iter()
        .flat_map(|tt| match tt {
            proc_macro2::TokenTree::Ident(i) if i == "FIELD" => with.clone(),
            proc_macro2::TokenTree::Group(g) => {
                let mut ng =
                    proc_macro2::Group::new(g.delimiter(), replace_field(g.stream(), with.clone()));
                ng.set_span(g.span());
                quote!(#ng)
            }
            other => quote!(#other),
        })
        .collect()
}
