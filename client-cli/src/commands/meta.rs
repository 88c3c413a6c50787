//! `carnet completions SHELL` and `carnet man`: generated from the same clap definition as
//! the parser, so they cannot drift from it.

use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, ManArgs};
use crate::error::{CliResult, io_error};
use crate::manpage;
use crate::output;

pub fn completions(shell: Shell) -> CliResult<()> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "carnet", &mut out);
    output::stdout(&String::from_utf8_lossy(&out));
    Ok(())
}

pub fn man(a: ManArgs) -> CliResult<()> {
    let Some(dir) = a.dir else {
        output::stdout(&manpage::main_page(Cli::command()).text);
        return Ok(());
    };
    let pages = manpage::all_pages(Cli::command());
    write_pages(&dir, &pages)?;
    output::message(&format!(
        "wrote {} man pages into {}",
        pages.len(),
        dir.display()
    ));
    Ok(())
}

fn write_pages(dir: &Path, pages: &[manpage::Page]) -> CliResult<()> {
    std::fs::create_dir_all(dir).map_err(|e| io_error("create the directory", dir, &e))?;
    for page in pages {
        let path = dir.join(&page.file_name);
        std::fs::write(&path, &page.text).map_err(|e| io_error("write", &path, &e))?;
    }
    Ok(())
}
