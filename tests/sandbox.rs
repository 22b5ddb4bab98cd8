//! The deterministic sandbox: fuel that covers the component layer, limits,
//! the deterministic profile, and resumable calls.

use componentry::*;

fn engine(f: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    f(&mut config);
    Engine::new(&config)
}

fn load(engine: &Engine, wat: &str) -> Component {
    Component::new(engine, &wat::parse_str(wat).expect("wat")).expect("load")
}

fn instantiate(engine: &Engine, store: &mut Store<()>, c: &Component) -> Instance {
    Linker::new(engine)
        .instantiate(store, c)
        .expect("instantiate")
}

/// A bump allocator and memory, to paste into core modules.
const LIBC: &str = r#"
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap (i32.add (local.get $p) (local.get 3)))
      (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
        (then (drop (memory.grow (i32.const 16)))))
      (local.get $p))
"#;

/// `sum(list<u8>) -> u32`, `spin(n: u32) -> u32` (a loop of n iterations),
/// `mix(f64, string) -> f64` (float math and a string's length).
fn compute_component() -> String {
    format!(
        r#"(component
      (core module $m {LIBC}
        (func (export "sum") (param $p i32) (param $n i32) (result i32)
          (local $s i32)
          (block $done (loop $l
            (br_if $done (i32.eqz (local.get $n)))
            (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $p))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $l)))
          (local.get $s))
        (func (export "spin") (param $n i32) (result i32)
          (local $i i32)
          (block $done (loop $l
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $l)))
          (local.get $i))
        (func (export "mix") (param $x f64) (param $p i32) (param $n i32) (result f64)
          (f64.div (f64.mul (local.get $x) (f64.convert_i32_u (local.get $n))) (f64.const 3)))
      )
      (core instance $i (instantiate $m))
      (func (export "sum") (param "b" (list u8)) (result u32)
        (canon lift (core func $i "sum") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
      (func (export "spin") (param "n" u32) (result u32) (canon lift (core func $i "spin")))
      (func (export "mix") (param "x" f64) (param "s" string) (result f64)
        (canon lift (core func $i "mix") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    )"#
    )
}

fn call1(store: &mut Store<()>, inst: &Instance, name: &str, args: &[Val]) -> Result<Val> {
    let f = inst.get_func(&mut *store, name).expect("export");
    let mut r = [Val::Bool(false)];
    f.call(&mut *store, args, &mut r)?;
    let [v] = r;
    Ok(v)
}

#[test]
fn same_inputs_give_identical_results_and_fuel() {
    let engine = engine(|c| {
        c.consume_fuel(true).deterministic(true);
    });
    let c = load(&engine, &compute_component());
    let run = || {
        let mut store = Store::new(&engine, ());
        store.set_fuel(1_000_000).unwrap();
        let inst = instantiate(&engine, &mut store, &c);
        let a = call1(
            &mut store,
            &inst,
            "mix",
            &[Val::Float64(1.1), Val::String("héllo wörld".into())],
        )
        .unwrap();
        let b = call1(
            &mut store,
            &inst,
            "sum",
            &[Val::List((0..200u8).map(Val::U8).collect())],
        )
        .unwrap();
        let bits = match a {
            Val::Float64(x) => x.to_bits(),
            other => panic!("unexpected {other:?}"),
        };
        (bits, b, store.get_fuel().unwrap())
    };
    let first = run();
    let second = run();
    assert_eq!(first, second);
    assert!(first.2 < 1_000_000, "fuel was consumed");
}

#[test]
fn lowering_a_list_is_charged_fuel() {
    let engine = engine(|c| {
        c.consume_fuel(true);
    });
    let c = load(&engine, &compute_component());
    let mut store = Store::new(&engine, ());
    store.set_fuel(10_000_000).unwrap();
    let inst = instantiate(&engine, &mut store, &c);
    let before = store.get_fuel().unwrap();
    call1(&mut store, &inst, "sum", &[Val::List(vec![])]).unwrap();
    let empty = before - store.get_fuel().unwrap();
    let before = store.get_fuel().unwrap();
    call1(&mut store, &inst, "spin", &[Val::U32(0)]).unwrap();
    let _ = before;
    // 64 KiB through the component layer costs at least 8192 more fuel
    // (1 per 8 bytes) than the empty list, on top of the guest's loop.
    let before = store.get_fuel().unwrap();
    call1(
        &mut store,
        &inst,
        "sum",
        &[Val::List(vec![Val::U8(0); 65536])],
    )
    .unwrap();
    let big = before - store.get_fuel().unwrap();
    assert!(big >= empty + 8192, "big {big} empty {empty}");
}

#[test]
fn out_of_fuel_inside_list_lowering_traps_and_a_new_instance_works() {
    let engine = engine(|c| {
        c.consume_fuel(true);
    });
    let c = load(&engine, &compute_component());
    let mut store = Store::new(&engine, ());
    store.set_fuel(100_000).unwrap();
    let inst = instantiate(&engine, &mut store, &c);
    store.set_fuel(1000).unwrap();
    let err = call1(
        &mut store,
        &inst,
        "sum",
        &[Val::List(vec![Val::U8(1); 65536])],
    )
    .unwrap_err();
    assert_eq!(err.trap_kind(), Some(TrapKind::OutOfFuel), "{err}");
    store.set_fuel(10_000_000).unwrap();
    let fresh = instantiate(&engine, &mut store, &c);
    let v = call1(
        &mut store,
        &fresh,
        "sum",
        &[Val::List(vec![Val::U8(1); 100])],
    )
    .unwrap();
    assert_eq!(v, Val::U32(100));
}

#[test]
fn out_of_fuel_inside_guest_code_traps_and_a_new_instance_works() {
    let engine = engine(|c| {
        c.consume_fuel(true);
    });
    let c = load(&engine, &compute_component());
    let mut store = Store::new(&engine, ());
    store.set_fuel(10_000).unwrap();
    let inst = instantiate(&engine, &mut store, &c);
    let err = call1(&mut store, &inst, "spin", &[Val::U32(u32::MAX)]).unwrap_err();
    assert_eq!(err.trap_kind(), Some(TrapKind::OutOfFuel), "{err}");
    store.set_fuel(1_000_000).unwrap();
    let fresh = instantiate(&engine, &mut store, &c);
    assert_eq!(
        call1(&mut store, &fresh, "spin", &[Val::U32(1000)]).unwrap(),
        Val::U32(1000)
    );
}

#[test]
fn a_call_out_of_fuel_resumes_with_more_fuel() {
    let engine = engine(|c| {
        c.consume_fuel(true);
    });
    let c = load(&engine, &compute_component());
    let mut store = Store::new(&engine, ());
    store.set_fuel(1_000_000).unwrap();
    let inst = instantiate(&engine, &mut store, &c);
    let spin = inst.get_func(&mut store, "spin").unwrap();
    store.set_fuel(10_000).unwrap();
    let mut r = [Val::Bool(false)];
    let mut outcome = spin
        .call_resumable(&mut store, &[Val::U32(200_000)], &mut r)
        .unwrap();
    let mut frames = 1;
    loop {
        match outcome {
            CallOutcome::Finished => break,
            CallOutcome::OutOfFuel(call) => {
                frames += 1;
                assert!(frames < 10_000, "never finished");
                store.set_fuel(10_000).unwrap();
                outcome = call.resume(&mut store, &mut r).unwrap();
            }
        }
    }
    assert!(frames > 2, "the budget was spread over several frames");
    assert_eq!(r[0], Val::U32(200_000));
    // The instance is usable afterwards.
    store.set_fuel(100_000).unwrap();
    assert_eq!(
        call1(&mut store, &inst, "spin", &[Val::U32(5)]).unwrap(),
        Val::U32(5)
    );
}

#[test]
fn a_suspended_call_blocks_reentering_its_instance() {
    let engine = engine(|c| {
        c.consume_fuel(true);
    });
    let c = load(&engine, &compute_component());
    let mut store = Store::new(&engine, ());
    store.set_fuel(1_000_000).unwrap();
    let inst = instantiate(&engine, &mut store, &c);
    let spin = inst.get_func(&mut store, "spin").unwrap();
    store.set_fuel(1_000).unwrap();
    let mut r = [Val::Bool(false)];
    let outcome = spin
        .call_resumable(&mut store, &[Val::U32(1_000_000)], &mut r)
        .unwrap();
    assert!(matches!(outcome, CallOutcome::OutOfFuel(_)));
    store.set_fuel(1_000_000).unwrap();
    let err = call1(&mut store, &inst, "spin", &[Val::U32(1)]).unwrap_err();
    assert_eq!(err.trap_kind(), Some(TrapKind::CannotEnter), "{err}");
}

#[test]
fn a_guest_returning_a_2_pow_28_byte_list_traps_without_allocating() {
    let engine = Engine::default();
    let c = load(
        &engine,
        &format!(
            r#"(component
      (core module $m {LIBC}
        (func (export "big") (result i32)
          (i32.store (i32.const 8) (i32.const 0))
          (i32.store (i32.const 12) (i32.const 0x10000000))
          (i32.const 8)))
      (core instance $i (instantiate $m))
      (func (export "big") (result (list u8))
        (canon lift (core func $i "big") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    )"#
        ),
    );
    let mut store = Store::new(&engine, ());
    let inst = instantiate(&engine, &mut store, &c);
    let err = call1(&mut store, &inst, "big", &[]).unwrap_err();
    assert_eq!(err.trap_kind(), Some(TrapKind::LengthTooLarge), "{err}");
}

#[test]
fn max_lift_bytes_limits_a_guest_list() {
    let engine = engine(|c| {
        c.max_lift_bytes(1024);
    });
    let c = load(
        &engine,
        &format!(
            r#"(component
      (core module $m {LIBC}
        (func (export "big") (result i32)
          (i32.store (i32.const 8) (i32.const 2048))
          (i32.store (i32.const 12) (i32.const 2048))
          (i32.const 8)))
      (core instance $i (instantiate $m))
      (func (export "big") (result (list u8))
        (canon lift (core func $i "big") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    )"#
        ),
    );
    let mut store = Store::new(&engine, ());
    let inst = instantiate(&engine, &mut store, &c);
    let err = call1(&mut store, &inst, "big", &[]).unwrap_err();
    assert_eq!(err.trap_kind(), Some(TrapKind::LimitExceeded), "{err}");
    assert!(err.to_string().contains("max_lift_bytes"), "{err}");
}

#[test]
fn a_guest_creating_handles_in_a_loop_hits_the_handle_limit() {
    let engine = engine(|c| {
        c.max_handles_per_instance(100);
    });
    let c = load(
        &engine,
        r#"(component
      (type $r (resource (rep i32)))
      (core func $new (canon resource.new $r))
      (core module $m
        (import "" "new" (func $new (param i32) (result i32)))
        (func (export "run") (loop $l (drop (call $new (i32.const 1))) (br $l))))
      (core instance $i (instantiate $m (with "" (instance (export "new" (func $new))))))
      (func (export "run") (canon lift (core func $i "run")))
    )"#,
    );
    let mut store = Store::new(&engine, ());
    let inst = instantiate(&engine, &mut store, &c);
    let f = inst.get_func(&mut store, "run").unwrap();
    let err = f.call(&mut store, &[], &mut []).unwrap_err();
    assert_eq!(err.trap_kind(), Some(TrapKind::TooManyHandles), "{err}");
    assert!(err.to_string().contains("100"), "{err}");
    let (tables, _) = store.handle_table_high_water();
    assert!(tables.iter().all(|&n| n <= 100), "{tables:?}");
}

fn nested_list_type(depth: usize) -> String {
    let mut ty = String::from("u8");
    for _ in 0..depth {
        ty = format!("(list {ty})");
    }
    ty
}

#[test]
fn a_deeply_nested_type_fails_to_load_naming_the_limit() {
    let engine = engine(|c| {
        c.max_type_depth(5);
    });
    let wat = format!(
        r#"(component
      (core module $m (memory (export "memory") 1)
        (func (export "f") (param i32 i32))
        (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 8)))
      (core instance $i (instantiate $m))
      (func (export "f") (param "x" {}) (canon lift (core func $i "f")
        (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    )"#,
        nested_list_type(10)
    );
    let err = Component::new(&engine, &wat::parse_str(&wat).unwrap())
        .err()
        .expect("rejected");
    assert!(err.to_string().contains("max_type_depth"), "{err}");
    // Within the limit it loads.
    let shallow = wat.replace(&nested_list_type(10), &nested_list_type(4));
    Component::new(&engine, &wat::parse_str(&shallow).unwrap()).unwrap();
}

#[test]
fn memory_grow_in_a_loop_hits_the_memory_limit() {
    let engine = engine(|c| {
        c.max_memory_bytes(1 << 20);
    });
    let c = load(
        &engine,
        r#"(component
      (core module $m
        (memory 1)
        (func (export "grow") (loop $l (drop (memory.grow (i32.const 1))) (br $l))))
      (core instance $i (instantiate $m))
      (func (export "grow") (canon lift (core func $i "grow")))
    )"#,
    );
    let mut store = Store::new(&engine, ());
    let inst = instantiate(&engine, &mut store, &c);
    let f = inst.get_func(&mut store, "grow").unwrap();
    let err = f.call(&mut store, &[], &mut []).unwrap_err();
    assert_eq!(
        err.trap_kind(),
        Some(TrapKind::GrowthOperationLimited),
        "{err}"
    );
}

#[test]
fn instances_per_store_are_limited() {
    let engine = engine(|c| {
        c.max_instances(2);
    });
    let c = load(&engine, "(component)");
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    linker.instantiate(&mut store, &c).unwrap();
    linker.instantiate(&mut store, &c).unwrap();
    let err = linker
        .instantiate(&mut store, &c)
        .err()
        .expect("third instance refused");
    assert_eq!(err.trap_kind(), Some(TrapKind::LimitExceeded), "{err}");
    assert!(err.to_string().contains("max_instances"), "{err}");
}

/// An export that takes an f32 and returns its raw bits as seen by the guest.
fn bits_component() -> &'static str {
    r#"(component
      (core module $m (func (export "bits") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0))))
      (core instance $i (instantiate $m))
      (func (export "bits") (param "x" f32) (result u32) (canon lift (core func $i "bits")))
    )"#
}

#[test]
fn nans_the_host_lowers_are_canonicalized_in_every_profile() {
    // One rule for both APIs: NaNs are canonicalized when they cross the
    // boundary, deterministic profile or not.
    let payload_nan = f32::from_bits(0x7fc0_1234);
    for (deterministic, expected) in [(true, 0x7fc0_0000u32), (false, 0x7fc0_0000u32)] {
        let engine = engine(|c| {
            c.deterministic(deterministic);
        });
        let c = load(&engine, bits_component());
        let mut store = Store::new(&engine, ());
        let inst = instantiate(&engine, &mut store, &c);
        let v = call1(&mut store, &inst, "bits", &[Val::Float32(payload_nan)]).unwrap();
        assert_eq!(v, Val::U32(expected), "deterministic = {deterministic}");
    }
}
