//! `Store<T>`: the wasmi store plus per-instance component state.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use hashbrown::HashMap;

use crate::resources::{Handle, HostHandle, ResourceTypeInfo, Slab};

use crate::engine::Engine;
use crate::error::{from_wasmi, Error, Result};
use crate::limits::StoreLimits;

/// Per component instance state, as the canonical ABI defines it.
#[derive(Default)]
pub(crate) struct InstanceFlags {
    /// False while the instance runs `realloc` or `post-return`: it may not
    /// call imports then.
    pub may_leave: bool,
    /// False while a call into the instance is in progress: no reentrance.
    pub may_enter: bool,
    /// Set when the instance trapped; later calls trap.
    pub poisoned: bool,
    /// The instance that instantiated this one, if not the host.
    pub parent: Option<u32>,
    /// The resource handles this instance holds.
    pub handles: Slab<Handle>,
    /// The runtime resource type of each static resource id this instance
    /// binds itself.
    pub resources: ResourceMap,
    /// The instance whose bindings this one sees for the static ids it does
    /// not bind (its definer, for outer aliases); always an earlier one.
    pub definer: Option<u32>,
}

/// The runtime resource types an instance binds, for the static ids
/// `base..base + slots.len()` (`u32::MAX` where unbound): an instance binds
/// a few nearby ids, so this stays small whatever the binary's total.
#[derive(Default)]
pub(crate) struct ResourceMap {
    base: u32,
    slots: Vec<u32>,
}

impl ResourceMap {
    /// The runtime type bound to static id `r` here.
    #[inline]
    fn get(&self, r: u32) -> Option<u32> {
        let k = r.checked_sub(self.base)?;
        self.slots
            .get(k as usize)
            .copied()
            .filter(|rt| *rt != u32::MAX)
    }

    /// Binds static id `r` to runtime type `rt`.
    pub(crate) fn bind(&mut self, r: u32, rt: u32) -> Result<()> {
        let oom = || {
            Error::trap(
                crate::error::TrapKind::LimitExceeded,
                "the host could not grow a resource map",
            )
        };
        if self.slots.is_empty() {
            self.base = r;
        } else if r < self.base {
            let more = (self.base - r) as usize;
            self.slots.try_reserve(more).map_err(|_| oom())?;
            self.slots
                .splice(0..0, core::iter::repeat_n(u32::MAX, more));
            self.base = r;
        }
        let k = (r - self.base) as usize;
        if k >= self.slots.len() {
            self.slots
                .try_reserve(k + 1 - self.slots.len())
                .map_err(|_| oom())?;
            self.slots.resize(k + 1, u32::MAX);
        }
        if let Some(slot) = self.slots.get_mut(k) {
            *slot = rt;
        }
        Ok(())
    }
}

/// A host resource destructor.
pub(crate) type HostDtor<T> = dyn Fn(StoreContextMut<'_, T>, u32) -> Result<()> + Send + Sync;

/// What the wasmi store holds: the user's data and the component state.
pub(crate) struct StoreData<T> {
    pub data: T,
    pub id: usize,
    /// The engine the store was made for.
    pub engine: crate::Engine,
    pub instances: Vec<InstanceFlags>,
    pub resource_types: Vec<ResourceTypeInfo>,
    /// Runtime resource type of each host resource type used in this store.
    pub host_types: HashMap<crate::ResourceType, u32>,
    pub host_dtors: Vec<Arc<HostDtor<T>>>,
    /// Handles the host holds ([`crate::ResourceAny`]).
    pub host_handles: Slab<HostHandle>,
    pub next_generation: u32,
    /// The borrow count of each call in progress (the spec's `Task.num_borrows`),
    /// by task id (a slab: suspended resumable calls keep theirs).
    pub tasks: Slab<u32>,
    /// The engine's limits, and whether fuel is metered.
    pub limits: crate::engine::Limits,
    pub consume_fuel: bool,
    /// Memory, table and store-budget limits, enforced by wasmi (and by
    /// the handle tables).
    pub limiter: crate::limits::Limiter,
    /// A string buffer reused by component-to-component calls.
    pub string_scratch: alloc::string::String,
    /// How many component calls are nested on the native stack now.
    pub depth: u32,
    /// Tasks, thread storage, backpressure and waitable sets; made by the
    /// first instance with an async built-in (feature `async`).
    #[cfg(feature = "async")]
    pub async_state: Option<alloc::boxed::Box<crate::concurrent::state::AsyncState>>,
}

impl<T> StoreData<T> {
    /// The flags of instance `i` (an index handed out by this store).
    pub(crate) fn flags(&mut self, i: u32) -> Result<&mut InstanceFlags> {
        self.instances
            .get_mut(i as usize)
            .ok_or_else(|| Error::usage("instance does not belong to this store"))
    }
}

impl<T> StoreData<T> {
    /// Traps with `CannotLeave` and `message` unless instance `inst` may
    /// leave: it may not while its `realloc` or `post-return` runs
    /// (CanonicalABI.md, `may_leave`), so imports, built-ins and adapters
    /// called from there trap.
    #[inline]
    pub(crate) fn check_may_leave(&mut self, inst: u32, message: &'static str) -> Result<()> {
        if self.flags(inst)?.may_leave {
            Ok(())
        } else {
            Err(cannot_leave(message))
        }
    }

    /// Counts one more nested call on the native stack: traps with
    /// `StackOverflow` at the `max_call_depth` limit. Each successful call
    /// must be matched by [`StoreData::leave_depth`].
    #[inline]
    pub(crate) fn enter_depth(&mut self) -> Result<()> {
        if self.depth >= self.limits.max_call_depth {
            return Err(depth_exceeded(self.limits.max_call_depth));
        }
        self.depth += 1;
        Ok(())
    }

    /// The runtime resource type of static resource `r` in instance `inst`:
    /// bound there, or in its definer's chain.
    #[inline]
    pub(crate) fn resource(&self, inst: u32, r: u32) -> Result<u32> {
        let mut i = inst;
        while let Some(f) = self.instances.get(i as usize) {
            if let Some(rt) = f.resources.get(r) {
                return Ok(rt);
            }
            match f.definer {
                // Definers are created first: the walk ends.
                Some(d) if d < i => i = d,
                _ => break,
            }
        }
        Err(Error::trap(
            crate::error::TrapKind::Other,
            "internal: resource type not bound in this instance",
        ))
    }

    /// The host-memory budget of the values lifted for one call: the
    /// per-call limit, or what is left of the store budget if less.
    pub(crate) fn lift_budget(&self) -> crate::abi::budget::HostBudget {
        crate::abi::budget::HostBudget::new(
            self.limits
                .max_lifted_bytes_per_call
                .min(self.limiter.0.store_bytes_left()),
        )
    }

    /// Instance `inst`'s flags and the store's limits, to grow its handle table.
    pub(crate) fn flags_and_limits(
        &mut self,
        inst: u32,
    ) -> Result<(&mut InstanceFlags, &mut StoreLimits)> {
        let flags = self
            .instances
            .get_mut(inst as usize)
            .ok_or_else(|| Error::usage("instance does not belong to this store"))?;
        Ok((flags, &mut self.limiter.0))
    }

    /// Ends a nested call counted by [`StoreData::enter_depth`].
    #[inline]
    pub(crate) fn leave_depth(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

#[cold]
fn cannot_leave(message: &'static str) -> Error {
    Error::trap(crate::error::TrapKind::CannotLeave, message)
}

#[cold]
fn depth_exceeded(limit: u32) -> Error {
    Error::trap(
        crate::error::TrapKind::StackOverflow,
        alloc::format!(
            "more than {limit} nested component calls (the max_call_depth limit): \
             guest recursion through lowered exports, destructors or host calls"
        ),
    )
}

static NEXT_STORE_ID: AtomicUsize = AtomicUsize::new(1);

/// A store: owns all instances, their memories and the host's data `T`.
/// Items (instances, functions) may only be used with the store that
/// created them; using them with another store is an error, not a panic.
pub struct Store<T> {
    pub(crate) inner: wasmi::Store<StoreData<T>>,
}

impl<T> Store<T> {
    /// Creates a store for `engine` holding `data`.
    pub fn new(engine: &Engine, data: T) -> Self {
        let id = NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed);
        let config = &engine.config;
        let mut inner = wasmi::Store::new(
            &engine.inner,
            StoreData {
                data,
                id,
                engine: engine.clone(),
                instances: Vec::new(),
                resource_types: Vec::new(),
                host_types: HashMap::new(),
                host_dtors: Vec::new(),
                host_handles: Slab::default(),
                next_generation: 0,
                tasks: Slab::default(),
                limits: config.limits,
                consume_fuel: config.consume_fuel,
                limiter: crate::limits::Limiter(StoreLimits::from_config(&config.limits)),
                string_scratch: alloc::string::String::new(),
                depth: 0,
                #[cfg(feature = "async")]
                async_state: None,
            },
        );
        inner.limiter(|d| &mut d.limiter);
        Store { inner }
    }

    /// The engine this store was created for.
    pub fn engine(&self) -> &Engine {
        &self.inner.data().engine
    }

    /// The host data.
    pub fn data(&self) -> &T {
        &self.inner.data().data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data_mut().data
    }

    /// Consumes the store, returning the host data.
    pub fn into_data(self) -> T {
        self.inner.into_data().data
    }

    /// Replaces the store's limits (wasmtime's `Store::limiter`, taking the
    /// limits themselves rather than a closure to them). What the store
    /// already holds keeps counting against the new store budget; limits
    /// apply to growth from now on (a memory already over a new size limit
    /// stays, but cannot grow).
    pub fn limiter(&mut self, limits: StoreLimits) {
        let l = &mut self.inner.data_mut().limiter.0;
        let used = l.store_bytes_used();
        *l = limits;
        l.set_used(used);
    }

    /// The store's limits, and the bytes counted against its budget
    /// ([`StoreLimits::store_bytes_used`]).
    pub fn limits(&self) -> &StoreLimits {
        &self.inner.data().limiter.0
    }

    /// Sets the remaining fuel. Fails with a usage error if the engine
    /// does not meter fuel ([`Config::consume_fuel`](crate::Config::consume_fuel)).
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.check_fuel()?;
        self.inner.set_fuel(fuel).map_err(from_wasmi)
    }

    /// The remaining fuel. Fails with a usage error if the engine does not
    /// meter fuel.
    pub fn get_fuel(&self) -> Result<u64> {
        self.check_fuel()?;
        self.inner.get_fuel().map_err(from_wasmi)
    }

    /// Runs the store's tasks that can make progress — ready threads, and
    /// host futures (polled with `waker`) — until none can (feature
    /// `async`): `Ready` when no task waits for a host future, `Pending`
    /// when some do (`waker` is woken when one can progress). Calls from
    /// the host run the tasks they need; this runs the rest, such as a
    /// task that keeps working after it returned its value or one whose
    /// call the host dropped. A `no_std` host calls it from its main loop
    /// with [`Waker::noop`](core::task::Waker::noop).
    ///
    /// Fails with the first trap of a task it runs (the task's instances
    /// are then poisoned).
    #[cfg(feature = "async")]
    pub fn run_until_idle(&mut self, waker: &core::task::Waker) -> core::task::Poll<Result<()>>
    where
        T: 'static,
    {
        let mut ctx = wasmi::AsContextMut::as_context_mut(&mut self.inner);
        crate::concurrent::host::run_until_idle(&mut ctx, waker)
    }

    fn check_fuel(&self) -> Result<()> {
        if self.inner.data().consume_fuel {
            Ok(())
        } else {
            Err(Error::usage(
                "fuel is not metered: enable Config::consume_fuel for the engine",
            ))
        }
    }
}

/// A mutable view of a store, as host functions receive it.
pub struct StoreContextMut<'a, T> {
    pub(crate) inner: wasmi::StoreContextMut<'a, StoreData<T>>,
}

impl<T> StoreContextMut<'_, T> {
    /// The host data.
    pub fn data(&self) -> &T {
        &self.inner.data().data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data_mut().data
    }
}

/// Types that give mutable access to a store: [`Store`], `&mut Store`,
/// and [`StoreContextMut`].
pub trait AsContextMut {
    /// The host data type of the store.
    type Data;
    /// A mutable view of the store.
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<T> AsContextMut for Store<T> {
    type Data = T;
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut {
            inner: wasmi::AsContextMut::as_context_mut(&mut self.inner),
        }
    }
}

impl<T> AsContextMut for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut {
            inner: wasmi::AsContextMut::as_context_mut(&mut self.inner),
        }
    }
}

impl<S: AsContextMut + ?Sized> AsContextMut for &mut S {
    type Data = S::Data;
    fn as_context_mut(&mut self) -> StoreContextMut<'_, S::Data> {
        (**self).as_context_mut()
    }
}
