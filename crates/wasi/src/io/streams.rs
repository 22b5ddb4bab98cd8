//! `wasi:io/streams`: input and output streams over stdio and files.
//!
//! Every operation completes when it is called (reads return what is
//! there, writes take everything), so the non-blocking and blocking forms
//! behave alike and a stream's pollable is always ready. A file stream at
//! its end reports `closed`.

use alloc::string::String;
use alloc::vec::Vec;
use componentry::{ComponentType, Lift, Linker, Lower, Resource, Result, StoreContextMut};

use super::V;
use crate::filesystem::types::ErrorCode;
use crate::stdio::ReadOutcome;
use crate::table::markers::{InputStream as In, IoError, OutputStream as Out, Pollable};
use crate::table::{define, wrong_kind, Entry, InputStream, OutputStream, Poll};
use crate::{WasiCtx, WasiView};

/// WIT `stream-error`.
#[derive(ComponentType, Lift, Lower, Debug)]
pub(crate) enum StreamError {
    LastOperationFailed(Resource<IoError>),
    Closed,
}

type StreamResult<R> = core::result::Result<R, StreamError>;

/// What a writable stream tells `check-write` it may take at once.
const WRITE_BUDGET: u64 = 1 << 20;

/// A `last-operation-failed` error with `message` (and the filesystem
/// error code, for `filesystem-error-code`).
pub(crate) fn failed(
    ctx: &mut WasiCtx,
    message: String,
    code: Option<ErrorCode>,
) -> Result<StreamError> {
    let e = ctx.table.push(Entry::Error { message, code })?;
    Ok(StreamError::LastOperationFailed(e))
}

fn fs_failed(ctx: &mut WasiCtx, code: ErrorCode) -> Result<StreamError> {
    failed(
        ctx,
        alloc::format!("filesystem error: {}", code.name()),
        Some(code),
    )
}

/// Reads up to `len` bytes from input stream `r`.
fn read(ctx: &mut WasiCtx, r: &Resource<In>, len: u64) -> Result<StreamResult<Vec<u8>>> {
    let n = usize::try_from(len).unwrap_or(usize::MAX).min(ctx.max_read);
    let (fs, node, offset) = match ctx.table.get(r)? {
        Entry::Input(InputStream::Stdin) => {
            if n == 0 {
                return Ok(Ok(Vec::new()));
            }
            return Ok(match ctx.stdin.read(n) {
                ReadOutcome::Data(d) => Ok(d),
                ReadOutcome::Closed => Err(StreamError::Closed),
                ReadOutcome::Failed(m) => Err(failed(ctx, m, None)?),
            });
        }
        Entry::Input(InputStream::File { fs, node, offset }) => (*fs, node.clone(), *offset),
        _ => return Err(wrong_kind()),
    };
    let Some(backend) = ctx.backends.get(fs) else {
        return Err(wrong_kind());
    };
    match backend.vfs().read(&node, offset, n) {
        Ok(d) if d.is_empty() && n > 0 => Ok(Err(StreamError::Closed)),
        Ok(d) => {
            if let Entry::Input(InputStream::File { offset, .. }) = ctx.table.get_mut(r)? {
                *offset = offset.saturating_add(d.len() as u64);
            }
            Ok(Ok(d))
        }
        Err(code) => Ok(Err(fs_failed(ctx, code)?)),
    }
}

/// Writes `data` to output stream `w`.
fn write(ctx: &mut WasiCtx, w: &Resource<Out>, data: &[u8]) -> Result<StreamResult<()>> {
    let (fs, node, offset) = match ctx.table.get(w)? {
        Entry::Output(OutputStream::Stdout) => {
            return Ok(match ctx.stdout.write(data) {
                Ok(()) => Ok(()),
                Err(m) => Err(failed(ctx, m, None)?),
            })
        }
        Entry::Output(OutputStream::Stderr) => {
            return Ok(match ctx.stderr.write(data) {
                Ok(()) => Ok(()),
                Err(m) => Err(failed(ctx, m, None)?),
            })
        }
        Entry::Output(OutputStream::File { fs, node, offset }) => (*fs, node.clone(), *offset),
        _ => return Err(wrong_kind()),
    };
    let now = ctx.wall.now();
    let Some(backend) = ctx.backends.get_mut(fs) else {
        return Err(wrong_kind());
    };
    match backend.vfs_mut().write(&node, offset, data, now) {
        Ok(end) => {
            if let Entry::Output(OutputStream::File {
                offset: Some(o), ..
            }) = ctx.table.get_mut(w)?
            {
                *o = end;
            }
            Ok(Ok(()))
        }
        Err(code) => Ok(Err(fs_failed(ctx, code)?)),
    }
}

fn flush(ctx: &mut WasiCtx, w: &Resource<Out>) -> Result<StreamResult<()>> {
    let r = match ctx.table.get(w)? {
        Entry::Output(OutputStream::Stdout) => ctx.stdout.flush(),
        Entry::Output(OutputStream::Stderr) => ctx.stderr.flush(),
        Entry::Output(OutputStream::File { .. }) => Ok(()),
        _ => return Err(wrong_kind()),
    };
    Ok(match r {
        Ok(()) => Ok(()),
        Err(m) => Err(failed(ctx, m, None)?),
    })
}

fn check_write(ctx: &mut WasiCtx, w: &Resource<Out>) -> Result<StreamResult<u64>> {
    let room = match ctx.table.get(w)? {
        Entry::Output(OutputStream::Stdout) => ctx.stdout.room(),
        Entry::Output(OutputStream::Stderr) => ctx.stderr.room(),
        Entry::Output(OutputStream::File { .. }) => None,
        _ => return Err(wrong_kind()),
    };
    Ok(match room {
        Some(0) => Err(failed(ctx, String::from("captured output is full"), None)?),
        Some(n) => Ok((n as u64).min(WRITE_BUDGET)),
        None => Ok(WRITE_BUDGET),
    })
}

fn write_zeroes(ctx: &mut WasiCtx, w: &Resource<Out>, len: u64) -> Result<StreamResult<()>> {
    if len > WRITE_BUDGET {
        let m = alloc::format!("write-zeroes of {len} bytes: more than check-write permits");
        return Ok(Err(failed(ctx, m, None)?));
    }
    let mut left = len;
    let zeroes = alloc::vec![0u8; (len.min(64 * 1024)) as usize];
    while left > 0 {
        let n = left.min(zeroes.len() as u64);
        if let Err(e) = write(ctx, w, &zeroes[..n as usize])? {
            return Ok(Err(e));
        }
        left -= n;
    }
    Ok(Ok(()))
}

fn splice(
    ctx: &mut WasiCtx,
    w: &Resource<Out>,
    r: &Resource<In>,
    len: u64,
) -> Result<StreamResult<u64>> {
    let data = match read(ctx, r, len)? {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    Ok(write(ctx, w, &data)?.map(|()| data.len() as u64))
}

fn subscribe(ctx: &mut WasiCtx) -> Result<Resource<Pollable>> {
    super::new_pollable(ctx, Poll::Ready)
}

/// Links `wasi:io/streams`.
pub(crate) fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) -> Result<()> {
    let mut i = linker.instance(&alloc::format!("wasi:io/streams{V}"))?;
    define::<T, In>(&mut i, "input-stream")?;
    define::<T, Out>(&mut i, "output-stream")?;
    define::<T, IoError>(&mut i, "error")?;
    define::<T, Pollable>(&mut i, "pollable")?;
    for name in ["read", "blocking-read"] {
        i.func_wrap(
            &alloc::format!("[method]input-stream.{name}"),
            |mut cx: StoreContextMut<'_, T>, (r, len): (Resource<In>, u64)| {
                read(cx.data_mut().wasi(), &r, len)
            },
        )?;
    }
    for name in ["skip", "blocking-skip"] {
        i.func_wrap(
            &alloc::format!("[method]input-stream.{name}"),
            |mut cx: StoreContextMut<'_, T>, (r, len): (Resource<In>, u64)| {
                Ok(read(cx.data_mut().wasi(), &r, len)?.map(|d| d.len() as u64))
            },
        )?;
    }
    i.func_wrap(
        "[method]input-stream.subscribe",
        |mut cx: StoreContextMut<'_, T>, (_r,): (Resource<In>,)| subscribe(cx.data_mut().wasi()),
    )?;
    i.func_wrap(
        "[method]output-stream.check-write",
        |mut cx: StoreContextMut<'_, T>, (w,): (Resource<Out>,)| {
            check_write(cx.data_mut().wasi(), &w)
        },
    )?;
    i.func_wrap(
        "[method]output-stream.write",
        |mut cx: StoreContextMut<'_, T>, (w, data): (Resource<Out>, Vec<u8>)| {
            write(cx.data_mut().wasi(), &w, &data)
        },
    )?;
    i.func_wrap(
        "[method]output-stream.blocking-write-and-flush",
        |mut cx: StoreContextMut<'_, T>, (w, data): (Resource<Out>, Vec<u8>)| {
            let ctx = cx.data_mut().wasi();
            match write(ctx, &w, &data)? {
                Ok(()) => flush(ctx, &w),
                Err(e) => Ok(Err(e)),
            }
        },
    )?;
    for name in ["flush", "blocking-flush"] {
        i.func_wrap(
            &alloc::format!("[method]output-stream.{name}"),
            |mut cx: StoreContextMut<'_, T>, (w,): (Resource<Out>,)| {
                flush(cx.data_mut().wasi(), &w)
            },
        )?;
    }
    i.func_wrap(
        "[method]output-stream.subscribe",
        |mut cx: StoreContextMut<'_, T>, (_w,): (Resource<Out>,)| subscribe(cx.data_mut().wasi()),
    )?;
    i.func_wrap(
        "[method]output-stream.write-zeroes",
        |mut cx: StoreContextMut<'_, T>, (w, len): (Resource<Out>, u64)| {
            write_zeroes(cx.data_mut().wasi(), &w, len)
        },
    )?;
    i.func_wrap(
        "[method]output-stream.blocking-write-zeroes-and-flush",
        |mut cx: StoreContextMut<'_, T>, (w, len): (Resource<Out>, u64)| {
            let ctx = cx.data_mut().wasi();
            match write_zeroes(ctx, &w, len)? {
                Ok(()) => flush(ctx, &w),
                Err(e) => Ok(Err(e)),
            }
        },
    )?;
    for name in ["splice", "blocking-splice"] {
        i.func_wrap(
            &alloc::format!("[method]output-stream.{name}"),
            |mut cx: StoreContextMut<'_, T>, (w, r, len): (Resource<Out>, Resource<In>, u64)| {
                splice(cx.data_mut().wasi(), &w, &r, len)
            },
        )?;
    }
    Ok(())
}
