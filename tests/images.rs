//! Component images: `Component::serialize` on the host, the unsafe
//! `Component::deserialize` on a device. A loaded image behaves as the
//! component it was made from; every accident (not an image, another
//! format, another version, other settings, truncation, corruption) is a
//! load error, never a panic.

mod common;

use common::*;
use componentry::*;

const COUNTER: &[u8] = include_bytes!("guests/counter.wasm");
const STRINGS: &[u8] = include_bytes!("guests/strings.wasm");
const IMAGE_FILTER: &[u8] = include_bytes!("../examples/image-filter/image-filter.wasm");

/// A nested component, a host import passed down, a guest resource and a
/// core module export: most kinds of init step.
const NESTED: &str = r#"(component
  (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
  (component $Inner
    (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
    (core func $add (canon lower (func $add)))
    (core module $m
      (import "" "add" (func $add (param i32 i32) (result i32)))
      (func (export "f") (param i32) (result i32) (call $add (local.get 0) (i32.const 1000))))
    (core instance $i (instantiate $m (with "" (instance (export "add" (func $add))))))
    (func (export "f") (param "x" u32) (result u32) (canon lift (core func $i "f"))))
  (instance $inner (instantiate $Inner (with "add" (func $add))))
  (type $r' (resource (rep i32)))
  (export $r "r" (type $r'))
  (canon resource.new $r' (core func $new))
  (core module $res
    (import "" "new" (func $new (param i32) (result i32)))
    (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
    (func (export "get") (param i32) (result i32) (local.get 0)))
  (core instance $ri (instantiate $res (with "" (instance (export "new" (func $new))))))
  (func (export "make") (param "n" u32) (result (own $r)) (canon lift (core func $ri "make")))
  (func (export "get") (param "x" (borrow $r)) (result u32) (canon lift (core func $ri "get")))
  (export "f" (func $inner "f"))
  (core module $plain (func (export "g") (result i32) i32.const 9))
  (export "m" (core module $plain)))"#;

fn image_of(engine: &Engine, bytes: &[u8]) -> Vec<u8> {
    Component::new(engine, bytes)
        .unwrap()
        .serialize()
        .expect("serialize")
}

fn load_image(engine: &Engine, image: &[u8]) -> Result<Component> {
    // SAFETY: every image these tests load was made by `serialize` of this
    // build, or is a deliberately damaged copy of one, which the header
    // rejects before any module is compiled (what the tests check).
    unsafe { Component::deserialize(engine, image) }
}

fn nested_linker(engine: &Engine) -> Linker<()> {
    let mut linker = Linker::new(engine);
    linker
        .root()
        .func_wrap("add", |_, (a, b): (u32, u32)| Ok(a + b))
        .unwrap();
    linker
}

#[test]
fn nested_component_from_an_image_behaves_as_the_original() {
    let engine = Engine::default();
    let bytes = wat::parse_str(NESTED).unwrap();
    let original = Component::new(&engine, &bytes).unwrap();
    let loaded = load_image(&engine, &original.serialize().unwrap()).unwrap();
    let names = |c: &Component| {
        c.exports()
            .into_iter()
            .map(|(n, i)| {
                let kind = match i {
                    ComponentItem::Func(f) => format!("func {f}"),
                    ComponentItem::Resource(_) => String::from("resource"),
                    ComponentItem::Module => String::from("module"),
                    other => format!("{other:?}"),
                };
                (n, kind)
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&original), names(&loaded));
    assert_eq!(
        original
            .imports()
            .map(|(n, _)| n.to_string())
            .collect::<Vec<_>>(),
        loaded
            .imports()
            .map(|(n, _)| n.to_string())
            .collect::<Vec<_>>()
    );
    let linker = nested_linker(&engine);
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &loaded).unwrap();
    assert_eq!(call_u32(&mut store, &inst, "f", &[Val::U32(5)]), 1005);
    let mut out = [Val::Bool(false)];
    let make = inst.get_func(&mut store, "make").unwrap();
    make.call(&mut store, &[Val::U32(33)], &mut out).unwrap();
    let get = inst.get_func(&mut store, "get").unwrap();
    let h = out[0].clone();
    get.call(&mut store, &[h], &mut out).unwrap();
    assert_eq!(out[0], Val::U32(33));
    assert!(inst.get_module(&mut store, "m").is_some());
    assert!(inst.get_resource(&mut store, "r").is_some());
}

#[test]
fn real_guests_from_images_give_the_same_answers() {
    let engine = Engine::default();
    // The counter: a guest resource through the dynamic API.
    let image = image_of(&engine, COUNTER);
    let component = load_image(&engine, &image).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let iface = "example:counter/counters";
    let ctor = inst
        .get_instance_func(&mut store, iface, "[constructor]counter")
        .unwrap();
    let mut out = [Val::Bool(false)];
    ctor.call(&mut store, &[Val::U32(41)], &mut out).unwrap();
    let c = out[0].clone();
    let get = inst
        .get_instance_func(&mut store, iface, "[method]counter.get")
        .unwrap();
    get.call(&mut store, &[c], &mut out).unwrap();
    assert_eq!(out[0], Val::U32(41));

    // The strings guest: strings both ways and a host import, typed.
    let component = load_image(&engine, &image_of(&engine, STRINGS)).unwrap();
    let mut linker = Linker::<Vec<String>>::new(&engine);
    linker
        .root()
        .func_wrap("log", |mut cx, (msg,): (String,)| {
            cx.data_mut().push(msg);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let split = inst
        .get_func(&mut store, "split")
        .unwrap()
        .typed::<(&str, &str), Vec<String>>(&mut store)
        .unwrap();
    assert_eq!(
        split.call(&mut store, ("a,b,日本", ",")).unwrap(),
        ["a", "b", "日本"]
    );
    let upper = inst
        .get_func(&mut store, "upper")
        .unwrap()
        .typed::<(&str,), String>(&mut store)
        .unwrap();
    assert_eq!(upper.call(&mut store, ("straße",)).unwrap(), "STRASSE");

    // The image filter loads and instantiates (its behaviour is tested in
    // tests/image_filter.rs; here: the image round trip of a 25 KB guest).
    let image = image_of(&engine, IMAGE_FILTER);
    let component = load_image(&engine, &image).unwrap();
    assert_eq!(
        component.exports().len(),
        Component::new(&engine, IMAGE_FILTER)
            .unwrap()
            .exports()
            .len()
    );
}

#[test]
fn an_image_is_deterministic_and_portable_in_size() {
    let engine = Engine::default();
    let a = image_of(&engine, STRINGS);
    let b = image_of(&engine, STRINGS);
    assert_eq!(a, b, "the same component makes the same image");
}

#[test]
fn a_loaded_image_cannot_be_serialized_again() {
    let engine = Engine::default();
    let loaded = load_image(&engine, &image_of(&engine, COUNTER)).unwrap();
    let e = loaded.serialize().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Usage, "{e}");
}

fn load_error(engine: &Engine, image: &[u8]) -> String {
    match load_image(engine, image) {
        Ok(_) => panic!("a damaged image loaded"),
        Err(e) => {
            assert!(matches!(e.kind(), ErrorKind::Load { .. }), "{e}");
            e.to_string()
        }
    }
}

#[test]
fn accidents_are_load_errors_that_say_what_happened() {
    let engine = Engine::default();
    let image = image_of(&engine, &wat::parse_str(NESTED).unwrap());

    // Not an image: the component itself, nothing, garbage.
    let component = wat::parse_str(NESTED).unwrap();
    assert!(load_error(&engine, &component).contains("not a componentry component image"));
    assert!(load_error(&engine, &[]).contains("not a componentry component image"));

    // Another format version (bytes 8..12).
    let mut other = image.clone();
    other[8] ^= 0x40;
    assert!(load_error(&engine, &other).contains("image format"));

    // Another crate version (the version string starts at byte 16).
    let mut other = image.clone();
    other[16] = b'9';
    let msg = load_error(&engine, &other);
    assert!(msg.contains("made by componentry 9"), "{msg}");

    // Other settings: an engine with another type nesting bound.
    let mut config = Config::default();
    config.max_type_depth(7);
    let strict = Engine::new(&config);
    assert!(load_error(&strict, &image).contains("other settings"));

    // Truncated anywhere: an error, never a panic.
    for len in 0..image.len() {
        let msg = load_error(&engine, &image[..len]);
        assert!(
            msg.contains("truncated") || msg.contains("not a componentry"),
            "{len}: {msg}"
        );
    }

    // Bytes after the end.
    let mut longer = image.clone();
    longer.push(0);
    assert!(load_error(&engine, &longer).contains("after the end"));

    // Corrupted payload: the checksum catches it.
    let mut corrupt = image.clone();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 1;
    assert!(load_error(&engine, &corrupt).contains("checksum"));
}

#[test]
fn every_single_byte_change_is_caught() {
    let engine = Engine::default();
    let image = image_of(
        &engine,
        &wat::parse_str(
            r#"(component
              (core module $m (func (export "f") (result i32) i32.const 1))
              (core instance $i (instantiate $m))
              (func (export "f") (result u32) (canon lift (core func $i "f"))))"#,
        )
        .unwrap(),
    );
    assert!(load_image(&engine, &image).is_ok());
    for pos in 0..image.len() {
        for flip in [0x01u8, 0x80] {
            let mut bad = image.clone();
            bad[pos] ^= flip;
            load_error(&engine, &bad);
        }
    }
}

/// The header's flags say whether a core module needs 64-bit memories (a
/// build without the `memory64` feature refuses such an image); unknown
/// flags are refused.
#[test]
fn the_header_flags_64_bit_memories() {
    let engine = Engine::default();
    let flags_at = |image: &[u8]| {
        let vlen = u32::from_le_bytes(image[12..16].try_into().unwrap()) as usize;
        16 + vlen + 8
    };
    let flags = |image: &[u8]| {
        let o = flags_at(image);
        u32::from_le_bytes(image[o..o + 4].try_into().unwrap())
    };
    let with = |memory: &str| {
        image_of(
            &engine,
            &wat::parse_str(format!("(component (core module (memory {memory} 1)) )")).unwrap(),
        )
    };
    assert_eq!(flags(&with("")), 0);
    #[cfg(feature = "memory64")]
    {
        let image = with("i64");
        assert_eq!(flags(&image), 1);
        load_image(&engine, &image).unwrap();
    }
    let mut unknown = with("");
    let o = flags_at(&unknown);
    unknown[o] = 0x80;
    assert!(load_error(&engine, &unknown).contains("unknown flags"));
}
