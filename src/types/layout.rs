//! Sizes, alignments and flattening of value types (CanonicalABI.md,
//! "Alignment", "Element Size", "Flattening"). Computed once per type when
//! the type is interned.

use alloc::vec::Vec;

use super::{DefType, TypeArena, ValType};

/// A core wasm value type in a flattened signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FlatType {
    I32,
    I64,
    F32,
    F64,
}

impl FlatType {
    /// The spec's `join`: the tightest core type both can be bit-cast into.
    pub(crate) fn join(a: FlatType, b: FlatType) -> FlatType {
        use FlatType::*;
        match (a, b) {
            _ if a == b => a,
            (I32, F32) | (F32, I32) => I32,
            _ => I64,
        }
    }

    pub(crate) fn to_wasmi(self) -> wasmi::ValType {
        match self {
            FlatType::I32 => wasmi::ValType::I32,
            FlatType::I64 => wasmi::ValType::I64,
            FlatType::F32 => wasmi::ValType::F32,
            FlatType::F64 => wasmi::ValType::F64,
        }
    }
}

/// The memory layout of a value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// `elem_size`: bytes taken as a list element or record field.
    pub size: u32,
    /// `alignment` in bytes.
    pub align: u32,
    /// For variant-like types, the offset of the payload after the
    /// discriminant; 0 otherwise.
    pub payload_offset: u32,
}

pub(crate) fn align_to(offset: u32, align: u32) -> u32 {
    offset.div_ceil(align).saturating_mul(align)
}

pub(crate) fn prim_layout(ty: ValType) -> Layout {
    let (size, align) = match ty {
        ValType::Bool | ValType::S8 | ValType::U8 => (1, 1),
        ValType::S16 | ValType::U16 => (2, 2),
        ValType::S32 | ValType::U32 | ValType::F32 | ValType::Char => (4, 4),
        ValType::Own(_) | ValType::Borrow(_) => (4, 4),
        ValType::S64 | ValType::U64 | ValType::F64 => (8, 8),
        ValType::String => (8, 4),
        ValType::Def(_) => unreachable_def(),
    };
    Layout {
        size,
        align,
        payload_offset: 0,
    }
}

pub(crate) fn prim_flat(ty: ValType) -> &'static [FlatType] {
    match ty {
        ValType::S64 | ValType::U64 => &[FlatType::I64],
        ValType::F32 => &[FlatType::F32],
        ValType::F64 => &[FlatType::F64],
        ValType::String => &[FlatType::I32, FlatType::I32],
        ValType::Def(_) => unreachable_def(),
        _ => &[FlatType::I32],
    }
}

#[cold]
fn unreachable_def() -> ! {
    // `TypeArena::layout`/`flat` handle `Def` before calling these.
    unreachable!("defined types are resolved through the arena")
}

/// Size in bytes of a variant discriminant for `n` cases.
pub(crate) fn discriminant_size(n: usize) -> u32 {
    if n <= 1 << 8 {
        1
    } else if n <= 1 << 16 {
        2
    } else {
        4
    }
}

pub(crate) fn flags_size(n: usize) -> u32 {
    if n <= 8 {
        1
    } else if n <= 16 {
        2
    } else {
        4
    }
}

/// Layout of a sequence of fields laid out like a record.
pub(crate) fn record_layout(arena: &TypeArena, fields: impl Iterator<Item = ValType>) -> Layout {
    let mut size = 0u32;
    let mut align = 1u32;
    for f in fields {
        let l = arena.layout(f);
        size = align_to(size, l.align).saturating_add(l.size);
        align = align.max(l.align);
    }
    Layout {
        size: align_to(size, align),
        align,
        payload_offset: 0,
    }
}

/// Layout facts of a variant: discriminant size, payload offset, whole layout.
pub(crate) fn variant_layout(
    arena: &TypeArena,
    n_cases: usize,
    payloads: impl Iterator<Item = Option<ValType>>,
) -> (Layout, u32) {
    let disc = discriminant_size(n_cases);
    let mut max_size = 0;
    let mut max_align = 1;
    for ty in payloads.flatten() {
        let l = arena.layout(ty);
        max_size = max_size.max(l.size);
        max_align = max_align.max(l.align);
    }
    let payload_offset = align_to(disc, max_align);
    let align = disc.max(max_align);
    let size = align_to(payload_offset.saturating_add(max_size), align);
    (
        Layout {
            size,
            align,
            payload_offset,
        },
        payload_offset,
    )
}

/// The case payload types of a variant-like defined type, in case order.
pub(crate) fn cases_of(def: &DefType) -> Option<(usize, CasePayloads<'_>)> {
    Some(match def {
        DefType::Variant(cases) => (cases.len(), CasePayloads::Variant(cases)),
        DefType::Enum(names) => (names.len(), CasePayloads::None),
        DefType::Option(t) => (2, CasePayloads::Two(None, Some(*t))),
        DefType::Result { ok, err } => (2, CasePayloads::Two(*ok, *err)),
        _ => return None,
    })
}

/// Payload types of the cases of a variant-like type.
#[derive(Clone, Copy)]
pub(crate) enum CasePayloads<'a> {
    Variant(&'a [super::Case]),
    None,
    Two(Option<ValType>, Option<ValType>),
}

impl<'a> CasePayloads<'a> {
    pub(crate) fn get(&self, i: usize) -> Option<ValType> {
        match self {
            CasePayloads::Variant(c) => c.get(i).and_then(|c| c.ty),
            CasePayloads::None => None,
            CasePayloads::Two(a, b) => match i {
                0 => *a,
                1 => *b,
                _ => None,
            },
        }
    }

    fn iter(self, n: usize) -> impl Iterator<Item = Option<ValType>> + 'a {
        (0..n).map(move |i| self.get(i))
    }
}

pub(crate) fn def_layout(arena: &TypeArena, def: &DefType) -> Layout {
    match def {
        DefType::List(_) => Layout {
            size: 8,
            align: 4,
            payload_offset: 0,
        },
        DefType::Record(fields) => record_layout(arena, fields.iter().map(|f| f.1)),
        DefType::Tuple(ts) => record_layout(arena, ts.iter().copied()),
        DefType::Flags(names) => {
            let s = flags_size(names.len());
            Layout {
                size: s,
                align: s,
                payload_offset: 0,
            }
        }
        #[cfg(feature = "async")]
        DefType::Stream(_) | DefType::Future(_) | DefType::ErrorContext => Layout {
            size: 4,
            align: 4,
            payload_offset: 0,
        },
        _ => {
            let (n, payloads) = cases_of(def).expect("variant-like");
            variant_layout(arena, n, payloads.iter(n)).0
        }
    }
}

pub(crate) fn def_flat(arena: &TypeArena, def: &DefType) -> Vec<FlatType> {
    let mut flat = Vec::new();
    match def {
        DefType::List(_) => flat.extend_from_slice(&[FlatType::I32, FlatType::I32]),
        DefType::Record(fields) => {
            for (_, t) in fields.iter() {
                flat.extend_from_slice(arena.flat(*t));
            }
        }
        DefType::Tuple(ts) => {
            for t in ts.iter() {
                flat.extend_from_slice(arena.flat(*t));
            }
        }
        DefType::Flags(_) => flat.push(FlatType::I32),
        #[cfg(feature = "async")]
        DefType::Stream(_) | DefType::Future(_) | DefType::ErrorContext => flat.push(FlatType::I32),
        _ => {
            let (n, payloads) = cases_of(def).expect("variant-like");
            flat.push(FlatType::I32);
            for ty in payloads.iter(n).flatten() {
                for (i, ft) in arena.flat(ty).iter().enumerate() {
                    match flat.get_mut(i + 1) {
                        Some(slot) => *slot = FlatType::join(*slot, *ft),
                        None => flat.push(*ft),
                    }
                }
            }
        }
    }
    flat
}
