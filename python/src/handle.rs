//! `Handle`: a resource handle a component gave to Python, held by the
//! object of the resource's class (`obj._h`).

use std::sync::{Arc, Mutex};

use componentry::ResourceAny;
use pyo3::prelude::*;

use crate::errors::{named, to_py};
use crate::state::InstShared;

/// A handle to a resource an instance exported: dropped by `close()`,
/// moved by passing it as `own`.
#[pyclass(module = "componentry._native", frozen)]
pub struct Handle {
    any: Mutex<Option<ResourceAny>>,
    inst: Arc<InstShared>,
}

impl Handle {
    /// Wraps `any`, a handle of `inst`'s store.
    pub fn new(any: ResourceAny, inst: Arc<InstShared>) -> Self {
        Handle {
            any: Mutex::new(Some(any)),
            inst,
        }
    }

    /// The handle, if still open.
    pub fn peek(&self) -> Option<ResourceAny> {
        self.any.lock().ok().and_then(|g| *g)
    }

    /// Forgets the handle (it was moved into a call).
    pub fn forget(&self) {
        if let Ok(mut g) = self.any.lock() {
            *g = None;
        }
    }

    fn take(&self) -> Option<ResourceAny> {
        self.any.lock().ok().and_then(|mut g| g.take())
    }
}

#[pymethods]
impl Handle {
    /// Drops the resource (its destructor runs in the component). A no-op
    /// if already closed, moved, or only borrowed.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let Some(any) = self.peek() else {
            return Ok(());
        };
        if !any.owned() {
            self.forget();
            return Ok(());
        }
        let Ok(mut entered) = self.inst.enter(py) else {
            return Err(named(
                py,
                "UsageError",
                "cannot close a resource from inside its instance's host function".into(),
            ));
        };
        self.take();
        any.resource_drop(&mut *entered.store)
            .map_err(|e| to_py(py, &e))
    }

    /// `close()` that reports nothing (for `__del__`); leaves the handle
    /// to the instance when it is busy.
    fn close_quietly(&self) {
        let Some(any) = self.peek() else {
            return;
        };
        if !any.owned() {
            return;
        }
        if let Ok(mut store) = self.inst.store.try_lock() {
            self.take();
            let _ = any.resource_drop(&mut *store);
        }
    }

    /// True once closed or moved.
    #[getter]
    fn closed(&self) -> bool {
        self.peek().is_none()
    }
}
