//! Instantiation: running a component's init program in a store, and the
//! resulting [`Instance`] with its exports.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::component::{CanonOpts, Component, CoreKind, CoreRef, ImportKind, ItemRef, Space, Step};
use crate::error::{from_wasmi, Error, Result, TrapKind};
use crate::func::{self, Func, FuncKind, LiftedFunc, Options};
use crate::linker::Provided;
use crate::module::Module;
use crate::resources::{ResourceType, ResourceTypeInfo};
use crate::store::{AsContextMut, InstanceFlags, StoreContextMut, StoreData};

/// An item of a component instance at run time.
#[derive(Clone)]
pub(crate) enum Item {
    Func(Func),
    Instance(Arc<Exports>),
    /// A core module.
    Module(wasmi::Module),
    /// A component definition with the scope it was defined in.
    Component(ComponentValue),
    /// A resource type: index into the store's runtime resource types.
    Resource(u32),
    /// Any other type: nothing at run time, but found by name like the
    /// rest of an instance's exports.
    Type,
}

/// A component definition as a value: the definition and the scope that
/// defined it, which its outer aliases of modules and components read (so a
/// definition passed elsewhere still sees what its definer was given).
#[derive(Clone)]
pub(crate) struct ComponentValue {
    def: u32,
    scope: Option<Arc<Scope>>,
}

/// The module and component index spaces of one instance's init program at
/// the point a nested definition was made, and the scope around it.
pub(crate) struct Scope {
    modules: Vec<wasmi::Module>,
    components: Vec<ComponentValue>,
    /// The defining instance: a definition's outer type aliases resolve to
    /// its resource types.
    instance: u32,
    outer: Option<Arc<Scope>>,
}

/// The named items of a component instance.
#[derive(Default)]
pub(crate) struct Exports {
    pub items: BTreeMap<String, Item>,
}

/// An instantiated component. Look up its exported functions with
/// [`Instance::get_func`], inside exported instances with
/// [`Instance::get_export`].
#[derive(Clone)]
pub struct Instance {
    store_id: usize,
    exports: Arc<Exports>,
}

/// A path to an export of an [`Instance`], from [`Instance::get_export`].
#[derive(Clone)]
pub struct ExportIndex {
    store_id: usize,
    item: Item,
}

/// Ways to name an export: its name at the root, or an [`ExportIndex`].
pub trait InstanceExportLookup {
    /// The export this names in `instance`, if any.
    fn lookup(&self, instance: &Instance) -> Option<ExportIndex>;
}

impl InstanceExportLookup for str {
    fn lookup(&self, instance: &Instance) -> Option<ExportIndex> {
        Some(ExportIndex {
            store_id: instance.store_id,
            item: instance.exports.items.get(self)?.clone(),
        })
    }
}

impl InstanceExportLookup for String {
    fn lookup(&self, instance: &Instance) -> Option<ExportIndex> {
        self.as_str().lookup(instance)
    }
}

impl InstanceExportLookup for ExportIndex {
    fn lookup(&self, instance: &Instance) -> Option<ExportIndex> {
        (self.store_id == instance.store_id).then(|| self.clone())
    }
}

impl<L: InstanceExportLookup + ?Sized> InstanceExportLookup for &L {
    fn lookup(&self, instance: &Instance) -> Option<ExportIndex> {
        (**self).lookup(instance)
    }
}

impl Instance {
    fn check_store<T>(&self, store: &mut StoreContextMut<'_, T>) -> bool {
        store.inner.data().id == self.store_id
    }

    /// The exported function named by `name` (a root export name or an
    /// [`ExportIndex`]). `None` if there is no such function, or if `store`
    /// is not the store this instance lives in.
    pub fn get_func(
        &self,
        mut store: impl AsContextMut,
        name: impl InstanceExportLookup,
    ) -> Option<Func> {
        if !self.check_store(&mut store.as_context_mut()) {
            return None;
        }
        match name.lookup(self)?.item {
            Item::Func(f) => Some(f),
            _ => None,
        }
    }

    /// The export `name` of the exported instance `instance`, or of the root
    /// if `instance` is `None`; e.g. `get_export(store, None, "ns:pkg/iface")`
    /// then `get_export(store, Some(&iface), "name")`.
    pub fn get_export(
        &self,
        mut store: impl AsContextMut,
        instance: Option<&ExportIndex>,
        name: &str,
    ) -> Option<ExportIndex> {
        if !self.check_store(&mut store.as_context_mut()) {
            return None;
        }
        let item = match instance {
            None => self.exports.items.get(name)?.clone(),
            Some(idx) if idx.store_id == self.store_id => match &idx.item {
                Item::Instance(e) => e.items.get(name)?.clone(),
                _ => return None,
            },
            Some(_) => return None,
        };
        Some(ExportIndex {
            store_id: self.store_id,
            item,
        })
    }

    /// The exported function named by `name` (a root export name or an
    /// [`ExportIndex`]) as a [`TypedFunc`](crate::TypedFunc): shorthand for
    /// [`Instance::get_func`] then [`Func::typed`], as wasmtime's
    /// `get_typed_func`. Fails with a usage error if there is no such
    /// function, and as [`Func::typed`] does when the types differ.
    pub fn get_typed_func<P, R>(
        &self,
        mut store: impl AsContextMut,
        name: impl InstanceExportLookup,
    ) -> Result<crate::TypedFunc<P, R>>
    where
        P: crate::ComponentNamedList + crate::Lower,
        R: crate::ComponentType + crate::Lift,
    {
        let func = self
            .get_func(&mut store, &name)
            .ok_or_else(|| Error::usage("no exported function of that name in this instance"))?;
        func.typed(store)
    }

    /// The exported resource type named by `name` (a root export name or an
    /// [`ExportIndex`]): a type an instance defined (each instantiation
    /// defines its own) or a host type it was given. `None` if there is no
    /// such resource type, or if `store` is not this instance's store.
    ///
    /// Define it in a [`Linker`](crate::Linker) with
    /// [`LinkerInstance::resource_type`](crate::LinkerInstance::resource_type)
    /// to give it to the next component, in this store.
    pub fn get_resource(
        &self,
        mut store: impl AsContextMut,
        name: impl InstanceExportLookup,
    ) -> Option<ResourceType> {
        let mut cx = store.as_context_mut();
        if !self.check_store(&mut cx) {
            return None;
        }
        match name.lookup(self)?.item {
            Item::Resource(rt) => cx.inner.data().public_resource_type(rt),
            _ => None,
        }
    }

    /// The exported core module named by `name` (a root export name or an
    /// [`ExportIndex`]), to give to another component with
    /// [`LinkerInstance::module`](crate::LinkerInstance::module). `None` if
    /// there is no such module, or if `store` is not this instance's store.
    pub fn get_module(
        &self,
        mut store: impl AsContextMut,
        name: impl InstanceExportLookup,
    ) -> Option<Module> {
        let mut cx = store.as_context_mut();
        if !self.check_store(&mut cx) {
            return None;
        }
        match name.lookup(self)?.item {
            Item::Module(inner) => Some(Module {
                engine: cx.inner.data().engine.clone(),
                inner,
            }),
            _ => None,
        }
    }

    /// Shorthand: the function `name` inside the exported instance `instance`
    /// (e.g. `"ns:pkg/iface"`, `"name"`).
    pub fn get_instance_func(
        &self,
        mut store: impl AsContextMut,
        instance: &str,
        name: &str,
    ) -> Option<Func> {
        let idx = self.get_export(&mut store, None, instance)?;
        let f = self.get_export(&mut store, Some(&idx), name)?;
        self.get_func(store, f)
    }
}

/// A core instance at run time: a wasmi instance or a bag of core items.
enum CoreInstance {
    Wasm(wasmi::Instance),
    Bag(Vec<(Box<str>, wasmi::Extern)>),
}

/// The runtime index spaces of one instantiation.
#[derive(Default)]
struct Spaces {
    core_instances: Vec<CoreInstance>,
    core_funcs: Vec<wasmi::Func>,
    memories: Vec<wasmi::Memory>,
    tables: Vec<wasmi::Table>,
    globals: Vec<wasmi::Global>,
    funcs: Vec<Func>,
    instances: Vec<Arc<Exports>>,
    modules: Vec<wasmi::Module>,
    components: Vec<ComponentValue>,
    /// The scope the running definition was defined in (none for the root).
    outer: Option<Arc<Scope>>,
    /// The scope of this instance as of the last nested definition, reused
    /// while the module and component spaces do not change.
    here: Option<Arc<Scope>>,
}

fn bad_index(what: &str, i: u32) -> Error {
    // Validation rules these out; reported rather than panicking.
    Error::load(0, format!("{what} index {i} out of range"))
}

fn get<'a, X>(v: &'a [X], i: u32, what: &str) -> Result<&'a X> {
    v.get(i as usize).ok_or_else(|| bad_index(what, i))
}

impl Spaces {
    /// This instance's scope now, for a definition made here.
    fn scope(&mut self, instance: u32) -> Arc<Scope> {
        let outer = &self.outer;
        let (modules, components) = (&self.modules, &self.components);
        self.here
            .get_or_insert_with(|| {
                Arc::new(Scope {
                    modules: modules.clone(),
                    components: components.clone(),
                    instance,
                    outer: outer.clone(),
                })
            })
            .clone()
    }

    /// Appends a core module; the cached scope no longer holds every module.
    fn push_module(&mut self, module: wasmi::Module) {
        self.here = None;
        self.modules.push(module);
    }

    /// Appends a component; the cached scope no longer holds every component.
    fn push_component(&mut self, component: ComponentValue) {
        self.here = None;
        self.components.push(component);
    }

    /// Module or component `index` of the scope `count` levels out (0: this one).
    fn outer_item(&self, count: u32, index: u32, module: bool) -> Result<Item> {
        let (modules, components) = if count == 0 {
            (&self.modules, &self.components)
        } else {
            // Stops at the root scope: never more steps than the nesting.
            let mut scope = self.outer.as_ref();
            for _ in 1..count {
                scope = scope.and_then(|s| s.outer.as_ref());
                if scope.is_none() {
                    break;
                }
            }
            let scope = scope.ok_or_else(|| bad_index("outer alias count", count))?;
            (&scope.modules, &scope.components)
        };
        Ok(if module {
            Item::Module(get(modules, index, "module")?.clone())
        } else {
            Item::Component(get(components, index, "component")?.clone())
        })
    }

    fn core_export(
        &self,
        store: &StoreContextMut<'_, impl Sized>,
        instance: u32,
        name: &str,
    ) -> Result<wasmi::Extern> {
        let found = match get(&self.core_instances, instance, "core instance")? {
            CoreInstance::Wasm(i) => i.get_export(&store.inner, name),
            // Sorted by name when the component was loaded.
            CoreInstance::Bag(items) => items
                .binary_search_by(|(n, _)| (**n).cmp(name))
                .ok()
                .and_then(|k| items.get(k))
                .map(|(_, e)| *e),
        };
        found.ok_or_else(|| {
            Error::load(
                0,
                format!(
                    "core instance {instance} has no export `{}`",
                    crate::names::elide(name)
                ),
            )
        })
    }

    fn core_item(&self, r: CoreRef) -> Result<wasmi::Extern> {
        Ok(match r {
            CoreRef::Func(i) => (*get(&self.core_funcs, i, "core func")?).into(),
            CoreRef::Memory(i) => (*get(&self.memories, i, "memory")?).into(),
            CoreRef::Table(i) => (*get(&self.tables, i, "table")?).into(),
            CoreRef::Global(i) => (*get(&self.globals, i, "global")?).into(),
        })
    }

    fn item<T>(&self, data: &mut StoreData<T>, inst: u32, r: ItemRef) -> Result<Item> {
        Ok(match r {
            ItemRef::Resource(static_r) => Item::Resource(data.resource(inst, static_r)?),
            ItemRef::Func(i) => Item::Func(get(&self.funcs, i, "func")?.clone()),
            ItemRef::Instance(i) => Item::Instance(get(&self.instances, i, "instance")?.clone()),
            ItemRef::Module(i) => Item::Module(get(&self.modules, i, "module")?.clone()),
            ItemRef::Component(i) => {
                Item::Component(get(&self.components, i, "component")?.clone())
            }
            ItemRef::Type => Item::Type,
        })
    }

    /// Appends `item` to the index space `space`.
    fn push<T>(
        &mut self,
        data: &mut StoreData<T>,
        inst: u32,
        item: Item,
        space: Space,
        what: &str,
    ) -> Result<()> {
        match (item, space) {
            (Item::Resource(rt), Space::Resource(r)) => bind(data, inst, r, rt)?,
            (Item::Func(f), Space::Func) => self.funcs.push(f),
            (Item::Instance(i), Space::Instance) => self.instances.push(i),
            (Item::Module(m), Space::Module) => self.push_module(m),
            (Item::Component(c), Space::Component) => self.push_component(c),
            _ => return Err(Error::link(format!("{what} is of the wrong kind"))),
        }
        Ok(())
    }

    fn options<T>(
        &self,
        store: &StoreContextMut<'_, T>,
        opts: &CanonOpts,
        instance: u32,
    ) -> Result<Options> {
        let memory = opts
            .memory
            .map(|m| get(&self.memories, m, "memory").copied())
            .transpose()?;
        let realloc = match opts.realloc {
            Some(f) => Some(
                get(&self.core_funcs, f, "core func")?
                    .typed::<(i32, i32, i32, i32), i32>(&store.inner)
                    .map_err(|e| Error::load(0, format!("realloc has the wrong type: {e}")))?,
            ),
            None => None,
        };
        let post_return = opts
            .post_return
            .map(|f| get(&self.core_funcs, f, "core func").copied())
            .transpose()?;
        let post_return_i32 = post_return.and_then(|f| f.typed::<i32, ()>(&store.inner).ok());
        Ok(Options {
            memory,
            realloc,
            post_return,
            post_return_i32,
            encoding: opts.encoding,
            instance,
            #[cfg(feature = "async")]
            callback: opts
                .callback
                .map(|f| get(&self.core_funcs, f, "core func").copied())
                .transpose()?,
            #[cfg(feature = "async")]
            is_async: opts.is_async,
        })
    }
}

/// Binds static resource `r` of instance `inst` to runtime type `rt`.
/// (Static ids come from the component's own type arena.)
fn bind<T>(data: &mut StoreData<T>, inst: u32, r: u32, rt: u32) -> Result<()> {
    data.flags(inst)?.resources.bind(r, rt)
}

fn provided_item<T: 'static>(
    data: &mut StoreData<T>,
    component: &Component,
    p: Provided<T>,
) -> Result<Item> {
    Ok(match p {
        Provided::Func(host, ty) => Item::Func(Func::host(data.id, component, host, ty)),
        Provided::TypedFunc(host, ty) => Item::Func(host.func(data.id, component, ty)),
        Provided::Resource(ty, dtor) => Item::Resource(data.runtime_resource_type(ty, dtor)?),
        Provided::Instance(items) => {
            let mut exports = Exports::default();
            for (name, p) in items {
                exports
                    .items
                    .insert(name, provided_item(data, component, p)?);
            }
            Item::Instance(Arc::new(exports))
        }
        Provided::Module(m) => Item::Module(m),
        Provided::Type => Item::Type,
    })
}

/// Instantiates the root of `component` in `store` with the linker's
/// `imports` (one per root import, in order).
pub(crate) fn instantiate<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    component: &Component,
    imports: Vec<Provided<T>>,
) -> Result<Instance> {
    let store_id = store.inner.data().id;
    let data = store.inner.data_mut();
    let imports = imports
        .into_iter()
        .map(|p| provided_item(data, component, p).map(Some))
        .collect::<Result<_>>()?;
    let root = ComponentValue {
        def: component.inner.defs.len() as u32 - 1,
        scope: None,
    };
    let exports = instantiate_def(store, component, &root, imports, None)?;
    Ok(Instance { store_id, exports })
}

/// Runs the init program of component definition `value` with `imports`
/// (one per import of the definition; `None` for type imports), as a child
/// of instance `parent`.
fn instantiate_def<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    component: &Component,
    value: &ComponentValue,
    imports: Vec<Option<Item>>,
    parent: Option<u32>,
) -> Result<Arc<Exports>> {
    let d = get(&component.inner.defs, value.def, "component")?;
    let data: &mut StoreData<T> = store.inner.data_mut();
    if data.instances.len() >= data.limits.max_instances {
        return Err(Error::trap(
            TrapKind::LimitExceeded,
            format!(
                "the store reached its max_instances limit of {} component instances",
                data.limits.max_instances
            ),
        ));
    }
    let instance_idx = data.instances.len() as u32;
    // A definition sees its definer's resource types through outer aliases.
    let definer = value.scope.as_ref().map(|s| s.instance).or(parent);
    data.instances.push(InstanceFlags {
        may_leave: true,
        may_enter: true,
        poisoned: false,
        parent,
        handles: Default::default(),
        resources: Default::default(),
        definer,
    });
    let mut imports = imports;
    let mut s = Spaces {
        outer: value.scope.clone(),
        ..Spaces::default()
    };
    let result = (|| -> Result<()> {
        for step in d.steps.iter() {
            // Instantiation is metered: a small binary may ask for much work.
            crate::boundary::charge_fuel(&mut store.inner, crate::abi::FUEL_PER_INIT_STEP)?;
            run_step(store, component, &mut s, &mut imports, step, instance_idx)?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        if let Ok(flags) = store.inner.data_mut().flags(instance_idx) {
            flags.poisoned = true;
        }
        return Err(e);
    }
    let mut exports = Exports::default();
    for (name, r) in d.exports.iter() {
        let item = s.item(store.inner.data_mut(), instance_idx, *r)?;
        exports.items.insert(String::from(&**name), item);
    }
    Ok(Arc::new(exports))
}

/// The argument named `name` of `args` (sorted by name when loaded).
fn find_arg<'a, X>(args: &'a [(Box<str>, X)], name: &str) -> Option<&'a (Box<str>, X)> {
    args.binary_search_by(|(n, _)| (**n).cmp(name))
        .ok()
        .and_then(|k| args.get(k))
}

fn run_step<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    component: &Component,
    s: &mut Spaces,
    imports: &mut [Option<Item>],
    step: &Step,
    instance_idx: u32,
) -> Result<()> {
    let inner = &component.inner;
    match step {
        Step::Module(m) => s.push_module(get(&inner.modules, *m, "module")?.clone()),
        Step::ComponentDef(d) => {
            let scope = s.scope(instance_idx);
            s.push_component(ComponentValue {
                def: *d,
                scope: Some(scope),
            });
        }
        Step::OuterAlias {
            count,
            index,
            module,
        } => {
            let item = s.outer_item(*count, *index, *module)?;
            let space = if *module {
                Space::Module
            } else {
                Space::Component
            };
            s.push(
                store.inner.data_mut(),
                instance_idx,
                item,
                space,
                "an outer alias",
            )?;
        }
        Step::Instantiate { component: c, args } => {
            let value = get(&s.components, *c, "component")?.clone();
            let child = get(&inner.defs, value.def, "component")?;
            let mut child_imports = Vec::with_capacity(child.imports.len());
            for import in child.imports.iter() {
                let arg = find_arg(args, &import.name);
                let item = match arg {
                    Some((_, r)) => Some(s.item(store.inner.data_mut(), instance_idx, *r)?),
                    None => None,
                };
                if item.is_none()
                    && !matches!(
                        import.kind,
                        ImportKind::Type | ImportKind::Resource { eq: true, .. }
                    )
                {
                    return Err(Error::link(format!(
                        "instantiation argument `{}` is missing",
                        crate::names::elide(&import.name)
                    )));
                }
                child_imports.push(item);
            }
            let exports =
                instantiate_def(store, component, &value, child_imports, Some(instance_idx))?;
            s.instances.push(exports);
        }
        Step::CoreInstantiate { module, args } => {
            let m = get(&s.modules, *module, "module")?;
            let mut externs = Vec::new();
            for imp in m.imports() {
                let (_, arg) = find_arg(args, imp.module()).ok_or_else(|| {
                    Error::load(
                        0,
                        format!(
                            "no instantiation argument `{}`",
                            crate::names::elide(imp.module())
                        ),
                    )
                })?;
                externs.push(s.core_export(store, *arg, imp.name())?);
            }
            let i = wasmi::Instance::new(&mut store.inner, m, &externs).map_err(from_wasmi)?;
            s.core_instances.push(CoreInstance::Wasm(i));
        }
        Step::CoreInstanceFromExports(items) => {
            let mut bag = Vec::with_capacity(items.len());
            for (name, r) in items.iter() {
                bag.push((name.clone(), s.core_item(*r)?));
            }
            s.core_instances.push(CoreInstance::Bag(bag));
        }
        Step::CoreAlias {
            instance,
            name,
            kind,
        } => {
            let e = s.core_export(store, *instance, name)?;
            let wrong = || Error::load(0, format!("core export `{name}` is of the wrong kind"));
            match kind {
                CoreKind::Func => s.core_funcs.push(e.into_func().ok_or_else(wrong)?),
                CoreKind::Memory => s.memories.push(e.into_memory().ok_or_else(wrong)?),
                CoreKind::Table => s.tables.push(e.into_table().ok_or_else(wrong)?),
                CoreKind::Global => s.globals.push(e.into_global().ok_or_else(wrong)?),
            }
        }
        Step::Lower { func, ty, opts } => {
            let callee = get(&s.funcs, *func, "func")?.clone();
            let options = s.options(store, opts, instance_idx)?;
            let core = match &callee.kind {
                #[cfg(feature = "async")]
                FuncKind::Lifted(l)
                    if crate::concurrent::call::needs_async_lower(
                        &options,
                        &callee.component,
                        l,
                    ) =>
                {
                    crate::concurrent::call::lower(store, component, *ty, options, callee.clone())?
                }
                FuncKind::Host { host, .. } => match host.downcast_ref::<func::ValHost<T>>() {
                    Some(h) => (h.lower)(store, component, *ty, options, h)?,
                    // A typed host function under `canon lower async`
                    // runs through its `Val` form.
                    #[cfg(feature = "async")]
                    None if options.is_async => {
                        let f = crate::typed::dynamic_of_typed::<T>(host).ok_or_else(|| {
                            Error::usage("host function of another store data type")
                        })??;
                        let h = func::ValHost {
                            f,
                            lower: func::lower_host::<T>,
                            future: None,
                        };
                        crate::concurrent::host::lower(store, component, *ty, options, &h)?
                    }
                    None => crate::typed::lower_typed_host(host, store, component, *ty, options)
                        .ok_or_else(|| Error::usage("host function of another store data type"))?,
                },
                FuncKind::Lifted(_) => {
                    func::lower_lifted(store, component, *ty, options, callee.clone())
                }
            };
            s.core_funcs.push(core);
        }
        Step::Lift {
            core_func,
            ty,
            opts,
        } => {
            let core = *get(&s.core_funcs, *core_func, "core func")?;
            let options = s.options(store, opts, instance_idx)?;
            #[cfg(feature = "async")]
            if options.callback.is_some() {
                store.inner.data_mut().async_state();
            }
            s.funcs.push(Func::lifted(
                store.inner.data().id,
                component,
                LiftedFunc {
                    core,
                    ty: *ty,
                    options,
                    entering: crate::boundary::self_and_ancestors(store.inner.data(), instance_idx),
                    fast: crate::core_wrap::FastCall::new(&store.inner, &core),
                    #[cfg(feature = "async")]
                    is_task: options.is_async
                        || crate::concurrent::call::is_async_type(component, *ty),
                },
            ));
        }
        Step::Import { import, space } => {
            let item = imports
                .get_mut(*import as usize)
                .and_then(Option::take)
                .ok_or_else(|| bad_index("import", *import))?;
            s.push(
                store.inner.data_mut(),
                instance_idx,
                item,
                *space,
                "an import",
            )?;
        }
        Step::Alias {
            instance,
            name,
            space,
        } => {
            let exports = get(&s.instances, *instance, "instance")?;
            let item = exports.items.get(&**name).cloned().ok_or_else(|| {
                Error::link(format!(
                    "instance {instance} has no export `{}`",
                    crate::names::elide(name)
                ))
            })?;
            s.push(
                store.inner.data_mut(),
                instance_idx,
                item,
                *space,
                "an instance export",
            )?;
        }
        Step::InstanceFromExports(items) => {
            let mut exports = Exports::default();
            for (name, r) in items.iter() {
                let item = s.item(store.inner.data_mut(), instance_idx, *r)?;
                exports.items.insert(String::from(&**name), item);
            }
            s.instances.push(Arc::new(exports));
        }
        Step::Reexport(r) => {
            let space = match r {
                ItemRef::Func(_) => Space::Func,
                ItemRef::Instance(_) => Space::Instance,
                ItemRef::Module(_) => Space::Module,
                ItemRef::Component(_) => Space::Component,
                ItemRef::Type | ItemRef::Resource(_) => return Ok(()),
            };
            let item = s.item(store.inner.data_mut(), instance_idx, *r)?;
            s.push(
                store.inner.data_mut(),
                instance_idx,
                item,
                space,
                "an export",
            )?;
        }
        Step::DefineResource { r, dtor } => {
            let dtor = dtor
                .map(|d| {
                    get(&s.core_funcs, d, "core func")?
                        .typed::<i32, ()>(&store.inner)
                        .map_err(|e| {
                            Error::load(0, format!("a destructor has the wrong type: {e}"))
                        })
                })
                .transpose()?;
            let data = store.inner.data_mut();
            let rt = data.resource_types.len() as u32;
            let max = data.limits.max_resource_types;
            if rt >= max {
                return Err(Error::trap(
                    TrapKind::LimitExceeded,
                    format!(
                        "the store reached its max_resource_types limit of {max} resource types"
                    ),
                ));
            }
            data.limiter
                .0
                .take_bytes(core::mem::size_of::<ResourceTypeInfo>() as u64)?;
            data.resource_types.try_reserve(1).map_err(|_| {
                Error::trap(
                    TrapKind::LimitExceeded,
                    "the host could not add a resource type",
                )
            })?;
            data.resource_types.push(ResourceTypeInfo {
                instance: Some(instance_idx),
                dtor,
                host: None,
            });
            bind(data, instance_idx, *r, rt)?;
        }
        Step::BindResource { r, from } => {
            let data = store.inner.data_mut();
            let rt = data.resource(instance_idx, *from)?;
            bind(data, instance_idx, *r, rt)?;
        }
        Step::BindInstanceResources { instance, binds } => {
            let exports = get(&s.instances, *instance, "instance")?.clone();
            let data = store.inner.data_mut();
            for (path, r) in binds.iter() {
                let mut item = None;
                let mut scope = &exports;
                for (k, name) in path.iter().enumerate() {
                    match scope.items.get(&**name) {
                        Some(Item::Instance(inner)) if k + 1 < path.len() => scope = inner,
                        Some(Item::Resource(rt)) if k + 1 == path.len() => item = Some(*rt),
                        _ => break,
                    }
                }
                if let Some(rt) = item {
                    bind(data, instance_idx, *r, rt)?;
                }
            }
        }
        Step::ResourceBuiltin { kind, r } => {
            let f = crate::handles::builtin(store, *kind, instance_idx, *r);
            s.core_funcs.push(f);
        }
        #[cfg(feature = "async")]
        Step::AsyncBuiltin(crate::concurrent::builtins::Builtin::Stream(b)) => {
            let o = s.options(store, &b.canon_opts(), instance_idx)?;
            let f = crate::concurrent::streams::core_func(store, component, *b, instance_idx, o)?;
            s.core_funcs.push(f);
        }
        #[cfg(feature = "async")]
        Step::AsyncBuiltin(builtin) => {
            let memory = builtin
                .memory()
                .map(|m| get(&s.memories, m, "memory").copied())
                .transpose()?;
            let f = crate::concurrent::builtins::core_func(
                store,
                component,
                *builtin,
                instance_idx,
                memory,
            )?;
            s.core_funcs.push(f);
        }
    }
    Ok(())
}
