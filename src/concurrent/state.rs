//! The store's async state: created when an instance with a task or
//! waitable built-in is made (a store without one never has it, and the
//! sync call path only tests that it is absent).
//!
//! * Task frames: one per component call in progress, pushed and popped
//!   where calls enter and leave their instances (`func::enter_set` /
//!   `leave_set`), keyed by the call's nesting depth. A frame holds the
//!   task's thread-local storage (`context.get/set`). Calls nest on the
//!   native stack, so the innermost frame is the current task.
//! * Per-instance counters: backpressure.
//! * Waitable sets, in a slab; the instance's handle table (shared with
//!   resource handles, as the spec's one `handles` table) holds an entry
//!   of kind [`KIND_WAITABLE_SET`] pointing at the slab.

use alloc::vec::Vec;

use crate::error::{Error, Result, TrapKind};
use crate::resources::{Handle, Slab};
use crate::store::StoreData;

pub(crate) use super::waitable::WaitableSet;

/// The `rt` of a handle-table entry that is a waitable set (its `rep` is
/// the index in [`AsyncState::sets`]). Runtime resource types are indices
/// into the store's resource types, far below this, so resource built-ins
/// reject such an entry as a handle of another type.
pub(crate) const KIND_WAITABLE_SET: u32 = u32::MAX;

/// How many thread-local storage slots a task has (`context.get/set $i`
/// takes `$i < 2`).
pub(crate) const CONTEXT_SLOTS: usize = 2;

/// The async state of a store.
#[derive(Default)]
pub(crate) struct AsyncState {
    /// The calls in progress that have a frame, innermost last.
    frames: Vec<Frame>,
    /// Backpressure of each instance (by instance index; missing = 0).
    backpressure: Vec<u16>,
    /// The waitable sets of every instance.
    pub sets: Slab<WaitableSet>,
    /// The waitables (subtasks, stream and future ends) of every instance.
    pub waitables: Slab<super::waitable::Waitable>,
    /// The streams and futures of every instance (their shared state).
    pub streams: Slab<super::streams::Shared>,
    /// The error contexts of every instance.
    pub error_contexts: Slab<super::error_context::ErrorContext>,
    /// The stream and future ends the host holds.
    pub host_ends: Slab<super::host_values::HostEnd>,
    /// The error contexts the host holds.
    pub host_error_contexts: Slab<super::host_values::HostErrorContext>,
}

/// A call in progress: the spec's task with its implicit thread.
struct Frame {
    /// The nesting depth of the call (`StoreData::depth` inside it).
    depth: u32,
    /// The thread's storage.
    context: [u32; CONTEXT_SLOTS],
    /// For a call of an `async`-lifted function: what `task.return` needs.
    task: Option<AsyncTask>,
}

/// The state of an `async`-lifted call (`task.return` checks against it
/// and leaves its value here).
pub(crate) struct AsyncTask {
    /// The arena (component) of the lifted function's type.
    pub component_id: usize,
    /// The function's result type.
    pub result: Option<crate::types::ValType>,
    /// The lift's memory and string encoding (`task.return`'s options must
    /// be the same).
    pub memory: Option<wasmi::Memory>,
    pub encoding: crate::abi::StringEncoding,
    /// The task's borrow count entry (`StoreData::tasks`); `None` when no
    /// parameter can hold a borrow (no entry is opened then).
    pub borrows: Option<u32>,
    /// `Some` once `task.return` was called: the returned value.
    pub returned: Option<Option<crate::Val>>,
}

impl AsyncState {
    /// A call at nesting depth `depth` entered its instances. Not inlined:
    /// the sync call path that checks for async state stays small.
    #[inline(never)]
    pub(crate) fn enter(&mut self, depth: u32) {
        // A frame is a few bytes; if the host cannot allocate it, the
        // call runs on the thread storage of the frame below (the only
        // effect: `context.get` reads what a caller stored).
        if self.frames.try_reserve(1).is_ok() {
            self.frames.push(Frame {
                depth,
                context: [0; CONTEXT_SLOTS],
                task: None,
            });
        }
    }

    /// The call at nesting depth `depth` left its instances (not inlined,
    /// as `enter`).
    #[inline(never)]
    pub(crate) fn leave(&mut self, depth: u32) {
        if self.frames.last().is_some_and(|f| f.depth == depth) {
            self.frames.pop();
        }
    }

    /// The thread storage of the current call at depth `depth`, if it has
    /// a frame (code running outside any call, such as a start function
    /// during instantiation, runs on a fresh thread whose storage is
    /// discarded).
    pub(crate) fn context(&mut self, depth: u32) -> Option<&mut [u32; CONTEXT_SLOTS]> {
        self.frames
            .last_mut()
            .filter(|f| f.depth == depth)
            .map(|f| &mut f.context)
    }

    /// The async task of the current call at depth `depth`, if the call is
    /// of an `async`-lifted function.
    pub(crate) fn task(&mut self, depth: u32) -> Option<&mut AsyncTask> {
        self.frames
            .last_mut()
            .filter(|f| f.depth == depth)
            .and_then(|f| f.task.as_mut())
    }

    /// Makes the current call at depth `depth` an async task.
    pub(crate) fn set_task(&mut self, depth: u32, task: AsyncTask) -> Result<()> {
        match self.frames.last_mut().filter(|f| f.depth == depth) {
            Some(f) => {
                f.task = Some(task);
                Ok(())
            }
            None => Err(Error::trap(
                TrapKind::LimitExceeded,
                "the host could not allocate the state of an async call",
            )),
        }
    }

    /// The backpressure counter of instance `inst`.
    pub(crate) fn backpressure(&mut self, inst: u32) -> Result<&mut u16> {
        let i = inst as usize;
        if i >= self.backpressure.len() {
            self.backpressure
                .try_reserve(i + 1 - self.backpressure.len())
                .map_err(|_| {
                    Error::trap(
                        TrapKind::LimitExceeded,
                        "the host could not grow the backpressure counters",
                    )
                })?;
            self.backpressure.resize(i + 1, 0);
        }
        self.backpressure
            .get_mut(i)
            .ok_or_else(|| Error::trap(TrapKind::Other, "internal: backpressure counter"))
    }
}

impl<T> StoreData<T> {
    /// The store's async state, made on first use.
    pub(crate) fn async_state(&mut self) -> &mut AsyncState {
        self.async_state.get_or_insert_with(Default::default)
    }

    /// Adds an entry of kind `kind` pointing at `index` to instance
    /// `inst`'s handle table (within the handle limits), returning its
    /// index there.
    pub(crate) fn add_async_handle(&mut self, inst: u32, kind: u32, index: u32) -> Result<u32> {
        let max = self.limits.max_handles;
        let (state, limits) = self.flags_and_limits(inst)?;
        state.handles.add_within(
            Handle {
                rt: kind,
                rep: index,
                own: true,
                scope: 0,
                lends: 0,
            },
            max,
            |bytes| limits.take_bytes(bytes),
        )
    }

    /// The slab index behind handle `i` of instance `inst`, which must be
    /// of kind `kind` (`what` names the kind, for the trap).
    pub(crate) fn async_handle(&mut self, inst: u32, i: u32, kind: u32, what: &str) -> Result<u32> {
        let h = self.flags(inst)?.handles.get(i)?;
        if h.rt != kind {
            return Err(not_a(i, what));
        }
        Ok(h.rep)
    }

    /// Removes handle `i` of kind `kind` from instance `inst`'s table,
    /// returning the slab index it pointed at.
    pub(crate) fn remove_async_handle(
        &mut self,
        inst: u32,
        i: u32,
        kind: u32,
        what: &str,
    ) -> Result<u32> {
        let handles = &mut self.flags(inst)?.handles;
        if handles.get(i)?.rt != kind {
            return Err(not_a(i, what));
        }
        Ok(handles.remove(i)?.rep)
    }
}

fn not_a(i: u32, what: &str) -> Error {
    Error::trap(
        TrapKind::WrongAsyncHandle,
        alloc::format!("handle {i} is not {what}"),
    )
}
