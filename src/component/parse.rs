//! Decoding a component binary into a [`ComponentInner`]: one pass over the
//! payloads that feeds wasmparser's validator and records, for each
//! (possibly nested) component, each index-space entry as a step of its
//! init program.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;
use wasmparser::component_types::{ComponentAnyTypeId, ComponentEntityType};
use wasmparser::types::TypesRef;
use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentAlias, ComponentExternalKind,
    ComponentOuterAliasKind, ComponentTypeRef, Encoding, ExternalKind, FuncValidatorAllocations,
    Instance, Parser, Payload, ValidPayload, Validator,
};

use super::core_modules::{compile_modules, features, invalid};
use super::item_types::import_kind;
use super::{
    CanonOpts, ComponentDef, ComponentInner, CoreKind, CoreRef, Import, ImportKind, ItemRef,
    ResourceBuiltin, Space, Step,
};
use crate::abi::StringEncoding;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::types::TypeArena;

/// A binary offset as the error type holds it (saturating on 16-bit targets).
fn offset(o: u64) -> usize {
    usize::try_from(o).unwrap_or(usize::MAX)
}

pub(super) fn load_err(e: wasmparser::BinaryReaderError) -> Error {
    Error::load(offset(e.offset()), e.message())
}

pub(super) fn parse(engine: &Engine, bytes: &[u8]) -> Result<ComponentInner> {
    match parse_validated(engine, bytes) {
        Err(e) if matches!(e.kind(), ErrorKind::Load { .. }) && !Parser::is_core_wasm(bytes) => {
            Err(invalid(bytes, e))
        }
        other => other,
    }
}

/// The component being decoded at one nesting level.
#[derive(Default)]
struct Builder {
    steps: Vec<Step>,
    imports: Vec<Import>,
    exports: Vec<(Box<str>, ItemRef)>,
    export_types: Vec<ImportKind>,
    n_funcs: u32,
    /// The static resource index of each type index that is a resource.
    types: Vec<Option<u32>>,
    n_instances: u32,
}

struct Shared {
    arena: TypeArena,
    /// Where each core module of the binary lies in it.
    modules: Vec<core::ops::Range<usize>>,
    defs: Vec<ComponentDef>,
}

fn parse_validated(engine: &Engine, bytes: &[u8]) -> Result<ComponentInner> {
    let mut validator = Validator::new_with_features(features());
    let mut parser = Parser::new(0);
    parser.set_features(features());
    let mut shared = Shared {
        arena: TypeArena::with_max_depth(engine.config.limits.max_type_depth),
        modules: Vec::new(),
        defs: Vec::new(),
    };
    let mut stack: Vec<Builder> = Vec::new();
    let mut in_module = false;
    let mut bodies = Vec::new();
    let mut root_export_types = Vec::new();
    for payload in parser.parse_all(bytes) {
        let payload = payload.map_err(load_err)?;
        if let ValidPayload::Func(f, body) = validator.payload(&payload).map_err(load_err)? {
            bodies.push((f, body));
        }
        if in_module {
            if let Payload::End(_) = payload {
                in_module = false;
            }
            continue;
        }
        match &payload {
            Payload::Version {
                encoding, range, ..
            } => match encoding {
                Encoding::Component => stack.push(Builder::default()),
                Encoding::Module => {
                    return Err(Error::load(
                        offset(range.start),
                        "expected a component, found a core module",
                    ))
                }
            },
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                in_module = true;
                let out_of_range =
                    || Error::load(offset(unchecked_range.start), "module section out of range");
                let start = usize::try_from(unchecked_range.start).map_err(|_| out_of_range())?;
                let end = usize::try_from(unchecked_range.end).map_err(|_| out_of_range())?;
                if bytes.get(start..end).is_none() {
                    return Err(out_of_range());
                }
                // Compiled once the whole binary is validated (below).
                let index = shared.modules.len() as u32;
                shared.modules.push(start..end);
                let b = top(&mut stack)?;
                b.steps.push(Step::Module(index));
            }
            Payload::ComponentSection { .. } => {}
            Payload::End(_) => {
                let b = stack
                    .pop()
                    .ok_or_else(|| Error::load(0, "unbalanced end"))?;
                let index = shared.defs.len() as u32;
                if stack.is_empty() {
                    root_export_types = b.export_types;
                }
                shared.defs.push(ComponentDef {
                    steps: b.steps,
                    imports: b.imports,
                    exports: b.exports,
                });
                if let Some(parent) = stack.last_mut() {
                    parent.steps.push(Step::ComponentDef(index));
                }
            }
            other => {
                let types = validator
                    .types(0)
                    .ok_or_else(|| Error::load(0, "section outside a component"))?;
                let depth = stack.len();
                section(&mut shared, &mut stack, depth == 1, &types, other)?;
            }
        }
    }
    let mut allocs = FuncValidatorAllocations::default();
    for (f, body) in bodies {
        let mut v = f.into_validator(allocs);
        v.validate(&body).map_err(load_err)?;
        allocs = v.into_allocations();
    }
    let modules = compile_modules(engine, bytes, &shared.modules)?;
    if shared.defs.is_empty() || !stack.is_empty() {
        return Err(Error::load(bytes.len(), "unexpected end of component"));
    }
    let arena = shared.arena;
    let plans = super::plan::plans(&arena);
    let module_bytes = shared
        .modules
        .iter()
        .map(|r| Box::from(bytes.get(r.clone()).unwrap_or_default()))
        .collect();
    Ok(ComponentInner {
        engine: engine.clone(),
        arena,
        modules,
        module_bytes,
        defs: shared.defs,
        plans,
        export_types: root_export_types,
    })
}

fn top(stack: &mut [Builder]) -> Result<&mut Builder> {
    stack
        .last_mut()
        .ok_or_else(|| Error::load(0, "section outside a component"))
}

fn core_kind(kind: ExternalKind) -> Result<CoreKind> {
    Ok(match kind {
        ExternalKind::Func => CoreKind::Func,
        ExternalKind::Memory => CoreKind::Memory,
        ExternalKind::Table => CoreKind::Table,
        ExternalKind::Global => CoreKind::Global,
        ExternalKind::Tag => return Err(Error::unsupported("core exception tags")),
        ExternalKind::FuncExact => {
            return Err(Error::unsupported(
                "exact core function imports (custom descriptors)",
            ))
        }
    })
}

pub(super) fn values() -> Error {
    Error::unsupported("component values (the 🪙 feature)")
}

fn item_ref(b: &Builder, kind: ComponentExternalKind, index: u32) -> Result<ItemRef> {
    Ok(match kind {
        ComponentExternalKind::Func => ItemRef::Func(index),
        ComponentExternalKind::Instance => ItemRef::Instance(index),
        ComponentExternalKind::Type => match b.types.get(index as usize).copied().flatten() {
            Some(r) => ItemRef::Resource(r),
            None => ItemRef::Type,
        },
        ComponentExternalKind::Module => ItemRef::Module(index),
        ComponentExternalKind::Component => ItemRef::Component(index),
        ComponentExternalKind::Value => return Err(values()),
    })
}

/// Decodes one section of the component at the top of `stack`.
fn section(
    shared: &mut Shared,
    stack: &mut [Builder],
    is_root: bool,
    types: &TypesRef<'_>,
    payload: &Payload<'_>,
) -> Result<()> {
    let n = stack.len();
    match payload {
        Payload::InstanceSection(s) => {
            let b = top(stack)?;
            for inst in s.clone() {
                let step = match inst.map_err(load_err)? {
                    Instance::Instantiate { module_index, args } => {
                        // Sorted by name: instantiation finds each by binary search.
                        let mut args: Vec<(Box<str>, u32)> =
                            args.iter().map(|a| (Box::from(a.name), a.index)).collect();
                        args.sort_by(|a, b| a.0.cmp(&b.0));
                        Step::CoreInstantiate {
                            module: module_index,
                            args: args.into_boxed_slice(),
                        }
                    }
                    Instance::FromExports(exports) => {
                        let mut items = Vec::with_capacity(exports.len());
                        for e in exports.iter() {
                            let r = match core_kind(e.kind)? {
                                CoreKind::Func => CoreRef::Func(e.index),
                                CoreKind::Memory => CoreRef::Memory(e.index),
                                CoreKind::Table => CoreRef::Table(e.index),
                                CoreKind::Global => CoreRef::Global(e.index),
                            };
                            items.push((Box::from(e.name), r));
                        }
                        // Sorted by name: lookups are binary searches.
                        items.sort_by(|a: &(Box<str>, CoreRef), b| a.0.cmp(&b.0));
                        Step::CoreInstanceFromExports(items.into_boxed_slice())
                    }
                };
                b.steps.push(step);
            }
        }
        Payload::ComponentInstanceSection(s) => {
            let b = top(stack)?;
            for inst in s.clone() {
                let step = match inst.map_err(load_err)? {
                    wasmparser::ComponentInstance::Instantiate {
                        component_index,
                        args,
                    } => {
                        let mut items = Vec::with_capacity(args.len());
                        for a in args.iter() {
                            items.push((Box::from(a.name), item_ref(b, a.kind, a.index)?));
                        }
                        // Sorted by name: instantiation finds each by binary search.
                        items.sort_by(|a: &(Box<str>, ItemRef), b| a.0.cmp(&b.0));
                        Step::Instantiate {
                            component: component_index,
                            args: items.into_boxed_slice(),
                        }
                    }
                    wasmparser::ComponentInstance::FromExports(exports) => {
                        let mut items = Vec::with_capacity(exports.len());
                        for e in exports.iter() {
                            items.push((Box::from(e.name.name), item_ref(b, e.kind, e.index)?));
                        }
                        Step::InstanceFromExports(items.into_boxed_slice())
                    }
                };
                b.steps.push(step);
                let index = b.n_instances;
                b.n_instances += 1;
                bind_instance(shared, types, b, index);
            }
        }
        Payload::ComponentAliasSection(s) => {
            for alias in s.clone() {
                alias_step(shared, types, stack, alias.map_err(load_err)?)?;
            }
        }
        Payload::ComponentCanonicalSection(s) => {
            let b = top(stack)?;
            for canon in s.clone() {
                canon_step(shared, b, types, canon.map_err(load_err)?)?;
            }
        }
        Payload::ComponentStartSection { .. } => return Err(values()),
        Payload::ComponentImportSection(s) => {
            let b = top(stack)?;
            for import in s.clone() {
                let import = import.map_err(load_err)?;
                let name = import.name.name;
                let ety = types
                    .component_item_for_import(name)
                    .ok_or_else(|| Error::load(0, format!("import `{name}` has no type")))?
                    .ty;
                let kind = import_kind(types, &mut shared.arena, ety)?;
                let import_index = b.imports.len() as u32;
                b.imports.push(Import {
                    name: Box::from(name),
                    kind,
                });
                let space = match import.ty {
                    ComponentTypeRef::Func(_) => Space::Func,
                    ComponentTypeRef::Instance(_) => Space::Instance,
                    ComponentTypeRef::Module(_) => Space::Module,
                    ComponentTypeRef::Component(_) => Space::Component,
                    ComponentTypeRef::Type(_) => {
                        let r = resource_at(shared, types, b.types.len() as u32);
                        b.types.push(r);
                        match r {
                            Some(r) => Space::Resource(r),
                            None => continue,
                        }
                    }
                    ComponentTypeRef::Value(_) => return Err(values()),
                };
                b.push_entry(
                    space,
                    Step::Import {
                        import: import_index,
                        space,
                    },
                );
                // Resources the instance's type exports are used by the
                // function types that follow: bind them to what it carries.
                if space == Space::Instance {
                    bind_instance(shared, types, b, b.n_instances - 1);
                }
            }
        }
        Payload::ComponentExportSection(s) => {
            let b = top(stack)?;
            for export in s.clone() {
                let export = export.map_err(load_err)?;
                let item = item_ref(b, export.kind, export.index)?;
                if is_root {
                    let ety = types
                        .component_item_for_export(export.name.name)
                        .ok_or_else(|| {
                            Error::load(0, format!("export `{}` has no type", export.name.name))
                        })?
                        .ty;
                    let ty = import_kind(types, &mut shared.arena, ety)?;
                    b.export_types.push(ty);
                }
                b.exports.push((Box::from(export.name.name), item));
                // An export adds a new index for what it exports.
                if export.kind == ComponentExternalKind::Type {
                    let r = resource_at(shared, types, b.types.len() as u32);
                    if let (Some(r), ItemRef::Resource(from)) = (r, item) {
                        if r != from {
                            b.steps.push(Step::BindResource { r, from });
                        }
                    }
                    b.types.push(r);
                } else {
                    b.push_copy(item);
                }
            }
        }
        Payload::ComponentTypeSection(s) => {
            let b = top(stack)?;
            for ty in s.clone() {
                let index = b.types.len() as u32;
                let r = resource_at(shared, types, index);
                if let (wasmparser::ComponentType::Resource { dtor, .. }, Some(r)) =
                    (ty.map_err(load_err)?, r)
                {
                    b.steps.push(Step::DefineResource { r, dtor });
                }
                b.types.push(r);
            }
        }
        Payload::CoreTypeSection(_) | Payload::CustomSection(_) => {}
        other => {
            return Err(Error::unsupported(format!(
                "section {:?} in a component",
                other.as_section().map(|s| s.0)
            )))
        }
    }
    let _ = n;
    Ok(())
}

impl Builder {
    /// Records the step that appends one entry to `space`.
    fn push_entry(&mut self, space: Space, step: Step) {
        if space == Space::Instance {
            self.n_instances += 1;
        }
        if space == Space::Func {
            self.n_funcs += 1;
        }
        self.steps.push(step);
    }

    fn push_copy(&mut self, item: ItemRef) {
        match item {
            ItemRef::Func(_) => self.n_funcs += 1,
            ItemRef::Instance(_) => self.n_instances += 1,
            ItemRef::Module(_) | ItemRef::Component(_) => {}
            ItemRef::Type | ItemRef::Resource(_) => return,
        }
        self.steps.push(Step::Reexport(item));
    }
}

fn alias_step(
    shared: &mut Shared,
    types: &TypesRef<'_>,
    stack: &mut [Builder],
    alias: ComponentAlias<'_>,
) -> Result<()> {
    let n = stack.len();
    match alias {
        ComponentAlias::InstanceExport {
            kind,
            instance_index,
            name,
        } => {
            let space = match kind {
                ComponentExternalKind::Func => Space::Func,
                ComponentExternalKind::Instance => Space::Instance,
                ComponentExternalKind::Module => Space::Module,
                ComponentExternalKind::Component => Space::Component,
                ComponentExternalKind::Type => {
                    let b = top(stack)?;
                    let r = resource_at(shared, types, b.types.len() as u32);
                    b.types.push(r);
                    match r {
                        Some(r) => Space::Resource(r),
                        None => return Ok(()),
                    }
                }
                ComponentExternalKind::Value => return Err(values()),
            };
            let b = top(stack)?;
            b.push_entry(
                space,
                Step::Alias {
                    instance: instance_index,
                    name: Box::from(name),
                    space,
                },
            );
            if space == Space::Instance {
                bind_instance(shared, types, b, b.n_instances - 1);
            }
        }
        ComponentAlias::CoreInstanceExport {
            kind,
            instance_index,
            name,
        } => {
            let kind = core_kind(kind)?;
            top(stack)?.steps.push(Step::CoreAlias {
                instance: instance_index,
                name: Box::from(name),
                kind,
            });
        }
        ComponentAlias::Outer { kind, count, index } => {
            if u64::from(count) >= n as u64 {
                return Err(Error::load(0, "outer alias count out of range"));
            }
            let module = match kind {
                ComponentOuterAliasKind::CoreType => return Ok(()),
                ComponentOuterAliasKind::Type => {
                    // Same resource id as the outer one: the binding is
                    // inherited from the defining instance.
                    let b = top(stack)?;
                    let r = resource_at(shared, types, b.types.len() as u32);
                    b.types.push(r);
                    return Ok(());
                }
                ComponentOuterAliasKind::CoreModule => true,
                ComponentOuterAliasKind::Component => false,
            };
            // Resolved at instantiation, in the scope that defined the
            // running definition: what the outer component imported is
            // known only then.
            top(stack)?.steps.push(Step::OuterAlias {
                count,
                index,
                module,
            });
        }
    }
    Ok(())
}

fn canon_step(
    shared: &mut Shared,
    b: &mut Builder,
    types: &TypesRef<'_>,
    canon: CanonicalFunction,
) -> Result<()> {
    match canon {
        CanonicalFunction::Lift {
            core_func_index,
            options,
            ..
        } => {
            let index = b.n_funcs;
            let ty = shared
                .arena
                .intern_func(types, func_type_at(types, index)?)?;
            let opts = canon_opts(&options)?;
            #[cfg(feature = "async")]
            crate::concurrent::canon::check_lift_options(&opts)?;
            #[cfg(feature = "async")]
            crate::concurrent::types::check_runnable(&shared.arena, ty)?;
            b.push_entry(
                Space::Func,
                Step::Lift {
                    core_func: core_func_index,
                    ty,
                    opts,
                },
            );
        }
        CanonicalFunction::Lower {
            func_index,
            options,
        } => {
            if func_index >= b.n_funcs {
                return Err(Error::load(0, "canon lower of an unknown function"));
            }
            let ty = shared
                .arena
                .intern_func(types, func_type_at(types, func_index)?)?;
            let opts = canon_opts(&options)?;
            #[cfg(feature = "async")]
            crate::concurrent::canon::check_lower_options(&opts)?;
            #[cfg(feature = "async")]
            crate::concurrent::types::check_runnable(&shared.arena, ty)?;
            b.steps.push(Step::Lower {
                func: func_index,
                ty,
                opts,
            });
        }
        CanonicalFunction::ResourceNew { resource } => {
            resource_builtin(shared, b, types, ResourceBuiltin::New, resource)?
        }
        CanonicalFunction::ResourceDrop { resource } => {
            resource_builtin(shared, b, types, ResourceBuiltin::Drop, resource)?
        }
        CanonicalFunction::ResourceRep { resource } => {
            resource_builtin(shared, b, types, ResourceBuiltin::Rep, resource)?
        }
        #[cfg(feature = "async")]
        CanonicalFunction::TaskReturn { result, options } => {
            let result = match result {
                Some(t) => Some(shared.arena.intern_val(types, reader_val_type(types, t)?)?),
                None => None,
            };
            let opts = canon_opts(&options)?;
            crate::concurrent::canon::check_task_return(&shared.arena, result, &opts)?;
            b.steps.push(Step::AsyncBuiltin(
                crate::concurrent::builtins::Builtin::TaskReturn {
                    result,
                    memory: opts.memory,
                    encoding: opts.encoding,
                },
            ));
        }
        #[cfg(feature = "async")]
        other => {
            let builtin =
                match crate::concurrent::streams::builtin(&mut shared.arena, types, &other)? {
                    Some(s) => crate::concurrent::builtins::Builtin::Stream(s),
                    None => crate::concurrent::canon::builtin(&other)?,
                };
            b.steps.push(Step::AsyncBuiltin(builtin));
        }
        #[cfg(not(feature = "async"))]
        _ => {
            // Not `{other:?}`: the Debug impl of every built-in costs flash.
            return Err(Error::unsupported(
                "canonical built-ins of async, threads or error-context",
            ));
        }
    }
    Ok(())
}

/// The validator's form of a value type as the binary spells it (a
/// primitive, or an index into the component's types).
#[cfg(feature = "async")]
fn reader_val_type(
    types: &TypesRef<'_>,
    t: wasmparser::ComponentValType,
) -> Result<wasmparser::component_types::ComponentValType> {
    use wasmparser::component_types::ComponentValType as V;
    Ok(match t {
        wasmparser::ComponentValType::Primitive(p) => V::Primitive(p),
        wasmparser::ComponentValType::Type(i) => {
            if i >= types.component_type_count() {
                return Err(Error::load(0, "internal: type index out of range"));
            }
            match types.component_any_type_at(i) {
                ComponentAnyTypeId::Defined(id) => V::Type(id),
                _ => {
                    return Err(Error::load(
                        0,
                        "task.return of a type that is not a value type",
                    ))
                }
            }
        }
    })
}

/// The validator's type of function `index`, checked against its count
/// (wasmparser panics on an index out of range).
fn func_type_at(
    types: &TypesRef<'_>,
    index: u32,
) -> Result<wasmparser::component_types::ComponentFuncTypeId> {
    if index >= types.component_function_count() {
        return Err(Error::load(0, "internal: function index out of range"));
    }
    Ok(types.component_function_at(index))
}

fn resource_builtin(
    shared: &mut Shared,
    b: &mut Builder,
    types: &TypesRef<'_>,
    kind: ResourceBuiltin,
    resource: u32,
) -> Result<()> {
    let r = resource_at(shared, types, resource)
        .ok_or_else(|| Error::load(0, "resource built-in of a type that is not a resource"))?;
    b.steps.push(Step::ResourceBuiltin { kind, r });
    Ok(())
}

/// The static resource index of type `index` of the current component, if
/// that type is a resource.
fn resource_at(shared: &mut Shared, types: &TypesRef<'_>, index: u32) -> Option<u32> {
    if index >= types.component_type_count() {
        return None;
    }
    match types.component_any_type_at(index) {
        ComponentAnyTypeId::Resource(id) => Some(shared.arena.resource(id.resource())),
        _ => None,
    }
}

fn canon_opts(options: &[CanonicalOption]) -> Result<CanonOpts> {
    let mut opts = CanonOpts::default();
    for o in options {
        match o {
            CanonicalOption::UTF8 => opts.encoding = StringEncoding::Utf8,
            CanonicalOption::UTF16 => opts.encoding = StringEncoding::Utf16,
            CanonicalOption::CompactUTF16 => opts.encoding = StringEncoding::CompactUtf16,
            CanonicalOption::Memory(m) => opts.memory = Some(*m),
            CanonicalOption::Realloc(f) => opts.realloc = Some(*f),
            CanonicalOption::PostReturn(f) => opts.post_return = Some(*f),
            #[cfg(feature = "async")]
            CanonicalOption::Async => opts.is_async = true,
            #[cfg(feature = "async")]
            CanonicalOption::Callback(f) => opts.callback = Some(*f),
            #[cfg(not(feature = "async"))]
            CanonicalOption::Async | CanonicalOption::Callback(_) => {
                return Err(Error::unsupported(
                    "the `async` and `callback` canonical options (component-model async: \
                     feature `async`)",
                ))
            }
            CanonicalOption::CoreType(_) | CanonicalOption::Gc => {
                return Err(Error::unsupported("GC canonical options"))
            }
        }
    }
    Ok(opts)
}

/// After instance `index` enters the instance space: binds the static
/// resource ids its type exports (at any depth) to the runtime types the
/// instance carries, so function types using them lift and lower.
fn bind_instance(shared: &mut Shared, types: &TypesRef<'_>, b: &mut Builder, index: u32) {
    if index as usize >= types.component_instance_count() as usize {
        return;
    }
    let mut binds = Vec::new();
    let mut path = Vec::new();
    collect_resources(
        shared,
        types,
        types.component_instance_at(index),
        &mut path,
        &mut binds,
    );
    if !binds.is_empty() {
        b.steps.push(Step::BindInstanceResources {
            instance: index,
            binds: binds.into_boxed_slice(),
        });
    }
}

fn collect_resources(
    shared: &mut Shared,
    types: &TypesRef<'_>,
    id: wasmparser::component_types::ComponentInstanceTypeId,
    path: &mut Vec<Box<str>>,
    out: &mut Vec<super::ResourceBind>,
) {
    // Bounded: instance types nest no deeper than the binary does.
    if path.len() > 32 {
        return;
    }
    for (name, ety) in types[id].exports.iter() {
        path.push(Box::from(name.as_str()));
        match &ety.ty {
            ComponentEntityType::Type {
                referenced,
                created,
            } => {
                for t in [referenced, created] {
                    if let ComponentAnyTypeId::Resource(r) = t {
                        let r = shared.arena.resource(r.resource());
                        out.push((path.clone().into_boxed_slice(), r));
                    }
                }
            }
            ComponentEntityType::Instance(inner) => {
                collect_resources(shared, types, *inner, path, out)
            }
            _ => {}
        }
        path.pop();
    }
}
