//! Interning wasmparser's component types into the arena, with their
//! layouts (feature `validate`: a build that only loads images has none of
//! this).

use alloc::boxed::Box;
use alloc::vec::Vec;
use hashbrown::HashMap;
use wasmparser::component_types as wct;
use wasmparser::types::TypesRef;

use super::{Case, DefType, FuncTy, TypeArena, ValType, MAX_TYPE_DEPTH};
use crate::error::{Error, Result};

/// The maps from wasmparser's type ids to arena indices, and the nesting
/// depth while interning.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    interned: HashMap<wct::ComponentDefinedTypeId, u32>,
    interned_funcs: HashMap<wct::ComponentFuncTypeId, u32>,
    /// Nesting depth while interning, bounded by `max_depth`.
    depth: u32,
    /// Static index of each resource type id seen in the binary.
    resources: HashMap<wct::ResourceId, u32>,
    /// The index of `error-context` in the arena's defined types, once
    /// interned (feature `async`).
    #[cfg(feature = "async")]
    error_context: Option<u32>,
}

/// A converted defined type: a compound type, or a handle (which is a
/// value type of its own).
enum DefOrVal {
    Def(DefType),
    Val(ValType),
}

impl TypeArena {
    /// Interns a wasmparser function type, returning its index in `funcs`.
    pub(crate) fn intern_func(
        &mut self,
        types: &TypesRef<'_>,
        id: wct::ComponentFuncTypeId,
    ) -> Result<u32> {
        if let Some(&i) = self.interner.interned_funcs.get(&id) {
            return Ok(i);
        }
        let ft = &types[id];
        let mut params = Vec::with_capacity(ft.params.len());
        for (name, ty) in ft.params.iter() {
            params.push((Box::from(name.as_str()), self.intern_val(types, *ty)?));
        }
        let result = match ft.result {
            Some(ty) => Some(self.intern_val(types, ty)?),
            None => None,
        };
        let i = self.funcs.len() as u32;
        self.funcs.push(FuncTy {
            params: params.into_boxed_slice(),
            result,
            #[cfg(feature = "async")]
            is_async: ft.async_,
        });
        self.interner.interned_funcs.insert(id, i);
        Ok(i)
    }

    /// Interns a wasmparser value type.
    pub(crate) fn intern_val(
        &mut self,
        types: &TypesRef<'_>,
        ty: wct::ComponentValType,
    ) -> Result<ValType> {
        match ty {
            wct::ComponentValType::Primitive(p) => self.intern_prim(p),
            wct::ComponentValType::Type(id) => self.intern_defined(types, id),
        }
    }

    /// Interns a primitive type: `error-context` is a defined type of the
    /// arena (feature `async`), the others are value types.
    fn intern_prim(&mut self, p: wasmparser::PrimitiveValType) -> Result<ValType> {
        #[cfg(feature = "async")]
        if p == wasmparser::PrimitiveValType::ErrorContext {
            if let Some(i) = self.interner.error_context {
                return Ok(ValType::Def(i));
            }
            let i = self.push_def(DefType::ErrorContext)?;
            self.interner.error_context = Some(i);
            return Ok(ValType::Def(i));
        }
        prim(p)
    }

    fn intern_opt(
        &mut self,
        types: &TypesRef<'_>,
        ty: Option<wct::ComponentValType>,
    ) -> Result<Option<ValType>> {
        ty.map(|t| self.intern_val(types, t)).transpose()
    }

    fn intern_defined(
        &mut self,
        types: &TypesRef<'_>,
        id: wct::ComponentDefinedTypeId,
    ) -> Result<ValType> {
        if let Some(&i) = self.interner.interned.get(&id) {
            return Ok(ValType::Def(i));
        }
        if let wct::ComponentDefinedType::Primitive(p) = &types[id] {
            return self.intern_prim(*p);
        }
        if self.interner.depth >= self.max_depth.min(MAX_TYPE_DEPTH) {
            return Err(Error::unsupported(alloc::format!(
                "value types nested deeper than {} levels (the max_type_depth limit)",
                self.max_depth.min(MAX_TYPE_DEPTH)
            )));
        }
        self.interner.depth += 1;
        let def = self.convert_defined(types, id);
        self.interner.depth -= 1;
        let def = match def? {
            DefOrVal::Def(d) => d,
            DefOrVal::Val(v) => return Ok(v),
        };
        let i = self.push_def(def)?;
        self.interner.interned.insert(id, i);
        Ok(ValType::Def(i))
    }

    /// The static index of resource type `id` (interned on first sight).
    pub(crate) fn resource(&mut self, id: wct::ResourceId) -> u32 {
        let n = self.interner.resources.len() as u32;
        let r = *self.interner.resources.entry(id).or_insert(n);
        self.n_resources = self.interner.resources.len() as u32;
        r
    }

    fn convert_defined(
        &mut self,
        types: &TypesRef<'_>,
        id: wct::ComponentDefinedTypeId,
    ) -> Result<DefOrVal> {
        use wct::ComponentDefinedType as D;
        let def = match &types[id] {
            D::Primitive(p) => return Err(Error::unsupported(alloc::format!("{p:?}"))),
            D::Record(r) => {
                let mut fields = Vec::with_capacity(r.fields.len());
                for (name, ty) in r.fields.iter() {
                    fields.push((Box::from(name.as_str()), self.intern_val(types, *ty)?));
                }
                DefType::Record(fields.into_boxed_slice())
            }
            D::Variant(v) => {
                let mut cases = Vec::with_capacity(v.cases.len());
                for (name, case) in v.cases.iter() {
                    cases.push(Case {
                        name: Box::from(name.as_str()),
                        ty: self.intern_opt(types, case.ty)?,
                    });
                }
                DefType::Variant(cases.into_boxed_slice())
            }
            D::List { element, .. } => DefType::List(self.intern_val(types, *element)?),
            D::Tuple(t) => {
                let mut elems = Vec::with_capacity(t.types.len());
                for ty in t.types.iter() {
                    elems.push(self.intern_val(types, *ty)?);
                }
                DefType::Tuple(elems.into_boxed_slice())
            }
            D::Flags(names) => {
                DefType::Flags(names.iter().map(|n| Box::from(n.as_str())).collect())
            }
            D::Enum(names) => DefType::Enum(names.iter().map(|n| Box::from(n.as_str())).collect()),
            D::Option { ty, .. } => DefType::Option(self.intern_val(types, *ty)?),
            D::Result { ok, err, .. } => DefType::Result {
                ok: self.intern_opt(types, *ok)?,
                err: self.intern_opt(types, *err)?,
            },
            D::Own(r) => return Ok(DefOrVal::Val(ValType::Own(self.resource(r.resource())))),
            D::Borrow(r) => return Ok(DefOrVal::Val(ValType::Borrow(self.resource(r.resource())))),
            #[cfg(feature = "async")]
            D::Future { ty, .. } => DefType::Future(self.intern_opt(types, *ty)?),
            #[cfg(feature = "async")]
            D::Stream { ty, .. } => DefType::Stream(self.intern_opt(types, *ty)?),
            #[cfg(not(feature = "async"))]
            D::Future { .. } | D::Stream { .. } => {
                return Err(Error::unsupported(
                    "future and stream types (component-model async: feature `async`)",
                ))
            }
            D::Map { .. } => return Err(Error::unsupported("map types (the 🗺️ feature)")),
            D::FixedLengthList { .. } => {
                return Err(Error::unsupported(
                    "fixed-length list types (the 🔧 feature)",
                ))
            }
        };
        Ok(DefOrVal::Def(def))
    }
}

fn prim(p: wasmparser::PrimitiveValType) -> Result<ValType> {
    use wasmparser::PrimitiveValType as P;
    Ok(match p {
        P::Bool => ValType::Bool,
        P::S8 => ValType::S8,
        P::U8 => ValType::U8,
        P::S16 => ValType::S16,
        P::U16 => ValType::U16,
        P::S32 => ValType::S32,
        P::U32 => ValType::U32,
        P::S64 => ValType::S64,
        P::U64 => ValType::U64,
        P::F32 => ValType::F32,
        P::F64 => ValType::F64,
        P::Char => ValType::Char,
        P::String => ValType::String,
        P::ErrorContext => {
            return Err(Error::unsupported(
                "the error-context type (component-model async: feature `async`)",
            ))
        }
    })
}
