//! What a store holds for the Python binding, and what an instance shares
//! with its functions and resource handles.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, TryLockError, Weak};
use std::time::Duration;

use componentry::{ResourceType, Store};
use componentry_wasi::{WasiCtx, WasiView};
use pyo3::prelude::*;

/// The data of a store: the WASI context, the Python objects lent to the
/// component as host resources, and the Python exception a host function
/// raised (the cause of the trap it becomes).
pub struct HostState {
    /// The WASI context (grants nothing unless configured).
    pub wasi: WasiCtx,
    /// Host resource objects, indexed by their `rep`.
    pub objects: Objects,
    /// The exception of the host function that failed last.
    pub pending: Option<PyErr>,
}

impl WasiView for HostState {
    fn wasi(&mut self) -> &mut WasiCtx {
        &mut self.wasi
    }
}

/// A slab of Python objects: the representations of host resources.
#[derive(Default)]
pub struct Objects {
    slots: Vec<Option<Py<PyAny>>>,
    free: Vec<u32>,
}

impl Objects {
    /// Stores `obj`, giving its `rep`; `None` past 2^31 objects.
    pub fn insert(&mut self, obj: Py<PyAny>) -> Option<u32> {
        if let Some(i) = self.free.pop() {
            self.slots[i as usize] = Some(obj);
            return Some(i);
        }
        let i = u32::try_from(self.slots.len())
            .ok()
            .filter(|i| *i < 1 << 31)?;
        self.slots.push(Some(obj));
        Some(i)
    }

    /// The object at `rep`.
    pub fn get(&self, py: Python<'_>, rep: u32) -> Option<Py<PyAny>> {
        self.slots
            .get(rep as usize)?
            .as_ref()
            .map(|o| o.clone_ref(py))
    }

    /// Takes the object at `rep` out.
    pub fn remove(&mut self, rep: u32) -> Option<Py<PyAny>> {
        let obj = self.slots.get_mut(rep as usize)?.take()?;
        self.free.push(rep);
        Some(obj)
    }
}

/// One resource type of an instance: its Python class, and for a host
/// type the runtime type the linker defined.
pub struct ResEntry {
    /// The class (the user's for a host type, a generated one for an
    /// exported type).
    pub cls: Py<PyAny>,
    /// The host resource type, for imported types.
    pub host: Option<ResourceType>,
}

/// The resource types of one instance, indexed like the component's
/// declarations.
pub struct ResTable {
    /// One entry per declared resource type.
    pub entries: Vec<ResEntry>,
    /// The instance, once made (host functions wrap its handles).
    pub inst: OnceLock<Weak<InstShared>>,
}

/// An instance's store and resource types, shared by its functions and
/// handles.
pub struct InstShared {
    /// The store. Calls take it with [`InstShared::enter`].
    pub store: Mutex<Store<HostState>>,
    /// The resource types.
    pub res: Arc<ResTable>,
    /// The thread running a call (a [`thread_token`]; 0 for none).
    pub owner: AtomicU64,
}

/// A number for the current thread, never 0.
pub fn thread_token() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static TOKEN: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    TOKEN.with(|t| *t)
}

/// Why [`InstShared::enter`] failed.
pub enum EnterError {
    /// This thread is already running the instance: a host function called
    /// back into it (the spec's reentrance rule refuses that).
    Reentered,
    /// A panic left the store unusable.
    Poisoned,
}

/// The store, taken for one call; gives it back on drop.
pub struct Entered<'a> {
    /// The store.
    pub store: MutexGuard<'a, Store<HostState>>,
    owner: &'a AtomicU64,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        self.owner.store(0, Ordering::Release);
    }
}

impl InstShared {
    /// Takes the store for a call from this thread. If another thread is
    /// running the instance, waits for it without holding the GIL.
    pub fn enter(&self, py: Python<'_>) -> Result<Entered<'_>, EnterError> {
        let me = thread_token();
        loop {
            match self.store.try_lock() {
                Ok(store) => {
                    self.owner.store(me, Ordering::Release);
                    return Ok(Entered {
                        store,
                        owner: &self.owner,
                    });
                }
                Err(TryLockError::Poisoned(_)) => return Err(EnterError::Poisoned),
                Err(TryLockError::WouldBlock) => {
                    if self.owner.load(Ordering::Acquire) == me {
                        return Err(EnterError::Reentered);
                    }
                    py.allow_threads(|| std::thread::sleep(Duration::from_micros(20)));
                }
            }
        }
    }
}
