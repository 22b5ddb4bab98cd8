//! A guest must never take the host down (issue #21): bounded native
//! stack, rejected calls that consume no handle, usage errors and messages
//! (`tests/host_memory.rs` has the memory and instantiation bounds).

use componentry::*;

fn engine(f: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    f(&mut config);
    Engine::new(&config)
}

fn load(engine: &Engine, wat: &str) -> Component {
    Component::new(engine, &wat::parse_str(wat).expect("wat")).expect("load")
}

/// Runs `f` on a thread with a 2 MiB stack (Rust's default for spawned
/// threads): a native stack overflow aborts the whole test process.
fn on_2mib_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("thread")
}

/// `rec(n)` calls itself `n` times through its own lowered export: each
/// level is a component-to-component call through the adapter.
const SELF_RECURSION: &str = r#"(component
  (core module $A
    (table (export "t") 1 funcref)
    (type $ty (func (param i32) (result i32)))
    (func (export "rec") (param $n i32) (result i32)
      (if (result i32) (i32.eqz (local.get $n))
        (then (i32.const 0))
        (else (i32.add (i32.const 1)
          (call_indirect (type $ty) (i32.sub (local.get $n) (i32.const 1)) (i32.const 0)))))))
  (core instance $a (instantiate $A))
  (func $rec (param "n" u32) (result u32) (canon lift (core func $a "rec")))
  (core func $g (canon lower (func $rec)))
  (core module $B
    (import "a" "t" (table 1 funcref))
    (import "a" "g" (func $g (param i32) (result i32)))
    (elem (i32.const 0) func $g))
  (core instance $b (instantiate $B (with "a" (instance
    (export "t" (table $a "t")) (export "g" (func $g))))))
  (export "rec" (func $rec)))"#;

/// `chain(n)` builds a linked list of `n` resources (each one's rep is the
/// handle of the next) and drops its head: each destructor drops the next.
const DTOR_CHAIN: &str = r#"(component
  (core module $T
    (table (export "t") 1 funcref)
    (type $ty (func (param i32)))
    (func (export "dtor") (param i32) (call_indirect (type $ty) (local.get 0) (i32.const 0))))
  (core instance $t (instantiate $T))
  (type $r (resource (rep i32) (dtor (core func $t "dtor"))))
  (canon resource.new $r (core func $new))
  (canon resource.drop $r (core func $drop))
  (core module $M
    (import "" "t" (table 1 funcref))
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (global $dtors (mut i32) (i32.const 0))
    (func $dtor (param $next i32)
      (global.set $dtors (i32.add (global.get $dtors) (i32.const 1)))
      (if (local.get $next) (then (call $drop (local.get $next)))))
    (elem (i32.const 0) func $dtor)
    (func (export "chain") (param $n i32) (result i32)
      (local $h i32)
      (block $done (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $h (call $new (local.get $h)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
      (if (local.get $h) (then (call $drop (local.get $h))))
      (global.get $dtors)))
  (core instance $m (instantiate $M (with "" (instance
    (export "t" (table $t "t")) (export "new" (func $new)) (export "drop" (func $drop))))))
  (func (export "chain") (param "n" u32) (result u32) (canon lift (core func $m "chain"))))"#;

fn call_u32(engine: &Engine, wat: &str, name: &str, n: u32) -> Result<u32> {
    let c = load(engine, wat);
    let mut store = Store::new(engine, ());
    let inst = Linker::new(engine).instantiate(&mut store, &c)?;
    let f = inst.get_func(&mut store, name).expect("export");
    let mut out = [Val::U32(0)];
    f.call(&mut store, &[Val::U32(n)], &mut out)?;
    match out[0] {
        Val::U32(x) => Ok(x),
        ref v => panic!("not a u32: {v:?}"),
    }
}

#[test]
fn self_recursion_through_the_adapter_traps_at_the_depth_limit_on_a_2mib_thread() {
    on_2mib_thread(|| {
        let engine = Engine::default();
        let limit = engine.config().call_depth_limit();
        // Just under the limit (the host's call is the first level): runs.
        assert_eq!(
            call_u32(&engine, SELF_RECURSION, "rec", limit - 1).unwrap(),
            limit - 1
        );
        // Far past it: a stack-overflow trap, not an abort.
        let e = call_u32(&engine, SELF_RECURSION, "rec", 100_000).unwrap_err();
        assert_eq!(e.trap_kind(), Some(TrapKind::StackOverflow), "{e}");
        assert!(e.message().contains("max_call_depth"), "{e}");
    });
}

#[test]
fn a_destructor_chain_traps_at_the_depth_limit_on_a_2mib_thread() {
    on_2mib_thread(|| {
        let engine = Engine::default();
        let limit = engine.config().call_depth_limit();
        // The host's call is one level, each destructor one more.
        assert_eq!(
            call_u32(&engine, DTOR_CHAIN, "chain", limit - 1).unwrap(),
            limit - 1
        );
        let e = call_u32(&engine, DTOR_CHAIN, "chain", 100_000).unwrap_err();
        assert_eq!(e.trap_kind(), Some(TrapKind::StackOverflow), "{e}");
    });
}

#[test]
fn max_call_depth_is_configurable() {
    let engine = engine(|c| {
        c.max_call_depth(10);
    });
    assert_eq!(call_u32(&engine, SELF_RECURSION, "rec", 9).unwrap(), 9);
    let e = call_u32(&engine, SELF_RECURSION, "rec", 10).unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::StackOverflow), "{e}");
    let e = call_u32(&engine, DTOR_CHAIN, "chain", 10).unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::StackOverflow), "{e}");
}

/// `rec(n)` calls the host's `host(n)`, which calls `rec(n - 1)` of
/// another instance of this component (while `n > 0`).
const HOST_NESTING: &str = r#"(component
  (import "host" (func $host (param "n" u32) (result u32)))
  (core func $h (canon lower (func $host)))
  (core module $M
    (import "" "h" (func $h (param i32) (result i32)))
    (func (export "rec") (param i32) (result i32) (call $h (local.get 0))))
  (core instance $m (instantiate $M (with "" (instance (export "h" (func $h))))))
  (func (export "rec") (param "n" u32) (result u32) (canon lift (core func $m "rec"))))"#;

/// Host state for [`HOST_NESTING`]: the `rec` export of each instance, and
/// the address of a local at the deepest level.
#[derive(Default)]
struct Nesting {
    recs: Vec<Func>,
    deepest: usize,
}

/// Instantiates [`HOST_NESTING`] `instances` times and calls `rec(n)` on
/// the last instance: `n + 1` instances are on the stack at the deepest point.
fn host_nesting(engine: &Engine, instances: usize, n: u32) -> Result<(u32, usize)> {
    let c = load(engine, HOST_NESTING);
    let mut store = Store::new(engine, Nesting::default());
    let mut linker = Linker::<Nesting>::new(engine);
    linker.root().func_new("host", |mut cx, params, results| {
        let Val::U32(n) = params[0] else {
            return Err(Error::host("bad param"));
        };
        if n == 0 {
            let here = 0u8;
            cx.data_mut().deepest = std::hint::black_box(&here) as *const u8 as usize;
            results[0] = Val::U32(0);
            return Ok(());
        }
        let f = cx.data().recs[n as usize - 1].clone();
        let mut out = [Val::U32(0)];
        f.call(&mut cx, &[Val::U32(n - 1)], &mut out)?;
        let Val::U32(x) = out[0] else {
            return Err(Error::host("bad result"));
        };
        results[0] = Val::U32(x + 1);
        Ok(())
    })?;
    for _ in 0..instances {
        let inst = linker.instantiate(&mut store, &c)?;
        let f = inst.get_func(&mut store, "rec").expect("rec");
        store.data_mut().recs.push(f);
    }
    let f = store.data().recs[n as usize].clone();
    let mut out = [Val::U32(0)];
    f.call(&mut store, &[Val::U32(n)], &mut out)?;
    let Val::U32(x) = out[0] else {
        panic!("not a u32")
    };
    Ok((x, store.data().deepest))
}

#[test]
fn host_initiated_nesting_traps_at_the_depth_limit_on_a_2mib_thread() {
    on_2mib_thread(|| {
        let engine = Engine::default();
        let limit = engine.config().call_depth_limit();
        let n = limit - 1;
        assert_eq!(host_nesting(&engine, limit as usize, n).unwrap().0, n);
        let e = host_nesting(&engine, limit as usize + 1, limit).unwrap_err();
        assert_eq!(e.trap_kind(), Some(TrapKind::StackOverflow), "{e}");
    });
}

/// The native stack one level of each kind of nesting takes: run with
/// `cargo test --test safety -- --ignored --nocapture` (and `--release`).
/// The README's "Limits" section quotes its output.
#[test]
#[ignore]
fn measure_native_stack_per_level() {
    fn probe_depth(wat: &str, name: &str, n: u32) -> usize {
        let engine = engine(|c| {
            c.max_call_depth(1_000_000);
        });
        let c = load(&engine, wat);
        let mut store = Store::new(&engine, 0usize);
        let mut linker = Linker::new(&engine);
        linker
            .root()
            .func_new("probe", |mut cx, _, _| {
                let here = 0u8;
                *cx.data_mut() = std::hint::black_box(&here) as *const u8 as usize;
                Ok(())
            })
            .unwrap();
        let inst = linker.instantiate(&mut store, &c).unwrap();
        let f = inst.get_func(&mut store, name).unwrap();
        let mut out = [Val::U32(0)];
        f.call(&mut store, &[Val::U32(n)], &mut out).unwrap();
        *store.data()
    }
    let probed = |wat: &str| {
        wat.replacen(
            "(component",
            "(component (import \"probe\" (func $probe)) (core func $probe' (canon lower (func $probe)))",
            1,
        )
    };
    let rec = probed(SELF_RECURSION)
        .replace(
            "(core module $A",
            "(core module $A (import \"\" \"probe\" (func $probe))",
        )
        .replace("(then (i32.const 0))", "(then (call $probe) (i32.const 0))")
        .replace(
            "(instantiate $A)",
            "(instantiate $A (with \"\" (instance (export \"probe\" (func $probe')))))",
        );
    let chain = probed(DTOR_CHAIN)
        .replace(
            "(import \"\" \"drop\" (func $drop (param i32)))",
            "(import \"\" \"drop\" (func $drop (param i32))) (import \"\" \"probe\" (func $probe))",
        )
        .replace(
            "(then (call $drop (local.get $next)))))",
            "(then (call $drop (local.get $next))) (else (call $probe))))",
        )
        .replace(
            "(export \"drop\" (func $drop))))))",
            "(export \"drop\" (func $drop)) (export \"probe\" (func $probe'))))))",
        );
    let cases = [
        ("adapter self-call", rec, "rec"),
        ("destructor chain", chain, "chain"),
    ];
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            for (what, wat, name) in cases {
                let (a, b) = (probe_depth(&wat, name, 10), probe_depth(&wat, name, 210));
                println!("{what}: {} bytes per level", a.abs_diff(b) / 200);
            }
            let engine = engine(|c| {
                c.max_call_depth(1_000_000);
            });
            let a = host_nesting(&engine, 211, 10).unwrap().1;
            let b = host_nesting(&engine, 211, 210).unwrap().1;
            println!(
                "host-initiated nesting: {} bytes per level",
                a.abs_diff(b) / 200
            );
        })
        .unwrap()
        .join()
        .unwrap();
}

/// A resource `r` with a counting destructor; `take2(own r, own r)` drops
/// both and returns the sum of their reps.
const TWO_OWNS: &str = r#"(component
  (core module $D
    (global $calls (mut i32) (i32.const 0))
    (func (export "dtor") (param i32)
      (global.set $calls (i32.add (global.get $calls) (i32.const 1))))
    (func (export "calls") (result i32) (global.get $calls)))
  (core instance $d (instantiate $D))
  (type $r' (resource (rep i32) (dtor (core func $d "dtor"))))
  (export $r "r" (type $r'))
  (canon resource.new $r' (core func $new))
  (canon resource.rep $r' (core func $rep))
  (canon resource.drop $r' (core func $drop))
  (core module $M
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "rep" (func $rep (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
    (func (export "take2") (param $a i32) (param $b i32) (result i32)
      (local $s i32)
      (local.set $s (i32.add (call $rep (local.get $a)) (call $rep (local.get $b))))
      (call $drop (local.get $a))
      (call $drop (local.get $b))
      (local.get $s)))
  (core instance $m (instantiate $M (with "" (instance
    (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))))))
  (func (export "make") (param "rep" u32) (result (own $r)) (canon lift (core func $m "make")))
  (func (export "take2") (param "a" (own $r)) (param "b" (own $r)) (result u32)
    (canon lift (core func $m "take2")))
  (func (export "dtor-calls") (result u32) (canon lift (core func $d "calls"))))"#;

struct TwoOwns {
    store: Store<()>,
    inst: Instance,
}

impl TwoOwns {
    fn new() -> Self {
        let engine = Engine::default();
        let c = load(&engine, TWO_OWNS);
        let mut store = Store::new(&engine, ());
        let inst = Linker::new(&engine).instantiate(&mut store, &c).unwrap();
        TwoOwns { store, inst }
    }

    fn call(&mut self, name: &str, params: &[Val]) -> Result<Val> {
        let f = self.inst.get_func(&mut self.store, name).expect("export");
        let mut out = [Val::Bool(false)];
        f.call(&mut self.store, params, &mut out)?;
        Ok(out[0].clone())
    }

    fn make(&mut self, rep: u32) -> ResourceAny {
        match self.call("make", &[Val::U32(rep)]).unwrap() {
            Val::Resource(r) => r,
            v => panic!("not a resource: {v:?}"),
        }
    }

    fn dtor_calls(&mut self) -> Val {
        self.call("dtor-calls", &[]).unwrap()
    }
}

#[test]
fn a_rejected_dynamic_call_with_a_stale_handle_consumes_no_own_handle() {
    let mut t = TwoOwns::new();
    let a = t.make(1);
    let b = t.make(2);
    b.resource_drop(&mut t.store).unwrap();
    assert_eq!(t.dtor_calls(), Val::U32(1));
    // `b` is stale: the call fails, and `a` (lowered first) is not consumed.
    let e = t
        .call("take2", &[Val::Resource(a), Val::Resource(b)])
        .unwrap_err();
    assert!(e.message().contains("already moved"), "{e}");
    a.resource_drop(&mut t.store).unwrap();
    assert_eq!(t.dtor_calls(), Val::U32(2));
    // The instance is not poisoned: the same call works with fresh handles.
    let (c, d) = (t.make(3), t.make(4));
    assert_eq!(
        t.call("take2", &[Val::Resource(c), Val::Resource(d)])
            .unwrap(),
        Val::U32(7)
    );
}

#[test]
fn a_rejected_dynamic_call_with_an_ill_typed_argument_consumes_no_own_handle() {
    let mut t = TwoOwns::new();
    let a = t.make(1);
    let e = t
        .call("take2", &[Val::Resource(a), Val::U32(5)])
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Usage, "{e}");
    a.resource_drop(&mut t.store).unwrap();
    assert_eq!(t.dtor_calls(), Val::U32(1));
}

#[test]
fn passing_the_same_own_handle_twice_consumes_nothing() {
    let mut t = TwoOwns::new();
    let a = t.make(1);
    let e = t
        .call("take2", &[Val::Resource(a), Val::Resource(a)])
        .unwrap_err();
    assert!(e.message().contains("already moved"), "{e}");
    a.resource_drop(&mut t.store).unwrap();
    assert_eq!(t.dtor_calls(), Val::U32(1));
}

#[test]
fn a_rejected_typed_call_with_a_stale_handle_consumes_no_own_handle() {
    let mut t = TwoOwns::new();
    let a = t.make(1);
    let b = t.make(2);
    b.resource_drop(&mut t.store).unwrap();
    let f = t.inst.get_func(&mut t.store, "take2").unwrap();
    let f = f
        .typed::<(ResourceAny, ResourceAny), u32>(&mut t.store)
        .unwrap();
    let e = f.call(&mut t.store, (a, b)).unwrap_err();
    assert!(e.message().contains("already moved"), "{e}");
    a.resource_drop(&mut t.store).unwrap();
    assert_eq!(t.dtor_calls(), Val::U32(2));
    let (c, d) = (t.make(3), t.make(4));
    assert_eq!(f.call(&mut t.store, (c, d)).unwrap(), 7);
}

#[test]
fn fuel_on_an_engine_without_fuel_is_a_usage_error() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let e = store.set_fuel(10).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Usage, "{e}");
    assert!(e.message().contains("consume_fuel"), "{e}");
    let e = store.get_fuel().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Usage, "{e}");
}

#[test]
fn a_link_error_does_not_repeat_a_huge_import_name() {
    let name = format!("f{}", "x".repeat(50_000));
    let engine = Engine::default();
    let c = load(&engine, &format!(r#"(component (import "{name}" (func)))"#));
    let mut store = Store::new(&engine, ());
    let e = Linker::new(&engine)
        .instantiate(&mut store, &c)
        .err()
        .expect("a link error");
    assert_eq!(e.kind(), &ErrorKind::Link, "{e}");
    assert!(e.to_string().len() < 1000, "{} bytes", e.to_string().len());
    assert!(e.message().contains("50001 bytes"), "{e}");
}

#[test]
fn both_apis_canonicalize_nans_they_lower() {
    // `bits(x)` returns the bits of the f64 it is given.
    let wat = r#"(component
      (core module $m (func (export "bits") (param f64) (result i64) (i64.reinterpret_f64 (local.get 0))))
      (core instance $i (instantiate $m))
      (func (export "bits") (param "x" f64) (result u64) (canon lift (core func $i "bits"))))"#;
    let engine = Engine::default();
    let c = load(&engine, wat);
    let mut store = Store::new(&engine, ());
    let inst = Linker::new(&engine).instantiate(&mut store, &c).unwrap();
    let f = inst.get_func(&mut store, "bits").unwrap();
    let odd_nan = f64::from_bits(0x7ff8_dead_beef_0001);
    let mut out = [Val::U64(0)];
    f.call(&mut store, &[Val::Float64(odd_nan)], &mut out)
        .unwrap();
    assert_eq!(out[0], Val::U64(0x7ff8_0000_0000_0000));
    let t = f.typed::<(f64,), u64>(&mut store).unwrap();
    assert_eq!(
        t.call(&mut store, (odd_nan,)).unwrap(),
        0x7ff8_0000_0000_0000
    );
}
