//! The flat core signature of each component function type, computed once
//! per component from its type arena.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::abi::layout::FlatType;
use crate::abi::{MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use crate::types::{TypeArena, ValType};

/// The flat core signature of a component function, computed once.
#[derive(Debug, Clone)]
pub(crate) struct FuncPlan {
    pub params: Box<[ValType]>,
    pub result: Option<ValType>,
    /// Core parameter types of the lifted/lowered core function.
    pub core_params: Box<[wasmi::ValType]>,
    /// Core result types.
    pub core_results: Box<[wasmi::ValType]>,
    /// Core parameter types of a `canon lower`ed function (a return pointer
    /// is appended when the result is spilled).
    pub lower_params: Box<[wasmi::ValType]>,
    /// Core result types of a `canon lower`ed function.
    pub lower_results: Box<[wasmi::ValType]>,
    /// The result does not fit in `MAX_FLAT_RESULTS`: it travels by pointer.
    pub result_spilled: bool,
    /// Some parameter holds a `borrow` (a call lowering them opens a task
    /// that counts the borrows; other calls need none).
    pub params_borrow: bool,
    /// Every parameter and the result are scalars (no strings, lists or
    /// handles, nothing spilled): a call lifts and lowers them without
    /// touching memory, tables or tasks.
    pub scalars: bool,
}

/// Whether `t` is a scalar: one flat value, no memory, no handle.
fn is_scalar(t: ValType) -> bool {
    !matches!(
        t,
        ValType::String | ValType::Own(_) | ValType::Borrow(_) | ValType::Def(_)
    )
}

/// Whether `t` holds a `borrow` handle anywhere (`depth` bounds the walk;
/// the arena's types are already bounded by `max_type_depth`, so past it
/// the answer is a conservative `true`).
fn has_borrow(arena: &TypeArena, t: ValType, depth: u32) -> bool {
    use crate::types::DefType;
    if depth > 200 {
        return true;
    }
    let def = match t {
        ValType::Borrow(_) => return true,
        ValType::Def(i) => match arena.defs.get(i as usize) {
            Some(d) => d,
            None => return true,
        },
        _ => return false,
    };
    let inner = |t: ValType| has_borrow(arena, t, depth + 1);
    match def {
        DefType::List(e) | DefType::Option(e) => inner(*e),
        DefType::Record(fs) => fs.iter().any(|f| inner(f.1)),
        DefType::Tuple(ts) => ts.iter().any(|t| inner(*t)),
        DefType::Variant(cs) => cs.iter().filter_map(|c| c.ty).any(inner),
        DefType::Result { ok, err } => ok.iter().chain(err.iter()).any(|t| inner(*t)),
        DefType::Enum(_) | DefType::Flags(_) => false,
        // Handles of their own; their payloads cannot hold a borrow.
        #[cfg(feature = "async")]
        DefType::Stream(_) | DefType::Future(_) | DefType::ErrorContext => false,
    }
}

/// The plan of every function type of `arena`, by arena func index.
pub(crate) fn plans(arena: &TypeArena) -> Vec<FuncPlan> {
    arena
        .funcs
        .iter()
        .map(|f| plan(arena, &f.params, f.result))
        .collect()
}

fn plan(arena: &TypeArena, params: &[(Box<str>, ValType)], result: Option<ValType>) -> FuncPlan {
    let mut flat_params: Vec<FlatType> = Vec::new();
    for (_, t) in params {
        flat_params.extend_from_slice(arena.flat(*t));
    }
    let flat_results: &[FlatType] = match result {
        Some(t) => arena.flat(t),
        None => &[],
    };
    let result_spilled = flat_results.len() > MAX_FLAT_RESULTS;
    if flat_params.len() > MAX_FLAT_PARAMS {
        flat_params = alloc::vec![FlatType::I32];
    }
    let core_results: Vec<FlatType> = if result_spilled {
        alloc::vec![FlatType::I32]
    } else {
        flat_results.to_vec()
    };
    let mut lower_params = flat_params.clone();
    let mut lower_results = core_results.clone();
    if result_spilled {
        lower_params.push(FlatType::I32);
        lower_results.clear();
    }
    let w = |v: &[FlatType]| v.iter().map(|t| t.to_wasmi()).collect::<Box<[_]>>();
    FuncPlan {
        params: params.iter().map(|p| p.1).collect(),
        result,
        core_params: w(&flat_params),
        core_results: w(&core_results),
        lower_params: w(&lower_params),
        lower_results: w(&lower_results),
        result_spilled,
        params_borrow: params.iter().any(|p| has_borrow(arena, p.1, 0)),
        scalars: params.len() <= MAX_FLAT_PARAMS
            && params.iter().all(|p| is_scalar(p.1))
            && result.is_none_or(is_scalar),
    }
}
