//! The main example: load a component written in WAT, give it a host
//! `log` import, and call its `greet` export with a string.
//!
//! Run with `cargo run --example hello`.

use componentry::{Component, Engine, Linker, Store, Val};

/// A component that imports `log: func(msg: string)` and exports
/// `greet: func(name: string) -> string`, which logs the name it was given
/// and returns "Hello, <name>!".
const GREETER: &str = r#"
(component
  (import "log" (func $log (param "msg" string)))
  (core module $libc
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    ;; A bump allocator: enough for a short-lived call.
    (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
      (local $ptr i32)
      (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get $align))))
      (global.set $heap (i32.add (local.get $ptr) (local.get $size)))
      (local.get $ptr))
  )
  (core instance $libc (instantiate $libc))
  (core func $log (canon lower (func $log) (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core module $main
    (import "libc" "memory" (memory 1))
    (import "libc" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    (import "host" "log" (func $log (param i32 i32)))
    (data (i32.const 0) "Hello, ")
    ;; greet(ptr, len): log the name, then build "Hello, <name>!" and return
    ;; a pointer to (ptr, len) of the result.
    (func (export "greet") (param $ptr i32) (param $len i32) (result i32)
      (local $out i32)
      (call $log (local.get $ptr) (local.get $len))
      (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1)
                                     (i32.add (local.get $len) (i32.const 8))))
      (memory.copy (local.get $out) (i32.const 0) (i32.const 7))
      (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $ptr) (local.get $len))
      (i32.store8 (i32.add (local.get $out) (i32.add (local.get $len) (i32.const 7))) (i32.const 33))
      (i32.store (i32.const 512) (local.get $out))
      (i32.store (i32.const 516) (i32.add (local.get $len) (i32.const 8)))
      (i32.const 512))
  )
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "host" (instance (export "log" (func $log))))))
  (func (export "greet") (param "name" string) (result string)
    (canon lift (core func $main "greet") (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
)
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::default();
    let component = Component::new(&engine, &wat::parse_str(GREETER)?)?;

    for (name, item) in component.imports() {
        println!("import {name}: {item:?}");
    }

    // The store's data collects what the guest logs.
    let mut store = Store::new(&engine, Vec::<String>::new());
    let mut linker = Linker::<Vec<String>>::new(&engine);
    linker.root().func_new("log", |mut cx, params, _results| {
        if let [Val::String(msg)] = params {
            cx.data_mut().push(msg.clone());
        }
        Ok(())
    })?;

    let instance = linker.instantiate(&mut store, &component)?;
    let greet = instance
        .get_func(&mut store, "greet")
        .ok_or("no greet export")?;
    println!("greet: {}", greet.ty());

    let mut result = [Val::Bool(false)];
    greet.call(
        &mut store,
        &[Val::String("componentry".into())],
        &mut result,
    )?;
    println!("guest logged: {:?}", store.data());
    println!("greet returned: {}", result[0]);
    assert_eq!(result[0], Val::String("Hello, componentry!".into()));
    Ok(())
}
