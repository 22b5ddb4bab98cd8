//! The type arena: component value types and function types, interned once
//! per [`Component`](crate::Component), each with its canonical ABI layout.
//!
//! Types come from wasmparser's validator (which resolves every index space
//! and alias) and are copied into a compact arena so that calls never touch
//! wasmparser again.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use hashbrown::HashMap;
use wasmparser::component_types as wct;
use wasmparser::types::TypesRef;

use crate::abi::layout::{self, FlatType, Layout};
use crate::error::{Error, Result};

/// A component value type, as stored in the arena. `Def` indexes
/// [`TypeArena::defs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ValType {
    Bool,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
    S64,
    U64,
    F32,
    F64,
    Char,
    String,
    /// `own<R>`: R is a static resource index ([`TypeArena::resource`]).
    Own(u32),
    /// `borrow<R>`.
    Borrow(u32),
    Def(u32),
}

/// A case of a variant: its label and optional payload.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub name: Box<str>,
    pub ty: Option<ValType>,
}

/// A defined (compound) value type. `option`, `result` and `enum` are kept
/// as themselves (not despecialized) so that `Val` mirrors what users wrote;
/// layouts treat them as the variants they are.
#[derive(Debug, Clone)]
pub(crate) enum DefType {
    List(ValType),
    Record(Box<[(Box<str>, ValType)]>),
    Tuple(Box<[ValType]>),
    Variant(Box<[Case]>),
    Enum(Box<[Box<str>]>),
    Option(ValType),
    Result {
        ok: Option<ValType>,
        err: Option<ValType>,
    },
    Flags(Box<[Box<str>]>),
}

/// A converted defined type: a compound type, or a handle (which is a
/// value type of its own).
enum DefOrVal {
    Def(DefType),
    Val(ValType),
}

/// A component function type: named parameters and an optional result.
#[derive(Debug, Clone)]
pub(crate) struct FuncTy {
    pub params: Box<[(Box<str>, ValType)]>,
    pub result: Option<ValType>,
}

/// All value types a component uses, with their layouts.
#[derive(Debug, Default)]
pub(crate) struct TypeArena {
    pub defs: Vec<DefType>,
    pub layouts: Vec<Layout>,
    /// The flat core types of each defined type (ranges into `flat_pool`).
    flat_ranges: Vec<(u32, u32)>,
    flat_pool: Vec<FlatType>,
    pub funcs: Vec<FuncTy>,
    interned: HashMap<wct::ComponentDefinedTypeId, u32>,
    interned_funcs: HashMap<wct::ComponentFuncTypeId, u32>,
    /// Nesting depth while interning, bounded by `max_depth`.
    depth: u32,
    /// The configured bound on nesting ([`MAX_TYPE_DEPTH`] at most).
    pub max_depth: u32,
    /// Static index of each resource type id seen in the binary.
    resources: HashMap<wct::ResourceId, u32>,
}

/// How deeply value types may nest. Lifting and lowering recurse over
/// types, so this bounds their stack use on hostile input.
pub(crate) const MAX_TYPE_DEPTH: u32 = 100;

impl TypeArena {
    /// An empty arena whose types may nest at most `max_depth` deep.
    pub(crate) fn with_max_depth(max_depth: u32) -> Self {
        TypeArena {
            max_depth,
            ..TypeArena::default()
        }
    }

    /// The layout (size, alignment, flat count) of `ty`.
    pub(crate) fn layout(&self, ty: ValType) -> Layout {
        match ty {
            ValType::Def(i) => self.layouts[i as usize],
            prim => layout::prim_layout(prim),
        }
    }

    /// The flattened core types of `ty`.
    pub(crate) fn flat(&self, ty: ValType) -> &[FlatType] {
        match ty {
            ValType::Def(i) => {
                let (start, len) = self.flat_ranges[i as usize];
                &self.flat_pool[start as usize..(start + len) as usize]
            }
            prim => layout::prim_flat(prim),
        }
    }

    /// The defined type behind `Def(i)`.
    pub(crate) fn def(&self, i: u32) -> &DefType {
        &self.defs[i as usize]
    }

    /// Interns a wasmparser function type, returning its index in `funcs`.
    pub(crate) fn intern_func(
        &mut self,
        types: &TypesRef<'_>,
        id: wct::ComponentFuncTypeId,
    ) -> Result<u32> {
        if let Some(&i) = self.interned_funcs.get(&id) {
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
        });
        self.interned_funcs.insert(id, i);
        Ok(i)
    }

    /// Interns a wasmparser value type.
    pub(crate) fn intern_val(
        &mut self,
        types: &TypesRef<'_>,
        ty: wct::ComponentValType,
    ) -> Result<ValType> {
        match ty {
            wct::ComponentValType::Primitive(p) => prim(p),
            wct::ComponentValType::Type(id) => self.intern_defined(types, id),
        }
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
        if let Some(&i) = self.interned.get(&id) {
            return Ok(ValType::Def(i));
        }
        if let wct::ComponentDefinedType::Primitive(p) = &types[id] {
            return prim(*p);
        }
        if self.depth >= self.max_depth.min(MAX_TYPE_DEPTH) {
            return Err(Error::unsupported(alloc::format!(
                "value types nested deeper than {} levels (the max_type_depth limit)",
                self.max_depth.min(MAX_TYPE_DEPTH)
            )));
        }
        self.depth += 1;
        let def = self.convert_defined(types, id);
        self.depth -= 1;
        let def = match def? {
            DefOrVal::Def(d) => d,
            DefOrVal::Val(v) => return Ok(v),
        };
        let i = self.push_def(def)?;
        self.interned.insert(id, i);
        Ok(ValType::Def(i))
    }

    /// The static index of resource type `id` (interned on first sight).
    pub(crate) fn resource(&mut self, id: wct::ResourceId) -> u32 {
        let n = self.resources.len() as u32;
        *self.resources.entry(id).or_insert(n)
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
            D::Future { .. } | D::Stream { .. } => {
                return Err(Error::unsupported(
                    "future and stream types (component-model async) are not implemented",
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

    /// Adds a defined type whose parts are already interned, computing its layout.
    fn push_def(&mut self, def: DefType) -> Result<u32> {
        let lay = layout::def_layout(self, &def);
        let flat = layout::def_flat(self, &def);
        let i = self.defs.len() as u32;
        let start = self.flat_pool.len() as u32;
        self.flat_pool.extend_from_slice(&flat);
        self.flat_ranges.push((start, flat.len() as u32));
        self.layouts.push(lay);
        self.defs.push(def);
        Ok(i)
    }

    /// Builds the public introspection type of `ty`.
    pub(crate) fn to_public(&self, ty: ValType) -> Type {
        match ty {
            ValType::Bool => Type::Bool,
            ValType::S8 => Type::S8,
            ValType::U8 => Type::U8,
            ValType::S16 => Type::S16,
            ValType::U16 => Type::U16,
            ValType::S32 => Type::S32,
            ValType::U32 => Type::U32,
            ValType::S64 => Type::S64,
            ValType::U64 => Type::U64,
            ValType::F32 => Type::Float32,
            ValType::F64 => Type::Float64,
            ValType::Char => Type::Char,
            ValType::String => Type::String,
            ValType::Own(_) => Type::Own,
            ValType::Borrow(_) => Type::Borrow,
            ValType::Def(i) => match self.def(i) {
                DefType::List(t) => Type::List(Box::new(self.to_public(*t))),
                DefType::Record(fields) => Type::Record(
                    fields
                        .iter()
                        .map(|(n, t)| (n.to_string(), self.to_public(*t)))
                        .collect(),
                ),
                DefType::Tuple(ts) => Type::Tuple(ts.iter().map(|t| self.to_public(*t)).collect()),
                DefType::Variant(cases) => Type::Variant(
                    cases
                        .iter()
                        .map(|c| (c.name.to_string(), c.ty.map(|t| self.to_public(t))))
                        .collect(),
                ),
                DefType::Enum(names) => Type::Enum(names.iter().map(|n| n.to_string()).collect()),
                DefType::Option(t) => Type::Option(Box::new(self.to_public(*t))),
                DefType::Result { ok, err } => Type::Result {
                    ok: ok.map(|t| Box::new(self.to_public(t))),
                    err: err.map(|t| Box::new(self.to_public(t))),
                },
                DefType::Flags(names) => Type::Flags(names.iter().map(|n| n.to_string()).collect()),
            },
        }
    }

    /// The public function type of `funcs[i]`.
    pub(crate) fn func_to_public(&self, i: u32) -> FuncType {
        let f = &self.funcs[i as usize];
        FuncType {
            params: f
                .params
                .iter()
                .map(|(n, t)| (n.to_string(), self.to_public(*t)))
                .collect(),
            result: f.result.map(|t| self.to_public(t)),
        }
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
                "the error-context type (component-model async) is not implemented",
            ))
        }
    })
}

/// A component value type, for introspection (`Func::ty`, `Component::exports`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// `bool`
    Bool,
    /// `s8`
    S8,
    /// `u8`
    U8,
    /// `s16`
    S16,
    /// `u16`
    U16,
    /// `s32`
    S32,
    /// `u32`
    U32,
    /// `s64`
    S64,
    /// `u64`
    U64,
    /// `f32`
    Float32,
    /// `f64`
    Float64,
    /// `char`
    Char,
    /// `string`
    String,
    /// `list<T>`
    List(Box<Type>),
    /// `record { name: T, … }`, fields in order.
    Record(Vec<(String, Type)>),
    /// `tuple<T, …>`
    Tuple(Vec<Type>),
    /// `variant { case(T), … }`, cases in order.
    Variant(Vec<(String, Option<Type>)>),
    /// `enum { name, … }`
    Enum(Vec<String>),
    /// `option<T>`
    Option(Box<Type>),
    /// `result<T, E>`
    Result {
        /// The `ok` payload, if any.
        ok: Option<Box<Type>>,
        /// The `err` payload, if any.
        err: Option<Box<Type>>,
    },
    /// `flags { name, … }`
    Flags(Vec<String>),
    /// `own<R>`: an owned resource handle.
    Own,
    /// `borrow<R>`: a borrowed resource handle.
    Borrow,
}

/// A component function type, for introspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncType {
    /// Parameter names and types, in order.
    pub params: Vec<(String, Type)>,
    /// The result type, if the function returns a value.
    pub result: Option<Type>,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T>(
            f: &mut fmt::Formatter<'_>,
            items: &[T],
            each: impl Fn(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
        ) -> fmt::Result {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                each(f, item)?;
            }
            Ok(())
        }
        match self {
            Type::Bool => f.write_str("bool"),
            Type::S8 => f.write_str("s8"),
            Type::U8 => f.write_str("u8"),
            Type::S16 => f.write_str("s16"),
            Type::U16 => f.write_str("u16"),
            Type::S32 => f.write_str("s32"),
            Type::U32 => f.write_str("u32"),
            Type::S64 => f.write_str("s64"),
            Type::U64 => f.write_str("u64"),
            Type::Float32 => f.write_str("f32"),
            Type::Float64 => f.write_str("f64"),
            Type::Char => f.write_str("char"),
            Type::String => f.write_str("string"),
            Type::Own => f.write_str("own<resource>"),
            Type::Borrow => f.write_str("borrow<resource>"),
            Type::List(t) => write!(f, "list<{t}>"),
            Type::Record(fields) => {
                f.write_str("record { ")?;
                list(f, fields, |f, (n, t)| write!(f, "{n}: {t}"))?;
                f.write_str(" }")
            }
            Type::Tuple(ts) => {
                f.write_str("tuple<")?;
                list(f, ts, |f, t| write!(f, "{t}"))?;
                f.write_str(">")
            }
            Type::Variant(cases) => {
                f.write_str("variant { ")?;
                list(f, cases, |f, (n, t)| match t {
                    Some(t) => write!(f, "{n}({t})"),
                    None => write!(f, "{n}"),
                })?;
                f.write_str(" }")
            }
            Type::Enum(names) => {
                f.write_str("enum { ")?;
                list(f, names, |f, n| f.write_str(n))?;
                f.write_str(" }")
            }
            Type::Option(t) => write!(f, "option<{t}>"),
            Type::Result { ok, err } => match (ok, err) {
                (None, None) => f.write_str("result"),
                (Some(o), None) => write!(f, "result<{o}>"),
                (None, Some(e)) => write!(f, "result<_, {e}>"),
                (Some(o), Some(e)) => write!(f, "result<{o}, {e}>"),
            },
            Type::Flags(names) => {
                f.write_str("flags { ")?;
                list(f, names, |f, n| f.write_str(n))?;
                f.write_str(" }")
            }
        }
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("func(")?;
        for (i, (n, t)) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}: {t}")?;
        }
        f.write_str(")")?;
        if let Some(r) = &self.result {
            write!(f, " -> {r}")?;
        }
        Ok(())
    }
}
