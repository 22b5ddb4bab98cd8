//! `Component`: a validated component binary, decoded into index spaces and
//! an init program (the ordered steps that instantiate it), with every type
//! interned and laid out. Immutable and shareable across stores.

mod core_modules;
mod image;
#[cfg(feature = "validate")]
mod item_types;
#[cfg(feature = "validate")]
mod parse;
mod plan;

pub(crate) use plan::FuncPlan;

#[cfg(feature = "validate")]
pub(crate) use core_modules::compile_core_module;
#[cfg(all(test, feature = "validate"))]
pub(crate) use core_modules::features;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::abi::StringEncoding;
use crate::engine::Engine;
#[cfg(feature = "validate")]
use crate::error::Result;
use crate::types::{FuncType, TypeArena};

/// A compiled component, ready to be instantiated any number of times in
/// any store of the same [`Engine`]. Cloning is cheap (a reference count).
#[derive(Clone)]
pub struct Component {
    pub(crate) inner: Arc<ComponentInner>,
}

pub(crate) struct ComponentInner {
    pub engine: Engine,
    pub arena: TypeArena,
    /// Every core module of the binary, at any nesting depth.
    pub modules: Vec<wasmi::Module>,
    /// The bytes of each module, for [`Component::serialize`] (empty for a
    /// component loaded from an image).
    pub module_bytes: Vec<Box<[u8]>>,
    /// Every component definition of the binary; the last one is the root.
    pub defs: Vec<ComponentDef>,
    /// The flat core signature of each function type, by arena func index.
    pub plans: Vec<FuncPlan>,
    /// The types of the root's exports, in `exports` order.
    pub export_types: Vec<ImportKind>,
}

/// One component definition (the root or a nested one): its init program,
/// imports and exports.
pub(crate) struct ComponentDef {
    pub steps: Vec<Step>,
    pub imports: Vec<Import>,
    /// Exports: name → item in the runtime index spaces.
    pub exports: Vec<(Box<str>, ItemRef)>,
}

impl ComponentInner {
    /// The root component definition.
    pub(crate) fn root(&self) -> &ComponentDef {
        // `parse` always pushes the root last.
        &self.defs[self.defs.len() - 1]
    }
}

/// A reference to an item in one of the component-level index spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemRef {
    Func(u32),
    Instance(u32),
    Module(u32),
    Component(u32),
    /// Types carry no runtime state; kept so exports list them.
    Type,
    /// A resource type: a static resource index, bound per instance.
    Resource(u32),
}

/// A reference to an item in one of the core index spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CoreRef {
    Func(u32),
    Memory(u32),
    Table(u32),
    Global(u32),
}

/// What an import of the component expects (or what an export is).
#[derive(Debug, Clone)]
pub(crate) struct Import {
    pub name: Box<str>,
    pub kind: ImportKind,
}

#[derive(Debug, Clone)]
pub(crate) enum ImportKind {
    /// A function of the given arena func type.
    Func(u32),
    /// An instance with these exports (functions by arena func type; other
    /// export kinds carry no runtime state yet).
    Instance(Vec<(Box<str>, ImportKind)>),
    /// A type import (`eq` bound): nothing to provide.
    Type,
    /// A resource type: static resource `r` of the component's types, with a
    /// `sub resource` bound (a new type the linker provides) or, if `eq`, an
    /// `eq` bound naming a resource type that is in scope already.
    Resource { r: u32, eq: bool },
    /// A core module of this type (`None` if it uses types of proposals
    /// wasmi does not run: then no host module can match).
    Module(Option<Box<crate::module::CoreModuleType>>),
    /// A component (nested components only).
    Component,
}

/// Canonical options, with core indices still unresolved.
#[derive(Debug, Clone, Default)]
pub(crate) struct CanonOpts {
    pub encoding: StringEncoding,
    pub memory: Option<u32>,
    pub realloc: Option<u32>,
    pub post_return: Option<u32>,
    /// `async (callback f)` of `canon lift`: the callback core func
    /// (feature `async`).
    #[cfg(feature = "async")]
    pub callback: Option<u32>,
    /// The `async` option of `canon lift` or `canon lower` (feature
    /// `async`).
    #[cfg(feature = "async")]
    pub is_async: bool,
}

/// One step of the init program. Each appends exactly one item to one
/// runtime index space, in binary order, so indices match the binary's.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// A core module of the binary (index into `modules`), into modules.
    Module(u32),
    /// A component definition (index into `defs`), into components.
    ComponentDef(u32),
    /// Outer alias of module (or component) `index` of the enclosing
    /// component `count` levels out, resolved in the scope that defined the
    /// running definition.
    OuterAlias {
        count: u32,
        index: u32,
        module: bool,
    },
    /// Instantiate component `component` of the component space with args.
    Instantiate {
        component: u32,
        args: Box<[(Box<str>, ItemRef)]>,
    },
    /// Instantiate core module `module` with named core instances as imports.
    CoreInstantiate {
        module: u32,
        args: Box<[(Box<str>, u32)]>,
    },
    /// A core instance made of existing core items.
    CoreInstanceFromExports(Box<[(Box<str>, CoreRef)]>),
    /// An export of a core instance, into the core space of `kind`.
    CoreAlias {
        instance: u32,
        name: Box<str>,
        kind: CoreKind,
    },
    /// `canon lower` of component function `func`, into core funcs.
    Lower { func: u32, ty: u32, opts: CanonOpts },
    /// `canon lift` of core func `core_func`, into component funcs.
    Lift {
        core_func: u32,
        ty: u32,
        opts: CanonOpts,
    },
    /// Import number `import`, into funcs or instances.
    Import { import: u32, space: Space },
    /// An export of component instance `instance`, into `space`.
    Alias {
        instance: u32,
        name: Box<str>,
        space: Space,
    },
    /// A component instance made of existing items.
    InstanceFromExports(Box<[(Box<str>, ItemRef)]>),
    /// A copy of an existing item (exports re-index what they export).
    Reexport(ItemRef),
    /// A resource type defined here: a new runtime type per instance, bound
    /// to static resource `r`, with destructor core func `dtor`.
    DefineResource { r: u32, dtor: Option<u32> },
    /// Binds static resource `r` to the same runtime type as `from`.
    BindResource { r: u32, from: u32 },
    /// A `resource.new/drop/rep` built-in for static resource `r`, into core funcs.
    ResourceBuiltin { kind: ResourceBuiltin, r: u32 },
    /// Binds the static resources an instance's type exports (by export
    /// path) to the runtime types the instance carries.
    BindInstanceResources {
        instance: u32,
        binds: Box<[ResourceBind]>,
    },
    /// An async built-in (feature `async`), into core funcs.
    #[cfg(feature = "async")]
    AsyncBuiltin(crate::concurrent::builtins::Builtin),
}

/// A resource type an instance exports at an export path, and the static
/// resource index it binds.
pub(crate) type ResourceBind = (Box<[Box<str>]>, u32);

/// The resource built-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResourceBuiltin {
    New,
    Drop,
    Rep,
}

/// A core index space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CoreKind {
    Func,
    Memory,
    Table,
    Global,
}

/// A component-level index space with runtime state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Space {
    Func,
    Instance,
    Module,
    Component,
    /// The type space, for a resource type: binds static resource `r`.
    Resource(u32),
}

impl Component {
    /// Parses and validates a component binary and prepares it for
    /// instantiation: compiles its core modules, resolves its index spaces
    /// and computes the layout and core signature of every function.
    ///
    /// Fails with a load error (with the byte offset) for a malformed or
    /// invalid binary, and with an `unsupported` error for features this
    /// runtime does not implement (async, resources, nested components, …).
    ///
    /// Needs the `validate` feature (on by default); a build without it
    /// loads images made by [`Component::serialize`] instead.
    #[cfg(feature = "validate")]
    pub fn new(engine: &Engine, bytes: &[u8]) -> Result<Component> {
        let inner = parse::parse(engine, bytes)?;
        Ok(Component {
            inner: Arc::new(inner),
        })
    }

    /// The component's imports: name and what is expected there.
    pub fn imports(&self) -> impl ExactSizeIterator<Item = (&str, ComponentItem)> + '_ {
        self.inner
            .root()
            .imports
            .iter()
            .map(|i| (&*i.name, self.inner.item_of_import(&i.kind)))
    }

    /// The component's exports: name and type.
    pub fn exports(&self) -> Vec<(String, ComponentItem)> {
        self.inner
            .root()
            .exports
            .iter()
            .zip(&self.inner.export_types)
            .map(|((name, _), ty)| (String::from(&**name), self.inner.item_of_import(ty)))
            .collect()
    }
}

/// The type of an import or export, for introspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentItem {
    /// A function.
    Func(FuncType),
    /// An instance, with its named items.
    Instance(Vec<(String, ComponentItem)>),
    /// A type that is not a resource type.
    Type,
    /// A resource type (its identity among the component's types; each
    /// instantiation makes its own: see [`ResourceType`](crate::ResourceType)).
    Resource(crate::ResourceType),
    /// A core module.
    Module,
    /// A component.
    Component,
}

impl ComponentInner {
    fn item_of_import(&self, kind: &ImportKind) -> ComponentItem {
        match kind {
            ImportKind::Func(ty) => ComponentItem::Func(self.arena.func_to_public(*ty)),
            ImportKind::Instance(items) => ComponentItem::Instance(
                items
                    .iter()
                    .map(|(n, k)| (String::from(&**n), self.item_of_import(k)))
                    .collect(),
            ),
            ImportKind::Type => ComponentItem::Type,
            ImportKind::Resource { r, .. } => {
                ComponentItem::Resource(self.arena.static_resource(*r))
            }
            ImportKind::Module(_) => ComponentItem::Module,
            ImportKind::Component => ComponentItem::Component,
        }
    }
}
