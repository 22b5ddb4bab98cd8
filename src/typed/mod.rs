//! The typed API: Rust values cross the boundary directly, without [`Val`].
//!
//! [`ComponentType`] ties a Rust type to a component value type (checked
//! once, when a [`TypedFunc`] is made or an import is linked), and carries
//! its canonical ABI layout as constants. [`Lift`] reads a value from flat
//! core values or guest memory, [`Lower`] writes one. [`TypedFunc`] calls
//! an export with such values; [`LinkerInstance::func_wrap`] defines a
//! host function taking and returning them.
//!
//! [`Val`]: crate::Val
//! [`LinkerInstance::func_wrap`]: crate::LinkerInstance::func_wrap

mod core;
#[cfg(feature = "typed-host-val-calls")]
mod dynamic;
mod func;
mod handles;
mod host;
mod host_fast;
mod layout;
mod lists;
mod scalars;
#[cfg(any(feature = "typed-host-val-calls", feature = "async"))]
mod scratch;
mod strings;
#[cfg(feature = "async")]
mod task_call;
mod traits;
mod tuples;
mod typecheck;
mod variants;
mod views;

pub use self::func::TypedFunc;
pub use self::traits::{ComponentNamedList, ComponentType, Lift, Lower};
pub use self::views::{WasmList, WasmStr};

pub(crate) use self::host::{dynamic_of_typed, lower_typed_host, TypedHost};
pub(crate) use self::traits::LiftHandles;

/// What the derive macros and `flags!` expand to. Not a stable API.
#[doc(hidden)]
pub mod private {
    pub use super::core::{CoreList, CoreRet, CoreScalar, NotScalar, RawHost};
    pub use super::layout::{
        flags_size, lift_discriminant, lift_field, lift_flags, lift_payload, load_discriminant,
        load_field, load_flags, load_payload, lower_case, lower_field, lower_flags, max_align,
        max_size, max_u32, max_usize, record_align, record_size, store_case, store_field,
        variant_align, variant_payload_offset, variant_size, write_flags,
    };
    pub use super::traits::{LiftContext, LowerContext, ParamsRef, TypeRef};
    pub use super::typecheck::{
        bad_discriminant, typecheck_enum, typecheck_flags, typecheck_record, typecheck_variant,
        CaseCheck, FieldCheck,
    };
    pub use crate::error::{Error, Result};
    pub use ::core::option::Option::{self, None, Some};
    pub use ::core::result::Result::{Err, Ok};
    pub use alloc::vec::Vec;
}
