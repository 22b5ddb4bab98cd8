//! The deterministic profile: the same guest and inputs give identical
//! stdout, exit code and remaining fuel on two runs, and on two stores of
//! one engine; the clocks are virtual and nothing sleeps.

mod common;

use common::*;
use componentry::{Component, Config, Engine, Linker};
use componentry_wasi::{add_to_linker, DirAccess, MemoryDir, WasiCtx, WasiCtxBuilder};

const FUEL: u64 = 20_000_000_000;

fn builder(args: &[&str]) -> WasiCtxBuilder {
    let mut b = cmd(args);
    b.deterministic(42).stdin_bytes(&b"replayed input\n"[..]);
    let mut mem = MemoryDir::new();
    mem.add_file("x/b.txt", b"bee").unwrap();
    mem.add_file("x/a.txt", b"ay").unwrap();
    b.preopened_memory_dir(mem, "/m", DirAccess::ReadWrite);
    b
}

/// Cases of the `cli` and `fs` guests whose output depends on the clocks,
/// randomness (std's `HashMap` seed included), stdin and the filesystem.
const CASES: &[(&str, &[&str])] = &[
    ("cli.wasm", &["time"]),
    ("cli.wasm", &["random"]),
    ("cli.wasm", &["sleep", "2500"]),
    ("cli.wasm", &["cat"]),
    ("cli.wasm", &["exit", "3"]),
    ("fs.wasm", &["basics", "/m/x"]),
    ("fs.wasm", &["ls", "/m/x"]),
];

#[test]
fn two_runs_are_identical() {
    for (wasm, args) in CASES {
        let a = run_with(&guest(wasm), &mut builder(args), Some(FUEL));
        let b = run_with(&guest(wasm), &mut builder(args), Some(FUEL));
        let code = |r: &Run| r.code.as_ref().map_err(ToString::to_string).cloned();
        assert_eq!(code(&a), code(&b), "{args:?}");
        assert!(a.code.is_ok(), "{args:?}: {:?} {}", a.code, a.stderr);
        assert_eq!(a.stdout, b.stdout, "{args:?}");
        assert_eq!(a.stderr, b.stderr, "{args:?}");
        assert_eq!(a.fuel, b.fuel, "{args:?}");
        assert!(a.fuel.unwrap() < FUEL);
    }
}

#[test]
fn two_stores_of_one_engine_are_identical() {
    let mut config = Config::new();
    config.consume_fuel(true).deterministic(true);
    let engine = Engine::new(&config);
    let mut linker = Linker::new(&engine);
    add_to_linker::<WasiCtx>(&mut linker).unwrap();
    for (wasm, args) in CASES {
        let component = Component::new(&engine, &guest(wasm)).unwrap();
        let a = run_in(
            &engine,
            &component,
            &linker,
            builder(args).build(),
            Some(FUEL),
        );
        let b = run_in(
            &engine,
            &component,
            &linker,
            builder(args).build(),
            Some(FUEL),
        );
        assert_eq!(a.stdout, b.stdout, "{args:?}");
        assert_eq!(a.fuel, b.fuel, "{args:?}");
        assert_eq!(a.ctx.exit_code(), b.ctx.exit_code(), "{args:?}");
    }
}

#[test]
fn virtual_clocks_start_at_a_fixed_instant() {
    let r = run(&guest("cli.wasm"), &mut builder(&["time"]));
    // 2000-01-01T00:00:00Z plus a few 1 µs steps.
    assert!(r.stdout.starts_with("wall=946684800.0000"), "{}", r.stdout);
    assert!(r.stdout.contains("monotonic went back: false"));
    assert!(r.stdout.contains("monotonic resolution=1000ns"));
}

#[test]
fn a_different_seed_gives_different_randomness() {
    let mut b = builder(&["random"]);
    b.deterministic(43);
    let a = run(&guest("cli.wasm"), &mut builder(&["random"]));
    let c = run(&guest("cli.wasm"), &mut b);
    assert_ne!(a.stdout, c.stdout);
}
