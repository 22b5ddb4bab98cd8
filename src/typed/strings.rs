//! Strings: `String` and `Box<str>` both ways, `str` (so `&str`) lowered.
//! One `realloc` and one copy each way for UTF-8 guests; other encodings
//! transcode as the spec says.

use alloc::boxed::Box;
use alloc::string::String;

use super::layout::le;
use super::traits::{internal, ComponentType, Lift, LiftContext, Lower, LowerContext, TypeRef};
use super::typecheck::prim;
use crate::abi::string::{load_string, store_string};
use crate::abi::{GuestMemory, StringEncoding, UTF16_TAG};
use crate::error::{Error, Result, TrapKind};
use crate::types::ValType;

/// Guest memory that can only be read: what lifting gets.
pub(super) struct ReadOnly<'a>(pub(super) &'a [u8]);

impl GuestMemory for ReadOnly<'_> {
    fn bytes(&self) -> &[u8] {
        self.0
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut []
    }

    fn realloc(&mut self, _: u32, _: u32, _: u32, _: u32) -> Result<u32> {
        Err(Error::trap(
            TrapKind::Other,
            "internal: realloc while lifting",
        ))
    }
}

/// Lifts the string at `ptr` of `len` (tagged) code units.
fn lift_string(cx: &mut LiftContext<'_>, ptr: u32, len: u32) -> Result<String> {
    let bytes = match cx.enc {
        StringEncoding::Utf8 => u64::from(len),
        StringEncoding::Utf16 => 2 * u64::from(len),
        StringEncoding::CompactUtf16 if len & UTF16_TAG != 0 => 2 * u64::from(len ^ UTF16_TAG),
        StringEncoding::CompactUtf16 => u64::from(len),
    };
    let latin1 = cx.enc == StringEncoding::CompactUtf16 && len & UTF16_TAG == 0;
    // The spec's traps come before any host limit's.
    crate::abi::string::check_string_range(&ReadOnly(cx.memory), cx.enc, ptr, len)?;
    cx.account(
        bytes,
        crate::abi::budget::string_host_bytes(cx.enc, latin1, bytes),
    )?;
    load_string(&ReadOnly(cx.memory), cx.enc, ptr, len)
}

/// The `(ptr, len)` pair at the start of `bytes`.
pub(crate) fn read_ptr_len(bytes: &[u8]) -> Result<(u32, u32)> {
    let ptr = u32::from_le_bytes(le(bytes)?);
    let len = u32::from_le_bytes(le(bytes.get(4..).ok_or_else(internal)?)?);
    Ok((ptr, len))
}

/// The `(ptr, len)` pair in the first two flat slots.
pub(crate) fn read_flat_ptr_len(src: &[u64]) -> Result<(u32, u32)> {
    match src {
        [ptr, len, ..] => Ok((*ptr as u32, *len as u32)),
        _ => Err(internal()),
    }
}

/// Writes `(ptr, len)` into the first two flat slots.
pub(crate) fn put_ptr_len(dst: &mut [u64], ptr: u32, len: u32) -> Result<()> {
    match dst {
        [p, l, ..] => {
            *p = u64::from(ptr);
            *l = u64::from(len);
            Ok(())
        }
        _ => Err(internal()),
    }
}

/// Writes `(ptr, len)` to guest memory at `at`.
pub(crate) fn store_ptr_len(cx: &mut LowerContext<'_>, at: u32, ptr: u32, len: u32) -> Result<()> {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&ptr.to_le_bytes());
    b[4..].copy_from_slice(&len.to_le_bytes());
    cx.write(at, &b)
}

macro_rules! string_type {
    ($($t:ty),*) => {$(
        impl ComponentType for $t {
            const SIZE32: u32 = 8;
            const ALIGN32: u32 = 4;
            const FLAT: usize = 2;
            type Core = super::core::NotScalar;

            fn typecheck(ty: &TypeRef<'_>) -> Result<()> {
                prim::<Self>(ty, ValType::String)
            }
        }
    )*};
}
string_type!(str, String, Box<str>);

impl Lower for str {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, dst: &mut [u64]) -> Result<()> {
        cx.charge_bytes(self.len() as u64)?;
        let (ptr, len) = store_string(cx.mem, cx.enc, self)?;
        put_ptr_len(dst, ptr, len)
    }

    fn store(&self, cx: &mut LowerContext<'_>, at: u32) -> Result<()> {
        cx.charge_bytes(self.len() as u64)?;
        let (ptr, len) = store_string(cx.mem, cx.enc, self)?;
        store_ptr_len(cx, at, ptr, len)
    }
}

impl Lower for String {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, dst: &mut [u64]) -> Result<()> {
        self.as_str().lower_flat(cx, dst)
    }

    fn store(&self, cx: &mut LowerContext<'_>, at: u32) -> Result<()> {
        self.as_str().store(cx, at)
    }
}

impl Lower for Box<str> {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, dst: &mut [u64]) -> Result<()> {
        (**self).lower_flat(cx, dst)
    }

    fn store(&self, cx: &mut LowerContext<'_>, at: u32) -> Result<()> {
        (**self).store(cx, at)
    }
}

impl Lift for String {
    fn lift_flat(cx: &mut LiftContext<'_>, src: &[u64]) -> Result<Self> {
        let (ptr, len) = read_flat_ptr_len(src)?;
        lift_string(cx, ptr, len)
    }

    fn load(cx: &mut LiftContext<'_>, bytes: &[u8]) -> Result<Self> {
        let (ptr, len) = read_ptr_len(bytes)?;
        lift_string(cx, ptr, len)
    }
}

impl Lift for Box<str> {
    fn lift_flat(cx: &mut LiftContext<'_>, src: &[u64]) -> Result<Self> {
        String::lift_flat(cx, src).map(String::into_boxed_str)
    }

    fn load(cx: &mut LiftContext<'_>, bytes: &[u8]) -> Result<Self> {
        String::load(cx, bytes).map(String::into_boxed_str)
    }
}
