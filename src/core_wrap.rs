//! Core functions the runtime gives guests (a lowered host function with
//! `Val`s, the fused adapter of a component-to-component call) for core
//! signatures known only at run time. wasmi's dynamic host functions
//! (`wasmi::Func::new`) copy their function type on every call; the
//! common signatures (up to four `i32` params, no result or one `i32`) are
//! made statically typed instead, which a guest calls without that copy.
//! Only with the `static-core-calls` feature: each shape is a monomorphic
//! copy of wasmi's call path, which a size-first build (the firmware) does
//! without.

use crate::store::StoreData;

/// What the runtime does for one call: the core arguments in, the core
/// results out (as `wasmi::Func::new`'s closures).
pub(crate) trait DynCall<T>:
    Fn(
        &mut wasmi::Caller<'_, StoreData<T>>,
        &[wasmi::Val],
        &mut [wasmi::Val],
    ) -> Result<(), wasmi::Error>
    + Send
    + Sync
    + 'static
{
}

impl<T, F> DynCall<T> for F where
    F: Fn(
            &mut wasmi::Caller<'_, StoreData<T>>,
            &[wasmi::Val],
            &mut [wasmi::Val],
        ) -> Result<(), wasmi::Error>
        + Send
        + Sync
        + 'static
{
}

/// The single `i32` result `f` wrote, or an error if it wrote another type.
#[cfg(feature = "static-core-calls")]
fn i32_result(out: [wasmi::Val; 1]) -> Result<i32, wasmi::Error> {
    match out {
        [wasmi::Val::I32(x)] => Ok(x),
        _ => Err(wasmi::Error::new(
            "internal: a core result of the wrong type",
        )),
    }
}

#[cfg(feature = "static-core-calls")]
macro_rules! wrap_i32s {
    ($store:expr, $f:expr, $results:expr, [$($a:ident),*]) => {{
        let f = $f;
        if $results.is_empty() {
            wasmi::Func::wrap(
                $store,
                move |mut caller: wasmi::Caller<'_, StoreData<T>>, $($a: i32),*| -> Result<(), wasmi::Error> {
                    f(&mut caller, &[$(wasmi::Val::I32($a)),*], &mut [])
                },
            )
        } else {
            wasmi::Func::wrap(
                $store,
                move |mut caller: wasmi::Caller<'_, StoreData<T>>, $($a: i32),*| -> Result<i32, wasmi::Error> {
                    let mut out = [wasmi::Val::I32(0)];
                    f(&mut caller, &[$(wasmi::Val::I32($a)),*], &mut out)?;
                    i32_result(out)
                },
            )
        }
    }};
}

/// A core function of type `ty` that runs `f`: statically typed when `ty`
/// is up to four `i32` params and no result or one `i32`, else a wasmi
/// dynamic host function.
pub(crate) fn core_func<T: 'static>(
    store: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    ty: wasmi::FuncType,
    f: impl DynCall<T>,
) -> wasmi::Func {
    #[cfg(feature = "static-core-calls")]
    {
        use wasmi::ValType::I32;
        let params = ty.params();
        let results = ty.results();
        let all_i32 = params.iter().all(|t| *t == I32);
        let simple_result = results.is_empty() || results == [I32];
        if all_i32 && simple_result {
            match params.len() {
                0 => return wrap_i32s!(&mut *store, f, results, []),
                1 => return wrap_i32s!(&mut *store, f, results, [a]),
                2 => return wrap_i32s!(&mut *store, f, results, [a, b]),
                3 => return wrap_i32s!(&mut *store, f, results, [a, b, c]),
                4 => return wrap_i32s!(&mut *store, f, results, [a, b, c, d]),
                _ => {}
            }
        }
    }
    wasmi::Func::new(store, ty, move |mut caller, args, results| {
        f(&mut caller, args, results)
    })
}

/// A guest's core function called with a static signature when it has one
/// of the common shapes (up to four `i32` params, no result or one `i32`),
/// which skips wasmi's dynamic type checks and result preparation on every
/// call.
#[cfg(feature = "static-core-calls")]
#[derive(Clone, Copy)]
pub(crate) enum FastCall {
    /// Another shape: called dynamically.
    None,
    P0(wasmi::TypedFunc<(), ()>),
    P0R(wasmi::TypedFunc<(), i32>),
    P1(wasmi::TypedFunc<i32, ()>),
    P1R(wasmi::TypedFunc<i32, i32>),
    P2(wasmi::TypedFunc<(i32, i32), ()>),
    P2R(wasmi::TypedFunc<(i32, i32), i32>),
    P3(wasmi::TypedFunc<(i32, i32, i32), ()>),
    P3R(wasmi::TypedFunc<(i32, i32, i32), i32>),
    P4(wasmi::TypedFunc<(i32, i32, i32, i32), ()>),
    P4R(wasmi::TypedFunc<(i32, i32, i32, i32), i32>),
}

#[cfg(feature = "static-core-calls")]
impl FastCall {
    /// The static form of `f`, if its type has one of the common shapes.
    pub(crate) fn new(store: impl wasmi::AsContext, f: &wasmi::Func) -> FastCall {
        use wasmi::ValType::I32;
        let ty = f.ty(&store);
        if !ty.params().iter().all(|t| *t == I32) {
            return FastCall::None;
        }
        let r = match ty.results() {
            [] => false,
            [I32] => true,
            _ => return FastCall::None,
        };
        let s = &store;
        let made = match (ty.params().len(), r) {
            (0, false) => f.typed(s).map(FastCall::P0),
            (0, true) => f.typed(s).map(FastCall::P0R),
            (1, false) => f.typed(s).map(FastCall::P1),
            (1, true) => f.typed(s).map(FastCall::P1R),
            (2, false) => f.typed(s).map(FastCall::P2),
            (2, true) => f.typed(s).map(FastCall::P2R),
            (3, false) => f.typed(s).map(FastCall::P3),
            (3, true) => f.typed(s).map(FastCall::P3R),
            (4, false) => f.typed(s).map(FastCall::P4),
            (4, true) => f.typed(s).map(FastCall::P4R),
            _ => return FastCall::None,
        };
        made.unwrap_or(FastCall::None)
    }

    /// Calls the function with `args`, writing `outs`; `None` if it has no
    /// static form or the arguments do not fit it (the caller then calls
    /// it dynamically).
    pub(crate) fn call(
        &self,
        ctx: impl wasmi::AsContextMut,
        args: &[wasmi::Val],
        outs: &mut [wasmi::Val],
    ) -> Option<Result<(), wasmi::Error>> {
        use wasmi::Val::I32;
        let unit = |r: Result<(), wasmi::Error>| Some(r);
        let one = |r: Result<i32, wasmi::Error>, outs: &mut [wasmi::Val]| match (r, outs) {
            (Ok(x), [slot]) => {
                *slot = I32(x);
                Some(Ok(()))
            }
            (Err(e), _) => Some(Err(e)),
            // The call ran: never run it again dynamically.
            (Ok(_), _) => Some(Err(wasmi::Error::new(
                "internal: result slots do not match the core signature",
            ))),
        };
        match (self, args) {
            (FastCall::P0(f), []) if outs.is_empty() => unit(f.call(ctx, ())),
            (FastCall::P0R(f), []) => one(f.call(ctx, ()), outs),
            (FastCall::P1(f), [I32(a)]) if outs.is_empty() => unit(f.call(ctx, *a)),
            (FastCall::P1R(f), [I32(a)]) => one(f.call(ctx, *a), outs),
            (FastCall::P2(f), [I32(a), I32(b)]) if outs.is_empty() => unit(f.call(ctx, (*a, *b))),
            (FastCall::P2R(f), [I32(a), I32(b)]) => one(f.call(ctx, (*a, *b)), outs),
            (FastCall::P3(f), [I32(a), I32(b), I32(c)]) if outs.is_empty() => {
                unit(f.call(ctx, (*a, *b, *c)))
            }
            (FastCall::P3R(f), [I32(a), I32(b), I32(c)]) => one(f.call(ctx, (*a, *b, *c)), outs),
            (FastCall::P4(f), [I32(a), I32(b), I32(c), I32(d)]) if outs.is_empty() => {
                unit(f.call(ctx, (*a, *b, *c, *d)))
            }
            (FastCall::P4R(f), [I32(a), I32(b), I32(c), I32(d)]) => {
                one(f.call(ctx, (*a, *b, *c, *d)), outs)
            }
            _ => None,
        }
    }
}

/// Without `static-core-calls`, every guest function is called dynamically.
#[cfg(not(feature = "static-core-calls"))]
#[derive(Clone, Copy)]
pub(crate) enum FastCall {
    /// Called dynamically.
    None,
}

#[cfg(not(feature = "static-core-calls"))]
impl FastCall {
    /// Always [`FastCall::None`].
    pub(crate) fn new(_: impl wasmi::AsContext, _: &wasmi::Func) -> FastCall {
        FastCall::None
    }

    /// Always `None`: the caller calls the function dynamically.
    pub(crate) fn call(
        &self,
        _: impl wasmi::AsContextMut,
        _: &[wasmi::Val],
        _: &mut [wasmi::Val],
    ) -> Option<Result<(), wasmi::Error>> {
        None
    }
}
