//! Firmware: runs the component of wat/component.wat with componentry on
//! wasmi, with host `log` and `read-sensor` imports defined by
//! `Linker::func_new`, and checks its exports' results against Rust.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

use componentry::{Component, Engine, Error, Linker, Store, Val};
use fw::entry;
use fw::sensor::{self, Summary};
use fw::{checkpoint, println, Context};

/// The component's image: assembled from WAT, validated and serialized by
/// build.rs on the host.
#[cfg(not(feature = "component-validating"))]
static COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/component.img"));
/// The component itself, validated on the device (the `component-validating`
/// build, for comparison).
#[cfg(feature = "component-validating")]
static COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/component.wasm"));

/// The host's state in the store: what the guest logged, readings taken.
#[derive(Default)]
struct Host {
    logs: Vec<String>,
    reads: u32,
}

#[entry]
fn main() -> ! {
    fw::init();
    println!(
        "componentry on wasmi: component {} of {} bytes",
        if cfg!(feature = "component-validating") {
            "binary"
        } else {
            "image"
        },
        COMPONENT.len()
    );
    fw::finish(run())
}

fn run() -> Result<(), String> {
    let engine = Engine::default();
    #[cfg(feature = "component-validating")]
    let component = Component::new(&engine, COMPONENT).context("loading the component")?;
    // SAFETY: COMPONENT is the image build.rs made with `serialize` of this
    // same componentry, from a component it validated.
    #[cfg(not(feature = "component-validating"))]
    let component =
        unsafe { Component::deserialize(&engine, COMPONENT) }.context("loading the component")?;
    checkpoint("loading the component");

    let mut linker = Linker::<Host>::new(&engine);
    let mut root = linker.root();
    root.func_new("log", |mut cx, params, _results| match params {
        [Val::String(msg)] => {
            println!("  guest log: {}", msg);
            cx.data_mut().logs.push(msg.clone());
            Ok(())
        }
        _ => Err(Error::host("log: expected one string")),
    })
    .context("defining log")?;
    root.func_new("read-sensor", |mut cx, params, results| {
        let ([Val::U8(channel)], [slot]) = (params, results) else {
            return Err(Error::host("read-sensor: expected one u8 and one result"));
        };
        let host = cx.data_mut();
        *slot = Val::Float32(sensor::reading(*channel, host.reads));
        host.reads += 1;
        Ok(())
    })
    .context("defining read-sensor")?;

    let mut store = Store::new(&engine, Host::default());
    let instance = linker
        .instantiate(&mut store, &component)
        .context("instantiating")?;
    checkpoint("instantiating");
    let summarize = instance
        .get_func(&mut store, "summarize")
        .context("no `summarize` export")?;
    let sample = instance
        .get_func(&mut store, "sample-and-summarize")
        .context("no `sample-and-summarize` export")?;

    // summarize(list<f32>) with a list from the host.
    let samples = Val::List(sensor::SAMPLES.iter().map(|x| Val::Float32(*x)).collect());
    let mut out = [Val::Bool(false)];
    summarize
        .call(&mut store, &[samples], &mut out)
        .context("calling summarize")?;
    let [got] = &out;
    sensor::check(
        "summarize(SAMPLES)",
        summary(got)?,
        sensor::summarize(sensor::SAMPLES),
    )?;

    // summarize of the empty list.
    summarize
        .call(&mut store, &[Val::List(Vec::new())], &mut out)
        .context("calling summarize([])")?;
    let [got] = &out;
    sensor::check("summarize([])", summary(got)?, sensor::summarize([]))?;

    // sample-and-summarize: the guest reads the sensor through the import
    // and logs through `log`.
    sample
        .call(
            &mut store,
            &[Val::U8(sensor::CHANNEL), Val::U32(sensor::COUNT)],
            &mut out,
        )
        .context("calling sample-and-summarize")?;
    let [got] = &out;
    sensor::check(
        "sample-and-summarize(3, 16)",
        summary(got)?,
        sensor::summarize(sensor::readings(sensor::CHANNEL, sensor::COUNT)),
    )?;
    checkpoint("the calls");

    let host = store.data();
    if host.reads != sensor::COUNT {
        return Err(alloc::format!(
            "read-sensor was called {} times, expected {}",
            host.reads,
            sensor::COUNT
        ));
    }
    if host
        .logs
        .iter()
        .map(String::as_str)
        .ne(sensor::EXPECTED_LOGS)
    {
        return Err(alloc::format!(
            "the guest logged {:?}, expected {:?}",
            host.logs,
            sensor::EXPECTED_LOGS
        ));
    }
    Ok(())
}

/// The `record { min, max, mean }` in `v`, checked field by field.
fn summary(v: &Val) -> Result<Summary, String> {
    let Val::Record(fields) = v else {
        return Err(alloc::format!("expected a record, got {v}"));
    };
    match fields.as_slice() {
        [(n0, Val::Float32(min)), (n1, Val::Float32(max)), (n2, Val::Float32(mean))]
            if n0 == "min" && n1 == "max" && n2 == "mean" =>
        {
            Ok(Summary {
                min: *min,
                max: *max,
                mean: *mean,
            })
        }
        _ => Err(alloc::format!(
            "expected record {{min: f32, max: f32, mean: f32}}, got {v}"
        )),
    }
}
