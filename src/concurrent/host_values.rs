//! Stream, future and error-context values held by the host
//! ([`StreamAny`], [`FutureAny`], [`ErrorContextAny`] in
//! [`Val`](crate::Val)): a small poll-style API.
//!
//! A function lifted to the host (a guest's export called with
//! [`Func::call`](crate::Func::call), or an import's arguments) gives the
//! host the *readable* end of a stream or future, taken out of the guest's
//! handle table. The host can read what a guest writer has pending
//! ([`StreamAny::read`], [`FutureAny::read`]: they never wait; `Blocked`
//! says nothing is pending now), drop the end, or pass it back into a
//! component of the same component binary. An error context lifted to the
//! host is a copy of the guest's: its debug message stays readable until
//! the host drops it.
//!
//! The host can also make a stream or future ([`StreamAny::new`],
//! [`FutureAny::new`]) whose writable end it keeps ([`StreamWriter`],
//! [`FutureWriter`]) and pass the readable end to a component: what it
//! writes waits in the stream until the component reads it.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::store::{AsContextMut, StoreData};
use crate::types::{DefType, TypeArena, ValType};
use crate::Val;

/// The readable end of a stream held by the host: a guest function's
/// `stream<T>` result (or a host function's parameter). The host reads
/// what a guest writer has pending ([`StreamAny::read`], which never
/// waits: run the store's other tasks with
/// [`Store::run_until_idle`](crate::Store::run_until_idle) to let the
/// writer write more), drops it, or passes it back into a component of the
/// same component binary as a [`Val::Stream`]. Copy it freely: the end is
/// consumed when it is passed to a component or dropped, and using it
/// after that is an error. [`StreamAny::new`] makes a stream the host
/// writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamAny {
    pub(crate) store_id: usize,
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// The readable end of a future held by the host (see [`StreamAny`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FutureAny {
    pub(crate) store_id: usize,
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// An error context held by the host: its debug message, until dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorContextAny {
    pub(crate) store_id: usize,
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// What [`StreamAny::read`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamRead {
    /// The values a pending write had (at most the number asked for; none
    /// for a zero-length read). An untyped `stream` gives `Val::Tuple(vec![])`
    /// for each element.
    Values(Vec<Val>),
    /// No write is pending now: read again later.
    Blocked,
    /// The writer dropped its end: no more values will come.
    Dropped,
}

/// What [`FutureAny::read`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum FutureRead {
    /// The value (`None` for an untyped `future`). The future is done: drop
    /// it.
    Value(Option<Val>),
    /// No value was written yet: read again later.
    Blocked,
}

/// A stream or future end the host holds.
pub(crate) struct HostEnd {
    id: u32,
    future: bool,
    generation: u32,
}

/// An error context the host holds.
pub(crate) struct HostErrorContext {
    ec: u32,
    generation: u32,
}

fn stale(what: &str) -> Error {
    Error::usage(alloc::format!(
        "{what} was already passed on, dropped, or belongs to another store"
    ))
}

impl<T> StoreData<T> {
    fn next_async_generation(&mut self) -> u32 {
        let g = self.next_generation;
        self.next_generation = g.wrapping_add(1);
        g
    }

    /// The host end behind `(index, generation)`.
    fn host_end(&mut self, index: u32, generation: u32, future: bool) -> Result<u32> {
        let what = if future { "future" } else { "stream" };
        if let Some(state) = self.async_state.as_deref_mut() {
            if let Ok(e) = state.host_ends.get(index) {
                if e.generation == generation && e.future == future {
                    return Ok(e.id);
                }
            }
        }
        Err(stale(what))
    }
}

/// Lifts handle `h` of `inst`, of async type `ty` (a stream, a future or
/// an error-context of `arena`), to the host.
pub(crate) fn lift<T>(
    data: &mut StoreData<T>,
    inst: u32,
    arena: &TypeArena,
    ty: ValType,
    h: u32,
) -> Result<Val> {
    let ValType::Def(i) = ty else {
        return Err(super::waitable::internal("async handle type"));
    };
    let store_id = data.id;
    match arena.def(i) {
        DefType::ErrorContext => {
            let ec = super::error_context::share(data, inst, h)?;
            let generation = data.next_async_generation();
            let state = data.async_state.get_or_insert_with(Default::default);
            let limiter = &mut data.limiter.0;
            let index = match state.host_error_contexts.add_within(
                HostErrorContext { ec, generation },
                crate::resources::MAX_HANDLES,
                |bytes| limiter.take_bytes(bytes),
            ) {
                Ok(i) => i,
                Err(e) => {
                    super::error_context::release(data.async_state(), ec)?;
                    return Err(e);
                }
            };
            Ok(Val::ErrorContext(ErrorContextAny {
                store_id,
                index,
                generation,
            }))
        }
        DefType::Stream(elem) | DefType::Future(elem) => {
            let future = matches!(arena.def(i), DefType::Future(_));
            let id = super::streams::take_readable(data, inst, arena, future, *elem, h)?;
            let generation = data.next_async_generation();
            let state = data.async_state.get_or_insert_with(Default::default);
            let limiter = &mut data.limiter.0;
            let index = state.host_ends.add_within(
                HostEnd {
                    id,
                    future,
                    generation,
                },
                crate::resources::MAX_HANDLES,
                |bytes| limiter.take_bytes(bytes),
            );
            let index = match index {
                Ok(i) => i,
                Err(e) => {
                    // The end leaves both tables: as if dropped.
                    super::streams::drop_host_end(data.async_state(), id)?;
                    return Err(e);
                }
            };
            super::streams::set_host(data.async_state(), id, Some(index))?;
            Ok(if future {
                Val::Future(FutureAny {
                    store_id,
                    index,
                    generation,
                })
            } else {
                Val::Stream(StreamAny {
                    store_id,
                    index,
                    generation,
                })
            })
        }
        _ => Err(super::waitable::internal("async handle type")),
    }
}

/// Lowers `v` as a value of async type `ty` of `arena` into `inst`'s
/// table: a host-held end moves there; an error context gets a new handle.
pub(crate) fn lower<T>(
    data: &mut StoreData<T>,
    inst: u32,
    arena: &TypeArena,
    ty: ValType,
    v: &Val,
) -> Result<u32> {
    let ValType::Def(i) = ty else {
        return Err(super::waitable::internal("async handle type"));
    };
    let mismatch = || crate::abi::lower::mismatch(arena, ty, v);
    let store_id = data.id;
    match (arena.def(i), v) {
        (DefType::ErrorContext, Val::ErrorContext(e)) => {
            let ec = host_error_context(data, e)?;
            super::error_context::add_handle(data, inst, ec)
        }
        (
            DefType::Stream(elem),
            Val::Stream(StreamAny {
                index, generation, ..
            }),
        )
        | (
            DefType::Future(elem),
            Val::Future(FutureAny {
                index, generation, ..
            }),
        ) => {
            let future = matches!(v, Val::Future(_));
            let sid = match v {
                Val::Stream(s) => s.store_id,
                Val::Future(f) => f.store_id,
                _ => return Err(mismatch()),
            };
            if sid != store_id {
                return Err(stale(if future { "future" } else { "stream" }));
            }
            let id = data.host_end(*index, *generation, future)?;
            let h = super::streams::put_readable(data, inst, arena, future, *elem, id)?;
            let _ = data.async_state().host_ends.remove(*index);
            Ok(h)
        }
        _ => Err(mismatch()),
    }
}

fn host_error_context<T>(data: &mut StoreData<T>, e: &ErrorContextAny) -> Result<u32> {
    if e.store_id != data.id {
        return Err(stale("error context"));
    }
    let state = data.async_state();
    match state.host_error_contexts.get(e.index) {
        Ok(x) if x.generation == e.generation => Ok(x.ec),
        _ => Err(stale("error context")),
    }
}

impl StreamAny {
    /// Reads up to `max` values a guest writer has pending: never waits
    /// (see [`StreamRead`]). Values are lifted from the writer's memory as
    /// a call's results are (strings copied, `own` handles moved to the
    /// host); the writer is told how many were read.
    pub fn read<S: AsContextMut>(&self, mut store: S, max: u32) -> Result<StreamRead>
    where
        S::Data: 'static,
    {
        let mut cx = store.as_context_mut();
        if cx.inner.data().id != self.store_id {
            return Err(stale("stream"));
        }
        let id = cx
            .inner
            .data_mut()
            .host_end(self.index, self.generation, false)?;
        super::streams::host_read(&mut cx.inner, id, max)
    }

    /// Drops the end: a pending write ends with `DROPPED`.
    pub fn drop(&self, mut store: impl AsContextMut) -> Result<()> {
        drop_end(
            &mut store,
            self.store_id,
            self.index,
            self.generation,
            false,
        )
    }
}

impl FutureAny {
    /// Reads the value a guest writer has pending: never waits (see
    /// [`FutureRead`]).
    pub fn read<S: AsContextMut>(&self, mut store: S) -> Result<FutureRead>
    where
        S::Data: 'static,
    {
        let mut cx = store.as_context_mut();
        if cx.inner.data().id != self.store_id {
            return Err(stale("future"));
        }
        let id = cx
            .inner
            .data_mut()
            .host_end(self.index, self.generation, true)?;
        match super::streams::host_read(&mut cx.inner, id, 1)? {
            StreamRead::Values(mut vs) => Ok(FutureRead::Value(vs.pop())),
            StreamRead::Blocked => Ok(FutureRead::Blocked),
            StreamRead::Dropped => Err(Error::usage("the future's writer is gone")),
        }
    }

    /// Drops the end (a reader may drop a future before its value comes:
    /// a pending write ends with `DROPPED`).
    pub fn drop(&self, mut store: impl AsContextMut) -> Result<()> {
        drop_end(&mut store, self.store_id, self.index, self.generation, true)
    }
}

fn drop_end(
    store: &mut impl AsContextMut,
    store_id: usize,
    index: u32,
    generation: u32,
    future: bool,
) -> Result<()> {
    let mut cx = store.as_context_mut();
    let data = cx.inner.data_mut();
    if data.id != store_id {
        return Err(stale(if future { "future" } else { "stream" }));
    }
    let id = data.host_end(index, generation, future)?;
    let state = data.async_state();
    let _ = state.host_ends.remove(index);
    super::streams::drop_host_end(state, id)
}

impl ErrorContextAny {
    /// The error context's debug message (empty when the runtime dropped
    /// it, as the `deterministic` build always does).
    pub fn debug_message(&self, mut store: impl AsContextMut) -> Result<String> {
        let mut cx = store.as_context_mut();
        let data = cx.inner.data_mut();
        let ec = host_error_context(data, self)?;
        super::error_context::message(data.async_state(), ec)
    }

    /// Drops the host's copy of the error context.
    pub fn drop(&self, mut store: impl AsContextMut) -> Result<()> {
        let mut cx = store.as_context_mut();
        let data = cx.inner.data_mut();
        let ec = host_error_context(data, self)?;
        let state = data.async_state();
        let _ = state.host_error_contexts.remove(self.index);
        super::error_context::release(state, ec)
    }
}

/// The writable end of a stream the host made ([`StreamAny::new`]): what it
/// writes waits in the stream (at most [`StreamWriter::MAX_BUFFERED`]
/// values at once) until the component holding the readable end reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamWriter {
    store_id: usize,
    index: u32,
    generation: u32,
}

/// The writable end of a future the host made ([`FutureAny::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FutureWriter {
    store_id: usize,
    index: u32,
    generation: u32,
}

/// What [`StreamWriter::write`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamWrite {
    /// The first `n` values were taken; the others did not fit (write
    /// them after the reader has read: run the store's tasks).
    Accepted(usize),
    /// The reader dropped its end: nothing was taken, nothing will be.
    Dropped,
}

/// Makes a stream or future the host writes to: the writer, and the
/// readable end's host index and generation.
fn new_host_pair<T>(data: &mut StoreData<T>, future: bool) -> Result<(u32, u32, u32, u32)> {
    let id = super::streams::host_new(data, future)?;
    let (g_reader, g_writer) = (data.next_async_generation(), data.next_async_generation());
    let state = data.async_state.get_or_insert_with(Default::default);
    let limiter = &mut data.limiter.0;
    let reader = state.host_ends.add_within(
        HostEnd {
            id,
            future,
            generation: g_reader,
        },
        crate::resources::MAX_HANDLES,
        |bytes| limiter.take_bytes(bytes),
    );
    let reader = match reader {
        Ok(r) => r,
        Err(e) => {
            let _ = state.streams.remove(id);
            return Err(e);
        }
    };
    let writer = state.host_writers.add_within(
        HostEnd {
            id,
            future,
            generation: g_writer,
        },
        crate::resources::MAX_HANDLES,
        |bytes| limiter.take_bytes(bytes),
    );
    let writer = match writer {
        Ok(w) => w,
        Err(e) => {
            let _ = state.host_ends.remove(reader);
            let _ = state.streams.remove(id);
            return Err(e);
        }
    };
    super::streams::set_host(state, id, Some(reader))?;
    super::streams::set_host_writer(state, id, Some(writer))?;
    Ok((reader, g_reader, writer, g_writer))
}

/// A host value's slab index and generation.
type HostSlot = (u32, u32);

/// Makes a stream (or future) the host writes to, in `store`: the store's
/// id, the reader's and the writer's slots.
fn host_pair(store: &mut impl AsContextMut, future: bool) -> Result<(usize, HostSlot, HostSlot)> {
    let mut cx = store.as_context_mut();
    let data = cx.inner.data_mut();
    let store_id = data.id;
    let (r, gr, w, gw) = new_host_pair(data, future)?;
    Ok((store_id, (r, gr), (w, gw)))
}

/// The stream behind a host writer of store `store_id`, checked to belong
/// to the store `cx` views.
fn writer_stream<T>(
    cx: &mut crate::StoreContextMut<'_, T>,
    store_id: usize,
    index: u32,
    generation: u32,
    future: bool,
) -> Result<u32> {
    if cx.inner.data().id != store_id {
        return Err(stale(if future {
            "future writer"
        } else {
            "stream writer"
        }));
    }
    cx.inner.data_mut().host_writer(index, generation, future)
}

impl<T> StoreData<T> {
    /// The stream behind host writer `(index, generation)`.
    fn host_writer(&mut self, index: u32, generation: u32, future: bool) -> Result<u32> {
        let what = if future {
            "future writer"
        } else {
            "stream writer"
        };
        if let Some(state) = self.async_state.as_deref_mut() {
            if let Ok(e) = state.host_writers.get(index) {
                if e.generation == generation && e.future == future {
                    return Ok(e.id);
                }
            }
        }
        Err(stale(what))
    }
}

impl StreamAny {
    /// Makes a stream in `store` whose writable end the host keeps: the
    /// writer, and the readable end to pass to a component (as a
    /// [`Val::Stream`]), which takes the element type of the parameter or
    /// result it is passed as. A value of another type is found when the
    /// component reads it, and traps the component with
    /// [`TrapKind::Host`](crate::TrapKind::Host).
    pub fn new(mut store: impl AsContextMut) -> Result<(StreamWriter, StreamAny)> {
        let (store_id, (index, generation), w) = host_pair(&mut store, false)?;
        let writer = StreamWriter {
            store_id,
            index: w.0,
            generation: w.1,
        };
        Ok((
            writer,
            StreamAny {
                store_id,
                index,
                generation,
            },
        ))
    }
}

impl StreamWriter {
    /// The most values a stream holds that the host wrote and the reader
    /// did not read yet.
    pub const MAX_BUFFERED: usize = 1 << 16;

    /// Writes `values`: they wait in the stream until the reader reads
    /// them (a reader that waits gets them at once). Takes at most what
    /// fits ([`StreamWriter::MAX_BUFFERED`] in all); never waits. Fails
    /// with a usage error if the writer was closed or belongs to another
    /// store.
    pub fn write<S: AsContextMut>(&self, mut store: S, values: &[Val]) -> Result<StreamWrite>
    where
        S::Data: 'static,
    {
        let mut cx = store.as_context_mut();
        let id = writer_stream(&mut cx, self.store_id, self.index, self.generation, false)?;
        Ok(
            match super::streams::host_write(&mut cx.inner, id, values, Self::MAX_BUFFERED)? {
                super::streams::HostWrite::Accepted(n) => StreamWrite::Accepted(n),
                super::streams::HostWrite::Dropped => StreamWrite::Dropped,
            },
        )
    }

    /// Closes the stream: once the reader has read what was written, its
    /// next read sees the end (`DROPPED`). The writer is then gone.
    pub fn close(&self, mut store: impl AsContextMut) -> Result<()> {
        close_writer(
            &mut store,
            self.store_id,
            self.index,
            self.generation,
            false,
        )
    }
}

impl FutureAny {
    /// Makes a future in `store` whose writable end the host keeps (see
    /// [`StreamAny::new`]).
    pub fn new(mut store: impl AsContextMut) -> Result<(FutureWriter, FutureAny)> {
        let (store_id, (index, generation), w) = host_pair(&mut store, true)?;
        let writer = FutureWriter {
            store_id,
            index: w.0,
            generation: w.1,
        };
        Ok((
            writer,
            FutureAny {
                store_id,
                index,
                generation,
            },
        ))
    }
}

impl FutureWriter {
    /// Writes the future's value (`None` for an untyped `future`) and
    /// closes the writer; returns `false` if the reader dropped its end
    /// (the value is not delivered). Fails with a usage error if the
    /// writer was used already or belongs to another store.
    pub fn write<S: AsContextMut>(&self, mut store: S, value: Option<Val>) -> Result<bool>
    where
        S::Data: 'static,
    {
        let mut cx = store.as_context_mut();
        let id = writer_stream(&mut cx, self.store_id, self.index, self.generation, true)?;
        let v = value.unwrap_or(Val::Tuple(alloc::vec::Vec::new()));
        let r = super::streams::host_write(&mut cx.inner, id, core::slice::from_ref(&v), 1)?;
        close_writer(&mut store, self.store_id, self.index, self.generation, true)?;
        Ok(r == super::streams::HostWrite::Accepted(1))
    }
}

fn close_writer(
    store: &mut impl AsContextMut,
    store_id: usize,
    index: u32,
    generation: u32,
    future: bool,
) -> Result<()> {
    let mut cx = store.as_context_mut();
    let data = cx.inner.data_mut();
    if data.id != store_id {
        return Err(stale(if future {
            "future writer"
        } else {
            "stream writer"
        }));
    }
    let id = data.host_writer(index, generation, future)?;
    let state = data.async_state();
    let _ = state.host_writers.remove(index);
    super::streams::host_close(state, id)
}
