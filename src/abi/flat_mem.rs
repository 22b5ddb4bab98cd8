//! A value's flat form and its memory form, within one instance: loading
//! the flat values of a value stored in memory, and storing flat values as
//! a value in memory. The async ABI needs both: an `async`-lowered call
//! passes at most 4 flat parameters (else a pointer) to a callee that may
//! take 16, and always receives its result in memory.
//!
//! Values are moved as raw bits, unchanged: validation and normalization
//! happen in the transfer between the instances ([`super::transfer`]).
//! Flat values of variant payloads hold the case's bits zero-extended in
//! the joined slots, as the transfer keeps them.

use smallvec::SmallVec;

use super::layout::{align_to, cases_of, discriminant_size, flags_size};
use super::lift::{internal, read_array, write_bytes};
use crate::error::{Error, Result, TrapKind};
use crate::types::{DefType, TypeArena, ValType};

/// Flat values, as raw bits.
pub(crate) type Flat = SmallVec<[u64; 16]>;

fn read_uint(bytes: &[u8], ptr: u32, size: u32) -> Result<u64> {
    Ok(match size {
        1 => u64::from(read_array::<1>(bytes, ptr)?[0]),
        2 => u64::from(u16::from_le_bytes(read_array(bytes, ptr)?)),
        4 => u64::from(u32::from_le_bytes(read_array(bytes, ptr)?)),
        8 => u64::from_le_bytes(read_array(bytes, ptr)?),
        _ => return Err(internal()),
    })
}

fn write_uint(bytes: &mut [u8], ptr: u32, size: u32, v: u64) -> Result<()> {
    let b = v.to_le_bytes();
    let part = b.get(..size as usize).ok_or_else(internal)?;
    write_bytes(bytes, ptr, part)
}

fn bad_discriminant(d: u64, n: usize) -> Error {
    Error::trap(
        TrapKind::InvalidDiscriminant,
        alloc::format!("discriminant {d} out of range for {n} cases"),
    )
}

/// Appends the flat values of the value of type `ty` stored at `ptr`.
pub(crate) fn load_flat(
    arena: &TypeArena,
    ty: ValType,
    bytes: &[u8],
    ptr: u32,
    out: &mut Flat,
) -> Result<()> {
    match ty {
        ValType::String => {
            out.push(read_uint(bytes, ptr, 4)?);
            out.push(read_uint(bytes, ptr.wrapping_add(4), 4)?);
        }
        ValType::Def(i) => match arena.def(i) {
            DefType::List(_) => {
                out.push(read_uint(bytes, ptr, 4)?);
                out.push(read_uint(bytes, ptr.wrapping_add(4), 4)?);
            }
            DefType::Record(fields) => {
                let tys: SmallVec<[ValType; 8]> = fields.iter().map(|f| f.1).collect();
                load_fields(arena, &tys, bytes, ptr, out)?;
            }
            DefType::Tuple(tys) => load_fields(arena, tys, bytes, ptr, out)?,
            DefType::Flags(names) => out.push(read_uint(bytes, ptr, flags_size(names.len()))?),
            def => match cases_of(def) {
                Some((n, payloads)) => {
                    let end = out.len() + arena.flat(ty).len();
                    let disc = read_uint(bytes, ptr, discriminant_size(n))?;
                    if disc as usize >= n {
                        return Err(bad_discriminant(disc, n));
                    }
                    out.push(disc);
                    if let Some(p) = payloads.get(disc as usize) {
                        let at = ptr.wrapping_add(arena.layout(ty).payload_offset);
                        load_flat(arena, p, bytes, at, out)?;
                    }
                    out.resize(end, 0);
                }
                // Handles (stream, future, error-context): one i32.
                None => out.push(read_uint(bytes, ptr, arena.layout(ty).size)?),
            },
        },
        scalar => out.push(read_uint(bytes, ptr, arena.layout(scalar).size)?),
    }
    Ok(())
}

fn load_fields(
    arena: &TypeArena,
    tys: &[ValType],
    bytes: &[u8],
    ptr: u32,
    out: &mut Flat,
) -> Result<()> {
    let mut at = ptr;
    for t in tys {
        let l = arena.layout(*t);
        at = align_to(at, l.align);
        load_flat(arena, *t, bytes, at, out)?;
        at = at.wrapping_add(l.size);
    }
    Ok(())
}

/// Stores the value of type `ty` whose flat values start at `flat[*pos]`
/// at `ptr`, advancing `pos` past them.
pub(crate) fn store_flat(
    arena: &TypeArena,
    ty: ValType,
    flat: &[u64],
    pos: &mut usize,
    bytes: &mut [u8],
    ptr: u32,
) -> Result<()> {
    let next = |pos: &mut usize| -> Result<u64> {
        let v = flat.get(*pos).copied().ok_or_else(internal)?;
        *pos += 1;
        Ok(v)
    };
    match ty {
        ValType::String => {
            write_uint(bytes, ptr, 4, next(pos)?)?;
            write_uint(bytes, ptr.wrapping_add(4), 4, next(pos)?)?;
        }
        ValType::Def(i) => match arena.def(i) {
            DefType::List(_) => {
                write_uint(bytes, ptr, 4, next(pos)?)?;
                write_uint(bytes, ptr.wrapping_add(4), 4, next(pos)?)?;
            }
            DefType::Record(fields) => {
                let tys: SmallVec<[ValType; 8]> = fields.iter().map(|f| f.1).collect();
                store_fields(arena, &tys, flat, pos, bytes, ptr)?;
            }
            DefType::Tuple(tys) => store_fields(arena, tys, flat, pos, bytes, ptr)?,
            DefType::Flags(names) => write_uint(bytes, ptr, flags_size(names.len()), next(pos)?)?,
            def => match cases_of(def) {
                Some((n, payloads)) => {
                    let end = *pos + arena.flat(ty).len();
                    let disc = next(pos)?;
                    if disc as usize >= n {
                        return Err(bad_discriminant(disc, n));
                    }
                    write_uint(bytes, ptr, discriminant_size(n), disc)?;
                    if let Some(p) = payloads.get(disc as usize) {
                        let at = ptr.wrapping_add(arena.layout(ty).payload_offset);
                        store_flat(arena, p, flat, pos, bytes, at)?;
                    }
                    *pos = end;
                }
                None => write_uint(bytes, ptr, arena.layout(ty).size, next(pos)?)?,
            },
        },
        scalar => write_uint(bytes, ptr, arena.layout(scalar).size, next(pos)?)?,
    }
    Ok(())
}

fn store_fields(
    arena: &TypeArena,
    tys: &[ValType],
    flat: &[u64],
    pos: &mut usize,
    bytes: &mut [u8],
    ptr: u32,
) -> Result<()> {
    let mut at = ptr;
    for t in tys {
        let l = arena.layout(*t);
        at = align_to(at, l.align);
        store_flat(arena, *t, flat, pos, bytes, at)?;
        at = at.wrapping_add(l.size);
    }
    Ok(())
}
