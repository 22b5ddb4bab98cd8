//! `example:async-echo`, world `async-yield`: only the async-echo guest's
//! tasks that yield forever (the same source,
//! `../async-echo/src/yielding.rs`), and no import.

wit_bindgen::generate!({
    path: "../async-echo/wit",
    world: "async-yield",
});

#[path = "../../async-echo/src/yielding.rs"]
mod yielding;

struct Component;

export!(Component);
