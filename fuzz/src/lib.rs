//! The logic of componentry's fuzz targets, as plain functions so that the
//! main crate's `tests/fuzz_corpus.rs` replays the seed and regression
//! corpus on stable Rust through exactly what the fuzz targets run.
//!
//! - [`load`]: arbitrary bytes as a component binary, instantiated with
//!   host functions for every import and every export called.
//! - [`roundtrip`]: an arbitrary value type and value passed through a
//!   generated component and back, compared for equality.
//! - [`valid_modules`]: arbitrary but valid components (core functions with
//!   arbitrary bodies, lifts and lowers with arbitrary types and options)
//!   run through the same path as `load`.
//!
//! Every target runs under the host-memory oracle ([`host_memory`]): a run
//! that takes more host memory than its budget fails.

pub mod exercise;
pub mod host_memory;
pub mod modules;
pub mod roundtrip;
pub mod types;
pub mod values;

use arbitrary::Unstructured;

/// The `load` target. The input is a component binary followed by the
/// bytes that drive host replies and export arguments, followed by a
/// little-endian `u16` giving the length of those bytes (taken modulo what
/// is available), so a plain component binary is also a valid input.
pub fn load(data: &[u8]) {
    host_memory::bounded(|| {
        let (component, args) = split_tail(data);
        let engine = exercise::engine();
        let mut u = Unstructured::new(args);
        exercise::exercise(&engine, component, &mut u);
    })
}

/// Splits `data` into a component and the argument bytes (see [`load`]).
pub fn split_tail(data: &[u8]) -> (&[u8], &[u8]) {
    if data.len() < 2 {
        return (data, &[]);
    }
    let (rest, len) = data.split_at(data.len() - 2);
    let k = usize::from(u16::from_le_bytes([len[0], len[1]])) % (rest.len() + 1);
    rest.split_at(rest.len() - k)
}

/// Joins a component and argument bytes into one `load` input.
pub fn join_tail(component: &[u8], args: &[u8]) -> Vec<u8> {
    let mut out = component.to_vec();
    out.extend_from_slice(args);
    out.extend_from_slice(&(args.len() as u16).to_le_bytes());
    out
}

/// The `roundtrip` target: see [`roundtrip::run`].
pub fn roundtrip(data: &[u8]) {
    host_memory::bounded(|| roundtrip::run(data));
}

/// The `valid_modules` target: see [`modules::run`].
pub fn valid_modules(data: &[u8]) {
    host_memory::bounded(|| modules::run(data));
}
