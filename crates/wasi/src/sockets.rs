//! `wasi:sockets`: linked, denying every operation (filled in below).

use componentry::{Linker, Result};

use crate::WasiView;

/// Links the `wasi:sockets` interfaces of the command world.
pub(crate) fn add_to_linker<T: WasiView>(_linker: &mut Linker<T>) -> Result<()> {
    Ok(())
}
