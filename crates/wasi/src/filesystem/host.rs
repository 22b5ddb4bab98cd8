//! A host directory as a filesystem backend (feature `std`).
//!
//! Nodes are host paths built from the preopened root by appending names
//! that resolution checked one at a time with `symlink_metadata` (which
//! does not follow links), so no path handed to the OS contains a symlink
//! or `..` that resolution did not decide about. Symlinks are read with
//! `read_link` and their targets resolved by [`super::path`] inside the
//! sandbox.
//!
//! **Race (TOCTOU).** Between the check of a component and the call that
//! uses the path, another *host* process could replace a checked directory
//! with a symlink and the OS would follow it. The guest itself cannot do
//! this (its calls run one at a time and all go through this resolution).
//! Closing the race needs `openat` with `O_NOFOLLOW`/`RESOLVE_BENEATH`
//! per component, which the standard library does not expose; a host whose
//! preopened directories are writable by other untrusted processes should
//! not rely on this sandbox alone.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::types::{DescriptorStat, DescriptorType, DirectoryEntry, ErrorCode, NewTimestamp};
use super::vfs::{Node, OpenMode, Vfs};
use crate::clocks::Datetime;

/// A path inside a host directory, with the file opened on it (files only).
#[derive(Clone, Debug)]
pub(crate) struct HostNode {
    path: PathBuf,
    file: Option<Arc<File>>,
}

/// A preopened host directory.
pub(crate) struct HostDir {
    root: PathBuf,
}

impl HostDir {
    /// The backend for host directory `root`; fails if it is not a
    /// directory.
    pub(crate) fn new(root: &Path) -> io::Result<Self> {
        let root = fs::canonicalize(root)?;
        if !fs::metadata(&root)?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a preopened directory must be a directory",
            ));
        }
        Ok(HostDir { root })
    }

    /// The root's node.
    pub(crate) fn root(&self) -> Node {
        Node::Host(HostNode {
            path: self.root.clone(),
            file: None,
        })
    }
}

fn node(n: &Node) -> Result<&HostNode, ErrorCode> {
    match n {
        Node::Host(h) => Ok(h),
        _ => Err(ErrorCode::BadDescriptor),
    }
}

/// The WIT error code of a host I/O error.
pub(crate) fn code_of(e: &io::Error) -> ErrorCode {
    #[cfg(unix)]
    if let Some(errno) = e.raw_os_error() {
        // Linux errno values; other Unixes share the common ones.
        return match errno {
            1 => ErrorCode::NotPermitted,
            2 => ErrorCode::NoEntry,
            5 => ErrorCode::Io,
            9 => ErrorCode::BadDescriptor,
            12 => ErrorCode::InsufficientMemory,
            13 => ErrorCode::Access,
            16 => ErrorCode::Busy,
            17 => ErrorCode::Exist,
            18 => ErrorCode::CrossDevice,
            20 => ErrorCode::NotDirectory,
            21 => ErrorCode::IsDirectory,
            22 => ErrorCode::Invalid,
            26 => ErrorCode::TextFileBusy,
            27 => ErrorCode::FileTooLarge,
            28 => ErrorCode::InsufficientSpace,
            29 => ErrorCode::InvalidSeek,
            30 => ErrorCode::ReadOnly,
            31 => ErrorCode::TooManyLinks,
            32 => ErrorCode::Pipe,
            36 => ErrorCode::NameTooLong,
            39 => ErrorCode::NotEmpty,
            40 => ErrorCode::Loop,
            95 => ErrorCode::Unsupported,
            122 => ErrorCode::Quota,
            _ => ErrorCode::Io,
        };
    }
    match e.kind() {
        io::ErrorKind::NotFound => ErrorCode::NoEntry,
        io::ErrorKind::PermissionDenied => ErrorCode::Access,
        io::ErrorKind::AlreadyExists => ErrorCode::Exist,
        io::ErrorKind::InvalidInput => ErrorCode::Invalid,
        io::ErrorKind::Unsupported => ErrorCode::Unsupported,
        io::ErrorKind::OutOfMemory => ErrorCode::InsufficientMemory,
        _ => ErrorCode::Io,
    }
}

fn err(e: io::Error) -> ErrorCode {
    code_of(&e)
}

fn kind_of(m: &Metadata) -> DescriptorType {
    let t = m.file_type();
    if t.is_symlink() {
        return DescriptorType::SymbolicLink;
    }
    if t.is_dir() {
        return DescriptorType::Directory;
    }
    if t.is_file() {
        return DescriptorType::RegularFile;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_block_device() {
            return DescriptorType::BlockDevice;
        }
        if t.is_char_device() {
            return DescriptorType::CharacterDevice;
        }
        if t.is_fifo() {
            return DescriptorType::Fifo;
        }
        if t.is_socket() {
            return DescriptorType::Socket;
        }
    }
    DescriptorType::Unknown
}

fn datetime(t: io::Result<std::time::SystemTime>) -> Option<Datetime> {
    let d = t.ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(Datetime {
        seconds: d.as_secs(),
        nanoseconds: d.subsec_nanos(),
    })
}

/// The host time of a guest's datetime; `None` if the host cannot
/// represent it (never a panic, whatever the fields hold).
fn system_time(d: Datetime) -> Option<std::time::SystemTime> {
    let since = core::time::Duration::from_secs(d.seconds)
        .checked_add(core::time::Duration::from_nanos(u64::from(d.nanoseconds)))?;
    std::time::UNIX_EPOCH.checked_add(since)
}

impl Vfs for HostDir {
    fn child(&self, dir: &Node, name: &str) -> Result<Option<(Node, DescriptorType)>, ErrorCode> {
        let dir = node(dir)?;
        let path = dir.path.join(name);
        match fs::symlink_metadata(&path) {
            Ok(m) => Ok(Some((
                Node::Host(HostNode { path, file: None }),
                kind_of(&m),
            ))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    fn read_link(&self, n: &Node) -> Result<String, ErrorCode> {
        let target = fs::read_link(&node(n)?.path).map_err(err)?;
        target
            .to_str()
            .map(ToString::to_string)
            .ok_or(ErrorCode::IllegalByteSequence)
    }

    fn stat(&self, n: &Node) -> Result<DescriptorStat, ErrorCode> {
        let h = node(n)?;
        let m = match &h.file {
            Some(f) => f.metadata(),
            None => fs::symlink_metadata(&h.path),
        }
        .map_err(err)?;
        #[cfg(unix)]
        let (links, ctime) = {
            use std::os::unix::fs::MetadataExt;
            let ctime = u64::try_from(m.ctime()).ok().map(|s| Datetime {
                seconds: s,
                nanoseconds: u32::try_from(m.ctime_nsec()).unwrap_or(0),
            });
            (m.nlink(), ctime)
        };
        #[cfg(not(unix))]
        let (links, ctime) = (1u64, None);
        Ok(DescriptorStat {
            type_: kind_of(&m),
            link_count: links,
            size: m.len(),
            data_access_timestamp: datetime(m.accessed()),
            data_modification_timestamp: datetime(m.modified()),
            status_change_timestamp: ctime,
        })
    }

    fn open(
        &mut self,
        parent: &Node,
        name: &str,
        existing: Option<(Node, DescriptorType)>,
        mode: OpenMode,
        _now: Datetime,
    ) -> Result<(Node, DescriptorType), ErrorCode> {
        let parent = node(parent)?;
        let path = match &existing {
            Some((Node::Host(h), _)) => h.path.clone(),
            Some(_) => return Err(ErrorCode::BadDescriptor),
            None => parent.path.join(name),
        };
        match existing {
            Some((_, kind)) => {
                if kind == DescriptorType::Directory {
                    return Ok((Node::Host(HostNode { path, file: None }), kind));
                }
                let file = OpenOptions::new()
                    .read(mode.read || !mode.write)
                    .write(mode.write)
                    .truncate(mode.truncate && mode.write)
                    .open(&path)
                    .map_err(err)?;
                if mode.truncate && !mode.write {
                    file.set_len(0).map_err(err)?;
                }
                let kind = kind_of(&file.metadata().map_err(err)?);
                Ok((
                    Node::Host(HostNode {
                        path,
                        file: Some(Arc::new(file)),
                    }),
                    kind,
                ))
            }
            None => {
                // `create_new` (O_EXCL) does not follow a symlink that might
                // have appeared at the name since resolution.
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .map_err(err)?;
                Ok((
                    Node::Host(HostNode {
                        path,
                        file: Some(Arc::new(file)),
                    }),
                    DescriptorType::RegularFile,
                ))
            }
        }
    }

    fn read(&self, n: &Node, offset: u64, len: usize) -> Result<Vec<u8>, ErrorCode> {
        let h = node(n)?;
        let Some(f) = &h.file else {
            return Err(ErrorCode::IsDirectory);
        };
        let mut f: &File = f;
        f.seek(SeekFrom::Start(offset)).map_err(err)?;
        let mut out = Vec::new();
        f.take(len as u64).read_to_end(&mut out).map_err(err)?;
        Ok(out)
    }

    fn write(
        &mut self,
        n: &Node,
        offset: Option<u64>,
        data: &[u8],
        _now: Datetime,
    ) -> Result<u64, ErrorCode> {
        let h = node(n)?;
        let Some(f) = &h.file else {
            return Err(ErrorCode::IsDirectory);
        };
        let mut f: &File = f;
        let at = match offset {
            Some(o) => f.seek(SeekFrom::Start(o)),
            None => f.seek(SeekFrom::End(0)),
        }
        .map_err(err)?;
        f.write_all(data).map_err(err)?;
        Ok(at.saturating_add(data.len() as u64))
    }

    fn set_size(&mut self, n: &Node, size: u64, _now: Datetime) -> Result<(), ErrorCode> {
        match &node(n)?.file {
            Some(f) => f.set_len(size).map_err(err),
            None => Err(ErrorCode::IsDirectory),
        }
    }

    fn set_times(
        &mut self,
        n: &Node,
        atime: NewTimestamp,
        mtime: NewTimestamp,
        now: Datetime,
    ) -> Result<(), ErrorCode> {
        let h = node(n)?;
        let opened;
        let f: &File = match &h.file {
            Some(f) => f,
            None => {
                if fs::symlink_metadata(&h.path).map_err(err)?.is_symlink() {
                    // Setting a symlink's own times needs `utimensat`, which
                    // std does not offer.
                    return Err(ErrorCode::Unsupported);
                }
                opened = File::open(&h.path).map_err(err)?;
                &opened
            }
        };
        let mut times = fs::FileTimes::new();
        let pick = |t: NewTimestamp| match t {
            NewTimestamp::NoChange => Ok(None),
            NewTimestamp::Now => Ok(system_time(now)),
            NewTimestamp::Timestamp(d) => system_time(d).map(Some).ok_or(ErrorCode::Overflow),
        };
        if let Some(t) = pick(atime)? {
            times = times.set_accessed(t);
        }
        if let Some(t) = pick(mtime)? {
            times = times.set_modified(t);
        }
        f.set_times(times).map_err(err)
    }

    fn read_dir(&self, n: &Node) -> Result<Vec<DirectoryEntry>, ErrorCode> {
        let h = node(n)?;
        let mut out = Vec::new();
        for entry in fs::read_dir(&h.path).map_err(err)? {
            let entry = entry.map_err(err)?;
            let Some(name) = entry.file_name().to_str().map(ToString::to_string) else {
                // A name that is not UTF-8 cannot be a WIT string; skip it.
                continue;
            };
            let type_ = entry
                .file_type()
                .map(|t| {
                    if t.is_symlink() {
                        DescriptorType::SymbolicLink
                    } else if t.is_dir() {
                        DescriptorType::Directory
                    } else if t.is_file() {
                        DescriptorType::RegularFile
                    } else {
                        DescriptorType::Unknown
                    }
                })
                .unwrap_or(DescriptorType::Unknown);
            out.push(DirectoryEntry { type_, name });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn create_dir(&mut self, parent: &Node, name: &str, _now: Datetime) -> Result<(), ErrorCode> {
        fs::create_dir(node(parent)?.path.join(name)).map_err(err)
    }

    fn remove_dir(&mut self, parent: &Node, name: &str, _now: Datetime) -> Result<(), ErrorCode> {
        let path = node(parent)?.path.join(name);
        if fs::symlink_metadata(&path).map_err(err)?.is_symlink() {
            return Err(ErrorCode::NotDirectory);
        }
        fs::remove_dir(path).map_err(err)
    }

    fn unlink(&mut self, parent: &Node, name: &str, _now: Datetime) -> Result<(), ErrorCode> {
        let path = node(parent)?.path.join(name);
        if fs::symlink_metadata(&path).map_err(err)?.is_dir() {
            return Err(ErrorCode::IsDirectory);
        }
        fs::remove_file(path).map_err(err)
    }

    fn rename(
        &mut self,
        old_parent: &Node,
        old_name: &str,
        new_parent: &Node,
        new_name: &str,
        _now: Datetime,
    ) -> Result<(), ErrorCode> {
        let from = node(old_parent)?.path.join(old_name);
        let to = node(new_parent)?.path.join(new_name);
        fs::rename(from, to).map_err(err)
    }

    fn symlink(
        &mut self,
        parent: &Node,
        name: &str,
        target: &str,
        _now: Datetime,
    ) -> Result<(), ErrorCode> {
        let path = node(parent)?.path.join(name);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(target, path).map_err(err)
        }
        #[cfg(not(unix))]
        {
            let _ = (path, target);
            Err(ErrorCode::Unsupported)
        }
    }

    fn link(
        &mut self,
        n: &Node,
        new_parent: &Node,
        new_name: &str,
        _now: Datetime,
    ) -> Result<(), ErrorCode> {
        let from = &node(n)?.path;
        let to = node(new_parent)?.path.join(new_name);
        fs::hard_link(from, to).map_err(err)
    }

    fn sync(&mut self, n: &Node) -> Result<(), ErrorCode> {
        match &node(n)?.file {
            Some(f) => f.sync_all().map_err(err),
            None => Ok(()),
        }
    }

    fn identity(&self, n: &Node) -> Result<(u64, u64), ErrorCode> {
        let h = node(n)?;
        let m = match &h.file {
            Some(f) => f.metadata(),
            None => fs::symlink_metadata(&h.path),
        }
        .map_err(err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Ok((m.dev(), m.ino()))
        }
        #[cfg(not(unix))]
        {
            let _ = m;
            // No inode numbers: the path's bytes, hashed (FNV-1a).
            let mut h64 = 0xcbf2_9ce4_8422_2325u64;
            for b in h.path.to_string_lossy().bytes() {
                h64 = (h64 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
            }
            Ok((0, h64))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_datetimes_do_not_panic() {
        for (seconds, nanoseconds) in [(u64::MAX, u32::MAX), (u64::MAX, 0), (0, u32::MAX)] {
            let _ = system_time(Datetime {
                seconds,
                nanoseconds,
            });
        }
        assert!(system_time(Datetime {
            seconds: 1,
            nanoseconds: 5
        })
        .is_some());
    }
}
