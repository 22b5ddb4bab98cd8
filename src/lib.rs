//! componentry runs WebAssembly components (the Component Model, 0.2) on the
//! [wasmi] interpreter, in `no_std` + `alloc` environments as well as with
//! `std`.
//!
//! The API follows wasmtime's component API: compile a [`Component`] for an
//! [`Engine`], define its imports in a [`Linker`], instantiate it in a
//! [`Store`], and call its exports as [`Func`]s with [`Val`]s.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod abi;
mod adapter;
mod boundary;
mod component;
#[cfg(feature = "async")]
mod concurrent;
mod core_wrap;
mod engine;
mod error;
mod func;
mod handles;
mod instance;
mod limits;
mod linker;
mod module;
mod names;
mod resources;
mod resumable;
mod store;
mod typed;
mod types;
mod values;
mod wasmi_mem;

pub use abi::StringEncoding;
pub use component::{Component, ComponentItem};
#[cfg(feature = "async")]
pub use concurrent::host::HostFuture;
#[cfg(feature = "async")]
pub use concurrent::host_values::{
    ErrorContextAny, FutureAny, FutureRead, FutureWriter, StreamAny, StreamRead, StreamWrite,
    StreamWriter,
};
#[cfg(feature = "async")]
pub use engine::DEFAULT_MAX_TASKS;
pub use engine::{
    Config, Engine, DEFAULT_MAX_CALL_DEPTH, DEFAULT_MAX_LIFTED_BYTES_PER_CALL,
    DEFAULT_MAX_RESOURCE_TYPES,
};
pub use error::{Error, ErrorKind, Result, TrapKind};
pub use func::Func;
pub use instance::{ExportIndex, Instance, InstanceExportLookup};
pub use limits::{StoreLimits, StoreLimitsBuilder};
pub use linker::{Linker, LinkerInstance};
pub use module::Module;
pub use resources::{
    Resource, ResourceAny, ResourceTable, ResourceType, DEFAULT_MAX_HANDLES_PER_INSTANCE,
};
pub use resumable::{CallOutcome, ResumableCall};
pub use store::{AsContextMut, Store, StoreContextMut};
pub use typed::{ComponentNamedList, ComponentType, Lift, Lower, TypedFunc, WasmList, WasmStr};
pub use types::{FuncType, Type};
pub use values::Val;

#[doc(hidden)]
pub use typed::private as __private;

/// `alloc`, for the code `bindgen!` generates (which must build without
/// `std`). Not a stable API.
#[doc(hidden)]
pub extern crate alloc as __alloc;

/// `#[derive(ComponentType, Lift, Lower)]` for records, variants and enums,
/// and `flags!` for flags types (feature `derive`, on by default).
#[cfg(feature = "derive")]
pub use componentry_derive::{flags, ComponentType, Lift, Lower};

#[cfg(feature = "derive")]
#[doc = include_str!("bindgen.md")]
pub use componentry_derive::bindgen;
