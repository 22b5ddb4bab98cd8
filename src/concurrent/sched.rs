//! The scheduler: threads, tasks and subtasks, and blocking.
//!
//! (Being written for issue #18; see the design in the module above.)

use super::state::AsyncState;
use super::waitable::{internal, Event};
use crate::error::{Error, Result};
use crate::store::StoreData;

impl AsyncState {
    /// The event of subtask `s` whose handle is `handle` (the spec's
    /// `subtask_event`, run when the event is delivered).
    pub(crate) fn subtask_event(&mut self, _s: u32, _handle: u32) -> Result<Event> {
        Err(internal("subtask"))
    }
}

/// Blocks the current thread until waitable `w` has a pending event, then
/// takes it (the spec's `Waitable.wait_for_pending_event` followed by
/// `get_pending_event`), for a built-in called without `async` whose
/// result is the event's payload (`stream.read`, `future.write`,
/// `stream.cancel-read`, ...).
///
/// Either returns the event, or suspends the thread: then it returns an
/// error that the built-in must return unchanged from its host function;
/// the scheduler resumes the call later with the event's payload as the
/// built-in's one `i32` result. Traps when the current thread may not
/// block (a task of a function without `async` with no other thread to
/// run).
pub(crate) fn wait_for_event<T: 'static>(
    _caller: &mut wasmi::Caller<'_, StoreData<T>>,
    _w: u32,
) -> Result<Event> {
    Err(Error::unsupported(
        "blocking built-ins: the scheduler (issue #18) is not written yet",
    ))
}
