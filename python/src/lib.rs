//! `componentry._native`: the Python extension module over componentry.
//! The package `componentry` (Python, beside this crate) re-exports it.

use pyo3::prelude::*;

mod component;
mod convert;
mod errors;
mod function;
mod handle;
mod host;
mod instance;
mod names;
mod state;
mod types;
mod wasi;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<component::Component>()?;
    m.add_class::<component::Config>()?;
    m.add_class::<instance::Instance>()?;
    m.add_class::<function::Function>()?;
    m.add_class::<handle::Handle>()?;
    m.add_class::<wasi::Wasi>()?;
    Ok(())
}
