//! Warm typed calls whose parameters and results are all scalars (and host
//! functions taking strings and lists as `WasmStr` / `WasmList` views) do not
//! touch the heap, host→guest (`TypedFunc::call`) and guest→host (a
//! `func_wrap` import called in a loop by the guest). A counting global
//! allocator proves it.

use componentry::{Component, Engine, Linker, Store};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts allocations made on the current thread (tests run in parallel).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the slot may be gone while the thread shuts down.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees hold; counting touches only a
// const-initialized thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded as is (see above).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded as is (see above).
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded as is (see above).
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is (see above).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The allocations `calls` warm guest-to-host typed calls make: none with
/// `static-core-calls`; without it (the size-first build) typed host
/// functions are wasmi's dynamic host functions, which copy their parameter
/// buffer on every call (wasmi 2.0's `Func::new`): one each, none of ours.
fn wasmi_host_call_copies(calls: usize) -> usize {
    if cfg!(feature = "static-core-calls") {
        0
    } else {
        calls
    }
}

/// Allocations on this thread while `f` runs.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

fn load(engine: &Engine, wat: &str) -> Component {
    Component::new(engine, &wat::parse_str(wat).unwrap()).unwrap()
}

#[test]
fn warm_typed_export_call_does_not_allocate() {
    let engine = Engine::default();
    let component = load(
        &engine,
        r#"(component
          (core module $m
            (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
            (func (export "mix") (param i64 f64 i32) (result f64)
              local.get 1 local.get 0 f64.convert_i64_u f64.add local.get 2 f64.convert_i32_u f64.add))
          (core instance $i (instantiate $m))
          (func (export "add") (param "a" u32) (param "b" u32) (result u32)
            (canon lift (core func $i "add")))
          (func (export "mix") (param "a" u64) (param "b" f64) (param "c" u8) (result f64)
            (canon lift (core func $i "mix"))))"#,
    );
    let mut store = Store::new(&engine, ());
    let inst = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let add = inst.get_func(&mut store, "add").unwrap();
    let add = add.typed::<(u32, u32), u32>(&mut store).unwrap();
    let mix = inst.get_func(&mut store, "mix").unwrap();
    let mix = mix.typed::<(u64, f64, u8), f64>(&mut store).unwrap();
    for _ in 0..10 {
        add.call(&mut store, (7, 35)).unwrap();
        mix.call(&mut store, (1, 0.5, 2)).unwrap();
    }
    let n = allocations(|| {
        for i in 0..1000u32 {
            assert_eq!(add.call(&mut store, (i, 35)).unwrap(), i + 35);
            assert_eq!(mix.call(&mut store, (1, 0.5, 2)).unwrap(), 3.5);
        }
    });
    assert_eq!(n, 0, "heap allocations in 2000 warm calls");
}

#[test]
fn warm_guest_to_host_typed_calls_do_not_allocate() {
    let engine = Engine::default();
    // `run(n)` calls the imports `add` and `mix` n times each.
    let component = load(
        &engine,
        r#"(component
          (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
          (import "mix" (func $mix (param "a" u64) (param "b" f64) (param "c" u8) (result f64)))
          (core func $add' (canon lower (func $add)))
          (core func $mix' (canon lower (func $mix)))
          (core module $m
            (import "host" "add" (func $add (param i32 i32) (result i32)))
            (import "host" "mix" (func $mix (param i64 f64 i32) (result f64)))
            (func (export "run") (param $n i32) (result i32) (local $acc i32)
              (block $done (loop $next
                (br_if $done (i32.eqz (local.get $n)))
                (local.set $acc (call $add (local.get $acc) (i32.const 1)))
                (drop (call $mix (i64.const 1) (f64.const 0.5) (i32.const 2)))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br $next)))
              (local.get $acc)))
          (core instance $i (instantiate $m
            (with "host" (instance (export "add" (func $add')) (export "mix" (func $mix'))))))
          (func (export "run") (param "n" u32) (result u32) (canon lift (core func $i "run"))))"#,
    );
    let mut linker = Linker::<u64>::new(&engine);
    let mut root = linker.root();
    root.func_wrap("add", |mut cx, (a, b): (u32, u32)| {
        *cx.data_mut() += 1;
        Ok(a + b)
    })
    .unwrap();
    root.func_wrap("mix", |_, (a, b, c): (u64, f64, u8)| {
        Ok(a as f64 + b + f64::from(c))
    })
    .unwrap();
    let mut store = Store::new(&engine, 0u64);
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst.get_func(&mut store, "run").unwrap();
    let run = run.typed::<(u32,), u32>(&mut store).unwrap();
    assert_eq!(run.call(&mut store, (10,)).unwrap(), 10);
    let n = allocations(|| {
        assert_eq!(run.call(&mut store, (1000,)).unwrap(), 1000);
    });
    assert_eq!(*store.data(), 1010);
    let expected = wasmi_host_call_copies(2000);
    assert_eq!(
        n, expected,
        "heap allocations in a call making 2000 host calls"
    );
}

#[test]
fn warm_host_calls_with_string_and_list_views_do_not_allocate() {
    let engine = Engine::default();
    // `run(n)` calls `log` with a 32-byte string and `sum` with a list of
    // four u32, n times each.
    let component = load(
        &engine,
        r#"(component
          (import "log" (func $log (param "s" string)))
          (import "sum" (func $sum (param "l" (list u32)) (result u32)))
          (core module $libc
            (memory (export "mem") 1)
            (func (export "realloc") (param i32 i32 i32 i32) (result i32) unreachable))
          (core instance $libc (instantiate $libc))
          (core func $log' (canon lower (func $log) (memory (core memory $libc "mem"))))
          (core func $sum' (canon lower (func $sum) (memory (core memory $libc "mem"))))
          (core module $m
            (import "libc" "mem" (memory 1))
            (import "host" "log" (func $log (param i32 i32)))
            (import "host" "sum" (func $sum (param i32 i32) (result i32)))
            (data (i32.const 64) "0123456789abcdef0123456789abcdef")
            (data (i32.const 128) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00")
            (func (export "run") (param $n i32) (result i32) (local $acc i32)
              (block $done (loop $next
                (br_if $done (i32.eqz (local.get $n)))
                (call $log (i32.const 64) (i32.const 32))
                (local.set $acc (i32.add (local.get $acc) (call $sum (i32.const 128) (i32.const 4))))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br $next)))
              (local.get $acc)))
          (core instance $i (instantiate $m
            (with "libc" (instance $libc))
            (with "host" (instance (export "log" (func $log')) (export "sum" (func $sum'))))))
          (func (export "run") (param "n" u32) (result u32) (canon lift (core func $i "run"))))"#,
    );
    let mut linker = Linker::<u64>::new(&engine);
    let mut root = linker.root();
    root.func_wrap("log", |mut cx, (s,): (componentry::WasmStr,)| {
        let n = s.to_str(&mut cx)?.len();
        *cx.data_mut() += n as u64;
        Ok(())
    })
    .unwrap();
    root.func_wrap("sum", |mut cx, (l,): (componentry::WasmList<u32>,)| {
        let mut sum = 0u32;
        for v in l.iter(&mut cx) {
            sum = sum.wrapping_add(v?);
        }
        Ok(sum)
    })
    .unwrap();
    let mut store = Store::new(&engine, 0u64);
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst
        .get_typed_func::<(u32,), u32>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, (10,)).unwrap(), 100);
    let n = allocations(|| {
        assert_eq!(run.call(&mut store, (1000,)).unwrap(), 10_000);
    });
    assert_eq!(*store.data(), 32 * 1010);
    let expected = wasmi_host_call_copies(2000);
    assert_eq!(
        n, expected,
        "heap allocations in a call making 2000 host calls"
    );
}
