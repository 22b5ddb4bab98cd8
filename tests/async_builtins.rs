//! The async built-ins that run without the scheduler (feature `async`):
//! thread-local storage per task (`context.get/set`), backpressure,
//! `thread.yield`, and waitable sets (`waitable-set.new/poll/drop`) in the
//! instance's one handle table, shared with resource handles. Each rule of
//! CanonicalABI.md they follow, and each trap they take, has a test here.
#![cfg(feature = "async")]

mod common;

use common::*;
use componentry::*;

fn trap_kind(e: &Error) -> TrapKind {
    match e.kind() {
        ErrorKind::Trap(k) => *k,
        other => panic!("expected a trap, got {other:?}: {e}"),
    }
}

fn u32_of(v: Val) -> u32 {
    match v {
        Val::U32(x) => x,
        other => panic!("expected a u32, got {other:?}"),
    }
}

/// A component whose core module imports every built-in of this slice
/// (plus the resource built-ins, to share the handle table) from "b".
fn component(core_funcs: &str, lifts: &str) -> String {
    format!(
        r#"(component
  (type $R (resource (rep i32)))
  (core module $Mem (memory (export "mem") 1))
  (core instance $mem (instantiate $Mem))
  (alias core export $mem "mem" (core memory $memory))
  (canon context.get i32 0 (core func $ctx0.get))
  (canon context.set i32 0 (core func $ctx0.set))
  (canon backpressure.inc (core func $bp.inc))
  (canon backpressure.dec (core func $bp.dec))
  (canon thread.yield (core func $yield))
  (canon waitable-set.new (core func $ws.new))
  (canon waitable-set.poll (memory $memory) (core func $ws.poll))
  (canon waitable-set.drop (core func $ws.drop))
  (canon resource.new $R (core func $r.new))
  (canon resource.drop $R (core func $r.drop))
  (core module $M
    (import "b" "mem" (memory 1))
    (import "b" "ctx0.get" (func $ctx0.get (result i32)))
    (import "b" "ctx0.set" (func $ctx0.set (param i32)))
    (import "b" "bp.inc" (func $bp.inc))
    (import "b" "bp.dec" (func $bp.dec))
    (import "b" "yield" (func $yield (result i32)))
    (import "b" "ws.new" (func $ws.new (result i32)))
    (import "b" "ws.poll" (func $ws.poll (param i32 i32) (result i32)))
    (import "b" "ws.drop" (func $ws.drop (param i32)))
    (import "b" "r.new" (func $r.new (param i32) (result i32)))
    (import "b" "r.drop" (func $r.drop (param i32)))
    (global $g (mut i32) (i32.const 0))
    {core_funcs}
  )
  (core instance $i (instantiate $M (with "b" (instance
    (export "mem" (memory $memory))
    (export "ctx0.get" (func $ctx0.get)) (export "ctx0.set" (func $ctx0.set))
    (export "bp.inc" (func $bp.inc)) (export "bp.dec" (func $bp.dec))
    (export "yield" (func $yield))
    (export "ws.new" (func $ws.new)) (export "ws.poll" (func $ws.poll))
    (export "ws.drop" (func $ws.drop))
    (export "r.new" (func $r.new)) (export "r.drop" (func $r.drop))))))
  {lifts}
)"#
    )
}

// ------------------------------------------------------------ context

#[test]
fn context_is_per_task_and_lasts_through_post_return() {
    let wat = component(
        r#"(func (export "f") (result i32)
             ;; a new task starts with zeroed storage
             (if (i32.ne (call $ctx0.get) (i32.const 0)) (then unreachable))
             (call $ctx0.set (i32.const 42))
             (i32.const 1))
           (func (export "f-pr") (param i32)
             (global.set $g (call $ctx0.get)))
           (func (export "saved") (result i32) (global.get $g))"#,
        r#"(func (export "f") (result u32) (canon lift (core func $i "f")
             (post-return (core func $i "f-pr"))))
           (func (export "saved") (result u32) (canon lift (core func $i "saved")))"#,
    );
    let (mut store, instance) = instantiate(&wat);
    assert_eq!(call1(&mut store, &instance, "f", &[]), Val::U32(1));
    assert_eq!(call1(&mut store, &instance, "saved", &[]), Val::U32(42));
    // A second task does not see the first one's storage (f checks).
    assert_eq!(call1(&mut store, &instance, "f", &[]), Val::U32(1));
}

#[test]
fn nested_tasks_have_their_own_storage() {
    let wat = r#"(component
      (component $Inner
        (canon context.get i32 0 (core func $get))
        (canon context.set i32 0 (core func $set))
        (core module $M
          (import "" "get" (func $get (result i32)))
          (import "" "set" (func $set (param i32)))
          (func (export "g") (result i32)
            (call $get)
            (call $set (i32.const 2))))
        (core instance $i (instantiate $M (with "" (instance
          (export "get" (func $get)) (export "set" (func $set))))))
        (func (export "g") (result u32) (canon lift (core func $i "g"))))
      (instance $inner (instantiate $Inner))
      (component $Outer
        (import "g" (func $g (result u32)))
        (core func $g' (canon lower (func $g)))
        (canon context.get i32 0 (core func $get))
        (canon context.set i32 0 (core func $set))
        (core module $M
          (import "" "g" (func $g (result i32)))
          (import "" "get" (func $get (result i32)))
          (import "" "set" (func $set (param i32)))
          (func (export "f") (result i32)
            (call $set (i32.const 1))
            ;; the callee's task starts at 0 (it returns what it read)
            (if (i32.ne (call $g) (i32.const 0)) (then unreachable))
            ;; and its set did not touch this task's storage
            (call $get)))
        (core instance $i (instantiate $M (with "" (instance
          (export "g" (func $g')) (export "get" (func $get)) (export "set" (func $set))))))
        (func (export "f") (result u32) (canon lift (core func $i "f"))))
      (instance $outer (instantiate $Outer (with "g" (func $inner "g"))))
      (export "f" (func $outer "f"))
    )"#;
    let (mut store, instance) = instantiate(wat);
    assert_eq!(call1(&mut store, &instance, "f", &[]), Val::U32(1));
}

#[test]
fn a_start_function_runs_on_a_fresh_thread() {
    let wat = r#"(component
      (canon context.get i32 0 (core func $get))
      (canon context.set i32 0 (core func $set))
      (core module $M
        (import "" "get" (func $get (result i32)))
        (import "" "set" (func $set (param i32)))
        (global $at-start (mut i32) (i32.const -1))
        (func $start
          (global.set $at-start (call $get))
          (call $set (i32.const 5)))
        (start $start)
        (func (export "f") (result i32)
          (if (i32.ne (call $get) (i32.const 0)) (then unreachable))
          (global.get $at-start)))
      (core instance $i (instantiate $M (with "" (instance
        (export "get" (func $get)) (export "set" (func $set))))))
      (func (export "f") (result u32) (canon lift (core func $i "f")))
    )"#;
    let (mut store, instance) = instantiate(wat);
    assert_eq!(call1(&mut store, &instance, "f", &[]), Val::U32(0));
}

// ------------------------------------------------------- backpressure

#[test]
fn backpressure_counts_to_2_pow_16_minus_1_then_traps() {
    let wat = component(
        r#"(func (export "inc") (param i32)
             (block $done (loop $l
               (br_if $done (i32.eqz (local.get 0)))
               (call $bp.inc)
               (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
               (br $l))))
           (func (export "dec") (call $bp.dec))"#,
        r#"(func (export "inc") (param "n" u32) (canon lift (core func $i "inc")))
           (func (export "dec") (canon lift (core func $i "dec")))"#,
    );
    let (mut store, instance) = instantiate(&wat);
    call(&mut store, &instance, "inc", &[Val::U32(65535)]).expect("up to 65535");
    call(&mut store, &instance, "dec", &[]).expect("65534");
    call(&mut store, &instance, "inc", &[Val::U32(1)]).expect("65535 again");
    let e = call_err(&mut store, &instance, "inc", &[Val::U32(1)]);
    assert_eq!(trap_kind(&e), TrapKind::AsyncRule, "{e}");
    assert!(e.to_string().contains("backpressure"), "{e}");
    // The trap poisoned the instance.
    let e = call_err(&mut store, &instance, "dec", &[]);
    assert_eq!(trap_kind(&e), TrapKind::Poisoned, "{e}");
}

#[test]
fn backpressure_below_zero_traps() {
    let wat = component(
        r#"(func (export "dec") (call $bp.dec))
           (func (export "inc-dec") (call $bp.inc) (call $bp.dec))"#,
        r#"(func (export "dec") (canon lift (core func $i "dec")))
           (func (export "inc-dec") (canon lift (core func $i "inc-dec")))"#,
    );
    let (mut store, instance) = instantiate(&wat);
    call(&mut store, &instance, "inc-dec", &[]).expect("0 -> 1 -> 0");
    let e = call_err(&mut store, &instance, "dec", &[]);
    assert_eq!(trap_kind(&e), TrapKind::AsyncRule, "{e}");
}

#[test]
fn backpressure_is_per_instance() {
    let inner = component(
        r#"(func (export "inc") (call $bp.inc))
           (func (export "dec") (call $bp.dec))"#,
        r#"(func (export "inc") (canon lift (core func $i "inc")))
           (func (export "dec") (canon lift (core func $i "dec")))"#,
    );
    let engine = Engine::default();
    let c = load(&engine, &inner);
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let a = linker.instantiate(&mut store, &c).expect("a");
    let b = linker.instantiate(&mut store, &c).expect("b");
    call(&mut store, &a, "inc", &[]).expect("a: 1");
    let e = call_err(&mut store, &b, "dec", &[]);
    assert_eq!(trap_kind(&e), TrapKind::AsyncRule, "b is at 0: {e}");
    call(&mut store, &a, "dec", &[]).expect("a: 0");
}

// ------------------------------------------------------------- yield

#[test]
fn thread_yield_returns_not_cancelled() {
    let wat = component(
        r#"(func (export "f") (result i32) (call $yield))"#,
        r#"(func (export "f") (result u32) (canon lift (core func $i "f")))"#,
    );
    let (mut store, instance) = instantiate(&wat);
    assert_eq!(call1(&mut store, &instance, "f", &[]), Val::U32(0));
}

#[test]
fn builtins_that_may_leave_trap_in_post_return() {
    for body in [
        "(drop (call $yield))",
        "(drop (call $ws.new))",
        "(call $ws.drop (global.get $g))",
        "(drop (call $ws.poll (global.get $g) (i32.const 0)))",
    ] {
        let wat = component(
            &format!(
                r#"(func (export "f") (result i32) (global.set $g (call $ws.new)) (i32.const 0))
                   (func (export "f-pr") (param i32) {body})"#
            ),
            r#"(func (export "f") (result u32) (canon lift (core func $i "f")
                 (post-return (core func $i "f-pr"))))"#,
        );
        let (mut store, instance) = instantiate(&wat);
        let e = call_err(&mut store, &instance, "f", &[]);
        assert_eq!(trap_kind(&e), TrapKind::CannotLeave, "{body}: {e}");
    }
}

// ------------------------------------------------------ waitable sets

/// Handles of resources and waitable sets come from one table: indices
/// are shared and freed slots are reused (last freed first).
#[test]
fn waitable_sets_share_the_handle_table_with_resources() {
    let wat = component(
        r#"(func (export "f") (result i32)
             (if (i32.ne (call $r.new (i32.const 10)) (i32.const 1)) (then unreachable))
             (if (i32.ne (call $ws.new) (i32.const 2)) (then unreachable))
             (if (i32.ne (call $r.new (i32.const 11)) (i32.const 3)) (then unreachable))
             (call $ws.drop (i32.const 2))
             (if (i32.ne (call $r.new (i32.const 12)) (i32.const 2)) (then unreachable))
             (if (i32.ne (call $ws.new) (i32.const 4)) (then unreachable))
             (call $r.drop (i32.const 1))
             (call $ws.new))"#,
        r#"(func (export "f") (result u32) (canon lift (core func $i "f")))"#,
    );
    let (mut store, instance) = instantiate(&wat);
    assert_eq!(u32_of(call1(&mut store, &instance, "f", &[])), 1);
}

#[test]
fn polling_an_empty_set_finds_no_event() {
    let wat = component(
        r#"(func (export "f") (result i32)
             (i64.store (i32.const 8) (i64.const -1))
             (if (i32.ne (call $ws.poll (call $ws.new) (i32.const 8)) (i32.const 0))
               (then unreachable))
             ;; the payload (0, 0) was stored
             (i64.load (i32.const 8))
             (i64.eqz)
             (if (i32.eqz) (then unreachable))
             (i32.const 1))"#,
        r#"(func (export "f") (result u32) (canon lift (core func $i "f")))"#,
    );
    let (mut store, instance) = instantiate(&wat);
    assert_eq!(call1(&mut store, &instance, "f", &[]), Val::U32(1));
}

/// Calls `f` of a component whose `f` runs `body` and expects a trap of
/// `kind`.
fn assert_traps(body: &str, kind: TrapKind) -> Error {
    let wat = component(
        &format!(r#"(func (export "f") {body})"#),
        r#"(func (export "f") (canon lift (core func $i "f")))"#,
    );
    let (mut store, instance) = instantiate(&wat);
    let e = call_err(&mut store, &instance, "f", &[]);
    assert_eq!(trap_kind(&e), kind, "{body}: {e}");
    e
}

#[test]
fn poll_traps_on_a_bad_payload_pointer() {
    assert_traps(
        "(drop (call $ws.poll (call $ws.new) (i32.const 2)))",
        TrapKind::UnalignedPointer,
    );
    assert_traps(
        "(drop (call $ws.poll (call $ws.new) (i32.const 65532)))",
        TrapKind::PointerOutOfBounds,
    );
}

#[test]
fn set_builtins_trap_on_handles_that_are_not_sets() {
    let e = assert_traps(
        "(drop (call $ws.poll (call $r.new (i32.const 1)) (i32.const 0)))",
        TrapKind::WrongAsyncHandle,
    );
    assert!(e.to_string().contains("not a waitable set"), "{e}");
    assert_traps(
        "(call $ws.drop (call $r.new (i32.const 1)))",
        TrapKind::WrongAsyncHandle,
    );
    assert_traps(
        "(drop (call $ws.poll (i32.const 7) (i32.const 0)))",
        TrapKind::InvalidHandle,
    );
    assert_traps("(call $ws.drop (i32.const 0))", TrapKind::InvalidHandle);
    // Dropped twice.
    assert_traps(
        "(global.set $g (call $ws.new)) (call $ws.drop (global.get $g)) (call $ws.drop (global.get $g))",
        TrapKind::InvalidHandle,
    );
}

#[test]
fn resource_builtins_trap_on_a_waitable_set() {
    assert_traps("(call $r.drop (call $ws.new))", TrapKind::WrongResourceType);
}

#[test]
fn waitable_sets_count_against_the_handle_limit() {
    let wat = component(
        r#"(func (export "f") (drop (call $ws.new)) (drop (call $ws.new)) (drop (call $ws.new)))"#,
        r#"(func (export "f") (canon lift (core func $i "f")))"#,
    );
    let mut config = Config::default();
    config.max_handles_per_instance(2);
    let engine = Engine::new(&config);
    let c = load(&engine, &wat);
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &c)
        .expect("instantiate");
    let e = call_err(&mut store, &instance, "f", &[]);
    assert_eq!(trap_kind(&e), TrapKind::TooManyHandles, "{e}");
}

#[test]
fn async_builtins_survive_component_images() {
    let wat = component(
        r#"(func (export "f") (result i32)
             (call $ctx0.set (i32.const 3))
             (call $bp.inc) (call $bp.dec)
             (drop (call $yield))
             (drop (call $ws.poll (call $ws.new) (i32.const 0)))
             (call $ws.drop (i32.const 1))
             (call $ctx0.get))"#,
        r#"(func (export "f") (result u32) (canon lift (core func $i "f")))"#,
    );
    let engine = Engine::default();
    let image = load(&engine, &wat).serialize().expect("serialize");
    // SAFETY: an image this process just made with this engine.
    let c = unsafe { Component::deserialize(&engine, &image) }.expect("deserialize");
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &c)
        .expect("instantiate");
    assert_eq!(call1(&mut store, &instance, "f", &[]), Val::U32(3));
}
