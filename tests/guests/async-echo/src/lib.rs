//! `example:async-echo`, world `async-echo`: a guest whose exports are all
//! async (the component model's async ABI, callback form), for
//! componentry's async runtime: streams in and out, a future out, a task
//! that waits forever, and the `subtasks` and `yielding` interfaces
//! (src/subtasks.rs, src/yielding.rs, shared with the async-tasks and
//! async-yield guests): an async import called twice at once, and two tasks
//! that only yield.

wit_bindgen::generate!({
    path: "wit",
    world: "async-echo",
});

use exports::example::async_echo::api::Guest;
use wit_bindgen::{FutureReader, StreamReader, StreamResult};

/// How many bytes one read asks for.
const CHUNK: usize = 64;

mod subtasks;
mod yielding;

struct Component;

impl Guest for Component {
    async fn echo(mut input: StreamReader<u8>) -> StreamReader<u8> {
        let (mut tx, rx) = wit_stream::new::<u8>();
        // The copying goes on after `echo` has returned `rx` (its
        // `task.return`), in the same component-model task.
        wit_bindgen::spawn_local(async move {
            loop {
                let (status, mut buf) = input.read(Vec::with_capacity(CHUNK)).await;
                if let StreamResult::Dropped = status {
                    if buf.is_empty() {
                        break;
                    }
                }
                buf.make_ascii_uppercase();
                if !tx.write_all(buf).await.is_empty() {
                    // The reader of `rx` went away: stop early.
                    break;
                }
                if let StreamResult::Dropped = status {
                    break;
                }
            }
            // Dropping `tx` ends `rx`; dropping `input` drops its end.
        });
        rx
    }

    async fn sum(mut input: StreamReader<u8>) -> u64 {
        let mut total = 0u64;
        loop {
            let (status, buf) = input.read(Vec::with_capacity(CHUNK)).await;
            total += buf.iter().map(|&b| u64::from(b)).sum::<u64>();
            if let StreamResult::Dropped = status {
                return total;
            }
        }
    }

    async fn produce(n: u32) -> StreamReader<u8> {
        let (mut tx, rx) = wit_stream::new::<u8>();
        wit_bindgen::spawn_local(async move {
            let bytes: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let _ = tx.write_all(bytes).await;
        });
        rx
    }

    async fn later(n: u32) -> FutureReader<u32> {
        let (tx, rx) = wit_future::new::<u32>(|| 0);
        wit_bindgen::spawn_local(async move {
            let _ = tx.write(n.wrapping_add(1)).await;
        });
        rx
    }

    async fn wait_forever() {
        // Both ends are this instance's (allowed for a stream of numbers);
        // `_tx` lives as long as the read, so the read never completes.
        let (_tx, mut rx) = wit_stream::new::<u8>();
        let _ = rx.next().await;
    }
}

export!(Component);
