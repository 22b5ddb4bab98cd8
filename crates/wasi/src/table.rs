//! The context's resource table: every WASI resource the guest holds, in
//! one table with a cap on live entries.

use alloc::collections::VecDeque;
use alloc::string::String;

use componentry::{Error, Resource, ResourceTable, TrapKind};

use crate::filesystem::types::{DescriptorFlags, DescriptorType, DirectoryEntry, ErrorCode};
use crate::filesystem::vfs::Node;

/// Marker types naming the WASI resource types in the linker
/// (`ResourceType::host::<…>()`) and in [`Resource`] handles.
pub(crate) mod markers {
    /// `wasi:io/error.error`
    pub enum IoError {}
    /// `wasi:io/poll.pollable`
    pub enum Pollable {}
    /// `wasi:io/streams.input-stream`
    pub enum InputStream {}
    /// `wasi:io/streams.output-stream`
    pub enum OutputStream {}
    /// `wasi:filesystem/types.descriptor`
    pub enum Descriptor {}
    /// `wasi:filesystem/types.directory-entry-stream`
    pub enum DirectoryEntryStream {}
    /// `wasi:cli/terminal-input.terminal-input`
    pub enum TerminalInput {}
    /// `wasi:cli/terminal-output.terminal-output`
    pub enum TerminalOutput {}
    /// `wasi:sockets/network.network`
    pub enum Network {}
    /// `wasi:sockets/tcp.tcp-socket`
    pub enum TcpSocket {}
    /// `wasi:sockets/udp.udp-socket`
    pub enum UdpSocket {}
    /// `wasi:sockets/udp.incoming-datagram-stream`
    pub enum IncomingDatagramStream {}
    /// `wasi:sockets/udp.outgoing-datagram-stream`
    pub enum OutgoingDatagramStream {}
    /// `wasi:sockets/ip-name-lookup.resolve-address-stream`
    pub enum ResolveAddressStream {}
}

/// What a pollable waits for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Poll {
    /// Always ready (streams: every operation completes at once).
    Ready,
    /// Ready once the monotonic clock reaches the instant.
    Deadline(u64),
}

/// Where an input stream reads from.
#[derive(Debug)]
pub(crate) enum InputStream {
    Stdin,
    File { fs: usize, node: Node, offset: u64 },
}

/// Where an output stream writes to.
#[derive(Debug)]
pub(crate) enum OutputStream {
    Stdout,
    Stderr,
    /// `offset`: `None` appends.
    File {
        fs: usize,
        node: Node,
        offset: Option<u64>,
    },
}

/// An open file or directory.
#[derive(Debug)]
pub(crate) struct Descriptor {
    /// The backend (index into the context's filesystems).
    pub fs: usize,
    pub node: Node,
    pub kind: DescriptorType,
    /// What the guest may do through it.
    pub flags: DescriptorFlags,
}

/// One resource the guest holds.
#[derive(Debug)]
pub(crate) enum Entry {
    Error {
        message: String,
        code: Option<ErrorCode>,
    },
    Pollable(Poll),
    Input(InputStream),
    Output(OutputStream),
    Descriptor(Descriptor),
    DirStream(VecDeque<DirectoryEntry>),
    TerminalInput,
    TerminalOutput,
    Network,
}

/// How many entries past the cap the table still takes for resources that
/// are not files (stdio streams, pollables, errors), so a guest that hit the
/// cap on open files can still print and wait.
pub(crate) const HEADROOM: usize = 256;

/// The resource table, counting live entries against a cap.
pub(crate) struct Table {
    inner: ResourceTable<Entry>,
    live: usize,
    max: usize,
}

/// The error for a handle whose entry is not of the expected kind (the
/// component model's type checks make this unreachable for guests).
pub(crate) fn wrong_kind() -> Error {
    Error::trap(
        TrapKind::WrongResourceType,
        "a WASI handle refers to a resource of another type",
    )
}

impl Table {
    pub(crate) fn new(max: usize) -> Self {
        Table {
            inner: ResourceTable::new(),
            live: 0,
            max,
        }
    }

    /// True if another file, directory or directory stream fits under the
    /// cap (operations that open one fail with an error code otherwise).
    pub(crate) fn has_room(&self) -> bool {
        self.live < self.max
    }

    /// Adds `e`; fails (a trap for the guest) past the cap plus
    /// [`HEADROOM`].
    pub(crate) fn push<T: 'static>(&mut self, e: Entry) -> componentry::Result<Resource<T>> {
        if self.live >= self.max.saturating_add(HEADROOM) {
            return Err(Error::trap(
                TrapKind::LimitExceeded,
                alloc::format!(
                    "WASI resource limit reached: at most {} open resources",
                    self.max.saturating_add(HEADROOM)
                ),
            ));
        }
        let r = self.inner.push(e)?;
        self.live += 1;
        Ok(r)
    }

    pub(crate) fn get<T: 'static>(&self, r: &Resource<T>) -> componentry::Result<&Entry> {
        self.inner.get(r)
    }

    pub(crate) fn get_mut<T: 'static>(
        &mut self,
        r: &Resource<T>,
    ) -> componentry::Result<&mut Entry> {
        self.inner.get_mut(r)
    }

    /// Removes the entry with representation `rep` (a destructor).
    pub(crate) fn delete<T: 'static>(&mut self, rep: u32) -> componentry::Result<Entry> {
        let e = self.inner.delete(Resource::<T>::new_own(rep))?;
        self.live = self.live.saturating_sub(1);
        Ok(e)
    }

    /// The number of live entries.
    pub(crate) fn live(&self) -> usize {
        self.live
    }
}

/// Defines the WASI resource type `M` as `name` in linker instance `i`:
/// its destructor removes the entry from the context's table. Each
/// interface that `use`s a resource imports it again, so the same type is
/// defined in every such instance.
pub(crate) fn define<T: crate::WasiView, M: 'static>(
    i: &mut componentry::LinkerInstance<'_, T>,
    name: &str,
) -> componentry::Result<()> {
    i.resource(
        name,
        componentry::ResourceType::host::<M>(),
        |mut cx: componentry::StoreContextMut<'_, T>, rep| {
            cx.data_mut().wasi().table.delete::<M>(rep).map(drop)
        },
    )
}
