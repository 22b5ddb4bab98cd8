//! The command line, spelled as `wasmtime run` spells it where the two
//! overlap (`--dir HOST[::GUEST]`, `--env NAME[=VALUE]`, `--invoke`), so
//! scripts carry over.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Runs WebAssembly components on the wasmi interpreter.
#[derive(Parser, Debug)]
#[command(name = "componentry", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Runs a WASI command component, or calls one function of a component
    /// with --invoke.
    ///
    /// The component's WASI 0.2 imports are served by componentry-wasi with
    /// the host's stdin, stdout and stderr, the host's clocks and randomness
    /// (unless --deterministic), the environment variables given with --env
    /// and no files except the directories given with --dir. The exit code
    /// is the guest's; a trap exits with 134 (as `wasmtime run` on Unix), an
    /// error before the guest runs (a file that is not a component, a
    /// missing import) with 1, a bad command line with 2.
    Run(RunArgs),
    /// Validates a component and writes its image, for a device built
    /// without the validator to load with `Component::deserialize`.
    ///
    /// The image is tied to this componentry version and to the device's
    /// `Config::max_type_depth` (give it with --max-type-depth if the device
    /// does not use the default). Exits with 1 if the component is invalid
    /// or a file cannot be read or written.
    Compile(CompileArgs),
}

/// Options of `componentry compile`.
#[derive(Args, Debug)]
pub struct CompileArgs {
    /// Where to write the image.
    #[arg(short = 'o', long = "output", value_name = "OUT.img")]
    pub output: PathBuf,

    /// The device's `Config::max_type_depth` (default: componentry's).
    #[arg(long, value_name = "N")]
    pub max_type_depth: Option<u32>,

    /// The component (a binary .wasm file).
    #[arg(value_name = "COMPONENT")]
    pub component: PathBuf,
}

/// Options of `componentry run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Grants the guest a host directory, read-write, at GUEST_DIR (default:
    /// the same path as on the host). Repeatable.
    #[arg(long = "dir", value_name = "HOST_DIR[::GUEST_DIR]", value_parser = parse_dir)]
    pub dirs: Vec<DirMapping>,

    /// Sets an environment variable for the guest; a NAME without a value
    /// passes on the host's value (nothing if it is unset). Repeatable.
    #[arg(long = "env", value_name = "NAME[=VALUE]", value_parser = parse_env)]
    pub envs: Vec<EnvVar>,

    /// Calls the exported function with the WAVE arguments instead of
    /// running `wasi:cli/run`, and prints its result in WAVE. The name may
    /// be a root export, a function of an exported instance
    /// (`ns:pkg/iface#name(...)`), or the name of a function that exactly
    /// one exported instance has.
    #[arg(long, value_name = "NAME(ARG, ...)")]
    pub invoke: Option<String>,

    /// Runs with fuel: the guest traps (out of fuel) after about N wasm
    /// instructions and componentry's own charges (see the README).
    #[arg(long, value_name = "N")]
    pub fuel: Option<u64>,

    /// The deterministic profile: virtual clocks (from 2000-01-01, 1 µs per
    /// reading, sleeping without waiting), randomness seeded by SEED
    /// (default 0), NaNs canonicalized; the same component and inputs give
    /// the same output.
    #[arg(
        long,
        value_name = "SEED",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "0"
    )]
    pub deterministic: Option<u64>,

    /// The component to run (a binary .wasm file), then the guest's
    /// arguments (the component's path is its argument 0). Everything after
    /// the component goes to the guest, options too.
    #[arg(
        value_name = "COMPONENT",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub component_and_args: Vec<String>,
}

impl RunArgs {
    /// The component's path.
    pub fn component(&self) -> &str {
        self.component_and_args.first().map_or("", String::as_str)
    }

    /// The guest's arguments after argument 0.
    pub fn guest_args(&self) -> &[String] {
        self.component_and_args.get(1..).unwrap_or_default()
    }
}

/// One `--dir`: a host directory and the path the guest sees it at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirMapping {
    /// The host directory.
    pub host: PathBuf,
    /// The guest's name for it.
    pub guest: String,
}

/// One `--env`: a name and, if given, a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvVar {
    /// The variable's name.
    pub name: String,
    /// Its value; `None` passes on the host's.
    pub value: Option<String>,
}

fn parse_dir(s: &str) -> Result<DirMapping, String> {
    let (host, guest) = match s.split_once("::") {
        Some((h, g)) => (h, g),
        None => (s, s),
    };
    if host.is_empty() || guest.is_empty() {
        return Err(format!("`{s}`: expected HOST_DIR or HOST_DIR::GUEST_DIR"));
    }
    Ok(DirMapping {
        host: PathBuf::from(host),
        guest: guest.to_string(),
    })
}

fn parse_env(s: &str) -> Result<EnvVar, String> {
    let (name, value) = match s.split_once('=') {
        Some((n, v)) => (n, Some(v.to_string())),
        None => (s, None),
    };
    if name.is_empty() {
        return Err(format!("`{s}`: expected NAME=VALUE or NAME"));
    }
    Ok(EnvVar {
        name: name.to_string(),
        value,
    })
}

/// `componentry app.wasm ...` means `componentry run app.wasm ...`, as
/// `wasmtime app.wasm` does: inserts `run` unless the first argument is a
/// subcommand or a top-level option.
pub fn with_default_subcommand(mut args: Vec<OsString>) -> Vec<OsString> {
    let first = args.get(1).and_then(|a| a.to_str());
    let explicit = matches!(
        first,
        None | Some("run" | "compile" | "help" | "-h" | "--help" | "-V" | "--version")
    );
    if !explicit {
        args.insert(1, OsString::from("run"));
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<RunArgs, clap::Error> {
        let args = with_default_subcommand(args.iter().map(OsString::from).collect());
        Cli::try_parse_from(args).and_then(|cli| match cli.command {
            Command::Run(r) => Ok(r),
            Command::Compile(_) => Err(clap::Error::new(clap::error::ErrorKind::InvalidSubcommand)),
        })
    }

    #[test]
    fn options_before_the_component_and_guest_args_after() {
        let r = parse(&[
            "componentry",
            "run",
            "--dir",
            "/tmp/x::/data",
            "--dir=.",
            "--env",
            "A=1=2",
            "--env",
            "HOME",
            "--fuel",
            "1000",
            "--deterministic=7",
            "app.wasm",
            "--dir",
            "-x",
            "y",
        ])
        .unwrap();
        assert_eq!(
            r.dirs,
            vec![
                DirMapping {
                    host: "/tmp/x".into(),
                    guest: "/data".into()
                },
                DirMapping {
                    host: ".".into(),
                    guest: ".".into()
                }
            ]
        );
        assert_eq!(
            r.envs,
            vec![
                EnvVar {
                    name: "A".into(),
                    value: Some("1=2".into())
                },
                EnvVar {
                    name: "HOME".into(),
                    value: None
                }
            ]
        );
        assert_eq!(r.fuel, Some(1000));
        assert_eq!(r.deterministic, Some(7));
        assert_eq!(r.component(), "app.wasm");
        assert_eq!(r.guest_args(), ["--dir", "-x", "y"]);
    }

    #[test]
    fn deterministic_seed_is_optional_and_run_may_be_left_out() {
        let r = parse(&["componentry", "--deterministic", "app.wasm", "a"]).unwrap();
        assert_eq!(r.deterministic, Some(0));
        assert_eq!(r.component(), "app.wasm");
        assert_eq!(r.guest_args(), ["a"]);
        let r = parse(&["componentry", "app.wasm"]).unwrap();
        assert_eq!(r.deterministic, None);
        assert_eq!(r.invoke, None);
    }

    #[test]
    fn bad_command_lines_are_errors() {
        assert!(parse(&["componentry", "run"]).is_err());
        assert!(parse(&["componentry", "run", "--fuel", "lots", "a.wasm"]).is_err());
        assert!(parse(&["componentry", "run", "--dir", "::/x", "a.wasm"]).is_err());
        assert!(parse(&["componentry", "run", "--env", "=1", "a.wasm"]).is_err());
        assert!(parse(&["componentry", "run", "--deterministic=x", "a.wasm"]).is_err());
    }
}
