//! Borrowed views of guest memory as host function parameters:
//! `WasmStr` and `WasmList<T>`.

use componentry::{Component, Engine, ErrorKind, Linker, Store, TrapKind, WasmList, WasmStr};

/// A guest whose `run` calls the import `take` with the `len` bytes (or
/// elements) at `ptr`; its memory holds "hello" at 16, four u32 at 32, two
/// strings ("ab", "cde") as a list<string> at 64, invalid UTF-8 at 96.
fn guest(param: &str, encoding: &str) -> String {
    format!(
        r#"(component
          (import "take" (func $take (param "x" {param})))
          (core module $libc
            (memory (export "mem") 1)
            (func (export "realloc") (param i32 i32 i32 i32) (result i32) unreachable))
          (core instance $libc (instantiate $libc))
          (core func $take' (canon lower (func $take) (memory (core memory $libc "mem")) {encoding}))
          (core module $m
            (import "libc" "mem" (memory 1))
            (import "host" "take" (func $take (param i32 i32)))
            (data (i32.const 16) "hello")
            (data (i32.const 32) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00")
            (data (i32.const 64) "\50\00\00\00\02\00\00\00\53\00\00\00\03\00\00\00")
            (data (i32.const 80) "ab\00cde")
            (data (i32.const 96) "\ff\fe")
            (func (export "run") (param i32 i32) (call $take (local.get 0) (local.get 1))))
          (core instance $i (instantiate $m
            (with "libc" (instance $libc))
            (with "host" (instance (export "take" (func $take'))))))
          (func (export "run") (param "ptr" u32) (param "len" u32) (canon lift (core func $i "run"))))"#
    )
}

fn load(engine: &Engine, wat: &str) -> Component {
    Component::new(engine, &wat::parse_str(wat).unwrap()).unwrap()
}

#[test]
fn wasm_str_reads_the_guest_string_in_place() {
    let engine = Engine::default();
    let component = load(&engine, &guest("string", ""));
    let mut linker = Linker::<Vec<String>>::new(&engine);
    linker
        .root()
        .func_wrap("take", |mut cx, (s,): (WasmStr,)| {
            assert_eq!(s.byte_len(), 5);
            let text = s.to_str(&mut cx)?;
            assert!(matches!(text, std::borrow::Cow::Borrowed(_)));
            let text = text.into_owned();
            cx.data_mut().push(text);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst
        .get_typed_func::<(u32, u32), ()>(&mut store, "run")
        .unwrap();
    run.call(&mut store, (16, 5)).unwrap();
    assert_eq!(store.data(), &["hello".to_string()]);
}

#[test]
fn wasm_str_checks_bounds_at_the_call_and_encoding_when_read() {
    let engine = Engine::default();
    let component = load(&engine, &guest("string", ""));
    let mut linker = Linker::<Option<ErrorKind>>::new(&engine);
    linker
        .root()
        .func_wrap("take", |mut cx, (s,): (WasmStr,)| {
            let kind = s.to_str(&mut cx).err().map(|e| e.kind().clone());
            *cx.data_mut() = kind;
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, None);
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst
        .get_typed_func::<(u32, u32), ()>(&mut store, "run")
        .unwrap();
    // Out of bounds: the spec's trap, before the host function runs.
    let err = run.call(&mut store, (65530, 10)).unwrap_err();
    assert_eq!(err.trap_kind(), Some(TrapKind::PointerOutOfBounds), "{err}");
    assert_eq!(*store.data(), None);
    // Invalid UTF-8: an error when the host reads it.
    let mut store = Store::new(&engine, None);
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst
        .get_typed_func::<(u32, u32), ()>(&mut store, "run")
        .unwrap();
    run.call(&mut store, (96, 2)).unwrap();
    assert_eq!(
        *store.data(),
        Some(ErrorKind::Trap(TrapKind::InvalidEncoding))
    );
}

#[test]
fn wasm_str_transcodes_a_utf16_guest() {
    let engine = Engine::default();
    let component = load(&engine, &guest("string", "string-encoding=utf16"));
    let mut linker = Linker::<String>::new(&engine);
    linker
        .root()
        .func_wrap("take", |mut cx, (s,): (WasmStr,)| {
            let text = s.to_str(&mut cx)?.into_owned();
            *cx.data_mut() = text;
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, String::new());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst
        .get_typed_func::<(u32, u32), ()>(&mut store, "run")
        .unwrap();
    // "\x01\x00\x02\x00" at 32 as two UTF-16 code units.
    run.call(&mut store, (32, 2)).unwrap();
    assert_eq!(store.data(), "\u{1}\u{0}");
}

#[test]
fn wasm_list_reads_elements_and_bytes() {
    let engine = Engine::default();
    let component = load(&engine, &guest("(list u32)", ""));
    let mut linker = Linker::<(Vec<u32>, usize)>::new(&engine);
    linker
        .root()
        .func_wrap("take", |mut cx, (l,): (WasmList<u32>,)| {
            let bytes = l.as_le_bytes(&mut cx)?.len();
            let v = l.iter(&mut cx).collect::<componentry::Result<Vec<u32>>>()?;
            assert!(l.get(&mut cx, l.len()).is_none());
            *cx.data_mut() = (v, bytes);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, (Vec::new(), 0));
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst
        .get_typed_func::<(u32, u32), ()>(&mut store, "run")
        .unwrap();
    run.call(&mut store, (32, 4)).unwrap();
    assert_eq!(store.data(), &(vec![1, 2, 3, 4], 16));
    // Misaligned: the spec's trap at the call.
    let err = run.call(&mut store, (33, 1)).unwrap_err();
    assert_eq!(err.trap_kind(), Some(TrapKind::UnalignedPointer), "{err}");
}

#[test]
fn wasm_list_of_strings_lifts_each_element() {
    let engine = Engine::default();
    let component = load(&engine, &guest("(list string)", ""));
    let mut linker = Linker::<Vec<String>>::new(&engine);
    linker
        .root()
        .func_wrap("take", |mut cx, (l,): (WasmList<WasmStr>,)| {
            let mut out = Vec::new();
            for i in 0..l.len() {
                let s = l.get(&mut cx, i).unwrap()?;
                out.push(s.to_str(&mut cx)?.into_owned());
            }
            *cx.data_mut() = out;
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst
        .get_typed_func::<(u32, u32), ()>(&mut store, "run")
        .unwrap();
    run.call(&mut store, (64, 2)).unwrap();
    assert_eq!(store.data(), &["ab".to_string(), "cde".to_string()]);
}

#[test]
fn a_view_read_through_another_store_is_an_error() {
    let engine = Engine::default();
    let component = load(&engine, &guest("string", ""));
    let mut linker = Linker::<Option<WasmStr>>::new(&engine);
    linker
        .root()
        .func_wrap("take", |mut cx, (s,): (WasmStr,)| {
            *cx.data_mut() = Some(s);
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, None);
    let inst = linker.instantiate(&mut store, &component).unwrap();
    let run = inst
        .get_typed_func::<(u32, u32), ()>(&mut store, "run")
        .unwrap();
    run.call(&mut store, (16, 5)).unwrap();
    let s = store.data().unwrap();
    // After the call, through its own store: still readable.
    assert_eq!(s.to_str(&mut store).unwrap(), "hello");
    let mut other = Store::new(&engine, None::<WasmStr>);
    let err = s.to_str(&mut other).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Usage), "{err}");
}

#[test]
fn a_view_as_an_export_result_is_an_error_not_a_panic() {
    let engine = Engine::default();
    let component = load(
        &engine,
        r#"(component
          (core module $m
            (memory (export "mem") 1)
            (data (i32.const 8) "\10\00\00\00\05\00\00\00")
            (data (i32.const 16) "hello")
            (func (export "realloc") (param i32 i32 i32 i32) (result i32) unreachable)
            (func (export "get") (result i32) (i32.const 8)))
          (core instance $i (instantiate $m))
          (func (export "get") (result string)
            (canon lift (core func $i "get") (memory (core memory $i "mem")) (realloc (core func $i "realloc")))))"#,
    );
    let mut store = Store::new(&engine, ());
    let inst = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let get = inst
        .get_typed_func::<(), WasmStr>(&mut store, "get")
        .unwrap();
    assert!(get.call(&mut store, ()).is_err());
}
