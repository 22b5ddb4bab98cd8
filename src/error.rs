//! The one error type of the crate: load, link, trap and unsupported errors.

use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;

/// Shorthand for `core::result::Result<T, componentry::Error>`.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// What kind of trap happened. Traps are what the spec calls `trap()`: the
/// component broke a rule of the canonical ABI, or core wasm trapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrapKind {
    /// Core wasm executed `unreachable`.
    Unreachable,
    /// A core wasm memory access out of bounds.
    MemoryOutOfBounds,
    /// A core wasm table access out of bounds.
    TableOutOfBounds,
    /// `call_indirect` on a null entry.
    IndirectCallToNull,
    /// `call_indirect` with the wrong signature.
    BadSignature,
    /// Integer division by zero.
    IntegerDivisionByZero,
    /// Integer overflow (e.g. `i32.div_s` of `MIN / -1`).
    IntegerOverflow,
    /// Float to integer conversion of NaN or out-of-range value.
    BadConversionToInteger,
    /// The call stack was exhausted.
    StackOverflow,
    /// Fuel ran out.
    OutOfFuel,
    /// Growing memory or a table failed where the spec traps.
    GrowthOperationLimited,
    /// A pointer passed across the boundary is not aligned for its type.
    UnalignedPointer,
    /// A pointer and length passed across the boundary reach outside linear memory.
    PointerOutOfBounds,
    /// A variant, enum, option or result discriminant is out of range.
    InvalidDiscriminant,
    /// An `i32` is not a Unicode scalar value where a `char` is expected.
    InvalidChar,
    /// String bytes are not valid in their declared encoding.
    InvalidEncoding,
    /// A string or list is longer than 2^28-1 bytes.
    LengthTooLarge,
    /// A component instance was entered while it may not be (reentrance).
    CannotEnter,
    /// A component instance tried to leave (call out) while it may not
    /// (e.g. from `realloc` or `post-return`).
    CannotLeave,
    /// A component instance that trapped earlier was called again.
    Poisoned,
    /// A resource handle index is not in the instance's table.
    InvalidHandle,
    /// A handle is of another resource type than expected.
    WrongResourceType,
    /// An `own` handle was expected but a `borrow` was given, or vice versa.
    WrongHandleKind,
    /// An owned handle was moved or dropped while borrows of it were lent out.
    HandleLent,
    /// A call returned while still holding borrowed handles.
    BorrowsOutstanding,
    /// A handle table would grow past 2^28-1 entries.
    TooManyHandles,
    /// A configured limit was reached (the message names it).
    LimitExceeded,
    /// A handle given to an async built-in is not of the kind it takes
    /// (a waitable set, a waitable, a stream or future end). Feature `async`.
    #[cfg(feature = "async")]
    WrongAsyncHandle,
    /// A rule of the component model's async ABI was broken (the message
    /// names it): backpressure over- or underflow, dropping a waitable set
    /// in use, ... Feature `async`.
    #[cfg(feature = "async")]
    AsyncRule,
    /// Every task left waits for an event nothing can send (the spec's
    /// "deadlock detected"). Feature `async`.
    #[cfg(feature = "async")]
    Deadlock,
    /// A host function returned an error.
    Host,
    /// Any other trap (the message says which).
    Other,
}

impl TrapKind {
    /// A short, stable name for the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            TrapKind::Unreachable => "unreachable",
            TrapKind::MemoryOutOfBounds => "memory out of bounds",
            TrapKind::TableOutOfBounds => "table out of bounds",
            TrapKind::IndirectCallToNull => "indirect call to null",
            TrapKind::BadSignature => "bad signature",
            TrapKind::IntegerDivisionByZero => "integer division by zero",
            TrapKind::IntegerOverflow => "integer overflow",
            TrapKind::BadConversionToInteger => "bad conversion to integer",
            TrapKind::StackOverflow => "stack overflow",
            TrapKind::OutOfFuel => "out of fuel",
            TrapKind::GrowthOperationLimited => "growth operation limited",
            TrapKind::UnalignedPointer => "unaligned pointer",
            TrapKind::PointerOutOfBounds => "pointer out of bounds",
            TrapKind::InvalidDiscriminant => "invalid discriminant",
            TrapKind::InvalidChar => "invalid char",
            TrapKind::InvalidEncoding => "invalid string encoding",
            TrapKind::LengthTooLarge => "length too large",
            TrapKind::CannotEnter => "cannot enter component instance",
            TrapKind::CannotLeave => "cannot leave component instance",
            TrapKind::Poisoned => "instance poisoned by an earlier trap",
            TrapKind::InvalidHandle => "invalid handle",
            TrapKind::WrongResourceType => "wrong resource type",
            TrapKind::WrongHandleKind => "wrong handle kind",
            TrapKind::HandleLent => "handle has outstanding borrows",
            TrapKind::BorrowsOutstanding => "borrowed handles not dropped before return",
            TrapKind::TooManyHandles => "too many handles",
            TrapKind::LimitExceeded => "limit exceeded",
            #[cfg(feature = "async")]
            TrapKind::WrongAsyncHandle => "wrong async handle kind",
            #[cfg(feature = "async")]
            TrapKind::AsyncRule => "async ABI rule broken",
            #[cfg(feature = "async")]
            TrapKind::Deadlock => "deadlock",
            TrapKind::Host => "host error",
            TrapKind::Other => "trap",
        }
    }
}

/// Which phase an [`Error`] comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The component binary is malformed or invalid. `offset` is the byte
    /// offset in the binary where the problem was found.
    Load {
        /// Byte offset into the component binary.
        offset: usize,
    },
    /// The component uses a feature componentry does not implement (yet).
    Unsupported,
    /// An import could not be satisfied: missing, or of the wrong kind/type.
    Link,
    /// A trap during instantiation or a call.
    Trap(TrapKind),
    /// The API was used wrongly: wrong number or type of arguments, a value
    /// that does not match its type, a store that does not own the item.
    Usage,
}

/// The error type of every fallible operation in this crate.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
            }),
        }
    }

    /// A load error at byte `offset`.
    pub fn load(offset: usize, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Load { offset }, message)
    }

    /// An "unsupported: …" error.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }

    /// A link error. The message names the import path and both types.
    pub fn link(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Link, message)
    }

    /// A trap of `kind`.
    pub fn trap(kind: TrapKind, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Trap(kind), message)
    }

    /// An API usage error (bad argument count or type, foreign store, …).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    /// An error raised by a host function; becomes a trap of kind
    /// [`TrapKind::Host`] in the calling component.
    pub fn host(message: impl Into<String>) -> Self {
        Self::trap(TrapKind::Host, message)
    }

    /// The phase and details of the error.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The trap kind, if this is a trap.
    pub fn trap_kind(&self) -> Option<TrapKind> {
        match self.inner.kind {
            ErrorKind::Trap(k) => Some(k),
            _ => None,
        }
    }

    /// True if this is a trap.
    pub fn is_trap(&self) -> bool {
        self.trap_kind().is_some()
    }

    /// Prefixes the message with `what` (e.g. the argument it is about).
    pub(crate) fn context(mut self, what: impl fmt::Display) -> Self {
        self.inner.message = alloc::format!("{what}: {}", self.inner.message);
        self
    }

    /// The human-readable message (without the kind prefix).
    pub fn message(&self) -> &str {
        &self.inner.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.kind {
            ErrorKind::Load { offset } => {
                write!(
                    f,
                    "load error at offset {offset:#x}: {}",
                    self.inner.message
                )
            }
            ErrorKind::Unsupported => write!(f, "unsupported: {}", self.inner.message),
            ErrorKind::Link => write!(f, "link error: {}", self.inner.message),
            ErrorKind::Trap(k) => write!(f, "trap ({}): {}", k.as_str(), self.inner.message),
            ErrorKind::Usage => write!(f, "{}", self.inner.message),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl core::error::Error for Error {}

impl wasmi::errors::HostError for Error {}

/// Turns a trap code from wasmi into our trap kind.
pub(crate) fn from_wasmi(err: wasmi::Error) -> Error {
    use wasmi::TrapCode as C;
    if let Some(e) = err.downcast_ref::<Error>() {
        return e.clone();
    }
    let Some(code) = err.as_trap_code() else {
        return Error::trap(TrapKind::Other, alloc::format!("{err}"));
    };
    let kind = match code {
        C::UnreachableCodeReached => TrapKind::Unreachable,
        C::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
        C::TableOutOfBounds => TrapKind::TableOutOfBounds,
        C::IndirectCallToNull => TrapKind::IndirectCallToNull,
        C::IntegerDivisionByZero => TrapKind::IntegerDivisionByZero,
        C::IntegerOverflow => TrapKind::IntegerOverflow,
        C::BadConversionToInteger => TrapKind::BadConversionToInteger,
        C::StackOverflow => TrapKind::StackOverflow,
        C::BadSignature => TrapKind::BadSignature,
        C::OutOfFuel => TrapKind::OutOfFuel,
        C::GrowthOperationLimited => TrapKind::GrowthOperationLimited,
        _ => TrapKind::Other,
    };
    Error::trap(kind, alloc::format!("{err}"))
}
