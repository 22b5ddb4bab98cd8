//! `TypedFunc<P, R>`: an export called with Rust values, type-checked
//! once. A call lowers `P` straight into flat core values (or guest memory),
//! calls the core function through a statically typed wasmi call where the
//! core signature allows it, and lifts `R` straight out.

use alloc::format;
use alloc::sync::Arc;
use core::any::type_name;
use core::marker::PhantomData;
use smallvec::SmallVec;

use super::core::CoreList;
#[cfg(feature = "static-core-calls")]
use super::core::RetCall;
use super::handles::{positions, Positions};
use super::traits::{
    ComponentNamedList, ComponentType, Lift, LiftContext, Lower, LowerContext, ParamsRef, TypeRef,
};
use crate::abi::{MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use crate::boundary::{charge_fuel, enter_set, leave_set, self_and_ancestors, EnterSet};
use crate::error::{from_wasmi, Error, Result, TrapKind};
use crate::func::{from_raw, post_return, to_raw, Func, FuncKind, LiftedFunc, WasmiMem};
use crate::store::{AsContextMut, StoreData};

/// An exported function with its parameter tuple `P` and result `R`
/// checked against its component type, from [`Func::typed`].
///
/// `P` is a tuple of the parameters (`()` for none, `(u32,)` for one);
/// `R` is the result (`()` for none). Calls lower and lift Rust values
/// directly, without [`Val`](crate::Val); a warm call whose parameters and
/// result are all scalars does not allocate.
pub struct TypedFunc<P: ComponentNamedList, R> {
    func: Func,
    lifted: Arc<LiftedFunc>,
    core: CoreCall,
    /// The core result type, for post-return.
    result: Option<wasmi::ValType>,
    /// The instances a call from the host enters: the callee and its
    /// ancestors (fixed at instantiation, so computed once).
    entering: EnterSet,
    /// The handle positions of the params and of the result.
    resources: Arc<Positions>,
    /// Whether a param is a `borrow` (the call then opens a task for them).
    borrows: bool,
    /// Covariant in `P` and `R` (a `TypedFunc<(&'long Rec,), _>` is one
    /// of `(&'short Rec,)` too), and `Send`/`Sync` whatever they are.
    ty: PhantomData<fn() -> (P, R)>,
}

impl<P: ComponentNamedList, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        TypedFunc {
            func: self.func.clone(),
            lifted: self.lifted.clone(),
            core: self.core.clone(),
            result: self.result,
            entering: self.entering.clone(),
            resources: self.resources.clone(),
            borrows: self.borrows,
            ty: PhantomData,
        }
    }
}

/// How the core function is called: statically typed for the scalar
/// signature of `P` or a pointer-only signature, else dynamically (always
/// dynamically without the `static-core-calls` feature).
///
/// `Static` holds a `RetCall<P::CoreParams>`, type-erased: a field whose
/// type projects from `P` would make `TypedFunc` invariant in `P`, so a
/// `TypedFunc<(&Rec,), _>` could not be called with a shorter borrow. The
/// call downcasts it (one type-id comparison).
#[derive(Clone)]
enum CoreCall {
    #[cfg(feature = "static-core-calls")]
    Static(Arc<dyn core::any::Any + Send + Sync>),
    #[cfg(feature = "static-core-calls")]
    I32x1(RetCall<(i32,)>),
    #[cfg(feature = "static-core-calls")]
    I32x2(RetCall<(i32, i32)>),
    #[cfg(feature = "static-core-calls")]
    I32x3(RetCall<(i32, i32, i32)>),
    #[cfg(feature = "static-core-calls")]
    I32x4(RetCall<(i32, i32, i32, i32)>),
    Dynamic {
        func: wasmi::Func,
        params: Arc<[wasmi::ValType]>,
        results: Option<wasmi::ValType>,
    },
}

impl CoreCall {
    #[cfg(not(feature = "static-core-calls"))]
    #[allow(clippy::extra_unused_type_parameters)]
    fn new<CL: CoreList>(
        func: wasmi::Func,
        _ctx: impl wasmi::AsContext,
        params: &[wasmi::ValType],
        results: &[wasmi::ValType],
    ) -> Self {
        CoreCall::Dynamic {
            func,
            params: params.into(),
            results: results.first().copied(),
        }
    }

    #[cfg(feature = "static-core-calls")]
    fn new<CL: CoreList>(
        func: wasmi::Func,
        ctx: impl wasmi::AsContext,
        params: &[wasmi::ValType],
        results: &[wasmi::ValType],
    ) -> Self {
        let ctx = ctx.as_context();
        let all_i32 = params.iter().all(|t| *t == wasmi::ValType::I32);
        let fast = if CL::matches(params) {
            RetCall::<CL>::new(func, ctx, results)
                .map(|c| CoreCall::Static(Arc::new(c) as Arc<dyn core::any::Any + Send + Sync>))
        } else if all_i32 {
            match params.len() {
                1 => RetCall::new(func, ctx, results).map(CoreCall::I32x1),
                2 => RetCall::new(func, ctx, results).map(CoreCall::I32x2),
                3 => RetCall::new(func, ctx, results).map(CoreCall::I32x3),
                4 => RetCall::new(func, ctx, results).map(CoreCall::I32x4),
                _ => None,
            }
        } else {
            None
        };
        fast.unwrap_or_else(|| CoreCall::Dynamic {
            func,
            params: params.into(),
            results: results.first().copied(),
        })
    }

    /// Calls with the args whose bits are `args`; returns the result's bits.
    /// `CL` is the `CoreParams` of the `P` this was made for.
    #[inline]
    #[cfg_attr(
        not(feature = "static-core-calls"),
        allow(clippy::extra_unused_type_parameters)
    )]
    fn call<CL: CoreList>(&self, mut ctx: impl wasmi::AsContextMut, args: &[u64]) -> Result<u64> {
        let r = match self {
            #[cfg(feature = "static-core-calls")]
            CoreCall::Static(f) => match f.downcast_ref::<RetCall<CL>>() {
                Some(f) => f.call(ctx, args),
                None => return Err(Error::usage("internal: a typed call of another signature")),
            },
            #[cfg(feature = "static-core-calls")]
            CoreCall::I32x1(f) => f.call(ctx, args),
            #[cfg(feature = "static-core-calls")]
            CoreCall::I32x2(f) => f.call(ctx, args),
            #[cfg(feature = "static-core-calls")]
            CoreCall::I32x3(f) => f.call(ctx, args),
            #[cfg(feature = "static-core-calls")]
            CoreCall::I32x4(f) => f.call(ctx, args),
            CoreCall::Dynamic {
                func,
                params,
                results,
            } => {
                let args: SmallVec<[wasmi::Val; 16]> = args
                    .iter()
                    .zip(params.iter())
                    .map(|(b, t)| from_raw(*b, *t))
                    .collect();
                let mut outs: SmallVec<[wasmi::Val; 1]> =
                    results.iter().map(|t| from_raw(0, *t)).collect();
                func.call(&mut ctx, &args, &mut outs)
                    .map(|()| outs.first().map(to_raw).unwrap_or(0))
            }
        };
        r.map_err(from_wasmi)
    }
}

impl Func {
    /// This function as a [`TypedFunc`] taking the parameter tuple `P` and
    /// returning `R`, e.g. `func.typed::<(u32, u32), u32>(&mut store)`.
    ///
    /// The types are checked once, here. Fails with a usage error naming
    /// the function's component type and the Rust types when they do not
    /// match, when `store` does not own the function, or when the function
    /// is a host function (typed calls are for exports of instances).
    pub fn typed<P, R>(&self, mut store: impl AsContextMut) -> Result<TypedFunc<P, R>>
    where
        P: ComponentNamedList + Lower,
        R: ComponentType + Lift,
    {
        let cx = store.as_context_mut();
        if cx.inner.data().id != self.store_id {
            return Err(Error::usage(
                "function used with a store that does not own it",
            ));
        }
        let FuncKind::Lifted(l) = &self.kind else {
            return Err(Error::usage(
                "typed() is for functions exported by a component instance, not host functions",
            ));
        };
        let inner = &self.component.inner;
        let arena = &inner.arena;
        let (Some(fty), Some(plan)) = (
            arena.funcs.get(l.ty as usize),
            inner.plans.get(l.ty as usize),
        ) else {
            return Err(Error::usage("unknown function type"));
        };
        let checked = P::typecheck_params(&ParamsRef {
            arena,
            params: &fty.params,
        })
        .and_then(|()| {
            let result = fty.result.map(|t| TypeRef::new(arena, t));
            R::typecheck_payload(result.as_ref()).map_err(|e| super::typecheck::within(e, "result"))
        });
        if let Err(e) = checked {
            return Err(Error::usage(format!(
                "function of type `{}` used as `TypedFunc<{}, {}>`: {}",
                arena.func_to_public(l.ty),
                type_name::<P>(),
                type_name::<R>(),
                e.message()
            )));
        }
        // The layout constants must agree with the plan (they do for every
        // impl of this crate and its derives; this guards hand-written ones).
        let n_params = if P::FLAT <= MAX_FLAT_PARAMS {
            P::FLAT
        } else {
            1
        };
        let n_results = R::FLAT.min(MAX_FLAT_RESULTS);
        if plan.core_params.len() != n_params || plan.core_results.len() != n_results {
            return Err(Error::usage(format!(
                "the layout of `{}` or `{}` disagrees with the function's core signature",
                type_name::<P>(),
                type_name::<R>()
            )));
        }
        let resources = positions::<P, R>(&self.component, l.ty)?;
        let borrows = resources.params.iter().any(|(_, b)| *b);
        let core = CoreCall::new::<P::CoreParams>(
            l.core,
            &cx.inner,
            &plan.core_params,
            &plan.core_results,
        );
        let entering = self_and_ancestors(cx.inner.data(), l.options.instance);
        Ok(TypedFunc {
            func: self.clone(),
            lifted: l.clone(),
            core,
            result: plan.core_results.first().copied(),
            entering,
            resources: Arc::new(resources),
            borrows,
            ty: PhantomData,
        })
    }
}

impl<P, R> TypedFunc<P, R>
where
    P: ComponentNamedList + Lower,
    R: ComponentType + Lift,
{
    /// Calls the function with `params` and returns its result, after the
    /// callee's post-return has run.
    ///
    /// Fails with a usage error if `store` does not own the function; with
    /// a trap when the callee traps, its `realloc` or `post-return` does,
    /// or it breaks a rule of the canonical ABI (bad pointer, discriminant,
    /// char or string encoding in its result). After a trap the instance
    /// is poisoned: further calls into it trap with
    /// [`TrapKind::Poisoned`](crate::TrapKind::Poisoned).
    pub fn call<T: 'static>(&self, store: impl AsContextMut<Data = T>, params: P) -> Result<R> {
        self.call_as(store, params)
    }

    /// [`TypedFunc::call`] with parameters `Q` that lower as `P` does
    /// (`(&str,)` for `(String,)`, `(&[T],)` for `(Vec<T>,)`, `(&Rec,)` for
    /// `(Rec,)`): what `bindgen!`'s `call_*` methods use, so that callers
    /// lend strings, lists and records instead of giving them up. A `Q` whose
    /// layout differs from `P`'s is a usage error. Not a stable API.
    #[doc(hidden)]
    pub fn call_as<T: 'static, Q>(
        &self,
        mut store: impl AsContextMut<Data = T>,
        params: Q,
    ) -> Result<R>
    where
        Q: ComponentNamedList<CoreParams = P::CoreParams> + Lower,
    {
        if Q::FLAT != P::FLAT
            || Q::SIZE32 != P::SIZE32
            || Q::ALIGN32 != P::ALIGN32
            || Q::RESOURCES != P::RESOURCES
        {
            return Err(Error::usage(format!(
                "`{}` does not lower as `{}`",
                type_name::<Q>(),
                type_name::<P>()
            )));
        }
        let mut cx = store.as_context_mut();
        if cx.inner.data().id != self.func.store_id {
            return Err(Error::usage(
                "function used with a store that does not own it",
            ));
        }
        let ctx = &mut cx.inner;
        #[cfg(feature = "async")]
        if self.lifted.is_task {
            return super::task_call::call(ctx, &self.func.component, &self.lifted, params);
        }
        enter_set(ctx.data_mut(), &self.entering)?;
        let r = self.call_entered(ctx, params);
        leave_set(ctx.data_mut(), &self.entering, &r)?;
        r.map_err(|e| ctx.data_mut().limiter.0.explain(e))
    }

    /// The call between `enter` and `leave`.
    #[inline]
    fn call_entered<T: 'static, Q: Lower>(
        &self,
        ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
        params: Q,
    ) -> Result<R> {
        let l = &*self.lifted;
        let o = &l.options;
        let mut flat = [0u64; MAX_FLAT_PARAMS];
        // Borrows lowered into the callee count in its task.
        let task = if self.borrows {
            Some(ctx.data_mut().tasks.add(0)?)
        } else {
            None
        };
        let lowered = {
            let mut mem = WasmiMem::new(&mut *ctx, o);
            mem.task = task;
            let mut lcx =
                LowerContext::new(&mut mem, o.encoding).with_resources(&self.resources.params);
            let r = if P::FLAT <= MAX_FLAT_PARAMS {
                params
                    .lower_flat(&mut lcx, &mut flat[..P::FLAT])
                    .map(|()| P::FLAT)
            } else {
                lcx.allocate(P::ALIGN32, P::SIZE32).and_then(|ptr| {
                    params.store(&mut lcx, ptr)?;
                    flat[0] = u64::from(ptr);
                    Ok(1)
                })
            };
            if r.is_err() {
                // A stale handle, a failed `realloc`: nothing stays moved.
                let moved = core::mem::take(&mut mem.moved);
                moved.undo(ctx.data_mut());
            }
            r
        };
        let ret = lowered.and_then(|n| self.core.call::<P::CoreParams>(&mut *ctx, &flat[..n]));
        if let Some(task) = task {
            let borrows = ctx.data_mut().tasks.remove(task).unwrap_or(0);
            if ret.is_ok() && borrows > 0 {
                return Err(Error::trap(
                    TrapKind::BorrowsOutstanding,
                    "the callee returned without dropping the borrowed handles it was given",
                ));
            }
        }
        let ret = ret?;
        let (result, fuel, lent) = {
            let max_bytes = ctx.data().limits.max_lift_bytes;
            let (fuel_left, budget) = lift_bounds(ctx, 0);
            let (memory, data): (&[u8], &mut StoreData<T>) = match o.memory {
                Some(m) if R::FLAT > 0 => {
                    let (memory, data) = m.data_and_store_mut(&mut *ctx);
                    (memory, data)
                }
                _ => (&[], ctx.data_mut()),
            };
            let mut lcx = LiftContext::new(memory, o.encoding, max_bytes)
                .with_budget(fuel_left, budget)
                .with_handles(data, o.instance, &self.resources.result);
            let r = if R::FLAT <= MAX_FLAT_RESULTS {
                R::lift_flat(&mut lcx, &[ret][..R::FLAT])
            } else {
                lcx.slice(ret as u32, u64::from(R::SIZE32), R::ALIGN32)
                    .and_then(|bytes| R::load(&mut lcx, bytes))
            };
            (r, lcx.fuel, core::mem::take(&mut lcx.lent))
        };
        lent.release(ctx.data_mut());
        let result = result?;
        charge_fuel(ctx, fuel)?;
        if o.post_return.is_some() {
            let outs: SmallVec<[wasmi::Val; 1]> =
                self.result.iter().map(|t| from_raw(ret, *t)).collect();
            post_return(ctx, l, &outs)?;
        }
        Ok(result)
    }

    /// The dynamic [`Func`] this was made from.
    pub fn func(&self) -> &Func {
        &self.func
    }
}

/// What a typed lift may use: the fuel left after `reserved` more (all of
/// it if fuel is not metered), and the host-memory budget of a call.
#[inline]
pub(crate) fn lift_bounds<T>(
    ctx: &impl wasmi::AsContext<Data = StoreData<T>>,
    reserved: u64,
) -> (u64, crate::abi::budget::HostBudget) {
    let cx = ctx.as_context();
    let data = cx.data();
    let fuel = if data.consume_fuel {
        cx.get_fuel().unwrap_or(0).saturating_sub(reserved)
    } else {
        u64::MAX
    };
    (fuel, data.lift_budget())
}
