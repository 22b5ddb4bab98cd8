//! A typed call of a function that makes a task (its type or its lift is
//! `async`; feature `async`): the task starts later than the call and may
//! suspend, so the parameters cannot be lowered straight into the callee
//! as a sync typed call does. They are converted to [`Val`](crate::Val)s
//! (lowered into host scratch memory and lifted back with the canonical
//! ABI's own code) and the call runs as [`Func::call`](crate::Func::call)
//! does; the result comes back the same way. Slower than a sync typed call,
//! and exactly the canonical ABI both ways.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::scratch::Scratch;
use super::traits::{ComponentType, Lift, LiftContext, Lower, LowerContext};
use crate::abi::lift::LiftCx;
use crate::abi::lower::{Flat, LowerCx};
use crate::abi::{StringEncoding, MAX_BYTE_LENGTH, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use crate::component::Component;
use crate::error::{Error, Result};
use crate::func::LiftedFunc;
use crate::store::StoreData;
use crate::values::Val;

/// Calls `lifted` (of `component`) with `params`, through `Val`s.
pub(crate) fn call<T: 'static, Q: ComponentType + Lower, R: Lift>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    component: &Component,
    lifted: &Arc<LiftedFunc>,
    params: Q,
) -> Result<R> {
    if Q::RESOURCES + R::RESOURCES > 0 {
        return Err(Error::unsupported(
            "typed calls of an `async` function with resource handles in its parameters or \
             result: use `Func::call` or `Func::call_async`",
        ));
    }
    let inner = &component.inner;
    let arena = &inner.arena;
    let plan = inner
        .plans
        .get(lifted.ty as usize)
        .ok_or_else(|| Error::usage("unknown function type"))?;
    let enc = StringEncoding::Utf8;

    // Q -> scratch memory -> Vals.
    let mut scratch = Scratch::default();
    let mut flat = [0u64; MAX_FLAT_PARAMS];
    let n = {
        let mut lcx = LowerContext::new(&mut scratch, enc);
        if Q::FLAT <= MAX_FLAT_PARAMS {
            let dst = flat
                .get_mut(..Q::FLAT)
                .ok_or_else(super::traits::internal)?;
            params.lower_flat(&mut lcx, dst)?;
            Q::FLAT
        } else {
            let ptr = lcx.allocate(Q::ALIGN32, Q::SIZE32)?;
            params.store(&mut lcx, ptr)?;
            flat[0] = u64::from(ptr);
            1
        }
    };
    let mut vals = Vec::with_capacity(plan.params.len());
    LiftCx {
        arena,
        mem: &mut scratch,
        enc,
    }
    .lift_values(&plan.params, &flat[..n], MAX_FLAT_PARAMS, &mut vals)?;

    let mut results: Vec<Val> = plan.result.iter().map(|_| Val::Bool(false)).collect();
    crate::concurrent::call::call_from_host(ctx, component, lifted, &vals, &mut results)?;

    // Val -> scratch memory -> R.
    let mut scratch = Scratch::default();
    let mut out = Flat::new();
    if let (Some(rt), Some(v)) = (plan.result, results.first()) {
        LowerCx {
            arena,
            mem: &mut scratch,
            enc,
        }
        .lower_values(
            core::slice::from_ref(v),
            &[rt],
            MAX_FLAT_RESULTS,
            None,
            &mut out,
        )?;
    }
    let mut lcx = LiftContext::new(&scratch.bytes, enc, MAX_BYTE_LENGTH);
    if R::FLAT <= MAX_FLAT_RESULTS {
        let src = out.get(..R::FLAT).ok_or_else(super::traits::internal)?;
        R::lift_flat(&mut lcx, src)
    } else {
        let ptr = *out.first().ok_or_else(super::traits::internal)? as u32;
        let bytes = lcx.slice(ptr, u64::from(R::SIZE32), R::ALIGN32)?;
        R::load(&mut lcx, bytes)
    }
}
