//! A guest resource's lifetime from the host: `[constructor]counter`,
//! `[method]counter.inc`, `[method]counter.get`, drop — through componentry
//! (dynamic values, and `TypedFunc`; handles are `ResourceAny`) against a raw-wasmi floor
//! that does the same work on a core module passing a plain i32 handle.
//!
//! Run: `cargo bench --bench resources`.

use componentry::{Component, Engine, Linker, ResourceAny, Store, Val};
use criterion::{black_box, Criterion};
use std::time::{Duration, Instant};

/// The counter's state lives in guest memory: `rep` is its address.
const CORE: &str = r#"
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 64))
    (global $free (mut i32) (i32.const 0))
    (func $alloc (result i32)
      (local $p i32)
      (if (result i32) (global.get $free)
        (then (local.set $p (global.get $free))
              (global.set $free (i32.load (local.get $p)))
              (i64.store (local.get $p) (i64.const 0))
              (local.get $p))
        (else (local.set $p (global.get $next))
              (global.set $next (i32.add (global.get $next) (i32.const 8)))
              (local.get $p))))
    (func $release (param $p i32)
      (i32.store (local.get $p) (global.get $free))
      (global.set $free (local.get $p)))
    (func $inc (param $p i32) (i64.store (local.get $p) (i64.add (i64.load (local.get $p)) (i64.const 1))))
    (func $get (param $p i32) (result i64) (i64.load (local.get $p)))
"#;

fn component_wat() -> String {
    format!(
        r#"(component
      (core module $lib {CORE}
        (export "alloc" (func $alloc))
        (export "release" (func $release))
        (export "inc" (func $inc))
        (export "get" (func $get)))
      (core instance $lib (instantiate $lib))
      (type $counter (resource (rep i32) (dtor (core func $lib "release"))))
      (core func $new (canon resource.new $counter))
      (core module $m
        (import "" "new" (func $new (param i32) (result i32)))
        (import "lib" "alloc" (func $alloc (result i32)))
        (func (export "ctor") (result i32) (call $new (call $alloc))))
      (core instance $i (instantiate $m
        (with "" (instance (export "new" (func $new))))
        (with "lib" (instance $lib))))
      (export $c "counter" (type $counter))
      (func (export "[constructor]counter") (result (own $c)) (canon lift (core func $i "ctor")))
      (func (export "[method]counter.inc") (param "self" (borrow $c)) (canon lift (core func $lib "inc")))
      (func (export "[method]counter.get") (param "self" (borrow $c)) (result u64) (canon lift (core func $lib "get")))
    )"#
    )
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .configure_from_args();

    // componentry
    let engine = Engine::default();
    let component = Component::new(&engine, &wat::parse_str(component_wat()).unwrap()).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let ctor = instance
        .get_func(&mut store, "[constructor]counter")
        .unwrap();
    let inc = instance
        .get_func(&mut store, "[method]counter.inc")
        .unwrap();
    let get = instance
        .get_func(&mut store, "[method]counter.get")
        .unwrap();
    let tctor = ctor.typed::<(), ResourceAny>(&mut store).unwrap();
    let tinc = inc.typed::<(ResourceAny,), ()>(&mut store).unwrap();
    let tget = get.typed::<(ResourceAny,), u64>(&mut store).unwrap();
    let mut lifetime = || {
        let mut r = [Val::Bool(false)];
        ctor.call(&mut store, &[], &mut r).unwrap();
        let Val::Resource(h) = r[0] else {
            unreachable!()
        };
        inc.call(&mut store, &[Val::Resource(h)], &mut []).unwrap();
        get.call(&mut store, &[Val::Resource(h)], &mut r).unwrap();
        black_box(&r);
        h.resource_drop(&mut store).unwrap();
    };
    let mut ours = 0.0;
    c.bench_function("resource/componentry-dynamic", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                lifetime();
            }
            let t = start.elapsed();
            ours = t.as_nanos() as f64 / iters as f64;
            t
        })
    });

    let mut typed = 0.0;
    c.bench_function("resource/componentry-typed", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                let h = tctor.call(&mut store, ()).unwrap();
                tinc.call(&mut store, (h,)).unwrap();
                black_box(tget.call(&mut store, (h,)).unwrap());
                h.resource_drop(&mut store).unwrap();
            }
            let t = start.elapsed();
            typed = t.as_nanos() as f64 / iters as f64;
            t
        })
    });

    // raw wasmi: the same calls on a core module, the handle an i32 the
    // host keeps.
    let raw_engine = wasmi::Engine::default();
    let module = wasmi::Module::new(
        &raw_engine,
        wat::parse_str(format!(
            r#"(module {CORE}
          (func (export "new") (result i32) (call $alloc))
          (func (export "inc") (param i32) (call $inc (local.get 0)))
          (func (export "get") (param i32) (result i64) (call $get (local.get 0)))
          (func (export "drop") (param i32) (call $release (local.get 0))))"#
        ))
        .unwrap(),
    )
    .unwrap();
    let mut raw_store = wasmi::Store::new(&raw_engine, ());
    let raw = wasmi::Linker::new(&raw_engine)
        .instantiate_and_start(&mut raw_store, &module)
        .unwrap();
    let new = raw.get_typed_func::<(), i32>(&raw_store, "new").unwrap();
    let rinc = raw.get_typed_func::<i32, ()>(&raw_store, "inc").unwrap();
    let rget = raw.get_typed_func::<i32, i64>(&raw_store, "get").unwrap();
    let rdrop = raw.get_typed_func::<i32, ()>(&raw_store, "drop").unwrap();
    let mut floor = 0.0;
    c.bench_function("resource/raw-wasmi", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                let h = new.call(&mut raw_store, ()).unwrap();
                rinc.call(&mut raw_store, h).unwrap();
                black_box(rget.call(&mut raw_store, h).unwrap());
                rdrop.call(&mut raw_store, h).unwrap();
            }
            let t = start.elapsed();
            floor = t.as_nanos() as f64 / iters as f64;
            t
        })
    });
    println!("\n| workload | raw wasmi (ns) | componentry dynamic (ns) | ratio | componentry typed (ns) | ratio |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| resource new + inc + get + drop | {floor:.0} | {ours:.0} | {:.2} | {typed:.0} | {:.2} |",
        ours / floor,
        typed / floor
    );
}
