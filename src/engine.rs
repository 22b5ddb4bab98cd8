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

/// The default of [`Config::max_call_depth`]: safe on a 2 MiB thread in
/// debug builds (the most stack a level takes; see the README's "Limits").
pub const DEFAULT_MAX_CALL_DEPTH: u32 = 100;

/// The default of [`Config::max_lifted_bytes_per_call`]: 256 MiB.
pub const DEFAULT_MAX_LIFTED_BYTES_PER_CALL: u64 = 256 << 20;

/// The default of [`Config::max_resource_types`]: 100,000.
pub const DEFAULT_MAX_RESOURCE_TYPES: u32 = 100_000;

/// The default of [`Config::max_tasks`]: 10,000 tasks in progress per store.
#[cfg(feature = "async")]
pub const DEFAULT_MAX_TASKS: u32 = 10_000;

/// The limits of a [`Config`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub max_memory_bytes: Option<usize>,
    pub max_table_elements: Option<usize>,
    pub max_handles: u32,
    pub max_lift_bytes: u32,
    pub max_type_depth: u32,
    pub max_instances: usize,
    pub max_call_depth: u32,
    pub max_lifted_bytes_per_call: u64,
    pub max_resource_types: u32,
    #[cfg(feature = "async")]
    pub max_tasks: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_memory_bytes: None,
            max_table_elements: None,
            max_handles: crate::resources::DEFAULT_MAX_HANDLES_PER_INSTANCE,
            max_lift_bytes: crate::abi::MAX_BYTE_LENGTH,
            max_type_depth: crate::types::MAX_TYPE_DEPTH,
            max_instances: 10_000,
            max_call_depth: DEFAULT_MAX_CALL_DEPTH,
            max_lifted_bytes_per_call: DEFAULT_MAX_LIFTED_BYTES_PER_CALL,
            max_resource_types: DEFAULT_MAX_RESOURCE_TYPES,
            #[cfg(feature = "async")]
            max_tasks: DEFAULT_MAX_TASKS,
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

    /// The deterministic profile: with the same component, inputs, host
    /// behaviour and fuel, every run gives identical results and remaining
    /// fuel. Core modules are compiled eagerly (lazy compilation charges
    /// fuel on a function's first call in an engine).
    ///
    /// NaNs are canonicalized whenever a float crosses the component
    /// boundary, in both directions and through both APIs, profile or not.
    /// NaNs that core code produces and keeps (stores to memory, reinterprets
    /// as integers) have payloads that may differ between machines (x86 and
    /// Arm differ); build with the cargo feature `deterministic` (wasmi's)
    /// to canonicalize those too and be bitwise identical across machines.
    /// The host must still avoid nondeterminism of its own (clocks,
    /// randomness, iteration over unordered maps, threads).
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
    /// (at most 2^28-1, the spec's limit); past it, the call traps with
    /// [`TrapKind::TooManyHandles`](crate::TrapKind::TooManyHandles).
    /// Default [`DEFAULT_MAX_HANDLES_PER_INSTANCE`](crate::DEFAULT_MAX_HANDLES_PER_INSTANCE)
    /// (2^20; a handle takes 24 bytes of table). Handle tables also count
    /// against the store budget ([`StoreLimitsBuilder::store_bytes`](crate::StoreLimitsBuilder::store_bytes)).
    pub fn max_handles_per_instance(&mut self, handles: u32) -> &mut Self {
        self.limits.max_handles = handles.min(crate::resources::MAX_HANDLES);
        self
    }

    /// The most tasks (calls of `async` functions in progress, from the
    /// host or between components) and host calls in progress one store
    /// may hold at once (feature `async`); past it, the call that would
    /// start one traps with [`TrapKind::LimitExceeded`](crate::TrapKind::LimitExceeded).
    /// A suspended task keeps its core call's value stack, so this bounds
    /// the host memory guests can hold by starting calls they never
    /// finish. Default [`DEFAULT_MAX_TASKS`](crate::DEFAULT_MAX_TASKS).
    /// The scheduler's tables also count against the store budget
    /// ([`StoreLimitsBuilder::store_bytes`](crate::StoreLimitsBuilder::store_bytes)).
    #[cfg(feature = "async")]
    pub fn max_tasks(&mut self, tasks: u32) -> &mut Self {
        self.limits.max_tasks = tasks;
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

    /// The most component calls that may be nested on the native stack: a
    /// call from the host into a component, a component-to-component call,
    /// a guest destructor run by `resource.drop`, and an instantiation each
    /// take one level. Each level is a fresh wasmi execution on the host's
    /// native stack, so a guest recursing through its own lowered export or
    /// through a chain of destructors would otherwise overflow it and abort
    /// the process. Past the limit the call traps with
    /// [`TrapKind::StackOverflow`](crate::TrapKind::StackOverflow).
    ///
    /// The default, [`DEFAULT_MAX_CALL_DEPTH`], fits a 2 MiB thread in
    /// debug builds; raise it only with a larger stack (the README gives the
    /// native stack a level takes).
    pub fn max_call_depth(&mut self, depth: u32) -> &mut Self {
        self.limits.max_call_depth = depth;
        self
    }

    /// The most host memory, in bytes, the values lifted for one call may
    /// take: the results of an export, or the params of a host function,
    /// through either API. A `Val` takes 32 bytes per list element whatever
    /// the element's size in the guest, so a small guest can describe
    /// values far larger than its memory (many lists over the same bytes);
    /// past the limit the call traps with
    /// [`TrapKind::LimitExceeded`](crate::TrapKind::LimitExceeded) before
    /// allocating. Allocation is fallible too: if the host runs out of
    /// memory first, the call traps the same way instead of aborting.
    /// Default [`DEFAULT_MAX_LIFTED_BYTES_PER_CALL`] (256 MiB).
    pub fn max_lifted_bytes_per_call(&mut self, bytes: u64) -> &mut Self {
        self.limits.max_lifted_bytes_per_call = bytes;
        self
    }

    /// The most runtime resource types one store may hold. Each
    /// instantiation of a component that defines resource types creates
    /// new ones (they are generative), and they live as long as the store;
    /// instantiating past the limit fails with
    /// [`TrapKind::LimitExceeded`](crate::TrapKind::LimitExceeded). Each
    /// type also counts against the store budget. Default
    /// [`DEFAULT_MAX_RESOURCE_TYPES`] (100,000).
    pub fn max_resource_types(&mut self, types: u32) -> &mut Self {
        self.limits.max_resource_types = types;
        self
    }

    /// The limit set by [`Config::max_call_depth`].
    pub fn call_depth_limit(&self) -> u32 {
        self.limits.max_call_depth
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
