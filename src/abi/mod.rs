//! The canonical ABI: layouts, lifting and lowering of values, strings.
//!
//! Nothing here knows about linkers or instances: the engine works over the
//! [`GuestMemory`] trait, which the call paths implement over wasmi.

pub(crate) mod layout;
pub(crate) mod lift;
pub(crate) mod lower;
pub(crate) mod string;

use crate::error::Result;

/// `MAX_FLAT_PARAMS` of the canonical ABI.
pub(crate) const MAX_FLAT_PARAMS: usize = 16;
/// `MAX_FLAT_RESULTS` of the canonical ABI (sync functions).
pub(crate) const MAX_FLAT_RESULTS: usize = 1;
/// `MAX_STRING_BYTE_LENGTH` and `MAX_LIST_BYTE_LENGTH`.
pub(crate) const MAX_BYTE_LENGTH: u32 = (1 << 28) - 1;
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
}
