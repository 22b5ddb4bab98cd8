//! Component-to-component transfer: a value moves from the caller's memory
//! and flat values straight into the callee's (and results back), with no
//! intermediate `Val` tree. Both sides' types are walked together: they are
//! equal up to resource identity (validation guarantees it), and resources
//! are renamed per instance, so each side keeps its own type.
//!
//! The semantics are those of lifting from one side and lowering into the
//! other (CanonicalABI.md): values are validated and normalized as lifting
//! does (bool, small integers, chars, NaNs, discriminants, flags), strings
//! are transcoded with the spec's realloc sequences, and handles move
//! between the instances' tables.

use super::layout::{align_to, cases_of, discriminant_size, flags_size, record_layout};
use super::lift::{
    canonicalize_f32, canonicalize_f64, check_align, check_range, internal, read_array, to_char,
    write_bytes,
};
use super::{string, GuestMemory, StringEncoding, MAX_BYTE_LENGTH};
use crate::error::{Error, Result, TrapKind};
use crate::types::{DefType, TypeArena, ValType};
use alloc::string::String;

use smallvec::SmallVec;

/// Which instance of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Src,
    Dst,
}

/// The two instances of a component-to-component call: their memories,
/// `realloc`s and handle tables.
pub(crate) trait Pair {
    /// The whole linear memory of `side`.
    fn bytes(&self, side: Side) -> &[u8];
    /// The whole linear memory of `side`, writable.
    fn bytes_mut(&mut self, side: Side) -> &mut [u8];
    /// `realloc` of `side`.
    fn realloc(
        &mut self,
        side: Side,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32>;
    /// Moves owned handle `h` (static resource `src_r` of the source) into
    /// the destination's table as static resource `dst_r`.
    fn move_own(&mut self, src_r: u32, dst_r: u32, h: u32) -> Result<u32>;
    /// Lends handle `h` of the source to the destination for the call.
    fn lend_borrow(&mut self, src_r: u32, dst_r: u32, h: u32) -> Result<u32>;
    /// Charges fuel for the component layer's work.
    fn charge(&mut self, units: u64) -> Result<()>;
    /// A buffer for a string on its way between the memories (one memory
    /// is accessible at a time), kept across calls to avoid allocating.
    fn take_scratch(&mut self) -> String;
    /// Gives the buffer back for the next string.
    fn put_scratch(&mut self, s: String);
    /// Moves handle `h` of the source, a stream or future (readable end)
    /// or an error context of type `src`, into the destination as type
    /// `dst` (feature `async`; `crate::concurrent::streams::move_handle`).
    #[cfg(feature = "async")]
    fn move_async(
        &mut self,
        src: (&TypeArena, ValType),
        dst: (&TypeArena, ValType),
        h: u32,
    ) -> Result<u32> {
        let _ = (src, dst, h);
        Err(Error::unsupported(
            "moving stream, future and error-context handles here",
        ))
    }
}

/// One side of a [`Pair`] as a [`GuestMemory`], for the string code.
struct View<'a, P: ?Sized> {
    pair: &'a mut P,
    side: Side,
}

impl<P: Pair + ?Sized> GuestMemory for View<'_, P> {
    fn bytes(&self) -> &[u8] {
        self.pair.bytes(self.side)
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        self.pair.bytes_mut(self.side)
    }
    fn realloc(&mut self, old_ptr: u32, old_size: u32, align: u32, new_size: u32) -> Result<u32> {
        self.pair
            .realloc(self.side, old_ptr, old_size, align, new_size)
    }
}

/// A transfer between the two sides of a call.
pub(crate) struct Transfer<'a, P: ?Sized> {
    /// The caller's arena types (source of params, destination of results)
    /// and the callee's are in the same arena: one component binary.
    pub src_arena: &'a TypeArena,
    pub dst_arena: &'a TypeArena,
    pub pair: &'a mut P,
    pub src_enc: StringEncoding,
    pub dst_enc: StringEncoding,
}

fn mismatch() -> Error {
    Error::trap(TrapKind::Other, "internal: caller and callee types differ")
}

fn bad_discriminant(d: u32, n: usize) -> Error {
    Error::trap(
        TrapKind::InvalidDiscriminant,
        alloc::format!("discriminant {d} out of range for {n} cases"),
    )
}

/// A scalar's value as lifted: normalized to what lowering writes back.
/// Returns the raw bits, zero-extended (i32/f32 in the low half).
fn normalize(ty: ValType, raw: u64) -> Result<u64> {
    Ok(match ty {
        ValType::Bool => u64::from(raw as u32 != 0),
        ValType::U8 => u64::from(raw as u8),
        ValType::S8 => u64::from(raw as u8 as i8 as i32 as u32),
        ValType::U16 => u64::from(raw as u16),
        ValType::S16 => u64::from(raw as u16 as i16 as i32 as u32),
        ValType::U32 | ValType::S32 => u64::from(raw as u32),
        ValType::U64 | ValType::S64 => raw,
        ValType::F32 => u64::from(canonicalize_f32(raw as u32).to_bits()),
        ValType::F64 => canonicalize_f64(raw).to_bits(),
        ValType::Char => u64::from(u32::from(to_char(raw as u32)?)),
        _ => return Err(mismatch()),
    })
}

impl<P: Pair + ?Sized> Transfer<'_, P> {
    fn read<const N: usize>(&self, side: Side, ptr: u32) -> Result<[u8; N]> {
        read_array(self.pair.bytes(side), ptr)
    }

    fn write(&mut self, side: Side, ptr: u32, bytes: &[u8]) -> Result<()> {
        write_bytes(self.pair.bytes_mut(side), ptr, bytes)
    }

    /// Reads a scalar of `size` bytes at `ptr` of the source, zero-extended.
    fn read_uint(&self, ptr: u32, size: u32) -> Result<u64> {
        Ok(match size {
            1 => u64::from(self.read::<1>(Side::Src, ptr)?[0]),
            2 => u64::from(u16::from_le_bytes(self.read(Side::Src, ptr)?)),
            4 => u64::from(u32::from_le_bytes(self.read(Side::Src, ptr)?)),
            _ => u64::from_le_bytes(self.read(Side::Src, ptr)?),
        })
    }

    fn write_uint(&mut self, ptr: u32, size: u32, v: u64) -> Result<()> {
        match size {
            1 => self.write(Side::Dst, ptr, &[v as u8]),
            2 => self.write(Side::Dst, ptr, &(v as u16).to_le_bytes()),
            4 => self.write(Side::Dst, ptr, &(v as u32).to_le_bytes()),
            _ => self.write(Side::Dst, ptr, &v.to_le_bytes()),
        }
    }

    /// Moves a string: the source's `(ptr, tagged length)` → the destination's.
    fn string(&mut self, ptr: u32, tagged: u32) -> Result<(u32, u32)> {
        let mut s = self.pair.take_scratch();
        let r = self.string_via(&mut s, ptr, tagged);
        self.pair.put_scratch(s);
        r
    }

    fn string_via(&mut self, s: &mut String, ptr: u32, tagged: u32) -> Result<(u32, u32)> {
        string::load_string_into(
            &View {
                pair: &mut *self.pair,
                side: Side::Src,
            },
            self.src_enc,
            ptr,
            tagged,
            s,
        )?;
        let bytes = s.len() as u64;
        self.pair.charge(
            super::fuel_for_bytes(bytes) * if self.src_enc == self.dst_enc { 2 } else { 3 },
        )?;
        string::store_transcoded(
            &mut View {
                pair: &mut *self.pair,
                side: Side::Dst,
            },
            self.dst_enc,
            self.src_enc,
            s,
            tagged,
        )
    }

    /// Moves a list: the source's `(ptr, len)` → the destination's. Lists of
    /// integers need no validation and move with one bulk copy.
    fn list(
        &mut self,
        src_elem: ValType,
        dst_elem: ValType,
        ptr: u32,
        len: u32,
    ) -> Result<(u32, u32)> {
        let sl = self.src_arena.layout(src_elem);
        let byte_len = u64::from(len) * u64::from(sl.size);
        if byte_len > u64::from(MAX_BYTE_LENGTH) {
            return Err(Error::trap(
                TrapKind::LengthTooLarge,
                alloc::format!("list of {byte_len} bytes is longer than 2^28-1"),
            ));
        }
        check_align(ptr, sl.align)?;
        check_range(ptr, byte_len, self.pair.bytes(Side::Src).len())?;
        self.pair.charge(2 * super::fuel_for_bytes(byte_len))?;
        let dl = self.dst_arena.layout(dst_elem);
        let dst_len = u64::from(len) * u64::from(dl.size);
        let dst = self
            .pair
            .realloc(Side::Dst, 0, 0, dl.align, dst_len as u32)?;
        check_align(dst, dl.align)?;
        check_range(dst, dst_len, self.pair.bytes(Side::Dst).len())?;
        let plain_int = matches!(
            src_elem,
            ValType::U8
                | ValType::S8
                | ValType::U16
                | ValType::S16
                | ValType::U32
                | ValType::S32
                | ValType::U64
                | ValType::S64
        );
        if plain_int && src_elem == dst_elem {
            // Bulk: one bounce through a buffer (two memories cannot be
            // borrowed at once), no per-element work.
            let start = ptr as usize;
            let bytes: alloc::vec::Vec<u8> =
                self.pair.bytes(Side::Src)[start..start + byte_len as usize].to_vec();
            self.write(Side::Dst, dst, &bytes)?;
        } else {
            for k in 0..len {
                self.mem(src_elem, dst_elem, ptr + k * sl.size, dst + k * dl.size)?;
            }
        }
        Ok((dst, len))
    }

    /// Moves a value stored at `src` in the source's memory to `dst` in the
    /// destination's.
    pub(crate) fn mem(&mut self, st: ValType, dt: ValType, src: u32, dst: u32) -> Result<()> {
        match (st, dt) {
            (ValType::String, ValType::String) => {
                let p = u32::from_le_bytes(self.read(Side::Src, src)?);
                let n = u32::from_le_bytes(self.read(Side::Src, src.wrapping_add(4))?);
                let (p, n) = self.string(p, n)?;
                self.write(Side::Dst, dst, &p.to_le_bytes())?;
                self.write(Side::Dst, dst.wrapping_add(4), &n.to_le_bytes())
            }
            (ValType::Own(sr), ValType::Own(dr)) => {
                let h = u32::from_le_bytes(self.read(Side::Src, src)?);
                let h = self.pair.move_own(sr, dr, h)?;
                self.write(Side::Dst, dst, &h.to_le_bytes())
            }
            (ValType::Borrow(sr), ValType::Borrow(dr)) => {
                let h = u32::from_le_bytes(self.read(Side::Src, src)?);
                let h = self.pair.lend_borrow(sr, dr, h)?;
                self.write(Side::Dst, dst, &h.to_le_bytes())
            }
            (ValType::Def(si), ValType::Def(di)) => self.mem_def(si, di, src, dst),
            (s, d) if s == d => {
                let size = self.src_arena.layout(s).size;
                let v = normalize(s, self.read_uint(src, size)?)?;
                self.write_uint(dst, size, v)
            }
            _ => Err(mismatch()),
        }
    }

    fn mem_fields(&mut self, st: &[ValType], dt: &[ValType], src: u32, dst: u32) -> Result<()> {
        if st.len() != dt.len() {
            return Err(mismatch());
        }
        let (mut so, mut d_o) = (src, dst);
        for (s, d) in st.iter().zip(dt) {
            let sl = self.src_arena.layout(*s);
            let dl = self.dst_arena.layout(*d);
            so = align_to(so, sl.align);
            d_o = align_to(d_o, dl.align);
            self.mem(*s, *d, so, d_o)?;
            so = so.wrapping_add(sl.size);
            d_o = d_o.wrapping_add(dl.size);
        }
        Ok(())
    }

    fn mem_def(&mut self, si: u32, di: u32, src: u32, dst: u32) -> Result<()> {
        let (sd, dd) = (self.src_arena.def(si), self.dst_arena.def(di));
        match (sd, dd) {
            (DefType::List(se), DefType::List(de)) => {
                let p = u32::from_le_bytes(self.read(Side::Src, src)?);
                let n = u32::from_le_bytes(self.read(Side::Src, src.wrapping_add(4))?);
                let (p, n) = self.list(*se, *de, p, n)?;
                self.write(Side::Dst, dst, &p.to_le_bytes())?;
                self.write(Side::Dst, dst.wrapping_add(4), &n.to_le_bytes())
            }
            (DefType::Record(sf), DefType::Record(df)) => {
                let st: SmallVec<[ValType; 8]> = sf.iter().map(|f| f.1).collect();
                let dt: SmallVec<[ValType; 8]> = df.iter().map(|f| f.1).collect();
                self.mem_fields(&st, &dt, src, dst)
            }
            (DefType::Tuple(st), DefType::Tuple(dt)) => self.mem_fields(st, dt, src, dst),
            (DefType::Flags(names), DefType::Flags(_)) => {
                let size = flags_size(names.len());
                let bits = self.read_uint(src, size)?;
                self.write_uint(dst, size, bits & flags_mask(names.len()))
            }
            #[cfg(feature = "async")]
            (DefType::Stream(_) | DefType::Future(_) | DefType::ErrorContext, _) => {
                let h = u32::from_le_bytes(self.read(Side::Src, src)?);
                let h = self.pair.move_async(
                    (self.src_arena, ValType::Def(si)),
                    (self.dst_arena, ValType::Def(di)),
                    h,
                )?;
                self.write(Side::Dst, dst, &h.to_le_bytes())
            }
            _ => {
                let (n, sp) = cases_of(sd).ok_or_else(mismatch)?;
                let (_, dp) = cases_of(dd).ok_or_else(mismatch)?;
                let disc_size = discriminant_size(n);
                let disc = self.read_uint(src, disc_size)? as u32;
                if disc as usize >= n {
                    return Err(bad_discriminant(disc, n));
                }
                self.write_uint(dst, disc_size, u64::from(disc))?;
                if let (Some(s), Some(d)) = (sp.get(disc as usize), dp.get(disc as usize)) {
                    let so =
                        src.wrapping_add(self.src_arena.layout(ValType::Def(si)).payload_offset);
                    let d_o =
                        dst.wrapping_add(self.dst_arena.layout(ValType::Def(di)).payload_offset);
                    self.mem(s, d, so, d_o)?;
                }
                Ok(())
            }
        }
    }

    /// Moves a value from the source's flat values `flat[*pos..]` to the
    /// destination's flat values `out`.
    pub(crate) fn flat(
        &mut self,
        st: ValType,
        dt: ValType,
        flat: &[u64],
        pos: &mut usize,
        out: &mut SmallVec<[u64; 16]>,
    ) -> Result<()> {
        let next = |pos: &mut usize| -> Result<u64> {
            let v = flat.get(*pos).copied().ok_or_else(internal)?;
            *pos += 1;
            Ok(v)
        };
        match (st, dt) {
            (ValType::String, ValType::String) => {
                let p = next(pos)? as u32;
                let n = next(pos)? as u32;
                let (p, n) = self.string(p, n)?;
                out.push(u64::from(p));
                out.push(u64::from(n));
            }
            (ValType::Own(sr), ValType::Own(dr)) => {
                let h = next(pos)? as u32;
                out.push(u64::from(self.pair.move_own(sr, dr, h)?));
            }
            (ValType::Borrow(sr), ValType::Borrow(dr)) => {
                let h = next(pos)? as u32;
                out.push(u64::from(self.pair.lend_borrow(sr, dr, h)?));
            }
            (ValType::Def(si), ValType::Def(di)) => self.flat_def(si, di, flat, pos, out)?,
            (s, d) if s == d => out.push(normalize(s, next(pos)?)?),
            _ => return Err(mismatch()),
        }
        Ok(())
    }

    fn flat_def(
        &mut self,
        si: u32,
        di: u32,
        flat: &[u64],
        pos: &mut usize,
        out: &mut SmallVec<[u64; 16]>,
    ) -> Result<()> {
        let (sd, dd) = (self.src_arena.def(si), self.dst_arena.def(di));
        let next = |pos: &mut usize| -> Result<u64> {
            let v = flat.get(*pos).copied().ok_or_else(internal)?;
            *pos += 1;
            Ok(v)
        };
        match (sd, dd) {
            (DefType::List(se), DefType::List(de)) => {
                let p = next(pos)? as u32;
                let n = next(pos)? as u32;
                let (p, n) = self.list(*se, *de, p, n)?;
                out.push(u64::from(p));
                out.push(u64::from(n));
            }
            (DefType::Record(sf), DefType::Record(df)) if sf.len() == df.len() => {
                for ((_, s), (_, d)) in sf.iter().zip(df.iter()) {
                    self.flat(*s, *d, flat, pos, out)?;
                }
            }
            (DefType::Tuple(st), DefType::Tuple(dt)) if st.len() == dt.len() => {
                for (s, d) in st.iter().zip(dt.iter()) {
                    self.flat(*s, *d, flat, pos, out)?;
                }
            }
            (DefType::Flags(names), DefType::Flags(_)) => {
                out.push(next(pos)? & flags_mask(names.len()));
            }
            #[cfg(feature = "async")]
            (DefType::Stream(_) | DefType::Future(_) | DefType::ErrorContext, _) => {
                let h = next(pos)? as u32;
                out.push(u64::from(self.pair.move_async(
                    (self.src_arena, ValType::Def(si)),
                    (self.dst_arena, ValType::Def(di)),
                    h,
                )?));
            }
            _ => {
                let (n, sp) = cases_of(sd).ok_or_else(mismatch)?;
                let (_, dp) = cases_of(dd).ok_or_else(mismatch)?;
                let src_end = *pos + self.src_arena.flat(ValType::Def(si)).len();
                let dst_end = out.len() + self.dst_arena.flat(ValType::Def(di)).len();
                let disc = next(pos)? as u32;
                if disc as usize >= n {
                    return Err(bad_discriminant(disc, n));
                }
                out.push(u64::from(disc));
                if let (Some(s), Some(d)) = (sp.get(disc as usize), dp.get(disc as usize)) {
                    // Joined slots hold the payload's bits, zero-extended:
                    // reading truncates, writing zero-extends (the spec's
                    // variant coercions).
                    self.flat(s, d, flat, pos, out)?;
                }
                *pos = src_end;
                out.resize(dst_end, 0);
            }
        }
        Ok(())
    }

    /// Moves the params or results of a call: flat to flat when they fit in
    /// `max_flat`, else memory to memory (the source's pointer `flat[0]`;
    /// the destination's from `out_param` or, if `None`, from its realloc).
    pub(crate) fn values(
        &mut self,
        st: &[ValType],
        dt: &[ValType],
        flat: &[u64],
        max_flat: usize,
        out_param: Option<u32>,
        out: &mut SmallVec<[u64; 16]>,
    ) -> Result<()> {
        if st.len() != dt.len() {
            return Err(mismatch());
        }
        let n_flat: usize = st.iter().map(|t| self.src_arena.flat(*t).len()).sum();
        if n_flat <= max_flat {
            let mut pos = 0;
            for (s, d) in st.iter().zip(dt) {
                self.flat(*s, *d, flat, &mut pos, out)?;
            }
            return Ok(());
        }
        let sl = record_layout(self.src_arena, st.iter().copied());
        let src = flat.first().copied().ok_or_else(internal)? as u32;
        check_align(src, sl.align)?;
        check_range(src, u64::from(sl.size), self.pair.bytes(Side::Src).len())?;
        let dl = record_layout(self.dst_arena, dt.iter().copied());
        let dst = match out_param {
            Some(p) => p,
            None => {
                let p = self.pair.realloc(Side::Dst, 0, 0, dl.align, dl.size)?;
                out.push(u64::from(p));
                p
            }
        };
        check_align(dst, dl.align)?;
        check_range(dst, u64::from(dl.size), self.pair.bytes(Side::Dst).len())?;
        self.mem_fields(st, dt, src, dst)
    }
}

fn flags_mask(n: usize) -> u64 {
    if n >= 32 {
        u64::from(u32::MAX)
    } else {
        (1u64 << n) - 1
    }
}
