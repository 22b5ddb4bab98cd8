//! WAVE (the Bytecode Alliance's WebAssembly Value Encoding) for
//! componentry's values: `--invoke 'name(arg, ...)'` parsing and printing
//! results, through the `wasm-wave` crate's own `Value` and `Type`.
//!
//! componentry's [`Type`] becomes a `wasm_wave::value::Type`, the text is
//! parsed against it into a `wasm_wave::value::Value`, and that is turned
//! into a [`Val`] guided by the [`Type`]; results go the other way. Every
//! mismatch is an error message, never a panic: the `unwrap_*` accessors of
//! `wasm-wave` are only called after checking the value's kind.

use componentry::{Type, Val};
use std::borrow::Cow;
use wasm_wave::untyped::UntypedFuncCall;
use wasm_wave::value::{Type as WaveType, Value};
use wasm_wave::wasm::{WasmTypeKind, WasmValue};

/// A parsed `name(arg, ...)` whose arguments are not typed yet (the types
/// come from the function the name finds).
pub struct Call {
    call: UntypedFuncCall<'static>,
}

impl Call {
    /// Parses `name(arg, ...)`, or a bare `name` for a call without
    /// arguments (as wasmtime accepts).
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        let bare = !trimmed.is_empty()
            && trimmed
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '%'));
        let source = if bare {
            format!("{trimmed}()")
        } else {
            text.to_string()
        };
        let call = UntypedFuncCall::parse(&source)
            .map_err(|e| format!("`{}` is not a WAVE function call: {e}", excerpt(text)))?
            .into_owned();
        Ok(Call { call })
    }

    /// The function name.
    pub fn name(&self) -> &str {
        self.call.name()
    }

    /// The arguments, typed by `params` (the function's parameter types).
    /// Trailing `option` arguments may be left out (they are `none`).
    pub fn args(&self, params: &[(String, Type)]) -> Result<Vec<Val>, String> {
        if self.call.params_node().is_none()
            && params.iter().all(|(_, t)| matches!(t, Type::Option(_)))
        {
            // `f()` with only optional parameters: all `none`.
            return Ok(params.iter().map(|_| Val::Option(None)).collect());
        }
        let types = params
            .iter()
            .map(|(name, t)| wave_type(t).map_err(|e| format!("parameter `{name}`: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let values: Vec<Value> = self
            .call
            .to_wasm_params(types.iter())
            .map_err(|e| format!("arguments of `{}`: {e}", self.name()))?;
        params
            .iter()
            .zip(&values)
            .map(|((name, t), v)| from_wave(v, t).map_err(|e| format!("argument `{name}`: {e}")))
            .collect()
    }
}

/// Parses one value of type `ty` from WAVE text.
#[cfg(test)]
pub fn parse_value(text: &str, ty: &Type) -> Result<Val, String> {
    let wt = wave_type(ty)?;
    let value: Value =
        wasm_wave::from_str(&wt, text).map_err(|e| format!("`{}`: {e}", excerpt(text)))?;
    from_wave(&value, ty)
}

/// `val` (of type `ty`) as WAVE text.
pub fn to_text(val: &Val, ty: &Type) -> Result<String, String> {
    let wt = wave_type(ty)?;
    let value = to_wave(val, ty, &wt)?;
    wasm_wave::to_string(&value).map_err(|e| format!("writing WAVE: {e}"))
}

/// `text` for an error message: at most 60 characters, then `…`.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

fn empty(what: &str) -> String {
    format!("an empty {what} type has no WAVE form")
}

/// componentry's type as a WAVE type; resources have no WAVE form.
pub fn wave_type(ty: &Type) -> Result<WaveType, String> {
    Ok(match ty {
        Type::Bool => WaveType::BOOL,
        Type::S8 => WaveType::S8,
        Type::U8 => WaveType::U8,
        Type::S16 => WaveType::S16,
        Type::U16 => WaveType::U16,
        Type::S32 => WaveType::S32,
        Type::U32 => WaveType::U32,
        Type::S64 => WaveType::S64,
        Type::U64 => WaveType::U64,
        Type::Float32 => WaveType::F32,
        Type::Float64 => WaveType::F64,
        Type::Char => WaveType::CHAR,
        Type::String => WaveType::STRING,
        Type::List(t) => WaveType::list(wave_type(t)?),
        Type::Record(fields) => {
            let fields = fields
                .iter()
                .map(|(n, t)| Ok((n.as_str(), wave_type(t)?)))
                .collect::<Result<Vec<_>, String>>()?;
            WaveType::record(fields).ok_or_else(|| empty("record"))?
        }
        Type::Tuple(ts) => {
            let ts = ts.iter().map(wave_type).collect::<Result<Vec<_>, _>>()?;
            WaveType::tuple(ts).ok_or_else(|| empty("tuple"))?
        }
        Type::Variant(cases) => {
            let cases = cases
                .iter()
                .map(|(n, t)| Ok((n.as_str(), t.as_ref().map(wave_type).transpose()?)))
                .collect::<Result<Vec<_>, String>>()?;
            WaveType::variant(cases).ok_or_else(|| empty("variant"))?
        }
        Type::Enum(names) => {
            WaveType::enum_ty(names.iter().map(String::as_str)).ok_or_else(|| empty("enum"))?
        }
        Type::Option(t) => WaveType::option(wave_type(t)?),
        Type::Result { ok, err } => WaveType::result(
            ok.as_deref().map(wave_type).transpose()?,
            err.as_deref().map(wave_type).transpose()?,
        ),
        Type::Flags(names) => {
            WaveType::flags(names.iter().map(String::as_str)).ok_or_else(|| empty("flags"))?
        }
        Type::Own(_) | Type::Borrow(_) => {
            return Err(format!(
                "{ty} values cannot be written in WAVE (resources are not supported by --invoke)"
            ))
        }
        // The async handles (`stream`, `future`, `error-context`) and any
        // type a later componentry adds.
        _ => {
            return Err(format!(
                "{ty} values cannot be written in WAVE (not supported by --invoke)"
            ))
        }
    })
}

fn expect_kind(v: &Value, kind: WasmTypeKind) -> Result<(), String> {
    if v.kind() == kind {
        Ok(())
    } else {
        Err(format!("expected a {kind} value, got a {}", v.kind()))
    }
}

/// A parsed WAVE value as a [`Val`] of type `ty`.
pub fn from_wave(v: &Value, ty: &Type) -> Result<Val, String> {
    use WasmTypeKind as K;
    Ok(match ty {
        Type::Bool => {
            expect_kind(v, K::Bool)?;
            Val::Bool(v.unwrap_bool())
        }
        Type::S8 => {
            expect_kind(v, K::S8)?;
            Val::S8(v.unwrap_s8())
        }
        Type::U8 => {
            expect_kind(v, K::U8)?;
            Val::U8(v.unwrap_u8())
        }
        Type::S16 => {
            expect_kind(v, K::S16)?;
            Val::S16(v.unwrap_s16())
        }
        Type::U16 => {
            expect_kind(v, K::U16)?;
            Val::U16(v.unwrap_u16())
        }
        Type::S32 => {
            expect_kind(v, K::S32)?;
            Val::S32(v.unwrap_s32())
        }
        Type::U32 => {
            expect_kind(v, K::U32)?;
            Val::U32(v.unwrap_u32())
        }
        Type::S64 => {
            expect_kind(v, K::S64)?;
            Val::S64(v.unwrap_s64())
        }
        Type::U64 => {
            expect_kind(v, K::U64)?;
            Val::U64(v.unwrap_u64())
        }
        Type::Float32 => {
            expect_kind(v, K::F32)?;
            Val::Float32(v.unwrap_f32())
        }
        Type::Float64 => {
            expect_kind(v, K::F64)?;
            Val::Float64(v.unwrap_f64())
        }
        Type::Char => {
            expect_kind(v, K::Char)?;
            Val::Char(v.unwrap_char())
        }
        Type::String => {
            expect_kind(v, K::String)?;
            Val::String(v.unwrap_string().into_owned())
        }
        Type::List(t) => {
            expect_kind(v, K::List)?;
            Val::List(
                v.unwrap_list()
                    .map(|e| from_wave(&e, t))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Record(fields) => {
            expect_kind(v, K::Record)?;
            let given: Vec<(Cow<str>, Cow<Value>)> = v.unwrap_record().collect();
            let mut out = Vec::with_capacity(fields.len());
            for (name, t) in fields {
                let (_, fv) = given
                    .iter()
                    .find(|(n, _)| n == name)
                    .ok_or_else(|| format!("record field `{name}` is missing"))?;
                let fv = from_wave(fv, t).map_err(|e| format!("field `{name}`: {e}"))?;
                out.push((name.clone(), fv));
            }
            Val::Record(out)
        }
        Type::Tuple(ts) => {
            expect_kind(v, K::Tuple)?;
            let given: Vec<Cow<Value>> = v.unwrap_tuple().collect();
            if given.len() != ts.len() {
                return Err(format!(
                    "expected a tuple of {} values, got {}",
                    ts.len(),
                    given.len()
                ));
            }
            Val::Tuple(
                given
                    .iter()
                    .zip(ts)
                    .map(|(e, t)| from_wave(e, t))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Variant(cases) => {
            expect_kind(v, K::Variant)?;
            let (case, payload) = v.unwrap_variant();
            let (_, pt) = cases
                .iter()
                .find(|(n, _)| *n == case)
                .ok_or_else(|| format!("unknown variant case `{case}`"))?;
            let payload = match (pt, payload) {
                (Some(t), Some(p)) => Some(Box::new(from_wave(&p, t)?)),
                (None, None) => None,
                (Some(_), None) => return Err(format!("case `{case}` needs a payload")),
                (None, Some(_)) => return Err(format!("case `{case}` has no payload")),
            };
            Val::Variant(case.into_owned(), payload)
        }
        Type::Enum(_) => {
            expect_kind(v, K::Enum)?;
            Val::Enum(v.unwrap_enum().into_owned())
        }
        Type::Option(t) => {
            expect_kind(v, K::Option)?;
            Val::Option(match v.unwrap_option() {
                Some(p) => Some(Box::new(from_wave(&p, t)?)),
                None => None,
            })
        }
        Type::Result { ok, err } => {
            expect_kind(v, K::Result)?;
            let payload = |t: &Option<Box<Type>>, p: Option<Cow<Value>>| match (t, p) {
                (Some(t), Some(p)) => Ok(Some(Box::new(from_wave(&p, t)?))),
                (None, None) => Ok(None),
                (Some(_), None) => Err("the result case needs a payload".to_string()),
                (None, Some(_)) => Err("the result case has no payload".to_string()),
            };
            Val::Result(match v.unwrap_result() {
                Ok(p) => Ok(payload(ok, p)?),
                Err(p) => Err(payload(err, p)?),
            })
        }
        Type::Flags(_) => {
            expect_kind(v, K::Flags)?;
            Val::Flags(v.unwrap_flags().map(Cow::into_owned).collect())
        }
        // Resources, the async handles, and any type a later componentry adds.
        _ => return Err(format!("{ty} values cannot be written in WAVE")),
    })
}

fn wave_err(e: impl std::fmt::Display) -> String {
    format!("cannot write the value in WAVE: {e}")
}

fn mismatch(val: &Val, ty: &Type) -> String {
    format!("a {} value where {ty} was expected", val.kind_name())
}

/// A [`Val`] of type `ty` as a WAVE value of type `wt` (`wave_type(ty)`).
fn to_wave(val: &Val, ty: &Type, wt: &WaveType) -> Result<Value, String> {
    use wasm_wave::wasm::WasmType;
    Ok(match (val, ty) {
        (Val::Bool(b), Type::Bool) => Value::make_bool(*b),
        (Val::S8(x), Type::S8) => Value::make_s8(*x),
        (Val::U8(x), Type::U8) => Value::make_u8(*x),
        (Val::S16(x), Type::S16) => Value::make_s16(*x),
        (Val::U16(x), Type::U16) => Value::make_u16(*x),
        (Val::S32(x), Type::S32) => Value::make_s32(*x),
        (Val::U32(x), Type::U32) => Value::make_u32(*x),
        (Val::S64(x), Type::S64) => Value::make_s64(*x),
        (Val::U64(x), Type::U64) => Value::make_u64(*x),
        (Val::Float32(x), Type::Float32) => Value::make_f32(*x),
        (Val::Float64(x), Type::Float64) => Value::make_f64(*x),
        (Val::Char(c), Type::Char) => Value::make_char(*c),
        (Val::String(s), Type::String) => Value::make_string(Cow::Borrowed(s)),
        (Val::List(items), Type::List(t)) => {
            let et = wt
                .list_element_type()
                .ok_or_else(|| wave_err("list type without an element type"))?;
            let items = items
                .iter()
                .map(|v| to_wave(v, t, &et))
                .collect::<Result<Vec<_>, _>>()?;
            Value::make_list(wt, items).map_err(wave_err)?
        }
        (Val::Record(fields), Type::Record(types)) => {
            let wts: Vec<WaveType> = wt.record_fields().map(|(_, t)| t).collect();
            if fields.len() != types.len() || wts.len() != types.len() {
                return Err(mismatch(val, ty));
            }
            let mut out = Vec::with_capacity(fields.len());
            for (((name, v), (_, t)), w) in fields.iter().zip(types).zip(&wts) {
                out.push((name.as_str(), to_wave(v, t, w)?));
            }
            Value::make_record(wt, out).map_err(wave_err)?
        }
        (Val::Tuple(items), Type::Tuple(types)) => {
            let wts: Vec<WaveType> = wt.tuple_element_types().collect();
            if items.len() != types.len() || wts.len() != types.len() {
                return Err(mismatch(val, ty));
            }
            let items = items
                .iter()
                .zip(types)
                .zip(&wts)
                .map(|((v, t), w)| to_wave(v, t, w))
                .collect::<Result<Vec<_>, _>>()?;
            Value::make_tuple(wt, items).map_err(wave_err)?
        }
        (Val::Variant(case, payload), Type::Variant(cases)) => {
            let i = cases
                .iter()
                .position(|(n, _)| n == case)
                .ok_or_else(|| format!("unknown variant case `{case}`"))?;
            let wpt = wt.variant_cases().nth(i).and_then(|(_, t)| t);
            let payload = match (payload, &cases[i].1, wpt) {
                (Some(p), Some(t), Some(w)) => Some(to_wave(p, t, &w)?),
                (None, None, None) => None,
                _ => return Err(format!("variant case `{case}`: payload does not match")),
            };
            Value::make_variant(wt, case, payload).map_err(wave_err)?
        }
        (Val::Enum(case), Type::Enum(_)) => Value::make_enum(wt, case).map_err(wave_err)?,
        (Val::Option(o), Type::Option(t)) => {
            let w = wt
                .option_some_type()
                .ok_or_else(|| wave_err("option type without a payload type"))?;
            let o = match o {
                Some(v) => Some(to_wave(v, t, &w)?),
                None => None,
            };
            Value::make_option(wt, o).map_err(wave_err)?
        }
        (Val::Result(r), Type::Result { ok, err }) => {
            let (wok, werr) = wt
                .result_types()
                .ok_or_else(|| wave_err("result type without its cases"))?;
            let payload = |p: &Option<Box<Val>>,
                           t: &Option<Box<Type>>,
                           w: Option<WaveType>|
             -> Result<Option<Value>, String> {
                match (p, t, w) {
                    (Some(p), Some(t), Some(w)) => Ok(Some(to_wave(p, t, &w)?)),
                    (None, None, None) => Ok(None),
                    _ => Err("result payload does not match its type".to_string()),
                }
            };
            let r = match r {
                Ok(p) => Ok(payload(p, ok, wok)?),
                Err(p) => Err(payload(p, err, werr)?),
            };
            Value::make_result(wt, r).map_err(wave_err)?
        }
        (Val::Flags(names), Type::Flags(_)) => {
            Value::make_flags(wt, names.iter().map(String::as_str)).map_err(wave_err)?
        }
        _ => return Err(mismatch(val, ty)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str, ty: &Type) -> String {
        let v = parse_value(text, ty).unwrap_or_else(|e| panic!("{text}: {e}"));
        to_text(&v, ty).unwrap()
    }

    #[test]
    fn scalars_and_strings() {
        assert_eq!(round_trip("true", &Type::Bool), "true");
        assert_eq!(round_trip("-128", &Type::S8), "-128");
        assert_eq!(
            round_trip("18446744073709551615", &Type::U64),
            "18446744073709551615"
        );
        assert_eq!(round_trip("1.5", &Type::Float64), "1.5");
        assert_eq!(round_trip("nan", &Type::Float32), "nan");
        assert_eq!(round_trip("'x'", &Type::Char), "'x'");
        assert_eq!(
            round_trip(r#""a \"b\"\n""#, &Type::String),
            r#""a \"b\"\n""#
        );
        let e = parse_value("300", &Type::U8).unwrap_err();
        assert!(e.starts_with("`300`: invalid value"), "{e}");
    }

    #[test]
    fn compound_values() {
        let rec = Type::Record(vec![
            ("width".into(), Type::U32),
            ("tags".into(), Type::List(Box::new(Type::String))),
        ]);
        assert_eq!(
            round_trip(r#"{tags: ["a", "b"], width: 3}"#, &rec),
            r#"{width: 3, tags: ["a", "b"]}"#
        );
        let var = Type::Variant(vec![
            ("none-here".into(), None),
            ("pair".into(), Some(Type::Tuple(vec![Type::U8, Type::Char]))),
        ]);
        assert_eq!(round_trip("pair((1, 'z'))", &var), "pair((1, 'z'))");
        assert_eq!(round_trip("none-here", &var), "none-here");
        let res = Type::Result {
            ok: Some(Box::new(Type::Option(Box::new(Type::S32)))),
            err: None,
        };
        assert_eq!(round_trip("ok(some(-1))", &res), "ok(some(-1))");
        assert_eq!(round_trip("ok(none)", &res), "ok(none)");
        assert_eq!(round_trip("err", &res), "err");
        let flags = Type::Flags(vec!["read".into(), "write".into()]);
        assert_eq!(round_trip("{write}", &flags), "{write}");
        let e = Type::Enum(vec!["red".into(), "green".into()]);
        assert_eq!(round_trip("green", &e), "green");
    }

    #[test]
    fn bad_text_is_an_error() {
        for (text, ty) in [
            ("", Type::U32),
            ("{", Type::Record(vec![("a".into(), Type::U32)])),
            ("\"unterminated", Type::String),
            ("blue", Type::Enum(vec!["red".into()])),
            ("[1, 2", Type::List(Box::new(Type::U8))),
            ("'ab'", Type::Char),
            (
                "ok(1)",
                Type::Result {
                    ok: None,
                    err: None,
                },
            ),
            ("1 2", Type::U32),
        ] {
            assert!(parse_value(text, &ty).is_err(), "{text} as {ty}");
        }
        assert!(wave_type(&Type::Own(componentry::ResourceType::host::<()>())).is_err());
        // Deep nesting is refused by wasm-wave, not a stack overflow; the
        // message quotes only the start of the text.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let ty = Type::List(Box::new(Type::U8));
        let e = parse_value(&deep, &ty).unwrap_err();
        assert!(e.len() < 300, "{e}");
        assert!(Call::parse(&format!("f({deep})")).is_err());
        assert!(wave_type(&Type::Record(vec![])).is_err());
    }

    #[test]
    fn calls() {
        let params = vec![
            ("s".to_string(), Type::String),
            ("sep".to_string(), Type::Char),
        ];
        let call = Call::parse(r#"split("a,b", ',')"#).unwrap();
        assert_eq!(call.name(), "split");
        assert_eq!(
            call.args(&params).unwrap(),
            vec![Val::String("a,b".into()), Val::Char(',')]
        );
        assert!(Call::parse("split(").is_err());
        assert!(Call::parse("split(1)").unwrap().args(&params).is_err());
        let call = Call::parse("get-count").unwrap();
        assert_eq!(call.name(), "get-count");
        assert_eq!(call.args(&[]).unwrap(), vec![]);
        // Trailing options may be left out.
        let opt = vec![
            ("n".to_string(), Type::U8),
            ("o".to_string(), Type::Option(Box::new(Type::U8))),
        ];
        assert_eq!(
            Call::parse("f(1)").unwrap().args(&opt).unwrap(),
            vec![Val::U8(1), Val::Option(None)]
        );
        assert_eq!(
            Call::parse("f()").unwrap().args(&opt[1..]).unwrap(),
            vec![Val::Option(None)]
        );
        assert!(Call::parse("f()").unwrap().args(&opt).is_err());
    }

    #[test]
    fn mismatched_values_are_errors() {
        assert!(to_text(&Val::U8(1), &Type::String).is_err());
        assert!(to_text(
            &Val::Variant("nope".into(), None),
            &Type::Variant(vec![("yes".into(), None)])
        )
        .is_err());
    }
}
