//! The `valid_modules` target: components built from an arbitrary
//! description, valid by construction, so that instantiation and calls are
//! reached far more often than from random bytes.
//!
//! Each component has a `libc` core module (a memory with arbitrary
//! limits and data, a bump `realloc` and a "wild" realloc with an arbitrary
//! body), root imports and an imported instance of host functions with
//! arbitrary types, lowered with arbitrary options, and a core module whose
//! functions, with arbitrary bodies drawn from a small instruction set, are
//! lifted with arbitrary types and options (post-return included) and
//! exported at the root and in an exported instance. Some exported
//! functions forward their arguments to an import of the same type, so
//! values cross both ways. The component is then run through
//! [`exercise`](super::exercise::exercise), like the `load` target.

use arbitrary::{Result, Unstructured};
use componentry::{ErrorKind, Type};

use super::exercise;
use super::types::{arb_type, encoding_wat, flatten_all, Flat, TypeLimits, TypeScope};

/// A function's component type.
#[derive(Clone, Debug)]
struct FnTy {
    params: Vec<Type>,
    result: Option<Type>,
}

impl FnTy {
    /// A function type; with `handles`, parameters may hold `own` and
    /// `borrow` handles and the result `own` handles.
    fn arbitrary(u: &mut Unstructured<'_>, named: bool, handles: bool) -> Result<FnTy> {
        let lim = TypeLimits {
            depth: 3,
            named,
            handles: if handles { 2 } else { 0 },
        };
        let result_lim = TypeLimits {
            handles: lim.handles.min(1),
            ..lim
        };
        let mut nodes = 12;
        let n = if u.ratio(1, 8)? {
            u.int_in_range(5..=18)?
        } else {
            u.int_in_range(0..=3)?
        };
        let params = (0..n)
            .map(|_| arb_type(u, lim, &mut nodes))
            .collect::<Result<Vec<_>>>()?;
        let result = if u.ratio(3, 4)? {
            Some(arb_type(u, result_lim, &mut nodes)?)
        } else {
            None
        };
        Ok(FnTy { params, result })
    }

    /// The flat core types of the parameters, as lifted (16 at most, else
    /// one pointer).
    fn core_params(&self) -> Vec<Flat> {
        let flat = flatten_all(&self.params);
        if flat.len() > 16 {
            vec![Flat::I32]
        } else {
            flat
        }
    }

    fn flat_result(&self) -> Vec<Flat> {
        flatten_all(self.result.iter())
    }

    /// Core signature of a `canon lift`ed function: (params, results).
    fn lift_sig(&self) -> (Vec<Flat>, Vec<Flat>) {
        let r = self.flat_result();
        let results = if r.len() > 1 { vec![Flat::I32] } else { r };
        (self.core_params(), results)
    }

    /// Core signature of a `canon lower`ed function: (params, results).
    fn lower_sig(&self) -> (Vec<Flat>, Vec<Flat>) {
        let mut params = self.core_params();
        let r = self.flat_result();
        if r.len() > 1 {
            params.push(Flat::I32);
            (params, vec![])
        } else {
            (params, r)
        }
    }
}

fn list(fs: &[Flat]) -> String {
    fs.iter().map(|f| f.wat()).collect::<Vec<_>>().join(" ")
}

/// A core function the generated bodies may call: name and core signature.
struct Callee {
    name: String,
    params: Vec<Flat>,
    results: Vec<Flat>,
}

/// What a function body may refer to.
struct Body<'a> {
    locals: Vec<Flat>,
    callees: &'a [Callee],
    /// Label depth of enclosing loops, to name them uniquely.
    loops: u32,
}

const I32S: [i64; 16] = [
    0,
    1,
    2,
    3,
    4,
    8,
    16,
    64,
    255,
    256,
    1024,
    65535,
    65536,
    0x7fff_ffff,
    -1,
    -65536,
];

fn const_of(u: &mut Unstructured<'_>, ty: Flat) -> Result<String> {
    let interesting = u.ratio(2, 3)?;
    Ok(match ty {
        Flat::I32 => {
            let v: i32 = if interesting {
                *u.choose(&I32S)? as i32
            } else {
                u.arbitrary()?
            };
            format!("(i32.const {v})")
        }
        Flat::I64 => {
            let v: i64 = if interesting {
                *u.choose(&I32S)?
            } else {
                u.arbitrary()?
            };
            format!("(i64.const {v})")
        }
        Flat::F32 => {
            let bits: u32 = if interesting {
                *u.choose(&[
                    0,
                    0x8000_0000,
                    0x3fc0_0000,
                    0x7fc0_0000,
                    0x7fa0_0001,
                    0xff80_0000,
                ])?
            } else {
                u.arbitrary()?
            };
            format!("(f32.reinterpret_i32 (i32.const {}))", bits as i32)
        }
        Flat::F64 => {
            let bits: u64 = if interesting {
                *u.choose(&[0, 1 << 63, 0x7ff8_0000_0000_0000, 0x7ff4_0000_0000_0001])?
            } else {
                u.arbitrary()?
            };
            format!("(f64.reinterpret_i64 (i64.const {}))", bits as i64)
        }
    })
}

impl Body<'_> {
    fn local_of(&self, u: &mut Unstructured<'_>, ty: Flat) -> Result<Option<usize>> {
        let ks: Vec<usize> = (0..self.locals.len())
            .filter(|&k| self.locals[k] == ty)
            .collect();
        if ks.is_empty() {
            return Ok(None);
        }
        Ok(Some(*u.choose(&ks)?))
    }

    /// An address: interesting constants, the end of memory, a parameter.
    fn addr(&self, u: &mut Unstructured<'_>, depth: u32) -> Result<String> {
        Ok(match u.int_in_range(0..=5)? {
            0 => "(i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 8))".into(),
            1 | 2 => match self.local_of(u, Flat::I32)? {
                Some(k) => format!("(local.get {k})"),
                None => const_of(u, Flat::I32)?,
            },
            3 => self.expr(u, Flat::I32, depth)?,
            _ => format!(
                "(i32.const {})",
                u.choose(&[0, 8, 16, 64, 128, 256, 512, 1024, 2048, 65532])?
            ),
        })
    }

    fn call(&self, u: &mut Unstructured<'_>, c: &Callee, depth: u32) -> Result<String> {
        let mut s = format!("(call ${}", c.name);
        for p in &c.params {
            s.push(' ');
            s.push_str(&self.expr(u, *p, depth)?);
        }
        s.push(')');
        Ok(s)
    }

    fn expr(&self, u: &mut Unstructured<'_>, ty: Flat, depth: u32) -> Result<String> {
        if depth == 0 || u.ratio(1, 3)? {
            return Ok(match self.local_of(u, ty)? {
                Some(k) if u.arbitrary()? => format!("(local.get {k})"),
                _ => const_of(u, ty)?,
            });
        }
        let d = depth - 1;
        let callees: Vec<&Callee> = self.callees.iter().filter(|c| c.results == [ty]).collect();
        if !callees.is_empty() && u.ratio(1, 6)? {
            let c = *u.choose(&callees)?;
            return self.call(u, c, d);
        }
        Ok(match ty {
            Flat::I32 => match u.int_in_range(0..=11)? {
                0 => format!(
                    "({} {})",
                    u.choose(&["i32.load", "i32.load8_u", "i32.load16_s", "i32.load8_s"])?,
                    self.addr(u, d)?
                ),
                1..=3 => format!(
                    "({} {} {})",
                    u.choose(&[
                        "i32.add",
                        "i32.sub",
                        "i32.mul",
                        "i32.and",
                        "i32.or",
                        "i32.xor",
                        "i32.shl",
                        "i32.shr_u",
                        "i32.rotl",
                        "i32.div_u",
                        "i32.rem_s",
                        "i32.lt_u",
                        "i32.eq"
                    ])?,
                    self.expr(u, Flat::I32, d)?,
                    self.expr(u, Flat::I32, d)?
                ),
                4 => format!("(i32.eqz {})", self.expr(u, Flat::I32, d)?),
                5 => "(memory.size)".into(),
                6 => format!("(memory.grow {})", self.expr(u, Flat::I32, d)?),
                7 => format!("(i32.wrap_i64 {})", self.expr(u, Flat::I64, d)?),
                8 => format!("(i32.reinterpret_f32 {})", self.expr(u, Flat::F32, d)?),
                9 => format!("(i32.trunc_f64_s {})", self.expr(u, Flat::F64, d)?),
                10 => "(global.get $g)".into(),
                _ => format!(
                    "(select {} {} {})",
                    self.expr(u, Flat::I32, d)?,
                    self.expr(u, Flat::I32, d)?,
                    self.expr(u, Flat::I32, d)?
                ),
            },
            Flat::I64 => match u.int_in_range(0..=4)? {
                0 => format!("(i64.load {})", self.addr(u, d)?),
                1 => format!(
                    "({} {} {})",
                    u.choose(&["i64.add", "i64.mul", "i64.shl", "i64.xor", "i64.div_s"])?,
                    self.expr(u, Flat::I64, d)?,
                    self.expr(u, Flat::I64, d)?
                ),
                2 => format!(
                    "({} {})",
                    u.choose(&["i64.extend_i32_u", "i64.extend_i32_s"])?,
                    self.expr(u, Flat::I32, d)?
                ),
                3 => format!("(i64.reinterpret_f64 {})", self.expr(u, Flat::F64, d)?),
                _ => format!("(i64.trunc_f32_u {})", self.expr(u, Flat::F32, d)?),
            },
            Flat::F32 => match u.int_in_range(0..=3)? {
                0 => format!("(f32.load {})", self.addr(u, d)?),
                1 => format!("(f32.convert_i32_s {})", self.expr(u, Flat::I32, d)?),
                2 => format!("(f32.demote_f64 {})", self.expr(u, Flat::F64, d)?),
                _ => format!("(f32.reinterpret_i32 {})", self.expr(u, Flat::I32, d)?),
            },
            Flat::F64 => match u.int_in_range(0..=3)? {
                0 => format!("(f64.load {})", self.addr(u, d)?),
                1 => format!("(f64.convert_i64_u {})", self.expr(u, Flat::I64, d)?),
                2 => format!("(f64.promote_f32 {})", self.expr(u, Flat::F32, d)?),
                _ => format!(
                    "(f64.add {} {})",
                    self.expr(u, Flat::F64, d)?,
                    self.expr(u, Flat::F64, d)?
                ),
            },
        })
    }

    fn stmt(&mut self, u: &mut Unstructured<'_>, depth: u32) -> Result<String> {
        Ok(match u.int_in_range(0..=9)? {
            0 => {
                let ty = *u.choose(&[Flat::I32, Flat::I64, Flat::F32, Flat::F64])?;
                format!("(drop {})", self.expr(u, ty, depth)?)
            }
            1 | 2 => {
                let (op, ty) = *u.choose(&[
                    ("i32.store", Flat::I32),
                    ("i32.store", Flat::I32),
                    ("i32.store8", Flat::I32),
                    ("i32.store16", Flat::I32),
                    ("i64.store", Flat::I64),
                    ("f32.store", Flat::F32),
                    ("f64.store", Flat::F64),
                ])?;
                format!(
                    "({op} {} {})",
                    self.addr(u, depth)?,
                    self.expr(u, ty, depth)?
                )
            }
            3 => {
                if self.locals.is_empty() {
                    return Ok(String::new());
                }
                let k = u.int_in_range(0..=self.locals.len() - 1)?;
                let ty = self.locals[k];
                format!("(local.set {k} {})", self.expr(u, ty, depth)?)
            }
            4 => format!("(global.set $g {})", self.expr(u, Flat::I32, depth)?),
            5 | 6 => {
                if self.callees.is_empty() {
                    return Ok(String::new());
                }
                let c = u.choose(self.callees)?;
                let call = self.call(u, c, depth)?;
                let drops = "drop ".repeat(c.results.len());
                format!("{call} {drops}")
            }
            7 => format!(
                "(if {} (then unreachable))",
                self.expr(u, Flat::I32, depth)?
            ),
            8 => format!(
                "({} {} {} (i32.and {} (i32.const 255)))",
                u.choose(&["memory.fill", "memory.copy"])?,
                self.addr(u, depth)?,
                self.expr(u, Flat::I32, depth)?,
                self.expr(u, Flat::I32, depth)?
            ),
            _ => {
                self.loops += 1;
                let l = self.loops;
                format!(
                    "(loop $l{l} (global.set $g (i32.add (global.get $g) (i32.const 1))) (br_if $l{l} {}))",
                    self.expr(u, Flat::I32, depth)?
                )
            }
        })
    }

    /// Statements, then one expression per result.
    fn body(&mut self, u: &mut Unstructured<'_>, results: &[Flat]) -> Result<String> {
        let mut s = String::new();
        let n = u.int_in_range(0..=4)?;
        for _ in 0..n {
            s.push_str(&self.stmt(u, 3)?);
            s.push('\n');
        }
        for r in results {
            s.push_str(&self.expr(u, *r, 3)?);
        }
        Ok(s)
    }
}

/// The canonical options of one lift or lower; `dropped` is set when a
/// possibly required option was left out.
fn options(u: &mut Unstructured<'_>, dropped: &mut bool) -> Result<String> {
    let mut s = String::new();
    if u.ratio(1, 64)? {
        *dropped = true;
    } else {
        s.push_str("(memory $mem) ");
        if u.ratio(1, 64)? {
            *dropped = true;
        } else if u.ratio(1, 5)? {
            s.push_str("(realloc $wild) ");
        } else {
            s.push_str("(realloc $realloc) ");
        }
    }
    s.push_str(encoding_wat(u.arbitrary()?));
    Ok(s)
}

/// Data for the memory: mostly little-endian words that make plausible
/// pointers, lengths and discriminants.
fn data(u: &mut Unstructured<'_>) -> Result<String> {
    let words = u.int_in_range(0..=32)?;
    let mut s = String::new();
    for _ in 0..words {
        let w: u32 = if u.ratio(3, 4)? {
            *u.choose(&[
                0,
                1,
                2,
                3,
                5,
                8,
                16,
                64,
                128,
                256,
                0x61,
                0xd800,
                0xffff_ffff,
                0x8000_0000,
            ])?
        } else {
            u.arbitrary()?
        };
        for b in w.to_le_bytes() {
            s.push_str(&format!("\\{b:02x}"));
        }
    }
    Ok(s)
}

/// A generated component and whether it left out a possibly required
/// canonical option (then it may be rejected).
pub fn generate(u: &mut Unstructured<'_>) -> Result<(String, bool)> {
    let mut dropped = false;
    let mut imports_scope = TypeScope::imports();
    let mut exports_scope = TypeScope::exports();
    // Resources: an imported (host) one, `$hr`, for imported functions and
    // a defined one, `$r` (exported as `$re`), for exported functions.
    let resources = u.ratio(1, 2)?;
    if resources {
        imports_scope.resource = Some("$hr".into());
        exports_scope.resource = Some("$re".into());
        exports_scope
            .defs
            .push_str("(export $re \"r\" (type $r))\n");
    }

    // Host functions: root imports (any types) and an imported instance
    // (types that need no names).
    let n_root = u.int_in_range(0..=3)?;
    let mut host: Vec<(String, FnTy)> = Vec::new();
    for k in 0..n_root {
        host.push((format!("f{k}"), FnTy::arbitrary(u, true, resources)?));
    }
    let n_inst = if u.ratio(1, 3)? {
        u.int_in_range(1..=2)?
    } else {
        0
    };
    for k in 0..n_inst {
        host.push((format!("g{k}"), FnTy::arbitrary(u, false, false)?));
    }

    let mut out = String::from("(component\n");
    if resources {
        out.push_str("(import \"hr\" (type $hr (sub resource)))\n");
    }
    let mut root_imports = String::new();
    for (name, ty) in host.iter().take(n_root) {
        let sig = imports_scope.func_sig(&ty.params, ty.result.as_ref());
        root_imports.push_str(&format!("(import \"{name}\" (func ${name} {sig}))\n"));
    }
    out.push_str(&imports_scope.defs);
    out.push_str(&root_imports);
    if n_inst > 0 {
        out.push_str("(import \"ns:host/api\" (instance $host\n");
        for (name, ty) in host.iter().skip(n_root) {
            let sig = imports_scope.func_sig(&ty.params, ty.result.as_ref());
            out.push_str(&format!("  (export \"{name}\" (func {sig}))\n"));
        }
        out.push_str("))\n");
        for (name, _) in host.iter().skip(n_root) {
            out.push_str(&format!("(alias export $host \"{name}\" (func ${name}))\n"));
        }
    }

    // libc: memory, realloc, wild realloc.
    let min = *u.choose(&[0u32, 1, 1, 1, 2])?;
    let max = min + u.int_in_range(0..=3)?;
    let mut wild = Body {
        locals: vec![Flat::I32; 4],
        callees: &[],
        loops: 0,
    };
    let wild_body = wild.body(u, &[Flat::I32])?;
    let dtor_body = Body {
        locals: vec![Flat::I32],
        callees: &[],
        loops: 0,
    }
    .body(u, &[])?;
    let data_at = *u.choose(&[0u32, 8, 64, 256, 1024])?;
    let data = if min > 0 {
        format!("(data (i32.const {data_at}) \"{}\")", data(u)?)
    } else {
        String::new()
    };
    out.push_str(&format!(
        r#"(core module $libc
  (memory (export "mem") {min} {max})
  (global $heap (mut i32) (i32.const 1024))
  (global $g (mut i32) (i32.const 0))
  {data}
  (func (export "realloc") (param $old i32) (param $old-size i32) (param $align i32) (param $new-size i32) (result i32)
    (local $ptr i32)
    (if (i32.and (i32.ne (local.get $old) (i32.const 0)) (i32.le_u (local.get $new-size) (local.get $old-size)))
      (then (return (local.get $old))))
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $ptr) (local.get $new-size)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then (if (i32.eq (memory.grow (i32.add (i32.shr_u (i32.sub (global.get $heap)
                  (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1))) (i32.const -1))
              (then unreachable))))
    (if (i32.ne (local.get $old) (i32.const 0))
      (then (memory.copy (local.get $ptr) (local.get $old) (local.get $old-size))))
    (local.get $ptr))
  (func (export "wild") (param i32 i32 i32 i32) (result i32)
    {wild_body})
  (func (export "dtor") (param i32)
    {dtor_body}))
(core instance $libc (instantiate $libc))
(alias core export $libc "mem" (core memory $mem))
(alias core export $libc "realloc" (core func $realloc))
(alias core export $libc "wild" (core func $wild))
(alias core export $libc "dtor" (core func $dtor))
"#
    ));
    let mut res_imports = String::new();
    let mut res_with = String::new();

    // Lowered host functions.
    let mut callees = vec![Callee {
        name: "realloc".into(),
        params: vec![Flat::I32; 4],
        results: vec![Flat::I32],
    }];
    if resources {
        let dtor = if u.arbitrary()? {
            " (dtor (core func $dtor))"
        } else {
            ""
        };
        out.push_str(&format!(
            "(type $r (resource (rep i32){dtor}))
(core func $rnew (canon resource.new $r))
(core func $rrep (canon resource.rep $r))
(core func $rdrop (canon resource.drop $r))
(core func $hdrop (canon resource.drop $hr))
"
        ));
        for (name, results) in [
            ("rnew", vec![Flat::I32]),
            ("rrep", vec![Flat::I32]),
            ("rdrop", vec![]),
            ("hdrop", vec![]),
        ] {
            res_imports.push_str(&format!(
                "(import \"res\" \"{name}\" (func ${name} (param i32) (result {})))\n",
                list(&results)
            ));
            res_with.push_str(&format!("(export \"{name}\" (func ${name})) "));
            callees.push(Callee {
                name: name.into(),
                params: vec![Flat::I32],
                results,
            });
        }
    }
    let mut host_imports = String::new();
    let mut host_with = String::new();
    for (name, ty) in &host {
        let opts = options(u, &mut dropped)?;
        out.push_str(&format!(
            "(core func ${name}-lower (canon lower (func ${name}) {opts}))\n"
        ));
        let (params, results) = ty.lower_sig();
        host_imports.push_str(&format!(
            "(import \"host\" \"{name}\" (func ${name} (param {}) (result {})))\n",
            list(&params),
            list(&results)
        ));
        host_with.push_str(&format!("(export \"{name}\" (func ${name}-lower)) "));
        callees.push(Callee {
            name: name.clone(),
            params,
            results,
        });
    }

    // Exported functions: some forward to a host function of their type.
    let n_exports = u.int_in_range(1..=4)?;
    let mut exports: Vec<(FnTy, bool)> = Vec::new();
    let mut funcs = String::new();
    for j in 0..n_exports {
        let forward = if !host.is_empty() && u.ratio(1, 3)? {
            Some(u.int_in_range(0..=host.len() - 1)?)
        } else {
            None
        };
        let in_instance = u.ratio(1, 4)?;
        let ty = match forward {
            Some(k) => host[k].1.clone(),
            None => FnTy::arbitrary(u, !in_instance, resources && !in_instance)?,
        };
        // A forwarded type from a root import may need names.
        let in_instance = in_instance && forward.is_none_or(|k| k >= n_root);
        let (params, results) = ty.lift_sig();
        let body = match forward {
            Some(k) => {
                let mut b: String = (0..params.len())
                    .map(|i| format!("local.get {i} "))
                    .collect();
                if ty.flat_result().len() > 1 {
                    b.push_str(&format!("i32.const 256 call ${} i32.const 256", host[k].0));
                } else {
                    b.push_str(&format!("call ${}", host[k].0));
                }
                b
            }
            None => {
                let mut body = Body {
                    locals: params.clone(),
                    callees: &callees,
                    loops: 0,
                };
                body.body(u, &results)?
            }
        };
        funcs.push_str(&format!(
            "(func (export \"e{j}\") (param {}) (result {})\n {body})\n",
            list(&params),
            list(&results)
        ));
        if u.ratio(1, 3)? {
            let mut body = Body {
                locals: results.clone(),
                callees: &callees,
                loops: 0,
            };
            let b = body.body(u, &[])?;
            funcs.push_str(&format!(
                "(func (export \"pr{j}\") (param {})\n {b})\n",
                list(&results)
            ));
            exports.push((ty, in_instance));
            funcs.push_str(&format!(";; post-return pr{j}\n"));
        } else {
            exports.push((ty, in_instance));
        }
    }

    out.push_str(&format!(
        r#"(core module $m
  (import "libc" "mem" (memory 0))
  (import "libc" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
  {host_imports}
  {res_imports}
  (global $g (mut i32) (i32.const 0))
  {funcs})
(core instance $i (instantiate $m (with "libc" (instance $libc)) (with "host" (instance {host_with}))
  (with "res" (instance {res_with}))))
"#
    ));

    let mut lifts = String::new();
    let mut instance_items = String::new();
    for (j, (ty, in_instance)) in exports.iter().enumerate() {
        let sig = exports_scope.func_sig(&ty.params, ty.result.as_ref());
        let mut opts = options(u, &mut dropped)?;
        if funcs.contains(&format!(";; post-return pr{j}\n")) {
            opts.push_str(&format!(" (post-return (core func $i \"pr{j}\"))"));
        }
        lifts.push_str(&format!(
            "(func $x{j} {sig} (canon lift (core func $i \"e{j}\") {opts}))\n"
        ));
        if *in_instance {
            instance_items.push_str(&format!("(export \"x{j}\" (func $x{j})) "));
        } else {
            lifts.push_str(&format!("(export \"x{j}\" (func $x{j}))\n"));
        }
    }
    out.push_str(&exports_scope.defs);
    out.push_str(&lifts);
    if !instance_items.is_empty() {
        out.push_str(&format!(
            "(instance $api {instance_items})\n(export \"ns:pkg/api\" (instance $api))\n"
        ));
    }
    out.push_str(")\n");
    Ok((out, dropped))
}

/// Runs one input.
pub fn run(data: &[u8]) {
    run_with(data, |_, _| {});
}

/// Runs one input and hands the generated WAT and what was reached to
/// `seen` (for statistics).
pub fn run_with(data: &[u8], seen: impl FnOnce(&str, &exercise::Reached)) {
    let mut u = Unstructured::new(data);
    let Ok((wat, dropped)) = generate(&mut u) else {
        return;
    };
    let bytes = wat::parse_str(&wat).unwrap_or_else(|e| panic!("generated WAT: {e}\n{wat}"));
    let engine = exercise::engine();
    let reached = exercise::exercise(&engine, &bytes, &mut u);
    if !dropped {
        // A valid component must load (or be reported unsupported).
        if let Some(kind) = &reached.load_error {
            assert!(
                *kind == ErrorKind::Unsupported,
                "a valid component failed to load ({kind:?})\n{wat}"
            );
        }
    }
    seen(&wat, &reached);
}
