//! `Linker<T>`: host functions by name, in instance namespaces, checked
//! against a component's imports at instantiation.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;

use crate::component::{Component, ImportKind};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::instance::{self, Instance};
use crate::module::Module;
use crate::resources::ResourceType;
use crate::store::{AsContextMut, HostDtor, StoreContextMut};
use crate::values::Val;

/// A host function taking and returning dynamic values.
pub(crate) type HostFn<T> =
    dyn Fn(StoreContextMut<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static;

pub(crate) enum Definition<T> {
    Func(crate::func::ValHost<T>),
    Resource(ResourceType, Option<Arc<HostDtor<T>>>),
    Instance(Namespace<T>),
    /// A typed host function (`func_wrap`).
    TypedFunc(Arc<crate::typed::TypedHost<T>>),
    Module(Module),
}

pub(crate) struct Namespace<T> {
    pub items: BTreeMap<String, Definition<T>>,
}

impl<T> Default for Namespace<T> {
    fn default() -> Self {
        Namespace {
            items: BTreeMap::new(),
        }
    }
}

/// Host definitions by name, used to satisfy a component's imports.
///
/// ```ignore
/// let mut linker = Linker::new(&engine);
/// linker.instance("ns:pkg/iface")?.func_new("log", |_cx, params, _results| Ok(()))?;
/// let instance = linker.instantiate(&mut store, &component)?;
/// ```
pub struct Linker<T> {
    engine: Engine,
    root: Namespace<T>,
    allow_shadowing: bool,
}

/// A namespace of a [`Linker`]: the root, or an instance inside it.
pub struct LinkerInstance<'a, T> {
    ns: &'a mut Namespace<T>,
    allow_shadowing: bool,
}

impl<T: 'static> Linker<T> {
    /// An empty linker for components of `engine`.
    pub fn new(engine: &Engine) -> Self {
        Linker {
            engine: engine.clone(),
            root: Namespace::default(),
            allow_shadowing: false,
        }
    }

    /// The engine this linker belongs to.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether defining a name twice replaces the first definition (true)
    /// or is an error (false, the default).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    /// The root namespace: definitions for the component's top-level imports.
    pub fn root(&mut self) -> LinkerInstance<'_, T> {
        LinkerInstance {
            ns: &mut self.root,
            allow_shadowing: self.allow_shadowing,
        }
    }

    /// The instance namespace `name` at the root (e.g. `"ns:pkg/iface"`),
    /// created if absent. Fails if `name` is already defined as a function.
    pub fn instance(&mut self, name: &str) -> Result<LinkerInstance<'_, T>> {
        let allow = self.allow_shadowing;
        LinkerInstance {
            ns: &mut self.root,
            allow_shadowing: allow,
        }
        .into_instance(name)
    }

    /// Instantiates `component` in `store`, satisfying its imports from
    /// this linker.
    ///
    /// Fails with a link error naming the import and both types when an
    /// import is missing or of the wrong kind, with a usage error when the
    /// component belongs to another engine, and with a trap if a core
    /// module's start function traps.
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        component: &Component,
    ) -> Result<Instance> {
        if !component.inner.engine.same(&self.engine) {
            return Err(Error::usage(
                "the component was compiled for another engine",
            ));
        }
        if !wasmi::Engine::same(store.as_context_mut().inner.engine(), &self.engine.inner) {
            return Err(Error::usage("the store belongs to another engine"));
        }
        let mut imports = alloc::vec::Vec::with_capacity(component.inner.root().imports.len());
        let mut resources = BTreeMap::new();
        for import in component.inner.root().imports.iter() {
            let mut cx = Resolve {
                component,
                resources: &mut resources,
            };
            imports.push(cx.resolve(Some(&self.root), &import.name, &import.name, &import.kind)?);
        }
        // Start functions run on the native stack: an instantiation from
        // inside a call is one more nested level.
        let mut cx = store.as_context_mut();
        cx.inner.data_mut().enter_depth()?;
        let r = instance::instantiate(&mut cx, component, imports);
        let data = cx.inner.data_mut();
        data.leave_depth();
        r.map_err(|e| data.limiter.0.explain(e))
    }
}

/// What a linker provides for one import, resolved against its type.
pub(crate) enum Provided<T> {
    /// A host function and the arena func type it is imported at.
    Func(crate::func::ValHost<T>, u32),
    /// A typed host function, checked against the arena func type.
    TypedFunc(Arc<crate::typed::TypedHost<T>>, u32),
    Instance(BTreeMap<String, Provided<T>>),
    Type,
    /// A resource type and, for a host type, its destructor.
    Resource(ResourceType, Option<Arc<HostDtor<T>>>),
    /// A core module, checked against the import's module type.
    Module(wasmi::Module),
}

fn describe(component: &Component, kind: &ImportKind) -> String {
    match kind {
        ImportKind::Func(ty) => format!("{}", component.inner.arena.func_to_public(*ty)),
        ImportKind::Instance(_) => String::from("instance"),
        ImportKind::Type => String::from("type"),
        ImportKind::Resource { .. } => String::from("resource type"),
        ImportKind::Module(_) => String::from("core module"),
        ImportKind::Component => String::from("component"),
    }
}

/// The state of resolving a component's imports against a linker.
struct Resolve<'c> {
    component: &'c Component,
    /// The resource type each static resource of the imports' types was
    /// given, and the import path that gave it: an `eq` bound must get the
    /// same type.
    resources: &'c mut BTreeMap<u32, (ResourceType, String)>,
}

impl Resolve<'_> {
    /// Resolves import `name` (shown as `path`) of type `kind` in `ns` (`None`:
    /// the linker defines nothing there).
    fn resolve<T>(
        &mut self,
        ns: Option<&Namespace<T>>,
        name: &str,
        path: &str,
        kind: &ImportKind,
    ) -> Result<Provided<T>> {
        let component = self.component;
        let found = ns.and_then(|ns| crate::names::lookup(&ns.items, name));
        // Messages show a long name shortened; nested paths keep it whole.
        let full_path = path;
        let path = &*crate::names::elide(full_path);
        match (kind, found) {
            (ImportKind::Type, _) => Ok(Provided::Type),
            (ImportKind::Resource { r, eq }, found) => self.resource(*r, *eq, path, found),
            (ImportKind::Func(ty), Some(Definition::Func(f))) => Ok(Provided::Func(f.clone(), *ty)),
            (ImportKind::Func(ty), Some(Definition::TypedFunc(f))) => {
                f.typecheck(component, *ty)
                    .map_err(|e| Error::link(format!("import `{path}`: {}", e.message())))?;
                Ok(Provided::TypedFunc(f.clone(), *ty))
            }
            (ImportKind::Module(expected), Some(Definition::Module(m))) => {
                if !m.engine.same(&component.inner.engine) {
                    return Err(Error::usage(format!(
                        "import `{path}`: the module was compiled for another engine"
                    )));
                }
                let (Some(expected), Some(ty)) = (expected, m.ty()) else {
                    return Err(Error::link(format!(
                    "import `{path}`: the module type uses core types of proposals componentry does not run"
                )));
                };
                ty.check(expected)
                    .map_err(|e| Error::link(format!("import `{path}` (core module): {e}")))?;
                Ok(Provided::Module(m.inner.clone()))
            }
            (ImportKind::Instance(items), Some(Definition::Instance(inner))) => {
                self.instance(Some(inner), items, full_path)
            }
            // An instance whose type asks for nothing the host must provide
            // (only value types, or nothing) links without a definition.
            (ImportKind::Instance(items), None) => {
                self.instance(None, items, full_path).map_err(|_| {
                    Error::link(format!(
                        "import `{path}` (instance) is not defined in the linker"
                    ))
                })
            }
            (kind, None) => Err(not_defined(component, kind, path)),
            (kind, Some(def)) => Err(Error::link(format!(
                "import `{path}` expects {} but the linker defines {}",
                describe(component, kind),
                match def {
                    Definition::Func(_) | Definition::TypedFunc(_) => "a host function",
                    Definition::Instance(_) => "an instance",
                    Definition::Resource(..) => "a resource type",
                    Definition::Module(_) => "a core module",
                }
            ))),
        }
    }

    /// Resolves each export of an imported instance's type in `ns`.
    fn instance<T>(
        &mut self,
        ns: Option<&Namespace<T>>,
        items: &[(Box<str>, ImportKind)],
        path: &str,
    ) -> Result<Provided<T>> {
        let mut out = BTreeMap::new();
        for (item_name, item_kind) in items {
            let item_path = format!("{path}#{item_name}");
            let provided = self.resolve(ns, item_name, &item_path, item_kind)?;
            out.insert(String::from(&**item_name), provided);
        }
        Ok(Provided::Instance(out))
    }

    /// Resolves a resource type import: static resource `r` with an `eq`
    /// bound (if `eq`) or a `sub resource` one, which the linker defines as
    /// `found`.
    fn resource<T>(
        &mut self,
        r: u32,
        eq: bool,
        path: &str,
        found: Option<&Definition<T>>,
    ) -> Result<Provided<T>> {
        let defined = match found {
            Some(Definition::Resource(ty, dtor)) => Some((*ty, dtor.clone())),
            Some(_) => {
                return Err(Error::link(format!(
                    "import `{path}` expects a resource type but the linker defines another kind of item"
                )))
            }
            None => None,
        };
        match (self.resources.get(&r), defined) {
            // Already given a type (this is an `eq` bound of it): the linker
            // may define this name too, as the same type.
            (Some((ty, from)), Some((def, dtor))) => {
                if *ty != def {
                    return Err(Error::link(format!(
                        "import `{path}`: mismatched resource types: its type makes it the same resource type as `{from}`, but the linker defines the two as different resource types"
                    )));
                }
                Ok(Provided::Resource(def, dtor))
            }
            (Some((ty, _)), None) => Ok(Provided::Resource(*ty, None)),
            // An `eq` bound of a resource type this component defines itself:
            // no host type can be that type.
            (None, Some(_)) if eq => Err(Error::link(format!(
                "import `{path}`: mismatched resource types: its type makes it a resource type the component defines, but the linker defines a resource type of its own"
            ))),
            (None, None) if eq => Ok(Provided::Type),
            (None, Some((def, dtor))) => {
                self.resources.insert(r, (def, String::from(path)));
                Ok(Provided::Resource(def, dtor))
            }
            (None, None) => Err(Error::link(format!(
                "import `{path}` (resource type) is not defined in the linker"
            ))),
        }
    }
}

fn not_defined(component: &Component, kind: &ImportKind, path: &str) -> Error {
    Error::link(format!(
        "import `{path}` ({}) is not defined in the linker",
        describe(component, kind)
    ))
}

impl<'a, T: 'static> LinkerInstance<'a, T> {
    pub(crate) fn insert(&mut self, name: &str, def: Definition<T>) -> Result<()> {
        if !self.allow_shadowing && self.ns.items.contains_key(name) {
            return Err(Error::usage(format!(
                "`{name}` is already defined in this linker namespace"
            )));
        }
        self.ns.items.insert(String::from(name), def);
        Ok(())
    }

    /// Defines a host function `name` taking and returning dynamic values.
    /// It serves any function type: `params` holds the lifted arguments and
    /// `results` has one slot per result, to be filled with values of the
    /// import's result type (a mismatch traps the calling component).
    /// Returning an error traps the calling component with
    /// [`TrapKind::Host`](crate::TrapKind::Host).
    pub fn func_new(
        &mut self,
        name: &str,
        func: impl Fn(StoreContextMut<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        let host = crate::func::ValHost {
            f: Arc::new(func),
            lower: crate::func::lower_host::<T>,
            #[cfg(feature = "async")]
            future: None,
        };
        self.insert(name, Definition::Func(host))
    }

    /// Defines an async host function `name` (feature `async`): given the
    /// store and the lifted arguments, it returns a future of its result,
    /// which gets no access to the store. It serves any function type, as
    /// [`LinkerInstance::func_new`] does. A guest calling it with `canon
    /// lower async` gets a subtask while the future is pending; a guest
    /// task of an `async` function calling it synchronously waits for it
    /// while other tasks run; the future is polled by the host's
    /// [`Func::call_async`](crate::Func::call_async) (or the blocking
    /// [`Func::call`](crate::Func::call)), with its waker. An error from
    /// the function or the future traps the calling component with
    /// [`TrapKind::Host`](crate::TrapKind::Host); a result of the wrong
    /// type too. A guest's `subtask.cancel` drops the future.
    #[cfg(feature = "async")]
    pub fn func_new_async(
        &mut self,
        name: &str,
        func: impl Fn(StoreContextMut<'_, T>, &[Val]) -> Result<crate::HostFuture>
            + Send
            + Sync
            + 'static,
    ) -> Result<()> {
        let func = Arc::new(func);
        let blocking = func.clone();
        let host = crate::func::ValHost {
            // Called by the host itself (`Func::call` of a re-export):
            // block on the future.
            f: Arc::new(
                move |store: StoreContextMut<'_, T>, params: &[Val], results: &mut [Val]| {
                    let mut fut = blocking(store, params)?;
                    let v = crate::concurrent::host::block_on(|w| {
                        fut.as_mut().poll(&mut core::task::Context::from_waker(w))
                    })?;
                    if let (Some(slot), Some(v)) = (results.first_mut(), v) {
                        *slot = v;
                    }
                    Ok(())
                },
            ),
            lower: crate::func::lower_host::<T>,
            future: Some(func),
        };
        self.insert(name, Definition::Func(host))
    }

    /// Defines the host resource type `ty` under `name`, for a component's
    /// `(import "name" (type (sub resource)))`. `dtor` runs with the
    /// resource's `rep` when a component drops an owned handle to it.
    pub fn resource(
        &mut self,
        name: &str,
        ty: ResourceType,
        dtor: impl Fn(StoreContextMut<'_, T>, u32) -> Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        self.insert(name, Definition::Resource(ty, Some(Arc::new(dtor))))
    }

    /// Defines `name` as the resource type `ty` with no host destructor: a
    /// type a component instance defined (from
    /// [`Instance::get_resource`](crate::Instance::get_resource), usable
    /// with that instance's store only; dropping an owned handle runs the
    /// instance's destructor), or a host type whose resources need no
    /// clean-up. Two components given the same type can pass its handles
    /// to each other.
    ///
    /// Fails with a usage error if `name` is already defined (and shadowing
    /// is off). A type of another store, or one read from a component's
    /// types ([`Type::Own`](crate::Type::Own)), fails at instantiation.
    pub fn resource_type(&mut self, name: &str, ty: ResourceType) -> Result<()> {
        self.insert(name, Definition::Resource(ty, None))
    }

    /// Defines the core module `module` under `name`, for a component's
    /// `(import "name" (core module ...))`. At instantiation the module must
    /// import nothing the import's type does not provide and export
    /// everything it lists (a link error names the first mismatch), and
    /// belong to the component's engine (else a usage error).
    pub fn module(&mut self, name: &str, module: &Module) -> Result<()> {
        self.insert(name, Definition::Module(module.clone()))
    }

    /// The nested instance namespace `name`, created if absent.
    pub fn instance(&mut self, name: &str) -> Result<LinkerInstance<'_, T>> {
        let allow = self.allow_shadowing;
        LinkerInstance {
            ns: &mut *self.ns,
            allow_shadowing: allow,
        }
        .into_instance(name)
    }

    fn into_instance(self, name: &str) -> Result<LinkerInstance<'a, T>> {
        let entry = self
            .ns
            .items
            .entry(String::from(name))
            .or_insert_with(|| Definition::Instance(Namespace::default()));
        match entry {
            Definition::Instance(ns) => Ok(LinkerInstance {
                ns,
                allow_shadowing: self.allow_shadowing,
            }),
            _ => Err(Error::usage(format!(
                "`{name}` is already defined as a function or type"
            ))),
        }
    }
}
