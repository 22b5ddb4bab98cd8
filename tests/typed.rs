//! The typed API: every `Lift`/`Lower` impl round-trips through a
//! component, typed host functions, and type mismatches.
//!
//! Most tests use a "forward" component: it imports `f: func(x: T) -> T`
//! and exports `run: func(x: T) -> T`, whose core function passes its core
//! arguments straight to the lowered import (with a return pointer when
//! the result spills) and returns what the import returned. So a value
//! crosses host→guest (lower, `TypedFunc`), guest→host (lift, `func_wrap`),
//! host→guest (lower the host's result) and guest→host (lift the result).

use componentry::{
    Component, ComponentNamedList, ComponentType, Engine, Error, ErrorKind, Lift, Linker, Lower,
    Store, TrapKind, Val,
};
use std::fmt::Debug;

/// A bump allocator as `realloc` (ignores the old block; tests are short).
const LIBC: &str = r#"(core module $libc
    (memory (export "mem") 4)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      (local.set $p (i32.and
        (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $p) (local.get 3)))
      (local.get $p)))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "mem" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))"#;

/// Where `run` asks the import to write a spilled result.
const RET: u32 = 16;

/// The forward component for a function `(param …) (result …)` text
/// `sig`, with named types `types` (`(type $n-def D) (import "n" …)`), whose
/// core params are `flat` (already a single `i32` if the params spill) and
/// core result `result` (`None` if it spills to a return pointer, `Some("")`
/// for no result).
fn forward_wat(types: &str, sig: &str, flat: &[&str], result: Option<&str>) -> String {
    let params = flat.join(" ");
    let gets: String = (0..flat.len()).map(|k| format!("local.get {k} ")).collect();
    let core = match result {
        None => format!(
            "(import \"host\" \"f\" (func $f (param {params} i32)))
             (func (export \"run\") (param {params}) (result i32) {gets} i32.const {RET} call $f i32.const {RET})"
        ),
        Some("") => format!(
            "(import \"host\" \"f\" (func $f (param {params})))
             (func (export \"run\") (param {params}) {gets} call $f)"
        ),
        Some(r) => format!(
            "(import \"host\" \"f\" (func $f (param {params}) (result {r})))
             (func (export \"run\") (param {params}) (result {r}) {gets} call $f)"
        ),
    };
    format!(
        r#"(component
  {types}
  (import "f" (func $f {sig}))
  {LIBC}
  (core func $f-lower (canon lower (func $f) (memory $mem) (realloc $realloc)))
  (core module $m {core})
  (core instance $i (instantiate $m (with "host" (instance (export "f" (func $f-lower))))))
  (func (export "run") {sig} (canon lift (core func $i "run") (memory $mem) (realloc $realloc)))
)"#
    )
}

/// `forward_wat` for `func(x: T) -> T` with `T` spelled `ty`.
fn echo_wat(types: &str, ty: &str, flat: &[&str]) -> String {
    let sig = format!("(param \"x\" {ty}) (result {ty})");
    let result = if flat.len() == 1 { Some(flat[0]) } else { None };
    forward_wat(types, &sig, flat, result)
}

fn load(engine: &Engine, wat: &str) -> Component {
    let bytes = wat::parse_str(wat).unwrap_or_else(|e| panic!("{e}\n{wat}"));
    Component::new(engine, &bytes).unwrap_or_else(|e| panic!("{e}\n{wat}"))
}

/// Round-trips each of `vals` through the forward component of `T`: once
/// with a typed host function (which must see the value unchanged) and
/// once with a dynamic one (so typed lowering and lifting are checked
/// against the dynamic ones, independently of each other).
fn round_trip<T>(types: &str, ty: &str, flat: &[&str], vals: &[T])
where
    T: ComponentType + Lift + Lower + Clone + PartialEq + Debug + Send + Sync + 'static,
{
    let engine = Engine::default();
    let component = load(&engine, &echo_wat(types, ty, flat));

    // Typed host function.
    let mut linker = Linker::<Vec<T>>::new(&engine);
    linker
        .root()
        .func_wrap("f", |mut cx, (x,): (T,)| {
            cx.data_mut().push(x.clone());
            Ok(x)
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst
        .get_func(&mut store, "run")
        .unwrap()
        .typed::<(T,), T>(&mut store)
        .unwrap();
    for v in vals {
        store.data_mut().clear();
        let r = run.call(&mut store, (v.clone(),)).unwrap();
        assert_eq!(&r, v, "result as {ty}");
        assert_eq!(store.data(), std::slice::from_ref(v), "what the host saw");
    }

    // Dynamic host function: echoes the `Val` it gets.
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_new("f", |_, params, results| {
            results[0] = params[0].clone();
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst
        .get_func(&mut store, "run")
        .unwrap()
        .typed::<(T,), T>(&mut store)
        .unwrap();
    for v in vals {
        assert_eq!(&run.call(&mut store, (v.clone(),)).unwrap(), v, "as {ty}");
    }
}

// ------------------------------------------------------------- scalars

#[test]
fn bool_round_trips() {
    round_trip("", "bool", &["i32"], &[true, false]);
}

#[test]
fn u8_and_s8_round_trip() {
    round_trip("", "u8", &["i32"], &[0u8, 1, 0x7F, 0xFF]);
    round_trip("", "s8", &["i32"], &[0i8, -1, i8::MIN, i8::MAX]);
}

#[test]
fn u16_and_s16_round_trip() {
    round_trip("", "u16", &["i32"], &[0u16, 0xFFFF, 0x8000]);
    round_trip("", "s16", &["i32"], &[0i16, -1, i16::MIN, i16::MAX]);
}

#[test]
fn u32_and_s32_round_trip() {
    round_trip("", "u32", &["i32"], &[0u32, u32::MAX, 0x8000_0000]);
    round_trip("", "s32", &["i32"], &[0i32, -1, i32::MIN, i32::MAX]);
}

#[test]
fn u64_and_s64_round_trip() {
    round_trip("", "u64", &["i64"], &[0u64, u64::MAX, 1 << 63]);
    round_trip("", "s64", &["i64"], &[0i64, -1, i64::MIN, i64::MAX]);
}

#[test]
fn f32_and_f64_round_trip() {
    round_trip(
        "",
        "f32",
        &["f32"],
        &[0.0f32, -0.0, 1.5, f32::INFINITY, f32::MIN],
    );
    round_trip("", "f64", &["f64"], &[0.0f64, -2.5e300, f64::NEG_INFINITY]);
}

#[test]
fn nan_payloads_are_canonicalized() {
    let engine = Engine::default();
    let component = load(&engine, &echo_wat("", "f32", &["f32"]));
    let mut linker = Linker::<Vec<u32>>::new(&engine);
    linker
        .root()
        .func_wrap("f", |mut cx, (x,): (f32,)| {
            cx.data_mut().push(x.to_bits());
            Ok(f32::from_bits(0xFFC0_1234))
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst.get_func(&mut store, "run").unwrap();
    let run = run.typed::<(f32,), f32>(&mut store).unwrap();
    let r = run
        .call(&mut store, (f32::from_bits(0x7FA0_0001),))
        .unwrap();
    assert_eq!(r.to_bits(), 0x7FC0_0000);
    assert_eq!(store.data(), &[0x7FC0_0000]);
}

#[test]
fn char_round_trips() {
    round_trip("", "char", &["i32"], &['a', '\0', 'é', '😀', char::MAX]);
}

// ------------------------------------------------------------- strings

#[test]
fn string_round_trips() {
    let long = "x".repeat(5000);
    round_trip(
        "",
        "string",
        &["i32", "i32"],
        &[String::new(), "hello".into(), "日本語 😀".into(), long],
    );
}

#[test]
fn boxed_str_round_trips() {
    round_trip::<Box<str>>("", "string", &["i32", "i32"], &["boxed".into(), "".into()]);
}

#[test]
fn str_ref_lowers() {
    let engine = Engine::default();
    let component = load(&engine, &echo_wat("", "string", &["i32", "i32"]));
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("f", |_, (x,): (String,)| Ok(x))
        .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst.get_func(&mut store, "run").unwrap();
    let run = run.typed::<(&str,), String>(&mut store).unwrap();
    assert_eq!(run.call(&mut store, ("borrowed",)).unwrap(), "borrowed");
}

// --------------------------------------------------------------- lists

#[test]
fn list_of_u8_round_trips() {
    let big: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
    round_trip(
        "",
        "(list u8)",
        &["i32", "i32"],
        &[vec![], vec![1u8, 2, 3], big],
    );
}

#[test]
fn lists_of_wider_scalars_round_trip() {
    round_trip("", "(list u16)", &["i32", "i32"], &[vec![1u16, 0xFFFF, 7]]);
    round_trip(
        "",
        "(list s32)",
        &["i32", "i32"],
        &[vec![-1i32, i32::MIN, 5]],
    );
    round_trip("", "(list u64)", &["i32", "i32"], &[vec![u64::MAX, 0, 3]]);
    round_trip("", "(list f64)", &["i32", "i32"], &[vec![1.5f64, -0.0]]);
    round_trip("", "(list char)", &["i32", "i32"], &[vec!['a', '😀']]);
    round_trip(
        "",
        "(list bool)",
        &["i32", "i32"],
        &[vec![true, false, true]],
    );
}

#[test]
fn list_of_strings_round_trips() {
    round_trip(
        "",
        "(list string)",
        &["i32", "i32"],
        &[vec![], vec!["a".to_string(), String::new(), "ü".into()]],
    );
}

#[test]
fn nested_lists_round_trip() {
    round_trip(
        "",
        "(list (list u32))",
        &["i32", "i32"],
        &[vec![vec![1u32, 2], vec![], vec![3]]],
    );
}

#[test]
fn boxed_slice_round_trips() {
    round_trip::<Box<[u32]>>("", "(list u32)", &["i32", "i32"], &[vec![1u32, 2].into()]);
}

#[test]
fn slice_ref_lowers() {
    let engine = Engine::default();
    let component = load(&engine, &echo_wat("", "(list u32)", &["i32", "i32"]));
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("f", |_, (x,): (Vec<u32>,)| Ok(x))
        .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst.get_func(&mut store, "run").unwrap();
    let run = run.typed::<(&[u32],), Vec<u32>>(&mut store).unwrap();
    assert_eq!(run.call(&mut store, (&[9u32, 8][..],)).unwrap(), [9, 8]);
}

// ----------------------------------------------- options, results, tuples

#[test]
fn option_round_trips() {
    round_trip(
        "",
        "(option u32)",
        &["i32", "i32"],
        &[None, Some(0u32), Some(u32::MAX)],
    );
    round_trip(
        "",
        "(option string)",
        &["i32", "i32", "i32"],
        &[None, Some("some".to_string())],
    );
    round_trip(
        "",
        "(option (option u8))",
        &["i32", "i32", "i32"],
        &[None, Some(None), Some(Some(3u8))],
    );
}

#[test]
fn result_round_trips() {
    round_trip(
        "",
        "(result u32 (error string))",
        &["i32", "i32", "i32"],
        &[Ok(7u32), Err("bad".to_string())],
    );
    // Joined payload slots: f64 and u32 share an i64 slot.
    round_trip(
        "",
        "(result f64 (error u32))",
        &["i32", "i64"],
        &[Ok(2.5f64), Err(9u32)],
    );
}

#[test]
fn result_without_payloads_round_trips() {
    round_trip::<Result<(), ()>>("", "(result)", &["i32"], &[Ok(()), Err(())]);
    round_trip::<Result<(), u8>>(
        "",
        "(result (error u8))",
        &["i32", "i32"],
        &[Ok(()), Err(4)],
    );
    round_trip::<Result<String, ()>>(
        "",
        "(result string)",
        &["i32", "i32", "i32"],
        &[Ok("ok".into()), Err(())],
    );
}

#[test]
fn tuple_round_trips() {
    round_trip(
        "",
        "(tuple u8 f64 char string)",
        &["i32", "f64", "i32", "i32", "i32"],
        &[(1u8, 2.5f64, 'c', "s".to_string())],
    );
}

#[test]
fn sixteen_params_round_trip() {
    type P = (
        u8,
        u16,
        u32,
        u64,
        i8,
        i16,
        i32,
        i64,
        f32,
        f64,
        bool,
        char,
        u32,
        u32,
        u32,
        u32,
    );
    let engine = Engine::default();
    let tys = [
        "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "f32", "f64", "bool", "char", "u32",
        "u32", "u32", "u32",
    ];
    let flat = [
        "i32", "i32", "i32", "i64", "i32", "i32", "i32", "i64", "f32", "f64", "i32", "i32", "i32",
        "i32", "i32", "i32",
    ];
    let params: String = tys
        .iter()
        .enumerate()
        .map(|(k, t)| format!("(param \"p{k}\" {t}) "))
        .collect();
    let sig = format!("{params}(result u64)");
    let component = load(&engine, &forward_wat("", &sig, &flat, Some("i64")));
    let mut linker = Linker::<Vec<(u8, i8, f32, char, u32)>>::new(&engine);
    linker
        .root()
        .func_wrap("f", |mut cx, p: P| {
            cx.data_mut().push((p.0, p.4, p.8, p.11, p.15));
            Ok(p.3)
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst.get_func(&mut store, "run").unwrap();
    let run = run.typed::<P, u64>(&mut store).unwrap();
    let p: P = (
        1, 2, 3, 4, -5, -6, -7, -8, 9.5, 10.5, true, 'z', 13, 14, 15, 16,
    );
    assert_eq!(run.call(&mut store, p).unwrap(), 4);
    assert_eq!(store.data(), &[(1, -5, 9.5, 'z', 16)]);
}

#[test]
fn spilled_params_go_through_memory() {
    // 1 + 2 + 15 flat values > 16: the params travel as a pointer.
    type P = (
        u8,
        String,
        u64,
        u64,
        u64,
        u64,
        u64,
        u64,
        u64,
        u64,
        u64,
        u64,
        u64,
        u64,
        u64,
        u64,
    );
    let engine = Engine::default();
    let mut params = String::from("(param \"a\" u8) (param \"s\" string) ");
    for k in 0..14 {
        params += &format!("(param \"p{k}\" u64) ");
    }
    let sig = format!("{params}(result string)");
    let component = load(&engine, &forward_wat("", &sig, &["i32"], None));
    let mut linker = Linker::<Vec<(u8, String, u64)>>::new(&engine);
    linker
        .root()
        .func_wrap("f", |mut cx, p: P| {
            cx.data_mut().push((p.0, p.1.clone(), p.2));
            Ok(format!("{}:{}", p.1, p.15))
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst.get_func(&mut store, "run").unwrap();
    let run = run.typed::<P, String>(&mut store).unwrap();
    let p: P = (
        7,
        "spill".into(),
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        10,
        11,
        12,
        13,
        14,
    );
    assert_eq!(run.call(&mut store, p).unwrap(), "spill:14");
    assert_eq!(store.data(), &[(7, "spill".to_string(), 1)]);
}

#[test]
fn unit_params_and_result() {
    let engine = Engine::default();
    let component = load(&engine, &forward_wat("", "", &[], Some("")));
    let mut linker = Linker::<u32>::new(&engine);
    linker
        .root()
        .func_wrap("f", |mut cx, (): ()| {
            *cx.data_mut() += 1;
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, 0);
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst.get_func(&mut store, "run").unwrap();
    let run = run.typed::<(), ()>(&mut store).unwrap();
    run.call(&mut store, ()).unwrap();
    run.call(&mut store, ()).unwrap();
    assert_eq!(*store.data(), 2);
}

// ---------------------------------------------------------------- errors

/// The forward component of `add: func(a: u32, b: u32) -> u32`.
fn add_wat() -> String {
    forward_wat(
        "",
        "(param \"a\" u32) (param \"b\" u32) (result u32)",
        &["i32", "i32"],
        Some("i32"),
    )
}

fn add_instance(engine: &Engine) -> (Store<()>, componentry::Instance) {
    let component = load(engine, &add_wat());
    let mut linker = Linker::<()>::new(engine);
    linker
        .root()
        .func_wrap("f", |_, (a, b): (u32, u32)| Ok(a.wrapping_add(b)))
        .unwrap();
    let mut store = Store::new(engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    (store, inst)
}

#[test]
fn typed_func_wrap_adds() {
    let engine = Engine::default();
    let (mut store, inst) = add_instance(&engine);
    let run = inst.get_func(&mut store, "run").unwrap();
    let add = run.typed::<(u32, u32), u32>(&mut store).unwrap();
    assert_eq!(add.call(&mut store, (7, 35)).unwrap(), 42);
    // The same function still works dynamically.
    let mut r = [Val::U32(0)];
    run.call(&mut store, &[Val::U32(1), Val::U32(2)], &mut r)
        .unwrap();
    assert_eq!(r[0], Val::U32(3));
}

#[test]
fn typed_with_wrong_params_is_a_usage_error() {
    let engine = Engine::default();
    let (mut store, inst) = add_instance(&engine);
    let run = inst.get_func(&mut store, "run").unwrap();
    let e = run.typed::<(u32,), u32>(&mut store).err().unwrap();
    assert_eq!(e.kind(), &ErrorKind::Usage);
    let msg = e.to_string();
    assert!(msg.contains("func(a: u32, b: u32) -> u32"), "{msg}");
    assert!(msg.contains("(u32,)"), "{msg}");
    let e = run.typed::<(u32, String), u32>(&mut store).err().unwrap();
    let msg = e.to_string();
    assert!(
        msg.contains("parameter `b`") && msg.contains("String"),
        "{msg}"
    );
}

#[test]
fn typed_with_wrong_result_is_a_usage_error() {
    let engine = Engine::default();
    let (mut store, inst) = add_instance(&engine);
    let run = inst.get_func(&mut store, "run").unwrap();
    let e = run.typed::<(u32, u32), u64>(&mut store).err().unwrap();
    assert_eq!(e.kind(), &ErrorKind::Usage);
    assert!(e.to_string().contains("u64"), "{e}");
    let e = run.typed::<(u32, u32), ()>(&mut store).err().unwrap();
    assert_eq!(e.kind(), &ErrorKind::Usage);
}

#[test]
fn func_wrap_with_wrong_signature_is_a_link_error() {
    let engine = Engine::default();
    let component = load(&engine, &add_wat());
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("f", |_, (a,): (u64,)| Ok(a))
        .unwrap();
    let mut store = Store::new(&engine, ());
    let e = linker.instantiate(&mut store, &component).err().unwrap();
    assert_eq!(e.kind(), &ErrorKind::Link);
    let msg = e.to_string();
    assert!(msg.contains("`f`"), "{msg}");
    assert!(msg.contains("func(a: u32, b: u32) -> u32"), "{msg}");
    assert!(msg.contains("(u64,)"), "{msg}");
}

#[test]
fn host_error_traps_and_poisons() {
    let engine = Engine::default();
    let component = load(&engine, &add_wat());
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("f", |_, (a, _b): (u32, u32)| {
            if a == 0 {
                Err(Error::host("no zeros"))
            } else {
                Ok(a)
            }
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst.get_func(&mut store, "run").unwrap();
    let add = run.typed::<(u32, u32), u32>(&mut store).unwrap();
    assert_eq!(add.call(&mut store, (1, 0)).unwrap(), 1);
    let e = add.call(&mut store, (0, 0)).unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::Host));
    let e = add.call(&mut store, (1, 0)).unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::Poisoned));
}

#[test]
fn invalid_char_from_guest_traps() {
    // `run` returns 0xD800 as a char: lifting it traps.
    let engine = Engine::default();
    let wat = r#"(component
      (core module $m (func (export "c") (result i32) i32.const 0xD800))
      (core instance $i (instantiate $m))
      (func (export "c") (result char) (canon lift (core func $i "c"))))"#;
    let component = load(&engine, wat);
    let mut store = Store::new(&engine, ());
    let inst = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let c = inst.get_func(&mut store, "c").unwrap();
    let c = c.typed::<(), char>(&mut store).unwrap();
    let e = c.call(&mut store, ()).unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::InvalidChar));
}

#[test]
fn named_list_params_check() {
    // Compile-time: tuples are ComponentNamedList.
    fn is_list<P: ComponentNamedList>() {}
    is_list::<()>();
    is_list::<(u32, String, Vec<u8>)>();
}

// --------------------------------------------------------------- derives

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
struct BigRecord {
    f_u8: u8,
    f_u16: u16,
    f_u32: u32,
    f_u64: u64,
    f_f32: f32,
    f_f64: f64,
    f_bool: bool,
    f_char: char,
    f_string: String,
    f_opt: Option<u32>,
}

const BIG_RECORD: &str = r#"(type $r-def (record (field "f-u8" u8) (field "f-u16" u16)
    (field "f-u32" u32) (field "f-u64" u64) (field "f-f32" f32) (field "f-f64" f64)
    (field "f-bool" bool) (field "f-char" char) (field "f-string" string)
    (field "f-opt" (option u32))))
  (import "r" (type $r (eq $r-def)))"#;

const BIG_RECORD_FLAT: &[&str] = &[
    "i32", "i32", "i32", "i64", "f32", "f64", "i32", "i32", "i32", "i32", "i32", "i32",
];

fn big_record(k: u32) -> BigRecord {
    BigRecord {
        f_u8: k as u8,
        f_u16: 0xFFFF - k as u16,
        f_u32: k * 1000,
        f_u64: u64::MAX - u64::from(k),
        f_f32: k as f32 + 0.5,
        f_f64: -(k as f64) * 1e100,
        f_bool: k % 2 == 0,
        f_char: char::from_u32(0x1F600 + k).unwrap(),
        f_string: format!("record {k}"),
        f_opt: (k % 3 != 0).then_some(k),
    }
}

#[test]
fn derived_record_round_trips() {
    round_trip(
        BIG_RECORD,
        "$r",
        BIG_RECORD_FLAT,
        &[big_record(0), big_record(7)],
    );
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
enum Shape {
    Circle(f32),
    Empty,
    #[component(name = "label")]
    Named(String),
    Big(u64),
}

const SHAPE: &str = r#"(type $s-def (variant (case "circle" f32) (case "empty")
    (case "label" string) (case "big" u64)))
  (import "s" (type $s (eq $s-def)))"#;

#[test]
fn derived_variant_round_trips() {
    round_trip(
        SHAPE,
        "$s",
        &["i32", "i64", "i32"],
        &[
            Shape::Circle(1.5),
            Shape::Empty,
            Shape::Named("n".into()),
            Shape::Big(u64::MAX),
        ],
    );
}

#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
enum Color {
    Red,
    Green,
    DarkBlue,
}

const COLOR: &str = r#"(type $c-def (enum "red" "green" "dark-blue"))
  (import "c" (type $c (eq $c-def)))"#;

#[test]
fn derived_enum_round_trips() {
    round_trip(
        COLOR,
        "$c",
        &["i32"],
        &[Color::Red, Color::Green, Color::DarkBlue],
    );
    round_trip(
        COLOR,
        "(list $c)",
        &["i32", "i32"],
        &[vec![Color::DarkBlue, Color::Red]],
    );
}

componentry::flags! {
    /// Test permissions.
    Perms {
        const READ;
        const WRITE;
        #[component(name = "run")]
        const EXECUTE;
    }
}

const PERMS: &str = r#"(type $p-def (flags "read" "write" "run"))
  (import "p" (type $p (eq $p-def)))"#;

#[test]
fn flags_round_trip() {
    round_trip(
        PERMS,
        "$p",
        &["i32"],
        &[
            Perms::empty(),
            Perms::READ,
            Perms::WRITE | Perms::EXECUTE,
            Perms::all(),
        ],
    );
    let rw = Perms::READ | Perms::WRITE;
    assert!(rw.contains(Perms::READ) && !rw.contains(Perms::EXECUTE));
    assert_eq!(!rw, Perms::EXECUTE);
    assert_eq!(format!("{rw:?}"), "Perms(READ | WRITE)");
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
struct Nested {
    shape: Shape,
    colors: Vec<Color>,
    #[component(name = "permissions")]
    perms: Perms,
    pair: (u8, Option<String>),
}

#[test]
fn derived_types_nest() {
    let types = format!(
        r#"{SHAPE} {COLOR} {PERMS}
  (type $n-def (record (field "shape" $s) (field "colors" (list $c))
    (field "permissions" $p) (field "pair" (tuple u8 (option string)))))
  (import "n" (type $n (eq $n-def)))"#
    );
    round_trip(
        &types,
        "$n",
        &[
            "i32", "i64", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32",
        ],
        &[Nested {
            shape: Shape::Named("inner".into()),
            colors: vec![Color::Green],
            perms: Perms::WRITE,
            pair: (9, Some("p".into())),
        }],
    );
}

#[test]
fn derived_record_with_other_fields_does_not_typecheck() {
    #[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
    struct Point {
        x: u32,
        y: u32,
    }
    let engine = Engine::default();
    let types = r#"(type $r-def (record (field "x" u32) (field "z" u32)))
      (import "r" (type $r (eq $r-def)))"#;
    let component = load(&engine, &echo_wat(types, "$r", &["i32", "i32"]));
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("f", |_, (p,): (Point,)| Ok(p))
        .unwrap();
    let mut store = Store::new(&engine, ());
    let e = linker.instantiate(&mut store, &component).err().unwrap();
    assert_eq!(e.kind(), &ErrorKind::Link);
    assert!(e.to_string().contains("Point"), "{e}");
}

#[test]
fn bad_variant_discriminant_from_guest_traps() {
    let engine = Engine::default();
    let wat = String::from(
        r#"(component
      (type $c-def (enum "red" "green" "dark-blue"))
      (export $c "color" (type $c-def))
      (core module $m (func (export "c") (result i32) i32.const 3))
      (core instance $i (instantiate $m))
      (func (export "c") (result $c) (canon lift (core func $i "c"))))"#,
    );
    let component = load(&engine, &wat);
    let mut store = Store::new(&engine, ());
    let inst = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let c = inst.get_func(&mut store, "c").unwrap();
    let c = c.typed::<(), Color>(&mut store).unwrap();
    let e = c.call(&mut store, ()).unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::InvalidDiscriminant));
}

// ----------------------------------------------------- sandbox accounting

#[test]
fn typed_lifts_respect_max_lift_bytes() {
    let mut config = componentry::Config::new();
    config.max_lift_bytes(1024);
    let engine = Engine::new(&config);
    let component = load(&engine, &echo_wat("", "(list u8)", &["i32", "i32"]));
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("f", |_, (x,): (Vec<u8>,)| Ok(x))
        .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst.get_func(&mut store, "run").unwrap();
    let run = run.typed::<(&[u8],), Vec<u8>>(&mut store).unwrap();
    assert_eq!(
        run.call(&mut store, (&[7u8; 1024][..],)).unwrap().len(),
        1024
    );
    let e = run.call(&mut store, (&[7u8; 1025][..],)).unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::LimitExceeded), "{e}");
}

#[test]
fn typed_calls_charge_the_same_fuel_as_dynamic_ones() {
    let mut config = componentry::Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config);
    let component = load(&engine, &echo_wat("", "string", &["i32", "i32"]));
    let mut fuel_used = Vec::new();
    for typed in [false, true] {
        let mut linker = Linker::<()>::new(&engine);
        if typed {
            linker
                .root()
                .func_wrap("f", |_, (x,): (String,)| Ok(x))
                .unwrap();
        } else {
            linker
                .root()
                .func_new("f", |_, params, results| {
                    results[0] = params[0].clone();
                    Ok(())
                })
                .unwrap();
        }
        let mut store = Store::new(&engine, ());
        store.set_fuel(1_000_000).unwrap();
        let inst = linker.instantiate(&mut store, &component).unwrap();
        let run = inst.get_func(&mut store, "run").unwrap();
        let s = "fuel ".repeat(100);
        // The second call is measured: wasmi compiles functions lazily on
        // their first call, and charges fuel for that.
        let mut used = 0;
        for _ in 0..2 {
            let before = store.get_fuel().unwrap();
            if typed {
                let run = run.typed::<(&str,), String>(&mut store).unwrap();
                assert_eq!(run.call(&mut store, (&s,)).unwrap(), s);
            } else {
                let mut r = [Val::Bool(false)];
                run.call(&mut store, &[Val::String(s.clone())], &mut r)
                    .unwrap();
            }
            used = before - store.get_fuel().unwrap();
        }
        fuel_used.push(used);
    }
    assert_eq!(fuel_used[0], fuel_used[1], "dynamic vs typed");
}

#[cfg(feature = "typed-host-val-calls")]
#[test]
fn reexported_typed_host_function_can_be_called_dynamically() {
    let engine = Engine::default();
    let wat = r#"(component
      (import "f" (func $f (param "x" u32) (param "s" string) (result (list string))))
      (export "g" (func $f)))"#;
    let component = load(&engine, wat);
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("f", |_, (x, s): (u32, String)| Ok(vec![s; x as usize]))
        .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let g = inst.get_func(&mut store, "g").unwrap();
    let mut r = [Val::Bool(false)];
    g.call(&mut store, &[Val::U32(2), Val::String("hi".into())], &mut r)
        .unwrap();
    let hi = Val::String("hi".into());
    assert_eq!(r[0], Val::List(vec![hi.clone(), hi]));
    let e = g
        .call(&mut store, &[Val::U8(2), Val::String("hi".into())], &mut r)
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Usage, "{e}");
}

/// Without the `typed-host-val-calls` feature a typed host function has no
/// `Val` form: calling its re-export with `Val`s is an "unsupported" error
/// naming the feature (and the typed path still works).
#[cfg(not(feature = "typed-host-val-calls"))]
#[test]
fn reexported_typed_host_function_called_dynamically_is_unsupported_without_the_feature() {
    let engine = Engine::default();
    let wat = r#"(component
      (import "f" (func $f (param "x" u32) (result u32)))
      (export "g" (func $f)))"#;
    let component = load(&engine, wat);
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("f", |_, (x,): (u32,)| Ok(x + 1))
        .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let g = inst.get_func(&mut store, "g").unwrap();
    let mut r = [Val::Bool(false)];
    let e = g.call(&mut store, &[Val::U32(2)], &mut r).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Unsupported, "{e}");
    assert!(e.to_string().contains("typed-host-val-calls"), "{e}");
}

/// `TypedFunc` is covariant in its parameters: one stored with a reference
/// parameter can be called with a borrow of a local that lives shorter than
/// it. (Mostly a compile test: with an invariant `TypedFunc`, `&rec` would
/// have to live as long as `Plugin<'a>`.)
#[test]
fn a_stored_typed_func_takes_a_shorter_borrow() {
    struct Plugin<'a> {
        echo: componentry::TypedFunc<(&'a BigRecord,), BigRecord>,
    }
    fn call_with_local(p: &Plugin<'_>, store: &mut Store<()>, n: u32) -> BigRecord {
        let rec = big_record(n);
        p.echo.call(store, (&rec,)).unwrap()
    }
    let engine = Engine::default();
    let component = load(&engine, &echo_wat(BIG_RECORD, "$r", BIG_RECORD_FLAT));
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("f", |_, (x,): (BigRecord,)| Ok(x))
        .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let plugin = Plugin {
        echo: inst
            .get_func(&mut store, "run")
            .unwrap()
            .typed(&mut store)
            .unwrap(),
    };
    for n in [0, 7] {
        assert_eq!(call_with_local(&plugin, &mut store, n), big_record(n));
    }
}
