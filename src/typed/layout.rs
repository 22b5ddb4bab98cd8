//! Layout arithmetic at compile time, and the field/case helpers that
//! records, tuples, variants and the derives are built from.

use super::traits::{internal, Lift, LiftContext, Lower, LowerContext};
use crate::error::Result;

/// `align_to(offset, align)` of the canonical ABI.
pub const fn align_to(offset: u32, align: u32) -> u32 {
    offset.div_ceil(align) * align
}

/// The larger of two `u32`s, in const context.
pub const fn max_u32(a: u32, b: u32) -> u32 {
    if a > b {
        a
    } else {
        b
    }
}

/// The larger of two `usize`s, in const context.
pub const fn max_usize(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

/// The largest of `xs` (0 if empty).
pub const fn max_size(xs: &[u32]) -> u32 {
    let mut m = 0;
    let mut i = 0;
    while i < xs.len() {
        m = max_u32(m, xs[i]);
        i += 1;
    }
    m
}

/// The largest alignment of `xs` (1 if empty).
pub const fn max_align(xs: &[u32]) -> u32 {
    max_u32(1, max_size(xs))
}

/// The size of a record of fields `(size, align)`.
pub const fn record_size(fields: &[(u32, u32)]) -> u32 {
    let mut size = 0;
    let mut i = 0;
    while i < fields.len() {
        size = align_to(size, fields[i].1) + fields[i].0;
        i += 1;
    }
    align_to(size, record_align(fields))
}

/// The alignment of a record of fields `(size, align)`.
pub const fn record_align(fields: &[(u32, u32)]) -> u32 {
    let mut align = 1;
    let mut i = 0;
    while i < fields.len() {
        align = max_u32(align, fields[i].1);
        i += 1;
    }
    align
}

/// Bytes of the discriminant of a variant of `n` cases.
pub const fn discriminant_size(n: usize) -> u32 {
    if n <= 1 << 8 {
        1
    } else if n <= 1 << 16 {
        2
    } else {
        4
    }
}

/// Offset of the payload of a variant of `n` cases whose payloads have
/// the largest alignment `payload_align`.
pub const fn variant_payload_offset(n: usize, payload_align: u32) -> u32 {
    align_to(discriminant_size(n), payload_align)
}

/// Alignment of a variant of `n` cases.
pub const fn variant_align(n: usize, payload_align: u32) -> u32 {
    max_u32(discriminant_size(n), payload_align)
}

/// Size of a variant of `n` cases with the largest payload `payload_size`.
pub const fn variant_size(n: usize, payload_size: u32, payload_align: u32) -> u32 {
    align_to(
        variant_payload_offset(n, payload_align) + payload_size,
        variant_align(n, payload_align),
    )
}

/// Bytes of a flags value of `n` flags.
pub const fn flags_size(n: usize) -> u32 {
    if n <= 8 {
        1
    } else if n <= 16 {
        2
    } else {
        4
    }
}

/// Lowers the next field `v` into `dst[*pos..]`, advancing `pos`.
#[inline]
pub fn lower_field<F: Lower + ?Sized>(
    v: &F,
    cx: &mut LowerContext<'_>,
    dst: &mut [u64],
    pos: &mut usize,
) -> Result<()> {
    let slots = dst.get_mut(*pos..*pos + F::FLAT).ok_or_else(internal)?;
    v.lower_flat(cx, slots)?;
    *pos += F::FLAT;
    Ok(())
}

/// Stores the next field `v` of a record at `ptr`, `*off` being the end of
/// the previous field; advances `off`.
#[inline]
pub fn store_field<F: Lower + ?Sized>(
    v: &F,
    cx: &mut LowerContext<'_>,
    ptr: u32,
    off: &mut u32,
) -> Result<()> {
    let at = align_to(*off, F::ALIGN32);
    v.store(cx, ptr.wrapping_add(at))?;
    *off = at + F::SIZE32;
    Ok(())
}

/// Lifts the next field from `src[*pos..]`, advancing `pos`.
#[inline]
pub fn lift_field<F: Lift>(cx: &mut LiftContext<'_>, src: &[u64], pos: &mut usize) -> Result<F> {
    let slots = src.get(*pos..*pos + F::FLAT).ok_or_else(internal)?;
    *pos += F::FLAT;
    F::lift_flat(cx, slots)
}

/// Loads the next field of a record from `bytes`, `*off` being the end of
/// the previous field; advances `off`.
#[inline]
pub fn load_field<F: Lift>(cx: &mut LiftContext<'_>, bytes: &[u8], off: &mut u32) -> Result<F> {
    let at = align_to(*off, F::ALIGN32);
    let end = at + F::SIZE32;
    let field = bytes.get(at as usize..end as usize).ok_or_else(internal)?;
    *off = end;
    F::load(cx, field)
}

/// Lowers a variant case: discriminant `case` into `dst[0]`, the payload
/// (if any) after it, zeros in the joined slots it does not use.
#[inline]
pub fn lower_case<P: Lower + ?Sized>(
    cx: &mut LowerContext<'_>,
    dst: &mut [u64],
    case: u32,
    payload: Option<&P>,
) -> Result<()> {
    let (disc, rest) = dst.split_first_mut().ok_or_else(internal)?;
    *disc = u64::from(case);
    let used = match payload {
        Some(p) => {
            let slots = rest.get_mut(..P::FLAT).ok_or_else(internal)?;
            p.lower_flat(cx, slots)?;
            P::FLAT
        }
        None => 0,
    };
    for slot in rest.iter_mut().skip(used) {
        *slot = 0;
    }
    Ok(())
}

/// Stores a variant case of a type of `n` cases at `ptr`: the
/// discriminant, then the payload (if any) at `payload_offset`.
#[inline]
pub fn store_case<P: Lower + ?Sized>(
    cx: &mut LowerContext<'_>,
    ptr: u32,
    n: usize,
    payload_offset: u32,
    case: u32,
    payload: Option<&P>,
) -> Result<()> {
    write_uint(cx, ptr, discriminant_size(n), case)?;
    if let Some(p) = payload {
        p.store(cx, ptr.wrapping_add(payload_offset))?;
    }
    Ok(())
}

/// Writes a discriminant or flags value of `size` bytes.
fn write_uint(cx: &mut LowerContext<'_>, ptr: u32, size: u32, v: u32) -> Result<()> {
    match size {
        1 => cx.write(ptr, &[v as u8]),
        2 => cx.write(ptr, &(v as u16).to_le_bytes()),
        _ => cx.write(ptr, &v.to_le_bytes()),
    }
}

/// Stores flags `bits` of `n` flags at `ptr`.
pub fn write_flags(cx: &mut LowerContext<'_>, ptr: u32, n: usize, bits: u32) -> Result<()> {
    write_uint(cx, ptr, flags_size(n), bits)
}

/// Reads a discriminant (or flags) of `size` bytes from the start of `bytes`.
#[inline]
pub fn read_discriminant(bytes: &[u8], size: u32) -> Result<u32> {
    Ok(match size {
        1 => u32::from(*bytes.first().ok_or_else(internal)?),
        2 => u32::from(u16::from_le_bytes(le(bytes)?)),
        _ => u32::from_le_bytes(le(bytes)?),
    })
}

/// The first `N` bytes of `bytes`.
#[inline]
pub(crate) fn le<const N: usize>(bytes: &[u8]) -> Result<[u8; N]> {
    bytes
        .get(..N)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(internal)
}

/// Lifts a case payload from the joined slots after the discriminant.
#[inline]
pub fn lift_payload<P: Lift>(cx: &mut LiftContext<'_>, src: &[u64]) -> Result<P> {
    let slots = src.get(1..1 + P::FLAT).ok_or_else(internal)?;
    P::lift_flat(cx, slots)
}

/// Loads a case payload at `payload_offset` of a variant's bytes.
#[inline]
pub fn load_payload<P: Lift>(
    cx: &mut LiftContext<'_>,
    bytes: &[u8],
    payload_offset: u32,
) -> Result<P> {
    let start = payload_offset as usize;
    let b = bytes
        .get(start..start + P::SIZE32 as usize)
        .ok_or_else(internal)?;
    P::load(cx, b)
}

/// The discriminant in `src[0]`, as lifted: only the low 32 bits count.
#[inline]
pub(crate) fn flat_discriminant(src: &[u64]) -> Result<u32> {
    Ok(*src.first().ok_or_else(internal)? as u32)
}

/// Checks a lifted `bool`-like discriminant etc. against the case count.
#[inline]
pub(crate) fn check_case(disc: u32, n: usize) -> Result<()> {
    if disc as usize >= n {
        return Err(super::typecheck::bad_discriminant(disc, n));
    }
    Ok(())
}

/// The discriminant of a variant of `n` cases in `src[0]`, checked.
#[inline]
pub fn lift_discriminant(src: &[u64], n: usize) -> Result<u32> {
    let disc = flat_discriminant(src)?;
    check_case(disc, n)?;
    Ok(disc)
}

/// The discriminant of a variant of `n` cases at the start of `bytes`, checked.
#[inline]
pub fn load_discriminant(bytes: &[u8], n: usize) -> Result<u32> {
    let disc = read_discriminant(bytes, discriminant_size(n))?;
    check_case(disc, n)?;
    Ok(disc)
}

/// Lowers flags `bits` into their one flat slot.
#[inline]
pub fn lower_flags(dst: &mut [u64], bits: u32) -> Result<()> {
    *dst.first_mut().ok_or_else(internal)? = u64::from(bits);
    Ok(())
}

/// The mask of the bits of `n` flags.
const fn flags_mask(n: usize) -> u32 {
    if n >= 32 {
        u32::MAX
    } else {
        (1 << n) - 1
    }
}

/// Lifts `n` flags from their flat slot; bits beyond `n` are ignored.
#[inline]
pub fn lift_flags(src: &[u64], n: usize) -> Result<u32> {
    Ok(flat_discriminant(src)? & flags_mask(n))
}

/// Loads `n` flags from `bytes`; bits beyond `n` are ignored.
#[inline]
pub fn load_flags(bytes: &[u8], n: usize) -> Result<u32> {
    Ok(read_discriminant(bytes, flags_size(n))? & flags_mask(n))
}
