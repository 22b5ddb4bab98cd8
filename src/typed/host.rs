//! Typed host functions: `LinkerInstance::func_wrap`, their type check at
//! link time, and the core functions guests call them through.
//!
//! A guest's call lifts `P` straight from the core arguments (or guest
//! memory) and lowers `R` straight into the core result (or the return
//! pointer). The core function is a `wasmi::Func::wrap` closure whenever
//! the core signature is one the Rust types spell out (all-scalar params)
//! or is made of pointers only, so such calls copy and allocate nothing.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use core::any::{type_name, Any};
use smallvec::SmallVec;

use super::core::RawHost;
#[cfg(feature = "static-core-calls")]
use super::core::{wrap_host, CoreList};
use super::handles::{positions, Positions};
use super::traits::{
    ComponentNamedList, ComponentType, Lift, LiftContext, Lower, LowerContext, ParamsRef, TypeRef,
};
use super::typecheck::within;
use crate::abi::{FUEL_PER_CALL, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use crate::boundary::charge_fuel;
use crate::component::Component;
use crate::error::{Error, Result, TrapKind};
use crate::func::{from_raw, lowered_type, to_raw, Func, FuncKind, Options, WasmiMem};
use crate::linker::{Definition, HostFn, LinkerInstance};
use crate::store::{StoreContextMut, StoreData};

/// Makes the raw host function for one lowering (its canonical options
/// and the handle positions of its params and result).
type MakeRaw<T> = dyn Fn(Options, Arc<Positions>) -> RawHost<T> + Send + Sync;

/// Wraps a raw host function for the static core params of `P`, if the
/// lowered signature is exactly that.
#[cfg(feature = "static-core-calls")]
type WrapStatic<T> = fn(
    &mut StoreContextMut<'_, T>,
    RawHost<T>,
    &[wasmi::ValType],
    &[wasmi::ValType],
) -> Option<wasmi::Func>;

/// A host function defined with [`LinkerInstance::func_wrap`].
pub(crate) struct TypedHost<T> {
    check: fn(&Component, u32) -> Result<()>,
    positions: fn(&Component, u32) -> Result<Positions>,
    make_raw: Box<MakeRaw<T>>,
    #[cfg(feature = "static-core-calls")]
    wrap_static: WrapStatic<T>,
    #[cfg(feature = "typed-host-val-calls")]
    make_dynamic: Box<MakeDynamic<T>>,
}

/// Makes the dynamic form of a typed host function for a function type.
#[cfg(feature = "typed-host-val-calls")]
type MakeDynamic<T> = dyn Fn(&Component, u32) -> Arc<HostFn<T>> + Send + Sync;

/// A typed host function as a component function of one type: what the
/// [`Func`] of an import it satisfies holds.
struct TypedHostAt<T> {
    host: Arc<TypedHost<T>>,
    /// For calls with [`Val`](crate::Val)s (a re-exported import).
    #[cfg(feature = "typed-host-val-calls")]
    dynamic: Arc<HostFn<T>>,
}

impl<T> TypedHost<T> {
    /// Checks the Rust types against function type `ty` of `component`;
    /// the error names both.
    pub(crate) fn typecheck(&self, component: &Component, ty: u32) -> Result<()> {
        (self.check)(component, ty)
    }
}

impl<T: 'static> TypedHost<T> {
    /// A component function (of import type `ty`) for this host function.
    pub(crate) fn func(self: &Arc<Self>, store_id: usize, component: &Component, ty: u32) -> Func {
        let at = TypedHostAt {
            host: self.clone(),
            #[cfg(feature = "typed-host-val-calls")]
            dynamic: (self.make_dynamic)(component, ty),
        };
        Func {
            store_id,
            component: component.clone(),
            kind: FuncKind::Host {
                host: Arc::new(at),
                ty,
            },
        }
    }
}

/// The `P -> R` check of a typed host function against a function type.
fn check<P, R>(component: &Component, ty: u32) -> Result<()>
where
    P: ComponentNamedList,
    R: ComponentType,
{
    let inner = &component.inner;
    let arena = &inner.arena;
    let (Some(fty), Some(plan)) = (arena.funcs.get(ty as usize), inner.plans.get(ty as usize))
    else {
        return Err(Error::usage("unknown function type"));
    };
    let checked = P::typecheck_params(&ParamsRef {
        arena,
        params: &fty.params,
    })
    .and_then(|()| {
        let result = fty.result.map(|t| TypeRef::new(arena, t));
        R::typecheck_payload(result.as_ref()).map_err(|e| within(e, "result"))
    });
    let detail = match checked {
        Err(e) => String::from(e.message()),
        Ok(()) => {
            let n_params = if P::FLAT <= MAX_FLAT_PARAMS {
                P::FLAT
            } else {
                1
            };
            let spilled = usize::from(R::FLAT > MAX_FLAT_RESULTS);
            if plan.lower_params.len() == n_params + spilled
                && plan.lower_results.len() == R::FLAT.min(MAX_FLAT_RESULTS) * (1 - spilled)
            {
                match positions::<P, R>(component, ty) {
                    Ok(_) => return Ok(()),
                    Err(e) => String::from(e.message()),
                }
            } else {
                String::from("the Rust types' layout disagrees with the core signature")
            }
        }
    };
    Err(Error::usage(format!(
        "expected `{}`, but the host function takes `{}` and returns `{}`: {detail}",
        arena.func_to_public(ty),
        type_name::<P>(),
        type_name::<R>()
    )))
}

/// The raw host function of `f` for a lowering with options `o`.
fn raw_host<T, P, R, F>(f: Arc<F>, o: Options, res: Arc<Positions>) -> RawHost<T>
where
    T: 'static,
    P: ComponentNamedList + Lift + 'static,
    R: ComponentType + Lower + 'static,
    F: Fn(StoreContextMut<'_, T>, P) -> Result<R> + Send + Sync + 'static,
{
    RawHost(Arc::new(move |caller, raw, out| {
        call_typed(&*f, &o, &res, caller, raw, out)
    }))
}

/// One guest-to-host call: `may_leave`, lift `P`, call, lower `R`.
#[inline]
fn call_typed<T, P, R, F>(
    f: &F,
    o: &Options,
    res: &Positions,
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
    // No memory, no handles: none of the bookkeeping below is needed.
    if super::host_fast::applies::<P, R>(o) {
        return super::host_fast::call_scalar(f, o, caller, raw, out);
    }
    caller
        .data_mut()
        .check_may_leave(o.instance, crate::func::MAY_NOT_LEAVE)?;
    let (params, fuel, lent) = {
        let max_bytes = caller.data().limits.max_lift_bytes;
        let store_id = caller.data().id;
        let (fuel_left, budget) = super::func::lift_bounds(caller, FUEL_PER_CALL);
        let (memory, data): (&[u8], &mut StoreData<T>) = match o.memory {
            Some(m) if P::FLAT > 0 => {
                let (memory, data) = m.data_and_store_mut(&mut *caller);
                (memory, data)
            }
            _ => (&[], caller.data_mut()),
        };
        let mut lcx = LiftContext::new(memory, o.encoding, max_bytes)
            .with_budget(fuel_left, budget)
            .with_handles(data, o.instance, &res.params)
            .with_view(o.memory, store_id);
        let p = if P::FLAT <= MAX_FLAT_PARAMS {
            raw.get(..P::FLAT)
                .ok_or_else(bad_args)
                .and_then(|src| P::lift_flat(&mut lcx, src))
        } else {
            raw.first()
                .ok_or_else(bad_args)
                .and_then(|ptr| lcx.slice(*ptr as u32, u64::from(P::SIZE32), P::ALIGN32))
                .and_then(|bytes| P::load(&mut lcx, bytes))
        };
        (p, lcx.fuel, core::mem::take(&mut lcx.lent))
    };
    // Borrows lifted for the call end with it.
    let r = params.and_then(|params| {
        charge_fuel(caller, FUEL_PER_CALL + fuel)?;
        f(
            StoreContextMut {
                inner: wasmi::AsContextMut::as_context_mut(caller),
            },
            params,
        )
    });
    lent.release(caller.data_mut());
    let r = r?;
    let mut mem = WasmiMem::new(&mut *caller, o);
    let mut lcx = LowerContext::new(&mut mem, o.encoding).with_resources(&res.result);
    let lowered = if R::FLAT <= MAX_FLAT_RESULTS {
        out.get_mut(..R::FLAT)
            .ok_or_else(bad_args)
            .and_then(|out| r.lower_flat(&mut lcx, out))
    } else {
        raw.last().ok_or_else(bad_args).and_then(|ptr| {
            let ptr = *ptr as u32;
            crate::abi::lift::check_align(ptr, R::ALIGN32)?;
            lcx.slice_mut(ptr, u64::from(R::SIZE32))?;
            r.store(&mut lcx, ptr)
        })
    };
    if lowered.is_err() {
        // The host keeps the handles of a result the guest did not get.
        let moved = core::mem::take(&mut mem.moved);
        moved.undo(caller.data_mut());
    }
    lowered
}

#[cold]
fn bad_args() -> Error {
    Error::trap(
        TrapKind::Other,
        "internal: core arguments do not match the signature",
    )
}

/// [`WrapStatic`] for the core params `CL`.
#[cfg(feature = "static-core-calls")]
fn wrap_static<T: 'static, CL: CoreList>(
    cx: &mut StoreContextMut<'_, T>,
    f: RawHost<T>,
    params: &[wasmi::ValType],
    results: &[wasmi::ValType],
) -> Option<wasmi::Func> {
    if CL::matches(params) {
        wrap_host::<T, CL>(cx, f, results)
    } else {
        None
    }
}

/// A statically typed core function for `raw`, if its core signature is
/// the Rust types' or made of pointers only.
#[cfg(feature = "static-core-calls")]
fn static_host<T: 'static>(
    h: &TypedHost<T>,
    store: &mut StoreContextMut<'_, T>,
    raw: &RawHost<T>,
    params: &[wasmi::ValType],
    results: &[wasmi::ValType],
) -> Option<wasmi::Func> {
    (h.wrap_static)(store, raw.clone(), params, results).or_else(|| {
        if !params.iter().all(|t| *t == wasmi::ValType::I32) {
            return None;
        }
        let f = raw.clone();
        match params.len() {
            1 => wrap_host::<T, (i32,)>(store, f, results),
            2 => wrap_host::<T, (i32, i32)>(store, f, results),
            3 => wrap_host::<T, (i32, i32, i32)>(store, f, results),
            4 => wrap_host::<T, (i32, i32, i32, i32)>(store, f, results),
            _ => None,
        }
    })
}

/// Without `static-core-calls`, every typed host function is called
/// through wasmi's dynamic calls.
#[cfg(not(feature = "static-core-calls"))]
fn static_host<T: 'static>(
    _: &TypedHost<T>,
    _: &mut StoreContextMut<'_, T>,
    _: &RawHost<T>,
    _: &[wasmi::ValType],
    _: &[wasmi::ValType],
) -> Option<wasmi::Func> {
    None
}

/// The core function a guest calls for typed host function `host` lowered
/// at type `ty` with `options`; `None` if `host` is not a typed host
/// function of store data `T`.
pub(crate) fn lower_typed_host<T: 'static>(
    host: &Arc<dyn Any + Send + Sync>,
    store: &mut StoreContextMut<'_, T>,
    component: &Component,
    ty: u32,
    options: Options,
) -> Option<wasmi::Func> {
    let h = &host.downcast_ref::<TypedHostAt<T>>()?.host;
    let plan = component.inner.plans.get(ty as usize)?;
    let positions = (h.positions)(component, ty).ok()?;
    let raw = (h.make_raw)(options, Arc::new(positions));
    let (params, results) = (&*plan.lower_params, &*plan.lower_results);
    let fast = static_host(h, store, &raw, params, results);
    Some(fast.unwrap_or_else(|| {
        let result_ty = results.first().copied();
        wasmi::Func::new(
            &mut store.inner,
            lowered_type(component, ty),
            move |mut caller, args, results| {
                let raw_args: SmallVec<[u64; 17]> = args.iter().map(to_raw).collect();
                let mut out = [0u64; 1];
                (raw.0)(&mut caller, &raw_args, &mut out).map_err(wasmi::Error::host)?;
                if let (Some(slot), Some(t)) = (results.first_mut(), result_ty) {
                    *slot = from_raw(out[0], t);
                }
                Ok(())
            },
        )
    }))
}

/// The dynamic ([`Val`](crate::Val)) form of a typed host function, for
/// `host_fn`: `None` if `host` is not a typed host function of store data
/// `T`, an "unsupported" error if the crate was built without it.
pub(crate) fn dynamic_of_typed<T: 'static>(
    host: &Arc<dyn Any + Send + Sync>,
) -> Option<Result<Arc<HostFn<T>>>> {
    let _at = host.downcast_ref::<TypedHostAt<T>>()?;
    #[cfg(feature = "typed-host-val-calls")]
    return Some(Ok(_at.dynamic.clone()));
    #[cfg(not(feature = "typed-host-val-calls"))]
    Some(Err(Error::unsupported(
        "calling a `func_wrap` host function with `Val`s (componentry was built without \
         its `typed-host-val-calls` feature)",
    )))
}

impl<T: 'static> LinkerInstance<'_, T> {
    /// Defines a host function `name` taking the parameter tuple `P` and
    /// returning `R` as Rust values, e.g.
    /// `func_wrap("add", |_cx, (a, b): (u32, u32)| Ok(a + b))`.
    ///
    /// The types are checked against the component's import when a
    /// component is instantiated: a mismatch is a link error naming the
    /// import and both types. Returning an error from `func` traps the
    /// calling component. A warm call whose parameters and result are all
    /// scalars does not allocate.
    ///
    /// Fails with a usage error if `name` is already defined (and
    /// shadowing is off).
    pub fn func_wrap<P, R, F>(&mut self, name: &str, func: F) -> Result<()>
    where
        P: ComponentNamedList + Lift + 'static,
        R: ComponentType + Lower + 'static,
        F: Fn(StoreContextMut<'_, T>, P) -> Result<R> + Send + Sync + 'static,
    {
        let f = Arc::new(func);
        #[cfg(feature = "typed-host-val-calls")]
        let g = f.clone();
        let host = TypedHost {
            check: check::<P, R>,
            positions: positions::<P, R>,
            make_raw: Box::new(move |o, res| raw_host::<T, P, R, F>(f.clone(), o, res)),
            #[cfg(feature = "static-core-calls")]
            wrap_static: wrap_static::<T, P::CoreParams>,
            #[cfg(feature = "typed-host-val-calls")]
            make_dynamic: Box::new(move |component, ty| {
                super::dynamic::adapter::<T, P, R, F>(g.clone(), component.clone(), ty)
            }),
        };
        self.insert(name, Definition::TypedFunc(Arc::new(host)))
    }
}
