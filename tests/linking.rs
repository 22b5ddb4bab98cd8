//! Linking by versioned interface name: a host definition whose version has
//! the import's canonversion satisfies it.

mod common_cm;

use common_cm::*;
use componentry::*;

/// Imports `log: func(x: u32) -> u32` from the interface `ns:pkg/api@{v}`
/// and re-exports a call to it.
fn importer(v: &str) -> String {
    format!(
        r#"(component
      (import "ns:pkg/api@{v}" (instance $api (export "log" (func (param "x" u32) (result u32)))))
      (alias export $api "log" (func $log))
      (export "log" (func $log)))"#
    )
}

fn linker_with(versions: &[(&str, u32)]) -> (Engine, Linker<()>) {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    for (v, add) in versions {
        let add = *add;
        linker
            .instance(&format!("ns:pkg/api@{v}"))
            .unwrap()
            .func_new("log", move |_, params, results| {
                let Val::U32(x) = params[0] else {
                    unreachable!("typed by the import")
                };
                results[0] = Val::U32(x + add);
                Ok(())
            })
            .unwrap();
    }
    (engine, linker)
}

#[test]
fn newer_patch_version_in_the_linker_satisfies_an_import() {
    let (engine, linker) = linker_with(&[("0.2.6", 100)]);
    let (mut store, inst) = instantiate_with(&engine, &linker, &importer("0.2.1"), ());
    assert_eq!(call_u32(&mut store, &inst, "log", &[Val::U32(1)]), 101);
}

#[test]
fn newest_compatible_version_is_chosen_when_several_match() {
    let (engine, linker) = linker_with(&[("1.1.0", 10), ("1.4.2", 40), ("2.0.0", 99)]);
    let (mut store, inst) = instantiate_with(&engine, &linker, &importer("1.0.0"), ());
    assert_eq!(call_u32(&mut store, &inst, "log", &[Val::U32(1)]), 41);
}

#[test]
fn other_major_version_is_a_link_error_naming_the_import() {
    let (engine, linker) = linker_with(&[("2.0.0", 0)]);
    let component = load(&engine, &importer("1.0.0"));
    let mut store = Store::new(&engine, ());
    let e = linker
        .instantiate(&mut store, &component)
        .err()
        .expect("no match");
    assert_eq!(e.kind(), &ErrorKind::Link, "{e}");
    assert!(e.to_string().contains("ns:pkg/api@1.0.0"), "{e}");
}

/// A nested component definition sees the component definitions before it
/// (issue: the scope cached for the first was reused for the second).
#[test]
fn second_nested_component_instantiates_the_first() {
    let (_store, _inst) = instantiate(
        r#"(component
          (component $a)
          (component $b (instance (instantiate $a)))
          (instance (instantiate $b)))"#,
    );
}

/// Three definitions in a row, each instantiating the one before, the
/// innermost's export reaching the root through both.
#[test]
fn chain_of_nested_definitions_reaches_the_first() {
    let (mut store, inst) = instantiate(
        r#"(component
          (component $a
            (core module $m (func (export "f") (result i32) i32.const 7))
            (core instance $i (instantiate $m))
            (func $f (result u32) (canon lift (core func $i "f")))
            (export "f" (func $f)))
          (component $b
            (instance $x (instantiate $a))
            (export "f" (func $x "f")))
          (component $c
            (instance $y (instantiate $b))
            (instance $z (instantiate $a))
            (export "f" (func $y "f"))
            (export "g" (func $z "f")))
          (instance $top (instantiate $c))
          (export "f" (func $top "f"))
          (export "g" (func $top "g")))"#,
    );
    assert_eq!(call_u32(&mut store, &inst, "f", &[]), 7);
    assert_eq!(call_u32(&mut store, &inst, "g", &[]), 7);
}
