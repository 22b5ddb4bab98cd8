//! Store-wide limits ([`StoreLimits`], built by [`StoreLimitsBuilder`] and
//! installed with [`Store::limiter`](crate::Store::limiter)): the size of
//! each linear memory and table, the counts of core instances, memories and
//! tables, and one budget of host bytes for the whole store covering linear
//! memories, tables and handle tables (and capping the values lifted for a
//! call). wasmi asks the limiter before it allocates, so a denied
//! `memory.grow` allocates nothing.

use alloc::format;
use alloc::string::String;

use crate::error::{Error, Result, TrapKind};

/// The bytes a table element is counted as against the store budget.
pub(crate) const TABLE_ELEMENT_BYTES: u64 = 8;

/// Limits on what one [`Store`](crate::Store) may allocate, in the shape of
/// wasmtime's `StoreLimits` (and wasmi's). Build one with
/// [`StoreLimitsBuilder`]; a new store starts with the limits of its
/// engine's [`Config`](crate::Config) (`max_memory_bytes`,
/// `max_table_elements`) and no store budget.
#[derive(Debug, Clone)]
pub struct StoreLimits {
    memory_size: Option<usize>,
    table_elements: Option<usize>,
    instances: usize,
    tables: usize,
    memories: usize,
    store_bytes: Option<u64>,
    trap_on_grow_failure: bool,
    /// Bytes counted against `store_bytes` so far.
    used: u64,
    /// The bytes the last allowed growth added (taken back if it failed).
    last_growth: u64,
    /// Why the last growth was denied, for the error message.
    denied: Option<Denial>,
}

/// Builds [`StoreLimits`]. Every limit not set stays at its default:
/// no limit on sizes or on the store budget, 10,000 core instances,
/// memories and tables (wasmi's defaults), and a trap when a growth is denied.
#[derive(Debug, Clone)]
pub struct StoreLimitsBuilder(StoreLimits);

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            memory_size: None,
            table_elements: None,
            instances: 10_000,
            tables: 10_000,
            memories: 10_000,
            store_bytes: None,
            trap_on_grow_failure: true,
            used: 0,
            last_growth: 0,
            denied: None,
        }
    }
}

impl Default for StoreLimitsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl StoreLimitsBuilder {
    /// Limits with every default (see [`StoreLimitsBuilder`]).
    pub fn new() -> Self {
        StoreLimitsBuilder(StoreLimits::default())
    }

    /// The largest size in bytes each linear memory may have (initially or
    /// by `memory.grow`).
    pub fn memory_size(mut self, bytes: usize) -> Self {
        self.0.memory_size = Some(bytes);
        self
    }

    /// The most elements each table may have.
    pub fn table_elements(mut self, elements: usize) -> Self {
        self.0.table_elements = Some(elements);
        self
    }

    /// The most core module instances the store may create (instantiating
    /// past it fails).
    pub fn instances(mut self, instances: usize) -> Self {
        self.0.instances = instances;
        self
    }

    /// The most tables the store may create.
    pub fn tables(mut self, tables: usize) -> Self {
        self.0.tables = tables;
        self
    }

    /// The most linear memories the store may create.
    pub fn memories(mut self, memories: usize) -> Self {
        self.0.memories = memories;
        self
    }

    /// The store budget: the most host bytes all linear memories, tables
    /// (8 bytes an element) and resource handle tables of the store may
    /// take together. The values lifted for one call may take at most what
    /// is left of it (and at most `Config::max_lifted_bytes_per_call`).
    /// Growing past it is denied like any other limit.
    pub fn store_bytes(mut self, bytes: u64) -> Self {
        self.0.store_bytes = Some(bytes);
        self
    }

    /// Whether a denied `memory.grow` or `table.grow` traps (the default)
    /// or returns -1 to the guest, as core WebAssembly allows. A memory or
    /// table created over a limit always fails the instantiation.
    pub fn trap_on_grow_failure(mut self, trap: bool) -> Self {
        self.0.trap_on_grow_failure = trap;
        self
    }

    /// The limits.
    pub fn build(self) -> StoreLimits {
        self.0
    }
}

/// Why a growth was denied.
#[derive(Debug, Clone, Copy)]
enum Denial {
    MemorySize {
        desired: usize,
        limit: usize,
    },
    TableElements {
        desired: usize,
        limit: usize,
    },
    Maximum {
        what: &'static str,
        desired: usize,
        max: usize,
    },
    StoreBytes {
        used: u64,
        more: u64,
        limit: u64,
    },
}

impl Denial {
    fn describe(self) -> String {
        match self {
            Denial::MemorySize { desired, limit } => format!(
                "a linear memory of {desired} bytes is over the memory size limit of {limit} bytes \
                 (Config::max_memory_bytes / StoreLimitsBuilder::memory_size)"
            ),
            Denial::TableElements { desired, limit } => format!(
                "a table of {desired} elements is over the limit of {limit} elements \
                 (Config::max_table_elements / StoreLimitsBuilder::table_elements)"
            ),
            Denial::Maximum { what, desired, max } => {
                format!("a {what} of {desired} is over its declared maximum of {max}")
            }
            Denial::StoreBytes { used, more, limit } => format!(
                "{more} more bytes would take the store over its budget of {limit} bytes \
                 ({used} in use; StoreLimitsBuilder::store_bytes)"
            ),
        }
    }
}

impl StoreLimits {
    /// Limits from an engine's configuration.
    pub(crate) fn from_config(limits: &crate::engine::Limits) -> Self {
        StoreLimits {
            memory_size: limits.max_memory_bytes,
            table_elements: limits.max_table_elements,
            ..StoreLimits::default()
        }
    }

    /// The bytes counted against the store budget so far: linear memories,
    /// tables and handle tables.
    pub fn store_bytes_used(&self) -> u64 {
        self.used
    }

    /// Restores the bytes counted so far (when limits are replaced).
    pub(crate) fn set_used(&mut self, used: u64) {
        self.used = used;
    }

    /// What is left of the store budget (`u64::MAX` without one).
    pub(crate) fn store_bytes_left(&self) -> u64 {
        match self.store_bytes {
            Some(limit) => limit.saturating_sub(self.used),
            None => u64::MAX,
        }
    }

    /// Counts `more` bytes against the store budget, or records why not.
    fn take(&mut self, more: u64) -> bool {
        let total = self.used.saturating_add(more);
        if let Some(limit) = self.store_bytes {
            if total > limit {
                self.denied = Some(Denial::StoreBytes {
                    used: self.used,
                    more,
                    limit,
                });
                return false;
            }
        }
        self.used = total;
        self.last_growth = more;
        true
    }

    /// Counts `more` bytes of handle tables or resource types against the
    /// store budget: a `LimitExceeded` trap past it.
    pub(crate) fn take_bytes(&mut self, more: u64) -> Result<()> {
        if self.take(more) {
            Ok(())
        } else {
            Err(self.denial_error(TrapKind::LimitExceeded))
        }
    }

    /// The error of the last denial, of kind `kind`.
    fn denial_error(&mut self, kind: TrapKind) -> Error {
        match self.denied.take() {
            Some(d) => Error::trap(kind, d.describe()),
            None => Error::trap(kind, "a store limit was reached"),
        }
    }

    /// If `e` is wasmi's report of a denied growth (a trap, or a failed
    /// instantiation), the same error naming the limit that denied it.
    pub(crate) fn explain(&mut self, e: Error) -> Error {
        let Some(d) = self.denied else {
            return e;
        };
        let growth = e.trap_kind() == Some(TrapKind::GrowthOperationLimited);
        let creation = e.message().contains("limiter denied")
            || e.message().contains("failed to instantiate")
            || e.message().contains("too many");
        if !growth && !creation {
            return e;
        }
        self.denied = None;
        let message = format!("{}: {}", e.message(), d.describe());
        match e.trap_kind() {
            Some(kind) => Error::trap(kind, message),
            None => Error::new(e.kind().clone(), message),
        }
    }

    fn deny(&mut self, d: Denial) -> core::result::Result<bool, wasmi_core::LimiterError> {
        self.denied = Some(d);
        self.refuse()
    }

    fn refuse(&self) -> core::result::Result<bool, wasmi_core::LimiterError> {
        if self.trap_on_grow_failure {
            Err(wasmi_core::LimiterError::ResourceLimiterDeniedAllocation)
        } else {
            Ok(false)
        }
    }

    /// A growth wasmi could not make after all: gives back what it took.
    fn grow_failed(&mut self) -> core::result::Result<(), wasmi_core::LimiterError> {
        self.used = self
            .used
            .saturating_sub(core::mem::take(&mut self.last_growth));
        self.refuse().map(|_| ())
    }
}

/// The limiter wasmi asks: the store's [`StoreLimits`].
pub(crate) struct Limiter(pub StoreLimits);

impl wasmi::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> core::result::Result<bool, wasmi_core::LimiterError> {
        let l = &mut self.0;
        if let Some(limit) = l.memory_size.filter(|m| desired > *m) {
            return l.deny(Denial::MemorySize { desired, limit });
        }
        if let Some(max) = maximum.filter(|m| desired > *m) {
            return l.deny(Denial::Maximum {
                what: "linear memory (bytes)",
                desired,
                max,
            });
        }
        if !l.take(desired.saturating_sub(current) as u64) {
            return l.refuse();
        }
        Ok(true)
    }

    fn memory_grow_failed(
        &mut self,
        _error: &wasmi::errors::MemoryError,
    ) -> core::result::Result<(), wasmi_core::LimiterError> {
        self.0.grow_failed()
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> core::result::Result<bool, wasmi_core::LimiterError> {
        let l = &mut self.0;
        if let Some(limit) = l.table_elements.filter(|m| desired > *m) {
            return l.deny(Denial::TableElements { desired, limit });
        }
        if let Some(max) = maximum.filter(|m| desired > *m) {
            return l.deny(Denial::Maximum {
                what: "table (elements)",
                desired,
                max,
            });
        }
        let more = (desired.saturating_sub(current) as u64).saturating_mul(TABLE_ELEMENT_BYTES);
        if !l.take(more) {
            return l.refuse();
        }
        Ok(true)
    }

    fn table_grow_failed(
        &mut self,
        _error: &wasmi::errors::TableError,
    ) -> core::result::Result<(), wasmi_core::LimiterError> {
        self.0.grow_failed()
    }

    fn instances(&self) -> usize {
        self.0.instances
    }

    fn tables(&self) -> usize {
        self.0.tables
    }

    fn memories(&self) -> usize {
        self.0.memories
    }
}
