//! `wasi:cli`: environment, exit, stdin/stdout/stderr and the terminal
//! interfaces.

use alloc::string::String;
use alloc::vec::Vec;
use componentry::{Error, Linker, Resource, Result, StoreContextMut};

use crate::io::V;
use crate::table::markers::{
    InputStream as In, OutputStream as Out, TerminalInput, TerminalOutput,
};
use crate::table::{define, Entry, InputStream, OutputStream};
use crate::WasiView;

/// The message of the trap that ends a guest calling `wasi:cli/exit`.
pub const EXIT_MESSAGE: &str = "wasi:cli/exit: the guest exited";

fn exit_error(code: i32) -> Error {
    Error::host(alloc::format!("{EXIT_MESSAGE} with code {code}"))
}

/// Links the `wasi:cli` interfaces of the command world.
pub(crate) fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) -> Result<()> {
    {
        let mut i = linker.instance(&alloc::format!("wasi:cli/environment{V}"))?;
        i.func_wrap(
            "get-environment",
            |mut cx: StoreContextMut<'_, T>, (): ()| Ok(cx.data_mut().wasi().env.clone()),
        )?;
        i.func_wrap(
            "get-arguments",
            |mut cx: StoreContextMut<'_, T>, (): ()| -> Result<Vec<String>> {
                Ok(cx.data_mut().wasi().args.clone())
            },
        )?;
        i.func_wrap("initial-cwd", |mut cx: StoreContextMut<'_, T>, (): ()| {
            Ok(cx.data_mut().wasi().cwd.clone())
        })?;
    }
    {
        let mut i = linker.instance(&alloc::format!("wasi:cli/exit{V}"))?;
        i.func_wrap(
            "exit",
            |mut cx: StoreContextMut<'_, T>,
             (status,): (core::result::Result<(), ()>,)|
             -> Result<()> {
                let code = if status.is_ok() { 0 } else { 1 };
                cx.data_mut().wasi().exit_code = Some(code);
                Err(exit_error(code))
            },
        )?;
        i.func_wrap(
            "exit-with-code",
            |mut cx: StoreContextMut<'_, T>, (code,): (u8,)| -> Result<()> {
                let code = i32::from(code);
                cx.data_mut().wasi().exit_code = Some(code);
                Err(exit_error(code))
            },
        )?;
    }
    let mut i = linker.instance(&alloc::format!("wasi:cli/stdin{V}"))?;
    define::<T, In>(&mut i, "input-stream")?;
    i.func_wrap(
        "get-stdin",
        |mut cx: StoreContextMut<'_, T>, (): ()| -> Result<Resource<In>> {
            let ctx = cx.data_mut().wasi();
            ctx.table.push(Entry::Input(InputStream::Stdin))
        },
    )?;
    for (iface, func, stderr) in [
        ("stdout", "get-stdout", false),
        ("stderr", "get-stderr", true),
    ] {
        let mut i = linker.instance(&alloc::format!("wasi:cli/{iface}{V}"))?;
        define::<T, Out>(&mut i, "output-stream")?;
        i.func_wrap(
            func,
            move |mut cx: StoreContextMut<'_, T>, (): ()| -> Result<Resource<Out>> {
                let s = if stderr {
                    OutputStream::Stderr
                } else {
                    OutputStream::Stdout
                };
                cx.data_mut().wasi().table.push(Entry::Output(s))
            },
        )?;
    }
    let mut i = linker.instance(&alloc::format!("wasi:cli/terminal-input{V}"))?;
    define::<T, TerminalInput>(&mut i, "terminal-input")?;
    let mut i = linker.instance(&alloc::format!("wasi:cli/terminal-output{V}"))?;
    define::<T, TerminalOutput>(&mut i, "terminal-output")?;
    let mut i = linker.instance(&alloc::format!("wasi:cli/terminal-stdin{V}"))?;
    define::<T, TerminalInput>(&mut i, "terminal-input")?;
    i.func_wrap(
        "get-terminal-stdin",
        |mut cx: StoreContextMut<'_, T>, (): ()| -> Result<Option<Resource<TerminalInput>>> {
            let ctx = cx.data_mut().wasi();
            if !ctx.stdin.is_terminal() {
                return Ok(None);
            }
            ctx.table.push(Entry::TerminalInput).map(Some)
        },
    )?;
    for (iface, func, stderr) in [
        ("terminal-stdout", "get-terminal-stdout", false),
        ("terminal-stderr", "get-terminal-stderr", true),
    ] {
        let mut i = linker.instance(&alloc::format!("wasi:cli/{iface}{V}"))?;
        define::<T, TerminalOutput>(&mut i, "terminal-output")?;
        i.func_wrap(
            func,
            move |mut cx: StoreContextMut<'_, T>,
                  (): ()|
                  -> Result<Option<Resource<TerminalOutput>>> {
                let ctx = cx.data_mut().wasi();
                let out = if stderr { &ctx.stderr } else { &ctx.stdout };
                if !out.is_terminal() {
                    return Ok(None);
                }
                ctx.table.push(Entry::TerminalOutput).map(Some)
            },
        )?;
    }
    Ok(())
}
