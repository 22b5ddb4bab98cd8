//! A WASI 0.2 host for componentry: the interfaces of the `wasi:cli/command`
//! world, sandboxed and optionally deterministic.
//!
//! ```ignore
//! use componentry::{Component, Engine, Linker, Store};
//! use componentry_wasi::{add_to_linker, run_command, DirAccess, WasiCtx};
//!
//! let engine = Engine::default();
//! let component = Component::new(&engine, &bytes)?;
//! let mut linker = Linker::new(&engine);
//! add_to_linker::<WasiCtx>(&mut linker)?;
//! let ctx = WasiCtx::builder()
//!     .arg("app")
//!     .env("HOME", "/")
//!     .capture_stdout(1 << 20)
//!     .preopened_dir("./data", "/data", DirAccess::ReadOnly)?
//!     .build();
//! let mut store = Store::new(&engine, ctx);
//! let instance = linker.instantiate(&mut store, &component)?;
//! let code = run_command(&mut store, &component, &instance)?;
//! ```
//!
//! Every interface is linked at version 0.2.12 and serves imports of any
//! 0.2.x (the linker matches versions by canonversion). What the context
//! does not grant fails with the WIT's own error code; no function is a
//! stub that traps. The guest's resources live in a table in the
//! [`WasiCtx`], capped by [`WasiCtxBuilder::max_resources`].
//!
//! The crate builds under `no_std` + `alloc` (in-memory directories,
//! virtual clocks, seeded randomness, captured or custom stdio); feature
//! `std` (default) adds host directories, host clocks, the OS's randomness
//! and inherited stdio.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod cli;
pub mod clocks;
mod ctx;
pub mod filesystem;
mod io;
pub mod random;
mod sockets;
mod stdio;
mod table;

use componentry::{
    Component, ComponentItem, Error, ErrorKind, Instance, Linker, Result, Store, TrapKind,
};

pub use cli::EXIT_MESSAGE;
pub use clocks::{Datetime, MonotonicClock, WallClock};
pub use ctx::{
    DirAccess, WasiCtx, WasiCtxBuilder, DEFAULT_MAX_READ, DEFAULT_MAX_RESOURCES,
    DETERMINISTIC_STEP_NANOS,
};
pub use filesystem::memory::MemoryDir;
pub use random::{RandomSource, SeededRandom};
#[cfg(feature = "std")]
pub use stdio::InputReader;
pub use stdio::OutputSink;

/// Access to the [`WasiCtx`] inside a store's data: implement it for your
/// store data type `T` to link WASI into a `Linker<T>`.
pub trait WasiView: 'static {
    /// The WASI context.
    fn wasi(&mut self) -> &mut WasiCtx;
}

impl WasiView for WasiCtx {
    fn wasi(&mut self) -> &mut WasiCtx {
        self
    }
}

/// Links every interface of the `wasi:cli/command` world (wasi:io,
/// wasi:cli, wasi:clocks, wasi:filesystem, wasi:random, wasi:sockets) into
/// `linker`, each at version 0.2.12 (serving imports of any 0.2.x).
///
/// Fails with a usage error if one of the names is already defined in
/// `linker` (and shadowing is off).
pub fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) -> Result<()> {
    io::add_to_linker(linker)?;
    cli::add_to_linker(linker)?;
    clocks::add_to_linker(linker)?;
    random::add_to_linker(linker)?;
    filesystem::add_to_linker(linker)?;
    sockets::add_to_linker(linker)?;
    Ok(())
}

/// The name of `component`'s `wasi:cli/run` export (any 0.2.x), if it has one.
pub fn run_export_name(component: &Component) -> Option<alloc::string::String> {
    component
        .exports()
        .into_iter()
        .find(|(name, item)| {
            name.starts_with("wasi:cli/run@0.2.") && matches!(item, ComponentItem::Instance(_))
        })
        .map(|(name, _)| name)
}

/// Runs a command component: calls its `wasi:cli/run.run` export and
/// returns the exit code: the code passed to `wasi:cli/exit`, else 0 if
/// `run` returned `ok` and 1 if it returned `err`.
///
/// Fails with a usage error if the component exports no `wasi:cli/run`,
/// and with the trap if the guest traps for another reason than exiting.
pub fn run_command<T: WasiView>(
    store: &mut Store<T>,
    component: &Component,
    instance: &Instance,
) -> Result<i32> {
    let name = run_export_name(component)
        .ok_or_else(|| Error::usage("the component exports no wasi:cli/run@0.2.x"))?;
    let func = instance
        .get_instance_func(&mut *store, &name, "run")
        .ok_or_else(|| Error::usage(alloc::format!("`{name}` has no function `run`")))?;
    let run = func.typed::<(), core::result::Result<(), ()>>(&mut *store)?;
    let outcome = run.call(&mut *store, ());
    if let Some(code) = store.data_mut().wasi().exit_code() {
        return Ok(code);
    }
    match outcome {
        Ok(Ok(())) => Ok(0),
        Ok(Err(())) => Ok(1),
        Err(e) => Err(e),
    }
}

/// True if `err` is the trap by which a guest's `wasi:cli/exit` ended a
/// call (check [`WasiCtx::exit_code`] for the code).
pub fn is_exit(err: &Error) -> bool {
    matches!(err.kind(), ErrorKind::Trap(TrapKind::Host)) && err.message().starts_with(EXIT_MESSAGE)
}
