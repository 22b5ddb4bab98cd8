//! `wasi:filesystem`: `types` (descriptors, directory streams, error codes)
//! and `preopens`, over in-memory trees and (feature `std`) host
//! directories.

#[cfg(feature = "std")]
pub(crate) mod host;
pub(crate) mod memory;
pub(crate) mod ops;
pub(crate) mod path;
pub mod types;
pub(crate) mod vfs;

use alloc::string::String;
use alloc::vec::Vec;
use componentry::{Linker, Resource, Result, StoreContextMut};

use crate::io::V;
use crate::table::markers::{
    Descriptor as D, DirectoryEntryStream as DirStream, InputStream, IoError, OutputStream,
};
use crate::table::{define, wrong_kind, Descriptor, Entry};
use crate::WasiView;
use types::{
    Advice, DescriptorFlags, DescriptorStat, DescriptorType, DirectoryEntry, ErrorCode,
    MetadataHashValue, NewTimestamp, OpenFlags, PathFlags,
};

type FsResult<R> = Result<core::result::Result<R, ErrorCode>>;

/// Links `wasi:filesystem/types` and `wasi:filesystem/preopens`.
pub(crate) fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) -> Result<()> {
    {
        let mut i = linker.instance(&alloc::format!("wasi:filesystem/types{V}"))?;
        define::<T, D>(&mut i, "descriptor")?;
        define::<T, DirStream>(&mut i, "directory-entry-stream")?;
        define::<T, InputStream>(&mut i, "input-stream")?;
        define::<T, OutputStream>(&mut i, "output-stream")?;
        define::<T, IoError>(&mut i, "error")?;
        i.func_wrap(
            "[method]descriptor.read-via-stream",
            |mut cx: StoreContextMut<'_, T>, (d, offset): (Resource<D>, u64)| {
                ops::read_via_stream(cx.data_mut().wasi(), &d, offset)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.write-via-stream",
            |mut cx: StoreContextMut<'_, T>, (d, offset): (Resource<D>, u64)| {
                ops::write_via_stream(cx.data_mut().wasi(), &d, Some(offset))
            },
        )?;
        i.func_wrap(
            "[method]descriptor.append-via-stream",
            |mut cx: StoreContextMut<'_, T>, (d,): (Resource<D>,)| {
                ops::write_via_stream(cx.data_mut().wasi(), &d, None)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.advise",
            |mut cx: StoreContextMut<'_, T>,
             (d, _offset, _len, _advice): (Resource<D>, u64, u64, Advice)|
             -> FsResult<()> {
                // Advice is a hint; taking none is a valid response.
                ops::descriptor(cx.data_mut().wasi(), &d).map(|_| Ok(()))
            },
        )?;
        for name in ["sync-data", "sync"] {
            i.func_wrap(
                &alloc::format!("[method]descriptor.{name}"),
                |mut cx: StoreContextMut<'_, T>, (d,): (Resource<D>,)| {
                    ops::sync(cx.data_mut().wasi(), &d)
                },
            )?;
        }
        i.func_wrap(
            "[method]descriptor.get-flags",
            |mut cx: StoreContextMut<'_, T>, (d,): (Resource<D>,)| -> FsResult<DescriptorFlags> {
                Ok(Ok(ops::descriptor(cx.data_mut().wasi(), &d)?.flags))
            },
        )?;
        i.func_wrap(
            "[method]descriptor.get-type",
            |mut cx: StoreContextMut<'_, T>, (d,): (Resource<D>,)| -> FsResult<DescriptorType> {
                Ok(Ok(ops::descriptor(cx.data_mut().wasi(), &d)?.kind))
            },
        )?;
        i.func_wrap(
            "[method]descriptor.set-size",
            |mut cx: StoreContextMut<'_, T>, (d, size): (Resource<D>, u64)| {
                ops::set_size(cx.data_mut().wasi(), &d, size)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.set-times",
            |mut cx: StoreContextMut<'_, T>,
             (d, a, m): (Resource<D>, NewTimestamp, NewTimestamp)| {
                ops::set_times(cx.data_mut().wasi(), &d, a, m)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.read",
            |mut cx: StoreContextMut<'_, T>,
             (d, len, offset): (Resource<D>, u64, u64)|
             -> FsResult<(Vec<u8>, bool)> {
                ops::read(cx.data_mut().wasi(), &d, len, offset)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.write",
            |mut cx: StoreContextMut<'_, T>, (d, buf, offset): (Resource<D>, Vec<u8>, u64)| {
                ops::write(cx.data_mut().wasi(), &d, &buf, offset)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.read-directory",
            |mut cx: StoreContextMut<'_, T>, (d,): (Resource<D>,)| {
                ops::read_directory(cx.data_mut().wasi(), &d)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.create-directory-at",
            |mut cx: StoreContextMut<'_, T>, (d, path): (Resource<D>, String)| {
                ops::create_directory_at(cx.data_mut().wasi(), &d, &path)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.stat",
            |mut cx: StoreContextMut<'_, T>, (d,): (Resource<D>,)| -> FsResult<DescriptorStat> {
                ops::stat(cx.data_mut().wasi(), &d)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.stat-at",
            |mut cx: StoreContextMut<'_, T>, (d, pf, path): (Resource<D>, PathFlags, String)| {
                ops::stat_at(cx.data_mut().wasi(), &d, pf, &path)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.set-times-at",
            |mut cx: StoreContextMut<'_, T>,
             (d, pf, path, a, m): (Resource<D>, PathFlags, String, NewTimestamp, NewTimestamp)| {
                ops::set_times_at(cx.data_mut().wasi(), &d, pf, &path, a, m)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.link-at",
            |mut cx: StoreContextMut<'_, T>,
             (d, pf, old, nd, new): (Resource<D>, PathFlags, String, Resource<D>, String)| {
                ops::link_at(cx.data_mut().wasi(), &d, pf, &old, &nd, &new)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.open-at",
            |mut cx: StoreContextMut<'_, T>,
             (d, pf, path, of, df): (
                Resource<D>,
                PathFlags,
                String,
                OpenFlags,
                DescriptorFlags,
            )| { ops::open_at(cx.data_mut().wasi(), &d, pf, &path, of, df) },
        )?;
        i.func_wrap(
            "[method]descriptor.readlink-at",
            |mut cx: StoreContextMut<'_, T>, (d, path): (Resource<D>, String)| {
                ops::readlink_at(cx.data_mut().wasi(), &d, &path)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.remove-directory-at",
            |mut cx: StoreContextMut<'_, T>, (d, path): (Resource<D>, String)| {
                ops::remove_at(cx.data_mut().wasi(), &d, &path, true)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.rename-at",
            |mut cx: StoreContextMut<'_, T>,
             (d, old, nd, new): (Resource<D>, String, Resource<D>, String)| {
                ops::rename_at(cx.data_mut().wasi(), &d, &old, &nd, &new)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.symlink-at",
            |mut cx: StoreContextMut<'_, T>, (d, target, path): (Resource<D>, String, String)| {
                ops::symlink_at(cx.data_mut().wasi(), &d, &target, &path)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.unlink-file-at",
            |mut cx: StoreContextMut<'_, T>, (d, path): (Resource<D>, String)| {
                ops::remove_at(cx.data_mut().wasi(), &d, &path, false)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.is-same-object",
            |mut cx: StoreContextMut<'_, T>, (a, b): (Resource<D>, Resource<D>)| {
                ops::is_same_object(cx.data_mut().wasi(), &a, &b)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.metadata-hash",
            |mut cx: StoreContextMut<'_, T>, (d,): (Resource<D>,)| -> FsResult<MetadataHashValue> {
                ops::metadata_hash(cx.data_mut().wasi(), &d, None)
            },
        )?;
        i.func_wrap(
            "[method]descriptor.metadata-hash-at",
            |mut cx: StoreContextMut<'_, T>, (d, pf, path): (Resource<D>, PathFlags, String)| {
                ops::metadata_hash(cx.data_mut().wasi(), &d, Some((pf, &path)))
            },
        )?;
        i.func_wrap(
            "[method]directory-entry-stream.read-directory-entry",
            |mut cx: StoreContextMut<'_, T>,
             (s,): (Resource<DirStream>,)|
             -> FsResult<Option<DirectoryEntry>> {
                match cx.data_mut().wasi().table.get_mut(&s)? {
                    Entry::DirStream(entries) => Ok(Ok(entries.pop_front())),
                    _ => Err(wrong_kind()),
                }
            },
        )?;
        i.func_wrap(
            "filesystem-error-code",
            |mut cx: StoreContextMut<'_, T>, (e,): (Resource<IoError>,)| match cx
                .data_mut()
                .wasi()
                .table
                .get(&e)?
            {
                Entry::Error { code, .. } => Ok(*code),
                _ => Err(wrong_kind()),
            },
        )?;
    }
    let mut i = linker.instance(&alloc::format!("wasi:filesystem/preopens{V}"))?;
    define::<T, D>(&mut i, "descriptor")?;
    i.func_wrap(
        "get-directories",
        |mut cx: StoreContextMut<'_, T>, (): ()| -> Result<Vec<(Resource<D>, String)>> {
            let ctx = cx.data_mut().wasi();
            let list: Vec<_> = ctx
                .preopens
                .iter()
                .map(|p| {
                    (
                        Descriptor {
                            fs: p.fs,
                            node: p.root.clone(),
                            kind: DescriptorType::Directory,
                            flags: p.flags,
                        },
                        p.guest_path.clone(),
                    )
                })
                .collect();
            let mut out = Vec::with_capacity(list.len());
            for (d, name) in list {
                out.push((ctx.table.push(Entry::Descriptor(d))?, name));
            }
            Ok(out)
        },
    )?;
    Ok(())
}
