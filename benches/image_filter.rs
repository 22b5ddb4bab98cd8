//! The image-filter example at scale: a 1-megapixel (1024 × 1024 RGBA)
//! image through each filter, three ways:
//!
//! - `componentry`: the component through the typed API (`apply.call`);
//! - `raw-wasmi`: the *same core module* (taken out of the component) on
//!   plain wasmi, marshalled by hand: `cabi_realloc` + copy the pixels in,
//!   call `apply` with the eight flat parameters, read the result record at
//!   the returned pointer, copy the pixels out, `cabi_post_apply`;
//! - `native`: the `image-filters` library compiled into this benchmark.
//!
//! After criterion's runs it prints a table splitting the raw-wasmi time
//! into copy-in, guest compute and copy-out, and componentry's time into
//! the same compute plus everything else (its boundary).
//!
//! Run: `cargo bench --bench image_filter`.

#[path = "../examples/image-filter/host.rs"]
mod host;

use componentry::Engine;
use criterion::{black_box, Criterion};
use host::{BrightnessContrastArgs, Filter, Filters, Image, ResizeArgs, ResizeMethod};
use std::time::{Duration, Instant};

const SIDE: u32 = 1024;

fn image() -> Image {
    let mut s = 0x1234_5678u32;
    let mut pixels = Vec::with_capacity((SIDE * SIDE * 4) as usize);
    for y in 0..SIDE {
        for x in 0..SIDE {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let n = (s & 31) as u8;
            pixels.extend_from_slice(&[(x / 4) as u8 ^ n, (y / 4) as u8, (x ^ y) as u8, 255]);
        }
    }
    Image {
        width: SIDE,
        height: SIDE,
        pixels,
    }
}

fn filters() -> Vec<(&'static str, Filter)> {
    let resize = |method| {
        Filter::Resize(ResizeArgs {
            width: 640,
            height: 480,
            method,
        })
    };
    vec![
        ("grayscale", Filter::Grayscale),
        ("box-blur-4", Filter::BoxBlur(4)),
        ("resize-nearest-640x480", resize(ResizeMethod::Nearest)),
        ("resize-bilinear-640x480", resize(ResizeMethod::Bilinear)),
        (
            "brightness-contrast",
            Filter::BrightnessContrast(BrightnessContrastArgs {
                brightness: 20,
                contrast: 1.3,
            }),
        ),
    ]
}

// ------------------------------------------------------------ raw wasmi

/// The largest core module inside a component binary: the guest's own
/// code (the others, if any, are wit-component's small shims).
fn core_module(component: &[u8]) -> &[u8] {
    fn leb(b: &[u8], pos: &mut usize) -> usize {
        let (mut v, mut shift) = (0usize, 0);
        loop {
            let byte = b[*pos];
            *pos += 1;
            v |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return v;
            }
            shift += 7;
        }
    }
    assert_eq!(&component[..4], b"\0asm");
    let mut pos = 8;
    let mut best: &[u8] = &[];
    while pos < component.len() {
        let id = component[pos];
        pos += 1;
        let size = leb(component, &mut pos);
        let body = &component[pos..pos + size];
        if id == 1 && body.len() > best.len() {
            best = body; // a core module section holds a whole module
        }
        pos += size;
    }
    best
}

/// The guest's core module on plain wasmi, called through the canonical
/// ABI by hand.
struct Raw {
    store: wasmi::Store<u32>,
    memory: wasmi::Memory,
    realloc: wasmi::TypedFunc<(i32, i32, i32, i32), i32>,
    apply: wasmi::Func,
    post_return: wasmi::TypedFunc<i32, ()>,
}

/// Where a raw call spent its time.
#[derive(Default, Clone, Copy)]
struct Phases {
    copy_in: Duration,
    compute: Duration,
    copy_out: Duration,
}

impl Raw {
    fn new(engine: &wasmi::Engine, module: &wasmi::Module) -> Raw {
        let mut linker = wasmi::Linker::<u32>::new(engine);
        for import in module.imports() {
            assert_eq!(
                (import.module(), import.name()),
                ("$root", "progress"),
                "the guest imports only `progress`"
            );
        }
        linker
            .func_wrap(
                "$root",
                "progress",
                |mut caller: wasmi::Caller<'_, u32>, _done: i32, _total: i32| {
                    *caller.data_mut() += 1;
                },
            )
            .unwrap();
        let mut store = wasmi::Store::new(engine, 0);
        let instance = linker.instantiate_and_start(&mut store, module).unwrap();
        let apply = instance.get_func(&store, "apply").unwrap();
        assert_eq!(apply.ty(&store).params().len(), 8, "apply's flat params");
        Raw {
            memory: instance.get_memory(&store, "memory").unwrap(),
            realloc: instance.get_typed_func(&store, "cabi_realloc").unwrap(),
            post_return: instance.get_typed_func(&store, "cabi_post_apply").unwrap(),
            apply,
            store,
        }
    }

    fn u32_at(&self, at: usize) -> u32 {
        let b = &self.memory.data(&self.store)[at..at + 4];
        u32::from_le_bytes(b.try_into().unwrap())
    }

    /// `apply(img, filter)`, by hand; `None` for an `err` result.
    fn apply(&mut self, img: &Image, filter: Filter, phases: &mut Phases) -> Option<Image> {
        let t0 = Instant::now();
        let len = img.pixels.len() as i32;
        let ptr = self.realloc.call(&mut self.store, (0, 0, 1, len)).unwrap();
        self.memory.data_mut(&mut self.store)[ptr as usize..][..len as usize]
            .copy_from_slice(&img.pixels);
        // `filter` flattened: discriminant, then the joined payload slots.
        let (case, p0, p1, p2) = match filter {
            Filter::Grayscale => (0, 0, 0, 0),
            Filter::BoxBlur(r) => (1, r as i32, 0, 0),
            Filter::Resize(a) => (2, a.width as i32, a.height as i32, a.method as i32),
            Filter::BrightnessContrast(a) => (3, a.brightness, a.contrast.to_bits() as i32, 0),
        };
        let args = [
            img.width as i32,
            img.height as i32,
            ptr,
            len,
            case,
            p0,
            p1,
            p2,
        ]
        .map(wasmi::Val::I32);
        let mut ret = [wasmi::Val::I32(0)];
        let t1 = Instant::now();
        self.apply.call(&mut self.store, &args, &mut ret).unwrap();
        let t2 = Instant::now();
        let wasmi::Val::I32(ret) = ret[0] else {
            unreachable!()
        };
        let at = ret as usize;
        // result<image, error>: case byte at 0, payload at 4.
        let out = if self.memory.data(&self.store)[at] == 0 {
            let (width, height) = (self.u32_at(at + 4), self.u32_at(at + 8));
            let (p, n) = (self.u32_at(at + 12) as usize, self.u32_at(at + 16) as usize);
            let pixels = self.memory.data(&self.store)[p..p + n].to_vec();
            Some(Image {
                width,
                height,
                pixels,
            })
        } else {
            None
        };
        self.post_return.call(&mut self.store, ret).unwrap();
        let t3 = Instant::now();
        phases.copy_in += t1 - t0;
        phases.compute += t2 - t1;
        phases.copy_out += t3 - t2;
        out
    }
}

// ------------------------------------------------------------ report

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The fastest of a set of timings: on a shared machine, the run least
/// disturbed by other work.
fn best(v: Vec<Duration>) -> Duration {
    v.into_iter().min().unwrap_or_default()
}

/// Runs each way `runs` times per filter, interleaved (timing each call),
/// and prints the fastest, with the raw call split into its phases.
fn report(engine: &Engine, raw: &mut Raw, img: &Image, runs: usize) {
    let mut filters_c = Filters::new(engine).unwrap();
    println!();
    println!("1024x1024 RGBA (4 MiB), fastest of {runs} calls, ms:");
    println!(
        "{:<26} {:>8} {:>10} {:>8} {:>8} {:>9} {:>11} {:>10} {:>9}",
        "filter",
        "native",
        "raw-wasmi",
        "copy-in",
        "compute",
        "copy-out",
        "componentry",
        "ratio/raw",
        "boundary"
    );
    for (name, filter) in filters() {
        let mut native = Vec::new();
        let mut raw_total = Vec::new();
        let mut phases = Vec::new();
        let mut comp = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let _ = black_box(host::native(img, filter));
            native.push(t.elapsed());

            let mut p = Phases::default();
            let t = Instant::now();
            black_box(raw.apply(img, filter, &mut p));
            raw_total.push(t.elapsed());
            phases.push(p);

            let input = img.clone();
            let t = Instant::now();
            black_box(filters_c.apply(input, filter).unwrap().unwrap());
            comp.push(t.elapsed());
        }
        let phase = |f: fn(&Phases) -> Duration| best(phases.iter().map(f).collect());
        let compute = phase(|p| p.compute);
        let (comp_m, raw_m) = (best(comp), best(raw_total));
        println!(
            "{:<26} {:>8.2} {:>10.2} {:>8.2} {:>8.2} {:>9.2} {:>11.2} {:>9.3}x {:>8.2}",
            name,
            ms(best(native)),
            ms(raw_m),
            ms(phase(|p| p.copy_in)),
            ms(compute),
            ms(phase(|p| p.copy_out)),
            ms(comp_m),
            comp_m.as_secs_f64() / raw_m.as_secs_f64(),
            ms(comp_m.saturating_sub(compute)),
        );
    }
    println!(
        "(copy-in: realloc + copy 4 MiB into guest memory; copy-out: read the result, copy \
         its pixels out, post-return; boundary: componentry's time minus the raw compute \
         time, i.e. all but the guest's own work)"
    );
}

fn main() {
    let img = image();
    let engine = Engine::default();
    let mut comp = Filters::new(&engine).unwrap();
    let wasmi_engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&wasmi_engine, core_module(host::COMPONENT)).unwrap();
    let mut raw = Raw::new(&wasmi_engine, &module);

    // All three agree before anything is timed.
    for (name, filter) in filters() {
        let native = host::native(&img, filter).0.unwrap();
        let c = comp.apply(img.clone(), filter).unwrap().unwrap();
        let r = raw.apply(&img, filter, &mut Phases::default()).unwrap();
        assert!(c == native && r == native, "{name}: results differ");
    }

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10)
        .configure_from_args();
    for (name, filter) in filters() {
        let mut g = c.benchmark_group(format!("image-filter/{name}"));
        g.bench_function("native", |b| b.iter(|| host::native(&img, filter)));
        g.bench_function("raw-wasmi", |b| {
            b.iter(|| raw.apply(&img, filter, &mut Phases::default()))
        });
        g.bench_function("componentry", |b| {
            b.iter_batched(
                || img.clone(),
                |input| comp.apply(input, filter).unwrap(),
                criterion::BatchSize::LargeInput,
            )
        });
        g.finish();
    }
    // The boundary on its own: the whole 4 MiB input goes in, and the
    // guest answers at once with an error (height off by one).
    let mut bad = img.clone();
    bad.height += 1;
    c.bench_function("image-filter/boundary-only/componentry", |b| {
        b.iter_batched(
            || bad.clone(),
            |input| comp.apply(input, Filter::Grayscale).unwrap(),
            criterion::BatchSize::LargeInput,
        )
    });
    c.bench_function("image-filter/boundary-only/raw-wasmi", |b| {
        b.iter(|| raw.apply(&bad, Filter::Grayscale, &mut Phases::default()))
    });
    c.final_summary();

    let runs = if std::env::args().any(|a| a == "--test") {
        1
    } else {
        7
    };
    report(&engine, &mut raw, &img, runs);
}
