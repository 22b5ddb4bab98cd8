//! The WASI context ([`WasiCtx`]) and its builder ([`WasiCtxBuilder`]).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::clocks::{
    MonotonicClock, VirtualMonotonicClock, VirtualWallClock, WallClock, DETERMINISTIC_EPOCH,
};
use crate::filesystem::memory::MemoryDir;
use crate::filesystem::types::DescriptorFlags;
use crate::filesystem::vfs::{Node, Vfs};
use crate::random::{RandomSource, SeededRandom};
use crate::stdio::{Input, Output, OutputSink};
use crate::table::Table;

/// What a guest may do in a preopened directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirAccess {
    /// Read files and list directories; every change fails with
    /// `read-only` (`not-permitted` for links).
    ReadOnly,
    /// Read, write, create, remove, rename and link inside it.
    ReadWrite,
}

impl DirAccess {
    fn flags(self) -> DescriptorFlags {
        match self {
            DirAccess::ReadOnly => DescriptorFlags::READ,
            DirAccess::ReadWrite => {
                DescriptorFlags::READ | DescriptorFlags::WRITE | DescriptorFlags::MUTATE_DIRECTORY
            }
        }
    }
}

/// A filesystem backend of the context.
pub(crate) enum Backend {
    Memory(MemoryDir),
    #[cfg(feature = "std")]
    Host(crate::filesystem::host::HostDir),
}

impl Backend {
    pub(crate) fn vfs(&self) -> &dyn Vfs {
        match self {
            Backend::Memory(m) => m,
            #[cfg(feature = "std")]
            Backend::Host(h) => h,
        }
    }

    pub(crate) fn vfs_mut(&mut self) -> &mut dyn Vfs {
        match self {
            Backend::Memory(m) => m,
            #[cfg(feature = "std")]
            Backend::Host(h) => h,
        }
    }

    fn root(&self) -> Node {
        match self {
            Backend::Memory(_) => Node::Mem(0),
            #[cfg(feature = "std")]
            Backend::Host(h) => h.root(),
        }
    }
}

/// A preopened directory.
pub(crate) struct Preopen {
    pub fs: usize,
    pub root: Node,
    pub guest_path: String,
    pub flags: DescriptorFlags,
}

/// The default cap on live WASI resources (descriptors, streams,
/// pollables, …) per context.
pub const DEFAULT_MAX_RESOURCES: usize = 1024;
/// The default cap on bytes one read returns.
pub const DEFAULT_MAX_READ: usize = 1 << 20;

/// The state of one guest's WASI world: arguments, environment, stdio,
/// preopened directories, clocks, randomness and the resources the guest
/// holds. Build it with [`WasiCtxBuilder`], keep it in the store's data and
/// reach it through [`WasiView`](crate::WasiView).
pub struct WasiCtx {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) cwd: Option<String>,
    pub(crate) stdin: Input,
    pub(crate) stdout: Output,
    pub(crate) stderr: Output,
    pub(crate) backends: Vec<Backend>,
    pub(crate) preopens: Vec<Preopen>,
    pub(crate) wall: Box<dyn WallClock>,
    pub(crate) mono: Box<dyn MonotonicClock>,
    pub(crate) random: Box<dyn RandomSource>,
    pub(crate) insecure: Box<dyn RandomSource>,
    pub(crate) insecure_seed: (u64, u64),
    pub(crate) table: Table,
    pub(crate) max_read: usize,
    pub(crate) exit_code: Option<i32>,
}

impl WasiCtx {
    /// A builder with nothing granted (see [`WasiCtxBuilder::new`]).
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::new()
    }

    /// The code the guest passed to `wasi:cli/exit` (`exit(ok)` is 0,
    /// `exit(err)` is 1), or `None` if it did not exit. When a call traps
    /// and this is `Some`, the trap was the exit, not a failure.
    pub fn exit_code(&self) -> Option<i32> {
        self.exit_code
    }

    /// What the guest wrote to stdout, if stdout is captured.
    pub fn stdout(&self) -> Option<&[u8]> {
        self.stdout.captured()
    }

    /// What the guest wrote to stderr, if stderr is captured.
    pub fn stderr(&self) -> Option<&[u8]> {
        self.stderr.captured()
    }

    /// The in-memory tree preopened at `guest_path`, e.g. to read what the
    /// guest wrote; `None` if there is none.
    pub fn memory_dir(&self, guest_path: &str) -> Option<&MemoryDir> {
        let p = self.preopens.iter().find(|p| p.guest_path == guest_path)?;
        match self.backends.get(p.fs)? {
            Backend::Memory(m) => Some(m),
            #[cfg(feature = "std")]
            Backend::Host(_) => None,
        }
    }

    /// The number of WASI resources the guest holds now.
    pub fn live_resources(&self) -> usize {
        self.table.live()
    }
}

/// Builds a [`WasiCtx`]. Nothing is granted unless asked for: no
/// arguments, no environment, an empty stdin, stdout and stderr discarded,
/// no directories. Clocks and randomness default to the host's with feature
/// `std` and to the deterministic profile's (seed 0) without it.
pub struct WasiCtxBuilder {
    args: Vec<String>,
    env: Vec<(String, String)>,
    cwd: Option<String>,
    stdin: Input,
    stdout: Output,
    stderr: Output,
    backends: Vec<Backend>,
    preopens: Vec<Preopen>,
    wall: Option<Box<dyn WallClock>>,
    mono: Option<Box<dyn MonotonicClock>>,
    random: Option<Box<dyn RandomSource>>,
    insecure: Option<Box<dyn RandomSource>>,
    insecure_seed: Option<(u64, u64)>,
    max_resources: usize,
    max_read: usize,
}

impl Default for WasiCtxBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// The clocks and random sources of a context.
type Sources = (
    Box<dyn WallClock>,
    Box<dyn MonotonicClock>,
    Box<dyn RandomSource>,
    Box<dyn RandomSource>,
);

/// The step of the deterministic profile's clocks: 1 µs per reading.
pub const DETERMINISTIC_STEP_NANOS: u64 = 1_000;

impl WasiCtxBuilder {
    /// A builder granting nothing (see the type's documentation).
    pub fn new() -> Self {
        WasiCtxBuilder {
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            stdin: Input::Empty,
            stdout: Output::Null,
            stderr: Output::Null,
            backends: Vec::new(),
            preopens: Vec::new(),
            wall: None,
            mono: None,
            random: None,
            insecure: None,
            insecure_seed: None,
            max_resources: DEFAULT_MAX_RESOURCES,
            max_read: DEFAULT_MAX_READ,
        }
    }

    /// The deterministic profile: a virtual wall clock starting at
    /// 2000-01-01T00:00:00Z and a virtual monotonic clock starting at 0,
    /// both advancing [`DETERMINISTIC_STEP_NANOS`] per reading (and the
    /// monotonic one jumping to the deadline of a timer the guest waits on,
    /// without sleeping); all randomness from a [`SeededRandom`] of `seed`.
    /// Directory listings are always sorted, and no host directory is
    /// reachable unless preopened. Later calls may override single parts.
    pub fn deterministic(&mut self, seed: u64) -> &mut Self {
        self.wall = Some(Box::new(VirtualWallClock::new(
            DETERMINISTIC_EPOCH,
            DETERMINISTIC_STEP_NANOS,
        )));
        self.mono = Some(Box::new(VirtualMonotonicClock::new(
            DETERMINISTIC_STEP_NANOS,
        )));
        self.random = Some(Box::new(SeededRandom::new(seed)));
        self.insecure = Some(Box::new(SeededRandom::new(seed ^ 0x5555_5555_5555_5555)));
        let mut s = SeededRandom::new(seed ^ 0xAAAA_AAAA_AAAA_AAAA);
        self.insecure_seed = Some((s.next_u64(), s.next_u64()));
        self
    }

    /// Appends one argument (the first is conventionally the program name).
    pub fn arg(&mut self, arg: impl Into<String>) -> &mut Self {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    pub fn args<S: Into<String>>(&mut self, args: impl IntoIterator<Item = S>) -> &mut Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds environment variable `key=value`.
    pub fn env(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Adds environment variables.
    pub fn envs<K: Into<String>, V: Into<String>>(
        &mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> &mut Self {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// The directory `wasi:cli/environment.initial-cwd` reports (none by
    /// default). It only names a directory; it grants nothing.
    pub fn initial_cwd(&mut self, cwd: impl Into<String>) -> &mut Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// Stdin reads `bytes`, then reports the stream closed.
    pub fn stdin_bytes(&mut self, bytes: impl Into<Vec<u8>>) -> &mut Self {
        self.stdin = Input::Bytes {
            data: bytes.into(),
            pos: 0,
        };
        self
    }

    /// Stdin reads from `reader` (a read blocks the guest until it returns).
    #[cfg(feature = "std")]
    pub fn stdin_reader(&mut self, reader: impl std::io::Read + Send + 'static) -> &mut Self {
        self.stdin = Input::Reader(Box::new(reader));
        self
    }

    /// Stdin is the host process's stdin.
    #[cfg(feature = "std")]
    pub fn inherit_stdin(&mut self) -> &mut Self {
        self.stdin = Input::Inherit;
        self
    }

    /// Stdout is kept in memory, up to `max_bytes` (read it with
    /// [`WasiCtx::stdout`]). A write past the cap keeps what fits and fails
    /// for the guest; the host is not affected.
    pub fn capture_stdout(&mut self, max_bytes: usize) -> &mut Self {
        self.stdout = Output::Capture {
            buf: Vec::new(),
            cap: max_bytes,
        };
        self
    }

    /// Stderr is kept in memory, up to `max_bytes` (see
    /// [`capture_stdout`](Self::capture_stdout)).
    pub fn capture_stderr(&mut self, max_bytes: usize) -> &mut Self {
        self.stderr = Output::Capture {
            buf: Vec::new(),
            cap: max_bytes,
        };
        self
    }

    /// Stdout goes to `sink`.
    pub fn stdout_sink(&mut self, sink: impl OutputSink + 'static) -> &mut Self {
        self.stdout = Output::Sink(Box::new(sink));
        self
    }

    /// Stderr goes to `sink`.
    pub fn stderr_sink(&mut self, sink: impl OutputSink + 'static) -> &mut Self {
        self.stderr = Output::Sink(Box::new(sink));
        self
    }

    /// Stdout is the host process's stdout.
    #[cfg(feature = "std")]
    pub fn inherit_stdout(&mut self) -> &mut Self {
        self.stdout = Output::InheritStdout;
        self
    }

    /// Stderr is the host process's stderr.
    #[cfg(feature = "std")]
    pub fn inherit_stderr(&mut self) -> &mut Self {
        self.stderr = Output::InheritStderr;
        self
    }

    /// Stdin, stdout and stderr are the host process's.
    #[cfg(feature = "std")]
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }

    /// Preopens host directory `host_path` as `guest_path` with `access`.
    /// The guest reaches nothing outside it (see the crate documentation
    /// for the rules). Fails if `host_path` is not a readable directory.
    #[cfg(feature = "std")]
    pub fn preopened_dir(
        &mut self,
        host_path: impl AsRef<std::path::Path>,
        guest_path: impl Into<String>,
        access: DirAccess,
    ) -> std::io::Result<&mut Self> {
        let dir = crate::filesystem::host::HostDir::new(host_path.as_ref())?;
        self.add_backend(Backend::Host(dir), guest_path.into(), access);
        Ok(self)
    }

    /// Preopens the in-memory tree `dir` as `guest_path` with `access`
    /// (read it back after the run with [`WasiCtx::memory_dir`]).
    pub fn preopened_memory_dir(
        &mut self,
        dir: MemoryDir,
        guest_path: impl Into<String>,
        access: DirAccess,
    ) -> &mut Self {
        self.add_backend(Backend::Memory(dir), guest_path.into(), access);
        self
    }

    fn add_backend(&mut self, b: Backend, guest_path: String, access: DirAccess) {
        let root = b.root();
        self.backends.push(b);
        self.preopens.push(Preopen {
            fs: self.backends.len() - 1,
            root,
            guest_path,
            flags: access.flags(),
        });
    }

    /// The wall clock.
    pub fn wall_clock(&mut self, clock: impl WallClock + 'static) -> &mut Self {
        self.wall = Some(Box::new(clock));
        self
    }

    /// The monotonic clock (also the one timers wait on).
    pub fn monotonic_clock(&mut self, clock: impl MonotonicClock + 'static) -> &mut Self {
        self.mono = Some(Box::new(clock));
        self
    }

    /// The source of `wasi:random/random`.
    pub fn secure_random(&mut self, source: impl RandomSource + 'static) -> &mut Self {
        self.random = Some(Box::new(source));
        self
    }

    /// The source of `wasi:random/insecure`.
    pub fn insecure_random(&mut self, source: impl RandomSource + 'static) -> &mut Self {
        self.insecure = Some(Box::new(source));
        self
    }

    /// The value of `wasi:random/insecure-seed`.
    pub fn insecure_random_seed(&mut self, seed: (u64, u64)) -> &mut Self {
        self.insecure_seed = Some(seed);
        self
    }

    /// The cap on live WASI resources (descriptors, streams, pollables, …;
    /// default [`DEFAULT_MAX_RESOURCES`]). Past it, opening a file or
    /// directory, a file stream or a directory listing fails with
    /// `insufficient-memory`; stdio streams, pollables and errors may use
    /// 256 more, after which the call that would make one traps the guest
    /// (their WIT functions have no error case). The host keeps running.
    pub fn max_resources(&mut self, n: usize) -> &mut Self {
        self.max_resources = n;
        self
    }

    /// The most bytes one read returns (default [`DEFAULT_MAX_READ`]); a
    /// guest asking for more gets fewer, as WASI allows.
    pub fn max_read(&mut self, bytes: usize) -> &mut Self {
        self.max_read = bytes.max(1);
        self
    }

    /// The context. The builder is left empty, as from [`new`](Self::new).
    pub fn build(&mut self) -> WasiCtx {
        let b = core::mem::take(self);
        #[cfg(feature = "std")]
        let (wall, mono, random, insecure): Sources = (
            b.wall
                .unwrap_or_else(|| Box::new(crate::clocks::HostWallClock)),
            b.mono
                .unwrap_or_else(|| Box::new(crate::clocks::HostMonotonicClock::default())),
            b.random
                .unwrap_or_else(|| Box::new(crate::random::OsRandom::new())),
            b.insecure
                .unwrap_or_else(|| Box::new(crate::random::OsRandom::new())),
        );
        #[cfg(not(feature = "std"))]
        let (wall, mono, random, insecure): Sources = (
            b.wall.unwrap_or_else(|| {
                Box::new(VirtualWallClock::new(
                    DETERMINISTIC_EPOCH,
                    DETERMINISTIC_STEP_NANOS,
                ))
            }),
            b.mono
                .unwrap_or_else(|| Box::new(VirtualMonotonicClock::new(DETERMINISTIC_STEP_NANOS))),
            b.random.unwrap_or_else(|| Box::new(SeededRandom::new(0))),
            b.insecure.unwrap_or_else(|| Box::new(SeededRandom::new(1))),
        );
        let mut insecure = insecure;
        let insecure_seed = b
            .insecure_seed
            .unwrap_or_else(|| (insecure.next_u64(), insecure.next_u64()));
        WasiCtx {
            args: b.args,
            env: b.env,
            cwd: b.cwd,
            stdin: b.stdin,
            stdout: b.stdout,
            stderr: b.stderr,
            backends: b.backends,
            preopens: b.preopens,
            wall,
            mono,
            random,
            insecure,
            insecure_seed,
            table: Table::new(b.max_resources),
            max_read: b.max_read,
            exit_code: None,
        }
    }
}

impl WasiCtx {
    /// The guest path names of the preopened directories, in order.
    pub fn preopen_names(&self) -> impl Iterator<Item = &str> {
        self.preopens.iter().map(|p| p.guest_path.as_str())
    }
}
