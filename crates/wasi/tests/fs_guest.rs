//! The `fs` guest (Rust std, wasm32-wasip2, and the same program built for
//! wasip1 through the preview1 adapter) against in-memory trees and real
//! temporary host directories: every common std::fs operation, read-only
//! preopens, and the sandbox escapes.

mod common;

use common::*;
use componentry_wasi::{DirAccess, MemoryDir, WasiCtxBuilder};

fn fs_cmd(args: &[&str]) -> WasiCtxBuilder {
    cmd(args)
}

/// What `fs basics` prints. Two lines show std's view rather than the
/// host's: WASI 0.2 `stat` carries no permission bits, so std reports every
/// file `readonly`; and the host's `not-empty` arrives as errno 55
/// (`ENOTEMPTY`, "Directory not empty"), which std's wasi target does not
/// map to `DirectoryNotEmpty` (the `unlink`/`remove_dir` probe checks the
/// code itself).
const BASICS: &str = "\
write a.txt: ok
read a.txt: hello
append: ok
read a.txt: hello world
seek start+6: at 6: world
seek end-5: at 6: world
overwrite at 0: ok
read a.txt: Jello world
metadata a.txt: file len=11 readonly=true
truncate to 5: ok
read a.txt: Jello
set modified: ok
modified: Ok(1000000000)
create_new a.txt: error AlreadyExists
open missing: error NotFound
create_dir_all d/x/y: ok
create_dir d: error AlreadyExists
write d/x/y/z.txt: ok
ls: a.txt file, d dir
ls d/x/y: z.txt file
rename a.txt d/b.txt: ok
a.txt exists: false
read d/b.txt: Jello
copy d/b.txt c.txt: 5 bytes
read c.txt: Jello
read_dir of a file: error NotADirectory
remove_file c.txt: ok
remove_dir d (not empty): error Uncategorized
remove_file d (a dir): error IsADirectory
remove_dir_all d: ok
ls: (empty)
";

fn basics_in_memory(wasm: &str) {
    let mut b = fs_cmd(&["basics", "/tmp"]);
    b.preopened_memory_dir(MemoryDir::new(), "/tmp", DirAccess::ReadWrite);
    let r = run(&guest(wasm), &mut b);
    assert_eq!(r.code.as_ref().unwrap(), &0, "{}", r.stderr);
    assert_eq!(r.stdout, BASICS);
    assert_eq!(
        r.ctx.memory_dir("/tmp").unwrap().list_dir("").unwrap(),
        Vec::<String>::new()
    );
}

fn basics_on_host(wasm: &str) {
    let dir = TempDir::new("basics");
    let mut b = fs_cmd(&["basics", "/data"]);
    b.preopened_dir(dir.path(), "/data", DirAccess::ReadWrite)
        .unwrap();
    let r = run(&guest(wasm), &mut b);
    assert_eq!(r.code.as_ref().unwrap(), &0, "{}", r.stderr);
    assert_eq!(r.stdout, BASICS);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn basics_in_memory_p2() {
    basics_in_memory("fs.wasm");
}

#[test]
fn basics_in_memory_p1_adapter() {
    basics_in_memory("fs-p1.wasm");
}

#[test]
fn basics_on_host_p2() {
    basics_on_host("fs.wasm");
}

#[test]
fn basics_on_host_p1_adapter() {
    basics_on_host("fs-p1.wasm");
}

/// A temporary folder with `outside.txt` and the preopened `sandbox/`.
struct Escape {
    root: TempDir,
}

const SECRET: &str = "secret outside the sandbox";

impl Escape {
    fn new() -> Self {
        let root = TempDir::new("escape");
        std::fs::write(root.path().join("outside.txt"), SECRET).unwrap();
        std::fs::create_dir(root.path().join("sandbox")).unwrap();
        Escape { root }
    }

    fn sandbox(&self) -> std::path::PathBuf {
        self.root.path().join("sandbox")
    }

    fn run(&self, wasm: &str, args: &[&str]) -> Run {
        let mut b = fs_cmd(args);
        b.preopened_dir(self.sandbox(), "/sandbox", DirAccess::ReadWrite)
            .unwrap();
        run(&guest(wasm), &mut b)
    }

    /// Outside the sandbox: `outside.txt` unchanged, nothing new.
    fn assert_untouched(&self) {
        assert_eq!(
            std::fs::read_to_string(self.root.path().join("outside.txt")).unwrap(),
            SECRET
        );
        let mut names: Vec<String> = std::fs::read_dir(self.root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["outside.txt", "sandbox"]);
    }
}

/// What `fs escape` prints: every way out refused (`not-permitted`, which
/// std shows as `PermissionDenied`), the symlink inside working. `a/../..`
/// stops at the missing `a`; `/etc/passwd` matches no preopen, so libc
/// refuses it before asking the host; `write link-out` makes a plain file,
/// as the link was refused.
const ESCAPE: &str = "\
read ../outside.txt: error PermissionDenied
read a/../../outside.txt: error NotFound
read /etc/passwd: error NotFound
write ../outside.txt: error PermissionDenied
write ../new.txt: error PermissionDenied
metadata ..: error PermissionDenied
ls ..: error PermissionDenied
mkdir ../newdir: error PermissionDenied
symlink link-out -> ../outside.txt: error PermissionDenied
read link-out: error NotFound
write link-out: ok
symlink link-abs -> /etc/passwd: error PermissionDenied
read link-abs: error NotFound
write inside.txt: ok
symlink link-in -> inside.txt: ok
read link-in: in
hard_link ../outside.txt hl: error PermissionDenied
read hl: error NotFound
rename inside.txt ../moved.txt: error PermissionDenied
read inside.txt: in
ls: (empty)
";

fn escapes(wasm: &str) {
    let e = Escape::new();
    let r = e.run(wasm, &["escape", "/sandbox"]);
    assert_eq!(r.code.as_ref().unwrap(), &0, "{}", r.stderr);
    assert_eq!(r.stdout, ESCAPE);
    e.assert_untouched();
}

#[test]
fn escapes_are_refused_p2() {
    escapes("fs.wasm");
}

#[test]
fn escapes_are_refused_p1_adapter() {
    escapes("fs-p1.wasm");
}

/// Symlinks the *host* put in the sandbox, pointing outside (relative,
/// absolute, to the parent directory, through a chain): never followed.
#[cfg(unix)]
#[test]
fn host_made_symlinks_to_outside_are_not_followed() {
    use std::os::unix::fs::symlink;
    let e = Escape::new();
    let sb = e.sandbox();
    let outside = e.root.path().join("outside.txt");
    symlink("../outside.txt", sb.join("rel")).unwrap();
    symlink(&outside, sb.join("abs")).unwrap();
    symlink("..", sb.join("up")).unwrap();
    symlink("rel", sb.join("chain")).unwrap();
    std::fs::create_dir(sb.join("sub")).unwrap();
    symlink("../../outside.txt", sb.join("sub/deep")).unwrap();
    symlink("loop2", sb.join("loop1")).unwrap();
    symlink("loop1", sb.join("loop2")).unwrap();
    for wasm in ["fs.wasm", "fs-p1.wasm"] {
        for (args, want) in [
            (
                &["read", "/sandbox/rel"][..],
                "read: error PermissionDenied\n",
            ),
            (&["read", "/sandbox/abs"], "read: error PermissionDenied\n"),
            (
                &["read", "/sandbox/up/outside.txt"],
                "read: error PermissionDenied\n",
            ),
            (
                &["read", "/sandbox/chain"],
                "read: error PermissionDenied\n",
            ),
            (
                &["read", "/sandbox/sub/deep"],
                "read: error PermissionDenied\n",
            ),
            (
                &["write", "/sandbox/rel", "changed"],
                "write: error PermissionDenied\n",
            ),
            (
                &["write", "/sandbox/abs", "changed"],
                "write: error PermissionDenied\n",
            ),
            (
                &["append", "/sandbox/chain", "more"],
                "append: error PermissionDenied\n",
            ),
            (&["ls", "/sandbox/up"], "ls: error PermissionDenied\n"),
            (
                &["mkdir", "/sandbox/up/made"],
                "mkdir: error PermissionDenied\n",
            ),
            (
                &["rename", "/sandbox/sub", "/sandbox/up/sub"],
                "rename: error PermissionDenied\n",
            ),
            (
                &["hardlink", "/sandbox/rel", "/sandbox/hl"],
                "hardlink: error PermissionDenied\n",
            ),
            (
                &["stat", "/sandbox/rel"],
                "stat: error PermissionDenied\nlstat: symlink len=14\n",
            ),
            (&["read", "/sandbox/loop1"], "read: error FilesystemLoop\n"),
            // Reading a link's text is not following it.
            (&["readlink", "/sandbox/rel"], "readlink: ../outside.txt\n"),
        ] {
            let r = e.run(wasm, args);
            assert_eq!(r.stdout, want, "{wasm} {args:?}: {}", r.stderr);
            assert!(!r.stdout.contains(SECRET));
            e.assert_untouched();
        }
    }
    // Removing the link removes the link, not its target.
    let r = e.run("fs.wasm", &["rm", "/sandbox/abs"]);
    assert_eq!(r.stdout, "rm: ok\n");
    e.assert_untouched();
}

/// A read-only preopen: reads work, every change fails with `read-only`
/// (EROFS, std's `ReadOnlyFilesystem`), and nothing changes on the host.
#[test]
fn read_only_preopens_refuse_changes() {
    let e = Escape::new();
    std::fs::write(e.sandbox().join("ro.txt"), "read me").unwrap();
    std::fs::create_dir(e.sandbox().join("dir")).unwrap();
    for wasm in ["fs.wasm", "fs-p1.wasm"] {
        let go = |args: &[&str]| {
            let mut b = fs_cmd(args);
            b.preopened_dir(e.sandbox(), "/ro", DirAccess::ReadOnly)
                .unwrap();
            run(&guest(wasm), &mut b)
        };
        assert_eq!(go(&["read", "/ro/ro.txt"]).stdout, "read: read me\n");
        assert_eq!(go(&["ls", "/ro"]).stdout, "dir dir\nro.txt file\n");
        for (args, want) in [
            (
                &["write", "/ro/ro.txt", "x"][..],
                "write: error ReadOnlyFilesystem\n",
            ),
            (
                &["write", "/ro/new.txt", "x"],
                "write: error ReadOnlyFilesystem\n",
            ),
            (
                &["append", "/ro/ro.txt", "x"],
                "append: error ReadOnlyFilesystem\n",
            ),
            (&["mkdir", "/ro/d2"], "mkdir: error ReadOnlyFilesystem\n"),
            (&["rm", "/ro/ro.txt"], "rm: error ReadOnlyFilesystem\n"),
            (&["rm", "/ro/dir"], "rm: error ReadOnlyFilesystem\n"),
            (
                &["rename", "/ro/ro.txt", "/ro/r2.txt"],
                "rename: error ReadOnlyFilesystem\n",
            ),
            (
                &["symlink", "ro.txt", "/ro/l"],
                "symlink: error ReadOnlyFilesystem\n",
            ),
            (
                &["hardlink", "/ro/ro.txt", "/ro/h"],
                "hardlink: error ReadOnlyFilesystem\n",
            ),
        ] {
            let r = go(args);
            assert_eq!(r.stdout, want, "{wasm} {args:?}: {}", r.stderr);
        }
    }
    assert_eq!(
        std::fs::read_to_string(e.sandbox().join("ro.txt")).unwrap(),
        "read me"
    );
    let mut names: Vec<_> = std::fs::read_dir(e.sandbox())
        .unwrap()
        .map(|d| d.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["dir", "ro.txt"]);
    e.assert_untouched();
}

/// Directory listings come sorted by name, from the host and from memory.
#[test]
fn listings_are_sorted() {
    let dir = TempDir::new("ls");
    let mut mem = MemoryDir::new();
    for name in ["b", "a", "é", "C", "a0", "_"] {
        std::fs::write(dir.path().join(name), name).unwrap();
        mem.add_file(name, name.as_bytes()).unwrap();
    }
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    mem.add_dir("sub").unwrap();
    let want = "C file\n_ file\na file\na0 file\nb file\nsub dir\né file\n";
    let mut b = fs_cmd(&["ls", "/h"]);
    b.preopened_dir(dir.path(), "/h", DirAccess::ReadOnly)
        .unwrap();
    assert_eq!(run(&guest("fs.wasm"), &mut b).stdout, want);
    let mut b = fs_cmd(&["ls", "/m"]);
    b.preopened_memory_dir(mem, "/m", DirAccess::ReadOnly);
    assert_eq!(run(&guest("fs.wasm"), &mut b).stdout, want);
}

/// Single operations in memory, read back through `MemoryDir`.
#[test]
fn memory_dir_operations() {
    let mut mem = MemoryDir::new();
    mem.add_file("docs/readme.txt", b"in memory").unwrap();
    let mut b = fs_cmd(&["read", "/m/docs/readme.txt"]);
    b.preopened_memory_dir(mem, "/m", DirAccess::ReadWrite);
    let r = run(&guest("fs.wasm"), &mut b);
    assert_eq!(r.stdout, "read: in memory\n");
    let mut b = fs_cmd(&["write", "/m/new.txt", "made by the guest"]);
    b.preopened_memory_dir(MemoryDir::new(), "/m", DirAccess::ReadWrite);
    let r = run(&guest("fs.wasm"), &mut b);
    assert_eq!(r.stdout, "write: ok\n");
    assert_eq!(
        r.ctx.memory_dir("/m").unwrap().read_file("new.txt"),
        Some(&b"made by the guest"[..])
    );
}

/// A memory tree's size cap: a write past it fails for the guest.
#[test]
fn memory_dir_cap() {
    let mut b = fs_cmd(&["write", "/m/big.txt", &"x".repeat(5000)]);
    b.preopened_memory_dir(
        MemoryDir::new().with_capacity_limit(4096),
        "/m",
        DirAccess::ReadWrite,
    );
    let r = run(&guest("fs.wasm"), &mut b);
    // `insufficient-space` is ENOSPC in libc; std's wasi target shows it
    // as `Uncategorized`.
    assert_eq!(r.stdout, "write: error Uncategorized\n");
    let kept = r
        .ctx
        .memory_dir("/m")
        .unwrap()
        .read_file("big.txt")
        .unwrap();
    assert!(kept.len() < 4096);
}
