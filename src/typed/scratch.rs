//! Host memory standing in for a guest's, to convert between typed Rust
//! values and [`Val`](crate::Val)s with the canonical ABI's own lowering
//! and lifting (a typed host function called with `Val`s; a typed call of
//! an `async` function, which runs through the `Val` path).

use alloc::vec::Vec;

use super::layout::align_to;
use crate::abi::{GuestMemory, MAX_BYTE_LENGTH};
use crate::error::{Error, Result, TrapKind};

/// Host memory standing in for a guest's: `realloc` bumps and grows it.
#[derive(Default)]
pub(crate) struct Scratch {
    pub bytes: Vec<u8>,
}

impl GuestMemory for Scratch {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    fn realloc(&mut self, old_ptr: u32, old_size: u32, align: u32, new_size: u32) -> Result<u32> {
        // Never hand out 0, and keep every block aligned.
        let ptr = align_to(self.bytes.len().max(8) as u32, align.max(1));
        let end = u64::from(ptr) + u64::from(new_size);
        if end > u64::from(MAX_BYTE_LENGTH) * 4 {
            return Err(Error::trap(
                TrapKind::LengthTooLarge,
                "values too large to convert between typed and dynamic values",
            ));
        }
        self.bytes.resize(end as usize, 0);
        let keep = old_size.min(new_size) as usize;
        if keep > 0 {
            let old = old_ptr as usize;
            self.bytes.copy_within(old..old + keep, ptr as usize);
        }
        Ok(ptr)
    }
}
