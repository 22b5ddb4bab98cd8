//! A guest must never take the host down (issue #21): bounded host memory
//! (lifted values, handle tables, the store budget, wasmi's limits) and
//! bounded instantiation. Each test measures what the host allocated with a
//! counting allocator.

use componentry::*;

fn engine(f: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    f(&mut config);
    Engine::new(&config)
}

fn load(engine: &Engine, wat: &str) -> Component {
    Component::new(engine, &wat::parse_str(wat).expect("wat")).expect("load")
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
