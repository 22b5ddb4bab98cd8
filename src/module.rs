//! `Module`: a core WebAssembly module the host hands to a component that
//! imports one, and the core module types such imports are checked against.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::engine::Engine;
#[cfg(feature = "validate")]
use crate::error::Result;

/// A compiled core WebAssembly module, for a component's core module import
/// ([`LinkerInstance::module`](crate::LinkerInstance::module)).
#[derive(Clone)]
pub struct Module {
    pub(crate) engine: Engine,
    pub(crate) inner: wasmi::Module,
}

impl Module {
    /// Validates and compiles the core module binary `bytes` for `engine`.
    ///
    /// Fails with a load error if `bytes` is not a valid core module, and
    /// with an `unsupported` error if it uses a proposal the engine does not
    /// run or wasmi cannot compile it. Needs the `validate` feature (on by
    /// default).
    #[cfg(feature = "validate")]
    pub fn new(engine: &Engine, bytes: &[u8]) -> Result<Module> {
        let inner = crate::component::compile_core_module(engine, bytes)?;
        Ok(Module {
            engine: engine.clone(),
            inner,
        })
    }

    /// The module's type: its imports and exports.
    pub(crate) fn ty(&self) -> Option<CoreModuleType> {
        let imports = self
            .inner
            .imports()
            .map(|i| {
                let ty = CoreExtern::from_wasmi(i.ty())?;
                Some((Box::from(i.module()), Box::from(i.name()), ty))
            })
            .collect::<Option<Vec<_>>>()?;
        let exports = self
            .inner
            .exports()
            .map(|e| Some((Box::from(e.name()), CoreExtern::from_wasmi(e.ty())?)))
            .collect::<Option<Vec<_>>>()?;
        Some(CoreModuleType { imports, exports })
    }
}

/// A core value type of the proposals componentry runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CoreVal {
    I32,
    I64,
    F32,
    F64,
    V128,
    FuncRef,
    ExternRef,
}

/// The type of a core import or export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CoreExtern {
    Func {
        params: Box<[CoreVal]>,
        results: Box<[CoreVal]>,
    },
    Memory {
        is_64: bool,
        min: u64,
        max: Option<u64>,
    },
    Table {
        elem: CoreVal,
        is_64: bool,
        min: u64,
        max: Option<u64>,
    },
    Global {
        content: CoreVal,
        mutable: bool,
    },
}

/// A core module type: what a component's core module import expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CoreModuleType {
    pub imports: Vec<(Box<str>, Box<str>, CoreExtern)>,
    pub exports: Vec<(Box<str>, CoreExtern)>,
}

impl CoreVal {
    fn from_wasmi(v: wasmi::ValType) -> CoreVal {
        match v {
            wasmi::ValType::I32 => CoreVal::I32,
            wasmi::ValType::I64 => CoreVal::I64,
            wasmi::ValType::F32 => CoreVal::F32,
            wasmi::ValType::F64 => CoreVal::F64,
            wasmi::ValType::V128 => CoreVal::V128,
            wasmi::ValType::FuncRef => CoreVal::FuncRef,
            wasmi::ValType::ExternRef => CoreVal::ExternRef,
        }
    }

    /// `None` for the reference types of proposals wasmi does not run.
    #[cfg(feature = "validate")]
    pub(crate) fn from_wasmparser(v: wasmparser::ValType) -> Option<CoreVal> {
        use wasmparser::ValType as V;
        Some(match v {
            V::I32 => CoreVal::I32,
            V::I64 => CoreVal::I64,
            V::F32 => CoreVal::F32,
            V::F64 => CoreVal::F64,
            V::V128 => CoreVal::V128,
            V::Ref(r) if r == wasmparser::RefType::FUNCREF => CoreVal::FuncRef,
            V::Ref(r) if r == wasmparser::RefType::EXTERNREF => CoreVal::ExternRef,
            V::Ref(_) => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            CoreVal::I32 => "i32",
            CoreVal::I64 => "i64",
            CoreVal::F32 => "f32",
            CoreVal::F64 => "f64",
            CoreVal::V128 => "v128",
            CoreVal::FuncRef => "funcref",
            CoreVal::ExternRef => "externref",
        }
    }
}

impl CoreExtern {
    fn from_wasmi(ty: &wasmi::ExternType) -> Option<CoreExtern> {
        let vals = |vs: &[wasmi::ValType]| vs.iter().map(|v| CoreVal::from_wasmi(*v)).collect();
        Some(match ty {
            wasmi::ExternType::Func(f) => CoreExtern::Func {
                params: vals(f.params()),
                results: vals(f.results()),
            },
            wasmi::ExternType::Memory(m) => CoreExtern::Memory {
                is_64: m.is_64(),
                min: m.minimum(),
                max: m.maximum(),
            },
            wasmi::ExternType::Table(t) => CoreExtern::Table {
                elem: match t.element() {
                    wasmi::RefType::Func => CoreVal::FuncRef,
                    wasmi::RefType::Extern => CoreVal::ExternRef,
                },
                is_64: t.is_64(),
                min: t.minimum(),
                max: t.maximum(),
            },
            wasmi::ExternType::Global(g) => CoreExtern::Global {
                content: CoreVal::from_wasmi(g.content()),
                mutable: matches!(g.mutability(), wasmi::Mutability::Var),
            },
        })
    }

    /// Whether a value of type `self` may be used where `expected` is asked
    /// for: equal function and global types, wider-limited memories and
    /// tables (the core spec's import matching).
    fn matches(&self, expected: &CoreExtern) -> bool {
        let limits = |min: u64, max: Option<u64>, emin: u64, emax: Option<u64>| {
            min >= emin
                && match (max, emax) {
                    (_, None) => true,
                    (Some(m), Some(em)) => m <= em,
                    (None, Some(_)) => false,
                }
        };
        match (self, expected) {
            (
                CoreExtern::Memory { is_64, min, max },
                CoreExtern::Memory {
                    is_64: e64,
                    min: emin,
                    max: emax,
                },
            ) => is_64 == e64 && limits(*min, *max, *emin, *emax),
            (
                CoreExtern::Table {
                    elem,
                    is_64,
                    min,
                    max,
                },
                CoreExtern::Table {
                    elem: eelem,
                    is_64: e64,
                    min: emin,
                    max: emax,
                },
            ) => elem == eelem && is_64 == e64 && limits(*min, *max, *emin, *emax),
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for CoreExtern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |vs: &[CoreVal]| -> String {
            vs.iter().map(|v| v.name()).collect::<Vec<_>>().join(" ")
        };
        let limits = |min: &u64, max: &Option<u64>| match max {
            Some(max) => format!("{min} {max}"),
            None => format!("{min}"),
        };
        let index = |is_64: &bool| if *is_64 { "i64 " } else { "" };
        match self {
            CoreExtern::Func { params, results } => {
                f.write_str("(func")?;
                if !params.is_empty() {
                    write!(f, " (param {})", list(params))?;
                }
                if !results.is_empty() {
                    write!(f, " (result {})", list(results))?;
                }
                f.write_str(")")
            }
            CoreExtern::Memory { is_64, min, max } => {
                write!(f, "(memory {}{})", index(is_64), limits(min, max))
            }
            CoreExtern::Table {
                elem,
                is_64,
                min,
                max,
            } => write!(
                f,
                "(table {}{} {})",
                index(is_64),
                limits(min, max),
                elem.name()
            ),
            CoreExtern::Global { content, mutable } if *mutable => {
                write!(f, "(global (mut {}))", content.name())
            }
            CoreExtern::Global { content, .. } => write!(f, "(global {})", content.name()),
        }
    }
}

impl CoreModuleType {
    /// Checks that a module of type `self` can be used where `expected` is
    /// asked for: it imports nothing `expected` does not offer (at a type
    /// that satisfies it) and exports everything `expected` lists.
    pub(crate) fn check(&self, expected: &CoreModuleType) -> core::result::Result<(), String> {
        for (module, name, ty) in &self.imports {
            match expected
                .imports
                .iter()
                .find(|(m, n, _)| m == module && n == name)
            {
                None => {
                    return Err(format!(
                        "the module imports `{module}` `{name}` {ty}, which the import's type does not provide"
                    ))
                }
                Some((_, _, given)) if !given.matches(ty) => {
                    return Err(format!(
                        "the module imports `{module}` `{name}` as {ty}, the import's type provides {given}"
                    ))
                }
                Some(_) => {}
            }
        }
        for (name, want) in &expected.exports {
            match self.exports.iter().find(|(n, _)| n == name) {
                None => {
                    return Err(format!(
                        "the import's type expects export `{name}` {want}, which the module lacks"
                    ))
                }
                Some((_, have)) if !have.matches(want) => {
                    return Err(format!(
                        "the import's type expects export `{name}` as {want}, the module exports {have}"
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}
