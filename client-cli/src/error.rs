//! The one error the CLI reports: a line saying what went wrong, a hint a person can follow,
//! and the exit code that tells scripts which kind of failure it was.

use std::fmt;

use anstyle::Style;

use crate::color;
use crate::output::one_line;

/// Exit codes, documented in `carnet --help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// The server refused the request (4xx), or anything else went wrong.
    Failed,
    /// The command line was wrong (clap uses the same code for its own errors).
    Usage,
    /// carnetd could not be reached.
    Unreachable,
    /// No token was found, or the server refused it (for `carnet unlock`: the passphrase or
    /// recovery key).
    Auth,
    /// The vault is sealed: its key is not in memory until `carnet unlock`.
    Sealed,
    /// The access log, or a row that decides access, failed verification (`carnet audit
    /// verify`): an entry was altered or removed, the log was cut, or a row was changed
    /// without the vault key.
    LogAltered,
}

impl ExitKind {
    pub fn code(self) -> u8 {
        match self {
            ExitKind::Failed => 1,
            ExitKind::Usage => 2,
            ExitKind::Unreachable => 3,
            ExitKind::Auth => 4,
            ExitKind::Sealed => 5,
            ExitKind::LogAltered => 6,
        }
    }

    /// What to do next when the error itself says nothing more specific.
    fn fallback_hint(self) -> &'static str {
        match self {
            ExitKind::Failed | ExitKind::Usage => {
                "`carnet COMMAND --help` says what a command takes, with examples"
            }
            ExitKind::Unreachable => {
                "start it with `carnetd`, or point --server / CARNET_SERVER at it"
            }
            ExitKind::Auth => {
                "run `carnet login --server URL --token-file F` with the owner.token from carnetd's data directory"
            }
            ExitKind::Sealed => "run `carnet unlock`",
            ExitKind::LogAltered => {
                "compare with a backup of carnet.db; carnetd keeps running and serving your data"
            }
        }
    }
}

/// For an error that only a bug in carnet can cause.
pub const BUG_HINT: &str =
    "this is a bug in carnet: please report it, with `carnet --version` and the command you ran";

/// What to do after the server refused a request with `status` and said nothing more.
fn status_hint(status: u16) -> Option<&'static str> {
    match status {
        400 | 422 => Some("correct the value named above and run the command again"),
        404 => Some("it may have been removed: the `list` commands show what there is"),
        409 => Some("it changed meanwhile, or exists already: look at it again, then retry"),
        413 => Some("send less at once"),
        429 => Some("wait a little, then run the command again"),
        500..=599 => Some("carnetd's log says what went wrong; try again later"),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub message: String,
    pub hint: Option<String>,
    pub kind: ExitKind,
    /// The HTTP status when the server refused the request.
    pub status: Option<u16>,
    /// The seconds of a 429's `Retry-After`, when it has one.
    pub retry_after: Option<u64>,
}

pub type CliResult<T> = Result<T, CliError>;

impl CliError {
    pub fn new(kind: ExitKind, message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            hint: None,
            kind,
            status: None,
            retry_after: None,
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ExitKind::Failed, message)
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ExitKind::Usage, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds `hint` when the error has none (the server's own hint wins).
    pub fn or_hint(mut self, hint: impl Into<String>) -> Self {
        if self.hint.is_none() {
            self.hint = Some(hint.into());
        }
        self
    }

    /// The hint printed: the error's own, else one for its HTTP status or its kind, so that
    /// every error ends with something to do.
    pub fn hint_or_fallback(&self) -> &str {
        self.hint
            .as_deref()
            .or_else(|| self.status.and_then(status_hint))
            .unwrap_or_else(|| self.kind.fallback_hint())
    }

    /// The lines printed on stderr: `carnet: error: …` and `  hint: …`. Each is one line with
    /// control characters removed, whatever the server sent.
    pub fn render(&self) -> String {
        self.render_in(Style::new(), Style::new())
    }

    /// `render`, with the prefixes styled, for `anstream::stderr()` to keep or strip (see
    /// `color`).
    pub fn render_styled(&self) -> String {
        self.render_in(color::ERROR, color::HINT)
    }

    fn render_in(&self, error: Style, hint: Style) -> String {
        format!(
            "{error}carnet: error:{error:#} {}\n  {hint}hint:{hint:#} {}\n",
            one_line(&self.message),
            one_line(self.hint_or_fallback())
        )
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// An error reading or writing a local file, naming the file, with a hint for its kind (a
/// caller's `with_hint` replaces it).
pub fn io_error(what: &str, path: &std::path::Path, e: &std::io::Error) -> CliError {
    use std::io::ErrorKind;
    let hint = match e.kind() {
        ErrorKind::NotFound => "check the path: it, or the directory it is in, does not exist",
        ErrorKind::PermissionDenied => {
            "check who owns it and its mode (`ls -l`): this user may not read or write it"
        }
        ErrorKind::IsADirectory => "give the path of a file, not of a directory",
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => "free some disk space and try again",
        ErrorKind::ReadOnlyFilesystem => "choose a place on a writable file system",
        _ => "check the path, its permissions and the free space, then try again",
    };
    CliError::failed(format!("cannot {what} {}: {e}", path.display())).with_hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_line_and_a_hint() {
        let e = CliError::failed("no vendor named \"X\"\n\u{1b}[2Jgone")
            .with_hint("carnet vendor list shows names and ids");
        assert_eq!(
            e.render(),
            "carnet: error: no vendor named \"X\" [2Jgone\n  hint: carnet vendor list shows names and ids\n"
        );
    }

    const KINDS: [ExitKind; 6] = [
        ExitKind::Failed,
        ExitKind::Usage,
        ExitKind::Unreachable,
        ExitKind::Auth,
        ExitKind::Sealed,
        ExitKind::LogAltered,
    ];

    /// Every error ends with a hint: its own, else one for its status or its kind.
    #[test]
    fn every_error_ends_with_a_hint() {
        for kind in KINDS {
            for status in [None, Some(400), Some(404), Some(409), Some(418), Some(503)] {
                let e = CliError {
                    status,
                    ..CliError::new(kind, "x")
                };
                let text = e.render();
                let lines: Vec<&str> = text.lines().collect();
                assert_eq!(lines.len(), 2, "{kind:?} {status:?}: {text}");
                assert!(lines[1].starts_with("  hint: "), "{kind:?}: {text}");
                assert!(lines[1].len() > "  hint: ".len() + 10, "{kind:?}: {text}");
            }
        }
        let own = CliError {
            status: Some(404),
            ..CliError::failed("x").with_hint("mine")
        };
        assert_eq!(own.hint_or_fallback(), "mine", "the error's own hint wins");
        assert!(
            CliError::new(ExitKind::Sealed, "x")
                .render()
                .contains("carnet unlock")
        );
        assert!(CliError::usage("x").render().contains("--help"));
    }

    #[test]
    fn exit_codes_are_the_documented_ones() {
        let codes: Vec<u8> = KINDS.iter().map(|k| k.code()).collect();
        assert_eq!(codes, [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn file_errors_name_the_file_and_hint_by_kind() {
        let path = std::path::Path::new("/nowhere/carnet.age");
        let e = io_error(
            "open",
            path,
            &std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert!(
            e.message.starts_with("cannot open /nowhere/carnet.age: "),
            "{e:?}"
        );
        assert!(e.hint_or_fallback().contains("does not exist"), "{e:?}");
        let e = io_error(
            "write",
            path,
            &std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        assert!(e.hint_or_fallback().contains("ls -l"), "{e:?}");
    }

    #[test]
    fn colour_paints_the_prefixes_only() {
        let e = CliError::failed("a \u{1b}[31mred\u{1b}[0m name").with_hint("do this");
        assert_eq!(
            e.render_styled(),
            "\u{1b}[1m\u{1b}[31mcarnet: error:\u{1b}[0m a [31mred[0m name\n  \u{1b}[1m\u{1b}[36mhint:\u{1b}[0m do this\n"
        );
        assert!(!e.render().contains('\u{1b}'));
    }
}
