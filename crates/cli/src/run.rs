//! `componentry run`: loads the component, builds its WASI context from the
//! options, links WASI, instantiates, then runs `wasi:cli/run` or the
//! `--invoke` call.

use componentry::{Component, Config, Engine, Instance, Linker, Store};
use componentry_wasi::{add_to_linker, run_command, DirAccess, WasiCtx};

use crate::args::RunArgs;
use crate::failure::Failure;
use crate::invoke;

/// Runs the component as `args` says; the guest's exit code, or why it
/// could not run or did not finish.
pub fn run(args: &RunArgs) -> Result<i32, Failure> {
    let path = args.component();
    let bytes =
        std::fs::read(path).map_err(|e| Failure::Setup(format!("cannot read {path}: {e}")))?;

    let mut config = Config::new();
    config.deterministic(args.deterministic.is_some());
    config.consume_fuel(args.fuel.is_some());
    let engine = Engine::new(&config);
    let component = Component::new(&engine, &bytes)
        .map_err(|e| Failure::Setup(format!("cannot load {path}: {e}")))?;

    let ctx = wasi_context(args, path)?;
    let mut linker = Linker::new(&engine);
    add_to_linker::<WasiCtx>(&mut linker)
        .map_err(|e| Failure::Setup(format!("cannot link WASI: {e}")))?;
    let mut store = Store::new(&engine, ctx);
    if let Some(fuel) = args.fuel {
        store
            .set_fuel(fuel)
            .map_err(|e| Failure::Setup(format!("cannot set fuel: {e}")))?;
    }
    let instance = linker
        .instantiate(&mut store, &component)
        .map_err(|e| Failure::from_instantiate(path, e))?;

    match &args.invoke {
        Some(call) => invoke::invoke(&mut store, &component, &instance, call),
        None => run_main(&mut store, &component, &instance, path),
    }
}

/// The WASI context: the guest's arguments and environment, inherited
/// stdio, the `--dir` preopens, and the deterministic profile if asked.
fn wasi_context(args: &RunArgs, path: &str) -> Result<WasiCtx, Failure> {
    let mut b = WasiCtx::builder();
    b.inherit_stdio()
        .arg(path)
        .args(args.guest_args().iter().cloned());
    if let Some(seed) = args.deterministic {
        b.deterministic(seed);
    }
    for var in &args.envs {
        match &var.value {
            Some(v) => {
                b.env(var.name.clone(), v.clone());
            }
            None => {
                if let Ok(v) = std::env::var(&var.name) {
                    b.env(var.name.clone(), v);
                }
            }
        }
    }
    for dir in &args.dirs {
        b.preopened_dir(&dir.host, dir.guest.clone(), DirAccess::ReadWrite)
            .map_err(|e| {
                Failure::Setup(format!(
                    "--dir {}: cannot open the directory: {e}",
                    dir.host.display()
                ))
            })?;
    }
    Ok(b.build())
}

/// Runs `wasi:cli/run`; without it, says what the component exports.
fn run_main(
    store: &mut Store<WasiCtx>,
    component: &Component,
    instance: &Instance,
    path: &str,
) -> Result<i32, Failure> {
    if componentry_wasi::run_export_name(component).is_none() {
        return Err(Failure::Setup(format!(
            "{path} is not a WASI command (it exports no wasi:cli/run@0.2.x); \
             call one of its functions with --invoke:{}",
            invoke::describe_exports(component)
        )));
    }
    run_command(store, component, instance).map_err(Failure::Run)
}
