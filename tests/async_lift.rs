//! `canon lift async (callback …)` called from the host (feature `async`):
//! the event loop of CanonicalABI.md (EXIT, YIELD, WAIT), `task.return`
//! and its traps, and what still needs the scheduler (refused clearly).
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

/// A component with memory, a `task.return` of `result_ty` (with
/// `return_opts`), waitable sets and context, whose core module has `core`
/// and whose component level has `lifts`.
fn component(result_ty: &str, return_opts: &str, core: &str, lifts: &str) -> String {
    format!(
        r#"(component
  (core module $Mem
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $r i32)
      (local.set $r (global.get $next))
      (global.set $next (i32.add (global.get $next) (local.get 3)))
      (local.get $r)))
  (core instance $mem (instantiate $Mem))
  (alias core export $mem "mem" (core memory $memory))
  (alias core export $mem "realloc" (core func $realloc))
  (canon task.return {result_ty} {return_opts} (core func $task.return))
  (canon waitable-set.new (core func $ws.new))
  (canon context.get i32 0 (core func $ctx.get))
  (canon context.set i32 0 (core func $ctx.set))
  (core module $M
    (import "b" "mem" (memory 1))
    (import "b" "task.return" (func $task.return {return_sig}))
    (import "b" "ws.new" (func $ws.new (result i32)))
    (import "b" "ctx.get" (func $ctx.get (result i32)))
    (import "b" "ctx.set" (func $ctx.set (param i32)))
    (global $n (mut i32) (i32.const 0))
    {core}
  )
  (core instance $i (instantiate $M (with "b" (instance
    (export "mem" (memory $memory))
    (export "task.return" (func $task.return))
    (export "ws.new" (func $ws.new))
    (export "ctx.get" (func $ctx.get)) (export "ctx.set" (func $ctx.set))))))
  {lifts}
)"#,
        return_sig = return_sig(result_ty),
    )
}

fn return_sig(result_ty: &str) -> &'static str {
    match result_ty {
        "(result u32)" => "(param i32)",
        "(result string)" => "(param i32 i32)",
        "" => "",
        _ => "(param i32)",
    }
}

/// An async-lifted `f` returning u32 from core `f`, callback `cb`.
const F_U32: &str = r#"(func (export "f") async (result u32)
    (canon lift (core func $i "f") async (callback (core func $i "cb"))))"#;

#[test]
fn exit_after_task_return_gives_the_host_the_value() {
    let wat = component(
        "(result u32)",
        "",
        r#"(func (export "f") (result i32) (call $task.return (i32.const 42)) (i32.const 0))
           (func (export "cb") (param i32 i32 i32) (result i32) unreachable)"#,
        F_U32,
    );
    let (mut store, instance) = instantiate(&wat);
    assert_eq!(call1(&mut store, &instance, "f", &[]), Val::U32(42));
    // Again: a new task each call.
    assert_eq!(call1(&mut store, &instance, "f", &[]), Val::U32(42));
}

#[test]
fn yield_runs_the_callback_with_no_event_and_the_task_keeps_its_context() {
    let wat = component(
        "(result u32)",
        "",
        r#"(func (export "f") (param i32) (result i32)
             (call $ctx.set (local.get 0))
             (global.set $n (i32.const 0))
             (i32.const 1 (; YIELD ;)))
           (func (export "cb") (param $e i32) (param $p1 i32) (param $p2 i32) (result i32)
             ;; EventCode.NONE, no payload
             (if (i32.or (local.get $e) (i32.or (local.get $p1) (local.get $p2)))
               (then unreachable))
             (global.set $n (i32.add (global.get $n) (i32.const 1)))
             (if (i32.lt_u (global.get $n) (i32.const 3))
               (then (return (i32.const 1 (; YIELD ;)))))
             (call $task.return (i32.add (call $ctx.get) (global.get $n)))
             (i32.const 0 (; EXIT ;)))"#,
        r#"(func (export "f") async (param "x" u32) (result u32)
             (canon lift (core func $i "f") async (callback (core func $i "cb"))))"#,
    );
    let (mut store, instance) = instantiate(&wat);
    assert_eq!(
        call1(&mut store, &instance, "f", &[Val::U32(100)]),
        Val::U32(103)
    );
}

#[test]
fn task_return_may_come_before_more_work_and_exit_later() {
    let wat = component(
        "(result u32)",
        "",
        r#"(func (export "f") (result i32) (call $task.return (i32.const 5)) (i32.const 1))
           (func (export "cb") (param i32 i32 i32) (result i32) (i32.const 0))"#,
        F_U32,
    );
    let (mut store, instance) = instantiate(&wat);
    assert_eq!(call1(&mut store, &instance, "f", &[]), Val::U32(5));
}

fn trap_of(core: &str) -> Error {
    let wat = component("(result u32)", "", core, F_U32);
    let (mut store, instance) = instantiate(&wat);
    let e = call_err(&mut store, &instance, "f", &[]);
    // Every trap poisons the instance.
    let again = call_err(&mut store, &instance, "f", &[]);
    assert_eq!(trap_kind(&again), TrapKind::Poisoned, "{again}");
    e
}

#[test]
fn waiting_on_a_set_nothing_can_reach_is_a_deadlock() {
    let e = trap_of(
        r#"(func (export "f") (result i32)
             (i32.or (i32.const 2 (; WAIT ;)) (i32.shl (call $ws.new) (i32.const 4))))
           (func (export "cb") (param i32 i32 i32) (result i32) unreachable)"#,
    );
    assert_eq!(trap_kind(&e), TrapKind::Deadlock, "{e}");
    assert!(e.to_string().contains("deadlock detected"), "{e}");
}

#[test]
fn waiting_on_what_is_not_a_set_traps() {
    let e = trap_of(
        r#"(func (export "f") (result i32) (i32.const 0x52 (; WAIT on 5 ;)))
           (func (export "cb") (param i32 i32 i32) (result i32) unreachable)"#,
    );
    assert_eq!(trap_kind(&e), TrapKind::InvalidHandle, "{e}");
}

#[test]
fn an_unknown_callback_code_traps() {
    let e = trap_of(
        r#"(func (export "f") (result i32) (i32.const 3))
           (func (export "cb") (param i32 i32 i32) (result i32) unreachable)"#,
    );
    assert_eq!(trap_kind(&e), TrapKind::AsyncRule, "{e}");
    assert!(e.to_string().contains("unsupported callback code"), "{e}");
}

#[test]
fn exiting_without_task_return_traps() {
    let e = trap_of(
        r#"(func (export "f") (result i32) (i32.const 0))
           (func (export "cb") (param i32 i32 i32) (result i32) unreachable)"#,
    );
    assert_eq!(trap_kind(&e), TrapKind::AsyncRule, "{e}");
}

#[test]
fn task_return_twice_traps() {
    let e = trap_of(
        r#"(func (export "f") (result i32)
             (call $task.return (i32.const 1)) (call $task.return (i32.const 2)) (i32.const 0))
           (func (export "cb") (param i32 i32 i32) (result i32) unreachable)"#,
    );
    assert_eq!(trap_kind(&e), TrapKind::AsyncRule, "{e}");
    assert!(e.to_string().contains("twice"), "{e}");
}

#[test]
fn task_return_from_a_sync_lifted_function_traps() {
    let wat = component(
        "(result u32)",
        "",
        r#"(func (export "g") (result i32) (call $task.return (i32.const 1)) (i32.const 0))"#,
        r#"(func (export "g") (result u32) (canon lift (core func $i "g")))"#,
    );
    let (mut store, instance) = instantiate(&wat);
    let e = call_err(&mut store, &instance, "g", &[]);
    assert_eq!(trap_kind(&e), TrapKind::AsyncRule, "{e}");
}

#[test]
fn task_return_of_another_type_traps() {
    // The task returns u32; this task.return gives an s32.
    let wat = component(
        "(result s32)",
        "",
        r#"(func (export "f") (result i32) (call $task.return (i32.const 1)) (i32.const 0))
           (func (export "cb") (param i32 i32 i32) (result i32) unreachable)"#,
        F_U32,
    );
    let (mut store, instance) = instantiate(&wat);
    let e = call_err(&mut store, &instance, "f", &[]);
    assert_eq!(trap_kind(&e), TrapKind::AsyncRule, "{e}");
    assert!(e.to_string().contains("result type"), "{e}");
}

#[test]
fn task_return_of_a_structurally_equal_type_is_the_same_type() {
    let wat = component(
        r#"(result (record (field "a" u32)))"#,
        "",
        r#"(func (export "f") (result i32) (call $task.return (i32.const 9)) (i32.const 0))
           (func (export "cb") (param i32 i32 i32) (result i32) unreachable)"#,
        r#"(type $r0 (record (field "a" u32)))
           (export $r "r" (type $r0))
           (func (export "f") async (result $r)
             (canon lift (core func $i "f") async (callback (core func $i "cb"))))"#,
    );
    let (mut store, instance) = instantiate(&wat);
    assert_eq!(
        call1(&mut store, &instance, "f", &[]),
        Val::Record(vec![("a".into(), Val::U32(9))])
    );
}

#[test]
fn strings_pass_in_and_return_through_memory() {
    let wat = component(
        "(result string)",
        "(memory $memory)",
        r#"(func (export "f") (param i32 i32) (result i32)
             ;; return the argument as it came (pointer, length)
             (call $task.return (local.get 0) (local.get 1))
             (i32.const 0))
           (func (export "cb") (param i32 i32 i32) (result i32) unreachable)"#,
        r#"(func (export "f") async (param "s" string) (result string)
             (canon lift (core func $i "f") async (memory $memory) (realloc $realloc)
               (callback (core func $i "cb"))))"#,
    );
    let (mut store, instance) = instantiate(&wat);
    assert_eq!(
        call1(&mut store, &instance, "f", &[Val::String("héllo".into())]),
        Val::String("héllo".into())
    );
    // A typed call runs it too (through `Val`s).
    let f = instance.get_func(&mut store, "f").expect("f");
    let typed = f.typed::<(&str,), String>(&mut store).expect("typed");
    assert_eq!(typed.call(&mut store, ("wörld",)).expect("call"), "wörld");
    // And one whose parameters spill to memory.
    let typed = f.typed::<(String,), String>(&mut store).expect("typed");
    assert_eq!(
        typed.call(&mut store, ("x".repeat(100),)).expect("call"),
        "x".repeat(100)
    );
}

#[test]
fn task_return_with_other_options_traps() {
    let wat = component(
        "(result string)",
        "(memory $memory) string-encoding=utf16",
        r#"(func (export "f") (result i32) (call $task.return (i32.const 0) (i32.const 0)) (i32.const 0))
           (func (export "cb") (param i32 i32 i32) (result i32) unreachable)"#,
        r#"(func (export "f") async (result string)
             (canon lift (core func $i "f") async (memory $memory) (callback (core func $i "cb"))))"#,
    );
    let (mut store, instance) = instantiate(&wat);
    let e = call_err(&mut store, &instance, "f", &[]);
    assert_eq!(trap_kind(&e), TrapKind::AsyncRule, "{e}");
    assert!(e.to_string().contains("options"), "{e}");
}

#[test]
fn more_than_16_flat_values_return_through_a_pointer() {
    let tuple = "(tuple u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32 u32)";
    let stores: String = (0..17)
        .map(|k| {
            format!(
                "(i32.store (i32.const {}) (i32.const {}))",
                64 + 4 * k,
                k * 10
            )
        })
        .collect();
    let wat = component(
        &format!("(result {tuple})"),
        "(memory $memory)",
        &format!(
            r#"(func (export "f") (result i32) {stores} (call $task.return (i32.const 64)) (i32.const 0))
               (func (export "cb") (param i32 i32 i32) (result i32) unreachable)"#
        ),
        &format!(
            r#"(func (export "f") async (result {tuple})
                 (canon lift (core func $i "f") async (memory $memory) (callback (core func $i "cb"))))"#
        ),
    );
    let (mut store, instance) = instantiate(&wat);
    let expected = Val::Tuple((0..17).map(|k| Val::U32(k * 10)).collect());
    assert_eq!(call1(&mut store, &instance, "f", &[]), expected);
}

#[test]
fn yielding_forever_runs_out_of_fuel_instead_of_hanging() {
    let wat = component(
        "(result u32)",
        "",
        r#"(func (export "f") (result i32) (i32.const 1))
           (func (export "cb") (param i32 i32 i32) (result i32) (i32.const 1))"#,
        F_U32,
    );
    let mut config = Config::default();
    config.consume_fuel(true);
    let engine = Engine::new(&config);
    let c = load(&engine, &wat);
    let mut store = Store::new(&engine, ());
    store.set_fuel(100_000).expect("fuel");
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &c)
        .expect("instantiate");
    let e = call_err(&mut store, &instance, "f", &[]);
    assert_eq!(trap_kind(&e), TrapKind::OutOfFuel, "{e}");
}

#[test]
fn typed_calls_run_async_functions_and_resumable_calls_are_unsupported() {
    let wat = component(
        "(result u32)",
        "",
        r#"(func (export "f") (result i32) (call $task.return (i32.const 1)) (i32.const 0))
           (func (export "cb") (param i32 i32 i32) (result i32) unreachable)"#,
        F_U32,
    );
    let (mut store, instance) = instantiate(&wat);
    let f = instance.get_func(&mut store, "f").expect("f");
    let typed = f.typed::<(), u32>(&mut store).expect("typed");
    assert_eq!(typed.call(&mut store, ()).expect("typed call"), 1);
    let mut out = [Val::U32(0)];
    let Err(e) = f.call_resumable(&mut store, &[], &mut out) else {
        panic!("call_resumable of an async-lifted function")
    };
    assert_eq!(e.kind(), &ErrorKind::Unsupported, "{e}");
    // A sync `canon lower` of it by another component runs it.
    let outer = r#"(component
      (component $C
        (canon task.return (result u32) (core func $tr))
        (core module $M
          (import "" "tr" (func $tr (param i32)))
          (func (export "f") (result i32) (call $tr (i32.const 7)) (i32.const 0))
          (func (export "cb") (param i32 i32 i32) (result i32) unreachable))
        (core instance $i (instantiate $M (with "" (instance (export "tr" (func $tr))))))
        (func (export "f") async (result u32)
          (canon lift (core func $i "f") async (callback (core func $i "cb")))))
      (instance $c (instantiate $C))
      (component $D
        (import "f" (func $f async (result u32)))
        (core func $lf (canon lower (func $f)))
        (core module $N
          (import "" "f" (func $f (result i32)))
          (func (export "g") (result i32) (i32.add (call $f) (i32.const 1))))
        (core instance $n (instantiate $N (with "" (instance (export "f" (func $lf))))))
        (func (export "g") (result u32) (canon lift (core func $n "g"))))
      (instance $d (instantiate $D (with "f" (func $c "f"))))
      (export "g" (func $d "g")))"#;
    let engine = Engine::default();
    let c = load(&engine, outer);
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &c)
        .expect("a sync lower of an async-lifted function");
    assert_eq!(call1(&mut store, &instance, "g", &[]), Val::U32(8));
}

#[test]
fn async_lifts_survive_component_images() {
    let wat = component(
        "(result u32)",
        "",
        r#"(func (export "f") (param i32) (result i32)
             (call $ctx.set (local.get 0)) (i32.const 1))
           (func (export "cb") (param i32 i32 i32) (result i32)
             (call $task.return (i32.mul (call $ctx.get) (i32.const 2))) (i32.const 0))"#,
        r#"(func (export "f") async (param "x" u32) (result u32)
             (canon lift (core func $i "f") async (callback (core func $i "cb"))))"#,
    );
    let engine = Engine::default();
    let image = load(&engine, &wat).serialize().expect("serialize");
    // SAFETY: an image this process just made with this engine.
    let c = unsafe { Component::deserialize(&engine, &image) }.expect("deserialize");
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &c)
        .expect("instantiate");
    assert_eq!(
        call1(&mut store, &instance, "f", &[Val::U32(21)]),
        Val::U32(42)
    );
}

/// `task.return` traps while the task still holds a borrowed handle it was
/// given (the spec's `num_borrows` check); dropping it first is fine.
#[test]
fn task_return_while_holding_a_borrow_traps() {
    let wat = r#"(component
      (import "h" (type $h (sub resource)))
      (canon task.return (result u32) (core func $tr))
      (canon resource.drop $h (core func $drop))
      (core module $M
        (import "" "tr" (func $tr (param i32)))
        (import "" "drop" (func $drop (param i32)))
        (func (export "keep") (param i32) (result i32) (call $tr (i32.const 1)) (i32.const 0))
        (func (export "drop") (param i32) (result i32)
          (call $drop (local.get 0)) (call $tr (i32.const 2)) (i32.const 0))
        (func (export "cb") (param i32 i32 i32) (result i32) unreachable))
      (core instance $i (instantiate $M (with "" (instance
        (export "tr" (func $tr)) (export "drop" (func $drop))))))
      (func (export "keep") async (param "b" (borrow $h)) (result u32)
        (canon lift (core func $i "keep") async (callback (core func $i "cb"))))
      (func (export "drop") async (param "b" (borrow $h)) (result u32)
        (canon lift (core func $i "drop") async (callback (core func $i "cb"))))
    )"#;
    let engine = Engine::default();
    let c = load(&engine, wat);
    let ty = ResourceType::host_dynamic(0);
    let mut linker = Linker::new(&engine);
    linker.root().resource_type("h", ty).expect("define h");
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &c).expect("instantiate");
    let r = ResourceAny::new_host(&mut store, ty, 7, true).expect("host resource");
    assert_eq!(
        call1(&mut store, &instance, "drop", &[Val::Resource(r)]),
        Val::U32(2)
    );
    let e = call_err(&mut store, &instance, "keep", &[Val::Resource(r)]);
    assert_eq!(trap_kind(&e), TrapKind::BorrowsOutstanding, "{e}");
}
