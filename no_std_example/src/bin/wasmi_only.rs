//! Baseline firmware: the same guest as `component`, as one core module
//! (wat/core.wat) on wasmi alone, marshalled by hand through its core ABI:
//! samples are copied into linear memory through the guest's `realloc`, the
//! spilled result is read from the returned pointer, and `reset` frees the
//! call's allocations, as the component's `post-return` does.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

use fw::entry;
use fw::sensor::{self, Summary};
use fw::{checkpoint, println, Context};
use wasmi::{Caller, Engine, Extern, Instance, Linker, Memory, Module, Store};

/// The core module, assembled from WAT by build.rs.
static CORE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/core.wasm"));

/// The host's state in the store: what the guest logged, readings taken.
#[derive(Default)]
struct Host {
    logs: Vec<String>,
    reads: u32,
}

#[entry]
fn main() -> ! {
    fw::init();
    println!("wasmi alone: core module of {} bytes", CORE.len());
    fw::finish(run())
}

fn run() -> Result<(), String> {
    let engine = Engine::default();
    #[cfg(not(feature = "wasmi-prevalidated"))]
    let module = Module::new(&engine, CORE).context("loading the module")?;
    // SAFETY: CORE was validated on the host by build.rs (with componentry's
    // validator, under the core features this wasmi runs).
    #[cfg(feature = "wasmi-prevalidated")]
    let module = unsafe { Module::new_unchecked(&engine, CORE) }.context("loading the module")?;
    checkpoint("loading the module");

    let mut linker = Linker::<Host>::new(&engine);
    linker
        .func_wrap(
            "host",
            "log",
            |mut caller: Caller<'_, Host>, ptr: i32, len: i32| -> Result<(), wasmi::Error> {
                let memory = caller
                    .get_export("memory")
                    .and_then(Extern::into_memory)
                    .ok_or_else(|| wasmi::Error::new("log: no memory export"))?;
                let bytes = slice(memory.data(&caller), ptr as u32, len as u32)
                    .ok_or_else(|| wasmi::Error::new("log: string out of bounds"))?;
                let msg = core::str::from_utf8(bytes)
                    .map_err(|_| wasmi::Error::new("log: string is not UTF-8"))?;
                println!("  guest log: {}", msg);
                let msg = String::from(msg);
                caller.data_mut().logs.push(msg);
                Ok(())
            },
        )
        .context("defining log")?;
    linker
        .func_wrap(
            "host",
            "read-sensor",
            |mut caller: Caller<'_, Host>, channel: i32| -> f32 {
                let host = caller.data_mut();
                let x = sensor::reading(channel as u8, host.reads);
                host.reads += 1;
                x
            },
        )
        .context("defining read-sensor")?;

    let mut store = Store::new(&engine, Host::default());
    let instance = linker
        .instantiate_and_start(&mut store, &module)
        .context("instantiating")?;
    checkpoint("instantiating");
    let guest = Guest::new(&store, &instance)?;

    // summarize(ptr, len) with samples copied in by the host.
    let got = guest.summarize(&mut store, &sensor::SAMPLES)?;
    sensor::check(
        "summarize(SAMPLES)",
        got,
        sensor::summarize(sensor::SAMPLES),
    )?;

    let got = guest.summarize(&mut store, &[])?;
    sensor::check("summarize([])", got, sensor::summarize([]))?;

    let ret = guest
        .sample
        .call(
            &mut store,
            (i32::from(sensor::CHANNEL), sensor::COUNT as i32),
        )
        .context("calling sample-and-summarize")?;
    let got = guest.take_result(&mut store, ret)?;
    sensor::check(
        "sample-and-summarize(3, 16)",
        got,
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

/// `len` bytes at `ptr` in `bytes`, if in bounds.
fn slice(bytes: &[u8], ptr: u32, len: u32) -> Option<&[u8]> {
    let start = ptr as usize;
    bytes.get(start..start.checked_add(len as usize)?)
}

/// The guest's exports, typed.
struct Guest {
    memory: Memory,
    realloc: wasmi::TypedFunc<(i32, i32, i32, i32), i32>,
    reset: wasmi::TypedFunc<i32, ()>,
    summarize: wasmi::TypedFunc<(i32, i32), i32>,
    sample: wasmi::TypedFunc<(i32, i32), i32>,
}

impl Guest {
    fn new(store: &Store<Host>, instance: &Instance) -> Result<Self, String> {
        Ok(Guest {
            memory: instance
                .get_memory(store, "memory")
                .context("no `memory` export")?,
            realloc: instance
                .get_typed_func(store, "realloc")
                .context("export `realloc`")?,
            reset: instance
                .get_typed_func(store, "reset")
                .context("export `reset`")?,
            summarize: instance
                .get_typed_func(store, "summarize")
                .context("export `summarize`")?,
            sample: instance
                .get_typed_func(store, "sample-and-summarize")
                .context("export `sample-and-summarize`")?,
        })
    }

    /// Copies `samples` into guest memory and calls `summarize`.
    fn summarize(&self, store: &mut Store<Host>, samples: &[f32]) -> Result<Summary, String> {
        let len = u32::try_from(samples.len())
            .ok()
            .filter(|n| *n < 1 << 28)
            .context("too many samples")?;
        let ptr = self
            .realloc
            .call(&mut *store, (0, 0, 4, (len * 4) as i32))
            .context("calling realloc")? as u32;
        if ptr & 3 != 0 {
            return Err(String::from("realloc returned an unaligned pointer"));
        }
        let data = self.memory.data_mut(&mut *store);
        let start = ptr as usize;
        let buf = start
            .checked_add(len as usize * 4)
            .and_then(|end| data.get_mut(start..end))
            .context("realloc returned a pointer out of bounds")?;
        for (chunk, x) in buf.chunks_exact_mut(4).zip(samples) {
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        let ret = self
            .summarize
            .call(&mut *store, (ptr as i32, len as i32))
            .context("calling summarize")?;
        self.take_result(store, ret)
    }

    /// Reads the 12-byte result at `ret`, then calls `reset` (the
    /// post-return).
    fn take_result(&self, store: &mut Store<Host>, ret: i32) -> Result<Summary, String> {
        let ret = ret as u32;
        if ret & 3 != 0 {
            return Err(String::from("unaligned result pointer"));
        }
        let bytes = slice(self.memory.data(&*store), ret, 12).context("result out of bounds")?;
        let mut fields = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let (Some(min), Some(max), Some(mean)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(String::from("short result"));
        };
        let summary = Summary { min, max, mean };
        self.reset
            .call(&mut *store, ret as i32)
            .context("calling reset")?;
        Ok(summary)
    }
}
