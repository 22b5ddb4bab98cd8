//! What the firmwares share: the heap and its counting wrapper, stack
//! painting, semihosting output and exit, the fault and panic handlers, and
//! the simulated sensor with the expected results computed in Rust.
//!
//! The binaries are `component` (componentry + wasmi) and `wasmi-only` /
//! `wasmi-prevalidated` (wasmi alone, the baselines); they do the same work,
//! so the difference of their footprints is the component layer's cost.
//!
//! They build for a Cortex-M4F (`thumbv7em-none-eabihf`, QEMU mps2-an386)
//! and for RISC-V (`riscv32imac-unknown-none-elf`, QEMU virt); what differs
//! (the runtime's entry attribute, semihosting, the stack pointer, the fault
//! handlers) is in `arch/arm.rs` and `arch/riscv.rs`. The bins take the
//! entry attribute from here: `use fw::entry;`.
#![no_std]

extern crate alloc;

use alloc::string::String;
use core::alloc::{GlobalAlloc, Layout};
use core::fmt;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicUsize, Ordering};

#[cfg(target_arch = "arm")]
#[path = "arch/arm.rs"]
mod arch;
#[cfg(target_arch = "riscv32")]
#[path = "arch/riscv.rs"]
mod arch;
#[cfg(not(any(target_arch = "arm", target_arch = "riscv32")))]
compile_error!("the firmware builds for thumbv7em-none-eabihf or riscv32imac-unknown-none-elf");

pub use arch::{entry, exit, println};

/// Bytes given to the heap allocator. The guest's one 64 KiB page of linear
/// memory lives on this heap too.
pub const HEAP_SIZE: usize = 1024 * 1024;

/// Counts the live bytes requested from the wrapped allocator and their
/// high-water mark. `realloc` is GlobalAlloc's default (alloc, copy, free),
/// so a growing buffer counts twice while it moves, as it really does with
/// a first-fit heap.
pub struct Counting<A> {
    inner: A,
    live: AtomicUsize,
    peak: AtomicUsize,
}

impl<A> Counting<A> {
    /// Wraps `inner`.
    pub const fn new(inner: A) -> Self {
        Counting {
            inner,
            live: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// Bytes allocated and not yet freed.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// The most bytes that were ever live at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }
}

unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = self.inner.alloc(layout);
        if !p.is_null() {
            let live = self.live.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            self.peak.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.inner.dealloc(ptr, layout);
        self.live.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting<embedded_alloc::LlffHeap> =
    Counting::new(embedded_alloc::LlffHeap::empty());

/// The heap's memory, left out of `.bss` zeroing.
#[link_section = ".uninit.HEAP"]
static mut HEAP_MEM: [MaybeUninit<u8>; HEAP_SIZE] = [MaybeUninit::uninit(); HEAP_SIZE];

/// The pattern the free stack is painted with, to find its high-water mark.
const PAINT: u32 = 0xDEAD_BEEF;

extern "C" {
    /// End of the static data (cortex-m-rt and riscv-rt both define it: the
    /// start of their heap region, which is empty here): the stack may grow
    /// down to here.
    static mut __sheap: u32;
}

/// The lowest painted address, set by [`init`].
static PAINT_START: AtomicUsize = AtomicUsize::new(0);

/// Initializes the heap and paints the free stack. Call first thing.
pub fn init() {
    // SAFETY: called once, before any allocation; HEAP_MEM is used by
    // nothing else.
    unsafe {
        ALLOCATOR
            .inner
            .init(core::ptr::addr_of_mut!(HEAP_MEM) as usize, HEAP_SIZE);
    }
    // Paint from the end of the static data up to a little below the
    // current stack pointer (what is above it is live).
    let start = core::ptr::addr_of_mut!(__sheap) as usize;
    let end = (arch::sp() - 256) & !3;
    let mut p = start;
    while p < end {
        // SAFETY: [start, end) is RAM that no object occupies: above the
        // statics and below the live stack.
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
    PAINT_START.store(start, Ordering::Relaxed);
}

/// The deepest the stack has been since [`init`], in bytes.
pub fn stack_peak() -> usize {
    let start = PAINT_START.load(Ordering::Relaxed);
    let top = arch::sp();
    let mut p = start;
    // SAFETY: reads of the painted region, all below the live stack.
    while p < top && unsafe { core::ptr::read_volatile(p as *const u32) } == PAINT {
        p += 4;
    }
    stack_top() - p
}

fn stack_top() -> usize {
    extern "C" {
        static _stack_start: u32;
    }
    // Only the address of the linker symbol is taken.
    core::ptr::addr_of!(_stack_start) as usize
}

/// Prints the heap counters after a phase of the run.
pub fn checkpoint(phase: &str) {
    println!(
        "  heap after {}: {} B live, {} B peak",
        phase,
        ALLOCATOR.live(),
        ALLOCATOR.peak()
    );
}

/// Prints the outcome and the footprint, then exits QEMU through semihosting
/// with EXIT_SUCCESS if `result` is `Ok`, EXIT_FAILURE otherwise.
pub fn finish(result: Result<(), String>) -> ! {
    let ok = match result {
        Ok(()) => true,
        Err(e) => {
            println!("error: {}", e);
            false
        }
    };
    println!(
        "FOOTPRINT heap_peak={} heap_live_at_end={} stack_peak={}",
        ALLOCATOR.peak(),
        ALLOCATOR.live(),
        stack_peak()
    );
    println!("RESULT {}", if ok { "PASS" } else { "FAIL" });
    exit(ok)
}

/// `Result` with a message, for the firmware's own error paths.
pub trait Context<T> {
    /// Prefixes the error with what was being done.
    fn context(self, what: &str) -> Result<T, String>;
}

impl<T, E: fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: &str) -> Result<T, String> {
        self.map_err(|e| alloc::format!("{what}: {e}"))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: &str) -> Result<T, String> {
        self.ok_or_else(|| String::from(what))
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("panic: {}", info);
    println!("RESULT FAIL");
    exit(false)
}

/// The simulated sensor and the expected results, computed in Rust.
pub mod sensor {
    /// The samples passed to `summarize` directly.
    pub const SAMPLES: [f32; 8] = [21.5, -3.25, 7.0, 12.75, 0.5, -8.0, 30.25, 4.0];
    /// The channel and count for `sample-and-summarize`.
    pub const CHANNEL: u8 = 3;
    /// How many samples `sample-and-summarize` reads.
    pub const COUNT: u32 = 16;
    /// What the guest logs during `sample-and-summarize`, in order.
    pub const EXPECTED_LOGS: [&str; 2] =
        ["sample-and-summarize: start", "sample-and-summarize: done"];

    /// Reading number `i` of `channel`: a deterministic sawtooth around
    /// `10 * channel`, all values exact in f32.
    pub fn reading(channel: u8, i: u32) -> f32 {
        let k = (i.wrapping_mul(7).wrapping_add(u32::from(channel))) % 13;
        f32::from(channel) * 10.0 + k as f32 * 0.375 - 1.5
    }

    /// The readings `sample-and-summarize(channel, n)` should see.
    pub fn readings(channel: u8, n: u32) -> impl Iterator<Item = f32> {
        (0..n).map(move |i| reading(channel, i))
    }

    /// min, max and mean of a list of f32.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct Summary {
        /// The smallest sample.
        pub min: f32,
        /// The largest sample.
        pub max: f32,
        /// The mean, summed in order in f32 and divided by the count.
        pub mean: f32,
    }

    impl core::fmt::Display for Summary {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            write!(
                f,
                "{{min: {}, max: {}, mean: {}}}",
                self.min, self.max, self.mean
            )
        }
    }

    /// The summary the guest should compute, with the same operations in the
    /// same order (so the results are bit-identical). Empty → all zeros.
    pub fn summarize(samples: impl IntoIterator<Item = f32>) -> Summary {
        let mut it = samples.into_iter();
        let Some(first) = it.next() else {
            return Summary {
                min: 0.0,
                max: 0.0,
                mean: 0.0,
            };
        };
        let (mut min, mut max, mut sum, mut n) = (first, first, 0.0f32 + first, 1u32);
        for x in it {
            if x < min {
                min = x;
            }
            if x > max {
                max = x;
            }
            sum += x;
            n += 1;
        }
        Summary {
            min,
            max,
            mean: sum / n as f32,
        }
    }

    /// Checks `got` against `want` bit for bit.
    pub fn check(what: &str, got: Summary, want: Summary) -> Result<(), alloc::string::String> {
        let same = got.min.to_bits() == want.min.to_bits()
            && got.max.to_bits() == want.max.to_bits()
            && got.mean.to_bits() == want.mean.to_bits();
        crate::println!("{} = {}", what, got);
        if same {
            Ok(())
        } else {
            Err(alloc::format!("{what}: got {got}, expected {want}"))
        }
    }
}
