//! Errors that are not traps: load errors, unsupported features, link
//! errors and API usage errors; and introspection of imports, exports and
//! function types.

mod common;

use common::*;
use componentry::*;

fn load_error(bytes: &[u8]) -> Error {
    match Component::new(&Engine::default(), bytes) {
        Ok(_) => panic!("the binary loaded"),
        Err(e) => e,
    }
}

fn load_error_wat(wat: &str) -> Error {
    load_error(&wat_bytes(wat))
}

/// The offset of a load error; fails the test for other errors.
fn load_offset(e: &Error) -> usize {
    match e.kind() {
        ErrorKind::Load { offset } => *offset,
        other => panic!("expected a load error, got {other:?}: {e}"),
    }
}

const SMALL: &str = r#"(component
  (core module $m (func (export "f") (result i32) i32.const 1))
  (core instance $i (instantiate $m))
  (func (export "f") (result u32) (canon lift (core func $i "f"))))"#;

// --------------------------------------------------------------- load

#[test]
fn garbage_bytes_are_a_load_error() {
    let e = load_error(b"definitely not wasm");
    assert_eq!(load_offset(&e), 0);
    assert!(e.to_string().starts_with("load error at offset 0x0"), "{e}");
}

#[test]
fn empty_input_is_a_load_error() {
    let e = load_error(b"");
    load_offset(&e);
}

#[test]
fn load_error_offset_points_at_the_bad_byte() {
    // A valid component header, then section id 0xff.
    let e = load_error(b"\0asm\x0d\0\x01\0\xff\x01\x00");
    assert_eq!(load_offset(&e), 8, "{e}");
}

#[test]
fn core_module_is_a_load_error() {
    let e = load_error_wat("(module (func (export \"f\")))");
    load_offset(&e);
    assert!(!e.to_string().starts_with("unsupported"), "{e}");
}

#[test]
fn truncated_component_is_a_load_error() {
    let bytes = wat_bytes(SMALL);
    for cut in [bytes.len() - 1, bytes.len() / 2, 9] {
        let e = load_error(&bytes[..cut]);
        let offset = load_offset(&e);
        assert!(
            offset <= cut,
            "offset {offset} past the end of {cut} bytes: {e}"
        );
    }
}

#[test]
fn lifting_a_core_function_of_the_wrong_type_is_a_load_error() {
    let e = load_error_wat(
        r#"(component
             (core module $m (func (export "f") (result i64) i64.const 1))
             (core instance $i (instantiate $m))
             (func (export "f") (result u32) (canon lift (core func $i "f"))))"#,
    );
    let offset = load_offset(&e);
    assert!(offset > 8, "{e}");
}

// -------------------------------------------------------- unsupported

fn assert_unsupported(wat: &str) {
    let e = load_error_wat(wat);
    assert_eq!(e.kind(), &ErrorKind::Unsupported, "{e}");
    assert!(e.to_string().starts_with("unsupported: "), "{e}");
}

/// Without the `async` feature (with it: tests/async_lift.rs).
#[cfg(not(feature = "async"))]
#[test]
fn async_lift_is_unsupported() {
    assert_unsupported(
        r#"(component
             (core module $m
               (func (export "f") (result i32) i32.const 0)
               (func (export "cb") (param i32 i32 i32) (result i32) i32.const 0))
             (core instance $i (instantiate $m))
             (func (export "f") async (canon lift (core func $i "f") async (callback (core func $i "cb")))))"#,
    );
}

/// Without the `async` feature (with it: tests/async_calls.rs).
#[cfg(not(feature = "async"))]
#[test]
fn async_lower_is_unsupported() {
    assert_unsupported(
        r#"(component
             (import "f" (func $f async (param "x" u32)))
             (core module $libc (memory (export "mem") 1))
             (core instance $libc (instantiate $libc))
             (core func (canon lower (func $f) async (memory (core memory $libc "mem")))))"#,
    );
}

/// Without the `async` feature (with it: tests/async_types.rs).
#[cfg(not(feature = "async"))]
#[test]
fn future_type_is_unsupported() {
    assert_unsupported(r#"(component (import "f" (func (param "x" (future u32)))))"#);
}

/// Without the `async` feature (with it: tests/async_types.rs).
#[cfg(not(feature = "async"))]
#[test]
fn stream_type_is_unsupported() {
    assert_unsupported(r#"(component (import "f" (func (param "x" (stream u8)))))"#);
}

/// Without the `async` feature (with it: tests/async_types.rs).
#[cfg(not(feature = "async"))]
#[test]
fn error_context_type_is_unsupported() {
    assert_unsupported(r#"(component (import "f" (func (param "x" error-context))))"#);
}

/// Without the `async` feature (with it: tests/async_calls.rs).
#[cfg(not(feature = "async"))]
#[test]
fn async_builtin_is_unsupported() {
    assert_unsupported(r#"(component (core func (canon subtask.drop)))"#);
}

#[test]
fn component_start_function_is_unsupported() {
    assert_unsupported(
        r#"(component
             (core module $m (func (export "f") (result i32) i32.const 1))
             (core instance $i (instantiate $m))
             (func $f (result u32) (canon lift (core func $i "f")))
             (start $f (result (value $v)))
             (export "v" (value $v)))"#,
    );
}

// ---------------------------------------------------------------- link

fn link_error(wat: &str, define: impl FnOnce(&mut Linker<()>)) -> Error {
    let engine = Engine::default();
    let component = load(&engine, wat);
    let mut linker = Linker::new(&engine);
    define(&mut linker);
    let mut store = Store::new(&engine, ());
    match linker.instantiate(&mut store, &component) {
        Ok(_) => panic!("instantiation succeeded"),
        Err(e) => {
            assert_eq!(e.kind(), &ErrorKind::Link, "{e}");
            e
        }
    }
}

const IMPORTS_F: &str = r#"(component (import "f" (func (param "x" u32) (result string))))"#;

const IMPORTS_INSTANCE: &str = r#"(component
  (import "ns:pkg/iface" (instance
    (export "g" (func (param "a" s64)))
    (export "h" (func (result bool))))))"#;

#[test]
fn missing_import_is_a_link_error_naming_it_and_its_type() {
    let e = link_error(IMPORTS_F, |_| {});
    let msg = e.to_string();
    assert!(msg.contains("`f`"), "{msg}");
    assert!(msg.contains("func(x: u32) -> string"), "{msg}");
}

#[test]
fn missing_function_of_an_imported_instance_is_a_link_error_naming_it() {
    let e = link_error(IMPORTS_INSTANCE, |l| {
        l.instance("ns:pkg/iface")
            .unwrap()
            .func_new("g", |_, _, _| Ok(()))
            .unwrap();
    });
    let msg = e.to_string();
    assert!(msg.contains("ns:pkg/iface"), "{msg}");
    assert!(msg.contains('h'), "{msg}");
    assert!(msg.contains("func() -> bool"), "{msg}");
}

#[test]
fn instance_import_defined_as_a_function_is_a_link_error_naming_both() {
    let e = link_error(IMPORTS_INSTANCE, |l| {
        l.root().func_new("ns:pkg/iface", |_, _, _| Ok(())).unwrap();
    });
    let msg = e.to_string();
    assert!(msg.contains("ns:pkg/iface"), "{msg}");
    assert!(msg.contains("instance"), "{msg}");
    assert!(msg.contains("function"), "{msg}");
}

#[test]
fn function_import_defined_as_an_instance_is_a_link_error_naming_both() {
    let e = link_error(IMPORTS_F, |l| {
        l.instance("f").unwrap();
    });
    let msg = e.to_string();
    assert!(msg.contains("`f`"), "{msg}");
    assert!(msg.contains("func(x: u32) -> string"), "{msg}");
    assert!(msg.contains("instance"), "{msg}");
}

#[test]
fn link_succeeds_when_every_import_is_defined() {
    let engine = Engine::default();
    let component = load(&engine, IMPORTS_INSTANCE);
    let mut linker = Linker::<()>::new(&engine);
    let mut iface = linker.instance("ns:pkg/iface").unwrap();
    iface.func_new("g", |_, _, _| Ok(())).unwrap();
    iface.func_new("h", |_, _, _| Ok(())).unwrap();
    let mut store = Store::new(&engine, ());
    assert!(linker.instantiate(&mut store, &component).is_ok());
}

#[test]
fn type_imports_need_no_linker_definition() {
    let engine = Engine::default();
    let component = load(
        &engine,
        r#"(component
             (type $r-def (record (field "a" u32)))
             (import "r" (type (eq $r-def))))"#,
    );
    let mut store = Store::new(&engine, ());
    assert!(Linker::<()>::new(&engine)
        .instantiate(&mut store, &component)
        .is_ok());
}

#[test]
fn defining_a_name_twice_in_a_linker_is_a_usage_error() {
    let engine = Engine::default();
    let mut linker = Linker::<()>::new(&engine);
    linker.root().func_new("f", |_, _, _| Ok(())).unwrap();
    let e = linker.root().func_new("f", |_, _, _| Ok(())).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Usage, "{e}");
}

// --------------------------------------------------------------- usage

/// Exports `add(a: u32, b: u32) -> u32`, `nothing()`, and `take-*`
/// functions of compound types (ignoring their arguments, returning 1).
fn usage_component() -> String {
    let types = r#"
        (type $r-def (record (field "a" u32) (field "b" string))) (export $r "r" (type $r-def))
        (type $v-def (variant (case "x" u32) (case "y"))) (export $v "v" (type $v-def))
        (type $e-def (enum "p" "q")) (export $e "e" (type $e-def))
        (type $fl-def (flags "m" "n")) (export $fl "fl" (type $fl-def))"#;
    let core = r#"
        (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
        (func (export "nothing"))
        (func (export "one-3") (param i32 i32 i32) (result i32) (i32.const 1))
        (func (export "one-2") (param i32 i32) (result i32) (i32.const 1))
        (func (export "one-1") (param i32) (result i32) (i32.const 1))"#;
    let exports = format!(
        r#"(func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
           (func (export "nothing") (canon lift (core func $i "nothing")))
           (func (export "take-record") (param "x" $r) (result u32) (canon lift (core func $i "one-3") {OPTS}))
           (func (export "take-variant") (param "x" $v) (result u32) (canon lift (core func $i "one-2") {OPTS}))
           (func (export "take-enum") (param "x" $e) (result u32) (canon lift (core func $i "one-1") {OPTS}))
           (func (export "take-flags") (param "x" $fl) (result u32) (canon lift (core func $i "one-1") {OPTS}))
           (func (export "take-list") (param "x" (list u32)) (result u32) (canon lift (core func $i "one-2") {OPTS}))
           (func (export "take-option") (param "x" (option u32)) (result u32) (canon lift (core func $i "one-2") {OPTS}))"#
    );
    exports_component(types, core, &exports)
}

fn assert_usage<T: std::fmt::Debug>(r: Result<T>) {
    match r {
        Ok(v) => panic!("expected a usage error, got Ok({v:?})"),
        Err(e) => assert_eq!(e.kind(), &ErrorKind::Usage, "{e}"),
    }
}

fn usage_call(name: &str, args: &[Val]) -> Result<Option<Val>> {
    let (mut store, inst) = instantiate(&usage_component());
    call(&mut store, &inst, name, args)
}

#[test]
fn too_few_arguments_is_a_usage_error() {
    assert_usage(usage_call("add", &[Val::U32(1)]));
}

#[test]
fn too_many_arguments_is_a_usage_error() {
    assert_usage(usage_call("add", &[Val::U32(1), Val::U32(2), Val::U32(3)]));
}

#[test]
fn argument_of_the_wrong_type_is_a_usage_error() {
    assert_usage(usage_call("add", &[Val::U32(1), Val::S32(2)]));
}

#[test]
fn missing_result_slot_is_a_usage_error() {
    let (mut store, inst) = instantiate(&usage_component());
    let f = inst.get_func(&mut store, "add").unwrap();
    assert_usage(f.call(&mut store, &[Val::U32(1), Val::U32(2)], &mut []));
}

#[test]
fn extra_result_slot_is_a_usage_error() {
    let (mut store, inst) = instantiate(&usage_component());
    let f = inst.get_func(&mut store, "add").unwrap();
    let mut results = [Val::U32(0), Val::U32(0)];
    assert_usage(f.call(&mut store, &[Val::U32(1), Val::U32(2)], &mut results));
    let f = inst.get_func(&mut store, "nothing").unwrap();
    assert_usage(f.call(&mut store, &[], &mut [Val::U32(0)]));
}

#[test]
fn record_with_wrong_field_names_is_a_usage_error() {
    assert_usage(usage_call(
        "take-record",
        &[record(&[("a", Val::U32(1)), ("c", s("x"))])],
    ));
}

#[test]
fn record_with_missing_field_is_a_usage_error() {
    assert_usage(usage_call("take-record", &[record(&[("a", Val::U32(1))])]));
}

#[test]
fn record_with_field_of_wrong_type_is_a_usage_error() {
    assert_usage(usage_call(
        "take-record",
        &[record(&[("a", Val::U32(1)), ("b", Val::U32(2))])],
    ));
}

#[test]
fn unknown_variant_case_is_a_usage_error() {
    assert_usage(usage_call("take-variant", &[variant("z", None)]));
}

#[test]
fn variant_case_without_its_payload_is_a_usage_error() {
    assert_usage(usage_call("take-variant", &[variant("x", None)]));
}

#[test]
fn variant_case_with_a_payload_it_does_not_have_is_a_usage_error() {
    assert_usage(usage_call(
        "take-variant",
        &[variant("y", Some(Val::U32(1)))],
    ));
}

#[test]
fn unknown_enum_case_is_a_usage_error() {
    assert_usage(usage_call("take-enum", &[Val::Enum("r".into())]));
}

#[test]
fn unknown_flag_is_a_usage_error() {
    assert_usage(usage_call("take-flags", &[flags(&["m", "o"])]));
}

#[test]
fn list_element_of_the_wrong_type_is_a_usage_error() {
    assert_usage(usage_call(
        "take-list",
        &[Val::List(vec![Val::U32(1), Val::U8(2)])],
    ));
}

#[test]
fn option_payload_of_the_wrong_type_is_a_usage_error() {
    assert_usage(usage_call("take-option", &[some(s("x"))]));
}

#[test]
fn well_typed_compound_arguments_are_accepted_control() {
    let (mut store, inst) = instantiate(&usage_component());
    let one = Ok(Some(Val::U32(1)));
    assert_eq!(
        call(
            &mut store,
            &inst,
            "take-record",
            &[record(&[("a", Val::U32(1)), ("b", s("x"))])]
        ),
        one
    );
    assert_eq!(
        call(&mut store, &inst, "take-variant", &[variant("y", None)]),
        one
    );
    assert_eq!(
        call(&mut store, &inst, "take-enum", &[Val::Enum("q".into())]),
        one
    );
    assert_eq!(call(&mut store, &inst, "take-flags", &[flags(&["n"])]), one);
    assert_eq!(
        call(
            &mut store,
            &inst,
            "take-list",
            &[Val::List(vec![Val::U32(1)])]
        ),
        one
    );
    assert_eq!(
        call(&mut store, &inst, "take-option", &[some(Val::U32(1))]),
        one
    );
}

#[test]
fn usage_error_does_not_poison_the_instance() {
    let (mut store, inst) = instantiate(&usage_component());
    assert_usage(call(&mut store, &inst, "add", &[Val::U32(1)]));
    // A type error found while lowering, after `realloc` already ran.
    assert_usage(call(
        &mut store,
        &inst,
        "take-list",
        &[Val::List(vec![Val::U32(1), s("x")])],
    ));
    assert_eq!(
        call(&mut store, &inst, "add", &[Val::U32(40), Val::U32(2)]),
        Ok(Some(Val::U32(42)))
    );
}

#[test]
fn func_used_with_another_store_is_a_usage_error() {
    let engine = Engine::default();
    let component = load(&engine, &usage_component());
    let linker = Linker::new(&engine);
    let mut store_a = Store::new(&engine, ());
    let mut store_b = Store::new(&engine, ());
    let inst_a = linker.instantiate(&mut store_a, &component).unwrap();
    linker.instantiate(&mut store_b, &component).unwrap();
    let f = inst_a.get_func(&mut store_a, "add").unwrap();
    let mut r = [Val::U32(0)];
    assert_usage(f.call(&mut store_b, &[Val::U32(1), Val::U32(2)], &mut r));
}

#[test]
fn get_func_with_another_store_finds_nothing() {
    let engine = Engine::default();
    let component = load(&engine, &usage_component());
    let linker = Linker::new(&engine);
    let mut store_a = Store::new(&engine, ());
    let mut store_b = Store::new(&engine, ());
    let inst_a = linker.instantiate(&mut store_a, &component).unwrap();
    assert!(inst_a.get_func(&mut store_b, "add").is_none());
    assert!(inst_a.get_func(&mut store_a, "add").is_some());
}

#[test]
fn component_of_another_engine_is_a_usage_error() {
    let engine_a = Engine::default();
    let engine_b = Engine::default();
    let component = load(&engine_a, &usage_component());
    let mut store = Store::new(&engine_b, ());
    let r = Linker::<()>::new(&engine_b).instantiate(&mut store, &component);
    assert_usage(r.map(|_| ()));
}

#[test]
fn get_func_of_a_missing_export_finds_nothing() {
    let (mut store, inst) = instantiate(&usage_component());
    assert!(inst.get_func(&mut store, "no-such-export").is_none());
}

// -------------------------------------------------------- introspection

const INTROSPECT: &str = r#"(component
  (import "f" (func $f (param "a" u32) (param "b" string) (result (list u8))))
  (import "ns:pkg/iface" (instance $iface
    (export "g" (func (result (option s64))))))
  (type $r-def (record (field "x" u8) (field "y" (tuple f32 char))))
  (import "r" (type $r (eq $r-def)))
  (core module $m
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64))
    (func (export "run") (param i32 f32 i32 i32 i32 i32 i32) (result i32) (i32.const 0))
    (func (export "none")))
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  (type $v-def (variant (case "ok" $r) (case "none")))
  (export $v "v" (type $v-def))
  (type $fl-def (flags "read" "write")) (export $fl "fl" (type $fl-def))
  (type $e-def (enum "lo" "hi")) (export $e "e" (type $e-def))
  (func (export "run")
    (param "r" $r) (param "e" $e) (param "fl" $fl) (param "l" (list string))
    (result (result $v (error u16)))
    (canon lift (core func $i "run") (memory $mem) (realloc $realloc)))
  (func $none (canon lift (core func $i "none")))
  (instance $out (export "none" (func $none)))
  (export "ns:pkg/out" (instance $out))
)"#;

fn rec_type() -> Type {
    Type::Record(vec![
        ("x".into(), Type::U8),
        ("y".into(), Type::Tuple(vec![Type::Float32, Type::Char])),
    ])
}

fn run_type() -> FuncType {
    FuncType {
        params: vec![
            ("r".into(), rec_type()),
            ("e".into(), Type::Enum(vec!["lo".into(), "hi".into()])),
            (
                "fl".into(),
                Type::Flags(vec!["read".into(), "write".into()]),
            ),
            ("l".into(), Type::List(Box::new(Type::String))),
        ],
        result: Some(Type::Result {
            ok: Some(Box::new(Type::Variant(vec![
                ("ok".into(), Some(rec_type())),
                ("none".into(), None),
            ]))),
            err: Some(Box::new(Type::U16)),
        }),
    }
}

#[test]
fn component_imports_have_names_and_types() {
    let component = load(&Engine::default(), INTROSPECT);
    let mut imports: Vec<(String, ComponentItem)> = component
        .imports()
        .map(|(n, t)| (n.to_string(), t))
        .collect();
    imports.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        imports,
        vec![
            (
                "f".to_string(),
                ComponentItem::Func(FuncType {
                    params: vec![("a".into(), Type::U32), ("b".into(), Type::String)],
                    result: Some(Type::List(Box::new(Type::U8))),
                })
            ),
            (
                "ns:pkg/iface".to_string(),
                ComponentItem::Instance(vec![(
                    "g".into(),
                    ComponentItem::Func(FuncType {
                        params: vec![],
                        result: Some(Type::Option(Box::new(Type::S64))),
                    })
                )])
            ),
            ("r".to_string(), ComponentItem::Type),
        ]
    );
}

#[test]
fn component_exports_have_names_and_types() {
    let component = load(&Engine::default(), INTROSPECT);
    let mut exports = component.exports();
    exports.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        exports,
        vec![
            ("e".to_string(), ComponentItem::Type),
            ("fl".to_string(), ComponentItem::Type),
            (
                "ns:pkg/out".to_string(),
                ComponentItem::Instance(vec![(
                    "none".into(),
                    ComponentItem::Func(FuncType {
                        params: vec![],
                        result: None
                    })
                )])
            ),
            ("run".to_string(), ComponentItem::Func(run_type())),
            ("v".to_string(), ComponentItem::Type),
        ]
    );
}

fn introspect_instance() -> (Store<()>, Instance) {
    let engine = Engine::default();
    let component = load(&engine, INTROSPECT);
    let mut linker = Linker::<()>::new(&engine);
    linker.root().func_new("f", |_, _, _| Ok(())).unwrap();
    linker
        .instance("ns:pkg/iface")
        .unwrap()
        .func_new("g", |_, _, _| Ok(()))
        .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    (store, inst)
}

#[test]
fn func_ty_gives_param_names_and_types() {
    let (mut store, inst) = introspect_instance();
    let f = inst.get_func(&mut store, "run").unwrap();
    assert_eq!(f.ty(), run_type());
}

#[test]
fn func_ty_of_a_function_without_result() {
    let (mut store, inst) = introspect_instance();
    let f = inst
        .get_instance_func(&mut store, "ns:pkg/out", "none")
        .unwrap();
    assert_eq!(
        f.ty(),
        FuncType {
            params: vec![],
            result: None
        }
    );
}

#[test]
fn func_type_displays_like_wit() {
    assert_eq!(
        run_type().to_string(),
        "func(r: record { x: u8, y: tuple<f32, char> }, e: enum { lo, hi }, fl: flags { read, write }, \
         l: list<string>) -> result<variant { ok(record { x: u8, y: tuple<f32, char> }), none }, u16>"
    );
}

// ------------------------------------------------ re-exported host functions

/// A component that imports `f: func(x: u32) -> u32` and re-exports it.
const REEXPORTS_F: &str = r#"(component
  (import "f" (func $f (param "x" u32) (result u32)))
  (export "g" (func $f)))"#;

fn reexported(
    host: impl Fn(StoreContextMut<'_, ()>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
) -> (Store<()>, Instance) {
    let engine = Engine::default();
    let component = load(&engine, REEXPORTS_F);
    let mut linker = Linker::<()>::new(&engine);
    linker.root().func_new("f", host).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    (store, inst)
}

fn add_one(_: StoreContextMut<'_, ()>, params: &[Val], results: &mut [Val]) -> Result<()> {
    match params {
        [Val::U32(x)] => {
            results[0] = Val::U32(x + 1);
            Ok(())
        }
        other => Err(Error::host(format!("f got {other:?}"))),
    }
}

#[test]
fn reexported_host_function_is_callable_with_its_type() {
    let (mut store, inst) = reexported(add_one);
    let f = inst.get_func(&mut store, "g").unwrap();
    assert_eq!(
        f.ty(),
        FuncType {
            params: vec![("x".into(), Type::U32)],
            result: Some(Type::U32)
        }
    );
    assert_eq!(
        call(&mut store, &inst, "g", &[Val::U32(41)]),
        Ok(Some(Val::U32(42)))
    );
}

#[test]
fn reexported_host_function_argument_of_wrong_type_is_a_usage_error() {
    let (mut store, inst) = reexported(add_one);
    assert_usage(call(&mut store, &inst, "g", &[s("not a u32")]));
}

#[test]
fn reexported_host_function_result_of_wrong_type_is_an_error() {
    let (mut store, inst) = reexported(|_, _, results| {
        results[0] = s("not a u32");
        Ok(())
    });
    let r = call(&mut store, &inst, "g", &[Val::U32(1)]);
    assert!(r.is_err(), "a u32 function returned {r:?}");
}

#[test]
fn instantiating_in_a_store_of_another_engine_is_a_usage_error() {
    let engine = Engine::default();
    let other = Engine::default();
    let component = Component::new(&engine, &wat::parse_str("(component)").unwrap()).unwrap();
    let mut store = Store::new(&other, ());
    let err = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .err()
        .expect("refused");
    assert_eq!(err.kind(), &ErrorKind::Usage, "{err}");
}
