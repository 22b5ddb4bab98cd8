//! The scheduler (feature `async`): component-to-component calls of
//! `async` functions, `canon lower async`, subtasks and their events,
//! waiting, yielding, cancellation, backpressure and the traps of
//! CanonicalABI.md for them — shapes the spec's suite does not test alone.
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

/// The callee `$C`: its core module holds `core` (with the async
/// built-ins imported under short names) and exports:
/// * `f`: `async func(x: u32) -> u32`, callback-lifted (`f`, `f_cb`);
/// * `g`: `async func(x: u32) -> u32`, stackful (`g`);
/// * `h`: `async func(x: u32) -> u32`, callback-lifted (`h`, `h_cb`);
/// * `s`: `func(x: u32) -> u32`, sync (`s`);
/// * `bp`: `func()`, sync (`bp`).
fn callee(core: &str) -> String {
    format!(
        r#"(component $C
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (alias core export $mem "mem" (core memory $cmem))
    (canon task.return (result u32) (core func $tr))
    (canon task.cancel (core func $tc))
    (canon waitable-set.new (core func $wsn))
    (canon waitable-set.wait (memory $cmem) (core func $wsw))
    (canon waitable-set.drop (core func $wsd))
    (canon thread.yield (core func $yield))
    (canon backpressure.inc (core func $bpi))
    (canon backpressure.dec (core func $bpd))
    (canon context.get i32 0 (core func $cg))
    (canon context.set i32 0 (core func $cs))
    (core module $CM
      (import "" "mem" (memory 1))
      (import "" "tr" (func $tr (param i32)))
      (import "" "tc" (func $tc))
      (import "" "wsn" (func $wsn (result i32)))
      (import "" "wsw" (func $wsw (param i32 i32) (result i32)))
      (import "" "wsd" (func $wsd (param i32)))
      (import "" "yield" (func $yield (result i32)))
      (import "" "bpi" (func $bpi))
      (import "" "bpd" (func $bpd))
      (import "" "cg" (func $cg (result i32)))
      (import "" "cs" (func $cs (param i32)))
      (global $n (mut i32) (i32.const 0))
      {core})
    (core instance $ci (instantiate $CM (with "" (instance
      (export "mem" (memory $cmem)) (export "tr" (func $tr)) (export "tc" (func $tc))
      (export "wsn" (func $wsn)) (export "wsw" (func $wsw)) (export "wsd" (func $wsd))
      (export "yield" (func $yield))
      (export "bpi" (func $bpi)) (export "bpd" (func $bpd))
      (export "cg" (func $cg)) (export "cs" (func $cs))))))
    (func (export "f") async (param "x" u32) (result u32)
      (canon lift (core func $ci "f") async (callback (core func $ci "f_cb"))))
    (func (export "g") async (param "x" u32) (result u32)
      (canon lift (core func $ci "g") async))
    (func (export "h") async (param "x" u32) (result u32)
      (canon lift (core func $ci "h") async (callback (core func $ci "h_cb"))))
    (func (export "s") (param "x" u32) (result u32) (canon lift (core func $ci "s")))
    (func (export "bp") (canon lift (core func $ci "bp"))))"#
    )
}

/// Defaults for the callee's exports a test does not care about.
const CALLEE_REST: &str = r#"
  (func (export "g") (param i32) unreachable)
  (func (export "h") (param i32) (result i32) unreachable)
  (func (export "h_cb") (param i32 i32 i32) (result i32) unreachable)
  (func (export "s") (param i32) (result i32) (i32.add (local.get 0) (i32.const 100)))
  (func (export "bp") (call $bpi))"#;

/// `f`: yields once, then returns x + 1.
const F_YIELDS_ONCE: &str = r#"
  (func (export "f") (param i32) (result i32)
    (global.set $n (local.get 0))
    (i32.const 1 (; YIELD ;)))
  (func (export "f_cb") (param i32 i32 i32) (result i32)
    (if (i32.ne (local.get 0) (i32.const 0 (; NONE ;))) (then unreachable))
    (call $tr (i32.add (global.get $n) (i32.const 1)))
    (i32.const 0 (; EXIT ;)))"#;

/// The caller `$D`, importing `$C`'s functions, lowered both ways, with
/// waitable built-ins; its core module holds `core` and it lifts `run`
/// as `lift` says (`async` for a stackful `run`, or `sync`).
fn caller(core: &str, lift: &str) -> String {
    let (ty, opts) = match lift {
        "async" => ("async", "async"),
        _ => ("", ""),
    };
    format!(
        r#"(component $D
    (import "f" (func $f async (param "x" u32) (result u32)))
    (import "g" (func $g async (param "x" u32) (result u32)))
    (import "h" (func $h async (param "x" u32) (result u32)))
    (import "s" (func $s (param "x" u32) (result u32)))
    (import "bp" (func $bp))
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (alias core export $mem "mem" (core memory $dmem))
    (core func $fa (canon lower (func $f) async (memory $dmem)))
    (core func $fs (canon lower (func $f)))
    (core func $ga (canon lower (func $g) async (memory $dmem)))
    (core func $ha (canon lower (func $h) async (memory $dmem)))
    (core func $bps (canon lower (func $bp)))
    (canon task.return (result u32) (core func $tr))
    (canon waitable-set.new (core func $wsn))
    (canon waitable-set.wait (memory $dmem) (core func $wsw))
    (canon waitable-set.poll (memory $dmem) (core func $wsp))
    (canon waitable-set.drop (core func $wsd))
    (canon waitable.join (core func $join))
    (canon subtask.drop (core func $sd))
    (canon subtask.cancel (core func $scancel))
    (canon subtask.cancel async (core func $scancel-async))
    (canon thread.yield (core func $yield))
    (canon context.get i32 0 (core func $cg))
    (canon context.set i32 0 (core func $cs))
    (core module $DM
      (import "" "mem" (memory 1))
      (import "" "fa" (func $fa (param i32 i32) (result i32)))
      (import "" "fs" (func $fs (param i32) (result i32)))
      (import "" "ga" (func $ga (param i32 i32) (result i32)))
      (import "" "ha" (func $ha (param i32 i32) (result i32)))
      (import "" "bps" (func $bps))
      (import "" "tr" (func $tr (param i32)))
      (import "" "wsn" (func $wsn (result i32)))
      (import "" "wsw" (func $wsw (param i32 i32) (result i32)))
      (import "" "wsp" (func $wsp (param i32 i32) (result i32)))
      (import "" "wsd" (func $wsd (param i32)))
      (import "" "join" (func $join (param i32 i32)))
      (import "" "sd" (func $sd (param i32)))
      (import "" "scancel" (func $scancel (param i32) (result i32)))
      (import "" "scancel-async" (func $scancel-async (param i32) (result i32)))
      (import "" "yield" (func $yield (result i32)))
      (import "" "cg" (func $cg (result i32)))
      (import "" "cs" (func $cs (param i32)))
      {core})
    (core instance $di (instantiate $DM (with "" (instance
      (export "mem" (memory $dmem))
      (export "fa" (func $fa)) (export "fs" (func $fs)) (export "ga" (func $ga))
      (export "ha" (func $ha)) (export "bps" (func $bps))
      (export "tr" (func $tr)) (export "wsn" (func $wsn)) (export "wsw" (func $wsw))
      (export "wsp" (func $wsp)) (export "wsd" (func $wsd)) (export "join" (func $join))
      (export "sd" (func $sd)) (export "scancel" (func $scancel))
      (export "scancel-async" (func $scancel-async)) (export "yield" (func $yield))
      (export "cg" (func $cg)) (export "cs" (func $cs))))))
    (func (export "run") {ty} (result u32) (canon lift (core func $di "run") {opts})))"#
    )
}

/// `$D.run` calling into `$C`, as the host's export `run`.
fn compose(callee_core: &str, caller_core: &str, lift: &str) -> String {
    format!(
        r#"(component
  {}
  (instance $c (instantiate $C))
  {}
  (instance $d (instantiate $D
    (with "f" (func $c "f")) (with "g" (func $c "g")) (with "h" (func $c "h"))
    (with "s" (func $c "s")) (with "bp" (func $c "bp"))))
  (export "run" (func $d "run")))"#,
        callee(callee_core),
        caller(caller_core, lift)
    )
}

fn run(callee_core: &str, caller_core: &str, lift: &str) -> Result<Val> {
    let wat = compose(callee_core, caller_core, lift);
    let engine = Engine::default();
    let c = load(&engine, &wat);
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &c)?;
    let f = instance.get_func(&mut store, "run").expect("run");
    let mut out = [Val::U32(0)];
    f.call(&mut store, &[], &mut out)?;
    Ok(out[0].clone())
}

/// The caller core of a stackful `run` that starts `f(41)` with
/// `canon lower async`, checks it STARTED, waits for its SUBTASK event
/// and returns the result the callee wrote at the result pointer.
const CALL_ASYNC_AND_WAIT: &str = r#"
  (func (export "run")
    (local $ret i32) (local $sub i32) (local $ws i32)
    (local.set $ret (call $fa (i32.const 41) (i32.const 16)))
    (if (i32.ne (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 1 (; STARTED ;)))
      (then unreachable))
    (local.set $sub (i32.shr_u (local.get $ret) (i32.const 4)))
    (local.set $ws (call $wsn))
    (call $join (local.get $sub) (local.get $ws))
    (if (i32.ne (call $wsw (local.get $ws) (i32.const 0)) (i32.const 1 (; SUBTASK ;)))
      (then unreachable))
    (if (i32.ne (i32.load (i32.const 0)) (local.get $sub)) (then unreachable))
    (if (i32.ne (i32.load (i32.const 4)) (i32.const 2 (; RETURNED ;))) (then unreachable))
    (call $sd (local.get $sub))
    (call $wsd (local.get $ws))
    (call $tr (i32.load (i32.const 16))))"#;

#[test]
fn async_lower_returns_started_and_the_returned_event_carries_the_result() {
    let callee = format!("{F_YIELDS_ONCE}{CALLEE_REST}");
    assert_eq!(
        run(&callee, CALL_ASYNC_AND_WAIT, "async").expect("run"),
        Val::U32(42)
    );
}

#[test]
fn a_stackful_callee_that_yields_is_resumed_by_the_scheduler() {
    let callee = r#"
      (func (export "f") (param i32) (result i32) unreachable)
      (func (export "f_cb") (param i32 i32 i32) (result i32) unreachable)
      (func (export "g") (param i32)
        (call $cs (local.get 0))
        (drop (call $yield))
        (drop (call $yield))
        ;; its thread storage survived the suspensions
        (call $tr (i32.mul (call $cg) (i32.const 2))))
      (func (export "h") (param i32) (result i32) unreachable)
      (func (export "h_cb") (param i32 i32 i32) (result i32) unreachable)
      (func (export "s") (param i32) (result i32) unreachable)
      (func (export "bp") unreachable)"#;
    let caller = r#"
      (func (export "run")
        (local $ret i32) (local $sub i32) (local $ws i32)
        (call $cs (i32.const 7))
        (local.set $ret (call $ga (i32.const 21) (i32.const 16)))
        (local.set $sub (i32.shr_u (local.get $ret) (i32.const 4)))
        (local.set $ws (call $wsn))
        (call $join (local.get $sub) (local.get $ws))
        (drop (call $wsw (local.get $ws) (i32.const 0)))
        (call $sd (local.get $sub))
        ;; the caller's storage is its own
        (if (i32.ne (call $cg) (i32.const 7)) (then unreachable))
        (call $tr (i32.load (i32.const 16))))"#;
    assert_eq!(run(callee, caller, "async").expect("run"), Val::U32(42));
}

#[test]
fn a_sync_lower_of_a_blocking_callee_suspends_an_async_caller() {
    let callee = format!("{F_YIELDS_ONCE}{CALLEE_REST}");
    let caller = r#"
      (func (export "run") (call $tr (i32.add (call $fs (i32.const 1)) (i32.const 40))))"#;
    assert_eq!(run(&callee, caller, "async").expect("run"), Val::U32(42));
}

#[test]
fn a_sync_task_may_not_block_on_a_blocking_callee() {
    let callee = format!("{F_YIELDS_ONCE}{CALLEE_REST}");
    let caller = r#"
      (func (export "run") (result i32) (call $fs (i32.const 1)))"#;
    let e = run(&callee, caller, "sync").expect_err("a sync task blocked");
    assert_eq!(trap_kind(&e), TrapKind::AsyncRule, "{e}");
    assert!(
        e.to_string().contains("cannot block a synchronous task"),
        "{e}"
    );
}

#[test]
fn poll_sees_the_subtask_event_once_the_callee_ran() {
    let callee = format!("{F_YIELDS_ONCE}{CALLEE_REST}");
    let caller = r#"
      (func (export "run")
        (local $ret i32) (local $sub i32) (local $ws i32) (local $polls i32)
        (local.set $ret (call $fa (i32.const 9) (i32.const 16)))
        (local.set $sub (i32.shr_u (local.get $ret) (i32.const 4)))
        (local.set $ws (call $wsn))
        (call $join (local.get $sub) (local.get $ws))
        (block $done
          (loop $again
            (br_if $done (i32.eq (call $wsp (local.get $ws) (i32.const 0)) (i32.const 1)))
            (local.set $polls (i32.add (local.get $polls) (i32.const 1)))
            (drop (call $yield))
            (br $again)))
        (if (i32.eqz (local.get $polls)) (then unreachable))
        (if (i32.ne (i32.load (i32.const 4)) (i32.const 2 (; RETURNED ;))) (then unreachable))
        (call $sd (local.get $sub))
        (call $tr (i32.load (i32.const 16))))"#;
    assert_eq!(run(&callee, caller, "async").expect("run"), Val::U32(10));
}

/// `h` waits on an empty set; on TASK_CANCELLED it cancels itself and
/// drops the set (no longer waited on).
const H_WAITS_FOR_CANCEL: &str = r#"
  (func (export "f") (param i32) (result i32) unreachable)
  (func (export "f_cb") (param i32 i32 i32) (result i32) unreachable)
  (func (export "g") (param i32) unreachable)
  (func (export "h") (param i32) (result i32)
    (call $cs (call $wsn))
    (i32.or (i32.const 2 (; WAIT ;)) (i32.shl (call $cg) (i32.const 4))))
  (func (export "h_cb") (param i32 i32 i32) (result i32)
    (if (i32.ne (local.get 0) (i32.const 6 (; TASK_CANCELLED ;))) (then unreachable))
    (call $tc)
    (call $wsd (call $cg))
    (i32.const 0 (; EXIT ;)))
  (func (export "s") (param i32) (result i32) unreachable)
  (func (export "bp") (call $bpi))"#;

#[test]
fn cancelling_a_waiting_callback_task_delivers_task_cancelled() {
    let caller = r#"
      (func (export "run")
        (local $ret i32) (local $sub i32)
        (local.set $ret (call $ha (i32.const 1) (i32.const 16)))
        (if (i32.ne (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 1 (; STARTED ;)))
          (then unreachable))
        (local.set $sub (i32.shr_u (local.get $ret) (i32.const 4)))
        (local.set $ret (call $scancel (local.get $sub)))
        (call $sd (local.get $sub))
        (call $tr (local.get $ret)))"#;
    // CANCELLED_BEFORE_RETURNED
    assert_eq!(
        run(H_WAITS_FOR_CANCEL, caller, "async").expect("run"),
        Val::U32(4)
    );
}

#[test]
fn cancelling_a_task_held_by_backpressure_cancels_it_before_it_starts() {
    let caller = r#"
      (func (export "run")
        (local $ret i32) (local $sub i32)
        (call $bps)
        (local.set $ret (call $ha (i32.const 1) (i32.const 16)))
        (if (i32.ne (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 0 (; STARTING ;)))
          (then unreachable))
        (local.set $sub (i32.shr_u (local.get $ret) (i32.const 4)))
        (local.set $ret (call $scancel (local.get $sub)))
        (call $sd (local.get $sub))
        (call $tr (local.get $ret)))"#;
    // CANCELLED_BEFORE_STARTED: `h` never ran (its core would have set no
    // wait: it is `unreachable`-free, but its callback expects a cancel).
    assert_eq!(
        run(H_WAITS_FOR_CANCEL, caller, "async").expect("run"),
        Val::U32(3)
    );
}

#[test]
fn async_cancel_returns_blocked_when_the_callee_cannot_take_it_yet() {
    // `g` is stackful and yields without `cancellable`: the request stays
    // pending until `g` resolves on its own.
    let callee = r#"
      (func (export "f") (param i32) (result i32) unreachable)
      (func (export "f_cb") (param i32 i32 i32) (result i32) unreachable)
      (func (export "g") (param i32)
        (drop (call $yield))
        (call $tr (local.get 0)))
      (func (export "h") (param i32) (result i32) unreachable)
      (func (export "h_cb") (param i32 i32 i32) (result i32) unreachable)
      (func (export "s") (param i32) (result i32) unreachable)
      (func (export "bp") unreachable)"#;
    let caller = r#"
      (func (export "run")
        (local $ret i32) (local $sub i32) (local $ws i32)
        (local.set $ret (call $ga (i32.const 5) (i32.const 16)))
        (local.set $sub (i32.shr_u (local.get $ret) (i32.const 4)))
        (if (i32.ne (call $scancel-async (local.get $sub)) (i32.const -1 (; BLOCKED ;)))
          (then unreachable))
        (local.set $ws (call $wsn))
        (call $join (local.get $sub) (local.get $ws))
        (drop (call $wsw (local.get $ws) (i32.const 0)))
        ;; it returned after all
        (if (i32.ne (i32.load (i32.const 4)) (i32.const 2 (; RETURNED ;))) (then unreachable))
        (call $join (local.get $sub) (i32.const 0))
        (call $sd (local.get $sub))
        (call $tr (i32.load (i32.const 16))))"#;
    assert_eq!(run(callee, caller, "async").expect("run"), Val::U32(5));
}

#[test]
fn task_cancel_without_a_cancellation_request_traps() {
    let callee = r#"
      (func (export "f") (param i32) (result i32) (call $tc) (i32.const 0))
      (func (export "f_cb") (param i32 i32 i32) (result i32) unreachable)"#;
    let callee = format!("{callee}{CALLEE_REST}");
    let e = run(&callee, CALL_ASYNC_AND_WAIT, "async").expect_err("task.cancel");
    assert_eq!(trap_kind(&e), TrapKind::AsyncRule, "{e}");
    assert!(e.to_string().contains("task.cancel"), "{e}");
}

#[test]
fn dropping_a_subtask_before_it_resolves_traps() {
    let callee = format!("{F_YIELDS_ONCE}{CALLEE_REST}");
    let caller = r#"
      (func (export "run")
        (local $ret i32)
        (local.set $ret (call $fa (i32.const 1) (i32.const 16)))
        (call $sd (i32.shr_u (local.get $ret) (i32.const 4)))
        (call $tr (i32.const 0)))"#;
    let e = run(&callee, caller, "async").expect_err("subtask.drop");
    assert_eq!(trap_kind(&e), TrapKind::AsyncRule, "{e}");
    assert!(e.to_string().contains("drop a subtask"), "{e}");
}

#[test]
fn subtask_built_ins_refuse_other_handles() {
    let callee = format!("{F_YIELDS_ONCE}{CALLEE_REST}");
    // A waitable set is not a subtask, and a subtask is not a set.
    let caller = r#"
      (func (export "run") (call $sd (call $wsn)) (call $tr (i32.const 0)))"#;
    let e = run(&callee, caller, "async").expect_err("subtask.drop of a set");
    assert_eq!(trap_kind(&e), TrapKind::WrongAsyncHandle, "{e}");
    let caller = r#"
      (func (export "run")
        (local $ret i32)
        (local.set $ret (call $fa (i32.const 1) (i32.const 16)))
        (call $wsd (i32.shr_u (local.get $ret) (i32.const 4)))
        (call $tr (i32.const 0)))"#;
    let e = run(&callee, caller, "async").expect_err("waitable-set.drop of a subtask");
    assert_eq!(trap_kind(&e), TrapKind::WrongAsyncHandle, "{e}");
    let caller = r#"
      (func (export "run") (call $join (i32.const 99) (i32.const 0)) (call $tr (i32.const 0)))"#;
    let e = run(&callee, caller, "async").expect_err("join of no handle");
    assert_eq!(trap_kind(&e), TrapKind::InvalidHandle, "{e}");
}

#[test]
fn a_task_waiting_forever_is_a_deadlock_not_a_hang() {
    let callee = r#"
      (func (export "f") (param i32) (result i32)
        (i32.or (i32.const 2 (; WAIT ;)) (i32.shl (call $wsn) (i32.const 4))))
      (func (export "f_cb") (param i32 i32 i32) (result i32) unreachable)"#;
    let callee = format!("{callee}{CALLEE_REST}");
    let e = run(&callee, CALL_ASYNC_AND_WAIT, "async").expect_err("deadlock");
    assert_eq!(trap_kind(&e), TrapKind::Deadlock, "{e}");
}

#[test]
fn a_stackful_task_yielding_forever_runs_out_of_fuel() {
    let callee = r#"
      (func (export "f") (param i32) (result i32) unreachable)
      (func (export "f_cb") (param i32 i32 i32) (result i32) unreachable)
      (func (export "g") (param i32) (loop $l (drop (call $yield)) (br $l)))
      (func (export "h") (param i32) (result i32) unreachable)
      (func (export "h_cb") (param i32 i32 i32) (result i32) unreachable)
      (func (export "s") (param i32) (result i32) unreachable)
      (func (export "bp") unreachable)"#;
    let caller = r#"
      (func (export "run")
        (local $ret i32) (local $ws i32)
        (local.set $ret (call $ga (i32.const 5) (i32.const 16)))
        (local.set $ws (call $wsn))
        (call $join (i32.shr_u (local.get $ret) (i32.const 4)) (local.get $ws))
        (drop (call $wsw (local.get $ws) (i32.const 0)))
        (call $tr (i32.const 0)))"#;
    let wat = compose(callee, caller, "async");
    let mut config = Config::default();
    config.consume_fuel(true);
    let engine = Engine::new(&config);
    let c = load(&engine, &wat);
    let mut store = Store::new(&engine, ());
    store.set_fuel(200_000).expect("fuel");
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &c)
        .expect("instantiate");
    let f = instance.get_func(&mut store, "run").expect("run");
    let mut out = [Val::U32(0)];
    let e = f.call(&mut store, &[], &mut out).expect_err("fuel");
    assert_eq!(trap_kind(&e), TrapKind::OutOfFuel, "{e}");
}

#[test]
fn instances_are_left_when_their_tasks_suspend_and_end() {
    // Each `run` suspends in `$D` and `$C`; both are entered again by the
    // next call (a suspended or finished task holds no instance).
    let callee = format!("{F_YIELDS_ONCE}{CALLEE_REST}");
    let wat = compose(&callee, CALL_ASYNC_AND_WAIT, "async");
    let engine = Engine::default();
    let c = load(&engine, &wat);
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &c)
        .expect("instantiate");
    let f = instance.get_func(&mut store, "run").expect("run");
    for _ in 0..3 {
        let mut out = [Val::U32(0)];
        f.call(&mut store, &[], &mut out).expect("run again");
        assert_eq!(out[0], Val::U32(42));
    }
}

#[test]
fn starting_more_tasks_than_max_tasks_traps() {
    let callee = format!("{F_YIELDS_ONCE}{CALLEE_REST}");
    // Starts `f` 10 times without waiting: each stays a task in progress.
    let caller = r#"
      (func (export "run")
        (local $i i32)
        (loop $l
          (drop (call $fa (local.get $i) (i32.add (i32.const 64) (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 10))))
        (call $tr (i32.const 0)))"#;
    let wat = compose(&callee, caller, "async");
    for (max, ok) in [(11, true), (6, false)] {
        let mut config = Config::default();
        config.max_tasks(max);
        let engine = Engine::new(&config);
        let c = load(&engine, &wat);
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine)
            .instantiate(&mut store, &c)
            .expect("instantiate");
        let f = instance.get_func(&mut store, "run").expect("run");
        let mut out = [Val::U32(0)];
        let r = f.call(&mut store, &[], &mut out);
        if ok {
            r.expect("within the limit");
        } else {
            let e = r.expect_err("past the limit");
            assert_eq!(trap_kind(&e), TrapKind::LimitExceeded, "{e}");
            assert!(e.to_string().contains("max_tasks"), "{e}");
        }
    }
}

/// Three tasks of a stackful callee log, yield, log again; the scheduler
/// runs them in a fixed order (first ready, in the order they began to
/// wait), the same in every store: a replay schedules alike.
#[test]
fn the_schedule_is_fixed_and_replays_alike() {
    let wat = r#"(component
      (import "log" (func $log (param "x" u32)))
      (core module $Mem (memory (export "mem") 1))
      (core instance $mem (instantiate $Mem))
      (alias core export $mem "mem" (core memory $m))
      (component $C
        (import "log" (func $log (param "x" u32)))
        (core func $log (canon lower (func $log)))
        (canon thread.yield (core func $yield))
        (canon task.return (result u32) (core func $tr))
        (core module $CM
          (import "" "log" (func $log (param i32)))
          (import "" "yield" (func $yield (result i32)))
          (import "" "tr" (func $tr (param i32)))
          (func (export "g") (param $x i32)
            (call $log (local.get $x))
            (drop (call $yield))
            (call $log (i32.add (local.get $x) (i32.const 10)))
            (drop (call $yield))
            (call $log (i32.add (local.get $x) (i32.const 20)))
            (call $tr (local.get $x))))
        (core instance $ci (instantiate $CM (with "" (instance
          (export "log" (func $log)) (export "yield" (func $yield)) (export "tr" (func $tr))))))
        (func (export "g") async (param "x" u32) (result u32)
          (canon lift (core func $ci "g") async)))
      (instance $c (instantiate $C (with "log" (func $log))))
      (core func $ga (canon lower (func $c "g") async (memory $m)))
      (canon task.return (result u32) (core func $tr))
      (canon waitable-set.new (core func $wsn))
      (canon waitable-set.wait (memory $m) (core func $wsw))
      (canon waitable.join (core func $join))
      (canon subtask.drop (core func $sd))
      (core module $DM
        (import "" "mem" (memory 1))
        (import "" "ga" (func $ga (param i32 i32) (result i32)))
        (import "" "tr" (func $tr (param i32)))
        (import "" "wsn" (func $wsn (result i32)))
        (import "" "wsw" (func $wsw (param i32 i32) (result i32)))
        (import "" "join" (func $join (param i32 i32)))
        (import "" "sd" (func $sd (param i32)))
        (func (export "run")
          (local $ws i32) (local $i i32) (local $n i32) (local $sum i32)
          (local.set $ws (call $wsn))
          (loop $start
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (call $join
              (i32.shr_u
                (call $ga (local.get $i) (i32.add (i32.const 64) (i32.shl (local.get $i) (i32.const 2))))
                (i32.const 4))
              (local.get $ws))
            (br_if $start (i32.lt_u (local.get $i) (i32.const 3))))
          (loop $wait
            (drop (call $wsw (local.get $ws) (i32.const 0)))
            (if (i32.eq (i32.load (i32.const 4)) (i32.const 2 (; RETURNED ;)))
              (then
                (call $sd (i32.load (i32.const 0)))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))))
            (br_if $wait (i32.lt_u (local.get $n) (i32.const 3))))
          (local.set $sum (i32.add (i32.load (i32.const 68))
            (i32.add (i32.load (i32.const 72)) (i32.load (i32.const 76)))))
          (call $tr (local.get $sum))))
      (core instance $di (instantiate $DM (with "" (instance
        (export "mem" (memory $m)) (export "ga" (func $ga)) (export "tr" (func $tr))
        (export "wsn" (func $wsn)) (export "wsw" (func $wsw)) (export "join" (func $join))
        (export "sd" (func $sd))))))
      (func (export "run") async (result u32) (canon lift (core func $di "run") async)))"#;
    let schedule = || {
        let engine = Engine::default();
        let c = load(&engine, wat);
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut linker = Linker::<()>::new(&engine);
        let l = log.clone();
        linker
            .root()
            .func_new("log", move |_store, params, _results| {
                l.lock().unwrap().push(params[0].clone());
                Ok(())
            })
            .expect("define");
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &c).expect("instantiate");
        let f = instance.get_func(&mut store, "run").expect("run");
        let mut out = [Val::U32(0)];
        f.call(&mut store, &[], &mut out).expect("run");
        assert_eq!(out[0], Val::U32(6));
        let order: Vec<u32> = log
            .lock()
            .unwrap()
            .iter()
            .map(|v| match v {
                Val::U32(x) => *x,
                other => panic!("{other:?}"),
            })
            .collect();
        order
    };
    let first = schedule();
    // Each task runs until it yields as it is started; then the waiting
    // threads resume in the order they began to wait.
    assert_eq!(first, [1, 2, 3, 11, 12, 13, 21, 22, 23]);
    assert_eq!(schedule(), first);
}
