//! The Component Model's async ABI (feature `async`): what runs today and
//! the design the runtime follows.
//!
//! # What this build does
//!
//! * `stream<T>`, `future<T>` and `error-context` are types of the arena
//!   (`DefType::Stream`, `DefType::Future`, `DefType::ErrorContext`), with
//!   their canonical ABI layout (a handle: one `i32`), in component images
//!   and in the public [`Type`](crate::Type). The validator accepts the
//!   `cm-async` and `cm-error-context` features.
//! * Functions whose type is `async` run when they are lifted and lowered
//!   without the `async` option and use no async built-in: such a call
//!   cannot block, so it is a sync call.
//! * The built-ins that need no scheduler run ([`builtins`], state in
//!   [`state`]): `context.get/set` (thread-local storage of the current
//!   task: a frame per component call in progress), `backpressure.inc/dec`,
//!   `thread.yield` (no other thread can be ready yet), and
//!   `waitable-set.new/poll/drop`, whose sets live in the instance's handle
//!   table next to resource handles, as in the spec.
//! * `canon lift async (callback f)` called from the host (`Func::call`;
//!   [`lift`]) with `task.return` ([`task_return`]): the spec's event loop
//!   runs on the caller's stack, which is exact while nothing else can run
//!   concurrently (true until `canon lower async`, streams and futures
//!   exist): YIELD resumes at once, WAIT is a deadlock trap.
//! * Everything that needs the scheduler below is refused when the component
//!   is loaded (or, for callers of an async-lifted function other than
//!   `Func::call`, when they are made), with an `unsupported: …` error
//!   naming it (`canon::unsupported`, [`types::check_runnable`],
//!   `lift::check_sync_caller`): the stackful form of `canon lift async`,
//!   `canon lower async`, `task.cancel`, `waitable-set.wait`,
//!   `waitable.join`, the subtask, stream, future and error-context
//!   built-ins, and lifting or lowering a function whose parameters or
//!   result hold a stream, future or error-context.
//!
//! # Design of the runtime (issue #18)
//!
//! **Per-store scheduler.** A `Scheduler` hangs off the store's data,
//! created on the first async call (`Option<Box<_>>`: a sync-only program
//! never allocates it, and the sync call path tests nothing but that the
//! callee is not async-lifted, a flag computed when the component loads).
//! It owns every task, subtask, waitable set, stream and future of the
//! store in slabs, and a ready queue of tasks. The queue is FIFO, so the
//! deterministic profile gets a fixed order for free; fuel covers the guest
//! code the scheduler runs because every resumption is a metered wasmi call.
//!
//! **Tasks are wasmi calls.** A task is made by each call of an export
//! (`canon lift`). Each crossing of a component boundary is its own wasmi
//! call, never a continuation of the caller's, so a task can be suspended
//! alone:
//!
//! * *Callback form* (`async (callback f)`): the task holds no suspended
//!   call between events. The core function returns a packed code (EXIT,
//!   YIELD, WAIT on a set); the scheduler keeps the code and later makes a
//!   new call of `f` with the event.
//! * *Stackful form* (`async` without `callback`) and a *blocking built-in*
//!   (`waitable-set.wait`, a sync `stream.read`, a sync-lowered call of an
//!   async-lifted callee): the built-in's host trampoline returns a
//!   `Suspend` host error; wasmi stops the call with a resumable host trap
//!   (what [`Func::call_resumable`](crate::Func::call_resumable) already
//!   uses for fuel) and the task stores it. When the awaited event comes,
//!   the scheduler resumes that call with the built-in's results. wasmi's
//!   resumable calls own their value stacks, so many can wait at once.
//!   A blocked callee of a sync-lowered call suspends in its own call; the
//!   caller's trampoline then suspends the caller too, one wasmi call per
//!   level, and resumption goes callee first.
//!
//! **Handle tables.** The spec keeps one table per component instance for
//! resource handles, waitables (subtasks, stream and future ends), waitable
//! sets and error contexts: indices are shared, and guests (and the spec's
//! tests) see them. The instance's existing handle slab therefore gets
//! entries of those kinds next to resource handles; each entry points into
//! the scheduler's slab of the object (a stream has two ends, in two
//! instances' tables, and one shared buffer state). A waitable records the
//! set it joined and its pending event; a set keeps its members and its
//! waiters, so `wait`/`poll` take the first member with an event.
//!
//! **Copies.** `stream.read`/`write` record the reader's or writer's buffer
//! (memory, pointer, length) in the stream; when both sides are present the
//! copy runs element by element through the same transfer code as
//! component-to-component calls, with partial copies reported as counts in
//! the event. A host end has a bounded buffer counted against the store's
//! limits.
//!
//! **Next slice: subtasks for callback-form callees.** `canon lower async`
//! of a callback-lifted callee needs no suspended wasmi call: lift the
//! caller's arguments (at most 4 flat values, else a pointer), start the
//! callee's task through [`lift`]'s first core call, and if it has not
//! returned, give the caller a subtask (a waitable entry in its table,
//! STARTED) and keep the callee in the scheduler as "waiting on set S" or
//! "yielded". `task.return` then lowers the result at the caller's
//! pointer and queues a SUBTASK event on the subtask; `waitable.join` and
//! the WAIT code deliver it. The host-call loop of [`lift`] becomes "run
//! ready tasks (FIFO) until this call resolves"; the deterministic profile
//! always switches on YIELD (the spec's `DETERMINISTIC_PROFILE`). Sync
//! callers of async callees (and `waitable-set.wait`, the stackful form)
//! come after, on suspended wasmi calls.
//!
//! **Spec versions.** The conformance suite expects the newer rule that a
//! task of a non-`async` function traps when it would block ("cannot block
//! a synchronous task before returning"); `shared/spec/CanonicalABI.md`
//! does not state it yet. Follow the suite.
//!
//! **Host API.** `Func::call_async` returns a `Future` that drives the
//! scheduler from `poll` (no executor needed: host functions never wait on
//! an external reactor here); `no_std` hosts call the same driver as
//! `Store::run_until_idle`.

pub(crate) mod builtins;
pub(crate) mod call;
#[cfg(feature = "validate")]
pub(crate) mod canon;
pub(crate) mod host;
pub(crate) mod lift;
pub(crate) mod sched;
pub(crate) mod state;
pub(crate) mod task_return;
pub(crate) mod types;
#[allow(dead_code)] // used as issue #18 lands
pub(crate) mod waitable;
