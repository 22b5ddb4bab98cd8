//! `test:everything`: exports `api` by forwarding every call to the
//! imported `api` (so each value crosses host → guest → host and back),
//! exports a guest-defined resource `acc`, and a world-level function
//! forwarding to a world-level import. Used by `tests/bindgen.rs`.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

wit_bindgen::generate!({
    path: "wit",
    world: "everything",
    generate_all,
});

use exports::test::everything::accounts::{self, Acc as AccHandle, AccBorrow, GuestAcc};
use exports::test::everything::api as ex;
use test::dep::things::Thing;
use test::everything::api as im;
use test::everything::types::{Bag, Blob, Color, Perms, Point, Scalars, Shape};

static LIVE: AtomicU32 = AtomicU32::new(0);

struct Component;

impl Guest for Component {
    fn shout_twice(msg: String) -> String {
        let once = shout(&msg);
        shout(&once)
    }
}

impl ex::Guest for Component {
    fn nothing() {
        im::nothing()
    }
    fn one(x: u32) -> u32 {
        im::one(x)
    }
    fn many(a: u8, b: i64, c: f64, d: String, e: char) -> (u8, i64, f64, String, char) {
        im::many(a, b, c, &d, e)
    }
    fn echo_scalars(s: Scalars) -> Scalars {
        im::echo_scalars(s)
    }
    fn echo_shape(s: Shape) -> Shape {
        im::echo_shape(&s)
    }
    fn echo_color(c: Color) -> Color {
        im::echo_color(c)
    }
    fn echo_perms(p: Perms) -> Perms {
        im::echo_perms(p)
    }
    fn echo_points(p: Vec<Point>) -> Vec<Point> {
        im::echo_points(&p)
    }
    fn echo_bag(b: Bag) -> Bag {
        im::echo_bag(&b)
    }
    fn echo_thing(t: Thing) -> Thing {
        im::echo_thing(&t)
    }
    fn maybe(x: Option<String>) -> Option<String> {
        im::maybe(x.as_deref())
    }
    fn fallible(ok: bool) -> Result<u32, String> {
        im::fallible(ok)
    }
    fn unit_result(ok: bool) -> Result<(), ()> {
        im::unit_result(ok)
    }
    fn spilled(
        a: (u64, u64, u64, u64),
        b: (u64, u64, u64, u64),
        c: (u64, u64, u64, u64),
        d: (u64, u64, u64, u64),
        e: u32,
    ) -> u64 {
        im::spilled(a, b, c, d, e)
    }
    fn blob_len(b: &Blob) -> u32 {
        // The resource's own method and the import must agree.
        let len = b.len();
        assert_eq!(len, im::blob_len(b));
        len
    }
    fn blob_take(b: Blob) -> Vec<u8> {
        im::blob_take(b)
    }
    /// `data` twice: made by the import and by the constructor, then
    /// merged (the two parts are dropped, which the host sees).
    fn blob_make(data: Vec<u8>) -> Blob {
        let made = im::blob_make(&data);
        let built = Blob::new(&[]);
        built.append(&data);
        Blob::merge(&made, &built)
    }
}

struct Acc(Cell<i64>);

impl Drop for Acc {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

impl GuestAcc for Acc {
    fn new(start: i64) -> Self {
        LIVE.fetch_add(1, Ordering::Relaxed);
        Acc(Cell::new(start))
    }
    fn add(&self, n: i64) {
        self.0.set(self.0.get().wrapping_add(n));
    }
    fn total(&self) -> i64 {
        self.0.get()
    }
    fn combine(a: AccBorrow<'_>, b: AccBorrow<'_>) -> AccHandle {
        let sum = a.get::<Acc>().total().wrapping_add(b.get::<Acc>().total());
        AccHandle::new(Acc::new(sum))
    }
    fn consume(a: AccHandle) -> i64 {
        a.get::<Acc>().total()
    }
}

impl accounts::Guest for Component {
    type Acc = Acc;
    fn live() -> u32 {
        LIVE.load(Ordering::Relaxed)
    }
}

export!(Component);
