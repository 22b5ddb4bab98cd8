//! Components built by a real toolchain (Rust + wit-bindgen, componentized
//! by wit-component; sources in `tests/guests/`, built by
//! `tools/build-guests.sh`), besides the image filter: a guest-defined
//! resource, and a string-heavy API with a host import. Both are called
//! through bindings generated from their WIT by `bindgen!`, besides a test
//! of the dynamic API.

use componentry::{Component, Engine, Func, Linker, ResourceAny, Store, TrapKind, Val};

const COUNTER: &[u8] = include_bytes!("guests/counter.wasm");
const STRINGS: &[u8] = include_bytes!("guests/strings.wasm");

/// Bindings generated from the guests' own WIT.
mod counter {
    componentry::bindgen!({ path: "tests/guests/counter/wit", world: "counter-world" });
}
mod strings {
    componentry::bindgen!({
        path: "tests/guests/strings/wit",
        world: "strings",
        trappable_imports: true,
    });
}

// ------------------------------------------------------------- counter

const COUNTERS: &str = "example:counter/counters";

fn counter_instance() -> (Store<()>, counter::CounterWorld) {
    let engine = Engine::default();
    let component = Component::new(&engine, COUNTER).unwrap();
    let mut store = Store::new(&engine, ());
    let world =
        counter::CounterWorld::instantiate(&mut store, &component, &Linker::new(&engine)).unwrap();
    (store, world)
}

fn new_counter(store: &mut Store<()>, w: &counter::CounterWorld, start: u32) -> ResourceAny {
    w.example_counter_counters()
        .counter()
        .call_constructor(&mut *store, start)
        .unwrap()
}

fn get(store: &mut Store<()>, w: &counter::CounterWorld, c: ResourceAny) -> u32 {
    w.example_counter_counters()
        .counter()
        .call_get(&mut *store, c)
        .unwrap()
}

fn inc(store: &mut Store<()>, w: &counter::CounterWorld, c: ResourceAny) {
    w.example_counter_counters()
        .counter()
        .call_inc(&mut *store, c)
        .unwrap()
}

fn live(store: &mut Store<()>, w: &counter::CounterWorld) -> u32 {
    w.example_counter_counters().call_live(&mut *store).unwrap()
}

#[test]
fn counter_constructor_methods_and_destructor() {
    let (mut store, inst) = counter_instance();
    let s = &mut store;
    assert_eq!(live(s, &inst), 0);
    let c = new_counter(s, &inst, 5);
    assert!(c.owned());
    assert_eq!(live(s, &inst), 1);
    for _ in 0..3 {
        inc(s, &inst, c);
    }
    assert_eq!(get(s, &inst, c), 8);
    // Dropping the host's handle runs the guest's destructor (Rust `Drop`).
    c.resource_drop(&mut *s).unwrap();
    assert_eq!(live(s, &inst), 0);
    assert!(c.resource_drop(&mut *s).is_err(), "dropped twice");
    let counter = inst.example_counter_counters().counter();
    assert!(counter.call_get(&mut *s, c).is_err(), "used after drop");
}

#[test]
fn counter_static_functions_take_borrowed_and_owned_handles() {
    let (mut store, inst) = counter_instance();
    let s = &mut store;
    let a = new_counter(s, &inst, 40);
    let b = new_counter(s, &inst, 2);
    let counter = inst.example_counter_counters().counter();
    let merged = counter.call_merge(&mut *s, a, b).unwrap();
    assert_eq!(live(s, &inst), 3);
    // Borrowing left `a` and `b` with the host.
    assert_eq!(get(s, &inst, a), 40);
    assert_eq!(get(s, &inst, b), 2);
    assert_eq!(get(s, &inst, merged), 42);
    // `finish` takes ownership: the guest drops the counter when it returns.
    assert_eq!(counter.call_finish(&mut *s, merged).unwrap(), 42);
    assert_eq!(live(s, &inst), 2);
    assert!(
        counter.call_finish(&mut *s, merged).is_err(),
        "the host's handle moved into the guest"
    );
    a.resource_drop(&mut *s).unwrap();
    b.resource_drop(&mut *s).unwrap();
    assert_eq!(live(s, &inst), 0);
}

#[test]
fn many_counters_in_one_instance() {
    let (mut store, inst) = counter_instance();
    let s = &mut store;
    let counters: Vec<ResourceAny> = (0..200).map(|i| new_counter(s, &inst, i * 10)).collect();
    for (i, &c) in counters.iter().enumerate() {
        for _ in 0..i % 4 {
            inc(s, &inst, c);
        }
    }
    for (i, &c) in counters.iter().enumerate() {
        assert_eq!(get(s, &inst, c), i as u32 * 10 + (i as u32 % 4));
    }
    assert_eq!(live(s, &inst), 200);
    for c in counters.into_iter().step_by(2) {
        c.resource_drop(&mut *s).unwrap();
    }
    assert_eq!(live(s, &inst), 100);
    // Freed slots are reused.
    let c = new_counter(s, &inst, 7);
    assert_eq!(get(s, &inst, c), 7);
    assert_eq!(live(s, &inst), 101);
}

// ------------------------------------------------------------- strings

/// The store's data: what the guest logged; `log` fails (trapping the
/// guest) for the message `FAIL`.
#[derive(Default)]
struct Logs(Vec<String>);

impl strings::StringsImports for Logs {
    fn log(&mut self, msg: String) -> componentry::Result<()> {
        if msg == "FAIL" {
            return Err(componentry::Error::host("the host refuses to log FAIL"));
        }
        self.0.push(msg);
        Ok(())
    }
}

struct Strings {
    store: Store<Logs>,
    instance: componentry::Instance,
    world: strings::Strings,
}

impl Strings {
    fn new() -> Strings {
        let engine = Engine::default();
        let component = Component::new(&engine, STRINGS).unwrap();
        let mut linker = Linker::<Logs>::new(&engine);
        strings::Strings::add_to_linker(&mut linker, |l| l).unwrap();
        let mut store = Store::new(&engine, Logs::default());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let world = strings::Strings::new(&mut store, &instance).unwrap();
        Strings {
            store,
            instance,
            world,
        }
    }

    fn func(&mut self, name: &str) -> Func {
        self.instance.get_func(&mut self.store, name).unwrap()
    }

    fn split(&mut self, s: &str, sep: &str) -> Vec<String> {
        self.world.call_split(&mut self.store, s, sep).unwrap()
    }

    fn join(&mut self, parts: &[String], sep: &str) -> String {
        self.world.call_join(&mut self.store, parts, sep).unwrap()
    }

    fn upper(&mut self, s: &str) -> String {
        self.world.call_upper(&mut self.store, s).unwrap()
    }
}

fn texts() -> Vec<String> {
    vec![
        String::new(),
        "a".into(),
        "a,b,,c,".into(),
        ",,,".into(),
        "héllo, wörld, straße".into(),
        "日本語,テキスト,😀🎉".into(),
        "x".repeat(1_000) + "," + &"y".repeat(500),
        (0..500)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(","),
    ]
}

#[test]
fn split_join_and_upper_match_rust() {
    let mut g = Strings::new();
    for text in texts() {
        for sep in [",", ", ", "", "ö", "😀", "not there"] {
            let expected: Vec<String> = text.split(sep).map(String::from).collect();
            let parts = g.split(&text, sep);
            assert_eq!(parts, expected, "split {text:?} at {sep:?}");
            assert_eq!(g.join(&parts, sep), text, "join at {sep:?}");
        }
        assert_eq!(g.upper(&text), text.to_uppercase());
    }
    assert!(g.store.data().0.is_empty(), "only shout logs");
}

#[test]
fn shout_calls_the_host_with_a_string() {
    let mut g = Strings::new();
    for text in ["quiet", "straße", "ǆ😀", ""] {
        let loud = text.to_uppercase();
        let r = g.world.call_shout(&mut g.store, text).unwrap();
        assert_eq!(r, (loud.chars().count() as u32, loud.len() as u32));
        assert_eq!(g.store.data().0.last(), Some(&loud));
    }
    assert_eq!(g.store.data().0.len(), 4);
}

#[test]
fn an_error_from_a_trappable_import_traps_the_guest() {
    let mut g = Strings::new();
    let e = g
        .world
        .call_shout(&mut g.store, "fail")
        .expect_err("log refused");
    assert_eq!(e.trap_kind(), Some(TrapKind::Host), "{e}");
    assert!(e.message().contains("refuses to log FAIL"), "{e}");
    assert!(g.store.data().0.is_empty());
}

#[test]
fn strings_through_the_dynamic_api() {
    let mut g = Strings::new();
    let f = g.func("split");
    let mut r = [Val::Bool(false)];
    f.call(
        &mut g.store,
        &[
            Val::String("one two  three".into()),
            Val::String(" ".into()),
        ],
        &mut r,
    )
    .unwrap();
    let words = ["one", "two", "", "three"].map(|w| Val::String(w.into()));
    assert_eq!(r[0], Val::List(words.to_vec()));
    let join = g.func("join");
    join.call(
        &mut g.store,
        &[r[0].clone(), Val::String("+".into())],
        &mut r,
    )
    .unwrap();
    assert_eq!(r[0], Val::String("one+two++three".into()));
}

#[test]
fn the_counter_and_strings_components_have_their_wit_shapes() {
    let engine = Engine::default();
    let counter = Component::new(&engine, COUNTER).unwrap();
    assert_eq!(counter.imports().count(), 0, "no WASI, no imports at all");
    let exports: Vec<String> = counter.exports().into_iter().map(|(n, _)| n).collect();
    assert_eq!(exports, [COUNTERS]);
    let strings = Component::new(&engine, STRINGS).unwrap();
    let imports: Vec<&str> = strings.imports().map(|(n, _)| n).collect();
    assert_eq!(imports, ["log"]);
    let mut exports: Vec<String> = strings.exports().into_iter().map(|(n, _)| n).collect();
    exports.sort();
    assert_eq!(exports, ["join", "shout", "split", "upper"]);
}
