//! Whether carnet colours what it prints, and the three styles it uses: `carnet: error:`,
//! `carnet: warning:` and `hint:` on stderr. Nothing else is coloured, and nothing at all on
//! stdout, so tables and JSON pipe clean. anstream decides and strips, as it does for clap's
//! own help and usage errors, so both follow one rule: `--color auto` (the default) colours a
//! terminal unless `NO_COLOR` is set to anything non-empty (no-color.org), `CLICOLOR` is `0`
//! or `TERM` is `dumb` or unset, and colours even a pipe under `CLICOLOR_FORCE`; `--color never`
//! never colours; `--color always` always does, as no-color.org says a per-instance flag
//! should, `NO_COLOR` included.
//!
//! The choice is made once, by `main`, before anything is printed; what carnet writes to stderr
//! goes through `anstream::stderr()`, which drops the styles when colour is off.

use std::ffi::OsString;

use anstyle::{AnsiColor, Style};

/// `--color WHEN`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour a terminal, unless NO_COLOR is set or TERM is dumb
    #[default]
    Auto,
    /// Always colour, even a pipe
    Always,
    /// Never colour
    Never,
}

impl ColorChoice {
    /// The same choice for clap's own output (help, usage errors).
    pub fn for_clap(self) -> clap::ColorChoice {
        match self {
            ColorChoice::Auto => clap::ColorChoice::Auto,
            ColorChoice::Always => clap::ColorChoice::Always,
            ColorChoice::Never => clap::ColorChoice::Never,
        }
    }

    /// The `--color` value on a command line, read before clap parses it so that clap's own
    /// help and errors follow it too. Anything unreadable is `Auto`, and clap then reports it.
    pub fn from_args(args: &[OsString]) -> ColorChoice {
        let mut value = None;
        let mut args = args.iter().skip(1).map(|a| a.to_str());
        while let Some(arg) = args.next() {
            match arg {
                Some("--") => break,
                Some("--color") => value = args.next().flatten(),
                Some(a) if a.starts_with("--color=") => value = a.get("--color=".len()..),
                _ => {}
            }
        }
        match value {
            Some("always") => ColorChoice::Always,
            Some("never") => ColorChoice::Never,
            _ => ColorChoice::Auto,
        }
    }
}

/// Sets, once, how carnet's stderr is coloured: `anstream::stderr()` follows it from then on
/// (without `init`, as in unit tests, anstream decides alone).
pub fn init(choice: ColorChoice) {
    match choice {
        ColorChoice::Auto => anstream::ColorChoice::Auto,
        ColorChoice::Always => anstream::ColorChoice::Always,
        ColorChoice::Never => anstream::ColorChoice::Never,
    }
    .write_global();
}

/// `carnet: error:`, bold red.
pub const ERROR: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
/// `carnet: warning:`, bold yellow.
pub const WARNING: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));
/// `hint:`, bold cyan.
pub const HINT: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan)));

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &[&str]) -> Vec<OsString> {
        std::iter::once("carnet")
            .chain(line.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn the_choice_is_read_before_clap_parses() {
        assert_eq!(ColorChoice::from_args(&args(&[])), ColorChoice::Auto);
        assert_eq!(
            ColorChoice::from_args(&args(&["--color", "never", "vendor", "list"])),
            ColorChoice::Never
        );
        assert_eq!(
            ColorChoice::from_args(&args(&["vendor", "list", "--color=always"])),
            ColorChoice::Always
        );
        assert_eq!(
            ColorChoice::from_args(&args(&["--color=never", "--color", "always"])),
            ColorChoice::Always,
            "the last one (clap then refuses the repetition itself)"
        );
        assert_eq!(
            ColorChoice::from_args(&args(&["--color", "sometimes"])),
            ColorChoice::Auto
        );
        assert_eq!(
            ColorChoice::from_args(&args(&["interaction", "add", "--", "--color=never"])),
            ColorChoice::Auto,
            "after --, it is a value"
        );
    }
}
