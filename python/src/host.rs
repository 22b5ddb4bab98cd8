//! Host functions written in Python: the component calls a Python
//! callable (or a method of a host resource's class) with Python values.

use std::sync::Arc;

use componentry::{Error, LinkerInstance, StoreContextMut, Val};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::convert::{lift, lower, payload, Cx};
use crate::errors::class;
use crate::state::{HostState, ResTable};
use crate::types::{FnTy, Ty};

/// What a host function calls.
pub enum Target {
    /// A callable.
    Plain(Py<PyAny>),
    /// `[constructor]r`: the class.
    Constructor(Py<PyAny>),
    /// `[method]r.m`: the method of the first argument named so.
    Method(String),
    /// `[static]r.s`: the class's attribute named so.
    Static(Py<PyAny>, String),
}

/// A host function: its type, what it calls and the instance's resources.
pub struct HostFn {
    /// The function type.
    pub ty: Arc<FnTy>,
    /// What it calls.
    pub target: Target,
    /// The instance's resource types.
    pub res: Arc<ResTable>,
}

/// Defines `f` as `name` in `linker`. A Python exception becomes a trap
/// (kind "host error") whose `__cause__` is the exception.
pub fn define(
    linker: &mut LinkerInstance<'_, HostState>,
    name: &str,
    f: Arc<HostFn>,
) -> componentry::Result<()> {
    linker.func_new(name, move |mut cx, params, results| {
        Python::with_gil(|py| match call(py, &f, &mut cx, params, results) {
            Ok(()) => Ok(()),
            Err(e) => {
                let msg = format!("{}: {e}", f.ty.wit);
                cx.data_mut().pending = Some(e);
                Err(Error::host(msg))
            }
        })
    })
}

fn call(
    py: Python<'_>,
    f: &HostFn,
    store: &mut StoreContextMut<'_, HostState>,
    params: &[Val],
    results: &mut [Val],
) -> PyResult<()> {
    let mut cx = Cx {
        store,
        res: &f.res,
        inst: None,
        moved: Vec::new(),
        lent: Vec::new(),
        created: Vec::new(),
    };
    let mut args = Vec::with_capacity(params.len());
    for ((_, _, t), v) in f.ty.params.iter().zip(params) {
        args.push(lift(py, &mut cx, t, v.clone())?);
    }
    let ret = match &f.target {
        Target::Plain(c) => c.bind(py).call1(PyTuple::new(py, args)?),
        Target::Constructor(cls) => cls.bind(py).call1(PyTuple::new(py, args)?),
        Target::Method(m) => match args.split_first() {
            Some((this, rest)) => this.getattr(m.as_str())?.call1(PyTuple::new(py, rest)?),
            None => Err(pyo3::exceptions::PyTypeError::new_err(
                "method without self",
            )),
        },
        Target::Static(cls, s) => cls
            .bind(py)
            .getattr(s.as_str())?
            .call1(PyTuple::new(py, args)?),
    };
    let err_cls = class(py, "Err")?;
    let (Some(slot), Some(rt)) = (results.first_mut(), f.ty.result.as_ref()) else {
        ret?;
        return Ok(());
    };
    let where_ = format!("{} (its result)", f.ty.wit);
    let v = match rt {
        Ty::Result(ok, err) => {
            let (is_err, value) = match ret {
                Ok(v) if v.is_instance(&err_cls)? => (true, v.getattr("value")?),
                Ok(v) if v.is_instance(&class(py, "Ok")?)? => (false, v.getattr("value")?),
                Ok(v) => (false, v),
                Err(e) if e.is_instance(py, &err_cls) => (true, e.value(py).getattr("value")?),
                Err(e) => return Err(e),
            };
            let t = if is_err { err } else { ok };
            let p = payload(&mut cx, t.as_deref(), &value).map_err(|e| e.into_py(py, &where_))?;
            Val::Result(if is_err { Err(p) } else { Ok(p) })
        }
        t => lower(&mut cx, t, &ret?).map_err(|e| e.into_py(py, &where_))?,
    };
    *slot = v;
    Ok(())
}
