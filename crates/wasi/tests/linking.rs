//! Linking: one 0.2.12 definition serves imports of 0.2.0 and 0.2.6 (the
//! std guests import both), a store data type of the embedder's own, and
//! linking twice is a usage error, not a panic.

mod common;

use common::*;
use componentry::{Component, Engine, ErrorKind, Linker, Store};
use componentry_wasi::{add_to_linker, run_command, WasiCtx, WasiCtxBuilder, WasiView};

/// Imports of 0.2.0, 0.2.3 and 0.2.6 in one component, linked to the
/// 0.2.12 definitions.
const VERSIONS: &str = r#"(component
  (import "wasi:random/random@0.2.0" (instance $r
    (export "get-random-u64" (func (result u64)))))
  (import "wasi:clocks/monotonic-clock@0.2.3" (instance $c
    (export "now" (func (result u64)))))
  (import "wasi:random/insecure-seed@0.2.6" (instance $s
    (export "insecure-seed" (func (result (tuple u64 u64))))))
  (core module $m
    (import "" "rand" (func $rand (result i64)))
    (import "" "now" (func $now (result i64)))
    (import "" "seed" (func $seed (param i32)))
    (memory (export "mem") 1)
    (func (export "go") (result i64)
      (call $seed (i32.const 16))
      (i64.add (i64.add (call $rand) (call $now))
               (i64.add (i64.load (i32.const 16)) (i64.load (i32.const 24))))))
  (core module $mem (memory (export "mem") 1))
  (core instance $mi (instantiate $mem))
  (alias core export $mi "mem" (core memory $memory))
  (core func $rand (canon lower (func $r "get-random-u64")))
  (core func $now (canon lower (func $c "now")))
  (core func $seed (canon lower (func $s "insecure-seed") (memory $memory)))
  (core instance $i (instantiate $m (with "" (instance
    (export "rand" (func $rand)) (export "now" (func $now)) (export "seed" (func $seed))))))
  (func (export "go") (result u64) (canon lift (core func $i "go")))
)"#;

#[test]
fn one_definition_serves_every_0_2_version() {
    let engine = Engine::default();
    let bytes = wat::parse_str(VERSIONS).unwrap();
    let component = Component::new(&engine, &bytes).unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    add_to_linker(&mut linker).unwrap();
    let go = |seed| {
        let mut store = Store::new(&engine, WasiCtxBuilder::new().deterministic(seed).build());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let f = instance.get_func(&mut store, "go").unwrap();
        f.typed::<(), u64>(&mut store)
            .unwrap()
            .call(&mut store, ())
            .unwrap()
    };
    assert_eq!(go(1), go(1));
    assert_ne!(go(1), go(2));
    // The std guests import 0.2.6; the probe 0.2.12.
    let component = Component::new(&engine, &guest("fs.wasm")).unwrap();
    assert!(component
        .imports()
        .any(|(n, _)| n == "wasi:filesystem/types@0.2.6"));
    let probe = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/probe.wasm")).unwrap();
    let component = Component::new(&engine, &probe).unwrap();
    assert!(component
        .imports()
        .any(|(n, _)| n == "wasi:io/streams@0.2.12"));
}

struct MyState {
    wasi: WasiCtx,
    calls: u32,
}

impl WasiView for MyState {
    fn wasi(&mut self) -> &mut WasiCtx {
        self.calls += 1;
        &mut self.wasi
    }
}

#[test]
fn an_embedder_state_type() {
    let engine = Engine::default();
    let component = Component::new(&engine, &guest("hello.wasm")).unwrap();
    let mut linker = Linker::<MyState>::new(&engine);
    add_to_linker(&mut linker).unwrap();
    let wasi = WasiCtxBuilder::new().capture_stdout(1024).build();
    let mut store = Store::new(&engine, MyState { wasi, calls: 0 });
    let instance = linker.instantiate(&mut store, &component).unwrap();
    assert_eq!(run_command(&mut store, &component, &instance).unwrap(), 0);
    assert_eq!(store.data().wasi.stdout().unwrap(), b"Hello, world!\n");
    assert!(store.data().calls > 0);
}

#[test]
fn linking_twice_is_a_usage_error() {
    let engine = Engine::default();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    add_to_linker(&mut linker).unwrap();
    let err = add_to_linker(&mut linker).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Usage);
}

#[test]
fn a_component_without_run_is_a_usage_error() {
    let engine = Engine::default();
    let component = Component::new(&engine, &wat::parse_str("(component)").unwrap()).unwrap();
    let mut linker = Linker::<WasiCtx>::new(&engine);
    add_to_linker(&mut linker).unwrap();
    let mut store = Store::new(&engine, WasiCtxBuilder::new().build());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let err = run_command(&mut store, &component, &instance).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Usage);
    assert!(err.message().contains("wasi:cli/run"));
}
