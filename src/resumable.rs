//! Resumable calls: run a component call on a fuel budget, and resume it
//! with more fuel later (e.g. a game giving a plugin a budget per frame).
//!
//! A call is resumable while fuel runs out in the callee's own core code.
//! Fuel that runs out in the component layer's work (lowering, lifting) or
//! inside a nested call (a host import, another component) is a trap:
//! resuming there would need the nested frames, which wasmi cannot suspend
//! across a host function.

use alloc::sync::Arc;

use crate::boundary::{enter, leave, EnterSet};
use crate::error::{from_wasmi, Error, Result};
use crate::func::{begin_call, finish_call, post_return, CoreResults, Func, FuncKind, LiftedFunc};
use crate::store::{AsContextMut, StoreData};
use crate::values::Val;

/// The outcome of [`Func::call_resumable`] and [`ResumableCall::resume`].
pub enum CallOutcome {
    /// The call returned; its results are in the `results` slots.
    Finished,
    /// Fuel ran out in the callee's code: add fuel and [`ResumableCall::resume`].
    OutOfFuel(alloc::boxed::Box<ResumableCall>),
}

/// A component call suspended because it ran out of fuel. The instance
/// stays entered until the call is resumed to completion: calling into it
/// meanwhile traps (reentrance), and dropping this value leaves it entered.
pub struct ResumableCall {
    func: Func,
    lifted: Arc<LiftedFunc>,
    inner: wasmi::ResumableCallOutOfFuel,
    set: EnterSet,
    task: Option<u32>,
    outs: CoreResults,
}

impl ResumableCall {
    /// The fuel the suspended core code needs to make progress.
    pub fn required_fuel(&self) -> u64 {
        self.inner.required_fuel()
    }

    /// Resumes the call (after [`Store::set_fuel`](crate::Store::set_fuel)).
    /// `results` gets the result when the call finishes. Fails as
    /// [`Func::call`] does.
    pub fn resume<T: 'static>(
        self,
        mut store: impl AsContextMut<Data = T>,
        results: &mut [Val],
    ) -> Result<CallOutcome> {
        let mut cx = store.as_context_mut();
        self.func.check_call(
            cx.inner.data().id,
            self.func.ty().params.len(),
            results.len(),
        )?;
        let ctx = &mut cx.inner;
        let ResumableCall {
            func,
            lifted,
            inner,
            set,
            task,
            mut outs,
        } = self;
        // A suspended call left the native stack: it counts again now.
        let r = match ctx.data_mut().enter_depth() {
            Ok(()) => inner.resume(&mut *ctx, &mut outs),
            Err(e) => {
                // Balance the `leave` below, which ends the call.
                ctx.data_mut().depth += 1;
                Err(wasmi::Error::host(e))
            }
        };
        drive(ctx, func, lifted, set, task, outs, r, results)
    }
}

impl Func {
    /// Like [`Func::call`], but when fuel runs out in the callee's code the
    /// call is suspended instead of trapping: add fuel and resume it.
    pub fn call_resumable<T: 'static>(
        &self,
        mut store: impl AsContextMut<Data = T>,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<CallOutcome> {
        let FuncKind::Lifted(l) = &self.kind else {
            self.call(store, params, results)?;
            return Ok(CallOutcome::Finished);
        };
        #[cfg(feature = "async")]
        crate::concurrent::lift::check_sync_caller(l, "resumable calls")?;
        let mut cx = store.as_context_mut();
        self.check_call(cx.inner.data().id, params.len(), results.len())?;
        let ctx = &mut cx.inner;
        let set = enter(ctx, l.options.instance, None)?;
        let mut args = crate::func::CoreArgs::new();
        let mut outs = CoreResults::new();
        let task = match begin_call(ctx, &self.component, l, params, &mut args, &mut outs) {
            Ok(x) => x,
            Err(e) => {
                let r: Result<()> = Err(e);
                leave(ctx, &set, &r)?;
                return Err(r.err().unwrap_or_else(|| Error::usage("unreachable")));
            }
        };
        let r = l.core.call_resumable(&mut *ctx, &args, &mut outs);
        drive(ctx, self.clone(), l.clone(), set, task, outs, r, results)
    }
}

/// Turns what wasmi's resumable call returned into an outcome: suspends on
/// out-of-fuel, else finishes the component call (lift, post-return, leave).
#[allow(clippy::too_many_arguments)]
fn drive<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    func: Func,
    lifted: Arc<LiftedFunc>,
    set: EnterSet,
    task: Option<u32>,
    outs: CoreResults,
    r: core::result::Result<wasmi::ResumableCall, wasmi::Error>,
    results: &mut [Val],
) -> Result<CallOutcome> {
    let r = match r {
        Ok(wasmi::ResumableCall::OutOfFuel(inner)) => {
            // Suspended: off the native stack until resumed.
            ctx.data_mut().leave_depth();
            return Ok(CallOutcome::OutOfFuel(alloc::boxed::Box::new(
                ResumableCall {
                    func,
                    lifted,
                    inner,
                    set,
                    task,
                    outs,
                },
            )));
        }
        Ok(wasmi::ResumableCall::Finished) => Ok(()),
        Ok(wasmi::ResumableCall::HostTrap(h)) => Err(from_wasmi(h.into_host_error())),
        Err(e) => Err(from_wasmi(e)),
    };
    let done = (|| {
        let val = finish_call(ctx, &func.component, &lifted, task, r, &outs)?;
        if let (Some(slot), Some(v)) = (results.first_mut(), val) {
            *slot = v;
        }
        post_return(ctx, &lifted, &outs)
    })();
    leave(ctx, &set, &done)?;
    done.map(|()| CallOutcome::Finished)
        .map_err(|e| ctx.data_mut().limiter.0.explain(e))
}
