//! Shared helpers: the guests' bytes, running a command component with a
//! context, temporary host directories.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use componentry::{Component, Config, Engine, Error, Linker, Store};
use componentry_wasi::{add_to_linker, run_command, WasiCtx, WasiCtxBuilder};

/// A guest of `tests/guests/wasi/` (built by `tools/build-guests.sh`).
pub fn guest(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/guests/wasi")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What a run left behind.
pub struct Run {
    /// The exit code, or the trap.
    pub code: Result<i32, Error>,
    pub stdout: String,
    pub stderr: String,
    /// Remaining fuel, if the engine consumed fuel.
    pub fuel: Option<u64>,
    pub ctx: WasiCtx,
}

/// Runs `wasm` (a command) with the context `builder` makes, capturing
/// stdout and stderr (1 MiB each) unless the builder set them otherwise.
pub fn run(wasm: &[u8], builder: &mut WasiCtxBuilder) -> Run {
    run_with(wasm, builder, None)
}

/// Like [`run`], on an engine consuming fuel, starting with `fuel`.
pub fn run_with(wasm: &[u8], builder: &mut WasiCtxBuilder, fuel: Option<u64>) -> Run {
    let mut config = Config::new();
    if fuel.is_some() {
        config.consume_fuel(true);
    }
    let engine = Engine::new(&config);
    let component = Component::new(&engine, wasm).expect("the guest loads");
    let mut linker = Linker::new(&engine);
    add_to_linker::<WasiCtx>(&mut linker).expect("WASI links");
    run_in(&engine, &component, &linker, builder.build(), fuel)
}

/// Runs an already loaded component in a new store holding `ctx`.
pub fn run_in(
    engine: &Engine,
    component: &Component,
    linker: &Linker<WasiCtx>,
    ctx: WasiCtx,
    fuel: Option<u64>,
) -> Run {
    let mut store = Store::new(engine, ctx);
    if let Some(f) = fuel {
        store.set_fuel(f).expect("fuel");
    }
    let code = linker
        .instantiate(&mut store, component)
        .and_then(|instance| run_command(&mut store, component, &instance));
    let fuel = fuel.map(|_| store.get_fuel().expect("fuel"));
    let ctx = store.into_data();
    Run {
        code,
        stdout: String::from_utf8_lossy(ctx.stdout().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(ctx.stderr().unwrap_or_default()).into_owned(),
        fuel,
        ctx,
    }
}

/// A builder capturing stdout and stderr, with `args` after the program name.
pub fn cmd(args: &[&str]) -> WasiCtxBuilder {
    let mut b = WasiCtxBuilder::new();
    b.arg("guest")
        .args(args.iter().copied())
        .capture_stdout(1 << 20)
        .capture_stderr(1 << 20);
    b
}

/// A fresh empty directory under the system's temporary folder, removed
/// when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "componentry-wasi-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
