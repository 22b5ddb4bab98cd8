//! Core modules the host provides for a component's core module imports
//! (`LinkerInstance::module`), and `Module::new`'s errors.

mod common;

use common::*;
use componentry::*;

/// Imports a core module exporting `n: () -> i32` and a memory, instantiates
/// it, and lifts `n`.
const IMPORTS_A_MODULE: &str = r#"(component
  (import "m" (core module $M
    (export "n" (func (result i32)))
    (export "mem" (memory 1))))
  (core instance $i (instantiate $M))
  (func (export "n") (result u32) (canon lift (core func $i "n"))))"#;

fn module(engine: &Engine, wat: &str) -> Module {
    let bytes = wat::parse_str(wat).expect("test WAT parses");
    Module::new(engine, &bytes).unwrap_or_else(|e| panic!("module does not load: {e}"))
}

fn link_module(engine: &Engine, wat: &str) -> Linker<()> {
    let mut linker = Linker::new(engine);
    linker.root().module("m", &module(engine, wat)).unwrap();
    linker
}

fn instantiate_err(engine: &Engine, linker: &Linker<()>, component: &str) -> Error {
    let component = load(engine, component);
    let mut store = Store::new(engine, ());
    match linker.instantiate(&mut store, &component) {
        Ok(_) => panic!("instantiation succeeded, expected an error"),
        Err(e) => e,
    }
}

#[test]
fn host_module_satisfies_a_core_module_import() {
    let engine = Engine::default();
    let linker = link_module(
        &engine,
        r#"(module (memory (export "mem") 1) (func (export "n") (result i32) i32.const 42))"#,
    );
    let (mut store, inst) = instantiate_with(&engine, &linker, IMPORTS_A_MODULE, ());
    assert_eq!(call_u32(&mut store, &inst, "n", &[]), 42);
}

#[test]
fn host_module_may_export_more_and_a_larger_memory_than_asked() {
    let engine = Engine::default();
    let linker = link_module(
        &engine,
        r#"(module
             (memory (export "mem") 3 5)
             (global (export "extra") i32 (i32.const 1))
             (func (export "n") (result i32) i32.const 7))"#,
    );
    let (mut store, inst) = instantiate_with(&engine, &linker, IMPORTS_A_MODULE, ());
    assert_eq!(call_u32(&mut store, &inst, "n", &[]), 7);
}

#[test]
fn host_module_imports_are_satisfied_by_the_instantiating_component() {
    let engine = Engine::default();
    let linker = link_module(
        &engine,
        r#"(module
             (import "env" "base" (func $base (result i32)))
             (func (export "n") (result i32) (i32.add (call $base) (i32.const 1))))"#,
    );
    let component = r#"(component
      (import "m" (core module $M
        (import "env" "base" (func (result i32)))
        (export "n" (func (result i32)))))
      (core module $env (func (export "base") (result i32) i32.const 99))
      (core instance $env (instantiate $env))
      (core instance $i (instantiate $M (with "env" (instance $env))))
      (func (export "n") (result u32) (canon lift (core func $i "n"))))"#;
    let (mut store, inst) = instantiate_with(&engine, &linker, component, ());
    assert_eq!(call_u32(&mut store, &inst, "n", &[]), 100);
}

#[test]
fn host_module_missing_an_export_is_a_link_error_naming_both_types() {
    let engine = Engine::default();
    let linker = link_module(
        &engine,
        r#"(module (func (export "n") (result i32) i32.const 1))"#,
    );
    let e = instantiate_err(&engine, &linker, IMPORTS_A_MODULE);
    assert_eq!(e.kind(), &ErrorKind::Link, "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("`m`") && msg.contains("`mem`") && msg.contains("(memory 1)"),
        "{msg}"
    );
}

#[test]
fn host_module_export_of_the_wrong_type_is_a_link_error_naming_both_types() {
    let engine = Engine::default();
    let linker = link_module(
        &engine,
        r#"(module (memory (export "mem") 1) (func (export "n") (result i64) i64.const 1))"#,
    );
    let e = instantiate_err(&engine, &linker, IMPORTS_A_MODULE);
    assert_eq!(e.kind(), &ErrorKind::Link, "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("(func (result i32))") && msg.contains("(func (result i64))"),
        "{msg}"
    );
}

#[test]
fn host_module_with_an_import_the_type_does_not_provide_is_a_link_error() {
    let engine = Engine::default();
    let linker = link_module(
        &engine,
        r#"(module
             (import "host" "f" (func))
             (memory (export "mem") 1)
             (func (export "n") (result i32) i32.const 1))"#,
    );
    let e = instantiate_err(&engine, &linker, IMPORTS_A_MODULE);
    assert_eq!(e.kind(), &ErrorKind::Link, "{e}");
    assert!(e.to_string().contains("`host` `f`"), "{e}");
}

#[test]
fn host_module_memory_smaller_than_asked_is_a_link_error() {
    let engine = Engine::default();
    let component =
        IMPORTS_A_MODULE.replace("(export \"mem\" (memory 1))", "(export \"mem\" (memory 2))");
    let linker = link_module(
        &engine,
        r#"(module (memory (export "mem") 1) (func (export "n") (result i32) i32.const 1))"#,
    );
    let e = instantiate_err(&engine, &linker, &component);
    assert_eq!(e.kind(), &ErrorKind::Link, "{e}");
    assert!(
        e.to_string().contains("(memory 2)") && e.to_string().contains("(memory 1)"),
        "{e}"
    );
}

#[test]
fn host_function_where_a_module_is_imported_is_a_link_error() {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    linker.root().func_new("m", |_, _, _| Ok(())).unwrap();
    let e = instantiate_err(&engine, &linker, IMPORTS_A_MODULE);
    assert_eq!(e.kind(), &ErrorKind::Link, "{e}");
    assert!(e.to_string().contains("core module"), "{e}");
}

#[test]
fn module_of_another_engine_is_a_usage_error() {
    let engine = Engine::default();
    let other = Engine::default();
    let mut linker = Linker::new(&engine);
    let m = module(
        &other,
        r#"(module (memory (export "mem") 1) (func (export "n") (result i32) i32.const 1))"#,
    );
    linker.root().module("m", &m).unwrap();
    let e = instantiate_err(&engine, &linker, IMPORTS_A_MODULE);
    assert_eq!(e.kind(), &ErrorKind::Usage, "{e}");
}

#[test]
fn module_new_rejects_an_invalid_module_as_a_load_error() {
    let bytes = wat::parse_str(r#"(module (func (result i32) i64.const 1))"#).unwrap();
    let e = Module::new(&Engine::default(), &bytes)
        .err()
        .expect("invalid module");
    assert!(matches!(e.kind(), ErrorKind::Load { .. }), "{e}");
}

#[test]
fn module_new_rejects_a_component_as_a_load_error() {
    let bytes = wat::parse_str("(component)").unwrap();
    let e = Module::new(&Engine::default(), &bytes)
        .err()
        .expect("not a module");
    assert!(matches!(e.kind(), ErrorKind::Load { .. }), "{e}");
}

#[test]
fn module_new_rejects_garbage_as_a_load_error() {
    let e = Module::new(&Engine::default(), b"\0asm\x01\0\0\0\xff\xff")
        .err()
        .expect("garbage");
    assert!(matches!(e.kind(), ErrorKind::Load { .. }), "{e}");
}

#[test]
fn module_new_reports_a_proposal_wasmi_does_not_run_as_unsupported() {
    let bytes = wat::parse_str("(module (tag))").unwrap();
    let e = Module::new(&Engine::default(), &bytes)
        .err()
        .expect("exceptions");
    assert_eq!(e.kind(), &ErrorKind::Unsupported, "{e}");
}
