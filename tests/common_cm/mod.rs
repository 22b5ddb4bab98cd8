//! Helpers for the composition and resource tests: loading WAT
//! components, calling exports with dynamic values, checking traps, and a
//! core-wasm bump allocator with call counters.
#![allow(dead_code)]

use componentry::*;

/// Compiles a component written in WAT; panics with the WAT error or the
/// load error.
pub fn load(engine: &Engine, wat: &str) -> Component {
    let bytes = match wat::parse_str(wat) {
        Ok(b) => b,
        Err(e) => panic!("WAT does not parse: {e}\n{wat}"),
    };
    match Component::new(engine, &bytes) {
        Ok(c) => c,
        Err(e) => panic!("component does not load: {e}"),
    }
}

/// Compiles and instantiates `wat` with an empty linker.
pub fn instantiate(wat: &str) -> (Store<()>, Instance) {
    let engine = Engine::default();
    let linker = Linker::new(&engine);
    instantiate_with(&engine, &linker, wat, ())
}

/// Compiles and instantiates `wat` with `linker`, in a new store holding `data`.
pub fn instantiate_with<T: 'static>(
    engine: &Engine,
    linker: &Linker<T>,
    wat: &str,
    data: T,
) -> (Store<T>, Instance) {
    let component = load(engine, wat);
    let mut store = Store::new(engine, data);
    let instance = match linker.instantiate(&mut store, &component) {
        Ok(i) => i,
        Err(e) => panic!("instantiation failed: {e}"),
    };
    (store, instance)
}

/// Calls the root export `name` with `args`; returns its result (if the
/// function has one). Panics if there is no such export.
pub fn call<T: 'static>(
    store: &mut Store<T>,
    instance: &Instance,
    name: &str,
    args: &[Val],
) -> Result<Option<Val>> {
    let f = instance
        .get_func(&mut *store, name)
        .unwrap_or_else(|| panic!("no exported function `{name}`"));
    let mut results = vec![Val::Bool(false); usize::from(f.ty().result.is_some())];
    f.call(&mut *store, args, &mut results)?;
    Ok(results.pop())
}

/// Calls `name` and expects a `u32` result.
pub fn call_u32<T: 'static>(
    store: &mut Store<T>,
    instance: &Instance,
    name: &str,
    args: &[Val],
) -> u32 {
    match call(store, instance, name, args) {
        Ok(Some(Val::U32(n))) => n,
        other => panic!("`{name}` returned {other:?}, expected a u32"),
    }
}

/// Calls `name` and expects a resource handle as result.
pub fn call_resource<T: 'static>(
    store: &mut Store<T>,
    instance: &Instance,
    name: &str,
    args: &[Val],
) -> ResourceAny {
    match call(store, instance, name, args) {
        Ok(Some(Val::Resource(r))) => r,
        other => panic!("`{name}` returned {other:?}, expected a resource"),
    }
}

/// Asserts that `r` is a trap of `kind`.
#[track_caller]
pub fn assert_trap<R: std::fmt::Debug>(r: Result<R>, kind: TrapKind) {
    match r {
        Ok(v) => panic!("expected a trap ({kind:?}), got Ok({v:?})"),
        Err(e) => assert_eq!(e.trap_kind(), Some(kind), "wrong error: {e}"),
    }
}

/// `list<u32>` as a `Vec<u32>`.
pub fn u32s(v: &Val) -> Vec<u32> {
    match v {
        Val::List(items) => items
            .iter()
            .map(|x| match x {
                Val::U32(n) => *n,
                other => panic!("not a u32: {other:?}"),
            })
            .collect(),
        other => panic!("not a list: {other:?}"),
    }
}

/// `list<u8>` as a `Vec<u8>`.
pub fn bytes_of(v: &Val) -> Vec<u8> {
    match v {
        Val::List(items) => items
            .iter()
            .map(|x| match x {
                Val::U8(n) => *n,
                other => panic!("not a u8: {other:?}"),
            })
            .collect(),
        other => panic!("not a list: {other:?}"),
    }
}

/// `bytes` as the contents of a WAT string literal (`"\63\61..."`).
pub fn wat_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// Paste into a core module: a one-page memory exported as `mem`, a bump
/// allocator exported as `realloc` (canonical signature; shrinks in place,
/// copies when it grows, grows memory as needed; never frees), its call
/// counter exported as `realloc-calls`, and `realloc-log`, which returns a
/// pointer to a `list<tuple<u32, u32, u32>>` of the `(old-size, align,
/// new-size)` of its first [`REALLOC_LOG_MAX`] calls.
///
/// Memory map: 8..16 is `realloc-log`'s return area, 512..1024 the log,
/// the heap starts at 1024; the rest below 512 is free for static data.
pub const LIBC: &str = r#"
    (memory (export "mem") 1)
    (global $heap (mut i32) (i32.const 1024))
    (global $realloc-calls (mut i32) (i32.const 0))
    (func $realloc (export "realloc")
        (param $old i32) (param $old-size i32) (param $align i32) (param $new-size i32)
        (result i32)
      (local $ptr i32)
      (local $entry i32)
      (if (i32.lt_u (global.get $realloc-calls) (i32.const 40))
        (then
          (local.set $entry
            (i32.add (i32.const 512) (i32.mul (global.get $realloc-calls) (i32.const 12))))
          (i32.store (local.get $entry) (local.get $old-size))
          (i32.store offset=4 (local.get $entry) (local.get $align))
          (i32.store offset=8 (local.get $entry) (local.get $new-size))))
      (global.set $realloc-calls (i32.add (global.get $realloc-calls) (i32.const 1)))
      (if (i32.and (i32.ne (local.get $old) (i32.const 0))
                   (i32.le_u (local.get $new-size) (local.get $old-size)))
        (then (return (local.get $old))))
      (local.set $ptr
        (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                 (i32.sub (i32.const 0) (local.get $align))))
      (global.set $heap (i32.add (local.get $ptr) (local.get $new-size)))
      (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
        (then
          (if (i32.eq
                (memory.grow
                  (i32.add
                    (i32.shr_u
                      (i32.sub (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
                      (i32.const 16))
                    (i32.const 1)))
                (i32.const -1))
            (then unreachable))))
      (if (i32.ne (local.get $old) (i32.const 0))
        (then (memory.copy (local.get $ptr) (local.get $old) (local.get $old-size))))
      (local.get $ptr))
    (func (export "realloc-calls") (result i32) (global.get $realloc-calls))
    (func (export "realloc-log") (result i32)
      (i32.store (i32.const 8) (i32.const 512))
      (i32.store (i32.const 12)
        (select (global.get $realloc-calls) (i32.const 40)
          (i32.lt_u (global.get $realloc-calls) (i32.const 40))))
      (i32.const 8))
"#;

/// How many realloc calls [`LIBC`] logs.
pub const REALLOC_LOG_MAX: usize = 40;

/// The component type of [`LIBC`]'s `realloc-log`, to lift it.
pub const REALLOC_LOG_TY: &str = "(list (tuple u32 u32 u32))";

/// A lifted `realloc-log` result as `(old-size, align, new-size)` triples.
pub fn realloc_log(v: &Val) -> Vec<(u32, u32, u32)> {
    match v {
        Val::List(items) => items
            .iter()
            .map(|t| match t {
                Val::Tuple(f) => match f.as_slice() {
                    [Val::U32(a), Val::U32(b), Val::U32(c)] => (*a, *b, *c),
                    other => panic!("not a log entry: {other:?}"),
                },
                other => panic!("not a log entry: {other:?}"),
            })
            .collect(),
        other => panic!("not a list: {other:?}"),
    }
}

/// A core module holding only [`LIBC`]: instantiate it first when a later
/// `canon lower` needs the memory and realloc of the instance that imports
/// the lowered function.
pub fn libc_module(name: &str) -> String {
    format!("(core module {name} {LIBC})")
}
