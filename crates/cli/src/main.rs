//! The `componentry` command: runs WebAssembly components (WASI 0.2
//! commands, or one function of any component with `--invoke`) on the
//! wasmi interpreter. See `componentry run --help`.

mod args;
mod failure;
mod invoke;
mod run;
mod wave;

use std::io::Write;

use clap::Parser;

use args::{Cli, Command};

fn main() {
    let argv = args::with_default_subcommand(std::env::args_os().collect());
    let cli = Cli::parse_from(argv);
    let code = match cli.command {
        Command::Run(run_args) => match run::run(&run_args) {
            Ok(code) => code,
            Err(failure) => {
                let _ = std::io::stdout().flush();
                eprintln!("componentry: {}", failure.message());
                failure.exit_code()
            }
        },
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}
