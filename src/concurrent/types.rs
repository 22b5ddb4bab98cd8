//! Which types hold async handles (`stream`, `future`, `error-context`),
//! and the check that keeps functions passing them out of the sync ABI
//! until the async runtime moves such handles.

use crate::error::Result;
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
/// build. Every function type can now: stream, future and error-context
/// handles move between instances ([`super::streams::move_handle`]); the
/// host cannot hold such values yet, which a call from or to the host that
/// passes one reports as `unsupported` when it is made.
pub(crate) fn check_runnable(arena: &TypeArena, func: u32) -> Result<()> {
    let _ = (arena, func);
    Ok(())
}

/// Whether `a` and `b`, two types of `arena`, are the same type
/// (structurally: the arena interns by the binary's type ids, so equal
/// types may sit at two indices). Bounded by the arena's nesting bound.
pub(crate) fn same_type(arena: &TypeArena, a: ValType, b: ValType) -> bool {
    same(arena, a, b, 0)
}

fn same(arena: &TypeArena, a: ValType, b: ValType, depth: u32) -> bool {
    if a == b {
        return true;
    }
    if depth > crate::types::MAX_TYPE_DEPTH {
        return false;
    }
    let (ValType::Def(i), ValType::Def(j)) = (a, b) else {
        return false;
    };
    let eq = |x: &ValType, y: &ValType| same(arena, *x, *y, depth + 1);
    let eq_opt = |x: &Option<ValType>, y: &Option<ValType>| match (x, y) {
        (Some(x), Some(y)) => eq(x, y),
        (None, None) => true,
        _ => false,
    };
    match (arena.def(i), arena.def(j)) {
        (DefType::List(x), DefType::List(y)) | (DefType::Option(x), DefType::Option(y)) => eq(x, y),
        (DefType::Record(f), DefType::Record(g)) => {
            f.len() == g.len()
                && f.iter()
                    .zip(g.iter())
                    .all(|(p, q)| p.0 == q.0 && eq(&p.1, &q.1))
        }
        (DefType::Tuple(f), DefType::Tuple(g)) => {
            f.len() == g.len() && f.iter().zip(g.iter()).all(|(p, q)| eq(p, q))
        }
        (DefType::Variant(f), DefType::Variant(g)) => {
            f.len() == g.len()
                && f.iter()
                    .zip(g.iter())
                    .all(|(p, q)| p.name == q.name && eq_opt(&p.ty, &q.ty))
        }
        (DefType::Enum(f), DefType::Enum(g)) | (DefType::Flags(f), DefType::Flags(g)) => f == g,
        (DefType::Result { ok: o1, err: e1 }, DefType::Result { ok: o2, err: e2 }) => {
            eq_opt(o1, o2) && eq_opt(e1, e2)
        }
        (DefType::Stream(x), DefType::Stream(y)) | (DefType::Future(x), DefType::Future(y)) => {
            eq_opt(x, y)
        }
        (DefType::ErrorContext, DefType::ErrorContext) => true,
        _ => false,
    }
}
