//! The semantics of `descriptor` methods: permission checks, path
//! resolution through [`super::path`], then one backend call.
//!
//! Permissions: a preopen grants `read` (read-only) or `read`, `write` and
//! `mutate-directory` (read-write). A descriptor opened from a directory
//! gets at most what that directory has: without `mutate-directory`,
//! creating, writing, truncating, removing, renaming, linking and setting
//! times fail with `read-only`; a file opened without `write` refuses
//! writes with `bad-descriptor`, as POSIX does.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use componentry::{Resource, Result};

use super::path::{check_symlink_target, resolve, Resolved};
use super::types::{
    DescriptorFlags as F, DescriptorStat, DescriptorType, ErrorCode, MetadataHashValue,
    NewTimestamp, OpenFlags, PathFlags,
};
use super::vfs::{OpenMode, Vfs};
use super::FsResult;
use crate::table::markers::{
    Descriptor as D, DirectoryEntryStream as DirStream, InputStream as In, OutputStream as Out,
};
use crate::table::{wrong_kind, Descriptor, Entry, InputStream, OutputStream};
use crate::WasiCtx;

/// Returns `Ok(Err(code))` from the enclosing function on an error code.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(code) => return Ok(Err(code)),
        }
    };
}

/// A copy of descriptor `d`'s state.
pub(crate) fn descriptor(ctx: &WasiCtx, d: &Resource<D>) -> Result<Descriptor> {
    match ctx.table.get(d)? {
        Entry::Descriptor(x) => Ok(Descriptor {
            fs: x.fs,
            node: x.node.clone(),
            kind: x.kind,
            flags: x.flags,
        }),
        _ => Err(wrong_kind()),
    }
}

fn vfs(ctx: &WasiCtx, fs: usize) -> Result<&dyn Vfs> {
    ctx.backends.get(fs).map(|b| b.vfs()).ok_or_else(wrong_kind)
}

fn vfs_mut(ctx: &mut WasiCtx, fs: usize) -> Result<&mut dyn Vfs> {
    ctx.backends
        .get_mut(fs)
        .map(|b| b.vfs_mut())
        .ok_or_else(wrong_kind)
}

/// Checks that `d` is a directory and resolves `path` in it.
fn at(
    ctx: &WasiCtx,
    d: &Descriptor,
    path: &str,
    follow: bool,
) -> Result<core::result::Result<Resolved, ErrorCode>> {
    if d.kind != DescriptorType::Directory {
        return Ok(Err(ErrorCode::NotDirectory));
    }
    Ok(resolve(vfs(ctx, d.fs)?, &d.node, path, follow))
}

/// Checks that `d` may change the directory tree.
fn mutable(d: &Descriptor) -> core::result::Result<(), ErrorCode> {
    if d.flags.contains(F::MUTATE_DIRECTORY) {
        Ok(())
    } else {
        Err(ErrorCode::ReadOnly)
    }
}

fn room(ctx: &WasiCtx) -> core::result::Result<(), ErrorCode> {
    if ctx.table.has_room() {
        Ok(())
    } else {
        Err(ErrorCode::InsufficientMemory)
    }
}

/// The file descriptor `d` a stream is opened on, if it is a file opened
/// with `access` and the table has room for the stream.
fn stream_source(ctx: &mut WasiCtx, d: &Resource<D>, access: F) -> FsResult<Descriptor> {
    let d = descriptor(ctx, d)?;
    if d.kind == DescriptorType::Directory {
        return Ok(Err(ErrorCode::IsDirectory));
    }
    if !d.flags.contains(access) {
        return Ok(Err(ErrorCode::BadDescriptor));
    }
    tri!(room(ctx));
    Ok(Ok(d))
}

pub(crate) fn read_via_stream(
    ctx: &mut WasiCtx,
    d: &Resource<D>,
    offset: u64,
) -> FsResult<Resource<In>> {
    let d = tri!(stream_source(ctx, d, F::READ)?);
    let e = Entry::Input(InputStream::File {
        fs: d.fs,
        node: d.node,
        offset,
    });
    Ok(Ok(ctx.table.push(e)?))
}

pub(crate) fn write_via_stream(
    ctx: &mut WasiCtx,
    d: &Resource<D>,
    offset: Option<u64>,
) -> FsResult<Resource<Out>> {
    let d = tri!(stream_source(ctx, d, F::WRITE)?);
    let e = Entry::Output(OutputStream::File {
        fs: d.fs,
        node: d.node,
        offset,
    });
    Ok(Ok(ctx.table.push(e)?))
}

pub(crate) fn sync(ctx: &mut WasiCtx, d: &Resource<D>) -> FsResult<()> {
    let d = descriptor(ctx, d)?;
    Ok(vfs_mut(ctx, d.fs)?.sync(&d.node))
}

pub(crate) fn set_size(ctx: &mut WasiCtx, d: &Resource<D>, size: u64) -> FsResult<()> {
    let d = descriptor(ctx, d)?;
    if d.kind == DescriptorType::Directory {
        return Ok(Err(ErrorCode::IsDirectory));
    }
    if !d.flags.contains(F::WRITE) {
        return Ok(Err(ErrorCode::BadDescriptor));
    }
    let now = ctx.wall.now();
    Ok(vfs_mut(ctx, d.fs)?.set_size(&d.node, size, now))
}

pub(crate) fn set_times(
    ctx: &mut WasiCtx,
    d: &Resource<D>,
    a: NewTimestamp,
    m: NewTimestamp,
) -> FsResult<()> {
    let d = descriptor(ctx, d)?;
    if (d.flags & (F::WRITE | F::MUTATE_DIRECTORY)).is_empty() {
        return Ok(Err(ErrorCode::ReadOnly));
    }
    let now = ctx.wall.now();
    Ok(vfs_mut(ctx, d.fs)?.set_times(&d.node, a, m, now))
}

pub(crate) fn read(
    ctx: &mut WasiCtx,
    d: &Resource<D>,
    len: u64,
    offset: u64,
) -> FsResult<(Vec<u8>, bool)> {
    let d = descriptor(ctx, d)?;
    if d.kind == DescriptorType::Directory {
        return Ok(Err(ErrorCode::IsDirectory));
    }
    if !d.flags.contains(F::READ) {
        return Ok(Err(ErrorCode::BadDescriptor));
    }
    let n = usize::try_from(len).unwrap_or(usize::MAX).min(ctx.max_read);
    let data = tri!(vfs(ctx, d.fs)?.read(&d.node, offset, n));
    let eof = data.len() < n;
    Ok(Ok((data, eof)))
}

pub(crate) fn write(ctx: &mut WasiCtx, d: &Resource<D>, buf: &[u8], offset: u64) -> FsResult<u64> {
    let d = descriptor(ctx, d)?;
    if d.kind == DescriptorType::Directory {
        return Ok(Err(ErrorCode::IsDirectory));
    }
    if !d.flags.contains(F::WRITE) {
        return Ok(Err(ErrorCode::BadDescriptor));
    }
    let now = ctx.wall.now();
    tri!(vfs_mut(ctx, d.fs)?.write(&d.node, Some(offset), buf, now));
    Ok(Ok(buf.len() as u64))
}

pub(crate) fn read_directory(ctx: &mut WasiCtx, d: &Resource<D>) -> FsResult<Resource<DirStream>> {
    let d = descriptor(ctx, d)?;
    if d.kind != DescriptorType::Directory {
        return Ok(Err(ErrorCode::NotDirectory));
    }
    if !d.flags.contains(F::READ) {
        return Ok(Err(ErrorCode::BadDescriptor));
    }
    tri!(room(ctx));
    let entries = tri!(vfs(ctx, d.fs)?.read_dir(&d.node));
    let e = Entry::DirStream(VecDeque::from(entries));
    Ok(Ok(ctx.table.push(e)?))
}

pub(crate) fn create_directory_at(ctx: &mut WasiCtx, d: &Resource<D>, path: &str) -> FsResult<()> {
    let d = descriptor(ctx, d)?;
    tri!(mutable(&d));
    let r = tri!(at(ctx, &d, path, false)?);
    let (Some(name), None) = (r.name, r.target) else {
        return Ok(Err(ErrorCode::Exist));
    };
    let now = ctx.wall.now();
    Ok(vfs_mut(ctx, d.fs)?.create_dir(&r.parent, &name, now))
}

pub(crate) fn stat(ctx: &mut WasiCtx, d: &Resource<D>) -> FsResult<DescriptorStat> {
    let d = descriptor(ctx, d)?;
    Ok(vfs(ctx, d.fs)?.stat(&d.node))
}

pub(crate) fn stat_at(
    ctx: &mut WasiCtx,
    d: &Resource<D>,
    pf: PathFlags,
    path: &str,
) -> FsResult<DescriptorStat> {
    let d = descriptor(ctx, d)?;
    let r = tri!(at(ctx, &d, path, pf.contains(PathFlags::SYMLINK_FOLLOW))?);
    let Some((node, _)) = r.target else {
        return Ok(Err(ErrorCode::NoEntry));
    };
    Ok(vfs(ctx, d.fs)?.stat(&node))
}

pub(crate) fn set_times_at(
    ctx: &mut WasiCtx,
    d: &Resource<D>,
    pf: PathFlags,
    path: &str,
    a: NewTimestamp,
    m: NewTimestamp,
) -> FsResult<()> {
    let d = descriptor(ctx, d)?;
    tri!(mutable(&d));
    let r = tri!(at(ctx, &d, path, pf.contains(PathFlags::SYMLINK_FOLLOW))?);
    let Some((node, _)) = r.target else {
        return Ok(Err(ErrorCode::NoEntry));
    };
    let now = ctx.wall.now();
    Ok(vfs_mut(ctx, d.fs)?.set_times(&node, a, m, now))
}

pub(crate) fn link_at(
    ctx: &mut WasiCtx,
    d: &Resource<D>,
    pf: PathFlags,
    old: &str,
    nd: &Resource<D>,
    new: &str,
) -> FsResult<()> {
    let (d, nd) = (descriptor(ctx, d)?, descriptor(ctx, nd)?);
    tri!(mutable(&d));
    tri!(mutable(&nd));
    if d.fs != nd.fs {
        return Ok(Err(ErrorCode::CrossDevice));
    }
    let src = tri!(at(ctx, &d, old, pf.contains(PathFlags::SYMLINK_FOLLOW))?);
    let node = match src.target {
        Some((node, DescriptorType::RegularFile)) => node,
        // Hard links to directories and to symlinks (whose targets would
        // be resolved from the new place) are refused.
        Some(_) => return Ok(Err(ErrorCode::NotPermitted)),
        None => return Ok(Err(ErrorCode::NoEntry)),
    };
    let dst = tri!(at(ctx, &nd, new, false)?);
    let (Some(name), None) = (dst.name, dst.target) else {
        return Ok(Err(ErrorCode::Exist));
    };
    let now = ctx.wall.now();
    Ok(vfs_mut(ctx, d.fs)?.link(&node, &dst.parent, &name, now))
}

pub(crate) fn open_at(
    ctx: &mut WasiCtx,
    d: &Resource<D>,
    pf: PathFlags,
    path: &str,
    of: OpenFlags,
    df: F,
) -> FsResult<Resource<D>> {
    let d = descriptor(ctx, d)?;
    let wants_change = !(df & (F::WRITE | F::MUTATE_DIRECTORY)).is_empty()
        || !(of & (OpenFlags::CREATE | OpenFlags::TRUNCATE)).is_empty();
    if wants_change {
        tri!(mutable(&d));
    }
    if df.contains(F::READ) && !d.flags.contains(F::READ) {
        return Ok(Err(ErrorCode::NotPermitted));
    }
    tri!(room(ctx));
    let r = tri!(at(ctx, &d, path, pf.contains(PathFlags::SYMLINK_FOLLOW))?);
    let mode = OpenMode {
        read: df.contains(F::READ),
        write: df.contains(F::WRITE),
        create: of.contains(OpenFlags::CREATE),
        exclusive: of.contains(OpenFlags::EXCLUSIVE),
        truncate: of.contains(OpenFlags::TRUNCATE),
        directory: of.contains(OpenFlags::DIRECTORY),
    };
    let name = r.name.unwrap_or_default();
    if r.target.is_none() && r.trailing_slash {
        return Ok(Err(ErrorCode::NoEntry));
    }
    tri!(mode.check(r.target.as_ref().map(|(_, kind)| *kind)));
    let now = ctx.wall.now();
    let (node, kind) = tri!(vfs_mut(ctx, d.fs)?.open(&r.parent, &name, r.target, mode, now));
    // A directory keeps what its parent may do; a file gets what was asked.
    let flags = if kind == DescriptorType::Directory {
        d.flags & (F::READ | F::MUTATE_DIRECTORY)
    } else {
        df & (F::READ
            | F::WRITE
            | F::FILE_INTEGRITY_SYNC
            | F::DATA_INTEGRITY_SYNC
            | F::REQUESTED_WRITE_SYNC)
    };
    let e = Entry::Descriptor(Descriptor {
        fs: d.fs,
        node,
        kind,
        flags,
    });
    Ok(Ok(ctx.table.push(e)?))
}

pub(crate) fn readlink_at(ctx: &mut WasiCtx, d: &Resource<D>, path: &str) -> FsResult<String> {
    let d = descriptor(ctx, d)?;
    let r = tri!(at(ctx, &d, path, false)?);
    match r.target {
        Some((node, DescriptorType::SymbolicLink)) => Ok(vfs(ctx, d.fs)?.read_link(&node)),
        Some(_) => Ok(Err(ErrorCode::Invalid)),
        None => Ok(Err(ErrorCode::NoEntry)),
    }
}

/// `remove-directory-at` (`dir`) or `unlink-file-at`.
pub(crate) fn remove_at(ctx: &mut WasiCtx, d: &Resource<D>, path: &str, dir: bool) -> FsResult<()> {
    let d = descriptor(ctx, d)?;
    tri!(mutable(&d));
    let r = tri!(at(ctx, &d, path, false)?);
    let Some(name) = r.name else {
        return Ok(Err(if dir {
            ErrorCode::Busy
        } else {
            ErrorCode::IsDirectory
        }));
    };
    let kind = match r.target {
        Some((_, k)) => k,
        None => return Ok(Err(ErrorCode::NoEntry)),
    };
    let now = ctx.wall.now();
    let fs = vfs_mut(ctx, d.fs)?;
    Ok(match (dir, kind) {
        (true, DescriptorType::Directory) => fs.remove_dir(&r.parent, &name, now),
        (true, _) => Err(ErrorCode::NotDirectory),
        (false, DescriptorType::Directory) => Err(ErrorCode::IsDirectory),
        (false, _) if r.trailing_slash => Err(ErrorCode::NotDirectory),
        (false, _) => fs.unlink(&r.parent, &name, now),
    })
}

pub(crate) fn rename_at(
    ctx: &mut WasiCtx,
    d: &Resource<D>,
    old: &str,
    nd: &Resource<D>,
    new: &str,
) -> FsResult<()> {
    let (d, nd) = (descriptor(ctx, d)?, descriptor(ctx, nd)?);
    tri!(mutable(&d));
    tri!(mutable(&nd));
    if d.fs != nd.fs {
        return Ok(Err(ErrorCode::CrossDevice));
    }
    let src = tri!(at(ctx, &d, old, false)?);
    let dst = tri!(at(ctx, &nd, new, false)?);
    let (Some(old_name), Some(new_name)) = (src.name, dst.name) else {
        return Ok(Err(ErrorCode::Busy));
    };
    if src.target.is_none() {
        return Ok(Err(ErrorCode::NoEntry));
    }
    let now = ctx.wall.now();
    Ok(vfs_mut(ctx, d.fs)?.rename(&src.parent, &old_name, &dst.parent, &new_name, now))
}

pub(crate) fn symlink_at(
    ctx: &mut WasiCtx,
    d: &Resource<D>,
    target: &str,
    path: &str,
) -> FsResult<()> {
    let d = descriptor(ctx, d)?;
    tri!(mutable(&d));
    let r = tri!(at(ctx, &d, path, false)?);
    let (Some(name), None) = (r.name, r.target) else {
        return Ok(Err(ErrorCode::Exist));
    };
    // Refuse a target that is absolute or climbs above the base directory,
    // so the link cannot point outside even for a host process following it.
    tri!(check_symlink_target(target, r.depth));
    let now = ctx.wall.now();
    Ok(vfs_mut(ctx, d.fs)?.symlink(&r.parent, &name, target, now))
}

pub(crate) fn is_same_object(ctx: &mut WasiCtx, a: &Resource<D>, b: &Resource<D>) -> Result<bool> {
    let (a, b) = (descriptor(ctx, a)?, descriptor(ctx, b)?);
    if a.fs != b.fs {
        return Ok(false);
    }
    let fs = vfs(ctx, a.fs)?;
    Ok(matches!((fs.identity(&a.node), fs.identity(&b.node)), (Ok(x), Ok(y)) if x == y))
}

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

pub(crate) fn metadata_hash(
    ctx: &mut WasiCtx,
    d: &Resource<D>,
    at_path: Option<(PathFlags, &str)>,
) -> FsResult<MetadataHashValue> {
    let d = descriptor(ctx, d)?;
    let node = match at_path {
        None => d.node.clone(),
        Some((pf, path)) => {
            let r = tri!(at(ctx, &d, path, pf.contains(PathFlags::SYMLINK_FOLLOW))?);
            match r.target {
                Some((n, _)) => n,
                None => return Ok(Err(ErrorCode::NoEntry)),
            }
        }
    };
    let fs = vfs(ctx, d.fs)?;
    let (dev, ino) = tri!(fs.identity(&node));
    let st = tri!(fs.stat(&node));
    let mtime = st
        .data_modification_timestamp
        .map(|t| t.seconds ^ u64::from(t.nanoseconds).rotate_left(32))
        .unwrap_or(0);
    let base = mix(dev ^ mix(ino ^ ((d.fs as u64) << 48)));
    Ok(Ok(MetadataHashValue {
        lower: mix(base ^ st.size),
        upper: mix(base.rotate_left(17) ^ mtime),
    }))
}
