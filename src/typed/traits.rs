//! The three traits of the typed API and the contexts their methods get.

use alloc::vec::Vec;
use core::any::TypeId;

use super::core::{CoreList, CoreScalar};
use crate::abi::budget::HostBudget;
use crate::abi::{GuestMemory, StringEncoding};
use crate::error::{Error, Result, TrapKind};
use crate::func::Lent;
use crate::resources::ResourceAny;
use crate::types::{TypeArena, ValType};

/// A Rust type that stands for a component value type.
///
/// Implemented for `bool`, the integers, `f32`/`f64`, `char`, strings,
/// lists, `Option`, `Result`, tuples and `()`; for your own records,
/// variants and enums with `#[derive(ComponentType)]`, for flags with
/// `flags!`. The hidden items are the canonical ABI layout of the type
/// (what lifting and lowering need, computed at compile time) and the type
/// check against a component's type; they are not a stable API.
pub trait ComponentType {
    /// `elem_size`: bytes the value takes in linear memory.
    #[doc(hidden)]
    const SIZE32: u32;
    /// `alignment` in linear memory.
    #[doc(hidden)]
    const ALIGN32: u32;
    /// How many flat core values the type flattens to.
    #[doc(hidden)]
    const FLAT: usize;
    /// The one core value type of a scalar; a placeholder for other types.
    #[doc(hidden)]
    type Core: CoreScalar;
    /// How many `own`/`borrow` positions the type has, in the order lifting
    /// and lowering visit them (for variants: the sum over the cases; for
    /// lists: the element's).
    #[doc(hidden)]
    const RESOURCES: usize = 0;

    /// Checks that `ty` is the component type this Rust type stands for.
    /// Fails with a usage error naming both types.
    #[doc(hidden)]
    fn typecheck(ty: &TypeRef<'_>) -> Result<()>;

    /// Checks a case payload, a `result` arm or a function result, where
    /// `None` means "no value": only `()` accepts `None`.
    #[doc(hidden)]
    fn typecheck_payload(ty: Option<&TypeRef<'_>>) -> Result<()> {
        match ty {
            Some(ty) => Self::typecheck(ty),
            None => Err(Error::usage(alloc::format!(
                "type mismatch: expected no value, found Rust type `{}`",
                core::any::type_name::<Self>()
            ))),
        }
    }
}

/// A [`ComponentType`] that can be read out of a component: a result of an
/// export, a parameter of a host function.
///
/// Lifting checks what the spec checks (bounds, alignment, discriminants,
/// chars, string encodings, lengths) and fails with a trap otherwise.
pub trait Lift: ComponentType + Sized {
    /// Reads the value from its flat core values (`src` holds `FLAT` of them).
    #[doc(hidden)]
    fn lift_flat(cx: &mut LiftContext<'_>, src: &[u64]) -> Result<Self>;

    /// Reads the value from `bytes`, its `SIZE32` bytes of guest memory.
    #[doc(hidden)]
    fn load(cx: &mut LiftContext<'_>, bytes: &[u8]) -> Result<Self>;

    /// Reads a list's elements from `bytes`, the whole list in guest memory
    /// (already bounds- and alignment-checked). Scalars override this with
    /// a bulk copy.
    #[doc(hidden)]
    fn load_list(cx: &mut LiftContext<'_>, bytes: &[u8]) -> Result<Vec<Self>> {
        let size = Self::SIZE32 as usize;
        if size == 0 {
            return Err(internal());
        }
        let mut out = crate::abi::budget::try_vec(bytes.len() / size)?;
        let start = cx.resource_cursor();
        for elem in bytes.chunks_exact(size) {
            cx.seek_resource(start);
            out.push(Self::load(cx, elem)?);
        }
        cx.seek_resource(start + Self::RESOURCES);
        Ok(out)
    }
}

/// A [`ComponentType`] that can be written into a component: a parameter
/// of an export, a result of a host function.
///
/// Lowering calls the component's `realloc` for strings and lists, and
/// fails with a trap if `realloc` traps or returns a bad pointer.
pub trait Lower: ComponentType {
    /// Writes the value's `FLAT` flat core values into `dst`.
    #[doc(hidden)]
    fn lower_flat(&self, cx: &mut LowerContext<'_>, dst: &mut [u64]) -> Result<()>;

    /// Writes the value into guest memory at `ptr`.
    #[doc(hidden)]
    fn store(&self, cx: &mut LowerContext<'_>, ptr: u32) -> Result<()>;

    /// Writes `items` as list elements from `ptr` on (the space is already
    /// allocated). Scalars override this with a bulk copy.
    #[doc(hidden)]
    fn store_list(items: &[Self], cx: &mut LowerContext<'_>, ptr: u32) -> Result<()>
    where
        Self: Sized,
    {
        let mut at = ptr;
        let start = cx.resource_cursor();
        for item in items {
            cx.seek_resource(start);
            item.store(cx, at)?;
            at = at.wrapping_add(Self::SIZE32);
        }
        cx.seek_resource(start + Self::RESOURCES);
        Ok(())
    }
}

/// The parameters of a typed function: a tuple (`()` for none), whose
/// elements are the parameters in order.
pub trait ComponentNamedList: ComponentType {
    /// The core parameter types when every element is a scalar.
    #[doc(hidden)]
    type CoreParams: CoreList;

    /// Checks the elements against a function's parameters.
    #[doc(hidden)]
    fn typecheck_params(params: &ParamsRef<'_>) -> Result<()>;
}

/// A component value type in its component's type arena.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct TypeRef<'a> {
    pub(crate) arena: &'a TypeArena,
    pub(crate) ty: ValType,
}

impl<'a> TypeRef<'a> {
    pub(crate) fn new(arena: &'a TypeArena, ty: ValType) -> Self {
        TypeRef { arena, ty }
    }

    pub(crate) fn at(&self, ty: ValType) -> TypeRef<'a> {
        TypeRef {
            arena: self.arena,
            ty,
        }
    }

    /// The type as WIT-like text, for error messages.
    pub(crate) fn describe(&self) -> alloc::string::String {
        alloc::format!("{}", self.arena.to_public(self.ty))
    }
}

/// The parameter list of a component function type.
#[doc(hidden)]
pub struct ParamsRef<'a> {
    pub(crate) arena: &'a TypeArena,
    pub(crate) params: &'a [(alloc::boxed::Box<str>, ValType)],
}

/// What lifting reads: the guest's memory and its string encoding. It
/// also counts the fuel the lift costs (charged once it is done, since the
/// memory is borrowed meanwhile) and enforces the store's lift-size limit.
#[doc(hidden)]
pub struct LiftContext<'a> {
    pub(crate) memory: &'a [u8],
    pub(crate) enc: StringEncoding,
    /// `Limits::max_lift_bytes` of the store.
    pub(crate) max_bytes: u32,
    /// Fuel owed for the strings and lists lifted so far.
    pub(crate) fuel: u64,
    /// The fuel there is (the lift traps before owing more).
    fuel_left: u64,
    /// The host memory the lifted values may still take.
    budget: HostBudget,
    /// The store's handle tables, for lifting handles.
    handles: Option<&'a mut dyn LiftHandles>,
    /// The instance lifted from.
    instance: u32,
    /// The static resource type and `borrow`-ness of each handle position.
    resources: &'a [ResPos],
    cursor: usize,
    /// Borrows lifted: released after the call.
    pub(crate) lent: Lent,
    /// The memory [`WasmStr`](super::WasmStr) and
    /// [`WasmList`](super::WasmList) views point into: set for a host
    /// function's parameters only.
    pub(crate) view: Option<super::views::ViewMemory>,
}

/// A handle position of a typed signature: its static resource index and
/// whether it is a `borrow`.
pub(crate) type ResPos = (u32, bool);

/// The handle operations lifting needs, over the store's data.
pub(crate) trait LiftHandles {
    /// `lift_own` to the host.
    fn lift_own(&mut self, inst: u32, r: u32, i: u32) -> Result<ResourceAny>;
    /// `lift_borrow` to the host.
    fn lift_borrow(&mut self, inst: u32, r: u32, i: u32) -> Result<ResourceAny>;
    /// Lifts handle `i` as a host resource of Rust type `id`: its rep.
    fn lift_host(&mut self, inst: u32, r: u32, i: u32, borrow: bool, id: TypeId) -> Result<u32>;
}

fn no_handles() -> Error {
    Error::trap(
        TrapKind::Other,
        "internal: a handle position without its resource type",
    )
}

impl<'a> LiftContext<'a> {
    #[inline]
    pub(crate) fn new(memory: &'a [u8], enc: StringEncoding, max_bytes: u32) -> Self {
        LiftContext {
            memory,
            enc,
            max_bytes,
            fuel: 0,
            fuel_left: u64::MAX,
            budget: HostBudget::new(u64::MAX),
            handles: None,
            instance: 0,
            resources: &[],
            cursor: 0,
            lent: Lent::default(),
            view: None,
        }
    }

    /// Lifting a host function's parameters from `memory` of store
    /// `store_id`: borrowed views ([`WasmStr`](super::WasmStr),
    /// [`WasmList`](super::WasmList)) may point into it.
    pub(crate) fn with_view(mut self, memory: Option<wasmi::Memory>, store_id: usize) -> Self {
        self.view = memory.map(|memory| super::views::ViewMemory { memory, store_id });
        self
    }

    /// Bounded by the store: at most `fuel_left` fuel owed (else an
    /// out-of-fuel trap, before the value is built) and `budget` host bytes.
    pub(crate) fn with_budget(mut self, fuel_left: u64, budget: HostBudget) -> Self {
        self.fuel_left = fuel_left;
        self.budget = budget;
        self
    }

    /// With the handle tables of the store, lifting from `instance` the
    /// handle positions `resources`.
    pub(crate) fn with_handles(
        mut self,
        handles: &'a mut dyn LiftHandles,
        instance: u32,
        resources: &'a [ResPos],
    ) -> Self {
        self.handles = Some(handles);
        self.instance = instance;
        self.resources = resources;
        self
    }

    /// Where the next handle position is.
    #[doc(hidden)]
    #[inline]
    pub fn resource_cursor(&self) -> usize {
        self.cursor
    }

    /// Moves to handle position `at` (skipping cases not taken).
    #[doc(hidden)]
    #[inline]
    pub fn seek_resource(&mut self, at: usize) {
        self.cursor = at;
    }

    fn next_resource(&mut self) -> Result<ResPos> {
        let p = *self.resources.get(self.cursor).ok_or_else(no_handles)?;
        self.cursor += 1;
        Ok(p)
    }

    /// Lifts handle `i` at the next handle position as a [`ResourceAny`].
    pub(crate) fn lift_any(&mut self, i: u32) -> Result<ResourceAny> {
        let (r, borrow) = self.next_resource()?;
        let inst = self.instance;
        let h = self.handles.as_deref_mut().ok_or_else(no_handles)?;
        if borrow {
            let v = h.lift_borrow(inst, r, i)?;
            self.lent.lenders.push((inst, i));
            self.lent.temps.push(v.index);
            Ok(v)
        } else {
            h.lift_own(inst, r, i)
        }
    }

    /// Lifts handle `i` at the next handle position as a host resource of
    /// Rust type `id`: its rep, and whether it is owned.
    pub(crate) fn lift_host(&mut self, i: u32, id: TypeId) -> Result<(u32, bool)> {
        let (r, borrow) = self.next_resource()?;
        let inst = self.instance;
        let h = self.handles.as_deref_mut().ok_or_else(no_handles)?;
        let rep = h.lift_host(inst, r, i, borrow, id)?;
        if borrow {
            self.lent.lenders.push((inst, i));
        }
        Ok((rep, !borrow))
    }

    /// Accounts for a string or list of `bytes` bytes in the guest that
    /// takes `host_bytes` on the host, before it is built: traps with
    /// `LimitExceeded` over the store's lift limit or the call's host
    /// budget, with `OutOfFuel` when its fuel is more than there is.
    #[inline]
    pub(crate) fn account(&mut self, bytes: u64, host_bytes: u64) -> Result<()> {
        if self.max_bytes < crate::abi::MAX_BYTE_LENGTH && bytes > u64::from(self.max_bytes) {
            return Err(Error::trap(
                TrapKind::LimitExceeded,
                alloc::format!(
                    "string or list of {bytes} bytes exceeds the max_lift_bytes limit of {}",
                    self.max_bytes
                ),
            ));
        }
        self.fuel += crate::abi::fuel_for_bytes(bytes);
        if self.fuel > self.fuel_left {
            return Err(Error::trap(
                TrapKind::OutOfFuel,
                "all fuel consumed by the component layer (lifting)",
            ));
        }
        self.budget.take(host_bytes)
    }

    /// `len` bytes at `ptr`, aligned to `align`: the spec's checks for a
    /// list or spilled values in memory.
    pub(crate) fn slice(&self, ptr: u32, len: u64, align: u32) -> Result<&'a [u8]> {
        crate::abi::lift::check_align(ptr, align)?;
        crate::abi::lift::check_range(ptr, len, self.memory.len())?;
        // In bounds after the check above.
        self.memory
            .get(ptr as usize..(u64::from(ptr) + len) as usize)
            .ok_or_else(internal)
    }
}

/// What lowering writes to: the guest's memory, `realloc` and string
/// encoding.
#[doc(hidden)]
pub struct LowerContext<'a> {
    pub(crate) mem: &'a mut dyn GuestMemory,
    pub(crate) enc: StringEncoding,
    /// The static resource type and `borrow`-ness of each handle position.
    resources: &'a [ResPos],
    cursor: usize,
}

impl<'a> LowerContext<'a> {
    pub(crate) fn new(mem: &'a mut dyn GuestMemory, enc: StringEncoding) -> Self {
        LowerContext {
            mem,
            enc,
            resources: &[],
            cursor: 0,
        }
    }

    /// Lowering the handle positions `resources`.
    pub(crate) fn with_resources(mut self, resources: &'a [ResPos]) -> Self {
        self.resources = resources;
        self
    }

    /// Where the next handle position is.
    #[doc(hidden)]
    #[inline]
    pub fn resource_cursor(&self) -> usize {
        self.cursor
    }

    /// Moves to handle position `at` (skipping cases not taken).
    #[doc(hidden)]
    #[inline]
    pub fn seek_resource(&mut self, at: usize) {
        self.cursor = at;
    }

    fn next_resource(&mut self) -> Result<ResPos> {
        let p = *self.resources.get(self.cursor).ok_or_else(no_handles)?;
        self.cursor += 1;
        Ok(p)
    }

    /// Lowers the host's handle `v` at the next handle position.
    pub(crate) fn lower_any(&mut self, v: &ResourceAny) -> Result<u32> {
        let (r, borrow) = self.next_resource()?;
        if borrow {
            self.mem.lower_borrow(r, v)
        } else {
            self.mem.lower_own(r, v)
        }
    }

    /// Lowers a host resource of Rust type `id` at the next handle position.
    pub(crate) fn lower_host(&mut self, id: TypeId, rep: u32, own: bool) -> Result<u32> {
        let (r, borrow) = self.next_resource()?;
        self.mem.lower_host(r, borrow, id, rep, own)
    }

    /// Copies `bytes` to guest memory at `ptr`, or traps out of bounds.
    pub(crate) fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<()> {
        self.slice_mut(ptr, bytes.len() as u64)?
            .copy_from_slice(bytes);
        Ok(())
    }

    /// `len` bytes of guest memory at `ptr`, writable, or a trap.
    pub(crate) fn slice_mut(&mut self, ptr: u32, len: u64) -> Result<&mut [u8]> {
        let mem = self.mem.bytes_mut();
        crate::abi::lift::check_range(ptr, len, mem.len())?;
        mem.get_mut(ptr as usize..(u64::from(ptr) + len) as usize)
            .ok_or_else(internal)
    }

    /// Charges the fuel for moving a string or list of `bytes` bytes.
    pub(crate) fn charge_bytes(&mut self, bytes: u64) -> Result<()> {
        self.mem.charge(crate::abi::fuel_for_bytes(bytes))
    }

    /// `realloc(0, 0, align, size)` with the spec's checks on the result.
    pub(crate) fn allocate(&mut self, align: u32, size: u32) -> Result<u32> {
        let ptr = self.mem.realloc(0, 0, align, size)?;
        crate::abi::lift::check_align(ptr, align)?;
        crate::abi::lift::check_range(ptr, u64::from(size), self.mem.bytes().len())?;
        Ok(ptr)
    }
}

/// The Rust side broke an invariant of its own layout constants; reported
/// rather than panicking.
#[cold]
pub(crate) fn internal() -> Error {
    Error::trap(
        TrapKind::Other,
        "internal: a typed value does not match its layout",
    )
}

// A reference lowers as what it points to (`&str`, `&[T]`, `&MyRecord`).
impl<T: ComponentType + ?Sized> ComponentType for &T {
    const SIZE32: u32 = T::SIZE32;
    const ALIGN32: u32 = T::ALIGN32;
    const FLAT: usize = T::FLAT;
    type Core = T::Core;
    const RESOURCES: usize = T::RESOURCES;

    fn typecheck(ty: &TypeRef<'_>) -> Result<()> {
        T::typecheck(ty)
    }

    fn typecheck_payload(ty: Option<&TypeRef<'_>>) -> Result<()> {
        T::typecheck_payload(ty)
    }
}

impl<T: Lower + ?Sized> Lower for &T {
    #[inline]
    fn lower_flat(&self, cx: &mut LowerContext<'_>, dst: &mut [u64]) -> Result<()> {
        (**self).lower_flat(cx, dst)
    }

    #[inline]
    fn store(&self, cx: &mut LowerContext<'_>, ptr: u32) -> Result<()> {
        (**self).store(cx, ptr)
    }
}
