//! Every component model 0.2 value type, in both directions:
//!
//! * host → guest → host: an exported `echo: func(x: T) -> T` whose core
//!   function returns its flat parameters (a single flat value as is; else
//!   stored at a static return area laid out per the canonical ABI, whose
//!   pointer it returns), so the host's lowering (flat) and lifting (flat or
//!   from memory) both have to be right;
//! * guest → host: an imported `f: func(x: T) -> T` called by an exported
//!   `run: func(x: T) -> T` that forwards its flat arguments to `f` (with a
//!   return pointer when the result spills). The host function checks what
//!   it receives and answers a different value, which `run` must return.
//!
//! Then spilling (17 flat params, spilled results, spilled import params
//! and results), `post-return`, and `realloc` for empty strings and lists.

mod common;

use common::*;
use componentry::*;

/// A value type under test.
struct Ty {
    /// Named types it needs, `(name, definition)`, in dependency order.
    /// Records, variants, enums and flags must be named to appear in an
    /// exported or imported function type.
    defs: &'static [(&'static str, &'static str)],
    /// The type as written in a component function type.
    ty: &'static str,
    /// Its flattened core types.
    flat: &'static [&'static str],
    /// For types with more than one flat value (a spilled result): core
    /// instructions that store the flat parameters (locals 0..) at the
    /// return area [`RET`] as the canonical ABI lays out the type, ending
    /// with the pointer on the stack.
    store: &'static str,
}

impl Ty {
    const fn prim(ty: &'static str, flat: &'static str) -> Ty {
        Ty {
            defs: &[],
            ty,
            flat: match flat.as_bytes() {
                b"i32" => &["i32"],
                b"i64" => &["i64"],
                b"f32" => &["f32"],
                _ => &["f64"],
            },
            store: "",
        }
    }

    fn spilled(&self) -> bool {
        self.flat.len() > 1
    }

    /// `(type $n-def D) (export $n "n" (type $n-def))` or `(import ...)`.
    fn type_decls(&self, import: bool) -> String {
        self.defs
            .iter()
            .map(|(n, d)| {
                if import {
                    format!("(type ${n}-def {d}) (import \"{n}\" (type ${n} (eq ${n}-def)))\n")
                } else {
                    format!("(type ${n}-def {d}) (export ${n} \"{n}\" (type ${n}-def))\n")
                }
            })
            .collect()
    }

    /// A component exporting `echo: func(x: T) -> T`.
    fn echo_wat(&self) -> String {
        let params = self.flat.join(" ");
        let (result, body) = if self.spilled() {
            ("i32", self.store)
        } else {
            (self.flat[0], "local.get 0")
        };
        let core = format!("(func (export \"echo\") (param {params}) (result {result}) {body})");
        let exports = format!(
            "(func (export \"echo\") (param \"x\" {ty}) (result {ty}) (canon lift (core func $i \"echo\") {OPTS}))",
            ty = self.ty
        );
        exports_component(&self.type_decls(false), &core, &exports)
    }

    /// A component importing `f: func(x: T) -> T` and exporting
    /// `run: func(x: T) -> T`, which forwards to `f`.
    fn forward_wat(&self) -> String {
        let ty = self.ty;
        let imports = format!(
            "{}(import \"f\" (func $f (param \"x\" {ty}) (result {ty})))",
            self.type_decls(true)
        );
        let lowers = format!("(core func $f-lower (canon lower (func $f) {OPTS}))");
        let params = self.flat.join(" ");
        let gets: String = (0..self.flat.len())
            .map(|k| format!("local.get {k} "))
            .collect();
        let core = if self.spilled() {
            format!(
                "(import \"host\" \"f\" (func $f (param {params} i32)))
                 (func (export \"run\") (param {params}) (result i32) {gets} i32.const {RET} call $f i32.const {RET})"
            )
        } else {
            let r = self.flat[0];
            format!(
                "(import \"host\" \"f\" (func $f (param {params}) (result {r})))
                 (func (export \"run\") (param {params}) (result {r}) {gets} call $f)"
            )
        };
        let exports = format!(
            "(func (export \"run\") (param \"x\" {ty}) (result {ty}) (canon lift (core func $i \"run\") {OPTS}))"
        );
        imports_component(
            &imports,
            &lowers,
            &core,
            "(export \"f\" (func $f-lower))",
            &exports,
        )
    }
}

/// Asserts that `echo` returns each of `vals` unchanged.
fn check_echo(t: &Ty, vals: &[Val]) {
    let (mut store, inst) = instantiate(&t.echo_wat());
    for v in vals {
        let r = call(&mut store, &inst, "echo", std::slice::from_ref(v));
        assert_eq!(r, Ok(Some(v.clone())), "echo of {v} as {}", t.ty);
    }
}

/// For each `(input, output)`: calls `run(input)`, which forwards to the
/// host's `f`; `f` must receive exactly `input` and answers `output`,
/// which `run` must return.
fn check_forward(t: &Ty, pairs: &[(Val, Val)]) {
    let engine = Engine::default();
    let component = load(&engine, &t.forward_wat());
    let mut linker = Linker::<Vec<Val>>::new(&engine);
    let table: Vec<(Val, Val)> = pairs.to_vec();
    linker
        .root()
        .func_new("f", move |mut cx, params, results| {
            cx.data_mut().extend_from_slice(params);
            let out = table
                .iter()
                .find(|(i, _)| params.first() == Some(i))
                .map(|(_, o)| o.clone())
                .ok_or_else(|| Error::host(format!("unexpected argument {params:?}")))?;
            results[0] = out;
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    for (input, output) in pairs {
        store.data_mut().clear();
        let r = call(&mut store, &inst, "run", std::slice::from_ref(input));
        assert_eq!(
            store.data(),
            std::slice::from_ref(input),
            "argument the host saw"
        );
        assert_eq!(
            r,
            Ok(Some(output.clone())),
            "result of run({input}) as {}",
            t.ty
        );
    }
}

// ---------------------------------------------------------------- types

const BOOL: Ty = Ty::prim("bool", "i32");
const S8: Ty = Ty::prim("s8", "i32");
const U8: Ty = Ty::prim("u8", "i32");
const S16: Ty = Ty::prim("s16", "i32");
const U16: Ty = Ty::prim("u16", "i32");
const S32: Ty = Ty::prim("s32", "i32");
const U32: Ty = Ty::prim("u32", "i32");
const S64: Ty = Ty::prim("s64", "i64");
const U64: Ty = Ty::prim("u64", "i64");
const F32: Ty = Ty::prim("f32", "f32");
const F64: Ty = Ty::prim("f64", "f64");
const CHAR: Ty = Ty::prim("char", "i32");

/// Stores (ptr, len) at the return area: strings and lists.
const STORE_PTR_LEN: &str = "
    (i32.store (i32.const 16) (local.get 0))
    (i32.store (i32.const 20) (local.get 1))
    (i32.const 16)";

const fn ptr_len(ty: &'static str) -> Ty {
    Ty {
        defs: &[],
        ty,
        flat: &["i32", "i32"],
        store: STORE_PTR_LEN,
    }
}

const STRING: Ty = ptr_len("string");
const LIST_U8: Ty = ptr_len("(list u8)");
const LIST_U32: Ty = ptr_len("(list u32)");
const LIST_STRING: Ty = ptr_len("(list string)");
const LIST_LIST_U16: Ty = ptr_len("(list (list u16))");

/// record { a: u8, b: u32, c: u16, d: u64, e: bool, f: f32 }: offsets
/// 0, 4, 8, 16, 24, 28; size 32, alignment 8.
const RECORD: Ty = Ty {
    defs: &[(
        "rec",
        r#"(record (field "a" u8) (field "b" u32) (field "c" u16) (field "d" u64) (field "e" bool) (field "f" f32))"#,
    )],
    ty: "$rec",
    flat: &["i32", "i32", "i32", "i64", "i32", "f32"],
    store: "
        (i32.store8 (i32.const 16) (local.get 0))
        (i32.store (i32.const 20) (local.get 1))
        (i32.store16 (i32.const 24) (local.get 2))
        (i64.store (i32.const 32) (local.get 3))
        (i32.store8 (i32.const 40) (local.get 4))
        (f32.store (i32.const 44) (local.get 5))
        (i32.const 16)",
};

/// tuple<u16, f64, char>: offsets 0, 8, 16; size 24, alignment 8.
const TUPLE: Ty = Ty {
    defs: &[],
    ty: "(tuple u16 f64 char)",
    flat: &["i32", "f64", "i32"],
    store: "
        (i32.store16 (i32.const 16) (local.get 0))
        (f64.store (i32.const 24) (local.get 1))
        (i32.store (i32.const 32) (local.get 2))
        (i32.const 16)",
};

/// variant { a(u32), b(f32), c(u64), d(f64), e(string), f }: flat
/// [i32, join(i32, f32, i64, f64, i32) = i64, i32]; a 1-byte discriminant,
/// payload at offset 8; size 16. The echo stores the i64 slot as is (its
/// low half is the u32/f32 bits, the whole is the u64/f64 bits, or its low
/// half is the string pointer) and the string length at offset 12.
const VARIANT: Ty = Ty {
    defs: &[(
        "v",
        r#"(variant (case "a" u32) (case "b" f32) (case "c" u64) (case "d" f64) (case "e" string) (case "f"))"#,
    )],
    ty: "$v",
    flat: &["i32", "i64", "i32"],
    store: "
        (i32.store8 (i32.const 16) (local.get 0))
        (i64.store (i32.const 24) (local.get 1))
        (if (i32.eq (local.get 0) (i32.const 4))
          (then (i32.store (i32.const 28) (local.get 2))))
        (i32.const 16)",
};

const ENUM: Ty = Ty {
    defs: &[("e", r#"(enum "a" "b" "c")"#)],
    ty: "$e",
    flat: &["i32"],
    store: "",
};

/// Discriminant, then the payload at offset 4 (one or two i32s).
const STORE_DISC_I32_I32: &str = "
    (i32.store8 (i32.const 16) (local.get 0))
    (i32.store (i32.const 20) (local.get 1))
    (i32.store (i32.const 24) (local.get 2))
    (i32.const 16)";

const OPTION_U32: Ty = Ty {
    defs: &[],
    ty: "(option u32)",
    flat: &["i32", "i32"],
    store: "
        (i32.store8 (i32.const 16) (local.get 0))
        (i32.store (i32.const 20) (local.get 1))
        (i32.const 16)",
};

const OPTION_STRING: Ty = Ty {
    defs: &[],
    ty: "(option string)",
    flat: &["i32", "i32", "i32"],
    store: STORE_DISC_I32_I32,
};

const RESULT_U32_STRING: Ty = Ty {
    defs: &[],
    ty: "(result u32 (error string))",
    flat: &["i32", "i32", "i32"],
    store: STORE_DISC_I32_I32,
};

const RESULT_BARE: Ty = Ty {
    defs: &[],
    ty: "(result)",
    flat: &["i32"],
    store: "",
};

const RESULT_ERR_ONLY: Ty = Ty {
    defs: &[],
    ty: "(result (error string))",
    flat: &["i32", "i32", "i32"],
    store: STORE_DISC_I32_I32,
};

/// WAT `(flags "f0" ... "f{n-1}")`, leaked to be `'static`.
fn flags_def(n: usize) -> &'static str {
    let labels: Vec<String> = (0..n).map(|k| format!("\"f{k}\"")).collect();
    Box::leak(format!("(flags {})", labels.join(" ")).into_boxed_str())
}

fn flags_ty(n: usize) -> Ty {
    let defs: &'static [(&'static str, &'static str)] = Box::leak(Box::new([("fl", flags_def(n))]));
    Ty {
        defs,
        ty: "$fl",
        flat: &["i32"],
        store: "",
    }
}

fn labels(ks: &[usize]) -> Val {
    Val::Flags(ks.iter().map(|k| format!("f{k}")).collect())
}

// ------------------------------------------------- echo (host → guest → host)

#[test]
fn echo_bool() {
    check_echo(&BOOL, &[Val::Bool(true), Val::Bool(false)]);
}

#[test]
fn echo_s8() {
    check_echo(
        &S8,
        &[Val::S8(i8::MIN), Val::S8(-1), Val::S8(0), Val::S8(i8::MAX)],
    );
}

#[test]
fn echo_u8() {
    check_echo(&U8, &[Val::U8(0), Val::U8(1), Val::U8(u8::MAX)]);
}

#[test]
fn echo_s16() {
    check_echo(
        &S16,
        &[Val::S16(i16::MIN), Val::S16(-1), Val::S16(i16::MAX)],
    );
}

#[test]
fn echo_u16() {
    check_echo(&U16, &[Val::U16(0), Val::U16(0x8000), Val::U16(u16::MAX)]);
}

#[test]
fn echo_s32() {
    check_echo(
        &S32,
        &[Val::S32(i32::MIN), Val::S32(-1), Val::S32(i32::MAX)],
    );
}

#[test]
fn echo_u32() {
    check_echo(
        &U32,
        &[Val::U32(0), Val::U32(0x8000_0000), Val::U32(u32::MAX)],
    );
}

#[test]
fn echo_s64() {
    check_echo(
        &S64,
        &[Val::S64(i64::MIN), Val::S64(-1), Val::S64(i64::MAX)],
    );
}

#[test]
fn echo_u64() {
    check_echo(&U64, &[Val::U64(0), Val::U64(1 << 63), Val::U64(u64::MAX)]);
}

fn f32_bits(v: Option<Val>) -> u32 {
    match v {
        Some(Val::Float32(f)) => f.to_bits(),
        other => panic!("expected an f32, got {other:?}"),
    }
}

fn f64_bits(v: Option<Val>) -> u64 {
    match v {
        Some(Val::Float64(f)) => f.to_bits(),
        other => panic!("expected an f64, got {other:?}"),
    }
}

#[test]
fn echo_f32_keeps_bits() {
    let (mut store, inst) = instantiate(&F32.echo_wat());
    for f in [
        1.5f32,
        -0.0,
        0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::MAX,
    ] {
        let r = call(&mut store, &inst, "echo", &[Val::Float32(f)]).unwrap();
        assert_eq!(f32_bits(r), f.to_bits(), "{f}");
    }
}

#[test]
fn echo_f64_keeps_bits() {
    let (mut store, inst) = instantiate(&F64.echo_wat());
    for f in [
        1.5f64,
        -0.0,
        0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE,
        f64::from_bits(1),
        f64::MAX,
    ] {
        let r = call(&mut store, &inst, "echo", &[Val::Float64(f)]).unwrap();
        assert_eq!(f64_bits(r), f.to_bits(), "{f}");
    }
}

#[test]
fn echo_f32_nan_lifts_canonical() {
    let (mut store, inst) = instantiate(&F32.echo_wat());
    for bits in [0x7fc0_0000u32, 0x7fa0_0001, 0xffc0_0001, 0x7f80_0001] {
        let r = call(
            &mut store,
            &inst,
            "echo",
            &[Val::Float32(f32::from_bits(bits))],
        )
        .unwrap();
        assert_eq!(f32_bits(r), 0x7fc0_0000, "NaN {bits:#x}");
    }
}

#[test]
fn echo_f64_nan_lifts_canonical() {
    let (mut store, inst) = instantiate(&F64.echo_wat());
    for bits in [
        0x7ff8_0000_0000_0000u64,
        0x7ff0_0000_0000_0001,
        0xfff8_0000_0000_0001,
    ] {
        let r = call(
            &mut store,
            &inst,
            "echo",
            &[Val::Float64(f64::from_bits(bits))],
        )
        .unwrap();
        assert_eq!(f64_bits(r), 0x7ff8_0000_0000_0000, "NaN {bits:#x}");
    }
}

/// A component exporting `nan32: func() -> f32`, `nan64: func() -> f64`
/// (non-canonical NaNs made by core wasm) and `nans: func() -> tuple<f32,
/// f64>` (non-canonical NaNs in memory).
fn nan_component() -> String {
    let mut bytes = 0x7f80_0001u32.to_le_bytes().to_vec();
    bytes.extend([0; 4]);
    bytes.extend(0xfff0_0000_0000_0001u64.to_le_bytes());
    let core = format!(
        r#"(func (export "nan32") (result f32) (f32.reinterpret_i32 (i32.const 0xffa00001)))
           (func (export "nan64") (result f64) (f64.reinterpret_i64 (i64.const 0x7ff4000000000001)))
           (func (export "nans") (result i32) (i32.const 64))
           {}"#,
        data(64, &bytes)
    );
    let exports = format!(
        r#"(func (export "nan32") (result f32) (canon lift (core func $i "nan32")))
           (func (export "nan64") (result f64) (canon lift (core func $i "nan64")))
           (func (export "nans") (result (tuple f32 f64)) (canon lift (core func $i "nans") {OPTS}))"#
    );
    exports_component("", &core, &exports)
}

#[test]
fn f32_nan_from_guest_lifts_canonical() {
    let (mut store, inst) = instantiate(&nan_component());
    let r = call(&mut store, &inst, "nan32", &[]).unwrap();
    assert_eq!(f32_bits(r), 0x7fc0_0000);
}

#[test]
fn f64_nan_from_guest_lifts_canonical() {
    let (mut store, inst) = instantiate(&nan_component());
    let r = call(&mut store, &inst, "nan64", &[]).unwrap();
    assert_eq!(f64_bits(r), 0x7ff8_0000_0000_0000);
}

#[test]
fn float_nans_loaded_from_memory_lift_canonical() {
    let (mut store, inst) = instantiate(&nan_component());
    match call(&mut store, &inst, "nans", &[]).unwrap() {
        Some(Val::Tuple(vs)) if vs.len() == 2 => {
            assert_eq!(f32_bits(Some(vs[0].clone())), 0x7fc0_0000);
            assert_eq!(f64_bits(Some(vs[1].clone())), 0x7ff8_0000_0000_0000);
        }
        other => panic!("expected a tuple of two floats, got {other:?}"),
    }
}

#[test]
fn echo_char() {
    check_echo(
        &CHAR,
        &[
            'a',
            '\0',
            'é',
            '日',
            '😀',
            '\u{D7FF}',
            '\u{E000}',
            '\u{10FFFF}',
        ]
        .map(Val::Char),
    );
}

#[test]
fn echo_string() {
    check_echo(
        &STRING,
        &[
            s(""),
            s("hello"),
            s("héllo, 日本語 😀"),
            s(&"x".repeat(70_000)),
        ],
    );
}

#[test]
fn echo_list_u8() {
    check_echo(
        &LIST_U8,
        &[
            bytes_val(&[]),
            bytes_val(&[0, 1, 255]),
            bytes_val(&[7; 1000]),
        ],
    );
}

#[test]
fn echo_list_u32() {
    check_echo(
        &LIST_U32,
        &[
            Val::List(vec![]),
            Val::List(vec![Val::U32(1), Val::U32(u32::MAX), Val::U32(0x0102_0304)]),
        ],
    );
}

#[test]
fn echo_list_string() {
    check_echo(
        &LIST_STRING,
        &[
            Val::List(vec![]),
            Val::List(vec![s("a"), s(""), s("日本"), s("😀😀")]),
        ],
    );
}

#[test]
fn echo_list_list_u16() {
    let l = |xs: &[u16]| Val::List(xs.iter().map(|&x| Val::U16(x)).collect());
    check_echo(
        &LIST_LIST_U16,
        &[
            Val::List(vec![]),
            Val::List(vec![l(&[]), l(&[1, 2, 3]), l(&[u16::MAX]), l(&[])]),
        ],
    );
}

fn rec_val(a: u8, b: u32, c: u16, d: u64, e: bool, f: f32) -> Val {
    record(&[
        ("a", Val::U8(a)),
        ("b", Val::U32(b)),
        ("c", Val::U16(c)),
        ("d", Val::U64(d)),
        ("e", Val::Bool(e)),
        ("f", Val::Float32(f)),
    ])
}

#[test]
fn echo_record_with_padding() {
    check_echo(
        &RECORD,
        &[
            rec_val(0xAB, 0xDEAD_BEEF, 0xBEEF, 0x0123_4567_89AB_CDEF, true, -2.5),
            rec_val(0, 0, 0, 0, false, 0.0),
            rec_val(u8::MAX, u32::MAX, u16::MAX, u64::MAX, true, f32::MAX),
        ],
    );
}

fn tuple_val(a: u16, b: f64, c: char) -> Val {
    Val::Tuple(vec![Val::U16(a), Val::Float64(b), Val::Char(c)])
}

#[test]
fn echo_tuple() {
    check_echo(
        &TUPLE,
        &[tuple_val(7, 3.25, '😀'), tuple_val(u16::MAX, -1e300, '\0')],
    );
}

fn variant_cases() -> Vec<Val> {
    vec![
        variant("a", Some(Val::U32(u32::MAX))),
        variant("b", Some(Val::Float32(1.5))),
        variant("b", Some(Val::Float32(-3.0e38))),
        variant("c", Some(Val::U64(0xFEDC_BA98_7654_3210))),
        variant("d", Some(Val::Float64(-2.5e300))),
        variant("e", Some(s("variant 😀"))),
        variant("e", Some(s(""))),
        variant("f", None),
    ]
}

#[test]
fn echo_variant_with_joined_payloads() {
    check_echo(&VARIANT, &variant_cases());
}

#[test]
fn echo_enum() {
    check_echo(&ENUM, &["a", "b", "c"].map(|c| Val::Enum(c.to_string())));
}

#[test]
fn echo_option_u32() {
    check_echo(
        &OPTION_U32,
        &[
            Val::Option(None),
            some(Val::U32(0)),
            some(Val::U32(u32::MAX)),
        ],
    );
}

#[test]
fn echo_option_string() {
    check_echo(
        &OPTION_STRING,
        &[Val::Option(None), some(s("")), some(s("some 日本"))],
    );
}

#[test]
fn echo_result_with_payloads() {
    check_echo(
        &RESULT_U32_STRING,
        &[
            ok(Some(Val::U32(7))),
            err(Some(s("bad"))),
            ok(Some(Val::U32(u32::MAX))),
        ],
    );
}

#[test]
fn echo_result_without_payloads() {
    check_echo(&RESULT_BARE, &[ok(None), err(None)]);
}

#[test]
fn echo_result_with_error_payload_only() {
    check_echo(
        &RESULT_ERR_ONLY,
        &[ok(None), err(Some(s("error 😀"))), err(Some(s("")))],
    );
}

#[test]
fn echo_flags_1() {
    check_echo(&flags_ty(1), &[labels(&[]), labels(&[0])]);
}

#[test]
fn echo_flags_8() {
    check_echo(
        &flags_ty(8),
        &[
            labels(&[]),
            labels(&[0, 7]),
            labels(&[0, 1, 2, 3, 4, 5, 6, 7]),
        ],
    );
}

#[test]
fn echo_flags_9() {
    check_echo(
        &flags_ty(9),
        &[
            labels(&[8]),
            labels(&[0, 8]),
            labels(&(0..9).collect::<Vec<_>>()),
        ],
    );
}

#[test]
fn echo_flags_16() {
    check_echo(&flags_ty(16), &[labels(&[15]), labels(&[0, 7, 8, 15])]);
}

#[test]
fn echo_flags_17() {
    check_echo(
        &flags_ty(17),
        &[
            labels(&[16]),
            labels(&[0, 16]),
            labels(&(0..17).collect::<Vec<_>>()),
        ],
    );
}

#[test]
fn echo_flags_32() {
    check_echo(
        &flags_ty(32),
        &[
            labels(&[]),
            labels(&[31]),
            labels(&[0, 31]),
            labels(&(0..32).collect::<Vec<_>>()),
        ],
    );
}

/// record { a: flags(1 label), b: flags(9), c: flags(17) }: 1, 2 and
/// 4-byte flags at offsets 0, 2, 4.
#[test]
fn echo_record_of_flags_uses_1_2_4_byte_storage() {
    let t = Ty {
        defs: &[
            ("fa", r#"(flags "x0")"#),
            (
                "fb",
                r#"(flags "y0" "y1" "y2" "y3" "y4" "y5" "y6" "y7" "y8")"#,
            ),
            (
                "fc",
                r#"(flags "z0" "z1" "z2" "z3" "z4" "z5" "z6" "z7" "z8" "z9" "z10" "z11" "z12" "z13" "z14" "z15" "z16")"#,
            ),
            (
                "rf",
                r#"(record (field "a" $fa) (field "b" $fb) (field "c" $fc))"#,
            ),
        ],
        ty: "$rf",
        flat: &["i32", "i32", "i32"],
        store: "
            (i32.store8 (i32.const 16) (local.get 0))
            (i32.store16 (i32.const 18) (local.get 1))
            (i32.store (i32.const 20) (local.get 2))
            (i32.const 16)",
    };
    check_echo(
        &t,
        &[
            record(&[
                ("a", flags(&["x0"])),
                ("b", flags(&["y0", "y8"])),
                ("c", flags(&["z0", "z16"])),
            ]),
            record(&[
                ("a", flags(&[])),
                ("b", flags(&["y8"])),
                ("c", flags(&["z15", "z16"])),
            ]),
        ],
    );
}

#[test]
fn flags_lift_ignores_bits_beyond_the_labels() {
    let wat = exports_component(
        &format!(
            "(type $fl-def {}) (export $fl \"fl\" (type $fl-def))",
            flags_def(9)
        ),
        r#"(func (export "all") (result i32) (i32.const -1))"#,
        r#"(func (export "all") (result $fl) (canon lift (core func $i "all")))"#,
    );
    let (mut store, inst) = instantiate(&wat);
    assert_eq!(
        call(&mut store, &inst, "all", &[]),
        Ok(Some(labels(&(0..9).collect::<Vec<_>>())))
    );
}

/// The guest sees narrow signed integers sign-extended to i32 and
/// unsigned ones zero-extended.
#[test]
fn narrow_ints_lower_extended_to_i32() {
    let wat = exports_component(
        "",
        r#"(func (export "id") (param i32) (result i32) local.get 0)"#,
        r#"(func (export "s8") (param "x" s8) (result s32) (canon lift (core func $i "id")))
           (func (export "u8") (param "x" u8) (result s32) (canon lift (core func $i "id")))
           (func (export "s16") (param "x" s16) (result s32) (canon lift (core func $i "id")))
           (func (export "u16") (param "x" u16) (result s32) (canon lift (core func $i "id")))"#,
    );
    let (mut store, inst) = instantiate(&wat);
    assert_eq!(call1(&mut store, &inst, "s8", &[Val::S8(-2)]), Val::S32(-2));
    assert_eq!(
        call1(&mut store, &inst, "u8", &[Val::U8(0xFE)]),
        Val::S32(0xFE)
    );
    assert_eq!(
        call1(&mut store, &inst, "s16", &[Val::S16(-2)]),
        Val::S32(-2)
    );
    assert_eq!(
        call1(&mut store, &inst, "u16", &[Val::U16(0xFFFE)]),
        Val::S32(0xFFFE)
    );
}

#[test]
fn narrow_ints_lift_ignoring_high_bits() {
    let wat = exports_component(
        "",
        r#"(func (export "k") (result i32) (i32.const 0x12345680))"#,
        r#"(func (export "u8") (result u8) (canon lift (core func $i "k")))
           (func (export "s8") (result s8) (canon lift (core func $i "k")))
           (func (export "u16") (result u16) (canon lift (core func $i "k")))
           (func (export "s16") (result s16) (canon lift (core func $i "k")))"#,
    );
    let (mut store, inst) = instantiate(&wat);
    assert_eq!(call1(&mut store, &inst, "u8", &[]), Val::U8(0x80));
    assert_eq!(call1(&mut store, &inst, "s8", &[]), Val::S8(-128));
    assert_eq!(call1(&mut store, &inst, "u16", &[]), Val::U16(0x5680));
    assert_eq!(call1(&mut store, &inst, "s16", &[]), Val::S16(0x5680));
}

// ------------------------------------------------- guest → host (imports)

#[test]
fn import_bool() {
    check_forward(
        &BOOL,
        &[
            (Val::Bool(true), Val::Bool(false)),
            (Val::Bool(false), Val::Bool(true)),
        ],
    );
}

#[test]
fn import_s8() {
    check_forward(
        &S8,
        &[(Val::S8(-128), Val::S8(127)), (Val::S8(-1), Val::S8(1))],
    );
}

#[test]
fn import_u8() {
    check_forward(
        &U8,
        &[(Val::U8(255), Val::U8(0)), (Val::U8(1), Val::U8(200))],
    );
}

#[test]
fn import_s16() {
    check_forward(&S16, &[(Val::S16(i16::MIN), Val::S16(-1))]);
}

#[test]
fn import_u16() {
    check_forward(&U16, &[(Val::U16(u16::MAX), Val::U16(0x8001))]);
}

#[test]
fn import_s32() {
    check_forward(&S32, &[(Val::S32(i32::MIN), Val::S32(i32::MAX))]);
}

#[test]
fn import_u32() {
    check_forward(&U32, &[(Val::U32(u32::MAX), Val::U32(41))]);
}

#[test]
fn import_s64() {
    check_forward(&S64, &[(Val::S64(i64::MIN), Val::S64(-7))]);
}

#[test]
fn import_u64() {
    check_forward(&U64, &[(Val::U64(u64::MAX), Val::U64(1 << 40))]);
}

#[test]
fn import_f32() {
    check_forward(&F32, &[(Val::Float32(-1.25), Val::Float32(f32::INFINITY))]);
}

#[test]
fn import_f64() {
    check_forward(&F64, &[(Val::Float64(1e-300), Val::Float64(-0.5))]);
}

#[test]
fn import_char() {
    check_forward(
        &CHAR,
        &[
            (Val::Char('😀'), Val::Char('日')),
            (Val::Char('\u{10FFFF}'), Val::Char('a')),
        ],
    );
}

#[test]
fn import_string() {
    check_forward(
        &STRING,
        &[
            (s("héllo 😀"), s("日本語")),
            (s(""), s("empty")),
            (s("x"), s("")),
        ],
    );
}

#[test]
fn import_list_u8() {
    check_forward(
        &LIST_U8,
        &[
            (bytes_val(&[1, 2, 3]), bytes_val(&[255; 33])),
            (bytes_val(&[]), bytes_val(&[0])),
        ],
    );
}

#[test]
fn import_list_u32() {
    check_forward(
        &LIST_U32,
        &[(
            Val::List(vec![Val::U32(1), Val::U32(u32::MAX)]),
            Val::List(vec![Val::U32(5)]),
        )],
    );
}

#[test]
fn import_list_string() {
    check_forward(
        &LIST_STRING,
        &[(
            Val::List(vec![s("a"), s("日本")]),
            Val::List(vec![s(""), s("😀"), s("zz")]),
        )],
    );
}

#[test]
fn import_list_list_u16() {
    let l = |xs: &[u16]| Val::List(xs.iter().map(|&x| Val::U16(x)).collect());
    check_forward(
        &LIST_LIST_U16,
        &[(
            Val::List(vec![l(&[1]), l(&[]), l(&[2, 3])]),
            Val::List(vec![l(&[u16::MAX, 0])]),
        )],
    );
}

#[test]
fn import_record() {
    check_forward(
        &RECORD,
        &[(
            rec_val(1, 2, 3, 4, true, 5.5),
            rec_val(0xFF, 0xDEAD_BEEF, 0xBEEF, u64::MAX, false, -0.25),
        )],
    );
}

#[test]
fn import_tuple() {
    check_forward(
        &TUPLE,
        &[(tuple_val(1, 2.5, 'x'), tuple_val(u16::MAX, -1e300, '😀'))],
    );
}

#[test]
fn import_variant_with_joined_payloads() {
    let cases = variant_cases();
    // Each case answered with the next one, so every case crosses both ways.
    let pairs: Vec<(Val, Val)> = cases
        .iter()
        .zip(cases.iter().cycle().skip(1))
        .map(|(a, b)| (a.clone(), b.clone()))
        .collect();
    check_forward(&VARIANT, &pairs);
}

#[test]
fn import_enum() {
    check_forward(
        &ENUM,
        &[
            (Val::Enum("a".into()), Val::Enum("c".into())),
            (Val::Enum("c".into()), Val::Enum("b".into())),
        ],
    );
}

#[test]
fn import_option_u32() {
    check_forward(
        &OPTION_U32,
        &[
            (Val::Option(None), some(Val::U32(9))),
            (some(Val::U32(u32::MAX)), Val::Option(None)),
        ],
    );
}

#[test]
fn import_option_string() {
    check_forward(
        &OPTION_STRING,
        &[
            (some(s("in")), some(s("out 😀"))),
            (Val::Option(None), some(s(""))),
        ],
    );
}

#[test]
fn import_result_with_payloads() {
    check_forward(
        &RESULT_U32_STRING,
        &[
            (ok(Some(Val::U32(1))), err(Some(s("no")))),
            (err(Some(s("e"))), ok(Some(Val::U32(u32::MAX)))),
        ],
    );
}

#[test]
fn import_result_without_payloads() {
    check_forward(
        &RESULT_BARE,
        &[(ok(None), err(None)), (err(None), ok(None))],
    );
}

#[test]
fn import_result_with_error_payload_only() {
    check_forward(
        &RESULT_ERR_ONLY,
        &[
            (ok(None), err(Some(s("why")))),
            (err(Some(s("x"))), ok(None)),
        ],
    );
}

#[test]
fn import_flags_1() {
    check_forward(
        &flags_ty(1),
        &[(labels(&[0]), labels(&[])), (labels(&[]), labels(&[0]))],
    );
}

#[test]
fn import_flags_8() {
    check_forward(&flags_ty(8), &[(labels(&[0, 7]), labels(&[1, 2, 3]))]);
}

#[test]
fn import_flags_9() {
    check_forward(&flags_ty(9), &[(labels(&[8]), labels(&[0]))]);
}

#[test]
fn import_flags_16() {
    check_forward(&flags_ty(16), &[(labels(&[15]), labels(&[0, 8]))]);
}

#[test]
fn import_flags_17() {
    check_forward(&flags_ty(17), &[(labels(&[16]), labels(&[0, 15, 16]))]);
}

#[test]
fn import_flags_32() {
    check_forward(&flags_ty(32), &[(labels(&[0, 31]), labels(&[16, 30]))]);
}

/// A component whose `run` calls the host's `g: func(x: v)` with flat
/// arguments made by core wasm (not by the host's lowering), one call per
/// `(disc, i64 slot, i32 slot)` triple.
fn guest_made_variants(triples: &[(u32, u64, u32)]) -> Vec<Val> {
    let ty = &VARIANT;
    let imports = format!(
        "{}(import \"g\" (func $g (param \"x\" $v)))",
        ty.type_decls(true)
    );
    let calls: String = triples
        .iter()
        .map(|(d, p, q)| format!("(call $g (i32.const {d}) (i64.const {p}) (i32.const {q}))\n"))
        .collect();
    let wat = imports_component(
        &imports,
        &format!("(core func $g-lower (canon lower (func $g) {OPTS}))"),
        &format!(
            "(import \"host\" \"g\" (func $g (param i32 i64 i32)))
             (func (export \"run\") {calls})
             {}",
            data(64, "hé".as_bytes())
        ),
        "(export \"g\" (func $g-lower))",
        "(func (export \"run\") (canon lift (core func $i \"run\")))",
    );
    let engine = Engine::default();
    let component = load(&engine, &wat);
    let mut linker = Linker::<Vec<Val>>::new(&engine);
    linker
        .root()
        .func_new("g", |mut cx, params, _| {
            cx.data_mut().extend_from_slice(params);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    call(&mut store, &inst, "run", &[]).unwrap();
    store.into_data()
}

#[test]
fn variant_lifts_from_guest_made_joined_slots() {
    let seen = guest_made_variants(&[
        (0, 7, 0),
        (1, 0x3fc0_0000, 0),
        (2, 0x0123_4567_89ab_cdef, 0),
        (3, 0x4004_0000_0000_0000, 0),
        (4, 64, 3),
        (5, 0, 0),
    ]);
    assert_eq!(
        seen,
        vec![
            variant("a", Some(Val::U32(7))),
            variant("b", Some(Val::Float32(1.5))),
            variant("c", Some(Val::U64(0x0123_4567_89ab_cdef))),
            variant("d", Some(Val::Float64(2.5))),
            variant("e", Some(s("hé"))),
            variant("f", None),
        ]
    );
}

/// `wrap_i64_to_i32`: a u32 payload in an i64 slot drops the high half.
#[test]
fn variant_i32_payload_wraps_the_i64_slot() {
    let seen = guest_made_variants(&[(0, 0xffff_ffff_0000_0007, 0), (1, 0xdead_beef_3fc0_0000, 0)]);
    assert_eq!(
        seen,
        vec![
            variant("a", Some(Val::U32(7))),
            variant("b", Some(Val::Float32(1.5)))
        ]
    );
}

#[test]
fn variant_f32_payload_nan_from_guest_lifts_canonical() {
    let seen = guest_made_variants(&[(1, 0x7f80_0001, 0)]);
    match seen.as_slice() {
        [Val::Variant(case, Some(p))] if case == "b" => {
            assert_eq!(f32_bits(Some((**p).clone())), 0x7fc0_0000)
        }
        other => panic!("expected b(NaN), got {other:?}"),
    }
}

#[test]
fn f32_nan_argument_from_guest_lifts_canonical() {
    let wat = imports_component(
        "(import \"g\" (func $g (param \"x\" f32) (param \"y\" f64)))",
        "(core func $g-lower (canon lower (func $g)))",
        "(import \"host\" \"g\" (func $g (param f32 f64)))
         (func (export \"run\")
           (call $g (f32.reinterpret_i32 (i32.const 0xff800001))
                    (f64.reinterpret_i64 (i64.const 0x7ff0000000000001))))",
        "(export \"g\" (func $g-lower))",
        "(func (export \"run\") (canon lift (core func $i \"run\")))",
    );
    let engine = Engine::default();
    let component = load(&engine, &wat);
    let mut linker = Linker::<Vec<Val>>::new(&engine);
    linker
        .root()
        .func_new("g", |mut cx, params, _| {
            cx.data_mut().extend_from_slice(params);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    call(&mut store, &inst, "run", &[]).unwrap();
    let seen = store.into_data();
    assert_eq!(seen.len(), 2);
    assert_eq!(f32_bits(Some(seen[0].clone())), 0x7fc0_0000);
    assert_eq!(f64_bits(Some(seen[1].clone())), 0x7ff8_0000_0000_0000);
}

// ------------------------------------------------------------- spilling

fn u32_params(n: usize) -> String {
    (0..n).map(|k| format!("(param \"p{k}\" u32) ")).collect()
}

/// `sum17(p0..p16: u32) -> u32` = Σ (k+1)·p_k, read from the spilled
/// parameter tuple in memory.
fn sum17_component() -> String {
    let core = r#"
        (func (export "sum17") (param $p i32) (result i32)
          (local $k i32) (local $acc i32)
          (loop $l
            (local.set $acc
              (i32.add (local.get $acc)
                (i32.mul (i32.add (local.get $k) (i32.const 1))
                         (i32.load (i32.add (local.get $p) (i32.shl (local.get $k) (i32.const 2)))))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $k) (i32.const 17))))
          (local.get $acc))"#;
    let exports = format!(
        r#"(func (export "sum17") {} (result u32) (canon lift (core func $i "sum17") {OPTS}))"#,
        u32_params(17)
    );
    exports_component("", core, &exports)
}

#[test]
fn export_with_17_params_receives_them_in_memory() {
    let (mut store, inst) = instantiate(&sum17_component());
    let args: Vec<Val> = (0..17u32).map(|k| Val::U32(k * k + 3)).collect();
    let expected: u32 = (0..17u32).map(|k| (k + 1) * (k * k + 3)).sum();
    assert_eq!(call1(&mut store, &inst, "sum17", &args), Val::U32(expected));
}

#[test]
fn spilled_params_are_allocated_with_realloc() {
    let (mut store, inst) = instantiate(&sum17_component());
    let args: Vec<Val> = (0..17u32).map(Val::U32).collect();
    call1(&mut store, &inst, "sum17", &args);
    assert_eq!(call1(&mut store, &inst, "realloc-calls", &[]), Val::U32(1));
    assert_eq!(call1(&mut store, &inst, "last-align", &[]), Val::U32(4));
    assert_eq!(call1(&mut store, &inst, "last-size", &[]), Val::U32(17 * 4));
}

/// `mixed(a: u8, b: u64, c0..c14: u32) -> u64`: 17 flat params spilled as
/// a tuple with a at 0, b at 8, c_k at 16 + 4k; the guest returns
/// b + a·10^6 + c0·10^3 + c14.
#[test]
fn spilled_params_of_mixed_types_are_laid_out_as_a_tuple() {
    let core = r#"
        (func (export "mixed") (param $p i32) (result i64)
          (i64.add (i64.load offset=8 (local.get $p))
            (i64.extend_i32_u
              (i32.add (i32.mul (i32.load8_u (local.get $p)) (i32.const 1000000))
                (i32.add (i32.mul (i32.load offset=16 (local.get $p)) (i32.const 1000))
                         (i32.load offset=72 (local.get $p)))))))"#;
    let cs: String = (0..15).map(|k| format!("(param \"c{k}\" u32) ")).collect();
    let exports = format!(
        r#"(func (export "mixed") (param "a" u8) (param "b" u64) {cs} (result u64) (canon lift (core func $i "mixed") {OPTS}))"#
    );
    let (mut store, inst) = instantiate(&exports_component("", core, &exports));
    let mut args = vec![Val::U8(3), Val::U64(1 << 40)];
    args.extend((0..15u32).map(|k| Val::U32(100 + k)));
    assert_eq!(
        call1(&mut store, &inst, "mixed", &args),
        Val::U64((1 << 40) + 3_000_000 + 100_000 + 114)
    );
}

/// `get() -> record { x: u32, y: u64, z: string }` returned through a
/// pointer to a record the guest laid out in a data segment.
#[test]
fn record_result_is_read_through_the_return_pointer() {
    let mut bytes = 7u32.to_le_bytes().to_vec();
    bytes.extend([0xEE; 4]); // padding, ignored
    bytes.extend(0x0102_0304_0506_0708u64.to_le_bytes());
    bytes.extend(le32s(&[128, 5]));
    let core = format!(
        r#"(func (export "get") (result i32) (i32.const 64)) {} {}"#,
        data(64, &bytes),
        data(128, b"hello")
    );
    let types = r#"(type $r-def (record (field "x" u32) (field "y" u64) (field "z" string)))
                   (export $r "r" (type $r-def))"#;
    let exports =
        format!(r#"(func (export "get") (result $r) (canon lift (core func $i "get") {OPTS}))"#);
    let (mut store, inst) = instantiate(&exports_component(types, &core, &exports));
    assert_eq!(
        call1(&mut store, &inst, "get", &[]),
        record(&[
            ("x", Val::U32(7)),
            ("y", Val::U64(0x0102_0304_0506_0708)),
            ("z", s("hello"))
        ])
    );
}

/// The guest calls `f(p0..p16: u32) -> tuple<u64, u32, u32>` with its
/// params in memory and a return pointer; the host lowers the result
/// there and `run` returns that pointer.
#[test]
fn import_with_17_params_and_spilled_result() {
    let imports = format!(
        "(import \"f\" (func $f {} (result (tuple u64 u32 u32))))",
        u32_params(17)
    );
    let core = r#"
        (import "host" "f" (func $f (param i32 i32)))
        (func (export "run") (result i32)
          (local $k i32)
          (loop $l
            (i32.store (i32.add (i32.const 256) (i32.shl (local.get $k) (i32.const 2)))
                       (i32.mul (i32.add (local.get $k) (i32.const 1)) (i32.const 10)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $k) (i32.const 17))))
          (call $f (i32.const 256) (i32.const 512))
          (i32.const 512))"#;
    let wat = imports_component(
        &imports,
        &format!("(core func $f-lower (canon lower (func $f) {OPTS}))"),
        core,
        "(export \"f\" (func $f-lower))",
        &format!(
            r#"(func (export "run") (result (tuple u64 u32 u32)) (canon lift (core func $i "run") {OPTS}))"#
        ),
    );
    let engine = Engine::default();
    let component = load(&engine, &wat);
    let mut linker = Linker::<Vec<Val>>::new(&engine);
    linker
        .root()
        .func_new("f", |mut cx, params, results| {
            cx.data_mut().extend_from_slice(params);
            let sum: u64 = params
                .iter()
                .map(|p| match p {
                    Val::U32(x) => u64::from(*x),
                    _ => 0,
                })
                .sum();
            results[0] = Val::Tuple(vec![
                Val::U64(sum << 32),
                params.first().cloned().unwrap_or(Val::U32(0)),
                params.last().cloned().unwrap_or(Val::U32(0)),
            ]);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let r = call1(&mut store, &inst, "run", &[]);
    let expected_params: Vec<Val> = (1..=17u32).map(|k| Val::U32(k * 10)).collect();
    assert_eq!(store.data(), &expected_params);
    assert_eq!(
        r,
        Val::Tuple(vec![Val::U64(1530 << 32), Val::U32(10), Val::U32(170)])
    );
}

// ---------------------------------------------------------- post-return

/// `get() -> string` writes (64, 5) to the return area at 16 and returns
/// it ("hello"); its
/// post-return counts calls, records its argument, and then clobbers the
/// return area (pointer 0xfffffff0, length 0xffff) so that lifting after
/// it would trap. `post-count` and `post-arg` read what it recorded.
fn post_return_component() -> String {
    let core = format!(
        r#"(global $count (mut i32) (i32.const 0))
           (global $arg (mut i32) (i32.const -1))
           (func (export "get") (result i32)
             (i32.store (i32.const 16) (i32.const 64))
             (i32.store (i32.const 20) (i32.const 5))
             (i32.const 16))
           (func (export "post") (param $p i32)
             (global.set $count (i32.add (global.get $count) (i32.const 1)))
             (global.set $arg (local.get $p))
             (i32.store (local.get $p) (i32.const 0xfffffff0))
             (i32.store offset=4 (local.get $p) (i32.const 0xffff)))
           (func (export "post-count") (result i32) (global.get $count))
           (func (export "post-arg") (result i32) (global.get $arg))
           {}"#,
        data(64, b"hello")
    );
    let exports = format!(
        r#"(func (export "get") (result string)
             (canon lift (core func $i "get") {OPTS} (post-return (core func $i "post"))))
           (func (export "post-count") (result u32) (canon lift (core func $i "post-count")))
           (func (export "post-arg") (result u32) (canon lift (core func $i "post-arg")))"#
    );
    exports_component("", &core, &exports)
}

#[test]
fn post_return_runs_after_the_result_is_lifted() {
    let (mut store, inst) = instantiate(&post_return_component());
    assert_eq!(call(&mut store, &inst, "get", &[]), Ok(Some(s("hello"))));
    assert_eq!(call1(&mut store, &inst, "post-count", &[]), Val::U32(1));
}

#[test]
fn post_return_receives_the_core_results() {
    let (mut store, inst) = instantiate(&post_return_component());
    call1(&mut store, &inst, "get", &[]);
    assert_eq!(call1(&mut store, &inst, "post-arg", &[]), Val::U32(RET));
}

#[test]
fn post_return_runs_once_per_call() {
    let (mut store, inst) = instantiate(&post_return_component());
    assert_eq!(call1(&mut store, &inst, "post-count", &[]), Val::U32(0));
    call1(&mut store, &inst, "get", &[]);
    call1(&mut store, &inst, "get", &[]);
    assert_eq!(call1(&mut store, &inst, "post-count", &[]), Val::U32(2));
}

// --------------------------------------------------- realloc, zero length

fn take_component() -> String {
    exports_component(
        "",
        r#"(func (export "take") (param i32 i32) (result i32) (local.get 1))"#,
        &format!(
            r#"(func (export "take-string") (param "s" string) (result u32) (canon lift (core func $i "take") {OPTS}))
               (func (export "take-list") (param "l" (list u32)) (result u32) (canon lift (core func $i "take") {OPTS}))"#
        ),
    )
}

#[test]
fn realloc_is_called_for_an_empty_string() {
    let (mut store, inst) = instantiate(&take_component());
    assert_eq!(
        call1(&mut store, &inst, "take-string", &[s("")]),
        Val::U32(0)
    );
    assert_eq!(call1(&mut store, &inst, "realloc-calls", &[]), Val::U32(1));
    assert_eq!(call1(&mut store, &inst, "last-size", &[]), Val::U32(0));
}

#[test]
fn realloc_is_called_for_an_empty_list() {
    let (mut store, inst) = instantiate(&take_component());
    assert_eq!(
        call1(&mut store, &inst, "take-list", &[Val::List(vec![])]),
        Val::U32(0)
    );
    assert_eq!(call1(&mut store, &inst, "realloc-calls", &[]), Val::U32(1));
    assert_eq!(call1(&mut store, &inst, "last-align", &[]), Val::U32(4));
    assert_eq!(call1(&mut store, &inst, "last-size", &[]), Val::U32(0));
}

#[test]
fn realloc_is_asked_for_list_alignment_and_byte_size() {
    let (mut store, inst) = instantiate(&take_component());
    let l = Val::List((0..5).map(Val::U32).collect());
    assert_eq!(call1(&mut store, &inst, "take-list", &[l]), Val::U32(5));
    assert_eq!(call1(&mut store, &inst, "last-align", &[]), Val::U32(4));
    assert_eq!(call1(&mut store, &inst, "last-size", &[]), Val::U32(20));
}

// ------------------------------------------------- more layouts

/// `(enum "c0" ... "c256")`: 257 cases need a 2-byte discriminant.
fn enum257_def() -> &'static str {
    let labels: Vec<String> = (0..257).map(|k| format!("\"c{k}\"")).collect();
    Box::leak(format!("(enum {})", labels.join(" ")).into_boxed_str())
}

/// tuple<enum257, u8>: the enum takes 2 bytes at 0, the u8 is at 2.
fn enum257_tuple() -> Ty {
    let defs: &'static [(&'static str, &'static str)] =
        Box::leak(Box::new([("big", enum257_def())]));
    Ty {
        defs,
        ty: "(tuple $big u8)",
        flat: &["i32", "i32"],
        store: "
            (i32.store16 (i32.const 16) (local.get 0))
            (i32.store8 (i32.const 18) (local.get 1))
            (i32.const 16)",
    }
}

#[test]
fn echo_enum_with_257_cases_uses_a_2_byte_discriminant() {
    let t = |case: &str, b: u8| Val::Tuple(vec![Val::Enum(case.into()), Val::U8(b)]);
    check_echo(
        &enum257_tuple(),
        &[t("c256", 7), t("c0", 255), t("c255", 1)],
    );
}

#[test]
fn import_enum_with_257_cases() {
    let t = |case: &str, b: u8| Val::Tuple(vec![Val::Enum(case.into()), Val::U8(b)]);
    check_forward(&enum257_tuple(), &[(t("c256", 1), t("c128", 2))]);
}

/// option<option<u32>>: flat [i32, i32, i32]; outer discriminant at 0,
/// inner option at 4 (its discriminant at 4, payload at 8).
const OPTION_OPTION: Ty = Ty {
    defs: &[],
    ty: "(option (option u32))",
    flat: &["i32", "i32", "i32"],
    store: "
        (i32.store8 (i32.const 16) (local.get 0))
        (i32.store8 (i32.const 20) (local.get 1))
        (i32.store (i32.const 24) (local.get 2))
        (i32.const 16)",
};

#[test]
fn echo_nested_option() {
    check_echo(
        &OPTION_OPTION,
        &[
            Val::Option(None),
            some(Val::Option(None)),
            some(some(Val::U32(5))),
        ],
    );
}

#[test]
fn import_nested_option() {
    check_forward(
        &OPTION_OPTION,
        &[
            (some(Val::Option(None)), some(some(Val::U32(u32::MAX)))),
            (some(some(Val::U32(3))), Val::Option(None)),
        ],
    );
}

/// The guest returns list<tuple<u64, u8>> laid out with 16-byte elements.
#[test]
fn guest_list_of_padded_tuples_lifts() {
    let mut bytes = Vec::new();
    for (a, b) in [(1u64, 2u8), (u64::MAX, 4)] {
        bytes.extend(a.to_le_bytes());
        bytes.push(b);
        bytes.extend([0xAA; 7]); // padding, ignored
    }
    let core = format!(
        r#"(func (export "get") (result i32) (i32.const 16)) {} {}"#,
        data(RET, &le32s(&[64, 2])),
        data(64, &bytes)
    );
    let exports = format!(
        r#"(func (export "get") (result (list (tuple u64 u8))) (canon lift (core func $i "get") {OPTS}))"#
    );
    let (mut store, inst) = instantiate(&exports_component("", &core, &exports));
    let t = |a: u64, b: u8| Val::Tuple(vec![Val::U64(a), Val::U8(b)]);
    assert_eq!(
        call1(&mut store, &inst, "get", &[]),
        Val::List(vec![t(1, 2), t(u64::MAX, 4)])
    );
}

/// The host lowers list<tuple<u8, u64>> with 16-byte, 8-aligned elements;
/// the guest reads element 1 (u8 at 16, u64 at 24) and returns their sum.
#[test]
fn host_list_of_padded_tuples_is_laid_out_per_the_abi() {
    let core = r#"
        (func (export "second") (param $p i32) (param $n i32) (result i64)
          (i64.add (i64.load offset=24 (local.get $p))
                   (i64.extend_i32_u (i32.load8_u offset=16 (local.get $p)))))"#;
    let exports = format!(
        r#"(func (export "second") (param "l" (list (tuple u8 u64))) (result u64) (canon lift (core func $i "second") {OPTS}))"#
    );
    let (mut store, inst) = instantiate(&exports_component("", core, &exports));
    let t = |a: u8, b: u64| Val::Tuple(vec![Val::U8(a), Val::U64(b)]);
    let l = Val::List(vec![t(1, 10), t(2, 1 << 40), t(3, 30)]);
    assert_eq!(
        call1(&mut store, &inst, "second", &[l]),
        Val::U64((1 << 40) + 2)
    );
    assert_eq!(call1(&mut store, &inst, "last-align", &[]), Val::U32(8));
    assert_eq!(call1(&mut store, &inst, "last-size", &[]), Val::U32(48));
}

#[test]
fn post_return_runs_for_a_function_without_result() {
    let wat = exports_component(
        "",
        r#"(global $count (mut i32) (i32.const 0))
           (func (export "run"))
           (func (export "post") (global.set $count (i32.add (global.get $count) (i32.const 1))))
           (func (export "post-count") (result i32) (global.get $count))"#,
        r#"(func (export "run") (canon lift (core func $i "run") (post-return (core func $i "post"))))
           (func (export "post-count") (result u32) (canon lift (core func $i "post-count")))"#,
    );
    let (mut store, inst) = instantiate(&wat);
    assert_eq!(call(&mut store, &inst, "run", &[]), Ok(None));
    assert_eq!(call1(&mut store, &inst, "post-count", &[]), Val::U32(1));
}
