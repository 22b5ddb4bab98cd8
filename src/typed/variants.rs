//! `Option<T>` and `Result<T, E>` as the component `option` and `result`
//! (`()` stands for a missing `result` payload).

use super::layout::{
    check_case, flat_discriminant, lift_payload, load_payload, lower_case, max_u32, max_usize,
    read_discriminant, store_case, variant_align, variant_payload_offset, variant_size,
};
use super::traits::{ComponentType, Lift, LiftContext, Lower, LowerContext, TypeRef};
use super::typecheck::{def, mismatch, within};
use crate::error::Result;
use crate::types::DefType;

impl<T: ComponentType> ComponentType for Option<T> {
    const SIZE32: u32 = variant_size(2, T::SIZE32, T::ALIGN32);
    const ALIGN32: u32 = variant_align(2, T::ALIGN32);
    const FLAT: usize = 1 + T::FLAT;
    type Core = super::core::NotScalar;
    const RESOURCES: usize = T::RESOURCES;

    fn typecheck(ty: &TypeRef<'_>) -> Result<()> {
        match def(ty) {
            Some(DefType::Option(t)) => {
                T::typecheck(&ty.at(*t)).map_err(|e| within(e, "option payload"))
            }
            _ => Err(mismatch::<Self>(ty)),
        }
    }
}

impl<T: Lower> Lower for Option<T> {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, dst: &mut [u64]) -> Result<()> {
        let base = cx.resource_cursor();
        match self {
            None => lower_case::<T>(cx, dst, 0, None),
            Some(v) => lower_case(cx, dst, 1, Some(v)),
        }?;
        cx.seek_resource(base + T::RESOURCES);
        Ok(())
    }

    fn store(&self, cx: &mut LowerContext<'_>, ptr: u32) -> Result<()> {
        let off = variant_payload_offset(2, T::ALIGN32);
        let base = cx.resource_cursor();
        match self {
            None => store_case::<T>(cx, ptr, 2, off, 0, None),
            Some(v) => store_case(cx, ptr, 2, off, 1, Some(v)),
        }?;
        cx.seek_resource(base + T::RESOURCES);
        Ok(())
    }
}

impl<T: Lift> Lift for Option<T> {
    fn lift_flat(cx: &mut LiftContext<'_>, src: &[u64]) -> Result<Self> {
        let disc = flat_discriminant(src)?;
        check_case(disc, 2)?;
        let base = cx.resource_cursor();
        let v = match disc {
            0 => None,
            _ => Some(lift_payload(cx, src)?),
        };
        cx.seek_resource(base + T::RESOURCES);
        Ok(v)
    }

    fn load(cx: &mut LiftContext<'_>, bytes: &[u8]) -> Result<Self> {
        let disc = read_discriminant(bytes, 1)?;
        check_case(disc, 2)?;
        let base = cx.resource_cursor();
        let v = match disc {
            0 => None,
            _ => Some(load_payload(
                cx,
                bytes,
                variant_payload_offset(2, T::ALIGN32),
            )?),
        };
        cx.seek_resource(base + T::RESOURCES);
        Ok(v)
    }
}

/// The payload offset of `result<T, E>`.
const fn result_offset(t_align: u32, e_align: u32) -> u32 {
    variant_payload_offset(2, max_u32(t_align, e_align))
}

impl<T: ComponentType, E: ComponentType> ComponentType for Result<T, E> {
    const SIZE32: u32 = variant_size(
        2,
        max_u32(T::SIZE32, E::SIZE32),
        max_u32(T::ALIGN32, E::ALIGN32),
    );
    const ALIGN32: u32 = variant_align(2, max_u32(T::ALIGN32, E::ALIGN32));
    const FLAT: usize = 1 + max_usize(T::FLAT, E::FLAT);
    type Core = super::core::NotScalar;
    const RESOURCES: usize = T::RESOURCES + E::RESOURCES;

    fn typecheck(ty: &TypeRef<'_>) -> Result<()> {
        match def(ty) {
            Some(DefType::Result { ok, err }) => {
                let ok = ok.map(|t| ty.at(t));
                let err = err.map(|t| ty.at(t));
                T::typecheck_payload(ok.as_ref()).map_err(|e| within(e, "result ok"))?;
                E::typecheck_payload(err.as_ref()).map_err(|e| within(e, "result err"))
            }
            _ => Err(mismatch::<Self>(ty)),
        }
    }
}

impl<T: Lower, E: Lower> Lower for Result<T, E> {
    fn lower_flat(&self, cx: &mut LowerContext<'_>, dst: &mut [u64]) -> Result<()> {
        let base = cx.resource_cursor();
        match self {
            Ok(v) => lower_case(cx, dst, 0, Some(v)),
            Err(v) => {
                cx.seek_resource(base + T::RESOURCES);
                lower_case(cx, dst, 1, Some(v))
            }
        }?;
        cx.seek_resource(base + Self::RESOURCES);
        Ok(())
    }

    fn store(&self, cx: &mut LowerContext<'_>, ptr: u32) -> Result<()> {
        let off = result_offset(T::ALIGN32, E::ALIGN32);
        let base = cx.resource_cursor();
        match self {
            Ok(v) => store_case(cx, ptr, 2, off, 0, Some(v)),
            Err(v) => {
                cx.seek_resource(base + T::RESOURCES);
                store_case(cx, ptr, 2, off, 1, Some(v))
            }
        }?;
        cx.seek_resource(base + Self::RESOURCES);
        Ok(())
    }
}

impl<T: Lift, E: Lift> Lift for Result<T, E> {
    fn lift_flat(cx: &mut LiftContext<'_>, src: &[u64]) -> Result<Self> {
        let disc = flat_discriminant(src)?;
        check_case(disc, 2)?;
        let base = cx.resource_cursor();
        let v = match disc {
            0 => Ok(lift_payload(cx, src)?),
            _ => {
                cx.seek_resource(base + T::RESOURCES);
                Err(lift_payload(cx, src)?)
            }
        };
        cx.seek_resource(base + Self::RESOURCES);
        Ok(v)
    }

    fn load(cx: &mut LiftContext<'_>, bytes: &[u8]) -> Result<Self> {
        let disc = read_discriminant(bytes, 1)?;
        check_case(disc, 2)?;
        let off = result_offset(T::ALIGN32, E::ALIGN32);
        let base = cx.resource_cursor();
        let v = match disc {
            0 => Ok(load_payload(cx, bytes, off)?),
            _ => {
                cx.seek_resource(base + T::RESOURCES);
                Err(load_payload(cx, bytes, off)?)
            }
        };
        cx.seek_resource(base + Self::RESOURCES);
        Ok(v)
    }
}
