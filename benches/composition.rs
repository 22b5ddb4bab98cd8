//! A component-to-component string call (the fused adapter: caller memory →
//! callee memory and back) against the same call made from the host.
//!
//! Run: `cargo bench --bench composition`. Prints ns per call for both ways
//! and their ratio, for a 16 B and a 4 KiB string.

use componentry::{Component, Engine, Linker, Store, TypedFunc};
use criterion::{black_box, Criterion};
use std::time::{Duration, Instant};

/// `echo(string) -> string` in `$C`; `$D` imports it and exports
/// `run(len: u32, n: u32)`, which calls it `n` times with a `len`-byte string
/// of its own memory; the root exports both.
const WAT: &str = include_str!("components/compose.wat");

const CALLS: u32 = 100;

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .configure_from_args();
    let engine = Engine::default();
    let component = Component::new(&engine, &wat::parse_str(WAT).unwrap()).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let echo: TypedFunc<(String,), String> = instance
        .get_func(&mut store, "echo")
        .unwrap()
        .typed(&mut store)
        .unwrap();
    let run: TypedFunc<(u32, u32), ()> = instance
        .get_func(&mut store, "run")
        .unwrap()
        .typed(&mut store)
        .unwrap();

    let mut table = Vec::new();
    for len in [16u32, 4096] {
        let s = "x".repeat(len as usize);
        let mut host_ns = 0.0;
        c.bench_function(&format!("host-to-component/echo-{len}B"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    for _ in 0..CALLS {
                        black_box(echo.call(&mut store, (s.clone(),)).unwrap());
                    }
                }
                let t = start.elapsed();
                host_ns = t.as_nanos() as f64 / (iters as f64 * f64::from(CALLS));
                t
            })
        });
        let mut c2c_ns = 0.0;
        c.bench_function(&format!("component-to-component/echo-{len}B"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    run.call(&mut store, (len, CALLS)).unwrap();
                }
                let t = start.elapsed();
                c2c_ns = t.as_nanos() as f64 / (iters as f64 * f64::from(CALLS));
                t
            })
        });
        table.push((len, host_ns, c2c_ns));
    }
    println!("\n| string | host → component (ns/call) | component → component (ns/call) | ratio c2c / host |");
    println!("| --- | ---: | ---: | ---: |");
    for (len, host, c2c) in table {
        println!("| {len} B | {host:.0} | {c2c:.0} | {:.2} |", c2c / host);
    }
}
