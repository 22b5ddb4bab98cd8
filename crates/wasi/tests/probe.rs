//! The probe guest (`tests/probe/`, wasip2 bindings called directly):
//! wasi:io poll and streams, every `descriptor` method, error resources,
//! limits, sockets, `initial-cwd`, `exit-with-code`, hostile lengths.

mod common;

use common::*;
use componentry::TrapKind;
use componentry_wasi::{DirAccess, MemoryDir, WasiCtxBuilder};

fn probe_wasm() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/probe.wasm")).unwrap()
}

fn probe(args: &[&str], setup: impl FnOnce(&mut WasiCtxBuilder)) -> Run {
    let mut b = cmd(args);
    let mut m = MemoryDir::new();
    m.add_file("data.txt", b"0123456789").unwrap();
    let mut ro = MemoryDir::new();
    ro.add_file("r.txt", b"read only").unwrap();
    b.preopened_memory_dir(m, "/m", DirAccess::ReadWrite)
        .preopened_memory_dir(MemoryDir::new(), "/m2", DirAccess::ReadWrite)
        .preopened_memory_dir(ro, "/ro", DirAccess::ReadOnly)
        .preopened_memory_dir(
            MemoryDir::new().with_capacity_limit(2048),
            "/small",
            DirAccess::ReadWrite,
        );
    setup(&mut b);
    run(&probe_wasm(), &mut b)
}

fn deterministic(args: &[&str]) -> Run {
    probe(args, |b| {
        b.deterministic(1)
            .stdin_bytes(&b"hello world"[..])
            .max_resources(40);
    })
}

fn check(args: &[&str], want: &str) -> Run {
    let r = deterministic(args);
    assert_eq!(r.code.as_ref().unwrap(), &0, "{args:?}: {}", r.stderr);
    assert_eq!(r.stdout, want, "{args:?}");
    r
}

/// Timers on the virtual clock: `poll` returns only what is ready, after
/// advancing to the earliest deadline; `block` advances to its own.
#[test]
fn poll_and_timers() {
    check(&["poll"], POLL);
}

/// Input and output streams on files and stdio: read, skip, the blocking
/// forms, end of stream, write-zeroes, flush, splice, append, and a failed
/// write's error resource (`to-debug-string`, `filesystem-error-code`).
#[test]
fn streams() {
    let r = check(&["streams"], STREAMS);
    assert_eq!(r.stderr, "to stderr via wasi:io\n");
}

/// Every `descriptor` method, the path rules and the permission rules.
#[test]
fn descriptors() {
    check(&["descriptors"], DESCRIPTORS);
}

/// Past `max_resources`, opening fails with `insufficient-memory`; closing
/// makes room again, and the guest can still print.
#[test]
fn resource_limit() {
    check(&["limits"], LIMITS);
}

/// Sockets are linked and deny: the WIT's `access-denied`, also through std.
#[test]
fn sockets_deny() {
    check(&["sockets"], SOCKETS);
}

#[test]
fn initial_cwd() {
    assert_eq!(deterministic(&["cwd"]).stdout, "initial-cwd: None\n");
    let r = probe(&["cwd"], |b| {
        b.initial_cwd("/m");
    });
    assert_eq!(r.stdout, "initial-cwd: Some(\"/m\")\n");
}

#[test]
fn exit_with_code() {
    for code in [0u8, 3, 255] {
        let r = deterministic(&["exit-with-code", &code.to_string()]);
        assert_eq!(r.code.unwrap(), i32::from(code));
        assert_eq!(r.ctx.exit_code(), Some(i32::from(code)));
    }
}

/// Hostile lengths: `get-random-bytes(2^64-1)` traps with a limit (the
/// function has no error case); reading stdin with that length returns what
/// there is.
#[test]
fn hostile_lengths() {
    let r = deterministic(&["random-huge"]);
    assert_eq!(
        r.code.unwrap_err().trap_kind(),
        Some(TrapKind::LimitExceeded)
    );
    let r = deterministic(&["stdin-huge"]);
    assert_eq!(r.code.unwrap(), 0);
    assert_eq!(r.stdout, "16\n"); // `ok "hello world"`
}

/// `poll` with an empty list is a guest error (the WIT forbids it): a trap,
/// not a hang.
#[test]
fn poll_of_nothing_traps() {
    let r = deterministic(&["poll-empty"]);
    assert_eq!(r.code.unwrap_err().trap_kind(), Some(TrapKind::Host));
}

const POLL: &str = r#"a ready at once: false
past ready: true
poll b a c: [1]
a ready after poll: true
b ready after block: true
elapsed at least 5 ms: true
poll b a c: [0, 1, 2]
stdout ready: true
stdin ready: true
poll streams and a timer: [0, 1]
"#;

const STREAMS: &str = r#"read 3: ok "234"
skip 2: ok 2
blocking-read 100: ok "789"
read at end: closed
blocking-skip at end: closed
input subscribe ready: true
check-write > 0: true
write abc: ok ()
write-zeroes 2: ok ()
blocking-write-and-flush de: ok ()
flush: ok ()
blocking-flush: ok ()
splice 4: ok 4
blocking-splice 100: ok 6
splice at end: closed
blocking-write-zeroes-and-flush 1: ok ()
output subscribe ready: true
append !: ok ()
out.txt: "abc\0\0de0123456789\0!" eof=true
stdin blocking-read 5: ok "hello"
stdin skip 1: ok 1
stdin read: ok "world"
stdin read at end: closed
stderr write: ok ()
write past the cap: failed Some("insufficient-space") (filesystem error: insufficient-space)
"#;

const DESCRIPTORS: &str = r#"preopen type: ok DescriptorType::Directory
preopen flags: ok DescriptorFlags(READ | WRITE | MUTATE_DIRECTORY)
create d: ok
create d again: error exist
f type: ok DescriptorType::RegularFile
f flags: ok DescriptorFlags(READ | WRITE)
write hello: ok 5
read 3 at 1: ok ("ell", false)
read 10 at 3: ok ("lo", true)
read past the end: ok ([], true)
read huge: ok (5, true)
set-size 2: ok
stat: DescriptorType::RegularFile size=2 links=1
set-times: ok
mtime: Some(Datetime { seconds: 1000000000, nanoseconds: 5 })
sync-data: ok
sync: ok
advise: ok
stat-at d/f.txt size: ok 2
set-times-at: ok
mtime after set-times-at: Some(Datetime { seconds: 7, nanoseconds: 0 })
link-at d/g.txt: ok
links: 2
same object f g: true
same object f dir: false
hash f == hash g: true
hash-at == hash: true
hash f != hash dir: true
symlink d/l -> f.txt: ok
readlink d/l: ok "f.txt"
readlink of a file: error invalid
stat-at d/l follow: ok DescriptorType::RegularFile
stat-at d/l: ok DescriptorType::SymbolicLink
open d/l nofollow: error loop
open d/l follow: ok ()
symlink to ../../x: error not-permitted
symlink to /etc: error not-permitted
symlink over f.txt: error exist
rename d/g.txt h.txt: ok
rename missing: error no-entry
rename d into itself: error invalid
ls /m: d:DescriptorType::Directory data.txt:DescriptorType::RegularFile h.txt:DescriptorType::RegularFile
ls d: f.txt:DescriptorType::RegularFile l:DescriptorType::SymbolicLink
read-directory of a file: error not-directory
d open ../h.txt: error not-permitted
unlink-file-at d: error is-directory
remove-directory-at d: error not-empty
remove-directory-at h.txt: error not-directory
unlink d/f.txt: ok
unlink d/l: ok
unlinked f still reads: ok "he"
remove-directory-at d: ok
remove-directory-at d again: error no-entry
write to a read-only descriptor: error bad-descriptor
write-via-stream read-only: error bad-descriptor
set-size read-only: error bad-descriptor
read-via-stream of a dir: error is-directory
read of a dir: error is-directory
open h.txt as directory: error not-directory
open missing: error no-entry
open h.txt create exclusive: error exist
open . : ok DescriptorType::Directory
open h.txt truncate: ok DescriptorType::RegularFile
size after truncate: ok 0
open /abs: error not-permitted
open ..: error not-permitted
open empty path: error no-entry
open with NUL: error illegal-byte-sequence
open a 5000-byte path: error name-too-long
open h.txt/: error not-directory
create a dir in a file: error not-directory
write at offset 2^63: error insufficient-space
ro flags: ok DescriptorFlags(READ)
ro create dir: error read-only
ro open create: error read-only
ro open write: error read-only
ro open read: ok ()
ro unlink: error read-only
ro set-times-at: error read-only
link across preopens: error cross-device
rename across preopens: error cross-device
rename into read-only: error read-only
"#;

const LIMITS: &str = r#"opened 39 then: error insufficient-memory
after closing: ok ()
"#;

const SOCKETS: &str = r#"tcp ipv4: Err("access-denied")
tcp ipv6: Err("access-denied")
udp ipv4: Err("access-denied")
resolve: Err("access-denied")
std connect: Err(PermissionDenied)
"#;

/// The same `descriptors` run on real host directories gives the same
/// answers, but for what the host OS decides itself (noted in `HOST_DIFF`).
#[test]
fn descriptors_on_host_directories() {
    let (m, m2, ro) = (TempDir::new("m"), TempDir::new("m2"), TempDir::new("ro"));
    std::fs::write(m.path().join("data.txt"), "0123456789").unwrap();
    std::fs::write(ro.path().join("r.txt"), "read only").unwrap();
    let mut b = cmd(&["descriptors"]);
    b.deterministic(1)
        .preopened_dir(m.path(), "/m", DirAccess::ReadWrite)
        .unwrap()
        .preopened_dir(m2.path(), "/m2", DirAccess::ReadWrite)
        .unwrap()
        .preopened_dir(ro.path(), "/ro", DirAccess::ReadOnly)
        .unwrap();
    let r = run(&probe_wasm(), &mut b);
    assert_eq!(r.code.as_ref().unwrap(), &0, "{}", r.stderr);
    let mut want = DESCRIPTORS.to_string();
    for (memory, host) in HOST_DIFF {
        want = want.replace(memory, host);
    }
    assert_eq!(r.stdout, want);
    assert_eq!(
        std::fs::read_to_string(ro.path().join("r.txt")).unwrap(),
        "read only"
    );
    assert_eq!(std::fs::read_dir(m2.path()).unwrap().count(), 0);
}

/// Where the host OS answers differently from the in-memory tree.
const HOST_DIFF: &[(&str, &str)] = &[(
    // The memory tree counts the bytes against its cap; Linux refuses the
    // offset (EINVAL) before that.
    "write at offset 2^63: error insufficient-space",
    "write at offset 2^63: error invalid",
)];
