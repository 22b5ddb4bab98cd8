//! Static core signatures: the bridge from flat values (raw `u64` bits) to
//! wasmi's statically typed calls (`wasmi::TypedFunc`, `wasmi::Func::wrap`),
//! which neither type-check nor copy arguments on each call.

use alloc::sync::Arc;

use crate::error::Result;
use crate::store::{StoreContextMut, StoreData};

/// A core wasm value type, as raw bits (i32/f32 in the low half).
#[doc(hidden)]
pub trait CoreScalar: wasmi::WasmTy + Copy + Send + Sync + 'static {
    /// The value whose bits are `bits`.
    fn from_bits(bits: u64) -> Self;
    /// The bits of the value, zero-extended.
    fn to_bits(self) -> u64;
}

impl CoreScalar for i32 {
    #[inline]
    fn from_bits(bits: u64) -> Self {
        bits as u32 as i32
    }
    #[inline]
    fn to_bits(self) -> u64 {
        u64::from(self as u32)
    }
}

impl CoreScalar for i64 {
    #[inline]
    fn from_bits(bits: u64) -> Self {
        bits as i64
    }
    #[inline]
    fn to_bits(self) -> u64 {
        self as u64
    }
}

impl CoreScalar for f32 {
    #[inline]
    fn from_bits(bits: u64) -> Self {
        f32::from_bits(bits as u32)
    }
    #[inline]
    fn to_bits(self) -> u64 {
        u64::from(f32::to_bits(self))
    }
}

impl CoreScalar for f64 {
    #[inline]
    fn from_bits(bits: u64) -> Self {
        f64::from_bits(bits)
    }
    #[inline]
    fn to_bits(self) -> u64 {
        f64::to_bits(self)
    }
}

/// The `Core` of a type that is not one core value.
#[doc(hidden)]
pub type NotScalar = i32;

/// The result of a core function: none or one core value.
#[doc(hidden)]
pub trait CoreRet: wasmi::WasmResults + Copy + Send + Sync + 'static {
    /// The value whose bits are `bits` (nothing for `()`).
    fn from_bits(bits: u64) -> Self;
    /// The bits of the value (0 for `()`).
    fn to_bits(self) -> u64;
}

impl CoreRet for () {
    #[inline]
    fn from_bits(_: u64) -> Self {}
    #[inline]
    fn to_bits(self) -> u64 {
        0
    }
}

macro_rules! core_ret {
    ($($t:ty)*) => {$(
        impl CoreRet for $t {
            #[inline]
            fn from_bits(bits: u64) -> Self {
                <$t as CoreScalar>::from_bits(bits)
            }
            #[inline]
            fn to_bits(self) -> u64 {
                <$t as CoreScalar>::to_bits(self)
            }
        }
    )*};
}
core_ret!(i32 i64 f32 f64);

/// A typed host function on raw flat values: `(caller, params, results)`.
/// The params include a trailing return pointer when the result spills.
pub(crate) type RawHostFn<T> =
    dyn Fn(&mut wasmi::Caller<'_, StoreData<T>>, &[u64], &mut [u64]) -> Result<()> + Send + Sync;

/// A shareable [`RawHostFn`].
#[doc(hidden)]
pub struct RawHost<T>(pub(crate) Arc<RawHostFn<T>>);

impl<T> Clone for RawHost<T> {
    fn clone(&self) -> Self {
        RawHost(self.0.clone())
    }
}

/// A tuple of core value types: the parameters of a core function.
#[doc(hidden)]
pub trait CoreList: wasmi::WasmParams + Copy + Send + Sync + 'static {
    /// How many values.
    const LEN: usize;
    /// The values whose bits are `bits[..LEN]` (missing ones are zero).
    fn from_bits(bits: &[u64]) -> Self;
    /// True if `tys` are exactly these types.
    fn matches(tys: &[wasmi::ValType]) -> bool;
    /// A wasmi host function of this signature and result `Ret` that
    /// passes its arguments to `f` as bits.
    fn wrap_host<T: 'static, Ret: CoreRet>(
        cx: &mut StoreContextMut<'_, T>,
        f: RawHost<T>,
    ) -> wasmi::Func
    where
        Result<Ret, wasmi::Error>: wasmi::WasmRet;
}

macro_rules! core_list {
    ($n:literal $($t:ident $i:tt)*) => {
        impl<$($t: CoreScalar),*> CoreList for ($($t,)*) {
            const LEN: usize = $n;

            #[inline]
            #[allow(unused_variables, clippy::unused_unit)]
            fn from_bits(bits: &[u64]) -> Self {
                ($(<$t as CoreScalar>::from_bits(bits.get($i).copied().unwrap_or(0)),)*)
            }

            fn matches(tys: &[wasmi::ValType]) -> bool {
                let ours: [wasmi::ValType; $n] = [$(<$t as wasmi::WasmTy>::ty()),*];
                tys == ours
            }

            #[allow(non_snake_case)]
            fn wrap_host<T: 'static, Ret: CoreRet>(
                cx: &mut StoreContextMut<'_, T>,
                f: RawHost<T>,
            ) -> wasmi::Func
            where
                Result<Ret, wasmi::Error>: wasmi::WasmRet,
            {
                wasmi::Func::wrap(
                    &mut cx.inner,
                    move |mut caller: wasmi::Caller<'_, StoreData<T>>,
                          $($t: $t),*|
                          -> Result<Ret, wasmi::Error> {
                        let raw: [u64; $n] = [$(<$t as CoreScalar>::to_bits($t)),*];
                        let mut out = [0u64; 1];
                        (f.0)(&mut caller, &raw, &mut out).map_err(wasmi::Error::host)?;
                        Ok(Ret::from_bits(out[0]))
                    },
                )
            }
        }
    };
}

core_list!(0);
core_list!(1 A1 0);
core_list!(2 A1 0 A2 1);
core_list!(3 A1 0 A2 1 A3 2);
core_list!(4 A1 0 A2 1 A3 2 A4 3);
core_list!(5 A1 0 A2 1 A3 2 A4 3 A5 4);
core_list!(6 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5);
core_list!(7 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6);
core_list!(8 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7);
core_list!(9 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8);
core_list!(10 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9);
core_list!(11 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10);
core_list!(12 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10 A12 11);
core_list!(13 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10 A12 11 A13 12);
core_list!(14 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10 A12 11 A13 12 A14 13);
core_list!(15 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10 A12 11 A13 12 A14 13 A15 14);
core_list!(16 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10 A12 11 A13 12 A14 13 A15 14 A16 15);

/// A statically typed core function, for each result type.
#[cfg(feature = "static-core-calls")]
#[derive(Clone)]
pub(crate) enum RetCall<CL> {
    R0(wasmi::TypedFunc<CL, ()>),
    I32(wasmi::TypedFunc<CL, i32>),
    I64(wasmi::TypedFunc<CL, i64>),
    F32(wasmi::TypedFunc<CL, f32>),
    F64(wasmi::TypedFunc<CL, f64>),
}

#[cfg(feature = "static-core-calls")]
impl<CL: CoreList> RetCall<CL> {
    /// `f` as a static call, if its type is `CL -> results`.
    pub(crate) fn new(
        f: wasmi::Func,
        ctx: impl wasmi::AsContext,
        results: &[wasmi::ValType],
    ) -> Option<Self> {
        use wasmi::ValType as V;
        Some(match results {
            [] => RetCall::R0(f.typed(ctx).ok()?),
            [V::I32] => RetCall::I32(f.typed(ctx).ok()?),
            [V::I64] => RetCall::I64(f.typed(ctx).ok()?),
            [V::F32] => RetCall::F32(f.typed(ctx).ok()?),
            [V::F64] => RetCall::F64(f.typed(ctx).ok()?),
            _ => return None,
        })
    }

    /// Calls with the args whose bits are `args`; returns the result's bits.
    #[inline]
    pub(crate) fn call(
        &self,
        ctx: impl wasmi::AsContextMut,
        args: &[u64],
    ) -> core::result::Result<u64, wasmi::Error> {
        let a = CL::from_bits(args);
        Ok(match self {
            RetCall::R0(f) => {
                f.call(ctx, a)?;
                0
            }
            RetCall::I32(f) => CoreRet::to_bits(f.call(ctx, a)?),
            RetCall::I64(f) => CoreRet::to_bits(f.call(ctx, a)?),
            RetCall::F32(f) => CoreRet::to_bits(f.call(ctx, a)?),
            RetCall::F64(f) => CoreRet::to_bits(f.call(ctx, a)?),
        })
    }
}

/// Wraps `f` as a wasmi host function of params `CL` and `results`.
#[cfg(feature = "static-core-calls")]
pub(crate) fn wrap_host<T: 'static, CL: CoreList>(
    cx: &mut StoreContextMut<'_, T>,
    f: RawHost<T>,
    results: &[wasmi::ValType],
) -> Option<wasmi::Func> {
    use wasmi::ValType as V;
    Some(match results {
        [] => CL::wrap_host::<T, ()>(cx, f),
        [V::I32] => CL::wrap_host::<T, i32>(cx, f),
        [V::I64] => CL::wrap_host::<T, i64>(cx, f),
        [V::F32] => CL::wrap_host::<T, f32>(cx, f),
        [V::F64] => CL::wrap_host::<T, f64>(cx, f),
        _ => return None,
    })
}
