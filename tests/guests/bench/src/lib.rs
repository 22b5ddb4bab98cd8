//! `peerbench:bench`: the boundary benchmark's workloads
//! (`shared/bench/bench.wit`, copied to `wit/`) as a wit-bindgen guest
//! would write them. Its `cabi_realloc` is the standard allocator and
//! wit-bindgen's post-return functions free what a call returned, so the
//! benchmark measures what a real toolchain's guest costs at the boundary.

use std::cell::Cell;

wit_bindgen::generate!({
    path: "wit",
    world: "bench",
});

use exports::peerbench::bench::api::{BigRecord, Guest, GuestCounter};
use peerbench::bench::host;

struct Component;

struct Counter(Cell<u64>);

impl GuestCounter for Counter {
    fn new() -> Self {
        Counter(Cell::new(0))
    }

    fn inc(&self) {
        self.0.set(self.0.get().wrapping_add(1));
    }

    fn get(&self) -> u64 {
        self.0.get()
    }
}

/// The string `call-host-log` logs: 32 bytes.
const LOG_LINE: &str = "0123456789abcdef0123456789abcdef";

impl Guest for Component {
    type Counter = Counter;

    fn nop() {}

    fn add(a: u32, b: u32) -> u32 {
        a.wrapping_add(b)
    }

    fn echo_string(s: String) -> String {
        s
    }

    fn sum_bytes(b: Vec<u8>) -> u64 {
        b.iter().map(|&x| u64::from(x)).sum()
    }

    fn make_bytes(n: u32) -> Vec<u8> {
        (0..n).map(|i| i as u8).collect()
    }

    fn echo_record(r: BigRecord) -> BigRecord {
        r
    }

    fn count_strings(l: Vec<String>) -> u32 {
        l.iter().filter(|s| !s.is_empty()).count() as u32
    }

    fn call_host_add(n: u32) -> u32 {
        let mut acc = 0u32;
        for _ in 0..n {
            acc = host::add(acc, 1);
        }
        acc
    }

    fn call_host_log(n: u32) {
        for _ in 0..n {
            host::log(LOG_LINE);
        }
    }
}

export!(Component);
