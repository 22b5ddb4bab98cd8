//! Calling a typed host function with dynamic values (`Func::call` on a
//! re-exported import): the `Val`s are lowered with the dynamic lowering
//! into a host-side scratch memory and lifted from there as `P`; `R` goes
//! back the same way. Slow, but exactly the canonical ABI both ways.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::scratch::Scratch;
use super::traits::{ComponentNamedList, ComponentType, Lift, LiftContext, Lower, LowerContext};
use crate::abi::lift::LiftCx;
use crate::abi::lower::{Flat, LowerCx};
use crate::abi::{StringEncoding, MAX_BYTE_LENGTH, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use crate::component::Component;
use crate::error::{Error, Result};
use crate::linker::HostFn;
use crate::store::StoreContextMut;
use crate::values::Val;

/// The dynamic form of typed host function `f` at function type `ty`.
pub(crate) fn adapter<T, P, R, F>(f: Arc<F>, component: Component, ty: u32) -> Arc<HostFn<T>>
where
    T: 'static,
    P: ComponentNamedList + Lift + 'static,
    R: ComponentType + Lower + 'static,
    F: Fn(StoreContextMut<'_, T>, P) -> Result<R> + Send + Sync + 'static,
{
    Arc::new(move |cx, params, results| call(&*f, &component, ty, cx, params, results))
}

fn call<T, P, R, F>(
    f: &F,
    component: &Component,
    ty: u32,
    cx: StoreContextMut<'_, T>,
    params: &[Val],
    results: &mut [Val],
) -> Result<()>
where
    P: ComponentNamedList + Lift,
    R: ComponentType + Lower,
    F: Fn(StoreContextMut<'_, T>, P) -> Result<R>,
{
    if P::RESOURCES + R::RESOURCES > 0 {
        return Err(Error::usage(
            "a typed host function with resource handles cannot be called with dynamic values",
        ));
    }
    let inner = &component.inner;
    let arena = &inner.arena;
    let plan = inner
        .plans
        .get(ty as usize)
        .ok_or_else(|| Error::usage("unknown function type"))?;
    let enc = StringEncoding::Utf8;

    // Vals -> scratch memory -> P.
    let mut scratch = Scratch::default();
    let mut flat = Flat::new();
    LowerCx {
        arena,
        mem: &mut scratch,
        enc,
    }
    .lower_values(params, &plan.params, MAX_FLAT_PARAMS, None, &mut flat)?;
    let p = {
        let mut lcx = LiftContext::new(&scratch.bytes, enc, MAX_BYTE_LENGTH);
        if P::FLAT <= MAX_FLAT_PARAMS {
            let src = flat.get(..P::FLAT).ok_or_else(super::traits::internal)?;
            P::lift_flat(&mut lcx, src)?
        } else {
            let ptr = *flat.first().ok_or_else(super::traits::internal)? as u32;
            let bytes = lcx.slice(ptr, u64::from(P::SIZE32), P::ALIGN32)?;
            P::load(&mut lcx, bytes)?
        }
    };

    let r = f(cx, p)?;

    // R -> scratch memory -> Val.
    let Some(rt) = plan.result else {
        return Ok(());
    };
    let mut scratch = Scratch::default();
    let mut out = [0u64; 1];
    {
        let mut lcx = LowerContext::new(&mut scratch, enc);
        if R::FLAT <= MAX_FLAT_RESULTS {
            r.lower_flat(&mut lcx, &mut out[..R::FLAT])?;
        } else {
            let ptr = lcx.allocate(R::ALIGN32, R::SIZE32)?;
            r.store(&mut lcx, ptr)?;
            out[0] = u64::from(ptr);
        }
    }
    let mut vals = Vec::with_capacity(1);
    LiftCx {
        arena,
        mem: &mut scratch,
        enc,
    }
    .lift_values(&[rt], &out, MAX_FLAT_RESULTS, &mut vals)?;
    if let (Some(slot), Some(v)) = (results.first_mut(), vals.pop()) {
        *slot = v;
    }
    Ok(())
}
