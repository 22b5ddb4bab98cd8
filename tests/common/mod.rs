//! Shared helpers for the integration tests: loading WAT components,
//! instantiating and calling them, and WAT snippets (a canonical bump
//! allocator `realloc`, component templates, data segments).
#![allow(dead_code)]

use componentry::*;

/// Where echo functions and guests write spilled results: a static return
/// area below the heap, 8-aligned, with room for 64 bytes.
pub const RET: u32 = 16;

/// The first address the bump allocator hands out. Everything below is
/// free for static data (return areas, data segments).
pub const HEAP_START: u32 = 1024;

/// The canonical options of every lift/lower in the templates below.
pub const OPTS: &str = "(memory $mem) (realloc $realloc)";

/// The end of the bump allocator both [`LIBC`] and [`LIBC_LOGGED`] hold:
/// shrink in place, align, grow memory as needed, copy the old bytes, and
/// the call counter's export.
macro_rules! bump_allocator_tail {
    () => {
        r#"      (if (i32.and (i32.ne (local.get $old) (i32.const 0))
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
"#
    };
}

/// Paste into a core module: a one-page memory exported as `mem`, a bump
/// allocator exported as `realloc` (canonical signature; shrinks in place,
/// copies the old bytes when it grows, grows memory as needed), and
/// counters exported as `realloc-calls`, `last-align`, `last-size`.
pub const LIBC: &str = concat!(
    r#"
    (memory (export "mem") 1)
    (global $heap (mut i32) (i32.const 1024))
    (global $realloc-calls (mut i32) (i32.const 0))
    (global $last-align (mut i32) (i32.const 0))
    (global $last-size (mut i32) (i32.const 0))
    (func $realloc (export "realloc")
        (param $old i32) (param $old-size i32) (param $align i32) (param $new-size i32)
        (result i32)
      (local $ptr i32)
      (global.set $realloc-calls (i32.add (global.get $realloc-calls) (i32.const 1)))
      (global.set $last-align (local.get $align))
      (global.set $last-size (local.get $new-size))
"#,
    bump_allocator_tail!(),
    r#"    (func (export "last-align") (result i32) (global.get $last-align))
    (func (export "last-size") (result i32) (global.get $last-size))
"#
);

/// Component exports of the allocator counters of core instance `inst`.
fn counter_exports(inst: &str) -> String {
    format!(
        r#"(func (export "realloc-calls") (result u32) (canon lift (core func {inst} "realloc-calls")))
  (func (export "last-align") (result u32) (canon lift (core func {inst} "last-align")))
  (func (export "last-size") (result u32) (canon lift (core func {inst} "last-size")))"#
    )
}

/// A component with one core module (containing [`LIBC`] and `core`),
/// instantiated as `$i`, with `$mem` and `$realloc` aliased for
/// [`OPTS`]. `types` comes first, `exports` last; the allocator counters
/// are exported as `realloc-calls`, `last-align` and `last-size`.
pub fn exports_component(types: &str, core: &str, exports: &str) -> String {
    format!(
        r#"(component
  {types}
  (core module $m
    {LIBC}
    {core}
  )
  (core instance $i (instantiate $m))
  (alias core export $i "mem" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  {counters}
  {exports}
)"#,
        counters = counter_exports("$i")
    )
}

/// A component that imports things (`imports`: types and functions), has
/// a `$libc` core instance (memory and allocator) aliased as `$mem` and
/// `$realloc`, then `lowers` (core funcs lowered from the imports), then a
/// core module `$m` (importing `libc.mem`, `libc.realloc` and whatever it
/// imports from `host`) containing `core`, instantiated as `$i` with the
/// core instance `(instance {host})` as `host`, then `exports`. The
/// allocator counters are exported as in [`exports_component`].
pub fn imports_component(
    imports: &str,
    lowers: &str,
    core: &str,
    host: &str,
    exports: &str,
) -> String {
    format!(
        r#"(component
  {imports}
  (core module $libc {LIBC})
  (core instance $libc (instantiate $libc))
  (alias core export $libc "mem" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))
  {lowers}
  (core module $m
    (import "libc" "mem" (memory 1))
    (import "libc" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    {core}
  )
  (core instance $i (instantiate $m (with "libc" (instance $libc)) (with "host" (instance {host}))))
  {counters}
  {exports}
)"#,
        counters = counter_exports("$libc")
    )
}

/// Parses WAT, panicking with the source on a WAT syntax error (a bug in
/// the test, not in the runtime).
pub fn wat_bytes(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).unwrap_or_else(|e| panic!("invalid WAT in test: {e}\n{wat}"))
}

/// Loads a component from WAT; a load error fails the test.
pub fn load(engine: &Engine, wat: &str) -> Component {
    let bytes = wat_bytes(wat);
    Component::new(engine, &bytes).unwrap_or_else(|e| panic!("load failed: {e}\n{wat}"))
}

/// Loads a component from WAT, returning the load result.
pub fn try_load(engine: &Engine, wat: &str) -> Result<Component> {
    Component::new(engine, &wat_bytes(wat))
}

/// Loads and instantiates a component without imports in a fresh store.
pub fn instantiate(wat: &str) -> (Store<()>, Instance) {
    let engine = Engine::default();
    let component = load(&engine, wat);
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap_or_else(|e| panic!("instantiation failed: {e}"));
    (store, instance)
}

/// Calls export `name` with `args`, with as many result slots as its type
/// has results. Returns the result, if any.
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

/// Calls export `name` expecting success and a result.
pub fn call1<T: 'static>(
    store: &mut Store<T>,
    instance: &Instance,
    name: &str,
    args: &[Val],
) -> Val {
    match call(store, instance, name, args) {
        Ok(Some(v)) => v,
        Ok(None) => panic!("`{name}` returned no result"),
        Err(e) => panic!("`{name}` failed: {e}"),
    }
}

/// Calls export `name` expecting an error, which it returns.
pub fn call_err<T: 'static>(
    store: &mut Store<T>,
    instance: &Instance,
    name: &str,
    args: &[Val],
) -> Error {
    match call(store, instance, name, args) {
        Ok(r) => panic!("`{name}` succeeded with {r:?}, expected an error"),
        Err(e) => e,
    }
}

/// A WAT string literal with the given bytes, all escaped.
pub fn wat_string(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for b in bytes {
        s.push_str(&format!("\\{b:02x}"));
    }
    s.push('"');
    s
}

/// An active data segment writing `bytes` at `addr` (in a core module).
pub fn data(addr: u32, bytes: &[u8]) -> String {
    format!("(data (i32.const {addr}) {})", wat_string(bytes))
}

/// Little-endian bytes of several `u32`s, concatenated.
pub fn le32s(vs: &[u32]) -> Vec<u8> {
    vs.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A string value.
pub fn s(v: &str) -> Val {
    Val::String(v.to_string())
}

/// A `list<u8>` value.
pub fn bytes_val(b: &[u8]) -> Val {
    Val::List(b.iter().map(|&x| Val::U8(x)).collect())
}

/// A record value from (name, value) pairs.
pub fn record(fields: &[(&str, Val)]) -> Val {
    Val::Record(
        fields
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect(),
    )
}

/// A variant value.
pub fn variant(case: &str, payload: Option<Val>) -> Val {
    Val::Variant(case.to_string(), payload.map(Box::new))
}

/// A flags value.
pub fn flags(names: &[&str]) -> Val {
    Val::Flags(names.iter().map(|n| n.to_string()).collect())
}

/// `some(v)`.
pub fn some(v: Val) -> Val {
    Val::Option(Some(Box::new(v)))
}

/// `ok(v)` / `ok`.
pub fn ok(v: Option<Val>) -> Val {
    Val::Result(Ok(v.map(Box::new)))
}

/// `err(v)` / `err`.
pub fn err(v: Option<Val>) -> Val {
    Val::Result(Err(v.map(Box::new)))
}

/// Asserts that `r` failed with a trap of `kind`.
#[track_caller]
pub fn assert_trap<T: std::fmt::Debug>(r: Result<T>, kind: TrapKind) {
    match r {
        Ok(v) => panic!("expected a trap ({kind:?}), got Ok({v:?})"),
        Err(e) => assert_eq!(e.trap_kind(), Some(kind), "wrong error: {e}"),
    }
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

/// Paste into a core module: a one-page memory exported as `mem`, a bump
/// allocator exported as `realloc` (canonical signature; shrinks in place,
/// copies when it grows, grows memory as needed; never frees), its call
/// counter exported as `realloc-calls`, and `realloc-log`, which returns a
/// pointer to a `list<tuple<u32, u32, u32>>` of the `(old-size, align,
/// new-size)` of its first [`REALLOC_LOG_MAX`] calls.
///
/// Memory map: 8..16 is `realloc-log`'s return area, 512..1024 the log,
/// the heap starts at 1024; the rest below 512 is free for static data.
pub const LIBC_LOGGED: &str = concat!(
    r#"
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
"#,
    bump_allocator_tail!(),
    r#"    (func (export "realloc-log") (result i32)
      (i32.store (i32.const 8) (i32.const 512))
      (i32.store (i32.const 12)
        (select (global.get $realloc-calls) (i32.const 40)
          (i32.lt_u (global.get $realloc-calls) (i32.const 40))))
      (i32.const 8))
"#
);

/// How many realloc calls [`LIBC_LOGGED`] logs.
pub const REALLOC_LOG_MAX: usize = 40;

/// The component type of [`LIBC_LOGGED`]'s `realloc-log`, to lift it.
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

/// A core module holding only [`LIBC_LOGGED`]: instantiate it first when a later
/// `canon lower` needs the memory and realloc of the instance that imports
/// the lowered function.
pub fn libc_module(name: &str) -> String {
    format!("(core module {name} {LIBC_LOGGED})")
}
