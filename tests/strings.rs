//! Strings in each canonical string encoding (`utf8`, `utf16`,
//! `latin1+utf16`), in both directions, with ASCII, Latin-1, BMP and
//! astral text.
//!
//! Lowering is checked on the guest's side: the guest hands back the raw
//! code units it received (as a `list<u8>` of their bytes) with the tagged
//! length, so the exact memory contents are compared.

mod common;

use common::*;
use componentry::*;

const SAMPLES: [&str; 5] = ["hello", "café", "日本語", "😀", ""];

const UTF16_TAG: u32 = 1 << 31;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Enc {
    Utf8,
    Utf16,
    Latin1Utf16,
}

impl Enc {
    fn opt(self) -> &'static str {
        match self {
            Enc::Utf8 => "string-encoding=utf8",
            Enc::Utf16 => "string-encoding=utf16",
            Enc::Latin1Utf16 => "string-encoding=latin1+utf16",
        }
    }

    /// A core function `$bytelen` from a tagged code unit count to a byte length.
    fn bytelen_func(self) -> &'static str {
        match self {
            Enc::Utf8 => "(func $bytelen (param i32) (result i32) (local.get 0))",
            Enc::Utf16 => {
                "(func $bytelen (param i32) (result i32) (i32.shl (local.get 0) (i32.const 1)))"
            }
            Enc::Latin1Utf16 => {
                "(func $bytelen (param i32) (result i32)
                   (if (result i32) (i32.lt_s (local.get 0) (i32.const 0))
                     (then (i32.shl (i32.and (local.get 0) (i32.const 0x7fffffff)) (i32.const 1)))
                     (else (local.get 0))))"
            }
        }
    }
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// How the canonical ABI represents `s` in `enc`: the tagged code unit
/// count and the bytes. `latin1+utf16` uses Latin-1 when every char fits.
fn encode(enc: Enc, s: &str) -> (u32, Vec<u8>) {
    match enc {
        Enc::Utf8 => (s.len() as u32, s.as_bytes().to_vec()),
        Enc::Utf16 => (s.encode_utf16().count() as u32, utf16le(s)),
        Enc::Latin1Utf16 => {
            let latin1: Option<Vec<u8>> = s.chars().map(|c| u8::try_from(c).ok()).collect();
            match latin1 {
                Some(b) => (b.len() as u32, b),
                None => (s.encode_utf16().count() as u32 | UTF16_TAG, utf16le(s)),
            }
        }
    }
}

/// What the guest reports about a string it received: (tagged code unit
/// count, pointer, bytes).
fn report(v: Val) -> (u32, u32, Vec<u8>) {
    match v {
        Val::Tuple(vs) => match vs.as_slice() {
            [Val::U32(tagged), Val::U32(ptr), Val::List(bytes)] => (
                *tagged,
                *ptr,
                bytes
                    .iter()
                    .map(|b| match b {
                        Val::U8(b) => *b,
                        other => panic!("not a byte: {other:?}"),
                    })
                    .collect(),
            ),
            other => panic!("unexpected report {other:?}"),
        },
        other => panic!("unexpected report {other:?}"),
    }
}

const REPORT_TY: &str = "(tuple u32 u32 (list u8))";

/// Core code that stores the report of the string (ptr, tagged) at 32 and
/// leaves 32 on the stack.
const STORE_REPORT: &str = "
    (i32.store (i32.const 32) (local.get $tagged))
    (i32.store (i32.const 36) (local.get $ptr))
    (i32.store (i32.const 40) (local.get $ptr))
    (i32.store (i32.const 44) (call $bytelen (local.get $tagged)))
    (i32.const 32)";

// ------------------------------------------------------- host → guest

/// `inspect(s: string) -> report`, lifted with `enc`.
fn inspect_component(enc: Enc) -> String {
    let core = format!(
        "{}
         (func (export \"inspect\") (param $ptr i32) (param $tagged i32) (result i32) {STORE_REPORT})",
        enc.bytelen_func()
    );
    let exports = format!(
        r#"(func (export "inspect") (param "s" string) (result {REPORT_TY})
             (canon lift (core func $i "inspect") {OPTS} {}))"#,
        enc.opt()
    );
    exports_component("", &core, &exports)
}

fn inspect(enc: Enc, text: &str) -> (u32, u32, Vec<u8>) {
    let (mut store, inst) = instantiate(&inspect_component(enc));
    report(call1(&mut store, &inst, "inspect", &[s(text)]))
}

fn check_lowering(enc: Enc) {
    for text in SAMPLES {
        let (tagged, ptr, bytes) = inspect(enc, text);
        let (want_tagged, want_bytes) = encode(enc, text);
        assert_eq!(
            (tagged, &bytes),
            (want_tagged, &want_bytes),
            "{text:?} lowered as {enc:?}"
        );
        if enc != Enc::Utf8 {
            assert_eq!(
                ptr % 2,
                0,
                "{text:?} lowered as {enc:?} at odd address {ptr}"
            );
        }
    }
}

#[test]
fn host_string_lowers_as_utf8() {
    check_lowering(Enc::Utf8);
}

#[test]
fn host_string_lowers_as_utf16_code_units() {
    check_lowering(Enc::Utf16);
}

#[test]
fn host_string_lowers_as_latin1_or_utf16() {
    check_lowering(Enc::Latin1Utf16);
}

#[test]
fn utf16_component_receives_code_units_of_astral_text() {
    let (tagged, _, bytes) = inspect(Enc::Utf16, "a😀");
    assert_eq!(tagged, 3);
    assert_eq!(bytes, [0x61, 0x00, 0x3D, 0xD8, 0x00, 0xDE]);
}

#[test]
fn latin1_or_utf16_component_receives_latin1_bytes_for_cafe() {
    let (tagged, _, bytes) = inspect(Enc::Latin1Utf16, "café");
    assert_eq!(tagged, 4);
    assert_eq!(bytes, b"caf\xe9");
}

#[test]
fn latin1_or_utf16_component_receives_tagged_utf16_for_nihon() {
    let (tagged, _, bytes) = inspect(Enc::Latin1Utf16, "日本");
    assert_eq!(tagged, 2 | UTF16_TAG);
    assert_eq!(bytes, [0xE5, 0x65, 0x2C, 0x67]);
}

#[test]
fn latin1_or_utf16_inflates_latin1_prefix_before_non_latin1_char() {
    let (tagged, _, bytes) = inspect(Enc::Latin1Utf16, "é日");
    assert_eq!(tagged, 2 | UTF16_TAG);
    assert_eq!(bytes, [0xE9, 0x00, 0xE5, 0x65]);
}

#[test]
fn realloc_alignment_follows_the_encoding() {
    for (enc, align) in [(Enc::Utf8, 1), (Enc::Utf16, 2), (Enc::Latin1Utf16, 2)] {
        let (mut store, inst) = instantiate(&inspect_component(enc));
        call1(&mut store, &inst, "inspect", &[s("日本語")]);
        assert_eq!(
            call1(&mut store, &inst, "last-align", &[]),
            Val::U32(align),
            "{enc:?}"
        );
    }
}

// ------------------------------------------------------- guest → host

/// Data segments with each encoded sample at 256 + 64k, and a
/// table of (ptr, tagged length) pairs at 768 + 8k.
fn sample_data(samples: &[(u32, Vec<u8>)]) -> String {
    let mut out = String::new();
    for (k, (tagged, bytes)) in samples.iter().enumerate() {
        let addr = 256 + 64 * k as u32;
        out.push_str(&data(addr, bytes));
        out.push_str(&data(768 + 8 * k as u32, &le32s(&[addr, *tagged])));
    }
    out
}

/// `get(k: u32) -> string` returns sample `k`, stored as given, with `enc`.
fn lift_samples(enc: Enc, samples: &[(u32, Vec<u8>)]) -> Vec<Result<Option<Val>>> {
    let core = format!(
        r#"(func (export "get") (param $k i32) (result i32) (i32.add (i32.const 768) (i32.shl (local.get $k) (i32.const 3))))
           {}"#,
        sample_data(samples)
    );
    let exports = format!(
        r#"(func (export "get") (param "k" u32) (result string) (canon lift (core func $i "get") {OPTS} {}))"#,
        enc.opt()
    );
    let wat = exports_component("", &core, &exports);
    let (mut store, inst) = instantiate(&wat);
    (0..samples.len() as u32)
        .map(|k| call(&mut store, &inst, "get", &[Val::U32(k)]))
        .collect()
}

fn check_lifting(enc: Enc) {
    let encoded: Vec<(u32, Vec<u8>)> = SAMPLES.iter().map(|t| encode(enc, t)).collect();
    let got = lift_samples(enc, &encoded);
    for (text, r) in SAMPLES.iter().zip(got) {
        assert_eq!(r, Ok(Some(s(text))), "{text:?} lifted from {enc:?}");
    }
}

#[test]
fn guest_utf8_string_lifts() {
    check_lifting(Enc::Utf8);
}

#[test]
fn guest_utf16_string_lifts() {
    check_lifting(Enc::Utf16);
}

#[test]
fn guest_latin1_or_utf16_string_lifts() {
    check_lifting(Enc::Latin1Utf16);
}

#[test]
fn guest_latin1_bytes_above_0x7f_lift_as_code_points() {
    let got = lift_samples(Enc::Latin1Utf16, &[(4, vec![b'c', 0x80, 0xE9, 0xFF])]);
    assert_eq!(got, vec![Ok(Some(s("c\u{80}\u{e9}\u{ff}")))]);
}

#[test]
fn guest_tagged_utf16_with_only_latin1_chars_lifts() {
    let got = lift_samples(Enc::Latin1Utf16, &[(4 | UTF16_TAG, utf16le("café"))]);
    assert_eq!(got, vec![Ok(Some(s("café")))]);
}

// ------------------------------------------- through an imported function

/// A component importing `f: func(s: string) -> string` lowered with
/// `enc`; `run(ptr, tagged)` calls `f` with the guest string at `ptr` and
/// reports the string `f` returned. The host's `f` records what it got and
/// returns it with "!" appended.
fn roundtrip_through_import(enc: Enc) {
    let encoded: Vec<(u32, Vec<u8>)> = SAMPLES.iter().map(|t| encode(enc, t)).collect();
    let core = format!(
        r#"(import "host" "f" (func $f (param i32 i32 i32)))
           {}
           (func (export "run") (param i32 i32) (result i32)
             (local $ptr i32) (local $tagged i32)
             (call $f (local.get 0) (local.get 1) (i32.const 16))
             (local.set $ptr (i32.load (i32.const 16)))
             (local.set $tagged (i32.load (i32.const 20)))
             {STORE_REPORT})
           {}"#,
        enc.bytelen_func(),
        sample_data(&encoded)
    );
    let wat = imports_component(
        r#"(import "f" (func $f (param "s" string) (result string)))"#,
        &format!(
            "(core func $f-lower (canon lower (func $f) {OPTS} {}))",
            enc.opt()
        ),
        &core,
        r#"(export "f" (func $f-lower))"#,
        &format!(
            r#"(func (export "run") (param "ptr" u32) (param "tagged" u32) (result {REPORT_TY})
                 (canon lift (core func $i "run") {OPTS}))"#
        ),
    );
    let engine = Engine::default();
    let component = load(&engine, &wat);
    let mut linker = Linker::<Vec<Val>>::new(&engine);
    linker
        .root()
        .func_new("f", |mut cx, params, results| {
            cx.data_mut().extend_from_slice(params);
            match params {
                [Val::String(text)] => {
                    results[0] = Val::String(format!("{text}!"));
                    Ok(())
                }
                other => Err(Error::host(format!("unexpected arguments {other:?}"))),
            }
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    for (k, (text, (tagged, _))) in SAMPLES.iter().zip(&encoded).enumerate() {
        store.data_mut().clear();
        let addr = 256 + 64 * k as u32;
        let r = call1(
            &mut store,
            &inst,
            "run",
            &[Val::U32(addr), Val::U32(*tagged)],
        );
        assert_eq!(store.data(), &[s(text)], "{text:?} lifted from {enc:?}");
        let (got_tagged, _, got_bytes) = report(r);
        let answer = format!("{text}!");
        assert_eq!(
            (got_tagged, got_bytes),
            encode(enc, &answer),
            "{answer:?} lowered as {enc:?}"
        );
    }
}

#[test]
fn utf8_strings_cross_an_import_both_ways() {
    roundtrip_through_import(Enc::Utf8);
}

#[test]
fn utf16_strings_cross_an_import_both_ways() {
    roundtrip_through_import(Enc::Utf16);
}

#[test]
fn latin1_or_utf16_strings_cross_an_import_both_ways() {
    roundtrip_through_import(Enc::Latin1Utf16);
}
