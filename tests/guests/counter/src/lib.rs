//! `example:counter`: a guest-defined resource with a constructor, methods,
//! static functions and a destructor that the tests can observe.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

wit_bindgen::generate!({
    path: "wit",
    world: "counter-world",
});

use exports::example::counter::counters::{
    Counter as CounterHandle, CounterBorrow, Guest, GuestCounter,
};

static LIVE: AtomicU32 = AtomicU32::new(0);

struct Component;

struct Counter(Cell<u32>);

impl Drop for Counter {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

impl GuestCounter for Counter {
    fn new(start: u32) -> Self {
        LIVE.fetch_add(1, Ordering::Relaxed);
        Counter(Cell::new(start))
    }

    fn inc(&self) {
        self.0.set(self.0.get().wrapping_add(1));
    }

    fn get(&self) -> u32 {
        self.0.get()
    }

    fn merge(a: CounterBorrow<'_>, b: CounterBorrow<'_>) -> CounterHandle {
        let sum = a
            .get::<Counter>()
            .get()
            .wrapping_add(b.get::<Counter>().get());
        CounterHandle::new(Counter::new(sum))
    }

    fn finish(c: CounterHandle) -> u32 {
        c.get::<Counter>().get()
    }
}

impl Guest for Component {
    type Counter = Counter;

    fn live() -> u32 {
        LIVE.load(Ordering::Relaxed)
    }
}

export!(Component);
