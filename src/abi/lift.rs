//! Lifting: core values and linear memory → [`Val`] (CanonicalABI.md,
//! "Loading" and "Flat Lifting"). Flat values travel as raw `u64` bits
//! (i32/f32 in the low half), which makes the spec's variant coercions
//! (`wrap_i64_to_i32`, `decode_i32_as_float`) a plain truncation.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::layout::{cases_of, discriminant_size, flags_size};
use super::{string, GuestMemory, StringEncoding, MAX_BYTE_LENGTH};
use crate::error::{Error, Result, TrapKind};
use crate::types::{DefType, TypeArena, ValType};
use crate::values::Val;

/// What lifting needs: the types, the memory to read, the string encoding.
pub(crate) struct LiftCx<'a, M: ?Sized> {
    pub arena: &'a TypeArena,
    pub mem: &'a mut M,
    pub enc: StringEncoding,
}

pub(crate) fn canonicalize_f32(bits: u32) -> f32 {
    let f = f32::from_bits(bits);
    if f.is_nan() {
        f32::from_bits(0x7fc0_0000)
    } else {
        f
    }
}

pub(crate) fn canonicalize_f64(bits: u64) -> f64 {
    let f = f64::from_bits(bits);
    if f.is_nan() {
        f64::from_bits(0x7ff8_0000_0000_0000)
    } else {
        f
    }
}

pub(crate) fn to_char(i: u32) -> Result<char> {
    char::from_u32(i).ok_or_else(|| {
        Error::trap(
            TrapKind::InvalidChar,
            alloc::format!("{i:#x} is not a Unicode scalar value"),
        )
    })
}

fn bad_discriminant(d: u32, n: usize) -> Error {
    Error::trap(
        TrapKind::InvalidDiscriminant,
        alloc::format!("discriminant {d} out of range for {n} cases"),
    )
}

/// The `N` bytes of `mem` at `ptr`, or a trap if they reach past its end.
pub(crate) fn read_array<const N: usize>(mem: &[u8], ptr: u32) -> Result<[u8; N]> {
    let start = ptr as usize;
    mem.get(start..start.wrapping_add(N))
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| {
            Error::trap(
                TrapKind::PointerOutOfBounds,
                alloc::format!("{N} bytes at {ptr:#x} reach past the end of memory"),
            )
        })
}

/// Copies `bytes` into `mem` at `ptr`, or traps if they reach past its end.
pub(crate) fn write_bytes(mem: &mut [u8], ptr: u32, bytes: &[u8]) -> Result<()> {
    let len = mem.len();
    let start = ptr as usize;
    match mem.get_mut(start..start.wrapping_add(bytes.len())) {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            Ok(())
        }
        None => Err(Error::trap(
            TrapKind::PointerOutOfBounds,
            alloc::format!(
                "{} bytes at {ptr:#x} reach past the end of memory ({len} bytes)",
                bytes.len()
            ),
        )),
    }
}

/// Checks that `[ptr, ptr + len)` lies in memory of `mem_len` bytes.
pub(crate) fn check_range(ptr: u32, len: u64, mem_len: usize) -> Result<()> {
    if u64::from(ptr) + len > mem_len as u64 {
        return Err(Error::trap(
            TrapKind::PointerOutOfBounds,
            alloc::format!(
                "{len} bytes at {ptr:#x} reach past the end of memory ({mem_len} bytes)"
            ),
        ));
    }
    Ok(())
}

/// Checks that `ptr` is a multiple of `align`.
pub(crate) fn check_align(ptr: u32, align: u32) -> Result<()> {
    if ptr % align != 0 {
        return Err(Error::trap(
            TrapKind::UnalignedPointer,
            alloc::format!("pointer {ptr:#x} is not aligned to {align}"),
        ));
    }
    Ok(())
}

impl<M: GuestMemory + ?Sized> LiftCx<'_, M> {
    fn bytes<const N: usize>(&mut self, ptr: u32) -> Result<[u8; N]> {
        read_array(self.mem.bytes(), ptr)
    }

    fn load_string(&mut self, ptr: u32, tagged_len: u32) -> Result<String> {
        let bytes = match self.enc {
            StringEncoding::Utf8 => u64::from(tagged_len),
            StringEncoding::Utf16 => 2 * u64::from(tagged_len),
            StringEncoding::CompactUtf16 if tagged_len & super::UTF16_TAG != 0 => {
                2 * u64::from(tagged_len ^ super::UTF16_TAG)
            }
            StringEncoding::CompactUtf16 => u64::from(tagged_len),
        };
        string::check_string_range(&*self.mem, self.enc, ptr, tagged_len)?;
        self.check_limit(bytes)?;
        self.mem.charge(super::fuel_for_bytes(bytes))?;
        let latin1 = self.enc == StringEncoding::CompactUtf16 && tagged_len & super::UTF16_TAG == 0;
        self.mem
            .host_alloc(super::budget::string_host_bytes(self.enc, latin1, bytes))?;
        let s = string::load_string(&*self.mem, self.enc, ptr, tagged_len)?;
        Ok(s)
    }

    fn load_uint(&mut self, ptr: u32, size: u32) -> Result<u32> {
        Ok(match size {
            1 => u32::from(self.bytes::<1>(ptr)?[0]),
            2 => u32::from(u16::from_le_bytes(self.bytes(ptr)?)),
            _ => u32::from_le_bytes(self.bytes(ptr)?),
        })
    }

    /// `load`: reads a value of type `ty` at `ptr` (already aligned and in
    /// bounds as a whole; each access is checked again regardless).
    pub(crate) fn load(&mut self, ty: ValType, ptr: u32) -> Result<Val> {
        Ok(match ty {
            ValType::Bool => Val::Bool(self.bytes::<1>(ptr)?[0] != 0),
            ValType::U8 => Val::U8(self.bytes::<1>(ptr)?[0]),
            ValType::S8 => Val::S8(self.bytes::<1>(ptr)?[0] as i8),
            ValType::U16 => Val::U16(u16::from_le_bytes(self.bytes(ptr)?)),
            ValType::S16 => Val::S16(i16::from_le_bytes(self.bytes(ptr)?)),
            ValType::U32 => Val::U32(u32::from_le_bytes(self.bytes(ptr)?)),
            ValType::S32 => Val::S32(i32::from_le_bytes(self.bytes(ptr)?)),
            ValType::U64 => Val::U64(u64::from_le_bytes(self.bytes(ptr)?)),
            ValType::S64 => Val::S64(i64::from_le_bytes(self.bytes(ptr)?)),
            ValType::F32 => Val::Float32(canonicalize_f32(u32::from_le_bytes(self.bytes(ptr)?))),
            ValType::F64 => Val::Float64(canonicalize_f64(u64::from_le_bytes(self.bytes(ptr)?))),
            ValType::Char => Val::Char(to_char(u32::from_le_bytes(self.bytes(ptr)?))?),
            ValType::String => {
                let begin = u32::from_le_bytes(self.bytes(ptr)?);
                let len = u32::from_le_bytes(self.bytes(ptr.wrapping_add(4))?);
                Val::String(self.load_string(begin, len)?)
            }
            ValType::Own(r) => {
                let h = u32::from_le_bytes(self.bytes(ptr)?);
                Val::Resource(self.mem.lift_own(r, h)?)
            }
            ValType::Borrow(r) => {
                let h = u32::from_le_bytes(self.bytes(ptr)?);
                Val::Resource(self.mem.lift_borrow(r, h)?)
            }
            ValType::Def(i) => self.load_def(i, ptr)?,
        })
    }

    /// Takes from the host budget what the `Val` of `def` (not a list)
    /// allocates besides itself: field and case names, boxes, vectors.
    fn charge_def(&mut self, def: &DefType) -> Result<()> {
        const VAL: u64 = core::mem::size_of::<Val>() as u64;
        const NAMED: u64 = core::mem::size_of::<(String, Val)>() as u64;
        const NAME: u64 = core::mem::size_of::<String>() as u64;
        let bytes = match def {
            DefType::List(_) => 0,
            DefType::Record(fields) => fields
                .iter()
                .map(|(name, _)| NAMED + name.len() as u64)
                .sum(),
            DefType::Tuple(tys) => VAL * tys.len() as u64,
            DefType::Flags(names) => names.iter().map(|n| NAME + n.len() as u64).sum(),
            DefType::Variant(cases) => {
                VAL + cases.iter().map(|c| c.name.len() as u64).max().unwrap_or(0)
            }
            DefType::Enum(names) => names.iter().map(|n| n.len() as u64).max().unwrap_or(0),
            _ => VAL,
        };
        self.mem.host_alloc(bytes)
    }

    fn load_def(&mut self, i: u32, ptr: u32) -> Result<Val> {
        let arena = self.arena;
        let def = arena.def(i);
        self.charge_def(def)?;
        Ok(match def {
            DefType::List(elem) => {
                let begin = u32::from_le_bytes(self.bytes(ptr)?);
                let len = u32::from_le_bytes(self.bytes(ptr.wrapping_add(4))?);
                Val::List(self.load_list(*elem, begin, len)?)
            }
            DefType::Record(fields) => {
                let mut out = Vec::with_capacity(fields.len());
                let mut off = ptr;
                for (name, ty) in fields.iter() {
                    let l = arena.layout(*ty);
                    off = super::layout::align_to(off, l.align);
                    out.push((String::from(&**name), self.load(*ty, off)?));
                    off = off.wrapping_add(l.size);
                }
                Val::Record(out)
            }
            DefType::Tuple(tys) => Val::Tuple(self.load_fields(tys, ptr)?),
            DefType::Flags(names) => {
                let bits = self.load_uint(ptr, flags_size(names.len()))?;
                flags_val(names, bits)
            }
            #[cfg(feature = "async")]
            DefType::Stream(_) | DefType::Future(_) | DefType::ErrorContext => {
                let h = u32::from_le_bytes(self.bytes(ptr)?);
                self.mem.lift_async(arena, ValType::Def(i), h)?
            }
            _ => {
                let (n, payloads) = cases_of(def).ok_or_else(internal)?;
                let disc = self.load_uint(ptr, discriminant_size(n))?;
                if disc as usize >= n {
                    return Err(bad_discriminant(disc, n));
                }
                let payload = match payloads.get(disc as usize) {
                    Some(ty) => {
                        let at = ptr.wrapping_add(arena.layout(ValType::Def(i)).payload_offset);
                        Some(Box::new(self.load(ty, at)?))
                    }
                    None => None,
                };
                variant_val(def, disc as usize, payload)
            }
        })
    }

    fn load_fields(&mut self, tys: &[ValType], ptr: u32) -> Result<Vec<Val>> {
        let mut out = Vec::with_capacity(tys.len());
        let mut off = ptr;
        for ty in tys {
            let l = self.arena.layout(*ty);
            off = super::layout::align_to(off, l.align);
            out.push(self.load(*ty, off)?);
            off = off.wrapping_add(l.size);
        }
        Ok(out)
    }

    /// Traps if a string or list of `bytes` bytes is over the configured
    /// lift limit (the spec's own limit is checked where the spec does).
    fn check_limit(&self, bytes: u64) -> Result<()> {
        let limit = self.mem.max_lift_bytes();
        if limit < MAX_BYTE_LENGTH && bytes > u64::from(limit) {
            return Err(Error::trap(
                TrapKind::LimitExceeded,
                alloc::format!(
                    "string or list of {bytes} bytes exceeds the max_lift_bytes limit of {limit}"
                ),
            ));
        }
        Ok(())
    }

    /// `load_list_from_range`.
    fn load_list(&mut self, elem: ValType, ptr: u32, len: u32) -> Result<Vec<Val>> {
        let l = self.arena.layout(elem);
        let byte_len = u64::from(len) * u64::from(l.size);
        self.check_limit(byte_len)?;
        self.mem.charge(super::fuel_for_bytes(byte_len))?;
        if byte_len > u64::from(MAX_BYTE_LENGTH) {
            return Err(Error::trap(
                TrapKind::LengthTooLarge,
                alloc::format!("list of {byte_len} bytes is longer than 2^28-1"),
            ));
        }
        check_align(ptr, l.align)?;
        check_range(ptr, byte_len, self.mem.bytes().len())?;
        // Each element is a `Val` on the host, whatever its size in the
        // guest (zero for `tuple<>`): bound that before allocating.
        self.mem
            .host_alloc(u64::from(len) * core::mem::size_of::<Val>() as u64)?;
        let mut out = super::budget::try_vec(len as usize)?;
        if elem == ValType::U8 {
            // Bulk path: one slice, no per-element loads.
            let s = &self.mem.bytes()[ptr as usize..(u64::from(ptr) + byte_len) as usize];
            out.extend(s.iter().map(|b| Val::U8(*b)));
            return Ok(out);
        }
        for k in 0..len {
            out.push(self.load(elem, ptr + k * l.size)?);
        }
        Ok(out)
    }

    /// `lift_flat`: reads `ty` from `flat[*pos..]`, advancing `pos`.
    pub(crate) fn lift_flat(&mut self, ty: ValType, flat: &[u64], pos: &mut usize) -> Result<Val> {
        let mut next = || -> Result<u64> {
            let v = flat.get(*pos).copied().ok_or_else(internal)?;
            *pos += 1;
            Ok(v)
        };
        Ok(match ty {
            ValType::Bool => Val::Bool(next()? as u32 != 0),
            ValType::U8 => Val::U8(next()? as u8),
            ValType::S8 => Val::S8(next()? as u8 as i8),
            ValType::U16 => Val::U16(next()? as u16),
            ValType::S16 => Val::S16(next()? as u16 as i16),
            ValType::U32 => Val::U32(next()? as u32),
            ValType::S32 => Val::S32(next()? as u32 as i32),
            ValType::U64 => Val::U64(next()?),
            ValType::S64 => Val::S64(next()? as i64),
            ValType::F32 => Val::Float32(canonicalize_f32(next()? as u32)),
            ValType::F64 => Val::Float64(canonicalize_f64(next()?)),
            ValType::Char => Val::Char(to_char(next()? as u32)?),
            ValType::String => {
                let ptr = next()? as u32;
                let len = next()? as u32;
                Val::String(self.load_string(ptr, len)?)
            }
            ValType::Own(r) => {
                let h = next()? as u32;
                Val::Resource(self.mem.lift_own(r, h)?)
            }
            ValType::Borrow(r) => {
                let h = next()? as u32;
                Val::Resource(self.mem.lift_borrow(r, h)?)
            }
            ValType::Def(i) => self.lift_flat_def(i, flat, pos)?,
        })
    }

    fn lift_flat_def(&mut self, i: u32, flat: &[u64], pos: &mut usize) -> Result<Val> {
        let def = self.arena.def(i);
        self.charge_def(def)?;
        Ok(match def {
            DefType::List(elem) => {
                let ptr = flat.get(*pos).copied().ok_or_else(internal)? as u32;
                let len = flat.get(*pos + 1).copied().ok_or_else(internal)? as u32;
                *pos += 2;
                Val::List(self.load_list(*elem, ptr, len)?)
            }
            DefType::Record(fields) => {
                let mut out = Vec::with_capacity(fields.len());
                for (name, ty) in fields.iter() {
                    out.push((String::from(&**name), self.lift_flat(*ty, flat, pos)?));
                }
                Val::Record(out)
            }
            DefType::Tuple(tys) => {
                let mut out = Vec::with_capacity(tys.len());
                for ty in tys.iter() {
                    out.push(self.lift_flat(*ty, flat, pos)?);
                }
                Val::Tuple(out)
            }
            DefType::Flags(names) => {
                let bits = flat.get(*pos).copied().ok_or_else(internal)? as u32;
                *pos += 1;
                flags_val(names, bits)
            }
            #[cfg(feature = "async")]
            DefType::Stream(_) | DefType::Future(_) | DefType::ErrorContext => {
                let h = flat.get(*pos).copied().ok_or_else(internal)? as u32;
                *pos += 1;
                self.mem.lift_async(self.arena, ValType::Def(i), h)?
            }
            _ => {
                let (n, payloads) = cases_of(def).ok_or_else(internal)?;
                let joined = self.arena.flat(ValType::Def(i)).len();
                let disc = flat.get(*pos).copied().ok_or_else(internal)? as u32;
                let end = *pos + joined;
                *pos += 1;
                if disc as usize >= n {
                    return Err(bad_discriminant(disc, n));
                }
                let payload = match payloads.get(disc as usize) {
                    Some(ty) => Some(Box::new(self.lift_flat(ty, flat, pos)?)),
                    None => None,
                };
                // Skip the joined slots this case does not use.
                *pos = end;
                variant_val(def, disc as usize, payload)
            }
        })
    }

    /// `lift_flat_values`: the params or results of a call. If they do not
    /// fit in `max_flat` core values, `flat[0]` points at them in memory.
    pub(crate) fn lift_values(
        &mut self,
        tys: &[ValType],
        flat: &[u64],
        max_flat: usize,
        out: &mut Vec<Val>,
    ) -> Result<()> {
        let n_flat: usize = tys.iter().map(|t| self.arena.flat(*t).len()).sum();
        if n_flat > max_flat {
            let ptr = flat.first().copied().ok_or_else(internal)? as u32;
            let l = super::layout::record_layout(self.arena, tys.iter().copied());
            check_align(ptr, l.align)?;
            check_range(ptr, u64::from(l.size), self.mem.bytes().len())?;
            out.extend(self.load_fields(tys, ptr)?);
        } else {
            let mut pos = 0;
            for ty in tys {
                out.push(self.lift_flat(*ty, flat, &mut pos)?);
            }
        }
        Ok(())
    }

    /// `lift_values` of one result type: the value itself, without a
    /// vector around it.
    pub(crate) fn lift_result(&mut self, ty: ValType, flat: &[u64]) -> Result<Val> {
        if self.arena.flat(ty).len() > super::MAX_FLAT_RESULTS {
            let ptr = flat.first().copied().ok_or_else(internal)? as u32;
            let l = self.arena.layout(ty);
            check_align(ptr, l.align)?;
            check_range(ptr, u64::from(l.size), self.mem.bytes().len())?;
            self.load(ty, ptr)
        } else {
            self.lift_flat(ty, flat, &mut 0)
        }
    }
}

fn flags_val(names: &[Box<str>], bits: u32) -> Val {
    Val::Flags(
        names
            .iter()
            .enumerate()
            .filter(|(k, _)| bits & (1 << k) != 0)
            .map(|(_, n)| String::from(&**n))
            .collect(),
    )
}

fn variant_val(def: &DefType, case: usize, payload: Option<Box<Val>>) -> Val {
    match def {
        DefType::Variant(cases) => Val::Variant(String::from(&*cases[case].name), payload),
        DefType::Enum(names) => Val::Enum(String::from(&*names[case])),
        DefType::Option(_) => Val::Option(if case == 0 { None } else { payload }),
        _ => Val::Result(if case == 0 { Ok(payload) } else { Err(payload) }),
    }
}

/// Flat values shorter than their signature: cannot happen for validated
/// signatures, reported rather than panicking.
#[cold]
pub(crate) fn internal() -> Error {
    Error::trap(
        TrapKind::Other,
        "internal: flat values do not match the signature",
    )
}
