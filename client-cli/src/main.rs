//! `carnet`: parses the command line, runs it, and turns the outcome into an exit code.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = carnet_cli::cli::Cli::parse();
    match carnet_cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprint!("{}", e.render());
            ExitCode::from(e.kind.code())
        }
    }
}
