//! What lifting may allocate on the host: a per-call budget of host bytes
//! (values the host receives are built in host memory, often much larger
//! than the guest memory they come from) and fallible allocation, so that
//! a hostile guest's values end in a trap, never in an aborted process.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, Result, TrapKind};

/// The host bytes the values lifted for one call may still take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HostBudget {
    /// The limit the budget started from (for the message).
    limit: u64,
    left: u64,
}

impl HostBudget {
    /// A budget of `limit` bytes.
    pub(crate) fn new(limit: u64) -> Self {
        HostBudget { limit, left: limit }
    }

    /// Takes `bytes` from the budget: traps with `LimitExceeded` when the
    /// lifted values would take more.
    #[inline]
    pub(crate) fn take(&mut self, bytes: u64) -> Result<()> {
        match self.left.checked_sub(bytes) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(over_budget(self.limit, bytes)),
        }
    }
}

#[cold]
fn over_budget(limit: u64, bytes: u64) -> Error {
    Error::trap(
        TrapKind::LimitExceeded,
        alloc::format!(
            "the values lifted for one call would take more host memory than the \
             max_lifted_bytes_per_call limit of {limit} bytes (or what is left of the store's \
             store_bytes budget) ({bytes} more bytes asked)"
        ),
    )
}

/// The host bytes of the UTF-8 string decoded from a guest string of
/// `guest_bytes` bytes in `enc` (an upper bound).
/// Zero past the spec's length limit, which traps first (`LengthTooLarge`).
pub(crate) fn string_host_bytes(enc: super::StringEncoding, latin1: bool, guest_bytes: u64) -> u64 {
    if guest_bytes > u64::from(super::MAX_BYTE_LENGTH) {
        return 0;
    }
    match enc {
        super::StringEncoding::Utf8 => guest_bytes,
        // A UTF-16 code unit (2 bytes) is at most 3 bytes of UTF-8.
        _ if !latin1 => guest_bytes.div_ceil(2) * 3,
        // A Latin-1 byte is at most 2 bytes of UTF-8.
        _ => guest_bytes * 2,
    }
}

/// The host refused an allocation (the budget allowed it).
#[cold]
pub(crate) fn host_oom(bytes: usize) -> Error {
    Error::trap(
        TrapKind::LimitExceeded,
        alloc::format!("the host could not allocate {bytes} bytes for a lifted value"),
    )
}

/// An empty `Vec` with room for `n` elements, or a trap if the host cannot
/// allocate it.
#[inline]
pub(crate) fn try_vec<T>(n: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| host_oom(n.saturating_mul(core::mem::size_of::<T>())))?;
    Ok(v)
}

/// Reserves room for `n` more bytes in `s`, or traps.
#[inline]
pub(crate) fn try_reserve_str(s: &mut String, n: usize) -> Result<()> {
    s.try_reserve(n).map_err(|_| host_oom(n))
}
