//! `Engine` and `Config`: the wasmi engine components are compiled for.

use alloc::sync::Arc;

/// Settings for an [`Engine`]: fuel metering, limits, and the
/// deterministic profile. Every limit is enforced with an error or a trap
/// whose message names the limit.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub(crate) consume_fuel: bool,
    pub(crate) deterministic: bool,
    pub(crate) limits: Limits,
}

/// The limits of a [`Config`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub max_memory_bytes: Option<usize>,
    pub max_table_elements: Option<usize>,
    pub max_handles: u32,
    pub max_lift_bytes: u32,
    pub max_type_depth: u32,
    pub max_instances: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_memory_bytes: None,
            max_table_elements: None,
            max_handles: crate::resources::MAX_HANDLES,
            max_lift_bytes: crate::abi::MAX_BYTE_LENGTH,
            max_type_depth: crate::types::MAX_TYPE_DEPTH,
            max_instances: 10_000,
        }
    }
}

impl Config {
    /// The default configuration: no fuel metering, the spec's limits
    /// (2^28-1 handles per instance and bytes per string or list), value
    /// types nested at most 100 deep, at most 10,000 component instances per
    /// store, unlimited memory and table growth.
    pub fn new() -> Self {
        Self::default()
    }

    /// The deterministic profile: NaNs are canonicalized when they cross the
    /// boundary in both directions (lifting always canonicalizes; this adds
    /// lowering). With the same component, inputs, host behaviour and fuel,
    /// every run then gives bitwise-identical results and remaining fuel.
    /// Core modules are compiled eagerly (lazy compilation charges fuel on a
    /// function's first call in an engine). The host must still avoid
    /// nondeterminism of its own (clocks, randomness, iteration over
    /// unordered maps, threads).
    pub fn deterministic(&mut self, enable: bool) -> &mut Self {
        self.deterministic = enable;
        self
    }

    /// The largest size in bytes a linear memory may grow to; growing past
    /// it traps ([`TrapKind::GrowthOperationLimited`](crate::TrapKind)).
    pub fn max_memory_bytes(&mut self, bytes: usize) -> &mut Self {
        self.limits.max_memory_bytes = Some(bytes);
        self
    }

    /// The largest number of elements a table may grow to; growing past it traps.
    pub fn max_table_elements(&mut self, elements: usize) -> &mut Self {
        self.limits.max_table_elements = Some(elements);
        self
    }

    /// The most resource handles one component instance may hold at once
    /// (at most 2^28-1, the spec's limit); past it, the call traps.
    pub fn max_handles_per_instance(&mut self, handles: u32) -> &mut Self {
        self.limits.max_handles = handles.min(crate::resources::MAX_HANDLES);
        self
    }

    /// The most bytes one string or list may have when lifted from a guest
    /// (at most 2^28-1, the spec's limit); a longer one traps.
    pub fn max_lift_bytes(&mut self, bytes: u32) -> &mut Self {
        self.limits.max_lift_bytes = bytes.min(crate::abi::MAX_BYTE_LENGTH);
        self
    }

    /// How deeply value types may nest (default and maximum 100); a component
    /// with deeper types fails to load.
    pub fn max_type_depth(&mut self, depth: u32) -> &mut Self {
        self.limits.max_type_depth = depth.min(crate::types::MAX_TYPE_DEPTH);
        self
    }

    /// The most component instances (nested ones included) one store may
    /// create; instantiating past it fails.
    pub fn max_instances(&mut self, instances: usize) -> &mut Self {
        self.limits.max_instances = instances;
        self
    }

    /// Meter execution with fuel (see wasmi's fuel metering). Stores of such
    /// an engine start with no fuel: set it with [`Store::set_fuel`](crate::Store::set_fuel).
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Self {
        self.consume_fuel = enable;
        self
    }
}

/// The engine that compiles and runs components: a wasmi engine plus the
/// component-layer configuration. Cloning is cheap and shares the engine.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: wasmi::Engine,
    pub(crate) config: Arc<Config>,
}

impl Engine {
    /// Creates an engine with `config`.
    pub fn new(config: &Config) -> Self {
        let mut wc = wasmi::Config::default();
        wc.consume_fuel(config.consume_fuel);
        if config.deterministic {
            // Lazy translation charges fuel on a function's first call in
            // the engine, so remaining fuel would depend on earlier runs.
            wc.compilation_mode(wasmi::CompilationMode::Eager);
        }
        Engine {
            inner: wasmi::Engine::new(&wc),
            config: Arc::new(config.clone()),
        }
    }

    /// The configuration this engine was created with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// True if `self` and `other` are the same engine.
    pub fn same(&self, other: &Engine) -> bool {
        wasmi::Engine::same(&self.inner, &other.inner)
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(&Config::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec::Vec;

    /// One core module per proposal, as WAT.
    const PROPOSALS: &[(&str, &str)] = &[
        ("mutable-global", r#"(module (import "a" "b" (global (mut i32))))"#),
        ("sign-extension", "(module (func (param i32) (result i32) local.get 0 i32.extend8_s))"),
        ("saturating-float-to-int", "(module (func (param f32) (result i32) local.get 0 i32.trunc_sat_f32_s))"),
        ("multi-value", "(module (func (result i32 i32) i32.const 1 i32.const 2))"),
        ("multi-memory", "(module (memory 1) (memory 1))"),
        ("bulk-memory", "(module (memory 1) (func i32.const 0 i32.const 0 i32.const 0 memory.copy))"),
        ("reference-types", "(module (table 1 externref) (func (result externref) i32.const 0 table.get 0))"),
        ("tail-call", "(module (func $f return_call $f))"),
        ("extended-const", "(module (global i32 (i32.add (i32.const 1) (i32.const 2))))"),
        ("floats", "(module (func (result f32) f32.const 1))"),
        ("custom-page-sizes", "(module (memory 1 (pagesize 1)))"),
        #[cfg(feature = "memory64")]
        ("memory64", "(module (memory i64 1))"),
        ("wide-arithmetic", "(module (func (param i64 i64 i64 i64) (result i64 i64) local.get 0 local.get 1 local.get 2 local.get 3 i64.add128))"),
        ("simd", "(module (func (result v128) v128.const i64x2 0 0))"),
        ("threads", "(module (memory 1 1 shared))"),
        ("exceptions", "(module (tag))"),
        ("gc", "(module (type (struct)))"),
    ];

    /// Core modules are validated once, by the component validator with
    /// `features()`, and handed to wasmi unchecked: every proposal must be
    /// accepted by both or by neither.
    #[cfg(feature = "validate")]
    #[test]
    fn validator_features_are_wasmi_features() {
        let engine = Engine::default();
        let mut disagree = Vec::new();
        for (name, wat) in PROPOSALS {
            let wasm = wat::parse_str(wat).expect("test WAT parses");
            let ours = wasmparser::Validator::new_with_features(crate::component::features())
                .validate_all(&wasm)
                .is_ok();
            let wasmi = wasmi::Module::new(&engine.inner, &wasm).is_ok();
            if ours != wasmi {
                disagree.push(alloc::format!("{name}: validator {ours}, wasmi {wasmi}"));
            }
        }
        assert!(
            disagree.is_empty(),
            "{}",
            disagree.join(String::from("; ").as_str())
        );
    }
}
