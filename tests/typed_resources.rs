//! Resource handles in the typed API: `ResourceAny` and `Resource<T>` as
//! params and results of `TypedFunc` and `func_wrap`, alone and inside
//! lists, options, variants and derived records; the handle rules
//! (ownership moves, borrows released after the call, outstanding borrows,
//! wrong resource types) as the dynamic path enforces them.

mod common;

use common::*;
use componentry::*;

/// Resource `r` (destructor counts its calls) and `r2`, with exports that
/// move handles in several positions.
const GUEST: &str = r#"(component
  (core module $Dtor
    (global $calls (mut i32) (i32.const 0))
    (func (export "dtor") (param i32)
      (global.set $calls (i32.add (global.get $calls) (i32.const 1))))
    (func (export "calls") (result i32) (global.get $calls)))
  (core instance $d (instantiate $Dtor))
  (type $r' (resource (rep i32) (dtor (core func $d "dtor"))))
  (export $r "r" (type $r'))
  (type $r2' (resource (rep i32)))
  (export $r2 "r2" (type $r2'))
  (canon resource.new $r' (core func $new))
  (canon resource.rep $r' (core func $rep))
  (canon resource.drop $r' (core func $drop))
  (canon resource.new $r2' (core func $new2))
  (canon resource.drop $r2' (core func $drop2))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "rep" (func $rep (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (import "" "new2" (func $new2 (param i32) (result i32)))
    (import "" "drop2" (func $drop2 (param i32)))
    LIBC_LOGGED
    (func $consume (param $h i32) (result i32)
      (local $rep i32)
      (local.set $rep (call $rep (local.get $h)))
      (call $drop (local.get $h))
      (local.get $rep))
    (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
    (func (export "make2") (param i32) (result i32) (call $new2 (local.get 0)))
    (func (export "get") (param i32) (result i64) (i64.extend_i32_u (local.get 0)))
    (func (export "consume") (param $h i32) (result i32) (call $consume (local.get $h)))
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
    (func (export "peek-opt") (param $disc i32) (param $rep i32) (result i32)
      (if (result i32) (local.get $disc) (then (local.get $rep)) (else (i32.const 0))))
    (func (export "make-opt") (param $v i32) (result i32)
      (if (local.get $v)
        (then (i32.store (i32.const 16) (i32.const 1))
              (i32.store (i32.const 20) (call $new (local.get $v))))
        (else (i32.store (i32.const 16) (i32.const 0))))
      (i32.const 16))
    (func (export "take-variant") (param $disc i32) (param $h i32) (result i32)
      (if (result i32) (local.get $disc)
        (then (i32.add (i32.const 1000) (call $consume (local.get $h))))
        (else (call $drop2 (local.get $h)) (i32.const 0))))
    (func (export "make-rec") (param $rep i32) (param $tag i32) (result i32)
      (i32.store (i32.const 16) (call $new (local.get $rep)))
      (i32.store (i32.const 20) (local.get $tag))
      (i32.const 16))
    (func (export "return-as-r2") (result i32) (call $new2 (i32.const 1))))
  (core instance $i (instantiate $m (with "" (instance
    (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))
    (export "new2" (func $new2)) (export "drop2" (func $drop2))))))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  (func (export "[constructor]r") (param "rep" u32) (result (own $r))
    (canon lift (core func $i "make")))
  (func (export "[method]r.get") (param "self" (borrow $r)) (result u64)
    (canon lift (core func $i "get")))
  (func (export "make2") (param "rep" u32) (result (own $r2)) (canon lift (core func $i "make2")))
  (func (export "consume") (param "x" (own $r)) (result u32) (canon lift (core func $i "consume")))
  (func (export "sum-list") (param "xs" (list (own $r))) (result u32)
    (canon lift (core func $i "sum-list") (memory $mem) (realloc $realloc)))
  (func (export "make-list") (param "n" u32) (result (list (own $r)))
    (canon lift (core func $i "make-list") (memory $mem)))
  (func (export "peek-opt") (param "x" (option (borrow $r))) (result u32)
    (canon lift (core func $i "peek-opt")))
  (func (export "make-opt") (param "v" u32) (result (option (own $r)))
    (canon lift (core func $i "make-opt") (memory $mem)))
  (type $v (variant (case "a" (own $r2)) (case "b" (own $r))))
  (export $v' "v" (type $v))
  (func (export "take-variant") (param "x" $v') (result u32)
    (canon lift (core func $i "take-variant")))
  (type $rec (record (field "res" (own $r)) (field "tag" u32)))
  (export $rec' "rec" (type $rec))
  (func (export "make-rec") (param "rep" u32) (param "tag" u32) (result $rec')
    (canon lift (core func $i "make-rec") (memory $mem)))
  (func (export "return-as-r2") (result (own $r)) (canon lift (core func $i "return-as-r2")))
  (func (export "dtor-calls") (result u32) (canon lift (core func $d "calls")))
)"#;

fn guest() -> (Store<()>, Instance) {
    instantiate(&GUEST.replace("LIBC_LOGGED", LIBC_LOGGED))
}

fn typed<P, R>(store: &mut Store<()>, inst: &Instance, name: &str) -> TypedFunc<P, R>
where
    P: ComponentNamedList + Lower,
    R: ComponentType + Lift,
{
    inst.get_func(&mut *store, name)
        .unwrap_or_else(|| panic!("no export `{name}`"))
        .typed::<P, R>(&mut *store)
        .unwrap()
}

fn make(store: &mut Store<()>, inst: &Instance, rep: u32) -> ResourceAny {
    typed::<(u32,), ResourceAny>(store, inst, "[constructor]r")
        .call(&mut *store, (rep,))
        .unwrap()
}

fn dtor_calls(store: &mut Store<()>, inst: &Instance) -> u32 {
    typed::<(), u32>(store, inst, "dtor-calls")
        .call(&mut *store, ())
        .unwrap()
}

#[test]
fn typed_constructor_method_and_drop_of_a_guest_resource() {
    let (mut store, inst) = guest();
    let r = make(&mut store, &inst, 42);
    assert!(r.owned());
    let get = typed::<(ResourceAny,), u64>(&mut store, &inst, "[method]r.get");
    assert_eq!(get.call(&mut store, (r,)).unwrap(), 42);
    // The borrow left the handle owned by the host.
    assert_eq!(get.call(&mut store, (r,)).unwrap(), 42);
    assert_eq!(dtor_calls(&mut store, &inst), 0);
    r.resource_drop(&mut store).unwrap();
    assert_eq!(dtor_calls(&mut store, &inst), 1);
}

#[test]
fn typed_own_param_moves_the_handle_into_the_guest() {
    let (mut store, inst) = guest();
    let r = make(&mut store, &inst, 7);
    let consume = typed::<(ResourceAny,), u32>(&mut store, &inst, "consume");
    assert_eq!(consume.call(&mut store, (r,)).unwrap(), 7);
    assert_eq!(dtor_calls(&mut store, &inst), 1);
    // The host's handle is gone: a usage error, not a trap.
    let again = consume.call(&mut store, (r,));
    assert!(matches!(again, Err(ref e) if !e.is_trap()), "{again:?}");
}

#[test]
fn typed_vec_of_own_param_moves_every_handle() {
    let (mut store, inst) = guest();
    let rs: Vec<ResourceAny> = [1, 2, 3]
        .iter()
        .map(|&v| make(&mut store, &inst, v))
        .collect();
    let sum = typed::<(Vec<ResourceAny>,), u32>(&mut store, &inst, "sum-list");
    assert_eq!(sum.call(&mut store, (rs,)).unwrap(), 6);
    assert_eq!(dtor_calls(&mut store, &inst), 3);
}

#[test]
fn typed_vec_of_own_result_gives_the_host_every_handle() {
    let (mut store, inst) = guest();
    let list = typed::<(u32,), Vec<ResourceAny>>(&mut store, &inst, "make-list");
    let rs = list.call(&mut store, (3,)).unwrap();
    assert_eq!(rs.len(), 3);
    let get = typed::<(ResourceAny,), u64>(&mut store, &inst, "[method]r.get");
    for (k, r) in rs.iter().enumerate() {
        assert!(r.owned());
        assert_eq!(get.call(&mut store, (*r,)).unwrap(), k as u64 + 1);
    }
}

#[test]
fn typed_option_of_borrow_param_some_and_none() {
    let (mut store, inst) = guest();
    let r = make(&mut store, &inst, 33);
    let peek = typed::<(Option<ResourceAny>,), u32>(&mut store, &inst, "peek-opt");
    assert_eq!(peek.call(&mut store, (Some(r),)).unwrap(), 33);
    assert_eq!(peek.call(&mut store, (None,)).unwrap(), 0);
    assert!(r.owned());
}

#[test]
fn typed_option_of_own_result_some_and_none() {
    let (mut store, inst) = guest();
    let f = typed::<(u32,), Option<ResourceAny>>(&mut store, &inst, "make-opt");
    assert!(f.call(&mut store, (0,)).unwrap().is_none());
    let r = f.call(&mut store, (5,)).unwrap().unwrap();
    let consume = typed::<(ResourceAny,), u32>(&mut store, &inst, "consume");
    assert_eq!(consume.call(&mut store, (r,)).unwrap(), 5);
}

#[derive(ComponentType, Lift, Lower, Debug, Clone, Copy)]
enum V {
    A(ResourceAny),
    B(ResourceAny),
}

#[test]
fn derived_variant_lowers_the_handle_of_the_case_taken_at_its_position() {
    let (mut store, inst) = guest();
    let take = typed::<(V,), u32>(&mut store, &inst, "take-variant");
    // Case `b` (own r) comes after case `a` (own r2): its handle position
    // is the second, of type `r`.
    let r = make(&mut store, &inst, 9);
    assert_eq!(take.call(&mut store, (V::B(r),)).unwrap(), 1009);
    let r2 = typed::<(u32,), ResourceAny>(&mut store, &inst, "make2")
        .call(&mut store, (4,))
        .unwrap();
    assert_eq!(take.call(&mut store, (V::A(r2),)).unwrap(), 0);
}

#[derive(ComponentType, Lift, Lower, Debug, Clone, Copy)]
struct Rec {
    res: ResourceAny,
    tag: u32,
}

#[test]
fn derived_record_result_with_an_own_field() {
    let (mut store, inst) = guest();
    let f = typed::<(u32, u32), Rec>(&mut store, &inst, "make-rec");
    let rec = f.call(&mut store, (12, 99)).unwrap();
    assert_eq!(rec.tag, 99);
    let consume = typed::<(ResourceAny,), u32>(&mut store, &inst, "consume");
    assert_eq!(consume.call(&mut store, (rec.res,)).unwrap(), 12);
}

#[test]
fn typed_own_param_of_another_resource_type_is_a_usage_error() {
    let (mut store, inst) = guest();
    let r2 = typed::<(u32,), ResourceAny>(&mut store, &inst, "make2")
        .call(&mut store, (1,))
        .unwrap();
    let consume = typed::<(ResourceAny,), u32>(&mut store, &inst, "consume");
    let e = consume.call(&mut store, (r2,)).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Usage, "{e}");
    // Nothing moved: the handle still works where its type fits.
    let take = typed::<(V,), u32>(&mut store, &inst, "take-variant");
    assert_eq!(take.call(&mut store, (V::A(r2),)).unwrap(), 0);
}

#[test]
fn typed_result_handle_of_another_resource_type_traps_wrong_resource_type() {
    let (mut store, inst) = guest();
    let f = typed::<(), ResourceAny>(&mut store, &inst, "return-as-r2");
    assert_trap(f.call(&mut store, ()), TrapKind::WrongResourceType);
}

#[test]
fn handles_typecheck_only_against_own_and_borrow() {
    let (mut store, inst) = guest();
    let f = inst.get_func(&mut store, "consume").unwrap();
    assert!(f.typed::<(u32,), u32>(&mut store).is_err());
    let f = inst.get_func(&mut store, "[constructor]r").unwrap();
    assert!(f.typed::<(ResourceAny,), ResourceAny>(&mut store).is_err());
    assert!(f.typed::<(u32,), u32>(&mut store).is_err());
    assert!(f.typed::<(u32,), ResourceAny>(&mut store).is_ok());
}

// --------------------------------------------------- host-defined resource

/// The host's resource type `h`, backed by a [`ResourceTable`].
struct H;
/// Another host resource type, never defined in a linker.
struct Other;

#[derive(Default)]
struct HostData {
    table: ResourceTable<u32>,
    dropped: Vec<u32>,
    /// A borrowed handle a host function kept past its call.
    kept: Option<ResourceAny>,
    /// What `maybe` received.
    maybe: Vec<Option<u32>>,
}

fn host_linker(engine: &Engine) -> Linker<HostData> {
    let mut linker = Linker::<HostData>::new(engine);
    let mut root = linker.root();
    root.resource("h", ResourceType::host::<H>(), |mut cx, rep| {
        cx.data_mut().table.delete(Resource::<H>::new_own(rep))?;
        cx.data_mut().dropped.push(rep);
        Ok(())
    })
    .unwrap();
    root.func_wrap(
        "[constructor]h",
        |mut cx, (v,): (u32,)| -> Result<Resource<H>> { cx.data_mut().table.push(v) },
    )
    .unwrap();
    root.func_wrap("[method]h.get", |cx, (r,): (Resource<H>,)| {
        if r.owned() {
            return Err(Error::host("self is not borrowed"));
        }
        Ok(*cx.data().table.get(&r)?)
    })
    .unwrap();
    root.func_wrap("[method]h.get-any", |mut cx, (r,): (ResourceAny,)| {
        if r.owned() {
            return Err(Error::host("self is not borrowed"));
        }
        cx.data_mut().kept = Some(r);
        let h: Resource<H> = r.try_into_resource(&mut cx)?;
        Ok(*cx.data().table.get(&h)? * 100)
    })
    .unwrap();
    root.func_wrap("take", |mut cx, (r,): (Resource<H>,)| {
        assert!(r.owned());
        let rep = r.rep();
        cx.data_mut().table.delete(r)?;
        cx.data_mut().dropped.push(rep);
        Ok(())
    })
    .unwrap();
    root.func_wrap("maybe", |mut cx, (r,): (Option<Resource<H>>,)| {
        let v = match r {
            Some(r) => Some(cx.data_mut().table.delete(r)?),
            None => None,
        };
        cx.data_mut().maybe.push(v);
        Ok(v.unwrap_or(0))
    })
    .unwrap();
    linker
}

const HOST_USER: &str = r#"(component
  (import "h" (type $h (sub resource)))
  (import "[constructor]h" (func $h-new (param "v" u32) (result (own $h))))
  (import "[method]h.get" (func $h-get (param "self" (borrow $h)) (result u32)))
  (import "[method]h.get-any" (func $h-get-any (param "self" (borrow $h)) (result u32)))
  (import "take" (func $take (param "x" (own $h))))
  (import "maybe" (func $maybe (param "x" (option (own $h))) (result u32)))
  (canon resource.drop $h (core func $h-drop))
  (core func $h-new' (canon lower (func $h-new)))
  (core func $h-get' (canon lower (func $h-get)))
  (core func $h-get-any' (canon lower (func $h-get-any)))
  (core func $take' (canon lower (func $take)))
  (core func $maybe' (canon lower (func $maybe)))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "get" (func $get (param i32) (result i32)))
    (import "" "get-any" (func $get-any (param i32) (result i32)))
    (import "" "take" (func $take (param i32)))
    (import "" "maybe" (func $maybe (param i32 i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "round-trip") (param $v i32) (result i32)
      (local $h i32) (local $x i32)
      (local.set $h (call $new (local.get $v)))
      (local.set $x (i32.add (call $get (local.get $h)) (call $get-any (local.get $h))))
      (call $take (local.get $h))
      (local.get $x))
    (func (export "maybe-some") (param $v i32) (result i32)
      (call $maybe (i32.const 1) (call $new (local.get $v))))
    (func (export "maybe-none") (result i32) (call $maybe (i32.const 0) (i32.const 0)))
    (func (export "drop-handle") (param i32) (call $drop (local.get 0)))
    (func (export "get-and-drop") (param $h i32) (result i32)
      (call $get (local.get $h))
      (call $drop (local.get $h)))
    (func (export "ignore") (param i32))
    (func (export "make-own") (param $v i32) (result i32) (call $new (local.get $v))))
  (core instance $i (instantiate $m (with "" (instance
    (export "new" (func $h-new')) (export "get" (func $h-get'))
    (export "get-any" (func $h-get-any')) (export "take" (func $take'))
    (export "maybe" (func $maybe')) (export "drop" (func $h-drop))))))
  (func (export "round-trip") (param "v" u32) (result u32) (canon lift (core func $i "round-trip")))
  (func (export "maybe-some") (param "v" u32) (result u32) (canon lift (core func $i "maybe-some")))
  (func (export "maybe-none") (result u32) (canon lift (core func $i "maybe-none")))
  (func (export "drop-own") (param "x" (own $h)) (canon lift (core func $i "drop-handle")))
  (func (export "get-borrow") (param "x" (borrow $h)) (result u32)
    (canon lift (core func $i "get-and-drop")))
  (func (export "ignore-borrow") (param "x" (borrow $h)) (canon lift (core func $i "ignore")))
  (func (export "make-own") (param "v" u32) (result (own $h)) (canon lift (core func $i "make-own")))
)"#;

fn host_user() -> (Store<HostData>, Instance) {
    let engine = Engine::default();
    let linker = host_linker(&engine);
    instantiate_with(&engine, &linker, HOST_USER, HostData::default())
}

fn typed_h<P, R>(store: &mut Store<HostData>, inst: &Instance, name: &str) -> TypedFunc<P, R>
where
    P: ComponentNamedList + Lower,
    R: ComponentType + Lift,
{
    inst.get_func(&mut *store, name)
        .unwrap_or_else(|| panic!("no export `{name}`"))
        .typed::<P, R>(&mut *store)
        .unwrap()
}

#[test]
fn func_wrap_takes_and_returns_typed_host_resources() {
    let (mut store, inst) = host_user();
    let f = typed_h::<(u32,), u32>(&mut store, &inst, "round-trip");
    // get (borrow, Resource<H>) + get-any (borrow, ResourceAny) × 100.
    assert_eq!(f.call(&mut store, (5,)).unwrap(), 505);
    // `take` received the own handle and deleted the value.
    assert_eq!(store.data().dropped, vec![1]);
}

#[test]
fn borrowed_resource_any_given_to_func_wrap_is_released_when_it_returns() {
    let (mut store, inst) = host_user();
    let f = typed_h::<(u32,), u32>(&mut store, &inst, "round-trip");
    f.call(&mut store, (5,)).unwrap();
    let kept = store.data_mut().kept.take().unwrap();
    assert!(kept.try_into_resource::<H, _>(&mut store).is_err());
}

#[test]
fn func_wrap_option_of_own_host_resource_some_and_none() {
    let (mut store, inst) = host_user();
    let some = typed_h::<(u32,), u32>(&mut store, &inst, "maybe-some");
    let none = typed_h::<(), u32>(&mut store, &inst, "maybe-none");
    assert_eq!(some.call(&mut store, (8,)).unwrap(), 8);
    assert_eq!(none.call(&mut store, ()).unwrap(), 0);
    assert_eq!(store.data().maybe, vec![Some(8), None]);
}

#[test]
fn typed_own_host_resource_param_moves_it_to_the_guest_which_drops_it() {
    let (mut store, inst) = host_user();
    let r: Resource<H> = store.data_mut().table.push(11).unwrap();
    let f = typed_h::<(Resource<H>,), ()>(&mut store, &inst, "drop-own");
    f.call(&mut store, (r,)).unwrap();
    assert_eq!(store.data().dropped, vec![r.rep()]);
}

#[test]
fn typed_borrow_of_a_host_resource_reaches_the_host_method_through_the_guest() {
    let (mut store, inst) = host_user();
    let r: Resource<H> = store.data_mut().table.push(23).unwrap();
    let f = typed_h::<(Resource<H>,), u32>(&mut store, &inst, "get-borrow");
    assert_eq!(f.call(&mut store, (r,)).unwrap(), 23);
    assert!(store.data().dropped.is_empty());
    assert_eq!(store.data().table.get(&r), Ok(&23));
}

#[test]
fn typed_borrow_kept_by_the_callee_traps_borrows_outstanding() {
    let (mut store, inst) = host_user();
    let r: Resource<H> = store.data_mut().table.push(1).unwrap();
    let f = typed_h::<(Resource<H>,), ()>(&mut store, &inst, "ignore-borrow");
    assert_trap(f.call(&mut store, (r,)), TrapKind::BorrowsOutstanding);
}

#[test]
fn typed_own_host_resource_result_gives_the_host_its_rep() {
    let (mut store, inst) = host_user();
    let f = typed_h::<(u32,), Resource<H>>(&mut store, &inst, "make-own");
    let r = f.call(&mut store, (77,)).unwrap();
    assert!(r.owned());
    assert_eq!(store.data().table.get(&r), Ok(&77));
}

#[test]
fn typed_resource_of_another_host_type_is_a_usage_error() {
    let (mut store, inst) = host_user();
    let f = typed_h::<(Resource<Other>,), ()>(&mut store, &inst, "drop-own");
    let e = f.call(&mut store, (Resource::new_own(1),)).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Usage, "{e}");
    // And a guest resource lifted as a host `Resource<T>`.
    let (mut store, inst) = guest();
    let f = typed::<(u32,), Resource<H>>(&mut store, &inst, "[constructor]r");
    let e = f.call(&mut store, (1,)).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Usage, "{e}");
}
