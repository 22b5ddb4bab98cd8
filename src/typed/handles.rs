//! Resource handles in the typed API: [`ResourceAny`] (any resource type)
//! and [`Resource<T>`] (a host resource type) as `own`/`borrow` values, and
//! the handle positions of a signature, found once at type-check time.
//!
//! Lifting and lowering get no component type, so each handle position's
//! static resource index (and whether it is a `borrow`) is computed from
//! the component's types when the typed function is made, in the order the
//! impls visit them (`ComponentType::RESOURCES` counts them per type).

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;
use core::any::{type_name, TypeId};

use super::layout::le;
use super::traits::{
    internal, ComponentType, Lift, LiftContext, Lower, LowerContext, ResPos, TypeRef,
};
use super::typecheck::mismatch;
use crate::component::Component;
use crate::error::{Error, Result};
use crate::resources::{Resource, ResourceAny};
use crate::types::{DefType, TypeArena, ValType};

/// Appends the handle positions of `ty` to `out`, in lift/lower order.
fn walk(arena: &TypeArena, ty: ValType, out: &mut Vec<ResPos>) {
    match ty {
        ValType::Own(r) => out.push((r, false)),
        ValType::Borrow(r) => out.push((r, true)),
        ValType::Def(i) => match arena.defs.get(i as usize) {
            Some(DefType::List(t) | DefType::Option(t)) => walk(arena, *t, out),
            Some(DefType::Record(fs)) => fs.iter().for_each(|(_, t)| walk(arena, *t, out)),
            Some(DefType::Tuple(ts)) => ts.iter().for_each(|t| walk(arena, *t, out)),
            Some(DefType::Variant(cs)) => cs
                .iter()
                .filter_map(|c| c.ty)
                .for_each(|t| walk(arena, t, out)),
            Some(DefType::Result { ok, err }) => {
                ok.iter().chain(err).for_each(|t| walk(arena, *t, out))
            }
            _ => {}
        },
        _ => {}
    }
}

/// The handle positions of `types`, checked against the count `expected`
/// of the Rust type `R` (they agree for this crate's impls and derives).
fn positions_of<R: ?Sized>(
    arena: &TypeArena,
    types: impl IntoIterator<Item = ValType>,
    expected: usize,
) -> Result<Vec<ResPos>> {
    let mut out = Vec::new();
    for t in types {
        walk(arena, t, &mut out);
    }
    if out.len() != expected {
        return Err(Error::usage(format!(
            "`{}` has {expected} resource handle positions, the component type {}",
            type_name::<R>(),
            out.len()
        )));
    }
    Ok(out)
}

/// The handle positions of a typed function's params and result.
pub(crate) struct Positions {
    pub(crate) params: Box<[ResPos]>,
    pub(crate) result: Box<[ResPos]>,
}

/// The handle positions of the params `P` and result `R` at function type
/// `ty` of `component`.
pub(crate) fn positions<P: ComponentType, R: ComponentType>(
    component: &Component,
    ty: u32,
) -> Result<Positions> {
    let arena = &component.inner.arena;
    let fty = arena
        .funcs
        .get(ty as usize)
        .ok_or_else(|| Error::usage("unknown function type"))?;
    let params = fty.params.iter().map(|(_, t)| *t);
    Ok(Positions {
        params: positions_of::<P>(arena, params, P::RESOURCES)?.into(),
        result: positions_of::<R>(arena, fty.result, R::RESOURCES)?.into(),
    })
}

fn typecheck_handle<R: ?Sized>(ty: &TypeRef<'_>) -> Result<()> {
    match ty.ty {
        ValType::Own(_) | ValType::Borrow(_) => Ok(()),
        _ => Err(mismatch::<R>(ty)),
    }
}

fn flat_index(src: &[u64]) -> Result<u32> {
    Ok(*src.first().ok_or_else(internal)? as u32)
}

fn put_index(dst: &mut [u64], i: u32) -> Result<()> {
    *dst.first_mut().ok_or_else(internal)? = u64::from(i);
    Ok(())
}

impl ComponentType for ResourceAny {
    const SIZE32: u32 = 4;
    const ALIGN32: u32 = 4;
    const FLAT: usize = 1;
    type Core = super::core::NotScalar;
    const RESOURCES: usize = 1;

    fn typecheck(ty: &TypeRef<'_>) -> Result<()> {
        typecheck_handle::<Self>(ty)
    }
}

impl Lift for ResourceAny {
    fn lift_flat(cx: &mut LiftContext<'_>, src: &[u64]) -> Result<Self> {
        cx.lift_any(flat_index(src)?)
    }

    fn load(cx: &mut LiftContext<'_>, bytes: &[u8]) -> Result<Self> {
        cx.lift_any(u32::from_le_bytes(le(bytes)?))
    }
}

impl Lower for ResourceAny {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, dst: &mut [u64]) -> Result<()> {
        let i = cx.lower_any(self)?;
        put_index(dst, i)
    }

    fn store(&self, cx: &mut LowerContext<'_>, ptr: u32) -> Result<()> {
        let i = cx.lower_any(self)?;
        cx.write(ptr, &i.to_le_bytes())
    }
}

impl<T: 'static> ComponentType for Resource<T> {
    const SIZE32: u32 = 4;
    const ALIGN32: u32 = 4;
    const FLAT: usize = 1;
    type Core = super::core::NotScalar;
    const RESOURCES: usize = 1;

    fn typecheck(ty: &TypeRef<'_>) -> Result<()> {
        typecheck_handle::<Self>(ty)
    }
}

fn lift_resource<T: 'static>(cx: &mut LiftContext<'_>, i: u32) -> Result<Resource<T>> {
    let (rep, own) = cx.lift_host(i, TypeId::of::<T>())?;
    Ok(if own {
        Resource::new_own(rep)
    } else {
        Resource::new_borrow(rep)
    })
}

impl<T: 'static> Lift for Resource<T> {
    fn lift_flat(cx: &mut LiftContext<'_>, src: &[u64]) -> Result<Self> {
        lift_resource(cx, flat_index(src)?)
    }

    fn load(cx: &mut LiftContext<'_>, bytes: &[u8]) -> Result<Self> {
        lift_resource(cx, u32::from_le_bytes(le(bytes)?))
    }
}

impl<T: 'static> Lower for Resource<T> {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, dst: &mut [u64]) -> Result<()> {
        let i = cx.lower_host(TypeId::of::<T>(), self.rep(), self.owned())?;
        put_index(dst, i)
    }

    fn store(&self, cx: &mut LowerContext<'_>, ptr: u32) -> Result<()> {
        let i = cx.lower_host(TypeId::of::<T>(), self.rep(), self.owned())?;
        cx.write(ptr, &i.to_le_bytes())
    }
}
