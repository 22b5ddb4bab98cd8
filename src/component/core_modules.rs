//! The core modules of components, and standalone ones for the linker: the
//! feature set they are validated with, and their compilation by wasmi once
//! validated (validation happens once, in the component validator).

use alloc::format;
#[cfg(feature = "validate")]
use alloc::vec::Vec;
#[cfg(feature = "validate")]
use wasmparser::{Parser, Validator, WasmFeatures};

#[cfg(feature = "validate")]
use super::parse::load_err;
use crate::engine::Engine;
use crate::error::{Error, Result};

#[cfg(feature = "validate")]
/// The feature set of component model 0.2 over the core features wasmi runs.
pub(crate) fn features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SATURATING_FLOAT_TO_INT
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::REFERENCE_TYPES
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::FLOATS
        | WasmFeatures::GC_TYPES
        | WasmFeatures::COMPONENT_MODEL
        | if cfg!(feature = "async") {
            // Types, function types and built-ins of component-model async,
            // the stackful form and the sync and `async` variants of the
            // built-ins; what is not implemented yet is refused while
            // loading, with an `unsupported` error naming it (see
            // `crate::concurrent`).
            WasmFeatures::CM_ASYNC
                | WasmFeatures::CM_ASYNC_STACKFUL
                | WasmFeatures::CM_MORE_ASYNC_BUILTINS
                | WasmFeatures::CM_ERROR_CONTEXT
        } else {
            WasmFeatures::empty()
        }
        | if cfg!(feature = "memory64") {
            WasmFeatures::MEMORY64
        } else {
            WasmFeatures::empty()
        }
}

#[cfg(feature = "validate")]
/// The error for `bytes` the validator rejected with `e`: unsupported if
/// they are valid with every feature on (they use a feature we do not
/// run), else `e`.
pub(super) fn invalid(bytes: &[u8], e: Error) -> Error {
    let mut all = Validator::new_with_features(WasmFeatures::all());
    if all.validate_all(bytes).is_ok() {
        Error::unsupported(format!(
            "{} (a feature beyond component model 0.2 or beyond what wasmi runs)",
            e.message()
        ))
    } else {
        e
    }
}

#[cfg(feature = "validate")]
/// Compiles the core modules of a binary that has been validated whole.
pub(super) fn compile_modules(
    engine: &Engine,
    bytes: &[u8],
    ranges: &[core::ops::Range<usize>],
) -> Result<Vec<wasmi::Module>> {
    let mut modules = Vec::with_capacity(ranges.len());
    for range in ranges {
        let module_bytes = bytes
            .get(range.clone())
            .ok_or_else(|| Error::load(range.start, "module section out of range"))?;
        // SAFETY: the whole binary, this module's bodies included, was
        // validated with `features()` by our caller.
        modules.push(unsafe { compile_validated(engine, module_bytes) }?);
    }
    Ok(modules)
}

#[cfg(feature = "validate")]
/// Validates and compiles a standalone core module.
pub(crate) fn compile_core_module(engine: &Engine, bytes: &[u8]) -> Result<wasmi::Module> {
    if !Parser::is_core_wasm(bytes) {
        return Err(Error::load(0, "expected a core module"));
    }
    if let Err(e) = Validator::new_with_features(features()).validate_all(bytes) {
        return Err(invalid(bytes, load_err(e)));
    }
    // SAFETY: validated just above with `features()`.
    unsafe { compile_validated(engine, bytes) }
}

/// Compiles a core module the validator has accepted with `features()`.
///
/// # Safety
///
/// `module_bytes` must be a module wasmparser's validator accepted, all its
/// function bodies included, with `features()` (here or, for an image,
/// where the image was made).
pub(crate) unsafe fn compile_validated(
    engine: &Engine,
    module_bytes: &[u8],
) -> Result<wasmi::Module> {
    // SAFETY: `wasmi::Module::new_unchecked` requires a valid module
    // under the features and limits of the engine's wasmi config. Every
    // caller guarantees the validator accepted this module, all its function
    // bodies included, with `features()`: the proposals wasmi's default
    // config enables, no more (checked proposal by proposal by the test
    // `validator_features_are_wasmi_features`); the engine sets no wasmi
    // enforced limits. Validating once, here, instead of again in wasmi
    // takes wasmi's validator out of the binary (-100 KB of flash on the
    // Cortex-M4 firmware) and halves validation work.
    unsafe { wasmi::Module::new_unchecked(&engine.inner, module_bytes) }
        .map_err(|e| Error::unsupported(format!("core module rejected by wasmi: {e}")))
}
