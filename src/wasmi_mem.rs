//! Guest memory over a wasmi store context ([`WasmiMem`]): what lifting and
//! lowering on the call paths read and write, with the handle moves they
//! make (undone when lowering a call's arguments fails) and the loans of
//! borrows lifted for a call ([`Lent`]).

use smallvec::SmallVec;

use crate::abi::budget::HostBudget;
use crate::abi::GuestMemory;
use crate::boundary::{call_realloc, charge_fuel};
use crate::error::Result;
use crate::func::Options;
use crate::resources::{HostHandle, ResourceAny};
use crate::store::StoreData;

/// Guest memory and realloc over a wasmi store context.
pub(crate) struct WasmiMem<'a, C> {
    ctx: &'a mut C,
    memory: Option<wasmi::Memory>,
    realloc: Option<wasmi::TypedFunc<(i32, i32, i32, i32), i32>>,
    instance: u32,
    /// The callee's call, for borrows lowered into it.
    pub(crate) task: Option<u32>,
    /// Borrows lifted from this instance: handles lent for the call.
    pub(crate) lent: Lent,
    /// The handles lowering put into the instance's table, to take back if
    /// lowering the rest of the values fails.
    pub(crate) moved: Moved,
    /// The host bytes the values lifted here may still take (set on first use).
    budget: Option<HostBudget>,
}

/// The handles lowering added to a table, each with the host's handle it
/// moved (for an `own` lowered from a [`ResourceAny`]). If lowering a
/// call's arguments fails part-way, [`Moved::undo`] takes them out again,
/// so a rejected call consumes nothing.
#[derive(Default)]
pub(crate) struct Moved {
    added: SmallVec<[MovedHandle; 2]>,
}

/// A handle lowering added: `(instance, handle)`, and for an `own` moved
/// from the host, the host's handle and its index in the host table.
type MovedHandle = (u32, u32, Option<(u32, HostHandle)>);

impl Moved {
    /// Takes the added handles out of their tables and gives the host back
    /// the handles they were moved from (at the same index and generation,
    /// so the host's `ResourceAny` values stay valid).
    pub(crate) fn undo<T>(self, data: &mut StoreData<T>) {
        for (inst, h, host) in self.added.into_iter().rev() {
            if let Ok(flags) = data.flags(inst) {
                let _ = flags.handles.remove(h);
            }
            if let Some((index, hh)) = host {
                data.host_handles.restore(index, hh);
            }
        }
    }
}

/// What lifting borrows for a call leaves behind, released after the call:
/// the lending handles `(instance, handle)` and the host's temporary handles.
#[derive(Default)]
pub(crate) struct Lent {
    pub lenders: SmallVec<[(u32, u32); 2]>,
    pub temps: SmallVec<[u32; 2]>,
}

impl Lent {
    /// Ends the loans: after the call, borrowed handles may be dropped again.
    #[inline]
    pub(crate) fn release<T>(self, data: &mut StoreData<T>) {
        // Most calls lend nothing: skip the call and the iterators.
        if self.lenders.is_empty() && self.temps.is_empty() {
            return;
        }
        self.release_all(data);
    }

    #[inline(never)]
    fn release_all<T>(self, data: &mut StoreData<T>) {
        for (inst, h) in self.lenders {
            data.unlend(inst, h);
        }
        for t in self.temps {
            let _ = data.host_handles.remove(t);
        }
    }
}

impl<'a, C> WasmiMem<'a, C> {
    pub(crate) fn new(ctx: &'a mut C, o: &Options) -> Self {
        WasmiMem {
            ctx,
            memory: o.memory,
            realloc: o.realloc,
            instance: o.instance,
            task: None,
            lent: Lent::default(),
            moved: Moved::default(),
            budget: None,
        }
    }
}

impl<T: 'static, C: wasmi::AsContextMut<Data = StoreData<T>>> GuestMemory for WasmiMem<'_, C> {
    fn bytes(&self) -> &[u8] {
        match self.memory {
            Some(m) => m.data(&*self.ctx),
            None => &[],
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        match self.memory {
            Some(m) => m.data_mut(&mut *self.ctx),
            None => &mut [],
        }
    }

    fn realloc(&mut self, old_ptr: u32, old_size: u32, align: u32, new_size: u32) -> Result<u32> {
        call_realloc(
            self.ctx,
            self.realloc,
            self.instance,
            [old_ptr, old_size, align, new_size],
        )
    }

    fn lift_own(&mut self, r: u32, i: u32) -> Result<ResourceAny> {
        self.ctx
            .as_context_mut()
            .data_mut()
            .lift_own(self.instance, r, i)
    }

    #[cfg(feature = "async")]
    fn lift_async(
        &mut self,
        arena: &crate::types::TypeArena,
        ty: crate::types::ValType,
        h: u32,
    ) -> Result<crate::Val> {
        let inst = self.instance;
        let mut cx = self.ctx.as_context_mut();
        crate::concurrent::host_values::lift(cx.data_mut(), inst, arena, ty, h)
    }

    #[cfg(feature = "async")]
    fn lower_async(
        &mut self,
        arena: &crate::types::TypeArena,
        ty: crate::types::ValType,
        v: &crate::Val,
    ) -> Result<u32> {
        let inst = self.instance;
        let mut cx = self.ctx.as_context_mut();
        crate::concurrent::host_values::lower(cx.data_mut(), inst, arena, ty, v)
    }

    fn charge(&mut self, units: u64) -> Result<()> {
        charge_fuel(self.ctx, units)
    }

    fn host_alloc(&mut self, bytes: u64) -> Result<()> {
        let budget = match &mut self.budget {
            Some(b) => b,
            None => self
                .budget
                .insert(self.ctx.as_context().data().lift_budget()),
        };
        budget.take(bytes)
    }

    fn max_lift_bytes(&self) -> u32 {
        self.ctx.as_context().data().limits.max_lift_bytes
    }

    fn lift_borrow(&mut self, r: u32, i: u32) -> Result<ResourceAny> {
        let v = self
            .ctx
            .as_context_mut()
            .data_mut()
            .lift_borrow(self.instance, r, i)?;
        self.lent.lenders.push((self.instance, i));
        self.lent.temps.push(v.index);
        Ok(v)
    }

    fn lower_own(&mut self, r: u32, v: &ResourceAny) -> Result<u32> {
        let inst = self.instance;
        let mut cx = self.ctx.as_context_mut();
        let data = cx.data_mut();
        let hh = data.host_get(v)?;
        let h = data.lower_own(inst, r, v)?;
        self.moved.added.push((inst, h, Some((v.index, hh))));
        Ok(h)
    }

    fn lower_borrow(&mut self, r: u32, v: &ResourceAny) -> Result<u32> {
        let (inst, task) = (self.instance, self.task);
        let mut cx = self.ctx.as_context_mut();
        let data = cx.data_mut();
        let hh = data.host_get(v)?;
        let h = data.lower_borrow(inst, task, r, v)?;
        if !data.is_implementer(inst, hh.rt) {
            self.moved.added.push((inst, h, None));
        }
        Ok(h)
    }

    fn lower_host(
        &mut self,
        r: u32,
        borrow: bool,
        id: core::any::TypeId,
        rep: u32,
        own: bool,
    ) -> Result<u32> {
        let (inst, task) = (self.instance, self.task);
        let mut cx = self.ctx.as_context_mut();
        let data = cx.data_mut();
        let h = data.lower_host(inst, task, r, borrow, id, rep, own)?;
        let lent_rep = borrow
            && data
                .host_types
                .get(&crate::resources::ResourceType {
                    kind: crate::resources::ResourceKind::Host(id),
                })
                .is_some_and(|rt| data.is_implementer(inst, *rt));
        if !lent_rep {
            self.moved.added.push((inst, h, None));
        }
        Ok(h)
    }
}
