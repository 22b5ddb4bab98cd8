//! Component-to-component calls: the fused adapter. A lowered function that
//! is another instance's lifted function moves its params from the caller
//! straight into the callee and its result straight back
//! ([`crate::abi::transfer`]), with the spec's reentrance, borrow and
//! post-return rules.

use alloc::string::String;
use smallvec::SmallVec;

use crate::abi::lower::Flat;
use crate::abi::transfer::{Pair, Side, Transfer};
use crate::abi::{MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use crate::boundary::{call_realloc, charge_fuel, enter_set, leave_set, EnterSet};
use crate::component::Component;
use crate::error::{from_wasmi, Error, Result, TrapKind};
use crate::func::{from_raw, post_return, to_raw, Func, FuncKind, Lent, Options};
use crate::store::StoreData;

/// The caller and callee instances of a call, over a wasmi store context.
pub(crate) struct WasmiPair<'a, C> {
    pub ctx: &'a mut C,
    pub src: &'a Options,
    pub dst: &'a Options,
    /// The callee's task, for borrows lent into it (params only).
    pub dst_task: Option<u32>,
    pub lent: &'a mut Lent,
}

impl<C> WasmiPair<'_, C> {
    fn side(&self, side: Side) -> &Options {
        match side {
            Side::Src => self.src,
            Side::Dst => self.dst,
        }
    }
}

impl<T: 'static, C: wasmi::AsContextMut<Data = StoreData<T>>> Pair for WasmiPair<'_, C> {
    fn bytes(&self, side: Side) -> &[u8] {
        match self.side(side).memory {
            Some(m) => m.data(&*self.ctx),
            None => &[],
        }
    }

    fn bytes_mut(&mut self, side: Side) -> &mut [u8] {
        match self.side(side).memory {
            Some(m) => m.data_mut(&mut *self.ctx),
            None => &mut [],
        }
    }

    fn realloc(
        &mut self,
        side: Side,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32> {
        let o = *self.side(side);
        call_realloc(
            self.ctx,
            o.realloc,
            o.instance,
            [old_ptr, old_size, align, new_size],
        )
    }

    fn move_own(&mut self, src_r: u32, dst_r: u32, h: u32) -> Result<u32> {
        let mut cx = self.ctx.as_context_mut();
        let data = cx.data_mut();
        let (rt, rep) = data.take_own(self.src.instance, src_r, h)?;
        data.put_own(self.dst.instance, dst_r, rt, rep)
    }

    fn lend_borrow(&mut self, src_r: u32, dst_r: u32, h: u32) -> Result<u32> {
        let mut cx = self.ctx.as_context_mut();
        let data = cx.data_mut();
        let (rt, rep) = data.lend(self.src.instance, src_r, h)?;
        self.lent.lenders.push((self.src.instance, h));
        data.put_borrow(self.dst.instance, self.dst_task, dst_r, rt, rep)
    }

    fn charge(&mut self, units: u64) -> Result<()> {
        charge_fuel(self.ctx, units)
    }

    fn take_scratch(&mut self) -> String {
        core::mem::take(&mut self.ctx.as_context_mut().data_mut().string_scratch)
    }

    fn put_scratch(&mut self, s: String) {
        // Keep a small buffer; let a huge one go.
        if s.capacity() <= SCRATCH_KEEP {
            self.ctx.as_context_mut().data_mut().string_scratch = s;
        }
    }

    #[cfg(feature = "async")]
    fn move_async(
        &mut self,
        src: (&crate::types::TypeArena, crate::types::ValType),
        dst: (&crate::types::TypeArena, crate::types::ValType),
        h: u32,
    ) -> Result<u32> {
        let (from, to) = (self.src.instance, self.dst.instance);
        let mut cx = self.ctx.as_context_mut();
        crate::concurrent::streams::move_handle(cx.data_mut(), from, to, src, dst, h)
    }
}

/// The largest string buffer the store keeps between calls.
const SCRATCH_KEEP: usize = 64 * 1024;

/// Another instance's lifted function as lowered into a caller: what each
/// call through the adapter needs, fixed when it is lowered.
pub(crate) struct Adapter {
    /// The caller's component and the lowered function type in it.
    pub component: Component,
    pub ty: u32,
    /// The caller's canonical options.
    pub options: Options,
    pub callee: Func,
    /// The instances a call enters (instances never change parents).
    pub entering: EnterSet,
}

/// Runs a component-to-component call through adapter `a`.
pub(crate) fn call<T: 'static>(
    a: &Adapter,
    caller: &mut wasmi::Caller<'_, StoreData<T>>,
    args: &[wasmi::Val],
    results: &mut [wasmi::Val],
) -> Result<()> {
    let (component, ty, o, callee, entering) =
        (&a.component, a.ty, &a.options, &a.callee, &a.entering[..]);
    let FuncKind::Lifted(l) = &callee.kind else {
        return Err(Error::usage("a lowered component function is not lifted"));
    };
    crate::boundary::call_out(caller, o.instance, crate::boundary::CALL_MAY_NOT_LEAVE)?;
    let mut ctx = wasmi::AsContextMut::as_context_mut(caller);
    let ctx = &mut ctx;
    let plans = &component.inner.plans;
    let caller_plan = plans
        .get(ty as usize)
        .ok_or_else(|| Error::usage("unknown function type"))?;
    let callee_comp = &callee.component.inner;
    let callee_plan = callee_comp
        .plans
        .get(l.ty as usize)
        .ok_or_else(|| Error::usage("unknown function type"))?;
    let mut raw = Flat::new();
    for a in args {
        raw.push(to_raw(a));
    }
    let n_params = raw
        .len()
        .saturating_sub(usize::from(caller_plan.result_spilled));

    enter_set(ctx.data_mut(), entering)?;
    let mut lent = Lent::default();
    // A task counts the borrows lent to the callee: only params that can
    // hold one need it.
    let task = if callee_plan.params_borrow {
        Some(ctx.data_mut().tasks.add(0)?)
    } else {
        None
    };
    let mut task_open = task.is_some();
    let r = (|| {
        let mut flat = Flat::new();
        Transfer {
            src_arena: &component.inner.arena,
            dst_arena: &callee_comp.arena,
            pair: &mut WasmiPair {
                ctx: &mut *ctx,
                src: o,
                dst: &l.options,
                dst_task: task,
                lent: &mut lent,
            },
            src_enc: o.encoding,
            dst_enc: l.options.encoding,
        }
        .values(
            &caller_plan.params,
            &callee_plan.params,
            &raw[..n_params],
            MAX_FLAT_PARAMS,
            None,
            &mut flat,
        )?;
        let mut core_args: SmallVec<[wasmi::Val; 16]> = SmallVec::new();
        for (b, t) in flat.iter().zip(callee_plan.core_params.iter()) {
            core_args.push(from_raw(*b, *t));
        }
        let mut outs: SmallVec<[wasmi::Val; 1]> = SmallVec::new();
        for t in callee_plan.core_results.iter() {
            outs.push(from_raw(0, *t));
        }
        let called = match l.fast.call(&mut *ctx, &core_args, &mut outs) {
            Some(r) => r,
            None => l.core.call(&mut *ctx, &core_args, &mut outs),
        }
        .map_err(from_wasmi);
        let borrows = match task {
            Some(task) => ctx.data_mut().tasks.remove(task).unwrap_or(0),
            None => 0,
        };
        task_open = false;
        called?;
        if borrows > 0 {
            return Err(Error::trap(
                TrapKind::BorrowsOutstanding,
                "the callee returned without dropping the borrowed handles it was given",
            ));
        }
        if let (Some(ert), Some(crt)) = (callee_plan.result, caller_plan.result) {
            let mut raw_out = Flat::new();
            for v in outs.iter() {
                raw_out.push(to_raw(v));
            }
            let out_param = if caller_plan.result_spilled {
                raw.last().map(|p| *p as u32)
            } else {
                None
            };
            let mut back = Flat::new();
            let mut no_lends = Lent::default();
            Transfer {
                src_arena: &callee_comp.arena,
                dst_arena: &component.inner.arena,
                pair: &mut WasmiPair {
                    ctx: &mut *ctx,
                    src: &l.options,
                    dst: o,
                    dst_task: None,
                    lent: &mut no_lends,
                },
                src_enc: l.options.encoding,
                dst_enc: o.encoding,
            }
            .values(
                &[ert],
                &[crt],
                &raw_out,
                MAX_FLAT_RESULTS,
                out_param,
                &mut back,
            )?;
            for (slot, (bits, t)) in results
                .iter_mut()
                .zip(back.iter().zip(caller_plan.lower_results.iter()))
            {
                *slot = from_raw(*bits, *t);
            }
        }
        post_return(ctx, l, &outs)
    })();
    // On an early error the task is still open. (Removing a closed one
    // would build an error message on every call.)
    if let (true, Some(task)) = (task_open, task) {
        let _ = ctx.data_mut().tasks.remove(task);
    }
    lent.release(ctx.data_mut());
    leave_set(ctx.data_mut(), entering, &r)?;
    r
}
