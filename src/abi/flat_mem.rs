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

#[cfg(all(test, feature = "validate"))]
mod tests {
    //! `load_flat` and `store_flat` against the canonical ABI's own
    //! lowering and lifting, over every shape the flat form has: scalars
    //! of each size, strings, lists, records and tuples with padding,
    //! flags, enums, and variants whose cases join different flat types.
    use super::*;
    use crate::abi::lift::LiftCx;
    use crate::abi::lower::LowerCx;
    use crate::abi::GuestMemory;
    use crate::abi::StringEncoding;
    use crate::values::Val;
    use alloc::boxed::Box;
    use alloc::string::String;
    use alloc::vec;
    use alloc::vec::Vec;

    /// A bump-allocated host memory.
    struct Mem(Vec<u8>);

    impl GuestMemory for Mem {
        fn bytes(&self) -> &[u8] {
            &self.0
        }
        fn bytes_mut(&mut self) -> &mut [u8] {
            &mut self.0
        }
        fn realloc(&mut self, _: u32, _: u32, align: u32, size: u32) -> Result<u32> {
            let p = self.0.len().next_multiple_of(align.max(1) as usize);
            self.0.resize(p + size as usize, 0);
            Ok(p as u32)
        }
    }

    const TYPES: &str = r#"(component
      (type $r0 (record (field "a" u8) (field "b" f64) (field "c" string) (field "d" s16)))
      (type $v0 (variant (case "none") (case "byte" u8) (case "single" f32)
                         (case "wide" u64) (case "text" string) (case "pair" (tuple s8 f64))))
      (type $fl0 (flags "x" "y" "z"))
      (type $e0 (enum "p" "q" "r"))
      (import "r" (type $r (eq $r0)))
      (import "v" (type $v (eq $v0)))
      (import "fl" (type $fl (eq $fl0)))
      (import "e" (type $e (eq $e0)))
      (import "f" (func (param "r" $r) (param "v" $v) (param "fl" $fl) (param "e" $e)
                        (param "o" (option (list u16)))
                        (param "res" (result (tuple s8 u32) (error char)))
                        (param "b" bool))))"#;

    fn s(x: &str) -> Val {
        Val::String(String::from(x))
    }

    #[test]
    fn flat_and_memory_forms_agree_with_lowering_and_lifting() {
        let engine = crate::Engine::default();
        let bytes = wat::parse_str(TYPES).expect("wat");
        let component = crate::Component::new(&engine, &bytes).expect("load");
        let arena = &component.inner.arena;
        let f = arena.funcs.last().expect("the function type");
        let tys: Vec<ValType> = f.params.iter().map(|p| p.1).collect();
        let rec = |b: f64| {
            Val::Record(vec![
                (String::from("a"), Val::U8(200)),
                (String::from("b"), Val::Float64(b)),
                (String::from("c"), s("héllo")),
                (String::from("d"), Val::S16(-3)),
            ])
        };
        let variant =
            |case: &str, v: Option<Val>| Val::Variant(String::from(case), v.map(Box::new));
        let values: Vec<(usize, Val)> = vec![
            (0, rec(1.5)),
            (1, variant("none", None)),
            (1, variant("byte", Some(Val::U8(7)))),
            (1, variant("single", Some(Val::Float32(-2.25)))),
            (1, variant("wide", Some(Val::U64(u64::MAX - 1)))),
            (1, variant("text", Some(s("case")))),
            (
                1,
                variant(
                    "pair",
                    Some(Val::Tuple(vec![Val::S8(-1), Val::Float64(0.5)])),
                ),
            ),
            (2, Val::Flags(vec![String::from("x"), String::from("z")])),
            (3, Val::Enum(String::from("q"))),
            (4, Val::Option(None)),
            (
                4,
                Val::Option(Some(Box::new(Val::List(vec![
                    Val::U16(1),
                    Val::U16(65535),
                ])))),
            ),
            (
                5,
                Val::Result(Ok(Some(Box::new(Val::Tuple(vec![
                    Val::S8(-128),
                    Val::U32(9),
                ]))))),
            ),
            (5, Val::Result(Err(Some(Box::new(Val::Char('é')))))),
            (6, Val::Bool(true)),
        ];
        for (i, v) in values {
            let ty = tys[i];
            let mut mem = Mem(vec![0; 64]);
            // flat (lowered) -> memory (store_flat) -> lifted
            let mut flat = Flat::new();
            LowerCx {
                arena,
                mem: &mut mem,
                enc: StringEncoding::Utf8,
            }
            .lower_flat(&v, ty, &mut flat)
            .expect("lower_flat");
            let l = arena.layout(ty);
            let at = mem.realloc(0, 0, l.align, l.size).expect("alloc");
            let mut pos = 0;
            store_flat(arena, ty, &flat, &mut pos, &mut mem.0, at).expect("store_flat");
            assert_eq!(
                pos,
                flat.len(),
                "{v:?}: store_flat consumed the flat values"
            );
            let back = LiftCx {
                arena,
                mem: &mut mem,
                enc: StringEncoding::Utf8,
            }
            .load(ty, at)
            .expect("load");
            assert_eq!(back, v, "store_flat of {v:?}");
            // memory (stored) -> flat (load_flat) -> lifted
            let at = mem.realloc(0, 0, l.align, l.size).expect("alloc");
            LowerCx {
                arena,
                mem: &mut mem,
                enc: StringEncoding::Utf8,
            }
            .store(&v, ty, at)
            .expect("store");
            let mut loaded = Flat::new();
            load_flat(arena, ty, &mem.0, at, &mut loaded).expect("load_flat");
            assert_eq!(loaded.len(), arena.flat(ty).len(), "{v:?}: flat length");
            let mut pos = 0;
            let back = LiftCx {
                arena,
                mem: &mut mem,
                enc: StringEncoding::Utf8,
            }
            .lift_flat(ty, &loaded, &mut pos)
            .expect("lift_flat");
            assert_eq!(back, v, "load_flat of {v:?}");
        }
    }

    #[test]
    fn bad_discriminants_and_bounds_are_traps() {
        let engine = crate::Engine::default();
        let bytes = wat::parse_str(TYPES).expect("wat");
        let component = crate::Component::new(&engine, &bytes).expect("load");
        let arena = &component.inner.arena;
        let f = arena.funcs.last().expect("the function type");
        let variant = f.params[1].1;
        let mut out = Flat::new();
        let e = load_flat(
            arena,
            variant,
            &[9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            0,
            &mut out,
        )
        .expect_err("discriminant 9 of 6 cases");
        assert_eq!(e.trap_kind(), Some(TrapKind::InvalidDiscriminant), "{e}");
        // Case 4 ("text") has its payload past the 4 bytes there are.
        let e = load_flat(arena, variant, &[4, 0, 0, 0], 0, &mut out).expect_err("out of bounds");
        assert_eq!(e.trap_kind(), Some(TrapKind::PointerOutOfBounds), "{e}");
        let mut bytes = [0u8; 4];
        let e = store_flat(arena, variant, &[7, 0, 0], &mut 0, &mut bytes, 0)
            .expect_err("discriminant 7");
        assert_eq!(e.trap_kind(), Some(TrapKind::InvalidDiscriminant), "{e}");
        let e = store_flat(arena, variant, &[], &mut 0, &mut bytes, 0).expect_err("no flat values");
        assert!(e.is_trap(), "{e}");
    }
}
