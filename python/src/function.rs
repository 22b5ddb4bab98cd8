//! `Function`: an exported function of an instance, called with Python
//! values.

use std::sync::Arc;

use componentry::{AsContextMut, Func, Val};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::convert::{lift, lift_payload, lower, Cx};
use crate::errors::{class, named, to_py};
use crate::state::{EnterError, InstShared};
use crate::types::{FnTy, Ty};

/// An exported function. Calling it converts the arguments by the WIT
/// types, calls the component and converts the result back.
#[pyclass(module = "componentry._native", frozen)]
pub struct Function {
    inst: Arc<InstShared>,
    func: Func,
    ty: Arc<FnTy>,
}

impl Function {
    /// The function `func` of `inst`, of type `ty`.
    pub fn new(inst: Arc<InstShared>, func: Func, ty: Arc<FnTy>) -> Self {
        Function { inst, func, ty }
    }
}

/// Matches positional and keyword arguments to the parameters.
fn bind<'py>(
    ty: &FnTy,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let n = ty.params.len();
    if args.len() > n {
        return Err(PyTypeError::new_err(format!(
            "{}: takes {n} argument{}, got {}",
            ty.wit,
            if n == 1 { "" } else { "s" },
            args.len()
        )));
    }
    let mut out: Vec<Option<Bound<'py, PyAny>>> = args.iter().map(Some).collect();
    out.resize(n, None);
    if let Some(kw) = kwargs {
        for (k, v) in kw.iter() {
            let key: String = k.extract()?;
            let Some(i) = ty
                .params
                .iter()
                .position(|(wit, py_name, _)| *wit == key || py_name.to_string() == key)
            else {
                return Err(PyTypeError::new_err(format!(
                    "{}: no parameter named '{key}'",
                    ty.wit
                )));
            };
            if out[i].is_some() {
                return Err(PyTypeError::new_err(format!(
                    "{}: argument '{key}' given twice",
                    ty.wit
                )));
            }
            out[i] = Some(v);
        }
    }
    out.into_iter()
        .zip(&ty.params)
        .map(|(v, (wit, _, _))| {
            v.ok_or_else(|| PyTypeError::new_err(format!("{}: missing argument '{wit}'", ty.wit)))
        })
        .collect()
}

#[pymethods]
impl Function {
    #[pyo3(signature = (*args, **kwargs))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ty = &*self.ty;
        let args = bind(ty, args, kwargs)?;
        let mut entered = match self.inst.enter(py) {
            Ok(e) => e,
            Err(EnterError::Reentered) => {
                return Err(PyErr::from_value(class(py, "Trap")?.call1((
                    "cannot enter component instance",
                    format!(
                        "{}: the instance is already running (a host function called back into it)",
                        ty.wit
                    ),
                ))?))
            }
            Err(EnterError::Poisoned) => {
                return Err(named(
                    py,
                    "UsageError",
                    "the instance's store is unusable".into(),
                ))
            }
        };
        let mut ctx = entered.store.as_context_mut();
        let mut cx = Cx {
            store: &mut ctx,
            res: &self.inst.res,
            inst: Some(self.inst.clone()),
            moved: Vec::new(),
            lent: Vec::new(),
            created: Vec::new(),
        };
        let mut vals = Vec::with_capacity(args.len());
        let mut failed = None;
        for ((wit, _, t), a) in ty.params.iter().zip(&args) {
            match lower(&mut cx, t, a) {
                Ok(v) => vals.push(v),
                Err(e) => {
                    failed = Some(e.at(wit.clone()).into_py(py, &ty.wit));
                    break;
                }
            }
        }
        let moved = std::mem::take(&mut cx.moved);
        let lent = std::mem::take(&mut cx.lent);
        let created = std::mem::take(&mut cx.created);
        let mut results = vec![Val::Bool(false); usize::from(ty.result.is_some())];
        let r = match failed {
            Some(e) => {
                // No call: the host objects given as `own` go back.
                for h in created {
                    let _ = h.resource_drop(&mut ctx);
                }
                Err(e)
            }
            None => {
                let func = &self.func;
                let (vals, results) = (&vals, &mut results);
                let ctx2 = &mut ctx;
                // The component runs without the GIL: other Python threads
                // go on, and host functions take the GIL back.
                py.allow_threads(move || func.call(ctx2, vals, results))
            }
            .map_err(|e| {
                let err = to_py(py, &e);
                if let Some(cause) = ctx.data_mut().pending.take() {
                    err.set_cause(py, Some(cause));
                }
                err
            })
            .map(|()| {
                for h in &moved {
                    h.get().forget();
                }
            }),
        };
        for (rep, h) in lent {
            let _ = h.resource_drop(&mut ctx);
            ctx.data_mut().objects.remove(rep);
        }
        r?;
        let mut cx = Cx {
            store: &mut ctx,
            res: &self.inst.res,
            inst: Some(self.inst.clone()),
            moved: Vec::new(),
            lent: Vec::new(),
            created: Vec::new(),
        };
        match (&ty.result, results.pop()) {
            (Some(Ty::Result(ok, err)), Some(Val::Result(r))) => match r {
                Ok(p) => lift_payload(py, &mut cx, ok.as_deref(), p),
                Err(p) => {
                    let payload = lift_payload(py, &mut cx, err.as_deref(), p)?;
                    Err(PyErr::from_value(class(py, "Err")?.call1((payload,))?))
                }
            },
            (Some(t), Some(v)) => lift(py, &mut cx, t, v),
            _ => Ok(py.None().into_bound(py)),
        }
    }

    fn __repr__(&self) -> String {
        format!("<componentry function {}>", self.ty.wit)
    }

    /// The WIT name of the function.
    #[getter]
    fn wit_name(&self) -> String {
        self.ty.wit.clone()
    }
}
