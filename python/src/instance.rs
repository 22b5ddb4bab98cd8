//! Instantiation from Python (imports from Python callables and classes)
//! and `Instance`, whose exports are Python functions and namespaces.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use componentry::{AsContextMut, Linker, LinkerInstance, ResourceType, Store};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::component::{describe_fn, Component, Decls, Item};
use crate::errors::{class, named, to_py};
use crate::function::Function;
use crate::host::{define, HostFn, Target};
use crate::state::{EnterError, Entered, HostState, InstShared, Objects, ResEntry, ResTable};
use crate::types::snake;

/// Numbers for the host resource types of each instantiation.
static NEXT_HOST_TYPE: AtomicU32 = AtomicU32::new(1 << 20);

/// The Python attribute of an import or export name:
/// `ns:pkg/iface@1.0.0` → `iface`, `box-blur` → `box_blur`.
pub fn short_name(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    let base = base.split('@').next().unwrap_or(base);
    snake(base)
}

/// `obj[name]` (a dict, by WIT name or Python name) or `obj.<python name>`.
fn lookup<'py>(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
    if let Ok(d) = obj.downcast::<PyDict>() {
        if let Some(v) = d.get_item(name)? {
            return Ok(Some(v));
        }
        if let Some(v) = d.get_item(snake(name))? {
            return Ok(Some(v));
        }
        return d.get_item(short_name(name));
    }
    Ok(obj.getattr(short_name(name).as_str()).ok())
}

fn is_wasi(name: &str) -> bool {
    name.starts_with("wasi:")
}

/// The resource types of a new instance: the user's classes for imported
/// ones, new classes for exported ones.
fn resource_entries(
    py: Python<'_>,
    decls: &Decls,
    imports: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<ResEntry>> {
    let mut out = Vec::new();
    for r in &decls.resources {
        if !r.imported {
            let cls = class(py, "make_resource")?.call1((
                r.py.as_str(),
                r.wit.as_str(),
                format!("WIT resource `{}` (exported by the component)", r.wit),
            ))?;
            out.push(ResEntry {
                cls: cls.unbind(),
                host: None,
            });
            continue;
        }
        let holder = match (imports, r.owner.is_empty()) {
            (Some(i), true) => Some(i.clone()),
            (Some(i), false) => lookup(i, &r.owner)?,
            (None, _) => None,
        };
        let cls = match &holder {
            Some(h) => lookup(h, &r.wit)?.or(lookup(h, &r.py).ok().flatten()),
            None => None,
        };
        match cls {
            Some(cls) => out.push(ResEntry {
                cls: cls.unbind(),
                host: Some(ResourceType::host_dynamic(
                    NEXT_HOST_TYPE.fetch_add(1, Ordering::Relaxed),
                )),
            }),
            None if is_wasi(&r.owner) => out.push(ResEntry {
                cls: class(py, "Resource")?.unbind(),
                host: None,
            }),
            None => {
                return Err(named(
                    py,
                    "LinkError",
                    format!(
                        "missing import: resource `{}` of `{}` (give a class)",
                        r.wit,
                        if r.owner.is_empty() {
                            "the root"
                        } else {
                            &r.owner
                        }
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// The index of resource `wit` declared under `owner`.
fn res_index(decls: &Decls, owner: &str, wit: &str) -> Option<usize> {
    decls
        .resources
        .iter()
        .position(|r| r.owner == owner && r.wit == wit)
}

fn host_target(
    py: Python<'_>,
    decls: &Decls,
    res: &ResTable,
    owner: &str,
    name: &str,
    holder: &Bound<'_, PyAny>,
) -> PyResult<Option<Target>> {
    let cls_of = |r: &str| -> Option<Py<PyAny>> {
        res_index(decls, owner, r)
            .and_then(|i| res.entries.get(i))
            .map(|e| e.cls.clone_ref(py))
    };
    if let Some(r) = name.strip_prefix("[constructor]") {
        return Ok(cls_of(r).map(Target::Constructor));
    }
    if let Some(rest) = name.strip_prefix("[method]") {
        let m = rest.split_once('.').map(|(_, m)| m).unwrap_or(rest);
        return Ok(Some(Target::Method(snake(m))));
    }
    if let Some(rest) = name.strip_prefix("[static]") {
        if let Some((r, s)) = rest.split_once('.') {
            return Ok(cls_of(r).map(|c| Target::Static(c, snake(s))));
        }
    }
    Ok(lookup(holder, name)?.map(|f| Target::Plain(f.unbind())))
}

fn link_items(
    py: Python<'_>,
    decls: &Decls,
    res: &Arc<ResTable>,
    li: &mut LinkerInstance<'_, HostState>,
    owner: &str,
    items: &[(String, Item)],
    holder: &Bound<'_, PyAny>,
) -> PyResult<()> {
    for (n, it) in items {
        match it {
            Item::Func(ty) => {
                let Some(target) = host_target(py, decls, res, owner, n, holder)? else {
                    return Err(named(
                        py,
                        "LinkError",
                        format!(
                            "missing import: function `{n}`{}",
                            if owner.is_empty() {
                                String::new()
                            } else {
                                format!(" of `{owner}`")
                            }
                        ),
                    ));
                };
                let f = Arc::new(HostFn {
                    ty: ty.clone(),
                    target,
                    res: res.clone(),
                });
                define(li, n, f).map_err(|e| to_py(py, &e))?;
            }
            Item::Resource(i) => {
                if let Some(ty) = res.entries.get(*i).and_then(|e| e.host) {
                    li.resource(n, ty, |mut cx, rep| {
                        cx.data_mut().objects.remove(rep);
                        Ok(())
                    })
                    .map_err(|e| to_py(py, &e))?;
                }
            }
            Item::Instance(_) | Item::Other => {}
        }
    }
    Ok(())
}

/// Instantiates `c` with Python imports.
pub fn instantiate(
    py: Python<'_>,
    c: &Component,
    imports: Option<&Bound<'_, PyAny>>,
    fuel: Option<u64>,
    wasi: Option<&crate::wasi::Wasi>,
) -> PyResult<Instance> {
    let decls = &*c.decls;
    let res = Arc::new(ResTable {
        entries: resource_entries(py, decls, imports)?,
        inst: OnceLock::new(),
    });
    let ctx = match wasi {
        Some(w) => w.build()?,
        None => crate::wasi::Wasi::default().build()?,
    };
    let mut store = Store::new(
        &c.engine,
        HostState {
            wasi: ctx,
            objects: Objects::default(),
            pending: None,
        },
    );
    if let Some(f) = fuel {
        store.set_fuel(f).map_err(|e| to_py(py, &e))?;
    }
    let mut linker: Linker<HostState> = Linker::new(&c.engine);
    if decls.imports.iter().any(|(n, _)| is_wasi(n)) {
        componentry_wasi::add_to_linker(&mut linker).map_err(|e| to_py(py, &e))?;
    }
    linker.allow_shadowing(true);
    let empty = PyDict::new(py).into_any();
    let given = imports.cloned().unwrap_or(empty);
    let mut root_items = Vec::new();
    for (n, it) in &decls.imports {
        match it {
            Item::Instance(items) => {
                let needs = items
                    .iter()
                    .any(|(_, i)| matches!(i, Item::Func(_) | Item::Resource(_)));
                let Some(holder) = lookup(&given, n)? else {
                    if is_wasi(n) || !needs {
                        continue;
                    }
                    return Err(named(
                        py,
                        "LinkError",
                        format!("missing import: interface `{n}`"),
                    ));
                };
                let mut li = linker.instance(n).map_err(|e| to_py(py, &e))?;
                link_items(py, decls, &res, &mut li, n, items, &holder)?;
            }
            _ => root_items.push((n.clone(), clone_item(it))),
        }
    }
    link_items(py, decls, &res, &mut linker.root(), "", &root_items, &given)?;
    let instance = linker.instantiate(&mut store, &c.inner).map_err(|e| {
        let err = to_py(py, &e);
        if let Some(cause) = store.data_mut().pending.take() {
            err.set_cause(py, Some(cause));
        }
        err
    })?;
    let shared = Arc::new(InstShared {
        store: Mutex::new(store),
        res: res.clone(),
        owner: std::sync::atomic::AtomicU64::new(0),
    });
    let _ = res.inst.set(Arc::downgrade(&shared));
    let exports = build_exports(py, c, &shared, &instance)?;
    Ok(Instance {
        shared,
        instance,
        component: c.inner.clone(),
        exports: exports.unbind(),
    })
}

fn clone_item(it: &Item) -> Item {
    match it {
        Item::Func(f) => Item::Func(f.clone()),
        Item::Resource(i) => Item::Resource(*i),
        _ => Item::Other,
    }
}

fn build_exports<'py>(
    py: Python<'py>,
    c: &Component,
    shared: &Arc<InstShared>,
    instance: &componentry::Instance,
) -> PyResult<Bound<'py, PyAny>> {
    let decls = &*c.decls;
    let ns_cls = class(py, "Namespace")?;
    let root = ns_cls.call1(("exports",))?;
    let mut store = shared
        .store
        .lock()
        .map_err(|_| named(py, "UsageError", "store poisoned".into()))?;
    for (n, it) in &decls.exports {
        match it {
            Item::Func(ty) => {
                let Some(func) = instance.get_func(&mut *store, n.as_str()) else {
                    continue;
                };
                let native = Py::new(py, Function::new(shared.clone(), func, ty.clone()))?;
                attach(py, decls, shared, "", n, native, ty, &root)?;
            }
            Item::Instance(items) => {
                let ns = ns_cls.call1((n.as_str(),))?;
                let Some(idx) = instance.get_export(&mut *store, None, n) else {
                    continue;
                };
                for (fname, fit) in items {
                    match fit {
                        Item::Func(ty) => {
                            let Some(fidx) = instance.get_export(&mut *store, Some(&idx), fname)
                            else {
                                continue;
                            };
                            let Some(func) = instance.get_func(&mut *store, fidx) else {
                                continue;
                            };
                            let native =
                                Py::new(py, Function::new(shared.clone(), func, ty.clone()))?;
                            attach(py, decls, shared, n, fname, native, ty, &ns)?;
                        }
                        Item::Resource(i) => {
                            if let (Some(e), Some(d)) =
                                (shared.res.entries.get(*i), decls.resources.get(*i))
                            {
                                ns.call_method1(
                                    "_add",
                                    (fname.as_str(), d.py.as_str(), e.cls.bind(py)),
                                )?;
                            }
                        }
                        _ => {}
                    }
                }
                root.call_method1("_add", (n.as_str(), short_name(n), ns))?;
            }
            Item::Resource(i) => {
                if let (Some(e), Some(d)) = (shared.res.entries.get(*i), decls.resources.get(*i)) {
                    root.call_method1("_add", (n.as_str(), d.py.as_str(), e.cls.bind(py)))?;
                }
            }
            Item::Other => {}
        }
    }
    Ok(root)
}

/// Adds function `fname` of exported interface `owner` to `ns`, or to its
/// resource's class for `[constructor]`, `[method]` and `[static]` names.
#[allow(clippy::too_many_arguments)]
fn attach<'py>(
    py: Python<'py>,
    decls: &Decls,
    shared: &Arc<InstShared>,
    owner: &str,
    fname: &str,
    native: Py<Function>,
    ty: &Arc<crate::types::FnTy>,
    ns: &Bound<'py, PyAny>,
) -> PyResult<()> {
    let (kind, r, m) = if let Some(r) = fname.strip_prefix("[constructor]") {
        ("constructor", r, "__init__")
    } else if let Some(rest) = fname.strip_prefix("[method]") {
        let (r, m) = rest.split_once('.').unwrap_or((rest, rest));
        ("method", r, m)
    } else if let Some(rest) = fname.strip_prefix("[static]") {
        let (r, m) = rest.split_once('.').unwrap_or((rest, rest));
        ("static", r, m)
    } else {
        let d = describe_fn(py, decls, &snake(fname), ty)?;
        let (name, params, result, doc): (String, Bound<'py, PyList>, String, String) =
            d.extract()?;
        let f = class(py, "make_function")?.call1((native, name.as_str(), params, result, doc))?;
        ns.call_method1("_add", (fname, name, f))?;
        return Ok(());
    };
    let Some(cls) = res_index(decls, owner, r).and_then(|i| shared.res.entries.get(i)) else {
        return Ok(());
    };
    let d = describe_fn(py, decls, &snake(m), ty)?;
    let (name, params, result, doc): (String, Bound<'py, PyList>, String, String) = d.extract()?;
    class(py, "add_method")?.call1((cls.cls.bind(py), kind, name, native, params, result, doc))?;
    Ok(())
}

/// An instance of a component: `inst.exports` holds its functions (and
/// namespaces for exported interfaces); fuel and captured WASI output are
/// read here.
#[pyclass(module = "componentry._native", frozen)]
pub struct Instance {
    shared: Arc<InstShared>,
    instance: componentry::Instance,
    component: componentry::Component,
    exports: Py<PyAny>,
}

impl Instance {
    fn store(&self, py: Python<'_>) -> PyResult<Entered<'_>> {
        self.shared.enter(py).map_err(|e| {
            let msg = match e {
                EnterError::Reentered => "the instance is running (called from its host function)",
                EnterError::Poisoned => "the instance's store is unusable",
            };
            named(py, "UsageError", msg.into())
        })
    }
}

#[pymethods]
impl Instance {
    /// The exports: functions, and namespaces for exported interfaces.
    #[getter]
    fn exports(&self, py: Python<'_>) -> Py<PyAny> {
        self.exports.clone_ref(py)
    }

    /// Fuel left (the engine must meter fuel: `Config(consume_fuel=True)`).
    #[getter]
    fn get_fuel(&self, py: Python<'_>) -> PyResult<u64> {
        self.store(py)?.store.get_fuel().map_err(|e| to_py(py, &e))
    }

    /// Sets the fuel left.
    #[setter]
    fn set_fuel(&self, py: Python<'_>, fuel: u64) -> PyResult<()> {
        self.store(py)?
            .store
            .set_fuel(fuel)
            .map_err(|e| to_py(py, &e))
    }

    /// What the component wrote to stdout (when captured).
    #[getter]
    fn stdout(&self, py: Python<'_>) -> PyResult<Option<Vec<u8>>> {
        Ok(self
            .store(py)?
            .store
            .data()
            .wasi
            .stdout()
            .map(|b| b.to_vec()))
    }

    /// What the component wrote to stderr (when captured).
    #[getter]
    fn stderr(&self, py: Python<'_>) -> PyResult<Option<Vec<u8>>> {
        Ok(self
            .store(py)?
            .store
            .data()
            .wasi
            .stderr()
            .map(|b| b.to_vec()))
    }

    /// Runs a WASI command (`wasi:cli/run`), giving its exit code.
    fn run(&self, py: Python<'_>) -> PyResult<i32> {
        let mut entered = self.store(py)?;
        let store = &mut *entered.store;
        let (component, instance) = (&self.component, &self.instance);
        let r =
            py.allow_threads(|| componentry_wasi::run_command(&mut *store, component, instance));
        r.map_err(|e| {
            let err = to_py(py, &e);
            if let Some(cause) = store.as_context_mut().data_mut().pending.take() {
                err.set_cause(py, Some(cause));
            }
            err
        })
    }
}
