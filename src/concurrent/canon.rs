//! The async, thread and error-context canonical built-ins as wasmparser
//! reads them: the ones this build runs, as [`Builtin`]s, and for the
//! others an `unsupported` error naming them.

use alloc::format;
use wasmparser::CanonicalFunction as C;

use super::builtins::Builtin;
use crate::error::{Error, Result};

/// Checks the options of a `canon lift`: every form runs.
pub(crate) fn check_lift_options(_opts: &crate::component::CanonOpts) -> Result<()> {
    Ok(())
}

/// Checks the options of a `canon lower`: every form runs.
pub(crate) fn check_lower_options(_opts: &crate::component::CanonOpts) -> Result<()> {
    Ok(())
}

/// Checks a `task.return`: its options are those of a lift (no `async`),
/// and its result moves no async handle yet.
pub(crate) fn check_task_return(
    arena: &crate::types::TypeArena,
    result: Option<crate::types::ValType>,
    opts: &crate::component::CanonOpts,
) -> Result<()> {
    if opts.is_async || opts.callback.is_some() {
        return Err(Error::load(
            0,
            "task.return takes no `async` or `callback` option",
        ));
    }
    let _ = (arena, result);
    Ok(())
}

/// The built-in `f` asks for, if this build runs it; else an
/// `unsupported` error naming it.
pub(crate) fn builtin(f: &C) -> Result<Builtin> {
    Ok(match f {
        C::ContextGet { ty, slot } if *ty == wasmparser::ValType::I32 => Builtin::ContextGet(*slot),
        C::ContextSet { ty, slot } if *ty == wasmparser::ValType::I32 => Builtin::ContextSet(*slot),
        C::BackpressureInc => Builtin::BackpressureInc,
        C::BackpressureDec => Builtin::BackpressureDec,
        C::ThreadYield => Builtin::ThreadYield,
        C::WaitableSetNew => Builtin::WaitableSetNew,
        C::WaitableSetPoll { memory } => Builtin::WaitableSetPoll { memory: *memory },
        C::WaitableSetDrop => Builtin::WaitableSetDrop,
        C::WaitableSetWait { memory } => Builtin::WaitableSetWait { memory: *memory },
        C::WaitableJoin => Builtin::WaitableJoin,
        C::SubtaskDrop => Builtin::SubtaskDrop,
        C::SubtaskCancel { async_ } => Builtin::SubtaskCancel { is_async: *async_ },
        C::TaskCancel => Builtin::TaskCancel,
        _ => return Err(unsupported(f)),
    })
}

/// The spec's name of built-in `f` (the text format's spelling), for a
/// built-in other than `lift`, `lower` and the resource built-ins.
pub(crate) fn name(f: &C) -> &'static str {
    match f {
        C::Lift { .. } => "canon lift",
        C::Lower { .. } => "canon lower",
        C::ResourceNew { .. } => "resource.new",
        C::ResourceDrop { .. } => "resource.drop",
        C::ResourceRep { .. } => "resource.rep",
        C::ThreadSpawnRef { .. } => "thread.spawn-ref",
        C::ThreadSpawnIndirect { .. } => "thread.spawn-indirect",
        C::ThreadAvailableParallelism => "thread.available-parallelism",
        C::BackpressureInc => "backpressure.inc",
        C::BackpressureDec => "backpressure.dec",
        C::TaskReturn { .. } => "task.return",
        C::TaskCancel => "task.cancel",
        C::ContextGet { .. } => "context.get",
        C::ContextSet { .. } => "context.set",
        C::ThreadYield => "thread.yield",
        C::SubtaskDrop => "subtask.drop",
        C::SubtaskCancel { .. } => "subtask.cancel",
        C::StreamNew { .. } => "stream.new",
        C::StreamRead { .. } => "stream.read",
        C::StreamWrite { .. } => "stream.write",
        C::StreamForward { .. } => "stream.forward",
        C::StreamCancelRead { .. } => "stream.cancel-read",
        C::StreamCancelWrite { .. } => "stream.cancel-write",
        C::StreamDropReadable { .. } => "stream.drop-readable",
        C::StreamDropWritable { .. } => "stream.drop-writable",
        C::FutureNew { .. } => "future.new",
        C::FutureRead { .. } => "future.read",
        C::FutureWrite { .. } => "future.write",
        C::FutureForward { .. } => "future.forward",
        C::FutureCancelRead { .. } => "future.cancel-read",
        C::FutureCancelWrite { .. } => "future.cancel-write",
        C::FutureDropReadable { .. } => "future.drop-readable",
        C::FutureDropWritable { .. } => "future.drop-writable",
        C::ErrorContextNew { .. } => "error-context.new",
        C::ErrorContextDebugMessage { .. } => "error-context.debug-message",
        C::ErrorContextDrop => "error-context.drop",
        C::WaitableSetNew => "waitable-set.new",
        C::WaitableSetWait { .. } => "waitable-set.wait",
        C::WaitableSetPoll { .. } => "waitable-set.poll",
        C::WaitableSetDrop => "waitable-set.drop",
        C::WaitableJoin => "waitable.join",
        C::ThreadIndex => "thread.index",
        C::ThreadNewIndirect { .. } => "thread.new-indirect",
        C::ThreadResumeLater => "thread.resume-later",
        C::ThreadSuspend => "thread.suspend",
        C::ThreadSuspendThenResume => "thread.suspend-then-resume",
        C::ThreadYieldThenResume => "thread.yield-then-resume",
        C::ThreadSuspendThenPromote => "thread.suspend-then-promote",
        C::ThreadYieldThenPromote => "thread.yield-then-promote",
    }
}

/// The error for a component that uses built-in `f`, which this build
/// does not run yet.
pub(crate) fn unsupported(f: &C) -> Error {
    let what = match f {
        C::ThreadSpawnRef { .. }
        | C::ThreadSpawnIndirect { .. }
        | C::ThreadAvailableParallelism => "shared-everything threads",
        C::ThreadIndex
        | C::ThreadNewIndirect { .. }
        | C::ThreadResumeLater
        | C::ThreadSuspend
        | C::ThreadSuspendThenResume
        | C::ThreadYieldThenResume
        | C::ThreadSuspendThenPromote
        | C::ThreadYieldThenPromote => "component-model threads",
        C::ErrorContextNew { .. } | C::ErrorContextDebugMessage { .. } | C::ErrorContextDrop => {
            "error contexts (component-model async runtime, issue #18)"
        }
        _ => "the component-model async runtime (issue #18)",
    };
    Error::unsupported(format!(
        "the `{}` built-in: {what} is not implemented yet",
        name(f)
    ))
}
