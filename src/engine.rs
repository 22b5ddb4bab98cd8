//! `Engine` and `Config`: the wasmi engine components are compiled for.

use alloc::sync::Arc;

/// Settings for an [`Engine`].
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub(crate) consume_fuel: bool,
}

impl Config {
    /// The default configuration: no fuel metering.
    pub fn new() -> Self {
        Self::default()
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
