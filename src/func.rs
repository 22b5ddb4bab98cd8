//! `Func`: a component function (lifted export or host import), the export
//! call path, and the trampolines that run host imports for guests.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use smallvec::SmallVec;

use crate::abi::lift::LiftCx;
use crate::abi::lower::{Flat, LowerCx};
use crate::abi::{GuestMemory, StringEncoding, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use crate::component::Component;
use crate::error::{from_wasmi, Error, ErrorKind, Result, TrapKind};
use crate::linker::HostFn;
use crate::store::{AsContextMut, StoreContextMut, StoreData};
use crate::types::FuncType;
use crate::values::Val;

/// The resolved canonical options of a lift or lower.
#[derive(Clone, Copy)]
pub(crate) struct Options {
    pub memory: Option<wasmi::Memory>,
    pub realloc: Option<wasmi::TypedFunc<(i32, i32, i32, i32), i32>>,
    pub post_return: Option<wasmi::Func>,
    pub encoding: StringEncoding,
    /// The component instance (index of its flags in the store).
    pub instance: u32,
}

/// A core function lifted with `canon lift`.
pub(crate) struct LiftedFunc {
    pub core: wasmi::Func,
    pub ty: u32,
    pub options: Options,
}

/// A host function, type-erased so that [`Func`] needs no type parameter.
struct HostHolder<T>(Arc<HostFn<T>>);

#[derive(Clone)]
pub(crate) enum FuncKind {
    Lifted(Arc<LiftedFunc>),
    Host {
        host: Arc<dyn Any + Send + Sync>,
        ty: u32,
    },
}

/// A component function of an [`Instance`](crate::Instance): call it with
/// dynamic values through [`Func::call`].
#[derive(Clone)]
pub struct Func {
    store_id: usize,
    component: Component,
    pub(crate) kind: FuncKind,
}

pub(crate) fn host_fn<T: 'static>(host: &Arc<dyn Any + Send + Sync>) -> Result<Arc<HostFn<T>>> {
    host.downcast_ref::<HostHolder<T>>()
        .map(|h| h.0.clone())
        .ok_or_else(|| Error::usage("host function of another store data type"))
}

fn to_raw(v: &wasmi::Val) -> u64 {
    match v {
        wasmi::Val::I32(x) => u64::from(*x as u32),
        wasmi::Val::I64(x) => *x as u64,
        wasmi::Val::F32(x) => u64::from(x.to_bits()),
        wasmi::Val::F64(x) => x.to_bits(),
        _ => 0,
    }
}

fn from_raw(bits: u64, ty: wasmi::ValType) -> wasmi::Val {
    match ty {
        wasmi::ValType::I64 => wasmi::Val::I64(bits as i64),
        wasmi::ValType::F32 => wasmi::Val::F32(wasmi::F32::from_bits(bits as u32)),
        wasmi::ValType::F64 => wasmi::Val::F64(wasmi::F64::from_bits(bits)),
        _ => wasmi::Val::I32(bits as u32 as i32),
    }
}

/// Guest memory and realloc over a wasmi store context.
struct WasmiMem<'a, C> {
    ctx: &'a mut C,
    memory: Option<wasmi::Memory>,
    realloc: Option<wasmi::TypedFunc<(i32, i32, i32, i32), i32>>,
    instance: u32,
}

impl<'a, C> WasmiMem<'a, C> {
    fn new(ctx: &'a mut C, o: &Options) -> Self {
        WasmiMem {
            ctx,
            memory: o.memory,
            realloc: o.realloc,
            instance: o.instance,
        }
    }
}

impl<T: 'static, C: wasmi::AsContextMut<Data = StoreData<T>>> GuestMemory for WasmiMem<'_, C> {
    fn bytes(&self) -> &[u8] {
        match self.memory {
            Some(m) => m.data(&*self.ctx),
            None => &[],
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        match self.memory {
            Some(m) => m.data_mut(&mut *self.ctx),
            None => &mut [],
        }
    }

    fn realloc(&mut self, old_ptr: u32, old_size: u32, align: u32, new_size: u32) -> Result<u32> {
        let f = self
            .realloc
            .ok_or_else(|| Error::trap(TrapKind::Other, "no `realloc` canonical option"))?;
        // realloc runs with may_leave cleared: it may not call imports.
        set_may_leave(self.ctx, self.instance, false)?;
        let r = f.call(
            &mut *self.ctx,
            (
                old_ptr as i32,
                old_size as i32,
                align as i32,
                new_size as i32,
            ),
        );
        set_may_leave(self.ctx, self.instance, true)?;
        r.map(|p| p as u32).map_err(from_wasmi)
    }
}

fn set_may_leave<T>(
    ctx: &mut impl wasmi::AsContextMut<Data = StoreData<T>>,
    instance: u32,
    v: bool,
) -> Result<()> {
    ctx.as_context_mut().data_mut().flags(instance)?.may_leave = v;
    Ok(())
}

impl Func {
    pub(crate) fn lifted(store_id: usize, component: &Component, f: LiftedFunc) -> Func {
        Func {
            store_id,
            component: component.clone(),
            kind: FuncKind::Lifted(Arc::new(f)),
        }
    }

    pub(crate) fn host<T: 'static>(
        store_id: usize,
        component: &Component,
        host: Arc<HostFn<T>>,
        ty: u32,
    ) -> Func {
        Func {
            store_id,
            component: component.clone(),
            kind: FuncKind::Host {
                host: Arc::new(HostHolder(host)),
                ty,
            },
        }
    }

    fn ty_index(&self) -> u32 {
        match &self.kind {
            FuncKind::Lifted(l) => l.ty,
            FuncKind::Host { ty, .. } => *ty,
        }
    }

    /// The function's component type.
    pub fn ty(&self) -> FuncType {
        self.component.inner.arena.func_to_public(self.ty_index())
    }

    /// Calls the function with dynamic values. `params` must match the
    /// parameter types and `results` must have one slot per result (0 or 1);
    /// the results are written there. Post-return runs before this returns.
    ///
    /// Fails with a usage error on a wrong argument count or value type, or
    /// a foreign store; with a trap when the callee traps or breaks a rule
    /// of the canonical ABI. After a trap the instance is poisoned: further
    /// calls into it trap with [`TrapKind::Poisoned`].
    pub fn call<T: 'static>(
        &self,
        mut store: impl AsContextMut<Data = T>,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let mut cx = store.as_context_mut();
        if cx.inner.data().id != self.store_id {
            return Err(Error::usage(
                "function used with a store that does not own it",
            ));
        }
        let arena = &self.component.inner.arena;
        let ty = self.ty_index();
        let fty = arena
            .funcs
            .get(ty as usize)
            .ok_or_else(|| Error::usage("unknown function type"))?;
        if params.len() != fty.params.len() {
            return Err(Error::usage(format!(
                "expected {} arguments, got {}",
                fty.params.len(),
                params.len()
            )));
        }
        let n_results = usize::from(fty.result.is_some());
        if results.len() != n_results {
            return Err(Error::usage(format!(
                "expected {n_results} result slots, got {}",
                results.len()
            )));
        }
        match &self.kind {
            FuncKind::Host { host, .. } => {
                let f = host_fn::<T>(host)?;
                f(cx.as_context_mut(), params, results)
            }
            FuncKind::Lifted(l) => call_lifted(&mut cx.inner, &self.component, l, params, results),
        }
    }
}

fn call_lifted<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    component: &Component,
    l: &LiftedFunc,
    params: &[Val],
    results: &mut [Val],
) -> Result<()> {
    let o = &l.options;
    {
        let flags = ctx.data_mut().flags(o.instance)?;
        if flags.poisoned {
            return Err(Error::trap(
                TrapKind::Poisoned,
                "the instance trapped earlier",
            ));
        }
        if !flags.may_enter {
            return Err(Error::trap(
                TrapKind::CannotEnter,
                "the instance is already on the call stack",
            ));
        }
        flags.may_enter = false;
    }
    let r = call_lifted_inner(ctx, component, l, params, results);
    let flags = ctx.data_mut().flags(o.instance)?;
    flags.may_enter = true;
    if let Err(e) = &r {
        if e.is_trap() {
            flags.poisoned = true;
        }
    }
    r
}

fn call_lifted_inner<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    component: &Component,
    l: &LiftedFunc,
    params: &[Val],
    results: &mut [Val],
) -> Result<()> {
    let inner = &component.inner;
    let arena = &inner.arena;
    let plan = inner
        .plans
        .get(l.ty as usize)
        .ok_or_else(|| Error::usage("unknown function type"))?;
    let o = &l.options;
    let mut flat = Flat::new();
    {
        let mut mem = WasmiMem::new(&mut *ctx, o);
        let mut lcx = LowerCx {
            arena,
            mem: &mut mem,
            enc: o.encoding,
        };
        lcx.lower_values(params, &plan.params, MAX_FLAT_PARAMS, None, &mut flat)?;
    }
    let args: SmallVec<[wasmi::Val; 16]> = flat
        .iter()
        .zip(plan.core_params.iter())
        .map(|(b, t)| from_raw(*b, *t))
        .collect();
    let mut outs: SmallVec<[wasmi::Val; 1]> =
        plan.core_results.iter().map(|t| from_raw(0, *t)).collect();
    l.core
        .call(&mut *ctx, &args, &mut outs)
        .map_err(from_wasmi)?;
    if let Some(rt) = plan.result {
        let raw: SmallVec<[u64; 1]> = outs.iter().map(to_raw).collect();
        let mem = WasmiMem::new(&mut *ctx, o);
        let lcx = LiftCx {
            arena,
            mem: &mem,
            enc: o.encoding,
        };
        let mut vals = Vec::with_capacity(1);
        lcx.lift_values(&[rt], &raw, MAX_FLAT_RESULTS, &mut vals)?;
        if let (Some(slot), Some(v)) = (results.first_mut(), vals.pop()) {
            *slot = v;
        }
    }
    if let Some(post) = o.post_return {
        set_may_leave(ctx, o.instance, false)?;
        let r = post.call(&mut *ctx, &outs, &mut []);
        set_may_leave(ctx, o.instance, true)?;
        r.map_err(from_wasmi)?;
    }
    Ok(())
}

/// Creates the core function a guest calls for a lowered host function.
pub(crate) fn lower_host<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    component: &Component,
    ty: u32,
    options: Options,
    host: Arc<HostFn<T>>,
) -> wasmi::Func {
    let plan = &component.inner.plans[ty as usize];
    let fty = wasmi::FuncType::new(
        plan.lower_params.iter().copied(),
        plan.lower_results.iter().copied(),
    );
    let component = component.clone();
    wasmi::Func::new(&mut store.inner, fty, move |mut caller, args, results| {
        host_call(&component, ty, &options, &host, &mut caller, args, results)
            .map_err(wasmi::Error::host)
    })
}

/// Creates a core function that traps: a lowered lift of the instance's own
/// function, callable only by re-entering the instance.
pub(crate) fn lower_reentrant<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    component: &Component,
    ty: u32,
) -> wasmi::Func {
    let plan = &component.inner.plans[ty as usize];
    let fty = wasmi::FuncType::new(
        plan.lower_params.iter().copied(),
        plan.lower_results.iter().copied(),
    );
    wasmi::Func::new(&mut store.inner, fty, move |_caller, _args, _results| {
        Err(wasmi::Error::host(Error::trap(
            TrapKind::CannotEnter,
            "a component instance may not call its own export",
        )))
    })
}

fn host_call<T: 'static>(
    component: &Component,
    ty: u32,
    o: &Options,
    host: &Arc<HostFn<T>>,
    caller: &mut wasmi::Caller<'_, StoreData<T>>,
    args: &[wasmi::Val],
    results: &mut [wasmi::Val],
) -> Result<()> {
    if !caller.data_mut().flags(o.instance)?.may_leave {
        return Err(Error::trap(
            TrapKind::CannotLeave,
            "an import was called while the instance may not leave (from realloc or post-return)",
        ));
    }
    let inner = &component.inner;
    let arena = &inner.arena;
    let plan = inner
        .plans
        .get(ty as usize)
        .ok_or_else(|| Error::usage("unknown function type"))?;
    let raw: Flat = args.iter().map(to_raw).collect();
    let n_param_flat = raw.len() - usize::from(plan.result_spilled);
    let mut vals = Vec::with_capacity(plan.params.len());
    {
        let mem = WasmiMem::new(&mut *caller, o);
        let lcx = LiftCx {
            arena,
            mem: &mem,
            enc: o.encoding,
        };
        lcx.lift_values(
            &plan.params,
            &raw[..n_param_flat],
            MAX_FLAT_PARAMS,
            &mut vals,
        )?;
    }
    let mut outs: SmallVec<[Val; 1]> = SmallVec::new();
    if plan.result.is_some() {
        outs.push(Val::Bool(false));
    }
    host(
        StoreContextMut {
            inner: wasmi::AsContextMut::as_context_mut(caller),
        },
        &vals,
        &mut outs,
    )?;
    if let Some(rt) = plan.result {
        let mut flat = Flat::new();
        let out_param = if plan.result_spilled {
            raw.last().map(|p| *p as u32)
        } else {
            None
        };
        let mut mem = WasmiMem::new(&mut *caller, o);
        let mut lcx = LowerCx {
            arena,
            mem: &mut mem,
            enc: o.encoding,
        };
        lcx.lower_values(&outs, &[rt], MAX_FLAT_RESULTS, out_param, &mut flat)
            .map_err(|e| match e.kind() {
                ErrorKind::Usage => Error::trap(
                    TrapKind::Host,
                    format!("host function returned a bad result: {}", e.message()),
                ),
                _ => e,
            })?;
        for (slot, (bits, t)) in results
            .iter_mut()
            .zip(flat.iter().zip(plan.lower_results.iter()))
        {
            *slot = from_raw(*bits, *t);
        }
    }
    Ok(())
}
