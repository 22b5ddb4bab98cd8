//! The `roundtrip` target: an arbitrary list of parameter types and values
//! and a string encoding. A generated component exports
//! `run(p0: T0, …) -> R` that passes its arguments, as core values, to the
//! host import `echo(p0: T0, …) -> R` (lowered with the same encoding,
//! memory and realloc) and returns what `echo` returned; `R` is `T0` for
//! one parameter and `tuple<T0, …>` otherwise. The host's `echo` returns its
//! arguments. Both what `echo` received and what `run` returned must equal
//! the arguments (NaNs equal NaNs).
//!
//! More than 16 flat parameters spill to memory (the lifted `run` gets a
//! pointer and hands it on); a result of more than one flat value goes
//! through a return area.
//!
//! One input in eight instead takes one of a fixed set of shapes (see
//! [`typed`]) and goes through the typed API: `Func::typed` /
//! `TypedFunc::call` for `run`, `func_wrap` for `echo`.

use arbitrary::{Result, Unstructured};
use componentry::{Component, Engine, Linker, Store, Type, Val};

use super::types::{arb_type, encoding_wat, flatten_all, layout, Flat, TypeLimits, TypeScope};
use super::values::{arb_val, val_eq, VALUE_BUDGET};

/// Where `echo` writes a spilled result; the heap starts after it.
const RET: u32 = 16;
const RET_SIZE: u32 = 8 * 1024;
const HEAP: u32 = 16 * 1024;

/// A core module with a one-page memory and a bump allocator `realloc`
/// that grows memory as needed and copies on growth.
fn libc() -> String {
    format!(
        r#"(core module $libc
    (memory (export "mem") 1)
    (global $heap (mut i32) (i32.const {HEAP}))
    (func (export "realloc") (param $old i32) (param $old-size i32) (param $align i32) (param $new-size i32) (result i32)
      (local $ptr i32)
      (if (i32.and (i32.ne (local.get $old) (i32.const 0))
                   (i32.le_u (local.get $new-size) (local.get $old-size)))
        (then (return (local.get $old))))
      (local.set $ptr
        (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                 (i32.sub (i32.const 0) (local.get $align))))
      (global.set $heap (i32.add (local.get $ptr) (local.get $new-size)))
      (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
        (then
          (if (i32.eq
                (memory.grow
                  (i32.add
                    (i32.shr_u
                      (i32.sub (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
                      (i32.const 16))
                    (i32.const 1)))
                (i32.const -1))
            (then unreachable))))
      (if (i32.ne (local.get $old) (i32.const 0))
        (then (memory.copy (local.get $ptr) (local.get $old) (local.get $old-size))))
      (local.get $ptr)))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "mem" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))
"#
    )
}

/// A generated case: the parameter types, the arguments and the encoding.
#[derive(Debug)]
pub struct Case {
    pub params: Vec<Type>,
    pub args: Vec<Val>,
    pub encoding: u8,
}

impl Case {
    /// Draws a case from `u`.
    pub fn arbitrary(u: &mut Unstructured<'_>) -> Result<Case> {
        let encoding = u.arbitrary::<u8>()? % 3;
        // Mostly one to three parameters; sometimes many, to spill.
        let n = if u.ratio(1, 4)? {
            u.int_in_range(4..=20)?
        } else {
            u.int_in_range(1..=3)?
        };
        let mut nodes = 32;
        let lim = TypeLimits {
            depth: 4,
            named: true,
            handles: 0,
        };
        let params = (0..n)
            .map(|_| arb_type(u, lim, &mut nodes))
            .collect::<Result<Vec<_>>>()?;
        let mut budget = VALUE_BUDGET;
        let args = params
            .iter()
            .map(|t| arb_val(u, t, &mut budget, &mut |_| None))
            .collect();
        Ok(Case {
            params,
            args,
            encoding,
        })
    }

    /// The result type: `T0`, or the tuple of all parameter types.
    pub fn result(&self) -> Type {
        if self.params.len() == 1 {
            self.params[0].clone()
        } else {
            Type::Tuple(self.params.clone())
        }
    }

    /// The expected result: the argument, or the tuple of all arguments.
    pub fn expected(&self) -> Val {
        if self.args.len() == 1 {
            self.args[0].clone()
        } else {
            Val::Tuple(self.args.clone())
        }
    }

    /// The WAT of the generated component.
    pub fn wat(&self) -> String {
        let result = self.result();
        let enc = encoding_wat(self.encoding);
        let opts = format!("(memory $mem) (realloc $realloc) {enc}");
        let mut imports = TypeScope::imports();
        let echo_sig = imports.func_sig(&self.params, Some(&result));
        let mut exports = TypeScope::exports();
        let run_sig = exports.func_sig(&self.params, Some(&result));

        let flat_params = flatten_all(&self.params);
        let flat_result = flatten_all([&result]);
        let lift_params = if flat_params.len() > 16 {
            vec![Flat::I32]
        } else {
            flat_params
        };
        let spilled_result = flat_result.len() > 1;
        let mut lower_params = lift_params.clone();
        let (lift_results, lower_results) = if spilled_result {
            lower_params.push(Flat::I32);
            (vec![Flat::I32], vec![])
        } else {
            (flat_result.clone(), flat_result)
        };
        let list = |fs: &[Flat]| fs.iter().map(|f| f.wat()).collect::<Vec<_>>().join(" ");
        let mut body = String::new();
        for i in 0..lift_params.len() {
            body.push_str(&format!("local.get {i} "));
        }
        if spilled_result {
            body.push_str(&format!("i32.const {RET} call $echo i32.const {RET}"));
        } else {
            body.push_str("call $echo");
        }
        format!(
            r#"(component
  {import_defs}
  (import "echo" (func $echo {echo_sig}))
  {libc}
  (core func $echo-lower (canon lower (func $echo) {opts}))
  (core module $m
    (import "host" "echo" (func $echo (param {lower_params}) (result {lower_results})))
    (func (export "run") (param {lift_params}) (result {lift_results}) {body}))
  (core instance $i (instantiate $m (with "host" (instance (export "echo" (func $echo-lower))))))
  {export_defs}
  (func $run {run_sig} (canon lift (core func $i "run") {opts}))
  (export "run" (func $run))
)"#,
            import_defs = imports.defs,
            libc = libc(),
            lower_params = list(&lower_params),
            lower_results = list(&lower_results),
            lift_params = list(&lift_params),
            lift_results = list(&lift_results),
            export_defs = exports.defs,
        )
    }
}

/// Runs one roundtrip input; panics if a value does not come back equal.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    if data.first().is_some_and(|b| b % 8 == 0) {
        let _ = typed::run(&mut u);
        return;
    }
    let Ok(case) = Case::arbitrary(&mut u) else {
        return;
    };
    if layout(&case.result()).0 > RET_SIZE {
        return;
    }
    check(&Engine::default(), &case);
}

fn compile(engine: &Engine, case: &Case) -> (String, Component) {
    let wat = case.wat();
    let bytes = wat::parse_str(&wat).unwrap_or_else(|e| panic!("generated WAT: {e}\n{wat}"));
    let component = Component::new(engine, &bytes)
        .unwrap_or_else(|e| panic!("generated component does not load: {e}\n{wat}"));
    (wat, component)
}

/// Builds the component of `case`, calls `run` twice and checks both calls.
pub fn check(engine: &Engine, case: &Case) {
    let (wat, component) = compile(engine, case);
    let mut linker = Linker::<Vec<Val>>::new(engine);
    linker
        .root()
        .func_new("echo", |mut cx, params, results| {
            *cx.data_mut() = params.to_vec();
            results[0] = if params.len() == 1 {
                params[0].clone()
            } else {
                Val::Tuple(params.to_vec())
            };
            Ok(())
        })
        .expect("define echo");
    let mut store = Store::new(engine, Vec::new());
    let instance = linker
        .instantiate(&mut store, &component)
        .unwrap_or_else(|e| panic!("instantiate: {e}\n{wat}"));
    let run = instance.get_func(&mut store, "run").expect("run");
    let expected = case.expected();
    for round in 0..2 {
        let mut results = [Val::Bool(false)];
        if let Err(e) = run.call(&mut store, &case.args, &mut results) {
            panic!("round {round}: run{:?} failed: {e}\n{wat}", case.args);
        }
        let seen = store.data();
        assert!(
            seen.len() == case.args.len() && seen.iter().zip(&case.args).all(|(a, b)| val_eq(a, b)),
            "round {round}: echo received {seen:?}, expected {:?}\n{wat}",
            case.args
        );
        assert!(
            val_eq(&results[0], &expected),
            "round {round}: run returned {:?}, expected {expected:?}\n{wat}",
            results[0]
        );
    }
}

/// The typed path, for a fixed set of shapes: Rust types with their
/// component types. Values are compared by their `Debug` text, which is
/// NaN-aware (every NaN prints as `NaN`) and tells `-0.0` from `0.0`.
pub mod typed {
    use super::*;
    use arbitrary::Arbitrary;
    use componentry::{flags, ComponentNamedList, ComponentType, Lift, Lower};

    /// `record { f0: u32, f1: string, f2: list<u8> }`
    #[derive(ComponentType, Lift, Lower, Arbitrary, Clone, Debug)]
    pub struct Rec {
        #[component(name = "f0")]
        f0: u32,
        #[component(name = "f1")]
        f1: String,
        #[component(name = "f2")]
        f2: Vec<u8>,
    }

    /// `variant { c0(f64), c1, c2(string) }`
    #[derive(ComponentType, Lift, Lower, Arbitrary, Clone, Debug)]
    pub enum Var {
        #[component(name = "c0")]
        C0(f64),
        #[component(name = "c1")]
        C1,
        #[component(name = "c2")]
        C2(String),
    }

    /// `enum { e0, e1, e2 }`
    #[derive(ComponentType, Lift, Lower, Arbitrary, Clone, Copy, Debug)]
    pub enum En {
        #[component(name = "e0")]
        E0,
        #[component(name = "e1")]
        E1,
        #[component(name = "e2")]
        E2,
    }

    flags! {
        /// `flags { g0, …, g9 }` (two bytes in memory).
        Fl {
            #[component(name = "g0")]
            const G0;
            #[component(name = "g1")]
            const G1;
            #[component(name = "g2")]
            const G2;
            #[component(name = "g3")]
            const G3;
            #[component(name = "g4")]
            const G4;
            #[component(name = "g5")]
            const G5;
            #[component(name = "g6")]
            const G6;
            #[component(name = "g7")]
            const G7;
            #[component(name = "g8")]
            const G8;
            #[component(name = "g9")]
            const G9;
        }
    }

    fn names(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    fn rec_ty() -> Type {
        Type::Record(vec![
            ("f0".into(), Type::U32),
            ("f1".into(), Type::String),
            ("f2".into(), Type::List(Box::new(Type::U8))),
        ])
    }

    fn var_ty() -> Type {
        Type::Variant(vec![
            ("c0".into(), Some(Type::Float64)),
            ("c1".into(), None),
            ("c2".into(), Some(Type::String)),
        ])
    }

    /// Eleven parameters, 17 flat values: they spill.
    pub type Many = (
        u64,
        String,
        Vec<u32>,
        f32,
        String,
        char,
        Option<u8>,
        String,
        i64,
        String,
        bool,
    );

    fn many_ty() -> Vec<Type> {
        vec![
            Type::U64,
            Type::String,
            Type::List(Box::new(Type::U32)),
            Type::Float32,
            Type::String,
            Type::Char,
            Type::Option(Box::new(Type::U8)),
            Type::String,
            Type::S64,
            Type::String,
            Type::Bool,
        ]
    }

    /// Draws a shape, an encoding and a value from `u` and checks it.
    pub fn run(u: &mut Unstructured<'_>) -> Result<()> {
        let _selector: u8 = u.arbitrary()?;
        let shape = u.int_in_range(0..=10u8)?;
        let enc = u.arbitrary::<u8>()? % 3;
        let e = Engine::default();
        match shape {
            0 => one::<u32>(&e, Type::U32, enc, u.arbitrary()?),
            1 => one::<String>(&e, Type::String, enc, u.arbitrary()?),
            2 => one::<(u8, i16, f32, f64, char)>(
                &e,
                Type::Tuple(vec![
                    Type::U8,
                    Type::S16,
                    Type::Float32,
                    Type::Float64,
                    Type::Char,
                ]),
                enc,
                u.arbitrary()?,
            ),
            3 => one::<Vec<String>>(&e, Type::List(Box::new(Type::String)), enc, u.arbitrary()?),
            4 => one::<Option<Result<u64, String>>>(
                &e,
                Type::Option(Box::new(Type::Result {
                    ok: Some(Box::new(Type::U64)),
                    err: Some(Box::new(Type::String)),
                })),
                enc,
                u.arbitrary()?,
            ),
            5 => one::<Vec<(u32, Option<char>)>>(
                &e,
                Type::List(Box::new(Type::Tuple(vec![
                    Type::U32,
                    Type::Option(Box::new(Type::Char)),
                ]))),
                enc,
                u.arbitrary()?,
            ),
            6 => one::<Rec>(&e, rec_ty(), enc, u.arbitrary()?),
            7 => one::<Var>(&e, var_ty(), enc, u.arbitrary()?),
            8 => one::<Vec<En>>(
                &e,
                Type::List(Box::new(Type::Enum(names("e", 3)))),
                enc,
                u.arbitrary()?,
            ),
            9 => one::<Fl>(
                &e,
                Type::Flags(names("g", 10)),
                enc,
                Fl::from_bits_truncate(u.arbitrary()?),
            ),
            _ => {
                let v: Many = u.arbitrary()?;
                check_typed::<Many, Many>(&e, many_ty(), enc, v.clone(), v, |_, p| Ok(p))
            }
        }
        Ok(())
    }

    /// `run: func(p0: T) -> T`.
    fn one<T>(engine: &Engine, ty: Type, encoding: u8, v: T)
    where
        T: ComponentType + Lift + Lower + Clone + std::fmt::Debug + Send + Sync + 'static,
        (T,): ComponentNamedList + Lift + Lower,
    {
        check_typed::<(T,), T>(engine, vec![ty], encoding, (v.clone(),), v, |_, (x,)| Ok(x))
    }

    /// Builds the component for `types`, defines `echo` with `func_wrap`
    /// and calls `run` through `TypedFunc` twice.
    pub fn check_typed<P, R>(
        engine: &Engine,
        types: Vec<Type>,
        encoding: u8,
        params: P,
        expected: R,
        echo: fn(componentry::StoreContextMut<'_, ()>, P) -> componentry::Result<R>,
    ) where
        P: ComponentNamedList + Lift + Lower + Clone + std::fmt::Debug + Send + Sync + 'static,
        R: ComponentType + Lift + Lower + std::fmt::Debug + 'static,
    {
        let case = Case {
            params: types,
            args: Vec::new(),
            encoding,
        };
        let (wat, component) = compile(engine, &case);
        let mut linker = Linker::<()>::new(engine);
        linker
            .root()
            .func_wrap("echo", echo)
            .unwrap_or_else(|e| panic!("func_wrap: {e}"));
        let mut store = Store::new(engine, ());
        let instance = linker
            .instantiate(&mut store, &component)
            .unwrap_or_else(|e| panic!("instantiate: {e}\n{wat}"));
        let run = instance.get_func(&mut store, "run").expect("run");
        let run = run
            .typed::<P, R>(&mut store)
            .unwrap_or_else(|e| panic!("typed: {e}\n{wat}"));
        let want = format!("{expected:?}");
        for round in 0..2 {
            let got = run
                .call(&mut store, params.clone())
                .unwrap_or_else(|e| panic!("round {round}: run{params:?} failed: {e}\n{wat}"));
            let got = format!("{got:?}");
            assert_eq!(
                got, want,
                "round {round}: typed run returned something else\n{wat}"
            );
        }
    }
}
