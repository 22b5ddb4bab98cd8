//! `Val`: dynamic component values, for the untyped call API.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// A component value of any 0.2 value type, for dynamic calls
/// ([`Func::call`](crate::Func::call)) and host functions defined with
/// [`Linker::func_new`](crate::LinkerInstance::func_new).
///
/// Records, variants, enums and flags carry their labels, so a value can be
/// checked against a type on its own. Lowering a `Val` checks it against the
/// expected type and fails with a usage error if it does not match.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// `bool`
    Bool(bool),
    /// `s8`
    S8(i8),
    /// `u8`
    U8(u8),
    /// `s16`
    S16(i16),
    /// `u16`
    U16(u16),
    /// `s32`
    S32(i32),
    /// `u32`
    U32(u32),
    /// `s64`
    S64(i64),
    /// `u64`
    U64(u64),
    /// `f32` (NaNs are canonicalized when lifted)
    Float32(f32),
    /// `f64` (NaNs are canonicalized when lifted)
    Float64(f64),
    /// `char`
    Char(char),
    /// `string`
    String(String),
    /// `list<T>`
    List(Vec<Val>),
    /// `record`: fields in type order, with their names.
    Record(Vec<(String, Val)>),
    /// `tuple<…>`
    Tuple(Vec<Val>),
    /// `variant`: the case name and its payload, if the case has one.
    Variant(String, Option<Box<Val>>),
    /// `enum`: the case name.
    Enum(String),
    /// `option<T>`
    Option(Option<Box<Val>>),
    /// `result<T, E>`: payloads are `None` where the type has none.
    Result(Result<Option<Box<Val>>, Option<Box<Val>>>),
    /// `flags`: the names of the flags that are set.
    Flags(Vec<String>),
    /// `own<R>` or `borrow<R>`: a resource handle held by the host.
    Resource(crate::ResourceAny),
    /// `stream<T>`: the readable end of a stream, held by the host
    /// (feature `async`).
    #[cfg(feature = "async")]
    Stream(crate::StreamAny),
    /// `future<T>`: the readable end of a future, held by the host
    /// (feature `async`).
    #[cfg(feature = "async")]
    Future(crate::FutureAny),
    /// `error-context`, held by the host (feature `async`).
    #[cfg(feature = "async")]
    ErrorContext(crate::ErrorContextAny),
}

impl Val {
    /// A short name of the value's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Val::Bool(_) => "bool",
            Val::S8(_) => "s8",
            Val::U8(_) => "u8",
            Val::S16(_) => "s16",
            Val::U16(_) => "u16",
            Val::S32(_) => "s32",
            Val::U32(_) => "u32",
            Val::S64(_) => "s64",
            Val::U64(_) => "u64",
            Val::Float32(_) => "f32",
            Val::Float64(_) => "f64",
            Val::Char(_) => "char",
            Val::String(_) => "string",
            Val::List(_) => "list",
            Val::Record(_) => "record",
            Val::Tuple(_) => "tuple",
            Val::Variant(..) => "variant",
            Val::Enum(_) => "enum",
            Val::Option(_) => "option",
            Val::Result(_) => "result",
            Val::Flags(_) => "flags",
            Val::Resource(_) => "resource",
            #[cfg(feature = "async")]
            Val::Stream(_) => "stream",
            #[cfg(feature = "async")]
            Val::Future(_) => "future",
            #[cfg(feature = "async")]
            Val::ErrorContext(_) => "error-context",
        }
    }
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn seq(f: &mut fmt::Formatter<'_>, vs: &[Val]) -> fmt::Result {
            for (i, v) in vs.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{v}")?;
            }
            Ok(())
        }
        fn payload(f: &mut fmt::Formatter<'_>, name: &str, v: &Option<Box<Val>>) -> fmt::Result {
            match v {
                Some(v) => write!(f, "{name}({v})"),
                None => f.write_str(name),
            }
        }
        match self {
            Val::Bool(v) => write!(f, "{v}"),
            Val::S8(v) => write!(f, "{v}"),
            Val::U8(v) => write!(f, "{v}"),
            Val::S16(v) => write!(f, "{v}"),
            Val::U16(v) => write!(f, "{v}"),
            Val::S32(v) => write!(f, "{v}"),
            Val::U32(v) => write!(f, "{v}"),
            Val::S64(v) => write!(f, "{v}"),
            Val::U64(v) => write!(f, "{v}"),
            Val::Float32(v) => write!(f, "{v}"),
            Val::Float64(v) => write!(f, "{v}"),
            Val::Char(v) => write!(f, "{v:?}"),
            Val::String(v) => write!(f, "{v:?}"),
            Val::List(vs) => {
                f.write_str("[")?;
                seq(f, vs)?;
                f.write_str("]")
            }
            Val::Record(fields) => {
                f.write_str("{")?;
                for (i, (n, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{n}: {v}")?;
                }
                f.write_str("}")
            }
            Val::Tuple(vs) => {
                f.write_str("(")?;
                seq(f, vs)?;
                f.write_str(")")
            }
            Val::Variant(n, v) => payload(f, n, v),
            Val::Enum(n) => f.write_str(n),
            Val::Option(None) => f.write_str("none"),
            Val::Option(v @ Some(_)) => payload(f, "some", v),
            Val::Result(Ok(v)) => payload(f, "ok", v),
            Val::Result(Err(v)) => payload(f, "err", v),
            Val::Resource(r) => write!(f, "resource#{}", r.index),
            #[cfg(feature = "async")]
            Val::Stream(s) => write!(f, "stream#{}", s.index),
            #[cfg(feature = "async")]
            Val::Future(s) => write!(f, "future#{}", s.index),
            #[cfg(feature = "async")]
            Val::ErrorContext(e) => write!(f, "error-context#{}", e.index),
            Val::Flags(names) => {
                f.write_str("{")?;
                for (i, n) in names.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(n)?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Whether `v` is a value of type `ty` (labels included), for dynamic calls
/// that do not lower (a host function called from the host).
pub(crate) fn type_matches(
    arena: &crate::types::TypeArena,
    ty: crate::types::ValType,
    v: &Val,
) -> bool {
    use crate::types::{DefType, ValType as T};
    match (ty, v) {
        (T::Bool, Val::Bool(_))
        | (T::S8, Val::S8(_))
        | (T::U8, Val::U8(_))
        | (T::S16, Val::S16(_))
        | (T::U16, Val::U16(_))
        | (T::S32, Val::S32(_))
        | (T::U32, Val::U32(_))
        | (T::S64, Val::S64(_))
        | (T::U64, Val::U64(_))
        | (T::F32, Val::Float32(_))
        | (T::F64, Val::Float64(_))
        | (T::Char, Val::Char(_))
        | (T::String, Val::String(_))
        | (T::Own(_), Val::Resource(_))
        | (T::Borrow(_), Val::Resource(_)) => true,
        (T::Def(i), v) => match (arena.def(i), v) {
            (DefType::List(e), Val::List(vs)) => vs.iter().all(|x| type_matches(arena, *e, x)),
            (DefType::Record(fs), Val::Record(vs)) => {
                fs.len() == vs.len()
                    && fs
                        .iter()
                        .zip(vs)
                        .all(|((n, t), (m, x))| **n == **m && type_matches(arena, *t, x))
            }
            (DefType::Tuple(ts), Val::Tuple(vs)) => {
                ts.len() == vs.len() && ts.iter().zip(vs).all(|(t, x)| type_matches(arena, *t, x))
            }
            (DefType::Variant(cases), Val::Variant(name, p)) => cases.iter().any(|c| {
                *c.name == **name
                    && match (c.ty, p) {
                        (Some(t), Some(x)) => type_matches(arena, t, x),
                        (None, None) => true,
                        _ => false,
                    }
            }),
            (DefType::Enum(names), Val::Enum(name)) => names.iter().any(|n| **n == **name),
            (DefType::Option(_), Val::Option(None)) => true,
            (DefType::Option(t), Val::Option(Some(x))) => type_matches(arena, *t, x),
            (DefType::Result { ok, err }, Val::Result(r)) => {
                let (t, p) = match r {
                    Ok(p) => (ok, p),
                    Err(p) => (err, p),
                };
                match (t, p) {
                    (Some(t), Some(x)) => type_matches(arena, *t, x),
                    (None, None) => true,
                    _ => false,
                }
            }
            (DefType::Flags(names), Val::Flags(set)) => {
                set.iter().all(|s| names.iter().any(|n| **n == **s))
            }
            #[cfg(feature = "async")]
            (DefType::Stream(_), Val::Stream(_))
            | (DefType::Future(_), Val::Future(_))
            | (DefType::ErrorContext, Val::ErrorContext(_)) => true,
            _ => false,
        },
        _ => false,
    }
}
