//! One test per trap of the canonical ABI and the runtime, each checking
//! the [`TrapKind`] of the error.

mod common;

use common::*;
use componentry::*;

/// A component exporting `get: func() -> {ty}` whose core function runs
/// `body` (leaving an i32: the value itself, or a pointer to it), with
/// `types` declared first, `data` in the core module and extra canonical
/// options `opts`.
fn getter(types: &str, ty: &str, body: &str, data: &str, opts: &str) -> String {
    exports_component(
        types,
        &format!(r#"(func (export "get") (result i32) {body}) {data}"#),
        &format!(
            r#"(func (export "get") (result {ty}) (canon lift (core func $i "get") {OPTS} {opts}))"#
        ),
    )
}

/// Calls `get` of [`getter`].
fn get(types: &str, ty: &str, body: &str, data: &str, opts: &str) -> Result<Option<Val>> {
    let (mut store, inst) = instantiate(&getter(types, ty, body, data, opts));
    call(&mut store, &inst, "get", &[])
}

/// `get` returning a pointer to the return area at 16, holding `ret`.
fn get_ret(types: &str, ty: &str, ret: &[u8], extra_data: &str, opts: &str) -> Result<Option<Val>> {
    let d = format!("{} {extra_data}", data(RET, ret));
    get(types, ty, &format!("i32.const {RET}"), &d, opts)
}

/// `get() -> string` with the string (ptr, tagged length) in the return area.
fn get_string(ptr: u32, tagged: u32, bytes_at_64: &[u8], opts: &str) -> Result<Option<Val>> {
    get_ret(
        "",
        "string",
        &le32s(&[ptr, tagged]),
        &data(64, bytes_at_64),
        opts,
    )
}

/// `get() -> list<T>` with the list (ptr, length) in the return area.
fn get_list(elem: &str, ptr: u32, len: u32, bytes_at_64: &[u8]) -> Result<Option<Val>> {
    get_ret(
        "",
        &format!("(list {elem})"),
        &le32s(&[ptr, len]),
        &data(64, bytes_at_64),
        "",
    )
}

const VARIANT_DECL: &str =
    r#"(type $v-def (variant (case "a" u32) (case "b"))) (export $v "v" (type $v-def))"#;
const ENUM_DECL: &str = r#"(type $e-def (enum "a" "b" "c")) (export $e "e" (type $e-def))"#;

// ------------------------------------------------------ discriminants

#[test]
fn invalid_discriminant_variant() {
    assert_trap(
        get_ret(VARIANT_DECL, "$v", &[2, 0, 0, 0, 7, 0, 0, 0], "", ""),
        TrapKind::InvalidDiscriminant,
    );
}

#[test]
fn valid_discriminant_variant_control() {
    assert_eq!(
        get_ret(VARIANT_DECL, "$v", &[0, 0, 0, 0, 7, 0, 0, 0], "", ""),
        Ok(Some(variant("a", Some(Val::U32(7)))))
    );
}

#[test]
fn invalid_discriminant_enum() {
    assert_trap(
        get(ENUM_DECL, "$e", "i32.const 3", "", ""),
        TrapKind::InvalidDiscriminant,
    );
}

#[test]
fn invalid_discriminant_option() {
    assert_trap(
        get_ret("", "(option u32)", &[2, 0, 0, 0, 7, 0, 0, 0], "", ""),
        TrapKind::InvalidDiscriminant,
    );
}

#[test]
fn invalid_discriminant_result() {
    assert_trap(
        get_ret(
            "",
            "(result u32 (error u32))",
            &[2, 0, 0, 0, 7, 0, 0, 0],
            "",
            "",
        ),
        TrapKind::InvalidDiscriminant,
    );
}

#[test]
fn invalid_discriminant_result_without_payloads() {
    assert_trap(
        get("", "(result)", "i32.const 2", "", ""),
        TrapKind::InvalidDiscriminant,
    );
}

/// The guest passes `option<u32>` with discriminant 2 to an import: the
/// host's lifting of the flat argument traps, and the host never runs.
#[test]
fn invalid_discriminant_in_import_argument() {
    let wat = imports_component(
        r#"(import "g" (func $g (param "x" (option u32))))"#,
        "(core func $g-lower (canon lower (func $g)))",
        r#"(import "host" "g" (func $g (param i32 i32)))
           (func (export "run") (call $g (i32.const 2) (i32.const 0)))"#,
        r#"(export "g" (func $g-lower))"#,
        r#"(func (export "run") (canon lift (core func $i "run")))"#,
    );
    let (r, host_calls) = run_with_counting_host(&wat, "g");
    assert_trap(r, TrapKind::InvalidDiscriminant);
    assert_eq!(host_calls, 0);
}

/// Instantiates `wat` with a host function `name` that counts its calls
/// and calls `run`. Returns the result and the count.
fn run_with_counting_host(wat: &str, name: &str) -> (Result<Option<Val>>, u32) {
    let engine = Engine::default();
    let component = load(&engine, wat);
    let mut linker = Linker::<u32>::new(&engine);
    linker
        .root()
        .func_new(name, |mut cx, _, _| {
            *cx.data_mut() += 1;
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, 0u32);
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let r = call(&mut store, &inst, "run", &[]);
    (r, *store.data())
}

// -------------------------------------------------------------- bools

#[test]
fn bool_2_lifts_as_true() {
    assert_eq!(
        get("", "bool", "i32.const 2", "", ""),
        Ok(Some(Val::Bool(true)))
    );
}

#[test]
fn bool_nonzero_bytes_in_memory_lift_as_true() {
    assert_eq!(
        get_ret("", "(tuple bool bool bool)", &[2, 0x80, 0], "", ""),
        Ok(Some(Val::Tuple(vec![
            Val::Bool(true),
            Val::Bool(true),
            Val::Bool(false)
        ])))
    );
}

// -------------------------------------------------------------- chars

#[test]
fn invalid_char_surrogate_d800() {
    assert_trap(
        get("", "char", "i32.const 0xd800", "", ""),
        TrapKind::InvalidChar,
    );
}

#[test]
fn invalid_char_surrogate_dfff() {
    assert_trap(
        get("", "char", "i32.const 0xdfff", "", ""),
        TrapKind::InvalidChar,
    );
}

#[test]
fn invalid_char_0x110000() {
    assert_trap(
        get("", "char", "i32.const 0x110000", "", ""),
        TrapKind::InvalidChar,
    );
}

#[test]
fn invalid_char_negative_i32() {
    assert_trap(
        get("", "char", "i32.const -1", "", ""),
        TrapKind::InvalidChar,
    );
}

#[test]
fn invalid_char_in_memory() {
    assert_trap(
        get_list("char", 64, 2, &le32s(&['a' as u32, 0xd800])),
        TrapKind::InvalidChar,
    );
}

// ---------------------------------------------------------- alignment

#[test]
fn unaligned_pointer_utf16_string_at_odd_address() {
    assert_trap(
        get_string(65, 1, &[0; 4], "string-encoding=utf16"),
        TrapKind::UnalignedPointer,
    );
}

#[test]
fn unaligned_pointer_latin1_utf16_string_at_odd_address() {
    // Latin-1 content needs no alignment, but `latin1+utf16` strings are
    // always 2-byte aligned.
    assert_trap(
        get_string(65, 1, b"ab", "string-encoding=latin1+utf16"),
        TrapKind::UnalignedPointer,
    );
}

#[test]
fn unaligned_pointer_list_u32_at_address_2() {
    assert_trap(get_list("u32", 2, 1, &[]), TrapKind::UnalignedPointer);
}

#[test]
fn unaligned_pointer_list_u64_at_address_68() {
    assert_trap(get_list("u64", 68, 1, &[]), TrapKind::UnalignedPointer);
}

#[test]
fn unaligned_pointer_spilled_result() {
    assert_trap(
        get("", "(tuple u32 u32)", "i32.const 2", "", ""),
        TrapKind::UnalignedPointer,
    );
}

#[test]
fn unaligned_pointer_spilled_result_with_u64() {
    assert_trap(
        get("", "(tuple u64 u8)", "i32.const 4", "", ""),
        TrapKind::UnalignedPointer,
    );
}

// ------------------------------------------------------ out of bounds

#[test]
fn pointer_out_of_bounds_string_past_memory_end() {
    assert_trap(get_string(65534, 3, &[], ""), TrapKind::PointerOutOfBounds);
}

#[test]
fn string_ending_exactly_at_memory_end_lifts() {
    let r = get_ret("", "string", &le32s(&[65534, 2]), &data(65534, b"ok"), "");
    assert_eq!(r, Ok(Some(s("ok"))));
}

#[test]
fn pointer_out_of_bounds_string_address_overflows_u32() {
    assert_trap(
        get_string(u32::MAX, 1, &[], ""),
        TrapKind::PointerOutOfBounds,
    );
}

#[test]
fn pointer_out_of_bounds_utf16_string_past_memory_end() {
    assert_trap(
        get_string(65534, 2, &[], "string-encoding=utf16"),
        TrapKind::PointerOutOfBounds,
    );
}

#[test]
fn pointer_out_of_bounds_list_past_memory_end() {
    assert_trap(get_list("u32", 65532, 2, &[]), TrapKind::PointerOutOfBounds);
}

#[test]
fn pointer_out_of_bounds_spilled_result() {
    assert_trap(
        get("", "(tuple u32 u32)", "i32.const 65532", "", ""),
        TrapKind::PointerOutOfBounds,
    );
}

// ------------------------------------------------------------ lengths

#[test]
fn length_too_large_utf8_string() {
    assert_trap(get_string(0, 1 << 28, &[], ""), TrapKind::LengthTooLarge);
}

#[test]
fn length_too_large_utf16_string() {
    // 2^27 code units are 2^28 bytes.
    assert_trap(
        get_string(0, 1 << 27, &[], "string-encoding=utf16"),
        TrapKind::LengthTooLarge,
    );
}

/// A string the spec traps on (here: out of bounds) traps with the spec's
/// kind, in both APIs, even when lifting it would exceed a host limit
/// (100M UTF-16 code units would take ~300 MB of host memory, over the
/// default 256 MiB per call).
#[test]
fn spec_string_traps_come_before_host_limits() {
    let ret = le32s(&[64, 100_000_000]);
    let d = format!("{} {}", data(RET, &ret), data(64, &[]));
    let wat = getter(
        "",
        "string",
        &format!("i32.const {RET}"),
        &d,
        "string-encoding=utf16",
    );
    let (mut store, inst) = instantiate(&wat);
    assert_trap(
        call(&mut store, &inst, "get", &[]),
        TrapKind::PointerOutOfBounds,
    );
    let (mut store, inst) = instantiate(&wat);
    let f = inst.get_func(&mut store, "get").unwrap();
    let typed = f.typed::<(), String>(&mut store).unwrap();
    assert_trap(typed.call(&mut store, ()), TrapKind::PointerOutOfBounds);
}

#[test]
fn length_too_large_tagged_utf16_string() {
    assert_trap(
        get_string(
            0,
            (1 << 27) | (1 << 31),
            &[],
            "string-encoding=latin1+utf16",
        ),
        TrapKind::LengthTooLarge,
    );
}

#[test]
fn string_of_max_length_is_checked_for_bounds_not_length() {
    assert_trap(
        get_string(0, (1 << 28) - 1, &[], ""),
        TrapKind::PointerOutOfBounds,
    );
}

#[test]
fn length_too_large_list_u32() {
    // 2^26 elements of 4 bytes are 2^28 bytes.
    assert_trap(get_list("u32", 0, 1 << 26, &[]), TrapKind::LengthTooLarge);
}

#[test]
fn length_too_large_list_u8() {
    assert_trap(get_list("u8", 0, 1 << 28, &[]), TrapKind::LengthTooLarge);
}

// ---------------------------------------------------------- encodings

#[test]
fn invalid_encoding_utf8() {
    assert_trap(
        get_string(64, 2, &[b'a', 0xFF], ""),
        TrapKind::InvalidEncoding,
    );
}

#[test]
fn invalid_encoding_utf8_truncated_sequence() {
    // Only the first byte of the two-byte sequence of 'é'.
    assert_trap(
        get_string(64, 1, "é".as_bytes(), ""),
        TrapKind::InvalidEncoding,
    );
}

#[test]
fn invalid_encoding_utf16_unpaired_surrogate() {
    assert_trap(
        get_string(64, 2, &[0x00, 0xD8, b'a', 0x00], "string-encoding=utf16"),
        TrapKind::InvalidEncoding,
    );
}

#[test]
fn invalid_encoding_utf16_lone_low_surrogate() {
    assert_trap(
        get_string(64, 1, &[0x00, 0xDC], "string-encoding=utf16"),
        TrapKind::InvalidEncoding,
    );
}

#[test]
fn invalid_encoding_tagged_utf16_unpaired_surrogate() {
    assert_trap(
        get_string(
            64,
            2 | (1 << 31),
            &[0x00, 0xD8, b'a', 0x00],
            "string-encoding=latin1+utf16",
        ),
        TrapKind::InvalidEncoding,
    );
}

// ---------------------------------------------------- realloc results

/// A component whose `realloc` always returns `ret`, exporting
/// `take: func({params})` over a core function with `core_params`.
fn bad_realloc(ret: u32, params: &str, core_params: &str, opts: &str) -> String {
    format!(
        r#"(component
  (core module $m
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const {ret}))
    (func (export "take") (param {core_params})))
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  (func (export "take") {params} (canon lift (core func $i "take") {OPTS} {opts}))
)"#
    )
}

fn take(wat: &str, args: &[Val]) -> Result<Option<Val>> {
    let (mut store, inst) = instantiate(wat);
    call(&mut store, &inst, "take", args)
}

#[test]
fn realloc_result_misaligned_for_list_u32() {
    let wat = bad_realloc(2, r#"(param "l" (list u32))"#, "i32 i32", "");
    assert_trap(
        take(&wat, &[Val::List(vec![Val::U32(1)])]),
        TrapKind::UnalignedPointer,
    );
}

#[test]
fn realloc_result_misaligned_for_utf16_string() {
    let wat = bad_realloc(
        1,
        r#"(param "s" string)"#,
        "i32 i32",
        "string-encoding=utf16",
    );
    assert_trap(take(&wat, &[s("hi")]), TrapKind::UnalignedPointer);
}

#[test]
fn realloc_result_misaligned_for_spilled_params() {
    let params: String = (0..17).map(|k| format!("(param \"p{k}\" u32) ")).collect();
    let wat = bad_realloc(6, &params, "i32", "");
    assert_trap(
        take(&wat, &vec![Val::U32(0); 17]),
        TrapKind::UnalignedPointer,
    );
}

#[test]
fn realloc_result_out_of_bounds_for_list_u32() {
    let wat = bad_realloc(65532, r#"(param "l" (list u32))"#, "i32 i32", "");
    assert_trap(
        take(&wat, &[Val::List(vec![Val::U32(1), Val::U32(2)])]),
        TrapKind::PointerOutOfBounds,
    );
}

#[test]
fn realloc_result_out_of_bounds_for_string() {
    let wat = bad_realloc(65534, r#"(param "s" string)"#, "i32 i32", "");
    assert_trap(take(&wat, &[s("hello")]), TrapKind::PointerOutOfBounds);
}

#[test]
fn realloc_result_out_of_bounds_for_spilled_params() {
    let params: String = (0..17).map(|k| format!("(param \"p{k}\" u32) ")).collect();
    let wat = bad_realloc(65500, &params, "i32", "");
    assert_trap(
        take(&wat, &vec![Val::U32(0); 17]),
        TrapKind::PointerOutOfBounds,
    );
}

/// The host's answer to an import is lowered through the guest's `realloc`,
/// which returns a misaligned pointer.
#[test]
fn realloc_result_misaligned_when_lowering_an_import_result() {
    let wat = r#"(component
  (import "f" (func $f (result (list u32))))
  (core module $libc
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 2)))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "mem" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))
  (core func $f-lower (canon lower (func $f) (memory $mem) (realloc $realloc)))
  (core module $m
    (import "host" "f" (func $f (param i32)))
    (func (export "run") (call $f (i32.const 16))))
  (core instance $i (instantiate $m (with "host" (instance (export "f" (func $f-lower))))))
  (func (export "run") (canon lift (core func $i "run")))
)"#;
    let engine = Engine::default();
    let component = load(&engine, wat);
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_new("f", |_, _, results| {
            results[0] = Val::List(vec![Val::U32(1)]);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    assert_trap(
        call(&mut store, &inst, "run", &[]),
        TrapKind::UnalignedPointer,
    );
}

// ------------------------------------------------ core and host traps

/// Exports `boom: func()` (core `unreachable`), `oob: func() -> u32` (a
/// load past the end of memory), `bad-char: func() -> char` (0xd800) and
/// `ok: func() -> u32` (returns 1).
fn traps_component() -> String {
    exports_component(
        "",
        r#"(func (export "boom") unreachable)
           (func (export "oob") (result i32) (i32.load (i32.const 70000)))
           (func (export "bad-char") (result i32) (i32.const 0xd800))
           (func (export "ok") (result i32) (i32.const 1))"#,
        r#"(func (export "boom") (canon lift (core func $i "boom")))
           (func (export "oob") (result u32) (canon lift (core func $i "oob")))
           (func (export "bad-char") (result char) (canon lift (core func $i "bad-char")))
           (func (export "ok") (result u32) (canon lift (core func $i "ok")))"#,
    )
}

#[test]
fn unreachable() {
    let (mut store, inst) = instantiate(&traps_component());
    assert_trap(call(&mut store, &inst, "boom", &[]), TrapKind::Unreachable);
}

#[test]
fn memory_out_of_bounds_in_core_code() {
    let (mut store, inst) = instantiate(&traps_component());
    assert_trap(
        call(&mut store, &inst, "oob", &[]),
        TrapKind::MemoryOutOfBounds,
    );
}

#[test]
fn poisoned_after_core_trap() {
    let (mut store, inst) = instantiate(&traps_component());
    assert_eq!(call(&mut store, &inst, "ok", &[]), Ok(Some(Val::U32(1))));
    assert_trap(call(&mut store, &inst, "boom", &[]), TrapKind::Unreachable);
    assert_trap(call(&mut store, &inst, "ok", &[]), TrapKind::Poisoned);
}

#[test]
fn poisoned_after_lifting_trap() {
    let (mut store, inst) = instantiate(&traps_component());
    assert_trap(
        call(&mut store, &inst, "bad-char", &[]),
        TrapKind::InvalidChar,
    );
    assert_trap(call(&mut store, &inst, "ok", &[]), TrapKind::Poisoned);
}

#[test]
fn poisoned_for_the_export_that_trapped_too() {
    let (mut store, inst) = instantiate(&traps_component());
    assert_trap(call(&mut store, &inst, "boom", &[]), TrapKind::Unreachable);
    assert_trap(call(&mut store, &inst, "boom", &[]), TrapKind::Poisoned);
}

#[test]
fn trap_does_not_poison_another_instance() {
    let engine = Engine::default();
    let component = load(&engine, &traps_component());
    let linker = Linker::new(&engine);
    let mut store = Store::new(&engine, ());
    let a = linker.instantiate(&mut store, &component).unwrap();
    let b = linker.instantiate(&mut store, &component).unwrap();
    assert_trap(call(&mut store, &a, "boom", &[]), TrapKind::Unreachable);
    assert_eq!(call(&mut store, &b, "ok", &[]), Ok(Some(Val::U32(1))));
}

#[test]
fn start_function_trap_fails_instantiation() {
    let engine = Engine::default();
    let component = load(
        &engine,
        r#"(component
             (core module $m (func $start unreachable) (start $start))
             (core instance $i (instantiate $m)))"#,
    );
    let mut store = Store::new(&engine, ());
    match Linker::new(&engine).instantiate(&mut store, &component) {
        Ok(_) => panic!("instantiation succeeded"),
        Err(e) => assert_eq!(e.trap_kind(), Some(TrapKind::Unreachable), "{e}"),
    }
}

/// A component importing `f: func() -> u32`, exporting `run: func() -> u32`
/// (returns `f()`) and `ok: func() -> u32`.
const CALLS_F: &str = r#"(component
  (import "f" (func $f (result u32)))
  (core func $f-lower (canon lower (func $f)))
  (core module $m
    (import "host" "f" (func $f (result i32)))
    (func (export "run") (result i32) (call $f))
    (func (export "ok") (result i32) (i32.const 1)))
  (core instance $i (instantiate $m (with "host" (instance (export "f" (func $f-lower))))))
  (func (export "run") (result u32) (canon lift (core func $i "run")))
  (func (export "ok") (result u32) (canon lift (core func $i "ok")))
)"#;

fn calls_f(
    host: impl Fn(StoreContextMut<'_, ()>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
) -> (Store<()>, Instance) {
    let engine = Engine::default();
    let component = load(&engine, CALLS_F);
    let mut linker = Linker::<()>::new(&engine);
    linker.root().func_new("f", host).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    (store, inst)
}

#[test]
fn host_error() {
    let (mut store, inst) = calls_f(|_, _, _| Err(Error::host("the host says no")));
    let e = call_err(&mut store, &inst, "run", &[]);
    assert_eq!(e.trap_kind(), Some(TrapKind::Host), "{e}");
    assert!(e.message().contains("the host says no"), "{e}");
}

#[test]
fn host_result_of_the_wrong_type_traps_as_host() {
    let (mut store, inst) = calls_f(|_, _, results| {
        results[0] = s("not a u32");
        Ok(())
    });
    assert_trap(call(&mut store, &inst, "run", &[]), TrapKind::Host);
}

#[test]
fn host_result_ok_control() {
    let (mut store, inst) = calls_f(|_, _, results| {
        results[0] = Val::U32(42);
        Ok(())
    });
    assert_eq!(call(&mut store, &inst, "run", &[]), Ok(Some(Val::U32(42))));
}

#[test]
fn poisoned_after_host_error() {
    let (mut store, inst) = calls_f(|_, _, _| Err(Error::host("no")));
    assert_trap(call(&mut store, &inst, "run", &[]), TrapKind::Host);
    assert_trap(call(&mut store, &inst, "ok", &[]), TrapKind::Poisoned);
}

// ---------------------------------------------- may_leave and may_enter

#[test]
fn cannot_leave_from_post_return() {
    let wat = r#"(component
  (import "f" (func $f))
  (core func $f-lower (canon lower (func $f)))
  (core module $m
    (import "host" "f" (func $f))
    (func (export "run") (result i32) (i32.const 5))
    (func (export "post") (param i32) (call $f)))
  (core instance $i (instantiate $m (with "host" (instance (export "f" (func $f-lower))))))
  (func (export "run") (result u32) (canon lift (core func $i "run") (post-return (core func $i "post"))))
)"#;
    let (r, host_calls) = run_with_counting_host(wat, "f");
    assert_trap(r, TrapKind::CannotLeave);
    assert_eq!(host_calls, 0);
}

#[test]
fn cannot_leave_from_realloc() {
    let wat = r#"(component
  (import "f" (func $f))
  (core func $f-lower (canon lower (func $f)))
  (core module $m
    (import "host" "f" (func $f))
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (call $f) (i32.const 64))
    (func (export "take") (param i32 i32)))
  (core instance $i (instantiate $m (with "host" (instance (export "f" (func $f-lower))))))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  (func (export "take") (param "s" string) (canon lift (core func $i "take") (memory $mem) (realloc $realloc)))
)"#;
    let engine = Engine::default();
    let component = load(&engine, wat);
    let mut linker = Linker::<u32>::new(&engine);
    linker
        .root()
        .func_new("f", |mut cx, _, _| {
            *cx.data_mut() += 1;
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, 0u32);
    let inst = linker.instantiate(&mut store, &component).unwrap();
    assert_trap(
        call(&mut store, &inst, "take", &[s("x")]),
        TrapKind::CannotLeave,
    );
    assert_eq!(*store.data(), 0);
}

#[test]
fn post_return_trap_fails_the_call() {
    let wat = exports_component(
        "",
        r#"(func (export "run") (result i32) (i32.const 5))
           (func (export "post") (param i32) unreachable)"#,
        r#"(func (export "run") (result u32) (canon lift (core func $i "run") (post-return (core func $i "post"))))"#,
    );
    let (mut store, inst) = instantiate(&wat);
    assert_trap(call(&mut store, &inst, "run", &[]), TrapKind::Unreachable);
}

/// The component lowers its own lifted export `g` and calls it from `run`.
/// Per CanonicalABI.md (`Store.lift`: `trap_if(not inst.may_enter_from(caller))`
/// with `caller` the instance itself, whose `entering_set` is then empty;
/// non-`async` function types ignore backpressure), this is not
/// reentrance: the call succeeds. Only entering from outside traps (see
/// `cannot_enter_from_host_import_calling_back`).
#[test]
fn own_lowered_export_called_from_inside_is_not_reentrance() {
    let wat = r#"(component
  (core module $a (func (export "g") (result i32) (i32.const 7)))
  (core instance $a (instantiate $a))
  (func $g (result u32) (canon lift (core func $a "g")))
  (core func $g-lower (canon lower (func $g)))
  (core module $b
    (import "self" "g" (func $g (result i32)))
    (func (export "run") (result i32) (call $g)))
  (core instance $b (instantiate $b (with "self" (instance (export "g" (func $g-lower))))))
  (func (export "run") (result u32) (canon lift (core func $b "run")))
  (export "g" (func $g))
)"#;
    let (mut store, inst) = instantiate(wat);
    assert_eq!(call(&mut store, &inst, "run", &[]), Ok(Some(Val::U32(7))));
    // The flags were restored: the instance can still be entered from outside.
    assert_eq!(call(&mut store, &inst, "g", &[]), Ok(Some(Val::U32(7))));
}

/// The host's `f` calls the instance's `ok` export while `run` (which
/// called `f`) is still on the stack.
#[test]
fn cannot_enter_from_host_import_calling_back() {
    struct Data {
        ok: Option<Func>,
        inner: Option<Result<()>>,
    }
    let engine = Engine::default();
    let component = load(&engine, CALLS_F);
    let mut linker = Linker::<Data>::new(&engine);
    linker
        .root()
        .func_new("f", |mut cx, _, results| {
            let ok = cx.data().ok.clone().ok_or_else(|| Error::host("no func"))?;
            let mut r = [Val::U32(0)];
            let inner = ok.call(&mut cx, &[], &mut r);
            cx.data_mut().inner = Some(inner.clone());
            inner?;
            results[0] = Val::U32(0);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(
        &engine,
        Data {
            ok: None,
            inner: None,
        },
    );
    let inst = linker.instantiate(&mut store, &component).unwrap();
    store.data_mut().ok = inst.get_func(&mut store, "ok");
    let outer = call(&mut store, &inst, "run", &[]);
    match &store.data().inner {
        Some(Err(e)) => assert_eq!(e.trap_kind(), Some(TrapKind::CannotEnter), "{e}"),
        other => panic!("the reentrant call returned {other:?}"),
    }
    assert_trap(outer, TrapKind::CannotEnter);
}

// --------------------------------- pointers a guest passes to an import

/// A component importing `f: func() -> string`; `run(retptr)` calls it
/// with the return pointer `retptr`.
const IMPORT_RETURNS_STRING: &str = r#"(component
  (import "f" (func $f (result string)))
  (core module $libc
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64)))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "mem" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))
  (core func $f-lower (canon lower (func $f) (memory $mem) (realloc $realloc)))
  (core module $m
    (import "host" "f" (func $f (param i32)))
    (func (export "run") (param i32) (call $f (local.get 0))))
  (core instance $i (instantiate $m (with "host" (instance (export "f" (func $f-lower))))))
  (func (export "run") (param "retptr" u32) (canon lift (core func $i "run")))
)"#;

fn run_import_returning_string(retptr: u32) -> Result<Option<Val>> {
    let engine = Engine::default();
    let component = load(&engine, IMPORT_RETURNS_STRING);
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_new("f", |_, _, results| {
            results[0] = s("hi");
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    call(&mut store, &inst, "run", &[Val::U32(retptr)])
}

#[test]
fn import_return_area_control() {
    assert_eq!(run_import_returning_string(16), Ok(None));
}

#[test]
fn unaligned_pointer_import_return_area() {
    assert_trap(run_import_returning_string(18), TrapKind::UnalignedPointer);
}

#[test]
fn pointer_out_of_bounds_import_return_area() {
    assert_trap(
        run_import_returning_string(65532),
        TrapKind::PointerOutOfBounds,
    );
}

/// A component importing `f(p0..p16: u32)`; `run(ptr)` calls it with its
/// spilled params at `ptr`. Returns the result and how often `f` ran.
fn run_import_with_spilled_params(ptr: u32) -> (Result<Option<Val>>, u32) {
    let params: String = (0..17).map(|k| format!("(param \"p{k}\" u32) ")).collect();
    let wat = format!(
        r#"(component
  (import "f" (func $f {params}))
  (core module $libc (memory (export "mem") 1))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "mem" (core memory $mem))
  (core func $f-lower (canon lower (func $f) (memory $mem)))
  (core module $m
    (import "host" "f" (func $f (param i32)))
    (func (export "run") (param i32) (call $f (local.get 0))))
  (core instance $i (instantiate $m (with "host" (instance (export "f" (func $f-lower))))))
  (func (export "run") (param "ptr" u32) (canon lift (core func $i "run")))
)"#
    );
    let engine = Engine::default();
    let component = load(&engine, &wat);
    let mut linker = Linker::<u32>::new(&engine);
    linker
        .root()
        .func_new("f", |mut cx, _, _| {
            *cx.data_mut() += 1;
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, 0u32);
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let r = call(&mut store, &inst, "run", &[Val::U32(ptr)]);
    (r, *store.data())
}

#[test]
fn import_spilled_params_control() {
    assert_eq!(run_import_with_spilled_params(16), (Ok(None), 1));
}

#[test]
fn unaligned_pointer_import_spilled_params() {
    let (r, calls) = run_import_with_spilled_params(18);
    assert_trap(r, TrapKind::UnalignedPointer);
    assert_eq!(calls, 0);
}

#[test]
fn pointer_out_of_bounds_import_spilled_params() {
    let (r, calls) = run_import_with_spilled_params(65500);
    assert_trap(r, TrapKind::PointerOutOfBounds);
    assert_eq!(calls, 0);
}

// ------------------------------------------------------- zero lengths

#[test]
fn empty_string_at_memory_end_lifts() {
    assert_eq!(get_string(65536, 0, &[], ""), Ok(Some(s(""))));
}

#[test]
fn unaligned_pointer_empty_utf16_string() {
    assert_trap(
        get_string(65, 0, &[], "string-encoding=utf16"),
        TrapKind::UnalignedPointer,
    );
}

#[test]
fn unaligned_pointer_empty_list_u32() {
    assert_trap(get_list("u32", 2, 0, &[]), TrapKind::UnalignedPointer);
}

#[test]
fn pointer_out_of_bounds_empty_list_past_memory_end() {
    assert_trap(get_list("u32", 65540, 0, &[]), TrapKind::PointerOutOfBounds);
}

// ------------------------------------------------ core wasm trap kinds

/// Exports `spin: func()` (loops forever), `recurse: func()` (unbounded
/// recursion), `count: func(n: u32) -> u32` (a loop of n iterations) and
/// `div: func(a: s32, b: s32) -> s32`.
const CORE_TRAPS: &str = r#"(component
  (core module $m
    (func (export "spin") (loop $l (br $l)))
    (func $recurse (export "recurse") (call $recurse))
    (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
    (func (export "count") (param $n i32) (result i32) (local $k i32)
      (loop $l
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $k) (local.get $n))))
      (local.get $k)))
  (core instance $i (instantiate $m))
  (func (export "count") (param "n" u32) (result u32) (canon lift (core func $i "count")))
  (func (export "spin") (canon lift (core func $i "spin")))
  (func (export "recurse") (canon lift (core func $i "recurse")))
  (func (export "div") (param "a" s32) (param "b" s32) (result s32) (canon lift (core func $i "div"))))"#;

#[test]
fn out_of_fuel() {
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config);
    let component = load(&engine, CORE_TRAPS);
    let mut store = Store::new(&engine, ());
    store.set_fuel(10_000).unwrap();
    let inst = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    assert_trap(call(&mut store, &inst, "spin", &[]), TrapKind::OutOfFuel);
}

#[test]
fn stack_overflow() {
    let (mut store, inst) = instantiate(CORE_TRAPS);
    assert_trap(
        call(&mut store, &inst, "recurse", &[]),
        TrapKind::StackOverflow,
    );
}

#[test]
fn integer_division_by_zero() {
    let (mut store, inst) = instantiate(CORE_TRAPS);
    assert_trap(
        call(&mut store, &inst, "div", &[Val::S32(1), Val::S32(0)]),
        TrapKind::IntegerDivisionByZero,
    );
}

#[test]
fn integer_overflow() {
    let (mut store, inst) = instantiate(CORE_TRAPS);
    assert_trap(
        call(
            &mut store,
            &inst,
            "div",
            &[Val::S32(i32::MIN), Val::S32(-1)],
        ),
        TrapKind::IntegerOverflow,
    );
}

/// Not a trap: a guest that runs a while must simply complete.
#[test]
fn long_running_guest_loop_completes() {
    let (mut store, inst) = instantiate(CORE_TRAPS);
    assert_eq!(
        call(&mut store, &inst, "count", &[Val::U32(1_000_000)]),
        Ok(Some(Val::U32(1_000_000)))
    );
}
