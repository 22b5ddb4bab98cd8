//! The async built-ins this build runs, as core functions: thread-local
//! storage (`context.get/set`), backpressure, `thread.yield`, and waitable
//! sets (`waitable-set.new/poll/drop`).
//!
//! Each is a wasmi host function bound to the instance that defined it.
//! What they do follows CanonicalABI.md; where the spec's step depends on
//! things this build does not have yet (waitables in a set, other tasks to
//! switch to, cancellation requests), the state that would hold them is
//! empty, so the step is taken with that empty state (a poll finds no
//! event; a yield finds no other thread ready and returns at once).

use wasmi::ValType::I32;

use super::sched::{block, resume_values, Resume, WaitFor};
use super::state::{WaitableSet, CONTEXT_SLOTS, KIND_WAITABLE_SET};
use super::waitable::{Event, WaitableKind, KIND_WAITABLE};
use crate::abi::{StringEncoding, MAX_FLAT_PARAMS};
use crate::component::Component;
use crate::error::{Error, Result, TrapKind};
use crate::store::{StoreContextMut, StoreData};
use crate::types::{TypeArena, ValType};

/// An async built-in of a component, as an instantiation step makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    /// `context.get i32 $i`.
    ContextGet(u32),
    /// `context.set i32 $i`.
    ContextSet(u32),
    /// `backpressure.inc`.
    BackpressureInc,
    /// `backpressure.dec`.
    BackpressureDec,
    /// `thread.yield`.
    ThreadYield,
    /// `waitable-set.new`.
    WaitableSetNew,
    /// `waitable-set.poll (memory $m)`: core memory index `memory`.
    WaitableSetPoll {
        /// The core memory (index in the instance's memories) events go to.
        memory: u32,
    },
    /// `waitable-set.drop`.
    WaitableSetDrop,
    /// `waitable-set.wait (memory $m)`: core memory index `memory`.
    WaitableSetWait {
        /// The core memory (index in the instance's memories) events go to.
        memory: u32,
    },
    /// `waitable.join`.
    WaitableJoin,
    /// `subtask.drop`.
    SubtaskDrop,
    /// `subtask.cancel async?`.
    SubtaskCancel {
        /// The `async` immediate: return BLOCKED instead of waiting.
        is_async: bool,
    },
    /// `task.cancel`.
    TaskCancel,
    /// `task.return (result T) (memory $m)? string-encoding`.
    TaskReturn {
        /// The result type (in the component's arena).
        result: Option<ValType>,
        /// The `memory` option (a core memory index of the instance).
        memory: Option<u32>,
        /// The string encoding option.
        encoding: StringEncoding,
    },
    /// A stream, future or error-context built-in
    /// ([`super::streams`]; its instance step resolves its options).
    Stream(super::streams::StreamBuiltin),
}

impl Builtin {
    /// The core memory the built-in writes to, if any.
    pub(crate) fn memory(self) -> Option<u32> {
        match self {
            Builtin::WaitableSetPoll { memory } | Builtin::WaitableSetWait { memory } => {
                Some(memory)
            }
            Builtin::TaskReturn { memory, .. } => memory,
            Builtin::Stream(s) => s.memory,
            _ => None,
        }
    }

    /// The built-in as a code and an immediate, for component images
    /// (`task.return` has more: see the image writer).
    pub(crate) fn to_code(self) -> (u8, u32) {
        match self {
            Builtin::TaskReturn { memory, .. } => (8, memory.map_or(u32::MAX, |m| m)),
            Builtin::Stream(s) => s.to_code(),
            Builtin::ContextGet(i) => (0, i),
            Builtin::ContextSet(i) => (1, i),
            Builtin::BackpressureInc => (2, 0),
            Builtin::BackpressureDec => (3, 0),
            Builtin::ThreadYield => (4, 0),
            Builtin::WaitableSetNew => (5, 0),
            Builtin::WaitableSetPoll { memory } => (6, memory),
            Builtin::WaitableSetDrop => (7, 0),
            Builtin::WaitableSetWait { memory } => (9, memory),
            Builtin::WaitableJoin => (10, 0),
            Builtin::SubtaskDrop => (11, 0),
            Builtin::SubtaskCancel { is_async } => (12, u32::from(is_async)),
            Builtin::TaskCancel => (13, 0),
        }
    }

    /// The built-in [`Builtin::to_code`] gave `(code, x)`, if valid.
    pub(crate) fn from_code(code: u8, x: u32) -> Option<Builtin> {
        let slot = (x as usize) < CONTEXT_SLOTS;
        Some(match code {
            0 if slot => Builtin::ContextGet(x),
            1 if slot => Builtin::ContextSet(x),
            2 => Builtin::BackpressureInc,
            3 => Builtin::BackpressureDec,
            4 => Builtin::ThreadYield,
            5 => Builtin::WaitableSetNew,
            6 => Builtin::WaitableSetPoll { memory: x },
            7 => Builtin::WaitableSetDrop,
            9 => Builtin::WaitableSetWait { memory: x },
            10 => Builtin::WaitableJoin,
            11 => Builtin::SubtaskDrop,
            12 if x <= 1 => Builtin::SubtaskCancel { is_async: x == 1 },
            13 => Builtin::TaskCancel,
            _ => return None,
        })
    }

    pub(crate) fn core_type(self, arena: &TypeArena) -> wasmi::FuncType {
        match self {
            Builtin::TaskReturn { result, .. } => {
                let flat = result.map_or(&[][..], |t| arena.flat(t));
                if flat.len() > MAX_FLAT_PARAMS {
                    wasmi::FuncType::new([I32], [])
                } else {
                    wasmi::FuncType::new(flat.iter().map(|f| f.to_wasmi()), [])
                }
            }
            Builtin::ContextGet(_) | Builtin::ThreadYield | Builtin::WaitableSetNew => {
                wasmi::FuncType::new([], [I32])
            }
            Builtin::ContextSet(_) | Builtin::WaitableSetDrop | Builtin::SubtaskDrop => {
                wasmi::FuncType::new([I32], [])
            }
            Builtin::BackpressureInc | Builtin::BackpressureDec | Builtin::TaskCancel => {
                wasmi::FuncType::new([], [])
            }
            Builtin::WaitableSetPoll { .. } | Builtin::WaitableSetWait { .. } => {
                wasmi::FuncType::new([I32, I32], [I32])
            }
            Builtin::WaitableJoin => wasmi::FuncType::new([I32, I32], []),
            Builtin::SubtaskCancel { .. } => wasmi::FuncType::new([I32], [I32]),
            Builtin::Stream(s) => s.core_type(),
        }
    }
}

/// Makes the core function of built-in `b` of instance `inst`; `memory` is
/// its `(memory …)` option, resolved.
pub(crate) fn core_func<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    component: &Component,
    b: Builtin,
    inst: u32,
    memory: Option<wasmi::Memory>,
) -> Result<wasmi::Func> {
    if let Builtin::TaskReturn {
        result, encoding, ..
    } = b
    {
        return Ok(super::task_return::core_func(
            store, component, result, encoding, inst, memory,
        ));
    }
    if let Some(m) = memory {
        if m.ty(&store.inner).is_64() {
            return Err(Error::unsupported(
                "async built-ins over 64-bit memories (the component model 64-bit feature)",
            ));
        }
    }
    if b.memory().is_some() && memory.is_none() {
        return Err(Error::load(0, "the built-in needs a memory"));
    }
    store.inner.data_mut().async_state();
    let ty = b.core_type(&component.inner.arena);
    Ok(wasmi::Func::new(
        &mut store.inner,
        ty,
        move |mut caller, args, results| {
            let arg = |i: usize| match args.get(i) {
                Some(wasmi::Val::I32(x)) => *x as u32,
                _ => 0,
            };
            let r = run(&mut caller, b, inst, memory, arg(0), arg(1));
            match r {
                Ok(Some(v)) => {
                    if let Some(slot) = results.first_mut() {
                        *slot = wasmi::Val::I32(v as i32);
                    }
                    Ok(())
                }
                Ok(None) => Ok(()),
                Err(e) => Err(super::sched::host_error(e)),
            }
        },
    ))
}

/// Runs built-in `b` with arguments `a0`, `a1`; returns its result, if it
/// has one.
fn run<T: 'static>(
    caller: &mut wasmi::Caller<'_, StoreData<T>>,
    b: Builtin,
    inst: u32,
    memory: Option<wasmi::Memory>,
    a0: u32,
    a1: u32,
) -> Result<Option<u32>> {
    let data = caller.data_mut();
    match b {
        Builtin::ContextGet(i) => {
            let depth = data.depth;
            let slot = data.async_state().context(depth).map(|c| c.get(i as usize));
            match slot {
                Some(Some(v)) => Ok(Some(*v)),
                Some(None) => Err(bad_slot(i)),
                // A fresh thread (no call in progress): zero-initialized.
                None if (i as usize) < CONTEXT_SLOTS => Ok(Some(0)),
                None => Err(bad_slot(i)),
            }
        }
        Builtin::ContextSet(i) => {
            let depth = data.depth;
            match data.async_state().context(depth) {
                Some(c) => *c.get_mut(i as usize).ok_or_else(|| bad_slot(i))? = a0,
                None if (i as usize) < CONTEXT_SLOTS => {}
                None => return Err(bad_slot(i)),
            }
            Ok(None)
        }
        Builtin::BackpressureInc => {
            let c = data.async_state().backpressure(inst)?;
            *c = c.checked_add(1).ok_or_else(|| {
                rule("backpressure.inc: the backpressure counter would reach 2^16")
            })?;
            Ok(None)
        }
        Builtin::BackpressureDec => {
            let c = data.async_state().backpressure(inst)?;
            *c = c.checked_sub(1).ok_or_else(|| {
                rule("backpressure.dec: the backpressure counter would go below 0")
            })?;
            Ok(None)
        }
        Builtin::ThreadYield => {
            check_may_leave(data, inst)?;
            let mut ctx = wasmi::AsContextMut::as_context_mut(caller);
            // Not cancellable (this spec version has no `cancellable`).
            block(&mut ctx, inst, WaitFor::Ready, Resume::Yield, false)?;
            Ok(Some(0))
        }
        Builtin::WaitableSetNew => {
            check_may_leave(data, inst)?;
            crate::boundary::charge_fuel(caller, crate::abi::FUEL_PER_HANDLE)?;
            let data = caller.data_mut();
            waitable_set_new(data, inst).map(Some)
        }
        Builtin::WaitableSetPoll { .. } => {
            check_may_leave(data, inst)?;
            let set = data.async_handle(inst, a0, KIND_WAITABLE_SET, "a waitable set")?;
            let event = data
                .async_state()
                .take_set_event(set)?
                .unwrap_or(Event::NONE);
            super::sched::release_loans(data);
            let mem = memory.ok_or_else(|| internal("memory"))?;
            let mut ctx = wasmi::AsContextMut::as_context_mut(caller);
            unpack_event(&mut ctx, mem, a1, event).map(Some)
        }
        Builtin::WaitableSetWait { .. } => {
            check_may_leave(data, inst)?;
            let set = data.async_handle(inst, a0, KIND_WAITABLE_SET, "a waitable set")?;
            let mem = memory.ok_or_else(|| internal("memory"))?;
            if let Ok(x) = data.async_state().sets.get_mut(set) {
                x.waiting += 1;
            }
            let resume = Resume::Wait { set, mem, ptr: a1 };
            let mut ctx = wasmi::AsContextMut::as_context_mut(caller);
            block(&mut ctx, inst, WaitFor::Set(set), resume, false)?;
            let v = resume_values(&mut ctx, resume, false)?;
            match v.first() {
                Some(wasmi::Val::I32(c)) => Ok(Some(*c as u32)),
                _ => Err(internal("wait result")),
            }
        }
        Builtin::WaitableJoin => {
            check_may_leave(data, inst)?;
            let w = data.waitable_handle(inst, a0, "a waitable")?;
            let s = data.async_state();
            if s.waitable(w)?.sync_waiter {
                return Err(rule(
                    "waitable.join: the waitable is being waited on synchronously",
                ));
            }
            let set = if a1 == 0 {
                None
            } else {
                Some(data.async_handle(inst, a1, KIND_WAITABLE_SET, "a waitable set")?)
            };
            data.async_state().join(w, set)?;
            Ok(None)
        }
        Builtin::SubtaskDrop => {
            check_may_leave(data, inst)?;
            let (w, sub) = subtask_handle(data, inst, a0)?;
            let x = data.async_state().subtask(sub)?;
            if !x.resolve_delivered {
                return Err(rule(
                    "cannot drop a subtask which has not yet resolved (or whose resolution \
                     was not yet delivered)",
                ));
            }
            data.remove_async_handle(inst, a0, KIND_WAITABLE, "a subtask")?;
            let s = data.async_state();
            s.remove_waitable(w)?;
            let x = s.subtasks.remove(sub).map_err(|_| internal("subtask"))?;
            x.lent.release(data);
            Ok(None)
        }
        Builtin::SubtaskCancel { is_async } => {
            check_may_leave(data, inst)?;
            let (w, sub) = subtask_handle(data, inst, a0)?;
            let s = data.async_state();
            let in_set = s.waitable(w)?.set.is_some();
            let x = s.subtask(sub)?;
            if x.resolve_delivered {
                return Err(rule(
                    "subtask.cancel: the subtask's resolution was delivered",
                ));
            }
            if x.cancellation_requested {
                return Err(rule("subtask.cancel: cancellation was already requested"));
            }
            if in_set && !is_async {
                return Err(rule(
                    "subtask.cancel without `async` of a subtask in a waitable set",
                ));
            }
            let callee = x.callee;
            let resolved = x.resolved();
            x.cancellation_requested = true;
            let mut ctx = wasmi::AsContextMut::as_context_mut(caller);
            if !resolved {
                if let Some(task) = callee {
                    super::sched::request_cancellation(&mut ctx, task, Some(inst))?;
                } else {
                    super::host::cancel_host_call(ctx.data_mut(), sub)?;
                }
                let s = ctx.data_mut().async_state();
                if !s.subtask(sub)?.resolved() {
                    if is_async {
                        return Ok(Some(super::call::BLOCKED));
                    }
                    let e = super::sched::wait_for_event_in(&mut ctx, inst, w)?;
                    return Ok(Some(e.payload));
                }
            }
            let s = ctx.data_mut().async_state();
            if !s.has_pending(w) {
                s.subtask_progress(sub);
            }
            let e = super::sched::take_event(&mut ctx, w)?;
            Ok(Some(e.payload))
        }
        Builtin::TaskCancel => {
            check_may_leave(data, inst)?;
            let depth = data.depth;
            let Some(task) = data.async_state().current_task(depth) else {
                return Err(rule(
                    "task.cancel was called by a task of a function lifted without `async`",
                ));
            };
            if !data.async_state().task(task)?.func.options.is_async {
                return Err(rule(
                    "task.cancel was called by a task of a function lifted without `async`",
                ));
            }
            let mut ctx = wasmi::AsContextMut::as_context_mut(caller);
            super::sched::cancel_task(&mut ctx, task)?;
            Ok(None)
        }
        Builtin::TaskReturn { .. } | Builtin::Stream(_) => Err(internal("task.return")),
        Builtin::WaitableSetDrop => {
            check_may_leave(data, inst)?;
            let set = data.remove_async_handle(inst, a0, KIND_WAITABLE_SET, "a waitable set")?;
            let s = data
                .async_state()
                .sets
                .remove(set)
                .map_err(|_| internal("waitable set"))?;
            if !s.members.is_empty() {
                return Err(rule("cannot drop waitable set with members"));
            }
            if s.waiting > 0 {
                return Err(rule("cannot drop waitable set with waiters"));
            }
            Ok(None)
        }
    }
}

/// `waitable-set.new`: a new empty set in `inst`'s table.
fn waitable_set_new<T>(data: &mut StoreData<T>, inst: u32) -> Result<u32> {
    let state = data.async_state.get_or_insert_with(Default::default);
    let limiter = &mut data.limiter.0;
    let set = state.sets.add_within(
        WaitableSet::default(),
        crate::resources::MAX_HANDLES,
        |bytes| limiter.take_bytes(bytes),
    )?;
    match data.add_async_handle(inst, KIND_WAITABLE_SET, set) {
        Ok(i) => Ok(i),
        Err(e) => {
            let _ = data.async_state().sets.remove(set);
            Err(e)
        }
    }
}

/// The subtask behind handle `i` of instance `inst`: its waitable and
/// its index.
fn subtask_handle<T>(data: &mut StoreData<T>, inst: u32, i: u32) -> Result<(u32, u32)> {
    let w = data.waitable_handle(inst, i, "a subtask")?;
    match data.async_state().waitable(w)?.kind {
        WaitableKind::Subtask(s) => Ok((w, s)),
        _ => Err(Error::trap(
            TrapKind::WrongAsyncHandle,
            alloc::format!("handle {i} is not a subtask"),
        )),
    }
}

/// The spec's `unpack_event`: stores the payload at `ptr` and returns the
/// event code.
pub(crate) fn unpack_event<T>(
    caller: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    mem: wasmi::Memory,
    ptr: u32,
    event: Event,
) -> Result<u32> {
    let Event {
        code,
        index: p1,
        payload: p2,
    } = event;
    if ptr % 4 != 0 {
        return Err(Error::trap(
            TrapKind::UnalignedPointer,
            "event payload pointer is not 4-byte aligned",
        ));
    }
    let mut bytes = [0u8; 8];
    bytes[..4].copy_from_slice(&p1.to_le_bytes());
    bytes[4..].copy_from_slice(&p2.to_le_bytes());
    mem.write(&mut *caller, ptr as usize, &bytes).map_err(|_| {
        Error::trap(
            TrapKind::PointerOutOfBounds,
            "event payload pointer out of bounds of memory",
        )
    })?;
    Ok(code)
}

fn check_may_leave<T>(data: &mut StoreData<T>, inst: u32) -> Result<()> {
    data.check_may_leave(
        inst,
        "cannot leave component instance: an async built-in was called from realloc or \
         post-return",
    )
}

fn rule(message: &'static str) -> Error {
    Error::trap(TrapKind::AsyncRule, message)
}

fn bad_slot(i: u32) -> Error {
    Error::trap(
        TrapKind::Other,
        alloc::format!("internal: context slot {i} out of range"),
    )
}

fn internal(what: &str) -> Error {
    Error::trap(
        TrapKind::Other,
        alloc::format!("internal: async state ({what}) out of step with the handle table"),
    )
}
