//! Why a run did not end with the guest's own exit code, the message
//! printed for it, and the process exit code.

use componentry::{Error, ErrorKind};

/// The exit code of a trap: 128 + SIGABRT, as `wasmtime run` exits on Unix.
pub const TRAP_EXIT: i32 = 134;
/// The exit code when the guest could not be run (unreadable or invalid
/// file, missing import, bad `--invoke`).
pub const SETUP_EXIT: i32 = 1;

/// A run that failed.
#[derive(Debug)]
pub enum Failure {
    /// Before the guest ran: reading, loading, linking, a bad `--invoke`.
    Setup(String),
    /// The guest trapped while it ran, or the call failed (e.g. a host
    /// function's error).
    Run(Error),
}

impl Failure {
    /// A failed instantiation: a missing or mismatched import is a setup
    /// failure naming the import; a trap in a start function is a trap.
    pub fn from_instantiate(path: &str, e: Error) -> Failure {
        match e.kind() {
            ErrorKind::Trap(_) => Failure::Run(e),
            ErrorKind::Link => Failure::Setup(format!(
                "cannot instantiate {path}: {} (componentry provides WASI 0.2 only; \
                 a component importing anything else cannot run with this command)",
                e
            )),
            _ => Failure::Setup(format!("cannot instantiate {path}: {e}")),
        }
    }

    /// The message for stderr.
    pub fn message(&self) -> String {
        match self {
            Failure::Setup(m) => m.clone(),
            Failure::Run(e) => match e.trap_kind() {
                Some(kind) => format!("the guest trapped ({}): {}", kind.as_str(), e.message()),
                None => format!("the call failed: {e}"),
            },
        }
    }

    /// The process exit code.
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Setup(_) => SETUP_EXIT,
            Failure::Run(e) if e.is_trap() => TRAP_EXIT,
            Failure::Run(_) => SETUP_EXIT,
        }
    }
}
