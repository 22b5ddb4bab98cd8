//! Lowering: [`Val`] → core values and linear memory (CanonicalABI.md,
//! "Storing" and "Flat Lowering"). Flat values are produced as raw `u64`
//! bits, zero-extended, which is exactly what the spec's variant `join`
//! coercions ask for.

use alloc::format;
use smallvec::SmallVec;

use super::layout::{align_to, cases_of, discriminant_size, flags_size, record_layout};
use super::lift::{check_align, check_range};
use super::{string, GuestMemory, StringEncoding};
use crate::error::{Error, Result, TrapKind};
use crate::types::{DefType, TypeArena, ValType};
use crate::values::Val;

/// Flat core values of a call, as raw bits.
pub(crate) type Flat = SmallVec<[u64; 16]>;

/// What lowering needs: the types, the memory and realloc to write with,
/// the string encoding.
pub(crate) struct LowerCx<'a, M: ?Sized> {
    pub arena: &'a TypeArena,
    pub mem: &'a mut M,
    pub enc: StringEncoding,
}

/// A value does not match the type it is lowered as.
pub(crate) fn mismatch(arena: &TypeArena, ty: ValType, got: &Val) -> Error {
    Error::usage(format!(
        "type mismatch: expected {}, got {} value {got}",
        arena.to_public(ty),
        got.kind_name()
    ))
}

impl<M: GuestMemory + ?Sized> LowerCx<'_, M> {
    fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<()> {
        super::lift::write_bytes(self.mem.bytes_mut(), ptr, bytes)
    }

    fn store_string(&mut self, s: &str) -> Result<(u32, u32)> {
        self.mem.charge(super::fuel_for_bytes(s.len() as u64))?;
        string::store_string(self.mem, self.enc, s)
    }

    /// NaNs are canonicalized when they cross the boundary, in both
    /// directions and through both APIs (the spec allows any NaN here).
    fn f32_bits(&self, x: f32) -> u32 {
        if x.is_nan() {
            0x7fc0_0000
        } else {
            x.to_bits()
        }
    }

    fn f64_bits(&self, x: f64) -> u64 {
        if x.is_nan() {
            0x7ff8_0000_0000_0000
        } else {
            x.to_bits()
        }
    }

    fn store_uint(&mut self, ptr: u32, size: u32, v: u32) -> Result<()> {
        match size {
            1 => self.write(ptr, &[v as u8]),
            2 => self.write(ptr, &(v as u16).to_le_bytes()),
            _ => self.write(ptr, &v.to_le_bytes()),
        }
    }

    /// `realloc(0, 0, align, size)` and the spec's checks on its result.
    fn allocate(&mut self, align: u32, size: u32) -> Result<u32> {
        let ptr = self.mem.realloc(0, 0, align, size)?;
        check_align(ptr, align)?;
        check_range(ptr, u64::from(size), self.mem.bytes().len())?;
        Ok(ptr)
    }

    /// `store`: writes `v` as `ty` at `ptr`.
    pub(crate) fn store(&mut self, v: &Val, ty: ValType, ptr: u32) -> Result<()> {
        match (ty, v) {
            (ValType::Bool, Val::Bool(b)) => self.write(ptr, &[*b as u8]),
            (ValType::U8, Val::U8(x)) => self.write(ptr, &[*x]),
            (ValType::S8, Val::S8(x)) => self.write(ptr, &x.to_le_bytes()),
            (ValType::U16, Val::U16(x)) => self.write(ptr, &x.to_le_bytes()),
            (ValType::S16, Val::S16(x)) => self.write(ptr, &x.to_le_bytes()),
            (ValType::U32, Val::U32(x)) => self.write(ptr, &x.to_le_bytes()),
            (ValType::S32, Val::S32(x)) => self.write(ptr, &x.to_le_bytes()),
            (ValType::U64, Val::U64(x)) => self.write(ptr, &x.to_le_bytes()),
            (ValType::S64, Val::S64(x)) => self.write(ptr, &x.to_le_bytes()),
            (ValType::F32, Val::Float32(x)) => self.write(ptr, &self.f32_bits(*x).to_le_bytes()),
            (ValType::F64, Val::Float64(x)) => self.write(ptr, &self.f64_bits(*x).to_le_bytes()),
            (ValType::Char, Val::Char(c)) => self.write(ptr, &u32::from(*c).to_le_bytes()),
            (ValType::String, Val::String(s)) => {
                let (begin, len) = self.store_string(s)?;
                self.write(ptr, &begin.to_le_bytes())?;
                self.write(ptr.wrapping_add(4), &len.to_le_bytes())
            }
            (ValType::Own(r), Val::Resource(res)) => {
                let h = self.mem.lower_own(r, res)?;
                self.write(ptr, &h.to_le_bytes())
            }
            (ValType::Borrow(r), Val::Resource(res)) => {
                let h = self.mem.lower_borrow(r, res)?;
                self.write(ptr, &h.to_le_bytes())
            }
            (ValType::Def(i), v) => self.store_def(i, v, ptr),
            (ty, v) => Err(mismatch(self.arena, ty, v)),
        }
    }

    fn store_def(&mut self, i: u32, v: &Val, ptr: u32) -> Result<()> {
        let arena = self.arena;
        let def = arena.def(i);
        match (def, v) {
            (DefType::List(elem), Val::List(vs)) => {
                let (begin, len) = self.store_list(*elem, vs)?;
                self.write(ptr, &begin.to_le_bytes())?;
                self.write(ptr.wrapping_add(4), &len.to_le_bytes())
            }
            (DefType::Record(fields), Val::Record(vs)) => {
                self.check_record(ValType::Def(i), fields, v, vs)?;
                let mut off = ptr;
                for ((_, ty), (_, fv)) in fields.iter().zip(vs) {
                    let l = arena.layout(*ty);
                    off = align_to(off, l.align);
                    self.store(fv, *ty, off)?;
                    off = off.wrapping_add(l.size);
                }
                Ok(())
            }
            (DefType::Tuple(tys), Val::Tuple(vs)) if tys.len() == vs.len() => {
                let mut off = ptr;
                for (ty, fv) in tys.iter().zip(vs) {
                    let l = arena.layout(*ty);
                    off = align_to(off, l.align);
                    self.store(fv, *ty, off)?;
                    off = off.wrapping_add(l.size);
                }
                Ok(())
            }
            (DefType::Flags(names), Val::Flags(set)) => {
                let bits = flags_bits(arena, ValType::Def(i), names, v, set)?;
                self.store_uint(ptr, flags_size(names.len()), bits)
            }
            #[cfg(feature = "async")]
            (DefType::Stream(_) | DefType::Future(_) | DefType::ErrorContext, v) => {
                let h = self.mem.lower_async(arena, ValType::Def(i), v)?;
                self.write(ptr, &h.to_le_bytes())
            }
            _ => {
                let (case, payload) = match_case(arena, ValType::Def(i), def, v)?;
                let (n, payloads) =
                    cases_of(def).ok_or_else(|| mismatch(arena, ValType::Def(i), v))?;
                self.store_uint(ptr, discriminant_size(n), case as u32)?;
                if let (Some(ty), Some(pv)) = (payloads.get(case), payload) {
                    let at = ptr.wrapping_add(arena.layout(ValType::Def(i)).payload_offset);
                    self.store(pv, ty, at)?;
                }
                Ok(())
            }
        }
    }

    fn check_record(
        &self,
        ty: ValType,
        fields: &[(alloc::boxed::Box<str>, ValType)],
        v: &Val,
        vs: &[(alloc::string::String, Val)],
    ) -> Result<()> {
        if fields.len() != vs.len() || fields.iter().zip(vs).any(|((a, _), (b, _))| **a != **b) {
            return Err(mismatch(self.arena, ty, v));
        }
        Ok(())
    }

    /// `store_list_into_range`: one realloc, then the elements.
    fn store_list(&mut self, elem: ValType, vs: &[Val]) -> Result<(u32, u32)> {
        let l = self.arena.layout(elem);
        let byte_len = (vs.len() as u64) * u64::from(l.size);
        if byte_len > u64::from(u32::MAX) {
            return Err(Error::trap(
                TrapKind::LengthTooLarge,
                format!("list of {byte_len} bytes does not fit in 32-bit memory"),
            ));
        }
        self.mem.charge(super::fuel_for_bytes(byte_len))?;
        let ptr = self.allocate(l.align, byte_len as u32)?;
        if elem == ValType::U8 {
            // Bulk path: gather once, one copy.
            let mut bytes = alloc::vec::Vec::with_capacity(vs.len());
            for v in vs {
                match v {
                    Val::U8(b) => bytes.push(*b),
                    other => return Err(mismatch(self.arena, elem, other)),
                }
            }
            self.write(ptr, &bytes)?;
        } else {
            for (k, v) in vs.iter().enumerate() {
                self.store(v, elem, ptr + (k as u32) * l.size)?;
            }
        }
        Ok((ptr, vs.len() as u32))
    }

    /// `lower_flat`: appends the flat values of `v` as `ty` to `out`.
    pub(crate) fn lower_flat(&mut self, v: &Val, ty: ValType, out: &mut Flat) -> Result<()> {
        match (ty, v) {
            (ValType::Bool, Val::Bool(b)) => out.push(*b as u64),
            (ValType::U8, Val::U8(x)) => out.push(u64::from(*x)),
            (ValType::S8, Val::S8(x)) => out.push(u64::from(*x as i32 as u32)),
            (ValType::U16, Val::U16(x)) => out.push(u64::from(*x)),
            (ValType::S16, Val::S16(x)) => out.push(u64::from(*x as i32 as u32)),
            (ValType::U32, Val::U32(x)) => out.push(u64::from(*x)),
            (ValType::S32, Val::S32(x)) => out.push(u64::from(*x as u32)),
            (ValType::U64, Val::U64(x)) => out.push(*x),
            (ValType::S64, Val::S64(x)) => out.push(*x as u64),
            (ValType::F32, Val::Float32(x)) => out.push(u64::from(self.f32_bits(*x))),
            (ValType::F64, Val::Float64(x)) => out.push(self.f64_bits(*x)),
            (ValType::Char, Val::Char(c)) => out.push(u64::from(u32::from(*c))),
            (ValType::String, Val::String(s)) => {
                let (ptr, len) = self.store_string(s)?;
                out.push(u64::from(ptr));
                out.push(u64::from(len));
            }
            (ValType::Own(r), Val::Resource(res)) => {
                out.push(u64::from(self.mem.lower_own(r, res)?))
            }
            (ValType::Borrow(r), Val::Resource(res)) => {
                out.push(u64::from(self.mem.lower_borrow(r, res)?))
            }
            (ValType::Def(i), v) => self.lower_flat_def(i, v, out)?,
            (ty, v) => return Err(mismatch(self.arena, ty, v)),
        }
        Ok(())
    }

    fn lower_flat_def(&mut self, i: u32, v: &Val, out: &mut Flat) -> Result<()> {
        let arena = self.arena;
        let def = arena.def(i);
        match (def, v) {
            (DefType::List(elem), Val::List(vs)) => {
                let (ptr, len) = self.store_list(*elem, vs)?;
                out.push(u64::from(ptr));
                out.push(u64::from(len));
            }
            (DefType::Record(fields), Val::Record(vs)) => {
                self.check_record(ValType::Def(i), fields, v, vs)?;
                for ((_, ty), (_, fv)) in fields.iter().zip(vs) {
                    self.lower_flat(fv, *ty, out)?;
                }
            }
            (DefType::Tuple(tys), Val::Tuple(vs)) if tys.len() == vs.len() => {
                for (ty, fv) in tys.iter().zip(vs) {
                    self.lower_flat(fv, *ty, out)?;
                }
            }
            (DefType::Flags(names), Val::Flags(set)) => {
                out.push(u64::from(flags_bits(
                    arena,
                    ValType::Def(i),
                    names,
                    v,
                    set,
                )?));
            }
            #[cfg(feature = "async")]
            (DefType::Stream(_) | DefType::Future(_) | DefType::ErrorContext, v) => {
                out.push(u64::from(self.mem.lower_async(
                    arena,
                    ValType::Def(i),
                    v,
                )?));
            }
            _ => {
                let (case, payload) = match_case(arena, ValType::Def(i), def, v)?;
                let (_, payloads) =
                    cases_of(def).ok_or_else(|| mismatch(arena, ValType::Def(i), v))?;
                let joined = arena.flat(ValType::Def(i)).len();
                let end = out.len() + joined;
                out.push(case as u64);
                if let (Some(ty), Some(pv)) = (payloads.get(case), payload) {
                    self.lower_flat(pv, ty, out)?;
                }
                // Zero-fill the joined slots this case does not use.
                out.resize(end, 0);
            }
        }
        Ok(())
    }

    /// `lower_flat_values`. With more than `max_flat` flat values the tuple
    /// goes to memory: at `out_param` if given (a lowered import's return
    /// pointer), else in space from `realloc` whose pointer is the one flat value.
    pub(crate) fn lower_values(
        &mut self,
        vals: &[Val],
        tys: &[ValType],
        max_flat: usize,
        out_param: Option<u32>,
        out: &mut Flat,
    ) -> Result<()> {
        let n_flat: usize = tys.iter().map(|t| self.arena.flat(*t).len()).sum();
        if n_flat > max_flat {
            let l = record_layout(self.arena, tys.iter().copied());
            let ptr = match out_param {
                Some(p) => {
                    check_align(p, l.align)?;
                    check_range(p, u64::from(l.size), self.mem.bytes().len())?;
                    p
                }
                None => {
                    let p = self.allocate(l.align, l.size)?;
                    out.push(u64::from(p));
                    p
                }
            };
            let mut off = ptr;
            for (v, ty) in vals.iter().zip(tys) {
                let fl = self.arena.layout(*ty);
                off = align_to(off, fl.align);
                self.store(v, *ty, off)?;
                off = off.wrapping_add(fl.size);
            }
        } else {
            for (v, ty) in vals.iter().zip(tys) {
                self.lower_flat(v, *ty, out)?;
            }
        }
        Ok(())
    }
}

fn flags_bits(
    arena: &TypeArena,
    ty: ValType,
    names: &[alloc::boxed::Box<str>],
    v: &Val,
    set: &[alloc::string::String],
) -> Result<u32> {
    let mut bits = 0u32;
    for s in set {
        let k = names
            .iter()
            .position(|n| **n == **s)
            .ok_or_else(|| mismatch(arena, ty, v))?;
        bits |= 1 << k;
    }
    Ok(bits)
}

/// Finds the case index of a variant-like value and its payload, checking
/// that the value has a payload exactly where the case has one.
fn match_case<'v>(
    arena: &TypeArena,
    ty: ValType,
    def: &DefType,
    v: &'v Val,
) -> Result<(usize, Option<&'v Val>)> {
    let found = match (def, v) {
        (DefType::Variant(cases), Val::Variant(name, payload)) => cases
            .iter()
            .position(|c| *c.name == **name)
            .filter(|&k| cases[k].ty.is_some() == payload.is_some())
            .map(|k| (k, payload.as_deref())),
        (DefType::Enum(names), Val::Enum(name)) => {
            names.iter().position(|n| **n == **name).map(|k| (k, None))
        }
        (DefType::Option(_), Val::Option(None)) => Some((0, None)),
        (DefType::Option(_), Val::Option(Some(p))) => Some((1, Some(&**p))),
        (DefType::Result { ok, .. }, Val::Result(Ok(p))) if ok.is_some() == p.is_some() => {
            Some((0, p.as_deref()))
        }
        (DefType::Result { err, .. }, Val::Result(Err(p))) if err.is_some() == p.is_some() => {
            Some((1, p.as_deref()))
        }
        _ => None,
    };
    found.ok_or_else(|| mismatch(arena, ty, v))
}
