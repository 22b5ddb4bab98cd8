//! Streams, futures and error contexts (feature `async`): the
//! `stream.*`, `future.*` and `error-context.*` built-ins within one
//! instance and between two, partial and zero-length copies, cancellation,
//! drops, every trap CanonicalABI.md names for them, and stream, future
//! and error-context handles passed between components.
//!
//! Most tests use the `async` forms of `read`/`write` and the sync forms
//! of the cancel built-ins (a cancel of a copy between guests completes at
//! once); the other forms are tested at the end.
#![cfg(feature = "async")]

mod common;

use common::*;
use componentry::*;

fn trap_kind(e: &Error) -> TrapKind {
    match e.kind() {
        ErrorKind::Trap(k) => *k,
        other => panic!("expected a trap, got {other:?}: {e}"),
    }
}

/// A component whose core module imports the stream, future and
/// error-context built-ins from "b", and has globals `$rx`/`$tx` that
/// `$split` sets from a `*.new` result.
fn component(core_funcs: &str, lifts: &str) -> String {
    format!(
        r#"(component
  (type $R (resource (rep i32)))
  (type $S (stream u8))
  (type $S32 (stream u32))
  (type $SE (stream))
  (type $F (future u8))
  (type $FB (future bool))
  (core module $Mem
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (global.get $bump))
      (global.set $bump (i32.add (global.get $bump) (local.get 3)))
      (local.get $p)))
  (core instance $mem (instantiate $Mem))
  (alias core export $mem "mem" (core memory $memory))
  (alias core export $mem "realloc" (core func $realloc))
  (canon stream.new $S (core func $s.new))
  (canon stream.read $S async (memory $memory) (core func $s.read))
  (canon stream.write $S async (memory $memory) (core func $s.write))
  (canon stream.cancel-read $S (core func $s.cancel-read))
  (canon stream.cancel-write $S (core func $s.cancel-write))
  (canon stream.drop-readable $S (core func $s.drop-r))
  (canon stream.drop-writable $S (core func $s.drop-w))
  (canon stream.new $S32 (core func $w.new))
  (canon stream.read $S32 async (memory $memory) (core func $w.read))
  (canon stream.write $S32 async (memory $memory) (core func $w.write))
  (canon stream.new $SE (core func $e.new))
  (canon stream.read $SE async (core func $e.read))
  (canon stream.write $SE async (core func $e.write))
  (canon stream.cancel-read $SE (core func $e.cancel-read))
  (canon future.new $F (core func $f.new))
  (canon future.read $F async (memory $memory) (core func $f.read))
  (canon future.write $F async (memory $memory) (core func $f.write))
  (canon future.cancel-read $F (core func $f.cancel-read))
  (canon future.cancel-write $F (core func $f.cancel-write))
  (canon future.drop-readable $F (core func $f.drop-r))
  (canon future.drop-writable $F (core func $f.drop-w))
  (canon future.new $FB (core func $fb.new))
  (canon future.read $FB async (memory $memory) (core func $fb.read))
  (canon future.write $FB async (memory $memory) (core func $fb.write))
  (canon error-context.new (memory $memory) (core func $ec.new))
  (canon error-context.debug-message (memory $memory) (realloc $realloc) (core func $ec.msg))
  (canon error-context.drop (core func $ec.drop))
  (canon resource.new $R (core func $r.new))
  (canon waitable-set.new (core func $ws.new))
  (core module $M
    (import "b" "mem" (memory 1))
    (import "b" "s.new" (func $s.new (result i64)))
    (import "b" "s.read" (func $s.read (param i32 i32 i32) (result i32)))
    (import "b" "s.write" (func $s.write (param i32 i32 i32) (result i32)))
    (import "b" "s.cancel-read" (func $s.cancel-read (param i32) (result i32)))
    (import "b" "s.cancel-write" (func $s.cancel-write (param i32) (result i32)))
    (import "b" "s.drop-r" (func $s.drop-r (param i32)))
    (import "b" "s.drop-w" (func $s.drop-w (param i32)))
    (import "b" "w.new" (func $w.new (result i64)))
    (import "b" "w.read" (func $w.read (param i32 i32 i32) (result i32)))
    (import "b" "w.write" (func $w.write (param i32 i32 i32) (result i32)))
    (import "b" "e.new" (func $e.new (result i64)))
    (import "b" "e.read" (func $e.read (param i32 i32 i32) (result i32)))
    (import "b" "e.write" (func $e.write (param i32 i32 i32) (result i32)))
    (import "b" "e.cancel-read" (func $e.cancel-read (param i32) (result i32)))
    (import "b" "f.new" (func $f.new (result i64)))
    (import "b" "f.read" (func $f.read (param i32 i32) (result i32)))
    (import "b" "f.write" (func $f.write (param i32 i32) (result i32)))
    (import "b" "f.cancel-read" (func $f.cancel-read (param i32) (result i32)))
    (import "b" "f.cancel-write" (func $f.cancel-write (param i32) (result i32)))
    (import "b" "f.drop-r" (func $f.drop-r (param i32)))
    (import "b" "f.drop-w" (func $f.drop-w (param i32)))
    (import "b" "fb.new" (func $fb.new (result i64)))
    (import "b" "fb.read" (func $fb.read (param i32 i32) (result i32)))
    (import "b" "fb.write" (func $fb.write (param i32 i32) (result i32)))
    (import "b" "ec.new" (func $ec.new (param i32 i32) (result i32)))
    (import "b" "ec.msg" (func $ec.msg (param i32 i32)))
    (import "b" "ec.drop" (func $ec.drop (param i32)))
    (import "b" "r.new" (func $r.new (param i32) (result i32)))
    (import "b" "ws.new" (func $ws.new (result i32)))
    (global $rx (mut i32) (i32.const 0))
    (global $tx (mut i32) (i32.const 0))
    (func $split (param i64)
      (global.set $rx (i32.wrap_i64 (local.get 0)))
      (global.set $tx (i32.wrap_i64 (i64.shr_u (local.get 0) (i64.const 32)))))
    (func $expect (param $got i32) (param $want i32)
      (if (i32.ne (local.get $got) (local.get $want)) (then unreachable)))
    (data (i32.const 100) "abcdefgh")
    {core_funcs}
  )
  (core instance $i (instantiate $M (with "b" (instance
    (export "mem" (memory $memory))
    (export "s.new" (func $s.new)) (export "s.read" (func $s.read))
    (export "s.write" (func $s.write))
    (export "s.cancel-read" (func $s.cancel-read)) (export "s.cancel-write" (func $s.cancel-write))
    (export "s.drop-r" (func $s.drop-r)) (export "s.drop-w" (func $s.drop-w))
    (export "w.new" (func $w.new)) (export "w.read" (func $w.read)) (export "w.write" (func $w.write))
    (export "e.new" (func $e.new)) (export "e.read" (func $e.read)) (export "e.write" (func $e.write))
    (export "e.cancel-read" (func $e.cancel-read))
    (export "f.new" (func $f.new)) (export "f.read" (func $f.read)) (export "f.write" (func $f.write))
    (export "f.cancel-read" (func $f.cancel-read)) (export "f.cancel-write" (func $f.cancel-write))
    (export "f.drop-r" (func $f.drop-r)) (export "f.drop-w" (func $f.drop-w))
    (export "fb.new" (func $fb.new)) (export "fb.read" (func $fb.read)) (export "fb.write" (func $fb.write))
    (export "ec.new" (func $ec.new)) (export "ec.msg" (func $ec.msg)) (export "ec.drop" (func $ec.drop))
    (export "r.new" (func $r.new)) (export "ws.new" (func $ws.new))))))
  {lifts}
)"#
    )
}

/// Runs `body` as export `f` (returning `u32`: the body leaves one `i32`)
/// and returns its result.
const BLOCKED: u32 = 0xffff_ffff;

fn run(body: &str) -> u32 {
    let wat = component(
        &format!(r#"(func (export "f") (result i32) {body})"#),
        r#"(func (export "f") (result u32) (canon lift (core func $i "f")))"#,
    );
    let (mut store, instance) = instantiate(&wat);
    match call1(&mut store, &instance, "f", &[]) {
        Val::U32(x) => x,
        other => panic!("expected a u32, got {other:?}"),
    }
}

/// Runs `body` as export `f` and expects a trap of `kind`; returns it.
fn traps(body: &str, kind: TrapKind) -> Error {
    let wat = component(
        &format!(r#"(func (export "f") {body})"#),
        r#"(func (export "f") (canon lift (core func $i "f")))"#,
    );
    let (mut store, instance) = instantiate(&wat);
    let e = call_err(&mut store, &instance, "f", &[]);
    assert_eq!(trap_kind(&e), kind, "{body}: {e}");
    e
}

// ------------------------------------------------------------ new

#[test]
fn new_puts_both_ends_in_the_handle_table() {
    // A fresh table: the readable end is 1, the writable end 2, and the
    // next handle (a resource) is 3.
    let r = run(r#"(call $split (call $s.new))
           (call $expect (global.get $rx) (i32.const 1))
           (call $expect (global.get $tx) (i32.const 2))
           (call $r.new (i32.const 7))"#);
    assert_eq!(r, 3);
}

// ------------------------------------------------------------ copies

#[test]
fn read_then_write_copies_and_the_reader_gets_its_event() {
    let r = run(r#"(call $split (call $s.new))
           (call $expect (call $s.read (global.get $rx) (i32.const 200) (i32.const 8)) (i32.const -1))
           ;; the writer finds the reader pending: 5 bytes copied, COMPLETED
           (call $expect (call $s.write (global.get $tx) (i32.const 100) (i32.const 5))
                         (i32.const 0x50))
           (call $expect (i32.load8_u (i32.const 200)) (i32.const 0x61))
           (call $expect (i32.load8_u (i32.const 204)) (i32.const 0x65))
           (call $expect (i32.load8_u (i32.const 205)) (i32.const 0))
           ;; the reader's progress event is pending, and its buffer has room:
           ;; cancelling ends the read, CANCELLED with 5 copied
           (call $s.cancel-read (global.get $rx))"#);
    assert_eq!(r, 0x52);
}

#[test]
fn cancelling_after_the_buffer_filled_delivers_completed() {
    let r = run(r#"(call $split (call $s.new))
           (call $expect (call $s.read (global.get $rx) (i32.const 200) (i32.const 4)) (i32.const -1))
           (call $expect (call $s.write (global.get $tx) (i32.const 100) (i32.const 8)) (i32.const 0x40))
           (call $s.cancel-read (global.get $rx))"#);
    assert_eq!(r, 0x40);
}

#[test]
fn write_then_partial_reads_reclaim_at_delivery() {
    let r = run(r#"(call $split (call $s.new))
           (call $expect (call $s.write (global.get $tx) (i32.const 100) (i32.const 8)) (i32.const -1))
           ;; partial reads out of the one pending write
           (call $expect (call $s.read (global.get $rx) (i32.const 200) (i32.const 3)) (i32.const 0x30))
           (call $expect (call $s.read (global.get $rx) (i32.const 203) (i32.const 2)) (i32.const 0x20))
           (call $expect (i32.load (i32.const 200)) (i32.const 0x64636261))
           ;; cancelling the write reclaims its buffer: 5 copied
           (call $expect (call $s.cancel-write (global.get $tx)) (i32.const 0x52))
           ;; now a read waits for a new write
           (call $expect (call $s.read (global.get $rx) (i32.const 205) (i32.const 8)) (i32.const -1))
           (call $expect (call $s.write (global.get $tx) (i32.const 105) (i32.const 3)) (i32.const 0x30))
           (call $expect (i32.load8_u (i32.const 207)) (i32.const 0x68))
           (call $s.cancel-read (global.get $rx))"#);
    assert_eq!(r, 0x32);
}

#[test]
fn a_consumed_write_completes_when_the_next_read_arrives() {
    let r = run(r#"(call $split (call $s.new))
           (call $expect (call $s.write (global.get $tx) (i32.const 100) (i32.const 2)) (i32.const -1))
           (call $expect (call $s.read (global.get $rx) (i32.const 200) (i32.const 8)) (i32.const 0x20))
           ;; the writer's buffer is used up but not reclaimed: the next read
           ;; completes the write and waits
           (call $expect (call $s.read (global.get $rx) (i32.const 200) (i32.const 8)) (i32.const -1))
           (call $expect (call $s.cancel-write (global.get $tx)) (i32.const 0x20))
           (call $s.cancel-read (global.get $rx))"#);
    // CANCELLED, nothing copied.
    assert_eq!(r, 2);
}

#[test]
fn zero_length_copies() {
    let r = run(r#"(call $split (call $s.new))
           ;; a zero-length read with a write pending completes with nothing
           (call $expect (call $s.write (global.get $tx) (i32.const 100) (i32.const 4)) (i32.const -1))
           (call $expect (call $s.read (global.get $rx) (i32.const 200) (i32.const 0)) (i32.const 0))
           ;; the write is still pending, with no event: cancel it
           (call $expect (call $s.cancel-write (global.get $tx)) (i32.const 2))
           ;; a zero-length write meeting a zero-length read completes, the
           ;; read stays pending
           (call $expect (call $s.read (global.get $rx) (i32.const 200) (i32.const 0)) (i32.const -1))
           (call $expect (call $s.write (global.get $tx) (i32.const 100) (i32.const 0)) (i32.const 0))
           (call $expect (call $s.cancel-read (global.get $rx)) (i32.const 2))
           ;; a zero-length write with a read pending completes, the read
           ;; stays pending
           (call $expect (call $s.read (global.get $rx) (i32.const 200) (i32.const 4)) (i32.const -1))
           (call $expect (call $s.write (global.get $tx) (i32.const 100) (i32.const 0)) (i32.const 0))
           (call $expect (call $s.write (global.get $tx) (i32.const 100) (i32.const 4)) (i32.const 0x40))
           (call $expect (call $s.cancel-read (global.get $rx)) (i32.const 0x40))
           ;; a zero-length read with a zero-length write pending: the write
           ;; completes, the read waits
           (call $expect (call $s.write (global.get $tx) (i32.const 100) (i32.const 0)) (i32.const -1))
           (call $expect (call $s.read (global.get $rx) (i32.const 200) (i32.const 0)) (i32.const -1))
           (call $expect (call $s.cancel-write (global.get $tx)) (i32.const 0))
           (call $s.cancel-read (global.get $rx))"#);
    assert_eq!(r, 2);
}

#[test]
fn zero_length_buffers_are_not_bounds_checked() {
    let r = run(r#"(call $split (call $s.new))
           (call $expect (call $s.read (global.get $rx) (i32.const -1) (i32.const 0)) (i32.const -1))
           (call $s.cancel-read (global.get $rx))"#);
    assert_eq!(r, 2);
}

#[test]
fn untyped_streams_count_elements_and_ignore_pointers() {
    let r = run(r#"(call $split (call $e.new))
           (call $expect (call $e.read (global.get $rx) (i32.const -1) (i32.const 10)) (i32.const -1))
           (call $expect (call $e.write (global.get $tx) (i32.const -7) (i32.const 4)) (i32.const 0x40))
           (call $e.cancel-read (global.get $rx))"#);
    assert_eq!(r, 0x42);
}

#[test]
fn overlapping_copies_in_one_memory_read_before_writing() {
    for dst in [96u32, 98, 100, 102, 104] {
        let r = run(&format!(
            r#"(call $split (call $s.new))
               (call $expect (call $s.write (global.get $tx) (i32.const 100) (i32.const 8)) (i32.const -1))
               (call $expect (call $s.read (global.get $rx) (i32.const {dst}) (i32.const 8)) (i32.const 0x80))
               (call $expect (i32.load (i32.const {dst})) (i32.const 0x64636261))
               (i32.load (i32.const {d4}))"#,
            d4 = dst + 4
        ));
        assert_eq!(r, 0x6867_6665, "dst {dst}");
    }
}

#[test]
fn u32_streams_copy_whole_elements() {
    let r = run(r#"(call $split (call $w.new))
           (i32.store (i32.const 300) (i32.const 0x11223344))
           (i32.store (i32.const 304) (i32.const 0x55667788))
           (call $expect (call $w.write (global.get $tx) (i32.const 300) (i32.const 2)) (i32.const -1))
           (call $expect (call $w.read (global.get $rx) (i32.const 400) (i32.const 1)) (i32.const 0x10))
           (call $expect (i32.load (i32.const 400)) (i32.const 0x11223344))
           (call $expect (call $w.read (global.get $rx) (i32.const 404) (i32.const 4)) (i32.const 0x10))
           (i32.load (i32.const 404))"#);
    assert_eq!(r, 0x5566_7788);
}

// ------------------------------------------------------------ drops

#[test]
fn reading_after_the_writer_dropped_reports_dropped() {
    let r = run(r#"(call $split (call $s.new))
           (call $s.drop-w (global.get $tx))
           (call $expect (call $s.read (global.get $rx) (i32.const 200) (i32.const 4)) (i32.const 1))
           ;; DONE: dropping is all that is left
           (call $s.drop-r (global.get $rx))
           (i32.const 7)"#);
    assert_eq!(r, 7);
}

#[test]
fn dropping_an_end_notifies_the_pending_other_end() {
    let r = run(r#"(call $split (call $s.new))
           (call $expect (call $s.write (global.get $tx) (i32.const 100) (i32.const 8)) (i32.const -1))
           (call $expect (call $s.read (global.get $rx) (i32.const 200) (i32.const 3)) (i32.const 0x30))
           (call $s.drop-r (global.get $rx))
           ;; the write was pending with progress 3: DROPPED | 3 << 4
           (call $s.cancel-write (global.get $tx))"#);
    assert_eq!(r, 0x31);
}

#[test]
fn writing_after_the_reader_dropped_reports_dropped_then_traps() {
    let e = traps(
        r#"(call $split (call $s.new))
           (call $s.drop-r (global.get $rx))
           (call $expect (call $s.write (global.get $tx) (i32.const 100) (i32.const 4)) (i32.const 1))
           (drop (call $s.write (global.get $tx) (i32.const 100) (i32.const 4)))"#,
        TrapKind::AsyncRule,
    );
    assert!(e.to_string().contains("done"), "{e}");
}

#[test]
fn dropping_a_busy_end_traps() {
    let e = traps(
        r#"(call $split (call $s.new))
           (drop (call $s.write (global.get $tx) (i32.const 0) (i32.const 4)))
           (call $s.drop-w (global.get $tx))"#,
        TrapKind::AsyncRule,
    );
    assert!(e.to_string().contains("cannot drop busy stream"), "{e}");
}

#[test]
fn dropped_ends_leave_the_table() {
    traps(
        r#"(call $split (call $s.new))
           (call $s.drop-r (global.get $rx))
           (call $s.drop-r (global.get $rx))"#,
        TrapKind::InvalidHandle,
    );
    // Both ends dropped: their slots are reused.
    let r = run(r#"(call $split (call $s.new))
           (call $s.drop-r (global.get $rx))
           (call $s.drop-w (global.get $tx))
           (call $split (call $s.new))
           (call $expect (global.get $rx) (i32.const 2))
           (global.get $tx)"#);
    assert_eq!(r, 1);
}

// ------------------------------------------------------------ cancel

#[test]
fn cancel_traps_without_a_copy_in_progress() {
    traps(
        r#"(call $split (call $s.new))
           (drop (call $s.cancel-read (global.get $rx)))"#,
        TrapKind::AsyncRule,
    );
    // A finished copy is not in progress either.
    traps(
        r#"(call $split (call $s.new))
           (drop (call $s.read (global.get $rx) (i32.const 200) (i32.const 4)))
           (drop (call $s.write (global.get $tx) (i32.const 100) (i32.const 4)))
           (drop (call $s.cancel-write (global.get $tx)))"#,
        TrapKind::AsyncRule,
    );
}

#[test]
fn a_cancelled_end_can_copy_again() {
    let r = run(r#"(call $split (call $s.new))
           (call $expect (call $s.read (global.get $rx) (i32.const 200) (i32.const 4)) (i32.const -1))
           (call $expect (call $s.cancel-read (global.get $rx)) (i32.const 2))
           (call $expect (call $s.write (global.get $tx) (i32.const 100) (i32.const 4)) (i32.const -1))
           (call $s.read (global.get $rx) (i32.const 200) (i32.const 4))"#);
    assert_eq!(r, 0x40);
}

// ------------------------------------------------------------ futures

#[test]
fn futures_copy_one_value_either_way() {
    let r = run(r#"(call $split (call $f.new))
           (call $expect (call $f.read (global.get $rx) (i32.const 200)) (i32.const -1))
           (call $expect (call $f.write (global.get $tx) (i32.const 100)) (i32.const 0))
           (call $expect (i32.load8_u (i32.const 200)) (i32.const 0x61))
           (call $expect (call $f.cancel-read (global.get $rx)) (i32.const 0))
           (call $f.drop-r (global.get $rx))
           (call $f.drop-w (global.get $tx))
           (call $split (call $f.new))
           (call $expect (call $f.write (global.get $tx) (i32.const 101)) (i32.const -1))
           (call $expect (call $f.read (global.get $rx) (i32.const 201)) (i32.const 0))
           (call $expect (call $f.cancel-write (global.get $tx)) (i32.const 0))
           (call $f.drop-w (global.get $tx))
           (call $f.drop-r (global.get $rx))
           (i32.load8_u (i32.const 201))"#);
    assert_eq!(r, 0x62);
}

#[test]
fn a_future_is_written_once() {
    let e = traps(
        r#"(call $split (call $f.new))
           (drop (call $f.read (global.get $rx) (i32.const 200)))
           (drop (call $f.write (global.get $tx) (i32.const 100)))
           (drop (call $f.write (global.get $tx) (i32.const 100)))"#,
        TrapKind::AsyncRule,
    );
    assert!(e.to_string().contains("done"), "{e}");
}

#[test]
fn a_future_writer_must_write_before_dropping() {
    let e = traps(
        r#"(call $split (call $f.new))
           (call $f.drop-w (global.get $tx))"#,
        TrapKind::AsyncRule,
    );
    assert!(
        e.to_string().contains("without first writing a value"),
        "{e}"
    );
    // A cancelled write is no write either.
    traps(
        r#"(call $split (call $f.new))
           (drop (call $f.write (global.get $tx) (i32.const 100)))
           (drop (call $f.cancel-write (global.get $tx)))
           (call $f.drop-w (global.get $tx))"#,
        TrapKind::AsyncRule,
    );
}

#[test]
fn a_future_reader_may_drop_and_the_writer_sees_it() {
    let r = run(r#"(call $split (call $f.new))
           (call $f.drop-r (global.get $rx))
           (call $expect (call $f.write (global.get $tx) (i32.const 100)) (i32.const 1))
           (call $f.drop-w (global.get $tx))
           (i32.const 9)"#);
    assert_eq!(r, 9);
}

#[test]
fn a_pending_future_write_sees_the_reader_drop() {
    let r = run(r#"(call $split (call $f.new))
           (call $expect (call $f.write (global.get $tx) (i32.const 100)) (i32.const -1))
           (call $f.drop-r (global.get $rx))
           (call $f.cancel-write (global.get $tx))"#);
    assert_eq!(r, 1);
}

#[test]
fn non_numeric_copies_within_one_instance_trap() {
    let e = traps(
        r#"(call $split (call $fb.new))
           (drop (call $fb.read (global.get $rx) (i32.const 200)))
           (drop (call $fb.write (global.get $tx) (i32.const 100)))"#,
        TrapKind::AsyncRule,
    );
    assert!(
        e.to_string()
            .contains("cannot read from and write to intra-component future"),
        "{e}"
    );
}

// ------------------------------------------------------------ traps

#[test]
fn builtins_trap_on_handles_of_the_wrong_kind() {
    // The writable end given to read, and the readable one to write.
    let e = traps(
        r#"(call $split (call $s.new))
           (drop (call $s.read (global.get $tx) (i32.const 0) (i32.const 1)))"#,
        TrapKind::WrongAsyncHandle,
    );
    assert!(e.to_string().contains("not a readable stream end"), "{e}");
    traps(
        r#"(call $split (call $s.new))
           (drop (call $s.write (global.get $rx) (i32.const 0) (i32.const 1)))"#,
        TrapKind::WrongAsyncHandle,
    );
    traps(
        r#"(call $split (call $s.new))
           (call $s.drop-r (global.get $tx))"#,
        TrapKind::WrongAsyncHandle,
    );
    // A future end given to a stream built-in, and the other way.
    traps(
        r#"(call $split (call $f.new))
           (drop (call $s.read (global.get $rx) (i32.const 0) (i32.const 1)))"#,
        TrapKind::WrongAsyncHandle,
    );
    traps(
        r#"(call $split (call $s.new))
           (call $f.drop-r (global.get $rx))"#,
        TrapKind::WrongAsyncHandle,
    );
    // A resource handle, a waitable set, an error context.
    traps(
        r#"(drop (call $s.read (call $r.new (i32.const 1)) (i32.const 0) (i32.const 1)))"#,
        TrapKind::WrongAsyncHandle,
    );
    traps(
        r#"(call $s.drop-w (call $ws.new))"#,
        TrapKind::WrongAsyncHandle,
    );
    traps(
        r#"(call $s.drop-w (call $ec.new (i32.const 100) (i32.const 3)))"#,
        TrapKind::WrongAsyncHandle,
    );
    // No handle at all.
    traps(
        r#"(drop (call $s.read (i32.const 5) (i32.const 0) (i32.const 1)))"#,
        TrapKind::InvalidHandle,
    );
}

#[test]
fn builtins_trap_on_an_end_of_another_type() {
    let e = traps(
        r#"(call $split (call $s.new))
           (drop (call $w.read (global.get $rx) (i32.const 0) (i32.const 1)))"#,
        TrapKind::WrongAsyncHandle,
    );
    assert!(e.to_string().contains("type"), "{e}");
    traps(
        r#"(call $split (call $e.new))
           (drop (call $s.write (global.get $tx) (i32.const 0) (i32.const 1)))"#,
        TrapKind::WrongAsyncHandle,
    );
}

#[test]
fn a_second_copy_while_copying_traps() {
    let e = traps(
        r#"(call $split (call $s.new))
           (drop (call $s.read (global.get $rx) (i32.const 0) (i32.const 1)))
           (drop (call $s.read (global.get $rx) (i32.const 0) (i32.const 1)))"#,
        TrapKind::AsyncRule,
    );
    assert!(e.to_string().contains("in progress"), "{e}");
}

#[test]
fn buffers_are_checked_for_alignment_bounds_and_length() {
    traps(
        r#"(call $split (call $w.new))
           (drop (call $w.read (global.get $rx) (i32.const 2) (i32.const 1)))"#,
        TrapKind::UnalignedPointer,
    );
    traps(
        r#"(call $split (call $s.new))
           (drop (call $s.write (global.get $tx) (i32.const 65535) (i32.const 2)))"#,
        TrapKind::PointerOutOfBounds,
    );
    traps(
        r#"(call $split (call $w.new))
           (drop (call $w.write (global.get $tx) (i32.const 0) (i32.const 0x4000000)))"#,
        TrapKind::PointerOutOfBounds,
    );
    traps(
        r#"(call $split (call $s.new))
           (drop (call $s.read (global.get $rx) (i32.const 0) (i32.const 0x10000000)))"#,
        TrapKind::LengthTooLarge,
    );
    // Untyped: no bounds, but the length limit holds.
    traps(
        r#"(call $split (call $e.new))
           (drop (call $e.read (global.get $rx) (i32.const 0) (i32.const 0x10000000)))"#,
        TrapKind::LengthTooLarge,
    );
}

#[test]
fn a_trapping_builtin_leaves_the_end_idle() {
    // The bounds trap comes before the end starts copying (the instance
    // is poisoned anyway; this checks no state is left half-made).
    traps(
        r#"(call $split (call $s.new))
           (drop (call $s.write (global.get $tx) (i32.const 65535) (i32.const 2)))"#,
        TrapKind::PointerOutOfBounds,
    );
}

#[test]
fn builtins_trap_in_post_return() {
    let wat = component(
        r#"(func (export "f") (result i32) (i32.const 0))
           (func (export "f-pr") (param i32) (drop (call $s.new)))"#,
        r#"(func (export "f") (result u32) (canon lift (core func $i "f")
             (post-return (core func $i "f-pr"))))"#,
    );
    let (mut store, instance) = instantiate(&wat);
    let e = call_err(&mut store, &instance, "f", &[]);
    assert_eq!(trap_kind(&e), TrapKind::CannotLeave, "{e}");
}

#[test]
fn stream_ends_count_against_the_handle_limit() {
    let wat = component(
        r#"(func (export "f") (drop (call $s.new)) (drop (call $s.new)))"#,
        r#"(func (export "f") (canon lift (core func $i "f")))"#,
    );
    let mut config = Config::default();
    config.max_handles_per_instance(3);
    let engine = Engine::new(&config);
    let c = load(&engine, &wat);
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &c)
        .expect("instantiate");
    let e = call_err(&mut store, &instance, "f", &[]);
    assert_eq!(trap_kind(&e), TrapKind::TooManyHandles, "{e}");
}

// ------------------------------------------------------------ error contexts

#[test]
fn error_context_messages_round_trip() {
    let r = run(r#"(local $e i32)
           (local.set $e (call $ec.new (i32.const 100) (i32.const 5)))
           (call $ec.msg (local.get $e) (i32.const 16))
           ;; 5 bytes at the pointer stored at 16
           (call $expect (i32.load (i32.const 20)) (i32.const 5))
           (call $expect (i32.load (i32.load (i32.const 16))) (i32.const 0x64636261))
           (call $ec.drop (local.get $e))
           (i32.load8_u (i32.add (i32.load (i32.const 16)) (i32.const 4)))"#);
    assert_eq!(r, 0x65);
}

#[test]
fn error_context_traps() {
    traps(
        r#"(local $e i32)
           (local.set $e (call $ec.new (i32.const 100) (i32.const 1)))
           (call $ec.drop (local.get $e))
           (call $ec.drop (local.get $e))"#,
        TrapKind::InvalidHandle,
    );
    traps(
        r#"(call $ec.drop (call $r.new (i32.const 1)))"#,
        TrapKind::WrongAsyncHandle,
    );
    traps(
        r#"(call $split (call $s.new)) (call $ec.msg (global.get $rx) (i32.const 0))"#,
        TrapKind::WrongAsyncHandle,
    );
    traps(
        r#"(drop (call $ec.new (i32.const 65535) (i32.const 2)))"#,
        TrapKind::PointerOutOfBounds,
    );
    traps(
        r#"(call $ec.msg (call $ec.new (i32.const 100) (i32.const 1)) (i32.const 2))"#,
        TrapKind::UnalignedPointer,
    );
    // Invalid UTF-8.
    traps(
        r#"(i32.store8 (i32.const 50) (i32.const 0xff))
           (drop (call $ec.new (i32.const 50) (i32.const 1)))"#,
        TrapKind::InvalidEncoding,
    );
}

// ------------------------------------------------------------ images

#[test]
fn stream_builtins_survive_component_images() {
    let wat = component(
        r#"(func (export "f") (result i32)
             (call $split (call $s.new))
             (call $expect (call $s.read (global.get $rx) (i32.const 200) (i32.const 8)) (i32.const -1))
             (call $expect (call $s.write (global.get $tx) (i32.const 100) (i32.const 2)) (i32.const 0x20))
             (call $expect (call $s.cancel-read (global.get $rx)) (i32.const 0x22))
             (call $split (call $f.new))
             (call $expect (call $f.write (global.get $tx) (i32.const 100)) (i32.const -1))
             (call $expect (call $f.read (global.get $rx) (i32.const 300)) (i32.const 0))
             (call $ec.msg (call $ec.new (i32.const 100) (i32.const 3)) (i32.const 16))
             (i32.add (i32.load8_u (i32.const 300)) (i32.load (i32.const 20))))"#,
        r#"(func (export "f") (result u32) (canon lift (core func $i "f")))"#,
    );
    let engine = Engine::default();
    let c = load(&engine, &wat);
    let bytes = c.serialize().expect("serialize");
    // SAFETY: an image this process just made with this engine.
    let c = unsafe { Component::deserialize(&engine, &bytes) }.expect("deserialize");
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &c)
        .expect("instantiate");
    assert_eq!(call1(&mut store, &instance, "f", &[]), Val::U32(0x61 + 3));
}

// ------------------------------------------------------------ across components

/// Component `$C` makes streams and futures and keeps the writable ends;
/// `$D` gets the readable ends through calls and reads them.
fn pair(c_funcs: &str, d_funcs: &str, d_lifts: &str) -> String {
    format!(
        r#"(component
  (component $C
    (type $R (resource (rep i32)))
    (export $RE "r" (type $R))
    (type $S (stream u8))
    (type $F (future u8))
    (type $SR (stream (own $R)))
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (alias core export $mem "mem" (core memory $memory))
    (canon stream.new $S (core func $s.new))
    (canon stream.write $S async (memory $memory) (core func $s.write))
    (canon stream.cancel-write $S (core func $s.cancel-write))
    (canon stream.drop-writable $S (core func $s.drop-w))
    (canon future.new $F (core func $f.new))
    (canon future.write $F async (memory $memory) (core func $f.write))
    (canon stream.new $SR (core func $sr.new))
    (canon stream.write $SR async (memory $memory) (core func $sr.write))
    (canon error-context.new (memory $memory) (core func $ec.new))
    (canon resource.new $R (core func $r.new))
    (core module $CM
      (import "" "mem" (memory 1))
      (import "" "s.new" (func $s.new (result i64)))
      (import "" "s.write" (func $s.write (param i32 i32 i32) (result i32)))
      (import "" "s.cancel-write" (func $s.cancel-write (param i32) (result i32)))
      (import "" "s.drop-w" (func $s.drop-w (param i32)))
      (import "" "f.new" (func $f.new (result i64)))
      (import "" "f.write" (func $f.write (param i32 i32) (result i32)))
      (import "" "sr.new" (func $sr.new (result i64)))
      (import "" "sr.write" (func $sr.write (param i32 i32 i32) (result i32)))
      (import "" "ec.new" (func $ec.new (param i32 i32) (result i32)))
      (import "" "r.new" (func $r.new (param i32) (result i32)))
      (global $tx (mut i32) (i32.const 0))
      (global $rx (mut i32) (i32.const 0))
      (data (i32.const 100) "hello, world")
      (func $split (param i64)
        (global.set $rx (i32.wrap_i64 (local.get 0)))
        (global.set $tx (i32.wrap_i64 (i64.shr_u (local.get 0) (i64.const 32)))))
      {c_funcs}
    )
    (core instance $cm (instantiate $CM (with "" (instance
      (export "mem" (memory $memory))
      (export "s.new" (func $s.new)) (export "s.write" (func $s.write))
      (export "s.cancel-write" (func $s.cancel-write)) (export "s.drop-w" (func $s.drop-w))
      (export "f.new" (func $f.new)) (export "f.write" (func $f.write))
      (export "sr.new" (func $sr.new)) (export "sr.write" (func $sr.write))
      (export "ec.new" (func $ec.new)) (export "r.new" (func $r.new))))))
    (func (export "start") (result (stream u8)) (canon lift (core func $cm "start")))
    (func (export "write") (param "n" u32) (result u32) (canon lift (core func $cm "write")))
    (func (export "cancel") (result u32) (canon lift (core func $cm "cancel")))
    (func (export "close") (canon lift (core func $cm "close")))
    (func (export "start-future") (result (future u8)) (canon lift (core func $cm "start-future")))
    (func (export "start-res") (result (stream (own $RE))) (canon lift (core func $cm "start-res")))
    (func (export "error") (result error-context) (canon lift (core func $cm "error")))
    (func (export "give-back") (result (stream u8)) (canon lift (core func $cm "give-back")))
    (func (export "take") (param "s" (stream u8)) (result u32) (canon lift (core func $cm "take")))
  )
  (instance $c (instantiate $C))
  (component $D
    (import "c" (instance $c
      (export "r" (type $R (sub resource)))
      (export "start" (func (result (stream u8))))
      (export "write" (func (param "n" u32) (result u32)))
      (export "cancel" (func (result u32)))
      (export "close" (func))
      (export "start-future" (func (result (future u8))))
      (export "start-res" (func (result (stream (own $R)))))
      (export "error" (func (result error-context)))
      (export "give-back" (func (result (stream u8))))
      (export "take" (func (param "s" (stream u8)) (result u32)))))
    (alias export $c "r" (type $R))
    (type $S (stream u8))
    (type $F (future u8))
    (type $SR (stream (own $R)))
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (alias core export $mem "mem" (core memory $memory))
    (canon stream.new $S (core func $s.new))
    (canon stream.read $S async (memory $memory) (core func $s.read))
    (canon stream.cancel-read $S (core func $s.cancel-read))
    (canon stream.drop-readable $S (core func $s.drop-r))
    (canon future.read $F async (memory $memory) (core func $f.read))
    (canon stream.read $SR async (memory $memory) (core func $sr.read))
    (canon error-context.drop (core func $ec.drop))
    (canon resource.drop $R (core func $r.drop))
    (canon lower (func $c "start") (core func $start))
    (canon lower (func $c "write") (core func $write))
    (canon lower (func $c "cancel") (core func $cancel))
    (canon lower (func $c "close") (core func $close))
    (canon lower (func $c "start-future") (core func $start-future))
    (canon lower (func $c "start-res") (core func $start-res))
    (canon lower (func $c "error") (core func $error))
    (canon lower (func $c "give-back") (core func $give-back))
    (canon lower (func $c "take") (core func $take))
    (core module $DM
      (import "" "mem" (memory 1))
      (import "" "s.new" (func $s.new (result i64)))
      (import "" "s.read" (func $s.read (param i32 i32 i32) (result i32)))
      (import "" "s.cancel-read" (func $s.cancel-read (param i32) (result i32)))
      (import "" "s.drop-r" (func $s.drop-r (param i32)))
      (import "" "f.read" (func $f.read (param i32 i32) (result i32)))
      (import "" "sr.read" (func $sr.read (param i32 i32 i32) (result i32)))
      (import "" "ec.drop" (func $ec.drop (param i32)))
      (import "" "r.drop" (func $r.drop (param i32)))
      (import "" "start" (func $start (result i32)))
      (import "" "write" (func $write (param i32) (result i32)))
      (import "" "cancel" (func $cancel (result i32)))
      (import "" "close" (func $close))
      (import "" "start-future" (func $start-future (result i32)))
      (import "" "start-res" (func $start-res (result i32)))
      (import "" "error" (func $error (result i32)))
      (import "" "give-back" (func $give-back (result i32)))
      (import "" "take" (func $take (param i32) (result i32)))
      (func $expect (param $got i32) (param $want i32)
        (if (i32.ne (local.get $got) (local.get $want)) (then unreachable)))
      {d_funcs}
    )
    (core instance $dm (instantiate $DM (with "" (instance
      (export "mem" (memory $memory))
      (export "s.new" (func $s.new)) (export "s.read" (func $s.read))
      (export "s.cancel-read" (func $s.cancel-read)) (export "s.drop-r" (func $s.drop-r))
      (export "f.read" (func $f.read)) (export "sr.read" (func $sr.read))
      (export "ec.drop" (func $ec.drop)) (export "r.drop" (func $r.drop))
      (export "start" (func $start)) (export "write" (func $write))
      (export "cancel" (func $cancel)) (export "close" (func $close))
      (export "start-future" (func $start-future)) (export "start-res" (func $start-res))
      (export "error" (func $error)) (export "give-back" (func $give-back))
      (export "take" (func $take))))))
    {d_lifts}
  )
  (instance $d (instantiate $D (with "c" (instance $c))))
  (func (export "f") (alias export $d "f"))
)"#
    )
}

/// `$C`'s functions: `start` makes a stream u8 (keeping the writable
/// end), `write n` writes `n` bytes of "hello, world", `cancel` cancels a
/// pending write, `close` drops the writable end; `start-future` makes a
/// future and writes 'h' to it; `start-res` makes a stream of resources
/// and writes two (reps 7 and 8); `error` makes an error context;
/// `give-back` passes back the stream `take` received.
const C_FUNCS: &str = r#"
  (global $taken (mut i32) (i32.const 0))
  (func (export "start") (result i32)
    (call $split (call $s.new))
    (global.get $rx))
  (func (export "write") (param $n i32) (result i32)
    (call $s.write (global.get $tx) (i32.const 100) (local.get $n)))
  (func (export "cancel") (result i32)
    (call $s.cancel-write (global.get $tx)))
  (func (export "close")
    (call $s.drop-w (global.get $tx)))
  (func (export "start-future") (result i32)
    (call $split (call $f.new))
    (drop (call $f.write (global.get $tx) (i32.const 100)))
    (global.get $rx))
  (func (export "start-res") (result i32)
    (call $split (call $sr.new))
    (i32.store (i32.const 200) (call $r.new (i32.const 7)))
    (i32.store (i32.const 204) (call $r.new (i32.const 8)))
    (drop (call $sr.write (global.get $tx) (i32.const 200) (i32.const 2)))
    (global.get $rx))
  (func (export "error") (result i32)
    (call $ec.new (i32.const 100) (i32.const 5)))
  (func (export "take") (param i32) (result i32)
    (global.set $taken (local.get 0))
    (local.get 0))
  (func (export "give-back") (result i32)
    (global.get $taken))
"#;

fn run_pair(d_body: &str) -> Result<u32> {
    let wat = pair(
        C_FUNCS,
        &format!(r#"(func (export "f") (result i32) (local $s i32) {d_body})"#),
        r#"(func (export "f") (result u32) (canon lift (core func $dm "f")))"#,
    );
    let engine = Engine::default();
    let c = load(&engine, &wat);
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &c)?;
    match call(&mut store, &instance, "f", &[])? {
        Some(Val::U32(x)) => Ok(x),
        other => panic!("expected a u32, got {other:?}"),
    }
}

#[test]
fn a_stream_passed_between_components_copies_between_memories() {
    let r = run_pair(
        r#"(local.set $s (call $start))
           ;; D's table is fresh: the readable end is handle 1
           (call $expect (local.get $s) (i32.const 1))
           (call $expect (call $s.read (local.get $s) (i32.const 300) (i32.const 4)) (i32.const -1))
           ;; C writes 12 bytes: 4 fit into D's read
           (call $expect (call $write (i32.const 12)) (i32.const 0x40))
           (call $expect (call $s.cancel-read (local.get $s)) (i32.const 0x40))
           (call $expect (i32.load (i32.const 300)) (i32.const 0x6c6c6568))
           ;; a pending write of 12 is read in two parts
           (call $expect (call $write (i32.const 12)) (i32.const -1))
           (call $expect (call $s.read (local.get $s) (i32.const 304) (i32.const 3)) (i32.const 0x30))
           (call $expect (call $s.read (local.get $s) (i32.const 307) (i32.const 100)) (i32.const 0x90))
           (call $expect (call $cancel) (i32.const 0xc0))
           ;; C drops its end: D reads DROPPED
           (call $close)
           (call $expect (call $s.read (local.get $s) (i32.const 0) (i32.const 1)) (i32.const 1))
           (call $s.drop-r (local.get $s))
           (i32.load8_u (i32.const 308))"#,
    )
    .expect("run");
    // "hell" + "hel" + "lo, world": byte 308 is 'o'.
    assert_eq!(r, u32::from(b'o'));
}

#[test]
fn a_future_passed_between_components_delivers_its_value() {
    let r = run_pair(
        r#"(local.set $s (call $start-future))
           (call $expect (call $f.read (local.get $s) (i32.const 300)) (i32.const 0))
           (i32.load8_u (i32.const 300))"#,
    )
    .expect("run");
    assert_eq!(r, u32::from(b'h'));
}

#[test]
fn owned_handles_in_stream_elements_move() {
    let r = run_pair(
        r#"(local.set $s (call $start-res))
           (call $expect (call $sr.read (local.get $s) (i32.const 300) (i32.const 4)) (i32.const 0x20))
           ;; two own handles now in D's table (after the stream end, 1)
           (call $expect (i32.load (i32.const 300)) (i32.const 2))
           (call $expect (i32.load (i32.const 304)) (i32.const 3))
           (call $r.drop (i32.load (i32.const 300)))
           (call $r.drop (i32.load (i32.const 304)))
           (i32.const 5)"#,
    )
    .expect("run");
    assert_eq!(r, 5);
}

#[test]
fn error_contexts_are_shared_not_moved() {
    let r = run_pair(
        r#"(local.set $s (call $error))
           (call $ec.drop (local.get $s))
           (local.get $s)"#,
    )
    .expect("run");
    assert_eq!(r, 1);
}

#[test]
fn a_stream_end_passes_back_and_forth() {
    let r = run_pair(
        r#"(local.set $s (call $start))
           ;; give it to C and take it back: a new handle each time
           (call $expect (call $take (local.get $s)) (i32.const 1))
           (local.set $s (call $give-back))
           (call $expect (call $s.read (local.get $s) (i32.const 300) (i32.const 4)) (i32.const -1))
           (call $expect (call $write (i32.const 2)) (i32.const 0x20))
           (call $s.cancel-read (local.get $s))"#,
    )
    .expect("run");
    assert_eq!(r, 0x22);
}

#[test]
fn passing_a_busy_or_writable_end_traps() {
    // Busy: a read is in progress.
    let e = run_pair(
        r#"(local.set $s (call $start))
           (drop (call $s.read (local.get $s) (i32.const 300) (i32.const 4)))
           (call $take (local.get $s))"#,
    )
    .expect_err("busy");
    assert_eq!(trap_kind(&e), TrapKind::AsyncRule, "{e}");
    // Done: the writer dropped and the reader was told.
    let e = run_pair(
        r#"(local.set $s (call $start))
           (call $close)
           (drop (call $s.read (local.get $s) (i32.const 300) (i32.const 4)))
           (call $take (local.get $s))"#,
    )
    .expect_err("done");
    assert_eq!(trap_kind(&e), TrapKind::AsyncRule, "{e}");
    // A writable end is not a `stream`.
    let e = run_pair(
        r#"(local.set $s (i32.wrap_i64 (i64.shr_u (call $s.new) (i64.const 32))))
           (call $take (local.get $s))"#,
    )
    .expect_err("writable");
    assert_eq!(trap_kind(&e), TrapKind::WrongAsyncHandle, "{e}");
    // Not a handle at all.
    let e = run_pair(r#"(call $take (i32.const 9))"#).expect_err("none");
    assert_eq!(trap_kind(&e), TrapKind::InvalidHandle, "{e}");
}

// ------------------------------------------------------------ the host

/// Exports for the host tests: `g` makes a stream with a pending write of
/// "abcde" (keeping the writable end), `gf` a future with 'a' pending,
/// `ge` an error context "hello", `status` cancels the pending write and
/// returns its result, `close` drops the writable end, `write` starts a
/// write of 2 and returns its result, `take` reads up to 8 from a stream
/// it is given and returns the result.
fn host_component() -> String {
    component(
        r#"(func (export "g") (result i32)
             (call $split (call $s.new))
             (call $expect (call $s.write (global.get $tx) (i32.const 100) (i32.const 5)) (i32.const -1))
             (global.get $rx))
           (func (export "gf") (result i32)
             (call $split (call $f.new))
             (call $expect (call $f.write (global.get $tx) (i32.const 100)) (i32.const -1))
             (global.get $rx))
           (func (export "ge") (result i32)
             (call $ec.new (i32.const 100) (i32.const 5)))
           (func (export "status") (result i32)
             (call $s.cancel-write (global.get $tx)))
           (func (export "close")
             (call $s.drop-w (global.get $tx)))
           (func (export "write") (result i32)
             (call $s.write (global.get $tx) (i32.const 100) (i32.const 2)))
           (func (export "take") (param i32) (result i32)
             (call $s.read (local.get 0) (i32.const 300) (i32.const 8)))"#,
        r#"(func (export "g") (result (stream u8)) (canon lift (core func $i "g")))
           (func (export "gf") (result (future u8)) (canon lift (core func $i "gf")))
           (func (export "ge") (result error-context) (canon lift (core func $i "ge")))
           (func (export "status") (result u32) (canon lift (core func $i "status")))
           (func (export "close") (canon lift (core func $i "close")))
           (func (export "write") (result u32) (canon lift (core func $i "write")))
           (func (export "take") (param "s" (stream u8)) (result u32)
             (canon lift (core func $i "take")))"#,
    )
}

fn stream_of(v: Val) -> StreamAny {
    match v {
        Val::Stream(s) => s,
        other => panic!("expected a stream, got {other:?}"),
    }
}

fn u8s(r: StreamRead) -> Vec<u8> {
    match r {
        StreamRead::Values(vs) => vs
            .into_iter()
            .map(|v| match v {
                Val::U8(x) => x,
                other => panic!("expected a u8, got {other:?}"),
            })
            .collect(),
        other => panic!("expected values, got {other:?}"),
    }
}

#[test]
fn the_host_reads_a_pending_write() {
    let (mut store, instance) = instantiate(&host_component());
    let s = stream_of(call1(&mut store, &instance, "g", &[]));
    assert_eq!(u8s(s.read(&mut store, 3).expect("read")), b"abc");
    assert_eq!(u8s(s.read(&mut store, 0).expect("read")), b"");
    assert_eq!(u8s(s.read(&mut store, 10).expect("read")), b"de");
    // The write is used up: it completes, and nothing is pending.
    assert_eq!(s.read(&mut store, 10).expect("read"), StreamRead::Blocked);
    assert_eq!(call1(&mut store, &instance, "status", &[]), Val::U32(0x50));
    // A new write, then the writer leaves.
    assert_eq!(
        call1(&mut store, &instance, "write", &[]),
        Val::U32(BLOCKED)
    );
    assert_eq!(u8s(s.read(&mut store, 1).expect("read")), b"a");
    // A cancelled write with room left reports what was read.
    assert_eq!(call1(&mut store, &instance, "status", &[]), Val::U32(0x12));
    call(&mut store, &instance, "close", &[]).expect("close");
    assert_eq!(s.read(&mut store, 1).expect("read"), StreamRead::Dropped);
    s.drop(&mut store).expect("drop");
    assert!(s.read(&mut store, 1).is_err());
    assert!(s.drop(&mut store).is_err());
}

#[test]
fn the_host_dropping_its_end_ends_the_write() {
    let (mut store, instance) = instantiate(&host_component());
    let s = stream_of(call1(&mut store, &instance, "g", &[]));
    s.drop(&mut store).expect("drop");
    // The pending write ended DROPPED with nothing copied.
    assert_eq!(call1(&mut store, &instance, "status", &[]), Val::U32(1));
}

#[test]
fn the_host_passes_a_stream_back_to_a_guest() {
    let (mut store, instance) = instantiate(&host_component());
    let s = stream_of(call1(&mut store, &instance, "g", &[]));
    assert_eq!(u8s(s.read(&mut store, 1).expect("read")), b"a");
    // The guest reads the other 4.
    assert_eq!(
        call1(&mut store, &instance, "take", &[Val::Stream(s)]),
        Val::U32(0x40)
    );
    // The host's end moved.
    assert!(s.read(&mut store, 1).is_err());
    let e = call_err(&mut store, &instance, "take", &[Val::Stream(s)]);
    assert_eq!(e.kind(), &ErrorKind::Usage, "{e}");
    // Not a stream at all.
    let e = call_err(&mut store, &instance, "take", &[Val::U32(1)]);
    assert_eq!(e.kind(), &ErrorKind::Usage, "{e}");
}

#[test]
fn the_host_reads_a_future() {
    let (mut store, instance) = instantiate(&host_component());
    let Val::Future(f) = call1(&mut store, &instance, "gf", &[]) else {
        panic!("expected a future")
    };
    assert_eq!(
        f.read(&mut store).expect("read"),
        FutureRead::Value(Some(Val::U8(b'a')))
    );
    let e = f.read(&mut store).expect_err("read twice");
    assert_eq!(e.kind(), &ErrorKind::Usage, "{e}");
    f.drop(&mut store).expect("drop");
    // A future whose value was not written yet.
    let (mut store, instance) = instantiate(&component(
        r#"(func (export "gf") (result i32)
             (call $split (call $f.new))
             (global.get $rx))"#,
        r#"(func (export "gf") (result (future u8)) (canon lift (core func $i "gf")))"#,
    ));
    let Val::Future(f) = call1(&mut store, &instance, "gf", &[]) else {
        panic!("expected a future")
    };
    assert_eq!(f.read(&mut store).expect("read"), FutureRead::Blocked);
    f.drop(&mut store).expect("drop");
}

#[test]
fn the_host_holds_error_contexts() {
    let (mut store, instance) = instantiate(&host_component());
    let Val::ErrorContext(e) = call1(&mut store, &instance, "ge", &[]) else {
        panic!("expected an error context")
    };
    let expected = if cfg!(feature = "deterministic") {
        ""
    } else {
        "abcde"
    };
    assert_eq!(e.debug_message(&mut store).expect("message"), expected);
    e.drop(&mut store).expect("drop");
    assert!(e.debug_message(&mut store).is_err());
    assert!(e.drop(&mut store).is_err());
}

#[test]
fn host_values_belong_to_their_store() {
    let (mut store, instance) = instantiate(&host_component());
    let s = stream_of(call1(&mut store, &instance, "g", &[]));
    let (mut other, _) = instantiate(&host_component());
    assert!(s.read(&mut other, 1).is_err());
    assert!(s.drop(&mut other).is_err());
    assert_eq!(u8s(s.read(&mut store, 1).expect("read")), b"a");
}

#[test]
fn stream_char_is_unsupported() {
    // The validator rejects `stream<char>` itself.
    let r = try_load(
        &Engine::default(),
        r#"(component (type $S (stream char)) (core func (canon stream.new $S)))"#,
    );
    assert!(r.is_err());
}

/// Elements that need more than a byte copy: strings (the reader's
/// `realloc` allocates them) and stream ends (each element's handle moves
/// into the reader's table).
#[test]
fn strings_and_stream_ends_as_elements_move_between_components() {
    let wat = r#"(component
  (component $C
    (type $SS (stream string))
    (type $S (stream u8))
    (type $SN (stream $S))
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (alias core export $mem "mem" (core memory $memory))
    (canon stream.new $SS (core func $ss.new))
    (canon stream.write $SS async (memory $memory) (core func $ss.write))
    (canon stream.new $SN (core func $sn.new))
    (canon stream.write $SN async (memory $memory) (core func $sn.write))
    (canon stream.new $S (core func $s.new))
    (canon stream.write $S async (memory $memory) (core func $s.write))
    (core module $CM
      (import "" "mem" (memory 1))
      (import "" "ss.new" (func $ss.new (result i64)))
      (import "" "ss.write" (func $ss.write (param i32 i32 i32) (result i32)))
      (import "" "sn.new" (func $sn.new (result i64)))
      (import "" "sn.write" (func $sn.write (param i32 i32 i32) (result i32)))
      (import "" "s.new" (func $s.new (result i64)))
      (import "" "s.write" (func $s.write (param i32 i32 i32) (result i32)))
      (data (i32.const 100) "hello")
      (data (i32.const 110) "world!")
      (data (i32.const 200) "\64\00\00\00\05\00\00\00\6e\00\00\00\06\00\00\00")
      (func (export "strings") (result i32)
        (local $r i64)
        (local.set $r (call $ss.new))
        (drop (call $ss.write (i32.wrap_i64 (i64.shr_u (local.get $r) (i64.const 32)))
          (i32.const 200) (i32.const 2)))
        (i32.wrap_i64 (local.get $r)))
      (func (export "nested") (result i32)
        (local $r i64) (local $inner i64)
        (local.set $inner (call $s.new))
        (drop (call $s.write (i32.wrap_i64 (i64.shr_u (local.get $inner) (i64.const 32)))
          (i32.const 100) (i32.const 5)))
        (i32.store (i32.const 300) (i32.wrap_i64 (local.get $inner)))
        (local.set $r (call $sn.new))
        (drop (call $sn.write (i32.wrap_i64 (i64.shr_u (local.get $r) (i64.const 32)))
          (i32.const 300) (i32.const 1)))
        (i32.wrap_i64 (local.get $r))))
    (core instance $cm (instantiate $CM (with "" (instance
      (export "mem" (memory $memory))
      (export "ss.new" (func $ss.new)) (export "ss.write" (func $ss.write))
      (export "sn.new" (func $sn.new)) (export "sn.write" (func $sn.write))
      (export "s.new" (func $s.new)) (export "s.write" (func $s.write))))))
    (func (export "strings") (result (stream string)) (canon lift (core func $cm "strings")))
    (func (export "nested") (result $SN) (canon lift (core func $cm "nested"))))
  (instance $c (instantiate $C))
  (component $D
    (import "c" (instance $c
      (type $S (stream u8))
      (export "strings" (func (result (stream string))))
      (export "nested" (func (result (stream $S))))))
    (type $SS (stream string))
    (type $S (stream u8))
    (type $SN (stream $S))
    (core module $Mem
      (memory (export "mem") 1)
      (global $bump (mut i32) (i32.const 4096))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (global.get $bump))
        (global.set $bump (i32.add (global.get $bump) (local.get 3)))
        (local.get $p)))
    (core instance $mem (instantiate $Mem))
    (alias core export $mem "mem" (core memory $memory))
    (alias core export $mem "realloc" (core func $realloc))
    (canon stream.read $SS async (memory $memory) (realloc $realloc) (core func $ss.read))
    (canon stream.read $SN async (memory $memory) (core func $sn.read))
    (canon stream.read $S async (memory $memory) (core func $s.read))
    (canon lower (func $c "strings") (core func $strings))
    (canon lower (func $c "nested") (core func $nested))
    (core module $DM
      (import "" "mem" (memory 1))
      (import "" "ss.read" (func $ss.read (param i32 i32 i32) (result i32)))
      (import "" "sn.read" (func $sn.read (param i32 i32 i32) (result i32)))
      (import "" "s.read" (func $s.read (param i32 i32 i32) (result i32)))
      (import "" "strings" (func $strings (result i32)))
      (import "" "nested" (func $nested (result i32)))
      (func $expect (param $got i32) (param $want i32)
        (if (i32.ne (local.get $got) (local.get $want)) (then unreachable)))
      (func (export "f") (result i32)
        (local $s i32) (local $inner i32)
        (local.set $s (call $strings))
        (call $expect (call $ss.read (local.get $s) (i32.const 400) (i32.const 4)) (i32.const 0x20))
        (call $expect (i32.load (i32.const 404)) (i32.const 5))
        (call $expect (i32.load (i32.const 412)) (i32.const 6))
        (call $expect (i32.load8_u (i32.load (i32.const 400))) (i32.const 0x68))
        (call $expect (i32.load8_u (i32.load (i32.const 408))) (i32.const 0x77))
        (local.set $s (call $nested))
        (call $expect (call $sn.read (local.get $s) (i32.const 500) (i32.const 1)) (i32.const 0x10))
        (local.set $inner (i32.load (i32.const 500)))
        ;; the outer end (1), the strings' end (2) came first: the inner end is 3
        (call $expect (local.get $inner) (i32.const 3))
        (call $expect (call $s.read (local.get $inner) (i32.const 600) (i32.const 5)) (i32.const 0x50))
        (i32.load8_u (i32.const 604))))
    (core instance $dm (instantiate $DM (with "" (instance
      (export "mem" (memory $memory))
      (export "ss.read" (func $ss.read)) (export "sn.read" (func $sn.read))
      (export "s.read" (func $s.read))
      (export "strings" (func $strings)) (export "nested" (func $nested))))))
    (func (export "f") (result u32) (canon lift (core func $dm "f"))))
  (instance $d (instantiate $D (with "c" (instance $c))))
  (func (export "f") (alias export $d "f")))"#;
    let (mut store, instance) = instantiate(wat);
    assert_eq!(
        call1(&mut store, &instance, "f", &[]),
        Val::U32(u32::from(b'o'))
    );
}

// ------------------------------------------------------------ sync forms and the scheduler
//
// The sync forms of `read`/`write` and the async forms of the cancel
// built-ins (wasm-tools' `cm-more-async-builtins`), with `waitable.join`
// and blocking from the scheduler.

/// A component whose `f` runs `body` with sync and async forms of the
/// `stream<u8>`/`future<u8>` built-ins, and `waitable.join` (as `$join`,
/// else a stub) if `join`.
fn more_builtins(body: &str, join: bool) -> String {
    let (join_canon, join_export) = if join {
        (
            "(canon waitable-set.new (core func $ws.new)) (canon waitable.join (core func $join))",
            r#"(export "ws.new" (func $ws.new)) (export "join" (func $join))"#,
        )
    } else {
        ("", "")
    };
    let join_import = if join {
        r#"(import "b" "ws.new" (func $ws.new (result i32)))
    (import "b" "join" (func $join (param i32 i32)))"#
    } else {
        ""
    };
    format!(
        r#"(component
  (type $S (stream u8))
  (type $F (future u8))
  (core module $Mem (memory (export "mem") 1))
  (core instance $mem (instantiate $Mem))
  (alias core export $mem "mem" (core memory $memory))
  (canon stream.new $S (core func $s.new))
  (canon stream.read $S async (memory $memory) (core func $s.read))
  (canon stream.read $S (memory $memory) (core func $s.read.sync))
  (canon stream.write $S (memory $memory) (core func $s.write.sync))
  (canon stream.cancel-read $S async (core func $s.cancel-read.async))
  (canon future.new $F (core func $f.new))
  (canon future.read $F async (memory $memory) (core func $f.read))
  (canon future.write $F (memory $memory) (core func $f.write.sync))
  {join_canon}
  (core module $M
    (import "b" "mem" (memory 1))
    (import "b" "s.new" (func $s.new (result i64)))
    (import "b" "s.read" (func $s.read (param i32 i32 i32) (result i32)))
    (import "b" "s.read.sync" (func $s.read.sync (param i32 i32 i32) (result i32)))
    (import "b" "s.write.sync" (func $s.write.sync (param i32 i32 i32) (result i32)))
    (import "b" "s.cancel-read.async" (func $s.cancel-read.async (param i32) (result i32)))
    (import "b" "f.new" (func $f.new (result i64)))
    (import "b" "f.read" (func $f.read (param i32 i32) (result i32)))
    (import "b" "f.write.sync" (func $f.write.sync (param i32 i32) (result i32)))
    {join_import}
    (global $rx (mut i32) (i32.const 0))
    (global $tx (mut i32) (i32.const 0))
    (func $split (param i64)
      (global.set $rx (i32.wrap_i64 (local.get 0)))
      (global.set $tx (i32.wrap_i64 (i64.shr_u (local.get 0) (i64.const 32)))))
    (func $expect (param $got i32) (param $want i32)
      (if (i32.ne (local.get $got) (local.get $want)) (then unreachable)))
    (func (export "f") (result i32) {body}))
  (core instance $i (instantiate $M (with "b" (instance
    (export "mem" (memory $memory))
    (export "s.new" (func $s.new)) (export "s.read" (func $s.read))
    (export "s.read.sync" (func $s.read.sync)) (export "s.write.sync" (func $s.write.sync))
    (export "s.cancel-read.async" (func $s.cancel-read.async))
    (export "f.new" (func $f.new)) (export "f.read" (func $f.read))
    (export "f.write.sync" (func $f.write.sync))
    {join_export}))))
  (func (export "f") (result u32) (canon lift (core func $i "f")))
)"#
    )
}

#[test]
fn sync_copies_that_can_complete_do_not_block() {
    let (mut store, instance) = instantiate(&more_builtins(
        r#"(call $split (call $s.new))
           (call $expect (call $s.read (global.get $rx) (i32.const 200) (i32.const 4)) (i32.const -1))
           (call $expect (call $s.write.sync (global.get $tx) (i32.const 100) (i32.const 4)) (i32.const 0x40))
           ;; the async cancel of a guest copy completes at once
           (call $expect (call $s.cancel-read.async (global.get $rx)) (i32.const 0x40))
           (call $split (call $f.new))
           (call $expect (call $f.read (global.get $rx) (i32.const 200)) (i32.const -1))
           (call $f.write.sync (global.get $tx) (i32.const 100))"#,
        false,
    ));
    assert_eq!(call1(&mut store, &instance, "f", &[]), Val::U32(0));
}

#[test]
fn a_sync_read_that_must_block_in_a_sync_task_traps() {
    let (mut store, instance) = instantiate(&more_builtins(
        r#"(call $split (call $s.new))
           (call $s.read.sync (global.get $rx) (i32.const 200) (i32.const 4))"#,
        false,
    ));
    let e = call_err(&mut store, &instance, "f", &[]);
    assert!(e.is_trap(), "{e}");
}

#[test]
fn a_sync_copy_on_an_end_in_a_waitable_set_traps() {
    let (mut store, instance) = instantiate(&more_builtins(
        r#"(call $split (call $s.new))
           (call $join (global.get $rx) (call $ws.new))
           (call $s.read.sync (global.get $rx) (i32.const 200) (i32.const 4))"#,
        true,
    ));
    let e = call_err(&mut store, &instance, "f", &[]);
    assert_eq!(trap_kind(&e), TrapKind::AsyncRule, "{e}");
    assert!(e.to_string().contains("waitable set"), "{e}");
}

// ------------------------------------------------------------ no panics

/// Random programs of stream, future and error-context built-in calls on
/// small handle numbers, pointers and lengths: each runs until it returns
/// or traps, and the host never panics. (A deterministic generator: the
/// same programs every run.)
#[test]
fn random_builtin_sequences_never_panic() {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let engine = Engine::default();
    let mut outcomes = [0usize; 2];
    for _ in 0..400 {
        let future = next(2) == 0;
        let mut body = String::from(if future {
            "(call $split (call $f.new))\n"
        } else {
            "(call $split (call $s.new))\n"
        });
        for _ in 0..(1 + next(12)) {
            // Mostly the last new ends and valid buffers, so that programs
            // get past their first calls.
            let h = match next(10) {
                0..=3 => "(global.get $rx)".to_string(),
                4..=7 => "(global.get $tx)".to_string(),
                _ => format!("(i32.const {})", 1 + next(8)),
            };
            let ptr = match next(10) {
                0..=7 => [100u64, 200, 300, 400][next(4) as usize],
                _ => [0u64, 101, 65532, 65535, 0xffff_ffff][next(5) as usize],
            };
            let len = match next(10) {
                0..=7 => next(9),
                _ => [100u64, 0x1000_0000][next(2) as usize],
            };
            let op = if future { 8 + next(7) } else { next(8) };
            let call = match if next(12) == 0 { 15 + next(4) } else { op } {
                0 => "(drop (call $s.new))".to_string(),
                1 => "(call $split (call $s.new))".to_string(),
                2 => format!("(drop (call $s.read {h} (i32.const {ptr}) (i32.const {len})))"),
                3 => format!("(drop (call $s.write {h} (i32.const {ptr}) (i32.const {len})))"),
                4 => format!("(drop (call $s.cancel-read {h}))"),
                5 => format!("(drop (call $s.cancel-write {h}))"),
                6 => format!("(call $s.drop-r {h})"),
                7 => format!("(call $s.drop-w {h})"),
                8 => "(call $split (call $f.new))".to_string(),
                9 => format!("(drop (call $f.read {h} (i32.const {ptr})))"),
                10 => format!("(drop (call $f.write {h} (i32.const {ptr})))"),
                11 => format!("(drop (call $f.cancel-read {h}))"),
                12 => format!("(drop (call $f.cancel-write {h}))"),
                13 => format!("(call $f.drop-r {h})"),
                14 => format!("(call $f.drop-w {h})"),
                15 => format!("(drop (call $ec.new (i32.const {ptr}) (i32.const {len})))"),
                16 => format!("(call $ec.msg {h} (i32.const {ptr}))"),
                17 => format!("(call $ec.drop {h})"),
                _ => "(call $split (call $e.new))".to_string(),
            };
            body.push_str(&call);
            body.push('\n');
        }
        let wat = component(
            &format!(r#"(func (export "f") {body})"#),
            r#"(func (export "f") (canon lift (core func $i "f")))"#,
        );
        let c = load(&engine, &wat);
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine)
            .instantiate(&mut store, &c)
            .expect("instantiate");
        match call(&mut store, &instance, "f", &[]) {
            Ok(_) => outcomes[0] += 1,
            Err(e) => {
                if std::env::var("SHOW_TRAPS").is_ok() {
                    eprintln!("TRAP {e}");
                }
                assert!(e.is_trap(), "{e}\n{body}");
                assert!(!e.to_string().contains("internal"), "{e}\n{body}");
                outcomes[1] += 1;
            }
        }
    }
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}

/// A host import given a stream reads it while the guest's write is
/// pending, and returns an error context to the guest.
#[test]
fn a_host_import_reads_a_guest_stream_and_returns_an_error_context() {
    let wat = r#"(component
  (type $S (stream u8))
  (import "consume" (func $consume (param "s" $S) (result u32)))
  (import "fail" (func $fail (result error-context)))
  (core module $Mem (memory (export "mem") 1))
  (core instance $mem (instantiate $Mem))
  (alias core export $mem "mem" (core memory $memory))
  (canon stream.new $S (core func $s.new))
  (canon stream.write $S async (memory $memory) (core func $s.write))
  (canon stream.cancel-write $S (core func $s.cancel-write))
  (canon error-context.drop (core func $ec.drop))
  (canon lower (func $consume) (core func $consume'))
  (canon lower (func $fail) (core func $fail'))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "s.new" (func $s.new (result i64)))
    (import "" "s.write" (func $s.write (param i32 i32 i32) (result i32)))
    (import "" "s.cancel-write" (func $s.cancel-write (param i32) (result i32)))
    (import "" "ec.drop" (func $ec.drop (param i32)))
    (import "" "consume" (func $consume (param i32) (result i32)))
    (import "" "fail" (func $fail (result i32)))
    (data (i32.const 100) "xyz")
    (func (export "f") (result i32)
      (local $r i64) (local $tx i32) (local $n i32)
      (local.set $r (call $s.new))
      (local.set $tx (i32.wrap_i64 (i64.shr_u (local.get $r) (i64.const 32))))
      (if (i32.ne (call $s.write (local.get $tx) (i32.const 100) (i32.const 3)) (i32.const -1))
        (then unreachable))
      ;; the host reads 2 of the 3 bytes, then drops its end
      (local.set $n (call $consume (i32.wrap_i64 (local.get $r))))
      (if (i32.ne (call $s.cancel-write (local.get $tx)) (i32.const 0x21))
        (then unreachable))
      (call $ec.drop (call $fail))
      (local.get $n)))
  (core instance $i (instantiate $M (with "" (instance
    (export "mem" (memory $memory))
    (export "s.new" (func $s.new)) (export "s.write" (func $s.write))
    (export "s.cancel-write" (func $s.cancel-write)) (export "ec.drop" (func $ec.drop))
    (export "consume" (func $consume')) (export "fail" (func $fail'))))))
  (func (export "f") (result u32) (canon lift (core func $i "f")))
)"#;
    let engine = Engine::default();
    let c = load(&engine, wat);
    let mut linker = Linker::<Option<ErrorContextAny>>::new(&engine);
    linker
        .root()
        .func_new("consume", |mut cx, params, results| {
            let Some(Val::Stream(s)) = params.first() else {
                panic!("expected a stream, got {params:?}")
            };
            let StreamRead::Values(vs) = s.read(&mut cx, 2)? else {
                panic!("expected values")
            };
            s.drop(&mut cx)?;
            results[0] = Val::U32(vs.len() as u32 * 100 + u32::from(vs[1] == Val::U8(b'y')));
            Ok(())
        })
        .expect("define consume");
    linker
        .root()
        .func_new("fail", |mut cx, _, results| {
            // One the host got from another instance earlier.
            let e = cx.data_mut().take().expect("an error context");
            results[0] = Val::ErrorContext(e);
            Ok(())
        })
        .expect("define fail");
    // An error context made by another instance of this store.
    let ec_wat = component(
        r#"(func (export "ge") (result i32) (call $ec.new (i32.const 100) (i32.const 2)))"#,
        r#"(func (export "ge") (result error-context) (canon lift (core func $i "ge")))"#,
    );
    let mut store = Store::new(&engine, None);
    let maker = Linker::new(&engine)
        .instantiate(&mut store, &load(&engine, &ec_wat))
        .expect("instantiate");
    let Val::ErrorContext(e) = call1(&mut store, &maker, "ge", &[]) else {
        panic!("expected an error context")
    };
    *store.data_mut() = Some(e);
    let instance = linker.instantiate(&mut store, &c).expect("instantiate");
    assert_eq!(call1(&mut store, &instance, "f", &[]), Val::U32(201));
    // The host's copy is still there (the guest dropped its own handle).
    let expected = if cfg!(feature = "deterministic") {
        ""
    } else {
        "ab"
    };
    assert_eq!(e.debug_message(&mut store).expect("message"), expected);
}
