//! A WASI 0.2 host for componentry.
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;
