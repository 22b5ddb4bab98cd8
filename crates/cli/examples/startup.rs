//! Start-up costs, in process: the wasm32-wasip2 hello world
//! (`tests/guests/wasi/hello.wasm`, 15 WASI interfaces imported at two
//! versions each) against a component without imports
//! (`tests/guests/counter.wasm`). For each: `Component::new` (parse,
//! validate, compile), linking (WASI's `add_to_linker` for hello),
//! instantiation, and for hello the run itself (stdout captured). Prints the
//! median and the fastest of N rounds (default 21).
//!
//! ```text
//! cargo run --release -p componentry-cli --example startup [N]
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use componentry::{Component, Engine, Linker, Store};
use componentry_wasi::{add_to_linker, run_command, WasiCtx};

fn read(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Durations of each phase of one round.
type Round = Vec<Duration>;

fn hello_round(engine: &Engine, bytes: &[u8]) -> Round {
    let t0 = Instant::now();
    let component = Component::new(engine, bytes).expect("hello.wasm loads");
    let t1 = Instant::now();
    let mut linker = Linker::new(engine);
    add_to_linker::<WasiCtx>(&mut linker).expect("WASI links");
    let t2 = Instant::now();
    let ctx = WasiCtx::builder()
        .arg("hello")
        .capture_stdout(1 << 16)
        .build();
    let mut store = Store::new(engine, ctx);
    let instance = linker
        .instantiate(&mut store, &component)
        .expect("hello.wasm instantiates");
    let t3 = Instant::now();
    let code = run_command(&mut store, &component, &instance).expect("hello.wasm runs");
    let t4 = Instant::now();
    assert_eq!(code, 0);
    assert_eq!(store.data().stdout(), Some(&b"Hello, world!\n"[..]));
    vec![t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0]
}

fn counter_round(engine: &Engine, bytes: &[u8]) -> Round {
    let t0 = Instant::now();
    let component = Component::new(engine, bytes).expect("counter.wasm loads");
    let t1 = Instant::now();
    let linker = Linker::<()>::new(engine);
    let t2 = Instant::now();
    let mut store = Store::new(engine, ());
    linker
        .instantiate(&mut store, &component)
        .expect("counter.wasm instantiates");
    let t3 = Instant::now();
    vec![t1 - t0, t2 - t1, t3 - t2, Duration::ZERO, t3 - t0]
}

fn report(name: &str, size: usize, mut rounds: Vec<Round>) {
    let phases = ["Component::new", "link", "instantiate", "run", "total"];
    println!("{name} ({size} bytes), {} rounds:", rounds.len());
    for (i, phase) in phases.iter().enumerate() {
        rounds.sort_by_key(|r| r[i]);
        let median = rounds[rounds.len() / 2][i];
        let min = rounds[0][i];
        println!(
            "  {phase:<15} median {:>9.1} µs   fastest {:>9.1} µs",
            median.as_secs_f64() * 1e6,
            min.as_secs_f64() * 1e6
        );
    }
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(21)
        .max(1);
    let engine = Engine::default();
    let hello = read("tests/guests/wasi/hello.wasm");
    let counter = read("tests/guests/counter.wasm");
    // One warm-up round each.
    hello_round(&engine, &hello);
    counter_round(&engine, &counter);
    let mut h = Vec::new();
    let mut c = Vec::new();
    for _ in 0..n {
        h.push(hello_round(&engine, &hello));
        c.push(counter_round(&engine, &counter));
    }
    report("tests/guests/wasi/hello.wasm (WASI)", hello.len(), h);
    report("tests/guests/counter.wasm (no imports)", counter.len(), c);
}
