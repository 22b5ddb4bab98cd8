//! The async guests (`tests/guests/async-{echo,tasks,yield}`, built by
//! `tools/build-guests.sh` from one WIT package,
//! `tests/guests/async-echo/wit`): Rust components whose exports all use
//! the component model's async ABI through wit-bindgen's async support (its
//! `async`, `async-spawn` and `inter-task-wakeup` features), a real
//! toolchain's output for issue
//! #18.
//!
//! * async-echo: everything: streams in and out, a future out, a task that
//!   waits forever, and the two interfaces below.
//! * async-tasks: no stream or future: `subtasks` (`double-fetch`, two
//!   `canon lower async` calls of the host's `fetch` at once) and
//!   `yielding`.
//! * async-yield: `yielding` alone (`spin`, `spin-blocking`), no import.
//!
//! The three components' built-ins are pinned here (so a rebuilt guest
//! that asks for more shows up). All three load and run through
//! `Func::call`; async-echo's `produce` and `later` return a stream and a
//! future that the host reads with the poll-style `StreamAny::read` /
//! `FutureAny::read` between runs of the store's tasks; `echo` and `sum`
//! read streams the host makes and writes (`StreamAny::new`); the host's
//! `fetch` is a sync, typed or async (`func_new_async`) host function.
#![cfg(all(feature = "async", feature = "validate"))]

use componentry::{
    Component, Config, Engine, Error, ErrorKind, Instance, Linker, Store, TrapKind, Val,
};

const ASYNC_ECHO: &[u8] = include_bytes!("guests/async-echo.wasm");
const ASYNC_TASKS: &[u8] = include_bytes!("guests/async-tasks.wasm");
const ASYNC_YIELD: &[u8] = include_bytes!("guests/async-yield.wasm");

/// The guests' exported interfaces and the host interface they import.
const API: &str = "example:async-echo/api";
const SUBTASKS: &str = "example:async-echo/subtasks";
const YIELDING: &str = "example:async-echo/yielding";
const HOST: &str = "example:async-echo/host";

#[test]
fn async_echo_loads() {
    let engine = Engine::default();
    Component::new(&engine, ASYNC_ECHO).expect("async-echo loads");
}

/// A typed host function (`func_wrap`) serves an import the guest lowers
/// with `async` (through its `Val` form).
#[test]
fn a_typed_host_function_serves_an_async_import() {
    let engine = Engine::default();
    let component = Component::new(&engine, ASYNC_TASKS).expect("async-tasks loads");
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker
        .instance(HOST)
        .unwrap()
        .func_wrap("fetch", |_store, (n,): (u32,)| Ok(n + 1000))
        .unwrap();
    let instance = linker
        .instantiate(&mut store, &component)
        .expect("instantiate");
    let out = call(
        &mut store,
        &instance,
        (SUBTASKS, "double-fetch"),
        &[Val::U32(1)],
    )
    .expect("double-fetch");
    assert_eq!(out, [Val::U32(1001 + 1002)]);
}

/// Every canonical definition async-echo's component makes, as `wasm-tools
/// print` spells it (options sorted, in brackets, indices left out;
/// `task.return` with its result type), each once. This is the list of
/// what the runtime must run for a wit-bindgen 0.63 async guest (callback
/// form: no `waitable-set.wait`, no stackful lift, no error contexts).
const ECHO_BUILTINS: &[&str] = &[
    "canon lift [async callback]",
    "canon lower [async memory]",
    "context.get i32 0",
    "context.set i32 0",
    "future.cancel-read",
    "future.cancel-write",
    "future.drop-readable",
    "future.drop-writable",
    "future.new",
    "future.read [async memory]",
    "future.write [async memory]",
    "stream.cancel-read",
    "stream.cancel-write",
    "stream.drop-readable",
    "stream.drop-writable",
    "stream.new",
    "stream.read [async memory]",
    "stream.write [async memory]",
    "subtask.cancel",
    "subtask.drop",
    "task.cancel",
    "task.return",
    "task.return (result future<u32>)",
    "task.return (result stream<u8>)",
    "task.return (result u32)",
    "task.return (result u64)",
    "thread.yield",
    "waitable-set.drop",
    "waitable-set.new",
    "waitable-set.poll [memory]",
    "waitable.join",
];

/// The same for async-tasks: async-echo's, less those of futures and of
/// streams of bytes (the unit stream wit-bindgen's `inter-task-wakeup`
/// feature uses stays).
const TASKS_BUILTINS: &[&str] = &[
    "canon lift [async callback]",
    "canon lower [async memory]",
    "context.get i32 0",
    "context.set i32 0",
    "stream.cancel-read",
    "stream.drop-readable",
    "stream.drop-writable",
    "stream.new",
    "stream.read [async memory]",
    "stream.write [async memory]",
    "subtask.cancel",
    "subtask.drop",
    "task.cancel",
    "task.return",
    "task.return (result u32)",
    "thread.yield",
    "waitable-set.drop",
    "waitable-set.new",
    "waitable-set.poll [memory]",
    "waitable.join",
];

/// The same for async-yield: no `canon lower`, no subtask (the unit
/// stream of `inter-task-wakeup` stays).
const YIELD_BUILTINS: &[&str] = &[
    "canon lift [async callback]",
    "context.get i32 0",
    "context.set i32 0",
    "stream.cancel-read",
    "stream.drop-readable",
    "stream.drop-writable",
    "stream.new",
    "stream.read [async memory]",
    "stream.write [async memory]",
    "task.cancel",
    "task.return",
    "thread.yield",
    "waitable-set.drop",
    "waitable-set.new",
    "waitable-set.poll [memory]",
    "waitable.join",
];

#[test]
fn async_echo_uses_exactly_these_builtins() {
    assert_eq!(
        builtins(ASYNC_ECHO),
        ECHO_BUILTINS.iter().map(|s| s.to_string()).collect(),
        "async-echo's canonical built-ins changed: update ECHO_BUILTINS (and tell issue #18)"
    );
}

#[test]
fn async_tasks_uses_exactly_these_builtins() {
    assert_eq!(
        builtins(ASYNC_TASKS),
        TASKS_BUILTINS.iter().map(|s| s.to_string()).collect(),
        "async-tasks' canonical built-ins changed: update TASKS_BUILTINS (and tell issue #18)"
    );
}

#[test]
fn async_yield_uses_exactly_these_builtins() {
    assert_eq!(
        builtins(ASYNC_YIELD),
        YIELD_BUILTINS.iter().map(|s| s.to_string()).collect(),
        "async-yield's canonical built-ins changed: update YIELD_BUILTINS (and tell issue #18)"
    );
}

/// The canonical definitions of `component`, spelt as in `ECHO_BUILTINS`.
fn builtins(component: &[u8]) -> std::collections::BTreeSet<String> {
    use std::collections::BTreeSet;
    use wasmparser::{
        CanonicalFunction as C, CanonicalOption as O, ComponentDefinedType, ComponentType,
        ComponentValType, Parser, Payload,
    };

    fn val_type(t: &ComponentValType, types: &[String]) -> String {
        match t {
            ComponentValType::Primitive(p) => format!("{p:?}").to_lowercase(),
            ComponentValType::Type(i) => types
                .get(*i as usize)
                .cloned()
                .unwrap_or_else(|| format!("type {i}")),
        }
    }
    fn opts(opts: &[O]) -> String {
        let mut names: Vec<&str> = opts
            .iter()
            .map(|o| match o {
                O::UTF8 => "string-encoding=utf8",
                O::UTF16 => "string-encoding=utf16",
                O::CompactUTF16 => "string-encoding=latin1+utf16",
                O::Memory(_) => "memory",
                O::Realloc(_) => "realloc",
                O::PostReturn(_) => "post-return",
                O::Async => "async",
                O::Callback(_) => "callback",
                O::CoreType(_) => "core-type",
                O::Gc => "gc",
            })
            .collect();
        names.sort_unstable();
        if names.is_empty() {
            String::new()
        } else {
            format!(" [{}]", names.join(" "))
        }
    }
    fn with_async(name: &str, async_: bool) -> String {
        if async_ {
            format!("{name} [async]")
        } else {
            name.to_string()
        }
    }

    // The top-level component's type index space (enough of it to name
    // the stream and future types), and its canonical definitions.
    let mut types: Vec<String> = Vec::new();
    let mut found = BTreeSet::new();
    let mut depth = 0u32;
    for payload in Parser::new(0).parse_all(component) {
        match payload.expect("parse") {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            Payload::ComponentTypeSection(reader) if depth == 1 => {
                for ty in reader {
                    types.push(match ty.expect("type") {
                        ComponentType::Defined(ComponentDefinedType::Stream(Some(t))) => {
                            format!("stream<{}>", val_type(&t, &types))
                        }
                        ComponentType::Defined(ComponentDefinedType::Future(Some(t))) => {
                            format!("future<{}>", val_type(&t, &types))
                        }
                        _ => format!("type {}", types.len()),
                    });
                }
            }
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    if let wasmparser::ComponentTypeRef::Type(_) = import.expect("import").ty {
                        types.push(format!("type {}", types.len()));
                    }
                }
            }
            Payload::ComponentCanonicalSection(reader) => {
                assert_eq!(depth, 1, "canonical definitions in a nested component");
                for f in reader {
                    found.insert(match f.expect("canonical definition") {
                        C::Lift { options, .. } => format!("canon lift{}", opts(&options)),
                        C::Lower { options, .. } => format!("canon lower{}", opts(&options)),
                        C::TaskReturn { result, options } => format!(
                            "task.return{}{}",
                            result
                                .map(|t| format!(" (result {})", val_type(&t, &types)))
                                .unwrap_or_default(),
                            opts(&options)
                        ),
                        C::ContextGet { ty, slot } => {
                            format!("context.get {} {slot}", format!("{ty}").to_lowercase())
                        }
                        C::ContextSet { ty, slot } => {
                            format!("context.set {} {slot}", format!("{ty}").to_lowercase())
                        }
                        C::StreamRead { options, .. } => {
                            format!("stream.read{}", opts(&options))
                        }
                        C::StreamWrite { options, .. } => {
                            format!("stream.write{}", opts(&options))
                        }
                        C::FutureRead { options, .. } => {
                            format!("future.read{}", opts(&options))
                        }
                        C::FutureWrite { options, .. } => {
                            format!("future.write{}", opts(&options))
                        }
                        C::StreamCancelRead { async_, .. } => {
                            with_async("stream.cancel-read", async_)
                        }
                        C::StreamCancelWrite { async_, .. } => {
                            with_async("stream.cancel-write", async_)
                        }
                        C::FutureCancelRead { async_, .. } => {
                            with_async("future.cancel-read", async_)
                        }
                        C::FutureCancelWrite { async_, .. } => {
                            with_async("future.cancel-write", async_)
                        }
                        C::SubtaskCancel { async_ } => with_async("subtask.cancel", async_),
                        C::WaitableSetWait { .. } => "waitable-set.wait [memory]".into(),
                        C::WaitableSetPoll { .. } => "waitable-set.poll [memory]".into(),
                        C::StreamNew { .. } => "stream.new".into(),
                        C::StreamDropReadable { .. } => "stream.drop-readable".into(),
                        C::StreamDropWritable { .. } => "stream.drop-writable".into(),
                        C::FutureNew { .. } => "future.new".into(),
                        C::FutureDropReadable { .. } => "future.drop-readable".into(),
                        C::FutureDropWritable { .. } => "future.drop-writable".into(),
                        C::TaskCancel => "task.cancel".into(),
                        C::SubtaskDrop => "subtask.drop".into(),
                        C::ThreadYield => "thread.yield".into(),
                        C::WaitableSetNew => "waitable-set.new".into(),
                        C::WaitableSetDrop => "waitable-set.drop".into(),
                        C::WaitableJoin => "waitable.join".into(),
                        other => format!("{other:?}"),
                    });
                }
            }
            _ => {}
        }
    }
    found
}

// ------------------------------------------------------------ calls

/// An engine metering fuel, a store with `fuel`, and `guest` instantiated
/// with the host's `fetch` (a `func_new` function) returning `n * 10` at
/// once.
fn instantiate(guest: &[u8], fuel: u64) -> (Store<()>, Instance) {
    let mut config = Config::default();
    config.consume_fuel(true);
    let engine = Engine::new(&config);
    let component = Component::new(&engine, guest).expect("load the guest");
    let mut store = Store::new(&engine, ());
    store.set_fuel(fuel).expect("fuel");
    let mut linker = Linker::new(&engine);
    linker
        .instance(HOST)
        .expect("host instance")
        .func_new("fetch", |_store, params, results| {
            let [Val::U32(n)] = params else {
                return Err(Error::usage("fetch takes a u32"));
            };
            results[0] = Val::U32(n.wrapping_mul(10));
            Ok(())
        })
        .expect("define fetch");
    let instance = linker
        .instantiate(&mut store, &component)
        .expect("instantiate the guest");
    (store, instance)
}

/// Calls export `name` of the guest's interface `iface` with `params`
/// through the synchronous `Func::call` (the host waits for the task to
/// finish).
fn call(
    store: &mut Store<()>,
    instance: &Instance,
    (iface, name): (&str, &str),
    params: &[Val],
) -> Result<Vec<Val>, Error> {
    let api = instance.get_export(&mut *store, None, iface).expect(iface);
    let idx = instance
        .get_export(&mut *store, Some(&api), name)
        .unwrap_or_else(|| panic!("export {name}"));
    let f = instance.get_func(&mut *store, &idx).expect("a function");
    let mut results = vec![Val::Bool(false); usize::from(f.ty().result.is_some())];
    f.call(&mut *store, params, &mut results)?;
    Ok(results)
}

fn trap_kind(e: &Error) -> TrapKind {
    match e.kind() {
        ErrorKind::Trap(k) => *k,
        other => panic!("expected a trap, got {other:?}: {e}"),
    }
}

/// `canon lower async` of a host function and two subtasks at once: the
/// guest joins two calls of `fetch`, which the host answers at once.
#[test]
fn double_fetch_runs_two_host_calls_as_subtasks() {
    let (mut store, instance) = instantiate(ASYNC_TASKS, 10_000_000);
    let f = (SUBTASKS, "double-fetch");
    let out = call(&mut store, &instance, f, &[Val::U32(4)]).expect("double-fetch");
    assert_eq!(out, [Val::U32(40 + 50)]);
    // Again, in the same instance: the first task's subtasks and waitable
    // set are gone.
    let out = call(&mut store, &instance, f, &[Val::U32(7)]).expect("double-fetch");
    assert_eq!(out, [Val::U32(70 + 80)]);
}

/// A task waiting on a read that nothing can complete (the guest holds the
/// writable end and never writes): a deadlock trap, never a hang.
#[test]
fn wait_forever_is_a_deadlock_trap() {
    let (mut store, instance) = instantiate(ASYNC_ECHO, 10_000_000);
    let f = (API, "wait-forever");
    let e = call(&mut store, &instance, f, &[]).expect_err("cannot return");
    assert_eq!(trap_kind(&e), TrapKind::Deadlock, "{e}");
    let e = call(&mut store, &instance, f, &[]).expect_err("poisoned");
    assert_eq!(trap_kind(&e), TrapKind::Poisoned, "{e}");
}

/// A task that YIELDs forever from its callback: fuel stops it.
#[test]
fn spin_runs_out_of_fuel() {
    let (mut store, instance) = instantiate(ASYNC_YIELD, 1_000_000);
    let e = call(&mut store, &instance, (YIELDING, "spin"), &[]).expect_err("cannot return");
    assert_eq!(trap_kind(&e), TrapKind::OutOfFuel, "{e}");
}

/// A task that calls the (non-cancellable) `thread.yield` forever inside
/// one callback: fuel stops it.
#[test]
fn spin_blocking_runs_out_of_fuel() {
    let (mut store, instance) = instantiate(ASYNC_YIELD, 1_000_000);
    let e =
        call(&mut store, &instance, (YIELDING, "spin-blocking"), &[]).expect_err("cannot return");
    assert_eq!(trap_kind(&e), TrapKind::OutOfFuel, "{e}");
}

/// Two host calls in flight at once: `fetch` is an async host function
/// whose futures complete only when the test says so, in the reverse
/// order of the calls; the guest's task waits for both.
#[test]
fn double_fetch_waits_for_two_pending_host_futures() {
    use std::future::Future;
    use std::sync::{Arc, Mutex};
    use std::task::{Poll, Waker};
    type Pending = Arc<Mutex<Vec<(u32, Arc<Mutex<Option<u32>>>, Option<Waker>)>>>;
    let engine = Engine::default();
    let component = Component::new(&engine, ASYNC_TASKS).expect("load");
    let mut linker = Linker::new(&engine);
    let pending: Pending = Arc::default();
    let p = pending.clone();
    linker
        .instance(HOST)
        .unwrap()
        .func_new_async("fetch", move |_store, params| {
            let [Val::U32(n)] = params else {
                return Err(Error::usage("fetch takes a u32"));
            };
            let answer: Arc<Mutex<Option<u32>>> = Arc::default();
            p.lock().unwrap().push((*n, answer.clone(), None));
            let p = p.clone();
            Ok(Box::pin(std::future::poll_fn(move |cx| {
                match *answer.lock().unwrap() {
                    Some(v) => Poll::Ready(Ok(Some(Val::U32(v)))),
                    None => {
                        for e in p.lock().unwrap().iter_mut() {
                            if Arc::ptr_eq(&e.1, &answer) {
                                e.2 = Some(cx.waker().clone());
                            }
                        }
                        Poll::Pending
                    }
                }
            })))
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker
        .instantiate(&mut store, &component)
        .expect("instantiate");
    let api = instance
        .get_export(&mut store, None, SUBTASKS)
        .expect("api");
    let idx = instance
        .get_export(&mut store, Some(&api), "double-fetch")
        .expect("double-fetch");
    let f = instance.get_func(&mut store, &idx).expect("func");
    let mut out = [Val::U32(0)];
    {
        let mut fut = std::pin::pin!(f.call_async(&mut store, &[Val::U32(3)], &mut out));
        let mut cx = std::task::Context::from_waker(Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        // Both calls are in flight before either answers.
        let asked: Vec<u32> = pending.lock().unwrap().iter().map(|e| e.0).collect();
        assert_eq!(asked, [3, 4]);
        // The second answer alone does not finish the task.
        let (n, answer, _) = pending.lock().unwrap()[1].clone();
        *answer.lock().unwrap() = Some(n * 100);
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        let (n, answer, _) = pending.lock().unwrap()[0].clone();
        *answer.lock().unwrap() = Some(n * 100);
        assert!(matches!(fut.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
    }
    assert_eq!(out[0], Val::U32(300 + 400));
}

/// Reads the host-held stream `s` to its end: what is pending, then the
/// store's other tasks run (`Store::run_until_idle`) so the guest writes
/// more. Bounded, so a stuck stream fails the test instead of hanging.
fn read_to_end(store: &mut Store<()>, s: componentry::StreamAny) -> Vec<u8> {
    use componentry::StreamRead;
    let waker = std::task::Waker::noop();
    let mut out = Vec::new();
    for _ in 0..10_000 {
        match s.read(&mut *store, 64).expect("read") {
            StreamRead::Values(vs) => out.extend(vs.into_iter().map(|v| match v {
                Val::U8(b) => b,
                other => panic!("expected a u8, got {other:?}"),
            })),
            StreamRead::Blocked => {
                if let std::task::Poll::Ready(r) = store.run_until_idle(waker) {
                    r.expect("run the store's tasks");
                }
            }
            StreamRead::Dropped => {
                s.drop(&mut *store).expect("drop");
                return out;
            }
        }
    }
    panic!("the stream did not end; read so far: {out:?}")
}

/// `produce(n)` returns a stream the guest keeps writing after it
/// returned; the host reads it through `StreamAny::read` between runs of
/// the store's tasks.
#[test]
fn produce_writes_n_bytes_then_ends() {
    let (mut store, instance) = instantiate(ASYNC_ECHO, 100_000_000);
    let results = call(&mut store, &instance, (API, "produce"), &[Val::U32(300)]).expect("produce");
    let [Val::Stream(s)] = results[..] else {
        panic!("expected a stream, got {results:?}")
    };
    let bytes = read_to_end(&mut store, s);
    let want: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    assert_eq!(bytes, want);
}

/// `later(n)` returns a future the guest resolves with `n + 1` after it
/// returned.
#[test]
fn later_resolves_its_future_after_returning() {
    use componentry::FutureRead;
    let (mut store, instance) = instantiate(ASYNC_ECHO, 100_000_000);
    let results = call(&mut store, &instance, (API, "later"), &[Val::U32(41)]).expect("later");
    let [Val::Future(f)] = results[..] else {
        panic!("expected a future, got {results:?}")
    };
    let waker = std::task::Waker::noop();
    for _ in 0..1000 {
        match f.read(&mut store).expect("read") {
            FutureRead::Value(v) => {
                assert_eq!(v, Some(Val::U32(42)));
                f.drop(&mut store).expect("drop");
                return;
            }
            FutureRead::Blocked => {
                if let std::task::Poll::Ready(r) = store.run_until_idle(waker) {
                    r.expect("run the store's tasks");
                }
            }
        }
    }
    panic!("the future was never written");
}

/// `produce` with a host reader that stops after a few bytes: the guest's
/// next write sees the reader gone and its task ends.
#[test]
fn produce_with_a_reader_that_stops_early() {
    use componentry::StreamRead;
    let (mut store, instance) = instantiate(ASYNC_ECHO, 100_000_000);
    let results =
        call(&mut store, &instance, (API, "produce"), &[Val::U32(1000)]).expect("produce");
    let [Val::Stream(s)] = results[..] else {
        panic!("expected a stream, got {results:?}")
    };
    let waker = std::task::Waker::noop();
    let mut got = Vec::new();
    while got.len() < 3 {
        match s.read(&mut store, 3 - got.len() as u32).expect("read") {
            StreamRead::Values(vs) => got.extend(vs),
            StreamRead::Blocked => {
                if let std::task::Poll::Ready(r) = store.run_until_idle(waker) {
                    r.expect("run the store's tasks");
                }
            }
            StreamRead::Dropped => panic!("ended early"),
        }
    }
    assert_eq!(got, [Val::U8(0), Val::U8(1), Val::U8(2)]);
    s.drop(&mut store).expect("drop");
    // The guest's writer sees DROPPED and finishes; the store goes idle.
    match store.run_until_idle(waker) {
        std::task::Poll::Ready(r) => r.expect("the guest's task ends cleanly"),
        std::task::Poll::Pending => panic!("the guest's task is still waiting"),
    }
}

/// `sum` of a stream the host makes and writes: the values wait in the
/// stream until the guest reads them; closing the writer ends the stream.
#[test]
fn sum_reads_a_stream_the_host_writes() {
    use componentry::{StreamAny, StreamWrite};
    let (mut store, instance) = instantiate(ASYNC_ECHO, 100_000_000);
    let (w, r) = StreamAny::new(&mut store).expect("stream");
    let bytes: Vec<Val> = (1..=200u32).map(|i| Val::U8(i as u8)).collect();
    assert_eq!(
        w.write(&mut store, &bytes).expect("write"),
        StreamWrite::Accepted(200)
    );
    w.close(&mut store).expect("close");
    let out = call(&mut store, &instance, (API, "sum"), &[Val::Stream(r)]).expect("sum");
    assert_eq!(out, [Val::U64((1..=200u64).sum())]);
    // The writer is gone.
    assert!(w.write(&mut store, &bytes).is_err());
}

/// `echo` both ways: the host writes a stream into the guest and reads the
/// guest's upper-cased copy back, in pieces, between runs of the store.
#[test]
fn echo_copies_a_host_stream_back_upper_cased() {
    use componentry::{StreamAny, StreamRead, StreamWrite};
    let (mut store, instance) = instantiate(ASYNC_ECHO, 100_000_000);
    let (w, r) = StreamAny::new(&mut store).expect("stream");
    let results = call(&mut store, &instance, (API, "echo"), &[Val::Stream(r)]).expect("echo");
    let [Val::Stream(out)] = results[..] else {
        panic!("expected a stream, got {results:?}")
    };
    let text = b"hello, component streams".repeat(20);
    let waker = std::task::Waker::noop();
    let mut got = Vec::new();
    let mut sent = 0;
    for _ in 0..10_000 {
        if sent < text.len() {
            let piece: Vec<Val> = text[sent..(sent + 37).min(text.len())]
                .iter()
                .map(|b| Val::U8(*b))
                .collect();
            match w.write(&mut store, &piece).expect("write") {
                StreamWrite::Accepted(n) => sent += n,
                StreamWrite::Dropped => panic!("the guest dropped its input"),
            }
            if sent == text.len() {
                w.close(&mut store).expect("close");
            }
        }
        if let std::task::Poll::Ready(r) = store.run_until_idle(waker) {
            r.expect("run the store's tasks");
        }
        match out.read(&mut store, 64).expect("read") {
            StreamRead::Values(vs) => got.extend(vs.into_iter().map(|v| match v {
                Val::U8(b) => b,
                other => panic!("{other:?}"),
            })),
            StreamRead::Blocked => {}
            StreamRead::Dropped => {
                assert_eq!(got, text.to_ascii_uppercase());
                return;
            }
        }
    }
    panic!(
        "echo never ended: got {} of {} bytes",
        got.len(),
        text.len()
    );
}

/// A value of the wrong type written by the host traps the guest that
/// reads it.
#[test]
fn a_host_value_of_the_wrong_type_traps_the_reader() {
    use componentry::{StreamAny, StreamWrite};
    let (mut store, instance) = instantiate(ASYNC_ECHO, 100_000_000);
    let (w, r) = StreamAny::new(&mut store).expect("stream");
    assert_eq!(
        w.write(&mut store, &[Val::String("not a byte".into())])
            .expect("write"),
        StreamWrite::Accepted(1)
    );
    w.close(&mut store).expect("close");
    let e = call(&mut store, &instance, (API, "sum"), &[Val::Stream(r)]).expect_err("bad value");
    assert_eq!(trap_kind(&e), TrapKind::Host, "{e}");
    assert!(e.to_string().contains("wrong type"), "{e}");
}

/// Cancelling a wit-bindgen task from the host: the host drops its
/// `call_async` future while both `fetch` calls are pending; when the store
/// next runs, the guest gets TASK_CANCELLED, drops its Rust future (which
/// cancels the two subtasks: the host futures are dropped) and ends with
/// `task.cancel`. (wit-bindgen 0.63 needs its `inter-task-wakeup` feature
/// for this path: the abort wakes a sleeping task.)
#[test]
fn dropping_a_call_cancels_the_guest_task_and_its_host_calls() {
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Poll, Waker};
    struct Never(Arc<AtomicUsize>);
    impl Future for Never {
        type Output = componentry::Result<Option<Val>>;
        fn poll(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> Poll<Self::Output> {
            Poll::Pending
        }
    }
    impl Drop for Never {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let engine = Engine::default();
    let component = Component::new(&engine, ASYNC_TASKS).expect("load");
    let mut linker = Linker::new(&engine);
    let dropped = Arc::new(AtomicUsize::new(0));
    let d = dropped.clone();
    linker
        .instance(HOST)
        .unwrap()
        .func_new_async("fetch", move |_store, _params| {
            Ok(Box::pin(Never(d.clone())))
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker
        .instantiate(&mut store, &component)
        .expect("instantiate");
    let api = instance
        .get_export(&mut store, None, SUBTASKS)
        .expect("api");
    let idx = instance
        .get_export(&mut store, Some(&api), "double-fetch")
        .expect("double-fetch");
    let f = instance.get_func(&mut store, &idx).expect("func");
    let mut out = [Val::U32(0)];
    {
        let mut fut = std::pin::pin!(f.call_async(&mut store, &[Val::U32(1)], &mut out));
        let mut cx = std::task::Context::from_waker(Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 0);
    match store.run_until_idle(Waker::noop()) {
        Poll::Ready(r) => r.expect("the cancelled task ends"),
        Poll::Pending => panic!("host calls still pending after the cancellation"),
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 2);
}
