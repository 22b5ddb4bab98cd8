//! The rules at a component boundary, shared by every kind of call:
//! entering and leaving instances (reentrance, CanonicalABI.md's
//! `may_enter_from`/`enter_from`/`leave_to`, poisoning after a trap),
//! `may_leave` around `realloc`, and fuel for the component layer's work.

use smallvec::SmallVec;

use crate::error::{from_wasmi, Error, Result, TrapKind};
use crate::store::StoreData;

/// Charges `units` of fuel for the component layer's work, if the engine
/// meters fuel: a deterministic trap when it runs out.
#[inline]
pub(crate) fn charge_fuel<T>(
    ctx: &mut impl wasmi::AsContextMut<Data = StoreData<T>>,
    units: u64,
) -> Result<()> {
    // Most engines do not meter: one load and a branch.
    if !ctx.as_context().data().consume_fuel || units == 0 {
        return Ok(());
    }
    charge_metered(ctx, units)
}

#[inline(never)]
fn charge_metered<T>(
    ctx: &mut impl wasmi::AsContextMut<Data = StoreData<T>>,
    units: u64,
) -> Result<()> {
    let mut cx = ctx.as_context_mut();
    let fuel = cx.get_fuel().map_err(from_wasmi)?;
    if fuel < units {
        cx.set_fuel(0).map_err(from_wasmi)?;
        return Err(Error::trap(
            TrapKind::OutOfFuel,
            "all fuel consumed by the component layer (lifting, lowering or a call)",
        ));
    }
    cx.set_fuel(fuel - units).map_err(from_wasmi)
}

/// The trap message of a call of another component's function out of an
/// instance that may not leave (from `realloc` or `post-return`).
pub(crate) const CALL_MAY_NOT_LEAVE: &str =
    "a function was called while the instance may not leave (from realloc or post-return)";

/// The trap message of a host import called while its caller may not leave.
pub(crate) const IMPORT_MAY_NOT_LEAVE: &str =
    "an import was called while the instance may not leave (from realloc or post-return)";

/// The start of a call out of instance `instance` (a lowered function
/// called): traps with `message` if the instance may not leave, then
/// charges the call's fuel.
#[inline]
pub(crate) fn call_out<T>(
    ctx: &mut impl wasmi::AsContextMut<Data = StoreData<T>>,
    instance: u32,
    message: &'static str,
) -> Result<()> {
    ctx.as_context_mut()
        .data_mut()
        .check_may_leave(instance, message)?;
    charge_fuel(ctx, crate::abi::FUEL_PER_CALL)
}

/// Calls instance `instance`'s canonical `realloc(old_ptr, old_size, align,
/// new_size)`, charging fuel and with may_leave cleared (it may not call imports).
pub(crate) fn call_realloc<T>(
    ctx: &mut impl wasmi::AsContextMut<Data = StoreData<T>>,
    realloc: Option<wasmi::TypedFunc<(i32, i32, i32, i32), i32>>,
    instance: u32,
    args: [u32; 4],
) -> Result<u32> {
    let f = realloc.ok_or_else(|| Error::trap(TrapKind::Other, "no `realloc` canonical option"))?;
    charge_fuel(ctx, crate::abi::FUEL_PER_REALLOC)?;
    set_may_leave(ctx, instance, false)?;
    let [a, b, c, d] = args;
    let r = f.call(&mut *ctx, (a as i32, b as i32, c as i32, d as i32));
    set_may_leave(ctx, instance, true)?;
    r.map(|p| p as u32).map_err(from_wasmi)
}

pub(crate) fn set_may_leave<T>(
    ctx: &mut impl wasmi::AsContextMut<Data = StoreData<T>>,
    instance: u32,
    v: bool,
) -> Result<()> {
    ctx.as_context_mut().data_mut().flags(instance)?.may_leave = v;
    Ok(())
}

/// The instances a call enters: the callee and its ancestors, minus those
/// the caller is already inside (CanonicalABI.md, `entering_set`).
pub(crate) type EnterSet = SmallVec<[u32; 4]>;

pub(crate) fn self_and_ancestors<T>(data: &StoreData<T>, instance: u32) -> EnterSet {
    let mut set = EnterSet::new();
    let mut next = Some(instance);
    while let Some(i) = next {
        // Parents are created before children, so this chain ends.
        if set.contains(&i) {
            break;
        }
        set.push(i);
        next = data.instances.get(i as usize).and_then(|f| f.parent);
    }
    set
}

/// `may_enter_from` + `enter_from`: traps if any instance of the entering
/// set may not be entered (or trapped before), then marks them entered.
pub(crate) fn enter<T>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    callee: u32,
    caller: Option<u32>,
) -> Result<EnterSet> {
    let data = ctx.data_mut();
    let set = entering_set(data, callee, caller);
    enter_set(data, &set)?;
    Ok(set)
}

/// The instances a call from `caller` (the host if `None`) into `callee`
/// enters: the callee and its ancestors, less the caller's own.
pub(crate) fn entering_set<T>(data: &StoreData<T>, callee: u32, caller: Option<u32>) -> EnterSet {
    let mut set = self_and_ancestors(data, callee);
    if let Some(c) = caller {
        let theirs = self_and_ancestors(data, c);
        set.retain(|i| !theirs.contains(i));
    }
    set
}

/// Enters the instances of an entering set: traps if one trapped before or
/// is already on the call stack, else marks them all entered.
// Always inlined: it is most of a call's fixed cost, and the async hook
// would otherwise tip it over the inliner's threshold (+21 instructions a
// typed call, callgrind).
#[inline(always)]
pub(crate) fn enter_set<T>(data: &mut StoreData<T>, set: &[u32]) -> Result<()> {
    // Every nested call enters a (possibly empty) set: count its depth here.
    data.enter_depth()?;
    for &i in set {
        let err = match data.flags(i) {
            Err(e) => e,
            Ok(flags) if flags.poisoned => {
                Error::trap(TrapKind::Poisoned, "the instance trapped earlier")
            }
            Ok(flags) if !flags.may_enter => Error::trap(
                TrapKind::CannotEnter,
                "the instance is already on the call stack (reentrance)",
            ),
            Ok(_) => continue,
        };
        data.leave_depth();
        return Err(err);
    }
    for &i in set {
        data.flags(i)?.may_enter = false;
    }
    #[cfg(feature = "async")]
    if let Some(s) = data.async_state.as_deref_mut() {
        s.enter(data.depth);
    }
    Ok(())
}

/// `leave_to`; a trap poisons every instance the call entered.
pub(crate) fn leave<T, R>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    set: &EnterSet,
    r: &Result<R>,
) -> Result<()> {
    leave_set(ctx.data_mut(), set, r)
}

/// `leave_to` over an entering set; a trap poisons them all.
#[inline]
pub(crate) fn leave_set<T, R>(data: &mut StoreData<T>, set: &[u32], r: &Result<R>) -> Result<()> {
    #[cfg(feature = "async")]
    if let Some(s) = data.async_state.as_deref_mut() {
        s.leave(data.depth);
    }
    data.leave_depth();
    let trapped = matches!(r, Err(e) if e.is_trap());
    for &i in set {
        let flags = data.flags(i)?;
        flags.may_enter = true;
        flags.poisoned |= trapped;
    }
    Ok(())
}
