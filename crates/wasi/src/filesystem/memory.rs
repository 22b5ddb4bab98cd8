//! An in-memory directory tree: a filesystem backend that needs no host
//! and works without `std`.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::types::{DescriptorStat, DescriptorType, DirectoryEntry, ErrorCode, NewTimestamp};
use super::vfs::{Node, OpenMode, Vfs};
use crate::clocks::Datetime;

enum Content {
    File(Vec<u8>),
    Dir(BTreeMap<String, u32>),
    Symlink(String),
}

struct Inode {
    content: Content,
    /// For directories: the directory holding it (the root: itself).
    parent: u32,
    links: u64,
    atime: Datetime,
    mtime: Datetime,
    ctime: Datetime,
}

/// An in-memory directory tree, to preopen with
/// [`WasiCtxBuilder::preopened_memory_dir`](crate::WasiCtxBuilder::preopened_memory_dir)
/// and to read back after a run with
/// [`WasiCtx::memory_dir`](crate::WasiCtx::memory_dir).
///
/// Its total size (file bytes plus a fixed cost per entry) is capped
/// ([`MemoryDir::with_capacity_limit`]); a guest write past the cap fails
/// with `insufficient-space`. Removed files' inodes are kept while the
/// tree lives, so open descriptors of them stay valid (POSIX semantics).
pub struct MemoryDir {
    inodes: Vec<Inode>,
    bytes: usize,
    limit: usize,
}

/// What each inode and directory entry counts against the size cap.
const ENTRY_COST: usize = 64;

impl Default for MemoryDir {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryDir {
    /// An empty tree with a 64 MiB cap.
    pub fn new() -> Self {
        MemoryDir {
            inodes: alloc::vec![Inode {
                content: Content::Dir(BTreeMap::new()),
                parent: 0,
                links: 2,
                atime: Datetime::default(),
                mtime: Datetime::default(),
                ctime: Datetime::default(),
            }],
            bytes: ENTRY_COST,
            limit: 64 << 20,
        }
    }

    /// Sets the cap on the tree's total size in bytes.
    pub fn with_capacity_limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }

    /// Adds (or replaces) file `path` (`/`-separated, relative; parent
    /// directories are created) with `contents`. Fails with the WIT error
    /// code if a component is not a directory or a name is invalid.
    pub fn add_file(&mut self, path: &str, contents: &[u8]) -> Result<(), ErrorCode> {
        let (dir, name) = self.make_parents(path)?;
        let epoch = Datetime::default();
        match self.lookup(dir, &name) {
            Some(ino) => {
                let old = match self.inodes.get(ino as usize).map(|i| &i.content) {
                    Some(Content::File(data)) => data.len(),
                    _ => return Err(ErrorCode::Exist),
                };
                let total = self
                    .bytes
                    .saturating_sub(old)
                    .saturating_add(contents.len());
                if total > self.limit {
                    return Err(ErrorCode::InsufficientSpace);
                }
                self.bytes = total;
                if let Some(Content::File(data)) =
                    self.inodes.get_mut(ino as usize).map(|i| &mut i.content)
                {
                    *data = contents.to_vec();
                }
                Ok(())
            }
            None => {
                let ino = self.new_inode(Content::File(contents.to_vec()), epoch)?;
                self.insert(dir, name, ino)
            }
        }
    }

    /// Adds directory `path` and its parents (nothing if it exists).
    pub fn add_dir(&mut self, path: &str) -> Result<(), ErrorCode> {
        let (dir, name) = self.make_parents(path)?;
        match self.lookup(dir, &name) {
            Some(ino) if self.is_dir(ino) => Ok(()),
            Some(_) => Err(ErrorCode::Exist),
            None => {
                let ino = self.new_inode(Content::Dir(BTreeMap::new()), Datetime::default())?;
                self.insert(dir, name, ino)
            }
        }
    }

    /// The contents of file `path` (symlinks are not followed); `None` if
    /// there is no such file.
    pub fn read_file(&self, path: &str) -> Option<&[u8]> {
        let mut ino = 0u32;
        for c in path.split('/').filter(|c| !c.is_empty() && *c != ".") {
            ino = self.lookup(ino, c)?;
        }
        match &self.inodes.get(ino as usize)?.content {
            Content::File(d) => Some(d),
            _ => None,
        }
    }

    /// The names in directory `path` (sorted); `None` if it is not one.
    pub fn list_dir(&self, path: &str) -> Option<Vec<String>> {
        let mut ino = 0u32;
        for c in path.split('/').filter(|c| !c.is_empty() && *c != ".") {
            ino = self.lookup(ino, c)?;
        }
        match &self.inodes.get(ino as usize)?.content {
            Content::Dir(m) => Some(m.keys().cloned().collect()),
            _ => None,
        }
    }

    fn make_parents(&mut self, path: &str) -> Result<(u32, String), ErrorCode> {
        let parts: Vec<&str> = path
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        let Some((last, dirs)) = parts.split_last() else {
            return Err(ErrorCode::Invalid);
        };
        let mut dir = 0u32;
        for d in dirs {
            check(d)?;
            dir = match self.lookup(dir, d) {
                Some(ino) if self.is_dir(ino) => ino,
                Some(_) => return Err(ErrorCode::NotDirectory),
                None => {
                    let ino = self.new_inode(Content::Dir(BTreeMap::new()), Datetime::default())?;
                    self.insert(dir, (*d).to_string(), ino)?;
                    ino
                }
            };
        }
        check(last)?;
        Ok((dir, (*last).to_string()))
    }

    fn lookup(&self, dir: u32, name: &str) -> Option<u32> {
        match &self.inodes.get(dir as usize)?.content {
            Content::Dir(m) => m.get(name).copied(),
            _ => None,
        }
    }

    fn is_dir(&self, ino: u32) -> bool {
        matches!(
            self.inodes.get(ino as usize).map(|i| &i.content),
            Some(Content::Dir(_))
        )
    }

    fn charge(&mut self, more: usize) -> Result<(), ErrorCode> {
        let total = self.bytes.saturating_add(more);
        if total > self.limit {
            return Err(ErrorCode::InsufficientSpace);
        }
        self.bytes = total;
        Ok(())
    }

    fn new_inode(&mut self, content: Content, now: Datetime) -> Result<u32, ErrorCode> {
        let size = match &content {
            Content::File(d) => d.len(),
            Content::Symlink(t) => t.len(),
            Content::Dir(_) => 0,
        };
        if self.inodes.len() >= u32::MAX as usize {
            return Err(ErrorCode::InsufficientSpace);
        }
        self.charge(ENTRY_COST.saturating_add(size))?;
        let links = if matches!(content, Content::Dir(_)) {
            2
        } else {
            0
        };
        self.inodes.push(Inode {
            content,
            parent: 0,
            links,
            atime: now,
            mtime: now,
            ctime: now,
        });
        Ok((self.inodes.len() - 1) as u32)
    }

    fn insert(&mut self, dir: u32, name: String, ino: u32) -> Result<(), ErrorCode> {
        let cost = ENTRY_COST.saturating_add(name.len());
        self.charge(cost)?;
        match self.inodes.get_mut(dir as usize).map(|i| &mut i.content) {
            Some(Content::Dir(m)) => {
                m.insert(name, ino);
            }
            _ => return Err(ErrorCode::NotDirectory),
        }
        if let Some(i) = self.inodes.get_mut(ino as usize) {
            i.links += 1;
            if matches!(i.content, Content::Dir(_)) {
                i.parent = dir;
            }
        }
        Ok(())
    }

    fn detach(&mut self, dir: u32, name: &str) -> Result<u32, ErrorCode> {
        let ino = match self.inodes.get_mut(dir as usize).map(|i| &mut i.content) {
            Some(Content::Dir(m)) => m.remove(name).ok_or(ErrorCode::NoEntry)?,
            _ => return Err(ErrorCode::NotDirectory),
        };
        self.bytes = self
            .bytes
            .saturating_sub(ENTRY_COST.saturating_add(name.len()));
        if let Some(i) = self.inodes.get_mut(ino as usize) {
            i.links = i.links.saturating_sub(1);
        }
        Ok(ino)
    }

    fn inode(&self, node: &Node) -> Result<&Inode, ErrorCode> {
        match node {
            Node::Mem(i) => self.inodes.get(*i as usize).ok_or(ErrorCode::BadDescriptor),
            #[allow(unreachable_patterns)]
            _ => Err(ErrorCode::BadDescriptor),
        }
    }

    fn inode_mut(&mut self, node: &Node) -> Result<&mut Inode, ErrorCode> {
        match node {
            Node::Mem(i) => self
                .inodes
                .get_mut(*i as usize)
                .ok_or(ErrorCode::BadDescriptor),
            #[allow(unreachable_patterns)]
            _ => Err(ErrorCode::BadDescriptor),
        }
    }

    fn ino(node: &Node) -> Result<u32, ErrorCode> {
        match node {
            Node::Mem(i) => Ok(*i),
            #[allow(unreachable_patterns)]
            _ => Err(ErrorCode::BadDescriptor),
        }
    }

    fn kind(&self, ino: u32) -> DescriptorType {
        match self.inodes.get(ino as usize).map(|i| &i.content) {
            Some(Content::File(_)) => DescriptorType::RegularFile,
            Some(Content::Dir(_)) => DescriptorType::Directory,
            Some(Content::Symlink(_)) => DescriptorType::SymbolicLink,
            None => DescriptorType::Unknown,
        }
    }

    fn touch_dir(&mut self, dir: u32, now: Datetime) {
        if let Some(i) = self.inodes.get_mut(dir as usize) {
            i.mtime = now;
            i.ctime = now;
        }
    }
}

fn check(name: &str) -> Result<(), ErrorCode> {
    if name == ".." || name.contains('\0') {
        return Err(ErrorCode::Invalid);
    }
    if name.len() > super::path::MAX_NAME {
        return Err(ErrorCode::NameTooLong);
    }
    Ok(())
}

fn stamp(t: NewTimestamp, now: Datetime, old: Datetime) -> Datetime {
    match t {
        NewTimestamp::NoChange => old,
        NewTimestamp::Now => now,
        NewTimestamp::Timestamp(d) => d,
    }
}

impl Vfs for MemoryDir {
    fn child(&self, dir: &Node, name: &str) -> Result<Option<(Node, DescriptorType)>, ErrorCode> {
        match &self.inode(dir)?.content {
            Content::Dir(m) => Ok(m.get(name).map(|&i| (Node::Mem(i), self.kind(i)))),
            _ => Err(ErrorCode::NotDirectory),
        }
    }

    fn read_link(&self, node: &Node) -> Result<String, ErrorCode> {
        match &self.inode(node)?.content {
            Content::Symlink(t) => Ok(t.clone()),
            _ => Err(ErrorCode::Invalid),
        }
    }

    fn stat(&self, node: &Node) -> Result<DescriptorStat, ErrorCode> {
        let i = self.inode(node)?;
        let (type_, size) = match &i.content {
            Content::File(d) => (DescriptorType::RegularFile, d.len() as u64),
            Content::Dir(m) => (DescriptorType::Directory, m.len() as u64),
            Content::Symlink(t) => (DescriptorType::SymbolicLink, t.len() as u64),
        };
        Ok(DescriptorStat {
            type_,
            link_count: i.links,
            size,
            data_access_timestamp: Some(i.atime),
            data_modification_timestamp: Some(i.mtime),
            status_change_timestamp: Some(i.ctime),
        })
    }

    fn open(
        &mut self,
        parent: &Node,
        name: &str,
        existing: Option<(Node, DescriptorType)>,
        mode: OpenMode,
        now: Datetime,
    ) -> Result<(Node, DescriptorType), ErrorCode> {
        match existing {
            Some((node, kind)) => {
                if mode.truncate && kind != DescriptorType::Directory {
                    self.set_size(&node, 0, now)?;
                }
                Ok((node, kind))
            }
            None => {
                let dir = Self::ino(parent)?;
                check(name)?;
                let ino = self.new_inode(Content::File(Vec::new()), now)?;
                self.insert(dir, name.to_string(), ino)?;
                self.touch_dir(dir, now);
                Ok((Node::Mem(ino), DescriptorType::RegularFile))
            }
        }
    }

    fn read(&self, node: &Node, offset: u64, len: usize) -> Result<Vec<u8>, ErrorCode> {
        match &self.inode(node)?.content {
            Content::File(d) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX).min(d.len());
                let end = start.saturating_add(len).min(d.len());
                Ok(d[start..end].to_vec())
            }
            Content::Dir(_) => Err(ErrorCode::IsDirectory),
            Content::Symlink(_) => Err(ErrorCode::BadDescriptor),
        }
    }

    fn write(
        &mut self,
        node: &Node,
        offset: Option<u64>,
        data: &[u8],
        now: Datetime,
    ) -> Result<u64, ErrorCode> {
        let len = match &self.inode(node)?.content {
            Content::File(d) => d.len(),
            Content::Dir(_) => return Err(ErrorCode::IsDirectory),
            Content::Symlink(_) => return Err(ErrorCode::BadDescriptor),
        };
        let start = match offset {
            Some(o) => usize::try_from(o).map_err(|_| ErrorCode::FileTooLarge)?,
            None => len,
        };
        let end = start
            .checked_add(data.len())
            .ok_or(ErrorCode::FileTooLarge)?;
        self.charge(end.saturating_sub(len))?;
        let i = self.inode_mut(node)?;
        if let Content::File(d) = &mut i.content {
            if d.len() < end {
                d.resize(end, 0);
            }
            d[start..end].copy_from_slice(data);
        }
        i.mtime = now;
        i.ctime = now;
        Ok(end as u64)
    }

    fn set_size(&mut self, node: &Node, size: u64, now: Datetime) -> Result<(), ErrorCode> {
        let size = usize::try_from(size).map_err(|_| ErrorCode::FileTooLarge)?;
        let len = match &self.inode(node)?.content {
            Content::File(d) => d.len(),
            Content::Dir(_) => return Err(ErrorCode::IsDirectory),
            Content::Symlink(_) => return Err(ErrorCode::BadDescriptor),
        };
        if size > len {
            self.charge(size - len)?;
        } else {
            self.bytes = self.bytes.saturating_sub(len - size);
        }
        let i = self.inode_mut(node)?;
        if let Content::File(d) = &mut i.content {
            d.resize(size, 0);
        }
        i.mtime = now;
        i.ctime = now;
        Ok(())
    }

    fn set_times(
        &mut self,
        node: &Node,
        atime: NewTimestamp,
        mtime: NewTimestamp,
        now: Datetime,
    ) -> Result<(), ErrorCode> {
        let i = self.inode_mut(node)?;
        i.atime = stamp(atime, now, i.atime);
        i.mtime = stamp(mtime, now, i.mtime);
        i.ctime = now;
        Ok(())
    }

    fn read_dir(&self, node: &Node) -> Result<Vec<DirectoryEntry>, ErrorCode> {
        match &self.inode(node)?.content {
            Content::Dir(m) => Ok(m
                .iter()
                .map(|(name, &i)| DirectoryEntry {
                    type_: self.kind(i),
                    name: name.clone(),
                })
                .collect()),
            _ => Err(ErrorCode::NotDirectory),
        }
    }

    fn create_dir(&mut self, parent: &Node, name: &str, now: Datetime) -> Result<(), ErrorCode> {
        let dir = Self::ino(parent)?;
        check(name)?;
        if self.lookup(dir, name).is_some() {
            return Err(ErrorCode::Exist);
        }
        let ino = self.new_inode(Content::Dir(BTreeMap::new()), now)?;
        self.insert(dir, name.to_string(), ino)?;
        self.touch_dir(dir, now);
        Ok(())
    }

    fn remove_dir(&mut self, parent: &Node, name: &str, now: Datetime) -> Result<(), ErrorCode> {
        let dir = Self::ino(parent)?;
        let ino = self.lookup(dir, name).ok_or(ErrorCode::NoEntry)?;
        match self.inodes.get(ino as usize).map(|i| &i.content) {
            Some(Content::Dir(m)) if !m.is_empty() => return Err(ErrorCode::NotEmpty),
            Some(Content::Dir(_)) => {}
            _ => return Err(ErrorCode::NotDirectory),
        }
        self.detach(dir, name)?;
        self.touch_dir(dir, now);
        Ok(())
    }

    fn unlink(&mut self, parent: &Node, name: &str, now: Datetime) -> Result<(), ErrorCode> {
        let dir = Self::ino(parent)?;
        let ino = self.lookup(dir, name).ok_or(ErrorCode::NoEntry)?;
        if self.is_dir(ino) {
            return Err(ErrorCode::IsDirectory);
        }
        self.detach(dir, name)?;
        // The inode stays (and counts against the cap): open descriptors
        // may still read it.
        if let Some(i) = self.inodes.get_mut(ino as usize) {
            i.ctime = now;
        }
        self.touch_dir(dir, now);
        Ok(())
    }

    fn rename(
        &mut self,
        old_parent: &Node,
        old_name: &str,
        new_parent: &Node,
        new_name: &str,
        now: Datetime,
    ) -> Result<(), ErrorCode> {
        let (od, nd) = (Self::ino(old_parent)?, Self::ino(new_parent)?);
        check(new_name)?;
        let ino = self.lookup(od, old_name).ok_or(ErrorCode::NoEntry)?;
        // A directory may not move into itself or below itself.
        if self.is_dir(ino) && self.is_ancestor(ino, nd) {
            return Err(ErrorCode::Invalid);
        }
        if let Some(existing) = self.lookup(nd, new_name) {
            if existing == ino {
                return Ok(());
            }
            match (self.is_dir(ino), self.is_dir(existing)) {
                (true, false) => return Err(ErrorCode::NotDirectory),
                (false, true) => return Err(ErrorCode::IsDirectory),
                (true, true) => {
                    if let Some(Content::Dir(m)) =
                        self.inodes.get(existing as usize).map(|i| &i.content)
                    {
                        if !m.is_empty() {
                            return Err(ErrorCode::NotEmpty);
                        }
                    }
                }
                (false, false) => {}
            }
            self.detach(nd, new_name)?;
        }
        self.detach(od, old_name)?;
        self.insert(nd, new_name.to_string(), ino)?;
        self.touch_dir(od, now);
        self.touch_dir(nd, now);
        Ok(())
    }

    fn symlink(
        &mut self,
        parent: &Node,
        name: &str,
        target: &str,
        now: Datetime,
    ) -> Result<(), ErrorCode> {
        let dir = Self::ino(parent)?;
        check(name)?;
        if self.lookup(dir, name).is_some() {
            return Err(ErrorCode::Exist);
        }
        let ino = self.new_inode(Content::Symlink(target.to_string()), now)?;
        self.insert(dir, name.to_string(), ino)?;
        self.touch_dir(dir, now);
        Ok(())
    }

    fn link(
        &mut self,
        node: &Node,
        new_parent: &Node,
        new_name: &str,
        now: Datetime,
    ) -> Result<(), ErrorCode> {
        let (ino, dir) = (Self::ino(node)?, Self::ino(new_parent)?);
        check(new_name)?;
        if self.lookup(dir, new_name).is_some() {
            return Err(ErrorCode::Exist);
        }
        self.insert(dir, new_name.to_string(), ino)?;
        if let Some(i) = self.inodes.get_mut(ino as usize) {
            i.ctime = now;
        }
        self.touch_dir(dir, now);
        Ok(())
    }

    fn sync(&mut self, node: &Node) -> Result<(), ErrorCode> {
        self.inode(node).map(|_| ())
    }

    fn identity(&self, node: &Node) -> Result<(u64, u64), ErrorCode> {
        Ok((0, u64::from(Self::ino(node)?)))
    }
}

impl MemoryDir {
    /// True if `ancestor` is `dir` or a directory above it (iterative, over
    /// the parent links of directories).
    fn is_ancestor(&self, ancestor: u32, dir: u32) -> bool {
        let mut at = dir;
        for _ in 0..=self.inodes.len() {
            if at == ancestor {
                return true;
            }
            match self.inodes.get(at as usize) {
                Some(i) if at != 0 => at = i.parent,
                _ => return false,
            }
        }
        false
    }
}
