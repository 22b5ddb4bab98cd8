//! The WIT names of a component's types. The runtime's introspection
//! ([`componentry::Type`]) is structural; the names come from the type
//! exports wit-component writes next to each interface (`(export "image"
//! (type (eq …)))`), read here with wasmparser and keyed by the type's
//! structural text (its `Display`), so `record { width: u32, … }` finds
//! `image`. Two named types of the same structure share the first name.

use std::collections::HashMap;

use wasmparser::component_types::{
    ComponentAnyTypeId, ComponentDefinedType, ComponentDefinedTypeId, ComponentEntityType,
    ComponentValType,
};
use wasmparser::types::TypesRef;
use wasmparser::{PrimitiveValType, Validator, WasmFeatures};

/// Structural text of a type → its WIT name.
pub type Names = HashMap<String, String>;

/// Reads the names of the types `bytes` exports or imports by name. A
/// component wasmparser cannot read gives no names (its classes are then
/// named after their shape).
pub fn read(bytes: &[u8], imports: &[String], exports: &[String]) -> Names {
    let mut names = Names::new();
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    let Ok(types) = validator.validate_all(bytes) else {
        return names;
    };
    let types = types.as_ref();
    for name in imports {
        if let Some(item) = types.component_item_for_import(name) {
            walk(&types, name, &item.ty, &mut names, 0);
        }
    }
    for name in exports {
        if let Some(item) = types.component_item_for_export(name) {
            walk(&types, name, &item.ty, &mut names, 0);
        }
    }
    names
}

fn walk(types: &TypesRef<'_>, name: &str, ty: &ComponentEntityType, names: &mut Names, depth: u32) {
    if depth > 8 {
        return;
    }
    match ty {
        ComponentEntityType::Type {
            referenced: ComponentAnyTypeId::Defined(id),
            ..
        } => {
            let mut key = String::new();
            if text(types, *id, &mut key, 0) {
                names.entry(key).or_insert_with(|| name.to_string());
            }
        }
        ComponentEntityType::Instance(id) => {
            for (n, item) in types[*id].exports.iter() {
                walk(types, n, &item.ty, names, depth + 1);
            }
        }
        _ => {}
    }
}

fn prim(p: PrimitiveValType) -> Option<&'static str> {
    Some(match p {
        PrimitiveValType::Bool => "bool",
        PrimitiveValType::S8 => "s8",
        PrimitiveValType::U8 => "u8",
        PrimitiveValType::S16 => "s16",
        PrimitiveValType::U16 => "u16",
        PrimitiveValType::S32 => "s32",
        PrimitiveValType::U32 => "u32",
        PrimitiveValType::S64 => "s64",
        PrimitiveValType::U64 => "u64",
        PrimitiveValType::F32 => "f32",
        PrimitiveValType::F64 => "f64",
        PrimitiveValType::Char => "char",
        PrimitiveValType::String => "string",
        _ => return None,
    })
}

fn val_text(types: &TypesRef<'_>, v: &ComponentValType, out: &mut String, depth: u32) -> bool {
    match v {
        ComponentValType::Primitive(p) => match prim(*p) {
            Some(s) => {
                out.push_str(s);
                true
            }
            None => false,
        },
        ComponentValType::Type(id) => text(types, *id, out, depth + 1),
    }
}

/// Writes the text `componentry::Type`'s `Display` gives for `id`; false
/// for types the runtime does not have.
fn text(types: &TypesRef<'_>, id: ComponentDefinedTypeId, out: &mut String, depth: u32) -> bool {
    if depth > 100 {
        return false;
    }
    let sep = |out: &mut String, i: usize| {
        if i > 0 {
            out.push_str(", ");
        }
    };
    match &types[id] {
        ComponentDefinedType::Primitive(p) => match prim(*p) {
            Some(s) => {
                out.push_str(s);
                true
            }
            None => false,
        },
        ComponentDefinedType::Record(r) => {
            out.push_str("record { ");
            for (i, (n, t)) in r.fields.iter().enumerate() {
                sep(out, i);
                out.push_str(n.as_str());
                out.push_str(": ");
                if !val_text(types, t, out, depth) {
                    return false;
                }
            }
            out.push_str(" }");
            true
        }
        ComponentDefinedType::Variant(v) => {
            out.push_str("variant { ");
            for (i, (n, c)) in v.cases.iter().enumerate() {
                sep(out, i);
                out.push_str(n.as_str());
                if let Some(t) = &c.ty {
                    out.push('(');
                    if !val_text(types, t, out, depth) {
                        return false;
                    }
                    out.push(')');
                }
            }
            out.push_str(" }");
            true
        }
        ComponentDefinedType::List { element, .. } => {
            out.push_str("list<");
            let ok = val_text(types, element, out, depth);
            out.push('>');
            ok
        }
        ComponentDefinedType::Tuple(t) => {
            out.push_str("tuple<");
            for (i, t) in t.types.iter().enumerate() {
                sep(out, i);
                if !val_text(types, t, out, depth) {
                    return false;
                }
            }
            out.push('>');
            true
        }
        ComponentDefinedType::Flags(names) | ComponentDefinedType::Enum(names) => {
            out.push_str(if matches!(&types[id], ComponentDefinedType::Flags(_)) {
                "flags { "
            } else {
                "enum { "
            });
            for (i, n) in names.iter().enumerate() {
                sep(out, i);
                out.push_str(n.as_str());
            }
            out.push_str(" }");
            true
        }
        ComponentDefinedType::Option { ty, .. } => {
            out.push_str("option<");
            let ok = val_text(types, ty, out, depth);
            out.push('>');
            ok
        }
        ComponentDefinedType::Result { ok, err, .. } => {
            out.push_str("result");
            match (ok, err) {
                (None, None) => true,
                (Some(o), None) => {
                    out.push('<');
                    let r = val_text(types, o, out, depth);
                    out.push('>');
                    r
                }
                (None, Some(e)) => {
                    out.push_str("<_, ");
                    let r = val_text(types, e, out, depth);
                    out.push('>');
                    r
                }
                (Some(o), Some(e)) => {
                    out.push('<');
                    let r = val_text(types, o, out, depth);
                    out.push_str(", ");
                    let r2 = val_text(types, e, out, depth);
                    out.push('>');
                    r && r2
                }
            }
        }
        ComponentDefinedType::Own(_) => {
            out.push_str("own<resource>");
            true
        }
        ComponentDefinedType::Borrow(_) => {
            out.push_str("borrow<resource>");
            true
        }
        _ => false,
    }
}
