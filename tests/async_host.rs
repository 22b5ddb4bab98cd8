//! The host side of async (feature `async`): `Func::call_async` under a
//! plain poll loop, async host functions (`func_new_async`) whose futures
//! complete later, blocking `Func::call` woken from another thread,
//! cancellation of a host call, and the traps of a failing or ill-typed
//! host future.
#![cfg(feature = "async")]

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use common::*;
use componentry::*;

fn trap_kind(e: &Error) -> TrapKind {
    match e.kind() {
        ErrorKind::Trap(k) => *k,
        other => panic!("expected a trap, got {other:?}: {e}"),
    }
}

/// A guest importing `fetch: async func(x: u32) -> u32` and exporting:
/// * `run` (stackful): `canon lower async` of `fetch(x)`, waits for its
///   SUBTASK event, returns the result + 1;
/// * `run-sync-lower` (stackful): a sync call of `fetch(x)` + 2;
/// * `run-sync`: a sync-typed export calling `fetch(x)` synchronously;
/// * `run-cancel` (stackful): starts `fetch(x)`, cancels it, returns the
///   subtask's state (or 100 + the result if it had returned).
const GUEST: &str = r#"(component
  (import "fetch" (func $fetch async (param "x" u32) (result u32)))
  (core module $Mem (memory (export "mem") 1))
  (core instance $mem (instantiate $Mem))
  (alias core export $mem "mem" (core memory $m))
  (core func $fa (canon lower (func $fetch) async (memory $m)))
  (core func $fs (canon lower (func $fetch)))
  (canon task.return (result u32) (core func $tr))
  (canon waitable-set.new (core func $wsn))
  (canon waitable-set.wait (memory $m) (core func $wsw))
  (canon waitable.join (core func $join))
  (canon subtask.drop (core func $sd))
  (canon subtask.cancel (core func $scancel))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "fa" (func $fa (param i32 i32) (result i32)))
    (import "" "fs" (func $fs (param i32) (result i32)))
    (import "" "tr" (func $tr (param i32)))
    (import "" "wsn" (func $wsn (result i32)))
    (import "" "wsw" (func $wsw (param i32 i32) (result i32)))
    (import "" "join" (func $join (param i32 i32)))
    (import "" "sd" (func $sd (param i32)))
    (import "" "scancel" (func $scancel (param i32) (result i32)))
    (func (export "run") (param $x i32)
      (local $ret i32) (local $sub i32) (local $ws i32)
      (local.set $ret (call $fa (local.get $x) (i32.const 16)))
      (if (i32.eq (local.get $ret) (i32.const 2 (; RETURNED ;)))
        (then (call $tr (i32.add (i32.load (i32.const 16)) (i32.const 1))) (return)))
      (local.set $sub (i32.shr_u (local.get $ret) (i32.const 4)))
      (local.set $ws (call $wsn))
      (call $join (local.get $sub) (local.get $ws))
      (if (i32.ne (call $wsw (local.get $ws) (i32.const 0)) (i32.const 1 (; SUBTASK ;)))
        (then unreachable))
      (if (i32.ne (i32.load (i32.const 4)) (i32.const 2 (; RETURNED ;))) (then unreachable))
      (call $sd (local.get $sub))
      (call $tr (i32.add (i32.load (i32.const 16)) (i32.const 1))))
    (func (export "run-sync-lower") (param $x i32)
      (call $tr (i32.add (call $fs (local.get $x)) (i32.const 2))))
    (func (export "run-sync") (param $x i32) (result i32)
      (call $fs (local.get $x)))
    (func (export "run-cancel") (param $x i32)
      (local $ret i32) (local $sub i32)
      (local.set $ret (call $fa (local.get $x) (i32.const 16)))
      (if (i32.eq (local.get $ret) (i32.const 2 (; RETURNED ;)))
        (then (call $tr (i32.add (i32.load (i32.const 16)) (i32.const 100))) (return)))
      (local.set $sub (i32.shr_u (local.get $ret) (i32.const 4)))
      (local.set $ret (call $scancel (local.get $sub)))
      (call $sd (local.get $sub))
      (call $tr (local.get $ret))))
  (core instance $i (instantiate $M (with "" (instance
    (export "mem" (memory $m)) (export "fa" (func $fa)) (export "fs" (func $fs))
    (export "tr" (func $tr)) (export "wsn" (func $wsn)) (export "wsw" (func $wsw))
    (export "join" (func $join)) (export "sd" (func $sd)) (export "scancel" (func $scancel))))))
  (func (export "run") async (param "x" u32) (result u32)
    (canon lift (core func $i "run") async))
  (func (export "run-sync-lower") async (param "x" u32) (result u32)
    (canon lift (core func $i "run-sync-lower") async))
  (func (export "run-sync") (param "x" u32) (result u32)
    (canon lift (core func $i "run-sync")))
  (func (export "run-cancel") async (param "x" u32) (result u32)
    (canon lift (core func $i "run-cancel") async))
)"#;

/// A value the test provides later, and the waker of whoever waits for it.
/// The host function's result once filled, and the waiter's waker.
type Filled = (Option<Result<Option<Val>>>, Option<Waker>);

#[derive(Default)]
struct Slot {
    value: Mutex<Filled>,
    polls: AtomicU32,
}

impl Slot {
    fn fill(&self, v: Result<Option<Val>>) {
        let mut g = self.value.lock().unwrap();
        g.0 = Some(v);
        if let Some(w) = g.1.take() {
            w.wake();
        }
    }
}

/// A future that is ready once the test fills `slot`.
struct Later {
    slot: Arc<Slot>,
    dropped: Arc<AtomicBool>,
}

impl Future for Later {
    type Output = Result<Option<Val>>;
    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.slot.polls.fetch_add(1, Ordering::SeqCst);
        let mut g = self.slot.value.lock().unwrap();
        match g.0.take() {
            Some(v) => Poll::Ready(v),
            None => {
                g.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Drop for Later {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

struct Setup {
    store: Store<()>,
    instance: Instance,
    slot: Arc<Slot>,
    dropped: Arc<AtomicBool>,
    args: Arc<Mutex<Vec<Val>>>,
}

fn setup() -> Setup {
    let engine = Engine::default();
    let c = load(&engine, GUEST);
    let mut linker = Linker::<()>::new(&engine);
    let slot = Arc::new(Slot::default());
    let dropped = Arc::new(AtomicBool::new(false));
    let args = Arc::new(Mutex::new(Vec::new()));
    let (s, d, a) = (slot.clone(), dropped.clone(), args.clone());
    linker
        .root()
        .func_new_async("fetch", move |_store, params| {
            a.lock().unwrap().extend_from_slice(params);
            Ok(Box::pin(Later {
                slot: s.clone(),
                dropped: d.clone(),
            }))
        })
        .expect("define");
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &c).expect("instantiate");
    Setup {
        store,
        instance,
        slot,
        dropped,
        args,
    }
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn call_async_is_pending_while_the_host_future_is_and_then_returns() {
    let Setup {
        mut store,
        instance,
        slot,
        args,
        ..
    } = setup();
    let run = instance.get_func(&mut store, "run").expect("run");
    let mut out = [Val::U32(0)];
    {
        let mut fut = pin!(run.call_async(&mut store, &[Val::U32(20)], &mut out));
        assert!(poll_once(fut.as_mut()).is_pending());
        assert_eq!(*args.lock().unwrap(), [Val::U32(20)]);
        // Still pending: nothing changed.
        assert!(poll_once(fut.as_mut()).is_pending());
        slot.fill(Ok(Some(Val::U32(41))));
        match poll_once(fut.as_mut()) {
            Poll::Ready(r) => r.expect("run"),
            Poll::Pending => panic!("still pending after the host future completed"),
        }
    }
    assert_eq!(out[0], Val::U32(42));
}

#[test]
fn a_sync_call_of_a_pending_host_function_suspends_the_async_task() {
    let Setup {
        mut store,
        instance,
        slot,
        ..
    } = setup();
    let run = instance
        .get_func(&mut store, "run-sync-lower")
        .expect("run");
    let mut out = [Val::U32(0)];
    {
        let mut fut = pin!(run.call_async(&mut store, &[Val::U32(1)], &mut out));
        assert!(poll_once(fut.as_mut()).is_pending());
        slot.fill(Ok(Some(Val::U32(40))));
        assert!(matches!(poll_once(fut.as_mut()), Poll::Ready(Ok(()))));
    }
    assert_eq!(out[0], Val::U32(42));
}

#[test]
fn a_host_future_ready_at_once_returns_without_a_subtask() {
    let Setup {
        mut store,
        instance,
        slot,
        ..
    } = setup();
    slot.fill(Ok(Some(Val::U32(6))));
    let run = instance.get_func(&mut store, "run").expect("run");
    let mut out = [Val::U32(0)];
    {
        let mut fut = pin!(run.call_async(&mut store, &[Val::U32(1)], &mut out));
        assert!(matches!(poll_once(fut.as_mut()), Poll::Ready(Ok(()))));
    }
    assert_eq!(out[0], Val::U32(7));
}

#[test]
fn blocking_call_waits_for_a_future_completed_by_another_thread() {
    let Setup {
        mut store,
        instance,
        slot,
        ..
    } = setup();
    let run = instance.get_func(&mut store, "run").expect("run");
    let filler = std::thread::spawn(move || {
        // Wait until the guest's call is pending, then complete it.
        while slot.polls.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        slot.fill(Ok(Some(Val::U32(99))));
    });
    let mut out = [Val::U32(0)];
    run.call(&mut store, &[Val::U32(5)], &mut out).expect("run");
    filler.join().expect("filler");
    assert_eq!(out[0], Val::U32(100));
}

#[test]
fn a_sync_task_may_not_wait_for_a_pending_host_future() {
    let Setup {
        mut store,
        instance,
        ..
    } = setup();
    let run = instance.get_func(&mut store, "run-sync").expect("run");
    let mut out = [Val::U32(0)];
    let e = run
        .call(&mut store, &[Val::U32(5)], &mut out)
        .expect_err("a sync task blocked");
    assert_eq!(trap_kind(&e), TrapKind::AsyncRule, "{e}");
    assert!(
        e.to_string().contains("cannot block a synchronous task"),
        "{e}"
    );
}

#[test]
fn cancelling_a_pending_host_call_drops_its_future() {
    let Setup {
        mut store,
        instance,
        dropped,
        ..
    } = setup();
    let run = instance.get_func(&mut store, "run-cancel").expect("run");
    let mut out = [Val::U32(0)];
    run.call(&mut store, &[Val::U32(5)], &mut out).expect("run");
    // CANCELLED_BEFORE_RETURNED
    assert_eq!(out[0], Val::U32(4));
    assert!(dropped.load(Ordering::SeqCst));
}

#[test]
fn a_failing_host_future_traps_the_caller() {
    let Setup {
        mut store,
        instance,
        slot,
        ..
    } = setup();
    slot.fill(Err(Error::usage("the network is down")));
    let run = instance.get_func(&mut store, "run").expect("run");
    let mut out = [Val::U32(0)];
    let e = run
        .call(&mut store, &[Val::U32(5)], &mut out)
        .expect_err("host failure");
    assert_eq!(trap_kind(&e), TrapKind::Host, "{e}");
    assert!(e.to_string().contains("the network is down"), "{e}");
    // The instance is poisoned.
    let e = run
        .call(&mut store, &[Val::U32(5)], &mut out)
        .expect_err("poisoned");
    assert_eq!(trap_kind(&e), TrapKind::Poisoned, "{e}");
}

#[test]
fn a_host_future_of_the_wrong_type_traps_the_caller() {
    for bad in [Some(Val::String("no".into())), None] {
        let Setup {
            mut store,
            instance,
            slot,
            ..
        } = setup();
        let run = instance.get_func(&mut store, "run").expect("run");
        let mut out = [Val::U32(0)];
        let mut fut = pin!(run.call_async(&mut store, &[Val::U32(1)], &mut out));
        assert!(poll_once(fut.as_mut()).is_pending());
        slot.fill(Ok(bad));
        let Poll::Ready(Err(e)) = poll_once(fut.as_mut()) else {
            panic!("a bad result was accepted")
        };
        assert_eq!(trap_kind(&e), TrapKind::Host, "{e}");
        assert!(e.to_string().contains("bad result"), "{e}");
    }
}

#[test]
fn a_sync_host_function_under_async_lower_returns_at_once() {
    let engine = Engine::default();
    let c = load(&engine, GUEST);
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_new("fetch", |_store, params, results| {
            let Val::U32(x) = params[0] else {
                panic!("not a u32")
            };
            results[0] = Val::U32(x * 2);
            Ok(())
        })
        .expect("define");
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &c).expect("instantiate");
    let run = instance.get_func(&mut store, "run").expect("run");
    let mut out = [Val::U32(0)];
    run.call(&mut store, &[Val::U32(10)], &mut out)
        .expect("run");
    assert_eq!(out[0], Val::U32(21));
}

#[test]
fn call_async_checks_arguments_before_starting() {
    let Setup {
        mut store,
        instance,
        args,
        ..
    } = setup();
    let run = instance.get_func(&mut store, "run").expect("run");
    let mut out = [Val::U32(0)];
    let bad = [Val::String("x".into())];
    let mut fut = pin!(run.call_async(&mut store, &bad, &mut out));
    let Poll::Ready(Err(e)) = poll_once(fut.as_mut()) else {
        panic!("a bad argument was accepted")
    };
    assert_eq!(e.kind(), &ErrorKind::Usage, "{e}");
    assert!(args.lock().unwrap().is_empty());
}

#[test]
fn stores_and_call_futures_can_move_between_threads() {
    fn send<S: Send>(_: &S) {}
    let Setup {
        mut store,
        instance,
        ..
    } = setup();
    send(&store);
    let run = instance.get_func(&mut store, "run").expect("run");
    let mut out = [Val::U32(0)];
    let fut = run.call_async(&mut store, &[Val::U32(1)], &mut out);
    send(&fut);
}

/// Dropping a `call_async` future cancels its task: the task (waiting for
/// a host call that never ends) gets TASK_CANCELLED when the store next
/// runs, and cancels itself.
#[test]
fn dropping_a_call_future_cancels_the_task() {
    let wat = r#"(component
      (import "never" (func $never async (result u32)))
      (import "log" (func $log (param "x" u32)))
      (core module $Mem (memory (export "mem") 1))
      (core instance $mem (instantiate $Mem))
      (alias core export $mem "mem" (core memory $m))
      (core func $na (canon lower (func $never) async (memory $m)))
      (core func $logc (canon lower (func $log)))
      (canon task.return (result u32) (core func $tr))
      (canon task.cancel (core func $tc))
      (canon waitable-set.new (core func $wsn))
      (canon waitable.join (core func $join))
      (core module $M
        (import "" "na" (func $na (param i32) (result i32)))
        (import "" "log" (func $log (param i32)))
        (import "" "tr" (func $tr (param i32)))
        (import "" "tc" (func $tc))
        (import "" "wsn" (func $wsn (result i32)))
        (import "" "join" (func $join (param i32 i32)))
        (func (export "wait") (result i32)
          (local $ret i32) (local $ws i32)
          (local.set $ret (call $na (i32.const 16)))
          (local.set $ws (call $wsn))
          (call $join (i32.shr_u (local.get $ret) (i32.const 4)) (local.get $ws))
          (i32.or (i32.const 2 (; WAIT ;)) (i32.shl (local.get $ws) (i32.const 4))))
        (func (export "wait_cb") (param i32 i32 i32) (result i32)
          (call $log (local.get 0))
          (call $tc)
          (i32.const 0 (; EXIT ;)))
        (func (export "ping") (result i32) (call $tr (i32.const 7)) (i32.const 0))
        (func (export "ping_cb") (param i32 i32 i32) (result i32) unreachable))
      (core instance $i (instantiate $M (with "" (instance
        (export "na" (func $na)) (export "log" (func $logc)) (export "tr" (func $tr))
        (export "tc" (func $tc)) (export "wsn" (func $wsn)) (export "join" (func $join))))))
      (func (export "wait") async (result u32)
        (canon lift (core func $i "wait") async (callback (core func $i "wait_cb"))))
      (func (export "ping") async (result u32)
        (canon lift (core func $i "ping") async (callback (core func $i "ping_cb")))))"#;
    let engine = Engine::default();
    let c = load(&engine, wat);
    let mut linker = Linker::<()>::new(&engine);
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    linker
        .root()
        .func_new_async("never", |_store, _params| {
            Ok(Box::pin(std::future::pending()))
        })
        .expect("never");
    linker
        .root()
        .func_new("log", move |_store, params, _results| {
            l.lock().unwrap().push(params[0].clone());
            Ok(())
        })
        .expect("log");
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &c).expect("instantiate");
    let wait = instance.get_func(&mut store, "wait").expect("wait");
    let mut out = [Val::U32(0)];
    {
        let mut fut = pin!(wait.call_async(&mut store, &[], &mut out));
        assert!(poll_once(fut.as_mut()).is_pending());
    }
    assert!(log.lock().unwrap().is_empty());
    let ping = instance.get_func(&mut store, "ping").expect("ping");
    ping.call(&mut store, &[], &mut out).expect("ping");
    assert_eq!(out[0], Val::U32(7));
    // The cancelled task runs when the store runs its idle work:
    // TASK_CANCELLED reaches `wait`'s callback. (Its host call stays
    // pending: the task did not cancel that subtask.)
    assert!(store.run_until_idle(Waker::noop()).is_pending());
    assert_eq!(*log.lock().unwrap(), [Val::U32(6)]);
    // Nothing more to run, and the instance still works.
    assert!(store.run_until_idle(Waker::noop()).is_pending());
    ping.call(&mut store, &[], &mut out).expect("ping");
    assert_eq!(out[0], Val::U32(7));
}

/// A future the host makes and writes: the guest's sync `future.read`
/// waits for the host's value (the task suspends), then returns it.
#[test]
fn a_guest_waits_for_a_future_the_host_writes() {
    use componentry::FutureAny;
    let wat = r#"(component
      (core module $Mem (memory (export "mem") 1))
      (core instance $mem (instantiate $Mem))
      (alias core export $mem "mem" (core memory $m))
      (type $FT (future u32))
      (canon future.read $FT (memory $m) (core func $fr))
      (canon future.drop-readable $FT (core func $fd))
      (canon task.return (result u32) (core func $tr))
      (core module $M
        (import "" "mem" (memory 1))
        (import "" "fr" (func $fr (param i32 i32) (result i32)))
        (import "" "fd" (func $fd (param i32)))
        (import "" "tr" (func $tr (param i32)))
        (func (export "get") (param $f i32)
          ;; COMPLETED (0) once the value is there
          (if (i32.ne (call $fr (local.get $f) (i32.const 32)) (i32.const 0)) (then unreachable))
          (call $fd (local.get $f))
          (call $tr (i32.add (i32.load (i32.const 32)) (i32.const 1)))))
      (core instance $i (instantiate $M (with "" (instance
        (export "mem" (memory $m)) (export "fr" (func $fr)) (export "fd" (func $fd))
        (export "tr" (func $tr))))))
      (func (export "get") async (param "f" $FT) (result u32)
        (canon lift (core func $i "get") async)))"#;
    let engine = Engine::default();
    let c = load(&engine, wat);
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &c)
        .expect("instantiate");
    let get = instance.get_func(&mut store, "get").expect("get");
    // Written before the call: the read completes at once.
    let (w, f) = FutureAny::new(&mut store).expect("future");
    assert!(w.write(&mut store, Some(Val::U32(9))).expect("write"));
    let mut out = [Val::U32(0)];
    get.call(&mut store, &[Val::Future(f)], &mut out)
        .expect("get");
    assert_eq!(out[0], Val::U32(10));
    // Written after the call started: the task waits (a deadlock if the
    // host never writes and nothing else can run).
    let (w, f) = FutureAny::new(&mut store).expect("future");
    let args = [Val::Future(f)];
    {
        let mut fut = pin!(get.call_async(&mut store, &args, &mut out));
        let Poll::Ready(Err(e)) = poll_once(fut.as_mut()) else {
            panic!("a task waiting for a host future with nothing to run")
        };
        assert_eq!(trap_kind(&e), TrapKind::Deadlock, "{e}");
    }
    let _ = w;
}
