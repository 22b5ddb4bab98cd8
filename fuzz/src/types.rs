//! Arbitrary component value types (depth- and size-bounded), their WAT
//! text, and their canonical ABI flattening and layout.

use arbitrary::{Result, Unstructured};
use componentry::Type;

/// Limits for [`arb_type`].
#[derive(Clone, Copy)]
pub struct TypeLimits {
    /// Nesting depth of compound types.
    pub depth: u32,
    /// Records, variants, enums and flags (which must be named in a
    /// component's imports and exports) may be generated.
    pub named: bool,
    /// Handle leaves: 0 none, 1 `own` only (results), 2 `own` and `borrow`.
    pub handles: u8,
}

/// An arbitrary value type; `nodes` bounds the total number of type nodes
/// and is decremented.
pub fn arb_type(u: &mut Unstructured<'_>, lim: TypeLimits, nodes: &mut u32) -> Result<Type> {
    *nodes = nodes.saturating_sub(1);
    let leaf = lim.depth == 0 || *nodes == 0;
    let kinds = if leaf {
        13
    } else if lim.named {
        21
    } else {
        17
    };
    let inner = TypeLimits {
        depth: lim.depth.saturating_sub(1),
        ..lim
    };
    Ok(match u.int_in_range(0..=kinds - 1)? {
        0 => Type::Bool,
        1 => Type::S8,
        2 => Type::U8,
        3 => Type::S16,
        4 => Type::U16,
        5 => Type::S32,
        6 => Type::U32,
        7 => Type::S64,
        8 => Type::U64,
        9 => Type::Float32,
        10 => Type::Float64,
        11 => Type::Char,
        12 => Type::String,
        13 => Type::List(Box::new(arb_type(u, inner, nodes)?)),
        14 => {
            let n = u.int_in_range(1..=4)?;
            Type::Tuple(
                (0..n)
                    .map(|_| arb_type(u, inner, nodes))
                    .collect::<Result<_>>()?,
            )
        }
        15 => Type::Option(Box::new(arb_type(u, inner, nodes)?)),
        16 => {
            let ok = if u.arbitrary()? {
                Some(Box::new(arb_type(u, inner, nodes)?))
            } else {
                None
            };
            let err = if u.arbitrary()? {
                Some(Box::new(arb_type(u, inner, nodes)?))
            } else {
                None
            };
            Type::Result { ok, err }
        }
        17 => {
            let n = u.int_in_range(1..=5)?;
            Type::Record(
                (0..n)
                    .map(|i| Ok((format!("f{i}"), arb_type(u, inner, nodes)?)))
                    .collect::<Result<_>>()?,
            )
        }
        18 => {
            let n = u.int_in_range(1..=5)?;
            Type::Variant(
                (0..n)
                    .map(|i| {
                        let t = if u.arbitrary()? {
                            Some(arb_type(u, inner, nodes)?)
                        } else {
                            None
                        };
                        Ok((format!("c{i}"), t))
                    })
                    .collect::<Result<_>>()?,
            )
        }
        19 => {
            // Around the discriminant size boundaries too.
            let n = *u.choose(&[1u32, 2, 3, 5, 255, 256, 257])?;
            Type::Enum((0..n).map(|i| format!("e{i}")).collect())
        }
        _ => {
            let n = *u.choose(&[1u32, 2, 7, 8, 9, 16, 17, 31, 32])?;
            Type::Flags((0..n).map(|i| format!("g{i}")).collect())
        }
    })
}

/// WAT type definitions for one scope (the import side or the export side
/// of a component). Records, variants, enums and flags are defined and
/// then imported (`(eq …)`) or exported under a fresh name, as components
/// require for the types of imported and exported functions.
pub struct TypeScope {
    /// `i` for imports, `e` for exports: prefixes of names.
    prefix: &'static str,
    /// The resource type handles refer to, e.g. `$res`.
    pub resource: Option<String>,
    export: bool,
    next: u32,
    /// The WAT text of the definitions, in order.
    pub defs: String,
}

impl TypeScope {
    /// A scope whose named types are imported.
    pub fn imports() -> Self {
        TypeScope {
            prefix: "i",
            resource: None,
            export: false,
            next: 0,
            defs: String::new(),
        }
    }

    /// A scope whose named types are exported.
    pub fn exports() -> Self {
        TypeScope {
            prefix: "e",
            resource: None,
            export: true,
            next: 0,
            defs: String::new(),
        }
    }

    /// The WAT of `ty` in this scope, defining what it needs.
    pub fn wat(&mut self, ty: &Type) -> String {
        let named = |this: &mut Self, body: String| {
            let n = this.next;
            this.next += 1;
            let p = this.prefix;
            this.defs.push_str(&format!("(type ${p}d{n} {body})\n"));
            if this.export {
                this.defs
                    .push_str(&format!("(export ${p}t{n} \"{p}t{n}\" (type ${p}d{n}))\n"));
            } else {
                this.defs.push_str(&format!(
                    "(import \"{p}t{n}\" (type ${p}t{n} (eq ${p}d{n})))\n"
                ));
            }
            format!("${p}t{n}")
        };
        match ty {
            Type::Bool => "bool".into(),
            Type::S8 => "s8".into(),
            Type::U8 => "u8".into(),
            Type::S16 => "s16".into(),
            Type::U16 => "u16".into(),
            Type::S32 => "s32".into(),
            Type::U32 => "u32".into(),
            Type::S64 => "s64".into(),
            Type::U64 => "u64".into(),
            Type::Float32 => "f32".into(),
            Type::Float64 => "f64".into(),
            Type::Char => "char".into(),
            Type::String => "string".into(),
            Type::List(t) => format!("(list {})", self.wat(t)),
            Type::Option(t) => format!("(option {})", self.wat(t)),
            Type::Tuple(ts) => {
                let items: Vec<String> = ts.iter().map(|t| self.wat(t)).collect();
                format!("(tuple {})", items.join(" "))
            }
            Type::Result { ok, err } => {
                let ok = ok.as_ref().map(|t| self.wat(t)).unwrap_or_default();
                let err = err
                    .as_ref()
                    .map(|t| format!("(error {})", self.wat(t)))
                    .unwrap_or_default();
                format!("(result {ok} {err})")
            }
            Type::Record(fs) => {
                let fields: Vec<String> = fs
                    .iter()
                    .map(|(n, t)| format!("(field \"{n}\" {})", self.wat(t)))
                    .collect();
                let body = format!("(record {})", fields.join(" "));
                named(self, body)
            }
            Type::Variant(cs) => {
                let cases: Vec<String> = cs
                    .iter()
                    .map(|(n, t)| match t {
                        Some(t) => format!("(case \"{n}\" {})", self.wat(t)),
                        None => format!("(case \"{n}\")"),
                    })
                    .collect();
                let body = format!("(variant {})", cases.join(" "));
                named(self, body)
            }
            Type::Enum(ns) => {
                let names: Vec<String> = ns.iter().map(|n| format!("\"{n}\"")).collect();
                named(self, format!("(enum {})", names.join(" ")))
            }
            Type::Flags(ns) => {
                let names: Vec<String> = ns.iter().map(|n| format!("\"{n}\"")).collect();
                named(self, format!("(flags {})", names.join(" ")))
            }
            Type::Own(_) | Type::Borrow(_) => {
                let r = self.resource.as_deref().unwrap_or("$no-resource");
                let k = if matches!(ty, Type::Own(_)) {
                    "own"
                } else {
                    "borrow"
                };
                format!("({k} {r})")
            }
            // The generator makes no async types (componentry's `async`).
            #[allow(unreachable_patterns)]
            other => panic!("the fuzz generator makes no {other} types"),
        }
    }

    /// `(param "p0" T0) … (result R)` for a function type.
    pub fn func_sig(&mut self, params: &[Type], result: Option<&Type>) -> String {
        let mut s = String::new();
        for (i, p) in params.iter().enumerate() {
            s.push_str(&format!("(param \"p{i}\" {}) ", self.wat(p)));
        }
        if let Some(r) = result {
            s.push_str(&format!("(result {})", self.wat(r)));
        }
        s
    }
}

/// A core value type of the flat canonical ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flat {
    I32,
    I64,
    F32,
    F64,
}

impl Flat {
    /// The WAT name.
    pub fn wat(self) -> &'static str {
        match self {
            Flat::I32 => "i32",
            Flat::I64 => "i64",
            Flat::F32 => "f32",
            Flat::F64 => "f64",
        }
    }
}

/// The canonical ABI's `flatten_type`.
pub fn flatten(ty: &Type, out: &mut Vec<Flat>) {
    match ty {
        Type::Bool
        | Type::S8
        | Type::U8
        | Type::S16
        | Type::U16
        | Type::S32
        | Type::U32
        | Type::Char
        | Type::Enum(_)
        | Type::Own(_)
        | Type::Borrow(_) => out.push(Flat::I32),
        Type::S64 | Type::U64 => out.push(Flat::I64),
        Type::Float32 => out.push(Flat::F32),
        Type::Float64 => out.push(Flat::F64),
        Type::String | Type::List(_) => out.extend([Flat::I32, Flat::I32]),
        Type::Record(fs) => fs.iter().for_each(|(_, t)| flatten(t, out)),
        Type::Tuple(ts) => ts.iter().for_each(|t| flatten(t, out)),
        Type::Flags(ns) => out.extend(std::iter::repeat_n(Flat::I32, ns.len().div_ceil(32))),
        Type::Option(t) => flatten_variant(&[None, Some(&**t)], out),
        Type::Result { ok, err } => flatten_variant(&[ok.as_deref(), err.as_deref()], out),
        Type::Variant(cs) => {
            let cases: Vec<Option<&Type>> = cs.iter().map(|(_, t)| t.as_ref()).collect();
            flatten_variant(&cases, out)
        }
        // Async handles (componentry's `async`) are one i32.
        #[allow(unreachable_patterns)]
        _ => out.push(Flat::I32),
    }
}

fn flatten_variant(cases: &[Option<&Type>], out: &mut Vec<Flat>) {
    let mut joined: Vec<Flat> = Vec::new();
    for t in cases.iter().flatten() {
        let mut f = Vec::new();
        flatten(t, &mut f);
        for (i, ft) in f.into_iter().enumerate() {
            if i < joined.len() {
                joined[i] = join(joined[i], ft);
            } else {
                joined.push(ft);
            }
        }
    }
    out.push(Flat::I32);
    out.extend(joined);
}

fn join(a: Flat, b: Flat) -> Flat {
    match (a, b) {
        _ if a == b => a,
        (Flat::I32, Flat::F32) | (Flat::F32, Flat::I32) => Flat::I32,
        _ => Flat::I64,
    }
}

/// The flat types of a list of types.
pub fn flatten_all<'a>(tys: impl IntoIterator<Item = &'a Type>) -> Vec<Flat> {
    let mut out = Vec::new();
    tys.into_iter().for_each(|t| flatten(t, &mut out));
    out
}

/// The canonical ABI's `(size, alignment)` of a type in memory.
pub fn layout(ty: &Type) -> (u32, u32) {
    fn align_to(x: u32, a: u32) -> u32 {
        x.div_ceil(a) * a
    }
    fn record<'a>(ts: impl Iterator<Item = &'a Type>) -> (u32, u32) {
        let (mut size, mut align) = (0, 1);
        for t in ts {
            let (s, a) = layout(t);
            size = align_to(size, a) + s;
            align = align.max(a);
        }
        (align_to(size, align), align)
    }
    fn variant(n: usize, cases: &[Option<&Type>]) -> (u32, u32) {
        let disc = if n <= 0x100 {
            1
        } else if n <= 0x1_0000 {
            2
        } else {
            4
        };
        let (mut size, mut align) = (0, disc);
        for t in cases.iter().flatten() {
            let (s, a) = layout(t);
            size = size.max(s);
            align = align.max(a);
        }
        (align_to(align_to(disc, align) + size, align), align)
    }
    match ty {
        Type::Bool | Type::S8 | Type::U8 => (1, 1),
        Type::S16 | Type::U16 => (2, 2),
        Type::S32 | Type::U32 | Type::Char | Type::Float32 | Type::Own(_) | Type::Borrow(_) => {
            (4, 4)
        }
        Type::S64 | Type::U64 | Type::Float64 => (8, 8),
        Type::String | Type::List(_) => (8, 4),
        Type::Record(fs) => record(fs.iter().map(|(_, t)| t)),
        Type::Tuple(ts) => record(ts.iter()),
        Type::Enum(ns) => variant(ns.len(), &[]),
        Type::Option(t) => variant(2, &[None, Some(t)]),
        Type::Result { ok, err } => variant(2, &[ok.as_deref(), err.as_deref()]),
        Type::Variant(cs) => {
            let cases: Vec<Option<&Type>> = cs.iter().map(|(_, t)| t.as_ref()).collect();
            variant(cs.len(), &cases)
        }
        Type::Flags(ns) => match ns.len() {
            0 => (0, 1),
            1..=8 => (1, 1),
            9..=16 => (2, 2),
            n => (4 * (n as u32).div_ceil(32), 4),
        },
        // Async handles (componentry's `async`) are one i32.
        #[allow(unreachable_patterns)]
        _ => (4, 4),
    }
}

/// The WAT name of a string encoding option.
pub fn encoding_wat(i: u8) -> &'static str {
    match i % 3 {
        0 => "string-encoding=utf8",
        1 => "string-encoding=utf16",
        _ => "string-encoding=latin1+utf16",
    }
}
