//! Standard input and output as the context holds them: where stdin's
//! bytes come from and where stdout's and stderr's go.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// A host destination for a guest's stdout or stderr.
pub trait OutputSink: Send {
    /// Takes `bytes` the guest wrote. An `Err` reaches the guest as a
    /// failed write (`stream-error.last-operation-failed`) with the message.
    fn write(&mut self, bytes: &[u8]) -> Result<(), String>;
    /// Flushes buffered bytes, if the sink buffers.
    fn flush(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// A host source for a guest's stdin (feature `std`: any `std::io::Read`).
#[cfg(feature = "std")]
pub type InputReader = Box<dyn std::io::Read + Send>;

/// Where stdin comes from.
pub(crate) enum Input {
    /// No input: reads report the stream closed.
    Empty,
    /// Fixed bytes, read from `pos`.
    Bytes { data: Vec<u8>, pos: usize },
    /// A host reader.
    #[cfg(feature = "std")]
    Reader(InputReader),
    /// The host process's stdin.
    #[cfg(feature = "std")]
    Inherit,
}

/// The result of reading stdin.
pub(crate) enum ReadOutcome {
    Data(Vec<u8>),
    Closed,
    /// Only host readers fail.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    Failed(String),
}

impl Input {
    /// Reads up to `len` bytes (at least one unless the input is closed).
    pub(crate) fn read(&mut self, len: usize) -> ReadOutcome {
        match self {
            Input::Empty => ReadOutcome::Closed,
            Input::Bytes { data, pos } => {
                let rest = data.get(*pos..).unwrap_or(&[]);
                if rest.is_empty() {
                    return ReadOutcome::Closed;
                }
                let n = rest.len().min(len);
                let out = rest[..n].to_vec();
                *pos += n;
                ReadOutcome::Data(out)
            }
            #[cfg(feature = "std")]
            Input::Reader(r) => read_from(&mut **r, len),
            #[cfg(feature = "std")]
            Input::Inherit => read_from(&mut std::io::stdin().lock(), len),
        }
    }
}

#[cfg(feature = "std")]
fn read_from(r: &mut dyn std::io::Read, len: usize) -> ReadOutcome {
    let mut buf = alloc::vec![0u8; len];
    loop {
        match r.read(&mut buf) {
            Ok(0) if len > 0 => return ReadOutcome::Closed,
            Ok(n) => {
                buf.truncate(n);
                return ReadOutcome::Data(buf);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return ReadOutcome::Failed(alloc::format!("{e}")),
        }
    }
}

/// Where stdout or stderr goes.
pub(crate) enum Output {
    /// Discarded.
    Null,
    /// Kept in memory, up to `cap` bytes.
    Capture { buf: Vec<u8>, cap: usize },
    /// A host sink.
    Sink(Box<dyn OutputSink>),
    /// The host process's stdout.
    #[cfg(feature = "std")]
    InheritStdout,
    /// The host process's stderr.
    #[cfg(feature = "std")]
    InheritStderr,
}

impl Output {
    /// Writes all of `bytes`, or fails with a message (a capture past its
    /// cap keeps what fits and fails).
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        match self {
            Output::Null => Ok(()),
            Output::Capture { buf, cap } => {
                let room = cap.saturating_sub(buf.len());
                if bytes.len() > room {
                    buf.extend_from_slice(&bytes[..room]);
                    return Err(alloc::format!("captured output is limited to {cap} bytes"));
                }
                buf.extend_from_slice(bytes);
                Ok(())
            }
            Output::Sink(s) => s.write(bytes),
            #[cfg(feature = "std")]
            Output::InheritStdout => {
                use std::io::Write;
                std::io::stdout()
                    .write_all(bytes)
                    .map_err(|e| alloc::format!("{e}"))
            }
            #[cfg(feature = "std")]
            Output::InheritStderr => {
                use std::io::Write;
                std::io::stderr()
                    .write_all(bytes)
                    .map_err(|e| alloc::format!("{e}"))
            }
        }
    }

    /// Flushes the destination.
    pub(crate) fn flush(&mut self) -> Result<(), String> {
        match self {
            Output::Null | Output::Capture { .. } => Ok(()),
            Output::Sink(s) => s.flush(),
            #[cfg(feature = "std")]
            Output::InheritStdout => {
                use std::io::Write;
                std::io::stdout().flush().map_err(|e| alloc::format!("{e}"))
            }
            #[cfg(feature = "std")]
            Output::InheritStderr => {
                use std::io::Write;
                std::io::stderr().flush().map_err(|e| alloc::format!("{e}"))
            }
        }
    }

    /// Bytes a capture may still take; `None` if unlimited.
    pub(crate) fn room(&self) -> Option<usize> {
        match self {
            Output::Capture { buf, cap } => Some(cap.saturating_sub(buf.len())),
            _ => None,
        }
    }

    /// The captured bytes, if this is a capture.
    pub(crate) fn captured(&self) -> Option<&[u8]> {
        match self {
            Output::Capture { buf, .. } => Some(buf),
            _ => None,
        }
    }

    /// True if this is the host's terminal.
    pub(crate) fn is_terminal(&self) -> bool {
        match self {
            #[cfg(feature = "std")]
            Output::InheritStdout => std::io::IsTerminal::is_terminal(&std::io::stdout()),
            #[cfg(feature = "std")]
            Output::InheritStderr => std::io::IsTerminal::is_terminal(&std::io::stderr()),
            _ => false,
        }
    }
}

impl Input {
    /// True if this is the host's terminal.
    pub(crate) fn is_terminal(&self) -> bool {
        match self {
            #[cfg(feature = "std")]
            Input::Inherit => std::io::IsTerminal::is_terminal(&std::io::stdin()),
            _ => false,
        }
    }
}
