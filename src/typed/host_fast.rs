//! The guest-to-host call of a typed host function whose values need no
//! memory and hold no handles (a lowering without a `memory` option, no
//! resource positions, params and result flat): scalars, and records and
//! variants of them, such as `add(a: u32, b: u32) -> u32`. Nothing is
//! accounted against the per-call host budget and nothing is lent, so the
//! call skips that bookkeeping: `may_leave`, lift, fuel, call, lower.

use super::traits::{ComponentNamedList, ComponentType, Lift, LiftContext, Lower, LowerContext};
use crate::abi::FUEL_PER_CALL;
use crate::boundary::charge_fuel;
use crate::error::{Error, Result, TrapKind};
use crate::func::Options;
use crate::store::{StoreContextMut, StoreData};

/// Whether a host function of params `P` and result `R`, lowered with
/// options `o`, can take [`call_scalar`].
#[inline]
pub(super) fn applies<P: ComponentType, R: ComponentType>(o: &Options) -> bool {
    o.memory.is_none()
        && P::RESOURCES == 0
        && R::RESOURCES == 0
        && P::FLAT <= crate::abi::MAX_FLAT_PARAMS
        && R::FLAT <= crate::abi::MAX_FLAT_RESULTS
}

/// One guest-to-host call where [`applies`] holds. Fails as the full path
/// does: a `may_leave` trap, a lifting trap (a bad discriminant or char),
/// out of fuel, the host function's error.
#[inline]
pub(super) fn call_scalar<T, P, R, F>(
    f: &F,
    o: &Options,
    caller: &mut wasmi::Caller<'_, StoreData<T>>,
    raw: &[u64],
    out: &mut [u64],
) -> Result<()>
where
    T: 'static,
    P: ComponentNamedList + Lift,
    R: ComponentType + Lower,
    F: Fn(StoreContextMut<'_, T>, P) -> Result<R>,
{
    caller
        .data_mut()
        .check_may_leave(o.instance, crate::func::MAY_NOT_LEAVE)?;
    let params = {
        let max_bytes = caller.data().limits.max_lift_bytes;
        let mut lcx = LiftContext::new(&[], o.encoding, max_bytes);
        let src = raw.get(..P::FLAT).ok_or_else(bad_args)?;
        P::lift_flat(&mut lcx, src)?
    };
    charge_fuel(caller, FUEL_PER_CALL)?;
    let r = f(
        StoreContextMut {
            inner: wasmi::AsContextMut::as_context_mut(caller),
        },
        params,
    )?;
    // Without a memory option there is nothing to write to but the flat
    // results.
    let mut none = crate::abi::NoMemory;
    let mut lcx = LowerContext::new(&mut none, o.encoding);
    let dst = out.get_mut(..R::FLAT).ok_or_else(bad_args)?;
    r.lower_flat(&mut lcx, dst)
}

#[cold]
fn bad_args() -> Error {
    Error::trap(
        TrapKind::Other,
        "internal: core arguments do not match the signature",
    )
}
