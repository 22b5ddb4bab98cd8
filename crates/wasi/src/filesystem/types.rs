//! Rust mirrors of the `wasi:filesystem/types` records, variants, enums and
//! flags, for the typed API.

use alloc::string::String;
use componentry::{ComponentType, Lift, Lower};

use crate::clocks::Datetime;

/// WIT `error-code`.
#[allow(missing_docs)]
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    Access,
    WouldBlock,
    Already,
    BadDescriptor,
    Busy,
    Deadlock,
    Quota,
    Exist,
    FileTooLarge,
    IllegalByteSequence,
    InProgress,
    Interrupted,
    Invalid,
    Io,
    IsDirectory,
    Loop,
    TooManyLinks,
    MessageSize,
    NameTooLong,
    NoDevice,
    NoEntry,
    NoLock,
    InsufficientMemory,
    InsufficientSpace,
    NotDirectory,
    NotEmpty,
    NotRecoverable,
    Unsupported,
    NoTty,
    NoSuchDevice,
    Overflow,
    NotPermitted,
    Pipe,
    ReadOnly,
    InvalidSeek,
    TextFileBusy,
    CrossDevice,
}

impl ErrorCode {
    /// The WIT name of the code.
    pub fn name(self) -> &'static str {
        use ErrorCode::*;
        match self {
            Access => "access",
            WouldBlock => "would-block",
            Already => "already",
            BadDescriptor => "bad-descriptor",
            Busy => "busy",
            Deadlock => "deadlock",
            Quota => "quota",
            Exist => "exist",
            FileTooLarge => "file-too-large",
            IllegalByteSequence => "illegal-byte-sequence",
            InProgress => "in-progress",
            Interrupted => "interrupted",
            Invalid => "invalid",
            Io => "io",
            IsDirectory => "is-directory",
            Loop => "loop",
            TooManyLinks => "too-many-links",
            MessageSize => "message-size",
            NameTooLong => "name-too-long",
            NoDevice => "no-device",
            NoEntry => "no-entry",
            NoLock => "no-lock",
            InsufficientMemory => "insufficient-memory",
            InsufficientSpace => "insufficient-space",
            NotDirectory => "not-directory",
            NotEmpty => "not-empty",
            NotRecoverable => "not-recoverable",
            Unsupported => "unsupported",
            NoTty => "no-tty",
            NoSuchDevice => "no-such-device",
            Overflow => "overflow",
            NotPermitted => "not-permitted",
            Pipe => "pipe",
            ReadOnly => "read-only",
            InvalidSeek => "invalid-seek",
            TextFileBusy => "text-file-busy",
            CrossDevice => "cross-device",
        }
    }
}

/// WIT `descriptor-type`.
#[allow(missing_docs)]
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescriptorType {
    Unknown,
    BlockDevice,
    CharacterDevice,
    Directory,
    Fifo,
    SymbolicLink,
    RegularFile,
    Socket,
}

componentry::flags! {
    /// WIT `descriptor-flags`.
    pub DescriptorFlags {
        const READ;
        const WRITE;
        const FILE_INTEGRITY_SYNC;
        const DATA_INTEGRITY_SYNC;
        const REQUESTED_WRITE_SYNC;
        const MUTATE_DIRECTORY;
    }
}

componentry::flags! {
    /// WIT `path-flags`.
    pub PathFlags {
        const SYMLINK_FOLLOW;
    }
}

componentry::flags! {
    /// WIT `open-flags`.
    pub OpenFlags {
        const CREATE;
        const DIRECTORY;
        const EXCLUSIVE;
        const TRUNCATE;
    }
}

/// WIT `descriptor-stat`.
#[allow(missing_docs)]
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
pub struct DescriptorStat {
    #[component(name = "type")]
    pub type_: DescriptorType,
    pub link_count: u64,
    pub size: u64,
    pub data_access_timestamp: Option<Datetime>,
    pub data_modification_timestamp: Option<Datetime>,
    pub status_change_timestamp: Option<Datetime>,
}

/// WIT `new-timestamp`.
#[allow(missing_docs)]
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewTimestamp {
    NoChange,
    Now,
    Timestamp(Datetime),
}

/// WIT `directory-entry`.
#[allow(missing_docs)]
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq, Eq)]
pub struct DirectoryEntry {
    #[component(name = "type")]
    pub type_: DescriptorType,
    pub name: String,
}

/// WIT `advice`.
#[allow(missing_docs)]
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Advice {
    Normal,
    Sequential,
    Random,
    WillNeed,
    DontNeed,
    NoReuse,
}

/// WIT `metadata-hash-value`.
#[allow(missing_docs)]
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetadataHashValue {
    pub lower: u64,
    pub upper: u64,
}
