//! Whether carnet colours what it prints, and the three styles it uses: `carnet: error:`,
//! `carnet: warning:` and `hint:` on stderr. Nothing else is coloured, and nothing at all on
//! stdout, so tables and JSON pipe clean. Colour only reaches a terminal: `--color auto` (the
//! default) colours a stream that is a terminal unless `NO_COLOR` is set to anything non-empty
//! (no-color.org) or `TERM` is `dumb`; `--color never` never colours; `--color always` always
//! does, as no-color.org says a per-instance flag should, `NO_COLOR` included. clap's own
//! help and usage errors follow the same choice.
//!
//! The choice is made once, by `main`, before anything is printed.

use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::sync::OnceLock;

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
    /// The same choice for clap's own output (help, usage errors); clap's `auto` honours
    /// `NO_COLOR` and `TERM=dumb` too.
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

/// Whether a stream gets colour: the decision, apart from the process's environment.
pub fn decide(
    choice: ColorChoice,
    no_color: Option<&OsStr>,
    term: Option<&OsStr>,
    is_terminal: bool,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = no_color.is_some_and(|v| !v.is_empty());
            let dumb = term.is_some_and(|t| t == "dumb");
            is_terminal && !no_color && !dumb
        }
    }
}

static STDERR: OnceLock<bool> = OnceLock::new();

/// Decides, once, whether stderr is coloured; later calls change nothing.
pub fn init(choice: ColorChoice) {
    let _ = STDERR.set(decide(
        choice,
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
        std::io::stderr().is_terminal(),
    ));
}

/// Whether stderr is coloured (never when `init` was not called, as in unit tests).
pub fn stderr() -> bool {
    STDERR.get().copied().unwrap_or(false)
}

/// The styles carnet uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `carnet: error:`, bold red.
    Error,
    /// `carnet: warning:`, bold yellow.
    Warning,
    /// `hint:`, bold cyan.
    Hint,
}

/// `text` in `style` when `on`, else as it is. `text` is carnet's own (a prefix), never
/// something the server sent.
pub fn paint(text: &str, style: Style, on: bool) -> String {
    if !on {
        return text.to_owned();
    }
    let code = match style {
        Style::Error => "1;31",
        Style::Warning => "1;33",
        Style::Hint => "1;36",
    };
    format!("\u{1b}[{code}m{text}\u{1b}[0m")
}

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
    fn auto_colours_a_terminal_only_without_no_color_or_a_dumb_term() {
        let on = |no_color: Option<&str>, term: Option<&str>, tty: bool| {
            decide(
                ColorChoice::Auto,
                no_color.map(OsStr::new),
                term.map(OsStr::new),
                tty,
            )
        };
        assert!(on(None, Some("xterm-256color"), true));
        assert!(on(None, None, true));
        assert!(!on(None, Some("xterm"), false), "not a terminal");
        assert!(!on(Some("1"), Some("xterm"), true), "NO_COLOR=1");
        assert!(!on(Some("0"), Some("xterm"), true), "any non-empty value");
        assert!(!on(Some("false"), None, true), "any non-empty value");
        assert!(
            on(Some(""), Some("xterm"), true),
            "an empty NO_COLOR is unset"
        );
        assert!(!on(None, Some("dumb"), true));
    }

    #[test]
    fn the_flag_overrides_the_environment() {
        for (no_color, tty) in [(None, false), (Some("1"), true), (Some("1"), false)] {
            let no_color = no_color.map(OsStr::new);
            assert!(decide(ColorChoice::Always, no_color, None, tty));
            assert!(!decide(ColorChoice::Never, no_color, None, true));
        }
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

    #[test]
    fn paint_wraps_only_when_on() {
        assert_eq!(paint("hint:", Style::Hint, false), "hint:");
        assert_eq!(
            paint("carnet: error:", Style::Error, true),
            "\u{1b}[1;31mcarnet: error:\u{1b}[0m"
        );
    }
}
