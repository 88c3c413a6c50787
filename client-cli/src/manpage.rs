//! The man pages, rendered from the clap definition `--help` comes from, so they cannot drift
//! from it. `carnet man` prints carnet(1): the global options, every command with its usage,
//! and the sections of `carnet --help` (values, exit codes, examples) as man sections.
//! `carnet man --dir DIR` writes that page and one per command (`carnet-vendor-add.1`, …), as
//! packages install them. Pure: no file is touched here.

use clap::Command;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

/// One page: its file name (`carnet-vendor-add.1`) and its roff text.
pub struct Page {
    pub file_name: String,
    pub text: String,
}

/// carnet(1), whole: every command is listed in it with its usage.
pub fn main_page(cli: Command) -> Page {
    let cmd = built(cli);
    render(&cmd, Commands::All)
}

/// carnet(1) and a page for each command and subcommand, each listing the pages below it.
pub fn all_pages(cli: Command) -> Vec<Page> {
    fn walk(cmd: &Command, pages: &mut Vec<Page>) {
        pages.push(render(cmd, Commands::Pages));
        for sub in visible(cmd) {
            walk(sub, pages);
        }
    }
    let mut pages = Vec::new();
    walk(&built(cli), &mut pages);
    pages
}

/// The command with every usage and sub-command name filled in (`carnet vendor add`).
fn built(cli: Command) -> Command {
    let mut cmd = cli.disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The sub-commands a page shows: not the hidden ones, not clap's `help`.
fn visible(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

/// How a page shows the commands under it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Commands {
    /// Each with its usage and what it does, down to the last level (carnet(1) alone).
    All,
    /// As references to their own pages.
    Pages,
}

fn render(cmd: &Command, commands: Commands) -> Page {
    let name = cmd.get_display_name().unwrap_or(cmd.get_name()).to_owned();
    let man = Man::new(cmd.clone())
        .title(name.to_uppercase())
        .source(concat!("carnet ", env!("CARGO_PKG_VERSION")))
        .manual("Carnet Manual");
    let after = after_help(cmd);
    let (intro, sections) = sections(&after);

    let mut text = String::new();
    part(&mut text, |w| man.render_title(w));
    part(&mut text, |w| man.render_name_section(w));
    part(&mut text, |w| man.render_synopsis_section(w));
    part(&mut text, |w| man.render_description_section(w));
    let mut roff = Roff::new();
    for block in &intro {
        block.render(&mut roff);
    }
    push_roff(&mut text, &roff.render());
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        part(&mut text, |w| man.render_options_section(w));
    }
    let mut roff = Roff::new();
    if visible(cmd).next().is_some() {
        match commands {
            Commands::All => {
                roff.control("SH", ["COMMANDS"]);
                for sub in visible(cmd) {
                    list_commands(&mut roff, sub);
                }
            }
            Commands::Pages => {
                roff.control("SH", ["COMMANDS"]);
                for sub in visible(cmd) {
                    roff.control("TP", []);
                    roff.text([bold(format!("{}(1)", page_name(sub)))]);
                    roff.text([roman(about(sub))]);
                }
            }
        }
    }
    for (heading, blocks) in &sections {
        roff.control("SH", [heading.as_str()]);
        for block in blocks {
            block.render(&mut roff);
        }
    }
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman(see_also(cmd, commands))]);
    push_roff(&mut text, &roff.render());
    Page {
        file_name: format!("{name}.1"),
        text,
    }
}

/// Appends a section clap_mangen renders.
fn part(text: &mut String, write: impl Fn(&mut Vec<u8>) -> std::io::Result<()>) {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write(&mut out);
    push_roff(text, &String::from_utf8_lossy(&out));
}

/// Appends a piece of roff, without the preamble every piece starts with after the first.
fn push_roff(text: &mut String, piece: &str) {
    if text.is_empty() {
        text.push_str(piece);
        return;
    }
    let mut lines = piece.lines().peekable();
    while lines
        .peek()
        .is_some_and(|l| l.starts_with(".ie \\n(.g .ds Aq") || l.starts_with(".el .ds Aq"))
    {
        lines.next();
    }
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
}

/// `carnet-vendor-add`, the name of a command's own page.
fn page_name(cmd: &Command) -> String {
    cmd.get_display_name().unwrap_or(cmd.get_name()).to_owned()
}

fn about(cmd: &Command) -> String {
    cmd.get_about()
        .or_else(|| cmd.get_long_about())
        .map(|a| a.to_string().replace('\n', " "))
        .unwrap_or_default()
}

/// A command and what it does, then the commands under it, each with its usage.
fn list_commands(roff: &mut Roff, cmd: &Command) {
    let usage = cmd.clone().render_usage().to_string();
    let usage = usage.trim_start_matches("Usage:").trim();
    // A command that also has sub-commands has a usage line for each form: the first is the
    // command's own, its sub-commands follow it.
    let usage = usage.lines().next().unwrap_or_default().trim();
    roff.control("TP", []);
    roff.text([bold(usage)]);
    roff.text([roman(about(cmd))]);
    for sub in visible(cmd) {
        list_commands(roff, sub);
    }
}

fn see_also(cmd: &Command, commands: Commands) -> String {
    let mut refs = Vec::new();
    let name = page_name(cmd);
    if commands == Commands::Pages && name != "carnet" {
        if let Some((parent, _)) = name.rsplit_once('-') {
            refs.push(format!("{parent}(1)"));
        }
        if !refs.iter().any(|r| r == "carnet(1)") {
            refs.push("carnet(1)".to_owned());
        }
    }
    refs.push("carnetd --help".to_owned());
    refs.push("age(1)".to_owned());
    refs.join(", ")
}

fn after_help(cmd: &Command) -> String {
    cmd.get_after_long_help()
        .or_else(|| cmd.get_after_help())
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// A piece of `--help`'s closing text.
#[derive(Debug, PartialEq, Eq)]
enum Block {
    /// A line of prose: one paragraph.
    Para(String),
    /// Indented lines (examples, tables): kept as they are laid out.
    Lines(Vec<String>),
}

impl Block {
    fn render(&self, roff: &mut Roff) {
        match self {
            Block::Para(text) => {
                roff.control("PP", []);
                roff.text([roman(text.as_str())]);
            }
            Block::Lines(lines) => {
                roff.control("PP", []);
                roff.control("RS", ["4"]);
                roff.control("nf", []);
                for line in lines {
                    roff.text([roman(line.as_str())]);
                }
                roff.control("fi", []);
                roff.control("RE", []);
            }
        }
    }
}

/// Splits `--help`'s closing text into what comes before its first heading and its
/// headed sections (`Examples:` becomes EXAMPLES, `Exit codes:` EXIT STATUS).
fn sections(text: &str) -> (Vec<Block>, Vec<(String, Vec<Block>)>) {
    let mut intro = Vec::new();
    let mut sections: Vec<(String, Vec<Block>)> = Vec::new();
    let mut lines_block: Vec<String> = Vec::new();
    let flush = |lines: &mut Vec<String>, into: &mut Vec<Block>| {
        if !lines.is_empty() {
            into.push(Block::Lines(std::mem::take(lines)));
        }
    };
    for line in text.lines() {
        let into = match sections.last_mut() {
            Some((_, blocks)) => blocks,
            None => &mut intro,
        };
        if line.starts_with(' ') {
            lines_block.push(line.strip_prefix("  ").unwrap_or(line).to_owned());
            continue;
        }
        flush(&mut lines_block, into);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(heading) = heading(line) {
            sections.push((heading, Vec::new()));
        } else {
            into.push(Block::Para(line.to_owned()));
        }
    }
    let into = match sections.last_mut() {
        Some((_, blocks)) => blocks,
        None => &mut intro,
    };
    flush(&mut lines_block, into);
    (intro, sections)
}

/// `Examples:` → `EXAMPLES`: a short line of words ending with a colon.
fn heading(line: &str) -> Option<String> {
    let words = line.strip_suffix(':')?;
    if words.is_empty()
        || words.len() > 40
        || !words.chars().all(|c| c.is_ascii_alphabetic() || c == ' ')
    {
        return None;
    }
    Some(match words {
        "Exit codes" => "EXIT STATUS".to_owned(),
        "Example" | "Examples" => "EXAMPLES".to_owned(),
        other => other.to_uppercase(),
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;

    #[test]
    fn closing_text_becomes_paragraphs_and_sections() {
        let text = "A grant replaces the live one.\nIt lasts 30 days.\n\nExit codes:\n  0  success\n  \
1  refused\n\nVendor access (clients):\n  carnet vendor connect Acme \\\n      --webhook-url U\n\nExamples:\n  carnet x";
        let (intro, sections) = sections(text);
        assert_eq!(
            intro,
            [
                Block::Para("A grant replaces the live one.".into()),
                Block::Para("It lasts 30 days.".into())
            ]
        );
        let names: Vec<&str> = sections.iter().map(|(h, _)| h.as_str()).collect();
        assert_eq!(names, ["EXIT STATUS", "EXAMPLES"]);
        assert_eq!(
            sections[0].1,
            [
                Block::Lines(vec!["0  success".into(), "1  refused".into()]),
                Block::Para("Vendor access (clients):".into()),
                Block::Lines(vec![
                    "carnet vendor connect Acme \\".into(),
                    "    --webhook-url U".into()
                ]),
            ]
        );
    }

    #[test]
    fn the_main_page_lists_every_command_with_its_usage() {
        let page = main_page(Cli::command());
        assert_eq!(page.file_name, "carnet.1");
        let text = &page.text;
        assert!(text.starts_with(".ie \\n(.g .ds Aq"), "{text}");
        assert_eq!(text.matches(".ds Aq").count(), 2, "one preamble");
        assert!(text.contains(".TH CARNET 1"), "{text}");
        for sub in Cli::command().get_subcommands() {
            if sub.is_hide_set() {
                continue;
            }
            let usage = format!("\\fBcarnet {}", sub.get_name().replace('-', "\\-"));
            assert!(text.contains(&usage), "{} missing:\n{text}", sub.get_name());
        }
        for section in [
            ".SH SYNOPSIS",
            ".SH OPTIONS",
            ".SH COMMANDS",
            ".SH \"EXIT STATUS\"",
            ".SH EXAMPLES",
            ".SH \"SEE ALSO\"",
        ] {
            assert!(text.contains(section), "{section} missing");
        }
        assert!(
            text.contains("carnet vendor add"),
            "leaf commands are listed"
        );
        assert!(
            text.contains("\\fBcarnet man"),
            "carnet man is a command like the others"
        );
        assert!(!text.contains(".SH EXTRA"));
    }

    #[test]
    fn a_page_per_command_links_to_the_pages_below() {
        let pages = all_pages(Cli::command());
        let names: Vec<&str> = pages.iter().map(|p| p.file_name.as_str()).collect();
        for name in [
            "carnet.1",
            "carnet-vendor.1",
            "carnet-vendor-add.1",
            "carnet-audit-verify.1",
            "carnet-completions.1",
        ] {
            assert!(names.contains(&name), "{name} missing: {names:?}");
        }
        assert!(!names.iter().any(|n| n.contains("help")));
        assert!(names.contains(&"carnet-man.1"), "{names:?}");
        let vendor = pages
            .iter()
            .find(|p| p.file_name == "carnet-vendor.1")
            .map(|p| p.text.as_str())
            .unwrap_or_default();
        assert!(vendor.contains("carnet\\-vendor\\-add(1)"), "{vendor}");
        let add = pages
            .iter()
            .find(|p| p.file_name == "carnet-vendor-add.1")
            .map(|p| p.text.as_str())
            .unwrap_or_default();
        assert!(add.contains("\\-\\-website"), "{add}");
        assert!(add.contains("carnet\\-vendor(1)"), "{add}");
    }
}
