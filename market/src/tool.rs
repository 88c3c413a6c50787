//! What the `carnet-market` and `carnet-vendor` tools share: their one error (a line saying what
//! went wrong, a hint a person can follow, an exit code), and reading a time from the command
//! line. Never panics on input; never prints a private key.

use std::fmt;
use std::process::ExitCode;

use chrono::{DateTime, Duration, Utc};

/// Exit codes of both tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// Anything else went wrong.
    Failed = 1,
    /// The command line was wrong (clap uses the same code).
    Usage = 2,
    /// The relay could not be reached, or refused.
    Unreachable = 3,
    /// A signature, key or directory was refused.
    Refused = 4,
}

/// The one error a tool reports.
#[derive(Debug)]
pub struct ToolError {
    pub message: String,
    pub hint: String,
    pub kind: ExitKind,
}

impl ToolError {
    pub fn new(kind: ExitKind, message: impl fmt::Display, hint: impl Into<String>) -> Self {
        ToolError {
            message: one_line(&message.to_string()),
            hint: one_line(&hint.into()),
            kind,
        }
    }

    pub fn failed(message: impl fmt::Display, hint: impl Into<String>) -> Self {
        Self::new(ExitKind::Failed, message, hint)
    }

    pub fn usage(message: impl fmt::Display, hint: impl Into<String>) -> Self {
        Self::new(ExitKind::Usage, message, hint)
    }

    /// Prints `<tool>: error: …` and `  hint: …` on stderr and returns the exit code.
    pub fn report(&self, tool: &str) -> ExitCode {
        eprintln!("{tool}: error: {}\n  hint: {}", self.message, self.hint);
        ExitCode::from(self.kind as u8)
    }
}

/// The error for a key or key file that could not be read or written; `keygen` names the command
/// that writes such a file (`carnet-vendor keygen`).
pub fn key_error(e: crate::keys::KeyError, keygen: &str) -> ToolError {
    use crate::keys::KeyError;
    let hint = match &e {
        KeyError::Exists { .. } => {
            "choose another --out, or remove the old key if you mean to replace it".to_owned()
        }
        KeyError::BadFile { .. } => format!("give the file `{keygen} --out` wrote"),
        KeyError::BadEd25519 | KeyError::BadX25519 => {
            "copy the key exactly as the keygen printed it".to_owned()
        }
        KeyError::Io { .. } => "check the path and its permissions".to_owned(),
    };
    ToolError::failed(e, hint)
}

/// Prints `text` and a line break on stdout. A closed stdout (`| head`) ends the output, never
/// the tool with a panic.
pub fn print_line(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}

/// `text` on one line: line breaks and other control characters become spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Which way a relative time counts from now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `--since 2h`: two hours ago.
    Past,
    /// `--valid-through 3d`: three days from now.
    Future,
}

/// Reads a time given on the command line: RFC 3339 (`2026-12-24T18:00:00Z`) or a duration from
/// `now` (`90m`, `2h`, `3d`, `1w`).
pub fn parse_when(
    text: &str,
    now: DateTime<Utc>,
    direction: Direction,
) -> Result<DateTime<Utc>, ToolError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let bad = || {
        ToolError::usage(
            format!("'{text}' is not a time"),
            "give an RFC 3339 time (2026-12-24T18:00:00Z) or a duration such as 90m, 2h, 3d, 1w",
        )
    };
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (digits, unit) = text.split_at(split);
    let n: i64 = digits.parse().map_err(|_| bad())?;
    let span = match unit {
        "s" => Duration::try_seconds(n),
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        "w" => Duration::try_weeks(n),
        _ => None,
    }
    .ok_or_else(bad)?;
    match direction {
        Direction::Past => now.checked_sub_signed(span),
        Direction::Future => now.checked_add_signed(span),
    }
    .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_or_a_duration_from_now() {
        let now = Utc::now();
        assert_eq!(
            parse_when("2h", now, Direction::Past).unwrap(),
            now - Duration::hours(2)
        );
        assert_eq!(
            parse_when("3d", now, Direction::Future).unwrap(),
            now + Duration::days(3)
        );
        assert!(parse_when("2026-12-24T18:00:00+01:00", now, Direction::Past).is_ok());
        for bad in ["", "h", "2y", "-2h", "99999999999999999w", "tomorrow"] {
            assert!(parse_when(bad, now, Direction::Past).is_err(), "{bad}");
        }
    }
}
