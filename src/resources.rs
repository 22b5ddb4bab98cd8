//! Resources: handle tables as arena slabs, runtime resource types, and the
//! host's handles ([`ResourceAny`], [`Resource`]).

use alloc::format;
use alloc::vec::Vec;
use core::any::TypeId;
use core::fmt;
use core::marker::PhantomData;

use crate::error::{Error, Result, TrapKind};

/// The largest handle index (the spec's `Table.MAX_LENGTH`).
pub(crate) const MAX_HANDLES: u32 = (1 << 28) - 1;

/// The default of `Config::max_handles_per_instance`: 2^20 handles, about
/// 24 MiB of handle table at most.
pub const DEFAULT_MAX_HANDLES_PER_INSTANCE: u32 = 1 << 20;

/// A table of entries indexed from 1, reusing freed slots last-in-first-out
/// (as the spec's `Table`), so a table never grows past its high-water mark.
pub(crate) struct Slab<E> {
    entries: Vec<Option<E>>,
    free: Vec<u32>,
    live: u32,
}

impl<E> Default for Slab<E> {
    fn default() -> Self {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }
}

fn bad_handle(i: u32) -> Error {
    Error::trap(
        TrapKind::InvalidHandle,
        format!("handle {i} is not in the table"),
    )
}

impl<E> Slab<E> {
    /// Adds `e`, returning its index. Traps past [`MAX_HANDLES`].
    pub(crate) fn add(&mut self, e: E) -> Result<u32> {
        self.add_within(e, MAX_HANDLES, |_| Ok(()))
    }

    /// Adds `e` if fewer than `max` entries are live; traps otherwise.
    /// When the table must grow, `charge` is first given the bytes it
    /// grows by (and may refuse them); growth is fallible, a trap when the
    /// host cannot allocate.
    pub(crate) fn add_within(
        &mut self,
        e: E,
        max: u32,
        charge: impl FnOnce(u64) -> Result<()>,
    ) -> Result<u32> {
        if self.live >= max {
            return Err(Error::trap(
                TrapKind::TooManyHandles,
                format!("handle table full: the limit is {max} handles per table"),
            ));
        }
        if let Some(i) = self.free.pop() {
            if let Some(slot) = self.entries.get_mut(i as usize) {
                *slot = Some(e);
                self.live += 1;
                return Ok(i);
            }
        }
        // Index 0 is reserved.
        let i = self.entries.len().max(1) as u32;
        if i > MAX_HANDLES {
            return Err(Error::trap(
                TrapKind::TooManyHandles,
                format!("more than {MAX_HANDLES} handles in one table"),
            ));
        }
        let len = self.entries.len();
        if len + 2 > self.entries.capacity() {
            // Grow by doubling, counting the bytes of the entries and of
            // the free list that may one day hold as many indices.
            let more = (len + 2).max(len.saturating_mul(2)).max(8) - len;
            charge(more as u64 * Self::SLOT_BYTES)?;
            self.entries
                .try_reserve_exact(more)
                .and_then(|()| self.free.try_reserve_exact(more))
                .map_err(|_| {
                    Error::trap(
                        TrapKind::LimitExceeded,
                        format!(
                            "the host could not grow a handle table to {} slots",
                            len + more
                        ),
                    )
                })?;
        }
        if self.entries.is_empty() {
            self.entries.push(None);
        }
        self.entries.push(Some(e));
        self.live += 1;
        Ok(i)
    }

    /// The host bytes one slot of the table takes (entry and free index).
    const SLOT_BYTES: u64 = (core::mem::size_of::<Option<E>>() + 4) as u64;

    /// The entry at `i`; traps if there is none.
    pub(crate) fn get(&self, i: u32) -> Result<&E> {
        self.entries
            .get(i as usize)
            .and_then(Option::as_ref)
            .ok_or_else(|| bad_handle(i))
    }

    /// The entry at `i`, mutably; traps if there is none.
    pub(crate) fn get_mut(&mut self, i: u32) -> Result<&mut E> {
        self.entries
            .get_mut(i as usize)
            .and_then(Option::as_mut)
            .ok_or_else(|| bad_handle(i))
    }

    /// Removes and returns the entry at `i`; traps if there is none.
    pub(crate) fn remove(&mut self, i: u32) -> Result<E> {
        let e = self
            .entries
            .get_mut(i as usize)
            .and_then(Option::take)
            .ok_or_else(|| bad_handle(i))?;
        self.free.push(i);
        self.live -= 1;
        Ok(e)
    }

    /// Puts `e` back at index `i`, where [`Slab::remove`] took it from, if
    /// the slot is still free (the handle then keeps its index).
    pub(crate) fn restore(&mut self, i: u32, e: E) {
        let Some(slot) = self.entries.get_mut(i as usize) else {
            return;
        };
        if slot.is_some() {
            return;
        }
        if let Some(k) = self.free.iter().rposition(|&f| f == i) {
            self.free.remove(k);
            *slot = Some(e);
            self.live += 1;
        }
    }

    /// The number of slots ever used (the high-water mark).
    pub(crate) fn capacity_used(&self) -> usize {
        self.entries.len().saturating_sub(1)
    }
}

/// An element of a component instance's handle table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Handle {
    /// The runtime resource type (index into the store's resource types).
    pub rt: u32,
    pub rep: u32,
    pub own: bool,
    /// For borrow handles: the task (call) that lent it.
    pub scope: u32,
    /// How many borrows of this handle are lent out to calls in progress.
    pub lends: u32,
}

/// A runtime resource type: defined by a component instance, or by the host.
pub(crate) struct ResourceTypeInfo {
    /// The defining component instance; `None` for host resource types.
    pub instance: Option<u32>,
    /// The guest destructor (core function of `instance`), typed once.
    pub dtor: Option<wasmi::TypedFunc<i32, ()>>,
    /// For host types: the type and the index of the host destructor.
    pub host: Option<(ResourceType, Option<u32>)>,
}

/// A handle the host holds, in the store's host table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HostHandle {
    pub rt: u32,
    pub rep: u32,
    pub own: bool,
    pub generation: u32,
}

/// A resource type: what tells resources apart.
///
/// Host resource types are made by the host, before any store exists:
/// [`ResourceType::host`] identifies one by a Rust type (two definitions with
/// the same `T` are the same type), [`ResourceType::host_dynamic`] by a
/// number, for hosts that learn their resource types from data. A resource
/// type a component instance defines is found with
/// [`Instance::get_resource`](crate::Instance::get_resource) (or
/// [`ResourceAny::ty`]); it belongs to that instance's store, and each
/// instantiation defines a new one. Types read from a [`Component`](crate::Component)
/// before instantiation ([`Type::Own`](crate::Type::Own),
/// [`ComponentItem::Resource`](crate::ComponentItem::Resource)) tell the
/// component's resources apart from each other, not from other components'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResourceType {
    pub(crate) kind: ResourceKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ResourceKind {
    /// A host type identified by a Rust type.
    Host(TypeId),
    /// A host type identified by a number.
    HostDynamic(u32),
    /// Runtime type `rt` of store `store`, defined by a component instance.
    Guest { store: usize, rt: u32 },
    /// Static resource `index` of a component's types (`component` is the
    /// address of the component's shared data), before instantiation.
    Static { component: usize, index: u32 },
}

impl ResourceType {
    /// The host resource type identified by the Rust type `T`.
    pub fn host<T: 'static>() -> ResourceType {
        ResourceType {
            kind: ResourceKind::Host(TypeId::of::<T>()),
        }
    }

    /// The host resource type numbered `n`: distinct numbers are distinct
    /// types, and none is the type of any [`ResourceType::host`]. For hosts
    /// that make resource types at run time (plugin hosts, language
    /// bindings); handles of these types cross as [`ResourceAny`].
    pub fn host_dynamic(n: u32) -> ResourceType {
        ResourceType {
            kind: ResourceKind::HostDynamic(n),
        }
    }

    /// True for a type defined by the host ([`ResourceType::host`] or
    /// [`ResourceType::host_dynamic`]).
    pub fn is_host(&self) -> bool {
        matches!(
            self.kind,
            ResourceKind::Host(_) | ResourceKind::HostDynamic(_)
        )
    }
}

/// A typed handle to a host-defined resource of type `T`: a representation
/// (`rep`, chosen by the host, e.g. an index into a
/// [`ResourceTable`]) and whether it is owned or borrowed.
pub struct Resource<T> {
    rep: u32,
    own: bool,
    _ty: PhantomData<fn() -> T>,
}

impl<T> Clone for Resource<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Resource<T> {}

impl<T> fmt::Debug for Resource<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resource")
            .field("rep", &self.rep)
            .field("own", &self.own)
            .finish()
    }
}

impl<T: 'static> Resource<T> {
    /// An owned handle with representation `rep`.
    pub fn new_own(rep: u32) -> Self {
        Resource {
            rep,
            own: true,
            _ty: PhantomData,
        }
    }

    /// A borrowed handle with representation `rep`.
    pub fn new_borrow(rep: u32) -> Self {
        Resource {
            rep,
            own: false,
            _ty: PhantomData,
        }
    }

    /// The host's representation.
    pub fn rep(&self) -> u32 {
        self.rep
    }

    /// True for an owned handle.
    pub fn owned(&self) -> bool {
        self.own
    }
}

/// A handle to a resource of any type (host- or guest-defined) held by the
/// host: what dynamic calls pass and return as [`Val::Resource`](crate::Val::Resource).
///
/// An owned handle is consumed when it is passed to a component as `own`,
/// or dropped with [`ResourceAny::resource_drop`]; using it again is an
/// error. A borrowed handle received by a host function is valid until that
/// host function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceAny {
    pub(crate) store_id: usize,
    pub(crate) index: u32,
    pub(crate) generation: u32,
    pub(crate) own: bool,
}

impl ResourceAny {
    /// True for an owned handle.
    pub fn owned(&self) -> bool {
        self.own
    }
}

/// A table for host objects, indexed by the `rep` of host resources: the
/// usual way to back [`Resource<T>`] handles. Slots are reused
/// last-in-first-out.
pub struct ResourceTable<V> {
    slab: Slab<V>,
}

impl<V> Default for ResourceTable<V> {
    fn default() -> Self {
        ResourceTable {
            slab: Slab::default(),
        }
    }
}

impl<V> ResourceTable<V> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `value`, returning an owned handle to it. Fails past 2^28-1 entries.
    pub fn push<T: 'static>(&mut self, value: V) -> Result<Resource<T>> {
        Ok(Resource::new_own(self.slab.add(value)?))
    }

    /// The value behind `r`; fails if it was deleted.
    pub fn get<T: 'static>(&self, r: &Resource<T>) -> Result<&V> {
        self.slab.get(r.rep)
    }

    /// The value behind `r`, mutably; fails if it was deleted.
    pub fn get_mut<T: 'static>(&mut self, r: &Resource<T>) -> Result<&mut V> {
        self.slab.get_mut(r.rep)
    }

    /// Removes and returns the value behind `r`; fails if it was deleted.
    pub fn delete<T: 'static>(&mut self, r: Resource<T>) -> Result<V> {
        self.slab.remove(r.rep)
    }
}
