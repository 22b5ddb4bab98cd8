//! Loading a component from its image (`Component::deserialize`) against
//! parsing and validating it (`Component::new`), each followed by an
//! instantiation, for the image-filter guest (25 KB, wit-bindgen).
//!
//! Run: `cargo bench --bench images`. Prints µs for both ways and their
//! ratio.

use componentry::{Component, Engine, Linker, Store};
use criterion::{black_box, Criterion};
use std::time::{Duration, Instant};

const GUEST: &[u8] = include_bytes!("../examples/image-filter/image-filter.wasm");

fn linker(engine: &Engine) -> Linker<()> {
    let mut linker = Linker::new(engine);
    linker
        .root()
        .func_wrap("progress", |_, (_done, _total): (u32, u32)| Ok(()))
        .unwrap();
    linker
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .configure_from_args();
    let engine = Engine::default();
    let image = Component::new(&engine, GUEST).unwrap().serialize().unwrap();
    let linker = linker(&engine);
    let mut per = [0.0f64; 2];
    for (k, name) in ["new+instantiate", "deserialize+instantiate"]
        .iter()
        .enumerate()
    {
        c.bench_function(&format!("image-filter/{name}"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    let component = if k == 0 {
                        Component::new(&engine, GUEST).unwrap()
                    } else {
                        // SAFETY: made by `serialize` just above, in this
                        // process.
                        unsafe { Component::deserialize(&engine, &image) }.unwrap()
                    };
                    let mut store = Store::new(&engine, ());
                    black_box(linker.instantiate(&mut store, &component).unwrap());
                }
                let t = start.elapsed();
                per[k] = t.as_nanos() as f64 / iters as f64 / 1000.0;
                t
            })
        });
    }
    println!();
    println!("| image-filter guest (25 KB) | µs |");
    println!("| --- | ---: |");
    println!("| Component::new + instantiate | {:.1} |", per[0]);
    println!("| Component::deserialize + instantiate | {:.1} |", per[1]);
    println!("| ratio deserialize / new | {:.2} |", per[1] / per[0]);
    println!(
        "image size: {} B (component {} B)",
        image.len(),
        GUEST.len()
    );
}
