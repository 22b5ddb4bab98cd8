//! Replays the fuzz corpus (`fuzz/corpus/<target>/`: seeds and every crash
//! the fuzzers found, kept as regression inputs) through the same entry
//! functions the cargo-fuzz targets call, on stable Rust. See `fuzz/`.

use std::fs;
use std::path::{Path, PathBuf};

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz_logic;

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus in {}", dir.display());
    files
}

/// Runs every corpus file of `target` through `entry`; reports all the
/// files that panic, not just the first.
fn replay(target: &str, entry: fn(&[u8])) {
    let mut failed = Vec::new();
    for file in corpus(target) {
        let data = fs::read(&file).unwrap();
        if std::panic::catch_unwind(|| entry(&data)).is_err() {
            failed.push(file.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    assert!(failed.is_empty(), "{target}: inputs that panic: {failed:?}");
}

#[test]
fn load_corpus() {
    replay("load", fuzz_logic::load);
}

#[test]
fn roundtrip_corpus() {
    replay("roundtrip", fuzz_logic::roundtrip);
}

#[test]
fn valid_modules_corpus() {
    replay("valid_modules", fuzz_logic::valid_modules);
}

/// The host-memory oracle fails a run that takes more than its budget,
/// and refuses allocations past its hard cap (so fallible ones fail).
#[test]
fn the_host_memory_oracle_catches_a_run_over_budget() {
    use fuzz_logic::host_memory::{bounded, peak_of, BUDGET, HARD_CAP};
    let under = std::panic::catch_unwind(|| bounded(|| vec![1u8; 1 << 20].len()));
    assert_eq!(under.ok(), Some(1 << 20));
    let over = std::panic::catch_unwind(|| bounded(|| vec![1u8; BUDGET + (1 << 20)].len()));
    assert!(over.is_err(), "a run over budget passed the oracle");
    let refused = bounded(|| {
        let mut v: Vec<u8> = Vec::new();
        v.try_reserve_exact(HARD_CAP + 1).is_err()
    });
    assert!(refused, "an allocation past the hard cap was allowed");
    assert!(peak_of(|| drop(vec![0u8; 4096])) >= 4096);
}

/// The load input format: a component, argument bytes, their length.
#[test]
fn load_input_splits_at_the_tail_length() {
    let input = fuzz_logic::join_tail(b"component", b"args");
    assert_eq!(
        fuzz_logic::split_tail(&input),
        (&b"component"[..], &b"args"[..])
    );
    // Any bytes are an input.
    assert_eq!(fuzz_logic::split_tail(b"x"), (&b"x"[..], &b""[..]));
    assert_eq!(fuzz_logic::split_tail(b"ab\x02\x00").1.len(), 2);
}

/// Found by `load` (`fuzz/corpus/load/regress-loop-stack-overflow-*`):
/// a guest loop that runs until its fuel is out. In a build with
/// optimizations *and* debug assertions (`cargo fuzz run -a`, or a release
/// profile with `debug-assertions = true`) wasmi 2.0 picks its tail-call
/// dispatch, whose handlers then are not sibling-call optimized: every
/// executed instruction takes a native stack frame and some 50,000 loop
/// iterations overflow an 8 MiB stack (SIGSEGV / "has overflowed its
/// stack"), instead of ending with an out-of-fuel trap. Debug builds (this
/// test under plain `cargo test`) use the loop dispatch and pass.
#[test]
fn guest_loop_until_out_of_fuel_traps_without_overflowing_the_stack() {
    use componentry::{Component, Config, Engine, Linker, Store, TrapKind, Val};
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config);
    let bytes = wat::parse_str(
        r#"(component
            (core module $m
              (func (export "spin") (param i32) (result i32)
                (loop $l (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
                (local.get 0)))
            (core instance $i (instantiate $m))
            (func (export "spin") (param "n" u32) (result u32)
              (canon lift (core func $i "spin"))))"#,
    )
    .unwrap();
    let component = Component::new(&engine, &bytes).unwrap();
    let mut store = Store::new(&engine, ());
    store.set_fuel(1_000_000).unwrap();
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let spin = instance.get_func(&mut store, "spin").unwrap();
    let mut r = [Val::U32(1)];
    let e = spin
        .call(&mut store, &[Val::U32(u32::MAX)], &mut r)
        .expect_err("the loop outlasts its fuel");
    assert_eq!(e.trap_kind(), Some(TrapKind::OutOfFuel));
}
