//! `Func`: a component function (lifted export or host import), the export
//! call path, and the trampolines that run host imports for guests.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use smallvec::SmallVec;

use crate::abi::lift::LiftCx;
use crate::abi::lower::{Flat, LowerCx};
use crate::abi::{StringEncoding, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use crate::component::Component;
use crate::error::{from_wasmi, Error, ErrorKind, Result, TrapKind};
use crate::linker::HostFn;
use crate::store::{AsContextMut, StoreContextMut, StoreData};
use crate::types::FuncType;
use crate::values::Val;
pub(crate) use crate::wasmi_mem::{Lent, WasmiMem};

use crate::boundary::{enter_set, entering_set, leave_set, set_may_leave, EnterSet};

pub(crate) use crate::boundary::IMPORT_MAY_NOT_LEAVE as MAY_NOT_LEAVE;

/// The resolved canonical options of a lift or lower.
#[derive(Clone, Copy)]
pub(crate) struct Options {
    pub memory: Option<wasmi::Memory>,
    pub realloc: Option<wasmi::TypedFunc<(i32, i32, i32, i32), i32>>,
    pub post_return: Option<wasmi::Func>,
    /// `post_return` when its core type is `(i32) -> ()` (a function
    /// returning a pointer, as most post-returns do): called without
    /// wasmi's dynamic type checks.
    pub post_return_i32: Option<wasmi::TypedFunc<i32, ()>>,
    pub encoding: StringEncoding,
    /// The component instance (index of its flags in the store).
    pub instance: u32,
    /// The callback of an `async (callback f)` lift (feature `async`).
    #[cfg(feature = "async")]
    pub callback: Option<wasmi::Func>,
    /// The `async` option (feature `async`).
    #[cfg(feature = "async")]
    pub is_async: bool,
}

/// A core function lifted with `canon lift`.
pub(crate) struct LiftedFunc {
    pub core: wasmi::Func,
    pub ty: u32,
    pub options: Options,
    /// The instances a call from the host enters: the lifting instance and
    /// its ancestors (instances never change parents).
    pub entering: EnterSet,
    /// `core` with a static signature, when it has a common one.
    pub fast: crate::core_wrap::FastCall,
    /// A call makes a task of the async runtime: the type is `async` or
    /// the lift is (feature `async`).
    #[cfg(feature = "async")]
    pub is_task: bool,
}

/// A `func_new` host function: its `Val` form, and how a lowering makes the
/// core function a guest calls. `lower` is [`lower_host`], taken by
/// `func_new`, so that a build which defines no such function holds none
/// of the dynamic lift and lower code for host calls (a firmware on
/// `bindgen!`). Held type-erased in [`FuncKind::Host`].
pub(crate) struct ValHost<T> {
    pub f: Arc<HostFn<T>>,
    pub lower: LowerHost<T>,
    /// An `async` host function (`func_new_async`; feature `async`): `f`
    /// then refuses to be called synchronously.
    #[cfg(feature = "async")]
    pub future: Option<Arc<crate::concurrent::host::AsyncHostFn<T>>>,
}

/// See [`ValHost::lower`].
pub(crate) type LowerHost<T> =
    fn(&mut StoreContextMut<'_, T>, &Component, u32, Options, &ValHost<T>) -> Result<wasmi::Func>;

impl<T> Clone for ValHost<T> {
    fn clone(&self) -> Self {
        ValHost {
            f: self.f.clone(),
            lower: self.lower,
            #[cfg(feature = "async")]
            future: self.future.clone(),
        }
    }
}

#[derive(Clone)]
pub(crate) enum FuncKind {
    Lifted(Arc<LiftedFunc>),
    Host {
        host: Arc<dyn Any + Send + Sync>,
        ty: u32,
    },
}

/// A component function of an [`Instance`](crate::Instance): call it with
/// dynamic values through [`Func::call`].
#[derive(Clone)]
pub struct Func {
    pub(crate) store_id: usize,
    pub(crate) component: Component,
    pub(crate) kind: FuncKind,
}

pub(crate) fn host_fn<T: 'static>(host: &Arc<dyn Any + Send + Sync>) -> Result<Arc<HostFn<T>>> {
    match host.downcast_ref::<ValHost<T>>() {
        Some(h) => Ok(h.f.clone()),
        None => crate::typed::dynamic_of_typed::<T>(host)
            .unwrap_or_else(|| Err(Error::usage("host function of another store data type"))),
    }
}

pub(crate) fn to_raw(v: &wasmi::Val) -> u64 {
    match v {
        wasmi::Val::I32(x) => u64::from(*x as u32),
        wasmi::Val::I64(x) => *x as u64,
        wasmi::Val::F32(x) => u64::from(x.to_bits()),
        wasmi::Val::F64(x) => x.to_bits(),
        _ => 0,
    }
}

pub(crate) fn from_raw(bits: u64, ty: wasmi::ValType) -> wasmi::Val {
    match ty {
        wasmi::ValType::I64 => wasmi::Val::I64(bits as i64),
        wasmi::ValType::F32 => wasmi::Val::F32(wasmi::F32::from_bits(bits as u32)),
        wasmi::ValType::F64 => wasmi::Val::F64(wasmi::F64::from_bits(bits)),
        _ => wasmi::Val::I32(bits as u32 as i32),
    }
}

impl Func {
    pub(crate) fn lifted(store_id: usize, component: &Component, f: LiftedFunc) -> Func {
        Func {
            store_id,
            component: component.clone(),
            kind: FuncKind::Lifted(Arc::new(f)),
        }
    }

    pub(crate) fn host<T: 'static>(
        store_id: usize,
        component: &Component,
        host: ValHost<T>,
        ty: u32,
    ) -> Func {
        Func {
            store_id,
            component: component.clone(),
            kind: FuncKind::Host {
                host: Arc::new(host),
                ty,
            },
        }
    }

    fn ty_index(&self) -> u32 {
        match &self.kind {
            FuncKind::Lifted(l) => l.ty,
            FuncKind::Host { ty, .. } => *ty,
        }
    }

    /// The function's component type.
    pub fn ty(&self) -> FuncType {
        self.component.inner.arena.func_to_public(self.ty_index())
    }

    /// Checks that a dynamic call uses this function's store and has the
    /// right numbers of arguments and result slots.
    pub(crate) fn check_call(
        &self,
        store_id: usize,
        n_params: usize,
        n_results: usize,
    ) -> Result<()> {
        if store_id != self.store_id {
            return Err(Error::usage(
                "function used with a store that does not own it",
            ));
        }
        let fty = self
            .component
            .inner
            .arena
            .funcs
            .get(self.ty_index() as usize)
            .ok_or_else(|| Error::usage("unknown function type"))?;
        if n_params != fty.params.len() {
            return Err(Error::usage(format!(
                "expected {} arguments, got {n_params}",
                fty.params.len(),
            )));
        }
        let expected = usize::from(fty.result.is_some());
        if n_results != expected {
            return Err(Error::usage(format!(
                "expected {expected} result slots, got {n_results}",
            )));
        }
        Ok(())
    }

    /// Calls the function like [`Func::call`], as a future (feature
    /// `async`). For a function that makes a task (its type or its lift is
    /// `async`), each poll runs the store's threads until the call
    /// returns, or until only host futures (of `func_new_async` functions)
    /// can make progress: then it is `Pending` and the host futures wake
    /// the caller's waker. Any executor, or a `block_on`, drives it; a
    /// `no_std` host can poll it with [`Waker::noop`](core::task::Waker::noop)
    /// in its main loop (each poll runs until the store is idle). Other
    /// functions run to completion in the first poll.
    ///
    /// Fails as [`Func::call`] does; a task that waits for something no
    /// thread and no host future can provide is a
    /// [`TrapKind::Deadlock`]. Dropping the future before it completes
    /// requests the task's cancellation, as a caller's `subtask.cancel`
    /// does: a task waiting in a callback's event loop (or at the
    /// backpressure gate) gets TASK_CANCELLED when the store next runs;
    /// its result, if any, is discarded.
    #[cfg(feature = "async")]
    pub async fn call_async<T: 'static>(
        &self,
        mut store: impl AsContextMut<Data = T>,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let l = match &self.kind {
            FuncKind::Lifted(l) if l.is_task => l.clone(),
            _ => return self.call(store, params, results),
        };
        let mut cx = store.as_context_mut();
        self.check_call(cx.inner.data().id, params.len(), results.len())?;
        self.check_params(params)?;
        // Dropped before it completes, the guard asks the task to cancel.
        let mut guard = crate::concurrent::call::CancelOnDrop::new(&mut cx.inner);
        core::future::poll_fn(|tcx| guard.poll(&self.component, &l, params, results, tcx.waker()))
            .await
    }

    /// Checks that `params` are values of the parameter types.
    #[cfg(feature = "async")]
    fn check_params(&self, params: &[Val]) -> Result<()> {
        let arena = &self.component.inner.arena;
        let fty = arena
            .funcs
            .get(self.ty_index() as usize)
            .ok_or_else(|| Error::usage("unknown function type"))?;
        for ((name, t), v) in fty.params.iter().zip(params) {
            if !crate::values::type_matches(arena, *t, v) {
                return Err(crate::abi::lower::mismatch(arena, *t, v)
                    .context(format_args!("argument `{name}`")));
            }
        }
        Ok(())
    }

    /// Calls the function with dynamic values. `params` must match the
    /// parameter types and `results` must have one slot per result (0 or 1);
    /// the results are written there. Post-return runs before this returns.
    ///
    /// Fails with a usage error on a wrong argument count or value type, or
    /// a foreign store; with a trap when the callee traps or breaks a rule
    /// of the canonical ABI. After a trap the instance is poisoned: further
    /// calls into it trap with [`TrapKind::Poisoned`].
    pub fn call<T: 'static>(
        &self,
        mut store: impl AsContextMut<Data = T>,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let mut cx = store.as_context_mut();
        self.check_call(cx.inner.data().id, params.len(), results.len())?;
        match &self.kind {
            FuncKind::Host { host, ty } => {
                let f = host_fn::<T>(host)?;
                let arena = &self.component.inner.arena;
                let fty = arena
                    .funcs
                    .get(*ty as usize)
                    .ok_or_else(|| Error::usage("unknown function type"))?;
                for ((name, t), v) in fty.params.iter().zip(params) {
                    if !crate::values::type_matches(arena, *t, v) {
                        return Err(crate::abi::lower::mismatch(arena, *t, v)
                            .context(format_args!("argument `{name}`")));
                    }
                }
                f(cx.as_context_mut(), params, results)?;
                if let (Some(t), Some(v)) = (fty.result, results.first()) {
                    if !crate::values::type_matches(arena, t, v) {
                        return Err(Error::trap(
                            TrapKind::Host,
                            format!(
                                "host function returned a bad result: {}",
                                crate::abi::lower::mismatch(arena, t, v).message()
                            ),
                        ));
                    }
                }
                Ok(())
            }
            FuncKind::Lifted(l) => {
                let ctx = &mut cx.inner;
                #[cfg(feature = "async")]
                if l.is_task {
                    self.check_params(params)?;
                    return crate::concurrent::call::call_from_host(
                        ctx,
                        &self.component,
                        l,
                        params,
                        results,
                    );
                }
                // The set a call from the host enters, fixed at lift time.
                enter_set(ctx.data_mut(), &l.entering)?;
                let r = (|| {
                    let mut outs = CoreResults::new();
                    let val = invoke_lifted(ctx, &self.component, l, params, &mut outs)?;
                    if let (Some(slot), Some(v)) = (results.first_mut(), val) {
                        *slot = v;
                    }
                    post_return(ctx, l, &outs)
                })();
                leave_set(ctx.data_mut(), &l.entering, &r)?;
                r.map_err(|e| ctx.data_mut().limiter.0.explain(e))
            }
        }
    }
}

/// Lowers `params` into the callee, calls its core function and lifts the
/// result: `canon lift` up to (not including) post-return. Returns the core
/// results (for post-return) and the lifted result.
fn invoke_lifted<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    component: &Component,
    l: &LiftedFunc,
    params: &[Val],
    outs: &mut CoreResults,
) -> Result<Option<Val>> {
    let mut args = CoreArgs::new();
    let task = begin_call(ctx, component, l, params, &mut args, outs)?;
    let r = match l.fast.call(&mut *ctx, &args, outs) {
        Some(r) => r,
        None => l.core.call(&mut *ctx, &args, outs),
    }
    .map_err(from_wasmi);
    finish_call(ctx, component, l, task, r, outs)
}

/// The core arguments and result slots of a call in progress.
pub(crate) type CoreArgs = SmallVec<[wasmi::Val; 16]>;
pub(crate) type CoreResults = SmallVec<[wasmi::Val; 1]>;

/// The first half of `canon lift`: opens the call's task (which counts the
/// borrows lowered into the callee; only if a parameter can hold one) and
/// lowers `params` into the callee, filling `args` with the core arguments
/// and `outs` with zeroed result slots.
#[inline]
pub(crate) fn begin_call<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    component: &Component,
    l: &LiftedFunc,
    params: &[Val],
    args: &mut CoreArgs,
    outs: &mut CoreResults,
) -> Result<Option<u32>> {
    let inner = &component.inner;
    let plan = inner
        .plans
        .get(l.ty as usize)
        .ok_or_else(|| Error::usage("unknown function type"))?;
    let o = &l.options;
    if plan.scalars {
        // No memory, no handles: nothing to take back on failure.
        let mut flat = Flat::new();
        LowerCx {
            arena: &inner.arena,
            mem: &mut crate::abi::NoMemory,
            enc: o.encoding,
        }
        .lower_values(params, &plan.params, MAX_FLAT_PARAMS, None, &mut flat)?;
        for (b, t) in flat.iter().zip(plan.core_params.iter()) {
            args.push(from_raw(*b, *t));
        }
        for t in plan.core_results.iter() {
            outs.push(from_raw(0, *t));
        }
        return Ok(None);
    }
    let task = if plan.params_borrow {
        Some(ctx.data_mut().tasks.add(0)?)
    } else {
        None
    };
    let mut flat = Flat::new();
    let (r, moved) = {
        let mut mem = WasmiMem::new(&mut *ctx, o);
        mem.task = task;
        let mut lcx = LowerCx {
            arena: &inner.arena,
            mem: &mut mem,
            enc: o.encoding,
        };
        let r = lcx.lower_values(params, &plan.params, MAX_FLAT_PARAMS, None, &mut flat);
        (r, core::mem::take(&mut mem.moved))
    };
    if let Err(e) = r {
        // A stale handle, a failed `realloc`: nothing the call moved stays moved.
        moved.undo(ctx.data_mut());
        if let Some(task) = task {
            let _ = ctx.data_mut().tasks.remove(task);
        }
        return Err(e);
    }
    for (b, t) in flat.iter().zip(plan.core_params.iter()) {
        args.push(from_raw(*b, *t));
    }
    for t in plan.core_results.iter() {
        outs.push(from_raw(0, *t));
    }
    Ok(task)
}

/// The second half of `canon lift`, once the core function returned (`r`):
/// closes the task (trapping if the callee still holds borrows) and lifts
/// the result from the core results `outs`.
pub(crate) fn finish_call<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    component: &Component,
    l: &LiftedFunc,
    task: Option<u32>,
    r: Result<()>,
    outs: &[wasmi::Val],
) -> Result<Option<Val>> {
    let borrows = match task {
        Some(task) => ctx.data_mut().tasks.remove(task).unwrap_or(0),
        None => 0,
    };
    r?;
    if borrows > 0 {
        return Err(Error::trap(
            TrapKind::BorrowsOutstanding,
            "the callee returned without dropping the borrowed handles it was given",
        ));
    }
    let inner = &component.inner;
    let plan = inner
        .plans
        .get(l.ty as usize)
        .ok_or_else(|| Error::usage("unknown function type"))?;
    let Some(rt) = plan.result else {
        return Ok(None);
    };
    let mut raw = [0u64; MAX_FLAT_RESULTS];
    for (r, v) in raw.iter_mut().zip(outs) {
        *r = to_raw(v);
    }
    let raw = raw
        .get(..outs.len())
        .ok_or_else(|| Error::usage("too many core results"))?;
    let o = &l.options;
    if plan.scalars {
        let mut lcx = LiftCx {
            arena: &inner.arena,
            mem: &mut crate::abi::NoMemory,
            enc: o.encoding,
        };
        return lcx.lift_result(rt, raw).map(Some);
    }
    let mut mem = WasmiMem::new(&mut *ctx, o);
    let mut lcx = LiftCx {
        arena: &inner.arena,
        mem: &mut mem,
        enc: o.encoding,
    };
    lcx.lift_result(rt, raw).map(Some)
}

/// Runs the callee's post-return (with may_leave cleared), if it has one.
pub(crate) fn post_return<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    l: &LiftedFunc,
    outs: &[wasmi::Val],
) -> Result<()> {
    let o = &l.options;
    if let Some(post) = o.post_return {
        set_may_leave(ctx, o.instance, false)?;
        let r = match (o.post_return_i32, outs) {
            (Some(typed), [wasmi::Val::I32(x)]) => typed.call(&mut *ctx, *x),
            _ => post.call(&mut *ctx, outs, &mut []),
        };
        set_may_leave(ctx, o.instance, true)?;
        r.map_err(from_wasmi)?;
    }
    Ok(())
}

/// The core function type of a lowered function of arena type `ty`.
pub(crate) fn lowered_type(component: &Component, ty: u32) -> wasmi::FuncType {
    match component.inner.plans.get(ty as usize) {
        Some(plan) => wasmi::FuncType::new(
            plan.lower_params.iter().copied(),
            plan.lower_results.iter().copied(),
        ),
        None => wasmi::FuncType::new([], []),
    }
}

/// Creates the core function a guest calls for a lowered host function.
pub(crate) fn lower_host<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    component: &Component,
    ty: u32,
    options: Options,
    host: &ValHost<T>,
) -> Result<wasmi::Func> {
    #[cfg(feature = "async")]
    if options.is_async || host.future.is_some() {
        return crate::concurrent::host::lower(store, component, ty, options, host);
    }
    let host = host.f.clone();
    let fty = lowered_type(component, ty);
    let component = component.clone();
    Ok(crate::core_wrap::core_func(
        &mut store.inner,
        fty,
        move |caller, args, results| {
            host_call(&component, ty, &options, &host, caller, args, results)
                .map_err(wasmi::Error::host)
        },
    ))
}

/// Creates the core function a guest calls for a lowered function that a
/// component instance lifted: a component-to-component call.
pub(crate) fn lower_lifted<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    component: &Component,
    ty: u32,
    options: Options,
    callee: Func,
) -> wasmi::Func {
    let fty = lowered_type(component, ty);
    let component = component.clone();
    // Instances never change parents: the set this call enters is fixed.
    let entering = match &callee.kind {
        FuncKind::Lifted(l) => entering_set(
            store.inner.data(),
            l.options.instance,
            Some(options.instance),
        ),
        FuncKind::Host { .. } => EnterSet::new(),
    };
    let adapter = crate::adapter::Adapter {
        component,
        ty,
        options,
        callee,
        entering,
    };
    crate::core_wrap::core_func(&mut store.inner, fty, move |caller, args, results| {
        crate::adapter::call(&adapter, caller, args, results).map_err(wasmi::Error::host)
    })
}

/// The lowering side of a call out of a guest: what every lowered function
/// needs to know to read its params and write its result.
struct Lowered<'a> {
    component: &'a Component,
    plan: &'a crate::component::FuncPlan,
    o: &'a Options,
    raw: Flat,
}

impl<'a> Lowered<'a> {
    /// Checks `may_leave` and reads the core args.
    fn new<T>(
        component: &'a Component,
        ty: u32,
        o: &'a Options,
        caller: &mut wasmi::Caller<'_, StoreData<T>>,
        args: &[wasmi::Val],
    ) -> Result<Self> {
        crate::boundary::call_out(caller, o.instance, MAY_NOT_LEAVE)?;
        let plan = component
            .inner
            .plans
            .get(ty as usize)
            .ok_or_else(|| Error::usage("unknown function type"))?;
        Ok(Lowered {
            component,
            plan,
            o,
            raw: args.iter().map(to_raw).collect(),
        })
    }

    /// Lifts the params from the caller's flat args or memory.
    fn params<T: 'static>(
        &self,
        caller: &mut wasmi::Caller<'_, StoreData<T>>,
    ) -> Result<(Vec<Val>, Lent)> {
        let n = self
            .raw
            .len()
            .saturating_sub(usize::from(self.plan.result_spilled));
        let mut vals = Vec::with_capacity(self.plan.params.len());
        // Through a store context, so lift and lower are compiled once
        // (for `StoreContextMut`), not again for `Caller`.
        let mut ctx = wasmi::AsContextMut::as_context_mut(caller);
        let mut mem = WasmiMem::new(&mut ctx, self.o);
        let mut lcx = LiftCx {
            arena: &self.component.inner.arena,
            mem: &mut mem,
            enc: self.o.encoding,
        };
        let r = lcx.lift_values(
            &self.plan.params,
            &self.raw[..n],
            MAX_FLAT_PARAMS,
            &mut vals,
        );
        let lent = core::mem::take(&mut mem.lent);
        if let Err(e) = r {
            lent.release(caller.data_mut());
            return Err(e);
        }
        Ok((vals, lent))
    }

    /// Lowers the result into the caller: flat, or through its return pointer.
    fn result<T: 'static>(
        &self,
        caller: &mut wasmi::Caller<'_, StoreData<T>>,
        outs: &[Val],
        results: &mut [wasmi::Val],
    ) -> Result<()> {
        let Some(rt) = self.plan.result else {
            return Ok(());
        };
        let mut flat = Flat::new();
        let out_param = if self.plan.result_spilled {
            self.raw.last().map(|p| *p as u32)
        } else {
            None
        };
        // Through a store context, so lift and lower are compiled once
        // (for `StoreContextMut`), not again for `Caller`.
        let mut ctx = wasmi::AsContextMut::as_context_mut(caller);
        let mut mem = WasmiMem::new(&mut ctx, self.o);
        let mut lcx = LowerCx {
            arena: &self.component.inner.arena,
            mem: &mut mem,
            enc: self.o.encoding,
        };
        let r = lcx.lower_values(outs, &[rt], MAX_FLAT_RESULTS, out_param, &mut flat);
        if r.is_err() {
            // The host keeps the handles of a result the guest did not get.
            let moved = core::mem::take(&mut mem.moved);
            moved.undo(ctx.data_mut());
        }
        r?;
        for (slot, (bits, t)) in results
            .iter_mut()
            .zip(flat.iter().zip(self.plan.lower_results.iter()))
        {
            *slot = from_raw(*bits, *t);
        }
        Ok(())
    }

    fn result_slots(&self) -> SmallVec<[Val; 1]> {
        let mut outs = SmallVec::new();
        if self.plan.result.is_some() {
            outs.push(Val::Bool(false));
        }
        outs
    }
}

fn host_call<T: 'static>(
    component: &Component,
    ty: u32,
    o: &Options,
    host: &Arc<HostFn<T>>,
    caller: &mut wasmi::Caller<'_, StoreData<T>>,
    args: &[wasmi::Val],
    results: &mut [wasmi::Val],
) -> Result<()> {
    let lowered = Lowered::new(component, ty, o, caller, args)?;
    let (vals, lent) = lowered.params(caller)?;
    let mut outs = lowered.result_slots();
    let r = host(
        StoreContextMut {
            inner: wasmi::AsContextMut::as_context_mut(caller),
        },
        &vals,
        &mut outs,
    );
    lent.release(caller.data_mut());
    r?;
    lowered
        .result(caller, &outs, results)
        .map_err(|e| match e.kind() {
            ErrorKind::Usage => Error::trap(
                TrapKind::Host,
                format!("host function returned a bad result: {}", e.message()),
            ),
            _ => e,
        })
}
