use componentry::*;

fn load(engine: &Engine, wat: &str) -> Component {
    let bytes = wat::parse_str(wat).expect("wat");
    Component::new(engine, &bytes).expect("load")
}

#[test]
fn add_u32() {
    let engine = Engine::default();
    let c = load(
        &engine,
        r#"(component
            (core module $m (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
            (core instance $i (instantiate $m))
            (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
        )"#,
    );
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let inst = linker.instantiate(&mut store, &c).unwrap();
    let f = inst.get_func(&mut store, "add").unwrap();
    let mut r = [Val::Bool(false)];
    f.call(&mut store, &[Val::U32(7), Val::U32(35)], &mut r)
        .unwrap();
    assert_eq!(r[0], Val::U32(42));
}

#[test]
fn nested_component_calls_child() {
    let engine = Engine::default();
    let c = load(
        &engine,
        r#"(component
            (component $C
                (core module $m (func (export "double") (param i32) (result i32) local.get 0 i32.const 2 i32.mul))
                (core instance $i (instantiate $m))
                (func (export "double") (param "x" u32) (result u32) (canon lift (core func $i "double")))
            )
            (component $D
                (import "double" (func $d (param "x" u32) (result u32)))
                (core func $d' (canon lower (func $d)))
                (core module $m
                    (import "" "double" (func $d (param i32) (result i32)))
                    (func (export "run") (param i32) (result i32) local.get 0 call $d i32.const 1 i32.add))
                (core instance $i (instantiate $m (with "" (instance (export "double" (func $d'))))))
                (func (export "run") (param "x" u32) (result u32) (canon lift (core func $i "run")))
            )
            (instance $c (instantiate $C))
            (instance $d (instantiate $D (with "double" (func $c "double"))))
            (export "run" (func $d "run"))
        )"#,
    );
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let inst = linker.instantiate(&mut store, &c).unwrap();
    let f = inst.get_func(&mut store, "run").unwrap();
    let mut r = [Val::Bool(false)];
    f.call(&mut store, &[Val::U32(20)], &mut r).unwrap();
    assert_eq!(r[0], Val::U32(41));
}
