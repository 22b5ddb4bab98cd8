//! The boundary benchmark set (`shared/bench/bench.wit`), on two guests:
//!
//! - `wit-bindgen`: `components/bench-guest.wasm`, a Rust guest built with
//!   wit-bindgen from the shared WIT (`tests/guests/bench`, rebuilt by
//!   `tools/build-guests.sh`): its `cabi_realloc` is the standard allocator
//!   and its post-return functions free what a call returned. The issue's
//!   marks apply to this guest.
//! - `wat`: `components/bench.wat`, the same functions by hand with a bump
//!   allocator and no post-return (the resource workload is the component
//!   of `benches/resources.rs`).
//!
//! Every workload runs through componentry's typed API, some through
//! dynamic `Val`s (and, on the WAT guest, through `bindgen!` bindings, which
//! should cost what the typed API costs), each next to a raw-wasmi floor
//! doing the same work by hand on a core module (`components/raw.wat`).
//! Instantiation is compared with raw wasmi instantiating the same guest's
//! core modules, and a component-to-component echo (`components/compose.wat`)
//! with the same echo from the host. At the end it prints, per guest, every
//! ratio with its target and PASS or MISS.
//!
//! Run: `cargo bench --bench boundary` (a filter after `--` runs only the
//! rows and columns whose `row/column` contains it, with their floors, e.g.
//! `-- echo-record` or `-- wit-bindgen-typed`). The columns of a row are timed interleaved, batch
//! by batch, and each is the median of its batches: on a shared machine
//! the load drifts, and interleaving moves a row's columns alike.
//!
//! Instruction counts: `BOUNDARY_CALLGRIND=GUEST:API:WORKLOAD BOUNDARY_N=n`
//! runs `n` iterations of one workload and nothing else (GUEST `wat` or
//! `wit-bindgen` with API `typed`, `val` or `bindings`; `raw` with API
//! `wat` or `wit-bindgen`, whose core modules the instantiation floor
//! uses; `abi`, the ABI floor, with any API; `compose` with API `host` or
//! `c2c` and WORKLOAD `echo-string-16` or `echo-string-4k`; WORKLOAD a name
//! from `Workload::NAMES`, e.g. `wit-bindgen:typed:echo-string-16`);
//! under `valgrind --tool=callgrind` the difference of two `n` divided by
//! their difference is one iteration. `BOUNDARY_CALLGRIND=typed|bindings`
//! keeps its old meaning: `add` plus `echo-string` 16 B on the WAT guest.

use componentry::{
    Component, ComponentType, Engine, Func, Instance, Lift, Linker, Lower, ResourceAny, Store,
    TypedFunc, Val, WasmStr,
};
use criterion::black_box;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const BENCH_WAT: &str = include_str!("components/bench.wat");
const BENCH_GUEST: &[u8] = include_bytes!("components/bench-guest.wasm");
const RAW_WAT: &str = include_str!("components/raw.wat");
const COMPOSE_WAT: &str = include_str!("components/compose.wat");

/// The WIT interface the wit-bindgen guest exports.
const API: &str = "peerbench:bench/api";
/// The WIT interface the wit-bindgen guest imports.
const HOST: &str = "peerbench:bench/host";

/// Bindings for `components/bench.wat`, whose imports and exports are at
/// the root (the shared WIT's `host` and `api` interfaces, flattened).
mod bindings {
    componentry::bindgen!({
        inline: "
            package peerbench:bench-root;

            world bench-root {
                record big-record {
                    f-u8: u8,
                    f-u16: u16,
                    f-u32: u32,
                    f-u64: u64,
                    f-f32: f32,
                    f-f64: f64,
                    f-bool: bool,
                    f-char: char,
                    f-string: string,
                    f-opt: option<u32>,
                }

                import add: func(a: u32, b: u32) -> u32;
                import log: func(s: string);

                export nop: func();
                export add: func(a: u32, b: u32) -> u32;
                export echo-string: func(s: string) -> string;
                export sum-bytes: func(b: list<u8>) -> u64;
                export make-bytes: func(n: u32) -> list<u8>;
                export echo-record: func(r: big-record) -> big-record;
                export count-strings: func(l: list<string>) -> u32;
                export call-host-add: func(n: u32) -> u32;
                export call-host-log: func(n: u32);
            }
        ",
    });
}

/// The bindings' host: the same work as the typed API's closures.
impl bindings::BenchRootImports for u64 {
    fn add(&mut self, a: u32, b: u32) -> u32 {
        a.wrapping_add(b)
    }
    fn log(&mut self, s: String) {
        *self += s.len() as u64;
    }
}

/// Where the raw floor's host writes its inputs.
const IN: usize = 65536;

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
struct BigRecord {
    f_u8: u8,
    f_u16: u16,
    f_u32: u32,
    f_u64: u64,
    f_f32: f32,
    f_f64: f64,
    f_bool: bool,
    f_char: char,
    f_string: String,
    f_opt: Option<u32>,
}

fn record() -> BigRecord {
    BigRecord {
        f_u8: 8,
        f_u16: 16,
        f_u32: 32,
        f_u64: 64,
        f_f32: 3.5,
        f_f64: -7.25,
        f_bool: true,
        f_char: 'λ',
        f_string: "a string of 16 B".into(),
        f_opt: Some(42),
    }
}

fn record_val(r: &BigRecord) -> Val {
    Val::Record(vec![
        ("f-u8".into(), Val::U8(r.f_u8)),
        ("f-u16".into(), Val::U16(r.f_u16)),
        ("f-u32".into(), Val::U32(r.f_u32)),
        ("f-u64".into(), Val::U64(r.f_u64)),
        ("f-f32".into(), Val::Float32(r.f_f32)),
        ("f-f64".into(), Val::Float64(r.f_f64)),
        ("f-bool".into(), Val::Bool(r.f_bool)),
        ("f-char".into(), Val::Char(r.f_char)),
        ("f-string".into(), Val::String(r.f_string.clone())),
        (
            "f-opt".into(),
            Val::Option(r.f_opt.map(|v| Box::new(Val::U32(v)))),
        ),
    ])
}

/// A guest resource's lifetime, the WAT guest's resource workload (the
/// component of `benches/resources.rs`: the counter's state in guest
/// memory, `rep` its address).
const RESOURCE_WAT: &str = r#"(component
  (core module $lib
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 64))
    (global $free (mut i32) (i32.const 0))
    (func $alloc (export "alloc") (result i32)
      (local $p i32)
      (if (result i32) (global.get $free)
        (then (local.set $p (global.get $free))
              (global.set $free (i32.load (local.get $p)))
              (i64.store (local.get $p) (i64.const 0))
              (local.get $p))
        (else (local.set $p (global.get $next))
              (global.set $next (i32.add (global.get $next) (i32.const 8)))
              (local.get $p))))
    (func (export "release") (param $p i32)
      (i32.store (local.get $p) (global.get $free))
      (global.set $free (local.get $p)))
    (func (export "inc") (param $p i32) (i64.store (local.get $p) (i64.add (i64.load (local.get $p)) (i64.const 1))))
    (func (export "get") (param $p i32) (result i64) (i64.load (local.get $p))))
  (core instance $lib (instantiate $lib))
  (type $counter (resource (rep i32) (dtor (core func $lib "release"))))
  (core func $new (canon resource.new $counter))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "lib" "alloc" (func $alloc (result i32)))
    (func (export "ctor") (result i32) (call $new (call $alloc))))
  (core instance $i (instantiate $m
    (with "" (instance (export "new" (func $new))))
    (with "lib" (instance $lib))))
  (export $c "counter" (type $counter))
  (func (export "[constructor]counter") (result (own $c)) (canon lift (core func $i "ctor")))
  (func (export "[method]counter.inc") (param "self" (borrow $c)) (canon lift (core func $lib "inc")))
  (func (export "[method]counter.get") (param "self" (borrow $c)) (result u64) (canon lift (core func $lib "get"))))"#;

// ------------------------------------------------------------ timings

thread_local! {
    /// Per-iteration times of every sample, by benchmark id.
    static TIMES: RefCell<BTreeMap<String, Vec<f64>>> = const { RefCell::new(BTreeMap::new()) };
}

/// One variant of a row: its id and one iteration.
type Variant<'s> = (String, Box<dyn FnMut() + 's>);

/// How long one batch of a variant runs.
const BATCH: Duration = Duration::from_millis(10);
/// Batches per variant: the median of these is its time.
const ROUNDS: usize = 25;

/// Times the variants of one row interleaved: `ROUNDS` rounds, each
/// running every variant for a batch of about `BATCH`, so that the load of
/// this shared machine drifting during the run moves every column of the
/// row alike. Records per-iteration times (divided by `per`, the calls one
/// iteration makes) under `group/id`; skips variants whose `group/id` does
/// not contain `filter`.
fn measure(filter: Option<&str>, group: &str, per: u32, variants: Vec<Variant<'_>>) {
    let floor = |id: &str| id.starts_with("raw") || id == "abi" || id == "host";
    let wanted = |id: &str| filter.is_none_or(|f| format!("{group}/{id}").contains(f));
    // The floors run whenever anything they are the floor of does.
    let any = variants.iter().any(|(id, _)| wanted(id));
    let mut vs: Vec<Variant<'_>> = variants
        .into_iter()
        .filter(|(id, _)| any && (wanted(id) || floor(id)))
        .collect();
    if vs.is_empty() {
        return;
    }
    let mut batch = Vec::with_capacity(vs.len());
    for (_, f) in &mut vs {
        f();
        let mut n = 1u64;
        loop {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            let t = start.elapsed();
            if t >= BATCH / 4 || n >= 1 << 30 {
                let per_iter = t.as_secs_f64() / n as f64;
                batch.push(((BATCH.as_secs_f64() / per_iter.max(1e-9)) as u64).max(1));
                break;
            }
            n *= 2;
        }
    }
    for _ in 0..ROUNDS {
        for ((id, f), n) in vs.iter_mut().zip(&batch) {
            let start = Instant::now();
            for _ in 0..*n {
                f();
            }
            let ns = start.elapsed().as_nanos() as f64 / (*n as f64 * f64::from(per));
            TIMES.with(|m| {
                m.borrow_mut()
                    .entry(format!("{group}/{id}"))
                    .or_default()
                    .push(ns)
            });
        }
    }
    let line: Vec<String> = vs
        .iter()
        .filter_map(|(id, _)| Some(format!("{id} {:.0}", median(&format!("{group}/{id}"))?)))
        .collect();
    eprintln!("{group}: {} (ns)", line.join(", "));
}

fn median(key: &str) -> Option<f64> {
    TIMES.with(|m| {
        let mut v = m.borrow().get(key)?.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied()
    })
}

// ----------------------------------------------------------- workloads

/// One workload of the set: what one iteration does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Workload {
    Nop,
    Add,
    Echo16,
    Echo4K,
    Sum64K,
    Sum1M,
    Make64K,
    EchoRecord,
    CountStrings,
    HostAdd,
    HostLog,
    Resource,
    Instantiate,
}

impl Workload {
    const ALL: [Workload; 13] = [
        Workload::Nop,
        Workload::Add,
        Workload::Echo16,
        Workload::Echo4K,
        Workload::Sum64K,
        Workload::Sum1M,
        Workload::Make64K,
        Workload::EchoRecord,
        Workload::CountStrings,
        Workload::HostAdd,
        Workload::HostLog,
        Workload::Resource,
        Workload::Instantiate,
    ];
    /// Names for `BOUNDARY_CALLGRIND`, in the order of `ALL`.
    const NAMES: [&'static str; 13] = [
        "nop",
        "add",
        "echo-string-16",
        "echo-string-4k",
        "sum-bytes-64k",
        "sum-bytes-1m",
        "make-bytes-64k",
        "echo-record",
        "count-strings",
        "call-host-add",
        "call-host-log",
        "resource",
        "instantiate",
    ];

    /// The row label in the report (and the criterion group).
    fn label(self) -> &'static str {
        match self {
            Workload::Nop => "nop",
            Workload::Add => "add",
            Workload::Echo16 => "echo-string 16 B",
            Workload::Echo4K => "echo-string 4 KiB",
            Workload::Sum64K => "sum-bytes 64 KiB",
            Workload::Sum1M => "sum-bytes 1 MiB",
            Workload::Make64K => "make-bytes 64 KiB",
            Workload::EchoRecord => "echo-record",
            Workload::CountStrings => "count-strings 100 x 16 B",
            Workload::HostAdd => "call-host-add x 1000",
            Workload::HostLog => "call-host-log x 1000",
            Workload::Resource => "resource new+inc+get+drop",
            Workload::Instantiate => "instantiate",
        }
    }

    fn from_name(name: &str) -> Option<Workload> {
        let i = Self::NAMES.iter().position(|n| *n == name)?;
        Some(Self::ALL[i])
    }

    /// shared/bench/README.md's target for typed ÷ raw.
    fn readme_target(self) -> f64 {
        match self {
            Workload::Echo4K | Workload::Sum64K | Workload::Sum1M | Workload::Make64K => 1.1,
            _ => 1.3,
        }
    }

    /// Issue #20's intermediate mark for typed ÷ raw, if it sets one.
    fn issue_mark(self) -> Option<f64> {
        match self {
            Workload::Nop | Workload::Add | Workload::HostAdd => Some(1.3),
            Workload::Echo16 => Some(3.0),
            Workload::EchoRecord | Workload::HostLog => Some(2.0),
            Workload::Resource => Some(1.8),
            Workload::CountStrings => Some(20.0),
            Workload::Instantiate => Some(1.2),
            _ => None,
        }
    }

    /// The target for Val ÷ typed: issue #20's 1.5 on nop, add and
    /// echo-record, the README's 2 elsewhere.
    fn val_target(self) -> f64 {
        match self {
            Workload::Nop | Workload::Add | Workload::EchoRecord => 1.5,
            _ => 2.0,
        }
    }
}

/// Which API a componentry iteration goes through.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Api {
    Typed,
    Val,
    Bindings,
}

/// The inputs every workload reads, made once.
struct Inputs {
    s16: String,
    s4k: String,
    s16_val: Val,
    bytes64k: Vec<u8>,
    bytes1m: Vec<u8>,
    bytes64k_val: Val,
    rec: BigRecord,
    rec_val: Val,
    bindings_rec: bindings::BigRecord,
    strings: Vec<String>,
}

impl Inputs {
    fn new() -> Inputs {
        let rec = record();
        let r = rec.clone();
        let bytes64k: Vec<u8> = (0..65536).map(|i| i as u8).collect();
        let strings: Vec<String> = (0..100).map(|i| format!("string {i:>9}")).collect();
        assert!(strings.iter().all(|s| s.len() == 16));
        Inputs {
            s16: "x".repeat(16),
            s4k: "x".repeat(4096),
            s16_val: Val::String("x".repeat(16)),
            bytes64k_val: Val::List(bytes64k.iter().map(|b| Val::U8(*b)).collect()),
            bytes64k,
            bytes1m: (0..1 << 20).map(|i| i as u8).collect(),
            rec_val: record_val(&rec),
            rec,
            bindings_rec: bindings::BigRecord {
                f_u8: r.f_u8,
                f_u16: r.f_u16,
                f_u32: r.f_u32,
                f_u64: r.f_u64,
                f_f32: r.f_f32,
                f_f64: r.f_f64,
                f_bool: r.f_bool,
                f_char: r.f_char,
                f_string: r.f_string,
                f_opt: r.f_opt,
            },
            strings,
        }
    }
}

/// Which guest a [`Guest`] runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Wat,
    WitBindgen,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Wat => "wat",
            Kind::WitBindgen => "wit-bindgen",
        }
    }
}

/// The host functions both guests import: `add` and `log` (which counts
/// the bytes it was given, reading them in place through a `WasmStr`).
fn define_host(linker: &mut Linker<u64>, kind: Kind) {
    let mut root = linker.root();
    let mut host = match kind {
        Kind::Wat => root,
        Kind::WitBindgen => root.instance(HOST).unwrap(),
    };
    host.func_wrap("add", |_, (a, b): (u32, u32)| Ok(a.wrapping_add(b)))
        .unwrap();
    // A borrowed view: the string is read in place, nothing allocated.
    host.func_wrap("log", |mut cx, (s,): (WasmStr,)| {
        let n = s.to_str(&mut cx)?.len();
        *cx.data_mut() += n as u64;
        Ok(())
    })
    .unwrap();
}

/// One guest instantiated, with every function looked up and typed once.
struct Guest<'a> {
    kind: Kind,
    inputs: &'a Inputs,
    engine: Engine,
    component: Component,
    linker: Linker<u64>,
    store: Store<u64>,
    bindings: Option<bindings::BenchRoot>,
    nop: (Func, TypedFunc<(), ()>),
    add: (Func, TypedFunc<(u32, u32), u32>),
    echo: (Func, TypedFunc<(&'a str,), String>),
    sum: (Func, TypedFunc<(&'a [u8],), u64>),
    make: TypedFunc<(u32,), Vec<u8>>,
    echo_record: (Func, TypedFunc<(&'a BigRecord,), BigRecord>),
    count: TypedFunc<(&'a [String],), u32>,
    host_add: TypedFunc<(u32,), u32>,
    host_log: TypedFunc<(u32,), ()>,
    ctor: (Func, TypedFunc<(), ResourceAny>),
    inc: (Func, TypedFunc<(ResourceAny,), ()>),
    get: (Func, TypedFunc<(ResourceAny,), u64>),
}

fn typed<P, R>(store: &mut Store<u64>, f: &Func) -> TypedFunc<P, R>
where
    P: componentry::ComponentNamedList + Lower,
    R: ComponentType + Lift,
{
    f.typed(store).unwrap()
}

impl<'a> Guest<'a> {
    fn new(kind: Kind, inputs: &'a Inputs) -> Guest<'a> {
        let engine = Engine::default();
        let bytes = match kind {
            Kind::Wat => wat::parse_str(BENCH_WAT).unwrap(),
            Kind::WitBindgen => BENCH_GUEST.to_vec(),
        };
        let component = Component::new(&engine, &bytes).unwrap();
        let mut linker = Linker::<u64>::new(&engine);
        define_host(&mut linker, kind);
        let mut store = Store::new(&engine, 0u64);
        let inst = linker.instantiate(&mut store, &component).unwrap();
        // The WAT guest's resource workload is a component of its own.
        let res_inst = match kind {
            Kind::Wat => {
                let c = Component::new(&engine, &wat::parse_str(RESOURCE_WAT).unwrap()).unwrap();
                Linker::new(&engine).instantiate(&mut store, &c).unwrap()
            }
            Kind::WitBindgen => inst.clone(),
        };
        let find = |store: &mut Store<u64>, inst: &Instance, name: &str| -> Func {
            match kind {
                Kind::Wat => inst.get_func(store, name),
                Kind::WitBindgen => inst.get_instance_func(store, API, name),
            }
            .unwrap_or_else(|| panic!("no export {name}"))
        };
        let nop = {
            let f = find(&mut store, &inst, "nop");
            {
                let t = typed(&mut store, &f);
                (f, t)
            }
        };
        let add = {
            let f = find(&mut store, &inst, "add");
            {
                let t = typed(&mut store, &f);
                (f, t)
            }
        };
        let echo = {
            let f = find(&mut store, &inst, "echo-string");
            {
                let t = typed(&mut store, &f);
                (f, t)
            }
        };
        let sum = {
            let f = find(&mut store, &inst, "sum-bytes");
            {
                let t = typed(&mut store, &f);
                (f, t)
            }
        };
        let f = find(&mut store, &inst, "make-bytes");
        let make = typed(&mut store, &f);
        let echo_record = {
            let f = find(&mut store, &inst, "echo-record");
            {
                let t = typed(&mut store, &f);
                (f, t)
            }
        };
        let f = find(&mut store, &inst, "count-strings");
        let count = typed(&mut store, &f);
        let f = find(&mut store, &inst, "call-host-add");
        let host_add = typed(&mut store, &f);
        let f = find(&mut store, &inst, "call-host-log");
        let host_log = typed(&mut store, &f);
        let ctor = {
            let f = find(&mut store, &res_inst, "[constructor]counter");
            {
                let t = typed(&mut store, &f);
                (f, t)
            }
        };
        let inc = {
            let f = find(&mut store, &res_inst, "[method]counter.inc");
            {
                let t = typed(&mut store, &f);
                (f, t)
            }
        };
        let get = {
            let f = find(&mut store, &res_inst, "[method]counter.get");
            {
                let t = typed(&mut store, &f);
                (f, t)
            }
        };
        let bindings = (kind == Kind::Wat).then(|| {
            let mut l = Linker::<u64>::new(&engine);
            bindings::BenchRoot::add_to_linker(&mut l, |n| n).unwrap();
            let i = l.instantiate(&mut store, &component).unwrap();
            bindings::BenchRoot::new(&mut store, &i).unwrap()
        });
        let mut g = Guest {
            kind,
            inputs,
            engine,
            component,
            linker,
            store,
            bindings,
            nop,
            add,
            echo,
            sum,
            make,
            echo_record,
            count,
            host_add,
            host_log,
            ctor,
            inc,
            get,
        };
        g.check();
        g
    }

    /// Checks every workload's result once, through every API.
    fn check(&mut self) {
        let i = self.inputs;
        let s = &mut self.store;
        assert_eq!(self.add.1.call(&mut *s, (7, 35)).unwrap(), 42);
        assert_eq!(self.echo.1.call(&mut *s, (&i.s16,)).unwrap(), i.s16);
        assert_eq!(self.echo.1.call(&mut *s, (&i.s4k,)).unwrap(), i.s4k);
        let expect: u64 = i.bytes64k.iter().map(|b| u64::from(*b)).sum();
        assert_eq!(self.sum.1.call(&mut *s, (&i.bytes64k,)).unwrap(), expect);
        assert_eq!(self.make.call(&mut *s, (65536,)).unwrap(), i.bytes64k);
        assert_eq!(self.echo_record.1.call(&mut *s, (&i.rec,)).unwrap(), i.rec);
        assert_eq!(self.count.call(&mut *s, (&i.strings,)).unwrap(), 100);
        assert_eq!(self.host_add.call(&mut *s, (1000,)).unwrap(), 1000);
        let before = *s.data();
        self.host_log.call(&mut *s, (1000,)).unwrap();
        assert_eq!(*s.data() - before, 32_000);
        let h = self.ctor.1.call(&mut *s, ()).unwrap();
        self.inc.1.call(&mut *s, (h,)).unwrap();
        assert_eq!(self.get.1.call(&mut *s, (h,)).unwrap(), 1);
        h.resource_drop(&mut *s).unwrap();
        let mut out = [Val::Bool(false)];
        self.echo_record
            .0
            .call(&mut *s, std::slice::from_ref(&i.rec_val), &mut out)
            .unwrap();
        assert_eq!(out[0], i.rec_val);
        self.echo
            .0
            .call(&mut *s, std::slice::from_ref(&i.s16_val), &mut out)
            .unwrap();
        assert_eq!(out[0], i.s16_val);
        self.sum
            .0
            .call(&mut *s, std::slice::from_ref(&i.bytes64k_val), &mut out)
            .unwrap();
        assert_eq!(out[0], Val::U64(expect));
        for w in Workload::ALL {
            for api in [Api::Typed, Api::Val, Api::Bindings] {
                self.step(w, api);
            }
        }
    }

    /// Whether `api` has an implementation of `w` on this guest.
    fn has(&self, w: Workload, api: Api) -> bool {
        match api {
            Api::Typed => true,
            Api::Val => matches!(
                w,
                Workload::Nop
                    | Workload::Add
                    | Workload::Echo16
                    | Workload::Sum64K
                    | Workload::EchoRecord
                    | Workload::Resource
                    | Workload::Instantiate
            ),
            Api::Bindings => {
                self.bindings.is_some() && !matches!(w, Workload::Resource | Workload::Instantiate)
            }
        }
    }

    /// One iteration of `w` through `api` (nothing if `!self.has(w, api)`).
    fn step(&mut self, w: Workload, api: Api) {
        if !self.has(w, api) {
            return;
        }
        let i = self.inputs;
        let s = &mut self.store;
        match api {
            Api::Typed => match w {
                Workload::Nop => self.nop.1.call(s, ()).unwrap(),
                Workload::Add => {
                    black_box(self.add.1.call(s, (black_box(7), 35)).unwrap());
                }
                Workload::Echo16 => {
                    black_box(self.echo.1.call(s, (&i.s16,)).unwrap());
                }
                Workload::Echo4K => {
                    black_box(self.echo.1.call(s, (&i.s4k,)).unwrap());
                }
                Workload::Sum64K => {
                    black_box(self.sum.1.call(s, (&i.bytes64k,)).unwrap());
                }
                Workload::Sum1M => {
                    black_box(self.sum.1.call(s, (&i.bytes1m,)).unwrap());
                }
                Workload::Make64K => {
                    black_box(self.make.call(s, (65536,)).unwrap());
                }
                Workload::EchoRecord => {
                    black_box(self.echo_record.1.call(s, (&i.rec,)).unwrap());
                }
                Workload::CountStrings => {
                    black_box(self.count.call(s, (&i.strings,)).unwrap());
                }
                Workload::HostAdd => {
                    black_box(self.host_add.call(s, (1000,)).unwrap());
                }
                Workload::HostLog => self.host_log.call(s, (1000,)).unwrap(),
                Workload::Resource => {
                    let h = self.ctor.1.call(&mut *s, ()).unwrap();
                    self.inc.1.call(&mut *s, (h,)).unwrap();
                    black_box(self.get.1.call(&mut *s, (h,)).unwrap());
                    h.resource_drop(&mut *s).unwrap();
                }
                Workload::Instantiate => {
                    let mut s = Store::new(&self.engine, 0u64);
                    black_box(self.linker.instantiate(&mut s, &self.component).unwrap());
                }
            },
            Api::Val => {
                let mut out = [Val::Bool(false)];
                match w {
                    Workload::Nop => self.nop.0.call(s, &[], &mut []).unwrap(),
                    Workload::Add => {
                        self.add
                            .0
                            .call(s, &[Val::U32(black_box(7)), Val::U32(35)], &mut out)
                            .unwrap();
                    }
                    Workload::Echo16 => self
                        .echo
                        .0
                        .call(s, std::slice::from_ref(&i.s16_val), &mut out)
                        .unwrap(),
                    Workload::Sum64K => self
                        .sum
                        .0
                        .call(s, std::slice::from_ref(&i.bytes64k_val), &mut out)
                        .unwrap(),
                    Workload::EchoRecord => self
                        .echo_record
                        .0
                        .call(s, std::slice::from_ref(&i.rec_val), &mut out)
                        .unwrap(),
                    Workload::Resource => {
                        self.ctor.0.call(&mut *s, &[], &mut out).unwrap();
                        let Val::Resource(h) = out[0] else {
                            unreachable!()
                        };
                        self.inc
                            .0
                            .call(&mut *s, &[Val::Resource(h)], &mut [])
                            .unwrap();
                        self.get
                            .0
                            .call(&mut *s, &[Val::Resource(h)], &mut out)
                            .unwrap();
                        h.resource_drop(&mut *s).unwrap();
                    }
                    // The dynamic and the typed API instantiate alike.
                    Workload::Instantiate => {
                        let mut s = Store::new(&self.engine, 0u64);
                        let inst = self.linker.instantiate(&mut s, &self.component).unwrap();
                        black_box(inst);
                    }
                    _ => {}
                }
                black_box(&out);
            }
            Api::Bindings => {
                let Some(b) = &self.bindings else { return };
                match w {
                    Workload::Nop => b.call_nop(s).unwrap(),
                    Workload::Add => {
                        black_box(b.call_add(s, black_box(7), 35).unwrap());
                    }
                    Workload::Echo16 => {
                        black_box(b.call_echo_string(s, &i.s16).unwrap());
                    }
                    Workload::Echo4K => {
                        black_box(b.call_echo_string(s, &i.s4k).unwrap());
                    }
                    Workload::Sum64K => {
                        black_box(b.call_sum_bytes(s, &i.bytes64k).unwrap());
                    }
                    Workload::Sum1M => {
                        black_box(b.call_sum_bytes(s, &i.bytes1m).unwrap());
                    }
                    Workload::Make64K => {
                        black_box(b.call_make_bytes(s, 65536).unwrap());
                    }
                    Workload::EchoRecord => {
                        black_box(b.call_echo_record(s, &i.bindings_rec).unwrap());
                    }
                    Workload::CountStrings => {
                        black_box(b.call_count_strings(s, &i.strings).unwrap());
                    }
                    Workload::HostAdd => {
                        black_box(b.call_call_host_add(s, 1000).unwrap());
                    }
                    Workload::HostLog => b.call_call_host_log(s, 1000).unwrap(),
                    Workload::Resource | Workload::Instantiate => {}
                }
            }
        }
    }
}

// ---------------------------------------------------------- raw floor

type RawData = (Option<wasmi::Memory>, u64);

struct Raw<'a> {
    inputs: &'a Inputs,
    engine: wasmi::Engine,
    store: wasmi::Store<RawData>,
    mem: wasmi::Memory,
    inst: wasmi::Instance,
    /// The core modules of each guest, for the instantiation floor.
    core_modules: Vec<(Kind, Vec<wasmi::Module>)>,
}

fn raw_linker(engine: &wasmi::Engine) -> wasmi::Linker<RawData> {
    let mut l = wasmi::Linker::new(engine);
    l.func_wrap("host", "add", |a: i32, b: i32| a.wrapping_add(b))
        .unwrap();
    l.func_wrap(
        "host",
        "log",
        |mut caller: wasmi::Caller<'_, RawData>, ptr: i32, len: i32| {
            let mem = caller.data().0.unwrap();
            let (bytes, data) = mem.data_and_store_mut(&mut caller);
            let s = std::str::from_utf8(&bytes[ptr as usize..][..len as usize]).unwrap();
            data.1 += s.len() as u64;
        },
    )
    .unwrap();
    l
}

/// The core modules a component binary defines at its top level (section
/// 1), in order: what instantiating it instantiates.
fn core_modules(component: &[u8]) -> Vec<&[u8]> {
    fn leb(b: &[u8], at: &mut usize) -> usize {
        let (mut v, mut shift) = (0usize, 0);
        loop {
            let byte = b[*at];
            *at += 1;
            v |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return v;
            }
            shift += 7;
        }
    }
    let mut out = Vec::new();
    let mut at = 8;
    while at < component.len() {
        let id = component[at];
        at += 1;
        let len = leb(component, &mut at);
        if id == 1 {
            out.push(&component[at..at + len]);
        }
        at += len;
    }
    out
}

/// Instantiates `modules` in a fresh store as a component would: in
/// order, each function import a host function of its type (componentry
/// makes one per lowered import too), each memory or table import the
/// first one an earlier instance exports.
fn raw_instantiate_modules(engine: &wasmi::Engine, modules: &[wasmi::Module]) -> usize {
    let mut store = wasmi::Store::new(engine, ());
    let mut memories = Vec::new();
    let mut tables = Vec::new();
    let mut globals = Vec::new();
    let mut n = 0;
    for m in modules {
        let externs: Vec<wasmi::Extern> = m
            .imports()
            .map(|i| match i.ty() {
                wasmi::ExternType::Func(ty) => {
                    wasmi::Func::new(&mut store, ty.clone(), |_, _, _| Ok(())).into()
                }
                wasmi::ExternType::Memory(_) => wasmi::Extern::Memory(memories[0]),
                wasmi::ExternType::Table(_) => wasmi::Extern::Table(tables[0]),
                wasmi::ExternType::Global(_) => wasmi::Extern::Global(globals[0]),
            })
            .collect();
        let inst = wasmi::Instance::new(&mut store, m, &externs).unwrap();
        for e in inst.exports(&store) {
            match e.into_extern() {
                wasmi::Extern::Memory(x) => memories.push(x),
                wasmi::Extern::Table(x) => tables.push(x),
                wasmi::Extern::Global(x) => globals.push(x),
                wasmi::Extern::Func(_) => n += 1,
            }
        }
    }
    black_box(&store);
    n
}

impl<'a> Raw<'a> {
    fn new(inputs: &'a Inputs) -> Raw<'a> {
        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, wat::parse_str(RAW_WAT).unwrap()).unwrap();
        let linker = raw_linker(&engine);
        let mut store = wasmi::Store::new(&engine, (None, 0));
        let inst = linker.instantiate_and_start(&mut store, &module).unwrap();
        let mem = inst.get_memory(&store, "mem").unwrap();
        store.data_mut().0 = Some(mem);
        let mut core = Vec::new();
        for (kind, bytes) in [
            (Kind::Wat, wat::parse_str(BENCH_WAT).unwrap()),
            (Kind::WitBindgen, BENCH_GUEST.to_vec()),
        ] {
            let ms = core_modules(&bytes)
                .into_iter()
                .map(|m| wasmi::Module::new(&engine, m).unwrap())
                .collect();
            core.push((kind, ms));
        }
        Raw {
            inputs,
            engine,
            store,
            mem,
            inst,
            core_modules: core,
        }
    }

    fn func<P: wasmi::WasmParams, R: wasmi::WasmResults>(
        &self,
        name: &str,
    ) -> wasmi::TypedFunc<P, R> {
        self.inst.get_typed_func(&self.store, name).unwrap()
    }

    fn write(&mut self, at: usize, bytes: &[u8]) {
        self.mem.data_mut(&mut self.store)[at..at + bytes.len()].copy_from_slice(bytes);
    }

    fn u32_at(&self, at: usize) -> u32 {
        let b = &self.mem.data(&self.store)[at..at + 4];
        u32::from_le_bytes(b.try_into().unwrap())
    }

    fn bytes(&self, at: usize, len: usize) -> &[u8] {
        &self.mem.data(&self.store)[at..at + len]
    }

    /// A closure doing one raw iteration of `w` (for instantiation: of the
    /// core modules of `kind`'s guest).
    fn runner(&mut self, w: Workload, kind: Kind) -> Box<dyn FnMut(&mut Raw<'a>) + 'a> {
        let i = self.inputs;
        match w {
            Workload::Nop => {
                let f = self.func::<(), ()>("nop");
                Box::new(move |r| f.call(&mut r.store, ()).unwrap())
            }
            Workload::Add => {
                let f = self.func::<(i32, i32), i32>("add");
                Box::new(move |r| {
                    black_box(f.call(&mut r.store, (black_box(7), 35)).unwrap());
                })
            }
            Workload::Echo16 | Workload::Echo4K => {
                let s = if w == Workload::Echo16 {
                    &i.s16
                } else {
                    &i.s4k
                };
                let f = self.func::<(i32, i32), i32>("echo-string");
                Box::new(move |r| {
                    r.write(IN, s.as_bytes());
                    let ret = f.call(&mut r.store, (IN as i32, s.len() as i32)).unwrap() as usize;
                    let (p, l) = (r.u32_at(ret) as usize, r.u32_at(ret + 4) as usize);
                    black_box(std::str::from_utf8(r.bytes(p, l)).unwrap().to_owned());
                })
            }
            Workload::Sum64K | Workload::Sum1M => {
                let b = if w == Workload::Sum64K {
                    &i.bytes64k
                } else {
                    &i.bytes1m
                };
                let f = self.func::<(i32, i32), i64>("sum-bytes");
                Box::new(move |r| {
                    r.write(IN, b);
                    black_box(f.call(&mut r.store, (IN as i32, b.len() as i32)).unwrap());
                })
            }
            Workload::Make64K => {
                let f = self.func::<i32, i32>("make-bytes");
                Box::new(move |r| {
                    let p = f.call(&mut r.store, 65536).unwrap() as usize;
                    black_box(r.bytes(p, 65536).to_vec());
                })
            }
            Workload::EchoRecord => {
                let f = self.func::<i32, i32>("echo-record");
                Box::new(move |r| {
                    raw_write_record(r, IN, &i.rec);
                    let p = f.call(&mut r.store, IN as i32).unwrap() as usize;
                    black_box(raw_read_record(r, p));
                })
            }
            Workload::CountStrings => {
                let f = self.func::<(i32, i32), i32>("count-strings");
                Box::new(move |r| {
                    let mut table = [0u8; 800];
                    let mut at = IN + 1024;
                    for (k, s) in i.strings.iter().enumerate() {
                        r.write(at, s.as_bytes());
                        table[k * 8..k * 8 + 4].copy_from_slice(&(at as u32).to_le_bytes());
                        table[k * 8 + 4..k * 8 + 8]
                            .copy_from_slice(&(s.len() as u32).to_le_bytes());
                        at += s.len();
                    }
                    r.write(IN, &table);
                    black_box(f.call(&mut r.store, (IN as i32, 100)).unwrap());
                })
            }
            Workload::HostAdd => {
                let f = self.func::<i32, i32>("call-host-add");
                Box::new(move |r| {
                    black_box(f.call(&mut r.store, 1000).unwrap());
                })
            }
            Workload::HostLog => {
                let f = self.func::<i32, ()>("call-host-log");
                Box::new(move |r| f.call(&mut r.store, 1000).unwrap())
            }
            Workload::Resource => {
                let new = self.func::<(), i32>("counter-new");
                let inc = self.func::<i32, ()>("counter-inc");
                let get = self.func::<i32, i64>("counter-get");
                let drop = self.func::<i32, ()>("counter-drop");
                Box::new(move |r| {
                    let h = new.call(&mut r.store, ()).unwrap();
                    inc.call(&mut r.store, h).unwrap();
                    black_box(get.call(&mut r.store, h).unwrap());
                    drop.call(&mut r.store, h).unwrap();
                })
            }
            Workload::Instantiate => Box::new(move |r| {
                let ms = &r.core_modules.iter().find(|(k, _)| *k == kind).unwrap().1;
                black_box(raw_instantiate_modules(&r.engine, ms));
            }),
        }
    }
}

/// Writes `r` as the canonical ABI lays out `big-record` (56 bytes at
/// `at`, its string right after), by hand.
fn raw_write_record(raw: &mut Raw, at: usize, r: &BigRecord) {
    let s = r.f_string.as_bytes();
    let sp = at + 64;
    raw.write(sp, s);
    let mut b = [0u8; 56];
    b[0] = r.f_u8;
    b[2..4].copy_from_slice(&r.f_u16.to_le_bytes());
    b[4..8].copy_from_slice(&r.f_u32.to_le_bytes());
    b[8..16].copy_from_slice(&r.f_u64.to_le_bytes());
    b[16..20].copy_from_slice(&r.f_f32.to_le_bytes());
    b[24..32].copy_from_slice(&r.f_f64.to_le_bytes());
    b[32] = r.f_bool as u8;
    b[36..40].copy_from_slice(&u32::from(r.f_char).to_le_bytes());
    b[40..44].copy_from_slice(&(sp as u32).to_le_bytes());
    b[44..48].copy_from_slice(&(s.len() as u32).to_le_bytes());
    if let Some(v) = r.f_opt {
        b[48] = 1;
        b[52..56].copy_from_slice(&v.to_le_bytes());
    }
    raw.write(at, &b);
}

/// Reads a `big-record` at `at`, by hand (with the checks lifting does).
fn raw_read_record(raw: &Raw, at: usize) -> BigRecord {
    read_record(raw.mem.data(&raw.store), at)
}

/// Reads a `big-record` at `at` of `mem`, by hand.
fn read_record(mem: &[u8], at: usize) -> BigRecord {
    let b: [u8; 56] = mem[at..at + 56].try_into().unwrap();
    let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
    let (sp, sl) = (u32_at(40) as usize, u32_at(44) as usize);
    BigRecord {
        f_u8: b[0],
        f_u16: u16::from_le_bytes([b[2], b[3]]),
        f_u32: u32_at(4),
        f_u64: u64::from_le_bytes(b[8..16].try_into().unwrap()),
        f_f32: f32::from_bits(u32_at(16)),
        f_f64: f64::from_le_bytes(b[24..32].try_into().unwrap()),
        f_bool: b[32] != 0,
        f_char: char::from_u32(u32_at(36)).unwrap(),
        f_string: std::str::from_utf8(&mem[sp..sp + sl]).unwrap().to_owned(),
        f_opt: (b[48] != 0).then(|| u32_at(52)),
    }
}

// ------------------------------------------------------------ ABI floor

/// The canonical ABI's floor on the wit-bindgen guest: raw wasmi calling
/// the guest's own core module (its main module, with the host functions
/// and resource built-ins linked directly) and doing by hand exactly what
/// the ABI demands of any runtime: `cabi_realloc` for every string and
/// list passed in, the export, reading the results, the `cabi_post_*`
/// function. What a componentry call costs above this is componentry's;
/// what this costs above `raw` is the guest's allocator, its post-return,
/// and the extra calls the ABI makes.
struct Abi<'a> {
    inputs: &'a Inputs,
    store: wasmi::Store<u64>,
    inst: wasmi::Instance,
    mem: wasmi::Memory,
    realloc: wasmi::TypedFunc<(i32, i32, i32, i32), i32>,
}

impl<'a> Abi<'a> {
    fn new(inputs: &'a Inputs) -> Abi<'a> {
        let engine = wasmi::Engine::default();
        let main = core_modules(BENCH_GUEST)
            .into_iter()
            .map(|m| wasmi::Module::new(&engine, m).unwrap())
            .find(|m| m.exports().any(|e| e.name() == "cabi_realloc"))
            .unwrap();
        let mut store = wasmi::Store::new(&engine, 0u64);
        let mut linker = wasmi::Linker::<u64>::new(&engine);
        linker
            .func_wrap(HOST, "add", |a: i32, b: i32| a.wrapping_add(b))
            .unwrap();
        linker
            .func_wrap(
                HOST,
                "log",
                |mut caller: wasmi::Caller<'_, u64>, ptr: i32, len: i32| {
                    let mem = caller.get_export("memory").unwrap().into_memory().unwrap();
                    let (bytes, n) = mem.data_and_store_mut(&mut caller);
                    let s = std::str::from_utf8(&bytes[ptr as usize..][..len as usize]).unwrap();
                    *n += s.len() as u64;
                },
            )
            .unwrap();
        // An exported resource's handle is its rep here: the host keeps it.
        let res = "[export]peerbench:bench/api";
        linker
            .func_wrap(res, "[resource-new]counter", |rep: i32| rep)
            .unwrap();
        linker
            .func_wrap(res, "[resource-rep]counter", |h: i32| h)
            .unwrap();
        linker
            .func_wrap(res, "[resource-drop]counter", |_: i32| {})
            .unwrap();
        let inst = linker.instantiate_and_start(&mut store, &main).unwrap();
        let mem = inst.get_memory(&store, "memory").unwrap();
        let realloc = inst.get_typed_func(&store, "cabi_realloc").unwrap();
        Abi {
            inputs,
            store,
            inst,
            mem,
            realloc,
        }
    }

    fn func<P: wasmi::WasmParams, R: wasmi::WasmResults>(
        &self,
        name: &str,
    ) -> wasmi::TypedFunc<P, R> {
        self.inst
            .get_typed_func(&self.store, &format!("{API}#{name}"))
            .unwrap()
    }

    fn post(&self, name: &str) -> wasmi::TypedFunc<i32, ()> {
        self.inst
            .get_typed_func(&self.store, &format!("cabi_post_{API}#{name}"))
            .unwrap()
    }

    /// `realloc` + copy: a string or list passed in.
    fn pass(&mut self, align: i32, bytes: &[u8]) -> i32 {
        let p = self
            .realloc
            .call(&mut self.store, (0, 0, align, bytes.len() as i32))
            .unwrap();
        self.mem.data_mut(&mut self.store)[p as usize..][..bytes.len()].copy_from_slice(bytes);
        p
    }

    fn u32_at(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.mem.data(&self.store)[at..at + 4].try_into().unwrap())
    }

    /// A closure doing one iteration of `w`, if the floor has it.
    #[allow(clippy::type_complexity)]
    fn runner(&mut self, w: Workload) -> Option<Box<dyn FnMut(&mut Abi<'a>) + 'a>> {
        let i = self.inputs;
        Some(match w {
            Workload::Nop => {
                let f = self.func::<(), ()>("nop");
                Box::new(move |a| f.call(&mut a.store, ()).unwrap())
            }
            Workload::Add => {
                let f = self.func::<(i32, i32), i32>("add");
                Box::new(move |a| {
                    black_box(f.call(&mut a.store, (black_box(7), 35)).unwrap());
                })
            }
            Workload::Echo16 | Workload::Echo4K => {
                let s = if w == Workload::Echo16 {
                    &i.s16
                } else {
                    &i.s4k
                };
                let f = self.func::<(i32, i32), i32>("echo-string");
                let post = self.post("echo-string");
                Box::new(move |a| {
                    let p = a.pass(1, s.as_bytes());
                    let ret = f.call(&mut a.store, (p, s.len() as i32)).unwrap();
                    let (p, l) = (
                        a.u32_at(ret as usize) as usize,
                        a.u32_at(ret as usize + 4) as usize,
                    );
                    let mem = a.mem.data(&a.store);
                    black_box(std::str::from_utf8(&mem[p..p + l]).unwrap().to_owned());
                    post.call(&mut a.store, ret).unwrap();
                })
            }
            Workload::EchoRecord => {
                type P = (i32, i32, i32, i64, f32, f64, i32, i32, i32, i32, i32, i32);
                let f = self.func::<P, i32>("echo-record");
                let post = self.post("echo-record");
                let r = &i.rec;
                Box::new(move |a| {
                    let sp = a.pass(1, r.f_string.as_bytes());
                    let args: P = (
                        i32::from(r.f_u8),
                        i32::from(r.f_u16),
                        r.f_u32 as i32,
                        r.f_u64 as i64,
                        r.f_f32,
                        r.f_f64,
                        i32::from(r.f_bool),
                        u32::from(r.f_char) as i32,
                        sp,
                        r.f_string.len() as i32,
                        i32::from(r.f_opt.is_some()),
                        r.f_opt.unwrap_or(0) as i32,
                    );
                    let ret = f.call(&mut a.store, args).unwrap();
                    black_box(read_record(a.mem.data(&a.store), ret as usize));
                    post.call(&mut a.store, ret).unwrap();
                })
            }
            Workload::CountStrings => {
                let f = self.func::<(i32, i32), i32>("count-strings");
                Box::new(move |a| {
                    let mut table = [0u8; 800];
                    for (k, s) in i.strings.iter().enumerate() {
                        let p = a.pass(1, s.as_bytes());
                        table[k * 8..k * 8 + 4].copy_from_slice(&(p as u32).to_le_bytes());
                        table[k * 8 + 4..k * 8 + 8]
                            .copy_from_slice(&(s.len() as u32).to_le_bytes());
                    }
                    let list = a.pass(4, &table);
                    black_box(f.call(&mut a.store, (list, 100)).unwrap());
                })
            }
            Workload::HostAdd => {
                let f = self.func::<i32, i32>("call-host-add");
                Box::new(move |a| {
                    black_box(f.call(&mut a.store, 1000).unwrap());
                })
            }
            Workload::HostLog => {
                let f = self.func::<i32, ()>("call-host-log");
                Box::new(move |a| f.call(&mut a.store, 1000).unwrap())
            }
            Workload::Resource => {
                let new = self.func::<(), i32>("[constructor]counter");
                let inc = self.func::<i32, ()>("[method]counter.inc");
                let get = self.func::<i32, i64>("[method]counter.get");
                let dtor = self.func::<i32, ()>("[dtor]counter");
                Box::new(move |a| {
                    let h = new.call(&mut a.store, ()).unwrap();
                    inc.call(&mut a.store, h).unwrap();
                    black_box(get.call(&mut a.store, h).unwrap());
                    dtor.call(&mut a.store, h).unwrap();
                })
            }
            _ => return None,
        })
    }
}

// --------------------------------------------------- component to component

/// `compose.wat`: `echo` called from the host, and `run(len, n)` calling
/// it `n` times from another component.
struct Compose<'a> {
    inputs: &'a Inputs,
    store: Store<()>,
    echo: TypedFunc<(&'a str,), String>,
    run: TypedFunc<(u32, u32), ()>,
}

/// Calls of `echo` per iteration of `run`.
const C2C_CALLS: u32 = 100;

impl<'a> Compose<'a> {
    fn new(inputs: &'a Inputs) -> Compose<'a> {
        let engine = Engine::default();
        let component = Component::new(&engine, &wat::parse_str(COMPOSE_WAT).unwrap()).unwrap();
        let mut store = Store::new(&engine, ());
        let inst = Linker::new(&engine)
            .instantiate(&mut store, &component)
            .unwrap();
        let echo = inst.get_typed_func(&mut store, "echo").unwrap();
        let run = inst.get_typed_func(&mut store, "run").unwrap();
        Compose {
            inputs,
            store,
            echo,
            run,
        }
    }

    /// `C2C_CALLS` echoes of `len` bytes, from the host or from the other
    /// component.
    fn step(&mut self, len: usize, c2c: bool) {
        if c2c {
            self.run
                .call(&mut self.store, (len as u32, C2C_CALLS))
                .unwrap();
        } else {
            let s = if len == 16 {
                &self.inputs.s16
            } else {
                &self.inputs.s4k
            };
            for _ in 0..C2C_CALLS {
                black_box(self.echo.call(&mut self.store, (s,)).unwrap());
            }
        }
    }
}

// ------------------------------------------------------------- benches

fn main() {
    if let Ok(which) = std::env::var("BOUNDARY_CALLGRIND") {
        callgrind(&which);
        return;
    }
    // `cargo bench --bench boundary -- FILTER`: the first argument that is
    // not an option.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let filter = filter.as_deref();

    let inputs = Inputs::new();
    // Every variant goes through a RefCell alike, so that the columns of a
    // row pay the same harness cost.
    let raw = RefCell::new(Raw::new(&inputs));
    let abi = RefCell::new(Abi::new(&inputs));
    let guests = [
        RefCell::new(Guest::new(Kind::WitBindgen, &inputs)),
        RefCell::new(Guest::new(Kind::Wat, &inputs)),
    ];
    for w in Workload::ALL {
        let label = w.label();
        let mut vs: Vec<Variant<'_>> = Vec::new();
        if w == Workload::Instantiate {
            for kind in [Kind::WitBindgen, Kind::Wat] {
                let mut f = raw.borrow_mut().runner(w, kind);
                let raw = &raw;
                vs.push((
                    format!("raw-{}", kind.name()),
                    Box::new(move || f(&mut raw.borrow_mut())),
                ));
            }
        } else {
            let mut f = raw.borrow_mut().runner(w, Kind::Wat);
            let raw = &raw;
            vs.push(("raw".into(), Box::new(move || f(&mut raw.borrow_mut()))));
        }
        if let Some(mut f) = abi.borrow_mut().runner(w) {
            let abi = &abi;
            vs.push(("abi".into(), Box::new(move || f(&mut abi.borrow_mut()))));
        }
        for g in &guests {
            let k = g.borrow().kind.name();
            for (api, id) in [
                (Api::Typed, "typed"),
                (Api::Val, "val"),
                (Api::Bindings, "bindings"),
            ] {
                if g.borrow().has(w, api) && !(api == Api::Val && w == Workload::Instantiate) {
                    vs.push((
                        format!("{k}-{id}"),
                        Box::new(move || g.borrow_mut().step(w, api)),
                    ));
                }
            }
        }
        measure(filter, label, 1, vs);
    }
    let compose = RefCell::new(Compose::new(&inputs));
    for len in [16, 4096] {
        let label = c2c_label(len);
        let c = &compose;
        measure(
            filter,
            &label,
            C2C_CALLS,
            vec![
                (
                    "host".into(),
                    Box::new(move || c.borrow_mut().step(len, false)),
                ),
                (
                    "c2c".into(),
                    Box::new(move || c.borrow_mut().step(len, true)),
                ),
            ],
        );
    }
    report();
}

fn c2c_label(len: usize) -> String {
    format!("c2c echo {}", if len == 16 { "16 B" } else { "4 KiB" })
}

/// See the module's documentation.
fn callgrind(which: &str) {
    let n: u32 = std::env::var("BOUNDARY_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let inputs = Inputs::new();
    if which == "typed" || which == "bindings" {
        let mut g = Guest::new(Kind::Wat, &inputs);
        let api = if which == "typed" {
            Api::Typed
        } else {
            Api::Bindings
        };
        for _ in 0..n {
            g.step(Workload::Add, api);
            g.step(Workload::Echo16, api);
        }
        return;
    }
    let parts: Vec<&str> = which.split(':').collect();
    let usage = "BOUNDARY_CALLGRIND=GUEST:API:WORKLOAD (GUEST wat|wit-bindgen|raw|abi|compose, API typed|val|bindings|c2c|host)";
    let [guest, api, workload] = parts[..] else {
        panic!("{usage}")
    };
    if guest == "compose" {
        let len = if workload == "echo-string-16" {
            16
        } else {
            4096
        };
        let mut cx = Compose::new(&inputs);
        cx.step(len, api == "c2c");
        for _ in 0..n {
            cx.step(len, api == "c2c");
        }
        return;
    }
    let w = Workload::from_name(workload)
        .unwrap_or_else(|| panic!("{usage}; WORKLOAD one of {:?}", Workload::NAMES));
    if guest == "abi" {
        let mut abi = Abi::new(&inputs);
        let mut f = abi
            .runner(w)
            .unwrap_or_else(|| panic!("no ABI floor for {workload}"));
        // Warm: wasmi compiles each function on its first call.
        f(&mut abi);
        for _ in 0..n {
            f(&mut abi);
        }
        return;
    }
    if guest == "raw" {
        let mut raw = Raw::new(&inputs);
        let kind = if api == "wat" {
            Kind::Wat
        } else {
            Kind::WitBindgen
        };
        let mut f = raw.runner(w, kind);
        f(&mut raw);
        for _ in 0..n {
            f(&mut raw);
        }
        return;
    }
    let kind = match guest {
        "wat" => Kind::Wat,
        "wit-bindgen" => Kind::WitBindgen,
        _ => panic!("{usage}"),
    };
    let api = match api {
        "typed" => Api::Typed,
        "val" => Api::Val,
        "bindings" => Api::Bindings,
        _ => panic!("{usage}"),
    };
    let mut g = Guest::new(kind, &inputs);
    for _ in 0..n {
        g.step(w, api);
    }
}

/// `PASS` or `MISS` for `ratio` against `target`.
fn mark(ratio: f64, target: f64) -> String {
    format!(
        "{ratio:.2} {} ≤ {target}",
        if ratio <= target { "PASS" } else { "MISS" }
    )
}

/// Prints, per guest, each workload's median per-call time through
/// componentry and the floor, their ratios and the targets.
fn report() {
    for kind in [Kind::WitBindgen, Kind::Wat] {
        let k = kind.name();
        println!();
        println!("## {k} guest (ns per call, medians; ratios against the raw wasmi floor)");
        println!();
        println!(
            "| workload | raw wasmi | typed | typed / raw: issue #20 | typed / raw: README | Val | Val / typed | bindings / typed | ABI floor | ABI floor / raw | typed / ABI floor |"
        );
        println!("|---|---:|---:|---|---|---:|---|---:|---:|---:|---:|");
        for w in Workload::ALL {
            let label = w.label();
            let raw_key = if w == Workload::Instantiate {
                format!("{label}/raw-{k}")
            } else {
                format!("{label}/raw")
            };
            let (Some(raw), Some(typed)) =
                (median(&raw_key), median(&format!("{label}/{k}-typed")))
            else {
                continue;
            };
            let ratio = typed / raw;
            let val = median(&format!("{label}/{k}-val"));
            let bindings = median(&format!("{label}/{k}-bindings"));
            // The ABI floor runs on the wit-bindgen guest's core module.
            let abi = median(&format!("{label}/abi")).filter(|_| kind == Kind::WitBindgen);
            println!(
                "| {label} | {raw:.0} | {typed:.0} | {} | {} | {} | {} | {} | {} | {} | {} |",
                w.issue_mark().map_or("".into(), |t| mark(ratio, t)),
                mark(ratio, w.readme_target()),
                val.map_or("".into(), |v| format!("{v:.0}")),
                val.map_or("".into(), |v| mark(v / typed, w.val_target())),
                bindings.map_or("".into(), |b| format!("{:.2}", b / typed)),
                abi.map_or("".into(), |a| format!("{a:.0}")),
                abi.map_or("".into(), |a| format!("{:.2}", a / raw)),
                abi.map_or("".into(), |a| format!("{:.2}", typed / a)),
            );
        }
    }
    println!();
    println!("## component to component (compose.wat; ns per echo)");
    println!();
    println!("| string | host → component | component → component | c2c / host: issue #20 |");
    println!("|---|---:|---:|---|");
    for len in [16, 4096] {
        let label = c2c_label(len);
        let (Some(host), Some(c2c)) = (
            median(&format!("{label}/host")),
            median(&format!("{label}/c2c")),
        ) else {
            continue;
        };
        println!(
            "| {label} | {host:.0} | {c2c:.0} | {} |",
            mark(c2c / host, 1.5)
        );
    }
    println!();
    println!("instantiate: the floor is raw wasmi instantiating the same guest's core modules in a fresh store");
    println!("ABI floor: raw wasmi on the wit-bindgen guest's main core module doing by hand what the canonical ABI demands (realloc per string or list, the export, post-return); ABI floor / raw is the guest's and the ABI's share, typed / ABI floor componentry's");
}
