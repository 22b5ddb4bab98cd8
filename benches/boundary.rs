//! The boundary benchmark set (`shared/bench/bench.wit`): every workload
//! through componentry's typed API, a few through dynamic `Val`s, and each
//! next to a raw-wasmi floor doing the same work by hand on a core module
//! (`components/raw.wat`). Prints the ratios at the end.
//!
//! Run: `cargo bench --bench boundary`.

use componentry::{Component, ComponentType, Engine, Lift, Linker, Lower, Store, TypedFunc, Val};
use criterion::{black_box, Criterion};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const BENCH_WAT: &str = include_str!("components/bench.wat");
const RAW_WAT: &str = include_str!("components/raw.wat");

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

// ------------------------------------------------------------ timings

thread_local! {
    /// Per-iteration times of every sample, by benchmark id.
    static TIMES: RefCell<BTreeMap<String, Vec<f64>>> = const { RefCell::new(BTreeMap::new()) };
}

/// Benchmarks `f` as `group/id`, recording per-iteration times for the
/// ratio table.
fn bench(c: &mut Criterion, group: &str, id: &str, mut f: impl FnMut()) {
    let key = format!("{group}/{id}");
    c.bench_function(&key, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            let t = start.elapsed();
            TIMES.with(|m| {
                m.borrow_mut()
                    .entry(key.clone())
                    .or_default()
                    .push(t.as_nanos() as f64 / iters as f64)
            });
            t
        })
    });
}

fn median(key: &str) -> Option<f64> {
    TIMES.with(|m| {
        let mut v = m.borrow().get(key)?.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied()
    })
}

// ---------------------------------------------------------- raw floor

struct Raw {
    store: wasmi::Store<(Option<wasmi::Memory>, u64)>,
    mem: wasmi::Memory,
    inst: wasmi::Instance,
}

fn raw_linker(engine: &wasmi::Engine) -> wasmi::Linker<(Option<wasmi::Memory>, u64)> {
    let mut l = wasmi::Linker::new(engine);
    l.func_wrap("host", "add", |a: i32, b: i32| a.wrapping_add(b))
        .unwrap();
    l.func_wrap(
        "host",
        "log",
        |mut caller: wasmi::Caller<'_, (Option<wasmi::Memory>, u64)>, ptr: i32, len: i32| {
            let mem = caller.data().0.unwrap();
            let (bytes, data) = mem.data_and_store_mut(&mut caller);
            let s = std::str::from_utf8(&bytes[ptr as usize..][..len as usize]).unwrap();
            data.1 += s.len() as u64;
        },
    )
    .unwrap();
    l
}

fn raw_instantiate(
    engine: &wasmi::Engine,
    linker: &wasmi::Linker<(Option<wasmi::Memory>, u64)>,
    module: &wasmi::Module,
) -> Raw {
    let mut store = wasmi::Store::new(engine, (None, 0));
    let inst = linker.instantiate_and_start(&mut store, module).unwrap();
    let mem = inst.get_memory(&store, "mem").unwrap();
    store.data_mut().0 = Some(mem);
    Raw { store, mem, inst }
}

impl Raw {
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
    let b: [u8; 56] = raw.bytes(at, 56).try_into().unwrap();
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
        f_string: std::str::from_utf8(raw.bytes(sp, sl)).unwrap().to_owned(),
        f_opt: (b[48] != 0).then(|| u32_at(52)),
    }
}

// ------------------------------------------------------------- benches

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(400))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(30)
        .configure_from_args();

    // componentry
    let engine = Engine::default();
    let component = Component::new(&engine, &wat::parse_str(BENCH_WAT).unwrap()).unwrap();
    let mut linker = Linker::<u64>::new(&engine);
    let mut root = linker.root();
    root.func_wrap("add", |_, (a, b): (u32, u32)| Ok(a.wrapping_add(b)))
        .unwrap();
    root.func_wrap("log", |mut cx, (s,): (String,)| {
        *cx.data_mut() += s.len() as u64;
        Ok(())
    })
    .unwrap();
    let mut store = Store::new(&engine, 0u64);
    let inst = linker.instantiate(&mut store, &component).unwrap();
    macro_rules! typed {
        ($name:literal, $p:ty, $r:ty) => {{
            let f = inst.get_func(&mut store, $name).unwrap();
            let t: TypedFunc<$p, $r> = f.typed(&mut store).unwrap();
            t
        }};
    }

    // raw wasmi
    let raw_engine = wasmi::Engine::default();
    let raw_module = wasmi::Module::new(&raw_engine, wat::parse_str(RAW_WAT).unwrap()).unwrap();
    let raw_link = raw_linker(&raw_engine);
    let mut raw = raw_instantiate(&raw_engine, &raw_link, &raw_module);

    // nop, add
    {
        let f = typed!("nop", (), ());
        bench(&mut c, "nop", "typed", || f.call(&mut store, ()).unwrap());
        let r = raw.func::<(), ()>("nop");
        bench(&mut c, "nop", "raw", || r.call(&mut raw.store, ()).unwrap());
        let f = typed!("add", (u32, u32), u32);
        bench(&mut c, "add", "typed", || {
            black_box(f.call(&mut store, (black_box(7), 35)).unwrap());
        });
        let r = raw.func::<(i32, i32), i32>("add");
        bench(&mut c, "add", "raw", || {
            black_box(r.call(&mut raw.store, (black_box(7), 35)).unwrap());
        });
    }

    // echo-string
    for (label, len) in [("echo-string 16 B", 16), ("echo-string 4 KiB", 4096)] {
        let s = "x".repeat(len);
        let f = typed!("echo-string", (&str,), String);
        assert_eq!(f.call(&mut store, (&s,)).unwrap(), s);
        bench(&mut c, label, "typed", || {
            black_box(f.call(&mut store, (&s,)).unwrap());
        });
        let r = raw.func::<(i32, i32), i32>("echo-string");
        bench(&mut c, label, "raw", || {
            raw.write(IN, s.as_bytes());
            let ret = r.call(&mut raw.store, (IN as i32, len as i32)).unwrap() as usize;
            let (p, l) = (raw.u32_at(ret) as usize, raw.u32_at(ret + 4) as usize);
            black_box(std::str::from_utf8(raw.bytes(p, l)).unwrap().to_owned());
        });
    }

    // sum-bytes
    for (label, len) in [
        ("sum-bytes 64 KiB", 65536usize),
        ("sum-bytes 1 MiB", 1 << 20),
    ] {
        let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let expect: u64 = bytes.iter().map(|b| u64::from(*b)).sum();
        let f = typed!("sum-bytes", (&[u8],), u64);
        assert_eq!(f.call(&mut store, (&bytes,)).unwrap(), expect);
        bench(&mut c, label, "typed", || {
            black_box(f.call(&mut store, (&bytes,)).unwrap());
        });
        let r = raw.func::<(i32, i32), i64>("sum-bytes");
        bench(&mut c, label, "raw", || {
            raw.write(IN, &bytes);
            black_box(r.call(&mut raw.store, (IN as i32, len as i32)).unwrap());
        });
        if len == 65536 {
            let v = Val::List(bytes.iter().map(|b| Val::U8(*b)).collect());
            let f = inst.get_func(&mut store, "sum-bytes").unwrap();
            let mut out = [Val::U64(0)];
            f.call(&mut store, std::slice::from_ref(&v), &mut out)
                .unwrap();
            assert_eq!(out[0], Val::U64(expect));
            bench(&mut c, label, "val", || {
                f.call(&mut store, std::slice::from_ref(&v), &mut out)
                    .unwrap();
            });
        }
    }

    // make-bytes
    {
        let f = typed!("make-bytes", (u32,), Vec<u8>);
        assert_eq!(f.call(&mut store, (65536,)).unwrap().len(), 65536);
        bench(&mut c, "make-bytes 64 KiB", "typed", || {
            black_box(f.call(&mut store, (65536,)).unwrap());
        });
        let r = raw.func::<i32, i32>("make-bytes");
        bench(&mut c, "make-bytes 64 KiB", "raw", || {
            let p = r.call(&mut raw.store, 65536).unwrap() as usize;
            black_box(raw.bytes(p, 65536).to_vec());
        });
    }

    // echo-record
    {
        let rec = record();
        let f = typed!("echo-record", (&BigRecord,), BigRecord);
        assert_eq!(f.call(&mut store, (&rec,)).unwrap(), rec);
        bench(&mut c, "echo-record", "typed", || {
            black_box(f.call(&mut store, (&rec,)).unwrap());
        });
        let r = raw.func::<i32, i32>("echo-record");
        raw_write_record(&mut raw, IN, &rec);
        let back = r.call(&mut raw.store, IN as i32).unwrap() as usize;
        assert_eq!(raw_read_record(&raw, back), rec);
        bench(&mut c, "echo-record", "raw", || {
            raw_write_record(&mut raw, IN, &rec);
            let p = r.call(&mut raw.store, IN as i32).unwrap() as usize;
            black_box(raw_read_record(&raw, p));
        });
        let v = record_val(&rec);
        let f = inst.get_func(&mut store, "echo-record").unwrap();
        let mut out = [Val::Bool(false)];
        f.call(&mut store, std::slice::from_ref(&v), &mut out)
            .unwrap();
        assert_eq!(out[0], v);
        bench(&mut c, "echo-record", "val", || {
            f.call(&mut store, std::slice::from_ref(&v), &mut out)
                .unwrap();
        });
    }

    // count-strings
    {
        let strings: Vec<String> = (0..100).map(|i| format!("string {i:>9}")).collect();
        assert!(strings.iter().all(|s| s.len() == 16));
        let f = typed!("count-strings", (&[String],), u32);
        assert_eq!(f.call(&mut store, (&strings,)).unwrap(), 100);
        bench(&mut c, "count-strings 100 x 16 B", "typed", || {
            black_box(f.call(&mut store, (&strings,)).unwrap());
        });
        let r = raw.func::<(i32, i32), i32>("count-strings");
        bench(&mut c, "count-strings 100 x 16 B", "raw", || {
            let mut table = [0u8; 800];
            let mut at = IN + 1024;
            for (k, s) in strings.iter().enumerate() {
                raw.write(at, s.as_bytes());
                table[k * 8..k * 8 + 4].copy_from_slice(&(at as u32).to_le_bytes());
                table[k * 8 + 4..k * 8 + 8].copy_from_slice(&(s.len() as u32).to_le_bytes());
                at += s.len();
            }
            raw.write(IN, &table);
            black_box(r.call(&mut raw.store, (IN as i32, 100)).unwrap());
        });
    }

    // guest -> host
    {
        let f = typed!("call-host-add", (u32,), u32);
        assert_eq!(f.call(&mut store, (1000,)).unwrap(), 1000);
        bench(&mut c, "call-host-add x 1000", "typed", || {
            black_box(f.call(&mut store, (1000,)).unwrap());
        });
        let r = raw.func::<i32, i32>("call-host-add");
        bench(&mut c, "call-host-add x 1000", "raw", || {
            black_box(r.call(&mut raw.store, 1000).unwrap());
        });
        let f = typed!("call-host-log", (u32,), ());
        bench(&mut c, "call-host-log x 1000", "typed", || {
            f.call(&mut store, (1000,)).unwrap();
        });
        let r = raw.func::<i32, ()>("call-host-log");
        bench(&mut c, "call-host-log x 1000", "raw", || {
            r.call(&mut raw.store, 1000).unwrap();
        });
    }

    // instantiate in a fresh store
    {
        bench(&mut c, "instantiate", "typed", || {
            let mut s = Store::new(&engine, 0u64);
            black_box(linker.instantiate(&mut s, &component).unwrap());
        });
        bench(&mut c, "instantiate", "raw", || {
            black_box(raw_instantiate(&raw_engine, &raw_link, &raw_module));
        });
    }

    c.final_summary();
    report();
}

/// Prints each workload's median per-call time through componentry and
/// the floor, and their ratios.
fn report() {
    let targets: &[(&str, f64)] = &[
        ("nop", 1.3),
        ("add", 1.3),
        ("echo-string 16 B", 1.3),
        ("echo-string 4 KiB", 1.1),
        ("sum-bytes 64 KiB", 1.1),
        ("sum-bytes 1 MiB", 1.1),
        ("make-bytes 64 KiB", 1.1),
        ("echo-record", 1.3),
        ("count-strings 100 x 16 B", 1.3),
        ("call-host-add x 1000", 1.3),
        ("call-host-log x 1000", 1.3),
        ("instantiate", 1.3),
    ];
    println!();
    println!(
        "| workload | raw wasmi (ns) | typed (ns) | typed / raw | target | Val (ns) | Val / typed |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (w, target) in targets {
        let (Some(raw), Some(typed)) = (median(&format!("{w}/raw")), median(&format!("{w}/typed")))
        else {
            continue;
        };
        let ratio = typed / raw;
        let val = median(&format!("{w}/val"));
        let mark = if ratio <= *target { "met" } else { "MISSED" };
        println!(
            "| {w} | {raw:.0} | {typed:.0} | {ratio:.2} | ≤ {target} ({mark}) | {} | {} |",
            val.map_or("".into(), |v| format!("{v:.0}")),
            val.map_or("".into(), |v| format!(
                "{:.2} ({})",
                v / typed,
                if v / typed <= 2.0 {
                    "met ≤ 2"
                } else {
                    "MISSED ≤ 2"
                }
            )),
        );
    }
}
