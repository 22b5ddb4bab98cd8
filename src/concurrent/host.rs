//! The host side of async calls: host functions that return a future
//! (`func_new_async`), `canon lower async` of host functions, and the
//! driver that runs a store's threads for a call from the host
//! ([`Func::call_async`](crate::Func::call_async), and `Func::call` of an
//! `async` function, which blocks on it).
//!
//! A host future gets no access to the store: the host function reads its
//! arguments from the store when called and returns a `'static` future of
//! its result, which the scheduler polls and lowers into the caller when
//! it is ready. The futures are polled with the waker of the host's
//! `call_async` future, so any executor (or a plain `block_on`) drives
//! them; nothing here needs a particular runtime.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use super::call::{Lowered, MAX_FLAT_ASYNC_PARAMS};
use super::sched::{block, Resume, SubState, Subtask, WaitFor};
use super::waitable::{internal, WaitableKind};
use crate::abi::flat_mem::Flat;
use crate::abi::lift::LiftCx;
use crate::abi::lower::LowerCx;
use crate::abi::{MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use crate::component::Component;
use crate::error::{Error, Result, TrapKind};
use crate::func::{Options, ValHost};
use crate::store::{StoreContextMut, StoreData};
use crate::values::Val;
use crate::wasmi_mem::WasmiMem;

/// The future an async host function returns: the function's result
/// (`None` for a function without one), or an error, which traps the
/// calling component with [`TrapKind::Host`].
pub type HostFuture = Pin<Box<dyn Future<Output = Result<Option<Val>>> + Send + 'static>>;

/// An async host function: given the store and the arguments, the future
/// of its result.
pub(crate) type AsyncHostFn<T> =
    dyn Fn(StoreContextMut<'_, T>, &[Val]) -> Result<HostFuture> + Send + Sync + 'static;

/// A call of an async host function whose future is pending.
pub(crate) struct PendingHostCall {
    future: HostFuture,
    subtask: u32,
}

/// Makes the core function of a lowered host function that needs the
/// async runtime: an async host function, or any host function lowered
/// with `async`.
pub(crate) fn lower<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    component: &Component,
    ty: u32,
    options: Options,
    host: &ValHost<T>,
) -> Result<wasmi::Func> {
    let (fty, retptr) = super::call::lowering(store, component, ty, &options)?;
    let component = component.clone();
    let host = host.clone();
    Ok(wasmi::Func::new(
        &mut store.inner,
        fty,
        move |mut caller, args, results| {
            let mut ctx = wasmi::AsContextMut::as_context_mut(&mut caller);
            let lowered = Lowered {
                component: &component,
                ty,
                options: &options,
                retptr,
            };
            call(&mut ctx, &lowered, &host, args, results).map_err(super::sched::host_error)
        },
    ))
}

/// A guest's call of host function `host` through a lowering that needs
/// the async runtime.
fn call<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    lowered: &Lowered<'_>,
    host: &ValHost<T>,
    args: &[wasmi::Val],
    results: &mut [wasmi::Val],
) -> Result<()> {
    let (component, ty, o) = (lowered.component, lowered.ty, lowered.options);
    crate::boundary::call_out(ctx, o.instance, crate::boundary::IMPORT_MAY_NOT_LEAVE)?;
    let arena = &component.inner.arena;
    let fty = arena
        .funcs
        .get(ty as usize)
        .ok_or_else(|| internal("function type"))?;
    let plan = component
        .inner
        .plans
        .get(ty as usize)
        .ok_or_else(|| internal("function plan"))?;
    let (raw, retptr) = lowered.split_args(args);
    // The arguments, lifted as the host's (borrows end when the host
    // function returns: a future cannot use the store).
    let mut vals = Vec::new();
    let lent = {
        let mut mem = WasmiMem::new(&mut *ctx, o);
        let mut lcx = LiftCx {
            arena,
            mem: &mut mem,
            enc: o.encoding,
        };
        let max = if o.is_async {
            MAX_FLAT_ASYNC_PARAMS
        } else {
            MAX_FLAT_PARAMS
        };
        let r = lcx.lift_values(&plan.params, &raw, max, &mut vals);
        let lent = core::mem::take(&mut mem.lent);
        if let Err(e) = r {
            lent.release(ctx.data_mut());
            return Err(e);
        }
        lent
    };
    let sub = Subtask::new(SubState::Started, component, ty, o, Flat::new(), retptr);
    let ready = match &host.future {
        None => {
            // A sync host function under `canon lower async`.
            let mut outs: smallvec::SmallVec<[Val; 1]> = smallvec::SmallVec::new();
            if fty.result.is_some() {
                outs.push(Val::Bool(false));
            }
            let r = (host.f)(
                StoreContextMut {
                    inner: wasmi::AsContextMut::as_context_mut(&mut *ctx),
                },
                &vals,
                &mut outs,
            );
            lent.release(ctx.data_mut());
            Some(r.map(|()| outs.into_iter().next()))
        }
        Some(f) => {
            let fut = f(
                StoreContextMut {
                    inner: wasmi::AsContextMut::as_context_mut(&mut *ctx),
                },
                &vals,
            );
            lent.release(ctx.data_mut());
            let mut fut = fut?;
            match poll_once(ctx.data_mut(), &mut fut) {
                Poll::Ready(r) => Some(r),
                Poll::Pending => {
                    let s = super::sched::add_subtask(ctx.data_mut(), sub)?;
                    let st = ctx.data_mut().async_state();
                    st.host_calls
                        .try_reserve(1)
                        .map_err(|_| limit("the host could not grow its pending calls"))?;
                    st.host_calls.push(PendingHostCall {
                        future: fut,
                        subtask: s,
                    });
                    return pending(ctx, o, s, results);
                }
            }
        }
    };
    let val = ready.unwrap_or(Ok(None)).map_err(host_failed)?;
    let s = super::sched::add_subtask(ctx.data_mut(), sub)?;
    deliver(ctx, s, val)?;
    finish(ctx, o, s, results)
}

/// The call's future is pending: an `async` caller gets the subtask; a
/// sync caller waits for it.
fn pending<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    o: &Options,
    s: u32,
    results: &mut [wasmi::Val],
) -> Result<()> {
    if o.is_async {
        let (w, h) = ctx
            .data_mut()
            .add_waitable(o.instance, WaitableKind::Subtask(s))?;
        ctx.data_mut().async_state().subtask(s)?.waitable = Some(w);
        if let Some(slot) = results.first_mut() {
            *slot = wasmi::Val::I32((SubState::Started as u32 | (h << 4)) as i32);
        }
        return Ok(());
    }
    block(
        ctx,
        o.instance,
        WaitFor::Subtask(s),
        Resume::SyncCall { subtask: s },
        false,
    )?;
    finish(ctx, o, s, results)
}

/// The call resolved at once: RETURNED, or the sync call's results.
fn finish<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    o: &Options,
    s: u32,
    results: &mut [wasmi::Val],
) -> Result<()> {
    let vals = super::sched::resume_values(ctx, Resume::SyncCall { subtask: s }, false)?;
    if o.is_async {
        if let Some(slot) = results.first_mut() {
            *slot = wasmi::Val::I32(SubState::Returned as i32);
        }
    } else {
        for (slot, v) in results.iter_mut().zip(vals) {
            *slot = v;
        }
    }
    Ok(())
}

/// Polls `fut` once with the waker of the host call that drives the
/// store (or one that does nothing, outside such a call).
fn poll_once<T>(data: &mut StoreData<T>, fut: &mut HostFuture) -> Poll<Result<Option<Val>>> {
    let waker = data
        .async_state()
        .waker
        .clone()
        .unwrap_or_else(|| Waker::noop().clone());
    let mut cx = Context::from_waker(&waker);
    fut.as_mut().poll(&mut cx)
}

/// Lowers the host's result `val` into the caller of subtask `s` and
/// resolves it.
fn deliver<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    s: u32,
    val: Option<Val>,
) -> Result<()> {
    let x = ctx.data_mut().async_state().subtask(s)?;
    let (component, ty, o, retptr, is_async) =
        (x.component.clone(), x.ty, x.options, x.retptr, x.is_async);
    let arena = &component.inner.arena;
    let rt = arena
        .funcs
        .get(ty as usize)
        .ok_or_else(|| internal("function type"))?
        .result;
    let mut flat = Flat::new();
    if let Some(rt) = rt {
        let v = val.ok_or_else(|| {
            Error::trap(
                TrapKind::Host,
                "host function returned a bad result: no value for the function's result",
            )
        })?;
        let max = if is_async { 0 } else { MAX_FLAT_RESULTS };
        let mut mem = WasmiMem::new(&mut *ctx, &o);
        let mut lcx = LowerCx {
            arena,
            mem: &mut mem,
            enc: o.encoding,
        };
        let r = lcx.lower_values(&[v], &[rt], max, retptr, &mut flat);
        if r.is_err() {
            let moved = core::mem::take(&mut mem.moved);
            moved.undo(ctx.data_mut());
        }
        r.map_err(|e| match e.kind() {
            crate::error::ErrorKind::Usage => Error::trap(
                TrapKind::Host,
                alloc::format!("host function returned a bad result: {}", e.message()),
            ),
            _ => e,
        })?;
    }
    let st = ctx.data_mut().async_state();
    let x = st.subtask(s)?;
    x.flat_results = flat;
    x.state = SubState::Returned;
    st.subtask_progress(s);
    Ok(())
}

fn host_failed(e: Error) -> Error {
    match e.kind() {
        crate::error::ErrorKind::Trap(_) => e,
        _ => Error::trap(TrapKind::Host, alloc::format!("host function failed: {e}")),
    }
}

/// Polls the pending host calls; returns whether one resolved.
pub(crate) fn poll_host_calls<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
) -> Result<bool> {
    let mut calls = core::mem::take(&mut ctx.data_mut().async_state().host_calls);
    let mut progressed = false;
    let mut i = 0;
    let mut r = Ok(());
    while i < calls.len() {
        let Some(c) = calls.get_mut(i) else { break };
        match poll_once(ctx.data_mut(), &mut c.future) {
            Poll::Pending => i += 1,
            Poll::Ready(v) => {
                let c = calls.remove(i);
                progressed = true;
                let alive = ctx.data_mut().async_state().subtasks.get(c.subtask).is_ok();
                if alive {
                    r = v
                        .map_err(host_failed)
                        .and_then(|v| deliver(ctx, c.subtask, v));
                    if r.is_err() {
                        break;
                    }
                }
            }
        }
    }
    // Calls started while polling (none can: polling runs no guest code)
    // come after the ones kept.
    let st = ctx.data_mut().async_state();
    calls.append(&mut st.host_calls);
    st.host_calls = calls;
    r.map(|()| progressed)
}

/// Cancels subtask `s` if it is a pending host call: its future is
/// dropped and the subtask resolves as cancelled. Returns whether it was.
pub(crate) fn cancel_host_call<T>(data: &mut StoreData<T>, s: u32) -> Result<bool> {
    let st = data.async_state();
    let Some(i) = st.host_calls.iter().position(|c| c.subtask == s) else {
        return Ok(false);
    };
    drop(st.host_calls.remove(i));
    st.subtask(s)?.state = SubState::CancelledBeforeReturned;
    st.subtask_progress(s);
    Ok(true)
}

/// What one step of the store's scheduler did.
enum Step {
    /// A thread ran, or a host future resolved.
    Progressed,
    /// Nothing can run and no host future is pending.
    Idle,
    /// Only pending host futures can make progress (they wake the waker).
    WaitingOnHost,
}

/// Runs the first ready thread, or else polls the pending host futures.
fn step<T: 'static>(ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>) -> Result<Step> {
    if let Some(t) = super::sched::next_ready(ctx.data_mut()) {
        super::sched::resume_thread(ctx, t, false, None)?;
        return Ok(Step::Progressed);
    }
    if ctx.data_mut().async_state().host_calls.is_empty() {
        return Ok(Step::Idle);
    }
    Ok(if poll_host_calls(ctx)? {
        Step::Progressed
    } else {
        Step::WaitingOnHost
    })
}

/// Runs the store's threads and host futures until `done` holds: `Ready`
/// then (or with a deadlock trap when nothing can run and no host future
/// is pending), `Pending` when only host futures can make progress (they
/// wake `waker`).
pub(crate) fn drive<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    waker: &Waker,
    mut done: impl FnMut(&mut super::state::AsyncState) -> bool,
) -> Poll<Result<()>> {
    ctx.data_mut().async_state().waker = Some(waker.clone());
    loop {
        if done(ctx.data_mut().async_state()) {
            return Poll::Ready(Ok(()));
        }
        match step(ctx) {
            Ok(Step::Progressed) => {}
            Ok(Step::Idle) => {
                return Poll::Ready(Err(Error::trap(
                    TrapKind::Deadlock,
                    "deadlock detected: event loop cannot make further progress (every \
                     thread waits for an event nothing can send)",
                )))
            }
            Ok(Step::WaitingOnHost) => return Poll::Pending,
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}

/// [`Store::run_until_idle`](crate::Store::run_until_idle).
pub(crate) fn run_until_idle<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    waker: &Waker,
) -> Poll<Result<()>> {
    if ctx.data().async_state.is_none() {
        return Poll::Ready(Ok(()));
    }
    ctx.data_mut().async_state().waker = Some(waker.clone());
    loop {
        match step(ctx) {
            Ok(Step::Progressed) => {}
            Ok(Step::Idle) => return Poll::Ready(Ok(())),
            Ok(Step::WaitingOnHost) => return Poll::Pending,
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}

/// Runs `step` to completion on this thread: polls it, and while it is
/// pending, parks the thread until a host future wakes it (with `std`;
/// without, spins).
pub(crate) fn block_on<R>(mut step: impl FnMut(&Waker) -> Poll<R>) -> R {
    #[cfg(feature = "std")]
    {
        struct Unpark(std::thread::Thread);
        impl alloc::task::Wake for Unpark {
            fn wake(self: alloc::sync::Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(alloc::sync::Arc::new(Unpark(std::thread::current())));
        loop {
            if let Poll::Ready(r) = step(&waker) {
                return r;
            }
            std::thread::park();
        }
    }
    #[cfg(not(feature = "std"))]
    {
        let waker = Waker::noop();
        loop {
            if let Poll::Ready(r) = step(waker) {
                return r;
            }
            core::hint::spin_loop();
        }
    }
}

fn limit(message: &'static str) -> Error {
    Error::trap(TrapKind::LimitExceeded, message)
}
