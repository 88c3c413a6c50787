//! `carnet completions SHELL` and `carnet man`: generated from the same clap definition as
//! the parser, so they cannot drift from it.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::{CliError, CliResult};
use crate::output;

pub fn completions(shell: Shell) -> CliResult<()> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "carnet", &mut out);
    output::stdout(&String::from_utf8_lossy(&out));
    Ok(())
}

pub fn man() -> CliResult<()> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| CliError::failed(format!("cannot render the man page: {e}")))?;
    output::stdout(&String::from_utf8_lossy(&out));
    Ok(())
}
