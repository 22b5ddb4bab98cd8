//! The `componentry` command: runs WebAssembly components (WASI 0.2
//! commands, or one function of any component with `--invoke`) on the
//! wasmi interpreter, and makes component images for devices. See
//! `componentry run --help` and `componentry compile --help`.

mod args;
mod compile;
mod failure;
mod invoke;
mod run;
mod wave;

use std::io::Write;

use clap::{CommandFactory, Parser};

use args::{Cli, Command, RunArgs};

fn main() {
    let argv = args::with_default_subcommand(std::env::args_os().collect());
    let code = match Cli::parse_from(argv).command {
        Command::Compile(compile_args) => match compile::compile(&compile_args) {
            Ok(()) => 0,
            Err(failure) => {
                eprintln!("componentry: {}", failure.message());
                failure.exit_code()
            }
        },
        Command::Run(run_args) => {
            reject_option_as_component(&run_args);
            match run::run(&run_args) {
                Ok(code) => code,
                Err(failure) => {
                    let _ = std::io::stdout().flush();
                    eprintln!("componentry: {}", failure.message());
                    failure.exit_code()
                }
            }
        }
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

/// The component takes hyphen values (so that everything after it goes to
/// the guest), so an unknown option before it lands there: a usage error
/// (exit code 2), as clap reports other bad command lines.
fn reject_option_as_component(run_args: &RunArgs) {
    if !run_args.component().starts_with('-') {
        return;
    }
    let message = format!(
        "unknown option `{}` (for a component whose name starts with `-`, write ./{0})",
        run_args.component()
    );
    let mut cmd = Cli::command();
    cmd.build();
    match cmd.find_subcommand_mut("run") {
        Some(run_cmd) => run_cmd.error(clap::error::ErrorKind::UnknownArgument, message),
        None => cmd.error(clap::error::ErrorKind::UnknownArgument, message),
    }
    .exit();
}
