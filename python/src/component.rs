//! `Component` and `Config`: loading a component and reading its types
//! (made into Python classes once, at load).

use std::sync::Arc;

use componentry::{ComponentItem, Engine};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::errors::to_py;
use crate::types::{annotation_with, result_annotation, wit_signature, Builder, FnTy, ResDecl};

/// Engine settings: fuel metering, the deterministic profile, limits.
#[pyclass(module = "componentry._native", frozen)]
#[derive(Clone, Default)]
pub struct Config {
    inner: componentry::Config,
}

#[pymethods]
impl Config {
    /// `Config(consume_fuel=False, deterministic=False, max_memory_bytes=None,
    /// max_table_elements=None, max_call_depth=None, max_handles_per_instance=None)`.
    #[new]
    #[pyo3(signature = (*, consume_fuel=false, deterministic=false, max_memory_bytes=None,
        max_table_elements=None, max_call_depth=None, max_handles_per_instance=None))]
    fn new(
        consume_fuel: bool,
        deterministic: bool,
        max_memory_bytes: Option<usize>,
        max_table_elements: Option<usize>,
        max_call_depth: Option<u32>,
        max_handles_per_instance: Option<u32>,
    ) -> Self {
        let mut c = componentry::Config::new();
        c.consume_fuel(consume_fuel).deterministic(deterministic);
        if let Some(b) = max_memory_bytes {
            c.max_memory_bytes(b);
        }
        if let Some(e) = max_table_elements {
            c.max_table_elements(e);
        }
        if let Some(d) = max_call_depth {
            c.max_call_depth(d);
        }
        if let Some(h) = max_handles_per_instance {
            c.max_handles_per_instance(h);
        }
        Config { inner: c }
    }
}

/// An import or export, with its types made.
pub enum Item {
    /// A function.
    Func(Arc<FnTy>),
    /// An instance (interface) and its items.
    Instance(Vec<(String, Item)>),
    /// A resource type (index into the declarations).
    Resource(usize),
    /// Types, modules and components: nothing to convert.
    Other,
}

/// What the binding knows of a component's imports and exports.
pub struct Decls {
    /// Root imports.
    pub imports: Vec<(String, Item)>,
    /// Root exports.
    pub exports: Vec<(String, Item)>,
    /// Resource types.
    pub resources: Vec<ResDecl>,
    /// Classes made from the WIT types, by Python name.
    pub classes: Vec<(String, Py<PyAny>)>,
}

impl Decls {
    /// The Python class name of resource `i`.
    pub fn res_name(&self, i: usize) -> Option<String> {
        self.resources.get(i).map(|r| r.py.clone())
    }
}

/// A compiled component: `Component(bytes)` or `Component.from_file(path)`.
/// Its WIT types are Python classes from the start (`component.types`).
#[pyclass(module = "componentry._native", frozen)]
pub struct Component {
    /// The component.
    pub inner: componentry::Component,
    /// Its engine.
    pub engine: Engine,
    /// Its imports, exports and classes.
    pub decls: Arc<Decls>,
}

fn declare(b: &mut Builder<'_>, owner: &str, item: &ComponentItem, imported: bool, name: &str) {
    match item {
        ComponentItem::Resource(rt) => b.declare_resource(*rt, name, imported, owner),
        ComponentItem::Instance(items) => {
            for (n, it) in items {
                declare(b, name, it, imported, n);
            }
        }
        _ => {}
    }
}

fn item(py: Python<'_>, b: &mut Builder<'_>, name: &str, it: &ComponentItem) -> PyResult<Item> {
    Ok(match it {
        ComponentItem::Func(f) => Item::Func(Arc::new(b.func(py, name, f)?)),
        ComponentItem::Instance(items) => {
            let mut out = Vec::new();
            for (n, i) in items {
                out.push((n.clone(), item(py, b, n, i)?));
            }
            Item::Instance(out)
        }
        ComponentItem::Resource(rt) => {
            Item::Resource(b.resource_index.get(rt).copied().unwrap_or(0))
        }
        _ => Item::Other,
    })
}

impl Component {
    fn load(py: Python<'_>, bytes: &[u8], config: Option<&Config>) -> PyResult<Self> {
        let cfg = config.cloned().unwrap_or_default();
        let engine = Engine::new(&cfg.inner);
        let inner = componentry::Component::new(&engine, bytes).map_err(|e| to_py(py, &e))?;
        let imports: Vec<(String, ComponentItem)> =
            inner.imports().map(|(n, i)| (n.to_string(), i)).collect();
        let exports = inner.exports();
        let names = crate::names::read(
            bytes,
            &imports.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            &exports.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        );
        let mut b = Builder::new(&names);
        for (n, i) in &imports {
            declare(&mut b, "", i, true, n);
        }
        for (n, i) in &exports {
            declare(&mut b, "", i, false, n);
        }
        let mut imp = Vec::new();
        for (n, i) in &imports {
            imp.push((n.clone(), item(py, &mut b, n, i)?));
        }
        let mut exp = Vec::new();
        for (n, i) in &exports {
            exp.push((n.clone(), item(py, &mut b, n, i)?));
        }
        let decls = Decls {
            imports: imp,
            exports: exp,
            resources: std::mem::take(&mut b.resources),
            classes: std::mem::take(&mut b.classes),
        };
        Ok(Component {
            inner,
            engine,
            decls: Arc::new(decls),
        })
    }
}

/// The description of a function: (py name, [(param, annotation)],
/// result annotation, doc).
pub fn describe_fn<'py>(
    py: Python<'py>,
    decls: &Decls,
    py_name: &str,
    f: &FnTy,
) -> PyResult<Bound<'py, PyAny>> {
    let res = |i: usize| decls.res_name(i);
    let params = PyList::empty(py);
    for (_, p, t) in &f.params {
        params.append((p.bind(py), annotation_with(t, &res)))?;
    }
    let result = result_annotation(f.result.as_ref(), &res);
    let mut doc = format!("WIT: {}", wit_signature(f, &res));
    if let Some(crate::types::Ty::Result(_, err)) = &f.result {
        let e = err
            .as_deref()
            .map(|t| annotation_with(t, &res))
            .unwrap_or_else(|| "None".into());
        doc.push_str(&format!(
            "\n\nReturns the `ok` value; raises componentry.Err (its `value` a {e}) on `err`."
        ));
    }
    Ok((py_name, params, result, doc).into_pyobject(py)?.into_any())
}

fn describe_items<'py>(
    py: Python<'py>,
    decls: &Decls,
    items: &[(String, Item)],
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for (n, it) in items {
        match it {
            Item::Func(f) => out.append((
                "func",
                n.as_str(),
                describe_fn(py, decls, &crate::types::snake(n), f)?,
            ))?,
            Item::Instance(sub) => out.append((
                "instance",
                n.as_str(),
                crate::instance::short_name(n),
                describe_items(py, decls, sub)?,
            ))?,
            Item::Resource(i) => out.append(("resource", n.as_str(), decls.res_name(*i)))?,
            Item::Other => {}
        }
    }
    Ok(out)
}

#[pymethods]
impl Component {
    /// `Component(bytes, config=None)`: loads and validates a component.
    #[new]
    #[pyo3(signature = (data, config=None))]
    fn py_new(py: Python<'_>, data: &Bound<'_, PyAny>, config: Option<&Config>) -> PyResult<Self> {
        let bytes: Vec<u8> = if let Ok(b) = data.downcast::<PyBytes>() {
            b.as_bytes().to_vec()
        } else {
            pyo3::buffer::PyBuffer::<u8>::get(data)
                .and_then(|b| b.to_vec(py))
                .map_err(|_| pyo3::exceptions::PyTypeError::new_err("Component: expected bytes"))?
        };
        Self::load(py, &bytes, config)
    }

    /// Loads the component in the file at `path`.
    #[staticmethod]
    #[pyo3(signature = (path, config=None))]
    fn from_file(
        py: Python<'_>,
        path: std::path::PathBuf,
        config: Option<&Config>,
    ) -> PyResult<Self> {
        let bytes = std::fs::read(&path)?;
        Self::load(py, &bytes, config)
    }

    fn __repr__(&self) -> String {
        let names = |items: &[(String, Item)]| {
            items
                .iter()
                .filter(|(_, i)| !matches!(i, Item::Other))
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "<componentry.Component imports=[{}] exports=[{}]>",
            names(&self.decls.imports),
            names(&self.decls.exports)
        )
    }

    /// The classes made from the component's WIT types, by Python name.
    #[getter]
    fn types<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (n, c) in &self.decls.classes {
            d.set_item(n, c.bind(py))?;
        }
        Ok(d)
    }

    /// The imports, described: [("func", wit, (py, params, result, doc)) |
    /// ("instance", wit, short, [...]) | ("resource", wit, class name)].
    fn describe_imports<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        describe_items(py, &self.decls, &self.decls.imports)
    }

    /// The exports, described as [`Component::describe_imports`].
    fn describe_exports<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        describe_items(py, &self.decls, &self.decls.exports)
    }

    /// Instantiates the component: `imports` maps import names (WIT or
    /// Python case) to callables, resource classes, or (for interfaces)
    /// dicts or objects holding them.
    #[pyo3(signature = (imports=None, *, fuel=None, wasi=None))]
    fn instantiate(
        &self,
        py: Python<'_>,
        imports: Option<&Bound<'_, PyAny>>,
        fuel: Option<u64>,
        wasi: Option<&crate::wasi::Wasi>,
    ) -> PyResult<crate::instance::Instance> {
        crate::instance::instantiate(py, self, imports, fuel, wasi)
    }
}
