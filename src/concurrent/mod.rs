//! The Component Model's async ABI (feature `async`).
//!
//! # What runs
//!
//! * Types: `stream<T>`, `future<T>` and `error-context` in the type arena
//!   (`DefType::Stream/Future/ErrorContext`), their layout (a handle), in
//!   images and in the public [`Type`](crate::Type); `async` function
//!   types ([`types`]).
//! * Tasks and threads ([`sched`]): every call of an `async`-typed or
//!   `async`-lifted function is a task with an implicit thread. A thread's
//!   core code runs as a *resumable* wasmi call; a built-in that blocks
//!   parks the thread and returns the [`sched::Suspend`] host error, wasmi
//!   stops the call with a resumable host trap, and the scheduler resumes
//!   it with the built-in's results when its condition holds. The
//!   `callback` form holds no suspended call between events: its event
//!   loop (EXIT, YIELD, WAIT) is state of the thread. Functions without
//!   `async` in their type never get a thread; when they block, the other
//!   ready threads of their instance run on the native stack, and with
//!   none the spec's "cannot block a synchronous task" trap follows.
//! * Calls ([`call`]): `canon lower async` and sync calls of `async`
//!   functions between components (subtasks in the caller's handle table,
//!   arguments read when the callee starts, results written when it
//!   returns, through [`crate::abi::transfer`] and
//!   [`crate::abi::flat_mem`]); the backpressure gate and the exclusive
//!   lock of callback and sync-lifted tasks; cancellation.
//! * Built-ins ([`builtins`], [`task_return`]): `context.get/set`,
//!   `backpressure.inc/dec`, `thread.yield`, `task.return`, `task.cancel`,
//!   `waitable-set.new/wait/poll/drop`, `waitable.join`,
//!   `subtask.drop/cancel` (sync and `async`), with the spec's traps.
//!   Waitables and events: [`waitable`].
//! * The host ([`host`]): [`Func::call_async`](crate::Func::call_async)
//!   (a future that any executor, or a poll loop with a no-op waker,
//!   drives; `Func::call` blocks on it), async host functions
//!   (`func_new_async`, whose `'static` futures the scheduler polls with
//!   the caller's waker), `canon lower async` of host functions.
//! * Streams, futures and error contexts ([`streams`], [`error_context`]):
//!   their built-ins, with copies between guest memories (within one
//!   instance or between two), partial and zero-length copies,
//!   cancellation and drops; their handles move between components
//!   (through [`crate::abi::transfer`]'s `Pair::move_async`). A sync
//!   `read`/`write`/cancel that cannot complete at once blocks
//!   ([`sched::wait_for_event`]).
//! * Stream, future and error-context values for the host
//!   ([`host_values`]): `Val::Stream`/`Val::Future`/`Val::ErrorContext`
//!   hold readable ends (and error contexts) lifted to the host; the host
//!   reads what a guest writer has pending, without waiting
//!   (`StreamAny::read`), drops ends, or passes them back into a component
//!   of the same binary. It cannot create streams or wait for a writer
//!   yet.
//!
//! The scheduler resumes the first ready thread in the order threads began
//! to wait and a waitable set delivers the first pending event in joining
//! order, so a replay schedules alike; a thread waiting for a condition
//! that already holds still suspends (the spec's deterministic profile).
//! Every resumption is a metered wasmi call (fuel), and
//! [`Config::max_tasks`](crate::Config::max_tasks) bounds the tasks in
//! progress (each may hold a suspended call's stack).
//!
//! # What does not run yet
//!
//! Refused with an `unsupported: …` error naming it: `stream.forward`,
//! `future.forward`; typed and resumable calls of `async` functions (`Func::call` and
//! `Func::call_async` run them); `canon lower async` of a typed host
//! function; component-model threads (`thread.new-indirect` and the other
//! 🧵 built-ins).
//!
//! **Spec versions.** The conformance suite expects the newer rules that a
//! task of a non-`async` function traps when it would block ("cannot block
//! a synchronous task before returning") and that `waitable-set.wait`,
//! `waitable-set.poll` and `thread.yield` are not cancellable (the
//! `cancellable` immediate is gone); and it lets a `task.return` without
//! `memory` return from a lift with one. This runtime follows the suite.

pub(crate) mod builtins;
pub(crate) mod call;
#[cfg(feature = "validate")]
pub(crate) mod canon;
pub(crate) mod error_context;
pub(crate) mod host;
pub(crate) mod host_values;
pub(crate) mod lift;
pub(crate) mod sched;
pub(crate) mod state;
pub(crate) mod streams;
pub(crate) mod task_return;
pub(crate) mod types;
pub(crate) mod waitable;
