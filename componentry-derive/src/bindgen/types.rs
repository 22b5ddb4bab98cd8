//! WIT types as Rust types: references to types (`ty`) and definitions of
//! named types (`define`), plus WIT text for error messages.

use super::names::{camel, doc, shouty, snake};
use super::{Ctx, Gen, Side};
use proc_macro2::TokenStream;
use quote::quote;
use wit_parser::{Handle, Type, TypeDefKind, TypeId, TypeOwner};

impl Gen<'_> {
    /// The Rust type of `t`, as seen from `ctx`.
    pub fn ty(&self, ctx: &Ctx, t: &Type) -> syn::Result<TokenStream> {
        Ok(match t {
            Type::Bool => quote!(bool),
            Type::U8 => quote!(u8),
            Type::U16 => quote!(u16),
            Type::U32 => quote!(u32),
            Type::U64 => quote!(u64),
            Type::S8 => quote!(i8),
            Type::S16 => quote!(i16),
            Type::S32 => quote!(i32),
            Type::S64 => quote!(i64),
            Type::F32 => quote!(f32),
            Type::F64 => quote!(f64),
            Type::Char => quote!(char),
            Type::String => quote!(::componentry::__alloc::string::String),
            Type::ErrorContext => return Err(self.err("`error-context` is not supported")),
            Type::Id(id) => {
                if self.resolve.types[*id].name.is_some() {
                    self.named_path(ctx, *id)?
                } else {
                    self.structural(ctx, &self.resolve.types[*id].kind)?
                }
            }
        })
    }

    /// The Rust type of a parameter of an exported function's `call_*`:
    /// `&str` for strings, `&[T]` for lists, `&T` for other types holding
    /// strings or lists; the owned type otherwise.
    pub fn borrowed_ty(&self, ctx: &Ctx, t: &Type) -> syn::Result<TokenStream> {
        if let Type::String = t {
            return Ok(quote!(&str));
        }
        if let Type::Id(id) = t {
            let def = &self.resolve.types[*id];
            if let (None, TypeDefKind::List(e)) = (&def.name, &def.kind) {
                let e = self.ty(ctx, e)?;
                return Ok(quote!(&[#e]));
            }
            // Through aliases (`use`) to the definition.
            let kind = &self.resolve.types[self.resource_root(*id)].kind;
            let borrow = def.name.is_some()
                && matches!(
                    kind,
                    TypeDefKind::Record(_) | TypeDefKind::Variant(_) | TypeDefKind::List(_)
                );
            if borrow && !self.is_copy(t, 0) {
                let t = self.ty(ctx, t)?;
                return Ok(quote!(&#t));
            }
        }
        self.ty(ctx, t)
    }

    /// The Rust type of an anonymous type (or of a named alias's target).
    fn structural(&self, ctx: &Ctx, kind: &TypeDefKind) -> syn::Result<TokenStream> {
        let opt = |t: &Option<Type>| -> syn::Result<TokenStream> {
            match t {
                Some(t) => self.ty(ctx, t),
                None => Ok(quote!(())),
            }
        };
        Ok(match kind {
            TypeDefKind::List(t) => {
                let t = self.ty(ctx, t)?;
                quote!(::componentry::__alloc::vec::Vec<#t>)
            }
            TypeDefKind::Option(t) => {
                let t = self.ty(ctx, t)?;
                quote!(::core::option::Option<#t>)
            }
            TypeDefKind::Result(r) => {
                let (ok, err) = (opt(&r.ok)?, opt(&r.err)?);
                quote!(::core::result::Result<#ok, #err>)
            }
            TypeDefKind::Tuple(t) => {
                if t.types.len() > 16 {
                    return Err(self.err("tuples of more than 16 types are not supported"));
                }
                let ts = t
                    .types
                    .iter()
                    .map(|t| self.ty(ctx, t))
                    .collect::<syn::Result<Vec<_>>>()?;
                quote!((#(#ts,)*))
            }
            TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => self.handle(ctx, *r)?,
            TypeDefKind::Type(t) => self.ty(ctx, t)?,
            other => {
                return Err(self.err(format!(
                    "WIT {} types are not supported (Component Model 0.2 only)",
                    other.as_str()
                )))
            }
        })
    }

    /// `Resource<R>` for a resource the host defines (an import),
    /// `ResourceAny` for one a guest defines (an export).
    fn handle(&self, ctx: &Ctx, r: TypeId) -> syn::Result<TokenStream> {
        let r = self.resource_root(r);
        let host = match self.resolve.types[r].owner {
            TypeOwner::Interface(i) => {
                !(ctx.side == Side::Export && self.exports.contains_key(&i))
                    && self.imports.contains_key(&i)
            }
            _ => true,
        };
        if host {
            let p = self.named_path(ctx, r)?;
            Ok(quote!(::componentry::Resource<#p>))
        } else {
            Ok(quote!(::componentry::ResourceAny))
        }
    }

    /// The definition an alias chain (`use`, `type a = b`) ends at.
    pub fn resource_root(&self, mut r: TypeId) -> TypeId {
        for _ in 0..64 {
            match self.resolve.types[r].kind {
                TypeDefKind::Type(Type::Id(next)) => r = next,
                _ => break,
            }
        }
        r
    }

    /// The path to named type `id` from `ctx`, or its `with` mapping.
    pub fn named_path(&self, ctx: &Ctx, id: TypeId) -> syn::Result<TokenStream> {
        let def = &self.resolve.types[id];
        let name = def.name.as_deref().unwrap_or_default();
        if let Some(p) = self.with_type(id) {
            return Ok(quote!(#p));
        }
        let ident = camel(name);
        match def.owner {
            TypeOwner::World(_) | TypeOwner::None => {
                let base = self.rel(ctx, &[]);
                Ok(quote!(#base #ident))
            }
            TypeOwner::Interface(i) => {
                let info = match (ctx.side, self.exports.get(&i), self.imports.get(&i)) {
                    (Side::Export, Some(e), _) => e,
                    (_, _, Some(im)) => im,
                    (_, Some(e), None) => e,
                    (_, None, None) => {
                        return Err(self.err(format!(
                            "type `{name}` belongs to an interface the world neither imports nor exports"
                        )))
                    }
                };
                if let Some(p) = &info.with {
                    return Ok(quote!(#p::#ident));
                }
                let base = self.rel(ctx, &info.path);
                Ok(quote!(#base #ident))
            }
        }
    }

    /// Definitions of the named types `types` in a module seen as `ctx`.
    pub fn define_types<'b>(
        &self,
        ctx: &Ctx,
        types: impl Iterator<Item = (&'b String, &'b TypeId)>,
    ) -> syn::Result<TokenStream> {
        let mut out = TokenStream::new();
        for (name, id) in types {
            if self.with_type(*id).is_some() {
                continue;
            }
            out.extend(self.define(ctx, name, *id)?);
        }
        Ok(out)
    }

    fn define(&self, ctx: &Ctx, name: &str, id: TypeId) -> syn::Result<TokenStream> {
        let def = &self.resolve.types[id];
        let ident = camel(name);
        let p = quote!(::componentry);
        // `additional_derives` less the ones a kind of type always has.
        let extra = |always: &[&str]| -> Vec<&syn::Path> {
            self.opts
                .additional_derives
                .iter()
                .filter(|p| {
                    !p.segments
                        .last()
                        .is_some_and(|s| always.iter().any(|a| s.ident == a))
                })
                .collect()
        };
        let docs = doc(&def.docs, format!("WIT `{name}`."));
        Ok(match &def.kind {
            TypeDefKind::Record(r) => {
                if r.fields.is_empty() {
                    return Err(self.err(format!("record `{name}` has no fields")));
                }
                let copy = r.fields.iter().all(|f| self.is_copy(&f.ty, 0));
                let (derives, copy) = copy_derives(copy, &extra);
                let fields = r
                    .fields
                    .iter()
                    .map(|f| {
                        let (fi, wit) = (snake(&f.name), &f.name);
                        let t = self.ty(ctx, &f.ty)?;
                        let d = doc(&f.docs, format!("WIT field `{wit}`."));
                        Ok(quote!(#d #[component(name = #wit)] pub #fi: #t))
                    })
                    .collect::<syn::Result<Vec<_>>>()?;
                quote! {
                    #docs
                    #[derive(#p::ComponentType, #p::Lift, #p::Lower, Clone, #copy Debug #(, #derives)*)]
                    pub struct #ident { #(#fields,)* }
                }
            }
            TypeDefKind::Variant(v) => {
                let copy = v
                    .cases
                    .iter()
                    .filter_map(|c| c.ty.as_ref())
                    .all(|t| self.is_copy(t, 0));
                let (derives, copy) = copy_derives(copy, &extra);
                let cases = v
                    .cases
                    .iter()
                    .map(|c| {
                        let (ci, wit) = (camel(&c.name), &c.name);
                        let d = doc(&c.docs, format!("WIT case `{wit}`."));
                        let payload = match &c.ty {
                            Some(t) => {
                                let t = self.ty(ctx, t)?;
                                quote!((#t))
                            }
                            None => quote!(),
                        };
                        Ok(quote!(#d #[component(name = #wit)] #ci #payload))
                    })
                    .collect::<syn::Result<Vec<_>>>()?;
                quote! {
                    #docs
                    #[derive(#p::ComponentType, #p::Lift, #p::Lower, Clone, #copy Debug #(, #derives)*)]
                    pub enum #ident { #(#cases,)* }
                }
            }
            TypeDefKind::Enum(e) => {
                let derives = extra(&["Clone", "Copy", "Debug", "PartialEq", "Eq"]);
                let cases = e.cases.iter().map(|c| {
                    let (ci, wit) = (camel(&c.name), &c.name);
                    let d = doc(&c.docs, format!("WIT case `{wit}`."));
                    quote!(#d #[component(name = #wit)] #ci)
                });
                quote! {
                    #docs
                    #[derive(#p::ComponentType, #p::Lift, #p::Lower, Clone, Copy, Debug, PartialEq, Eq #(, #derives)*)]
                    pub enum #ident { #(#cases,)* }
                }
            }
            TypeDefKind::Flags(f) => {
                if f.flags.len() > 32 {
                    return Err(self.err(format!(
                        "flags `{name}` has {} flags; at most 32 are supported",
                        f.flags.len()
                    )));
                }
                let flags = f.flags.iter().map(|fl| {
                    let (fi, wit) = (shouty(&fl.name), &fl.name);
                    let d = doc(&fl.docs, format!("WIT flag `{wit}`."));
                    quote!(#d #[component(name = #wit)] const #fi;)
                });
                quote! {
                    #p::flags! { #docs pub #ident { #(#flags)* } }
                }
            }
            TypeDefKind::Resource => match ctx.side {
                Side::Import => quote! {
                    #docs
                    ///
                    /// A host resource type: handles are `componentry::Resource<Self>`.
                    pub enum #ident {}
                },
                Side::Export => quote! {
                    #docs
                    ///
                    /// A guest resource type: handles are `componentry::ResourceAny`.
                    pub type #ident = #p::ResourceAny;
                },
            },
            kind => {
                let t = self.structural(ctx, kind)?;
                quote!(#docs pub type #ident = #t;)
            }
        })
    }

    /// Whether `t` holds no string, list or `with`-mapped type (so its
    /// Rust type is `Copy`).
    fn is_copy(&self, t: &Type, depth: u32) -> bool {
        let Type::Id(id) = t else {
            return !matches!(t, Type::String);
        };
        // A type of the user's (`with`) may not be `Copy`.
        if depth > 100 || self.with_type(*id).is_some() {
            return false;
        }
        let all = |ts: &mut dyn Iterator<Item = &Type>| {
            let mut ok = true;
            for t in ts {
                ok &= self.is_copy(t, depth + 1);
            }
            ok
        };
        match &self.resolve.types[*id].kind {
            TypeDefKind::Record(r) => all(&mut r.fields.iter().map(|f| &f.ty)),
            TypeDefKind::Variant(v) => all(&mut v.cases.iter().filter_map(|c| c.ty.as_ref())),
            TypeDefKind::Tuple(t) => all(&mut t.types.iter()),
            TypeDefKind::Option(t) | TypeDefKind::Type(t) => self.is_copy(t, depth + 1),
            TypeDefKind::Result(r) => all(&mut r.ok.iter().chain(r.err.iter())),
            TypeDefKind::Enum(_)
            | TypeDefKind::Flags(_)
            | TypeDefKind::Handle(_)
            | TypeDefKind::Resource => true,
            _ => false,
        }
    }

    /// WIT text of `t`, for error messages.
    pub fn wit(&self, t: &Type) -> String {
        match t {
            Type::Bool => "bool".into(),
            Type::U8 => "u8".into(),
            Type::U16 => "u16".into(),
            Type::U32 => "u32".into(),
            Type::U64 => "u64".into(),
            Type::S8 => "s8".into(),
            Type::S16 => "s16".into(),
            Type::S32 => "s32".into(),
            Type::S64 => "s64".into(),
            Type::F32 => "f32".into(),
            Type::F64 => "f64".into(),
            Type::Char => "char".into(),
            Type::String => "string".into(),
            Type::ErrorContext => "error-context".into(),
            Type::Id(id) => {
                let def = &self.resolve.types[*id];
                if let Some(n) = &def.name {
                    return n.clone();
                }
                let opt = |t: &Option<Type>| t.as_ref().map_or("_".into(), |t| self.wit(t));
                match &def.kind {
                    TypeDefKind::List(t) => format!("list<{}>", self.wit(t)),
                    TypeDefKind::Option(t) => format!("option<{}>", self.wit(t)),
                    TypeDefKind::Result(r) => format!("result<{}, {}>", opt(&r.ok), opt(&r.err)),
                    TypeDefKind::Tuple(t) => {
                        let ts: Vec<String> = t.types.iter().map(|t| self.wit(t)).collect();
                        format!("tuple<{}>", ts.join(", "))
                    }
                    TypeDefKind::Handle(Handle::Own(r)) => self.wit(&Type::Id(*r)),
                    TypeDefKind::Handle(Handle::Borrow(r)) => {
                        format!("borrow<{}>", self.wit(&Type::Id(*r)))
                    }
                    TypeDefKind::Type(t) => self.wit(t),
                    other => other.as_str().into(),
                }
            }
        }
    }

    /// WIT text of function `f`'s type.
    pub fn wit_func(&self, f: &wit_parser::Function) -> String {
        let params: Vec<String> = f
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name, self.wit(&p.ty)))
            .collect();
        let mut s = format!("func({})", params.join(", "));
        if let Some(r) = &f.result {
            s.push_str(" -> ");
            s.push_str(&self.wit(r));
        }
        s
    }
}

/// `Copy, ` if `copy`, and the additional derives less the ones given.
fn copy_derives<'p>(
    copy: bool,
    extra: &dyn Fn(&[&str]) -> Vec<&'p syn::Path>,
) -> (Vec<&'p syn::Path>, TokenStream) {
    if copy {
        (extra(&["Clone", "Copy", "Debug"]), quote!(Copy,))
    } else {
        (extra(&["Clone", "Debug"]), TokenStream::new())
    }
}
