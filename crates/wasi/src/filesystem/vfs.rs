//! The operations a filesystem backend offers, on nodes it names itself.
//! Paths never reach a backend: [`super::path`] resolves a guest path one
//! component at a time through [`Vfs::child`] and [`Vfs::read_link`], and
//! backends act only on a parent node and a single checked name.

use alloc::string::String;
use alloc::vec::Vec;

use super::types::{DescriptorStat, DescriptorType, DirectoryEntry, ErrorCode, NewTimestamp};
use crate::clocks::Datetime;

/// A file, directory or link of one backend.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    /// An inode of an in-memory tree.
    Mem(u32),
    /// A path inside a host directory.
    #[cfg(feature = "std")]
    Host(super::host::HostNode),
}

/// How to open a file (after resolution).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OpenMode {
    /// Only host files use it (the memory tree opens everything readable).
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub read: bool,
    pub write: bool,
    pub create: bool,
    pub exclusive: bool,
    pub truncate: bool,
    pub directory: bool,
}

impl OpenMode {
    /// What opening with this mode asks that no backend can give, whatever
    /// it is: `existing` is the kind of what resolution found at the name
    /// (not a symlink to follow: those were followed or refused first).
    pub(crate) fn check(&self, existing: Option<DescriptorType>) -> Result<(), ErrorCode> {
        match existing {
            Some(_) if self.create && self.exclusive => Err(ErrorCode::Exist),
            Some(DescriptorType::Directory) if self.write || self.truncate => {
                Err(ErrorCode::IsDirectory)
            }
            Some(DescriptorType::SymbolicLink) => Err(ErrorCode::Loop),
            Some(DescriptorType::Directory) => Ok(()),
            Some(_) if self.directory => Err(ErrorCode::NotDirectory),
            Some(_) => Ok(()),
            None if !self.create => Err(ErrorCode::NoEntry),
            None if self.directory => Err(ErrorCode::Invalid),
            None => Ok(()),
        }
    }
}

/// A filesystem backend. Every `name` is one path component that is not
/// empty, `.` or `..` and holds no `/` (checked by the caller).
pub(crate) trait Vfs {
    /// The child `name` of directory `dir` (not following a symlink), or
    /// `None` if there is none.
    fn child(&self, dir: &Node, name: &str) -> Result<Option<(Node, DescriptorType)>, ErrorCode>;
    /// The target of symlink `node`.
    fn read_link(&self, node: &Node) -> Result<String, ErrorCode>;
    /// The node's metadata.
    fn stat(&self, node: &Node) -> Result<DescriptorStat, ErrorCode>;
    /// Opens (or creates) `name` in `parent`; `existing` is what resolution
    /// found there (not a symlink: those are followed or refused first).
    /// The caller has checked `mode` against it ([`OpenMode::check`]).
    fn open(
        &mut self,
        parent: &Node,
        name: &str,
        existing: Option<(Node, DescriptorType)>,
        mode: OpenMode,
        now: Datetime,
    ) -> Result<(Node, DescriptorType), ErrorCode>;
    /// Up to `len` bytes of file `node` from `offset`.
    fn read(&self, node: &Node, offset: u64, len: usize) -> Result<Vec<u8>, ErrorCode>;
    /// Writes `data` at `offset` (or at the end if `offset` is `None`),
    /// returning the offset after the write.
    fn write(
        &mut self,
        node: &Node,
        offset: Option<u64>,
        data: &[u8],
        now: Datetime,
    ) -> Result<u64, ErrorCode>;
    /// Truncates or extends file `node` to `size` bytes.
    fn set_size(&mut self, node: &Node, size: u64, now: Datetime) -> Result<(), ErrorCode>;
    /// Sets access and modification times.
    fn set_times(
        &mut self,
        node: &Node,
        atime: NewTimestamp,
        mtime: NewTimestamp,
        now: Datetime,
    ) -> Result<(), ErrorCode>;
    /// The entries of directory `node` (without `.` and `..`), sorted by name.
    fn read_dir(&self, node: &Node) -> Result<Vec<DirectoryEntry>, ErrorCode>;
    /// Creates directory `name` in `parent`.
    fn create_dir(&mut self, parent: &Node, name: &str, now: Datetime) -> Result<(), ErrorCode>;
    /// Removes the empty directory `name` of `parent`.
    fn remove_dir(&mut self, parent: &Node, name: &str, now: Datetime) -> Result<(), ErrorCode>;
    /// Removes the non-directory `name` of `parent`.
    fn unlink(&mut self, parent: &Node, name: &str, now: Datetime) -> Result<(), ErrorCode>;
    /// Moves `old_parent/old_name` to `new_parent/new_name`.
    fn rename(
        &mut self,
        old_parent: &Node,
        old_name: &str,
        new_parent: &Node,
        new_name: &str,
        now: Datetime,
    ) -> Result<(), ErrorCode>;
    /// Creates symlink `name` in `parent` pointing at `target` (already
    /// checked to stay inside the sandbox).
    fn symlink(
        &mut self,
        parent: &Node,
        name: &str,
        target: &str,
        now: Datetime,
    ) -> Result<(), ErrorCode>;
    /// Creates hard link `new_parent/new_name` to regular file `node`.
    fn link(
        &mut self,
        node: &Node,
        new_parent: &Node,
        new_name: &str,
        now: Datetime,
    ) -> Result<(), ErrorCode>;
    /// Writes buffered data of `node` to storage.
    fn sync(&mut self, node: &Node) -> Result<(), ErrorCode>;
    /// A pair identifying the object behind `node` within this backend
    /// (device and inode on Unix hosts).
    fn identity(&self, node: &Node) -> Result<(u64, u64), ErrorCode>;
}
