//! Component-model async types (feature `async`): `stream<T>`, `future<T>`
//! and `error-context` load, are introspectable, survive component images,
//! and move between components and to the host (tests/async_streams.rs);
//! async function types run when lifted and lowered without the `async`
//! option.
#![cfg(feature = "async")]

mod common;

use common::*;
use componentry::*;

/// An instance import whose functions use every async type (and are not
/// lowered, so nothing has to move).
const IMPORTS: &str = r#"(component
  (type $r (record (field "s" (stream u8)) (field "f" (future string))))
  (import "i" (instance
    (export "a" (func (param "x" (stream u8)) (result (future string))))
    (export "b" (func (param "e" error-context) (result (stream))))
    (export "c" (func (param "f" (future))))
    (export "d" (func (param "r" (list (option (stream (list u16)))))))
    (export "e" (func async (param "x" u32) (result u32)))))
)"#;

fn import_types(component: &Component) -> Vec<(String, FuncType)> {
    let (name, item) = component.imports().next().expect("one import");
    assert_eq!(name, "i");
    let ComponentItem::Instance(items) = item else {
        panic!("expected an instance, got {item:?}")
    };
    items
        .into_iter()
        .map(|(n, i)| match i {
            ComponentItem::Func(f) => (n, f),
            other => panic!("expected a function, got {other:?}"),
        })
        .collect()
}

fn check_import_types(component: &Component) {
    let funcs = import_types(component);
    let shown: Vec<String> = funcs.iter().map(|(n, f)| format!("{n}: {f}")).collect();
    assert_eq!(
        shown,
        [
            "a: func(x: stream<u8>) -> future<string>",
            "b: func(e: error-context) -> stream",
            "c: func(f: future)",
            "d: func(r: list<option<stream<list<u16>>>>)",
            "e: func(x: u32) -> u32",
        ]
    );
    let a = &funcs[0].1;
    assert_eq!(a.params[0].1, Type::Stream(Some(Box::new(Type::U8))));
    assert_eq!(a.result, Some(Type::Future(Some(Box::new(Type::String)))));
    let b = &funcs[1].1;
    assert_eq!(b.params[0].1, Type::ErrorContext);
    assert_eq!(b.result, Some(Type::Stream(None)));
    assert_eq!(funcs[2].1.params[0].1, Type::Future(None));
}

#[test]
fn async_types_load_and_are_introspectable() {
    let component = load(&Engine::default(), IMPORTS);
    check_import_types(&component);
}

#[test]
fn async_types_survive_component_images() {
    let engine = Engine::default();
    let component = load(&engine, IMPORTS);
    let image = component.serialize().expect("serialize");
    // SAFETY: an image this process just made with this engine.
    let back = unsafe { Component::deserialize(&engine, &image) }.expect("deserialize");
    check_import_types(&back);
}

#[test]
fn a_root_import_with_async_types_links_nothing_to_move() {
    // Not lowered, so the component loads; a root function import must
    // still be defined: none is, so instantiating is a link error.
    let engine = Engine::default();
    let component = load(
        &engine,
        r#"(component (import "f" (func (param "x" (stream u8)))))"#,
    );
    let mut store = Store::new(&engine, ());
    let Err(e) = Linker::new(&engine).instantiate(&mut store, &component) else {
        panic!("the import is not defined")
    };
    assert_eq!(e.kind(), &ErrorKind::Link, "{e}");
}

#[test]
fn functions_passing_async_handles_load() {
    // Lifted: loads; a call from the host needs a stream value.
    let (mut store, instance) = instantiate(
        r#"(component
             (core module $m (func (export "f") (param i32)))
             (core instance $i (instantiate $m))
             (func (export "f") (param "s" (stream u8)) (canon lift (core func $i "f"))))"#,
    );
    let f = instance.get_func(&mut store, "f").expect("export");
    let e = f
        .call(&mut store, &[Val::U32(1)], &mut [])
        .expect_err("not a stream");
    assert_eq!(e.kind(), &ErrorKind::Usage, "{e}");
    // Lowered, with a nested future in the result, and an error-context
    // parameter: both load (stream, future and error-context handles move
    // between components; see tests/async_streams.rs).
    load(
        &Engine::default(),
        r#"(component
             (import "f" (func $f (result (tuple u32 (option (future u8))))))
             (core module $libc (memory (export "mem") 1))
             (core instance $libc (instantiate $libc))
             (core func (canon lower (func $f) (memory (core memory $libc "mem")))))"#,
    );
    load(
        &Engine::default(),
        r#"(component
             (core module $m (func (export "f") (param i32)))
             (core instance $i (instantiate $m))
             (func (export "f") (param "e" error-context) (canon lift (core func $i "f"))))"#,
    );
    load(
        &Engine::default(),
        r#"(component (core func (canon task.return (result (stream u8)))))"#,
    );
}

#[test]
fn stream_and_error_context_builtins_load() {
    // The stream, future and error-context built-ins run.
    load(
        &Engine::default(),
        r#"(component (type $s (stream u8)) (core func (canon stream.new $s))
             (core func (canon error-context.drop)))"#,
    );
}

/// An `async` function type lifted and lowered without the `async` option
/// cannot block: it is an ordinary call, across two components here.
#[test]
fn async_function_types_run_when_lifted_and_lowered_sync() {
    let wat = r#"(component
      (component $callee
        (core module $m (func (export "double") (param i32) (result i32)
          local.get 0 i32.const 2 i32.mul))
        (core instance $i (instantiate $m))
        (func (export "double") async (param "x" u32) (result u32)
          (canon lift (core func $i "double"))))
      (instance $c (instantiate $callee))
      (component $caller
        (import "double" (func $d async (param "x" u32) (result u32)))
        (core func $d' (canon lower (func $d)))
        (core module $m
          (import "" "double" (func $d (param i32) (result i32)))
          (func (export "quad") (param i32) (result i32)
            local.get 0 call $d call $d))
        (core instance $i (instantiate $m (with "" (instance (export "double" (func $d'))))))
        (func (export "quad") async (param "x" u32) (result u32)
          (canon lift (core func $i "quad"))))
      (instance $q (instantiate $caller (with "double" (func $c "double"))))
      (export "quad" (func $q "quad"))
    )"#;
    let (mut store, instance) = instantiate(wat);
    let f = instance.get_func(&mut store, "quad").expect("export");
    assert_eq!(f.ty().to_string(), "func(x: u32) -> u32");
    let mut out = [Val::U32(0)];
    f.call(&mut store, &[Val::U32(5)], &mut out).expect("call");
    assert_eq!(out[0], Val::U32(20));
}

/// `validate-no-stream-char.wast` in spirit: invalid async types stay load
/// errors, not `unsupported`.
#[test]
fn invalid_async_types_are_load_errors() {
    let Err(e) = try_load(
        &Engine::default(),
        r#"(component
             (core module $m (func (export "f") (result i32) i32.const 0))
             (core instance $i (instantiate $m))
             (func (export "f") (canon lift (core func $i "f") async)))"#,
    ) else {
        panic!("an async lift of a sync function type is invalid")
    };
    assert!(matches!(e.kind(), ErrorKind::Load { .. }), "{e}");
}
