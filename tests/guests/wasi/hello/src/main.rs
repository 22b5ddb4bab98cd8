//! What `cargo new hello` gives, built for wasm32-wasip2.
fn main() {
    println!("Hello, world!");
}
