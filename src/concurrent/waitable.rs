//! Waitables and their events (CanonicalABI.md, "Waitable State").
//!
//! A waitable is a subtask or one end of a stream or future. It lives in
//! the store's slab [`AsyncState::waitables`]; the owning instance's handle
//! table holds an entry of kind [`KIND_WAITABLE`] whose `rep` is the slab
//! index, so handle indices are shared with resources and waitable sets,
//! as the spec's one `handles` table.
//!
//! A waitable holds at most one pending event. As in the spec, the event
//! is computed when it is delivered (the spec stores a closure; here a
//! [`Pending`] names what to compute), so its payload reflects the state
//! of the world at delivery time.

use alloc::vec::Vec;

use super::state::AsyncState;
use crate::error::{Error, Result, TrapKind};

/// The `rt` of a handle-table entry that is a waitable (its `rep` is the
/// index in [`AsyncState::waitables`]).
pub(crate) const KIND_WAITABLE: u32 = u32::MAX - 1;

/// The spec's `EventCode`s.
pub(crate) mod code {
    pub const NONE: u32 = 0;
    pub const SUBTASK: u32 = 1;
    pub const STREAM_READ: u32 = 2;
    pub const STREAM_WRITE: u32 = 3;
    pub const FUTURE_READ: u32 = 4;
    pub const FUTURE_WRITE: u32 = 5;
    pub const TASK_CANCELLED: u32 = 6;
}

/// An event as delivered to core wasm: code, the waitable's handle index,
/// and a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Event {
    pub code: u32,
    pub index: u32,
    pub payload: u32,
}

impl Event {
    /// `(EventCode.NONE, 0, 0)`.
    pub const NONE: Event = Event {
        code: code::NONE,
        index: 0,
        payload: 0,
    };
    /// `(EventCode.TASK_CANCELLED, 0, 0)`.
    pub const CANCELLED: Event = Event {
        code: code::TASK_CANCELLED,
        index: 0,
        payload: 0,
    };
}

/// What a waitable is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitableKind {
    /// A subtask: index into the scheduler's subtasks.
    Subtask(u32),
    /// An end of a stream: index into the store's streams.
    Stream { id: u32, readable: bool },
    /// An end of a future: index into the store's futures.
    Future { id: u32, readable: bool },
}

/// What a pending event is computed from when it is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pending {
    /// The subtask's state (`subtask_event`).
    Subtask,
    /// A copy on a stream or future end finished with `CopyResult`
    /// `result`, or (with `reclaim`) a stream copy made progress: the event
    /// and the end's new state are computed when it is delivered
    /// (`stream_event`/`future_event` in [`super::streams`]).
    End { result: u32, reclaim: bool },
}

/// A subtask or stream or future end.
#[derive(Debug)]
pub(crate) struct Waitable {
    pub kind: WaitableKind,
    /// Its index in that table (the event's `index`).
    pub handle: u32,
    /// The waitable set it joined (index in [`AsyncState::sets`]).
    pub set: Option<u32>,
    pub pending: Option<Pending>,
    /// A thread waits for this waitable's event synchronously.
    pub sync_waiter: bool,
}

/// A waitable set.
#[derive(Debug, Default)]
pub(crate) struct WaitableSet {
    /// The waitables that joined the set (indices in
    /// [`AsyncState::waitables`]), in joining order.
    pub members: Vec<u32>,
    /// How many threads wait on the set (`waitable-set.wait`, or a
    /// callback task's WAIT).
    pub waiting: u32,
}

impl AsyncState {
    /// The waitable at slab index `w`.
    pub(crate) fn waitable(&mut self, w: u32) -> Result<&mut Waitable> {
        self.waitables.get_mut(w).map_err(|_| internal("waitable"))
    }

    /// Whether waitable `w` has a pending event.
    pub(crate) fn has_pending(&self, w: u32) -> bool {
        self.waitables.get(w).is_ok_and(|x| x.pending.is_some())
    }

    /// Sets waitable `w`'s pending event (replacing one not yet delivered,
    /// as the spec's `set_pending_event`).
    pub(crate) fn set_pending(&mut self, w: u32, p: Pending) {
        if let Ok(x) = self.waitables.get_mut(w) {
            x.pending = Some(p);
        }
    }

    /// Whether a member of set `s` has a pending event.
    pub(crate) fn set_has_pending(&self, s: u32) -> bool {
        self.sets
            .get(s)
            .is_ok_and(|set| set.members.iter().any(|w| self.has_pending(*w)))
    }

    /// Takes and computes the pending event of waitable `w` (the spec's
    /// `get_pending_event`).
    pub(crate) fn take_event(&mut self, w: u32) -> Result<Event> {
        let x = self.waitable(w)?;
        let pending = x
            .pending
            .take()
            .ok_or_else(|| internal("no pending event"))?;
        let (kind, handle) = (x.kind, x.handle);
        match (pending, kind) {
            (Pending::Subtask, WaitableKind::Subtask(s)) => self.subtask_event(s, handle),
            (Pending::End { result, reclaim }, WaitableKind::Stream { id, readable }) => {
                self.stream_event(id, readable, handle, result, reclaim)
            }
            (Pending::End { result, .. }, WaitableKind::Future { id, readable }) => {
                self.future_event(id, readable, handle, result)
            }
            _ => Err(internal("event of the wrong kind")),
        }
    }

    /// Takes the pending event of a member of set `s`, the first in
    /// joining order that has one (the spec lets the order be chosen; a
    /// fixed one keeps the deterministic profile deterministic).
    pub(crate) fn take_set_event(&mut self, s: u32) -> Result<Option<Event>> {
        let set = self.sets.get(s).map_err(|_| internal("waitable set"))?;
        let w = set.members.iter().copied().find(|w| self.has_pending(*w));
        match w {
            Some(w) => self.take_event(w).map(Some),
            None => Ok(None),
        }
    }

    /// Moves waitable `w` into set `s` (or out of any set, for `None`).
    pub(crate) fn join(&mut self, w: u32, s: Option<u32>) -> Result<()> {
        let old = self.waitable(w)?.set;
        if let Some(old) = old {
            if let Ok(set) = self.sets.get_mut(old) {
                set.members.retain(|m| *m != w);
            }
        }
        if let Some(s) = s {
            let set = self.sets.get_mut(s).map_err(|_| internal("waitable set"))?;
            set.members
                .try_reserve(1)
                .map_err(|_| limit("the host could not grow a waitable set"))?;
            set.members.push(w);
        }
        self.waitable(w)?.set = s;
        Ok(())
    }

    /// Adds a waitable of kind `kind` to the slab (not yet to a handle
    /// table: see [`crate::store::StoreData::add_waitable`]).
    pub(crate) fn new_waitable(&mut self, kind: WaitableKind) -> Result<u32> {
        self.waitables.add(Waitable {
            kind,
            handle: 0,
            set: None,
            pending: None,
            sync_waiter: false,
        })
    }

    /// Removes waitable `w` from its set and the slab (the spec's
    /// `Waitable.drop`; the caller checked the kind's own rules).
    pub(crate) fn remove_waitable(&mut self, w: u32) -> Result<Waitable> {
        self.join(w, None)?;
        self.waitables.remove(w).map_err(|_| internal("waitable"))
    }
}

impl<T> crate::store::StoreData<T> {
    /// Puts a new waitable of kind `kind` in instance `inst`'s handle
    /// table, returning its slab index and its handle index.
    pub(crate) fn add_waitable(&mut self, inst: u32, kind: WaitableKind) -> Result<(u32, u32)> {
        let w = self.async_state().new_waitable(kind)?;
        match self.add_async_handle(inst, KIND_WAITABLE, w) {
            Ok(h) => {
                self.async_state().waitable(w)?.handle = h;
                Ok((w, h))
            }
            Err(e) => {
                let _ = self.async_state().waitables.remove(w);
                Err(e)
            }
        }
    }

    /// The waitable behind handle `i` of instance `inst` (`what` names
    /// the expected kind, for the trap).
    pub(crate) fn waitable_handle(&mut self, inst: u32, i: u32, what: &str) -> Result<u32> {
        self.async_handle(inst, i, KIND_WAITABLE, what)
    }
}

pub(crate) fn internal(what: &str) -> Error {
    Error::trap(
        TrapKind::Other,
        alloc::format!("internal: async state ({what}) out of step"),
    )
}

fn limit(message: &'static str) -> Error {
    Error::trap(TrapKind::LimitExceeded, message)
}
