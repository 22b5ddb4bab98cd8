//! Mapping componentry's errors to the Python exceptions of
//! `componentry._types`, and the errors of value conversion (with the
//! path of the bad value).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use componentry::{Error, ErrorKind};

/// The Python class `componentry._types.NAME`.
pub fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("componentry._types")?.getattr(name)
}

/// The Python exception for `e`: `Trap(kind, message)`, `LoadError`,
/// `LinkError`, `UnsupportedError` or `UsageError`.
pub fn to_py(py: Python<'_>, e: &Error) -> PyErr {
    let made = (|| -> PyResult<PyErr> {
        let obj = match e.kind() {
            ErrorKind::Trap(k) => class(py, "Trap")?.call1((k.as_str(), e.message()))?,
            ErrorKind::Load { offset } => class(py, "LoadError")?.call1((format!(
                "invalid component at byte {offset}: {}",
                e.message()
            ),))?,
            ErrorKind::Link => class(py, "LinkError")?.call1((e.message(),))?,
            ErrorKind::Unsupported => {
                class(py, "UnsupportedError")?.call1((format!("unsupported: {}", e.message()),))?
            }
            _ => class(py, "UsageError")?.call1((e.message(),))?,
        };
        Ok(PyErr::from_value(obj))
    })();
    made.unwrap_or_else(|err| err)
}

/// A Python exception of class `name` from `componentry._types` with `msg`.
pub fn named(py: Python<'_>, name: &str, msg: String) -> PyErr {
    match class(py, name).and_then(|c| c.call1((msg,))) {
        Ok(obj) => PyErr::from_value(obj),
        Err(e) => e,
    }
}

/// A bad value found while converting an argument or result: where it is
/// (path segments, innermost last once reversed) and what is wrong.
#[derive(Debug)]
pub struct ConvError {
    /// Path segments, innermost first (pushed while unwinding).
    pub path: Vec<String>,
    /// What was expected and what was found.
    pub message: String,
    /// `TypeError` (wrong kind of value) or `ValueError` (out of range).
    pub is_value: bool,
    /// A Python exception raised while reading the value, if any.
    pub cause: Option<PyErr>,
}

impl ConvError {
    /// A wrong kind of value.
    pub fn ty(message: String) -> Self {
        ConvError {
            path: Vec::new(),
            message,
            is_value: false,
            cause: None,
        }
    }

    /// A value of the right kind out of the type's range.
    pub fn value(message: String) -> Self {
        ConvError {
            is_value: true,
            ..ConvError::ty(message)
        }
    }

    /// Adds the enclosing path segment `seg`.
    pub fn at(mut self, seg: impl Into<String>) -> Self {
        self.path.push(seg.into());
        self
    }

    /// The Python exception: "func: a.b[2]: expected u32, got -1".
    pub fn into_py(self, py: Python<'_>, func: &str) -> PyErr {
        if let Some(cause) = &self.cause {
            if !cause.is_instance_of::<PyTypeError>(py) && !cause.is_instance_of::<PyValueError>(py)
            {
                return self.cause.unwrap_or_else(|| PyTypeError::new_err(""));
            }
        }
        let mut path = String::new();
        for seg in self.path.iter().rev() {
            if !path.is_empty() && !seg.starts_with('[') {
                path.push('.');
            }
            path.push_str(seg);
        }
        let msg = if path.is_empty() {
            format!("{func}: {}", self.message)
        } else {
            format!("{func}: {path}: {}", self.message)
        };
        if self.is_value {
            PyValueError::new_err(msg)
        } else {
            PyTypeError::new_err(msg)
        }
    }
}

/// `repr(obj)`, cut to 60 characters, for error messages.
pub fn short_repr(obj: &Bound<'_, PyAny>) -> String {
    let r = obj
        .repr()
        .map(|s| s.to_string())
        .unwrap_or_else(|_| "<unprintable>".into());
    if r.chars().count() > 60 {
        let cut: String = r.chars().take(57).collect();
        format!("{cut}...")
    } else {
        r
    }
}
