//! Guest path resolution, one component at a time, never leaving the
//! directory a descriptor names.
//!
//! The rules (the sandbox):
//! - an absolute path is refused (`not-permitted`), and so is a symlink
//!   whose target is absolute;
//! - `..` walks back up the chain of directories resolution came down, and
//!   refuses (`not-permitted`) to go above the base descriptor's directory;
//! - a symlink is followed by splicing its target's components into the
//!   remaining path (so the same `..` rule applies to it), at most
//!   [`MAX_SYMLINKS`] times per resolution (`loop` beyond that);
//! - the backend only ever sees one checked name in a directory it handed
//!   out, so a path is never given to the host OS as a whole.

use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::types::{DescriptorType, ErrorCode};
use super::vfs::{Node, Vfs};

/// The most symlinks one resolution follows.
pub(crate) const MAX_SYMLINKS: u32 = 32;
/// The longest path accepted, in bytes.
pub(crate) const MAX_PATH: usize = 4096;
/// The longest single component accepted, in bytes.
pub(crate) const MAX_NAME: usize = 255;

/// What a path names.
#[derive(Debug)]
pub(crate) struct Resolved {
    /// The directory holding the final component (or the directory itself
    /// when the path ends in `.` or `..`).
    pub parent: Node,
    /// The final component; `None` when the path names `parent` itself.
    pub name: Option<String>,
    /// What is at `parent/name` (a symlink only when not following it);
    /// `None` if nothing is there.
    pub target: Option<(Node, DescriptorType)>,
    /// The path ended in `/`: it must name a directory.
    pub trailing_slash: bool,
    /// How many directories `parent` is below the base.
    pub depth: usize,
}

/// Checks one component a guest supplies (for names resolution hands to a
/// backend).
fn check_name(name: &str) -> Result<(), ErrorCode> {
    if name.len() > MAX_NAME {
        return Err(ErrorCode::NameTooLong);
    }
    if name.contains('\0') {
        return Err(ErrorCode::IllegalByteSequence);
    }
    // Separators and drive prefixes another OS would interpret.
    if cfg!(not(unix)) && (name.contains('\\') || name.contains(':')) {
        return Err(ErrorCode::NotPermitted);
    }
    Ok(())
}

/// Splits a path into components, skipping empty ones and `.`.
fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty() && *c != ".")
}

/// Resolves `path` relative to directory `base` of `fs`. `follow`: follow
/// a symlink in the final component.
pub(crate) fn resolve(
    fs: &dyn Vfs,
    base: &Node,
    path: &str,
    follow: bool,
) -> Result<Resolved, ErrorCode> {
    if path.is_empty() {
        return Err(ErrorCode::NoEntry);
    }
    if path.len() > MAX_PATH {
        return Err(ErrorCode::NameTooLong);
    }
    if path.starts_with('/') {
        return Err(ErrorCode::NotPermitted);
    }
    let mut trailing_slash = path.ends_with('/');
    let mut queue: VecDeque<String> = components(path).map(ToString::to_string).collect();
    for c in &queue {
        check_name(c)?;
    }
    let mut stack: Vec<Node> = alloc::vec![base.clone()];
    let mut links = 0u32;
    while let Some(c) = queue.pop_front() {
        let last = queue.is_empty();
        let Some(dir) = stack.last() else {
            return Err(ErrorCode::NotPermitted);
        };
        if c == ".." {
            if stack.len() == 1 {
                return Err(ErrorCode::NotPermitted);
            }
            stack.pop();
            continue;
        }
        let child = fs.child(dir, &c)?;
        match child {
            Some((node, DescriptorType::SymbolicLink)) if !last || follow || trailing_slash => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(ErrorCode::Loop);
                }
                let target = fs.read_link(&node)?;
                if target.starts_with('/') {
                    return Err(ErrorCode::NotPermitted);
                }
                if target.is_empty() {
                    return Err(ErrorCode::NoEntry);
                }
                if last && target.ends_with('/') {
                    trailing_slash = true;
                }
                for t in components(&target).rev() {
                    check_name(t)?;
                    queue.push_front(t.to_string());
                }
                if queue.len() > MAX_PATH {
                    return Err(ErrorCode::NameTooLong);
                }
            }
            Some((node, kind)) if !last => {
                if kind != DescriptorType::Directory {
                    return Err(ErrorCode::NotDirectory);
                }
                stack.push(node);
            }
            Some((node, kind)) => {
                if trailing_slash && kind != DescriptorType::Directory {
                    return Err(ErrorCode::NotDirectory);
                }
                let depth = stack.len() - 1;
                let parent = stack.pop().unwrap_or_else(|| base.clone());
                return Ok(Resolved {
                    parent,
                    name: Some(c),
                    target: Some((node, kind)),
                    trailing_slash,
                    depth,
                });
            }
            None if last => {
                let depth = stack.len() - 1;
                let parent = stack.pop().unwrap_or_else(|| base.clone());
                return Ok(Resolved {
                    parent,
                    name: Some(c),
                    target: None,
                    trailing_slash,
                    depth,
                });
            }
            None => return Err(ErrorCode::NoEntry),
        }
    }
    // The path named a directory itself (".", "a/..", or a symlink to one).
    let depth = stack.len() - 1;
    let parent = stack.pop().unwrap_or_else(|| base.clone());
    Ok(Resolved {
        target: Some((parent.clone(), DescriptorType::Directory)),
        parent,
        name: None,
        trailing_slash,
        depth,
    })
}

/// Checks the target a guest gives a new symlink at `depth` directories
/// below its base: relative, and not climbing above the base lexically.
pub(crate) fn check_symlink_target(target: &str, depth: usize) -> Result<(), ErrorCode> {
    if target.is_empty() {
        return Err(ErrorCode::NoEntry);
    }
    if target.len() > MAX_PATH {
        return Err(ErrorCode::NameTooLong);
    }
    if target.starts_with('/') {
        return Err(ErrorCode::NotPermitted);
    }
    let mut level = depth as i64;
    for c in components(target) {
        check_name(c)?;
        if c == ".." {
            level -= 1;
            if level < 0 {
                return Err(ErrorCode::NotPermitted);
            }
        } else {
            level += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clocks::Datetime;
    use crate::filesystem::memory::MemoryDir;

    fn tree() -> MemoryDir {
        let mut m = MemoryDir::new();
        m.add_file("a/b/file.txt", b"x").unwrap();
        m.add_dir("a/c").unwrap();
        let root = Node::Mem(0);
        let t = Datetime::default();
        let a = match resolve(&m, &root, "a", false).unwrap().target {
            Some((n, _)) => n,
            None => panic!("a"),
        };
        m.symlink(&a, "up", "..", t).unwrap(); // a/up -> the root
        m.symlink(&a, "out", "../..", t).unwrap(); // a/out -> above the root
        m.symlink(&a, "abs", "/a", t).unwrap();
        m.symlink(&a, "self", "self", t).unwrap();
        m.symlink(&a, "tob", "b/", t).unwrap();
        m.symlink(&a, "dangling", "nope", t).unwrap();
        m
    }

    fn kind(m: &MemoryDir, path: &str, follow: bool) -> Result<Option<DescriptorType>, ErrorCode> {
        resolve(m, &Node::Mem(0), path, follow).map(|r| r.target.map(|(_, k)| k))
    }

    #[test]
    fn plain_paths() {
        let m = tree();
        assert_eq!(
            kind(&m, "a/b/file.txt", true),
            Ok(Some(DescriptorType::RegularFile))
        );
        assert_eq!(
            kind(&m, "./a//b/./file.txt", true),
            Ok(Some(DescriptorType::RegularFile))
        );
        assert_eq!(kind(&m, "a/b/missing", true), Ok(None));
        assert_eq!(kind(&m, "a/missing/x", true), Err(ErrorCode::NoEntry));
        assert_eq!(
            kind(&m, "a/b/file.txt/x", true),
            Err(ErrorCode::NotDirectory)
        );
        assert_eq!(
            kind(&m, "a/b/file.txt/", true),
            Err(ErrorCode::NotDirectory)
        );
        assert_eq!(kind(&m, ".", true), Ok(Some(DescriptorType::Directory)));
        assert_eq!(kind(&m, "", true), Err(ErrorCode::NoEntry));
    }

    #[test]
    fn dot_dot_stays_inside() {
        let m = tree();
        assert_eq!(
            kind(&m, "a/b/../c", true),
            Ok(Some(DescriptorType::Directory))
        );
        assert_eq!(kind(&m, "a/..", true), Ok(Some(DescriptorType::Directory)));
        assert_eq!(kind(&m, "..", true), Err(ErrorCode::NotPermitted));
        assert_eq!(kind(&m, "a/../..", true), Err(ErrorCode::NotPermitted));
        assert_eq!(
            kind(&m, "a/b/../../../x", true),
            Err(ErrorCode::NotPermitted)
        );
        assert_eq!(kind(&m, "/a", true), Err(ErrorCode::NotPermitted));
        assert_eq!(kind(&m, "//", true), Err(ErrorCode::NotPermitted));
    }

    #[test]
    fn symlinks_stay_inside() {
        let m = tree();
        // A link to the root is inside; to above it or absolute, refused.
        assert_eq!(
            kind(&m, "a/up/a/b/file.txt", true),
            Ok(Some(DescriptorType::RegularFile))
        );
        assert_eq!(kind(&m, "a/out", true), Err(ErrorCode::NotPermitted));
        assert_eq!(kind(&m, "a/out/x", false), Err(ErrorCode::NotPermitted));
        assert_eq!(kind(&m, "a/abs", true), Err(ErrorCode::NotPermitted));
        assert_eq!(kind(&m, "a/up/..", true), Err(ErrorCode::NotPermitted));
        // Not following the last component gives the link itself.
        assert_eq!(
            kind(&m, "a/out", false),
            Ok(Some(DescriptorType::SymbolicLink))
        );
        assert_eq!(
            kind(&m, "a/abs", false),
            Ok(Some(DescriptorType::SymbolicLink))
        );
        // A trailing slash follows.
        assert_eq!(
            kind(&m, "a/tob", false),
            Ok(Some(DescriptorType::SymbolicLink))
        );
        assert_eq!(
            kind(&m, "a/tob/", false),
            Ok(Some(DescriptorType::Directory))
        );
        assert_eq!(
            kind(&m, "a/tob/file.txt", false),
            Ok(Some(DescriptorType::RegularFile))
        );
        assert_eq!(kind(&m, "a/self", true), Err(ErrorCode::Loop));
        assert_eq!(kind(&m, "a/dangling", true), Ok(None));
    }

    #[test]
    fn link_chains_are_bounded() {
        let mut m = MemoryDir::new();
        let root = Node::Mem(0);
        let t = Datetime::default();
        m.symlink(&root, "l0", "end", t).unwrap();
        for i in 1..=40 {
            m.symlink(
                &root,
                &alloc::format!("l{i}"),
                &alloc::format!("l{}", i - 1),
                t,
            )
            .unwrap();
        }
        m.add_file("end", b"").unwrap();
        assert_eq!(kind(&m, "l31", true), Ok(Some(DescriptorType::RegularFile)));
        assert_eq!(kind(&m, "l40", true), Err(ErrorCode::Loop));
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let m = tree();
        let long = "a/".repeat(3000);
        assert_eq!(kind(&m, &long, true), Err(ErrorCode::NameTooLong));
        assert_eq!(
            kind(&m, &"x".repeat(300), true),
            Err(ErrorCode::NameTooLong)
        );
        assert_eq!(kind(&m, "a\0", true), Err(ErrorCode::IllegalByteSequence));
        for p in ["\u{feff}", "..\\..", "a/./../a/./b/../../..", "ü/../../"] {
            let _ = kind(&m, p, true);
        }
    }

    #[test]
    fn symlink_targets() {
        assert_eq!(check_symlink_target("x", 0), Ok(()));
        assert_eq!(check_symlink_target("../x", 1), Ok(()));
        assert_eq!(
            check_symlink_target("../x", 0),
            Err(ErrorCode::NotPermitted)
        );
        assert_eq!(
            check_symlink_target("a/../../x", 0),
            Err(ErrorCode::NotPermitted)
        );
        assert_eq!(
            check_symlink_target("/etc", 5),
            Err(ErrorCode::NotPermitted)
        );
        assert_eq!(check_symlink_target("", 0), Err(ErrorCode::NoEntry));
    }
}
