//! The canonical ABI: layouts, lifting and lowering of values, strings.
//!
//! Nothing here knows about linkers or instances: the engine works over the
//! [`GuestMemory`] trait, which the call paths implement over wasmi.

pub(crate) mod budget;
#[cfg(feature = "async")]
pub(crate) mod flat_mem;
// Layouts belong to the types; the ABI code names them as its own.
pub(crate) use crate::types::layout;
pub(crate) mod lift;
pub(crate) mod lower;
pub(crate) mod string;
pub(crate) mod transfer;

use crate::error::{Error, Result, TrapKind};
use crate::resources::ResourceAny;

fn no_resources() -> Error {
    Error::trap(TrapKind::Other, "internal: no resource context")
}

/// `MAX_FLAT_PARAMS` of the canonical ABI.
pub(crate) const MAX_FLAT_PARAMS: usize = 16;
/// `MAX_FLAT_RESULTS` of the canonical ABI (sync functions).
pub(crate) const MAX_FLAT_RESULTS: usize = 1;
/// `MAX_STRING_BYTE_LENGTH` and `MAX_LIST_BYTE_LENGTH`.
pub(crate) const MAX_BYTE_LENGTH: u32 = (1 << 28) - 1;
/// Fuel charged per realloc call (besides what realloc's code consumes).
pub(crate) const FUEL_PER_REALLOC: u64 = 8;
/// Fuel charged per `resource.new` (a handle-table entry).
pub(crate) const FUEL_PER_HANDLE: u64 = 8;
/// Fuel charged per step of an instantiation (an instance, alias, lift,
/// lower, resource definition … of the component's init program).
pub(crate) const FUEL_PER_INIT_STEP: u64 = 1;
/// Fuel charged per host call or component-to-component call.
pub(crate) const FUEL_PER_CALL: u64 = 16;

/// Fuel for moving `bytes` bytes of a string or list: 1 per 8 bytes.
pub(crate) fn fuel_for_bytes(bytes: u64) -> u64 {
    bytes.div_ceil(8)
}

/// The high bit of a `latin1+utf16` length marks UTF-16.
pub(crate) const UTF16_TAG: u32 = 1 << 31;

/// The `string-encoding` canonical option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StringEncoding {
    /// `string-encoding=utf8` (the default).
    #[default]
    Utf8,
    /// `string-encoding=utf16`.
    Utf16,
    /// `string-encoding=latin1+utf16`.
    CompactUtf16,
}

/// The linear memory and `realloc` of the component instance on the other
/// side of a lift or lower.
pub(crate) trait GuestMemory {
    /// The whole linear memory.
    fn bytes(&self) -> &[u8];
    /// The whole linear memory, writable.
    fn bytes_mut(&mut self) -> &mut [u8];
    /// Calls the canonical `realloc(old_ptr, old_size, align, new_size)`.
    /// Fails with a trap if there is no `realloc` option or the call traps.
    /// Does not check the returned pointer: callers check alignment and
    /// bounds as the spec says at each call site.
    fn realloc(&mut self, old_ptr: u32, old_size: u32, align: u32, new_size: u32) -> Result<u32>;

    /// Charges `units` of fuel for the component layer's own work; traps
    /// with [`TrapKind::OutOfFuel`] when there is not enough.
    fn charge(&mut self, units: u64) -> Result<()> {
        let _ = units;
        Ok(())
    }

    /// The most bytes one string or list may have when lifted.
    fn max_lift_bytes(&self) -> u32 {
        MAX_BYTE_LENGTH
    }

    /// Takes `bytes` from the host-memory budget of the values lifted for
    /// this call; traps with [`TrapKind::LimitExceeded`] past it.
    fn host_alloc(&mut self, bytes: u64) -> Result<()> {
        let _ = bytes;
        Ok(())
    }

    /// `lift_own`: takes handle `i` of static resource type `r` out of the
    /// instance's table and gives it to the host.
    fn lift_own(&mut self, r: u32, i: u32) -> Result<ResourceAny> {
        let _ = (r, i);
        Err(no_resources())
    }

    /// `lift_borrow`: lends handle `i` of static resource type `r` for the
    /// duration of the call.
    fn lift_borrow(&mut self, r: u32, i: u32) -> Result<ResourceAny> {
        let _ = (r, i);
        Err(no_resources())
    }

    /// `lower_own`: moves the host's owned handle `v` into the instance's table.
    fn lower_own(&mut self, r: u32, v: &ResourceAny) -> Result<u32> {
        let _ = (r, v);
        Err(no_resources())
    }

    /// `lower_borrow`: lends the host's handle `v` to the callee for the call.
    fn lower_borrow(&mut self, r: u32, v: &ResourceAny) -> Result<u32> {
        let _ = (r, v);
        Err(no_resources())
    }

    /// Lowers the host resource `rep` of Rust type `id` (owned or not) as
    /// an `own` (or, if `borrow`, a `borrow`) of static resource type `r`.
    fn lower_host(
        &mut self,
        r: u32,
        borrow: bool,
        id: core::any::TypeId,
        rep: u32,
        own: bool,
    ) -> Result<u32> {
        let _ = (r, borrow, id, rep, own);
        Err(no_resources())
    }

    /// Lifts handle `h`, a stream, future or error-context of type `ty`, to
    /// the host (feature `async`).
    #[cfg(feature = "async")]
    fn lift_async(
        &mut self,
        arena: &crate::types::TypeArena,
        ty: crate::types::ValType,
        h: u32,
    ) -> Result<crate::Val> {
        let _ = (arena, ty, h);
        Err(no_resources())
    }

    /// Lowers the host's stream, future or error-context `v` as type `ty`
    /// (feature `async`).
    #[cfg(feature = "async")]
    fn lower_async(
        &mut self,
        arena: &crate::types::TypeArena,
        ty: crate::types::ValType,
        v: &crate::Val,
    ) -> Result<u32> {
        let _ = (arena, ty, v);
        Err(no_resources())
    }
}

/// No memory at all: what lifting and lowering values without strings,
/// lists or handles (scalars) need. Anything else fails.
pub(crate) struct NoMemory;

impl GuestMemory for NoMemory {
    fn bytes(&self) -> &[u8] {
        &[]
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut []
    }

    fn realloc(&mut self, _: u32, _: u32, _: u32, _: u32) -> Result<u32> {
        Err(Error::trap(
            TrapKind::Other,
            "internal: realloc for a scalar value",
        ))
    }
}
