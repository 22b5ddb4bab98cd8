//! Calls of `async`-typed or `async`-lifted functions from the host.

use crate::error::{Error, Result};
use crate::func::LiftedFunc;

/// Refuses a caller that cannot run a task yet (`what` names it):
/// resumable calls of an `async`-typed or `async`-lifted function.
pub(crate) fn check_sync_caller(l: &LiftedFunc, what: &str) -> Result<()> {
    if l.is_task {
        return Err(Error::unsupported(alloc::format!(
            "{what} of an `async` function: `Func::call`, `Func::call_async` and typed \
             calls run them"
        )));
    }
    Ok(())
}
