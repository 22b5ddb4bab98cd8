//! The `yielding` interface, for the guests that export it (async-echo,
//! and async-tasks and async-yield, which include this file).

use crate::exports::example::async_echo::yielding::Guest;
use crate::Component;

impl Guest for Component {
    async fn spin() {
        loop {
            wit_bindgen::yield_async().await;
        }
    }

    async fn spin_blocking() {
        // wit-bindgen's `thread.yield` is the non-cancellable one: it never
        // reports a cancellation, so this never ends.
        while wit_bindgen::yield_blocking() {}
    }
}
