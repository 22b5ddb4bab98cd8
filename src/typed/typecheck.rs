//! Type checks of Rust types against component types, done once per
//! typed function or linked import. Errors are usage errors naming the
//! component type expected and the Rust type found.

use alloc::format;
use core::any::type_name;
use core::fmt::Display;

use super::traits::TypeRef;
use crate::error::{Error, Result, TrapKind};
use crate::types::{DefType, ValType};

/// Checks a field's type.
#[doc(hidden)]
pub type FieldCheck = (&'static str, fn(&TypeRef<'_>) -> Result<()>);

/// Checks a case's payload (`None`: the case has none).
#[doc(hidden)]
pub type CaseCheck = (&'static str, fn(Option<&TypeRef<'_>>) -> Result<()>);

/// `ty` is not what Rust type `R` stands for.
pub(crate) fn mismatch<R: ?Sized>(ty: &TypeRef<'_>) -> Error {
    Error::usage(format!(
        "type mismatch: expected `{}`, found Rust type `{}`",
        ty.describe(),
        type_name::<R>()
    ))
}

/// `e`, said to be about `what`.
pub(crate) fn within(e: Error, what: impl Display) -> Error {
    Error::usage(format!("{what}: {}", e.message()))
}

/// Checks that `ty` is the primitive `want`.
pub(crate) fn prim<R: ?Sized>(ty: &TypeRef<'_>, want: ValType) -> Result<()> {
    if ty.ty == want {
        Ok(())
    } else {
        Err(mismatch::<R>(ty))
    }
}

/// The defined type behind `ty`, if it is one.
pub(crate) fn def<'a>(ty: &TypeRef<'a>) -> Option<&'a DefType> {
    match ty.ty {
        ValType::Def(i) => ty.arena.defs.get(i as usize),
        _ => None,
    }
}

/// A lifted discriminant `d` is out of range for `n` cases.
#[doc(hidden)]
pub fn bad_discriminant(d: u32, n: usize) -> Error {
    Error::trap(
        TrapKind::InvalidDiscriminant,
        format!("discriminant {d} out of range for {n} cases"),
    )
}

/// Checks that `ty` is a record with exactly `fields`, in order.
#[doc(hidden)]
pub fn typecheck_record<R: ?Sized>(ty: &TypeRef<'_>, fields: &[FieldCheck]) -> Result<()> {
    let Some(DefType::Record(theirs)) = def(ty) else {
        return Err(mismatch::<R>(ty));
    };
    if theirs.len() != fields.len() || theirs.iter().zip(fields).any(|((a, _), (b, _))| **a != **b)
    {
        return Err(mismatch::<R>(ty));
    }
    for ((name, t), (_, check)) in theirs.iter().zip(fields) {
        check(&ty.at(*t)).map_err(|e| within(e, format_args!("field `{name}`")))?;
    }
    Ok(())
}

/// Checks that `ty` is a variant with exactly `cases`, in order.
#[doc(hidden)]
pub fn typecheck_variant<R: ?Sized>(ty: &TypeRef<'_>, cases: &[CaseCheck]) -> Result<()> {
    let Some(DefType::Variant(theirs)) = def(ty) else {
        return Err(mismatch::<R>(ty));
    };
    if theirs.len() != cases.len() || theirs.iter().zip(cases).any(|(a, (b, _))| *a.name != **b) {
        return Err(mismatch::<R>(ty));
    }
    for (case, (_, check)) in theirs.iter().zip(cases) {
        let payload = case.ty.map(|t| ty.at(t));
        check(payload.as_ref()).map_err(|e| within(e, format_args!("case `{}`", case.name)))?;
    }
    Ok(())
}

/// Checks that `ty` is an enum with exactly `names`, in order.
#[doc(hidden)]
pub fn typecheck_enum<R: ?Sized>(ty: &TypeRef<'_>, names: &[&str]) -> Result<()> {
    match def(ty) {
        Some(DefType::Enum(theirs)) if same_names(theirs, names) => Ok(()),
        _ => Err(mismatch::<R>(ty)),
    }
}

/// Checks that `ty` is a flags type with exactly `names`, in order.
#[doc(hidden)]
pub fn typecheck_flags<R: ?Sized>(ty: &TypeRef<'_>, names: &[&str]) -> Result<()> {
    match def(ty) {
        Some(DefType::Flags(theirs)) if same_names(theirs, names) => Ok(()),
        _ => Err(mismatch::<R>(ty)),
    }
}

fn same_names(theirs: &[alloc::boxed::Box<str>], ours: &[&str]) -> bool {
    theirs.len() == ours.len() && theirs.iter().zip(ours).all(|(a, b)| **a == **b)
}
