//! Values of a public [`Type`]: arbitrary ones drawn from fuzz bytes,
//! defaults, NaN-aware equality and a type-conformance check (the oracle:
//! every value componentry lifts must be a value of its declared type).

use arbitrary::Unstructured;
use componentry::{Type, Val};

/// Makes a resource handle for an `own` (true) or `borrow` (false) slot,
/// or `None` if it cannot.
pub type MakeResource<'a> = dyn FnMut(bool) -> Option<Val> + 'a;

/// The most value nodes one arbitrary value may have beyond the minimum
/// its type forces (lists are the only unbounded part of a type).
pub const VALUE_BUDGET: usize = 256;

/// The longest arbitrary string, in chars.
pub const MAX_STRING: usize = 48;

/// The longest arbitrary list.
pub const MAX_LIST: usize = 8;

/// A value of `ty`, drawn from `u`. Once `u` or `budget` runs out, values
/// are the smallest of their type, so this always terminates and stays
/// bounded by the size of the type.
pub fn arb_val(
    u: &mut Unstructured<'_>,
    ty: &Type,
    budget: &mut usize,
    res: &mut MakeResource<'_>,
) -> Val {
    *budget = budget.saturating_sub(1);
    match ty {
        Type::Bool => Val::Bool(u.arbitrary().unwrap_or_default()),
        Type::S8 => Val::S8(u.arbitrary().unwrap_or_default()),
        Type::U8 => Val::U8(u.arbitrary().unwrap_or_default()),
        Type::S16 => Val::S16(u.arbitrary().unwrap_or_default()),
        Type::U16 => Val::U16(u.arbitrary().unwrap_or_default()),
        Type::S32 => Val::S32(interesting_i32(u)),
        Type::U32 => Val::U32(interesting_i32(u) as u32),
        Type::S64 => Val::S64(interesting_i64(u)),
        Type::U64 => Val::U64(interesting_i64(u) as u64),
        Type::Float32 => Val::Float32(arb_f32(u)),
        Type::Float64 => Val::Float64(arb_f64(u)),
        Type::Char => {
            let class = u.arbitrary().unwrap_or(0u8) % 4;
            Val::Char(arb_char(u, class))
        }
        Type::String => Val::String(arb_string(u, budget)),
        Type::List(t) => {
            let n = if *budget == 0 {
                0
            } else {
                let max = MAX_LIST.min(*budget);
                u.int_in_range(0..=max).unwrap_or(0)
            };
            Val::List((0..n).map(|_| arb_val(u, t, budget, res)).collect())
        }
        Type::Record(fields) => Val::Record(
            fields
                .iter()
                .map(|(n, t)| (n.clone(), arb_val(u, t, budget, res)))
                .collect(),
        ),
        Type::Tuple(ts) => Val::Tuple(ts.iter().map(|t| arb_val(u, t, budget, res)).collect()),
        Type::Variant(cases) => {
            let i = pick(u, cases.len());
            let (name, t) = &cases[i];
            let payload = t.as_ref().map(|t| Box::new(arb_val(u, t, budget, res)));
            Val::Variant(name.clone(), payload)
        }
        Type::Enum(names) => Val::Enum(names[pick(u, names.len())].clone()),
        Type::Option(t) => {
            if *budget > 0 && u.arbitrary().unwrap_or(false) {
                Val::Option(Some(Box::new(arb_val(u, t, budget, res))))
            } else {
                Val::Option(None)
            }
        }
        Type::Result { ok, err } => {
            let is_ok = u.arbitrary().unwrap_or(true);
            let t = if is_ok { ok } else { err };
            let payload = t.as_ref().map(|t| Box::new(arb_val(u, t, budget, res)));
            Val::Result(if is_ok { Ok(payload) } else { Err(payload) })
        }
        Type::Flags(names) => Val::Flags(
            names
                .iter()
                .filter(|_| u.arbitrary().unwrap_or(false))
                .cloned()
                .collect(),
        ),
        Type::Own(_) => res(true).unwrap_or(Val::Bool(false)),
        Type::Borrow(_) => res(false).unwrap_or(Val::Bool(false)),
        // No `Val` holds an async handle (componentry's `async`), and the
        // generator makes no such types: a placeholder failing the check.
        #[allow(unreachable_patterns)]
        _ => Val::Bool(false),
    }
}

/// The default value of `ty`: zeros, empty, `none`, the first case.
pub fn default_val(ty: &Type, res: &mut MakeResource<'_>) -> Val {
    let mut u = Unstructured::new(&[]);
    let mut budget = 0;
    arb_val(&mut u, ty, &mut budget, res)
}

fn pick(u: &mut Unstructured<'_>, n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    u.int_in_range(0..=n - 1).unwrap_or(0)
}

fn interesting_i32(u: &mut Unstructured<'_>) -> i32 {
    const I: [i32; 10] = [0, 1, -1, 8, 16, 255, 65536, i32::MAX, i32::MIN, 0x0fff_ffff];
    match u.arbitrary::<u8>().unwrap_or(0) % 4 {
        0 => I[pick(u, I.len())],
        _ => u.arbitrary().unwrap_or_default(),
    }
}

fn interesting_i64(u: &mut Unstructured<'_>) -> i64 {
    const I: [i64; 7] = [0, 1, -1, i64::MAX, i64::MIN, 1 << 32, u32::MAX as i64];
    match u.arbitrary::<u8>().unwrap_or(0) % 4 {
        0 => I[pick(u, I.len())],
        _ => u.arbitrary().unwrap_or_default(),
    }
}

fn arb_f32(u: &mut Unstructured<'_>) -> f32 {
    const I: [f32; 8] = [
        0.0,
        -0.0,
        1.5,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE,
        f32::MAX,
    ];
    match u.arbitrary::<u8>().unwrap_or(0) % 3 {
        0 => I[pick(u, I.len())],
        _ => f32::from_bits(u.arbitrary().unwrap_or_default()),
    }
}

fn arb_f64(u: &mut Unstructured<'_>) -> f64 {
    const I: [f64; 8] = [
        0.0,
        -0.0,
        1.5,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE,
        f64::MAX,
    ];
    match u.arbitrary::<u8>().unwrap_or(0) % 3 {
        0 => I[pick(u, I.len())],
        _ => f64::from_bits(u.arbitrary().unwrap_or_default()),
    }
}

/// A char of class `class`: 0 ASCII, 1 Latin-1, 2 BMP, 3 any.
fn arb_char(u: &mut Unstructured<'_>, class: u8) -> char {
    let x: u32 = u.arbitrary().unwrap_or(0x61);
    let c = match class {
        0 => x % 0x80,
        1 => x % 0x100,
        2 => x % 0x1_0000,
        _ => x % 0x11_0000,
    };
    char::from_u32(c).unwrap_or('\u{fffd}')
}

fn arb_string(u: &mut Unstructured<'_>, budget: &mut usize) -> String {
    if *budget == 0 {
        return String::new();
    }
    let class = u.arbitrary::<u8>().unwrap_or(0) % 4;
    let n = u.int_in_range(0..=MAX_STRING).unwrap_or(0);
    *budget = budget.saturating_sub(n / 8);
    (0..n).map(|_| arb_char(u, class)).collect()
}

/// Structural equality where NaN equals NaN (lifting canonicalizes NaNs,
/// so the payload bits may differ).
pub fn val_eq(a: &Val, b: &Val) -> bool {
    fn all(a: &[Val], b: &[Val]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(a, b)| val_eq(a, b))
    }
    fn opt(a: &Option<Box<Val>>, b: &Option<Box<Val>>) -> bool {
        match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => val_eq(a, b),
            _ => false,
        }
    }
    match (a, b) {
        (Val::Float32(x), Val::Float32(y)) => {
            (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
        }
        (Val::Float64(x), Val::Float64(y)) => {
            (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
        }
        (Val::List(x), Val::List(y)) | (Val::Tuple(x), Val::Tuple(y)) => all(x, y),
        (Val::Record(x), Val::Record(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((n, a), (m, b))| n == m && val_eq(a, b))
        }
        (Val::Variant(n, x), Val::Variant(m, y)) => n == m && opt(x, y),
        (Val::Option(x), Val::Option(y)) => opt(x, y),
        (Val::Result(Ok(x)), Val::Result(Ok(y))) | (Val::Result(Err(x)), Val::Result(Err(y))) => {
            opt(x, y)
        }
        _ => a == b,
    }
}

/// True if `v` is a value of `ty` (labels included).
pub fn conforms(v: &Val, ty: &Type) -> bool {
    fn payload(v: &Option<Box<Val>>, t: &Option<Type>) -> bool {
        match (v, t) {
            (None, None) => true,
            (Some(v), Some(t)) => conforms(v, t),
            _ => false,
        }
    }
    fn payload_box(v: &Option<Box<Val>>, t: &Option<Box<Type>>) -> bool {
        match (v, t) {
            (None, None) => true,
            (Some(v), Some(t)) => conforms(v, t),
            _ => false,
        }
    }
    match (v, ty) {
        (Val::Bool(_), Type::Bool)
        | (Val::S8(_), Type::S8)
        | (Val::U8(_), Type::U8)
        | (Val::S16(_), Type::S16)
        | (Val::U16(_), Type::U16)
        | (Val::S32(_), Type::S32)
        | (Val::U32(_), Type::U32)
        | (Val::S64(_), Type::S64)
        | (Val::U64(_), Type::U64)
        | (Val::Float32(_), Type::Float32)
        | (Val::Float64(_), Type::Float64)
        | (Val::Char(_), Type::Char)
        | (Val::String(_), Type::String) => true,
        (Val::Resource(r), Type::Own(_)) => r.owned(),
        (Val::Resource(r), Type::Borrow(_)) => !r.owned(),
        (Val::List(vs), Type::List(t)) => vs.iter().all(|v| conforms(v, t)),
        (Val::Record(fs), Type::Record(ts)) => {
            fs.len() == ts.len()
                && fs
                    .iter()
                    .zip(ts)
                    .all(|((n, v), (m, t))| n == m && conforms(v, t))
        }
        (Val::Tuple(vs), Type::Tuple(ts)) => {
            vs.len() == ts.len() && vs.iter().zip(ts).all(|(v, t)| conforms(v, t))
        }
        (Val::Variant(n, p), Type::Variant(cases)) => cases
            .iter()
            .find(|(m, _)| m == n)
            .is_some_and(|(_, t)| payload(p, t)),
        (Val::Enum(n), Type::Enum(names)) => names.contains(n),
        (Val::Option(None), Type::Option(_)) => true,
        (Val::Option(Some(v)), Type::Option(t)) => conforms(v, t),
        (Val::Result(Ok(p)), Type::Result { ok, .. }) => payload_box(p, ok),
        (Val::Result(Err(p)), Type::Result { err, .. }) => payload_box(p, err),
        (Val::Flags(set), Type::Flags(names)) => {
            // In type order, each at most once.
            let mut next = 0;
            set.iter()
                .all(|n| match names[next..].iter().position(|m| m == n) {
                    Some(i) => {
                        next += i + 1;
                        true
                    }
                    None => false,
                })
        }
        _ => false,
    }
}

/// Every resource handle inside `v`, for dropping.
pub fn resources_in(v: &Val, out: &mut Vec<componentry::ResourceAny>) {
    match v {
        Val::Resource(r) => out.push(*r),
        Val::List(vs) | Val::Tuple(vs) => vs.iter().for_each(|v| resources_in(v, out)),
        Val::Record(fs) => fs.iter().for_each(|(_, v)| resources_in(v, out)),
        Val::Variant(_, Some(v))
        | Val::Option(Some(v))
        | Val::Result(Ok(Some(v)))
        | Val::Result(Err(Some(v))) => resources_in(v, out),
        _ => {}
    }
}
