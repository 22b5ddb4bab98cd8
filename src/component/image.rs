//! Component images: everything [`Component::new`] computed, written out so
//! that a device can load a component without parsing or validating it.
//!
//! Layout (all integers little-endian, so an image made on a 64-bit host
//! loads on a 32-bit device):
//!
//! | field | bytes |
//! | --- | --- |
//! | magic `"CMPNTRY\0"` | 8 |
//! | format version | 4 |
//! | crate version (length-prefixed) | 4 + n |
//! | fingerprint of the settings that shape the image | 8 |
//! | flags (bit 0: a core module uses 64-bit memories or tables) | 4 |
//! | payload length | 8 |
//! | FNV-1a 64 checksum of the flags and the payload | 8 |
//! | payload: the type arena, the component definitions, the root's export types, the core modules | … |
//!
//! Layouts, flat types and function plans are not stored: they are
//! recomputed from the types on load.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{
    CanonOpts, Component, ComponentDef, ComponentInner, CoreKind, CoreRef, Import, ImportKind,
    ItemRef, ResourceBuiltin, Space, Step,
};
use crate::abi::StringEncoding;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::module::{CoreExtern, CoreModuleType, CoreVal};
use crate::types::{Case, DefType, FuncTy, TypeArena, ValType};

const MAGIC: [u8; 8] = *b"CMPNTRY\0";
/// Bumped whenever the payload's encoding changes.
const FORMAT_VERSION: u32 = 1;
const CRATE_VERSION: &str = env!("CARGO_PKG_VERSION");
/// How deeply instance types may nest in an image (far more than any
/// validated binary produces; bounds the reader's recursion).
const MAX_NESTING: u32 = 200;

/// Named value types: record fields, function parameters.
type NamedVals = Box<[(Box<str>, ValType)]>;

/// FNV-1a, 64 bits: a checksum against accidents, not an authenticator.
fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_more(0xcbf2_9ce4_8422_2325, bytes)
}

/// FNV-1a of more bytes, from the hash `h` of the bytes before them.
fn fnv1a_more(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The settings an image depends on: the type nesting bound the arena was
/// built under.
fn fingerprint(engine: &Engine) -> u64 {
    let mut s = Vec::new();
    s.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    s.extend_from_slice(&engine.config.limits.max_type_depth.to_le_bytes());
    fnv1a(&s)
}

/// The checksum of the flags and the payload.
fn checksum(flags: u32, payload: &[u8]) -> u64 {
    fnv1a_more(fnv1a(&flags.to_le_bytes()), payload)
}

/// Header flag: a core module uses 64-bit memories or tables, which only a
/// build with the `memory64` feature runs.
const FLAG_MEMORY64: u32 = 1;

/// Whether the core module `bytes` declares or imports a 64-bit memory or
/// table. (Read with the validator's parser: a build that can make images
/// has it.)
#[cfg(feature = "validate")]
fn uses_64_bit(bytes: &[u8]) -> bool {
    use wasmparser::{Parser, Payload, TypeRef};
    for payload in Parser::new(0).parse_all(bytes).flatten() {
        let found = match payload {
            Payload::ImportSection(s) => s.into_imports().flatten().any(|i| match i.ty {
                TypeRef::Memory(m) => m.memory64,
                TypeRef::Table(t) => t.table64,
                _ => false,
            }),
            Payload::MemorySection(s) => s.into_iter().flatten().any(|m| m.memory64),
            Payload::TableSection(s) => s.into_iter().flatten().any(|t| t.ty.table64),
            _ => false,
        };
        if found {
            return true;
        }
    }
    false
}

#[cfg(not(feature = "validate"))]
fn uses_64_bit(_: &[u8]) -> bool {
    // Unreachable: without the validator no component holds its modules'
    // bytes, so `serialize` fails before asking.
    true
}

impl Component {
    /// Writes this component as an image: what [`Component::new`]
    /// computed (index spaces, the type arena with its layouts, the init
    /// program, canonical options) and its core modules. Load it, on this
    /// machine or a device, with [`Component::deserialize`], under a
    /// `Config` with the same `max_type_depth` (and, if its core modules use
    /// 64-bit memories or tables, in a build with the `memory64` feature).
    ///
    /// Fails with a usage error for a component that was itself loaded
    /// from an image (it no longer has its modules' bytes).
    pub fn serialize(&self) -> Result<Vec<u8>> {
        let inner = &self.inner;
        if inner.module_bytes.len() != inner.modules.len() {
            return Err(Error::usage(
                "a component loaded from an image cannot be serialized again",
            ));
        }
        let mut w = Writer::default();
        w.arena(&inner.arena);
        w.len(inner.defs.len());
        for d in &inner.defs {
            w.def(d);
        }
        w.len(inner.export_types.len());
        for k in &inner.export_types {
            w.kind(k);
        }
        w.len(inner.module_bytes.len());
        for m in &inner.module_bytes {
            w.bytes(m);
        }
        let payload = w.out;
        let mut out = Vec::with_capacity(payload.len() + 64);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(CRATE_VERSION.len() as u32).to_le_bytes());
        out.extend_from_slice(CRATE_VERSION.as_bytes());
        out.extend_from_slice(&fingerprint(&inner.engine).to_le_bytes());
        let memory64 = inner.module_bytes.iter().any(|m| uses_64_bit(m));
        let flags = if memory64 { FLAG_MEMORY64 } else { 0 };
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&checksum(flags, &payload).to_le_bytes());
        out.extend_from_slice(&payload);
        Ok(out)
    }

    /// Loads an image made by [`Component::serialize`], without parsing or
    /// validating a component: the way a build without the `validate`
    /// feature (a firmware) loads components.
    ///
    /// The header turns the common accidents into load errors: bytes that
    /// are not an image, another image format, another componentry
    /// version, other settings (`Config::max_type_depth`), 64-bit memories
    /// in a build without the `memory64` feature, a truncated image, a
    /// corrupted one (checksum).
    ///
    /// # Safety
    ///
    /// `bytes` must be an image written by `serialize` of this same
    /// componentry version. The checksum catches accidental corruption,
    /// not deliberate tampering: the core modules inside are compiled by
    /// wasmi without validation, so a crafted image can make wasmi run
    /// invalid code (undefined behaviour). Never load an image from an
    /// untrusted source; load the component itself with
    /// [`Component::new`] instead.
    pub unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> Result<Component> {
        let payload = check_header(engine, bytes)?;
        let mut r = Reader {
            bytes: payload,
            pos: 0,
            base: bytes.len() - payload.len(),
        };
        let arena = r.arena(engine)?;
        let n = r.len()?;
        let mut defs = Vec::with_capacity(n);
        for _ in 0..n {
            defs.push(r.def()?);
        }
        let n = r.len()?;
        let mut export_types = Vec::with_capacity(n);
        for _ in 0..n {
            export_types.push(r.kind(0)?);
        }
        let n = r.len()?;
        let mut module_slices = Vec::with_capacity(n);
        for _ in 0..n {
            module_slices.push(r.bytes()?);
        }
        if r.pos != r.bytes.len() {
            return Err(r.err("bytes after the end of the image"));
        }
        if defs.is_empty() {
            return Err(r.err("an image with no component"));
        }
        check_indices(&arena, &defs, &export_types).map_err(|m| r.err(m))?;
        let mut modules = Vec::with_capacity(module_slices.len());
        for m in module_slices {
            // SAFETY: the caller guarantees the image was written by
            // `serialize`, which stores only modules the component
            // validator accepted under `features()` (the header's
            // fingerprint and version checks make sure this build reads
            // them under the same features).
            modules.push(unsafe { super::core_modules::compile_validated(engine, m) }?);
        }
        let plans = super::plan::plans(&arena);
        Ok(Component {
            inner: Arc::new(ComponentInner {
                engine: engine.clone(),
                arena,
                modules,
                module_bytes: Vec::new(),
                defs,
                plans,
                export_types,
            }),
        })
    }
}

/// Checks the header of `bytes` and returns the payload.
fn check_header<'a>(engine: &Engine, bytes: &'a [u8]) -> Result<&'a [u8]> {
    let bad = |offset: usize, m: String| Error::load(offset, format!("component image: {m}"));
    if bytes.len() < 12 || bytes[..8] != MAGIC {
        return Err(bad(0, String::from("not a componentry component image")));
    }
    let u32_at = |o: usize| -> Option<u32> {
        Some(u32::from_le_bytes(bytes.get(o..o + 4)?.try_into().ok()?))
    };
    let u64_at = |o: usize| -> Option<u64> {
        Some(u64::from_le_bytes(bytes.get(o..o + 8)?.try_into().ok()?))
    };
    let truncated = || bad(bytes.len(), String::from("truncated header"));
    let format = u32_at(8).ok_or_else(truncated)?;
    if format != FORMAT_VERSION {
        return Err(bad(
            8,
            format!("image format {format}, this build reads format {FORMAT_VERSION}"),
        ));
    }
    let vlen = u32_at(12).ok_or_else(truncated)? as usize;
    let version = bytes
        .get(16..16usize.saturating_add(vlen))
        .ok_or_else(truncated)?;
    if version != CRATE_VERSION.as_bytes() {
        return Err(bad(
            16,
            format!(
                "made by componentry {}, this is componentry {CRATE_VERSION}: make the image again",
                String::from_utf8_lossy(version)
            ),
        ));
    }
    let o = 16 + vlen;
    let fp = u64_at(o).ok_or_else(truncated)?;
    if fp != fingerprint(engine) {
        return Err(bad(
            o,
            String::from(
                "made under other settings (Config::max_type_depth differs): make the image with the device's settings",
            ),
        ));
    }
    let flags = u32_at(o + 8).ok_or_else(truncated)?;
    if flags & !FLAG_MEMORY64 != 0 {
        return Err(bad(o + 8, format!("unknown flags {flags:#x}")));
    }
    if flags & FLAG_MEMORY64 != 0 && !cfg!(feature = "memory64") {
        return Err(bad(
            o + 8,
            String::from(
                "its core modules use 64-bit memories or tables, which this build (without the memory64 feature) cannot run",
            ),
        ));
    }
    let len = u64_at(o + 12).ok_or_else(truncated)?;
    let sum = u64_at(o + 20).ok_or_else(truncated)?;
    let start = o + 28;
    let payload = &bytes[start.min(bytes.len())..];
    if (payload.len() as u64) < len {
        return Err(bad(
            bytes.len(),
            format!("truncated: {} of {len} payload bytes", payload.len()),
        ));
    }
    if payload.len() as u64 != len {
        return Err(bad(
            bytes.len(),
            String::from("bytes after the end of the image"),
        ));
    }
    if checksum(flags, payload) != sum {
        return Err(bad(
            start,
            String::from("checksum mismatch: the image is corrupted"),
        ));
    }
    Ok(payload)
}

/// Whether `t` refers to an existing static resource and, if it is a
/// defined type, to one of the first `below` defined types.
fn val_ref_ok(arena: &TypeArena, t: &ValType, below: u32) -> bool {
    match t {
        ValType::Def(i) => *i < below,
        ValType::Own(r) | ValType::Borrow(r) => (*r as usize) < arena.resource_count(),
        _ => true,
    }
}

/// Whether the defined type about to be pushed refers only to types
/// already in the arena.
fn def_refs_ok(arena: &TypeArena, d: &DefType) -> bool {
    let below = arena.defs.len() as u32;
    let ok = |t: &ValType| val_ref_ok(arena, t, below);
    match d {
        DefType::List(t) | DefType::Option(t) => ok(t),
        DefType::Record(fs) => fs.iter().all(|(_, t)| ok(t)),
        DefType::Tuple(ts) => ts.iter().all(ok),
        DefType::Variant(cs) => cs.iter().all(|c| c.ty.is_none_or(|t| ok(&t))),
        DefType::Result { ok: o, err } => o.is_none_or(|t| ok(&t)) && err.is_none_or(|t| ok(&t)),
        DefType::Enum(_) | DefType::Flags(_) => true,
        #[cfg(feature = "async")]
        DefType::Stream(t) | DefType::Future(t) => t.is_none_or(|t| ok(&t)),
        #[cfg(feature = "async")]
        DefType::ErrorContext => true,
    }
}

/// Bounds every arena index the runtime follows without a check: function
/// types refer to existing types, and steps and imports to existing
/// function types. (Defined types were checked as they were read.)
fn check_indices(
    arena: &TypeArena,
    defs: &[ComponentDef],
    export_types: &[ImportKind],
) -> core::result::Result<(), &'static str> {
    let n_defs = arena.defs.len() as u32;
    let val_ok = |t: &ValType| val_ref_ok(arena, t, n_defs);
    for f in &arena.funcs {
        if !f.params.iter().all(|(_, t)| val_ok(t)) || !f.result.is_none_or(|t| val_ok(&t)) {
            return Err("a function type refers to a missing type");
        }
    }
    let n_funcs = arena.funcs.len() as u32;
    fn kind_ok(k: &ImportKind, n_funcs: u32) -> bool {
        match k {
            ImportKind::Func(f) => *f < n_funcs,
            ImportKind::Instance(items) => items.iter().all(|(_, k)| kind_ok(k, n_funcs)),
            _ => true,
        }
    }
    let steps_ok = defs.iter().all(|d| {
        d.imports.iter().all(|i| kind_ok(&i.kind, n_funcs))
            && d.steps.iter().all(|s| match s {
                Step::Lower { ty, .. } | Step::Lift { ty, .. } => {
                    *ty < n_funcs && runnable(arena, *ty)
                }
                #[cfg(feature = "async")]
                Step::AsyncBuiltin(crate::concurrent::builtins::Builtin::TaskReturn {
                    result: Some(t),
                    ..
                }) => val_ok(t),
                #[cfg(feature = "async")]
                Step::AsyncBuiltin(crate::concurrent::builtins::Builtin::Stream(s)) => {
                    s.elem.is_none_or(|t| val_ok(&t))
                }
                _ => true,
            })
    });
    if !steps_ok || !export_types.iter().all(|k| kind_ok(k, n_funcs)) {
        return Err("a function refers to a missing function type");
    }
    Ok(())
}

/// Whether function type `ty` may be lifted or lowered (what loading a
/// binary checked; see `concurrent::types::check_runnable`).
fn runnable(arena: &TypeArena, ty: u32) -> bool {
    #[cfg(feature = "async")]
    return crate::concurrent::types::check_runnable(arena, ty).is_ok();
    #[cfg(not(feature = "async"))]
    {
        let _ = (arena, ty);
        true
    }
}

// ------------------------------------------------------------------ writing

#[derive(Default)]
struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u32(n as u32);
    }
    fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }
    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.out.extend_from_slice(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn opt_u32(&mut self, v: Option<u32>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.u32(v);
            }
        }
    }
    fn opt_u64(&mut self, v: Option<u64>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.u64(v);
            }
        }
    }

    fn val(&mut self, t: ValType) {
        let (tag, x) = match t {
            ValType::Bool => (0, None),
            ValType::S8 => (1, None),
            ValType::U8 => (2, None),
            ValType::S16 => (3, None),
            ValType::U16 => (4, None),
            ValType::S32 => (5, None),
            ValType::U32 => (6, None),
            ValType::S64 => (7, None),
            ValType::U64 => (8, None),
            ValType::F32 => (9, None),
            ValType::F64 => (10, None),
            ValType::Char => (11, None),
            ValType::String => (12, None),
            ValType::Own(r) => (13, Some(r)),
            ValType::Borrow(r) => (14, Some(r)),
            ValType::Def(i) => (15, Some(i)),
        };
        self.u8(tag);
        if let Some(x) = x {
            self.u32(x);
        }
    }
    fn opt_val(&mut self, t: Option<ValType>) {
        match t {
            None => self.u8(0),
            Some(t) => {
                self.u8(1);
                self.val(t);
            }
        }
    }
    fn names(&mut self, names: &[Box<str>]) {
        self.len(names.len());
        for n in names {
            self.str(n);
        }
    }
    fn named_vals(&mut self, items: &[(Box<str>, ValType)]) {
        self.len(items.len());
        for (n, t) in items {
            self.str(n);
            self.val(*t);
        }
    }

    fn arena(&mut self, a: &TypeArena) {
        self.u32(a.max_depth);
        self.u32(a.resource_count() as u32);
        self.len(a.defs.len());
        for d in &a.defs {
            match d {
                DefType::List(t) => {
                    self.u8(0);
                    self.val(*t);
                }
                DefType::Record(fs) => {
                    self.u8(1);
                    self.named_vals(fs);
                }
                DefType::Tuple(ts) => {
                    self.u8(2);
                    self.len(ts.len());
                    for t in ts.iter() {
                        self.val(*t);
                    }
                }
                DefType::Variant(cs) => {
                    self.u8(3);
                    self.len(cs.len());
                    for c in cs.iter() {
                        self.str(&c.name);
                        self.opt_val(c.ty);
                    }
                }
                DefType::Enum(ns) => {
                    self.u8(4);
                    self.names(ns);
                }
                DefType::Option(t) => {
                    self.u8(5);
                    self.val(*t);
                }
                DefType::Result { ok, err } => {
                    self.u8(6);
                    self.opt_val(*ok);
                    self.opt_val(*err);
                }
                DefType::Flags(ns) => {
                    self.u8(7);
                    self.names(ns);
                }
                #[cfg(feature = "async")]
                DefType::Stream(t) => {
                    self.u8(8);
                    self.opt_val(*t);
                }
                #[cfg(feature = "async")]
                DefType::Future(t) => {
                    self.u8(9);
                    self.opt_val(*t);
                }
                #[cfg(feature = "async")]
                DefType::ErrorContext => self.u8(10),
            }
        }
        self.len(a.funcs.len());
        for f in &a.funcs {
            self.named_vals(&f.params);
            // The result's option tag carries `async` in bit 1 (a build
            // without `async` reads it as a bad tag).
            #[cfg(feature = "async")]
            let tag = u8::from(f.result.is_some()) | if f.is_async { 2 } else { 0 };
            #[cfg(not(feature = "async"))]
            let tag = u8::from(f.result.is_some());
            self.u8(tag);
            if let Some(t) = f.result {
                self.val(t);
            }
        }
    }

    fn def(&mut self, d: &ComponentDef) {
        self.len(d.steps.len());
        for s in &d.steps {
            self.step(s);
        }
        self.len(d.imports.len());
        for i in &d.imports {
            self.str(&i.name);
            self.kind(&i.kind);
        }
        self.len(d.exports.len());
        for (n, r) in &d.exports {
            self.str(n);
            self.item_ref(*r);
        }
    }

    fn kind(&mut self, k: &ImportKind) {
        match k {
            ImportKind::Func(f) => {
                self.u8(0);
                self.u32(*f);
            }
            ImportKind::Instance(items) => {
                self.u8(1);
                self.len(items.len());
                for (n, k) in items {
                    self.str(n);
                    self.kind(k);
                }
            }
            ImportKind::Type => self.u8(2),
            ImportKind::Resource { r, eq } => {
                self.u8(3);
                self.u32(*r);
                self.bool(*eq);
            }
            ImportKind::Module(ty) => {
                self.u8(4);
                match ty {
                    None => self.u8(0),
                    Some(ty) => {
                        self.u8(1);
                        self.module_type(ty);
                    }
                }
            }
            ImportKind::Component => self.u8(5),
        }
    }

    fn module_type(&mut self, ty: &CoreModuleType) {
        self.len(ty.imports.len());
        for (m, n, e) in &ty.imports {
            self.str(m);
            self.str(n);
            self.core_extern(e);
        }
        self.len(ty.exports.len());
        for (n, e) in &ty.exports {
            self.str(n);
            self.core_extern(e);
        }
    }

    fn core_val(&mut self, v: CoreVal) {
        self.u8(match v {
            CoreVal::I32 => 0,
            CoreVal::I64 => 1,
            CoreVal::F32 => 2,
            CoreVal::F64 => 3,
            CoreVal::V128 => 4,
            CoreVal::FuncRef => 5,
            CoreVal::ExternRef => 6,
        });
    }

    fn core_extern(&mut self, e: &CoreExtern) {
        match e {
            CoreExtern::Func { params, results } => {
                self.u8(0);
                self.len(params.len());
                for v in params.iter() {
                    self.core_val(*v);
                }
                self.len(results.len());
                for v in results.iter() {
                    self.core_val(*v);
                }
            }
            CoreExtern::Memory { is_64, min, max } => {
                self.u8(1);
                self.bool(*is_64);
                self.u64(*min);
                self.opt_u64(*max);
            }
            CoreExtern::Table {
                elem,
                is_64,
                min,
                max,
            } => {
                self.u8(2);
                self.core_val(*elem);
                self.bool(*is_64);
                self.u64(*min);
                self.opt_u64(*max);
            }
            CoreExtern::Global { content, mutable } => {
                self.u8(3);
                self.core_val(*content);
                self.bool(*mutable);
            }
        }
    }

    fn item_ref(&mut self, r: ItemRef) {
        let (tag, x) = match r {
            ItemRef::Func(i) => (0, i),
            ItemRef::Instance(i) => (1, i),
            ItemRef::Module(i) => (2, i),
            ItemRef::Component(i) => (3, i),
            ItemRef::Type => (4, 0),
            ItemRef::Resource(i) => (5, i),
        };
        self.u8(tag);
        self.u32(x);
    }

    fn core_ref(&mut self, r: CoreRef) {
        let (tag, x) = match r {
            CoreRef::Func(i) => (0, i),
            CoreRef::Memory(i) => (1, i),
            CoreRef::Table(i) => (2, i),
            CoreRef::Global(i) => (3, i),
        };
        self.u8(tag);
        self.u32(x);
    }

    fn space(&mut self, s: Space) {
        let (tag, x) = match s {
            Space::Func => (0, 0),
            Space::Instance => (1, 0),
            Space::Module => (2, 0),
            Space::Component => (3, 0),
            Space::Resource(r) => (4, r),
        };
        self.u8(tag);
        self.u32(x);
    }

    fn opts(&mut self, o: &CanonOpts) {
        let enc = match o.encoding {
            StringEncoding::Utf8 => 0,
            StringEncoding::Utf16 => 1,
            StringEncoding::CompactUtf16 => 2,
        };
        // Bit 7: an `async (callback f)` lift, `f` following; bit 6: the
        // `async` option (a build without `async` reads either as a bad
        // encoding).
        #[cfg(feature = "async")]
        let enc =
            enc | if o.callback.is_some() { 0x80 } else { 0 } | if o.is_async { 0x40 } else { 0 };
        self.u8(enc);
        #[cfg(feature = "async")]
        if let Some(f) = o.callback {
            self.u32(f);
        }
        self.opt_u32(o.memory);
        self.opt_u32(o.realloc);
        self.opt_u32(o.post_return);
    }

    fn step(&mut self, s: &Step) {
        match s {
            Step::Module(m) => {
                self.u8(0);
                self.u32(*m);
            }
            Step::ComponentDef(d) => {
                self.u8(1);
                self.u32(*d);
            }
            Step::OuterAlias {
                count,
                index,
                module,
            } => {
                self.u8(2);
                self.u32(*count);
                self.u32(*index);
                self.bool(*module);
            }
            Step::Instantiate { component, args } => {
                self.u8(3);
                self.u32(*component);
                self.len(args.len());
                for (n, r) in args.iter() {
                    self.str(n);
                    self.item_ref(*r);
                }
            }
            Step::CoreInstantiate { module, args } => {
                self.u8(4);
                self.u32(*module);
                self.len(args.len());
                for (n, i) in args.iter() {
                    self.str(n);
                    self.u32(*i);
                }
            }
            Step::CoreInstanceFromExports(items) => {
                self.u8(5);
                self.len(items.len());
                for (n, r) in items.iter() {
                    self.str(n);
                    self.core_ref(*r);
                }
            }
            Step::CoreAlias {
                instance,
                name,
                kind,
            } => {
                self.u8(6);
                self.u32(*instance);
                self.str(name);
                self.u8(match kind {
                    CoreKind::Func => 0,
                    CoreKind::Memory => 1,
                    CoreKind::Table => 2,
                    CoreKind::Global => 3,
                });
            }
            Step::Lower { func, ty, opts } => {
                self.u8(7);
                self.u32(*func);
                self.u32(*ty);
                self.opts(opts);
            }
            Step::Lift {
                core_func,
                ty,
                opts,
            } => {
                self.u8(8);
                self.u32(*core_func);
                self.u32(*ty);
                self.opts(opts);
            }
            Step::Import { import, space } => {
                self.u8(9);
                self.u32(*import);
                self.space(*space);
            }
            Step::Alias {
                instance,
                name,
                space,
            } => {
                self.u8(10);
                self.u32(*instance);
                self.str(name);
                self.space(*space);
            }
            Step::InstanceFromExports(items) => {
                self.u8(11);
                self.len(items.len());
                for (n, r) in items.iter() {
                    self.str(n);
                    self.item_ref(*r);
                }
            }
            Step::Reexport(r) => {
                self.u8(12);
                self.item_ref(*r);
            }
            Step::DefineResource { r, dtor } => {
                self.u8(13);
                self.u32(*r);
                self.opt_u32(*dtor);
            }
            Step::BindResource { r, from } => {
                self.u8(14);
                self.u32(*r);
                self.u32(*from);
            }
            Step::ResourceBuiltin { kind, r } => {
                self.u8(15);
                self.u8(match kind {
                    ResourceBuiltin::New => 0,
                    ResourceBuiltin::Drop => 1,
                    ResourceBuiltin::Rep => 2,
                });
                self.u32(*r);
            }
            #[cfg(feature = "async")]
            Step::AsyncBuiltin(builtin) => {
                self.u8(17);
                let (code, x) = builtin.to_code();
                self.u8(code);
                self.u32(x);
                if let crate::concurrent::builtins::Builtin::Stream(s) = builtin {
                    self.opt_val(s.elem);
                    self.u32(s.memory.unwrap_or(u32::MAX));
                    self.u32(s.realloc.unwrap_or(u32::MAX));
                    self.u8(match s.encoding {
                        StringEncoding::Utf8 => 0,
                        StringEncoding::Utf16 => 1,
                        StringEncoding::CompactUtf16 => 2,
                    });
                }
                if let crate::concurrent::builtins::Builtin::TaskReturn {
                    result, encoding, ..
                } = builtin
                {
                    self.opt_val(*result);
                    self.u8(match encoding {
                        StringEncoding::Utf8 => 0,
                        StringEncoding::Utf16 => 1,
                        StringEncoding::CompactUtf16 => 2,
                    });
                }
            }
            Step::BindInstanceResources { instance, binds } => {
                self.u8(16);
                self.u32(*instance);
                self.len(binds.len());
                for (path, r) in binds.iter() {
                    self.names(path);
                    self.u32(*r);
                }
            }
        }
    }
}

// ------------------------------------------------------------------ reading

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Where the payload starts in the image, for error offsets.
    base: usize,
}

impl<'a> Reader<'a> {
    fn err(&self, m: &str) -> Error {
        Error::load(self.base + self.pos, format!("component image: {m}"))
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(self.err("truncated")),
        }
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    /// A count of items that take at least one byte each: never more than
    /// the bytes left, so a corrupted count cannot make a huge allocation.
    fn len(&mut self) -> Result<usize> {
        let n = self.u32()? as usize;
        if n > self.bytes.len() - self.pos {
            return Err(self.err("a count larger than the image"));
        }
        Ok(n)
    }
    fn bool(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.err("bad boolean")),
        }
    }
    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.len()?;
        self.take(n)
    }
    fn str(&mut self) -> Result<Box<str>> {
        let b = self.bytes()?;
        core::str::from_utf8(b)
            .map(Box::from)
            .map_err(|_| self.err("a name is not UTF-8"))
    }
    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<Option<T>> {
        match self.u8()? {
            0 => Ok(None),
            1 => f(self).map(Some),
            _ => Err(self.err("bad option tag")),
        }
    }
    fn list<T>(&mut self, mut f: impl FnMut(&mut Self) -> Result<T>) -> Result<Vec<T>> {
        let n = self.len()?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(f(self)?);
        }
        Ok(v)
    }
    fn bad_tag(&self, what: &str) -> Error {
        self.err(&format!("bad {what} tag"))
    }

    fn val(&mut self) -> Result<ValType> {
        Ok(match self.u8()? {
            0 => ValType::Bool,
            1 => ValType::S8,
            2 => ValType::U8,
            3 => ValType::S16,
            4 => ValType::U16,
            5 => ValType::S32,
            6 => ValType::U32,
            7 => ValType::S64,
            8 => ValType::U64,
            9 => ValType::F32,
            10 => ValType::F64,
            11 => ValType::Char,
            12 => ValType::String,
            13 => ValType::Own(self.u32()?),
            14 => ValType::Borrow(self.u32()?),
            15 => ValType::Def(self.u32()?),
            _ => return Err(self.bad_tag("value type")),
        })
    }
    fn named_vals(&mut self) -> Result<NamedVals> {
        Ok(self.list(|r| Ok((r.str()?, r.val()?)))?.into_boxed_slice())
    }
    fn names(&mut self) -> Result<Box<[Box<str>]>> {
        Ok(self.list(|r| r.str())?.into_boxed_slice())
    }

    fn arena(&mut self, engine: &Engine) -> Result<TypeArena> {
        let mut a = TypeArena::with_max_depth(engine.config.limits.max_type_depth);
        let max_depth = self.u32()?;
        if max_depth != a.max_depth {
            return Err(self.err("made under another type nesting bound"));
        }
        a.set_resource_count(self.u32()?);
        let n = self.len()?;
        for _ in 0..n {
            let d = match self.u8()? {
                0 => DefType::List(self.val()?),
                1 => DefType::Record(self.named_vals()?),
                2 => DefType::Tuple(self.list(|r| r.val())?.into_boxed_slice()),
                3 => DefType::Variant(
                    self.list(|r| {
                        Ok(Case {
                            name: r.str()?,
                            ty: r.opt(|r| r.val())?,
                        })
                    })?
                    .into_boxed_slice(),
                ),
                4 => DefType::Enum(self.names()?),
                5 => DefType::Option(self.val()?),
                6 => DefType::Result {
                    ok: self.opt(|r| r.val())?,
                    err: self.opt(|r| r.val())?,
                },
                7 => DefType::Flags(self.names()?),
                #[cfg(feature = "async")]
                8 => DefType::Stream(self.opt(|r| r.val())?),
                #[cfg(feature = "async")]
                9 => DefType::Future(self.opt(|r| r.val())?),
                #[cfg(feature = "async")]
                10 => DefType::ErrorContext,
                _ => return Err(self.bad_tag("defined type")),
            };
            // Children come first (the interner pushes them before their
            // parents): then layouts can be computed, and type walks end.
            if !def_refs_ok(&a, &d) {
                return Err(self.err("a type refers to a later or missing type"));
            }
            a.push_def(d)?;
        }
        a.funcs = self.list(|r| {
            let params = r.named_vals()?;
            let tag = r.u8()?;
            #[cfg(feature = "async")]
            let (is_async, tag) = (tag & 2 != 0, tag & !2);
            let result = match tag {
                0 => None,
                1 => Some(r.val()?),
                _ => return Err(r.err("bad function result tag")),
            };
            Ok(FuncTy {
                params,
                result,
                #[cfg(feature = "async")]
                is_async,
            })
        })?;
        Ok(a)
    }

    fn def(&mut self) -> Result<ComponentDef> {
        let steps = self.list(|r| r.step())?;
        let imports = self.list(|r| {
            Ok(Import {
                name: r.str()?,
                kind: r.kind(0)?,
            })
        })?;
        let exports = self.list(|r| Ok((r.str()?, r.item_ref()?)))?;
        Ok(ComponentDef {
            steps,
            imports,
            exports,
        })
    }

    fn kind(&mut self, depth: u32) -> Result<ImportKind> {
        if depth > MAX_NESTING {
            return Err(self.err("instance types nest too deeply"));
        }
        Ok(match self.u8()? {
            0 => ImportKind::Func(self.u32()?),
            1 => ImportKind::Instance(self.list(|r| Ok((r.str()?, r.kind(depth + 1)?)))?),
            2 => ImportKind::Type,
            3 => ImportKind::Resource {
                r: self.u32()?,
                eq: self.bool()?,
            },
            4 => ImportKind::Module(self.opt(|r| r.module_type().map(Box::new))?),
            5 => ImportKind::Component,
            _ => return Err(self.bad_tag("item kind")),
        })
    }

    fn module_type(&mut self) -> Result<CoreModuleType> {
        Ok(CoreModuleType {
            imports: self.list(|r| Ok((r.str()?, r.str()?, r.core_extern()?)))?,
            exports: self.list(|r| Ok((r.str()?, r.core_extern()?)))?,
        })
    }

    fn core_val(&mut self) -> Result<CoreVal> {
        Ok(match self.u8()? {
            0 => CoreVal::I32,
            1 => CoreVal::I64,
            2 => CoreVal::F32,
            3 => CoreVal::F64,
            4 => CoreVal::V128,
            5 => CoreVal::FuncRef,
            6 => CoreVal::ExternRef,
            _ => return Err(self.bad_tag("core value type")),
        })
    }

    fn core_extern(&mut self) -> Result<CoreExtern> {
        Ok(match self.u8()? {
            0 => CoreExtern::Func {
                params: self.list(|r| r.core_val())?.into_boxed_slice(),
                results: self.list(|r| r.core_val())?.into_boxed_slice(),
            },
            1 => CoreExtern::Memory {
                is_64: self.bool()?,
                min: self.u64()?,
                max: self.opt(|r| r.u64())?,
            },
            2 => CoreExtern::Table {
                elem: self.core_val()?,
                is_64: self.bool()?,
                min: self.u64()?,
                max: self.opt(|r| r.u64())?,
            },
            3 => CoreExtern::Global {
                content: self.core_val()?,
                mutable: self.bool()?,
            },
            _ => return Err(self.bad_tag("core extern")),
        })
    }

    fn item_ref(&mut self) -> Result<ItemRef> {
        let tag = self.u8()?;
        let x = self.u32()?;
        Ok(match tag {
            0 => ItemRef::Func(x),
            1 => ItemRef::Instance(x),
            2 => ItemRef::Module(x),
            3 => ItemRef::Component(x),
            4 => ItemRef::Type,
            5 => ItemRef::Resource(x),
            _ => return Err(self.bad_tag("item reference")),
        })
    }

    fn core_ref(&mut self) -> Result<CoreRef> {
        let tag = self.u8()?;
        let x = self.u32()?;
        Ok(match tag {
            0 => CoreRef::Func(x),
            1 => CoreRef::Memory(x),
            2 => CoreRef::Table(x),
            3 => CoreRef::Global(x),
            _ => return Err(self.bad_tag("core reference")),
        })
    }

    fn space(&mut self) -> Result<Space> {
        let tag = self.u8()?;
        let x = self.u32()?;
        Ok(match tag {
            0 => Space::Func,
            1 => Space::Instance,
            2 => Space::Module,
            3 => Space::Component,
            4 => Space::Resource(x),
            _ => return Err(self.bad_tag("index space")),
        })
    }

    fn opts(&mut self) -> Result<CanonOpts> {
        let enc = self.u8()?;
        #[cfg(feature = "async")]
        #[cfg(feature = "async")]
        let is_async = enc & 0x40 != 0;
        #[cfg(feature = "async")]
        let (enc, callback) = if enc & 0x80 != 0 {
            (enc & 0x3f, Some(self.u32()?))
        } else {
            (enc & 0x3f, None)
        };
        Ok(CanonOpts {
            encoding: match enc {
                0 => StringEncoding::Utf8,
                1 => StringEncoding::Utf16,
                2 => StringEncoding::CompactUtf16,
                _ => return Err(self.bad_tag("string encoding")),
            },
            memory: self.opt(|r| r.u32())?,
            realloc: self.opt(|r| r.u32())?,
            post_return: self.opt(|r| r.u32())?,
            #[cfg(feature = "async")]
            callback,
            #[cfg(feature = "async")]
            is_async,
        })
    }

    fn step(&mut self) -> Result<Step> {
        Ok(match self.u8()? {
            0 => Step::Module(self.u32()?),
            1 => Step::ComponentDef(self.u32()?),
            2 => Step::OuterAlias {
                count: self.u32()?,
                index: self.u32()?,
                module: self.bool()?,
            },
            3 => Step::Instantiate {
                component: self.u32()?,
                args: self
                    .list(|r| Ok((r.str()?, r.item_ref()?)))?
                    .into_boxed_slice(),
            },
            4 => Step::CoreInstantiate {
                module: self.u32()?,
                args: self.list(|r| Ok((r.str()?, r.u32()?)))?.into_boxed_slice(),
            },
            5 => Step::CoreInstanceFromExports(
                self.list(|r| Ok((r.str()?, r.core_ref()?)))?
                    .into_boxed_slice(),
            ),
            6 => Step::CoreAlias {
                instance: self.u32()?,
                name: self.str()?,
                kind: match self.u8()? {
                    0 => CoreKind::Func,
                    1 => CoreKind::Memory,
                    2 => CoreKind::Table,
                    3 => CoreKind::Global,
                    _ => return Err(self.bad_tag("core kind")),
                },
            },
            7 => Step::Lower {
                func: self.u32()?,
                ty: self.u32()?,
                opts: self.opts()?,
            },
            8 => Step::Lift {
                core_func: self.u32()?,
                ty: self.u32()?,
                opts: self.opts()?,
            },
            9 => Step::Import {
                import: self.u32()?,
                space: self.space()?,
            },
            10 => Step::Alias {
                instance: self.u32()?,
                name: self.str()?,
                space: self.space()?,
            },
            11 => Step::InstanceFromExports(
                self.list(|r| Ok((r.str()?, r.item_ref()?)))?
                    .into_boxed_slice(),
            ),
            12 => Step::Reexport(self.item_ref()?),
            13 => Step::DefineResource {
                r: self.u32()?,
                dtor: self.opt(|r| r.u32())?,
            },
            14 => Step::BindResource {
                r: self.u32()?,
                from: self.u32()?,
            },
            15 => Step::ResourceBuiltin {
                kind: match self.u8()? {
                    0 => ResourceBuiltin::New,
                    1 => ResourceBuiltin::Drop,
                    2 => ResourceBuiltin::Rep,
                    _ => return Err(self.bad_tag("resource built-in")),
                },
                r: self.u32()?,
            },
            16 => Step::BindInstanceResources {
                instance: self.u32()?,
                binds: self
                    .list(|r| Ok((r.names()?, r.u32()?)))?
                    .into_boxed_slice(),
            },
            #[cfg(feature = "async")]
            17 => {
                use crate::concurrent::builtins::Builtin;
                let (code, x) = (self.u8()?, self.u32()?);
                Step::AsyncBuiltin(if code == 8 {
                    Builtin::TaskReturn {
                        memory: (x != u32::MAX).then_some(x),
                        result: self.opt(|r| r.val())?,
                        encoding: match self.u8()? {
                            0 => StringEncoding::Utf8,
                            1 => StringEncoding::Utf16,
                            2 => StringEncoding::CompactUtf16,
                            _ => return Err(self.bad_tag("string encoding")),
                        },
                    }
                } else if crate::concurrent::streams::StreamBuiltin::is_code(code) {
                    let elem = self.opt(|r| r.val())?;
                    let index = |v: u32| (v != u32::MAX).then_some(v);
                    let memory = index(self.u32()?);
                    let realloc = index(self.u32()?);
                    let encoding = match self.u8()? {
                        0 => StringEncoding::Utf8,
                        1 => StringEncoding::Utf16,
                        2 => StringEncoding::CompactUtf16,
                        _ => return Err(self.bad_tag("string encoding")),
                    };
                    Builtin::Stream(
                        crate::concurrent::streams::StreamBuiltin::from_code(
                            code, x, elem, memory, realloc, encoding,
                        )
                        .ok_or_else(|| self.bad_tag("async built-in"))?,
                    )
                } else {
                    Builtin::from_code(code, x).ok_or_else(|| self.bad_tag("async built-in"))?
                })
            }
            _ => return Err(self.bad_tag("init step")),
        })
    }
}
