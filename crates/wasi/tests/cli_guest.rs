//! The `cli` and `hello` guests (Rust std for wasm32-wasip2): arguments,
//! environment, stdio, exit codes, traps, clocks, sleep, randomness,
//! terminals.

mod common;

use common::*;
use componentry::TrapKind;
use componentry_wasi::{is_exit, WasiCtxBuilder};

fn cli(args: &[&str]) -> Run {
    run(&guest("cli.wasm"), &mut cmd(args))
}

#[test]
fn hello_world() {
    let r = run(&guest("hello.wasm"), &mut cmd(&[]));
    assert_eq!(r.code.unwrap(), 0);
    assert_eq!(r.stdout, "Hello, world!\n");
    assert_eq!(r.stderr, "");
}

#[test]
fn arguments() {
    let r = cli(&["args", "two words", "ünï"]);
    assert_eq!(r.code.unwrap(), 0);
    assert_eq!(
        r.stdout,
        "argc=4\narg[0]=guest\narg[1]=args\narg[2]=two words\narg[3]=ünï\n"
    );
}

#[test]
fn environment() {
    let mut b = cmd(&["env"]);
    b.env("B", "2").env("A", "1=one");
    let r = run(&guest("cli.wasm"), &mut b);
    assert_eq!(r.code.unwrap(), 0);
    assert_eq!(r.stdout, "A=1=one\nB=2\n");
    let r = cli(&["env", "A"]);
    assert_eq!(r.stdout, "A unset\n");
}

#[test]
fn initial_cwd_default() {
    // wasi-libc does not ask `initial-cwd` and assumes `/` (the probe
    // guest checks the function itself).
    let r = cli(&["cwd"]);
    assert_eq!(r.stdout, "cwd=/\n");
}

#[test]
fn stdin_to_stdout() {
    let input: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut b = cmd(&["cat"]);
    b.stdin_bytes(input.clone());
    let r = run(&guest("cli.wasm"), &mut b);
    assert_eq!(r.code.unwrap(), 0);
    assert_eq!(r.ctx.stdout().unwrap(), &input[..]);
    assert_eq!(r.stderr, "read 200000 bytes\n");
}

#[test]
fn stdin_from_a_reader() {
    let mut b = cmd(&["cat"]);
    b.stdin_reader(std::io::Cursor::new(b"from a reader".to_vec()));
    let r = run(&guest("cli.wasm"), &mut b);
    assert_eq!(r.stdout, "from a reader");
}

#[test]
fn empty_stdin() {
    let r = cli(&["cat"]);
    assert_eq!(r.code.unwrap(), 0);
    assert_eq!(r.stdout, "");
    assert_eq!(r.stderr, "read 0 bytes\n");
}

#[test]
fn stderr_is_separate() {
    let r = cli(&["stderr", "to", "stderr"]);
    assert_eq!(r.stdout, "done\n");
    assert_eq!(r.stderr, "to stderr\n");
}

#[test]
fn a_host_sink_receives_output() {
    use std::sync::{Arc, Mutex};
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl componentry_wasi::OutputSink for Sink {
        fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(())
        }
    }
    let got = Arc::new(Mutex::new(Vec::new()));
    let mut b = cmd(&["echo", "into", "the", "sink"]);
    b.stdout_sink(Sink(got.clone()));
    let r = run(&guest("cli.wasm"), &mut b);
    assert_eq!(r.code.unwrap(), 0);
    assert_eq!(&*got.lock().unwrap(), b"into the sink\n");
}

#[test]
fn exit_codes() {
    // wasi:cli/exit.exit takes ok/err: a nonzero code arrives as 1
    // (std reaches `exit-with-code` only where the guest imports it).
    let r = cli(&["exit", "0"]);
    assert_eq!(r.code.unwrap(), 0);
    assert_eq!(r.ctx.exit_code(), Some(0));
    let r = cli(&["exit", "7"]);
    assert_eq!(r.code.unwrap(), 1);
    assert_eq!(r.ctx.exit_code(), Some(1));
    assert_eq!(r.stdout, "exiting with 7\n");
    // A failing `main` returns err from run: code 1, no exit call.
    let r = cli(&["no-such-case"]);
    assert_eq!(r.code.unwrap(), 1);
    assert_eq!(r.ctx.exit_code(), None);
    assert_eq!(r.stderr, "cli: unknown case `no-such-case`\n");
}

#[test]
fn exit_is_told_apart_from_a_trap() {
    let r = cli(&["panic"]);
    let err = r.code.unwrap_err();
    assert_eq!(err.trap_kind(), Some(TrapKind::Unreachable));
    assert!(!is_exit(&err));
    assert_eq!(r.ctx.exit_code(), None);
    assert!(
        r.stderr.contains("the guest panics on purpose"),
        "{}",
        r.stderr
    );
}

#[test]
fn host_clocks() {
    let r = cli(&["time"]);
    assert_eq!(r.code.unwrap(), 0, "{}", r.stderr);
    assert!(r.stdout.contains("wall after 2020: true"), "{}", r.stdout);
    assert!(r.stdout.contains("monotonic went back: false"));
    assert!(r.stdout.contains("monotonic resolution=1ns"));
}

#[test]
fn host_sleep_sleeps() {
    let start = std::time::Instant::now();
    let r = cli(&["sleep", "30"]);
    assert_eq!(r.stdout, "slept at least 30 ms: true\n");
    assert!(start.elapsed() >= std::time::Duration::from_millis(30));
}

#[test]
fn virtual_sleep_does_not_sleep() {
    let start = std::time::Instant::now();
    let mut b = cmd(&["sleep", "600000"]);
    b.deterministic(1);
    let r = run(&guest("cli.wasm"), &mut b);
    assert_eq!(r.stdout, "slept at least 600000 ms: true\n");
    assert!(start.elapsed() < std::time::Duration::from_secs(60));
}

#[test]
fn os_randomness_differs_between_runs() {
    let a = cli(&["random"]);
    let b = cli(&["random"]);
    assert_eq!(a.code.as_ref().unwrap(), &0, "{}", a.stderr);
    assert!(a.stdout.contains("random differs: true"));
    assert!(a.stdout.contains("random bytes=") && a.stdout.contains(" len=16"));
    assert!(a.stdout.contains("empty random len=0"));
    assert_ne!(a.stdout, b.stdout);
}

#[test]
fn seeded_randomness_is_reproducible() {
    let run_seed = |seed| {
        let mut b = cmd(&["random"]);
        b.deterministic(seed);
        run(&guest("cli.wasm"), &mut b).stdout
    };
    let (a, b, c) = (run_seed(5), run_seed(5), run_seed(6));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.contains("random differs: true"));
}

#[test]
fn captured_stdio_is_not_a_terminal() {
    let r = cli(&["terminal"]);
    assert_eq!(
        r.stdout,
        "stdin terminal: false\nstdout terminal: false\nstderr terminal: false\n"
    );
}

#[test]
fn captured_output_is_capped_and_the_host_keeps_running() {
    let mut b = WasiCtxBuilder::new();
    b.args(["cli", "cat"])
        .stdin_bytes(vec![b'x'; 10_000])
        .capture_stdout(100)
        .capture_stderr(1 << 10);
    let r = run(&guest("cli.wasm"), &mut b);
    // The guest sees a failed write and reports it.
    assert_eq!(r.code.unwrap(), 1);
    assert_eq!(r.ctx.stdout().unwrap(), &[b'x'; 100][..]);
    assert!(r.stderr.contains("writing stdout"), "{}", r.stderr);
    // The host goes on: the same guest runs again.
    let r = cli(&["echo", "again"]);
    assert_eq!(r.stdout, "again\n");
}

/// Host stdio that fails: a reader's error and a sink's error reach the
/// guest as failed stream operations (it reports them and exits 1).
#[test]
fn failing_host_stdio_is_an_error_for_the_guest() {
    struct Broken;
    impl std::io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("the pipe broke"))
        }
    }
    let mut b = cmd(&["cat"]);
    b.stdin_reader(Broken);
    let r = run(&guest("cli.wasm"), &mut b);
    assert_eq!(r.code.unwrap(), 1);
    assert!(r.stderr.starts_with("cli: reading stdin"), "{}", r.stderr);

    struct Full;
    impl componentry_wasi::OutputSink for Full {
        fn write(&mut self, _: &[u8]) -> Result<(), String> {
            Err("disk full".into())
        }
    }
    let mut b = cmd(&["cat"]);
    b.stdin_bytes(&b"data"[..]).stdout_sink(Full);
    let r = run(&guest("cli.wasm"), &mut b);
    assert_eq!(r.code.unwrap(), 1);
    assert!(r.stderr.starts_with("cli: writing stdout"), "{}", r.stderr);
}
