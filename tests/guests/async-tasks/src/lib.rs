//! `example:async-echo`, world `async-tasks`: the async-echo guest without
//! its streams and futures (the same source, `../async-echo/src/`): `canon
//! lower async` subtasks of the host's `fetch`, and tasks that only yield.

wit_bindgen::generate!({
    path: "../async-echo/wit",
    world: "async-tasks",
});

#[path = "../../async-echo/src/subtasks.rs"]
mod subtasks;
#[path = "../../async-echo/src/yielding.rs"]
mod yielding;

struct Component;

export!(Component);
