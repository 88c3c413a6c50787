//! The one error the CLI reports: a line saying what went wrong, a hint a person can follow,
//! and the exit code that tells scripts which kind of failure it was.

use std::fmt;

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
    /// The access log failed verification (`carnet audit verify`): an entry was altered or
    /// removed, or the log was cut.
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

    /// The lines printed on stderr: `carnet: error: …` and, when there is one, `  hint: …`.
    /// Each is one line with control characters removed, whatever the server sent.
    pub fn render(&self) -> String {
        let mut out = format!("carnet: error: {}\n", one_line(&self.message));
        if let Some(hint) = &self.hint {
            out.push_str(&format!("  hint: {}\n", one_line(hint)));
        }
        out
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// An error reading or writing a local file, naming the file.
pub fn io_error(what: &str, path: &std::path::Path, e: &std::io::Error) -> CliError {
    CliError::failed(format!("cannot {what} {}: {e}", path.display()))
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
        assert_eq!(
            CliError::usage("x").render(),
            "carnet: error: x\n",
            "no hint line without a hint"
        );
    }
}
