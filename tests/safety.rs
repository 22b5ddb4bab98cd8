//! A guest must never take the host down (issue #21): bounded native stack,
//! bounded host memory, handles validated before anything moves.

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

/// Counts the bytes each thread has allocated and not freed, and the peak,
/// so a test can bound the host memory a call takes (tests run in parallel
/// threads, so the count is per thread).
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Counting;

    thread_local! {
        static LIVE: Cell<isize> = const { Cell::new(0) };
        static PEAK: Cell<isize> = const { Cell::new(0) };
    }

    fn add(n: isize) {
        let _ = LIVE.try_with(|l| {
            let v = l.get() + n;
            l.set(v);
            let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
        });
    }

    // SAFETY: every call is forwarded unchanged to the system allocator;
    // the counting touches only thread-local cells (no allocation).
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller's contract is the system allocator's.
            let p = unsafe { System.alloc(layout) };
            if !p.is_null() {
                add(layout.size() as isize);
            }
            p
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            add(-(layout.size() as isize));
            // SAFETY: as above.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: as above.
            let p = unsafe { System.realloc(ptr, layout, new_size) };
            if !p.is_null() {
                add(new_size as isize - layout.size() as isize);
            }
            p
        }
    }

    /// Runs `f`, returning its result and the most bytes this thread had
    /// allocated during it beyond what it had before.
    pub fn peak<R>(f: impl FnOnce() -> R) -> (R, usize) {
        let base = LIVE.with(Cell::get);
        PEAK.with(|p| p.set(base));
        let r = f();
        let peak = PEAK.with(Cell::get);
        (r, (peak - base).max(0) as usize)
    }
}

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

/// Exports values far larger on the host than in the guest:
/// `bytes(len) -> list<u8>`, `lists(n, inner) -> list<list<u8>>` and
/// `strings(n, inner) -> list<string>` (n lists or strings, all over the
/// same `inner` zero bytes).
const INFLATE: &str = r#"(component
  (core module $M
    (memory (export "memory") 1)
    (func $fit (param $need i32)
      (local $pages i32)
      (local.set $pages (i32.add (i32.shr_u (local.get $need) (i32.const 16)) (i32.const 1)))
      (if (i32.gt_u (local.get $pages) (memory.size))
        (then (drop (memory.grow (i32.sub (local.get $pages) (memory.size)))))))
    (func (export "bytes") (param $len i32) (result i32)
      (call $fit (i32.add (local.get $len) (i32.const 16)))
      (i32.store (i32.const 0) (i32.const 8))
      (i32.store (i32.const 4) (local.get $len))
      (i32.const 0))
    (func (export "lists") (param $n i32) (param $inner i32) (result i32)
      (local $base i32) (local $i i32)
      (local.set $base (i32.and (i32.add (local.get $inner) (i32.const 15)) (i32.const -8)))
      (call $fit (i32.add (local.get $base) (i32.mul (local.get $n) (i32.const 8))))
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.add (local.get $base) (i32.mul (local.get $i) (i32.const 8))) (i32.const 0))
        (i32.store (i32.add (local.get $base) (i32.add (i32.mul (local.get $i) (i32.const 8)) (i32.const 4)))
          (local.get $inner))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (i32.store (i32.sub (local.get $base) (i32.const 8)) (local.get $base))
      (i32.store (i32.sub (local.get $base) (i32.const 4)) (local.get $n))
      (i32.sub (local.get $base) (i32.const 8)))
    )
  (core instance $m (instantiate $M))
  (func (export "bytes") (param "len" u32) (result (list u8))
    (canon lift (core func $m "bytes") (memory (core memory $m "memory"))))
  (func (export "lists") (param "n" u32) (param "inner" u32) (result (list (list u8)))
    (canon lift (core func $m "lists") (memory (core memory $m "memory"))))
  (func (export "strings") (param "n" u32) (param "inner" u32) (result (list string))
    (canon lift (core func $m "lists") (memory (core memory $m "memory"))))
  )"#;

fn inflate(config: impl FnOnce(&mut Config)) -> (Store<()>, Instance) {
    let engine = engine(config);
    let c = load(&engine, INFLATE);
    let mut store = Store::new(&engine, ());
    // Instantiation is metered too.
    let _ = store.set_fuel(1_000_000);
    let inst = Linker::new(&engine).instantiate(&mut store, &c).unwrap();
    (store, inst)
}

fn call_val(store: &mut Store<()>, inst: &Instance, name: &str, args: &[u32]) -> Result<Val> {
    let f = inst.get_func(&mut *store, name).expect("export");
    let args: Vec<Val> = args.iter().map(|a| Val::U32(*a)).collect();
    let mut out = [Val::Bool(false)];
    f.call(&mut *store, &args, &mut out)?;
    Ok(out[0].clone())
}

const MIB: u32 = 1 << 20;

/// The host memory a hostile lift may take before it traps: the budget is
/// checked before each allocation, so the peak stays within the default
/// 256 MiB budget (plus the store's own small allocations).
const PEAK_BOUND: usize = (256 + 4) << 20;

fn assert_over_budget(r: Result<Val>, peak: usize) {
    let e = r.unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::LimitExceeded), "{e}");
    assert!(e.message().contains("max_lifted_bytes_per_call"), "{e}");
    assert!(peak < PEAK_BOUND, "the host allocated {peak} bytes");
}

#[test]
fn val_api_a_big_byte_list_traps_on_the_lift_budget() {
    let (mut store, inst) = inflate(|_| {});
    // 16 MiB of guest bytes would be 512 MiB of `Val`s.
    let (r, peak) = counting::peak(|| call_val(&mut store, &inst, "bytes", &[16 * MIB]));
    assert_over_budget(r, peak);
    // A small one is fine (on a fresh instance: the trap poisoned this one).
    let (mut store, inst) = inflate(|_| {});
    match call_val(&mut store, &inst, "bytes", &[1000]).unwrap() {
        Val::List(v) => assert_eq!(v.len(), 1000),
        v => panic!("{v:?}"),
    }
}

#[test]
fn val_api_many_lists_over_the_same_bytes_trap_on_the_lift_budget() {
    let (mut store, inst) = inflate(|_| {});
    // 1000 lists over the same 1 MiB: 32 GB of `Val`s from 1 MiB of guest memory.
    let (r, peak) = counting::peak(|| call_val(&mut store, &inst, "lists", &[1000, MIB]));
    assert_over_budget(r, peak);
    let (mut store, inst) = inflate(|_| {});
    let (r, peak) = counting::peak(|| call_val(&mut store, &inst, "strings", &[1000, MIB]));
    assert_over_budget(r, peak);
}

#[test]
fn the_lift_budget_is_configurable() {
    let (mut store, inst) = inflate(|c| {
        c.max_lifted_bytes_per_call(64 * 1024);
    });
    // 1000 elements of 32 bytes fit in 64 KiB; 4000 do not.
    assert!(call_val(&mut store, &inst, "bytes", &[1000]).is_ok());
    let r = call_val(&mut store, &inst, "bytes", &[4000]);
    assert_over_budget(r, 0);
}

#[test]
fn typed_api_nested_lists_and_strings_trap_on_the_lift_budget() {
    let (mut store, inst) = inflate(|_| {});
    let f = inst.get_func(&mut store, "lists").unwrap();
    let f = f.typed::<(u32, u32), Vec<Vec<u8>>>(&mut store).unwrap();
    assert_eq!(f.call(&mut store, (3, 5)).unwrap(), vec![vec![0u8; 5]; 3]);
    // 1000 lists over the same 1 MiB: 1 GB on the host.
    let (r, peak) = counting::peak(|| f.call(&mut store, (1000, MIB)));
    let e = r.unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::LimitExceeded), "{e}");
    assert!(peak <= PEAK_BOUND, "the host allocated {peak} bytes");

    let (mut store, inst) = inflate(|_| {});
    let f = inst.get_func(&mut store, "strings").unwrap();
    let f = f.typed::<(u32, u32), Vec<String>>(&mut store).unwrap();
    let (r, peak) = counting::peak(|| f.call(&mut store, (1000, MIB)));
    let e = r.unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::LimitExceeded), "{e}");
    assert!(peak <= PEAK_BOUND, "the host allocated {peak} bytes");
}

#[test]
fn typed_api_runs_out_of_fuel_before_building_the_value() {
    let (mut store, inst) = inflate(|c| {
        c.consume_fuel(true);
    });
    store.set_fuel(1_000_000).unwrap();
    let f = inst.get_func(&mut store, "lists").unwrap();
    let f = f.typed::<(u32, u32), Vec<Vec<u8>>>(&mut store).unwrap();
    // 1e6 fuel pays for ~8 MB of lifting: the trap comes before 1 GB is built.
    let (r, peak) = counting::peak(|| f.call(&mut store, (1000, MIB)));
    let e = r.unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::OutOfFuel), "{e}");
    assert!(peak < 16 << 20, "the host allocated {peak} bytes");
}

/// `run(n)` calls `resource.new` `n` times (forever if `n` is 0).
const HANDLE_LOOP: &str = r#"(component
  (type $r (resource (rep i32)))
  (core func $new (canon resource.new $r))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (func (export "run") (param $n i32)
      (loop $l
        (drop (call $new (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br_if $l (local.get $n)))))
  (core instance $i (instantiate $m (with "" (instance (export "new" (func $new))))))
  (func (export "run") (param "n" u32) (canon lift (core func $i "run"))))"#;

fn run_handle_loop(store: &mut Store<()>, engine: &Engine, n: u32) -> Result<()> {
    let c = load(engine, HANDLE_LOOP);
    let inst = Linker::new(engine).instantiate(&mut *store, &c)?;
    let f = inst.get_func(&mut *store, "run").unwrap();
    f.call(&mut *store, &[Val::U32(n)], &mut [])
}

#[test]
fn a_guest_creating_handles_forever_stops_at_the_default_handle_limit() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let (r, peak) = counting::peak(|| run_handle_loop(&mut store, &engine, 0));
    let e = r.unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::TooManyHandles), "{e}");
    let (tables, _) = store.handle_table_high_water();
    assert_eq!(
        tables.iter().max().copied(),
        Some(DEFAULT_MAX_HANDLES_PER_INSTANCE as usize)
    );
    // 2^20 handles of 24 bytes (and the table's doubling), not gigabytes.
    assert!(peak < 64 << 20, "the host allocated {peak} bytes");
    assert!(store.limits().store_bytes_used() >= 24 << 20);
}

#[test]
fn handle_tables_count_against_the_store_budget() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    store.limiter(StoreLimitsBuilder::new().store_bytes(2 << 20).build());
    let e = run_handle_loop(&mut store, &engine, 0).unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::LimitExceeded), "{e}");
    assert!(e.message().contains("store_bytes"), "{e}");
    assert!(store.limits().store_bytes_used() <= 2 << 20);
}

#[test]
fn resource_new_is_charged_fuel() {
    let engine = engine(|c| {
        c.consume_fuel(true);
    });
    let fuel_for = |n: u32| {
        let mut store = Store::new(&engine, ());
        store.set_fuel(1 << 40).unwrap();
        run_handle_loop(&mut store, &engine, n).unwrap();
        (1u64 << 40) - store.get_fuel().unwrap()
    };
    // Each `resource.new` costs at least 8 fuel besides the core code.
    let per_handle = (fuel_for(1001) - fuel_for(1)) / 1000;
    assert!(per_handle >= 8 + 3, "{per_handle} fuel per handle");
}

/// `grow(pages)` grows memory 0 by `pages` at once; `grow-loop` one page
/// at a time forever.
const GROW: &str = r#"(component
  (core module $m
    (memory 1)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "grow-loop") (loop $l (drop (memory.grow (i32.const 1))) (br $l))))
  (core instance $i (instantiate $m))
  (func (export "grow") (param "pages" u32) (result s32) (canon lift (core func $i "grow")))
  (func (export "grow-loop") (canon lift (core func $i "grow-loop"))))"#;

#[test]
fn a_memory_grow_toward_4_gib_fails_fast_naming_the_limit() {
    let engine = engine(|c| {
        c.max_memory_bytes(16 << 20);
    });
    let c = load(&engine, GROW);
    let mut store = Store::new(&engine, ());
    let inst = Linker::new(&engine).instantiate(&mut store, &c).unwrap();
    let f = inst.get_func(&mut store, "grow").unwrap();
    let mut out = [Val::S32(0)];
    let start = std::time::Instant::now();
    let (r, peak) = counting::peak(|| f.call(&mut store, &[Val::U32(65535)], &mut out));
    let e = r.unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::GrowthOperationLimited), "{e}");
    assert!(e.message().contains("memory size limit of 16777216"), "{e}");
    // Denied before wasmi allocates anything.
    assert!(peak < 1 << 20, "the host allocated {peak} bytes");
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn a_denied_grow_can_return_minus_one_instead_of_trapping() {
    let engine = Engine::default();
    let c = load(&engine, GROW);
    let mut store = Store::new(&engine, ());
    store.limiter(
        StoreLimitsBuilder::new()
            .memory_size(4 << 20)
            .trap_on_grow_failure(false)
            .build(),
    );
    let inst = Linker::new(&engine).instantiate(&mut store, &c).unwrap();
    let f = inst.get_func(&mut store, "grow").unwrap();
    let mut out = [Val::S32(0)];
    f.call(&mut store, &[Val::U32(1000)], &mut out).unwrap();
    assert_eq!(out[0], Val::S32(-1));
    f.call(&mut store, &[Val::U32(1)], &mut out).unwrap();
    assert_eq!(out[0], Val::S32(1));
}

/// A core module with ten one-page memories.
const TEN_MEMORIES: &str = r#"(component
  (core module $m
    (memory 1) (memory 1) (memory 1) (memory 1) (memory 1)
    (memory 1) (memory 1) (memory 1) (memory 1) (memory 1))
  (core instance $i (instantiate $m)))"#;

#[test]
fn the_store_budget_covers_the_memories_of_every_instance() {
    let engine = Engine::default();
    let c = load(&engine, TEN_MEMORIES);
    let mut store = Store::new(&engine, ());
    store.limiter(StoreLimitsBuilder::new().store_bytes(4 << 20).build());
    let mut made = 0;
    let e = loop {
        match Linker::new(&engine).instantiate(&mut store, &c) {
            Ok(_) => made += 1,
            Err(e) => break e,
        }
        assert!(made < 100, "the store budget was not enforced");
    };
    // 4 MiB is 64 pages: six instances of ten pages each.
    assert_eq!(made, 6);
    assert!(e.message().contains("budget of 4194304 bytes"), "{e}");
    assert!(store.limits().store_bytes_used() <= 4 << 20);
}

#[test]
fn the_store_budget_covers_memory_growth() {
    let engine = Engine::default();
    let c = load(&engine, GROW);
    let mut store = Store::new(&engine, ());
    store.limiter(StoreLimitsBuilder::new().store_bytes(8 << 20).build());
    let inst = Linker::new(&engine).instantiate(&mut store, &c).unwrap();
    let f = inst.get_func(&mut store, "grow-loop").unwrap();
    let e = f.call(&mut store, &[], &mut []).unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::GrowthOperationLimited), "{e}");
    assert!(e.message().contains("store_bytes"), "{e}");
}

#[test]
fn an_initial_memory_over_the_limit_fails_instantiation_naming_the_limit() {
    let engine = engine(|c| {
        c.max_memory_bytes(1 << 20);
    });
    let c = load(
        &engine,
        r#"(component (core module $m (memory 100)) (core instance $i (instantiate $m)))"#,
    );
    let mut store = Store::new(&engine, ());
    let e = Linker::new(&engine)
        .instantiate(&mut store, &c)
        .err()
        .expect("an error");
    assert!(
        e.message()
            .contains("linear memory of 6553600 bytes is over the memory size limit of 1048576"),
        "{e}"
    );
}

#[test]
fn the_count_limits_of_wasmi_are_exposed() {
    let engine = Engine::default();
    let c = load(&engine, TEN_MEMORIES);
    let mut store = Store::new(&engine, ());
    store.limiter(StoreLimitsBuilder::new().memories(15).build());
    Linker::new(&engine).instantiate(&mut store, &c).unwrap();
    let e = Linker::new(&engine)
        .instantiate(&mut store, &c)
        .err()
        .expect("an error");
    assert!(e.message().contains("memor"), "{e}");
    let mut store = Store::new(&engine, ());
    store.limiter(StoreLimitsBuilder::new().instances(0).build());
    assert!(Linker::new(&engine).instantiate(&mut store, &c).is_err());
}

#[test]
fn the_lift_budget_is_capped_by_what_is_left_of_the_store_budget() {
    let (mut store, inst) = inflate(|_| {});
    let used = store.limits().store_bytes_used();
    store.limiter(
        StoreLimitsBuilder::new()
            .store_bytes(used + 64 * 1024)
            .build(),
    );
    assert!(call_val(&mut store, &inst, "bytes", &[1000]).is_ok());
    let e = call_val(&mut store, &inst, "bytes", &[4000]).unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::LimitExceeded), "{e}");
}

/// A component defining `types` resource types and instantiating an empty
/// nested component `nested` times.
fn many_types_and_instances(types: usize, nested: usize) -> String {
    let mut wat = String::from("(component\n");
    for _ in 0..types {
        wat.push_str("(type (resource (rep i32)))\n");
    }
    wat.push_str("(component $empty)\n");
    for _ in 0..nested {
        wat.push_str("(instance (instantiate $empty))\n");
    }
    wat.push(')');
    wat
}

#[test]
fn nested_instances_do_not_copy_the_binary_s_resource_types() {
    let engine = Engine::default();
    let c = load(&engine, &many_types_and_instances(20_000, 500));
    let mut store = Store::new(&engine, ());
    // Before: each of the 500 instances copied a map of all 20,000 types (40 MB).
    let (r, peak) = counting::peak(|| Linker::new(&engine).instantiate(&mut store, &c));
    r.unwrap();
    assert!(peak < 8 << 20, "the host allocated {peak} bytes");
}

#[test]
fn runtime_resource_types_are_limited_per_store() {
    let engine = engine(|c| {
        c.max_resource_types(5_000);
    });
    let c = load(&engine, &many_types_and_instances(1_000, 0));
    let mut store = Store::new(&engine, ());
    let mut made = 0;
    let e = loop {
        match Linker::new(&engine).instantiate(&mut store, &c) {
            Ok(_) => made += 1,
            Err(e) => break e,
        }
        assert!(made < 10, "the limit was not enforced");
    };
    assert_eq!(made, 5);
    assert!(
        e.message().contains("max_resource_types limit of 5000"),
        "{e}"
    );
}

#[test]
fn instantiation_matches_names_without_quadratic_work() {
    // A module importing 40,000 functions from a bag of 40,000 exports:
    // 800M name comparisons when each was found by a linear search.
    const N: usize = 40_000;
    let mut wat = String::from(
        "(component (core module $f (func (export \"f\"))) (core instance $fi (instantiate $f))\n\
         (core instance $bag\n",
    );
    for k in 0..N {
        wat.push_str(&format!("(export \"f{k}\" (func $fi \"f\"))\n"));
    }
    wat.push_str(")\n(core module $m\n");
    for k in 0..N {
        wat.push_str(&format!("(import \"b\" \"f{k}\" (func))\n"));
    }
    wat.push_str(")\n(core instance (instantiate $m (with \"b\" (instance $bag)))))");
    let engine = Engine::default();
    let c = load(&engine, &wat);
    let mut store = Store::new(&engine, ());
    let start = std::time::Instant::now();
    Linker::new(&engine).instantiate(&mut store, &c).unwrap();
    let took = start.elapsed();
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
}

#[test]
fn instantiation_is_metered_by_fuel() {
    let engine = engine(|c| {
        c.consume_fuel(true);
    });
    let c = load(&engine, &many_types_and_instances(10, 100));
    let mut store = Store::new(&engine, ());
    let e = Linker::new(&engine)
        .instantiate(&mut store, &c)
        .err()
        .expect("no fuel");
    assert_eq!(e.trap_kind(), Some(TrapKind::OutOfFuel), "{e}");
    let mut store = Store::new(&engine, ());
    store.set_fuel(10_000).unwrap();
    Linker::new(&engine).instantiate(&mut store, &c).unwrap();
    // At least one unit per step: 10 types, a component, 100 instances.
    assert!(10_000 - store.get_fuel().unwrap() >= 111);
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
