//! Firmware: runs the component of wat/component.wat with componentry on
//! wasmi, through bindings generated from its WIT (`wit/sensor.wit`) by
//! `componentry::bindgen!`: the host's `log` and `read-sensor` imports are
//! the `SensorImports` trait, the exports typed `call_*` methods. Checks
//! the exports' results against Rust.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

use componentry::{Component, Engine, Linker, Store};
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

mod bindings {
    componentry::bindgen!({ path: "wit", world: "sensor" });
}
use bindings::{Sensor, SensorImports};

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
    Sensor::add_to_linker(&mut linker, |h| h).context("defining the imports")?;

    let mut store = Store::new(&engine, Host::default());
    let sensor = Sensor::instantiate(&mut store, &component, &linker).context("instantiating")?;
    checkpoint("instantiating");

    // summarize(list<f32>) with a list from the host.
    let got = sensor
        .call_summarize(&mut store, &sensor::SAMPLES)
        .context("calling summarize")?;
    sensor::check(
        "summarize(SAMPLES)",
        summary(got),
        sensor::summarize(sensor::SAMPLES),
    )?;

    // summarize of the empty list.
    let got = sensor
        .call_summarize(&mut store, &[])
        .context("calling summarize([])")?;
    sensor::check("summarize([])", summary(got), sensor::summarize([]))?;

    // sample-and-summarize: the guest reads the sensor through the import
    // and logs through `log`.
    let got = sensor
        .call_sample_and_summarize(&mut store, sensor::CHANNEL, sensor::COUNT)
        .context("calling sample-and-summarize")?;
    sensor::check(
        "sample-and-summarize(3, 16)",
        summary(got),
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

/// The generated `summary` record as the checker's type.
fn summary(s: bindings::Summary) -> Summary {
    Summary {
        min: s.min,
        max: s.max,
        mean: s.mean,
    }
}

impl SensorImports for Host {
    fn log(&mut self, msg: String) {
        println!("  guest log: {}", msg);
        self.logs.push(msg);
    }

    fn read_sensor(&mut self, channel: u8) -> f32 {
        let r = sensor::reading(channel, self.reads);
        self.reads += 1;
        r
    }
}
