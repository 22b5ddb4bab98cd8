//! The types of imports and exports as the linker and introspection see
//! them, read from the validator's types.

use alloc::boxed::Box;
use alloc::vec::Vec;
use wasmparser::component_types::{ComponentAnyTypeId, ComponentEntityType};
use wasmparser::types::TypesRef;

use super::parse::values;
use super::ImportKind;
use crate::error::Result;
use crate::module::{CoreExtern, CoreModuleType, CoreVal};
use crate::types::TypeArena;

pub(super) fn import_kind(
    types: &TypesRef<'_>,
    arena: &mut TypeArena,
    ety: ComponentEntityType,
) -> Result<ImportKind> {
    Ok(match ety {
        ComponentEntityType::Func(id) => ImportKind::Func(arena.intern_func(types, id)?),
        ComponentEntityType::Instance(id) => {
            let mut items = Vec::new();
            for (name, e) in types[id].exports.iter() {
                items.push((Box::from(name.as_str()), import_kind(types, arena, e.ty)?));
            }
            ImportKind::Instance(items)
        }
        ComponentEntityType::Type {
            referenced,
            created,
        } => match created {
            // A `sub resource` bound creates the type it references; an `eq`
            // bound gives a type already in scope a new alias.
            ComponentAnyTypeId::Resource(id) => ImportKind::Resource {
                r: arena.resource(id.resource()),
                eq: referenced != created,
            },
            _ => ImportKind::Type,
        },
        ComponentEntityType::Module(id) => ImportKind::Module(module_type(types, id).map(Box::new)),
        ComponentEntityType::Component(_) => ImportKind::Component,
        ComponentEntityType::Value(_) => return Err(values()),
    })
}

/// A core module type as the linker checks host modules against it; `None`
/// if it uses types of proposals wasmi does not run.
fn module_type(
    types: &TypesRef<'_>,
    id: wasmparser::component_types::ComponentCoreModuleTypeId,
) -> Option<CoreModuleType> {
    let ty = &types[id];
    let imports = ty
        .imports
        .iter()
        .map(|((m, n), e)| {
            Some((
                Box::from(m.as_str()),
                Box::from(n.as_str()),
                core_extern(types, e)?,
            ))
        })
        .collect::<Option<Vec<_>>>()?;
    let exports = ty
        .exports
        .iter()
        .map(|(n, e)| Some((Box::from(n.as_str()), core_extern(types, e)?)))
        .collect::<Option<Vec<_>>>()?;
    Some(CoreModuleType { imports, exports })
}

fn core_extern(types: &TypesRef<'_>, e: &wasmparser::types::EntityType) -> Option<CoreExtern> {
    use wasmparser::types::EntityType as E;
    let vals = |vs: &[wasmparser::ValType]| {
        vs.iter()
            .map(|v| CoreVal::from_wasmparser(*v))
            .collect::<Option<Box<[_]>>>()
    };
    Some(match e {
        E::Func(id) => match &types[*id].composite_type.inner {
            wasmparser::CompositeInnerType::Func(f) => CoreExtern::Func {
                params: vals(f.params())?,
                results: vals(f.results())?,
            },
            _ => return None,
        },
        E::Memory(m) if !m.shared && m.page_size_log2.is_none() => CoreExtern::Memory {
            is_64: m.memory64,
            min: m.initial,
            max: m.maximum,
        },
        E::Table(t) if !t.shared => CoreExtern::Table {
            elem: CoreVal::from_wasmparser(wasmparser::ValType::Ref(t.element_type))?,
            is_64: t.table64,
            min: t.initial,
            max: t.maximum,
        },
        E::Global(g) if !g.shared => CoreExtern::Global {
            content: CoreVal::from_wasmparser(g.content_type)?,
            mutable: g.mutable,
        },
        _ => return None,
    })
}
