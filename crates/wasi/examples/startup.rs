//! Start-up cost of a WASI command: `Component::new` and instantiation of
//! the wasip2 `hello` guest (16 WASI imports, linked with
//! `componentry_wasi::add_to_linker`), against the same for the
//! image-filter component, which imports no WASI, and the whole run of
//! `hello`, and the cost of `add_to_linker` itself. Prints the median of 21 rounds of each.
//!
//! `cargo run --release -p componentry-wasi --example startup`

use std::time::{Duration, Instant};

use componentry::{Component, Engine, Linker, Store};
use componentry_wasi::{add_to_linker, run_command, WasiCtx};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let hello = std::fs::read(format!("{root}/tests/guests/wasi/hello.wasm"))?;
    let filter = std::fs::read(format!("{root}/examples/image-filter/image-filter.wasm"))?;
    let engine = Engine::default();
    let (mut load_h, mut link_h, mut inst_h, mut run_h, mut load_f, mut inst_f) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..21 {
        let t = Instant::now();
        let component = Component::new(&engine, &hello)?;
        load_h.push(t.elapsed());
        let t = Instant::now();
        let mut linker = Linker::new(&engine);
        add_to_linker::<WasiCtx>(&mut linker)?;
        link_h.push(t.elapsed());
        let t = Instant::now();
        let mut store = Store::new(&engine, WasiCtx::builder().capture_stdout(1024).build());
        let instance = linker.instantiate(&mut store, &component)?;
        inst_h.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(run_command(&mut store, &component, &instance)?, 0);
        run_h.push(t.elapsed());
        assert_eq!(store.data().stdout(), Some(&b"Hello, world!\n"[..]));

        let t = Instant::now();
        let component = Component::new(&engine, &filter)?;
        load_f.push(t.elapsed());
        let t = Instant::now();
        let mut linker = Linker::<()>::new(&engine);
        linker
            .root()
            .func_wrap("progress", |_cx, (_d, _t): (u32, u32)| Ok(()))?;
        let mut store = Store::new(&engine, ());
        linker.instantiate(&mut store, &component)?;
        inst_f.push(t.elapsed());
    }
    println!(
        "hello.wasm ({} B): Component::new {:?}, add_to_linker {:?}, instantiate {:?}, run {:?}",
        hello.len(),
        median(load_h),
        median(link_h),
        median(inst_h),
        median(run_h)
    );
    println!(
        "image-filter.wasm ({} B, no WASI): Component::new {:?}, link + instantiate {:?}",
        filter.len(),
        median(load_f),
        median(inst_f)
    );
    Ok(())
}
