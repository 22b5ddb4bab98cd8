//! Error contexts (CanonicalABI.md, `error-context.new`,
//! `error-context.debug-message`, `error-context.drop`, and the lifting and
//! lowering of `error-context` values).
//!
//! An error context is immutable: passing one to another instance adds a
//! handle to the same value there (the source keeps its handle). The
//! value lives in the store's slab [`AsyncState::error_contexts`] with a
//! count of the handles to it; each instance's handle table holds entries
//! of kind [`KIND_ERROR_CONTEXT`].

use alloc::string::String;

use super::state::AsyncState;
use crate::abi::GuestMemory;
use crate::error::{Error, Result, TrapKind};
use crate::func::Options;
use crate::store::StoreData;
use crate::wasmi_mem::WasmiMem;

/// The `rt` of a handle-table entry that is an error context (its `rep` is
/// the index in [`AsyncState::error_contexts`]).
pub(crate) const KIND_ERROR_CONTEXT: u32 = u32::MAX - 2;

/// An error context: its debug message and how many handles refer to it.
pub(crate) struct ErrorContext {
    message: String,
    refs: u32,
}

const WHAT: &str = "an error context";

impl AsyncState {
    fn error_context(&mut self, e: u32) -> Result<&mut ErrorContext> {
        self.error_contexts
            .get_mut(e)
            .map_err(|_| super::waitable::internal("error context"))
    }
}

/// `error-context.new`: lifts the debug message (a string at `ptr` of
/// `units` tagged code units) and adds a new error context to `inst`'s
/// table. The `deterministic` build discards the message without reading
/// it, as the spec's deterministic profile does.
pub(crate) fn new<T: 'static>(
    caller: &mut wasmi::Caller<'_, StoreData<T>>,
    inst: u32,
    opts: Options,
    ptr: u32,
    units: u32,
) -> Result<u32> {
    let message = if cfg!(feature = "deterministic") {
        String::new()
    } else {
        let mem = WasmiMem::new(&mut *caller, &opts);
        let s = crate::abi::string::load_string(&mem, opts.encoding, ptr, units)?;
        crate::boundary::charge_fuel(caller, crate::abi::fuel_for_bytes(s.len() as u64))?;
        s
    };
    crate::boundary::charge_fuel(caller, crate::abi::FUEL_PER_HANDLE)?;
    let data = caller.data_mut();
    data.limiter.0.take_bytes(message.len() as u64)?;
    let state = data.async_state.get_or_insert_with(Default::default);
    let limiter = &mut data.limiter.0;
    let e = state.error_contexts.add_within(
        ErrorContext { message, refs: 1 },
        crate::resources::MAX_HANDLES,
        |bytes| limiter.take_bytes(bytes),
    )?;
    match data.add_async_handle(inst, KIND_ERROR_CONTEXT, e) {
        Ok(i) => Ok(i),
        Err(err) => {
            let _ = data.async_state().error_contexts.remove(e);
            Err(err)
        }
    }
}

/// `error-context.debug-message`: stores the message of error context
/// `i` as a string (allocated with `realloc`) and writes its pointer and
/// length at `ptr`.
pub(crate) fn debug_message<T: 'static>(
    caller: &mut wasmi::Caller<'_, StoreData<T>>,
    inst: u32,
    opts: Options,
    i: u32,
    ptr: u32,
) -> Result<()> {
    let data = caller.data_mut();
    let e = data.async_handle(inst, i, KIND_ERROR_CONTEXT, WHAT)?;
    // A copy: the realloc below may run guest code.
    let mut message = String::new();
    let m = &data.async_state().error_context(e)?.message;
    message
        .try_reserve(m.len())
        .map_err(|_| Error::trap(TrapKind::LimitExceeded, "the host could not copy a message"))?;
    message.push_str(m);
    let mut mem = WasmiMem::new(&mut *caller, &opts);
    let (p, n) = crate::abi::string::store_string(&mut mem, opts.encoding, &message)?;
    crate::abi::lift::check_align(ptr, 4)?;
    let bytes = mem.bytes_mut();
    crate::abi::lift::check_range(ptr, 8, bytes.len())?;
    crate::abi::lift::write_bytes(bytes, ptr, &p.to_le_bytes())?;
    crate::abi::lift::write_bytes(bytes, ptr.wrapping_add(4), &n.to_le_bytes())
}

/// `error-context.drop`: removes handle `i` of `inst`.
pub(crate) fn drop<T>(data: &mut StoreData<T>, inst: u32, i: u32) -> Result<()> {
    let e = data.remove_async_handle(inst, i, KIND_ERROR_CONTEXT, WHAT)?;
    release(data.async_state(), e)
}

/// Drops one reference to error context `e`.
pub(crate) fn release(state: &mut AsyncState, e: u32) -> Result<()> {
    let ec = state.error_context(e)?;
    ec.refs = ec.refs.saturating_sub(1);
    if ec.refs == 0 {
        let _ = state.error_contexts.remove(e);
    }
    Ok(())
}

/// Passes error context `h` of instance `from` to instance `to` (the
/// spec's `lift_error_context` then `lower_error_context`): `to` gets a
/// new handle to the same value, `from` keeps its own.
pub(crate) fn move_handle<T>(data: &mut StoreData<T>, from: u32, to: u32, h: u32) -> Result<u32> {
    let e = data.async_handle(from, h, KIND_ERROR_CONTEXT, WHAT)?;
    let ec = data.async_state().error_context(e)?;
    ec.refs = ec.refs.checked_add(1).ok_or_else(|| {
        Error::trap(
            TrapKind::TooManyHandles,
            "too many handles to an error context",
        )
    })?;
    match data.add_async_handle(to, KIND_ERROR_CONTEXT, e) {
        Ok(i) => Ok(i),
        Err(err) => {
            release(data.async_state(), e)?;
            Err(err)
        }
    }
}

/// One more reference to the error context behind handle `h` of `inst`
/// (the spec's `lift_error_context`, for the host): returns its index.
pub(crate) fn share<T>(data: &mut StoreData<T>, inst: u32, h: u32) -> Result<u32> {
    let e = data.async_handle(inst, h, KIND_ERROR_CONTEXT, WHAT)?;
    let ec = data.async_state().error_context(e)?;
    ec.refs = ec.refs.checked_add(1).ok_or_else(|| {
        Error::trap(
            TrapKind::TooManyHandles,
            "too many handles to an error context",
        )
    })?;
    Ok(e)
}

/// A new handle in `inst`'s table to error context `e` (the spec's
/// `lower_error_context`).
pub(crate) fn add_handle<T>(data: &mut StoreData<T>, inst: u32, e: u32) -> Result<u32> {
    let ec = data.async_state().error_context(e)?;
    ec.refs = ec.refs.checked_add(1).ok_or_else(|| {
        Error::trap(
            TrapKind::TooManyHandles,
            "too many handles to an error context",
        )
    })?;
    match data.add_async_handle(inst, KIND_ERROR_CONTEXT, e) {
        Ok(i) => Ok(i),
        Err(err) => {
            release(data.async_state(), e)?;
            Err(err)
        }
    }
}

/// A copy of error context `e`'s debug message.
pub(crate) fn message(state: &mut AsyncState, e: u32) -> Result<String> {
    let m = &state.error_context(e)?.message;
    let mut out = String::new();
    out.try_reserve(m.len())
        .map_err(|_| Error::trap(TrapKind::LimitExceeded, "the host could not copy a message"))?;
    out.push_str(m);
    Ok(out)
}
