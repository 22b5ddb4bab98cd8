//! Calls that make tasks: a component calling another's `async`-typed
//! function or calling with `canon lower async` (the spec's `canon_lower`
//! with the callee's `canon_lift`), and the two ends of every task: its
//! arguments when it starts (`on_start`) and its result when it resolves
//! (`on_resolve`), from and to the host or a calling component.

use alloc::sync::Arc;
use alloc::vec::Vec;
use smallvec::SmallVec;

use super::sched::{
    block, new_task, resume_thread, Resume, SubState, Subtask, TaskCaller, TaskState, WaitFor,
};
use super::waitable::{internal, WaitableKind};
use crate::abi::flat_mem::{load_flat, store_flat, Flat};
use crate::abi::layout::record_layout;
use crate::abi::lift::{check_align, check_range};
use crate::abi::transfer::{Pair, Side, Transfer};
use crate::abi::{MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use crate::adapter::WasmiPair;
use crate::component::Component;
use crate::error::{Error, Result, TrapKind};
use crate::func::{from_raw, to_raw, CoreArgs, CoreResults, Func, FuncKind, LiftedFunc, Options};
use crate::store::{StoreContextMut, StoreData};
use crate::types::ValType;
use crate::wasmi_mem::Lent;

/// `MAX_FLAT_ASYNC_PARAMS`.
pub(crate) const MAX_FLAT_ASYNC_PARAMS: usize = 4;

/// `BLOCKED`.
pub(crate) const BLOCKED: u32 = 0xffff_ffff;

type Ctx<'a, T> = wasmi::StoreContextMut<'a, StoreData<T>>;

/// Whether function type `ty` of `component` is `async`.
pub(crate) fn is_async_type(component: &Component, ty: u32) -> bool {
    component
        .inner
        .arena
        .funcs
        .get(ty as usize)
        .is_some_and(|f| f.is_async)
}

/// Whether a `canon lower` with `options` of `l`, a function `component`
/// lifted, needs the async runtime (else it is a plain sync call through
/// the fused adapter).
pub(crate) fn needs_async_lower(options: &Options, component: &Component, l: &LiftedFunc) -> bool {
    options.is_async || is_async_type(component, l.ty)
}

/// The core type of `canon lower async` of function type `ty`: the
/// params flat if at most 4, else a pointer; a result pointer if there
/// is a result; an `i32` status.
pub(crate) fn async_lowered_type(component: &Component, ty: u32) -> wasmi::FuncType {
    use wasmi::ValType::I32;
    let arena = &component.inner.arena;
    let Some(f) = arena.funcs.get(ty as usize) else {
        return wasmi::FuncType::new([], [I32]);
    };
    let flat: Vec<wasmi::ValType> = f
        .params
        .iter()
        .flat_map(|(_, t)| arena.flat(*t).iter().map(|x| x.to_wasmi()))
        .collect();
    let mut params = if flat.len() > MAX_FLAT_ASYNC_PARAMS {
        alloc::vec![I32]
    } else {
        flat
    };
    if f.result.is_some() {
        params.push(I32);
    }
    wasmi::FuncType::new(params, [I32])
}

/// The core type of a lowering that needs the async runtime, which it
/// readies in the store (64-bit memories are refused), and whether its
/// last core parameter is the result pointer (always with `async` and a
/// result; for a sync lowering, when the result is spilled). Computed once
/// per lowering.
pub(crate) fn lowering<T>(
    store: &mut StoreContextMut<'_, T>,
    component: &Component,
    ty: u32,
    options: &Options,
) -> Result<(wasmi::FuncType, bool)> {
    if options.memory.is_some_and(|m| m.ty(&store.inner).is_64()) {
        return Err(Error::unsupported(
            "async calls over 64-bit memories (the component model 64-bit feature)",
        ));
    }
    store.inner.data_mut().async_state();
    Ok(if options.is_async {
        let has_result = component
            .inner
            .arena
            .funcs
            .get(ty as usize)
            .is_some_and(|f| f.result.is_some());
        (async_lowered_type(component, ty), has_result)
    } else {
        let spilled = component
            .inner
            .plans
            .get(ty as usize)
            .is_some_and(|p| p.result_spilled);
        (crate::func::lowered_type(component, ty), spilled)
    })
}

/// Makes the core function of a `canon lower` that needs the async
/// runtime: `callee` is lifted by a component (host functions are
/// refused when the component is instantiated).
pub(crate) fn lower<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    component: &Component,
    ty: u32,
    options: Options,
    callee: Func,
) -> Result<wasmi::Func> {
    let FuncKind::Lifted(l) = &callee.kind else {
        return Err(Error::usage("a host function lowered as a component's"));
    };
    let l = l.clone();
    let (fty, retptr) = lowering(store, component, ty, &options)?;
    let component = component.clone();
    let callee_component = callee.component.clone();
    Ok(wasmi::Func::new(
        &mut store.inner,
        fty,
        move |mut caller, args, results| {
            let lowered = Lowered {
                component: &component,
                ty,
                options: &options,
                retptr,
            };
            call(&mut caller, &lowered, &callee_component, &l, args, results)
                .map_err(super::sched::host_error)
        },
    ))
}

/// A lowering that needs the async runtime, as each of its calls sees it.
pub(crate) struct Lowered<'a> {
    /// The caller's component and the lowered function type in it.
    pub component: &'a Component,
    pub ty: u32,
    /// The lowering's options.
    pub options: &'a Options,
    /// The last core argument is the result pointer ([`lowering`]).
    pub retptr: bool,
}

impl Lowered<'_> {
    /// The core arguments as raw bits, and the result pointer apart.
    pub(crate) fn split_args(&self, args: &[wasmi::Val]) -> (Flat, Option<u32>) {
        let mut flat: Flat = args.iter().map(to_raw).collect();
        let retptr = if self.retptr {
            flat.pop().map(|p| p as u32)
        } else {
            None
        };
        (flat, retptr)
    }
}

/// A call through a lowered function that needs the async runtime.
fn call<T: 'static>(
    caller: &mut wasmi::Caller<'_, StoreData<T>>,
    lowered: &Lowered<'_>,
    callee_component: &Component,
    l: &Arc<LiftedFunc>,
    args: &[wasmi::Val],
    results: &mut [wasmi::Val],
) -> Result<()> {
    let (component, ty, o) = (lowered.component, lowered.ty, lowered.options);
    crate::boundary::call_out(caller, o.instance, crate::boundary::CALL_MAY_NOT_LEAVE)?;
    let mut ctx = wasmi::AsContextMut::as_context_mut(caller);
    let ctx = &mut ctx;
    let (flat_args, retptr) = lowered.split_args(args);
    let sub = Subtask::new(SubState::Starting, component, ty, o, flat_args, retptr);
    let s = super::sched::add_subtask(ctx.data_mut(), sub)?;
    let r = start_callee(ctx, o.instance, callee_component, l, s);
    if let Err(e) = r {
        if let Ok(sub) = ctx.data_mut().async_state().subtasks.remove(s) {
            sub.lent.release(ctx.data_mut());
        }
        return Err(e);
    }
    let st = ctx.data_mut().async_state().subtask(s)?;
    let resolved = st.resolved();
    if o.is_async {
        let code = if resolved {
            let sub = ctx
                .data_mut()
                .async_state()
                .subtasks
                .remove(s)
                .map_err(|_| internal("subtask"))?;
            sub.lent.release(ctx.data_mut());
            SubState::Returned as u32
        } else {
            let state = st.state as u32;
            let (w, h) = ctx
                .data_mut()
                .add_waitable(o.instance, WaitableKind::Subtask(s))?;
            ctx.data_mut().async_state().subtask(s)?.waitable = Some(w);
            state | (h << 4)
        };
        if let Some(slot) = results.first_mut() {
            *slot = wasmi::Val::I32(code as i32);
        }
        return Ok(());
    }
    // A sync call: wait for the callee to return.
    if !resolved {
        block(
            ctx,
            o.instance,
            WaitFor::Subtask(s),
            Resume::SyncCall { subtask: s },
            false,
        )?;
    }
    let vals = super::sched::resume_values(ctx, Resume::SyncCall { subtask: s }, false)?;
    for (slot, v) in results.iter_mut().zip(vals) {
        *slot = v;
    }
    Ok(())
}

/// Starts the callee's task for subtask `s` of a caller in instance
/// `caller_inst`: an `async`-typed callee gets a thread, run until it
/// blocks or ends.
fn start_callee<T: 'static>(
    ctx: &mut Ctx<'_, T>,
    caller_inst: u32,
    callee_component: &Component,
    l: &Arc<LiftedFunc>,
    s: u32,
) -> Result<()> {
    let (k, t) = new_task(ctx.data_mut(), callee_component, l, TaskCaller::Guest(s))?;
    ctx.data_mut().async_state().subtask(s)?.callee = Some(k);
    // Validation makes the type `async` for `canon lower async`, and a
    // sync lower of a sync type is the fused adapter's.
    resume_thread(ctx, t, false, Some(caller_inst))
}

/// The spec's `on_start` of task `task`: its arguments, lowered into the
/// callee, as core values.
pub(crate) fn on_start<T: 'static>(ctx: &mut Ctx<'_, T>, task: u32) -> Result<CoreArgs> {
    let s = ctx.data_mut().async_state();
    let k = s.task(task)?;
    let (component, func) = (k.component.clone(), k.func.clone());
    let mut args = CoreArgs::new();
    match &mut k.caller {
        TaskCaller::Host { params, .. } => {
            let params = core::mem::take(params);
            let mut outs = CoreResults::new();
            let borrows =
                crate::func::begin_call(ctx, &component, &func, &params, &mut args, &mut outs)?;
            ctx.data_mut().async_state().task(task)?.borrows = borrows;
        }
        TaskCaller::Guest(sub) => {
            let sub = *sub;
            let x = s.subtask(sub)?;
            x.state = SubState::Started;
            let (caller_component, caller_ty, caller_o, is_async) =
                (x.component.clone(), x.ty, x.options, x.is_async);
            let flat_args = x.flat_args.clone();
            s.subtask_progress(sub);
            let callee_plan = component
                .inner
                .plans
                .get(func.ty as usize)
                .ok_or_else(|| internal("function plan"))?;
            let borrows = if callee_plan.params_borrow {
                Some(ctx.data_mut().tasks.add(0)?)
            } else {
                None
            };
            ctx.data_mut().async_state().task(task)?.borrows = borrows;
            let st = param_types(&caller_component, caller_ty)?;
            let dt = param_types(&component, func.ty)?;
            let caller_max = if is_async {
                MAX_FLAT_ASYNC_PARAMS
            } else {
                MAX_FLAT_PARAMS
            };
            let arena = &caller_component.inner.arena;
            let n: usize = st.iter().map(|t| arena.flat(*t).len()).sum();
            let mut src = Flat::new();
            if n > caller_max && n <= MAX_FLAT_PARAMS {
                // Spilled by the caller, flat for the callee.
                let ptr = flat_args.first().copied().ok_or_else(internal_args)? as u32;
                let l = record_layout(arena, st.iter().copied());
                let bytes = caller_o.memory.map_or(&[][..], |m| m.data(&*ctx));
                check_align(ptr, l.align)?;
                check_range(ptr, u64::from(l.size), bytes.len())?;
                let mut at = ptr;
                for t in st.iter() {
                    let fl = arena.layout(*t);
                    at = crate::abi::layout::align_to(at, fl.align);
                    load_flat(arena, *t, bytes, at, &mut src)?;
                    at = at.wrapping_add(fl.size);
                }
            } else {
                src = flat_args;
            }
            let mut lent = Lent::default();
            let mut flat = Flat::new();
            Transfer {
                src_arena: arena,
                dst_arena: &component.inner.arena,
                pair: &mut WasmiPair {
                    ctx: &mut *ctx,
                    src: &caller_o,
                    dst: &func.options,
                    dst_task: borrows,
                    lent: &mut lent,
                },
                src_enc: caller_o.encoding,
                dst_enc: func.options.encoding,
            }
            .values(&st, &dt, &src, MAX_FLAT_PARAMS, None, &mut flat)?;
            let x = ctx.data_mut().async_state().subtask(sub)?;
            x.lent.lenders.extend(lent.lenders);
            x.lent.temps.extend(lent.temps);
            for (b, t) in flat.iter().zip(callee_plan.core_params.iter()) {
                args.push(from_raw(*b, *t));
            }
        }
    }
    Ok(args)
}

fn internal_args() -> Error {
    internal("call arguments")
}

fn func_type(component: &Component, ty: u32) -> Result<&crate::types::FuncTy> {
    component
        .inner
        .arena
        .funcs
        .get(ty as usize)
        .ok_or_else(|| internal("function type"))
}

fn param_types(component: &Component, ty: u32) -> Result<SmallVec<[ValType; 8]>> {
    Ok(func_type(component, ty)?
        .params
        .iter()
        .map(|p| p.1)
        .collect())
}

fn result_type(component: &Component, ty: u32) -> Result<Option<ValType>> {
    Ok(func_type(component, ty)?.result)
}

/// Closes task `task`'s borrow count, trapping if the callee still holds
/// borrows (`what` names the step).
fn close_borrows<T>(ctx: &mut Ctx<'_, T>, task: u32, what: &str) -> Result<()> {
    let b = ctx.data_mut().async_state().task(task)?.borrows.take();
    if let Some(b) = b {
        let n = ctx.data_mut().tasks.remove(b).unwrap_or(0);
        if n > 0 {
            return Err(Error::trap(
                TrapKind::BorrowsOutstanding,
                alloc::format!("borrow handles still remain at the end of the call ({what})"),
            ));
        }
    }
    Ok(())
}

/// A sync-lifted task's core function returned `outs`: its result.
pub(crate) fn resolve_from_core<T: 'static>(
    ctx: &mut Ctx<'_, T>,
    task: u32,
    outs: &[wasmi::Val],
) -> Result<()> {
    close_borrows(ctx, task, "return")?;
    let raw: Flat = outs.iter().map(to_raw).collect();
    resolve(ctx, task, &raw, MAX_FLAT_RESULTS)
}

/// Checks that `task.return` may be called by task `task` now.
pub(crate) fn check_return<T>(ctx: &mut Ctx<'_, T>, task: u32) -> Result<()> {
    let k = ctx.data_mut().async_state().task(task)?;
    if k.state == TaskState::Resolved {
        return Err(Error::trap(
            TrapKind::AsyncRule,
            "task.return was called twice, or after task.cancel",
        ));
    }
    close_borrows(ctx, task, "task.return")
}

/// The spec's `Task.return_` (with `on_resolve`): task `task` gives its
/// caller its result, whose flat values in the callee are `flat` (spilled
/// past `max_flat`).
pub(crate) fn resolve<T: 'static>(
    ctx: &mut Ctx<'_, T>,
    task: u32,
    flat: &[u64],
    max_flat: usize,
) -> Result<()> {
    let s = ctx.data_mut().async_state();
    let k = s.task(task)?;
    if k.state == TaskState::Resolved {
        return Err(Error::trap(
            TrapKind::AsyncRule,
            "task.return was called twice, or after task.cancel",
        ));
    }
    let (component, func) = (k.component.clone(), k.func.clone());
    let st = result_type(&component, func.ty)?;
    match k.caller {
        TaskCaller::Host { slot, .. } => {
            let mut vals = Vec::new();
            if let Some(rt) = st {
                let mut mem = crate::wasmi_mem::WasmiMem::new(&mut *ctx, &func.options);
                let mut lcx = crate::abi::lift::LiftCx {
                    arena: &component.inner.arena,
                    mem: &mut mem,
                    enc: func.options.encoding,
                };
                lcx.lift_values(&[rt], flat, max_flat, &mut vals)?;
            }
            let s = ctx.data_mut().async_state();
            if let Ok(r) = s.host_results.get_mut(slot) {
                *r = vals.pop();
            }
            s.task(task)?.state = TaskState::Resolved;
        }
        TaskCaller::Guest(sub) => {
            let x = s.subtask(sub)?;
            let (caller_component, caller_ty, caller_o, retptr, is_async) =
                (x.component.clone(), x.ty, x.options, x.retptr, x.is_async);
            let dt = result_type(&caller_component, caller_ty)?;
            let mut results = Flat::new();
            if let (Some(st), Some(dt)) = (st, dt) {
                let src_arena = &component.inner.arena;
                let dst_arena = &caller_component.inner.arena;
                let n = src_arena.flat(st).len();
                let to_memory = is_async || n > MAX_FLAT_RESULTS;
                let mut lent = Lent::default();
                let mut tr = Transfer {
                    src_arena,
                    dst_arena,
                    pair: &mut WasmiPair {
                        ctx: &mut *ctx,
                        src: &func.options,
                        dst: &caller_o,
                        dst_task: None,
                        lent: &mut lent,
                    },
                    src_enc: func.options.encoding,
                    dst_enc: caller_o.encoding,
                };
                if n > max_flat {
                    // Spilled in the callee: memory to memory.
                    let ptr = retptr.ok_or_else(|| internal("result pointer"))?;
                    tr.values(&[st], &[dt], flat, 0, Some(ptr), &mut results)?;
                } else {
                    let mut out = Flat::new();
                    let mut pos = 0;
                    tr.flat(st, dt, flat, &mut pos, &mut out)?;
                    if to_memory {
                        let ptr = retptr.ok_or_else(|| internal("result pointer"))?;
                        let l = dst_arena.layout(dt);
                        check_align(ptr, l.align)?;
                        check_range(ptr, u64::from(l.size), tr.pair.bytes(Side::Dst).len())?;
                        let mut pos = 0;
                        store_flat(
                            dst_arena,
                            dt,
                            &out,
                            &mut pos,
                            tr.pair.bytes_mut(Side::Dst),
                            ptr,
                        )?;
                    } else {
                        results = out;
                    }
                }
            }
            let s = ctx.data_mut().async_state();
            let x = s.subtask(sub)?;
            x.flat_results = results;
            x.state = SubState::Returned;
            s.subtask_progress(sub);
            s.task(task)?.state = TaskState::Resolved;
        }
    }
    Ok(())
}

/// A call from the host of a function that makes a task, in progress.
pub(crate) struct HostCall {
    /// The task and the slot of its result, once started.
    started: Option<(u32, u32)>,
}

impl HostCall {
    pub(crate) fn new() -> Self {
        HostCall { started: None }
    }

    /// Runs the call as far as it goes: starts it on the first poll, then
    /// runs the store's threads and host futures until it returns
    /// (`Ready`, with its result in `results`) or waits for host futures
    /// only (`Pending`: `waker` is woken when one can progress).
    pub(crate) fn poll<T: 'static>(
        &mut self,
        ctx: &mut Ctx<'_, T>,
        component: &Component,
        l: &Arc<LiftedFunc>,
        params: &[crate::Val],
        results: &mut [crate::Val],
        waker: &core::task::Waker,
    ) -> core::task::Poll<Result<()>> {
        use core::task::Poll;
        let r = match self.started {
            Some((task, slot)) => match drive_task(ctx, task, waker) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => (r, slot),
            },
            None => {
                let slot = {
                    let data = ctx.data_mut();
                    let max = data.limits.max_tasks;
                    let s = data.async_state.get_or_insert_with(Default::default);
                    let limiter = &mut data.limiter.0;
                    s.host_results
                        .add_within(None, max, |bytes| limiter.take_bytes(bytes))
                };
                let slot = match slot {
                    Ok(s) => s,
                    Err(e) => return Poll::Ready(Err(e)),
                };
                let started = (|| {
                    let caller = TaskCaller::Host {
                        params: params.to_vec(),
                        slot,
                    };
                    let (task, t) = new_task(ctx.data_mut(), component, l, caller)?;
                    ctx.data_mut().async_state().waker = Some(waker.clone());
                    resume_thread(ctx, t, false, None)?;
                    Ok(task)
                })();
                match started {
                    Ok(task) => {
                        self.started = Some((task, slot));
                        match drive_task(ctx, task, waker) {
                            Poll::Pending => return Poll::Pending,
                            Poll::Ready(r) => (r, slot),
                        }
                    }
                    Err(e) => (Err(e), slot),
                }
            }
        };
        let (r, slot) = r;
        Poll::Ready(finish_host_call(ctx, l, r, slot, results))
    }
}

/// A host call in progress, holding the store: dropped before the call
/// completes, it requests the task's cancellation.
pub(crate) struct CancelOnDrop<'a, 'b, T: 'static> {
    ctx: &'a mut Ctx<'b, T>,
    call: HostCall,
    done: bool,
}

impl<'a, 'b, T: 'static> CancelOnDrop<'a, 'b, T> {
    pub(crate) fn new(ctx: &'a mut Ctx<'b, T>) -> Self {
        CancelOnDrop {
            ctx,
            call: HostCall::new(),
            done: false,
        }
    }

    /// [`HostCall::poll`].
    pub(crate) fn poll(
        &mut self,
        component: &Component,
        l: &Arc<LiftedFunc>,
        params: &[crate::Val],
        results: &mut [crate::Val],
        waker: &core::task::Waker,
    ) -> core::task::Poll<Result<()>> {
        let r = self
            .call
            .poll(self.ctx, component, l, params, results, waker);
        self.done = r.is_ready();
        r
    }
}

impl<T: 'static> Drop for CancelOnDrop<'_, '_, T> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some((task, slot)) = self.call.started {
            let s = self.ctx.data_mut().async_state();
            let _ = s.host_results.remove(slot);
            if let Ok(k) = s.task(task) {
                if matches!(k.state, TaskState::Initial | TaskState::Started) {
                    k.state = TaskState::PendingCancel;
                }
            }
        }
    }
}

/// Drives the store until task `task` resolved.
fn drive_task<T: 'static>(
    ctx: &mut Ctx<'_, T>,
    task: u32,
    waker: &core::task::Waker,
) -> core::task::Poll<Result<()>> {
    super::host::drive(ctx, waker, |s| {
        s.tasks
            .get(task)
            .map_or(true, |k| k.state == TaskState::Resolved)
    })
}

/// The end of a call from the host: its result, or its trap (which
/// poisons the callee's instances).
fn finish_host_call<T: 'static>(
    ctx: &mut Ctx<'_, T>,
    l: &Arc<LiftedFunc>,
    r: Result<()>,
    slot: u32,
    results: &mut [crate::Val],
) -> Result<()> {
    let val = ctx.data_mut().async_state().host_results.remove(slot);
    if let Err(e) = &r {
        // A trap ends the store's use of the instance (the spec traps the
        // whole store; the instance at least refuses calls from now on).
        if e.is_trap() {
            for &i in l.entering.iter() {
                if let Ok(f) = ctx.data_mut().flags(i) {
                    f.poisoned = true;
                }
            }
        }
    }
    r.map_err(|e| ctx.data_mut().limiter.0.explain(e))?;
    if let (Some(slot), Ok(Some(v))) = (results.first_mut(), val) {
        *slot = v;
    }
    Ok(())
}

/// Calls the function `l` (which makes a task) from the host with
/// `params`, blocking until it returns its result to `results`.
pub(crate) fn call_from_host<T: 'static>(
    ctx: &mut Ctx<'_, T>,
    component: &Component,
    l: &Arc<LiftedFunc>,
    params: &[crate::Val],
    results: &mut [crate::Val],
) -> Result<()> {
    let mut call = HostCall::new();
    super::host::block_on(|waker| call.poll(ctx, component, l, params, results, waker))
}
