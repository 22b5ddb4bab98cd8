//! Borrowed views of guest memory for host function parameters:
//! [`WasmStr`] for a `string`, [`WasmList<T>`] for a `list<T>` (as
//! wasmtime's). Lifting one checks what the spec checks before reading
//! (length, alignment, bounds) and copies nothing; the host reads the bytes
//! in place through the store, so `log(msg: string)` allocates nothing per
//! call.

use alloc::borrow::Cow;
use alloc::format;
use core::marker::PhantomData;

use super::strings::{read_flat_ptr_len, read_ptr_len, ReadOnly};
use super::traits::{ComponentType, Lift, LiftContext, TypeRef};
use super::typecheck::{def, mismatch, prim, within};
use crate::abi::string::{check_string_range, load_string};
use crate::abi::{StringEncoding, MAX_BYTE_LENGTH};
use crate::error::{Error, Result, TrapKind};
use crate::store::AsContextMut;
use crate::types::{DefType, ValType};

/// Where a view's bytes are: the guest memory and the store it lives in.
#[derive(Clone, Copy)]
pub(crate) struct ViewMemory {
    pub(crate) memory: wasmi::Memory,
    pub(crate) store_id: usize,
}

impl ViewMemory {
    /// The memory's bytes in `store`, or a usage error if `store` is not
    /// the store the view was lifted in.
    fn bytes<'s, S: AsContextMut>(&self, store: &'s mut S) -> Result<&'s [u8]> {
        let cx = store.as_context_mut();
        if cx.inner.data().id != self.store_id {
            return Err(Error::usage(
                "a WasmStr or WasmList was read through a store it does not belong to",
            ));
        }
        let (bytes, _) = self.memory.data_and_store_mut(cx.inner);
        Ok(bytes)
    }
}

/// The memory a view is lifted from, or an error where there is none (a
/// view is only a host function's parameter).
fn view_memory(cx: &LiftContext<'_>) -> Result<ViewMemory> {
    cx.view.ok_or_else(|| {
        Error::usage(
            "WasmStr and WasmList can only be parameters of host functions of a lowering with a memory",
        )
    })
}

/// A `string` parameter of a host function, left in guest memory: its
/// place, checked against the memory's bounds when the call lifted it.
///
/// Read it with [`WasmStr::to_str`] through the store the host function
/// gets. The text is checked to be valid in the guest's encoding when it
/// is read (as wasmtime's `WasmStr`), so an ill-formed string is an error
/// from `to_str`, not a trap before the call. A view stays readable after
/// the call (the memory outlives it), but what it shows is then whatever
/// the guest has written there since.
#[derive(Clone, Copy)]
pub struct WasmStr {
    mem: ViewMemory,
    enc: StringEncoding,
    ptr: u32,
    /// Code units, with the latin1+utf16 tag bit as the guest gave it.
    tagged_len: u32,
}

impl WasmStr {
    #[inline]
    fn lift(cx: &mut LiftContext<'_>, ptr: u32, tagged_len: u32) -> Result<Self> {
        let mem = view_memory(cx)?;
        if cx.enc == StringEncoding::Utf8 {
            // The spec's checks for UTF-8 (alignment 1): length, bounds.
            if tagged_len > MAX_BYTE_LENGTH {
                return Err(Error::trap(
                    TrapKind::LengthTooLarge,
                    format!("string of {tagged_len} bytes is longer than 2^28-1"),
                ));
            }
            crate::abi::lift::check_range(ptr, u64::from(tagged_len), cx.memory.len())?;
        } else {
            check_string_range(&ReadOnly(cx.memory), cx.enc, ptr, tagged_len)?;
        }
        let bytes = string_bytes(cx.enc, tagged_len);
        // Fuel for the bytes crossing; no host memory is taken.
        cx.account(bytes, 0)?;
        Ok(WasmStr {
            mem,
            enc: cx.enc,
            ptr,
            tagged_len,
        })
    }

    /// The string's length in bytes of guest memory (in the guest's
    /// encoding: UTF-8 bytes for most guests).
    pub fn byte_len(&self) -> usize {
        string_bytes(self.enc, self.tagged_len) as usize
    }

    /// The text, borrowed from guest memory for a UTF-8 guest (no copy),
    /// transcoded into a new `String` for a UTF-16 or latin1+utf16 guest.
    ///
    /// Fails with a trap of kind `InvalidEncoding` if the bytes are not
    /// valid in the guest's encoding, with a bounds trap if the memory no
    /// longer holds them, and with a usage error if `store` is not the
    /// store of the call that lifted it.
    pub fn to_str<'s, S: AsContextMut>(&self, store: &'s mut S) -> Result<Cow<'s, str>> {
        let memory = self.mem.bytes(store)?;
        if self.enc == StringEncoding::Utf8 {
            let bytes =
                crate::abi::lift::check_range(self.ptr, u64::from(self.tagged_len), memory.len())
                    .and_then(|()| {
                    memory
                        .get(self.ptr as usize..self.ptr as usize + self.tagged_len as usize)
                        .ok_or_else(super::traits::internal)
                })?;
            return core::str::from_utf8(bytes)
                .map(Cow::Borrowed)
                .map_err(|_| Error::trap(TrapKind::InvalidEncoding, "string is not valid UTF-8"));
        }
        load_string(&ReadOnly(memory), self.enc, self.ptr, self.tagged_len).map(Cow::Owned)
    }
}

impl core::fmt::Debug for WasmStr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WasmStr")
            .field("ptr", &self.ptr)
            .field("len", &self.tagged_len)
            .field("encoding", &self.enc)
            .finish()
    }
}

/// Bytes of guest memory a string of `tagged_len` code units takes.
fn string_bytes(enc: StringEncoding, tagged_len: u32) -> u64 {
    match enc {
        StringEncoding::Utf8 => u64::from(tagged_len),
        StringEncoding::Utf16 => 2 * u64::from(tagged_len),
        StringEncoding::CompactUtf16 if tagged_len & crate::abi::UTF16_TAG != 0 => {
            2 * u64::from(tagged_len ^ crate::abi::UTF16_TAG)
        }
        StringEncoding::CompactUtf16 => u64::from(tagged_len),
    }
}

impl ComponentType for WasmStr {
    const SIZE32: u32 = 8;
    const ALIGN32: u32 = 4;
    const FLAT: usize = 2;
    type Core = super::core::NotScalar;

    fn typecheck(ty: &TypeRef<'_>) -> Result<()> {
        prim::<Self>(ty, ValType::String)
    }
}

impl Lift for WasmStr {
    fn lift_flat(cx: &mut LiftContext<'_>, src: &[u64]) -> Result<Self> {
        let (ptr, len) = read_flat_ptr_len(src)?;
        WasmStr::lift(cx, ptr, len)
    }

    fn load(cx: &mut LiftContext<'_>, bytes: &[u8]) -> Result<Self> {
        let (ptr, len) = read_ptr_len(bytes)?;
        WasmStr::lift(cx, ptr, len)
    }
}

/// A `list<T>` parameter of a host function, left in guest memory: its
/// place, checked (length, alignment, bounds) when the call lifted it.
///
/// Read the elements one at a time with [`WasmList::get`] or
/// [`WasmList::iter`] (each lifted as `T` is, with the same checks), or
/// the raw little-endian bytes with [`WasmList::as_le_bytes`] (for a
/// `list<u8>`, the bytes themselves). Elements holding resource handles are
/// not supported (a type error when the host function is linked).
pub struct WasmList<T> {
    mem: ViewMemory,
    enc: StringEncoding,
    max_bytes: u32,
    ptr: u32,
    len: u32,
    _elem: PhantomData<fn() -> T>,
}

impl<T> Clone for WasmList<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for WasmList<T> {}

impl<T> core::fmt::Debug for WasmList<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WasmList")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .finish()
    }
}

impl<T: Lift> WasmList<T> {
    fn lift(cx: &mut LiftContext<'_>, ptr: u32, len: u32) -> Result<Self> {
        let mem = view_memory(cx)?;
        let byte_len = u64::from(len) * u64::from(T::SIZE32);
        cx.account(byte_len, 0)?;
        if byte_len > u64::from(MAX_BYTE_LENGTH) {
            return Err(Error::trap(
                TrapKind::LengthTooLarge,
                format!("list of {byte_len} bytes is longer than 2^28-1"),
            ));
        }
        cx.slice(ptr, byte_len, T::ALIGN32)?;
        Ok(WasmList {
            mem,
            enc: cx.enc,
            max_bytes: cx.max_bytes,
            ptr,
            len,
            _elem: PhantomData,
        })
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the list has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The list's bytes in guest memory, `len() * size` of them, each
    /// element in its canonical ABI layout (little-endian). Fails with a
    /// bounds trap if the memory no longer holds them, and with a usage
    /// error if `store` is not the store of the call that lifted it.
    pub fn as_le_bytes<'s, S: AsContextMut>(&self, store: &'s mut S) -> Result<&'s [u8]> {
        let memory = self.mem.bytes(store)?;
        let byte_len = u64::from(self.len) * u64::from(T::SIZE32);
        crate::abi::lift::check_range(self.ptr, byte_len, memory.len())?;
        memory
            .get(self.ptr as usize..(u64::from(self.ptr) + byte_len) as usize)
            .ok_or_else(super::traits::internal)
    }

    /// Element `index` lifted as `T` (`None` past the end). Fails as
    /// lifting `T` fails (e.g. a bad discriminant or string), and as
    /// [`WasmList::as_le_bytes`] does.
    pub fn get<S: AsContextMut>(&self, store: &mut S, index: usize) -> Option<Result<T>> {
        if index >= self.len() {
            return None;
        }
        Some(self.lift_elem(store, index))
    }

    /// Every element lifted as `T`, in order (see [`WasmList::get`]).
    pub fn iter<'s, S: AsContextMut>(
        &'s self,
        store: &'s mut S,
    ) -> impl Iterator<Item = Result<T>> + 's {
        (0..self.len()).map(move |i| self.lift_elem(store, i))
    }

    fn lift_elem<S: AsContextMut>(&self, store: &mut S, index: usize) -> Result<T> {
        let size = T::SIZE32 as usize;
        let memory = self.mem.bytes(store)?;
        let at = u64::from(self.ptr) + (index * size) as u64;
        crate::abi::lift::check_range(at as u32, size as u64, memory.len())?;
        let bytes = memory
            .get(at as usize..at as usize + size)
            .ok_or_else(super::traits::internal)?;
        let mut cx = LiftContext::new(memory, self.enc, self.max_bytes);
        cx.view = Some(self.mem);
        T::load(&mut cx, bytes)
    }
}

impl<T: ComponentType> ComponentType for WasmList<T> {
    const SIZE32: u32 = 8;
    const ALIGN32: u32 = 4;
    const FLAT: usize = 2;
    type Core = super::core::NotScalar;

    fn typecheck(ty: &TypeRef<'_>) -> Result<()> {
        if T::RESOURCES > 0 {
            return Err(Error::usage(
                "WasmList of elements holding resource handles is not supported: use Vec",
            ));
        }
        match def(ty) {
            Some(DefType::List(elem)) => {
                T::typecheck(&ty.at(*elem)).map_err(|e| within(e, "list element"))
            }
            _ => Err(mismatch::<Self>(ty)),
        }
    }
}

impl<T: Lift> Lift for WasmList<T> {
    fn lift_flat(cx: &mut LiftContext<'_>, src: &[u64]) -> Result<Self> {
        let (ptr, len) = read_flat_ptr_len(src)?;
        WasmList::lift(cx, ptr, len)
    }

    fn load(cx: &mut LiftContext<'_>, bytes: &[u8]) -> Result<Self> {
        let (ptr, len) = read_ptr_len(bytes)?;
        WasmList::lift(cx, ptr, len)
    }
}
