//! `task.return`: an `async`-lifted task gives its caller its value.

use smallvec::SmallVec;

use super::builtins::Builtin;
use crate::abi::{StringEncoding, MAX_FLAT_PARAMS};
use crate::component::Component;
use crate::error::{Error, Result, TrapKind};
use crate::func::Options;
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
        is_async: false,
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
    let Some(task) = data.async_state().current_task(depth) else {
        return Err(rule(
            "task.return was called by a task of a function lifted without `async`",
        ));
    };
    let k = data.async_state().task(task)?;
    if !k.func.options.is_async {
        return Err(rule(
            "task.return was called by a task of a function lifted without `async`",
        ));
    }
    let task_arena = &k.component.inner.arena;
    let task_result = task_arena
        .funcs
        .get(k.func.ty as usize)
        .ok_or_else(|| rule("task.return: unknown function type"))?
        .result;
    let same_result = match (task_result, result) {
        (Some(a), Some(b)) => super::types::same_type(arena, a, b),
        (None, None) => true,
        _ => false,
    };
    if task_arena.component_id != arena.component_id || !same_result {
        return Err(rule(
            "task.return's result type is not the result type of the task's function",
        ));
    }
    let (task_memory, task_encoding) = (k.func.options.memory, k.func.options.encoding);
    // The conformance suite lets a `task.return` without `memory` (whose
    // result then needs none, by validation) return from a lift with one.
    let same_memory = match (task_memory, options.memory) {
        // Two live memories never share their bytes.
        (Some(a), Some(b)) => {
            a.data_ptr(&*caller) == b.data_ptr(&*caller)
                && a.data_size(&*caller) == b.data_size(&*caller)
        }
        (_, None) => true,
        (None, Some(_)) => false,
    };
    if !same_memory || task_encoding != options.encoding {
        return Err(rule(
            "task.return's options (memory, string encoding) differ from the lift's",
        ));
    }
    let mut ctx = wasmi::AsContextMut::as_context_mut(caller);
    super::call::check_return(&mut ctx, task)?;
    let raw: SmallVec<[u64; 16]> = args.iter().map(crate::func::to_raw).collect();
    super::call::resolve(&mut ctx, task, &raw, MAX_FLAT_PARAMS)
}

fn rule(message: &'static str) -> Error {
    Error::trap(TrapKind::AsyncRule, message)
}
