//! Strings across the boundary: `load_string_from_range` and
//! `store_string_into_range` of the canonical ABI, for 32-bit memories.
//!
//! Host strings are `str` (UTF-8). A string lifted from one component and
//! lowered into another keeps the spec's hint (source encoding and tagged
//! code unit count) next to its text, so [`store_transcoded`] can size its
//! `realloc` calls exactly as the spec does.
//!
//! The `realloc` call sequence is observable by the guest, so every store
//! path below mirrors its spec function call for call, including the
//! shrinking calls and the zero-length allocation for empty strings.

use alloc::string::String;
use core::ops::Range;

use super::{GuestMemory, StringEncoding, MAX_BYTE_LENGTH, UTF16_TAG};
use crate::error::{Error, Result, TrapKind};

/// A concrete encoding: `latin1+utf16` resolved by its tag bit (the spec's
/// `src_simple_encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Simple {
    Utf8,
    Utf16,
    Latin1,
}

/// Splits a tagged code unit count into its concrete encoding, code units
/// and byte length (as `u64`: `2 * units` may not fit in `u32`).
fn untag(enc: StringEncoding, tagged: u32) -> (Simple, u32, u64) {
    match enc {
        StringEncoding::Utf8 => (Simple::Utf8, tagged, u64::from(tagged)),
        StringEncoding::Utf16 => (Simple::Utf16, tagged, 2 * u64::from(tagged)),
        StringEncoding::CompactUtf16 if tagged & UTF16_TAG != 0 => {
            let units = tagged ^ UTF16_TAG;
            (Simple::Utf16, units, 2 * u64::from(units))
        }
        StringEncoding::CompactUtf16 => (Simple::Latin1, tagged, u64::from(tagged)),
    }
}

/// Traps with `LengthTooLarge` if `byte_len` exceeds `MAX_STRING_BYTE_LENGTH`.
fn check_length(byte_len: u64) -> Result<()> {
    if byte_len > u64::from(MAX_BYTE_LENGTH) {
        return Err(Error::trap(
            TrapKind::LengthTooLarge,
            alloc::format!("string of {byte_len} bytes exceeds the maximum of {MAX_BYTE_LENGTH}"),
        ));
    }
    Ok(())
}

/// Traps with `UnalignedPointer` unless `ptr` is a multiple of `align`.
fn check_align(ptr: u32, align: u32) -> Result<()> {
    if ptr % align != 0 {
        return Err(Error::trap(
            TrapKind::UnalignedPointer,
            alloc::format!("string pointer {ptr:#x} is not {align}-byte aligned"),
        ));
    }
    Ok(())
}

/// The byte range `ptr..ptr + len` of a memory of `mem_len` bytes, or a
/// `PointerOutOfBounds` trap. Computed in `u64`, so it cannot overflow.
fn range(mem_len: usize, ptr: u32, len: u32) -> Result<Range<usize>> {
    let end = u64::from(ptr) + u64::from(len);
    if end > mem_len as u64 {
        return Err(Error::trap(
            TrapKind::PointerOutOfBounds,
            alloc::format!(
                "string at {ptr:#x} of {len} bytes is outside memory of {mem_len} bytes"
            ),
        ));
    }
    // `end <= mem_len`, so both fit in `usize`.
    Ok(ptr as usize..end as usize)
}

/// `len` bytes of guest memory at `ptr`, writable, or a `PointerOutOfBounds` trap.
fn slice_mut<M: GuestMemory + ?Sized>(mem: &mut M, ptr: u32, len: u32) -> Result<&mut [u8]> {
    let bytes = mem.bytes_mut();
    let r = range(bytes.len(), ptr, len)?;
    // Cannot fail after the check above; `get_mut` keeps it panic-free anyway.
    bytes
        .get_mut(r)
        .ok_or_else(|| Error::trap(TrapKind::PointerOutOfBounds, "string outside memory"))
}

/// Calls `realloc(old_ptr, old_size, align, new_size)` and applies the spec's
/// checks on the result: aligned (trivial for `align == 1`) and in bounds.
fn realloc<M: GuestMemory + ?Sized>(
    mem: &mut M,
    old_ptr: u32,
    old_size: u32,
    align: u32,
    new_size: u32,
) -> Result<u32> {
    let ptr = mem.realloc(old_ptr, old_size, align, new_size)?;
    check_align(ptr, align)?;
    range(mem.bytes().len(), ptr, new_size)?;
    Ok(ptr)
}

/// `a * b`, or a `LengthTooLarge` trap if it does not fit in `u32`. (It
/// always fits after the up-front length check; this keeps it provably so.)
fn mul(a: u32, b: u32) -> Result<u32> {
    a.checked_mul(b)
        .ok_or_else(|| Error::trap(TrapKind::LengthTooLarge, "string too long to store"))
}

/// The text does not agree with its code unit hint: where the spec would
/// fail an assertion. Unreachable for hints produced by [`load_string`] or
/// [`store_string`].
fn mismatch() -> Error {
    Error::trap(
        TrapKind::Other,
        "string does not match its encoding and length hint",
    )
}

/// Encodes `src` as UTF-16LE at the start of `dst`. Returns the number of
/// bytes written, or `None` if they do not fit.
fn write_utf16(dst: &mut [u8], src: &str) -> Option<usize> {
    let mut out = dst.chunks_exact_mut(2);
    let mut n = 0;
    for unit in src.encode_utf16() {
        out.next()?.copy_from_slice(&unit.to_le_bytes());
        n += 2;
    }
    Some(n)
}

/// Encodes `src` as Latin-1 at the start of `dst`. Returns the number of
/// bytes written, or `None` if they do not fit or a char is above U+00FF.
fn write_latin1(dst: &mut [u8], src: &str) -> Option<usize> {
    let mut out = dst.iter_mut();
    let mut n = 0;
    for c in src.chars() {
        *out.next()? = u8::try_from(c).ok()?;
        n += 1;
    }
    Some(n)
}

/// Turns the Latin-1 bytes in the first half of `buf` into UTF-16LE code
/// units filling `buf`, in place. Back to front, so that every byte is read
/// before a code unit overwrites it. (`j < len / 2` keeps `2 * j + 1` in bounds.)
fn inflate_latin1(buf: &mut [u8]) {
    for j in (0..buf.len() / 2).rev() {
        let b = buf[j];
        buf[2 * j] = b;
        buf[2 * j + 1] = 0;
    }
}

/// Turns the UTF-16LE code units (all below U+0100) filling `buf` into
/// Latin-1 bytes in its first half, in place. Front to back, so that every
/// low byte is read before it is overwritten. (`i < len / 2` keeps `2 * i`
/// in bounds.)
fn deflate_to_latin1(buf: &mut [u8]) {
    for i in 0..buf.len() / 2 {
        buf[i] = buf[2 * i];
    }
}

/// Lifts the string at `ptr` of `tagged_len` code units (`latin1+utf16`:
/// the high bit selects UTF-16) from guest memory: the spec's
/// `load_string_from_range`.
///
/// Traps with `LengthTooLarge` if the byte length exceeds
/// `MAX_STRING_BYTE_LENGTH`, `UnalignedPointer` if `ptr` is odd for
/// `utf16` or `latin1+utf16` (even for Latin-1 content),
/// `PointerOutOfBounds` if the bytes reach past memory, and
/// `InvalidEncoding` on invalid UTF-8 or unpaired UTF-16 surrogates.
pub(crate) fn load_string<M: GuestMemory + ?Sized>(
    mem: &M,
    enc: StringEncoding,
    ptr: u32,
    tagged_len: u32,
) -> Result<String> {
    let mut s = String::new();
    load_string_into(mem, enc, ptr, tagged_len, &mut s)?;
    Ok(s)
}

/// The spec's checks of a string about to be lifted, in its order: length,
/// alignment, bounds. Run before anything is charged or allocated for it,
/// so a string the spec traps on traps with the spec's kind, never with a
/// host limit's.
pub(crate) fn check_string_range<M: GuestMemory + ?Sized>(
    mem: &M,
    enc: StringEncoding,
    ptr: u32,
    tagged_len: u32,
) -> Result<()> {
    let (_, _, byte_len) = untag(enc, tagged_len);
    check_length(byte_len)?;
    check_align(ptr, if enc == StringEncoding::Utf8 { 1 } else { 2 })?;
    range(mem.bytes().len(), ptr, byte_len as u32)?;
    Ok(())
}

/// [`load_string`] into `out` (cleared first), reusing its allocation.
pub(crate) fn load_string_into<M: GuestMemory + ?Sized>(
    mem: &M,
    enc: StringEncoding,
    ptr: u32,
    tagged_len: u32,
    out: &mut String,
) -> Result<()> {
    out.clear();
    let (simple, _, byte_len) = untag(enc, tagged_len);
    check_length(byte_len)?;
    check_align(ptr, if enc == StringEncoding::Utf8 { 1 } else { 2 })?;
    let bytes = mem.bytes();
    // `byte_len <= MAX_BYTE_LENGTH` after the check above.
    let bytes = bytes
        .get(range(bytes.len(), ptr, byte_len as u32)?)
        .ok_or_else(|| Error::trap(TrapKind::PointerOutOfBounds, "string outside memory"))?;
    let invalid =
        |e: &dyn core::fmt::Display| Error::trap(TrapKind::InvalidEncoding, alloc::format!("{e}"));
    // Fallible: a guest's string must not abort the host.
    super::budget::try_reserve_str(
        out,
        bytes.len() / if simple == Simple::Utf16 { 2 } else { 1 },
    )?;
    match simple {
        Simple::Utf8 => out.push_str(core::str::from_utf8(bytes).map_err(|e| invalid(&e))?),
        Simple::Utf16 => {
            let units = bytes
                .chunks_exact(2)
                .map(|p| u16::from_le_bytes([p[0], p[1]]));
            for c in char::decode_utf16(units) {
                out.push(c.map_err(|e| invalid(&e))?);
            }
        }
        // Latin-1 byte `b` is code point U+00bb.
        Simple::Latin1 => out.extend(bytes.iter().map(|&b| char::from(b))),
    }
    Ok(())
}

/// Lowers the host string `s` into guest memory in encoding `enc`, calling
/// the guest's `realloc`: the spec's `store_string_into_range` for a source
/// in `utf8` of `s.len()` code units. Returns the pointer and the tagged
/// code unit count.
///
/// Traps with `LengthTooLarge` (before calling `realloc`) if `s` is longer
/// than `MAX_STRING_BYTE_LENGTH` bytes; otherwise fails as
/// [`store_transcoded`] does.
pub(crate) fn store_string<M: GuestMemory + ?Sized>(
    mem: &mut M,
    enc: StringEncoding,
    s: &str,
) -> Result<(u32, u32)> {
    // Anything over `MAX_BYTE_LENGTH` (saturated to `u32::MAX`) traps there.
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    store_transcoded(mem, enc, StringEncoding::Utf8, s, len)
}

/// Lowers the string `src`, lifted from memory in `src_encoding` with
/// `src_tagged_code_units` (the spec's `String` tuple), into guest memory in
/// encoding `dst`: the spec's `store_string_into_range`, with its exact
/// sequence of `realloc` calls for each of the 9 encoding pairs. Returns the
/// pointer and the tagged code unit count.
///
/// Traps with `LengthTooLarge` (before calling `realloc`) if the source is
/// longer than `MAX_STRING_BYTE_LENGTH` bytes; with `UnalignedPointer` or
/// `PointerOutOfBounds` if a `realloc` result is misaligned or its
/// allocation reaches past memory; fails with whatever `realloc` fails
/// with; and traps with `TrapKind::Other` if `src` does not agree with its
/// hint (impossible for a string from [`load_string`]).
pub(crate) fn store_transcoded<M: GuestMemory + ?Sized>(
    mem: &mut M,
    dst: StringEncoding,
    src_encoding: StringEncoding,
    src: &str,
    src_tagged_code_units: u32,
) -> Result<(u32, u32)> {
    use StringEncoding as E;
    let (simple, units, byte_len) = untag(src_encoding, src_tagged_code_units);
    // Loaded strings always pass this; it keeps every size below (at most
    // 3 * 2^27 or 2 * 2^28 bytes) well within `u32`.
    check_length(byte_len)?;
    match (dst, simple) {
        (E::Utf8, Simple::Utf8) => store_copy(mem, src, units, Simple::Utf8),
        (E::Utf8, Simple::Utf16) => store_to_utf8(mem, src, units, 3),
        (E::Utf8, Simple::Latin1) => store_to_utf8(mem, src, units, 2),
        (E::Utf16, Simple::Utf8) => store_utf8_to_utf16(mem, src, units),
        (E::Utf16, Simple::Utf16 | Simple::Latin1) => store_copy(mem, src, units, Simple::Utf16),
        // A `Latin1` source is always `latin1+utf16`.
        (E::CompactUtf16, Simple::Latin1) => store_copy(mem, src, units, Simple::Latin1),
        (E::CompactUtf16, Simple::Utf16) if src_encoding == E::CompactUtf16 => {
            store_probably_utf16_to_latin1_or_utf16(mem, src, units)
        }
        (E::CompactUtf16, _) => store_string_to_latin1_or_utf16(mem, src, units),
    }
}

/// `store_string_copy`: the destination size is exact up front, so one
/// allocation and one encode (a plain copy for UTF-8 to UTF-8).
fn store_copy<M: GuestMemory + ?Sized>(
    mem: &mut M,
    src: &str,
    units: u32,
    to: Simple,
) -> Result<(u32, u32)> {
    let (unit_size, align) = match to {
        Simple::Utf8 => (1, 1),
        Simple::Utf16 => (2, 2),
        Simple::Latin1 => (1, 2),
    };
    let len = mul(units, unit_size)?;
    let ptr = realloc(mem, 0, 0, align, len)?;
    let dst = slice_mut(mem, ptr, len)?;
    let written = match to {
        Simple::Utf8 if src.len() == dst.len() => {
            dst.copy_from_slice(src.as_bytes());
            Some(src.len())
        }
        Simple::Utf8 => None,
        Simple::Utf16 => write_utf16(dst, src),
        Simple::Latin1 => write_latin1(dst, src),
    };
    if written != Some(dst.len()) {
        return Err(mismatch());
    }
    Ok((ptr, units))
}

/// `store_string_to_utf8` (from UTF-16 or Latin-1): allocate one byte per
/// source code unit; at the first non-ASCII char grow to
/// `units * worst_factor` bytes, finish, and shrink to the exact size.
fn store_to_utf8<M: GuestMemory + ?Sized>(
    mem: &mut M,
    src: &str,
    units: u32,
    worst_factor: u32,
) -> Result<(u32, u32)> {
    let ptr = realloc(mem, 0, 0, 1, units)?;
    // The ASCII prefix is byte-for-byte the same in UTF-8: copy it in bulk
    // (the spec's per-code-point loop writes exactly these bytes).
    let ascii = src.bytes().position(|b| !b.is_ascii()).unwrap_or(src.len());
    let (head, tail) = src.as_bytes().split_at(ascii);
    slice_mut(mem, ptr, units)?
        .get_mut(..ascii)
        .ok_or_else(mismatch)?
        .copy_from_slice(head);
    if tail.is_empty() {
        if ascii != units as usize {
            return Err(mismatch());
        }
        return Ok((ptr, units));
    }
    let worst = mul(units, worst_factor)?;
    let ptr = realloc(mem, ptr, units, 1, worst)?;
    let len = u32::try_from(src.len())
        .ok()
        .filter(|&len| len <= worst)
        .ok_or_else(mismatch)?;
    // `realloc` preserved the prefix; write the rest after it.
    slice_mut(mem, ptr, worst)?
        .get_mut(ascii..src.len())
        .ok_or_else(mismatch)?
        .copy_from_slice(tail);
    let ptr = if worst > len {
        realloc(mem, ptr, worst, 1, len)?
    } else {
        ptr
    };
    Ok((ptr, len))
}

/// `store_utf8_to_utf16`: allocate the worst case (2 bytes per UTF-8 byte),
/// encode, and shrink if multi-byte sequences collapsed.
fn store_utf8_to_utf16<M: GuestMemory + ?Sized>(
    mem: &mut M,
    src: &str,
    units: u32,
) -> Result<(u32, u32)> {
    let worst = mul(units, 2)?;
    let ptr = realloc(mem, 0, 0, 2, worst)?;
    let n = write_utf16(slice_mut(mem, ptr, worst)?, src).ok_or_else(mismatch)?;
    // `n <= worst`, a `u32`.
    let n = n as u32;
    let ptr = if n < worst {
        realloc(mem, ptr, worst, 2, n)?
    } else {
        ptr
    };
    Ok((ptr, n / 2))
}

/// `store_string_to_latin1_or_utf16` (from UTF-8 or UTF-16): speculate
/// Latin-1 with one byte per source code unit; at the first char above
/// U+00FF grow to 2 bytes per code unit, inflate what was written to UTF-16
/// in place, finish in UTF-16, and shrink. Otherwise shrink to the Latin-1
/// length.
fn store_string_to_latin1_or_utf16<M: GuestMemory + ?Sized>(
    mem: &mut M,
    src: &str,
    units: u32,
) -> Result<(u32, u32)> {
    let ptr = realloc(mem, 0, 0, 2, units)?;
    let dst = slice_mut(mem, ptr, units)?;
    let mut latin1 = 0usize;
    let mut chars = src.chars();
    // `rest` is the text from the first char above U+00FF on, if any.
    let rest = loop {
        let rest = chars.as_str();
        let Some(c) = chars.next() else { break None };
        let Ok(b) = u8::try_from(c) else {
            break Some(rest);
        };
        *dst.get_mut(latin1).ok_or_else(mismatch)? = b;
        latin1 += 1;
    };
    // `latin1 <= units`, a `u32`.
    let latin1_len = latin1 as u32;
    let Some(rest) = rest else {
        let ptr = if latin1_len < units {
            realloc(mem, ptr, units, 2, latin1_len)?
        } else {
            ptr
        };
        return Ok((ptr, latin1_len));
    };
    let worst = mul(units, 2)?;
    let ptr = realloc(mem, ptr, units, 2, worst)?;
    let dst = slice_mut(mem, ptr, worst)?;
    // `2 * latin1 <= worst`: no overflow.
    let (head, tail) = dst.split_at_mut_checked(2 * latin1).ok_or_else(mismatch)?;
    inflate_latin1(head);
    let n = 2 * latin1 + write_utf16(tail, rest).ok_or_else(mismatch)?;
    // `n <= worst`, a `u32`.
    let n = n as u32;
    let ptr = if worst > n {
        realloc(mem, ptr, worst, 2, n)?
    } else {
        ptr
    };
    Ok((ptr, (n / 2) | UTF16_TAG))
}

/// `store_probably_utf16_to_latin1_or_utf16` (from UTF-16 tagged
/// `latin1+utf16`): the producer chose UTF-16, so allocate and encode
/// UTF-16; if every char turns out to be Latin-1 after all, deflate in
/// place and shrink (always calling `realloc`, as the spec does).
fn store_probably_utf16_to_latin1_or_utf16<M: GuestMemory + ?Sized>(
    mem: &mut M,
    src: &str,
    units: u32,
) -> Result<(u32, u32)> {
    let size = mul(units, 2)?;
    let ptr = realloc(mem, 0, 0, 2, size)?;
    let dst = slice_mut(mem, ptr, size)?;
    let n = write_utf16(dst, src).ok_or_else(mismatch)?;
    // `n <= size`, a `u32`.
    let code_units = (n / 2) as u32;
    if src.chars().any(|c| u32::from(c) >= 0x100) {
        return Ok((ptr, code_units | UTF16_TAG));
    }
    deflate_to_latin1(dst.get_mut(..n).ok_or_else(mismatch)?);
    let ptr = realloc(mem, ptr, size, 1, code_units)?;
    Ok((ptr, code_units))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use StringEncoding as E;

    const MEM_SIZE: usize = 64 * 1024;

    /// A 64 KiB memory with a bump allocator that records every `realloc`
    /// call and, like a real allocator, copies the old contents when it moves.
    struct Mock {
        mem: Vec<u8>,
        next: u32,
        calls: Vec<(u32, u32, u32, u32)>,
        /// If set, `realloc` returns this instead of allocating.
        bogus: Option<u32>,
    }

    impl Mock {
        fn new() -> Self {
            Mock {
                mem: vec![0; MEM_SIZE],
                next: 16,
                calls: Vec::new(),
                bogus: None,
            }
        }

        fn with_bytes(at: u32, bytes: &[u8]) -> Self {
            let mut m = Mock::new();
            let at = at as usize;
            m.mem[at..at + bytes.len()].copy_from_slice(bytes);
            m
        }
    }

    impl GuestMemory for Mock {
        fn bytes(&self) -> &[u8] {
            &self.mem
        }
        fn bytes_mut(&mut self) -> &mut [u8] {
            &mut self.mem
        }
        fn realloc(
            &mut self,
            old_ptr: u32,
            old_size: u32,
            align: u32,
            new_size: u32,
        ) -> Result<u32> {
            self.calls.push((old_ptr, old_size, align, new_size));
            if let Some(p) = self.bogus {
                return Ok(p);
            }
            if old_ptr != 0 && new_size <= old_size {
                return Ok(old_ptr); // shrink in place
            }
            let ptr = self.next.next_multiple_of(align);
            self.next = ptr + new_size;
            let (old, new, n) = (old_ptr as usize, ptr as usize, old_size as usize);
            self.mem.copy_within(old..old + n, new);
            Ok(ptr)
        }
    }

    const SAMPLES: [&str; 4] = ["hello", "café", "日本", "😀"];
    const ALL: [StringEncoding; 3] = [E::Utf8, E::Utf16, E::CompactUtf16];

    fn trap_kind<T: core::fmt::Debug>(r: Result<T>) -> TrapKind {
        r.unwrap_err().trap_kind().unwrap()
    }

    fn round_trip(enc: StringEncoding) {
        for s in SAMPLES {
            let mut m = Mock::new();
            let (ptr, len) = store_string(&mut m, enc, s).unwrap();
            assert_eq!(load_string(&m, enc, ptr, len).unwrap(), s, "{enc:?}");
        }
    }

    #[test]
    fn round_trip_utf8() {
        round_trip(E::Utf8);
    }

    #[test]
    fn round_trip_utf16() {
        round_trip(E::Utf16);
    }

    #[test]
    fn round_trip_latin1_or_utf16() {
        round_trip(E::CompactUtf16);
    }

    #[test]
    fn latin1_or_utf16_tags_only_non_latin1_text() {
        let tagged = |s| {
            store_string(&mut Mock::new(), E::CompactUtf16, s)
                .unwrap()
                .1
        };
        assert_eq!(tagged("café"), 4);
        assert_eq!(tagged("日本"), 2 | UTF16_TAG);
        assert_eq!(tagged("😀"), 2 | UTF16_TAG);
    }

    #[test]
    fn load_latin1_maps_bytes_to_code_points() {
        let m = Mock::with_bytes(32, &[b'c', 0xE9, 0x80, 0xFF]);
        assert_eq!(
            load_string(&m, E::CompactUtf16, 32, 4).unwrap(),
            "c\u{e9}\u{80}\u{ff}"
        );
    }

    #[test]
    fn realloc_calls_utf8_copy() {
        let mut m = Mock::new();
        let (ptr, len) = store_string(&mut m, E::Utf8, "héllo").unwrap();
        assert_eq!(m.calls, [(0, 0, 1, 6)]);
        assert_eq!((ptr, len), (16, 6));
    }

    #[test]
    fn realloc_calls_utf8_to_utf16_shrinks() {
        let mut m = Mock::new();
        let (ptr, len) = store_string(&mut m, E::Utf16, "日本").unwrap();
        assert_eq!(m.calls, [(0, 0, 2, 12), (ptr, 12, 2, 4)]);
        assert_eq!(len, 2);
    }

    #[test]
    fn realloc_calls_utf8_to_utf16_ascii_does_not_shrink() {
        let mut m = Mock::new();
        store_string(&mut m, E::Utf16, "abc").unwrap();
        assert_eq!(m.calls, [(0, 0, 2, 6)]);
    }

    #[test]
    fn realloc_calls_utf8_to_latin1_shrinks() {
        let mut m = Mock::new();
        let (ptr, len) = store_string(&mut m, E::CompactUtf16, "café").unwrap();
        assert_eq!(m.calls, [(0, 0, 2, 5), (ptr, 5, 2, 4)]);
        assert_eq!(len, 4);
        assert_eq!(&m.mem[ptr as usize..][..4], b"caf\xe9");
    }

    #[test]
    fn realloc_calls_utf8_to_latin1_or_utf16_inflates() {
        let mut m = Mock::new();
        // 6 UTF-8 bytes; 'a' and 'é' go out as Latin-1 before '日' forces UTF-16.
        let (ptr, len) = store_string(&mut m, E::CompactUtf16, "aé日").unwrap();
        assert_eq!(m.calls, [(0, 0, 2, 6), (16, 6, 2, 12), (22, 12, 2, 6)]);
        assert_eq!((ptr, len), (22, 3 | UTF16_TAG));
        let utf16: Vec<u8> = "aé日".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(&m.mem[22..28], &utf16[..]);
    }

    #[test]
    fn realloc_calls_utf16_to_utf8_grows_then_shrinks() {
        let mut m = Mock::new();
        let (ptr, len) = store_transcoded(&mut m, E::Utf8, E::Utf16, "aé", 2).unwrap();
        assert_eq!(m.calls, [(0, 0, 1, 2), (16, 2, 1, 6), (18, 6, 1, 3)]);
        assert_eq!((ptr, len), (18, 3));
        assert_eq!(&m.mem[18..21], "aé".as_bytes());
    }

    #[test]
    fn realloc_calls_probably_utf16_deflates_to_latin1() {
        let mut m = Mock::new();
        let (ptr, len) = store_transcoded(
            &mut m,
            E::CompactUtf16,
            E::CompactUtf16,
            "café",
            4 | UTF16_TAG,
        )
        .unwrap();
        assert_eq!(m.calls, [(0, 0, 2, 8), (ptr, 8, 1, 4)]);
        assert_eq!(len, 4);
        assert_eq!(load_string(&m, E::CompactUtf16, ptr, len).unwrap(), "café");
    }

    #[test]
    fn empty_string_still_calls_realloc() {
        for (enc, align) in [(E::Utf8, 1), (E::Utf16, 2), (E::CompactUtf16, 2)] {
            let mut m = Mock::new();
            let (ptr, len) = store_string(&mut m, enc, "").unwrap();
            assert_eq!(m.calls, [(0, 0, align, 0)], "{enc:?}");
            assert_eq!(len, 0);
            assert_eq!(load_string(&m, enc, ptr, len).unwrap(), "");
        }
    }

    #[test]
    fn transcoded_all_nine_pairs_round_trip() {
        for src_enc in ALL {
            for dst_enc in ALL {
                for s in SAMPLES.iter().chain(&["", "aé日😀"]) {
                    // The hint a real lift would produce: store into the source encoding.
                    let (_, src_len) = store_string(&mut Mock::new(), src_enc, s).unwrap();
                    let mut m = Mock::new();
                    let (ptr, len) =
                        store_transcoded(&mut m, dst_enc, src_enc, s, src_len).unwrap();
                    let back = load_string(&m, dst_enc, ptr, len).unwrap();
                    assert_eq!(back, *s, "{src_enc:?} -> {dst_enc:?}");
                }
            }
        }
    }

    #[test]
    fn load_length_too_large_traps() {
        let m = Mock::new();
        let too_long = MAX_BYTE_LENGTH + 1;
        assert_eq!(
            trap_kind(load_string(&m, E::Utf8, 0, too_long)),
            TrapKind::LengthTooLarge
        );
        // 2^27 UTF-16 code units are 2^28 bytes.
        let units = 1 << 27;
        assert_eq!(
            trap_kind(load_string(&m, E::Utf16, 0, units)),
            TrapKind::LengthTooLarge
        );
        assert_eq!(
            trap_kind(load_string(&m, E::CompactUtf16, 0, units | UTF16_TAG)),
            TrapKind::LengthTooLarge
        );
        assert_eq!(
            trap_kind(load_string(&m, E::Utf8, 0, u32::MAX)),
            TrapKind::LengthTooLarge
        );
    }

    #[test]
    fn store_length_too_large_traps_before_realloc() {
        let mut m = Mock::new();
        let r = store_transcoded(&mut m, E::Utf8, E::Utf8, "", MAX_BYTE_LENGTH + 1);
        assert_eq!(trap_kind(r), TrapKind::LengthTooLarge);
        let r = store_transcoded(&mut m, E::Utf8, E::Utf16, "", 1 << 27);
        assert_eq!(trap_kind(r), TrapKind::LengthTooLarge);
        assert!(m.calls.is_empty());
    }

    #[test]
    fn load_misaligned_utf16_traps() {
        let m = Mock::new();
        assert_eq!(
            trap_kind(load_string(&m, E::Utf16, 33, 1)),
            TrapKind::UnalignedPointer
        );
    }

    #[test]
    fn load_misaligned_latin1_traps() {
        let m = Mock::new();
        // Latin-1 content still needs 2-byte alignment under `latin1+utf16`.
        assert_eq!(
            trap_kind(load_string(&m, E::CompactUtf16, 33, 1)),
            TrapKind::UnalignedPointer
        );
    }

    #[test]
    fn load_out_of_bounds_traps() {
        let m = Mock::new();
        let end = MEM_SIZE as u32;
        assert_eq!(
            trap_kind(load_string(&m, E::Utf8, end - 2, 3)),
            TrapKind::PointerOutOfBounds
        );
        assert_eq!(
            trap_kind(load_string(&m, E::Utf16, end - 2, 2)),
            TrapKind::PointerOutOfBounds
        );
        // ptr + len would overflow u32.
        assert_eq!(
            trap_kind(load_string(&m, E::Utf8, u32::MAX, MAX_BYTE_LENGTH)),
            TrapKind::PointerOutOfBounds
        );
        // Exactly up to the end is fine.
        assert_eq!(load_string(&m, E::Utf8, end - 2, 2).unwrap(), "\0\0");
    }

    #[test]
    fn load_invalid_utf8_traps() {
        let m = Mock::with_bytes(32, &[b'a', 0xFF]);
        assert_eq!(
            trap_kind(load_string(&m, E::Utf8, 32, 2)),
            TrapKind::InvalidEncoding
        );
    }

    #[test]
    fn load_unpaired_surrogate_traps() {
        // A lone high surrogate U+D800, then 'a'.
        let m = Mock::with_bytes(32, &[0x00, 0xD8, b'a', 0x00]);
        assert_eq!(
            trap_kind(load_string(&m, E::Utf16, 32, 2)),
            TrapKind::InvalidEncoding
        );
        assert_eq!(
            trap_kind(load_string(&m, E::CompactUtf16, 32, 2 | UTF16_TAG)),
            TrapKind::InvalidEncoding
        );
    }

    #[test]
    fn store_realloc_misaligned_traps() {
        for enc in [E::Utf16, E::CompactUtf16] {
            let mut m = Mock::new();
            m.bogus = Some(33);
            assert_eq!(
                trap_kind(store_string(&mut m, enc, "hi")),
                TrapKind::UnalignedPointer
            );
        }
    }

    #[test]
    fn store_realloc_out_of_bounds_traps() {
        for enc in ALL {
            for bogus in [MEM_SIZE as u32 - 2, u32::MAX - 1] {
                let mut m = Mock::new();
                m.bogus = Some(bogus);
                let r = store_string(&mut m, enc, "hello");
                assert_eq!(trap_kind(r), TrapKind::PointerOutOfBounds, "{enc:?}");
            }
        }
    }

    #[test]
    fn store_mismatched_hint_errors_without_panic() {
        for dst in ALL {
            for (src_enc, s, len) in [
                (E::Utf8, "hello", 3),
                (E::Utf8, "hi", 3),
                (E::Utf16, "日本", 1),
                (E::Utf16, "a", 2),
                (E::CompactUtf16, "日本", 2),
                (E::CompactUtf16, "ab", 1),
                (E::CompactUtf16, "日本", 1 | UTF16_TAG),
            ] {
                let mut m = Mock::new();
                let _ = store_transcoded(&mut m, dst, src_enc, s, len);
            }
        }
        let r = store_transcoded(&mut Mock::new(), E::Utf8, E::Utf8, "hello", 3);
        assert_eq!(trap_kind(r), TrapKind::Other);
    }
}
