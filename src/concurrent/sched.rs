//! The scheduler: threads, tasks, subtasks, and blocking
//! (CanonicalABI.md, "Concurrency", "Embedding").
//!
//! A *task* is one call of an `async`-typed function a component lifted;
//! its *implicit thread* runs the task's core code. A thread's core code
//! runs as a resumable wasmi call: when it calls a built-in that blocks
//! (`waitable-set.wait`, `thread.yield`, a sync `stream.read`, a sync call
//! of an `async` function that has not returned, ...), the built-in parks
//! the thread (records what it waits for and how to finish) and returns the
//! [`Suspend`] host error; wasmi stops the call with a resumable host trap,
//! which the thread keeps. When the condition holds, the scheduler resumes
//! the call with the built-in's results. The `callback` form's event loop
//! needs no suspended call: between events the thread holds only the
//! state of its loop.
//!
//! Every suspension returns to the innermost resumption, as the spec's
//! `block`: the thread's `resume` in [`resume_thread`], called by the
//! scheduler loop ([`run_until`]), by a call that starts a callee task
//! ([`super::call`]), or by a cancellation.
//!
//! Functions without `async` in their type never get a thread: they run on
//! the native stack as sync calls do. If such a task blocks, the spec runs
//! the other ready threads of its instance until the condition holds, and
//! traps if there are none ([`block`]).
//!
//! Choices the spec leaves to the embedder: a thread that waits for a
//! condition that already holds still suspends (the spec's deterministic
//! profile), the scheduler resumes the first ready thread in the order
//! they began waiting, and a waitable set delivers the first pending event
//! in joining order. All are fixed, so a replay schedules alike.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use super::state::{AsyncState, CONTEXT_SLOTS};
use super::waitable::{code, internal, Event, Pending};
use crate::abi::flat_mem::Flat;
use crate::boundary::{enter_set, entering_set, leave_set};
use crate::component::Component;
use crate::error::{from_wasmi, Error, Result, TrapKind};
use crate::func::{CoreResults, LiftedFunc, Options};
use crate::store::StoreData;
use crate::wasmi_mem::Lent;

/// The host error a blocking built-in returns to suspend its thread's
/// wasmi call.
#[derive(Debug)]
pub(crate) struct Suspend;

impl fmt::Display for Suspend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("internal: a thread suspended outside the scheduler")
    }
}

impl wasmi::errors::HostError for Suspend {}

const SUSPEND: &str = "internal: the thread suspends";

/// The error a blocking built-in returns when it parked its thread; the
/// built-in's host function turns it into [`Suspend`] ([`host_error`]).
fn suspend_error() -> Error {
    Error::trap(TrapKind::Other, SUSPEND)
}

/// Turns a built-in's error into wasmi's host error: [`Suspend`] for a
/// parked thread, the error itself otherwise.
pub(crate) fn host_error(e: Error) -> wasmi::Error {
    if e.kind() == &crate::error::ErrorKind::Trap(TrapKind::Other) && e.message() == SUSPEND {
        wasmi::Error::host(Suspend)
    } else {
        wasmi::Error::host(e)
    }
}

/// `Task.State`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskState {
    Initial,
    Started,
    PendingCancel,
    CancelDelivered,
    Resolved,
}

/// Who called a task.
pub(crate) enum TaskCaller {
    /// The host: the parameters (until the task starts) and the slot of
    /// [`AsyncState::host_results`] its result goes to.
    Host { params: Vec<crate::Val>, slot: u32 },
    /// A component, through subtask `s`.
    Guest(u32),
}

/// A call of an `async`-typed function a component lifted.
pub(crate) struct Task {
    pub component: Component,
    pub func: Arc<LiftedFunc>,
    pub inst: u32,
    pub state: TaskState,
    pub caller: TaskCaller,
    /// The task's borrow count entry (`StoreData::tasks`).
    pub borrows: Option<u32>,
    /// The implicit thread.
    pub thread: u32,
}

impl Task {
    /// `Task.needs_exclusive`: a callback or sync-lifted task serializes
    /// with the others of its instance.
    fn needs_exclusive(&self) -> bool {
        !self.func.options.is_async || self.func.options.callback.is_some()
    }
}

/// What a waiting thread waits for (the spec's `ready_func`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitFor {
    /// Nothing: a yield.
    Ready,
    /// An event on a member of a waitable set.
    Set(u32),
    /// A subtask resolved.
    Subtask(u32),
    /// A pending event on a waitable.
    Waitable(u32),
    /// The backpressure gate of its instance opened.
    Enter,
}

/// How a parked thread's built-in finishes when the thread resumes: what
/// it computes and returns to core code.
#[derive(Clone, Copy)]
pub(crate) enum Resume {
    /// `thread.yield`: returns whether the task was cancelled.
    Yield,
    /// `waitable-set.wait`: stores the event at `ptr`, returns its code.
    Wait {
        set: u32,
        mem: wasmi::Memory,
        ptr: u32,
    },
    /// A sync call of subtask `subtask`: returns its flat results.
    SyncCall { subtask: u32 },
    /// A sync built-in waiting for waitable `w`: returns its payload.
    Event { w: u32 },
}

/// What runs when a thread's core call returns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum After {
    /// A sync-lifted `async` function: its core results are its result.
    SyncLift,
    /// The stackful form: the thread ends.
    Stackful,
    /// The callback form: the result is a callback code.
    Callback,
}

/// Where a thread is.
enum Cont {
    /// Not started; `waited` once it waited at the backpressure gate.
    Start { waited: bool },
    /// On the native stack.
    Running,
    /// Suspended in a built-in.
    Wasm {
        call: wasmi::ResumableCallHostTrap,
        resume: Resume,
    },
    /// In the callback event loop, waiting (`set` for WAIT, else YIELD).
    Callback { set: Option<u32> },
}

/// A thread: the implicit thread of a task.
pub(crate) struct Thread {
    pub task: u32,
    pub storage: [u32; CONTEXT_SLOTS],
    cont: Cont,
    /// `Some` while waiting.
    wait: Option<WaitFor>,
    cancellable: bool,
    /// What a blocking built-in asked for as it suspended the call.
    parked: Option<(WaitFor, Resume)>,
    after: After,
    outs: CoreResults,
}

/// `Subtask.State`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum SubState {
    Starting = 0,
    Started = 1,
    Returned = 2,
    CancelledBeforeStarted = 3,
    CancelledBeforeReturned = 4,
}

/// A call a component made of an `async`-typed function (the caller's
/// side of the callee's task).
pub(crate) struct Subtask {
    pub state: SubState,
    /// The caller's component, the lowered function type and the lower's
    /// options.
    pub component: Component,
    pub ty: u32,
    pub options: Options,
    /// `canon lower async`.
    pub is_async: bool,
    /// The caller's core arguments (read when the callee starts).
    pub flat_args: Flat,
    /// Where the result goes (`async`, or a spilled sync result).
    pub retptr: Option<u32>,
    /// A sync call's flat results.
    pub flat_results: Flat,
    /// The borrows lent to the callee.
    pub lent: Lent,
    pub resolve_delivered: bool,
    pub cancellation_requested: bool,
    /// The waitable, once the subtask is in the caller's table.
    pub waitable: Option<u32>,
    /// The callee's task while it lives.
    pub callee: Option<u32>,
}

impl Subtask {
    /// A subtask in state `state` of a call of lowered function type `ty`
    /// of `component` with options `options`: `flat_args` are the core
    /// arguments (read when the callee starts), `retptr` where the result
    /// goes when it is written to memory.
    pub(crate) fn new(
        state: SubState,
        component: &Component,
        ty: u32,
        options: &Options,
        flat_args: Flat,
        retptr: Option<u32>,
    ) -> Self {
        Subtask {
            state,
            component: component.clone(),
            ty,
            options: *options,
            is_async: options.is_async,
            flat_args,
            retptr,
            flat_results: Flat::new(),
            lent: Lent::default(),
            resolve_delivered: false,
            cancellation_requested: false,
            waitable: None,
            callee: None,
        }
    }

    pub(crate) fn resolved(&self) -> bool {
        !matches!(self.state, SubState::Starting | SubState::Started)
    }
}

impl AsyncState {
    /// The event of subtask `s` whose handle is `handle` (the spec's
    /// `subtask_event`, run when the event is delivered): delivering a
    /// resolution ends the callee's loans.
    pub(crate) fn subtask_event(&mut self, s: u32, handle: u32) -> Result<Event> {
        let sub = self.subtasks.get_mut(s).map_err(|_| internal("subtask"))?;
        if sub.resolved() && !sub.resolve_delivered {
            sub.resolve_delivered = true;
            let lent = core::mem::take(&mut sub.lent);
            // Released by the caller of `take_event` (it needs the store).
            self.released
                .try_reserve(1)
                .map_err(|_| limit("the host could not grow the list of loans"))?;
            self.released.push(lent);
        }
        Ok(Event {
            code: code::SUBTASK,
            index: handle,
            payload: sub.state as u32,
        })
    }

    fn thread(&mut self, t: u32) -> Result<&mut Thread> {
        self.threads.get_mut(t).map_err(|_| internal("thread"))
    }

    pub(crate) fn task(&mut self, k: u32) -> Result<&mut Task> {
        self.tasks.get_mut(k).map_err(|_| internal("task"))
    }

    pub(crate) fn subtask(&mut self, s: u32) -> Result<&mut Subtask> {
        self.subtasks.get_mut(s).map_err(|_| internal("subtask"))
    }

    /// The current thread's task, if the current code is a thread's.
    pub(crate) fn current_task(&self, depth: u32) -> Option<u32> {
        let t = self.current_thread(depth)?;
        self.threads.get(t).ok().map(|t| t.task)
    }

    /// `has_backpressure` of the gate a task of instance `inst` waits at.
    fn has_backpressure(&self, inst: u32, needs_exclusive: bool) -> bool {
        let i = self.inst_ref(inst);
        i.backpressure > 0 || (needs_exclusive && i.exclusive.is_some())
    }

    /// Whether waiting thread `t` may run (the spec's `Thread.ready`).
    fn ready(&self, t: u32) -> bool {
        let Ok(th) = self.threads.get(t) else {
            return false;
        };
        let Some(w) = th.wait else { return false };
        let Ok(task) = self.tasks.get(th.task) else {
            return false;
        };
        let cond = match w {
            WaitFor::Ready => true,
            WaitFor::Set(s) => self.set_has_pending(s),
            WaitFor::Subtask(s) => self.subtasks.get(s).is_ok_and(|s| s.resolved()),
            WaitFor::Waitable(w) => self.has_pending(w),
            WaitFor::Enter => !self.has_backpressure(task.inst, task.needs_exclusive()),
        };
        // A cancellation waits for no condition, only for a thread that
        // takes it.
        let cond = cond || (th.cancellable && task.state == TaskState::PendingCancel);
        // The callback loop waits for the exclusive lock too.
        let lock_free = !matches!(th.cont, Cont::Callback { .. })
            || self.inst_ref(task.inst).exclusive.is_none();
        cond && lock_free
    }

    /// Whether `wait`'s condition holds now (for a code that is not a
    /// thread's: at the gate it never waits).
    fn holds(&self, wait: WaitFor) -> Result<bool> {
        Ok(match wait {
            WaitFor::Ready => true,
            WaitFor::Set(set) => self.set_has_pending(set),
            WaitFor::Subtask(x) => self.subtasks.get(x).is_ok_and(|x| x.resolved()),
            WaitFor::Waitable(w) => self.has_pending(w),
            WaitFor::Enter => return Err(internal("sync task at the gate")),
        })
    }

    /// Starts thread `t` waiting for `w`.
    fn start_waiting(&mut self, t: u32, w: WaitFor, cancellable: bool) -> Result<()> {
        self.waiting
            .try_reserve(1)
            .map_err(|_| limit("the host could not grow the list of waiting threads"))?;
        let th = self.thread(t)?;
        th.wait = Some(w);
        th.cancellable = cancellable;
        self.waiting.push(t);
        Ok(())
    }

    fn stop_waiting(&mut self, t: u32) {
        self.waiting.retain(|x| *x != t);
        if let Ok(th) = self.threads.get_mut(t) {
            th.wait = None;
        }
    }

    /// `Task.deliver_pending_cancel`.
    fn deliver_pending_cancel(&mut self, task: u32, cancellable: bool) -> bool {
        match self.tasks.get_mut(task) {
            Ok(k) if cancellable && k.state == TaskState::PendingCancel => {
                k.state = TaskState::CancelDelivered;
                true
            }
            _ => false,
        }
    }

    /// Sets a pending SUBTASK event on subtask `s`, if the caller holds
    /// it as a waitable (the spec's `on_progress`).
    pub(crate) fn subtask_progress(&mut self, s: u32) {
        if let Some(w) = self.subtasks.get(s).ok().and_then(|s| s.waitable) {
            self.set_pending(w, Pending::Subtask);
        }
    }
}

/// Makes a task of `func` for `caller`, with its implicit thread (not yet
/// started). Returns the task and the thread.
pub(crate) fn new_task<T>(
    data: &mut StoreData<T>,
    component: &Component,
    func: &Arc<LiftedFunc>,
    caller: TaskCaller,
) -> Result<(u32, u32)> {
    let after = if !func.options.is_async {
        After::SyncLift
    } else if func.options.callback.is_some() {
        After::Callback
    } else {
        After::Stackful
    };
    let max = data.limits.max_tasks;
    let s = data.async_state.get_or_insert_with(Default::default);
    let limiter = &mut data.limiter.0;
    let k = s
        .tasks
        .add_within(
            Task {
                component: component.clone(),
                func: func.clone(),
                inst: func.options.instance,
                state: TaskState::Initial,
                caller,
                borrows: None,
                thread: 0,
            },
            max,
            |bytes| limiter.take_bytes(bytes),
        )
        .map_err(too_many_tasks)?;
    let t = s.threads.add_within(
        Thread {
            task: k,
            storage: [0; CONTEXT_SLOTS],
            cont: Cont::Start { waited: false },
            wait: None,
            cancellable: false,
            parked: None,
            after,
            outs: CoreResults::new(),
        },
        max,
        |bytes| limiter.take_bytes(bytes),
    );
    match t {
        Ok(t) => {
            s.task(k)?.thread = t;
            Ok((k, t))
        }
        Err(e) => {
            let _ = s.tasks.remove(k);
            Err(e)
        }
    }
}

type Ctx<'a, 'b, T> = wasmi::StoreContextMut<'a, StoreData<T>>;

/// Resumes thread `t` (`cancelled`: with a cancellation) until it
/// suspends or ends. `caller` is the instance of the code that resumes it
/// (`None` for the scheduler loop): the instances entered are those of
/// the task not already entered by it.
pub(crate) fn resume_thread<T: 'static>(
    ctx: &mut Ctx<'_, '_, T>,
    t: u32,
    cancelled: bool,
    caller: Option<u32>,
) -> Result<()> {
    let (task, inst, cancelled) = {
        let s = ctx.data_mut().async_state();
        s.stop_waiting(t);
        let th = s.thread(t)?;
        let (task, cancellable) = (th.task, th.cancellable);
        // A cancellation the host requested (dropping its call) reaches a
        // thread that takes one when the thread resumes.
        let cancelled = cancelled || s.deliver_pending_cancel(task, cancellable);
        (task, s.task(task)?.inst, cancelled)
    };
    let entering = entering_set(ctx.data(), inst, caller);
    enter_set(ctx.data_mut(), &entering)?;
    let depth = ctx.data().depth;
    ctx.data_mut().async_state().set_frame_thread(depth, t);
    let r = run_thread(ctx, t, task, cancelled);
    leave_set(ctx.data_mut(), &entering, &r)?;
    r
}

/// Runs thread `t` of task `task` from where it is.
fn run_thread<T: 'static>(
    ctx: &mut Ctx<'_, '_, T>,
    t: u32,
    task: u32,
    cancelled: bool,
) -> Result<()> {
    let cont = core::mem::replace(
        &mut ctx.data_mut().async_state().thread(t)?.cont,
        Cont::Running,
    );
    match cont {
        Cont::Running => Err(internal("a running thread was resumed")),
        Cont::Start { waited } => start_thread(ctx, t, task, waited, cancelled),
        Cont::Wasm { call, resume } => {
            let inputs = resume_values(ctx, resume, cancelled)?;
            let mut outs = core::mem::take(&mut ctx.data_mut().async_state().thread(t)?.outs);
            let r = call.resume(&mut *ctx, &inputs, &mut outs);
            ctx.data_mut().async_state().thread(t)?.outs = outs;
            call_done_loop(ctx, t, task, r)
        }
        Cont::Callback { set } => {
            let s = ctx.data_mut().async_state();
            let inst = s.task(task)?.inst;
            s.inst(inst)?.exclusive = Some(t);
            // The loop stops waiting on its set, whatever wakes it.
            if let Some(x) = set.and_then(|set| s.sets.get_mut(set).ok()) {
                x.waiting = x.waiting.saturating_sub(1);
            }
            let event = match set {
                _ if cancelled => Event::CANCELLED,
                None => Event::NONE,
                Some(set) => s.take_set_event(set)?.unwrap_or(Event::NONE),
            };
            release_loans(ctx.data_mut());
            call_callback(ctx, t, task, event)
        }
    }
}

/// Calls the callback of thread `t`'s task with `event`, and again as
/// long as its code asks for an event that is there already.
fn call_callback<T: 'static>(
    ctx: &mut Ctx<'_, '_, T>,
    t: u32,
    task: u32,
    event: Event,
) -> Result<()> {
    let mut next = call_callback_once(ctx, t, task, event)?;
    while let Some(event) = next {
        next = call_callback_once(ctx, t, task, event)?;
    }
    Ok(())
}

/// One call of the callback of thread `t`'s task with `event`.
fn call_callback_once<T: 'static>(
    ctx: &mut Ctx<'_, '_, T>,
    t: u32,
    task: u32,
    event: Event,
) -> Result<Option<Event>> {
    let callback = ctx
        .data_mut()
        .async_state()
        .task(task)?
        .func
        .options
        .callback
        .ok_or_else(|| internal("callback"))?;
    crate::boundary::charge_fuel(ctx, crate::abi::FUEL_PER_CALL)?;
    let args = [
        wasmi::Val::I32(event.code as i32),
        wasmi::Val::I32(event.index as i32),
        wasmi::Val::I32(event.payload as i32),
    ];
    let mut outs = core::mem::take(&mut ctx.data_mut().async_state().thread(t)?.outs);
    outs.clear();
    outs.push(wasmi::Val::I32(0));
    let r = callback.call_resumable(&mut *ctx, &args, &mut outs);
    ctx.data_mut().async_state().thread(t)?.outs = outs;
    call_done(ctx, t, task, r)
}

/// The first run of thread `t`: the backpressure gate, then the task
/// starts (its arguments are lowered) and its core function is called.
fn start_thread<T: 'static>(
    ctx: &mut Ctx<'_, '_, T>,
    t: u32,
    task: u32,
    waited: bool,
    cancelled: bool,
) -> Result<()> {
    let s = ctx.data_mut().async_state();
    let k = s.task(task)?;
    let (inst, excl) = (k.inst, k.needs_exclusive());
    if waited {
        let i = s.inst(inst)?;
        i.waiting_to_enter = i.waiting_to_enter.saturating_sub(1);
        if cancelled {
            // Cancelled before it started: nothing was lowered.
            s.task(task)?.state = TaskState::CancelDelivered;
            cancel_task(ctx, task)?;
            return exit_thread(ctx, t, task);
        }
    } else if s.has_backpressure(inst, excl) || s.inst_ref(inst).waiting_to_enter > 0 {
        s.inst(inst)?.waiting_to_enter += 1;
        s.thread(t)?.cont = Cont::Start { waited: true };
        return s.start_waiting(t, WaitFor::Enter, true);
    }
    if excl {
        s.inst(inst)?.exclusive = Some(t);
    }
    s.task(task)?.state = TaskState::Started;
    let args = super::call::on_start(ctx, task)?;
    let core = {
        let s = ctx.data_mut().async_state();
        let k = s.task(task)?;
        let core = k.func.core;
        let plan_results: CoreResults = {
            let plans = &k.component.inner.plans;
            let plan = plans
                .get(k.func.ty as usize)
                .ok_or_else(|| internal("function plan"))?;
            plan.core_results
                .iter()
                .map(|t| crate::func::from_raw(0, *t))
                .collect()
        };
        let th = s.thread(t)?;
        th.outs = match th.after {
            After::SyncLift => plan_results,
            After::Callback => core::iter::once(wasmi::Val::I32(0)).collect(),
            After::Stackful => CoreResults::new(),
        };
        core
    };
    let mut outs = core::mem::take(&mut ctx.data_mut().async_state().thread(t)?.outs);
    let r = core.call_resumable(&mut *ctx, &args, &mut outs);
    ctx.data_mut().async_state().thread(t)?.outs = outs;
    call_done_loop(ctx, t, task, r)
}

/// What a thread's core call (or callback call, or resumption) returned;
/// `Some(event)` when the callback is to be called again at once (the
/// caller loops, so a long run of events does not nest native frames).
fn call_done<T: 'static>(
    ctx: &mut Ctx<'_, '_, T>,
    t: u32,
    task: u32,
    r: core::result::Result<wasmi::ResumableCall, wasmi::Error>,
) -> Result<Option<Event>> {
    match r {
        Err(e) => Err(from_wasmi(e)),
        Ok(wasmi::ResumableCall::OutOfFuel(_)) => Err(Error::trap(
            TrapKind::OutOfFuel,
            "all fuel consumed by WebAssembly",
        )),
        Ok(wasmi::ResumableCall::HostTrap(h)) => {
            if h.host_error().downcast_ref::<Suspend>().is_none() {
                return Err(from_wasmi(h.into_host_error()));
            }
            let s = ctx.data_mut().async_state();
            let th = s.thread(t)?;
            let (w, resume) = th.parked.take().ok_or_else(|| internal("parked thread"))?;
            let cancellable = th.cancellable;
            th.cont = Cont::Wasm { call: h, resume };
            s.start_waiting(t, w, cancellable).map(|()| None)
        }
        Ok(wasmi::ResumableCall::Finished) => returned(ctx, t, task),
    }
}

/// [`call_done`], then the callback calls it asks for, in a loop.
fn call_done_loop<T: 'static>(
    ctx: &mut Ctx<'_, '_, T>,
    t: u32,
    task: u32,
    r: core::result::Result<wasmi::ResumableCall, wasmi::Error>,
) -> Result<()> {
    let mut next = call_done(ctx, t, task, r)?;
    while let Some(event) = next {
        next = call_callback_once(ctx, t, task, event)?;
    }
    Ok(())
}

/// Thread `t`'s core call returned.
fn returned<T: 'static>(ctx: &mut Ctx<'_, '_, T>, t: u32, task: u32) -> Result<Option<Event>> {
    let after = ctx.data_mut().async_state().thread(t)?.after;
    match after {
        After::Stackful => exit_thread(ctx, t, task).map(|()| None),
        After::SyncLift => {
            let outs = ctx.data_mut().async_state().thread(t)?.outs.clone();
            super::call::resolve_from_core(ctx, task, &outs)?;
            let func = ctx.data_mut().async_state().task(task)?.func.clone();
            crate::func::post_return(ctx, &func, &outs)?;
            exit_thread(ctx, t, task).map(|()| None)
        }
        After::Callback => {
            let packed = match ctx.data_mut().async_state().thread(t)?.outs.first() {
                Some(wasmi::Val::I32(c)) => *c as u32,
                _ => return Err(internal("callback code")),
            };
            let s = ctx.data_mut().async_state();
            let inst = s.task(task)?.inst;
            let set = match packed & 0xf {
                0 => return exit_thread(ctx, t, task).map(|()| None),
                1 => None,
                2 => Some(packed >> 4),
                c => {
                    return Err(Error::trap(
                        TrapKind::AsyncRule,
                        alloc::format!("unsupported callback code {c}"),
                    ))
                }
            };
            let set = match set {
                Some(i) => {
                    let s = ctx.data_mut().async_handle(
                        inst,
                        i,
                        super::state::KIND_WAITABLE_SET,
                        "a waitable set",
                    )?;
                    Some(s)
                }
                None => None,
            };
            let s = ctx.data_mut().async_state();
            let i = s.inst(inst)?;
            if i.exclusive == Some(t) {
                i.exclusive = None;
            }
            if s.deliver_pending_cancel(task, true) {
                s.inst(inst)?.exclusive = Some(t);
                return Ok(Some(Event::CANCELLED));
            }
            if let Some(set) = set.filter(|set| s.set_has_pending(*set)) {
                // An event is there already: the loop goes on at once.
                s.inst(inst)?.exclusive = Some(t);
                let event = s.take_set_event(set)?.unwrap_or(Event::NONE);
                release_loans(ctx.data_mut());
                return Ok(Some(event));
            }
            if let Some(set) = set {
                if let Ok(x) = s.sets.get_mut(set) {
                    x.waiting += 1;
                }
            }
            s.thread(t)?.cont = Cont::Callback { set };
            let w = set.map_or(WaitFor::Ready, WaitFor::Set);
            s.start_waiting(t, w, true).map(|()| None)
        }
    }
}

/// Thread `t` of task `task` ends (`Task.exit_implicit_thread`).
fn exit_thread<T>(ctx: &mut Ctx<'_, '_, T>, t: u32, task: u32) -> Result<()> {
    let s = ctx.data_mut().async_state();
    let k = s.task(task)?;
    let (inst, resolved) = (k.inst, k.state == TaskState::Resolved);
    let i = s.inst(inst)?;
    if i.exclusive == Some(t) {
        i.exclusive = None;
    }
    s.stop_waiting(t);
    let _ = s.threads.remove(t);
    if !resolved {
        return Err(Error::trap(
            TrapKind::AsyncRule,
            "the async task exited without calling task.return or task.cancel",
        ));
    }
    let k = s.tasks.remove(task).map_err(|_| internal("task"))?;
    if let TaskCaller::Guest(sub) = k.caller {
        if let Ok(sub) = s.subtasks.get_mut(sub) {
            sub.callee = None;
        }
    }
    Ok(())
}

/// `Task.cancel` once delivered: resolves the task's caller with no value.
pub(crate) fn cancel_task<T>(ctx: &mut Ctx<'_, '_, T>, task: u32) -> Result<()> {
    let s = ctx.data_mut().async_state();
    let k = s.task(task)?;
    if k.state != TaskState::CancelDelivered {
        return Err(rule(
            "task.cancel was called by a task whose cancellation was not requested",
        ));
    }
    let borrows = k.borrows;
    if borrows.is_some_and(|b| ctx.data().tasks.get(b).is_ok_and(|n| *n > 0)) {
        return Err(Error::trap(
            TrapKind::BorrowsOutstanding,
            "borrow handles still remain at the end of the call (task.cancel)",
        ));
    }
    let s = ctx.data_mut().async_state();
    let k = s.task(task)?;
    k.state = TaskState::Resolved;
    match k.caller {
        TaskCaller::Host { slot, .. } => {
            if let Ok(r) = s.host_results.get_mut(slot) {
                *r = None;
            }
        }
        TaskCaller::Guest(sub) => {
            let x = s.subtask(sub)?;
            x.state = match x.state {
                SubState::Starting => SubState::CancelledBeforeStarted,
                _ => SubState::CancelledBeforeReturned,
            };
            s.subtask_progress(sub);
        }
    }
    if let Some(b) = borrows {
        let _ = ctx.data_mut().tasks.remove(b);
    }
    Ok(())
}

/// `Task.request_cancellation` of task `task` by code of instance
/// `caller`.
pub(crate) fn request_cancellation<T: 'static>(
    ctx: &mut Ctx<'_, '_, T>,
    task: u32,
    caller: Option<u32>,
) -> Result<()> {
    let s = ctx.data_mut().async_state();
    let k = s.task(task)?;
    let (t, inst, excl, state) = (k.thread, k.inst, k.needs_exclusive(), k.state);
    if state == TaskState::Initial {
        s.task(task)?.state = TaskState::CancelDelivered;
        // Waiting at the gate, or (never) not yet run.
        return resume_thread(ctx, t, true, caller);
    }
    let th = s.thread(t)?;
    let candidate = th.wait.is_some() && th.cancellable;
    let lock = s.inst_ref(inst).exclusive;
    let lock_ok = !excl || lock.is_none() || lock == Some(t);
    let enter = entering_set(ctx.data(), inst, caller);
    let may_enter = enter.iter().all(|i| {
        ctx.data()
            .instances
            .get(*i as usize)
            .is_some_and(|f| f.may_enter && !f.poisoned)
    });
    let s = ctx.data_mut().async_state();
    if candidate && lock_ok && may_enter {
        s.task(task)?.state = TaskState::CancelDelivered;
        resume_thread(ctx, t, true, caller)
    } else {
        s.task(task)?.state = TaskState::PendingCancel;
        Ok(())
    }
}

/// The results of a blocking built-in whose wait ended (`cancelled`: by a
/// cancellation).
pub(crate) fn resume_values<T: 'static>(
    ctx: &mut Ctx<'_, '_, T>,
    resume: Resume,
    cancelled: bool,
) -> Result<smallvec::SmallVec<[wasmi::Val; 4]>> {
    let mut out = smallvec::SmallVec::new();
    match resume {
        Resume::Yield => out.push(wasmi::Val::I32(i32::from(cancelled))),
        Resume::Wait { set, mem, ptr } => {
            let s = ctx.data_mut().async_state();
            if let Ok(x) = s.sets.get_mut(set) {
                x.waiting = x.waiting.saturating_sub(1);
            }
            let event = if cancelled {
                Event::CANCELLED
            } else {
                s.take_set_event(set)?.unwrap_or(Event::NONE)
            };
            release_loans(ctx.data_mut());
            let code = super::builtins::unpack_event(ctx, mem, ptr, event)?;
            out.push(wasmi::Val::I32(code as i32));
        }
        Resume::SyncCall { subtask } => {
            let sub = ctx.data_mut().async_state().subtasks.remove(subtask);
            let sub = sub.map_err(|_| internal("subtask"))?;
            let plans = &sub.component.inner.plans;
            let plan = plans
                .get(sub.ty as usize)
                .ok_or_else(|| internal("function plan"))?;
            for (bits, t) in sub.flat_results.iter().zip(plan.lower_results.iter()) {
                out.push(crate::func::from_raw(*bits, *t));
            }
            sub.lent.release(ctx.data_mut());
        }
        Resume::Event { w } => {
            let s = ctx.data_mut().async_state();
            if let Ok(x) = s.waitables.get_mut(w) {
                x.sync_waiter = false;
            }
            let e = take_event(ctx, w)?;
            out.push(wasmi::Val::I32(e.payload as i32));
        }
    }
    Ok(out)
}

/// Blocks the current code until `wait` holds: parks the current thread
/// (returning the suspend error, which its built-in returns unchanged),
/// or, for code that is not a thread (a task of a function without
/// `async`), runs the other ready threads of instance `inst` until it
/// holds, trapping if none can run (the spec's "cannot block a
/// synchronous task before returning").
pub(crate) fn block<T: 'static>(
    ctx: &mut Ctx<'_, '_, T>,
    inst: u32,
    wait: WaitFor,
    resume: Resume,
    cancellable: bool,
) -> Result<()> {
    let depth = ctx.data().depth;
    let s = ctx.data_mut().async_state();
    if let Some(t) = s.current_thread(depth) {
        // A wait whose condition already holds goes on at once (what the
        // conformance suite expects); a yield always lets others run.
        if wait != WaitFor::Ready && s.holds(wait)? {
            return Ok(());
        }
        let th = s.thread(t)?;
        th.parked = Some((wait, resume));
        th.cancellable = cancellable;
        return Err(suspend_error());
    }
    loop {
        let s = ctx.data_mut().async_state();
        if s.holds(wait)? {
            return Ok(());
        }
        let lock = s.inst_ref(inst).exclusive;
        let next = s.waiting.iter().copied().find(|t| {
            Some(*t) != lock
                && s.ready(*t)
                && s.threads
                    .get(*t)
                    .ok()
                    .and_then(|th| s.tasks.get(th.task).ok())
                    .is_some_and(|k| k.inst == inst)
        });
        match next {
            Some(t) => resume_thread(ctx, t, false, Some(inst))?,
            None => {
                return Err(rule(
                    "cannot block a synchronous task before returning: the task of a function \
                     without `async` waited, and no other thread of its instance can run",
                ))
            }
        }
    }
}

/// Blocks the current thread until waitable `w` has a pending event, then
/// takes it (the spec's `Waitable.wait_for_pending_event` followed by
/// `get_pending_event`), for a built-in called without `async` whose
/// result is the event's payload (`stream.read`, `future.write`,
/// `stream.cancel-read`, ...).
///
/// Either returns the event, or suspends the thread: then it returns an
/// error that the built-in must return unchanged from its host function
/// (through [`host_error`]); the scheduler resumes the call later with the
/// event's payload as the built-in's one `i32` result. Traps when the
/// current code may not block (a task of a function without `async` with
/// no other thread to run).
pub(crate) fn wait_for_event<T: 'static>(
    caller: &mut wasmi::Caller<'_, StoreData<T>>,
    inst: u32,
    w: u32,
) -> Result<Event> {
    let mut ctx = wasmi::AsContextMut::as_context_mut(caller);
    wait_for_event_in(&mut ctx, inst, w)
}

/// [`wait_for_event`] over a store context.
pub(crate) fn wait_for_event_in<T: 'static>(
    ctx: &mut Ctx<'_, '_, T>,
    inst: u32,
    w: u32,
) -> Result<Event> {
    let s = ctx.data_mut().async_state();
    if !s.has_pending(w) {
        s.waitable(w)?.sync_waiter = true;
        block(ctx, inst, WaitFor::Waitable(w), Resume::Event { w }, false)?;
        ctx.data_mut().async_state().waitable(w)?.sync_waiter = false;
    }
    take_event(ctx, w)
}

/// Takes the pending event of waitable `w` and ends the loans of a
/// subtask whose resolution it delivers.
pub(crate) fn take_event<T>(ctx: &mut Ctx<'_, '_, T>, w: u32) -> Result<Event> {
    let e = ctx.data_mut().async_state().take_event(w);
    release_loans(ctx.data_mut());
    e
}

/// Ends the loans of subtasks whose resolution was delivered.
pub(crate) fn release_loans<T>(data: &mut StoreData<T>) {
    let released = core::mem::take(&mut data.async_state().released);
    for lent in released {
        lent.release(data);
    }
}

/// The first waiting thread that is ready and whose instances the host
/// may enter (the spec's `Store.tick` candidates, in a fixed order).
pub(crate) fn next_ready<T>(data: &mut StoreData<T>) -> Option<u32> {
    let s = data.async_state.as_deref()?;
    s.waiting.iter().copied().find(|t| {
        s.ready(*t)
            && s.threads
                .get(*t)
                .ok()
                .and_then(|th| s.tasks.get(th.task).ok())
                .is_some_and(|k| {
                    entering_set(data, k.inst, None).iter().all(|i| {
                        data.instances
                            .get(*i as usize)
                            .is_some_and(|f| f.may_enter && !f.poisoned)
                    })
                })
    })
}

/// The trap of a task past [`Config::max_tasks`](crate::Config::max_tasks).
fn too_many_tasks(e: Error) -> Error {
    if e.kind() == &crate::error::ErrorKind::Trap(TrapKind::TooManyHandles) {
        Error::trap(
            TrapKind::LimitExceeded,
            "too many tasks in progress in the store (the max_tasks limit)",
        )
    } else {
        e
    }
}

/// Adds subtask `sub` to the store, within the task limit and the store
/// budget.
pub(crate) fn add_subtask<T>(data: &mut StoreData<T>, sub: Subtask) -> Result<u32> {
    let max = data.limits.max_tasks;
    let s = data.async_state.get_or_insert_with(Default::default);
    let limiter = &mut data.limiter.0;
    s.subtasks
        .add_within(sub, max, |bytes| limiter.take_bytes(bytes))
        .map_err(too_many_tasks)
}

fn rule(message: &'static str) -> Error {
    Error::trap(TrapKind::AsyncRule, message)
}

fn limit(message: &'static str) -> Error {
    Error::trap(TrapKind::LimitExceeded, message)
}
