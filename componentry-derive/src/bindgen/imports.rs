//! Imports: a `Host` trait per interface (and `{World}Imports` for
//! world-level functions), a `Host{Resource}` trait per imported resource,
//! and `add_to_linker`, which defines them in a `Linker` with
//! `func_wrap` and `resource`.

use super::names::{camel, doc, snake};
use super::{Ctx, Gen, IfaceInfo};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use wit_parser::{Function, FunctionKind, InterfaceId, TypeDefKind, TypeId, WorldItem, WorldKey};

/// An imported resource: its WIT name, type and functions.
pub struct HostResource<'r> {
    pub name: String,
    pub id: TypeId,
    pub funcs: Vec<&'r Function>,
}

impl Gen<'_> {
    /// The items of the module of imported interface `id`.
    pub fn import_interface(
        &self,
        ctx: &Ctx,
        id: InterfaceId,
        info: &IfaceInfo,
    ) -> syn::Result<TokenStream> {
        let iface = &self.resolve.interfaces[id];
        let mut out = self.define_types(ctx, iface.types.iter())?;
        let (free, resources) = self.split(ctx, iface.types.iter(), iface.functions.values())?;
        if free.is_empty() && resources.is_empty() {
            return Ok(out);
        }
        let host = format_ident!("Host");
        let doc = format!(
            " The host's implementation of the imported interface `{}`: one method per function.",
            info.name
        );
        out.extend(self.host_traits(ctx, &host, &doc, &free, &resources)?);
        let defs = self.linker_defs(ctx, &free, &resources, &host)?;
        let name = &info.name;
        out.extend(quote! {
            /// Defines this interface's functions and resource types in
            /// `linker`, implemented by the [`Host`] that `get` returns from
            /// the store's data.
            pub fn add_to_linker<T: 'static, U: Host + 'static>(
                linker: &mut ::componentry::Linker<T>,
                get: fn(&mut T) -> &mut U,
            ) -> ::componentry::Result<()> {
                let mut inst = linker.instance(#name)?;
                #defs
                ::core::result::Result::Ok(())
            }
        });
        Ok(out)
    }

    /// World-level imports: `Host{Resource}` traits and `{World}Imports`.
    pub fn world_imports(&self, ctx: &Ctx) -> syn::Result<TokenStream> {
        let (free, resources) = self.world_import_items(ctx)?;
        if free.is_empty() && resources.is_empty() {
            return Ok(TokenStream::new());
        }
        let w = &self.resolve.worlds[self.world];
        let name = format_ident!("{}Imports", camel(&w.name));
        let doc = format!(
            " The host's implementation of the world-level imports of `{}`.",
            w.name
        );
        self.host_traits(ctx, &name, &doc, &free, &resources)
    }

    /// World-level imported functions and resources.
    pub fn world_import_items(
        &self,
        ctx: &Ctx,
    ) -> syn::Result<(Vec<&Function>, Vec<HostResource<'_>>)> {
        let w = &self.resolve.worlds[self.world];
        let mut types = Vec::new();
        let mut funcs = Vec::new();
        for (k, item) in &w.imports {
            match (k, item) {
                (WorldKey::Name(n), WorldItem::Type { id, .. }) => types.push((n, id)),
                (_, WorldItem::Function(f)) => funcs.push(f),
                _ => {}
            }
        }
        self.split(ctx, types.into_iter(), funcs.into_iter())
    }

    /// The statements of a world's `add_to_linker` for its world-level
    /// imports (with `inst` the linker's root).
    pub fn world_linker_defs(&self, ctx: &Ctx) -> syn::Result<Option<TokenStream>> {
        let (free, resources) = self.world_import_items(ctx)?;
        if free.is_empty() && resources.is_empty() {
            return Ok(None);
        }
        let w = &self.resolve.worlds[self.world];
        let host = format_ident!("{}Imports", camel(&w.name));
        self.linker_defs(ctx, &free, &resources, &host).map(Some)
    }

    /// Freestanding functions, and resources defined by `types` with their
    /// functions.
    fn split<'f>(
        &self,
        _ctx: &Ctx,
        types: impl Iterator<Item = (&'f String, &'f TypeId)>,
        funcs: impl Iterator<Item = &'f Function>,
    ) -> syn::Result<(Vec<&'f Function>, Vec<HostResource<'f>>)> {
        let mut resources: Vec<HostResource<'f>> = types
            .filter(|(_, id)| matches!(self.resolve.types[**id].kind, TypeDefKind::Resource))
            .map(|(n, id)| HostResource {
                name: n.clone(),
                id: *id,
                funcs: Vec::new(),
            })
            .collect();
        let mut free = Vec::new();
        for f in funcs {
            match resource_of(f)? {
                None => free.push(f),
                Some(r) => {
                    let r = self.resource_root(r);
                    match resources.iter_mut().find(|h| h.id == r) {
                        Some(h) => h.funcs.push(f),
                        None => {
                            return Err(self.err(format!(
                                "function `{}` belongs to a resource defined elsewhere",
                                f.name
                            )))
                        }
                    }
                }
            }
        }
        Ok((free, resources))
    }

    /// `fn name(&mut self, params) -> result;` for an imported function.
    fn host_method(&self, ctx: &Ctx, f: &Function) -> syn::Result<TokenStream> {
        let name = method_name(f);
        let params = self.params(ctx, f)?;
        let (ps, ts): (Vec<_>, Vec<_>) = params.into_iter().unzip();
        let mut ret = self.result(ctx, f)?;
        if self.trappable(f) {
            ret = quote!(::componentry::Result<#ret>);
        }
        let d = doc(&f.docs, format!("WIT `{}: {}`.", f.name, self.wit_func(f)));
        Ok(quote!(#d fn #name(&mut self, #(#ps: #ts),*) -> #ret;))
    }

    /// A `Host{Resource}` trait per resource, and trait `name` over the
    /// freestanding functions (with the resource traits as supertraits).
    fn host_traits(
        &self,
        ctx: &Ctx,
        name: &Ident,
        trait_doc: &str,
        free: &[&Function],
        resources: &[HostResource<'_>],
    ) -> syn::Result<TokenStream> {
        let mut out = TokenStream::new();
        let mut supers = Vec::new();
        for r in resources {
            let tr = format_ident!("Host{}", camel(&r.name));
            let marker = self.named_path(ctx, r.id)?;
            let methods = r
                .funcs
                .iter()
                .map(|f| self.host_method(ctx, f))
                .collect::<syn::Result<Vec<_>>>()?;
            let d = format!(
                " The host's implementation of resource `{}`: constructor, methods, static functions and destructor.",
                r.name
            );
            out.extend(quote! {
                #[doc = #d]
                pub trait #tr {
                    #(#methods)*
                    /// Called when a guest drops its last owned handle to the resource.
                    fn drop(&mut self, rep: ::componentry::Resource<#marker>) -> ::componentry::Result<()>;
                }
            });
            supers.push(tr);
        }
        let methods = free
            .iter()
            .map(|f| self.host_method(ctx, f))
            .collect::<syn::Result<Vec<_>>>()?;
        out.extend(quote! {
            #[doc = #trait_doc]
            pub trait #name: #(#supers +)* {
                #(#methods)*
            }
        });
        Ok(out)
    }

    /// `inst.resource(...)` and `inst.func_wrap(...)` statements calling
    /// `U`'s trait methods through `get`.
    fn linker_defs(
        &self,
        ctx: &Ctx,
        free: &[&Function],
        resources: &[HostResource<'_>],
        host: &Ident,
    ) -> syn::Result<TokenStream> {
        let mut out = TokenStream::new();
        for r in resources {
            let tr = format_ident!("Host{}", camel(&r.name));
            let marker = self.named_path(ctx, r.id)?;
            let name = &r.name;
            out.extend(quote! {
                inst.resource(
                    #name,
                    ::componentry::ResourceType::host::<#marker>(),
                    move |mut cx: ::componentry::StoreContextMut<'_, T>, rep: u32| {
                        <U as #tr>::drop(get(cx.data_mut()), ::componentry::Resource::new_own(rep))
                    },
                )?;
            });
            for f in &r.funcs {
                out.extend(self.wrap(ctx, f, &tr)?);
            }
        }
        for f in free {
            out.extend(self.wrap(ctx, f, host)?);
        }
        Ok(out)
    }

    /// `inst.func_wrap(name, closure calling <U as tr>::method)`.
    fn wrap(&self, ctx: &Ctx, f: &Function, tr: &Ident) -> syn::Result<TokenStream> {
        let name = &f.name;
        let method = method_name(f);
        let (ps, ts): (Vec<_>, Vec<_>) = self.params(ctx, f)?.into_iter().unzip();
        let call = quote!(<U as #tr>::#method(get(cx.data_mut()) #(, #ps)*));
        let body = if self.trappable(f) {
            call
        } else {
            quote!(::core::result::Result::Ok(#call))
        };
        Ok(quote! {
            inst.func_wrap(
                #name,
                move |mut cx: ::componentry::StoreContextMut<'_, T>, (#(#ps,)*): (#(#ts,)*)| #body,
            )?;
        })
    }

    /// The parameters of `f`: Rust names and types.
    pub fn params(&self, ctx: &Ctx, f: &Function) -> syn::Result<Vec<(Ident, TokenStream)>> {
        if f.params.len() > 16 {
            return Err(self.err(format!(
                "function `{}` has {} parameters; at most 16 are supported",
                f.name,
                f.params.len()
            )));
        }
        f.params
            .iter()
            .map(|p| {
                let n = if p.name == "self" {
                    format_ident!("self_")
                } else {
                    snake(&p.name)
                };
                Ok((n, self.ty(ctx, &p.ty)?))
            })
            .collect()
    }

    /// The result type of `f`, `()` for none.
    pub fn result(&self, ctx: &Ctx, f: &Function) -> syn::Result<TokenStream> {
        match &f.result {
            Some(t) => self.ty(ctx, t),
            None => Ok(quote!(())),
        }
    }
}

/// The resource a function belongs to. An `async` function is bound as a
/// sync one: a call from the host waits for the task, and a host function
/// answers at once.
pub fn resource_of(f: &Function) -> syn::Result<Option<TypeId>> {
    match f.kind {
        FunctionKind::Freestanding | FunctionKind::AsyncFreestanding => Ok(None),
        FunctionKind::Constructor(r)
        | FunctionKind::Method(r)
        | FunctionKind::Static(r)
        | FunctionKind::AsyncMethod(r)
        | FunctionKind::AsyncStatic(r) => Ok(Some(r)),
        _ => Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            format!(
                "function `{}`: getters and setters are not supported",
                f.name
            ),
        )),
    }
}

/// The Rust method name of `f`: `new` for constructors, the item name for
/// methods and static functions.
pub fn method_name(f: &Function) -> Ident {
    match f.kind {
        FunctionKind::Constructor(_) => format_ident!("new"),
        _ => snake(f.item_name()),
    }
}
