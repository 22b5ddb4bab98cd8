//! `Wasi`: the WASI context a Python caller gives a component (arguments,
//! environment, preopened directories, stdin, captured stdout/stderr).

use componentry_wasi::{DirAccess, WasiCtx};
use pyo3::prelude::*;

/// WASI settings: `Wasi(args=[], env=[(name, value)], dirs=[(host, guest)],
/// readonly_dirs=[(host, guest)], stdin=b"", capture_stdout=True,
/// capture_stderr=True, inherit_stdio=False, seed=None)`.
/// Nothing else is granted (no clock or randomness of the host when
/// `seed` is given: the deterministic profile).
#[pyclass(module = "componentry._native", frozen)]
pub struct Wasi {
    args: Vec<String>,
    env: Vec<(String, String)>,
    dirs: Vec<(String, String, bool)>,
    stdin: Vec<u8>,
    capture_stdout: bool,
    capture_stderr: bool,
    inherit_stdio: bool,
    seed: Option<u64>,
}

/// How many bytes of stdout and of stderr are kept.
const CAPTURE_BYTES: usize = 16 << 20;

#[pymethods]
impl Wasi {
    #[new]
    #[pyo3(signature = (*, args=Vec::new(), env=Vec::new(), dirs=Vec::new(), readonly_dirs=Vec::new(),
        stdin=Vec::new(), capture_stdout=true, capture_stderr=true, inherit_stdio=false, seed=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        args: Vec<String>,
        env: Vec<(String, String)>,
        dirs: Vec<(String, String)>,
        readonly_dirs: Vec<(String, String)>,
        stdin: Vec<u8>,
        capture_stdout: bool,
        capture_stderr: bool,
        inherit_stdio: bool,
        seed: Option<u64>,
    ) -> Self {
        let mut all: Vec<(String, String, bool)> =
            dirs.into_iter().map(|(h, g)| (h, g, false)).collect();
        all.extend(readonly_dirs.into_iter().map(|(h, g)| (h, g, true)));
        Wasi {
            args,
            env,
            dirs: all,
            stdin,
            capture_stdout,
            capture_stderr,
            inherit_stdio,
            seed,
        }
    }
}

impl Default for Wasi {
    /// Nothing granted; stdout and stderr captured.
    fn default() -> Self {
        Wasi::new(
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            true,
            true,
            false,
            None,
        )
    }
}

impl Wasi {
    /// The context these settings describe.
    pub fn build(&self) -> PyResult<WasiCtx> {
        let mut b = WasiCtx::builder();
        b.args(self.args.iter().cloned());
        for (k, v) in &self.env {
            b.env(k.clone(), v.clone());
        }
        for (host, guest, ro) in &self.dirs {
            let access = if *ro {
                DirAccess::ReadOnly
            } else {
                DirAccess::ReadWrite
            };
            b.preopened_dir(host, guest.clone(), access)?;
        }
        b.stdin_bytes(self.stdin.clone());
        if self.inherit_stdio {
            b.inherit_stdout().inherit_stderr();
        } else {
            if self.capture_stdout {
                b.capture_stdout(CAPTURE_BYTES);
            }
            if self.capture_stderr {
                b.capture_stderr(CAPTURE_BYTES);
            }
        }
        if let Some(seed) = self.seed {
            b.deterministic(seed);
        }
        Ok(b.build())
    }
}
