//! Tuples (component `tuple<…>`, and the parameter lists of typed
//! functions) and `()` (no value: no params, no result, no payload).

use alloc::format;

use super::layout::{lift_field, load_field, lower_field, record_align, record_size, store_field};
use super::traits::{
    ComponentNamedList, ComponentType, Lift, LiftContext, Lower, LowerContext, ParamsRef, TypeRef,
};
use super::typecheck::{def, mismatch, within};
use crate::error::{Error, Result};
use crate::types::DefType;

impl ComponentType for () {
    const SIZE32: u32 = 0;
    const ALIGN32: u32 = 1;
    const FLAT: usize = 0;
    type Core = super::core::NotScalar;

    fn typecheck(ty: &TypeRef<'_>) -> Result<()> {
        Err(mismatch::<Self>(ty))
    }

    fn typecheck_payload(ty: Option<&TypeRef<'_>>) -> Result<()> {
        match ty {
            None => Ok(()),
            Some(ty) => Err(mismatch::<Self>(ty)),
        }
    }
}

impl Lift for () {
    #[inline]
    fn lift_flat(_: &mut LiftContext<'_>, _: &[u64]) -> Result<Self> {
        Ok(())
    }

    #[inline]
    fn load(_: &mut LiftContext<'_>, _: &[u8]) -> Result<Self> {
        Ok(())
    }
}

impl Lower for () {
    #[inline]
    fn lower_flat(&self, _: &mut LowerContext<'_>, _: &mut [u64]) -> Result<()> {
        Ok(())
    }

    #[inline]
    fn store(&self, _: &mut LowerContext<'_>, _: u32) -> Result<()> {
        Ok(())
    }
}

impl ComponentNamedList for () {
    type CoreParams = ();

    fn typecheck_params(params: &ParamsRef<'_>) -> Result<()> {
        check_count(params, 0)
    }
}

fn check_count(params: &ParamsRef<'_>, n: usize) -> Result<()> {
    if params.params.len() != n {
        return Err(Error::usage(format!(
            "expected {} parameters, the Rust parameter tuple has {n}",
            params.params.len()
        )));
    }
    Ok(())
}

macro_rules! tuple {
    ($n:literal $($t:ident $i:tt)*) => {
        impl<$($t: ComponentType),*> ComponentType for ($($t,)*) {
            const SIZE32: u32 = record_size(&[$(($t::SIZE32, $t::ALIGN32)),*]);
            const ALIGN32: u32 = record_align(&[$(($t::SIZE32, $t::ALIGN32)),*]);
            const FLAT: usize = 0 $(+ $t::FLAT)*;
            type Core = super::core::NotScalar;
            const RESOURCES: usize = 0 $(+ $t::RESOURCES)*;

            fn typecheck(ty: &TypeRef<'_>) -> Result<()> {
                match def(ty) {
                    Some(DefType::Tuple(ts)) if ts.len() == $n => {
                        $(
                            $t::typecheck(&ty.at(ts[$i]))
                                .map_err(|e| within(e, format_args!("tuple element {}", $i)))?;
                        )*
                        Ok(())
                    }
                    _ => Err(mismatch::<Self>(ty)),
                }
            }
        }

        impl<$($t: Lower),*> Lower for ($($t,)*) {
            #[inline]
            fn lower_flat(&self, cx: &mut LowerContext<'_>, dst: &mut [u64]) -> Result<()> {
                let mut pos = 0;
                $(lower_field(&self.$i, cx, dst, &mut pos)?;)*
                Ok(())
            }

            fn store(&self, cx: &mut LowerContext<'_>, ptr: u32) -> Result<()> {
                let mut off = 0;
                $(store_field(&self.$i, cx, ptr, &mut off)?;)*
                Ok(())
            }
        }

        impl<$($t: Lift),*> Lift for ($($t,)*) {
            #[inline]
            fn lift_flat(cx: &mut LiftContext<'_>, src: &[u64]) -> Result<Self> {
                let mut pos = 0;
                Ok(($(lift_field::<$t>(cx, src, &mut pos)?,)*))
            }

            fn load(cx: &mut LiftContext<'_>, bytes: &[u8]) -> Result<Self> {
                let mut off = 0;
                Ok(($(load_field::<$t>(cx, bytes, &mut off)?,)*))
            }
        }

        impl<$($t: ComponentType),*> ComponentNamedList for ($($t,)*) {
            type CoreParams = ($($t::Core,)*);

            fn typecheck_params(params: &ParamsRef<'_>) -> Result<()> {
                check_count(params, $n)?;
                $(
                    let (name, t) = &params.params[$i];
                    $t::typecheck(&TypeRef::new(params.arena, *t))
                        .map_err(|e| within(e, format_args!("parameter `{name}`")))?;
                )*
                Ok(())
            }
        }
    };
}

tuple!(1 A1 0);
tuple!(2 A1 0 A2 1);
tuple!(3 A1 0 A2 1 A3 2);
tuple!(4 A1 0 A2 1 A3 2 A4 3);
tuple!(5 A1 0 A2 1 A3 2 A4 3 A5 4);
tuple!(6 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5);
tuple!(7 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6);
tuple!(8 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7);
tuple!(9 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8);
tuple!(10 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9);
tuple!(11 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10);
tuple!(12 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10 A12 11);
tuple!(13 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10 A12 11 A13 12);
tuple!(14 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10 A12 11 A13 12 A14 13);
tuple!(15 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10 A12 11 A13 12 A14 13 A15 14);
tuple!(16 A1 0 A2 1 A3 2 A4 3 A5 4 A6 5 A7 6 A8 7 A9 8 A10 9 A11 10 A12 11 A13 12 A14 13 A15 14 A16 15);
