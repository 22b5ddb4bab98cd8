//! `bindgen!` against a real guest: `tests/guests/everything` (Rust +
//! wit-bindgen) imports `test:everything/api` (implemented here through the
//! generated `Host` traits) and exports the same interface by forwarding
//! each call to the import, so every value crosses host → guest → host →
//! guest → host. The WIT (`tests/guests/everything/wit`, with a versioned
//! package in `deps/`) has every 0.2 type and every function shape; the
//! guest also exports a resource and a world-level function.

mod bindings {
    componentry::bindgen!({
        path: "tests/guests/everything/wit",
        world: "everything",
        additional_derives: [PartialEq],
    });
}

use bindings::exports::test::everything::accounts::Guest as Accounts;
use bindings::test::dep::things::{self, Thing};
use bindings::test::everything::api;
use bindings::test::everything::types::{self, Bag, Blob, Color, Perms, Point, Scalars, Shape};
use bindings::{Everything, EverythingImports};
use componentry::{Component, Engine, ErrorKind, Linker, Resource, ResourceTable, Result, Store};

const EVERYTHING: &[u8] = include_bytes!("guests/everything.wasm");

/// The host: a table of blobs, and the calls it saw.
#[derive(Default)]
struct Host {
    blobs: ResourceTable<Vec<u8>>,
    calls: Vec<&'static str>,
    dropped: Vec<Vec<u8>>,
}

impl api::Host for Host {
    fn nothing(&mut self) {
        self.calls.push("nothing");
    }
    fn one(&mut self, x: u32) -> u32 {
        self.calls.push("one");
        x.wrapping_mul(3).wrapping_add(1)
    }
    fn many(&mut self, a: u8, b: i64, c: f64, d: String, e: char) -> (u8, i64, f64, String, char) {
        self.calls.push("many");
        (a.wrapping_add(1), -b, c * 2.0, d.to_uppercase(), e)
    }
    fn echo_scalars(&mut self, mut s: Scalars) -> Scalars {
        self.calls.push("echo-scalars");
        s.b = !s.b;
        s
    }
    fn echo_shape(&mut self, s: Shape) -> Shape {
        self.calls.push("echo-shape");
        match s {
            Shape::Circle(r) => Shape::Circle(r * 2.0),
            Shape::Rect(p) => Shape::Rect(Point { x: p.y, y: p.x }),
            Shape::Empty => Shape::Named("was empty".into()),
            Shape::Named(n) => Shape::Named(n + "!"),
            Shape::Things(mut t) => {
                t.reverse();
                Shape::Things(t)
            }
        }
    }
    fn echo_color(&mut self, c: Color) -> Color {
        self.calls.push("echo-color");
        match c {
            Color::Red => Color::Green,
            Color::Green => Color::BlueIsh,
            Color::BlueIsh => Color::Red,
        }
    }
    fn echo_perms(&mut self, p: Perms) -> Perms {
        self.calls.push("echo-perms");
        p | Perms::EXEC_IT
    }
    fn echo_points(&mut self, mut p: Vec<Point>) -> Vec<Point> {
        self.calls.push("echo-points");
        p.reverse();
        p
    }
    fn echo_bag(&mut self, mut b: Bag) -> Bag {
        self.calls.push("echo-bag");
        b.tags.push("host".into());
        b.type_ = b.type_.wrapping_add(1);
        b
    }
    fn echo_thing(&mut self, t: Thing) -> Thing {
        self.calls.push("echo-thing");
        things::Host::bump(self, t)
    }
    fn maybe(&mut self, x: Option<String>) -> Option<String> {
        self.calls.push("maybe");
        x.map(|s| s + "?")
    }
    fn fallible(&mut self, ok: bool) -> std::result::Result<u32, String> {
        self.calls.push("fallible");
        if ok {
            Ok(7)
        } else {
            Err("no".into())
        }
    }
    fn unit_result(&mut self, ok: bool) -> std::result::Result<(), ()> {
        self.calls.push("unit-result");
        if ok {
            Ok(())
        } else {
            Err(())
        }
    }
    fn spilled(
        &mut self,
        a: (u64, u64, u64, u64),
        b: (u64, u64, u64, u64),
        c: (u64, u64, u64, u64),
        d: (u64, u64, u64, u64),
        e: u32,
    ) -> u64 {
        self.calls.push("spilled");
        [a, b, c, d]
            .iter()
            .enumerate()
            .map(|(i, t)| (t.0 + t.1 + t.2 + t.3) << (8 * i))
            .sum::<u64>()
            + u64::from(e)
    }
    fn blob_len(&mut self, b: Resource<Blob>) -> u32 {
        self.calls.push("blob-len");
        assert!(!b.owned());
        self.blobs.get(&b).map_or(u32::MAX, |v| v.len() as u32)
    }
    fn blob_take(&mut self, b: Resource<Blob>) -> Vec<u8> {
        self.calls.push("blob-take");
        assert!(b.owned());
        self.blobs.delete(b).unwrap_or_default()
    }
    fn blob_make(&mut self, data: Vec<u8>) -> Resource<Blob> {
        self.calls.push("blob-make");
        self.blobs.push(data).unwrap()
    }
}

impl types::HostBlob for Host {
    fn new(&mut self, init: Vec<u8>) -> Resource<Blob> {
        self.calls.push("[constructor]blob");
        self.blobs.push(init).unwrap()
    }
    fn len(&mut self, self_: Resource<Blob>) -> u32 {
        self.calls.push("[method]blob.len");
        self.blobs.get(&self_).map_or(u32::MAX, |v| v.len() as u32)
    }
    fn append(&mut self, self_: Resource<Blob>, more: Vec<u8>) {
        self.calls.push("[method]blob.append");
        if let Ok(v) = self.blobs.get_mut(&self_) {
            v.extend(more);
        }
    }
    fn merge(&mut self, a: Resource<Blob>, b: Resource<Blob>) -> Resource<Blob> {
        self.calls.push("[static]blob.merge");
        let mut v = self.blobs.get(&a).cloned().unwrap_or_default();
        v.extend(self.blobs.get(&b).cloned().unwrap_or_default());
        self.blobs.push(v).unwrap()
    }
    fn drop(&mut self, rep: Resource<Blob>) -> Result<()> {
        let v = self.blobs.delete(rep)?;
        self.dropped.push(v);
        Ok(())
    }
}

impl types::Host for Host {}

impl things::Host for Host {
    fn bump(&mut self, t: Thing) -> Thing {
        Thing {
            id: t.id + 1,
            label: t.label + "+",
        }
    }
}

impl EverythingImports for Host {
    fn shout(&mut self, msg: String) -> String {
        self.calls.push("shout");
        msg + "!"
    }
}

fn instantiate() -> (Store<Host>, Everything) {
    let engine = Engine::default();
    let component = Component::new(&engine, EVERYTHING).unwrap();
    let mut linker = Linker::new(&engine);
    Everything::add_to_linker(&mut linker, |h: &mut Host| h).unwrap();
    let mut store = Store::new(&engine, Host::default());
    let world = Everything::instantiate(&mut store, &component, &linker).unwrap();
    (store, world)
}

#[test]
fn functions_of_every_shape_cross_both_ways() {
    let (mut store, world) = instantiate();
    let s = &mut store;
    let api = world.test_everything_api();
    api.call_nothing(&mut *s).unwrap();
    assert_eq!(api.call_one(&mut *s, 41).unwrap(), 124);
    assert_eq!(
        api.call_many(&mut *s, 255, i64::MIN + 1, 1.25, "straße", '😀')
            .unwrap(),
        (0, i64::MAX, 2.5, "STRASSE".into(), '😀')
    );
    let sc = Scalars {
        b: false,
        u8v: u8::MAX,
        u16v: u16::MAX,
        u32v: u32::MAX,
        u64v: u64::MAX,
        s8v: i8::MIN,
        s16v: i16::MIN,
        s32v: i32::MIN,
        s64v: i64::MIN,
        f32v: -0.5,
        f64v: f64::MAX,
        c: 'ß',
    };
    assert_eq!(
        api.call_echo_scalars(&mut *s, sc).unwrap(),
        Scalars { b: true, ..sc }
    );
    assert_eq!(
        api.call_echo_color(&mut *s, Color::BlueIsh).unwrap(),
        Color::Red
    );
    assert_eq!(
        api.call_echo_perms(&mut *s, Perms::READ | Perms::WRITE)
            .unwrap(),
        Perms::READ | Perms::WRITE | Perms::EXEC_IT
    );
    let pts = vec![Point { x: 1, y: -2 }, Point { x: 3, y: 4 }];
    let mut rev = pts.clone();
    rev.reverse();
    assert_eq!(api.call_echo_points(&mut *s, &pts).unwrap(), rev);
    assert_eq!(
        api.call_echo_thing(
            &mut *s,
            &Thing {
                id: 9,
                label: "t".into()
            }
        )
        .unwrap(),
        Thing {
            id: 10,
            label: "t+".into()
        }
    );
    assert_eq!(
        api.call_maybe(&mut *s, Some("a".into())).unwrap(),
        Some("a?".into())
    );
    assert_eq!(api.call_maybe(&mut *s, None).unwrap(), None);
    assert_eq!(api.call_fallible(&mut *s, true).unwrap(), Ok(7));
    assert_eq!(api.call_fallible(&mut *s, false).unwrap(), Err("no".into()));
    assert_eq!(api.call_unit_result(&mut *s, true).unwrap(), Ok(()));
    assert_eq!(api.call_unit_result(&mut *s, false).unwrap(), Err(()));
    let t = |k: u64| (k, k, k, k);
    assert_eq!(
        api.call_spilled(&mut *s, t(1), t(2), t(3), t(4), 5)
            .unwrap(),
        4 + (8 << 8) + (12 << 16) + (16 << 24) + 5
    );
    assert_eq!(
        s.data().calls,
        [
            "nothing",
            "one",
            "many",
            "echo-scalars",
            "echo-color",
            "echo-perms",
            "echo-points",
            "echo-thing",
            "maybe",
            "maybe",
            "fallible",
            "fallible",
            "unit-result",
            "unit-result",
            "spilled"
        ]
    );
}

#[test]
fn variants_records_and_nested_types() {
    let (mut store, world) = instantiate();
    let s = &mut store;
    let api = world.test_everything_api();
    let shapes = [
        (Shape::Circle(1.5), Shape::Circle(3.0)),
        (
            Shape::Rect(Point { x: 1, y: 2 }),
            Shape::Rect(Point { x: 2, y: 1 }),
        ),
        (Shape::Empty, Shape::Named("was empty".into())),
        (Shape::Named("n".into()), Shape::Named("n!".into())),
        (
            Shape::Things(vec![
                Thing {
                    id: 1,
                    label: "a".into(),
                },
                Thing {
                    id: 2,
                    label: "b".into(),
                },
            ]),
            Shape::Things(vec![
                Thing {
                    id: 2,
                    label: "b".into(),
                },
                Thing {
                    id: 1,
                    label: "a".into(),
                },
            ]),
        ),
    ];
    for (input, expected) in shapes.clone() {
        assert_eq!(api.call_echo_shape(&mut *s, &input).unwrap(), expected);
    }
    let bag = Bag {
        name: "bag".into(),
        tags: vec!["x".into(), String::new()],
        maybe: Some(3),
        pair: (7, "seven".into()),
        outcome: Err("bad".into()),
        perms: Perms::WRITE,
        shapes: shapes.iter().map(|(i, _)| i.clone()).collect(),
        nested: Some(Some(vec![Point { x: -1, y: 0 }])),
        type_: 255,
    };
    let mut expected = bag.clone();
    expected.tags.push("host".into());
    expected.type_ = 0;
    assert_eq!(api.call_echo_bag(&mut *s, &bag).unwrap(), expected);
    let bag2 = Bag {
        outcome: Ok(Color::Green),
        nested: Some(None),
        maybe: None,
        ..expected.clone()
    };
    assert_eq!(
        api.call_echo_bag(&mut *s, &bag2).unwrap().outcome,
        Ok(Color::Green)
    );
}

#[test]
fn host_resources_own_and_borrow_both_ways() {
    let (mut store, world) = instantiate();
    let s = &mut store;
    let api = world.test_everything_api();
    // The guest makes one blob through `blob-make`, one through the
    // constructor and `append`, merges them and drops both parts.
    let blob = api.call_blob_make(&mut *s, b"abc").unwrap();
    assert!(blob.owned());
    assert_eq!(s.data().blobs.get(&blob).unwrap(), b"abcabc");
    assert_eq!(s.data().dropped, [b"abc".to_vec(), b"abc".to_vec()]);
    // A borrow: the guest calls the method and the import.
    let borrowed = Resource::<Blob>::new_borrow(blob.rep());
    assert_eq!(api.call_blob_len(&mut *s, borrowed).unwrap(), 6);
    // Ownership moves into the guest and back to the host's import.
    assert_eq!(api.call_blob_take(&mut *s, blob).unwrap(), b"abcabc");
    assert!(s.data().blobs.get(&blob).is_err(), "taken out of the table");
    assert_eq!(
        s.data().calls,
        [
            "blob-make",
            "[constructor]blob",
            "[method]blob.append",
            "[static]blob.merge",
            "[method]blob.len",
            "blob-len",
            "blob-take"
        ]
    );
}

#[test]
fn guest_resources_through_the_generated_view() {
    let (mut store, world) = instantiate();
    let s = &mut store;
    let accounts: &Accounts = world.test_everything_accounts();
    let acc = accounts.acc();
    let a = acc.call_constructor(&mut *s, 40).unwrap();
    let b = acc.call_constructor(&mut *s, 1).unwrap();
    acc.call_add(&mut *s, b, 1).unwrap();
    assert_eq!(acc.call_total(&mut *s, b).unwrap(), 2);
    let c = acc.call_combine(&mut *s, a, b).unwrap();
    assert_eq!(accounts.call_live(&mut *s).unwrap(), 3);
    assert_eq!(acc.call_total(&mut *s, c).unwrap(), 42);
    // `consume` takes ownership: the guest drops it.
    assert_eq!(acc.call_consume(&mut *s, c).unwrap(), 42);
    assert_eq!(accounts.call_live(&mut *s).unwrap(), 2);
    assert!(acc.call_total(&mut *s, c).is_err(), "moved into the guest");
    a.resource_drop(&mut *s).unwrap();
    b.resource_drop(&mut *s).unwrap();
    assert_eq!(accounts.call_live(&mut *s).unwrap(), 0);
}

#[test]
fn world_level_import_and_export() {
    let (mut store, world) = instantiate();
    assert_eq!(world.call_shout_twice(&mut store, "hey").unwrap(), "hey!!");
    assert_eq!(store.data().calls, ["shout", "shout"]);
}

#[test]
fn new_from_an_existing_instance() {
    let engine = Engine::default();
    let component = Component::new(&engine, EVERYTHING).unwrap();
    let mut linker = Linker::new(&engine);
    Everything::add_to_linker(&mut linker, |h: &mut Host| h).unwrap();
    let mut store = Store::new(&engine, Host::default());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let world = Everything::new(&mut store, &instance).unwrap();
    assert_eq!(
        world.test_everything_api().call_one(&mut store, 1).unwrap(),
        4
    );
}

// ------------------------------------------------ mismatched components

mod counter_wrong {
    componentry::bindgen!({
        inline: "
            package example:counter;
            interface counters {
                live: func() -> string;
            }
            world counter-world {
                export counters;
            }
        ",
    });
}

mod counter_missing {
    componentry::bindgen!({
        inline: "
            package example:counter;
            interface counters {
                live: func() -> u32;
                dead: func() -> u32;
            }
            world counter-world {
                export counters;
            }
        ",
    });
}

fn counter_instance() -> (Store<()>, componentry::Instance) {
    let engine = Engine::default();
    let component = Component::new(&engine, include_bytes!("guests/counter.wasm")).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    (store, instance)
}

#[test]
fn a_mistyped_export_is_an_instantiation_error_naming_both_types() {
    let (mut store, instance) = counter_instance();
    let e = counter_wrong::CounterWorld::new(&mut store, &instance)
        .err()
        .expect("a mismatch");
    assert!(matches!(e.kind(), ErrorKind::Link), "{e}");
    let m = e.message();
    assert!(m.contains("example:counter/counters#live"), "{m}");
    assert!(m.contains("func() -> string"), "{m}");
    assert!(m.contains("func() -> u32"), "{m}");
}

#[test]
fn a_missing_export_is_an_instantiation_error() {
    let (mut store, instance) = counter_instance();
    let e = counter_missing::CounterWorld::new(&mut store, &instance)
        .err()
        .expect("a missing export");
    assert!(matches!(e.kind(), ErrorKind::Link), "{e}");
    assert!(
        e.message()
            .contains("no export `example:counter/counters#dead` (func() -> u32)"),
        "{e}"
    );
    let e = Everything::new(&mut store, &instance)
        .err()
        .expect("no api");
    assert!(
        e.message()
            .contains("no export `test:everything/api@1.2.0`"),
        "{e}"
    );
}

// ------------------------------------------------------------- `with`

/// A hand-written type standing for WIT `point`, used through `with`.
#[derive(
    componentry::ComponentType, componentry::Lift, componentry::Lower, Clone, Copy, Debug, PartialEq,
)]
pub struct MyPoint {
    x: i32,
    y: i32,
}

/// A world exporting only `api`, whose imported interfaces are the first
/// bindings' modules (`with` on interfaces).
mod reuse_interfaces {
    componentry::bindgen!({
        path: "tests/guests/everything/wit",
        inline: "
            package test:mini;
            world api-only {
                export test:everything/api@1.2.0;
            }
        ",
        world: "test:mini/api-only",
        with: {
            "test:everything/types@1.2.0": crate::bindings::test::everything::types,
            "test:dep/things@0.2.0": crate::bindings::test::dep::things,
        },
    });
}

/// The same, with only `point` mapped to a Rust type of our own.
mod reuse_a_type {
    componentry::bindgen!({
        path: "tests/guests/everything/wit",
        inline: "
            package test:mini;
            world api-only {
                export test:everything/api@1.2.0;
            }
        ",
        world: "test:mini/api-only",
        with: { "test:everything/types@1.2.0/point": crate::MyPoint },
    });
}

#[test]
fn with_maps_interfaces_and_types_to_existing_items() {
    let engine = Engine::default();
    let component = Component::new(&engine, EVERYTHING).unwrap();
    let mut linker = Linker::new(&engine);
    Everything::add_to_linker(&mut linker, |h: &mut Host| h).unwrap();
    let mut store = Store::new(&engine, Host::default());
    let instance = linker.instantiate(&mut store, &component).unwrap();

    // The types are the first bindings' own.
    let w = reuse_interfaces::ApiOnly::new(&mut store, &instance).unwrap();
    let pts: Vec<Point> = vec![Point { x: 1, y: 2 }, Point { x: 3, y: 4 }];
    let back: Vec<Point> = w
        .test_everything_api()
        .call_echo_points(&mut store, &pts)
        .unwrap();
    assert_eq!(back, [pts[1], pts[0]]);

    let w = reuse_a_type::ApiOnly::new(&mut store, &instance).unwrap();
    let mine = vec![MyPoint { x: -5, y: 6 }, MyPoint { x: 7, y: -8 }];
    let back: Vec<MyPoint> = w
        .test_everything_api()
        .call_echo_points(&mut store, &mine)
        .unwrap();
    assert_eq!(back, [mine[1], mine[0]]);
    // Records holding a mapped type use it too.
    let shape = reuse_a_type::test::everything::types::Shape::Rect(MyPoint { x: 1, y: 9 });
    let back = w
        .test_everything_api()
        .call_echo_shape(&mut store, &shape)
        .unwrap();
    assert!(matches!(
        back,
        reuse_a_type::test::everything::types::Shape::Rect(MyPoint { x: 9, y: 1 })
    ));
}

// ------------------------------------------- worlds of one side only

/// A world with imports only (its struct finds nothing), and one whose
/// exported interface has types but no functions.
mod one_sided {
    /// Imports only.
    pub mod imports_only {
        componentry::bindgen!({
            inline: "
                package test:sides;
                interface logger {
                    log: func(msg: string);
                }
                world imports-only {
                    import logger;
                }
            ",
        });
    }
    /// An exported interface of types alone.
    pub mod types_only {
        componentry::bindgen!({
            inline: "
                package test:sides;
                interface shapes {
                    record size { w: u32, h: u32 }
                }
                world types-only {
                    export shapes;
                }
            ",
        });
    }
}

#[test]
fn worlds_of_one_side_only() {
    use one_sided::imports_only::{test::sides::logger, ImportsOnly};
    struct Log(Vec<String>);
    impl logger::Host for Log {
        fn log(&mut self, msg: String) {
            self.0.push(msg);
        }
    }
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    ImportsOnly::add_to_linker(&mut linker, |l: &mut Log| l).unwrap();
    // counter.wasm imports nothing, so the linker's extra `logger` does not
    // matter; a world without exports finds nothing and succeeds.
    let component = Component::new(&engine, include_bytes!("guests/counter.wasm")).unwrap();
    let mut store = Store::new(&engine, Log(Vec::new()));
    ImportsOnly::instantiate(&mut store, &component, &linker).unwrap();
    // An exported interface of types alone must still be there.
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let e = one_sided::types_only::TypesOnly::new(&mut store, &instance)
        .err()
        .expect("no shapes export");
    assert!(e.message().contains("no export `test:sides/shapes`"), "{e}");
    let size = one_sided::types_only::exports::test::sides::shapes::Size { w: 1, h: 2 };
    assert_eq!((size.w, size.h), (1, 2));
}
