//! Conformance runner: runs the component-model spec tests and wasm-tools'
//! component tests (`.wast` files) against componentry.
//!
//! The tests live outside the crate, in `../shared/conformance` (or the
//! directory named by `COMPONENTRY_CONFORMANCE_DIR`); when that directory is
//! absent the test prints that it is skipped and passes.
//!
//! Every directive of every file is run and recorded as passed, failed or
//! skipped (skipped: it tests nothing of ours, e.g. a core-only module or a
//! text-format error caught by the `wast` crate itself). Failures listed in
//! `tests/conformance/known_failures.txt` are expected; the test fails only
//! on a failure that is not listed there (a regression), and reports listed
//! directives that now pass. Run with `COMPONENTRY_BLESS=1` to rewrite the
//! list from the current failures.
//!
//! Suites:
//! - `component-model/test/**.wast`: the spec's tests. Each component is
//!   compiled and instantiated with an empty linker; `invoke`s and asserts
//!   run against the current (or named) instance.
//! - `wasm-tools/tests/**.wast`: wasm-tools' validation tests. wasm-tools
//!   only validates these, so a component passes when it compiles (and,
//!   when it has no imports, also instantiates).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use componentry::{Component, Config, Engine, Error, ErrorKind, Instance, Linker, Store, Val};
use wast::component::WastVal;
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

/// Fuel for each instantiation or call: a guard against runaway loops.
const FUEL: u64 = 50_000_000;

/// Stack size of the threads that run the suites (deeply nested tests).
const STACK_SIZE: usize = 256 << 20;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Spec tests: instantiate every component.
    Spec,
    /// Validation tests: compile every component, instantiate it only if it
    /// has no imports.
    Validate,
}

struct Suite {
    name: &'static str,
    dir: &'static str,
    mode: Mode,
}

const SUITES: &[Suite] = &[
    Suite {
        name: "component-model",
        dir: "component-model/test",
        mode: Mode::Spec,
    },
    Suite {
        name: "wasm-tools",
        dir: "wasm-tools/tests",
        mode: Mode::Validate,
    },
];

/// The outcome of one directive.
enum Outcome {
    Pass,
    /// An `assert_invalid`/`assert_malformed` passed because we reject the
    /// component as unsupported (it may or may not be invalid).
    PassUnsupported,
    /// Failed; `reason` is a short classification, `detail` the full story.
    Fail {
        reason: String,
        detail: String,
        panic: bool,
    },
    /// Not applicable to componentry.
    Skip,
}

fn fail(reason: impl Into<String>, detail: impl Into<String>) -> Outcome {
    Outcome::Fail {
        reason: reason.into(),
        detail: detail.into(),
        panic: false,
    }
}

/// One recorded directive (or a whole file, when `line` is `None`).
struct Record {
    path: String,
    line: Option<usize>,
    outcome: Outcome,
}

impl Record {
    fn key(&self) -> String {
        match self.line {
            Some(l) => format!("{}:{l}", self.path),
            None => self.path.clone(),
        }
    }
}

// ---------------------------------------------------------------------------
// Error classification: short, stable reasons for the known-failures list.

/// Feature flags named by the `;; RUN:` header of a wasm-tools test
/// (`-f cm-async,gc`), the ones it needs enabled.
fn gated_features(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut continued = false;
    for line in text.lines().take_while(|l| l.starts_with(";;")) {
        let is_run = line.contains("RUN") || continued;
        continued = is_run && line.trim_end().ends_with('\\');
        if !is_run {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            let list = if *w == "-f" {
                words.get(i + 1).copied()
            } else {
                w.strip_prefix("-f=")
                    .or_else(|| w.strip_prefix("--features="))
            };
            if let Some(list) = list {
                for f in list.split(',') {
                    if !f.is_empty() && !f.starts_with('-') && !out.iter().any(|o| o == f) {
                        out.push(f.to_string());
                    }
                }
            }
        }
    }
    out
}

/// A feature the `;; RUN:` header of a wasm-tools test turns off
/// (`-f=-cm-async`) that componentry's validator has on (the `async`
/// feature enables `cm-async` and `cm-error-context`).
fn turned_off_but_enabled(text: &str) -> Option<&'static str> {
    let header: Vec<&str> = text
        .lines()
        .take_while(|l| l.starts_with(";;"))
        .filter(|l| l.contains("RUN"))
        .collect();
    ["cm-async", "cm-error-context"].into_iter().find(|f| {
        header.iter().any(|l| {
            l.split(|c: char| c == ',' || c == '=' || c.is_whitespace())
                .any(|w| w.strip_prefix('-') == Some(f))
        })
    })
}

/// A gated feature a spec test needs, from its directory.
fn spec_feature(rel: &str) -> Option<&'static str> {
    if rel.starts_with("component-model/test/async/") {
        Some("cm-async")
    } else {
        None
    }
}

/// Cuts `s` to at most `n` characters, on one line.
fn short(s: &str, n: usize) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= n {
        one_line
    } else {
        let mut out: String = one_line.chars().take(n).collect();
        out.push('…');
        out
    }
}

/// `s` on one line (multi-line messages joined with ` | `).
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A short classification of one of our errors, grouping errors of one
/// cause under one reason.
fn classify(e: &Error) -> String {
    let msg = strip_offset(e.message());
    let kind = match e.kind() {
        ErrorKind::Unsupported => "unsupported",
        ErrorKind::Load { .. } => "load error",
        ErrorKind::Link => "link error",
        ErrorKind::Trap(_) => "trap",
        _ => "error",
    };
    if matches!(e.kind(), ErrorKind::Unsupported | ErrorKind::Load { .. }) {
        if let Some(r) = classify_feature(msg) {
            return format!("{kind}: {r}");
        }
    }
    match e.kind() {
        ErrorKind::Link if msg.contains("is not defined in the linker") => {
            "link error: the component has imports (the runner links none)".to_string()
        }
        ErrorKind::Trap(k) => format!("trap ({}): {}", k.as_str(), short(msg, 60)),
        _ => format!("{kind}: {}", short(msg, 70)),
    }
}

/// Known causes of load/unsupported errors, by message.
fn classify_feature(msg: &str) -> Option<String> {
    if msg.contains("resource") && msg.contains("not implemented") {
        return Some("resources (not implemented)".into());
    }
    if msg.contains("a linker cannot provide core modules or components") {
        return Some("importing core modules or components (a linker cannot provide them)".into());
    }
    if let Some(i) = msg.find("requires the component model async feature") {
        let what = msg[..i].trim();
        return Some(format!("component model async ({what})"));
    }
    if msg.contains("conflicts with previous name") && names_differ_by_hyphens(msg) {
        return Some(
            "wasmparser (0.261, and 0.263, the newest) holds names that differ only in hyphens \
             (`a1`, `a-1`) to conflict; the spec suite's newer rule does not"
                .into(),
        );
    }
    None
}

/// True if the two backquoted names in `msg` differ only in hyphens and case.
fn names_differ_by_hyphens(msg: &str) -> bool {
    let names: Vec<String> = msg
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|n| n.replace('-', "").to_lowercase())
        .collect();
    names.len() == 2 && names[0] == names[1]
}

/// wasmparser messages sometimes carry their own offset; drop it so that
/// reasons stay stable across edits of the test file.
fn strip_offset(msg: &str) -> &str {
    [" (at offset", " (a feature beyond"]
        .iter()
        .filter_map(|p| msg.find(p))
        .min()
        .map_or(msg, |i| &msg[..i])
}

fn err_fail(context: &str, e: &Error) -> Outcome {
    fail(classify(e), format!("{context}: {e}"))
}

// ---------------------------------------------------------------------------
// Value conversion and comparison.

fn to_val(v: &WastVal<'_>) -> Result<Val, String> {
    Ok(match v {
        WastVal::Bool(b) => Val::Bool(*b),
        WastVal::U8(x) => Val::U8(*x),
        WastVal::S8(x) => Val::S8(*x),
        WastVal::U16(x) => Val::U16(*x),
        WastVal::S16(x) => Val::S16(*x),
        WastVal::U32(x) => Val::U32(*x),
        WastVal::S32(x) => Val::S32(*x),
        WastVal::U64(x) => Val::U64(*x),
        WastVal::S64(x) => Val::S64(*x),
        WastVal::F32(x) => Val::Float32(f32::from_bits(x.bits)),
        WastVal::F64(x) => Val::Float64(f64::from_bits(x.bits)),
        WastVal::Char(c) => Val::Char(*c),
        WastVal::String(s) => Val::String((*s).to_string()),
        WastVal::List(vs) => Val::List(vs.iter().map(to_val).collect::<Result<_, _>>()?),
        WastVal::Map(_) => return Err("map values (cm-map) are not supported by Val".into()),
        WastVal::Record(fs) => Val::Record(
            fs.iter()
                .map(|(n, v)| Ok(((*n).to_string(), to_val(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        WastVal::Tuple(vs) => Val::Tuple(vs.iter().map(to_val).collect::<Result<_, _>>()?),
        WastVal::Variant(n, p) => Val::Variant((*n).to_string(), opt_box(p)?),
        WastVal::Enum(n) => Val::Enum((*n).to_string()),
        WastVal::Option(p) => Val::Option(opt_box(p)?),
        WastVal::Result(Ok(p)) => Val::Result(Ok(opt_box(p)?)),
        WastVal::Result(Err(p)) => Val::Result(Err(opt_box(p)?)),
        WastVal::Flags(fs) => Val::Flags(fs.iter().map(|f| (*f).to_string()).collect()),
    })
}

fn opt_box(p: &Option<Box<WastVal<'_>>>) -> Result<Option<Box<Val>>, String> {
    p.as_deref().map(|v| to_val(v).map(Box::new)).transpose()
}

fn arg_to_val(a: &WastArg<'_>) -> Result<Val, String> {
    match a {
        WastArg::Component(v) => to_val(v),
        // `f32.const`/`f64.const` parse as core arguments.
        WastArg::Core(WastArgCore::F32(f)) => Ok(Val::Float32(f32::from_bits(f.bits))),
        WastArg::Core(WastArgCore::F64(f)) => Ok(Val::Float64(f64::from_bits(f.bits))),
        WastArg::Core(other) => Err(format!("core argument {other:?} in a component invoke")),
        _ => Err("unknown argument form".into()),
    }
}

fn f32_matches(expected: &NanPattern<wast::token::F32>, actual: f32) -> bool {
    match expected {
        NanPattern::CanonicalNan => actual.to_bits() & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => actual.is_nan() && actual.to_bits() & 0x0040_0000 != 0,
        // Component values do not preserve NaN payloads: any NaN will do.
        NanPattern::Value(v) => {
            let e = f32::from_bits(v.bits);
            if e.is_nan() {
                actual.is_nan()
            } else {
                e.to_bits() == actual.to_bits()
            }
        }
    }
}

fn f64_matches(expected: &NanPattern<wast::token::F64>, actual: f64) -> bool {
    match expected {
        NanPattern::CanonicalNan => {
            actual.to_bits() & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000
        }
        NanPattern::ArithmeticNan => {
            actual.is_nan() && actual.to_bits() & 0x0008_0000_0000_0000 != 0
        }
        // Component values do not preserve NaN payloads: any NaN will do.
        NanPattern::Value(v) => {
            let e = f64::from_bits(v.bits);
            if e.is_nan() {
                actual.is_nan()
            } else {
                e.to_bits() == actual.to_bits()
            }
        }
    }
}

fn val_matches(expected: &WastVal<'_>, actual: &Val) -> bool {
    fn opt(e: &Option<Box<WastVal<'_>>>, a: &Option<Box<Val>>) -> bool {
        match (e, a) {
            (None, None) => true,
            (Some(e), Some(a)) => val_matches(e, a),
            _ => false,
        }
    }
    fn seq(e: &[WastVal<'_>], a: &[Val]) -> bool {
        e.len() == a.len() && e.iter().zip(a).all(|(e, a)| val_matches(e, a))
    }
    match (expected, actual) {
        (WastVal::Bool(e), Val::Bool(a)) => e == a,
        (WastVal::U8(e), Val::U8(a)) => e == a,
        (WastVal::S8(e), Val::S8(a)) => e == a,
        (WastVal::U16(e), Val::U16(a)) => e == a,
        (WastVal::S16(e), Val::S16(a)) => e == a,
        (WastVal::U32(e), Val::U32(a)) => e == a,
        (WastVal::S32(e), Val::S32(a)) => e == a,
        (WastVal::U64(e), Val::U64(a)) => e == a,
        (WastVal::S64(e), Val::S64(a)) => e == a,
        (WastVal::F32(e), Val::Float32(a)) => f32_matches(&NanPattern::Value(*e), *a),
        (WastVal::F64(e), Val::Float64(a)) => f64_matches(&NanPattern::Value(*e), *a),
        (WastVal::Char(e), Val::Char(a)) => e == a,
        (WastVal::String(e), Val::String(a)) => e == a,
        (WastVal::List(e), Val::List(a)) => seq(e, a),
        (WastVal::Tuple(e), Val::Tuple(a)) => seq(e, a),
        (WastVal::Record(e), Val::Record(a)) => {
            e.len() == a.len()
                && e.iter()
                    .zip(a)
                    .all(|((en, ev), (an, av))| en == an && val_matches(ev, av))
        }
        (WastVal::Variant(en, ep), Val::Variant(an, ap)) => en == an && opt(ep, ap),
        (WastVal::Enum(e), Val::Enum(a)) => e == a,
        (WastVal::Option(e), Val::Option(a)) => opt(e, a),
        (WastVal::Result(Ok(e)), Val::Result(Ok(a))) => opt(e, a),
        (WastVal::Result(Err(e)), Val::Result(Err(a))) => opt(e, a),
        (WastVal::Flags(e), Val::Flags(a)) => {
            let mut e: Vec<&str> = e.to_vec();
            let mut a: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
            e.sort_unstable();
            a.sort_unstable();
            e == a
        }
        _ => false,
    }
}

fn ret_matches(expected: &WastRet<'_>, actual: &Val) -> Result<bool, String> {
    match expected {
        WastRet::Component(v) => Ok(val_matches(v, actual)),
        WastRet::Core(WastRetCore::F32(p)) => {
            Ok(matches!(actual, Val::Float32(a) if f32_matches(p, *a)))
        }
        WastRet::Core(WastRetCore::F64(p)) => {
            Ok(matches!(actual, Val::Float64(a) if f64_matches(p, *a)))
        }
        WastRet::Core(other) => Err(format!(
            "core result {other:?} in a component assert_return"
        )),
        _ => Err("unknown result form".into()),
    }
}

// ---------------------------------------------------------------------------
// Running one file.

/// A component instance slot: ready, a core module (skipped), or failed.
#[derive(Clone)]
enum Inst {
    Ready(Instance),
    Core,
    Failed { reason: String, detail: String },
}

/// A component definition slot.
#[derive(Clone)]
enum Def {
    Ready(Component),
    Core,
    Failed { reason: String, detail: String },
}

/// Why an invoke did not produce a result.
enum CallErr {
    /// The runner could not make the call; the directive fails (or is
    /// skipped, for a core instance).
    Setup(Outcome),
    /// The call returned an error.
    Call(Error),
}

struct FileRunner {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    mode: Mode,
    current: Option<Inst>,
    instances: HashMap<String, Inst>,
    last_def: Option<Def>,
    defs: HashMap<String, Def>,
}

fn is_core(q: &QuoteWat<'_>) -> bool {
    matches!(q, QuoteWat::Wat(Wat::Module(_)) | QuoteWat::QuoteModule(..))
}

/// Encodes a module or component; `Err` is a text-level error of the `wast`
/// crate (not ours).
fn encode(q: &mut QuoteWat<'_>) -> Result<Vec<u8>, String> {
    q.encode().map_err(|e| e.to_string())
}

impl FileRunner {
    fn new(engine: &Engine, mode: Mode) -> Self {
        let mut store = Store::new(engine, ());
        store.set_fuel(FUEL).expect("fuel is enabled");
        FileRunner {
            engine: engine.clone(),
            store,
            linker: Linker::new(engine),
            mode,
            current: None,
            instances: HashMap::new(),
            last_def: None,
            defs: HashMap::new(),
        }
    }

    fn refuel(&mut self) {
        self.store.set_fuel(FUEL).expect("fuel is enabled");
    }

    fn compile(&self, bytes: &[u8]) -> Result<Component, Error> {
        Component::new(&self.engine, bytes)
    }

    fn instantiate(&mut self, c: &Component) -> Result<Instance, Error> {
        self.refuel();
        self.linker.instantiate(&mut self.store, c)
    }

    fn set_instance(&mut self, name: Option<&str>, inst: Inst) {
        if let Some(n) = name {
            self.instances.insert(n.to_string(), inst.clone());
        }
        self.current = Some(inst);
    }

    fn set_def(&mut self, name: Option<&str>, def: Def) {
        if let Some(n) = name {
            self.defs.insert(n.to_string(), def.clone());
        }
        self.last_def = Some(def);
    }

    /// `(component ...)`: compile and instantiate.
    fn module(&mut self, mut q: QuoteWat<'_>) -> Outcome {
        let name = q.name().map(|id| id.name().to_string());
        let name = name.as_deref();
        if is_core(&q) {
            self.set_instance(name, Inst::Core);
            return Outcome::Skip;
        }
        let bytes = match encode(&mut q) {
            Ok(b) => b,
            Err(e) => {
                let (reason, detail) = (
                    "wast text error".to_string(),
                    format!("encoding the component failed: {e}"),
                );
                self.set_instance(
                    name,
                    Inst::Failed {
                        reason: reason.clone(),
                        detail: detail.clone(),
                    },
                );
                return fail(reason, detail);
            }
        };
        let c = match self.compile(&bytes) {
            Ok(c) => c,
            Err(e) => {
                self.set_instance(
                    name,
                    Inst::Failed {
                        reason: classify(&e),
                        detail: format!("compile: {e}"),
                    },
                );
                return err_fail("compile", &e);
            }
        };
        if self.mode == Mode::Validate && c.imports().len() > 0 {
            // Validation tests: a component with imports is only compiled.
            self.set_instance(
                name,
                Inst::Failed {
                    reason: "component has imports (not instantiated)".into(),
                    detail: "validation-only test component with imports".into(),
                },
            );
            return Outcome::Pass;
        }
        match self.instantiate(&c) {
            Ok(i) => {
                self.set_instance(name, Inst::Ready(i));
                Outcome::Pass
            }
            Err(e) => {
                self.set_instance(
                    name,
                    Inst::Failed {
                        reason: classify(&e),
                        detail: format!("instantiate: {e}"),
                    },
                );
                err_fail("instantiate", &e)
            }
        }
    }

    /// `(component definition ...)`: compile only.
    fn definition(&mut self, mut q: QuoteWat<'_>) -> Outcome {
        let name = q.name().map(|id| id.name().to_string());
        let name = name.as_deref();
        if is_core(&q) {
            self.set_def(name, Def::Core);
            return Outcome::Skip;
        }
        let bytes = match encode(&mut q) {
            Ok(b) => b,
            Err(e) => {
                let (reason, detail) = (
                    "wast text error".to_string(),
                    format!("encoding the component failed: {e}"),
                );
                self.set_def(
                    name,
                    Def::Failed {
                        reason: reason.clone(),
                        detail: detail.clone(),
                    },
                );
                return fail(reason, detail);
            }
        };
        match self.compile(&bytes) {
            Ok(c) => {
                self.set_def(name, Def::Ready(c));
                Outcome::Pass
            }
            Err(e) => {
                self.set_def(
                    name,
                    Def::Failed {
                        reason: classify(&e),
                        detail: format!("compile: {e}"),
                    },
                );
                err_fail("compile", &e)
            }
        }
    }

    /// `(component instance $i $def)`.
    fn module_instance(&mut self, instance: Option<&str>, module: Option<&str>) -> Outcome {
        let def = match module {
            Some(m) => self.defs.get(m).cloned(),
            None => self.last_def.clone(),
        };
        let Some(def) = def else {
            self.set_instance(
                instance,
                Inst::Failed {
                    reason: "runner: unknown definition".into(),
                    detail: format!("no definition {module:?}"),
                },
            );
            return fail(
                "runner: unknown definition",
                format!("no definition {module:?}"),
            );
        };
        match def {
            Def::Core => {
                self.set_instance(instance, Inst::Core);
                Outcome::Skip
            }
            Def::Failed { reason, detail } => {
                self.set_instance(
                    instance,
                    Inst::Failed {
                        reason: reason.clone(),
                        detail: detail.clone(),
                    },
                );
                fail(reason, format!("definition unavailable: {detail}"))
            }
            Def::Ready(c) => match self.instantiate(&c) {
                Ok(i) => {
                    self.set_instance(instance, Inst::Ready(i));
                    Outcome::Pass
                }
                Err(e) => {
                    self.set_instance(
                        instance,
                        Inst::Failed {
                            reason: classify(&e),
                            detail: format!("instantiate: {e}"),
                        },
                    );
                    err_fail("instantiate", &e)
                }
            },
        }
    }

    /// Calls an export; `Ok` holds the result, if the function has one.
    fn call(&mut self, inv: &WastInvoke<'_>) -> Result<Option<Val>, CallErr> {
        let inst = match inv.module {
            Some(id) => self.instances.get(id.name()).cloned(),
            None => self.current.clone(),
        };
        let inst = match inst {
            None => {
                return Err(CallErr::Setup(fail(
                    "runner: no instance",
                    format!(
                        "no instance {:?} to invoke `{}` on",
                        inv.module.map(|i| i.name()),
                        inv.name
                    ),
                )))
            }
            Some(Inst::Core) => return Err(CallErr::Setup(Outcome::Skip)),
            Some(Inst::Failed { reason, detail }) => {
                return Err(CallErr::Setup(fail(
                    reason,
                    format!("instance unavailable: {detail}"),
                )))
            }
            Some(Inst::Ready(i)) => i,
        };
        let Some(func) = inst.get_func(&mut self.store, inv.name) else {
            return Err(CallErr::Setup(fail(
                "runner: export not found",
                format!("no exported function `{}`", inv.name),
            )));
        };
        let params = match inv
            .args
            .iter()
            .map(arg_to_val)
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(p) => p,
            Err(e) => return Err(CallErr::Setup(fail("runner: unsupported argument", e))),
        };
        let mut results: Vec<Val> = func.ty().result.iter().map(|_| Val::Bool(false)).collect();
        self.refuel();
        match func.call(&mut self.store, &params, &mut results) {
            Ok(()) => Ok(results.pop()),
            Err(e) => Err(CallErr::Call(e)),
        }
    }

    fn invoke(&mut self, inv: &WastInvoke<'_>) -> Outcome {
        match self.call(inv) {
            Ok(_) => Outcome::Pass,
            Err(CallErr::Setup(o)) => o,
            Err(CallErr::Call(e)) => err_fail(&format!("invoke `{}`", inv.name), &e),
        }
    }

    fn assert_return(&mut self, exec: WastExecute<'_>, results: &[WastRet<'_>]) -> Outcome {
        let inv = match exec {
            WastExecute::Invoke(inv) => inv,
            WastExecute::Wat(w) => {
                return match self.module(QuoteWat::Wat(w)) {
                    Outcome::Pass if !results.is_empty() => fail(
                        "runner: results of an instantiation",
                        "assert_return with a module and results",
                    ),
                    o => o,
                }
            }
            WastExecute::Get { .. } => {
                return fail("runner: `get` is not supported", "assert_return (get ...)")
            }
        };
        let got = match self.call(&inv) {
            Ok(v) => v,
            Err(CallErr::Setup(o)) => return o,
            Err(CallErr::Call(e)) => return err_fail(&format!("invoke `{}`", inv.name), &e),
        };
        let ok = match (results, &got) {
            ([], None) => Ok(true),
            ([e], Some(a)) => ret_matches(e, a),
            _ => Ok(false),
        };
        match ok {
            Ok(true) => Outcome::Pass,
            Ok(false) => fail(
                "wrong result",
                format!(
                    "`{}` returned {} but expected {:?}",
                    inv.name,
                    got.map_or("nothing".to_string(), |v| format!("{v} ({v:?})")),
                    results
                ),
            ),
            Err(e) => fail("runner: unsupported expected value", e),
        }
    }

    fn assert_trap(&mut self, exec: WastExecute<'_>, message: &str) -> Outcome {
        let (what, r) = match exec {
            WastExecute::Invoke(inv) => (
                format!("invoke `{}`", inv.name),
                self.call(&inv).map(|_| ()),
            ),
            WastExecute::Wat(w) => {
                let mut q = QuoteWat::Wat(w);
                if is_core(&q) {
                    return Outcome::Skip;
                }
                let bytes = match encode(&mut q) {
                    Ok(b) => b,
                    Err(e) => return fail("wast text error", e),
                };
                let c = match self.compile(&bytes) {
                    Ok(c) => c,
                    Err(e) => return err_fail("compile", &e),
                };
                (
                    "instantiate".to_string(),
                    self.instantiate(&c).map(|_| ()).map_err(CallErr::Call),
                )
            }
            WastExecute::Get { .. } => {
                return fail("runner: `get` is not supported", "assert_trap (get ...)")
            }
        };
        match r {
            Err(CallErr::Setup(o)) => o,
            Err(CallErr::Call(e)) if e.is_trap() => Outcome::Pass,
            Err(CallErr::Call(e)) => fail(
                format!("expected a trap, got {}", classify(&e)),
                format!("{what}: expected trap \"{message}\", got error: {e}"),
            ),
            Ok(()) => fail(
                format!("expected a trap (\"{}\"), succeeded", short(message, 60)),
                format!("{what}: expected trap \"{message}\", but it succeeded"),
            ),
        }
    }

    fn assert_exhaustion(&mut self, inv: &WastInvoke<'_>, message: &str) -> Outcome {
        match self.call(inv) {
            Err(CallErr::Setup(o)) => o,
            // Stack overflow, fuel: any resource trap will do.
            Err(CallErr::Call(e)) if e.is_trap() => Outcome::Pass,
            Err(CallErr::Call(e)) => fail(
                format!("expected exhaustion, got {}", classify(&e)),
                format!("expected \"{message}\", got {e}"),
            ),
            Ok(_) => fail(
                "expected exhaustion, succeeded",
                format!("expected \"{message}\""),
            ),
        }
    }

    /// `assert_invalid`/`assert_malformed`: compiling must fail.
    fn assert_rejected(&mut self, mut q: QuoteWat<'_>, message: &str) -> Outcome {
        if is_core(&q) {
            return Outcome::Skip;
        }
        let bytes = match encode(&mut q) {
            Ok(b) => b,
            // Rejected by the text format already: nothing of ours tested.
            Err(_) => return Outcome::Skip,
        };
        match self.compile(&bytes) {
            Err(e) if matches!(e.kind(), ErrorKind::Unsupported) => Outcome::PassUnsupported,
            Err(_) => Outcome::Pass,
            Ok(_) => fail(
                format!(
                    "accepted invalid component (expected \"{}\")",
                    short(message, 60)
                ),
                format!("compiled, but expected failure \"{message}\""),
            ),
        }
    }

    fn assert_unlinkable(&mut self, w: Wat<'_>, message: &str) -> Outcome {
        let mut q = QuoteWat::Wat(w);
        if is_core(&q) {
            return Outcome::Skip;
        }
        let bytes = match encode(&mut q) {
            Ok(b) => b,
            Err(e) => return fail("wast text error", e),
        };
        let c = match self.compile(&bytes) {
            Ok(c) => c,
            Err(e) => return err_fail("compile", &e),
        };
        match self.instantiate(&c) {
            Err(e) if matches!(e.kind(), ErrorKind::Link) => Outcome::Pass,
            Err(e) => fail(
                format!("expected a link error, got {}", classify(&e)),
                format!("expected \"{message}\", got {e}"),
            ),
            Ok(_) => fail(
                "expected a link error, linked",
                format!("expected \"{message}\""),
            ),
        }
    }

    fn directive(&mut self, d: WastDirective<'_>) -> Outcome {
        match d {
            WastDirective::Module(q) => self.module(q),
            WastDirective::ModuleDefinition(q) => self.definition(q),
            WastDirective::ModuleInstance {
                instance, module, ..
            } => self.module_instance(instance.map(|i| i.name()), module.map(|m| m.name())),
            WastDirective::Invoke(inv) => self.invoke(&inv),
            WastDirective::AssertReturn { exec, results, .. } => self.assert_return(exec, &results),
            WastDirective::AssertTrap { exec, message, .. } => self.assert_trap(exec, message),
            WastDirective::AssertExhaustion { call, message, .. } => {
                self.assert_exhaustion(&call, message)
            }
            WastDirective::AssertInvalid {
                module, message, ..
            }
            | WastDirective::AssertMalformed {
                module, message, ..
            } => self.assert_rejected(module, message),
            WastDirective::AssertUnlinkable {
                module, message, ..
            } => self.assert_unlinkable(module, message),
            WastDirective::Register { .. } => {
                fail("runner: `register` is not supported", "register")
            }
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => Outcome::Skip,
            WastDirective::AssertException { .. } => {
                fail("runner: assert_exception", "assert_exception")
            }
            WastDirective::AssertSuspension { .. } => {
                fail("runner: assert_suspension", "assert_suspension")
            }
            WastDirective::Thread(_) | WastDirective::Wait { .. } => {
                fail("runner: threads are not supported", "thread/wait")
            }
        }
    }
}

thread_local! {
    /// The message of the last panic on this thread, from the panic hook.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = LAST_PANIC.with(|p| p.borrow_mut().take()) {
        return s;
    }
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// Runs one `.wast` file, appending a record per directive.
fn run_file(engine: &Engine, mode: Mode, root: &Path, path: &Path, out: &mut Vec<Record>) {
    let rel = path
        .strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/");
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            out.push(Record {
                path: rel,
                line: None,
                outcome: fail("runner: unreadable file", e.to_string()),
            });
            return;
        }
    };
    let features = gated_features(&text);
    let feature_tag = if let Some(f) = spec_feature(&rel) {
        format!("gated feature {f}: ")
    } else if !features.is_empty() {
        format!("gated feature {}: ", features.join(","))
    } else {
        String::new()
    };
    // Feature-gated tests: name the feature on errors that reject it.
    let tag = |o: Outcome| match o {
        Outcome::Fail {
            reason,
            detail,
            panic,
        } if !panic
            && ["unsupported", "load error", "wast"]
                .iter()
                .any(|p| reason.starts_with(p)) =>
        {
            Outcome::Fail {
                reason: format!("{feature_tag}{reason}"),
                detail,
                panic,
            }
        }
        Outcome::Fail {
            reason,
            detail,
            panic,
        } if !panic
            && (reason.starts_with("accepted invalid")
                || reason.starts_with("compiled, but expected failure")) =>
        {
            match turned_off_but_enabled(&text) {
                Some(f) => Outcome::Fail {
                    reason: format!(
                        "the test turns off {f}, which componentry's `async` feature turns on"
                    ),
                    detail,
                    panic,
                },
                // The test runs without `cm-more-async-builtins`, which
                // componentry turns on with `cm-async` (the spec's
                // reference tests assume it).
                None if detail.contains("more async builtins feature") => Outcome::Fail {
                    reason: "the test runs without cm-more-async-builtins, which componentry's \
                             `async` feature turns on"
                        .to_string(),
                    detail,
                    panic,
                },
                None => Outcome::Fail {
                    reason,
                    detail,
                    panic,
                },
            }
        }
        o => o,
    };
    let buf = match ParseBuffer::new(&text) {
        Ok(b) => b,
        Err(e) => {
            out.push(Record {
                path: rel,
                line: None,
                outcome: tag(fail("wast parse error", e.to_string())),
            });
            return;
        }
    };
    let wast = match parser::parse::<Wast>(&buf) {
        Ok(w) => w,
        Err(mut e) => {
            e.set_path(path);
            e.set_text(&text);
            out.push(Record {
                path: rel,
                line: None,
                outcome: tag(fail(
                    format!("wast parse error: {}", short(e.message().as_str(), 60)),
                    e.to_string(),
                )),
            });
            return;
        }
    };
    // Files without any component test core wasm only: not ours.
    let has_component = text.contains("(component");
    let mut runner = FileRunner::new(engine, mode);
    for d in wast.directives {
        let line = d.span().linecol_in(&text).0 + 1;
        let outcome = if !has_component {
            Outcome::Skip
        } else {
            match catch_unwind(AssertUnwindSafe(|| runner.directive(d))) {
                Ok(o) => tag(o),
                Err(payload) => {
                    let msg = panic_message(&*payload);
                    Outcome::Fail {
                        reason: format!("PANIC: {}", short(&msg, 90)),
                        detail: format!("PANIC: {msg}"),
                        panic: true,
                    }
                }
            }
        };
        out.push(Record {
            path: rel.clone(),
            line: Some(line),
            outcome,
        });
    }
}

fn wast_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            wast_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "wast") {
            out.push(p);
        }
    }
}

fn run_suite(root: &Path, suite: &Suite) -> Vec<Record> {
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config);
    let mut files = Vec::new();
    wast_files(&root.join(suite.dir), &mut files);
    let mut out = Vec::new();
    for f in &files {
        let mut recs = Vec::new();
        // Directives catch their own panics; this catches the rest.
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| {
            run_file(&engine, suite.mode, root, f, &mut recs)
        })) {
            let msg = panic_message(&*payload);
            recs.push(Record {
                path: f
                    .strip_prefix(root)
                    .unwrap_or(f)
                    .to_string_lossy()
                    .replace('\\', "/"),
                line: None,
                outcome: Outcome::Fail {
                    reason: format!("PANIC: {}", short(&msg, 90)),
                    detail: format!("PANIC outside a directive: {msg}"),
                    panic: true,
                },
            });
        }
        out.append(&mut recs);
    }
    out
}

// ---------------------------------------------------------------------------
// Known failures.

#[derive(Default)]
struct Known {
    /// Whole-file entries: path → reason.
    files: HashMap<String, String>,
    /// Directive entries: (path, line) → reason.
    lines: HashMap<(String, usize), String>,
}

fn known_failures_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/known_failures.txt")
}

fn load_known(path: &Path) -> Known {
    let mut known = Known::default();
    let Ok(text) = std::fs::read_to_string(path) else {
        return known;
    };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, reason) = match line.split_once(" #") {
            Some((k, r)) => (k.trim(), r.trim().to_string()),
            None => (line, String::new()),
        };
        match key.rsplit_once(':') {
            Some((p, l)) if l.parse::<usize>().is_ok() => {
                known
                    .lines
                    .insert((p.to_string(), l.parse().unwrap()), reason);
            }
            _ => {
                known.files.insert(key.to_string(), reason);
            }
        }
    }
    known
}

/// Reasons written by hand (an analysis the runner cannot make) start
/// with one of these; re-blessing keeps them while the directive or file
/// still fails.
const HAND_WRITTEN: [&str; 2] = ["note:", "async suite:"];

/// Writes the known-failures list from the current failures. A file whose
/// directives all fail gets one whole-file entry. Hand-written reasons of
/// the old list (see [`HAND_WRITTEN`]) are kept.
fn bless(path: &Path, records: &[Record], old: &Known) {
    let hand = |r: Option<&String>| {
        r.filter(|r| HAND_WRITTEN.iter().any(|p| r.starts_with(p)))
            .cloned()
    };
    struct FileStat<'a> {
        passed: usize,
        failed: Vec<&'a Record>,
    }
    let mut by_file: BTreeMap<&str, FileStat<'_>> = BTreeMap::new();
    for r in records {
        let st = by_file.entry(&r.path).or_insert(FileStat {
            passed: 0,
            failed: Vec::new(),
        });
        match &r.outcome {
            Outcome::Pass | Outcome::PassUnsupported => st.passed += 1,
            Outcome::Fail { .. } => st.failed.push(r),
            Outcome::Skip => {}
        }
    }
    let mut text = String::new();
    text.push_str(
        "# Known failures of the conformance runner (tests/conformance.rs).\n\
         #\n\
         # One entry per line: `<path>:<line> # <reason>` for a directive (the line\n\
         # of the directive in the .wast file, path relative to the conformance\n\
         # directory), or `<path> # <reason>` for a whole file. A failure not\n\
         # listed here fails the test; a listed one that passes is reported.\n\
         #\n\
         # Regenerate with: COMPONENTRY_BLESS=1 cargo test --test conformance\n\
         # (a reason written by hand, starting with `note:` or `async suite:`,\n\
         # is kept while its directive still fails)\n\n",
    );
    for (file, st) in &by_file {
        if st.failed.is_empty() {
            continue;
        }
        let reason_of = |r: &Record| match &r.outcome {
            Outcome::Fail { reason, .. } => reason.clone(),
            _ => String::new(),
        };
        let whole_file = st.passed == 0 || st.failed.iter().any(|r| r.line.is_none());
        if whole_file {
            // The most common reason.
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for r in &st.failed {
                *counts.entry(reason_of(r)).or_default() += 1;
            }
            let reason = hand(old.files.get(*file)).unwrap_or_else(|| {
                counts
                    .iter()
                    .max_by_key(|(r, n)| (**n, std::cmp::Reverse((*r).clone())))
                    .map(|(r, _)| r.clone())
                    .unwrap_or_default()
            });
            let _ = writeln!(text, "{file} # {reason}");
        } else {
            for r in &st.failed {
                let kept = r
                    .line
                    .and_then(|l| hand(old.lines.get(&(r.path.clone(), l))));
                let reason = kept.unwrap_or_else(|| reason_of(r));
                let _ = writeln!(text, "{} # {}", r.key(), reason);
            }
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create tests/conformance");
    }
    std::fs::write(path, text).expect("write known failures");
}

// ---------------------------------------------------------------------------
// The test.

fn conformance_dir() -> PathBuf {
    match std::env::var_os("COMPONENTRY_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"),
    }
}

/// Prints to stderr, bypassing the test harness's output capture: the
/// summary is shown even when the test passes.
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

#[test]
fn conformance() {
    let root = conformance_dir();
    if !root.is_dir() {
        report!("conformance: {} not found, skipped", root.display());
        return;
    }
    let root = root.canonicalize().unwrap_or(root);

    // Record panic messages (with their location) instead of printing them
    // from the hook; they are reported below with the directive.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(info.to_string()));
    }));

    // Each suite on its own thread, with a big stack.
    let handles: Vec<_> = SUITES
        .iter()
        .map(|suite| {
            let root = root.clone();
            std::thread::Builder::new()
                .name(suite.name.to_string())
                .stack_size(STACK_SIZE)
                .spawn(move || run_suite(&root, suite))
                .expect("spawn suite thread")
        })
        .collect();
    let results: Vec<Vec<Record>> = handles
        .into_iter()
        .map(|h| h.join().expect("suite thread"))
        .collect();
    std::panic::set_hook(default_hook);

    let known_path = known_failures_path();
    let known = load_known(&known_path);
    let verbose = std::env::var_os("COMPONENTRY_CONFORMANCE_VERBOSE").is_some();
    let is_known = |r: &Record| {
        known.files.contains_key(&r.path)
            || r.line
                .is_some_and(|l| known.lines.contains_key(&(r.path.clone(), l)))
    };

    let (mut total_pass, mut total_fail, mut total_skip) = (0, 0, 0);
    let mut new_failures = 0;
    let mut panics = 0;
    let mut summary = Vec::new();
    for (suite, records) in SUITES.iter().zip(&results) {
        if !root.join(suite.dir).is_dir() {
            report!(
                "{}: {} not found, skipped",
                suite.name,
                root.join(suite.dir).display()
            );
            continue;
        }
        let (mut pass, mut by_unsupported, mut failed, mut skip, mut known_n, mut new_n) =
            (0, 0, 0, 0, 0, 0);
        let mut failed_files: HashMap<&str, usize> = HashMap::new();
        for r in records {
            match &r.outcome {
                Outcome::Pass | Outcome::PassUnsupported => {
                    pass += 1;
                    if matches!(r.outcome, Outcome::PassUnsupported) {
                        by_unsupported += 1;
                    }
                    if verbose {
                        report!("ok {}", r.key());
                    }
                    if r.line
                        .is_some_and(|l| known.lines.contains_key(&(r.path.clone(), l)))
                    {
                        report!("now passes, remove from known failures: {}", r.key());
                    }
                }
                Outcome::Skip => {
                    skip += 1;
                    if verbose {
                        report!("skipped {}", r.key());
                    }
                }
                Outcome::Fail {
                    reason,
                    detail,
                    panic,
                } => {
                    failed += 1;
                    *failed_files.entry(&r.path).or_default() += 1;
                    if *panic {
                        panics += 1;
                        report!("!!! PANIC in {}: {}", r.key(), one_line(detail));
                    }
                    if is_known(r) {
                        known_n += 1;
                        if verbose {
                            report!("known failure {} [{reason}]: {}", r.key(), one_line(detail));
                        }
                    } else {
                        new_n += 1;
                        println!("FAIL {}: {}", r.key(), one_line(detail));
                    }
                }
            }
        }
        // Whole files listed that pass now.
        let mut files_seen: Vec<&str> = records.iter().map(|r| r.path.as_str()).collect();
        files_seen.sort_unstable();
        files_seen.dedup();
        for f in files_seen {
            if known.files.contains_key(f) && !failed_files.contains_key(f) {
                report!("now passes, remove from known failures: {f}");
            }
        }
        summary.push(format!(
            "{}: {pass} passed, {failed} failed, {skip} skipped ({known_n} known failures, {new_n} new; \
             {by_unsupported} passes are assert_invalid/assert_malformed rejected as unsupported)",
            suite.name
        ));
        total_pass += pass;
        total_fail += failed;
        total_skip += skip;
        new_failures += new_n;
    }
    for line in &summary {
        report!("{line}");
    }
    report!("conformance: {total_pass} passed, {total_fail} failed, {total_skip} skipped");
    if panics > 0 {
        report!("!!! {panics} directive(s) panicked: these are bugs in componentry");
    }

    if std::env::var_os("COMPONENTRY_BLESS").is_some_and(|v| v == "1") {
        let all: Vec<Record> = results.into_iter().flatten().collect();
        bless(&known_path, &all, &known);
        report!("conformance: wrote {}", known_path.display());
        return;
    }
    assert!(
        new_failures == 0,
        "{new_failures} conformance failure(s) not in tests/conformance/known_failures.txt \
         (see the FAIL lines above; COMPONENTRY_BLESS=1 regenerates the list)"
    );
}
