//! The canonical ABI's handle operations over a store: moving handles
//! between component instances' tables and the host, lending borrows, the
//! `resource.new/drop/rep` built-ins and destructor calls.

use alloc::format;
use alloc::sync::Arc;
use core::any::TypeId;

use crate::error::{from_wasmi, Error, Result, TrapKind};
use crate::resources::{
    Handle, HostHandle, Resource, ResourceAny, ResourceKind, ResourceType, ResourceTypeInfo,
};
use crate::store::{HostDtor, StoreContextMut, StoreData};

fn wrong_type() -> Error {
    Error::trap(
        TrapKind::WrongResourceType,
        "handle is of another resource type",
    )
}

impl<T> StoreData<T> {
    /// Gives the host a handle to `(rt, rep)`.
    pub(crate) fn host_add(&mut self, rt: u32, rep: u32, own: bool) -> Result<ResourceAny> {
        self.next_generation = self.next_generation.wrapping_add(1);
        let generation = self.next_generation;
        let limits = &mut self.limiter.0;
        let index = self.host_handles.add_within(
            HostHandle {
                rt,
                rep,
                own,
                generation,
            },
            crate::resources::MAX_HANDLES,
            |bytes| limits.take_bytes(bytes),
        )?;
        Ok(ResourceAny {
            store_id: self.id,
            index,
            generation,
            own,
        })
    }

    /// The host's handle behind `v`, checked against the store and generation.
    pub(crate) fn host_get(&self, v: &ResourceAny) -> Result<HostHandle> {
        let stale = || {
            Error::usage("resource handle was already moved, dropped, or belongs to another store")
        };
        if v.store_id != self.id {
            return Err(stale());
        }
        match self.host_handles.get(v.index) {
            Ok(h) if h.generation == v.generation => Ok(*h),
            _ => Err(stale()),
        }
    }

    /// Takes owned handle `i` (static type `r`) out of `inst`'s table, as
    /// `lift_own` does: returns its runtime type and representation.
    pub(crate) fn take_own(&mut self, inst: u32, r: u32, i: u32) -> Result<(u32, u32)> {
        let h = self.remove_unlent(inst, r, i, "moved")?;
        if !h.own {
            return Err(Error::trap(
                TrapKind::WrongHandleKind,
                "a borrow handle was passed as own",
            ));
        }
        Ok((h.rt, h.rep))
    }

    /// Removes handle `i` from `inst`'s table, checking it is of static type
    /// `r` and not lent out (`what` happens to it, for the message).
    fn remove_unlent(&mut self, inst: u32, r: u32, i: u32, what: &str) -> Result<Handle> {
        let rt = self.resource(inst, r)?;
        let state = self.flags(inst)?;
        let h = state.handles.remove(i)?;
        if h.rt != rt {
            return Err(wrong_type());
        }
        if h.lends != 0 {
            return Err(Error::trap(
                TrapKind::HandleLent,
                alloc::format!("owned handle {what} while lent out"),
            ));
        }
        Ok(h)
    }

    /// Lends handle `i` (static type `r`) of `inst` for a call, as
    /// `lift_borrow` does: returns its runtime type and representation.
    pub(crate) fn lend(&mut self, inst: u32, r: u32, i: u32) -> Result<(u32, u32)> {
        let rt = self.resource(inst, r)?;
        let state = self.flags(inst)?;
        let h = state.handles.get_mut(i)?;
        if h.rt != rt {
            return Err(wrong_type());
        }
        h.lends += 1;
        Ok((rt, h.rep))
    }

    /// Adds an owned handle to `(rt, rep)` to `inst`'s table as static type
    /// `r`, as `lower_own` does.
    pub(crate) fn put_own(&mut self, inst: u32, r: u32, rt: u32, rep: u32) -> Result<u32> {
        let max = self.limits.max_handles;
        if rt != self.resource(inst, r)? {
            return Err(wrong_type());
        }
        let (state, limits) = self.flags_and_limits(inst)?;
        state.handles.add_within(
            Handle {
                rt,
                rep,
                own: true,
                scope: 0,
                lends: 0,
            },
            max,
            |bytes| limits.take_bytes(bytes),
        )
    }

    /// Lends `(rt, rep)` to `inst` as static type `r` for call `task`, as
    /// `lower_borrow` does: the implementer gets the bare representation.
    pub(crate) fn put_borrow(
        &mut self,
        inst: u32,
        task: Option<u32>,
        r: u32,
        rt: u32,
        rep: u32,
    ) -> Result<u32> {
        if rt != self.resource(inst, r)? {
            return Err(wrong_type());
        }
        if self.is_implementer(inst, rt) {
            return Ok(rep);
        }
        let task = task.ok_or_else(|| {
            Error::trap(TrapKind::Other, "internal: borrow lowered outside a call")
        })?;
        if let Ok(n) = self.tasks.get_mut(task) {
            *n += 1;
        }
        let max = self.limits.max_handles;
        let (state, limits) = self.flags_and_limits(inst)?;
        state.handles.add_within(
            Handle {
                rt,
                rep,
                own: false,
                scope: task,
                lends: 0,
            },
            max,
            |bytes| limits.take_bytes(bytes),
        )
    }

    /// `lift_own` to the host.
    pub(crate) fn lift_own(&mut self, inst: u32, r: u32, i: u32) -> Result<ResourceAny> {
        let (rt, rep) = self.take_own(inst, r, i)?;
        self.host_add(rt, rep, true)
    }

    /// `lift_borrow` to the host (the caller records the lender).
    pub(crate) fn lift_borrow(&mut self, inst: u32, r: u32, i: u32) -> Result<ResourceAny> {
        let (rt, rep) = self.lend(inst, r, i)?;
        self.host_add(rt, rep, false)
    }

    /// Ends the lending of handle `i` of `inst` (after the call).
    pub(crate) fn unlend(&mut self, inst: u32, i: u32) {
        if let Ok(state) = self.flags(inst) {
            if let Ok(h) = state.handles.get_mut(i) {
                h.lends = h.lends.saturating_sub(1);
            }
        }
    }

    /// A host value of the wrong resource type is the host's mistake: a
    /// usage error, before anything is moved (and so no trap, no poisoning).
    fn check_host_type(&mut self, inst: u32, r: u32, rt: u32) -> Result<()> {
        if rt != self.resource(inst, r)? {
            return Err(Error::usage(
                "resource handle of another resource type than the parameter's",
            ));
        }
        Ok(())
    }

    /// `lower_own`: moves the host's owned handle `v` into `inst`'s table.
    pub(crate) fn lower_own(&mut self, inst: u32, r: u32, v: &ResourceAny) -> Result<u32> {
        let hh = self.host_get(v)?;
        if !hh.own {
            return Err(Error::usage(
                "a borrowed resource was passed where `own` is expected",
            ));
        }
        self.check_host_type(inst, r, hh.rt)?;
        let i = self.put_own(inst, r, hh.rt, hh.rep)?;
        self.host_handles.remove(v.index)?;
        Ok(i)
    }

    /// `lower_borrow`: lends the host's handle `v` to `inst` for call `task`.
    pub(crate) fn lower_borrow(
        &mut self,
        inst: u32,
        task: Option<u32>,
        r: u32,
        v: &ResourceAny,
    ) -> Result<u32> {
        let hh = self.host_get(v)?;
        self.check_host_type(inst, r, hh.rt)?;
        self.put_borrow(inst, task, r, hh.rt, hh.rep)
    }

    /// Lowers the host resource `rep` of Rust type `id` into `inst` as an
    /// `own` (or, if `borrow`, a `borrow` for call `task`) of static type `r`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn lower_host(
        &mut self,
        inst: u32,
        task: Option<u32>,
        r: u32,
        borrow: bool,
        id: TypeId,
        rep: u32,
        own: bool,
    ) -> Result<u32> {
        let rt = self
            .host_types
            .get(&ResourceType {
                kind: ResourceKind::Host(id),
            })
            .copied()
            .ok_or_else(|| {
                Error::usage("resource handle of another resource type than the parameter's")
            })?;
        self.check_host_type(inst, r, rt)?;
        if borrow {
            self.put_borrow(inst, task, r, rt, rep)
        } else if own {
            self.put_own(inst, r, rt, rep)
        } else {
            Err(Error::usage(
                "a borrowed resource was passed where `own` is expected",
            ))
        }
    }

    /// Whether instance `inst` implements runtime resource type `rt` (a
    /// borrow lowered into it is then its bare representation, no handle).
    pub(crate) fn is_implementer(&self, inst: u32, rt: u32) -> bool {
        self.resource_types
            .get(rt as usize)
            .and_then(|t| t.instance)
            == Some(inst)
    }

    /// Whether runtime resource type `rt` is the host type of Rust type `id`.
    fn is_host_type(&self, rt: u32, id: TypeId) -> bool {
        self.resource_types
            .get(rt as usize)
            .and_then(|t| t.host)
            .is_some_and(|(t, _)| t.kind == ResourceKind::Host(id))
    }

    /// `resource.new`: a new owned handle in `inst`'s table.
    pub(crate) fn resource_new(&mut self, inst: u32, r: u32, rep: u32) -> Result<u32> {
        self.check_may_leave(inst, BUILTIN_MAY_NOT_LEAVE)?;
        let rt = self.resource(inst, r)?;
        self.put_own(inst, r, rt, rep)
    }

    /// `resource.rep`: the representation behind handle `i`.
    pub(crate) fn resource_rep(&mut self, inst: u32, r: u32, i: u32) -> Result<u32> {
        let rt = self.resource(inst, r)?;
        let state = self.flags(inst)?;
        let h = state.handles.get(i)?;
        if h.rt != rt {
            return Err(wrong_type());
        }
        Ok(h.rep)
    }

    /// The first half of `resource.drop`: removes handle `i` from `inst`'s
    /// table. Returns the `(rt, rep)` whose destructor must run, for owned
    /// handles.
    pub(crate) fn resource_drop(
        &mut self,
        inst: u32,
        r: u32,
        i: u32,
    ) -> Result<Option<(u32, u32)>> {
        self.check_may_leave(inst, BUILTIN_MAY_NOT_LEAVE)?;
        let h = self.remove_unlent(inst, r, i, "dropped")?;
        if h.own {
            Ok(Some((h.rt, h.rep)))
        } else {
            if let Ok(n) = self.tasks.get_mut(h.scope) {
                *n = n.saturating_sub(1);
            }
            Ok(None)
        }
    }

    /// The runtime type of resource type `ty` in this store: a host type is
    /// registered on first use (with `dtor`); a guest type must be of this
    /// store.
    pub(crate) fn runtime_resource_type(
        &mut self,
        ty: ResourceType,
        dtor: Option<Arc<HostDtor<T>>>,
    ) -> Result<u32> {
        match ty.kind {
            ResourceKind::Host(_) | ResourceKind::HostDynamic(_) => {
                Ok(self.host_resource_type(ty, dtor))
            }
            ResourceKind::Guest { store, rt } if store == self.id => Ok(rt),
            ResourceKind::Guest { .. } => Err(Error::usage(
                "the resource type was defined by an instance of another store",
            )),
            ResourceKind::Static { .. } => Err(Error::usage(
                "a resource type read from a component's types has no identity at run time: use Instance::get_resource",
            )),
        }
    }

    /// The resource type of runtime type `rt` of this store.
    pub(crate) fn public_resource_type(&self, rt: u32) -> Option<ResourceType> {
        let info = self.resource_types.get(rt as usize)?;
        Some(match info.host {
            Some((ty, _)) => ty,
            None => ResourceType {
                kind: ResourceKind::Guest { store: self.id, rt },
            },
        })
    }

    /// Registers (once per store) the runtime type of a host resource type.
    pub(crate) fn host_resource_type(
        &mut self,
        id: ResourceType,
        dtor: Option<Arc<HostDtor<T>>>,
    ) -> u32 {
        if let Some(&rt) = self.host_types.get(&id) {
            return rt;
        }
        let dtor = dtor.map(|d| {
            self.host_dtors.push(d);
            self.host_dtors.len() as u32 - 1
        });
        let rt = self.resource_types.len() as u32;
        self.resource_types.push(ResourceTypeInfo {
            instance: None,
            dtor: None,
            host: Some((id, dtor)),
        });
        self.host_types.insert(id, rt);
        rt
    }
}

impl<T> crate::typed::LiftHandles for StoreData<T> {
    fn lift_own(&mut self, inst: u32, r: u32, i: u32) -> Result<ResourceAny> {
        StoreData::lift_own(self, inst, r, i)
    }

    fn lift_borrow(&mut self, inst: u32, r: u32, i: u32) -> Result<ResourceAny> {
        StoreData::lift_borrow(self, inst, r, i)
    }

    fn lift_host(&mut self, inst: u32, r: u32, i: u32, borrow: bool, id: TypeId) -> Result<u32> {
        let rt = self.resource(inst, r)?;
        if !self.is_host_type(rt, id) {
            return Err(Error::usage(
                "a handle of another resource type than the `Resource<T>` it is lifted as",
            ));
        }
        if borrow {
            Ok(self.lend(inst, r, i)?.1)
        } else {
            Ok(self.take_own(inst, r, i)?.1)
        }
    }
}

/// The trap message of `resource.new`/`resource.drop` called while the
/// instance may not leave.
const BUILTIN_MAY_NOT_LEAVE: &str =
    "a built-in was called while the instance may not leave (from realloc or post-return)";

/// Runs the destructor of resource `(rt, rep)`, called from instance
/// `caller` (`None` for the host): a guest destructor is a call into the
/// implementing instance with the usual reentrance rules.
pub(crate) fn run_dtor<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    caller: Option<u32>,
    rt: u32,
    rep: u32,
) -> Result<()> {
    let (instance, dtor, host) = match ctx.data().resource_types.get(rt as usize) {
        Some(t) => (t.instance, t.dtor, t.host),
        None => {
            return Err(Error::trap(
                TrapKind::Other,
                format!("internal: unknown resource type {rt}"),
            ))
        }
    };
    if let Some((_, Some(d))) = host {
        let f = ctx.data().host_dtors.get(d as usize).cloned();
        if let Some(f) = f {
            return f(
                StoreContextMut {
                    inner: wasmi::AsContextMut::as_context_mut(ctx),
                },
                rep,
            );
        }
        return Ok(());
    }
    let (Some(instance), Some(dtor)) = (instance, dtor) else {
        return Ok(());
    };
    let set = crate::boundary::enter(ctx, instance, caller)?;
    let r = dtor.call(&mut *ctx, rep as i32).map_err(from_wasmi);
    crate::boundary::leave(ctx, &set, &r)?;
    r
}

/// `ResourceAny::resource_drop`.
pub(crate) fn host_drop<T: 'static>(
    ctx: &mut wasmi::StoreContextMut<'_, StoreData<T>>,
    v: ResourceAny,
) -> Result<()> {
    let hh = ctx.data().host_get(&v)?;
    ctx.data_mut().host_handles.remove(v.index)?;
    if hh.own {
        run_dtor(ctx, None, hh.rt, hh.rep)?;
    }
    Ok(())
}

/// Creates the core function of a `resource.new`, `resource.drop` or
/// `resource.rep` built-in for static resource type `r` of instance `inst`.
pub(crate) fn builtin<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    kind: crate::component::ResourceBuiltin,
    inst: u32,
    r: u32,
) -> wasmi::Func {
    use crate::component::ResourceBuiltin as B;
    // Static signatures: a guest's call reaches these without wasmi's
    // dynamic trampoline (which copies the function type per call).
    match kind {
        B::New => wasmi::Func::wrap(
            &mut store.inner,
            move |mut caller: wasmi::Caller<'_, StoreData<T>>,
                  rep: i32|
                  -> core::result::Result<i32, wasmi::Error> {
                let r = (|| {
                    crate::boundary::charge_fuel(&mut caller, crate::abi::FUEL_PER_HANDLE)?;
                    caller.data_mut().resource_new(inst, r, rep as u32)
                })();
                r.map(|h| h as i32).map_err(wasmi::Error::host)
            },
        ),
        B::Rep => wasmi::Func::wrap(
            &mut store.inner,
            move |mut caller: wasmi::Caller<'_, StoreData<T>>,
                  h: i32|
                  -> core::result::Result<i32, wasmi::Error> {
                caller
                    .data_mut()
                    .resource_rep(inst, r, h as u32)
                    .map(|rep| rep as i32)
                    .map_err(wasmi::Error::host)
            },
        ),
        B::Drop => wasmi::Func::wrap(
            &mut store.inner,
            move |mut caller: wasmi::Caller<'_, StoreData<T>>,
                  h: i32|
                  -> core::result::Result<(), wasmi::Error> {
                let r = (|| -> Result<()> {
                    if let Some((rt, rep)) = caller.data_mut().resource_drop(inst, r, h as u32)? {
                        let mut ctx = wasmi::AsContextMut::as_context_mut(&mut caller);
                        run_dtor(&mut ctx, Some(inst), rt, rep)?;
                    }
                    Ok(())
                })();
                r.map_err(wasmi::Error::host)
            },
        ),
    }
}

impl ResourceAny {
    /// Drops the handle: for an owned handle, runs the resource's destructor
    /// (a guest destructor is a call into the implementing instance). Fails
    /// if the handle was already moved or dropped, or with the destructor's trap.
    pub fn resource_drop<S: crate::AsContextMut>(self, mut store: S) -> Result<()>
    where
        S::Data: 'static,
    {
        let mut cx = store.as_context_mut();
        host_drop(&mut cx.inner, self)
    }

    /// Wraps a host resource `r` of type `U` for dynamic calls. `U` must be a
    /// host resource type ([`ResourceType::host`](crate::ResourceType::host));
    /// it is registered in the store if no linker has defined it yet.
    pub fn try_from_resource<U: 'static, S: crate::AsContextMut>(
        r: Resource<U>,
        mut store: S,
    ) -> Result<Self> {
        let mut cx = store.as_context_mut();
        let data = cx.inner.data_mut();
        let rt = data.host_resource_type(ResourceType::host::<U>(), None);
        data.host_add(rt, r.rep(), r.owned())
    }

    /// The resource type of the resource this handle refers to. Fails if
    /// the handle was already moved or dropped, or belongs to another store.
    pub fn ty<S: crate::AsContextMut>(&self, mut store: S) -> Result<ResourceType> {
        let cx = store.as_context_mut();
        let data = cx.inner.data();
        let hh = data.host_get(self)?;
        data.public_resource_type(hh.rt)
            .ok_or_else(|| Error::usage("resource handle of an unknown resource type"))
    }

    /// A handle to the host resource `rep` of host type `ty`
    /// ([`ResourceType::host`] or [`ResourceType::host_dynamic`]), owned if
    /// `own`, for dynamic calls; the type is registered in the store if no
    /// linker has defined it yet. Fails with a usage error if `ty` is not a
    /// host type, or if the store's host handle table is full.
    pub fn new_host<S: crate::AsContextMut>(
        mut store: S,
        ty: ResourceType,
        rep: u32,
        own: bool,
    ) -> Result<Self> {
        if !ty.is_host() {
            return Err(Error::usage(
                "ResourceAny::new_host needs a host resource type",
            ));
        }
        let mut cx = store.as_context_mut();
        let data = cx.inner.data_mut();
        let rt = data.host_resource_type(ty, None);
        data.host_add(rt, rep, own)
    }

    /// Unwraps a handle to a host resource of any host type: its type and
    /// representation. An owned handle is moved out of the store's host
    /// table (the host now owns the resource: no destructor runs). Fails if
    /// the handle is stale or refers to a resource a component defined.
    pub fn into_host<S: crate::AsContextMut>(self, mut store: S) -> Result<(ResourceType, u32)> {
        let mut cx = store.as_context_mut();
        let data = cx.inner.data_mut();
        let hh = data.host_get(&self)?;
        let ty = match data.public_resource_type(hh.rt) {
            Some(ty) if ty.is_host() => ty,
            _ => return Err(Error::usage("the resource is not of a host resource type")),
        };
        if hh.own {
            data.host_handles.remove(self.index)?;
        }
        Ok((ty, hh.rep))
    }

    /// Unwraps a handle to a host resource of type `U`. An owned handle is
    /// moved out of the store's host table. Fails if the handle is stale or
    /// of another resource type.
    pub fn try_into_resource<U: 'static, S: crate::AsContextMut>(
        self,
        mut store: S,
    ) -> Result<Resource<U>> {
        let mut cx = store.as_context_mut();
        let data = cx.inner.data_mut();
        let hh = data.host_get(&self)?;
        if !data.is_host_type(hh.rt, TypeId::of::<U>()) {
            return Err(Error::usage(
                "the resource is not of the requested host type",
            ));
        }
        if hh.own {
            data.host_handles.remove(self.index)?;
            Ok(Resource::new_own(hh.rep))
        } else {
            Ok(Resource::new_borrow(hh.rep))
        }
    }
}

impl<T> crate::Store<T> {
    /// Resource handle statistics: for each component instance of this
    /// store, the number of handle-table slots ever used (the high-water
    /// mark: freed slots are reused), and the same for the host's table.
    pub fn handle_table_high_water(&self) -> (alloc::vec::Vec<usize>, usize) {
        let data = self.inner.data();
        (
            data.instances
                .iter()
                .map(|i| i.handles.capacity_used())
                .collect(),
            data.host_handles.capacity_used(),
        )
    }
}
