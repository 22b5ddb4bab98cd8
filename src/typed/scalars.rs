//! `bool`, the integers, `f32`/`f64` and `char`. Lists of them go to and
//! from guest memory in one pass over one slice (one `memcpy` for bytes).

use alloc::vec::Vec;

use super::layout::le;
use super::traits::{internal, ComponentType, Lift, LiftContext, Lower, LowerContext, TypeRef};
use super::typecheck::prim;
use crate::abi::lift::{canonicalize_f32, canonicalize_f64, to_char};
use crate::error::Result;
use crate::types::ValType;

/// The first flat value, or an internal error.
#[inline]
fn first(src: &[u64]) -> Result<u64> {
    src.first().copied().ok_or_else(internal)
}

/// Writes `v` into the one flat slot.
#[inline]
fn put(dst: &mut [u64], v: u64) -> Result<()> {
    *dst.first_mut().ok_or_else(internal)? = v;
    Ok(())
}

/// Implements the traits for a fixed-size little-endian scalar.
macro_rules! scalar {
    (
        $t:ty, $vt:ident, $core:ty, $n:literal,
        lift: |$b:ident| $lift:expr,
        lower: |$x:ident| $lower:expr,
        from_le: |$a:ident| $from_le:expr,
        to_le: |$y:ident| $to_le:expr $(,)?
    ) => {
        impl ComponentType for $t {
            const SIZE32: u32 = $n;
            const ALIGN32: u32 = $n;
            const FLAT: usize = 1;
            type Core = $core;

            fn typecheck(ty: &TypeRef<'_>) -> Result<()> {
                prim::<Self>(ty, ValType::$vt)
            }
        }

        impl Lift for $t {
            #[inline]
            fn lift_flat(_: &mut LiftContext<'_>, src: &[u64]) -> Result<Self> {
                let $b = first(src)?;
                $lift
            }

            #[inline]
            fn load(_: &mut LiftContext<'_>, bytes: &[u8]) -> Result<Self> {
                let $a: [u8; $n] = le(bytes)?;
                $from_le
            }

            fn load_list(_: &mut LiftContext<'_>, bytes: &[u8]) -> Result<Vec<Self>> {
                let mut out = crate::abi::budget::try_vec(bytes.len() / $n)?;
                for c in bytes.chunks_exact($n) {
                    let $a: [u8; $n] = le(c)?;
                    out.push($from_le?);
                }
                Ok(out)
            }
        }

        impl Lower for $t {
            #[inline]
            fn lower_flat(&self, _: &mut LowerContext<'_>, dst: &mut [u64]) -> Result<()> {
                let $x = *self;
                put(dst, $lower)
            }

            #[inline]
            fn store(&self, cx: &mut LowerContext<'_>, ptr: u32) -> Result<()> {
                let $y = *self;
                cx.write(ptr, &$to_le)
            }

            fn store_list(items: &[Self], cx: &mut LowerContext<'_>, ptr: u32) -> Result<()> {
                let dst = cx.slice_mut(ptr, items.len() as u64 * $n)?;
                for (d, &$y) in dst.chunks_exact_mut($n).zip(items) {
                    d.copy_from_slice(&$to_le);
                }
                Ok(())
            }
        }
    };
}

macro_rules! int {
    ($($t:ty, $vt:ident, $core:ty, $n:literal, |$b:ident| $lift:expr, |$x:ident| $lower:expr;)*) => {$(
        scalar!(
            $t, $vt, $core, $n,
            lift: |$b| Ok($lift),
            lower: |$x| $lower,
            from_le: |a| Ok(<$t>::from_le_bytes(a)),
            to_le: |y| y.to_le_bytes(),
        );
    )*};
}

int! {
    i8, S8, i32, 1, |b| b as u8 as i8, |x| u64::from(x as i32 as u32);
    i16, S16, i32, 2, |b| b as u16 as i16, |x| u64::from(x as i32 as u32);
    u16, U16, i32, 2, |b| b as u16, |x| u64::from(x);
    i32, S32, i32, 4, |b| b as u32 as i32, |x| u64::from(x as u32);
    u32, U32, i32, 4, |b| b as u32, |x| u64::from(x);
    i64, S64, i64, 8, |b| b as i64, |x| x as u64;
    u64, U64, i64, 8, |b| b, |x| x;
}

// `u8` separately: its lists are plain byte copies.
impl ComponentType for u8 {
    const SIZE32: u32 = 1;
    const ALIGN32: u32 = 1;
    const FLAT: usize = 1;
    type Core = i32;

    fn typecheck(ty: &TypeRef<'_>) -> Result<()> {
        prim::<Self>(ty, ValType::U8)
    }
}

impl Lift for u8 {
    #[inline]
    fn lift_flat(_: &mut LiftContext<'_>, src: &[u64]) -> Result<Self> {
        Ok(first(src)? as u8)
    }

    #[inline]
    fn load(_: &mut LiftContext<'_>, bytes: &[u8]) -> Result<Self> {
        bytes.first().copied().ok_or_else(internal)
    }

    fn load_list(_: &mut LiftContext<'_>, bytes: &[u8]) -> Result<Vec<Self>> {
        let mut out = crate::abi::budget::try_vec(bytes.len())?;
        out.extend_from_slice(bytes);
        Ok(out)
    }
}

impl Lower for u8 {
    #[inline]
    fn lower_flat(&self, _: &mut LowerContext<'_>, dst: &mut [u64]) -> Result<()> {
        put(dst, u64::from(*self))
    }

    #[inline]
    fn store(&self, cx: &mut LowerContext<'_>, ptr: u32) -> Result<()> {
        cx.write(ptr, &[*self])
    }

    fn store_list(items: &[Self], cx: &mut LowerContext<'_>, ptr: u32) -> Result<()> {
        cx.write(ptr, items)
    }
}

scalar!(
    bool, Bool, i32, 1,
    lift: |b| Ok(b as u32 != 0),
    lower: |x| u64::from(x),
    from_le: |a| Ok(a[0] != 0),
    to_le: |y| [u8::from(y)],
);

scalar!(
    char, Char, i32, 4,
    lift: |b| to_char(b as u32),
    lower: |x| u64::from(u32::from(x)),
    from_le: |a| to_char(u32::from_le_bytes(a)),
    to_le: |y| u32::from(y).to_le_bytes(),
);

// Floats: NaNs are canonicalized both ways (the deterministic profile).
scalar!(
    f32, F32, f32, 4,
    lift: |b| Ok(canonicalize_f32(b as u32)),
    lower: |x| u64::from(canonicalize_f32(x.to_bits()).to_bits()),
    from_le: |a| Ok(canonicalize_f32(u32::from_le_bytes(a))),
    to_le: |y| canonicalize_f32(y.to_bits()).to_bits().to_le_bytes(),
);

scalar!(
    f64, F64, f64, 8,
    lift: |b| Ok(canonicalize_f64(b)),
    lower: |x| canonicalize_f64(x.to_bits()).to_bits(),
    from_le: |a| Ok(canonicalize_f64(u64::from_le_bytes(a))),
    to_le: |y| canonicalize_f64(y.to_bits()).to_bits().to_le_bytes(),
);
