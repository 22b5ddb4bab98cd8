//! Lists: `Vec<T>` and `Box<[T]>` both ways, `[T]` (so `&[T]`) lowered.
//! One `realloc` per list; elements of scalar type move in bulk.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;

use super::strings::{put_ptr_len, read_flat_ptr_len, read_ptr_len, store_ptr_len};
use super::traits::{ComponentType, Lift, LiftContext, Lower, LowerContext, TypeRef};
use super::typecheck::{def, mismatch, within};
use crate::abi::MAX_BYTE_LENGTH;
use crate::error::{Error, Result, TrapKind};
use crate::types::DefType;

/// Checks that `ty` is `list<E>`.
fn typecheck_list<R: ?Sized, E: ComponentType>(ty: &TypeRef<'_>) -> Result<()> {
    match def(ty) {
        Some(DefType::List(elem)) => {
            E::typecheck(&ty.at(*elem)).map_err(|e| within(e, "list element"))
        }
        _ => Err(mismatch::<R>(ty)),
    }
}

/// `store_list_into_range` after `realloc`: returns `(ptr, len)`.
fn lower_list<T: Lower>(items: &[T], cx: &mut LowerContext<'_>) -> Result<(u32, u32)> {
    let byte_len = items.len() as u64 * u64::from(T::SIZE32);
    if byte_len > u64::from(u32::MAX) {
        return Err(Error::trap(
            TrapKind::LengthTooLarge,
            format!("list of {byte_len} bytes does not fit in 32-bit memory"),
        ));
    }
    cx.charge_bytes(byte_len)?;
    let ptr = cx.allocate(T::ALIGN32, byte_len as u32)?;
    T::store_list(items, cx, ptr)?;
    Ok((ptr, items.len() as u32))
}

/// `load_list_from_range`.
fn lift_list<T: Lift>(cx: &mut LiftContext<'_>, ptr: u32, len: u32) -> Result<Vec<T>> {
    let byte_len = u64::from(len) * u64::from(T::SIZE32);
    // Past the spec's limit the list traps below, whatever it would take.
    let host_bytes = if byte_len > u64::from(MAX_BYTE_LENGTH) {
        0
    } else {
        u64::from(len) * core::mem::size_of::<T>() as u64
    };
    cx.account(byte_len, host_bytes)?;
    if byte_len > u64::from(MAX_BYTE_LENGTH) {
        return Err(Error::trap(
            TrapKind::LengthTooLarge,
            format!("list of {byte_len} bytes is longer than 2^28-1"),
        ));
    }
    let bytes = cx.slice(ptr, byte_len, T::ALIGN32)?;
    T::load_list(cx, bytes)
}

macro_rules! list_type {
    ($($t:ty),*) => {$(
        impl<T: ComponentType> ComponentType for $t {
            const SIZE32: u32 = 8;
            const ALIGN32: u32 = 4;
            const FLAT: usize = 2;
            type Core = super::core::NotScalar;
            const RESOURCES: usize = T::RESOURCES;

            fn typecheck(ty: &TypeRef<'_>) -> Result<()> {
                typecheck_list::<Self, T>(ty)
            }
        }
    )*};
}
list_type!([T], Vec<T>, Box<[T]>);

impl<T: Lower> Lower for [T] {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, dst: &mut [u64]) -> Result<()> {
        let (ptr, len) = lower_list(self, cx)?;
        put_ptr_len(dst, ptr, len)
    }

    fn store(&self, cx: &mut LowerContext<'_>, at: u32) -> Result<()> {
        let (ptr, len) = lower_list(self, cx)?;
        store_ptr_len(cx, at, ptr, len)
    }
}

macro_rules! owned_list {
    ($($t:ty => $from_vec:expr),*) => {$(
        impl<T: Lower> Lower for $t {
            fn lower_flat(&self, cx: &mut LowerContext<'_>, dst: &mut [u64]) -> Result<()> {
                (**self).lower_flat(cx, dst)
            }

            fn store(&self, cx: &mut LowerContext<'_>, at: u32) -> Result<()> {
                (**self).store(cx, at)
            }
        }

        impl<T: Lift> Lift for $t {
            fn lift_flat(cx: &mut LiftContext<'_>, src: &[u64]) -> Result<Self> {
                let (ptr, len) = read_flat_ptr_len(src)?;
                lift_list(cx, ptr, len).map($from_vec)
            }

            fn load(cx: &mut LiftContext<'_>, bytes: &[u8]) -> Result<Self> {
                let (ptr, len) = read_ptr_len(bytes)?;
                lift_list(cx, ptr, len).map($from_vec)
            }
        }
    )*};
}
owned_list!(Vec<T> => |v| v, Box<[T]> => Vec::into_boxed_slice);
