//! Resources: guest-defined and host-defined resource types, `own` and
//! `borrow` handles in every position (params, results, inside lists,
//! options, records and variants), handle-table indices, destructors,
//! every resource trap of the canonical ABI, and a create/use/drop loop
//! that shows the handle tables stay at their high-water mark.

mod common;

use common::*;
use componentry::*;

// ------------------------------------------------- guest-defined resource

/// A component defining resource `r` (with a destructor that counts its
/// calls and records the last rep) and `r2` (no destructor), with exports
/// that move handles in every position, and core functions that break
/// each handle rule.
const GUEST: &str = r#"(component
  (core module $Dtor
    (global $calls (mut i32) (i32.const 0))
    (global $last (mut i32) (i32.const -1))
    (func (export "dtor") (param i32)
      (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
      (global.set $last (local.get 0)))
    (func (export "calls") (result i32) (global.get $calls))
    (func (export "last") (result i32) (global.get $last)))
  (core instance $d (instantiate $Dtor))
  (type $r' (resource (rep i32) (dtor (core func $d "dtor"))))
  (export $r "r" (type $r'))
  (type $r2' (resource (rep i32)))
  (export $r2 "r2" (type $r2'))
  (canon resource.new $r' (core func $new))
  (canon resource.rep $r' (core func $rep))
  (canon resource.drop $r' (core func $drop))
  (canon resource.rep $r2' (core func $rep2))
  (canon resource.drop $r2' (core func $drop2))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "rep" (func $rep (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (import "" "rep2" (func $rep2 (param i32) (result i32)))
    (import "" "drop2" (func $drop2 (param i32)))
    LIBC_LOGGED
    (func $consume (param $h i32) (result i32)
      (local $rep i32)
      (local.set $rep (call $rep (local.get $h)))
      (call $drop (local.get $h))
      (local.get $rep))
    ;; exports for the host
    (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
    (func (export "get") (param $rep i32) (result i32) (local.get $rep))
    (func (export "add") (param $rep i32) (param $n i32) (result i32)
      (i32.add (local.get $rep) (local.get $n)))
    (func (export "twice") (param i32) (result i32)
      (call $new (i32.mul (local.get 0) (i32.const 2))))
    (func (export "consume") (param $h i32) (result i32) (call $consume (local.get $h)))
    (func (export "keep") (param $h i32) (result i32) (local.get $h))
    (func (export "sum-list") (param $ptr i32) (param $len i32) (result i32)
      (local $i i32) (local $sum i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
          (local.set $sum (i32.add (local.get $sum)
            (call $consume (i32.load (i32.add (local.get $ptr)
                                              (i32.shl (local.get $i) (i32.const 2)))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (local.get $sum))
    (func (export "peek-opt") (param $disc i32) (param $rep i32) (result i32)
      (if (result i32) (local.get $disc) (then (local.get $rep)) (else (i32.const 0))))
    (func (export "take-variant") (param $disc i32) (param $h i32) (result i32)
      (if (result i32) (i32.eq (local.get $disc) (i32.const 1))
        (then (call $consume (local.get $h)))
        (else (i32.const 0))))
    (func (export "make-rec") (param $rep i32) (param $tag i32) (result i32)
      (i32.store (i32.const 16) (call $new (local.get $rep)))
      (i32.store (i32.const 20) (local.get $tag))
      (i32.const 16))
    (func (export "make-list") (param $n i32) (result i32)
      (local $i i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (i32.store (i32.add (i32.const 256) (i32.shl (local.get $i) (i32.const 2)))
            (call $new (i32.add (local.get $i) (i32.const 1))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (i32.store (i32.const 16) (i32.const 256))
      (i32.store (i32.const 20) (local.get $n))
      (i32.const 16))
    ;; handle indices: returns the index of every `resource.new`
    (func (export "indices") (result i32)
      (i32.store (i32.const 256) (call $new (i32.const 100)))
      (i32.store (i32.const 260) (call $new (i32.const 200)))
      (i32.store (i32.const 264) (call $new (i32.const 300)))
      (call $drop (i32.const 2))
      (i32.store (i32.const 268) (call $new (i32.const 400)))
      (i32.store (i32.const 272) (call $rep (i32.const 2)))
      (call $drop (i32.const 1))
      (call $drop (i32.const 2))
      (call $drop (i32.const 3))
      (i32.store (i32.const 276) (call $new (i32.const 500)))
      (i32.store (i32.const 280) (call $new (i32.const 600)))
      (i32.store (i32.const 284) (call $new (i32.const 700)))
      (i32.store (i32.const 288) (call $rep (i32.const 1)))
      (i32.store (i32.const 292) (call $new (i32.const 800)))
      (i32.store (i32.const 16) (i32.const 256))
      (i32.store (i32.const 20) (i32.const 10))
      (i32.const 16))
    (func (export "new-drop") (param $rep i32) (call $drop (call $new (local.get $rep))))
    ;; traps
    (func (export "drop-unknown") (call $drop (i32.const 5)))
    (func (export "drop-twice")
      (local $h i32)
      (local.set $h (call $new (i32.const 1)))
      (call $drop (local.get $h))
      (call $drop (local.get $h)))
    (func (export "rep-zero") (drop (call $rep (i32.const 0))))
    (func (export "rep-dropped")
      (local $h i32)
      (local.set $h (call $new (i32.const 1)))
      (call $drop (local.get $h))
      (drop (call $rep (local.get $h))))
    (func (export "drop-as-r2") (call $drop2 (call $new (i32.const 1))))
    (func (export "rep-as-r2") (drop (call $rep2 (call $new (i32.const 1)))))
    (func (export "return-as-r2") (result i32) (call $new (i32.const 1)))
    (func (export "return-unknown") (result i32) (i32.const 7))
    ;; may_leave: resource.new / resource.drop in post-return and realloc
    (global $pending (mut i32) (i32.const 0))
    (func (export "answer") (result i32)
      (global.set $pending (call $new (i32.const 9)))
      (i32.const 42))
    (func (export "pr-new") (param i32) (drop (call $new (i32.const 1))))
    (func (export "pr-drop") (param i32) (call $drop (global.get $pending)))
    (func (export "pr-rep") (param i32)
      (if (i32.ne (call $rep (global.get $pending)) (i32.const 9)) (then unreachable)))
    (func (export "realloc-new") (param i32 i32 i32 i32) (result i32)
      (drop (call $new (i32.const 1)))
      (i32.const 2048))
    (func (export "realloc-drop") (param i32 i32 i32 i32) (result i32)
      (call $drop (global.get $pending))
      (i32.const 2048))
    (func (export "take-string") (param i32 i32)))
  (core instance $i (instantiate $m (with "" (instance
    (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))
    (export "rep2" (func $rep2)) (export "drop2" (func $drop2))))))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))

  (func (export "[constructor]r") (param "rep" u32) (result (own $r))
    (canon lift (core func $i "make")))
  (func (export "[method]r.get") (param "self" (borrow $r)) (result u32)
    (canon lift (core func $i "get")))
  (func (export "[method]r.add") (param "self" (borrow $r)) (param "n" u32) (result u32)
    (canon lift (core func $i "add")))
  (func (export "[static]r.twice") (param "rep" u32) (result (own $r))
    (canon lift (core func $i "twice")))
  (func (export "make") (param "rep" u32) (result (own $r)) (canon lift (core func $i "make")))
  (func (export "rep-of") (param "x" (borrow $r)) (result u32) (canon lift (core func $i "get")))
  (func (export "consume") (param "x" (own $r)) (result u32) (canon lift (core func $i "consume")))
  (func (export "keep") (param "x" (own $r)) (result u32) (canon lift (core func $i "keep")))
  (func (export "sum-list") (param "xs" (list (own $r))) (result u32)
    (canon lift (core func $i "sum-list") (memory $mem) (realloc $realloc)))
  (func (export "peek-opt") (param "x" (option (borrow $r))) (result u32)
    (canon lift (core func $i "peek-opt")))
  (type $v (variant (case "none") (case "one" (own $r))))
  (export $v' "v" (type $v))
  (func (export "take-variant") (param "x" $v') (result u32)
    (canon lift (core func $i "take-variant")))
  (type $rec (record (field "res" (own $r)) (field "tag" u32)))
  (export $rec' "rec" (type $rec))
  (func (export "make-rec") (param "rep" u32) (param "tag" u32) (result $rec')
    (canon lift (core func $i "make-rec") (memory $mem)))
  (func (export "make-list") (param "n" u32) (result (list (own $r)))
    (canon lift (core func $i "make-list") (memory $mem)))
  (func (export "indices") (result (list u32)) (canon lift (core func $i "indices") (memory $mem)))
  (func (export "new-drop") (param "rep" u32) (canon lift (core func $i "new-drop")))
  (func (export "drop-unknown") (canon lift (core func $i "drop-unknown")))
  (func (export "drop-twice") (canon lift (core func $i "drop-twice")))
  (func (export "rep-zero") (canon lift (core func $i "rep-zero")))
  (func (export "rep-dropped") (canon lift (core func $i "rep-dropped")))
  (func (export "drop-as-r2") (canon lift (core func $i "drop-as-r2")))
  (func (export "rep-as-r2") (canon lift (core func $i "rep-as-r2")))
  (func (export "return-as-r2") (result (own $r2)) (canon lift (core func $i "return-as-r2")))
  (func (export "return-unknown") (result (own $r)) (canon lift (core func $i "return-unknown")))
  (func (export "new-in-post-return") (result u32)
    (canon lift (core func $i "answer") (post-return (core func $i "pr-new"))))
  (func (export "drop-in-post-return") (result u32)
    (canon lift (core func $i "answer") (post-return (core func $i "pr-drop"))))
  (func (export "rep-in-post-return") (result u32)
    (canon lift (core func $i "answer") (post-return (core func $i "pr-rep"))))
  (func (export "answer") (result u32) (canon lift (core func $i "answer")))
  (func (export "new-in-realloc") (param "s" string)
    (canon lift (core func $i "take-string") (memory $mem) (realloc (core func $i "realloc-new"))))
  (func (export "drop-in-realloc") (param "s" string)
    (canon lift (core func $i "take-string") (memory $mem) (realloc (core func $i "realloc-drop"))))
  (func (export "dtor-calls") (result u32) (canon lift (core func $d "calls")))
  (func (export "dtor-last") (result u32) (canon lift (core func $d "last")))
)"#;

fn guest() -> (Store<()>, Instance) {
    instantiate(&GUEST.replace("LIBC_LOGGED", LIBC_LOGGED))
}

fn dtor_calls(store: &mut Store<()>, inst: &Instance) -> u32 {
    call_u32(store, inst, "dtor-calls", &[])
}

#[test]
fn handle_indices_start_at_1_and_freed_slots_are_reused_last_in_first_out() {
    let (mut store, inst) = guest();
    let v = call(&mut store, &inst, "indices", &[]).unwrap().unwrap();
    // new×3 → 1 2 3; drop 2; new → 2 (rep 400); drop 1 2 3; new×3 → 3 2 1
    // (rep of 1 is 700); new → 4.
    assert_eq!(u32s(&v), vec![1, 2, 3, 2, 400, 3, 2, 1, 700, 4]);
}

#[test]
fn own_result_and_own_param_move_a_guest_resource_through_the_host() {
    let (mut store, inst) = guest();
    let r = call_resource(&mut store, &inst, "make", &[Val::U32(7)]);
    assert!(r.owned());
    assert_eq!(
        call_u32(&mut store, &inst, "consume", &[Val::Resource(r)]),
        7
    );
    assert_eq!(dtor_calls(&mut store, &inst), 1);
}

#[test]
fn own_param_consumes_the_hosts_handle() {
    let (mut store, inst) = guest();
    let r = call_resource(&mut store, &inst, "make", &[Val::U32(7)]);
    call(&mut store, &inst, "consume", &[Val::Resource(r)]).unwrap();
    let again = call(&mut store, &inst, "consume", &[Val::Resource(r)]);
    assert!(matches!(again, Err(ref e) if !e.is_trap()), "{again:?}");
    assert!(r.resource_drop(&mut store).is_err());
}

#[test]
fn own_handles_lowered_into_the_guest_fill_freed_slots_before_growing() {
    let (mut store, inst) = guest();
    // `make` allocates index 1 and moves it out (freeing it); `keep`
    // returns the index its own param landed at, without dropping it.
    let a = call_resource(&mut store, &inst, "make", &[Val::U32(1)]);
    let b = call_resource(&mut store, &inst, "make", &[Val::U32(2)]);
    assert_eq!(call_u32(&mut store, &inst, "keep", &[Val::Resource(a)]), 1);
    assert_eq!(call_u32(&mut store, &inst, "keep", &[Val::Resource(b)]), 2);
}

#[test]
fn borrow_param_gives_the_implementer_the_rep_and_leaves_the_handle_owned() {
    let (mut store, inst) = guest();
    let r = call_resource(&mut store, &inst, "make", &[Val::U32(33)]);
    assert_eq!(
        call_u32(&mut store, &inst, "rep-of", &[Val::Resource(r)]),
        33
    );
    assert_eq!(
        call_u32(&mut store, &inst, "rep-of", &[Val::Resource(r)]),
        33
    );
    assert_eq!(dtor_calls(&mut store, &inst), 0);
    assert_eq!(
        call_u32(&mut store, &inst, "consume", &[Val::Resource(r)]),
        33
    );
}

#[test]
fn list_of_own_param_moves_every_handle_into_the_guest() {
    let (mut store, inst) = guest();
    let rs: Vec<Val> = [10, 20, 30]
        .iter()
        .map(|&n| Val::Resource(call_resource(&mut store, &inst, "make", &[Val::U32(n)])))
        .collect();
    assert_eq!(
        call_u32(&mut store, &inst, "sum-list", &[Val::List(rs.clone())]),
        60
    );
    assert_eq!(dtor_calls(&mut store, &inst), 3);
    for r in rs {
        let Val::Resource(r) = r else { unreachable!() };
        assert!(
            r.resource_drop(&mut store).is_err(),
            "moved handle still usable"
        );
    }
}

#[test]
fn option_of_borrow_param_some_gives_the_rep_and_none_gives_nothing() {
    let (mut store, inst) = guest();
    let r = call_resource(&mut store, &inst, "make", &[Val::U32(44)]);
    let some = Val::Option(Some(Box::new(Val::Resource(r))));
    assert_eq!(call_u32(&mut store, &inst, "peek-opt", &[some]), 44);
    assert_eq!(
        call_u32(&mut store, &inst, "peek-opt", &[Val::Option(None)]),
        0
    );
    // The borrow did not consume the handle.
    r.resource_drop(&mut store).unwrap();
    assert_eq!(call_u32(&mut store, &inst, "dtor-last", &[]), 44);
}

#[test]
fn variant_param_with_own_payload_moves_the_handle() {
    let (mut store, inst) = guest();
    let r = call_resource(&mut store, &inst, "make", &[Val::U32(5)]);
    let one = Val::Variant("one".into(), Some(Box::new(Val::Resource(r))));
    assert_eq!(call_u32(&mut store, &inst, "take-variant", &[one]), 5);
    let none = Val::Variant("none".into(), None);
    assert_eq!(call_u32(&mut store, &inst, "take-variant", &[none]), 0);
    assert_eq!(dtor_calls(&mut store, &inst), 1);
    assert!(r.resource_drop(&mut store).is_err());
}

#[test]
fn record_result_with_own_field_gives_the_host_an_owned_handle() {
    let (mut store, inst) = guest();
    let v = call(&mut store, &inst, "make-rec", &[Val::U32(12), Val::U32(3)])
        .unwrap()
        .unwrap();
    let Val::Record(fields) = v else {
        panic!("not a record: {v:?}")
    };
    assert_eq!(fields[0].0, "res");
    assert_eq!(fields[1], ("tag".into(), Val::U32(3)));
    let Val::Resource(r) = fields[0].1 else {
        panic!("not a resource: {:?}", fields[0].1)
    };
    assert!(r.owned());
    assert_eq!(
        call_u32(&mut store, &inst, "rep-of", &[Val::Resource(r)]),
        12
    );
}

#[test]
fn list_of_own_result_gives_the_host_every_handle() {
    let (mut store, inst) = guest();
    let v = call(&mut store, &inst, "make-list", &[Val::U32(3)])
        .unwrap()
        .unwrap();
    let Val::List(items) = v else {
        panic!("not a list: {v:?}")
    };
    let reps: Vec<u32> = items
        .iter()
        .map(|x| call_u32(&mut store, &inst, "rep-of", std::slice::from_ref(x)))
        .collect();
    assert_eq!(reps, vec![1, 2, 3]);
    // The guest's table gave all three away: a new handle reuses index 3.
    let again = call(&mut store, &inst, "indices", &[]).unwrap().unwrap();
    assert_eq!(u32s(&again)[0], 3);
}

// ---------------------------------------- constructor, method, static

#[test]
fn host_calls_the_constructor_export_of_a_guest_resource() {
    let (mut store, inst) = guest();
    let r = call_resource(&mut store, &inst, "[constructor]r", &[Val::U32(21)]);
    assert!(r.owned());
    assert_eq!(
        call_u32(&mut store, &inst, "rep-of", &[Val::Resource(r)]),
        21
    );
}

#[test]
fn host_calls_method_exports_of_a_guest_resource_with_self_borrowed() {
    let (mut store, inst) = guest();
    let r = call_resource(&mut store, &inst, "[constructor]r", &[Val::U32(21)]);
    assert_eq!(
        call_u32(&mut store, &inst, "[method]r.get", &[Val::Resource(r)]),
        21
    );
    assert_eq!(
        call_u32(
            &mut store,
            &inst,
            "[method]r.add",
            &[Val::Resource(r), Val::U32(100)]
        ),
        121
    );
    // `self` was borrowed: the host still owns the resource.
    r.resource_drop(&mut store).unwrap();
    assert_eq!(dtor_calls(&mut store, &inst), 1);
}

#[test]
fn host_calls_the_static_export_of_a_guest_resource() {
    let (mut store, inst) = guest();
    let r = call_resource(&mut store, &inst, "[static]r.twice", &[Val::U32(8)]);
    assert_eq!(
        call_u32(&mut store, &inst, "[method]r.get", &[Val::Resource(r)]),
        16
    );
}

// ------------------------------------------------------------ destructors

#[test]
fn guest_dropping_its_own_handle_runs_the_destructor_with_the_rep() {
    let (mut store, inst) = guest();
    call(&mut store, &inst, "new-drop", &[Val::U32(77)]).unwrap();
    assert_eq!(dtor_calls(&mut store, &inst), 1);
    assert_eq!(call_u32(&mut store, &inst, "dtor-last", &[]), 77);
}

#[test]
fn host_resource_drop_of_a_guest_resource_runs_the_guest_destructor() {
    let (mut store, inst) = guest();
    let r = call_resource(&mut store, &inst, "make", &[Val::U32(55)]);
    assert_eq!(dtor_calls(&mut store, &inst), 0);
    r.resource_drop(&mut store).unwrap();
    assert_eq!(dtor_calls(&mut store, &inst), 1);
    assert_eq!(call_u32(&mut store, &inst, "dtor-last", &[]), 55);
}

#[test]
fn resource_drop_twice_is_an_error_and_runs_the_destructor_once() {
    let (mut store, inst) = guest();
    let r = call_resource(&mut store, &inst, "make", &[Val::U32(55)]);
    r.resource_drop(&mut store).unwrap();
    assert!(r.resource_drop(&mut store).is_err());
    assert_eq!(dtor_calls(&mut store, &inst), 1);
}

#[derive(Default)]
struct Pending {
    handle: Option<ResourceAny>,
    outcome: Option<Result<()>>,
}

/// The destructor of a guest resource is a call into its implementer: the
/// host dropping it while the implementer is on the stack is reentrance.
#[test]
fn host_dropping_a_guest_resource_while_its_implementer_is_on_the_stack_traps_cannot_enter() {
    let wat = r#"(component
      (import "cb" (func $cb))
      (core module $Dtor
        (global $calls (mut i32) (i32.const 0))
        (func (export "dtor") (param i32)
          (global.set $calls (i32.add (global.get $calls) (i32.const 1))))
        (func (export "calls") (result i32) (global.get $calls)))
      (core instance $d (instantiate $Dtor))
      (type $r' (resource (rep i32) (dtor (core func $d "dtor"))))
      (export $r "r" (type $r'))
      (canon resource.new $r' (core func $new))
      (core func $cb' (canon lower (func $cb)))
      (core module $m
        (import "" "new" (func $new (param i32) (result i32)))
        (import "" "cb" (func $cb))
        (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
        (func (export "run") (call $cb)))
      (core instance $i (instantiate $m (with "" (instance
        (export "new" (func $new)) (export "cb" (func $cb'))))))
      (func (export "make") (param "rep" u32) (result (own $r)) (canon lift (core func $i "make")))
      (func (export "run") (canon lift (core func $i "run")))
      (func (export "dtor-calls") (result u32) (canon lift (core func $d "calls")))
    )"#;
    let engine = Engine::default();
    let mut linker = Linker::<Pending>::new(&engine);
    linker
        .root()
        .func_new("cb", |mut cx, _params, _results| {
            let r = cx.data_mut().handle.take().expect("no handle");
            let outcome = r.resource_drop(&mut cx);
            cx.data_mut().outcome = Some(outcome.clone());
            outcome
        })
        .unwrap();
    let (mut store, inst) = instantiate_with(&engine, &linker, wat, Pending::default());
    let r = call_resource(&mut store, &inst, "make", &[Val::U32(1)]);
    store.data_mut().handle = Some(r);
    assert_trap(call(&mut store, &inst, "run", &[]), TrapKind::CannotEnter);
    let outcome = store.data_mut().outcome.take().expect("cb was not called");
    assert_trap(outcome, TrapKind::CannotEnter);
}

// ------------------------------------------------------------ guest traps

#[test]
fn dropping_a_never_allocated_handle_traps_invalid_handle() {
    let (mut store, inst) = guest();
    assert_trap(
        call(&mut store, &inst, "drop-unknown", &[]),
        TrapKind::InvalidHandle,
    );
}

#[test]
fn dropping_a_handle_twice_traps_invalid_handle() {
    let (mut store, inst) = guest();
    assert_trap(
        call(&mut store, &inst, "drop-twice", &[]),
        TrapKind::InvalidHandle,
    );
}

#[test]
fn rep_of_handle_0_traps_invalid_handle() {
    let (mut store, inst) = guest();
    assert_trap(
        call(&mut store, &inst, "rep-zero", &[]),
        TrapKind::InvalidHandle,
    );
}

#[test]
fn rep_of_a_dropped_handle_traps_invalid_handle() {
    let (mut store, inst) = guest();
    assert_trap(
        call(&mut store, &inst, "rep-dropped", &[]),
        TrapKind::InvalidHandle,
    );
}

#[test]
fn returning_an_unknown_handle_as_own_traps_invalid_handle() {
    let (mut store, inst) = guest();
    assert_trap(
        call(&mut store, &inst, "return-unknown", &[]),
        TrapKind::InvalidHandle,
    );
}

#[test]
fn dropping_a_handle_as_another_resource_type_traps_wrong_resource_type() {
    let (mut store, inst) = guest();
    assert_trap(
        call(&mut store, &inst, "drop-as-r2", &[]),
        TrapKind::WrongResourceType,
    );
}

#[test]
fn rep_of_a_handle_as_another_resource_type_traps_wrong_resource_type() {
    let (mut store, inst) = guest();
    assert_trap(
        call(&mut store, &inst, "rep-as-r2", &[]),
        TrapKind::WrongResourceType,
    );
}

#[test]
fn returning_a_handle_as_another_resource_type_traps_wrong_resource_type() {
    let (mut store, inst) = guest();
    assert_trap(
        call(&mut store, &inst, "return-as-r2", &[]),
        TrapKind::WrongResourceType,
    );
}

#[test]
fn resource_new_in_post_return_traps_cannot_leave() {
    let (mut store, inst) = guest();
    assert_trap(
        call(&mut store, &inst, "new-in-post-return", &[]),
        TrapKind::CannotLeave,
    );
}

#[test]
fn resource_drop_in_post_return_traps_cannot_leave() {
    let (mut store, inst) = guest();
    assert_trap(
        call(&mut store, &inst, "drop-in-post-return", &[]),
        TrapKind::CannotLeave,
    );
}

#[test]
fn resource_rep_in_post_return_is_allowed() {
    let (mut store, inst) = guest();
    assert_eq!(call_u32(&mut store, &inst, "rep-in-post-return", &[]), 42);
}

#[test]
fn resource_new_in_realloc_traps_cannot_leave() {
    let (mut store, inst) = guest();
    assert_trap(
        call(
            &mut store,
            &inst,
            "new-in-realloc",
            &[Val::String("hi".into())],
        ),
        TrapKind::CannotLeave,
    );
}

#[test]
fn resource_drop_in_realloc_traps_cannot_leave() {
    let (mut store, inst) = guest();
    assert_eq!(call_u32(&mut store, &inst, "answer", &[]), 42);
    assert_trap(
        call(
            &mut store,
            &inst,
            "drop-in-realloc",
            &[Val::String("hi".into())],
        ),
        TrapKind::CannotLeave,
    );
}

// --------------------------------------------------- host-defined resource

/// The host's resource type `h`: values in a [`ResourceTable`].
struct H;

#[derive(Default)]
struct HostData {
    table: ResourceTable<u32>,
    /// Reps whose destructor ran.
    dropped: Vec<u32>,
    /// The largest rep the constructor handed out.
    max_rep: u32,
    /// A borrowed handle a host function kept past its call.
    kept: Option<ResourceAny>,
}

fn arg_u32(v: &Val) -> Result<u32> {
    match v {
        Val::U32(n) => Ok(*n),
        other => Err(Error::host(format!("expected u32, got {other:?}"))),
    }
}

fn arg_resource(v: &Val) -> Result<ResourceAny> {
    match v {
        Val::Resource(r) => Ok(*r),
        other => Err(Error::host(format!("expected a resource, got {other:?}"))),
    }
}

/// A new `h` holding `value`, as an owned handle for a dynamic call.
fn new_h(cx: &mut StoreContextMut<'_, HostData>, value: u32) -> Result<Val> {
    let r: Resource<H> = cx.data_mut().table.push(value)?;
    let d = cx.data_mut();
    d.max_rep = d.max_rep.max(r.rep());
    Ok(Val::Resource(ResourceAny::try_from_resource(r, cx)?))
}

/// Defines `h` with `[constructor]h`, `[method]h.get`, `[static]h.make`
/// (value × 10), `take: func(own<h>)` and `both: func(borrow<h>, own<h>)`
/// at the root of a linker.
fn host_linker(engine: &Engine) -> Linker<HostData> {
    let mut linker = Linker::<HostData>::new(engine);
    let mut root = linker.root();
    root.resource("h", ResourceType::host::<H>(), |mut cx, rep| {
        cx.data_mut().table.delete(Resource::<H>::new_own(rep))?;
        cx.data_mut().dropped.push(rep);
        Ok(())
    })
    .unwrap();
    root.func_new("[constructor]h", |mut cx, params, results| {
        results[0] = new_h(&mut cx, arg_u32(&params[0])?)?;
        Ok(())
    })
    .unwrap();
    root.func_new("[method]h.get", |mut cx, params, results| {
        let any = arg_resource(&params[0])?;
        if any.owned() {
            return Err(Error::host("self is not borrowed"));
        }
        let r: Resource<H> = any.try_into_resource(&mut cx)?;
        results[0] = Val::U32(*cx.data().table.get(&r)?);
        Ok(())
    })
    .unwrap();
    root.func_new("[static]h.make", |mut cx, params, results| {
        results[0] = new_h(&mut cx, arg_u32(&params[0])? * 10)?;
        Ok(())
    })
    .unwrap();
    root.func_new("take", |mut cx, params, _results| {
        let r: Resource<H> = arg_resource(&params[0])?.try_into_resource(&mut cx)?;
        let rep = r.rep();
        cx.data_mut().table.delete(r)?;
        cx.data_mut().dropped.push(rep);
        Ok(())
    })
    .unwrap();
    root.func_new("both", |_cx, _params, _results| Ok(()))
        .unwrap();
    root.func_new("keep-borrow", |mut cx, params, _results| {
        cx.data_mut().kept = Some(arg_resource(&params[0])?);
        Ok(())
    })
    .unwrap();
    linker
}

/// A component importing the host resource `h` and its functions.
const HOST_USER: &str = r#"(component
  (import "h" (type $h (sub resource)))
  (import "[constructor]h" (func $h-new (param "v" u32) (result (own $h))))
  (import "[method]h.get" (func $h-get (param "self" (borrow $h)) (result u32)))
  (import "[static]h.make" (func $h-make (param "v" u32) (result (own $h))))
  (import "take" (func $take (param "x" (own $h))))
  (import "both" (func $both (param "b" (borrow $h)) (param "o" (own $h))))
  (import "keep-borrow" (func $keep-borrow (param "b" (borrow $h))))
  (canon resource.drop $h (core func $h-drop))
  (core func $h-new' (canon lower (func $h-new)))
  (core func $h-get' (canon lower (func $h-get)))
  (core func $h-make' (canon lower (func $h-make)))
  (core func $take' (canon lower (func $take)))
  (core func $both' (canon lower (func $both)))
  (core func $keep-borrow' (canon lower (func $keep-borrow)))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "get" (func $get (param i32) (result i32)))
    (import "" "make" (func $make (param i32) (result i32)))
    (import "" "take" (func $take (param i32)))
    (import "" "both" (func $both (param i32 i32)))
    (import "" "keep-borrow" (func $keep-borrow (param i32)))
    (import "" "drop" (func $drop (param i32)))
    LIBC_LOGGED
    ;; (handle index, value) of a new `h` made by `$ctor`, then dropped
    (func $use (param $h i32) (result i32)
      (i32.store (i32.const 16) (local.get $h))
      (i32.store (i32.const 20) (call $get (local.get $h)))
      (call $drop (local.get $h))
      (i32.const 16))
    (func (export "use-constructor") (param $v i32) (result i32)
      (call $use (call $new (local.get $v))))
    (func (export "use-static") (param $v i32) (result i32)
      (call $use (call $make (local.get $v))))
    (func (export "get-then-keep") (param $v i32) (result i32)
      (local $h i32)
      (local.set $h (call $new (local.get $v)))
      (call $get (local.get $h)))
    (func (export "drop-handle") (param $h i32) (call $drop (local.get $h)))
    (func (export "get-and-drop") (param $h i32) (result i32)
      (call $get (local.get $h))
      (call $drop (local.get $h)))
    (func (export "ignore-handle") (param $h i32))
    (func (export "borrow-list") (param $ptr i32) (param $len i32) (result i32)
      (local $i i32) (local $h i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
          (local.set $h (i32.load (i32.add (local.get $ptr) (i32.shl (local.get $i) (i32.const 2)))))
          (i32.store (i32.add (i32.const 256) (i32.shl (local.get $i) (i32.const 2))) (local.get $h))
          (call $drop (local.get $h))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (i32.store (i32.const 16) (i32.const 256))
      (i32.store (i32.const 20) (local.get $len))
      (i32.const 16))
    (func (export "make-own") (param $v i32) (result i32) (call $new (local.get $v)))
    (func (export "give") (param $v i32) (result i32)
      (call $take (call $new (local.get $v)))
      (call $new (i32.const 0)))
    (func (export "take-unknown") (call $take (i32.const 9)))
    (func (export "borrow-unknown") (drop (call $get (i32.const 9))))
    (func (export "take-borrow") (param $b i32) (call $take (local.get $b)))
    (func (export "lend-and-move") (param $v i32)
      (local $h i32)
      (local.set $h (call $new (local.get $v)))
      (call $both (local.get $h) (local.get $h)))
    (func (export "keep-borrow") (param $v i32)
      (local $h i32)
      (local.set $h (call $new (local.get $v)))
      (call $keep-borrow (local.get $h))
      (call $drop (local.get $h)))
    (func (export "churn") (param $n i32) (result i32)
      (local $i i32) (local $h i32) (local $max i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $h (call $new (local.get $i)))
          (if (i32.gt_u (local.get $h) (local.get $max)) (then (local.set $max (local.get $h))))
          (if (i32.ne (call $get (local.get $h)) (local.get $i)) (then unreachable))
          (call $drop (local.get $h))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (local.get $max)))
  (core instance $i (instantiate $m (with "" (instance
    (export "new" (func $h-new')) (export "get" (func $h-get')) (export "make" (func $h-make'))
    (export "take" (func $take')) (export "both" (func $both'))
    (export "keep-borrow" (func $keep-borrow')) (export "drop" (func $h-drop))))))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  (func (export "use-constructor") (param "v" u32) (result (tuple u32 u32))
    (canon lift (core func $i "use-constructor") (memory $mem)))
  (func (export "use-static") (param "v" u32) (result (tuple u32 u32))
    (canon lift (core func $i "use-static") (memory $mem)))
  (func (export "get-then-keep") (param "v" u32) (result u32)
    (canon lift (core func $i "get-then-keep")))
  (func (export "drop-own") (param "x" (own $h)) (canon lift (core func $i "drop-handle")))
  (func (export "drop-borrow") (param "x" (borrow $h)) (canon lift (core func $i "drop-handle")))
  (func (export "get-borrow") (param "x" (borrow $h)) (result u32)
    (canon lift (core func $i "get-and-drop")))
  (func (export "ignore-borrow") (param "x" (borrow $h)) (canon lift (core func $i "ignore-handle")))
  (func (export "borrow-list") (param "xs" (list (borrow $h))) (result (list u32))
    (canon lift (core func $i "borrow-list") (memory $mem) (realloc $realloc)))
  (func (export "give") (param "v" u32) (result u32) (canon lift (core func $i "give")))
  (func (export "make-own") (param "v" u32) (result (own $h)) (canon lift (core func $i "make-own")))
  (func (export "take-unknown") (canon lift (core func $i "take-unknown")))
  (func (export "borrow-unknown") (canon lift (core func $i "borrow-unknown")))
  (func (export "take-borrow") (param "x" (borrow $h)) (canon lift (core func $i "take-borrow")))
  (func (export "lend-and-move") (param "v" u32) (canon lift (core func $i "lend-and-move")))
  (func (export "borrow-to-host") (param "v" u32) (canon lift (core func $i "keep-borrow")))
  (func (export "churn") (param "n" u32) (result u32) (canon lift (core func $i "churn")))
)"#;

fn host_user() -> (Store<HostData>, Instance) {
    let engine = Engine::default();
    let linker = host_linker(&engine);
    instantiate_with(
        &engine,
        &linker,
        &HOST_USER.replace("LIBC_LOGGED", LIBC_LOGGED),
        HostData::default(),
    )
}

fn pair(v: Option<Val>) -> (u32, u32) {
    match v {
        Some(Val::Tuple(vs)) => match vs.as_slice() {
            [Val::U32(a), Val::U32(b)] => (*a, *b),
            other => panic!("not a pair: {other:?}"),
        },
        other => panic!("not a pair: {other:?}"),
    }
}

/// An owned host handle to a new `h` holding `value`, made by the host.
fn host_h(store: &mut Store<HostData>, value: u32) -> (u32, ResourceAny) {
    let r: Resource<H> = store.data_mut().table.push(value).unwrap();
    let any = ResourceAny::try_from_resource(r, &mut *store).unwrap();
    (r.rep(), any)
}

#[test]
fn guest_constructs_a_host_resource_and_calls_its_method() {
    let (mut store, inst) = host_user();
    let (handle, value) = pair(call(&mut store, &inst, "use-constructor", &[Val::U32(7)]).unwrap());
    assert_eq!((handle, value), (1, 7));
    // The guest dropped its handle: the host destructor emptied the table.
    assert_eq!(store.data().dropped, vec![1]);
}

#[test]
fn guest_calls_a_static_host_function_returning_an_own_handle() {
    let (mut store, inst) = host_user();
    let (handle, value) = pair(call(&mut store, &inst, "use-static", &[Val::U32(4)]).unwrap());
    assert_eq!((handle, value), (1, 40));
    assert_eq!(store.data().dropped.len(), 1);
}

#[test]
fn host_method_receives_self_as_a_borrow_and_the_guest_keeps_its_handle() {
    let (mut store, inst) = host_user();
    assert_eq!(
        call_u32(&mut store, &inst, "get-then-keep", &[Val::U32(3)]),
        3
    );
    // The guest still owns it: no destructor ran.
    assert!(store.data().dropped.is_empty());
}

#[test]
fn guest_dropping_an_owned_host_resource_runs_the_host_destructor() {
    let (mut store, inst) = host_user();
    let (rep, any) = host_h(&mut store, 11);
    call(&mut store, &inst, "drop-own", &[Val::Resource(any)]).unwrap();
    assert_eq!(store.data().dropped, vec![rep]);
    assert!(store
        .data()
        .table
        .get(&Resource::<H>::new_own(rep))
        .is_err());
}

#[test]
fn guest_dropping_a_borrowed_host_resource_does_not_run_the_destructor() {
    let (mut store, inst) = host_user();
    let (rep, any) = host_h(&mut store, 11);
    call(&mut store, &inst, "drop-borrow", &[Val::Resource(any)]).unwrap();
    assert!(store.data().dropped.is_empty());
    assert_eq!(
        store.data().table.get(&Resource::<H>::new_own(rep)),
        Ok(&11)
    );
}

#[test]
fn borrowed_host_resource_passed_by_the_host_reaches_the_host_method() {
    let (mut store, inst) = host_user();
    let (_, any) = host_h(&mut store, 23);
    assert_eq!(
        call_u32(&mut store, &inst, "get-borrow", &[Val::Resource(any)]),
        23
    );
    // Lending did not move it: the host still owns it.
    any.resource_drop(&mut store).unwrap();
}

#[test]
fn host_resource_drop_of_a_host_resource_runs_the_linker_destructor() {
    let (mut store, _inst) = host_user();
    let (rep, any) = host_h(&mut store, 5);
    any.resource_drop(&mut store).unwrap();
    assert_eq!(store.data().dropped, vec![rep]);
}

#[test]
fn list_of_borrow_params_become_borrow_handles_reused_last_in_first_out() {
    let (mut store, inst) = host_user();
    let (_, a) = host_h(&mut store, 1);
    let (_, b) = host_h(&mut store, 2);
    let list = Val::List(vec![Val::Resource(a), Val::Resource(b)]);
    let first = call(
        &mut store,
        &inst,
        "borrow-list",
        std::slice::from_ref(&list),
    )
    .unwrap();
    assert_eq!(u32s(&first.unwrap()), vec![1, 2]);
    // Dropped 1 then 2: the free list hands out 2 first.
    let second = call(&mut store, &inst, "borrow-list", &[list]).unwrap();
    assert_eq!(u32s(&second.unwrap()), vec![2, 1]);
    assert!(store.data().dropped.is_empty());
}

#[test]
fn borrowed_resource_any_is_invalid_after_the_host_function_returns() {
    let (mut store, inst) = host_user();
    call(&mut store, &inst, "borrow-to-host", &[Val::U32(6)]).unwrap();
    let kept = store
        .data_mut()
        .kept
        .take()
        .expect("keep-borrow was not called");
    assert!(!kept.owned());
    assert!(kept.try_into_resource::<H, _>(&mut store).is_err());
}

#[test]
fn guest_moves_an_own_host_resource_to_a_host_function() {
    let (mut store, inst) = host_user();
    // `give` makes a handle (index 1), moves it to `take`, then makes
    // another: index 1 again, since the move freed the slot.
    assert_eq!(call_u32(&mut store, &inst, "give", &[Val::U32(4)]), 1);
    // `take` deleted the first value from the table itself.
    assert_eq!(store.data().dropped, vec![1]);
}

#[test]
fn host_resource_from_one_instance_is_accepted_by_another_instance() {
    let engine = Engine::default();
    let linker = host_linker(&engine);
    let component = load(&engine, &HOST_USER.replace("LIBC_LOGGED", LIBC_LOGGED));
    let mut store = Store::new(&engine, HostData::default());
    let a = linker.instantiate(&mut store, &component).unwrap();
    let b = linker.instantiate(&mut store, &component).unwrap();
    let r = call_resource(&mut store, &a, "make-own", &[Val::U32(31)]);
    assert_eq!(
        call_u32(&mut store, &b, "get-borrow", &[Val::Resource(r)]),
        31
    );
    call(&mut store, &b, "drop-own", &[Val::Resource(r)]).unwrap();
    assert_eq!(store.data().dropped, vec![1]);
}

#[test]
fn guest_resource_does_not_convert_to_a_host_resource() {
    let (mut store, inst) = guest();
    let r = call_resource(&mut store, &inst, "make", &[Val::U32(1)]);
    assert!(r.try_into_resource::<H, _>(&mut store).is_err());
    // The failed conversion left the handle usable.
    assert_eq!(
        call_u32(&mut store, &inst, "consume", &[Val::Resource(r)]),
        1
    );
}

// -------------------------------------------------------- host-side traps

#[test]
fn passing_an_unknown_handle_as_own_to_an_import_traps_invalid_handle() {
    let (mut store, inst) = host_user();
    assert_trap(
        call(&mut store, &inst, "take-unknown", &[]),
        TrapKind::InvalidHandle,
    );
}

#[test]
fn passing_an_unknown_handle_as_borrow_to_an_import_traps_invalid_handle() {
    let (mut store, inst) = host_user();
    assert_trap(
        call(&mut store, &inst, "borrow-unknown", &[]),
        TrapKind::InvalidHandle,
    );
}

#[test]
fn passing_a_borrow_handle_as_own_traps_wrong_handle_kind() {
    let (mut store, inst) = host_user();
    let (rep, any) = host_h(&mut store, 8);
    assert_trap(
        call(&mut store, &inst, "take-borrow", &[Val::Resource(any)]),
        TrapKind::WrongHandleKind,
    );
    // The host function never ran.
    assert_eq!(store.data().table.get(&Resource::<H>::new_own(rep)), Ok(&8));
}

#[test]
fn moving_an_own_handle_while_it_is_lent_traps_handle_lent() {
    let (mut store, inst) = host_user();
    assert_trap(
        call(&mut store, &inst, "lend-and-move", &[Val::U32(1)]),
        TrapKind::HandleLent,
    );
}

#[test]
fn returning_while_holding_a_borrow_handle_traps_borrows_outstanding() {
    let (mut store, inst) = host_user();
    let (_, any) = host_h(&mut store, 3);
    assert_trap(
        call(&mut store, &inst, "ignore-borrow", &[Val::Resource(any)]),
        TrapKind::BorrowsOutstanding,
    );
}

#[test]
fn returning_after_dropping_the_borrow_handle_is_fine() {
    let (mut store, inst) = host_user();
    let (_, any) = host_h(&mut store, 3);
    call(&mut store, &inst, "drop-borrow", &[Val::Resource(any)]).unwrap();
    call(&mut store, &inst, "drop-borrow", &[Val::Resource(any)]).unwrap();
}

/// Parent `P` owns a host resource and lends it to its child `C`; `C` calls
/// back into `P` (donut wrapping), which drops the lent handle.
#[test]
fn dropping_an_own_handle_while_it_is_lent_traps_handle_lent() {
    let wat = r#"(component
      (import "h" (type $h (sub resource)))
      (import "[constructor]h" (func $h-new (param "v" u32) (result (own $h))))
      (canon resource.drop $h (core func $h-drop))
      (core module $M2
        (import "" "drop" (func $drop (param i32)))
        (func (export "drop-first") (call $drop (i32.const 1))))
      (core instance $m2 (instantiate $M2 (with "" (instance (export "drop" (func $h-drop))))))
      (func $drop-first (canon lift (core func $m2 "drop-first")))
      (component $C
        (import "h" (type $h (sub resource)))
        (import "cb" (func $cb))
        (canon resource.drop $h (core func $drop))
        (core func $cb' (canon lower (func $cb)))
        (core module $m
          (import "" "cb" (func $cb))
          (import "" "drop" (func $drop (param i32)))
          (func (export "use") (param $b i32) (call $cb) (call $drop (local.get $b))))
        (core instance $i (instantiate $m (with "" (instance
          (export "cb" (func $cb')) (export "drop" (func $drop))))))
        (func (export "use") (param "x" (borrow $h)) (canon lift (core func $i "use"))))
      (instance $c (instantiate $C (with "h" (type $h)) (with "cb" (func $drop-first))))
      (core func $h-new' (canon lower (func $h-new)))
      (core func $use' (canon lower (func $c "use")))
      (core module $M1
        (import "" "new" (func $new (param i32) (result i32)))
        (import "" "use" (func $use (param i32)))
        (func (export "run") (result i32)
          (local $h i32)
          (local.set $h (call $new (i32.const 5)))
          (call $use (local.get $h))
          (local.get $h)))
      (core instance $m1 (instantiate $M1 (with "" (instance
        (export "new" (func $h-new')) (export "use" (func $use'))))))
      (func (export "run") (result u32) (canon lift (core func $m1 "run")))
    )"#;
    let engine = Engine::default();
    let linker = host_linker(&engine);
    let (mut store, inst) = instantiate_with(&engine, &linker, wat, HostData::default());
    assert_trap(call(&mut store, &inst, "run", &[]), TrapKind::HandleLent);
    assert!(store.data().dropped.is_empty());
}

// --------------------------------------------- component-to-component

/// `$C` defines `r` (its destructor counts live resources); `$D` imports
/// `$C`'s instance and moves and lends handles to it inside lists, options
/// and records.
const TWO_COMPONENTS: &str = r#"(component
  (component $C
    (core module $Dtor
      (global $live (mut i32) (i32.const 0))
      (func (export "dtor") (param i32) (global.set $live (i32.sub (global.get $live) (i32.const 1))))
      (func (export "inc") (global.set $live (i32.add (global.get $live) (i32.const 1))))
      (func (export "live") (result i32) (global.get $live)))
    (core instance $d (instantiate $Dtor))
    (type $r' (resource (rep i32) (dtor (core func $d "dtor"))))
    (export $r "r" (type $r'))
    (canon resource.new $r' (core func $new))
    (canon resource.rep $r' (core func $rep))
    (canon resource.drop $r' (core func $drop))
    (alias core export $d "inc" (core func $inc))
    (core module $m
      (import "" "new" (func $new (param i32) (result i32)))
      (import "" "rep" (func $rep (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      (import "" "inc" (func $inc))
      LIBC_LOGGED
      (func (export "make") (param i32) (result i32) (call $inc) (call $new (local.get 0)))
      (func (export "sum-list") (param $ptr i32) (param $len i32) (result i32)
        (local $i i32) (local $sum i32) (local $h i32)
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
            (local.set $h (i32.load (i32.add (local.get $ptr) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $sum (i32.add (local.get $sum) (call $rep (local.get $h))))
            (call $drop (local.get $h))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (local.get $sum))
      (func (export "peek-opt") (param $disc i32) (param $rep i32) (result i32)
        (if (result i32) (local.get $disc) (then (local.get $rep)) (else (i32.const 0))))
      (func (export "make-rec") (param $rep i32) (param $tag i32) (result i32)
        (call $inc)
        (i32.store (i32.const 16) (call $new (local.get $rep)))
        (i32.store (i32.const 20) (local.get $tag))
        (i32.const 16)))
    (core instance $i (instantiate $m (with "" (instance
      (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))
      (export "inc" (func $inc))))))
    (func (export "make") (param "rep" u32) (result (own $r)) (canon lift (core func $i "make")))
    (func (export "sum-list") (param "xs" (list (own $r))) (result u32)
      (canon lift (core func $i "sum-list") (memory (core memory $i "mem"))
        (realloc (core func $i "realloc"))))
    (func (export "peek-opt") (param "x" (option (borrow $r))) (result u32)
      (canon lift (core func $i "peek-opt")))
    (type $rec (record (field "res" (own $r)) (field "tag" u32)))
    (export $rec' "rec" (type $rec))
    (func (export "make-rec") (param "rep" u32) (param "tag" u32) (result $rec')
      (canon lift (core func $i "make-rec") (memory (core memory $i "mem"))))
    (func (export "live") (result u32) (canon lift (core func $d "live"))))
  (component $D
    (import "c" (instance $c
      (export "r" (type $r (sub resource)))
      (export "make" (func (param "rep" u32) (result (own $r))))
      (export "sum-list" (func (param "xs" (list (own $r))) (result u32)))
      (export "peek-opt" (func (param "x" (option (borrow $r))) (result u32)))
      (type $rec-def (record (field "res" (own $r)) (field "tag" u32)))
      (export "rec" (type $rec (eq $rec-def)))
      (export "make-rec" (func (param "rep" u32) (param "tag" u32) (result $rec)))
      (export "live" (func (result u32)))))
    (alias export $c "r" (type $r))
    (canon resource.drop $r (core func $drop))
    (core module $Libc LIBC_LOGGED)
    (core instance $libc (instantiate $Libc))
    (core func $make (canon lower (func $c "make")))
    (core func $sum-list (canon lower (func $c "sum-list") (memory (core memory $libc "mem"))))
    (core func $peek-opt (canon lower (func $c "peek-opt")))
    (core func $make-rec (canon lower (func $c "make-rec") (memory (core memory $libc "mem"))))
    (core func $live (canon lower (func $c "live")))
    (core module $m
      (import "libc" "mem" (memory 1))
      (import "" "make" (func $make (param i32) (result i32)))
      (import "" "sum-list" (func $sum-list (param i32 i32) (result i32)))
      (import "" "peek-opt" (func $peek-opt (param i32 i32) (result i32)))
      (import "" "make-rec" (func $make-rec (param i32 i32 i32)))
      (import "" "live" (func $live (result i32)))
      (import "" "drop" (func $drop (param i32)))
      ;; results as a list<u32> at 256
      (func $out (param $i i32) (param $v i32)
        (i32.store (i32.add (i32.const 256) (i32.shl (local.get $i) (i32.const 2))) (local.get $v)))
      (func $done (param $n i32) (result i32)
        (i32.store (i32.const 16) (i32.const 256))
        (i32.store (i32.const 20) (local.get $n))
        (i32.const 16))
      ;; [h1, h2, h3, sum, live after, index of the next handle]
      (func (export "run-list") (result i32)
        (call $out (i32.const 0) (call $make (i32.const 10)))
        (call $out (i32.const 1) (call $make (i32.const 20)))
        (call $out (i32.const 2) (call $make (i32.const 30)))
        (i32.store (i32.const 128) (i32.load (i32.const 256)))
        (i32.store (i32.const 132) (i32.load (i32.const 260)))
        (i32.store (i32.const 136) (i32.load (i32.const 264)))
        (call $out (i32.const 3) (call $sum-list (i32.const 128) (i32.const 3)))
        (call $out (i32.const 4) (call $live))
        (call $out (i32.const 5) (call $make (i32.const 40)))
        (call $done (i32.const 6)))
      ;; [peek(some h), peek(none), live before drop, live after drop]
      (func (export "run-option") (result i32)
        (local $h i32)
        (local.set $h (call $make (i32.const 7)))
        (call $out (i32.const 0) (call $peek-opt (i32.const 1) (local.get $h)))
        (call $out (i32.const 1) (call $peek-opt (i32.const 0) (i32.const 0)))
        (call $out (i32.const 2) (call $live))
        (call $drop (local.get $h))
        (call $out (i32.const 3) (call $live))
        (call $done (i32.const 4)))
      ;; [handle, tag, rep through a borrow]
      (func (export "run-record") (result i32)
        (call $make-rec (i32.const 12) (i32.const 3) (i32.const 64))
        (call $out (i32.const 0) (i32.load (i32.const 64)))
        (call $out (i32.const 1) (i32.load (i32.const 68)))
        (call $out (i32.const 2) (call $peek-opt (i32.const 1) (i32.load (i32.const 64))))
        (call $done (i32.const 3))))
    (core instance $i (instantiate $m (with "libc" (instance $libc)) (with "" (instance
      (export "make" (func $make)) (export "sum-list" (func $sum-list))
      (export "peek-opt" (func $peek-opt)) (export "make-rec" (func $make-rec))
      (export "live" (func $live)) (export "drop" (func $drop))))))
    (func (export "run-list") (result (list u32))
      (canon lift (core func $i "run-list") (memory (core memory $libc "mem"))))
    (func (export "run-option") (result (list u32))
      (canon lift (core func $i "run-option") (memory (core memory $libc "mem"))))
    (func (export "run-record") (result (list u32))
      (canon lift (core func $i "run-record") (memory (core memory $libc "mem")))))
  (instance $c (instantiate $C))
  (instance $d (instantiate $D (with "c" (instance $c))))
  (export "run-list" (func $d "run-list"))
  (export "run-option" (func $d "run-option"))
  (export "run-record" (func $d "run-record"))
)"#;

fn two_components(name: &str) -> Vec<u32> {
    let (mut store, inst) = instantiate(&TWO_COMPONENTS.replace("LIBC_LOGGED", LIBC_LOGGED));
    u32s(&call(&mut store, &inst, name, &[]).unwrap().unwrap())
}

#[test]
fn list_of_own_between_components_moves_every_handle_to_the_callee() {
    // Handles 1 2 3 in D; C sums the reps and drops them (3 destructors);
    // D's table is empty again, so its next handle reuses index 3.
    assert_eq!(two_components("run-list"), vec![1, 2, 3, 60, 0, 3]);
}

#[test]
fn option_of_borrow_between_components_lends_without_moving() {
    assert_eq!(two_components("run-option"), vec![7, 0, 1, 0]);
}

#[test]
fn record_result_with_own_field_between_components_lands_in_the_callers_table() {
    assert_eq!(two_components("run-record"), vec![1, 3, 12]);
}

/// `$E` defines `r`; `$D` makes handles with `$E` and moves or lends them
/// to `$C`, which does not implement `r` and so holds real handles.
const THREE_COMPONENTS: &str = r#"(component
  (component $E
    (core module $Dtor
      (global $live (mut i32) (i32.const 0))
      (func (export "dtor") (param i32) (global.set $live (i32.sub (global.get $live) (i32.const 1))))
      (func (export "inc") (global.set $live (i32.add (global.get $live) (i32.const 1))))
      (func (export "live") (result i32) (global.get $live)))
    (core instance $d (instantiate $Dtor))
    (type $r' (resource (rep i32) (dtor (core func $d "dtor"))))
    (export $r "r" (type $r'))
    (canon resource.new $r' (core func $new))
    (canon resource.rep $r' (core func $rep))
    (canon resource.drop $r' (core func $drop))
    (alias core export $d "inc" (core func $inc))
    (core module $m
      (import "" "new" (func $new (param i32) (result i32)))
      (import "" "rep" (func $rep (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      (import "" "inc" (func $inc))
      (func (export "make") (param i32) (result i32) (call $inc) (call $new (local.get 0)))
      (func (export "consume") (param $h i32) (result i32)
        (local $rep i32)
        (local.set $rep (call $rep (local.get $h)))
        (call $drop (local.get $h))
        (local.get $rep))
      (func (export "peek") (param $rep i32) (result i32) (local.get $rep)))
    (core instance $i (instantiate $m (with "" (instance
      (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))
      (export "inc" (func $inc))))))
    (func (export "make") (param "rep" u32) (result (own $r)) (canon lift (core func $i "make")))
    (func (export "consume") (param "x" (own $r)) (result u32) (canon lift (core func $i "consume")))
    (func (export "peek") (param "x" (borrow $r)) (result u32) (canon lift (core func $i "peek")))
    (func (export "live") (result u32) (canon lift (core func $d "live"))))
  (component $C
    (import "e" (instance $e
      (export "r" (type $r (sub resource)))
      (export "consume" (func (param "x" (own $r)) (result u32)))
      (export "peek" (func (param "x" (borrow $r)) (result u32)))))
    (alias export $e "r" (type $r))
    (canon resource.drop $r (core func $drop))
    (core func $consume (canon lower (func $e "consume")))
    (core func $peek (canon lower (func $e "peek")))
    (core module $m
      (import "" "consume" (func $consume (param i32) (result i32)))
      (import "" "peek" (func $peek (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      (global $held (mut i32) (i32.const 0))
      (func (export "hold") (param $h i32) (result i32)
        (global.set $held (local.get $h))
        (local.get $h))
      (func (export "release") (result i32) (call $consume (global.get $held)))
      (func (export "peek-via") (param $b i32) (result i32)
        (local $rep i32)
        (local.set $rep (call $peek (local.get $b)))
        (call $drop (local.get $b))
        (i32.add (local.get $rep) (i32.mul (local.get $b) (i32.const 1000))))
      (func (export "forget") (param $b i32) (result i32) (local.get $b))
      (func (export "both") (param $b i32) (param $o i32) (result i32) (i32.const 0)))
    (core instance $i (instantiate $m (with "" (instance
      (export "consume" (func $consume)) (export "peek" (func $peek)) (export "drop" (func $drop))))))
    (export $r' "r" (type $r))
    (func (export "hold") (param "x" (own $r')) (result u32) (canon lift (core func $i "hold")))
    (func (export "release") (result u32) (canon lift (core func $i "release")))
    (func (export "peek-via") (param "x" (borrow $r')) (result u32) (canon lift (core func $i "peek-via")))
    (func (export "forget") (param "x" (borrow $r')) (result u32) (canon lift (core func $i "forget")))
    (func (export "both") (param "b" (borrow $r')) (param "o" (own $r')) (result u32)
      (canon lift (core func $i "both"))))
  (component $D
    (import "e" (instance $e
      (export "r" (type $r (sub resource)))
      (export "make" (func (param "rep" u32) (result (own $r))))
      (export "live" (func (result u32)))))
    (alias export $e "r" (type $r))
    (import "c" (instance $c
      (export "r" (type $cr (eq $r)))
      (export "hold" (func (param "x" (own $r)) (result u32)))
      (export "release" (func (result u32)))
      (export "peek-via" (func (param "x" (borrow $r)) (result u32)))
      (export "forget" (func (param "x" (borrow $r)) (result u32)))
      (export "both" (func (param "b" (borrow $r)) (param "o" (own $r)) (result u32)))))
    (canon resource.drop $r (core func $drop))
    (core module $Libc (memory (export "mem") 1))
    (core instance $libc (instantiate $Libc))
    (core func $make (canon lower (func $e "make")))
    (core func $live (canon lower (func $e "live")))
    (core func $hold (canon lower (func $c "hold")))
    (core func $release (canon lower (func $c "release")))
    (core func $peek-via (canon lower (func $c "peek-via")))
    (core func $forget (canon lower (func $c "forget")))
    (core func $both (canon lower (func $c "both")))
    (core module $m
      (import "libc" "mem" (memory 1))
      (import "" "make" (func $make (param i32) (result i32)))
      (import "" "live" (func $live (result i32)))
      (import "" "hold" (func $hold (param i32) (result i32)))
      (import "" "release" (func $release (result i32)))
      (import "" "peek-via" (func $peek-via (param i32) (result i32)))
      (import "" "forget" (func $forget (param i32) (result i32)))
      (import "" "both" (func $both (param i32 i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      (func $out (param $i i32) (param $v i32)
        (i32.store (i32.add (i32.const 256) (i32.shl (local.get $i) (i32.const 2))) (local.get $v)))
      (func $done (param $n i32) (result i32)
        (i32.store (i32.const 16) (i32.const 256))
        (i32.store (i32.const 20) (local.get $n))
        (i32.const 16))
      ;; [D's handle, C's handle, rep back in E, live after]
      (func (export "move-through") (result i32)
        (local $h i32)
        (local.set $h (call $make (i32.const 5)))
        (call $out (i32.const 0) (local.get $h))
        (call $out (i32.const 1) (call $hold (local.get $h)))
        (call $out (i32.const 2) (call $release))
        (call $out (i32.const 3) (call $live))
        (call $done (i32.const 4)))
      ;; [C's answer: rep + 1000 × C's borrow handle, live before drop, live after]
      (func (export "lend-through") (result i32)
        (local $h i32)
        (local.set $h (call $make (i32.const 6)))
        (call $out (i32.const 0) (call $peek-via (local.get $h)))
        (call $out (i32.const 1) (call $live))
        (call $drop (local.get $h))
        (call $out (i32.const 2) (call $live))
        (call $done (i32.const 3)))
      (func (export "lend-forgotten") (drop (call $forget (call $make (i32.const 6)))))
      (func (export "lend-and-move")
        (local $h i32)
        (local.set $h (call $make (i32.const 6)))
        (drop (call $both (local.get $h) (local.get $h)))))
    (core instance $i (instantiate $m (with "libc" (instance $libc)) (with "" (instance
      (export "make" (func $make)) (export "live" (func $live)) (export "hold" (func $hold))
      (export "release" (func $release)) (export "peek-via" (func $peek-via))
      (export "forget" (func $forget)) (export "both" (func $both)) (export "drop" (func $drop))))))
    (func (export "move-through") (result (list u32))
      (canon lift (core func $i "move-through") (memory (core memory $libc "mem"))))
    (func (export "lend-through") (result (list u32))
      (canon lift (core func $i "lend-through") (memory (core memory $libc "mem"))))
    (func (export "lend-forgotten") (canon lift (core func $i "lend-forgotten")))
    (func (export "lend-and-move") (canon lift (core func $i "lend-and-move"))))
  (instance $e (instantiate $E))
  (instance $c (instantiate $C (with "e" (instance $e))))
  (instance $d (instantiate $D (with "e" (instance $e)) (with "c" (instance $c))))
  (export "move-through" (func $d "move-through"))
  (export "lend-through" (func $d "lend-through"))
  (export "lend-forgotten" (func $d "lend-forgotten"))
  (export "lend-and-move" (func $d "lend-and-move"))
)"#;

fn three_components(name: &str) -> Result<Option<Val>> {
    let (mut store, inst) = instantiate(THREE_COMPONENTS);
    call(&mut store, &inst, name, &[])
}

#[test]
fn own_handle_moves_through_a_component_that_does_not_implement_it() {
    let v = three_components("move-through").unwrap().unwrap();
    // D's handle 1 moves to C's table (index 1), then back to E, which
    // drops it: no resource is left alive.
    assert_eq!(u32s(&v), vec![1, 1, 5, 0]);
}

#[test]
fn borrow_lent_to_a_component_that_does_not_implement_it_is_a_handle() {
    let v = three_components("lend-through").unwrap().unwrap();
    // C got borrow handle 1 (rep 6) and dropped it; D's own handle stayed
    // alive until D dropped it.
    assert_eq!(u32s(&v), vec![1006, 1, 0]);
}

#[test]
fn component_returning_with_a_borrow_it_was_lent_traps_borrows_outstanding() {
    assert_trap(
        three_components("lend-forgotten"),
        TrapKind::BorrowsOutstanding,
    );
}

#[test]
fn component_lending_and_moving_the_same_handle_in_one_call_traps_handle_lent() {
    assert_trap(three_components("lend-and-move"), TrapKind::HandleLent);
}

// ------------------------------------------------ handle table high water

/// Creates, uses and drops `n` guest resources from the host and `n` host
/// resources from the guest, then checks that no handle table grew past a
/// small high-water mark.
fn churn(n: u32) {
    // Guest-defined resources, held by the host.
    let (mut store, inst) = guest();
    let ctor = inst.get_func(&mut store, "[constructor]r").unwrap();
    let get = inst.get_func(&mut store, "[method]r.get").unwrap();
    let mut out = [Val::Bool(false)];
    for i in 0..n {
        ctor.call(&mut store, &[Val::U32(i)], &mut out).unwrap();
        let Val::Resource(r) = out[0] else {
            panic!("not a resource: {:?}", out[0])
        };
        get.call(&mut store, &[Val::Resource(r)], &mut out).unwrap();
        assert_eq!(out[0], Val::U32(i));
        r.resource_drop(&mut store).unwrap();
    }
    assert_eq!(dtor_calls(&mut store, &inst), n);
    let (instances, host) = store.handle_table_high_water();
    assert!(
        instances.iter().all(|&w| w <= 1),
        "guest tables: {instances:?}"
    );
    assert!(host <= 1, "host table: {host}");

    // Host-defined resources, created, used and dropped by the guest.
    let (mut store, inst) = host_user();
    let max_handle = call_u32(&mut store, &inst, "churn", &[Val::U32(n)]);
    assert_eq!(max_handle, 1);
    assert_eq!(store.data().dropped.len(), n as usize);
    assert_eq!(store.data().max_rep, 1, "the ResourceTable grew");
    let (instances, host) = store.handle_table_high_water();
    assert!(
        instances.iter().all(|&w| w <= 2),
        "guest tables: {instances:?}"
    );
    assert!(host <= 2, "host table: {host}");
}

#[test]
fn churning_10e4_resources_keeps_handle_tables_at_their_high_water_mark() {
    churn(10_000);
}

#[test]
fn churning_10e6_resources_keeps_handle_tables_at_their_high_water_mark() {
    churn(1_000_000);
}
