//! The `subtasks` interface, for the guests that export it (async-echo, and
//! async-tasks, which includes this file).

use crate::example::async_echo::host;
use crate::exports::example::async_echo::subtasks::Guest;
use crate::Component;

impl Guest for Component {
    async fn double_fetch(n: u32) -> u32 {
        let (a, b) = futures::future::join(host::fetch(n), host::fetch(n.wrapping_add(1))).await;
        a.wrapping_add(b)
    }
}
