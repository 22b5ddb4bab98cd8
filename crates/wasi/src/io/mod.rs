//! `wasi:io`: `error`, `poll` and `streams`.

pub(crate) mod streams;

use alloc::string::String;
use alloc::vec::Vec;
use componentry::{Error, Linker, Resource, Result, StoreContextMut};

use crate::table::markers::{IoError, Pollable};
use crate::table::{define, wrong_kind, Entry, Poll};
use crate::{WasiCtx, WasiView};

/// The version every WASI interface is defined at; the linker's
/// canonversion matching lets it serve imports of any `0.2.x`.
pub(crate) const V: &str = "@0.2.12";

/// Adds a pollable that is ready once the monotonic clock reaches
/// `deadline` (`None`: always ready).
pub(crate) fn new_pollable(ctx: &mut WasiCtx, p: Poll) -> Result<Resource<Pollable>> {
    ctx.table.push(Entry::Pollable(p))
}

fn is_ready(ctx: &mut WasiCtx, p: Poll) -> bool {
    match p {
        Poll::Ready => true,
        Poll::Deadline(d) => ctx.mono.now() >= d,
    }
}

fn poll_of(ctx: &WasiCtx, r: &Resource<Pollable>) -> Result<Poll> {
    match ctx.table.get(r)? {
        Entry::Pollable(p) => Ok(*p),
        _ => Err(wrong_kind()),
    }
}

/// The indices of the ready pollables of `list`, waiting (sleeping on a
/// host clock, advancing a virtual one) until at least one is ready.
fn poll_list(ctx: &mut WasiCtx, list: &[Resource<Pollable>]) -> Result<Vec<u32>> {
    if list.is_empty() {
        return Err(Error::host("wasi:io/poll.poll: the list must not be empty"));
    }
    let polls: Vec<Poll> = list
        .iter()
        .map(|r| poll_of(ctx, r))
        .collect::<Result<_>>()?;
    let now = ctx.mono.now();
    let ready_at = |p: &Poll, now: u64| match p {
        Poll::Ready => true,
        Poll::Deadline(d) => now >= *d,
    };
    let mut ready: Vec<u32> = (0u32..)
        .zip(&polls)
        .filter(|(_, p)| ready_at(p, now))
        .map(|(i, _)| i)
        .collect();
    if ready.is_empty() {
        let earliest = polls
            .iter()
            .filter_map(|p| match p {
                Poll::Deadline(d) => Some(*d),
                Poll::Ready => None,
            })
            .min()
            .unwrap_or(now);
        ctx.mono.wait_until(earliest);
        let now = ctx.mono.now().max(earliest);
        ready = (0u32..)
            .zip(&polls)
            .filter(|(_, p)| ready_at(p, now))
            .map(|(i, _)| i)
            .collect();
    }
    Ok(ready)
}

/// Links `wasi:io/error`, `wasi:io/poll` and `wasi:io/streams`.
pub(crate) fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) -> Result<()> {
    {
        let mut i = linker.instance(&alloc::format!("wasi:io/error{V}"))?;
        define::<T, IoError>(&mut i, "error")?;
        i.func_wrap(
            "[method]error.to-debug-string",
            |mut cx: StoreContextMut<'_, T>, (e,): (Resource<IoError>,)| match cx
                .data_mut()
                .wasi()
                .table
                .get(&e)?
            {
                Entry::Error { message, .. } => Ok(String::from(message.as_str())),
                _ => Err(wrong_kind()),
            },
        )?;
    }
    {
        let mut i = linker.instance(&alloc::format!("wasi:io/poll{V}"))?;
        define::<T, Pollable>(&mut i, "pollable")?;
        i.func_wrap(
            "[method]pollable.ready",
            |mut cx: StoreContextMut<'_, T>, (p,): (Resource<Pollable>,)| {
                let ctx = cx.data_mut().wasi();
                let p = poll_of(ctx, &p)?;
                Ok(is_ready(ctx, p))
            },
        )?;
        i.func_wrap(
            "[method]pollable.block",
            |mut cx: StoreContextMut<'_, T>, (p,): (Resource<Pollable>,)| {
                let ctx = cx.data_mut().wasi();
                if let Poll::Deadline(d) = poll_of(ctx, &p)? {
                    ctx.mono.wait_until(d);
                }
                Ok(())
            },
        )?;
        i.func_wrap(
            "poll",
            |mut cx: StoreContextMut<'_, T>, (list,): (Vec<Resource<Pollable>>,)| {
                poll_list(cx.data_mut().wasi(), &list)
            },
        )?;
    }
    streams::add_to_linker(linker)
}
