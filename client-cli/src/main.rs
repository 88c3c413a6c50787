//! `carnet`: parses the command line, runs it, and turns the outcome into an exit code.
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::process::ExitCode;

use carnet_cli::cli::{Cli, quiet};
use carnet_cli::color::{self, ColorChoice};
use carnet_cli::output;
use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    // clap prints help and usage errors itself: they follow --color too, and help fits the
    // width listings do (up to 100 columns, past which lines are hard to read).
    let mut command = Cli::command()
        .color(ColorChoice::from_args(&args).for_clap())
        .term_width(output::terminal_width().min(100));
    let cli = command
        .try_get_matches_from_mut(args)
        .and_then(|mut m| Cli::from_arg_matches_mut(&mut m))
        .unwrap_or_else(|e| quiet(e).format(&mut command).exit());
    color::init(cli.color);
    match carnet_cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            anstream::eprint!("{}", e.render_styled());
            ExitCode::from(e.kind.code())
        }
    }
}
