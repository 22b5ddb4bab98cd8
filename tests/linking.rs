//! Linking by versioned interface name: a host definition whose version has
//! the import's canonversion satisfies it.

mod common;

use common::*;
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

// ------------------------------------------------- resource bounds: `eq` and `sub`

struct HostA;
struct HostB;

/// An imported instance whose `resource1` is, by an `eq` bound, the same
/// type as its `resource2`; its `echo` takes the one and returns the other,
/// and the component's `run` passes its argument through `echo`.
const EQ_BOUND: &str = r#"(component
  (import "host" (instance $h
    (export "resource2" (type $r (sub resource)))
    (export "resource1" (type $r1 (eq $r)))
    (export "echo" (func (param "x" (own $r1)) (result (own $r))))))
  (alias export $h "echo" (func $echo))
  (alias export $h "resource1" (type $r1))
  (alias export $h "resource2" (type $r2))
  (core func $echo_low (canon lower (func $echo)))
  (core module $m
    (import "" "echo" (func $e (param i32) (result i32)))
    (func (export "run") (param i32) (result i32) (call $e (local.get 0))))
  (core instance $i (instantiate $m (with "" (instance (export "echo" (func $echo_low))))))
  (func (export "run") (param "x" (own $r1)) (result (own $r2))
    (canon lift (core func $i "run"))))"#;

fn eq_linker(r1: Option<ResourceType>, r2: ResourceType) -> (Engine, Linker<()>) {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    let mut host = linker.instance("host").unwrap();
    host.resource("resource2", r2, |_, _| Ok(())).unwrap();
    if let Some(r1) = r1 {
        host.resource("resource1", r1, |_, _| Ok(())).unwrap();
    }
    host.func_new("echo", |_, params, results| {
        results[0] = params[0].clone();
        Ok(())
    })
    .unwrap();
    (engine, linker)
}

#[test]
fn eq_bound_defined_as_another_resource_type_is_a_link_error() {
    let (engine, linker) = eq_linker(
        Some(ResourceType::host::<HostA>()),
        ResourceType::host::<HostB>(),
    );
    let component = load(&engine, EQ_BOUND);
    let e = linker
        .instantiate(&mut Store::new(&engine, ()), &component)
        .err()
        .expect("two different types for one resource");
    assert_eq!(e.kind(), &ErrorKind::Link, "{e}");
    let msg = e.to_string();
    assert!(msg.contains("mismatched resource types"), "{msg}");
    assert!(
        msg.contains("host#resource1") && msg.contains("host#resource2"),
        "{msg}"
    );
}

#[test]
fn eq_bound_needs_no_definition_and_is_the_type_it_names() {
    let (engine, linker) = eq_linker(None, ResourceType::host::<HostB>());
    let component = load(&engine, EQ_BOUND);
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    // A handle of resource2's type passes where resource1 is expected.
    let b = ResourceAny::try_from_resource(Resource::<HostB>::new_own(7), &mut store).unwrap();
    let echo = inst.get_func(&mut store, "run").unwrap();
    let mut out = [Val::Bool(false)];
    echo.call(&mut store, &[Val::Resource(b)], &mut out)
        .unwrap();
    let Val::Resource(back) = out[0] else {
        panic!("{:?}", out[0])
    };
    assert_eq!(
        back.try_into_resource::<HostB, _>(&mut store)
            .unwrap()
            .rep(),
        7
    );
    // And one of another type does not.
    let a = ResourceAny::try_from_resource(Resource::<HostA>::new_own(1), &mut store).unwrap();
    assert!(echo
        .call(&mut store, &[Val::Resource(a)], &mut out)
        .is_err());
}

#[test]
fn eq_bound_defined_as_the_same_type_links() {
    let (engine, linker) = eq_linker(
        Some(ResourceType::host::<HostB>()),
        ResourceType::host::<HostB>(),
    );
    let component = load(&engine, EQ_BOUND);
    linker
        .instantiate(&mut Store::new(&engine, ()), &component)
        .unwrap();
}

// ------------------------------------------------- imports that need nothing

#[test]
fn instance_imports_that_need_nothing_link_with_an_empty_linker() {
    for wat in [
        r#"(component (import "a" (instance)))"#,
        r#"(component (import "a" (instance (type $t u64) (export "t" (type (eq $t))))))"#,
        r#"(component (import "a" (instance (export "b" (instance (type $t string) (export "t" (type (eq $t))))))))"#,
    ] {
        let engine = Engine::default();
        let component = load(&engine, wat);
        Linker::<()>::new(&engine)
            .instantiate(&mut Store::new(&engine, ()), &component)
            .unwrap_or_else(|e| panic!("{wat}: {e}"));
    }
}

#[test]
fn instance_import_with_a_function_still_needs_a_definition() {
    let engine = Engine::default();
    let component = load(
        &engine,
        r#"(component (import "a" (instance (type $t u64) (export "t" (type (eq $t))) (export "f" (func)))))"#,
    );
    let e = Linker::<()>::new(&engine)
        .instantiate(&mut Store::new(&engine, ()), &component)
        .err()
        .expect("`a` has a function");
    assert_eq!(e.kind(), &ErrorKind::Link, "{e}");
    assert!(e.to_string().contains("import `a`"), "{e}");
    // A resource type inside needs one too.
    let component = load(
        &engine,
        r#"(component (import "a" (instance (export "r" (type (sub resource))))))"#,
    );
    assert!(Linker::<()>::new(&engine)
        .instantiate(&mut Store::new(&engine, ()), &component)
        .is_err());
}

// ------------------------------------------------- re-providing exports

/// Defines resource `r` (rep = the constructor's argument), exports it with
/// `make: func(n: u32) -> own<r>` and `get: func(x: borrow<r>) -> u32`, and
/// a core module `m` exporting `f: () -> i32` (42).
const DEFINER: &str = r#"(component
  (type $r' (resource (rep i32)))
  (export $r "r" (type $r'))
  (canon resource.new $r' (core func $new))
  (core module $impl
    (import "" "new" (func $new (param i32) (result i32)))
    (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
    ;; A borrow of the callee's own type arrives as its rep.
    (func (export "get") (param i32) (result i32) (local.get 0)))
  (core instance $i (instantiate $impl
    (with "" (instance (export "new" (func $new))))))
  (func (export "make") (param "n" u32) (result (own $r)) (canon lift (core func $i "make")))
  (func (export "get") (param "x" (borrow $r)) (result u32) (canon lift (core func $i "get")))
  (core module $m (func (export "f") (result i32) i32.const 42))
  (export "m" (core module $m)))"#;

/// Imports a resource type `r` and passes an owned handle through.
const PASSER: &str = r#"(component
  (import "r" (type $r (sub resource)))
  (core module $m (func (export "pass") (param i32) (result i32) (local.get 0)))
  (core instance $i (instantiate $m))
  (func (export "pass") (param "x" (own $r)) (result (own $r)) (canon lift (core func $i "pass"))))"#;

#[test]
fn guest_resource_type_is_shared_with_another_component_through_the_host() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let definer = Linker::<()>::new(&engine)
        .instantiate(&mut store, &load(&engine, DEFINER))
        .unwrap();
    let ty = definer
        .get_resource(&mut store, "r")
        .expect("exported resource");
    assert!(!ty.is_host());
    let mut linker = Linker::<()>::new(&engine);
    linker.root().resource_type("r", ty).unwrap();
    let passer = linker
        .instantiate(&mut store, &load(&engine, PASSER))
        .unwrap();

    let mut out = [Val::Bool(false)];
    let make = definer.get_func(&mut store, "make").unwrap();
    make.call(&mut store, &[Val::U32(5)], &mut out).unwrap();
    let Val::Resource(h) = out[0] else { panic!() };
    assert_eq!(h.ty(&mut store).unwrap(), ty);
    let pass = passer.get_func(&mut store, "pass").unwrap();
    pass.call(&mut store, &[Val::Resource(h)], &mut out)
        .unwrap();
    let Val::Resource(back) = out[0] else {
        panic!()
    };
    assert_eq!(back.ty(&mut store).unwrap(), ty);
    let get = definer.get_func(&mut store, "get").unwrap();
    get.call(&mut store, &[Val::Resource(back)], &mut out)
        .unwrap();
    assert_eq!(out[0], Val::U32(5));

    // Another instantiation defines another type: its handles do not pass.
    let other = Linker::<()>::new(&engine)
        .instantiate(&mut store, &load(&engine, DEFINER))
        .unwrap();
    let other_ty = other.get_resource(&mut store, "r").unwrap();
    assert_ne!(other_ty, ty);
    let make2 = other.get_func(&mut store, "make").unwrap();
    make2.call(&mut store, &[Val::U32(6)], &mut out).unwrap();
    let Val::Resource(h2) = out[0] else { panic!() };
    assert!(pass
        .call(&mut store, &[Val::Resource(h2)], &mut out)
        .is_err());
}

#[test]
fn guest_resource_types_of_two_instances_for_one_eq_bound_are_a_link_error() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut types = Vec::new();
    for _ in 0..2 {
        let inst = Linker::<()>::new(&engine)
            .instantiate(&mut store, &load(&engine, DEFINER))
            .unwrap();
        types.push(inst.get_resource(&mut store, "r").unwrap());
    }
    let wat = r#"(component
      (import "i" (instance
        (export "a" (type $a (sub resource)))
        (export "b" (type (eq $a))))))"#;
    let mut linker = Linker::<()>::new(&engine);
    let mut i = linker.instance("i").unwrap();
    i.resource_type("a", types[0]).unwrap();
    i.resource_type("b", types[1]).unwrap();
    let e = linker
        .instantiate(&mut store, &load(&engine, wat))
        .err()
        .expect("mismatch");
    assert!(e.to_string().contains("mismatched resource types"), "{e}");
    // A guest type of another store is a usage error at instantiation.
    let mut linker = Linker::<()>::new(&engine);
    linker.root().resource_type("r", types[0]).unwrap();
    let e = linker
        .instantiate(&mut Store::new(&engine, ()), &load(&engine, PASSER))
        .err()
        .expect("another store");
    assert_eq!(e.kind(), &ErrorKind::Usage, "{e}");
}

#[test]
fn exported_core_module_is_given_to_another_component() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let definer = Linker::<()>::new(&engine)
        .instantiate(&mut store, &load(&engine, DEFINER))
        .unwrap();
    let module = definer
        .get_module(&mut store, "m")
        .expect("exported module");
    assert!(definer.get_module(&mut store, "make").is_none());
    assert!(definer.get_resource(&mut store, "m").is_none());
    let mut linker = Linker::<()>::new(&engine);
    linker.root().module("m", &module).unwrap();
    let user = r#"(component
      (import "m" (core module $m (export "f" (func (result i32)))))
      (core instance $i (instantiate $m))
      (func (export "f") (result u32) (canon lift (core func $i "f"))))"#;
    let inst = linker
        .instantiate(&mut store, &load(&engine, user))
        .unwrap();
    assert_eq!(call_u32(&mut store, &inst, "f", &[]), 42);
    // The module's type is checked as any host module's.
    let wrong = r#"(component (import "m" (core module (export "g" (func)))))"#;
    let e = linker
        .instantiate(&mut store, &load(&engine, wrong))
        .err()
        .expect("no export g");
    assert_eq!(e.kind(), &ErrorKind::Link, "{e}");
}

// ------------------------------------------------- resource identity in types

#[test]
fn introspection_tells_resource_types_apart() {
    let engine = Engine::default();
    let wat = r#"(component
      (import "a" (type $a (sub resource)))
      (import "b" (type $b (sub resource)))
      (import "f" (func (param "x" (own $a)) (param "y" (borrow $b)) (param "z" (own $a)))))"#;
    let component = load(&engine, wat);
    let imports: Vec<_> = component.imports().collect();
    let ComponentItem::Resource(a) = &imports[0].1 else {
        panic!("{:?}", imports[0])
    };
    let ComponentItem::Resource(b) = &imports[1].1 else {
        panic!("{:?}", imports[1])
    };
    assert_ne!(a, b);
    let ComponentItem::Func(f) = &imports[2].1 else {
        panic!()
    };
    assert_eq!(f.params[0].1, Type::Own(*a));
    assert_eq!(f.params[1].1, Type::Borrow(*b));
    assert_eq!(f.params[2].1, Type::Own(*a));
    // A value type is not a resource.
    let c = load(
        &engine,
        r#"(component (type $t u8) (import "t" (type (eq $t))))"#,
    );
    assert!(matches!(c.imports().next().unwrap().1, ComponentItem::Type));
}

// ------------------------------------------------- dynamic host resource types

#[test]
fn dynamic_host_resource_types_are_distinct_and_carry_their_type() {
    use std::sync::{Arc, Mutex};
    let engine = Engine::default();
    let dropped = Arc::new(Mutex::new(Vec::new()));
    let mut linker = Linker::<()>::new(&engine);
    for n in [1, 2] {
        let d = dropped.clone();
        linker
            .root()
            .resource(
                &format!("r{n}"),
                ResourceType::host_dynamic(n),
                move |_, rep| {
                    d.lock().unwrap().push((n, rep));
                    Ok(())
                },
            )
            .unwrap();
    }
    let wat = r#"(component
      (import "r1" (type $r1 (sub resource)))
      (import "r2" (type $r2 (sub resource)))
      (core module $m (func (export "id") (param i32) (result i32) (local.get 0)))
      (core instance $i (instantiate $m))
      (func (export "pass1") (param "x" (own $r1)) (result (own $r1)) (canon lift (core func $i "id")))
      (func (export "pass2") (param "x" (own $r2)) (result (own $r2)) (canon lift (core func $i "id"))))"#;
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &load(&engine, wat)).unwrap();
    let t1 = ResourceType::host_dynamic(1);
    assert_ne!(t1, ResourceType::host_dynamic(2));
    assert_ne!(t1, ResourceType::host::<u32>());
    let h = ResourceAny::new_host(&mut store, t1, 77, true).unwrap();
    assert_eq!(h.ty(&mut store).unwrap(), t1);
    let mut out = [Val::Bool(false)];
    // The wrong type is refused; the right one passes through.
    let pass2 = inst.get_func(&mut store, "pass2").unwrap();
    assert!(pass2
        .call(&mut store, &[Val::Resource(h)], &mut out)
        .is_err());
    let pass1 = inst.get_func(&mut store, "pass1").unwrap();
    pass1
        .call(&mut store, &[Val::Resource(h)], &mut out)
        .unwrap();
    let Val::Resource(back) = out[0] else {
        panic!()
    };
    assert_eq!(back.ty(&mut store).unwrap(), t1);
    // Dropping the owned handle runs type 1's destructor with its rep.
    back.resource_drop(&mut store).unwrap();
    assert_eq!(*dropped.lock().unwrap(), vec![(1, 77)]);
    // into_host hands the rep back without a destructor.
    let h = ResourceAny::new_host(&mut store, ResourceType::host_dynamic(2), 9, true).unwrap();
    assert_eq!(
        h.into_host(&mut store).unwrap(),
        (ResourceType::host_dynamic(2), 9)
    );
    assert_eq!(dropped.lock().unwrap().len(), 1);
    assert!(h.ty(&mut store).is_err(), "moved out");
    // A guest-defined or static type is not a host type.
    let c = load(&engine, wat);
    let ComponentItem::Resource(s) = c.imports().next().unwrap().1 else {
        panic!()
    };
    assert!(ResourceAny::new_host(&mut store, s, 1, true).is_err());
}

// ------------------------------------------------- get_typed_func

#[test]
fn get_typed_func_finds_and_checks_an_export() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let inst = Linker::<()>::new(&engine)
        .instantiate(&mut store, &load(&engine, DEFINER))
        .unwrap();
    let make = inst
        .get_typed_func::<(u32,), ResourceAny>(&mut store, "make")
        .unwrap();
    let h = make.call(&mut store, (3,)).unwrap();
    assert_eq!(
        h.ty(&mut store).unwrap(),
        inst.get_resource(&mut store, "r").unwrap()
    );
    let e = inst
        .get_typed_func::<(u32,), u32>(&mut store, "make")
        .err()
        .expect("wrong result type");
    assert_eq!(e.kind(), &ErrorKind::Usage, "{e}");
    let e = inst
        .get_typed_func::<(), ()>(&mut store, "missing")
        .err()
        .expect("no such export");
    assert_eq!(e.kind(), &ErrorKind::Usage, "{e}");
}

/// An `eq` bound at the root, naming another root import's resource: the
/// same rules as inside an instance type.
#[test]
fn root_level_eq_bound_is_the_type_it_names() {
    let wat = r#"(component
      (import "a" (type $a (sub resource)))
      (import "b" (type $b (eq $a)))
      (core module $m (func (export "id") (param i32) (result i32) (local.get 0)))
      (core instance $i (instantiate $m))
      (func (export "pass") (param "x" (own $b)) (result (own $a)) (canon lift (core func $i "id"))))"#;
    let engine = Engine::default();
    let component = load(&engine, wat);
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .resource("a", ResourceType::host::<HostA>(), |_, _| Ok(()))
        .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let h = ResourceAny::try_from_resource(Resource::<HostA>::new_own(4), &mut store).unwrap();
    let mut out = [Val::Bool(false)];
    let pass = inst.get_func(&mut store, "pass").unwrap();
    pass.call(&mut store, &[Val::Resource(h)], &mut out)
        .unwrap();
    let Val::Resource(back) = out[0] else {
        panic!()
    };
    assert_eq!(
        back.try_into_resource::<HostA, _>(&mut store)
            .unwrap()
            .rep(),
        4
    );
    linker
        .root()
        .resource("b", ResourceType::host::<HostB>(), |_, _| Ok(()))
        .unwrap();
    let e = linker
        .instantiate(&mut Store::new(&engine, ()), &component)
        .err()
        .expect("b is a");
    assert!(e.to_string().contains("mismatched resource types"), "{e}");
}
