//! The types of a component's functions as the Python binding converts
//! them: [`componentry::Type`] with the Python class made for each record,
//! variant, enum and flags type (named after the WIT), and the text shown
//! by `help()` and written into stubs.

use std::collections::HashMap;
use std::sync::Arc;

use componentry::{ResourceType, Type};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use crate::errors::{class, named};
use crate::names::Names;

/// A value type, ready for conversion.
pub enum Ty {
    /// `bool`
    Bool,
    /// `s8`
    S8,
    /// `u8`
    U8,
    /// `s16`
    S16,
    /// `u16`
    U16,
    /// `s32`
    S32,
    /// `u32`
    U32,
    /// `s64`
    S64,
    /// `u64`
    U64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `char`
    Char,
    /// `string`
    String,
    /// `list<u8>`, as `bytes`.
    Bytes,
    /// Any other list.
    List(Box<Ty>),
    /// A record, as a dataclass.
    Record(Arc<RecordTy>),
    /// A tuple.
    Tuple(Vec<Ty>),
    /// A variant: a class per case.
    Variant(Arc<VariantTy>),
    /// An enum, as an `enum.Enum`.
    Enum(Arc<EnumTy>),
    /// Flags, as an `enum.Flag`.
    Flags(Arc<FlagsTy>),
    /// `option<T>`; `true` when `T` is itself an option (then `some(x)` is
    /// `Some(x)`).
    Option(Box<Ty>, bool),
    /// `result<T, E>`.
    Result(Option<Box<Ty>>, Option<Box<Ty>>),
    /// `own<R>`: an index into the component's resource declarations.
    Own(usize),
    /// `borrow<R>`.
    Borrow(usize),
}

/// A record type and its class.
pub struct RecordTy {
    /// The WIT name.
    pub wit: String,
    /// The dataclass.
    pub cls: Py<PyAny>,
    /// WIT name, Python attribute name and type of each field.
    pub fields: Vec<(String, Py<PyString>, Ty)>,
}

/// One case of a variant.
pub struct CaseTy {
    /// The WIT name of the case.
    pub wit: String,
    /// The case's class.
    pub cls: Py<PyAny>,
    /// Its payload type.
    pub ty: Option<Ty>,
}

/// A variant type and its classes.
pub struct VariantTy {
    /// The WIT name.
    pub wit: String,
    /// The base class.
    pub cls: Py<PyAny>,
    /// The cases, in order.
    pub cases: Vec<CaseTy>,
}

/// An enum type and its `enum.Enum`.
pub struct EnumTy {
    /// The WIT name.
    pub wit: String,
    /// The class.
    pub cls: Py<PyAny>,
    /// The members, in case order.
    pub members: Vec<Py<PyAny>>,
    /// The WIT names of the cases.
    pub names: Vec<String>,
}

/// A flags type and its `enum.Flag` (flag `i` is bit `i`).
pub struct FlagsTy {
    /// The WIT name.
    pub wit: String,
    /// The class.
    pub cls: Py<PyAny>,
    /// The WIT names of the flags.
    pub names: Vec<String>,
}

/// A function type.
pub struct FnTy {
    /// The WIT name of the function (e.g. `[method]acc.add`).
    pub wit: String,
    /// WIT name, Python name and type of each parameter.
    pub params: Vec<(String, Py<PyString>, Ty)>,
    /// The result type.
    pub result: Option<Ty>,
}

/// A resource type the component imports or exports.
pub struct ResDecl {
    /// The WIT name (`blob`).
    pub wit: String,
    /// The Python class name (`Blob`).
    pub py: String,
    /// Imported (the host implements it) or exported (the component does).
    pub imported: bool,
    /// The import or export it belongs to (`""` at the root).
    pub owner: String,
}

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// `box-blur` → `box_blur` (a keyword gets a trailing `_`).
pub fn snake(wit: &str) -> String {
    let s = wit.replace('-', "_");
    if KEYWORDS.contains(&s.as_str()) {
        s + "_"
    } else {
        s
    }
}

/// `resize-args` → `ResizeArgs`.
pub fn camel(wit: &str) -> String {
    wit.split('-')
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// `blue-ish` → `BLUE_ISH`.
pub fn upper(wit: &str) -> String {
    wit.replace('-', "_").to_uppercase()
}

/// Makes the Python types of one component, sharing one class per named
/// type.
pub struct Builder<'a> {
    names: &'a Names,
    records: HashMap<String, Arc<RecordTy>>,
    variants: HashMap<String, Arc<VariantTy>>,
    enums: HashMap<String, Arc<EnumTy>>,
    flags: HashMap<String, Arc<FlagsTy>>,
    used: HashMap<String, usize>,
    /// Static resource type → index into `resources`.
    pub resource_index: HashMap<ResourceType, usize>,
    /// The component's resource types.
    pub resources: Vec<ResDecl>,
    /// Every class made, by Python name.
    pub classes: Vec<(String, Py<PyAny>)>,
}

impl<'a> Builder<'a> {
    /// A builder using the WIT names in `names`.
    pub fn new(names: &'a Names) -> Self {
        Builder {
            names,
            records: HashMap::new(),
            variants: HashMap::new(),
            enums: HashMap::new(),
            flags: HashMap::new(),
            used: HashMap::new(),
            resource_index: HashMap::new(),
            resources: Vec::new(),
            classes: Vec::new(),
        }
    }

    /// Declares resource type `rt` (first declaration wins).
    pub fn declare_resource(&mut self, rt: ResourceType, wit: &str, imported: bool, owner: &str) {
        if self.resource_index.contains_key(&rt) {
            return;
        }
        let py = self.class_name(wit);
        self.resource_index.insert(rt, self.resources.len());
        self.resources.push(ResDecl {
            wit: wit.to_string(),
            py,
            imported,
            owner: owner.to_string(),
        });
    }

    /// A unique class name for WIT name `wit`.
    fn class_name(&mut self, wit: &str) -> String {
        let base = camel(wit);
        let n = self.used.entry(base.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            base
        } else {
            format!("{base}{n}")
        }
    }

    fn name_of(&self, t: &Type, fallback: &str) -> String {
        self.names
            .get(&t.to_string())
            .cloned()
            .unwrap_or_else(|| fallback.to_string())
    }

    /// The function type of `params` and `result`.
    pub fn func(
        &mut self,
        py: Python<'_>,
        wit: &str,
        ty: &componentry::FuncType,
    ) -> PyResult<FnTy> {
        let mut params = Vec::new();
        for (n, t) in &ty.params {
            let name = snake(n);
            params.push((
                n.clone(),
                PyString::new(py, &name).unbind(),
                self.ty(py, t)?,
            ));
        }
        let result = match &ty.result {
            Some(t) => Some(self.ty(py, t)?),
            None => None,
        };
        Ok(FnTy {
            wit: wit.to_string(),
            params,
            result,
        })
    }

    /// The conversion type of `t`, making classes as needed.
    pub fn ty(&mut self, py: Python<'_>, t: &Type) -> PyResult<Ty> {
        Ok(match t {
            Type::Bool => Ty::Bool,
            Type::S8 => Ty::S8,
            Type::U8 => Ty::U8,
            Type::S16 => Ty::S16,
            Type::U16 => Ty::U16,
            Type::S32 => Ty::S32,
            Type::U32 => Ty::U32,
            Type::S64 => Ty::S64,
            Type::U64 => Ty::U64,
            Type::Float32 => Ty::F32,
            Type::Float64 => Ty::F64,
            Type::Char => Ty::Char,
            Type::String => Ty::String,
            Type::List(e) if **e == Type::U8 => Ty::Bytes,
            Type::List(e) => Ty::List(Box::new(self.ty(py, e)?)),
            Type::Tuple(ts) => {
                Ty::Tuple(ts.iter().map(|t| self.ty(py, t)).collect::<PyResult<_>>()?)
            }
            Type::Option(inner) => {
                let wrap = matches!(**inner, Type::Option(_));
                Ty::Option(Box::new(self.ty(py, inner)?), wrap)
            }
            Type::Result { ok, err } => Ty::Result(
                match ok {
                    Some(t) => Some(Box::new(self.ty(py, t)?)),
                    None => None,
                },
                match err {
                    Some(t) => Some(Box::new(self.ty(py, t)?)),
                    None => None,
                },
            ),
            Type::Own(rt) => Ty::Own(self.resource(rt)),
            Type::Borrow(rt) => Ty::Borrow(self.resource(rt)),
            Type::Record(fields) => Ty::Record(self.record(py, t, fields)?),
            Type::Variant(cases) => Ty::Variant(self.variant(py, t, cases)?),
            Type::Enum(names) => Ty::Enum(self.enumeration(py, t, names)?),
            Type::Flags(names) => Ty::Flags(self.flag_set(py, t, names)?),
            // `stream`, `future`, `error-context` (the runtime refuses
            // functions that move them) and any type a later componentry adds.
            _ => {
                return Err(named(
                    py,
                    "UnsupportedError",
                    format!("unsupported: values of type `{t}` from Python"),
                ))
            }
        })
    }

    fn resource(&mut self, rt: &ResourceType) -> usize {
        if let Some(i) = self.resource_index.get(rt) {
            return *i;
        }
        // A resource no import or export names (possible in hand-written
        // components): an anonymous exported type.
        self.declare_resource(*rt, "resource", false, "");
        self.resources.len() - 1
    }

    fn record(
        &mut self,
        py: Python<'_>,
        t: &Type,
        fields: &[(String, Type)],
    ) -> PyResult<Arc<RecordTy>> {
        let key = t.to_string();
        if let Some(r) = self.records.get(&key) {
            return Ok(r.clone());
        }
        let wit = self.name_of(t, "record");
        let name = self.class_name(&wit);
        let mut tys = Vec::new();
        let spec = PyList::empty(py);
        for (n, ft) in fields {
            let ty = self.ty(py, ft)?;
            let pyname = snake(n);
            spec.append((pyname.as_str(), n.as_str(), annotation(&ty, self)))?;
            tys.push((n.clone(), PyString::new(py, &pyname).unbind(), ty));
        }
        let doc = format!("WIT record `{wit}`: {t}");
        let cls = class(py, "make_record")?.call1((name.as_str(), wit.as_str(), spec, doc))?;
        self.classes.push((name, cls.clone().unbind()));
        let r = Arc::new(RecordTy {
            wit,
            cls: cls.unbind(),
            fields: tys,
        });
        self.records.insert(key, r.clone());
        Ok(r)
    }

    fn variant(
        &mut self,
        py: Python<'_>,
        t: &Type,
        cases: &[(String, Option<Type>)],
    ) -> PyResult<Arc<VariantTy>> {
        let key = t.to_string();
        if let Some(v) = self.variants.get(&key) {
            return Ok(v.clone());
        }
        let wit = self.name_of(t, "variant");
        let name = self.class_name(&wit);
        let spec = PyList::empty(py);
        let mut tys = Vec::new();
        for (n, ct) in cases {
            let ty = match ct {
                Some(ct) => Some(self.ty(py, ct)?),
                None => None,
            };
            let ann = ty.as_ref().map(|t| annotation(t, self)).unwrap_or_default();
            spec.append((camel(n), n.as_str(), ty.is_some(), ann))?;
            tys.push((n.clone(), ty));
        }
        let doc = format!("WIT variant `{wit}`: {t}");
        let made = class(py, "make_variant")?.call1((name.as_str(), wit.as_str(), spec, doc))?;
        let made = made.downcast::<PyTuple>()?;
        let base = made.get_item(0)?;
        let case_classes = made.get_item(1)?;
        let mut out = Vec::new();
        for ((n, ty), c) in tys.into_iter().zip(case_classes.try_iter()?) {
            out.push(CaseTy {
                wit: n,
                cls: c?.unbind(),
                ty,
            });
        }
        self.classes.push((name, base.clone().unbind()));
        let v = Arc::new(VariantTy {
            wit,
            cls: base.unbind(),
            cases: out,
        });
        self.variants.insert(key, v.clone());
        Ok(v)
    }

    fn enumeration(&mut self, py: Python<'_>, t: &Type, names: &[String]) -> PyResult<Arc<EnumTy>> {
        let key = t.to_string();
        if let Some(e) = self.enums.get(&key) {
            return Ok(e.clone());
        }
        let wit = self.name_of(t, "enum");
        let name = self.class_name(&wit);
        let spec = PyList::empty(py);
        for n in names {
            spec.append((upper(n), n.as_str()))?;
        }
        let doc = format!("WIT enum `{wit}`: {t}");
        let cls = class(py, "make_enum")?.call1((name.as_str(), wit.as_str(), spec, doc))?;
        let mut members = Vec::new();
        for n in names {
            members.push(cls.getattr(upper(n).as_str())?.unbind());
        }
        self.classes.push((name, cls.clone().unbind()));
        let e = Arc::new(EnumTy {
            wit,
            cls: cls.unbind(),
            members,
            names: names.to_vec(),
        });
        self.enums.insert(key, e.clone());
        Ok(e)
    }

    fn flag_set(&mut self, py: Python<'_>, t: &Type, names: &[String]) -> PyResult<Arc<FlagsTy>> {
        let key = t.to_string();
        if let Some(f) = self.flags.get(&key) {
            return Ok(f.clone());
        }
        let wit = self.name_of(t, "flags");
        let name = self.class_name(&wit);
        let spec = PyList::empty(py);
        for n in names {
            spec.append((upper(n), n.as_str()))?;
        }
        let doc = format!("WIT flags `{wit}`: {t}");
        let cls = class(py, "make_flags")?.call1((name.as_str(), wit.as_str(), spec, doc))?;
        self.classes.push((name, cls.clone().unbind()));
        let f = Arc::new(FlagsTy {
            wit,
            cls: cls.unbind(),
            names: names.to_vec(),
        });
        self.flags.insert(key, f.clone());
        Ok(f)
    }
}

/// The Python annotation of `ty` (as text), for signatures and stubs.
/// Results inside other values are `Ok | Err`.
pub fn annotation(ty: &Ty, b: &Builder<'_>) -> String {
    annotation_with(ty, &|i| b.resources.get(i).map(|r| r.py.clone()))
}

/// [`annotation`] with resource names from `res`.
pub fn annotation_with(ty: &Ty, res: &dyn Fn(usize) -> Option<String>) -> String {
    let a = |t: &Ty| annotation_with(t, res);
    match ty {
        Ty::Bool => "bool".into(),
        Ty::S8 | Ty::U8 | Ty::S16 | Ty::U16 | Ty::S32 | Ty::U32 | Ty::S64 | Ty::U64 => "int".into(),
        Ty::F32 | Ty::F64 => "float".into(),
        Ty::Char | Ty::String => "str".into(),
        Ty::Bytes => "bytes".into(),
        Ty::List(e) => format!("list[{}]", a(e)),
        Ty::Record(r) => class_text(&r.cls),
        Ty::Variant(v) => class_text(&v.cls),
        Ty::Enum(e) => class_text(&e.cls),
        Ty::Flags(f) => class_text(&f.cls),
        Ty::Tuple(ts) if ts.is_empty() => "tuple[()]".into(),
        Ty::Tuple(ts) => format!("tuple[{}]", ts.iter().map(a).collect::<Vec<_>>().join(", ")),
        Ty::Option(t, true) => format!("Some[{}] | None", a(t)),
        Ty::Option(t, false) => format!("{} | None", a(t)),
        Ty::Result(ok, err) => format!(
            "Ok[{}] | Err[{}]",
            ok.as_deref().map(a).unwrap_or_else(|| "None".into()),
            err.as_deref().map(a).unwrap_or_else(|| "None".into())
        ),
        Ty::Own(i) | Ty::Borrow(i) => res(*i).unwrap_or_else(|| "Resource".into()),
    }
}

/// The annotation of a function's result: a top-level `result<T, E>` is
/// its `ok` value (its `err` is raised as `Err`).
pub fn result_annotation(ty: Option<&Ty>, res: &dyn Fn(usize) -> Option<String>) -> String {
    match ty {
        None => "None".into(),
        Some(Ty::Result(ok, _)) => ok
            .as_deref()
            .map(|t| annotation_with(t, res))
            .unwrap_or_else(|| "None".into()),
        Some(t) => annotation_with(t, res),
    }
}

fn class_text(cls: &Py<PyAny>) -> String {
    Python::with_gil(|py| {
        cls.bind(py)
            .getattr("__qualname__")
            .and_then(|n| n.extract::<String>())
            .unwrap_or_else(|_| "object".into())
    })
}

/// The WIT text of `ty`, with named types by their WIT name.
pub fn wit_text(ty: &Ty, res: &dyn Fn(usize) -> Option<String>) -> String {
    let w = |t: &Ty| wit_text(t, res);
    match ty {
        Ty::Bool => "bool".into(),
        Ty::S8 => "s8".into(),
        Ty::U8 => "u8".into(),
        Ty::S16 => "s16".into(),
        Ty::U16 => "u16".into(),
        Ty::S32 => "s32".into(),
        Ty::U32 => "u32".into(),
        Ty::S64 => "s64".into(),
        Ty::U64 => "u64".into(),
        Ty::F32 => "f32".into(),
        Ty::F64 => "f64".into(),
        Ty::Char => "char".into(),
        Ty::String => "string".into(),
        Ty::Bytes => "list<u8>".into(),
        Ty::List(e) => format!("list<{}>", w(e)),
        Ty::Record(r) => r.wit.clone(),
        Ty::Variant(v) => v.wit.clone(),
        Ty::Enum(e) => e.wit.clone(),
        Ty::Flags(f) => f.wit.clone(),
        Ty::Tuple(ts) => format!("tuple<{}>", ts.iter().map(w).collect::<Vec<_>>().join(", ")),
        Ty::Option(t, _) => format!("option<{}>", w(t)),
        Ty::Result(None, None) => "result".into(),
        Ty::Result(Some(o), None) => format!("result<{}>", w(o)),
        Ty::Result(None, Some(e)) => format!("result<_, {}>", w(e)),
        Ty::Result(Some(o), Some(e)) => format!("result<{}, {}>", w(o), w(e)),
        Ty::Own(i) => res(*i).unwrap_or_else(|| "resource".into()),
        Ty::Borrow(i) => format!("borrow<{}>", res(*i).unwrap_or_else(|| "resource".into())),
    }
}

/// The WIT signature of `f`: `apply(img: image, f: filter) -> result<image, error>`.
pub fn wit_signature(f: &FnTy, res: &dyn Fn(usize) -> Option<String>) -> String {
    let params = f
        .params
        .iter()
        .map(|(n, _, t)| format!("{n}: {}", wit_text(t, res)))
        .collect::<Vec<_>>()
        .join(", ");
    match &f.result {
        Some(r) => format!("{}: func({params}) -> {}", f.wit, wit_text(r, res)),
        None => format!("{}: func({params})", f.wit),
    }
}
