//! Which types hold async handles (`stream`, `future`, `error-context`),
//! and the check that keeps functions passing them out of the sync ABI
//! until the async runtime moves such handles.

use alloc::format;

use crate::error::{Error, Result};
use crate::types::{DefType, TypeArena, ValType};

/// Whether `def`, whose parts are in `arena` already, is or holds a
/// stream, future or error-context (computed once per defined type, when
/// it enters the arena).
pub(crate) fn def_holds_handles(arena: &TypeArena, def: &DefType) -> bool {
    let holds = |t: &ValType| holds_handles(arena, *t);
    match def {
        DefType::Stream(_) | DefType::Future(_) | DefType::ErrorContext => true,
        DefType::List(t) | DefType::Option(t) => holds(t),
        DefType::Record(fields) => fields.iter().any(|(_, t)| holds(t)),
        DefType::Tuple(ts) => ts.iter().any(holds),
        DefType::Variant(cases) => cases.iter().any(|c| c.ty.as_ref().is_some_and(holds)),
        DefType::Result { ok, err } => {
            ok.as_ref().is_some_and(holds) || err.as_ref().is_some_and(holds)
        }
        DefType::Enum(_) | DefType::Flags(_) => false,
    }
}

/// Whether a value of type `ty` is or holds an async handle.
pub(crate) fn holds_handles(arena: &TypeArena, ty: ValType) -> bool {
    match ty {
        ValType::Def(i) => arena.holds_async_handles(i),
        _ => false,
    }
}

/// Checks that function type `func` can be lifted or lowered by this
/// build: none of its parameters or its result holds an async handle (the
/// handle tables and the scheduler that move them are not implemented).
pub(crate) fn check_runnable(arena: &TypeArena, func: u32) -> Result<()> {
    let Some(f) = arena.funcs.get(func as usize) else {
        return Ok(());
    };
    let params = f.params.iter().map(|(_, t)| *t);
    if let Some(t) = params.chain(f.result).find(|t| holds_handles(arena, *t)) {
        return Err(Error::unsupported(format!(
            "lifting or lowering a function that passes `{}`: moving stream, future and \
             error-context handles needs the component-model async runtime (issue #18), \
             not implemented yet",
            arena.to_public(t)
        )));
    }
    Ok(())
}
