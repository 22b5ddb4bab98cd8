//! The host-memory oracle: a counting global allocator. Each run of a
//! target may allocate at most [`BUDGET`] bytes beyond what was live when
//! it started; past [`HARD_CAP`] allocations fail (so the runtime's
//! fallible paths trap, and an infallible one aborts: a crash the fuzzer
//! reports), and a run whose peak went over the budget panics.
//!
//! The counts are per thread (`cargo test` replays the corpus on several
//! threads; libFuzzer runs one).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The host memory one run may take: the store budget and the lift budget
/// the targets configure ([`STORE_BYTES`], [`LIFT_BYTES`]) plus room for
/// the parsed component, compiled code and the harness's own values.
pub const BUDGET: usize = 192 << 20;
/// Allocations that would take a run past this fail.
pub const HARD_CAP: usize = 512 << 20;
/// The store budget (`StoreLimitsBuilder::store_bytes`) of the targets' stores.
pub const STORE_BYTES: u64 = 64 << 20;
/// `Config::max_lifted_bytes_per_call` of the targets' engines.
pub const LIFT_BYTES: u64 = 32 << 20;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    static CAP: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Counts the live bytes of each thread; see the module docs.
pub struct Counting;

fn grow(n: usize) -> bool {
    LIVE.try_with(|l| {
        let v = l.get().saturating_add(n);
        if v > CAP.try_with(Cell::get).unwrap_or(usize::MAX) {
            return false;
        }
        l.set(v);
        let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
        true
    })
    .unwrap_or(true)
}

fn shrink(n: usize) {
    let _ = LIVE.try_with(|l| l.set(l.get().saturating_sub(n)));
}

// SAFETY: every allocation is forwarded unchanged to the system allocator,
// or refused with a null pointer (which `GlobalAlloc` allows); the counting
// touches only thread-local cells with const initializers (no allocation).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !grow(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract is the system allocator's.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            shrink(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !grow(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: as above.
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            shrink(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrink(layout.size());
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old && !grow(new_size - old) {
            return std::ptr::null_mut();
        }
        // SAFETY: as above.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            if new_size > old {
                shrink(new_size - old);
            }
        } else if new_size < old {
            shrink(old - new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` (one run of a target) under the oracle: panics if it took more
/// than [`BUDGET`] bytes of host memory at its peak.
pub fn bounded<R>(f: impl FnOnce() -> R) -> R {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let cap = CAP.with(|c| c.replace(base.saturating_add(HARD_CAP)));
    let r = f();
    CAP.with(|c| c.set(cap));
    let peak = PEAK.with(Cell::get).saturating_sub(base);
    assert!(
        peak <= BUDGET,
        "host memory oracle: one run took {peak} bytes at its peak, over the budget of {BUDGET}"
    );
    r
}

/// The most bytes this thread had allocated during `f` beyond what it had
/// before (for tests of the oracle).
pub fn peak_of(f: impl FnOnce()) -> usize {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    f();
    PEAK.with(Cell::get).saturating_sub(base)
}
