//! Decoding a component binary into a [`ComponentInner`]: validation by
//! wasmparser, then one pass over the top-level sections that records each
//! index-space entry as a step of the init program.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;
use wasmparser::component_types::{ComponentAnyTypeId, ComponentEntityType};
use wasmparser::types::Types;
use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentAlias, ComponentExternalKind,
    ComponentOuterAliasKind, ComponentTypeRef, ExternalKind, Instance, Parser, Payload, Validator,
    WasmFeatures,
};

use super::{
    CanonOpts, ComponentInner, ComponentItem, CoreKind, CoreRef, FuncPlan, Import, ImportKind,
    ItemRef, Space, Step,
};
use crate::abi::layout::FlatType;
use crate::abi::{StringEncoding, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::types::TypeArena;

/// The feature set of component model 0.2 over the core features wasmi runs.
pub(crate) fn features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SATURATING_FLOAT_TO_INT
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::REFERENCE_TYPES
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::FLOATS
        | WasmFeatures::GC_TYPES
        | WasmFeatures::COMPONENT_MODEL
}

fn load_err(e: wasmparser::BinaryReaderError) -> Error {
    Error::load(e.offset(), e.message())
}

/// Validates `bytes`. A binary that is invalid under 0.2 but valid with
/// every feature on uses a feature we do not run: that is `unsupported`.
fn validate(bytes: &[u8]) -> Result<Types> {
    match Validator::new_with_features(features()).validate_all(bytes) {
        Ok(types) => Ok(types),
        Err(e) => {
            if Validator::new_with_features(WasmFeatures::all())
                .validate_all(bytes)
                .is_ok()
            {
                Err(Error::unsupported(format!(
                    "{} (at offset {:#x}; a feature beyond component model 0.2 or beyond what wasmi runs)",
                    e.message(),
                    e.offset()
                )))
            } else {
                Err(load_err(e))
            }
        }
    }
}

/// Index-space counters and the init program under construction.
struct Builder<'t> {
    types: &'t Types,
    arena: TypeArena,
    steps: Vec<Step>,
    imports: Vec<Import>,
    exports: Vec<(Box<str>, ItemRef)>,
    export_types: Vec<ComponentItem>,
    modules: Vec<wasmi::Module>,
    /// Arena func type of each component function, by function index.
    func_types: Vec<u32>,
    n_instances: u32,
    n_core_instances: u32,
    n_core: [u32; 4],
}

pub(super) fn parse(engine: &Engine, bytes: &[u8]) -> Result<ComponentInner> {
    let types = validate(bytes)?;
    let mut b = Builder {
        types: &types,
        arena: TypeArena::default(),
        steps: Vec::new(),
        imports: Vec::new(),
        exports: Vec::new(),
        export_types: Vec::new(),
        modules: Vec::new(),
        func_types: Vec::new(),
        n_instances: 0,
        n_core_instances: 0,
        n_core: [0; 4],
    };
    let mut depth = 0u32;
    let mut saw_component = false;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(load_err)?;
        if depth > 0 {
            match payload {
                Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
                Payload::End(_) => depth -= 1,
                _ => {}
            }
            continue;
        }
        b.payload(engine, bytes, &payload, &mut depth, &mut saw_component)?;
    }
    if !saw_component {
        return Err(Error::load(0, "expected a component, found a core module"));
    }
    let plans = b
        .arena
        .funcs
        .iter()
        .map(|f| plan(&b.arena, &f.params, f.result))
        .collect();
    Ok(ComponentInner {
        engine: engine.clone(),
        arena: b.arena,
        modules: b.modules,
        steps: b.steps,
        imports: b.imports,
        exports: b.exports,
        plans,
        export_types: b.export_types,
    })
}

fn plan(
    arena: &TypeArena,
    params: &[(Box<str>, crate::types::ValType)],
    result: Option<crate::types::ValType>,
) -> FuncPlan {
    let mut flat_params: Vec<FlatType> = Vec::new();
    for (_, t) in params {
        flat_params.extend_from_slice(arena.flat(*t));
    }
    let flat_results: &[FlatType] = match result {
        Some(t) => arena.flat(t),
        None => &[],
    };
    let params_spilled = flat_params.len() > MAX_FLAT_PARAMS;
    let result_spilled = flat_results.len() > MAX_FLAT_RESULTS;
    if params_spilled {
        flat_params = alloc::vec![FlatType::I32];
    }
    let core_results: Vec<FlatType> = if result_spilled {
        alloc::vec![FlatType::I32]
    } else {
        flat_results.to_vec()
    };
    let mut lower_params = flat_params.clone();
    let mut lower_results = core_results.clone();
    if result_spilled {
        lower_params.push(FlatType::I32);
        lower_results.clear();
    }
    let w = |v: &[FlatType]| v.iter().map(|t| t.to_wasmi()).collect::<Box<[_]>>();
    FuncPlan {
        params: params.iter().map(|p| p.1).collect(),
        result,
        core_params: w(&flat_params),
        core_results: w(&core_results),
        lower_params: w(&lower_params),
        lower_results: w(&lower_results),
        result_spilled,
    }
}

fn nested(what: &str) -> Error {
    Error::unsupported(format!(
        "{what} (nested components and component instantiation come with composition support)"
    ))
}

fn core_kind(kind: ExternalKind) -> Result<CoreKind> {
    Ok(match kind {
        ExternalKind::Func => CoreKind::Func,
        ExternalKind::Memory => CoreKind::Memory,
        ExternalKind::Table => CoreKind::Table,
        ExternalKind::Global => CoreKind::Global,
        ExternalKind::Tag => return Err(Error::unsupported("core exception tags")),
    })
}

impl Builder<'_> {
    fn payload(
        &mut self,
        engine: &Engine,
        bytes: &[u8],
        payload: &Payload<'_>,
        depth: &mut u32,
        saw_component: &mut bool,
    ) -> Result<()> {
        match payload {
            Payload::Version { encoding, .. } => {
                *saw_component = matches!(encoding, wasmparser::Encoding::Component);
            }
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                *depth += 1;
                let module_bytes = bytes.get(unchecked_range.clone()).ok_or_else(|| {
                    Error::load(unchecked_range.start, "module section out of range")
                })?;
                let module = wasmi::Module::new(&engine.inner, module_bytes).map_err(|e| {
                    Error::unsupported(format!("core module rejected by wasmi: {e}"))
                })?;
                self.modules.push(module);
            }
            Payload::ComponentSection { .. } => return Err(nested("nested component definitions")),
            Payload::InstanceSection(s) => {
                for inst in s.clone() {
                    let step = match inst.map_err(load_err)? {
                        Instance::Instantiate { module_index, args } => Step::CoreInstantiate {
                            module: module_index,
                            args: args.iter().map(|a| (Box::from(a.name), a.index)).collect(),
                        },
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
                            Step::CoreInstanceFromExports(items.into_boxed_slice())
                        }
                    };
                    self.steps.push(step);
                    self.n_core_instances += 1;
                }
            }
            Payload::CoreTypeSection(_) | Payload::ComponentTypeSection(_) => {}
            Payload::ComponentInstanceSection(s) => {
                for inst in s.clone() {
                    match inst.map_err(load_err)? {
                        wasmparser::ComponentInstance::Instantiate { .. } => {
                            return Err(nested("instantiating a component"))
                        }
                        wasmparser::ComponentInstance::FromExports(exports) => {
                            let mut items = Vec::with_capacity(exports.len());
                            for e in exports.iter() {
                                items.push((Box::from(e.name.0), self.item_ref(e.kind, e.index)?));
                            }
                            self.steps
                                .push(Step::InstanceFromExports(items.into_boxed_slice()));
                            self.n_instances += 1;
                        }
                    }
                }
            }
            Payload::ComponentAliasSection(s) => {
                for alias in s.clone() {
                    self.alias(alias.map_err(load_err)?)?;
                }
            }
            Payload::ComponentCanonicalSection(s) => {
                for canon in s.clone() {
                    self.canon(canon.map_err(load_err)?)?;
                }
            }
            Payload::ComponentStartSection { .. } => {
                return Err(Error::unsupported(
                    "component start functions (component values)",
                ))
            }
            Payload::ComponentImportSection(s) => {
                for import in s.clone() {
                    let import = import.map_err(load_err)?;
                    self.import(import.name.0, import.ty)?;
                }
            }
            Payload::ComponentExportSection(s) => {
                for export in s.clone() {
                    let export = export.map_err(load_err)?;
                    let item = self.item_ref(export.kind, export.index)?;
                    let ety = self
                        .types
                        .component_entity_type_of_export(export.name.0)
                        .ok_or_else(|| {
                            Error::load(0, format!("export `{}` has no type", export.name.0))
                        })?;
                    let ty = entity_item(self.types, &mut self.arena, ety)?;
                    self.exports.push((Box::from(export.name.0), item));
                    self.export_types.push(ty);
                    // An export adds a new index for what it exports.
                    self.push_copy(item);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn item_ref(&self, kind: ComponentExternalKind, index: u32) -> Result<ItemRef> {
        Ok(match kind {
            ComponentExternalKind::Func => ItemRef::Func(index),
            ComponentExternalKind::Instance => ItemRef::Instance(index),
            ComponentExternalKind::Type => ItemRef::Type,
            ComponentExternalKind::Module => {
                return Err(Error::unsupported("exporting core modules"))
            }
            ComponentExternalKind::Component => return Err(nested("exporting components")),
            ComponentExternalKind::Value => return Err(Error::unsupported("component values")),
        })
    }

    /// Records a new function entry (its arena type from the validator).
    fn push_func(&mut self, step: Step) -> Result<()> {
        let index = self.func_types.len() as u32;
        let id = self.types.component_function_at(index);
        let ty = self.arena.intern_func(self.types, id)?;
        self.func_types.push(ty);
        self.steps.push(step);
        Ok(())
    }

    fn push_copy(&mut self, item: ItemRef) {
        match item {
            ItemRef::Func(f) => {
                let ty = self.func_types.get(f as usize).copied().unwrap_or(0);
                self.func_types.push(ty);
                self.steps.push(Step::Reexport(item));
            }
            ItemRef::Instance(_) => {
                self.n_instances += 1;
                self.steps.push(Step::Reexport(item));
            }
            ItemRef::Type => {}
        }
    }

    fn import(&mut self, name: &str, ty: ComponentTypeRef) -> Result<()> {
        let ety = self
            .types
            .component_entity_type_of_import(name)
            .ok_or_else(|| Error::load(0, format!("import `{name}` has no type")))?;
        let kind = import_kind(self.types, &mut self.arena, ety)?;
        let import = self.imports.len() as u32;
        self.imports.push(Import {
            name: Box::from(name),
            kind,
        });
        match ty {
            ComponentTypeRef::Func(_) => self.push_func(Step::Import {
                import,
                space: Space::Func,
            })?,
            ComponentTypeRef::Instance(_) => {
                self.steps.push(Step::Import {
                    import,
                    space: Space::Instance,
                });
                self.n_instances += 1;
            }
            ComponentTypeRef::Type(_) => {}
            ComponentTypeRef::Module(_) => {
                return Err(Error::unsupported("importing core modules"))
            }
            ComponentTypeRef::Component(_) => return Err(nested("importing components")),
            ComponentTypeRef::Value(_) => return Err(Error::unsupported("component values")),
        }
        Ok(())
    }

    fn alias(&mut self, alias: ComponentAlias<'_>) -> Result<()> {
        match alias {
            ComponentAlias::InstanceExport {
                kind,
                instance_index,
                name,
            } => match kind {
                ComponentExternalKind::Func => self.push_func(Step::Alias {
                    instance: instance_index,
                    name: Box::from(name),
                    space: Space::Func,
                })?,
                ComponentExternalKind::Instance => {
                    self.steps.push(Step::Alias {
                        instance: instance_index,
                        name: Box::from(name),
                        space: Space::Instance,
                    });
                    self.n_instances += 1;
                }
                ComponentExternalKind::Type => {}
                ComponentExternalKind::Module => {
                    return Err(Error::unsupported("core modules exported by instances"))
                }
                ComponentExternalKind::Component => {
                    return Err(nested("components exported by instances"))
                }
                ComponentExternalKind::Value => return Err(Error::unsupported("component values")),
            },
            ComponentAlias::CoreInstanceExport {
                kind,
                instance_index,
                name,
            } => {
                let kind = core_kind(kind)?;
                self.steps.push(Step::CoreAlias {
                    instance: instance_index,
                    name: Box::from(name),
                    kind,
                });
                self.n_core[kind as usize] += 1;
            }
            ComponentAlias::Outer { kind, .. } => match kind {
                ComponentOuterAliasKind::CoreType | ComponentOuterAliasKind::Type => {}
                ComponentOuterAliasKind::CoreModule => {
                    return Err(nested("outer aliases of core modules"))
                }
                ComponentOuterAliasKind::Component => {
                    return Err(nested("outer aliases of components"))
                }
            },
        }
        Ok(())
    }

    fn canon(&mut self, canon: CanonicalFunction) -> Result<()> {
        match canon {
            CanonicalFunction::Lift {
                core_func_index,
                options,
                ..
            } => {
                let index = self.func_types.len() as u32;
                let id = self.types.component_function_at(index);
                let ty = self.arena.intern_func(self.types, id)?;
                let opts = canon_opts(&options)?;
                self.func_types.push(ty);
                self.steps.push(Step::Lift {
                    core_func: core_func_index,
                    ty,
                    opts,
                });
            }
            CanonicalFunction::Lower {
                func_index,
                options,
            } => {
                let ty = *self
                    .func_types
                    .get(func_index as usize)
                    .ok_or_else(|| Error::load(0, "canon lower of an unknown function"))?;
                let opts = canon_opts(&options)?;
                self.steps.push(Step::Lower {
                    func: func_index,
                    ty,
                    opts,
                });
                self.n_core[CoreKind::Func as usize] += 1;
            }
            CanonicalFunction::ResourceNew { .. }
            | CanonicalFunction::ResourceDrop { .. }
            | CanonicalFunction::ResourceRep { .. } => {
                return Err(Error::unsupported(
                    "resource built-ins (resource.new/drop/rep) are not implemented yet",
                ))
            }
            other => {
                return Err(Error::unsupported(format!(
                    "canonical built-in {other:?} (async, threads or error-context)"
                )))
            }
        }
        Ok(())
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
            CanonicalOption::Async | CanonicalOption::Callback(_) => {
                return Err(Error::unsupported("async canonical options"))
            }
        }
    }
    Ok(opts)
}

fn import_kind(
    types: &Types,
    arena: &mut TypeArena,
    ety: ComponentEntityType,
) -> Result<ImportKind> {
    Ok(match ety {
        ComponentEntityType::Func(id) => ImportKind::Func(arena.intern_func(types, id)?),
        ComponentEntityType::Instance(id) => {
            let mut items = Vec::new();
            for (name, e) in types[id].exports.iter() {
                items.push((Box::from(name.as_str()), import_kind(types, arena, *e)?));
            }
            ImportKind::Instance(items)
        }
        ComponentEntityType::Type { created, .. } => {
            if let ComponentAnyTypeId::Resource(_) = created {
                return Err(Error::unsupported("resource types are not implemented yet"));
            }
            ImportKind::Type
        }
        ComponentEntityType::Module(_) => return Err(Error::unsupported("importing core modules")),
        ComponentEntityType::Component(_) => return Err(nested("importing components")),
        ComponentEntityType::Value(_) => return Err(Error::unsupported("component values")),
    })
}

fn entity_item(
    types: &Types,
    arena: &mut TypeArena,
    ety: ComponentEntityType,
) -> Result<ComponentItem> {
    Ok(match ety {
        ComponentEntityType::Func(id) => {
            let f = arena.intern_func(types, id)?;
            ComponentItem::Func(arena.func_to_public(f))
        }
        ComponentEntityType::Instance(id) => {
            let mut items = Vec::new();
            for (name, e) in types[id].exports.iter() {
                items.push((
                    alloc::string::String::from(name.as_str()),
                    entity_item(types, arena, *e)?,
                ));
            }
            ComponentItem::Instance(items)
        }
        ComponentEntityType::Type { created, .. } => {
            if let ComponentAnyTypeId::Resource(_) = created {
                return Err(Error::unsupported("resource types are not implemented yet"));
            }
            ComponentItem::Type
        }
        ComponentEntityType::Module(_) => return Err(Error::unsupported("exporting core modules")),
        ComponentEntityType::Component(_) => return Err(nested("exporting components")),
        ComponentEntityType::Value(_) => return Err(Error::unsupported("component values")),
    })
}
