//! `bindgen!` over `async` WIT functions (feature `async`): the
//! wit-bindgen guest `tests/guests/async-tasks.wasm` exports
//! `double-fetch: async func(n: u32) -> u32`, which calls the host's
//! `fetch: async func(n: u32) -> u32` twice at once (`canon lower async`).
//! The generated `Host` trait answers synchronously; `call_double_fetch`
//! waits for the guest's task.
#![cfg(feature = "async")]

mod bindings {
    componentry::bindgen!({
        path: "tests/guests/async-echo/wit",
        world: "async-tasks",
    });
}

use bindings::example::async_echo::host;
use bindings::AsyncTasks;
use componentry::{Component, Engine, Linker, Store};

const ASYNC_TASKS: &[u8] = include_bytes!("guests/async-tasks.wasm");

#[derive(Default)]
struct Host {
    asked: Vec<u32>,
}

impl host::Host for Host {
    fn fetch(&mut self, n: u32) -> u32 {
        self.asked.push(n);
        n * 3
    }
}

#[test]
fn async_exports_and_imports_bind_as_sync_calls() {
    let engine = Engine::default();
    let component = Component::new(&engine, ASYNC_TASKS).expect("load");
    let mut linker = Linker::new(&engine);
    AsyncTasks::add_to_linker(&mut linker, |h: &mut Host| h).expect("add_to_linker");
    let mut store = Store::new(&engine, Host::default());
    let world = AsyncTasks::instantiate(&mut store, &component, &linker).expect("instantiate");
    let got = world
        .example_async_echo_subtasks()
        .call_double_fetch(&mut store, 5)
        .expect("double-fetch");
    assert_eq!(got, 15 + 18);
    assert_eq!(store.data().asked, [5, 6]);
}
