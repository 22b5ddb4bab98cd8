//! The type arena: component value types and function types, interned once
//! per [`Component`](crate::Component), each with its canonical ABI layout.
//!
//! Types come from wasmparser's validator (which resolves every index space
//! and alias; `intern`, feature `validate`) or from a component image, and
//! live in a compact arena so that calls never touch wasmparser.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

#[cfg(feature = "validate")]
mod intern;
pub(crate) mod layout;

use self::layout::{FlatType, Layout};
use crate::error::Result;

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
    /// `stream<T>` (a handle: one `i32`), `None` for `stream`.
    #[cfg(feature = "async")]
    Stream(Option<ValType>),
    /// `future<T>` (a handle: one `i32`), `None` for `future`.
    #[cfg(feature = "async")]
    Future(Option<ValType>),
    /// `error-context` (a handle: one `i32`). A primitive in the binary
    /// format, interned here as a defined type so that the sync value
    /// types stay as they were.
    #[cfg(feature = "async")]
    ErrorContext,
}

/// A component function type: named parameters and an optional result.
#[derive(Debug, Clone)]
pub(crate) struct FuncTy {
    pub params: Box<[(Box<str>, ValType)]>,
    pub result: Option<ValType>,
    /// The type is `async` (feature `async`).
    #[cfg(feature = "async")]
    pub is_async: bool,
}

/// All value types a component uses, with their layouts.
#[derive(Debug, Default)]
pub(crate) struct TypeArena {
    pub defs: Vec<DefType>,
    pub layouts: Vec<Layout>,
    /// The flat core types of each defined type (ranges into `flat_pool`).
    pub flat_ranges: Vec<(u32, u32)>,
    pub flat_pool: Vec<FlatType>,
    pub funcs: Vec<FuncTy>,
    /// What interning from wasmparser's types needs (feature `validate`).
    #[cfg(feature = "validate")]
    interner: intern::Interner,
    /// The configured bound on nesting ([`MAX_TYPE_DEPTH`] at most).
    pub max_depth: u32,
    /// How many static resource types there are.
    n_resources: u32,
    /// A number no other arena of this process has: with a static resource
    /// index, the identity of a resource type before instantiation.
    pub component_id: usize,
    /// For each defined type, whether it is or holds a stream, future or
    /// error-context (feature `async`).
    #[cfg(feature = "async")]
    async_handles: Vec<bool>,
}

static NEXT_COMPONENT_ID: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(1);

/// How deeply value types may nest. Lifting and lowering recurse over
/// types, so this bounds their stack use on hostile input.
pub(crate) const MAX_TYPE_DEPTH: u32 = 100;

impl TypeArena {
    /// An empty arena whose types may nest at most `max_depth` deep.
    pub(crate) fn with_max_depth(max_depth: u32) -> Self {
        TypeArena {
            max_depth,
            component_id: NEXT_COMPONENT_ID.fetch_add(1, core::sync::atomic::Ordering::Relaxed),
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

    /// Sets the number of static resource types (for an arena read from an
    /// image, which has no resource ids).
    pub(crate) fn set_resource_count(&mut self, n: u32) {
        self.n_resources = n;
    }

    /// How many static resource types the component uses.
    pub(crate) fn resource_count(&self) -> usize {
        self.n_resources as usize
    }

    /// Adds a defined type whose parts are already interned, computing its layout.
    pub(crate) fn push_def(&mut self, def: DefType) -> Result<u32> {
        let lay = layout::def_layout(self, &def);
        let flat = layout::def_flat(self, &def);
        let i = self.defs.len() as u32;
        let start = self.flat_pool.len() as u32;
        self.flat_pool.extend_from_slice(&flat);
        self.flat_ranges.push((start, flat.len() as u32));
        self.layouts.push(lay);
        #[cfg(feature = "async")]
        {
            let holds = crate::concurrent::types::def_holds_handles(self, &def);
            self.async_handles.push(holds);
        }
        self.defs.push(def);
        Ok(i)
    }

    /// Whether defined type `i` is or holds a stream, future or
    /// error-context.
    #[cfg(feature = "async")]
    pub(crate) fn holds_async_handles(&self, i: u32) -> bool {
        self.async_handles.get(i as usize).copied().unwrap_or(false)
    }

    /// The identity of static resource `r` before instantiation.
    pub(crate) fn static_resource(&self, r: u32) -> crate::ResourceType {
        crate::ResourceType {
            kind: crate::resources::ResourceKind::Static {
                component: self.component_id,
                index: r,
            },
        }
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
            ValType::Own(r) => Type::Own(self.static_resource(r)),
            ValType::Borrow(r) => Type::Borrow(self.static_resource(r)),
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
                #[cfg(feature = "async")]
                DefType::Stream(t) => Type::Stream(t.map(|t| Box::new(self.to_public(t)))),
                #[cfg(feature = "async")]
                DefType::Future(t) => Type::Future(t.map(|t| Box::new(self.to_public(t)))),
                #[cfg(feature = "async")]
                DefType::ErrorContext => Type::ErrorContext,
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

/// A component value type, for introspection (`Func::ty`, `Component::exports`).
///
/// Non-exhaustive: the async types (`Stream`, `Future`, `ErrorContext`)
/// exist only with the `async` feature, and features must not break a
/// `match` of another crate in the same build.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
    /// `own<R>`: an owned handle to a resource of type `R` (as read from the
    /// component's types: see [`ResourceType`](crate::ResourceType)).
    Own(crate::ResourceType),
    /// `borrow<R>`: a borrowed handle to a resource of type `R`.
    Borrow(crate::ResourceType),
    /// `stream<T>`, or `stream` (`None`): the readable end of a stream of
    /// `T` (component-model async, feature `async`; the variant exists
    /// only with it, so that a build without async carries none of it).
    #[cfg(feature = "async")]
    Stream(Option<Box<Type>>),
    /// `future<T>`, or `future` (`None`): the readable end of a future
    /// (component-model async, feature `async`).
    #[cfg(feature = "async")]
    Future(Option<Box<Type>>),
    /// `error-context` (component-model async, feature `async`).
    #[cfg(feature = "async")]
    ErrorContext,
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
            Type::Own(_) => f.write_str("own<resource>"),
            Type::Borrow(_) => f.write_str("borrow<resource>"),
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
            #[cfg(feature = "async")]
            Type::Stream(None) => f.write_str("stream"),
            #[cfg(feature = "async")]
            Type::Stream(Some(t)) => write!(f, "stream<{t}>"),
            #[cfg(feature = "async")]
            Type::Future(None) => f.write_str("future"),
            #[cfg(feature = "async")]
            Type::Future(Some(t)) => write!(f, "future<{t}>"),
            #[cfg(feature = "async")]
            Type::ErrorContext => f.write_str("error-context"),
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
