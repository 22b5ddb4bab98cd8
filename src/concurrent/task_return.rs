//! `task.return`: an `async`-lifted task gives its caller its value.

use alloc::vec::Vec;
use smallvec::SmallVec;

use super::builtins::Builtin;
use crate::abi::lift::LiftCx;
use crate::abi::{StringEncoding, MAX_FLAT_PARAMS};
use crate::component::Component;
use crate::error::{Error, Result, TrapKind};
use crate::func::{Options, WasmiMem};
use crate::store::{StoreContextMut, StoreData};
use crate::types::ValType;

/// Makes the core function of a `task.return (result T)` built-in of
/// instance `inst`, with the options `memory` and `encoding`.
pub(crate) fn core_func<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    component: &Component,
    result: Option<ValType>,
    encoding: StringEncoding,
    inst: u32,
    memory: Option<wasmi::Memory>,
) -> wasmi::Func {
    let ty = Builtin::TaskReturn {
        result,
        memory: None,
        encoding,
    }
    .core_type(&component.inner.arena);
    let component = component.clone();
    let options = Options {
        memory,
        realloc: None,
        post_return: None,
        post_return_i32: None,
        encoding,
        instance: inst,
        callback: None,
    };
    wasmi::Func::new(&mut store.inner, ty, move |mut caller, args, _| {
        run(&mut caller, &component, result, &options, args).map_err(wasmi::Error::host)
    })
}

/// The spec's `canon_task_return`.
fn run<T: 'static>(
    caller: &mut wasmi::Caller<'_, StoreData<T>>,
    component: &Component,
    result: Option<ValType>,
    options: &Options,
    args: &[wasmi::Val],
) -> Result<()> {
    let arena = &component.inner.arena;
    let data = caller.data_mut();
    data.check_may_leave(
        options.instance,
        "cannot leave component instance: task.return was called from realloc or \
         post-return",
    )?;
    let depth = data.depth;
    let Some(task) = data.async_state().task(depth) else {
        return Err(rule(
            "task.return was called by a task of a function lifted without `async`",
        ));
    };
    let same_result = match (task.result, result) {
        (Some(a), Some(b)) => super::types::same_type(arena, a, b),
        (None, None) => true,
        _ => false,
    };
    if task.component_id != arena.component_id || !same_result {
        return Err(rule(
            "task.return's result type is not the result type of the task's function",
        ));
    }
    let task_memory = task.memory;
    let same_memory = match (task_memory, options.memory) {
        // Two live memories never share their bytes.
        (Some(a), Some(b)) => {
            a.data_ptr(&*caller) == b.data_ptr(&*caller)
                && a.data_size(&*caller) == b.data_size(&*caller)
        }
        (None, None) => true,
        _ => false,
    };
    let data = caller.data_mut();
    let Some(task) = data.async_state().task(depth) else {
        return Err(rule("task.return: the task ended"));
    };
    if !same_memory || task.encoding != options.encoding {
        return Err(rule(
            "task.return's options (memory, string encoding) differ from the lift's",
        ));
    }
    if task.returned.is_some() {
        return Err(rule("task.return was called twice"));
    }
    let held = task
        .borrows
        .is_some_and(|b| data.tasks.get(b).is_ok_and(|n| *n > 0));
    if held {
        return Err(Error::trap(
            TrapKind::BorrowsOutstanding,
            "borrow handles still remain at the end of the call (task.return)",
        ));
    }
    let mut vals = Vec::new();
    if let Some(rt) = result {
        let raw: SmallVec<[u64; 16]> = args.iter().map(crate::func::to_raw).collect();
        let mut mem = WasmiMem::new(&mut *caller, options);
        let mut lcx = LiftCx {
            arena,
            mem: &mut mem,
            enc: options.encoding,
        };
        lcx.lift_values(&[rt], &raw, MAX_FLAT_PARAMS, &mut vals)?;
    }
    if let Some(task) = caller.data_mut().async_state().task(depth) {
        task.returned = Some(vals.pop());
    }
    Ok(())
}

fn rule(message: &'static str) -> Error {
    Error::trap(TrapKind::AsyncRule, message)
}
