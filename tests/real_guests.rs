//! Components built by a real toolchain (Rust + wit-bindgen, componentized
//! by wit-component; sources in `tests/guests/`, built by
//! `tools/build-guests.sh`), besides the image filter: a guest-defined
//! resource, and a string-heavy API with a host import.

use componentry::{Component, Engine, Func, Instance, Linker, ResourceAny, Store, Val};

const COUNTER: &[u8] = include_bytes!("guests/counter.wasm");
const STRINGS: &[u8] = include_bytes!("guests/strings.wasm");

// ------------------------------------------------------------- counter

const COUNTERS: &str = "example:counter/counters";

fn counter_instance() -> (Store<()>, Instance) {
    let engine = Engine::default();
    let component = Component::new(&engine, COUNTER).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    (store, instance)
}

fn func(store: &mut Store<()>, instance: &Instance, name: &str) -> Func {
    instance
        .get_instance_func(&mut *store, COUNTERS, name)
        .unwrap_or_else(|| panic!("no export {name}"))
}

fn call(store: &mut Store<()>, instance: &Instance, name: &str, params: &[Val]) -> Option<Val> {
    let f = func(store, instance, name);
    let mut results = vec![Val::Bool(false); usize::from(f.ty().result.is_some())];
    f.call(&mut *store, params, &mut results)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    results.pop()
}

fn new_counter(store: &mut Store<()>, instance: &Instance, start: u32) -> ResourceAny {
    match call(store, instance, "[constructor]counter", &[Val::U32(start)]) {
        Some(Val::Resource(r)) => r,
        other => panic!("constructor returned {other:?}"),
    }
}

fn get(store: &mut Store<()>, instance: &Instance, c: ResourceAny) -> u32 {
    match call(store, instance, "[method]counter.get", &[Val::Resource(c)]) {
        Some(Val::U32(v)) => v,
        other => panic!("get returned {other:?}"),
    }
}

fn live(store: &mut Store<()>, instance: &Instance) -> u32 {
    // A function without resources: typed.
    let f = func(store, instance, "live");
    f.typed::<(), u32>(&mut *store)
        .unwrap()
        .call(&mut *store, ())
        .unwrap()
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
        assert_eq!(
            call(s, &inst, "[method]counter.inc", &[Val::Resource(c)]),
            None
        );
    }
    assert_eq!(get(s, &inst, c), 8);
    // Dropping the host's handle runs the guest's destructor (Rust `Drop`).
    c.resource_drop(&mut *s).unwrap();
    assert_eq!(live(s, &inst), 0);
    assert!(c.resource_drop(&mut *s).is_err(), "dropped twice");
    let f = func(s, &inst, "[method]counter.get");
    let mut r = [Val::U32(0)];
    assert!(
        f.call(&mut *s, &[Val::Resource(c)], &mut r).is_err(),
        "used after drop"
    );
}

#[test]
fn counter_static_functions_take_borrowed_and_owned_handles() {
    let (mut store, inst) = counter_instance();
    let s = &mut store;
    let a = new_counter(s, &inst, 40);
    let b = new_counter(s, &inst, 2);
    let merged = match call(
        s,
        &inst,
        "[static]counter.merge",
        &[Val::Resource(a), Val::Resource(b)],
    ) {
        Some(Val::Resource(r)) => r,
        other => panic!("merge returned {other:?}"),
    };
    assert_eq!(live(s, &inst), 3);
    // Borrowing left `a` and `b` with the host.
    assert_eq!(get(s, &inst, a), 40);
    assert_eq!(get(s, &inst, b), 2);
    assert_eq!(get(s, &inst, merged), 42);
    // `finish` takes ownership: the guest drops the counter when it returns.
    let done = call(s, &inst, "[static]counter.finish", &[Val::Resource(merged)]);
    assert_eq!(done, Some(Val::U32(42)));
    assert_eq!(live(s, &inst), 2);
    let f = func(s, &inst, "[static]counter.finish");
    let mut r = [Val::U32(0)];
    assert!(
        f.call(&mut *s, &[Val::Resource(merged)], &mut r).is_err(),
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
            call(s, &inst, "[method]counter.inc", &[Val::Resource(c)]);
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

struct Strings {
    store: Store<Vec<String>>,
    instance: Instance,
}

impl Strings {
    fn new() -> Strings {
        let engine = Engine::default();
        let component = Component::new(&engine, STRINGS).unwrap();
        let mut linker = Linker::<Vec<String>>::new(&engine);
        linker
            .root()
            .func_wrap("log", |mut cx, (msg,): (String,)| {
                cx.data_mut().push(msg);
                Ok(())
            })
            .unwrap();
        let mut store = Store::new(&engine, Vec::new());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        Strings { store, instance }
    }

    fn func(&mut self, name: &str) -> Func {
        self.instance.get_func(&mut self.store, name).unwrap()
    }

    fn split(&mut self, s: &str, sep: &str) -> Vec<String> {
        let f = self.func("split");
        let f = f
            .typed::<(&str, &str), Vec<String>>(&mut self.store)
            .unwrap();
        f.call(&mut self.store, (s, sep)).unwrap()
    }

    fn join(&mut self, parts: &[String], sep: &str) -> String {
        let f = self.func("join");
        let f = f
            .typed::<(&[String], &str), String>(&mut self.store)
            .unwrap();
        f.call(&mut self.store, (parts, sep)).unwrap()
    }

    fn upper(&mut self, s: &str) -> String {
        let f = self.func("upper");
        let f = f.typed::<(&str,), String>(&mut self.store).unwrap();
        f.call(&mut self.store, (s,)).unwrap()
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
    assert!(g.store.data().is_empty(), "only shout logs");
}

#[test]
fn shout_calls_the_host_with_a_string() {
    let mut g = Strings::new();
    let f = g.func("shout");
    let shout = f.typed::<(&str,), (u32, u32)>(&mut g.store).unwrap();
    for text in ["quiet", "straße", "ǆ😀", ""] {
        let loud = text.to_uppercase();
        let r = shout.call(&mut g.store, (text,)).unwrap();
        assert_eq!(r, (loud.chars().count() as u32, loud.len() as u32));
        assert_eq!(g.store.data().last(), Some(&loud));
    }
    assert_eq!(g.store.data().len(), 4);
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
