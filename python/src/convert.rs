//! Converting Python values to component values (`lower`) and back
//! (`lift`), guided by the function's types. A bad argument gives a
//! [`ConvError`] naming where it is; nothing here panics on any input.

use std::sync::Arc;

use componentry::{ResourceAny, StoreContextMut, Val};
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple,
};
use pyo3::IntoPyObjectExt;

use crate::errors::{class, short_repr, ConvError};
use crate::handle::Handle;
use crate::state::{HostState, InstShared, ResTable};
use crate::types::{Ty, VariantTy};

/// What a conversion needs: the store (host resources), the instance's
/// resource types, and what to undo or finish after the call.
pub struct Cx<'a, 's> {
    /// The store.
    pub store: &'a mut StoreContextMut<'s, HostState>,
    /// The instance's resource types.
    pub res: &'a ResTable,
    /// The instance, to wrap the component's resource handles.
    pub inst: Option<Arc<InstShared>>,
    /// Handles passed as `own`: closed once the call has happened.
    pub moved: Vec<Py<Handle>>,
    /// Host objects lent as `borrow` for the call, with their handles:
    /// both removed after it.
    pub lent: Vec<(u32, ResourceAny)>,
    /// Handles of host objects given as `own`: dropped if the call does
    /// not happen (a later argument is wrong).
    pub created: Vec<ResourceAny>,
}

type CResult<T> = Result<T, ConvError>;

fn got(expected: &str, obj: &Bound<'_, PyAny>) -> ConvError {
    ConvError::ty(format!("expected {expected}, got {}", short_repr(obj)))
}

fn py_err(e: PyErr) -> ConvError {
    let mut c = ConvError::ty(format!("{e}"));
    c.cause = Some(e);
    c
}

fn int(obj: &Bound<'_, PyAny>, name: &str, min: i128, max: i128) -> CResult<i128> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(got(name, obj));
    }
    match obj.extract::<i128>() {
        Ok(v) if v >= min && v <= max => Ok(v),
        _ => Err(ConvError::value(format!(
            "expected {name}, got {}",
            short_repr(obj)
        ))),
    }
}

fn float(obj: &Bound<'_, PyAny>, name: &str) -> CResult<f64> {
    if obj.is_instance_of::<PyFloat>()
        || (obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>())
    {
        obj.extract::<f64>()
            .map_err(|_| ConvError::value(format!("expected {name}, got {}", short_repr(obj))))
    } else {
        Err(got(name, obj))
    }
}

/// The longest `list<u8>` the canonical ABI allows (2^28 - 1 bytes).
const MAX_LIST_BYTES: usize = (1 << 28) - 1;

fn no_memory(n: usize) -> ConvError {
    let mut c = ConvError::value(format!("no memory for a list of {n} values"));
    c.cause = Some(pyo3::exceptions::PyMemoryError::new_err(format!(
        "no memory for a list of {n} values"
    )));
    c
}

/// `bytes` as a `list<u8>` value; too long a list is a `ValueError`, and
/// memory that cannot be had a `MemoryError` (never an abort).
fn byte_vals(bytes: &[u8]) -> CResult<Val> {
    if bytes.len() > MAX_LIST_BYTES {
        return Err(ConvError::value(format!(
            "a list<u8> of {} bytes is longer than the canonical ABI allows (2^28 - 1)",
            bytes.len()
        )));
    }
    let mut out = Vec::new();
    out.try_reserve_exact(bytes.len())
        .map_err(|_| no_memory(bytes.len()))?;
    out.extend(bytes.iter().map(|b| Val::U8(*b)));
    Ok(Val::List(out))
}

/// The bytes of a bytes-like object (`bytes`, `bytearray`, `memoryview`,
/// anything with the buffer protocol), or of a list of ints.
fn bytes_of(obj: &Bound<'_, PyAny>) -> CResult<Vec<u8>> {
    if let Ok(b) = obj.downcast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = obj.downcast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if obj.is_instance_of::<PyString>() {
        return Err(got("bytes", obj));
    }
    if let Ok(buf) = PyBuffer::<u8>::get(obj) {
        return buf.to_vec(obj.py()).map_err(py_err);
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for (i, x) in obj.try_iter().map_err(py_err)?.enumerate() {
            let x = x.map_err(py_err)?;
            out.push(int(&x, "u8", 0, 255).map_err(|e| e.at(format!("[{i}]")))? as u8);
        }
        return Ok(out);
    }
    Err(got("bytes (or a bytes-like object)", obj))
}

fn field<'py>(
    obj: &Bound<'py, PyAny>,
    py_name: &Bound<'py, PyString>,
    wit: &str,
) -> Option<Bound<'py, PyAny>> {
    if let Ok(d) = obj.downcast::<PyDict>() {
        if let Ok(Some(v)) = d.get_item(py_name) {
            return Some(v);
        }
        return d.get_item(wit).ok().flatten();
    }
    obj.getattr(py_name).ok()
}

fn class_name(cls: &Py<PyAny>, py: Python<'_>) -> String {
    cls.bind(py)
        .getattr("__qualname__")
        .and_then(|n| n.extract::<String>())
        .unwrap_or_default()
}

/// Converts `obj` to a value of type `ty`.
pub fn lower(cx: &mut Cx<'_, '_>, ty: &Ty, obj: &Bound<'_, PyAny>) -> CResult<Val> {
    let py = obj.py();
    Ok(match ty {
        Ty::Bool => match obj.downcast::<PyBool>() {
            Ok(b) => Val::Bool(b.is_true()),
            Err(_) => return Err(got("bool", obj)),
        },
        Ty::S8 => Val::S8(int(obj, "s8", i8::MIN.into(), i8::MAX.into())? as i8),
        Ty::U8 => Val::U8(int(obj, "u8", 0, u8::MAX.into())? as u8),
        Ty::S16 => Val::S16(int(obj, "s16", i16::MIN.into(), i16::MAX.into())? as i16),
        Ty::U16 => Val::U16(int(obj, "u16", 0, u16::MAX.into())? as u16),
        Ty::S32 => Val::S32(int(obj, "s32", i32::MIN.into(), i32::MAX.into())? as i32),
        Ty::U32 => Val::U32(int(obj, "u32", 0, u32::MAX.into())? as u32),
        Ty::S64 => Val::S64(int(obj, "s64", i64::MIN.into(), i64::MAX.into())? as i64),
        Ty::U64 => Val::U64(int(obj, "u64", 0, u64::MAX.into())? as u64),
        Ty::F32 => Val::Float32(float(obj, "f32")? as f32),
        Ty::F64 => Val::Float64(float(obj, "f64")?),
        Ty::Char => {
            let s = obj
                .downcast::<PyString>()
                .map_err(|_| got("char (a str of length 1)", obj))?;
            let s = s
                .to_str()
                .map_err(|_| ConvError::value("expected char, got a lone surrogate".into()))?;
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => Val::Char(c),
                _ => {
                    return Err(ConvError::value(format!(
                        "expected char (a str of length 1), got {}",
                        short_repr(obj)
                    )))
                }
            }
        }
        Ty::String => {
            let s = obj
                .downcast::<PyString>()
                .map_err(|_| got("string (str)", obj))?;
            Val::String(
                s.to_str()
                    .map_err(|_| {
                        ConvError::value("expected string, got a str with lone surrogates".into())
                    })?
                    .to_string(),
            )
        }
        Ty::Bytes => match obj.downcast::<PyBytes>() {
            Ok(b) => byte_vals(b.as_bytes())?,
            Err(_) => byte_vals(&bytes_of(obj)?)?,
        },
        Ty::List(elem) => {
            if obj.is_instance_of::<PyString>()
                || obj.is_instance_of::<PyBytes>()
                || obj.is_instance_of::<PyDict>()
            {
                return Err(got("list", obj));
            }
            let it = obj.try_iter().map_err(|_| got("list", obj))?;
            let mut out = Vec::new();
            if let Ok(n) = obj.len() {
                out.try_reserve_exact(n).map_err(|_| no_memory(n))?;
            }
            for (i, x) in it.enumerate() {
                let x = x.map_err(py_err)?;
                out.push(lower(cx, elem, &x).map_err(|e| e.at(format!("[{i}]")))?);
            }
            Val::List(out)
        }
        Ty::Tuple(ts) => {
            let items: Vec<Bound<'_, PyAny>> = if let Ok(t) = obj.downcast::<PyTuple>() {
                t.iter().collect()
            } else if let Ok(l) = obj.downcast::<PyList>() {
                l.iter().collect()
            } else {
                return Err(got(&format!("tuple of {}", ts.len()), obj));
            };
            if items.len() != ts.len() {
                return Err(ConvError::value(format!(
                    "expected a tuple of {} items, got {}",
                    ts.len(),
                    items.len()
                )));
            }
            let mut out = Vec::with_capacity(ts.len());
            for (i, (t, x)) in ts.iter().zip(&items).enumerate() {
                out.push(lower(cx, t, x).map_err(|e| e.at(format!("[{i}]")))?);
            }
            Val::Tuple(out)
        }
        Ty::Record(r) => {
            if obj.is_none() || obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyString>() {
                return Err(got(
                    &format!("{} (record {})", class_name(&r.cls, py), r.wit),
                    obj,
                ));
            }
            let mut out = Vec::with_capacity(r.fields.len());
            for (wit, pyname, t) in &r.fields {
                let Some(v) = field(obj, pyname.bind(py), wit) else {
                    return Err(got(
                        &format!(
                            "{} (record {}; no field {wit})",
                            class_name(&r.cls, py),
                            r.wit
                        ),
                        obj,
                    ));
                };
                out.push((
                    wit.clone(),
                    lower(cx, t, &v).map_err(|e| e.at(wit.clone()))?,
                ));
            }
            Val::Record(out)
        }
        Ty::Variant(v) => lower_variant(cx, v, obj)?,
        Ty::Enum(e) => {
            let name = if obj.is_instance(e.cls.bind(py)).unwrap_or(false) {
                obj.getattr("value")
                    .ok()
                    .and_then(|v| v.extract::<String>().ok())
            } else {
                obj.extract::<String>().ok()
            };
            match name {
                Some(n) if e.names.contains(&n) => Val::Enum(n),
                _ => {
                    return Err(got(
                        &format!("{} (enum {})", class_name(&e.cls, py), e.wit),
                        obj,
                    ))
                }
            }
        }
        Ty::Flags(f) => {
            if !obj.is_instance(f.cls.bind(py)).unwrap_or(false) {
                return Err(got(
                    &format!("{} (flags {})", class_name(&f.cls, py), f.wit),
                    obj,
                ));
            }
            let bits: u64 = obj
                .getattr("value")
                .and_then(|v| v.extract())
                .map_err(py_err)?;
            Val::Flags(
                f.names
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i < 64 && bits & (1u64 << i) != 0)
                    .map(|(_, n)| n.clone())
                    .collect(),
            )
        }
        Ty::Option(inner, wrap) => {
            if obj.is_none() {
                Val::Option(None)
            } else if *wrap {
                let some = class(py, "Some").map_err(py_err)?;
                if !obj.is_instance(&some).unwrap_or(false) {
                    return Err(got("None or Some(...) (a nested option)", obj));
                }
                let v = obj.getattr("value").map_err(py_err)?;
                Val::Option(Some(Box::new(lower(cx, inner, &v)?)))
            } else {
                Val::Option(Some(Box::new(lower(cx, inner, obj)?)))
            }
        }
        Ty::Result(ok, err) => {
            let is_ok = obj
                .is_instance(&class(py, "Ok").map_err(py_err)?)
                .unwrap_or(false);
            let is_err = obj
                .is_instance(&class(py, "Err").map_err(py_err)?)
                .unwrap_or(false);
            if !is_ok && !is_err {
                return Err(got("Ok(...) or Err(...)", obj));
            }
            let v = obj.getattr("value").map_err(py_err)?;
            if is_ok {
                Val::Result(Ok(payload(cx, ok.as_deref(), &v).map_err(|e| e.at("ok"))?))
            } else {
                Val::Result(Err(
                    payload(cx, err.as_deref(), &v).map_err(|e| e.at("err"))?
                ))
            }
        }
        Ty::Own(i) | Ty::Borrow(i) => lower_resource(cx, *i, matches!(ty, Ty::Own(_)), obj)?,
    })
}

/// A case or result payload: `None` where the type has none.
pub fn payload(
    cx: &mut Cx<'_, '_>,
    ty: Option<&Ty>,
    v: &Bound<'_, PyAny>,
) -> CResult<Option<Box<Val>>> {
    match ty {
        Some(t) => Ok(Some(Box::new(lower(cx, t, v)?))),
        None if v.is_none() => Ok(None),
        None => Err(got("None (no payload)", v)),
    }
}

fn lower_variant(cx: &mut Cx<'_, '_>, v: &VariantTy, obj: &Bound<'_, PyAny>) -> CResult<Val> {
    let py = obj.py();
    for case in &v.cases {
        if obj.is_instance(case.cls.bind(py)).unwrap_or(false) {
            let p = match &case.ty {
                Some(t) => {
                    let x = obj.getattr("value").map_err(py_err)?;
                    Some(Box::new(
                        lower(cx, t, &x).map_err(|e| e.at(case.wit.clone()))?,
                    ))
                }
                None => None,
            };
            return Ok(Val::Variant(case.wit.clone(), p));
        }
    }
    Err(got(
        &format!("{} (variant {})", class_name(&v.cls, py), v.wit),
        obj,
    ))
}

fn lower_resource(
    cx: &mut Cx<'_, '_>,
    i: usize,
    own: bool,
    obj: &Bound<'_, PyAny>,
) -> CResult<Val> {
    let py = obj.py();
    let Some(entry) = cx.res.entries.get(i) else {
        return Err(ConvError::ty("unknown resource type".into()));
    };
    let cls = entry.cls.bind(py);
    if !obj.is_instance(cls).unwrap_or(false) {
        return Err(got(
            &format!("{} (a resource)", class_name(&entry.cls, py)),
            obj,
        ));
    }
    if let Some(ty) = entry.host {
        let rep = cx
            .store
            .data_mut()
            .objects
            .insert(obj.clone().unbind())
            .ok_or_else(|| ConvError::value("too many host resources".into()))?;
        return match ResourceAny::new_host(&mut *cx.store, ty, rep, own) {
            Ok(h) => {
                if own {
                    cx.created.push(h);
                } else {
                    cx.lent.push((rep, h));
                }
                Ok(Val::Resource(h))
            }
            Err(e) => {
                cx.store.data_mut().objects.remove(rep);
                Err(ConvError::value(e.message().to_string()))
            }
        };
    }
    let h = obj
        .getattr("_h")
        .map_err(|_| got("an open resource", obj))?;
    let h = h
        .downcast::<Handle>()
        .map_err(|_| got("a resource made by this instance", obj))?;
    let any = h
        .get()
        .peek()
        .ok_or_else(|| ConvError::value("the resource was closed or moved".into()))?;
    if own {
        cx.moved.push(h.clone().unbind());
    }
    Ok(Val::Resource(any))
}

/// Converts `v`, of type `ty`, to a Python value.
pub fn lift<'py>(
    py: Python<'py>,
    cx: &mut Cx<'_, '_>,
    ty: &Ty,
    v: Val,
) -> PyResult<Bound<'py, PyAny>> {
    let mismatch = || {
        PyErr::from_value(
            class(py, "UsageError")
                .and_then(|c| c.call1(("a value does not match its type",)))
                .unwrap_or_else(|e| e.into_value(py).into_bound(py).into_any()),
        )
    };
    Ok(match (ty, v) {
        (Ty::Bool, Val::Bool(b)) => b.into_bound_py_any(py)?,
        (Ty::S8, Val::S8(x)) => x.into_bound_py_any(py)?,
        (Ty::U8, Val::U8(x)) => x.into_bound_py_any(py)?,
        (Ty::S16, Val::S16(x)) => x.into_bound_py_any(py)?,
        (Ty::U16, Val::U16(x)) => x.into_bound_py_any(py)?,
        (Ty::S32, Val::S32(x)) => x.into_bound_py_any(py)?,
        (Ty::U32, Val::U32(x)) => x.into_bound_py_any(py)?,
        (Ty::S64, Val::S64(x)) => x.into_bound_py_any(py)?,
        (Ty::U64, Val::U64(x)) => x.into_bound_py_any(py)?,
        (Ty::F32, Val::Float32(x)) => f64::from(x).into_bound_py_any(py)?,
        (Ty::F64, Val::Float64(x)) => x.into_bound_py_any(py)?,
        (Ty::Char, Val::Char(c)) => c.into_bound_py_any(py)?,
        (Ty::String, Val::String(s)) => s.into_bound_py_any(py)?,
        (Ty::Bytes, Val::List(vs)) => {
            let mut bytes = Vec::with_capacity(vs.len());
            for v in vs {
                match v {
                    Val::U8(b) => bytes.push(b),
                    _ => return Err(mismatch()),
                }
            }
            PyBytes::new(py, &bytes).into_any()
        }
        (Ty::List(e), Val::List(vs)) => {
            let list = PyList::empty(py);
            for v in vs {
                list.append(lift(py, cx, e, v)?)?;
            }
            list.into_any()
        }
        (Ty::Tuple(ts), Val::Tuple(vs)) if ts.len() == vs.len() => {
            let mut items = Vec::with_capacity(vs.len());
            for (t, v) in ts.iter().zip(vs) {
                items.push(lift(py, cx, t, v)?);
            }
            PyTuple::new(py, items)?.into_any()
        }
        (Ty::Record(r), Val::Record(fs)) if fs.len() == r.fields.len() => {
            let mut items = Vec::with_capacity(fs.len());
            for ((_, _, t), (_, v)) in r.fields.iter().zip(fs) {
                items.push(lift(py, cx, t, v)?);
            }
            r.cls.bind(py).call1(PyTuple::new(py, items)?)?
        }
        (Ty::Variant(vt), Val::Variant(name, p)) => {
            let case = vt
                .cases
                .iter()
                .find(|c| c.wit == name)
                .ok_or_else(mismatch)?;
            match (&case.ty, p) {
                (Some(t), Some(p)) => case.cls.bind(py).call1((lift(py, cx, t, *p)?,))?,
                (None, None) => case.cls.bind(py).call0()?,
                _ => return Err(mismatch()),
            }
        }
        (Ty::Enum(e), Val::Enum(name)) => {
            let i = e
                .names
                .iter()
                .position(|n| *n == name)
                .ok_or_else(mismatch)?;
            e.members[i].bind(py).clone()
        }
        (Ty::Flags(f), Val::Flags(set)) => {
            let mut bits = 0u64;
            for (i, n) in f.names.iter().enumerate() {
                if i < 64 && set.contains(n) {
                    bits |= 1 << i;
                }
            }
            f.cls.bind(py).call1((bits,))?
        }
        (Ty::Option(_, _), Val::Option(None)) => py.None().into_bound(py),
        (Ty::Option(t, wrap), Val::Option(Some(v))) => {
            let x = lift(py, cx, t, *v)?;
            if *wrap {
                class(py, "Some")?.call1((x,))?
            } else {
                x
            }
        }
        (Ty::Result(ok, err), Val::Result(r)) => {
            let (name, t, p) = match r {
                Ok(p) => ("Ok", ok, p),
                Err(p) => ("Err", err, p),
            };
            let x = lift_payload(py, cx, t.as_deref(), p)?;
            class(py, name)?.call1((x,))?
        }
        (Ty::Own(i) | Ty::Borrow(i), Val::Resource(h)) => lift_resource(py, cx, *i, h)?,
        _ => return Err(mismatch()),
    })
}

/// A case or result payload as a Python value (`None` where it has none).
pub fn lift_payload<'py>(
    py: Python<'py>,
    cx: &mut Cx<'_, '_>,
    ty: Option<&Ty>,
    p: Option<Box<Val>>,
) -> PyResult<Bound<'py, PyAny>> {
    match (ty, p) {
        (Some(t), Some(v)) => lift(py, cx, t, *v),
        _ => Ok(py.None().into_bound(py)),
    }
}

fn lift_resource<'py>(
    py: Python<'py>,
    cx: &mut Cx<'_, '_>,
    i: usize,
    h: ResourceAny,
) -> PyResult<Bound<'py, PyAny>> {
    let entry =
        cx.res.entries.get(i).ok_or_else(|| {
            crate::errors::named(py, "UsageError", "unknown resource type".into())
        })?;
    if entry.host.is_some() {
        let owned = h.owned();
        let (_, rep) = h
            .into_host(&mut *cx.store)
            .map_err(|e| crate::errors::to_py(py, &e))?;
        let objects = &mut cx.store.data_mut().objects;
        let obj = if owned {
            objects.remove(rep)
        } else {
            objects.get(py, rep)
        };
        return obj
            .map(|o| o.into_bound(py))
            .ok_or_else(|| crate::errors::named(py, "UsageError", "stale host resource".into()));
    }
    let inst = match &cx.inst {
        Some(i) => i.clone(),
        None => cx
            .res
            .inst
            .get()
            .and_then(|w| w.upgrade())
            .ok_or_else(|| crate::errors::named(py, "UsageError", "instance is gone".into()))?,
    };
    let handle = Py::new(py, Handle::new(h, inst))?;
    entry.cls.bind(py).call_method1("_wrap", (handle,))
}
