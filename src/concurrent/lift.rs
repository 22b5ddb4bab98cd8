//! `canon lift async (callback f)`: a call of such a function from the host.
//!
//! The task's event loop runs on the caller's native stack. That is exact
//! as long as nothing else in the store can run concurrently, which holds
//! in this build (no `canon lower async`, streams or futures yet): every
//! other task waits on the native stack for this one, so a YIELD finds no
//! other thread ready and the callback runs again at once, and a WAIT on a
//! waitable set can never be woken (no waitable can join a set), which is
//! the spec's deadlock. Sync callers other than `Func::call` (typed calls,
//! resumable calls, a `canon lower` by another component) need the
//! scheduler to suspend them and are refused until it exists.

use super::state::{AsyncTask, KIND_WAITABLE_SET};
use crate::component::Component;
use crate::error::{from_wasmi, Error, Result, TrapKind};
use crate::func::{begin_call, enter, leave, CoreArgs, CoreResults, LiftedFunc};
use crate::store::StoreData;
use crate::values::Val;

/// `CallbackCode`s.
const EXIT: u32 = 0;
const YIELD: u32 = 1;
const WAIT: u32 = 2;
/// `EventCode.NONE`.
const EVENT_NONE: i32 = 0;

/// Refuses a caller that cannot run an async-lifted callee yet (`what`
/// names it).
pub(crate) fn check_sync_caller(l: &LiftedFunc, what: &str) -> Result<()> {
    if l.options.callback.is_some() {
        return Err(Error::unsupported(alloc::format!(
            "{what} of an `async`-lifted function: they need the component-model async \
             scheduler (issue #18), not implemented yet (`Func::call` runs them)"
        )));
    }
    Ok(())
}

/// Calls the `async (callback …)`-lifted function `l` from the host with
/// `params`, storing its result (what `task.return` gave) in `results`.
pub(crate) fn call<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    component: &Component,
    l: &LiftedFunc,
    params: &[Val],
    results: &mut [Val],
) -> Result<()> {
    let set = enter(ctx, l.options.instance, None)?;
    let r = run(ctx, component, l, params);
    leave(ctx, &set, &r)?;
    let val = r.map_err(|e| ctx.data_mut().limiter.0.explain(e))?;
    if let (Some(slot), Some(v)) = (results.first_mut(), val) {
        *slot = v;
    }
    Ok(())
}

fn run<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    component: &Component,
    l: &LiftedFunc,
    params: &[Val],
) -> Result<Option<Val>> {
    let callback = l.options.callback.ok_or_else(|| internal("no callback"))?;
    let arena = &component.inner.arena;
    let result = arena
        .funcs
        .get(l.ty as usize)
        .ok_or_else(|| Error::usage("unknown function type"))?
        .result;
    let mut args = CoreArgs::new();
    let mut outs = CoreResults::new();
    let borrows = begin_call(ctx, component, l, params, &mut args, &mut outs)?;
    let depth = ctx.data().depth;
    let task = AsyncTask {
        component_id: arena.component_id,
        result,
        memory: l.options.memory,
        encoding: l.options.encoding,
        borrows,
        returned: None,
    };
    let r = (|| {
        ctx.data_mut().async_state().set_task(depth, task)?;
        let mut out = [wasmi::Val::I32(0)];
        l.core
            .call(&mut *ctx, &args, &mut out)
            .map_err(from_wasmi)?;
        loop {
            let packed = match out[0] {
                wasmi::Val::I32(c) => c as u32,
                _ => return Err(internal("callback result")),
            };
            match packed & 0xf {
                EXIT => break,
                YIELD => {
                    // No other thread can be ready: resume at once.
                    let event = [
                        wasmi::Val::I32(EVENT_NONE),
                        wasmi::Val::I32(0),
                        wasmi::Val::I32(0),
                    ];
                    callback
                        .call(&mut *ctx, &event, &mut out)
                        .map_err(from_wasmi)?;
                }
                WAIT => {
                    let si = packed >> 4;
                    ctx.data_mut().async_handle(
                        l.options.instance,
                        si,
                        KIND_WAITABLE_SET,
                        "a waitable set",
                    )?;
                    // Nothing can join the set, and nothing else can run.
                    return Err(Error::trap(
                        TrapKind::Deadlock,
                        "deadlock detected: event loop cannot make further progress \
                         (the task waits on a waitable set no event can reach)",
                    ));
                }
                code => {
                    return Err(Error::trap(
                        TrapKind::AsyncRule,
                        alloc::format!("unsupported callback code {code}"),
                    ))
                }
            }
        }
        let returned = ctx
            .data_mut()
            .async_state()
            .task(depth)
            .and_then(|t| t.returned.take());
        returned.ok_or_else(|| {
            Error::trap(
                TrapKind::AsyncRule,
                "the async task exited without calling task.return",
            )
        })
    })();
    if let Some(b) = borrows {
        let _ = ctx.data_mut().tasks.remove(b);
    }
    r
}

fn internal(what: &str) -> Error {
    Error::trap(
        TrapKind::Other,
        alloc::format!("internal: async call ({what})"),
    )
}
