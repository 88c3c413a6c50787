//! Long text flags (`--summary`, `--note`, `--description`, …): the text itself, `-` for stdin
//! or `@FILE` for a file's content, one rule for every flag that takes free text. A value that
//! is refused is never echoed back: a 70,000-character paste would fill the screen.

use std::ffi::OsStr;
use std::io::{IsTerminal, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use carnet_schemas::Text;
use clap::builder::TypedValueParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, Command};

use super::OrClear;

/// Appended to the help of every long text flag: the limit and where the text may come from.
macro_rules! long_text_help {
    ($help:literal) => {
        concat!(
            $help,
            " (at most 10,000 characters; \"-\" reads it from stdin, @FILE from a file)"
        )
    };
}
pub(crate) use long_text_help;

/// Whether a flag has read stdin already: only one may.
static STDIN_TAKEN: AtomicBool = AtomicBool::new(false);

/// Parses a long text flag: `-`, `@FILE`, `@@…` or the text itself.
#[derive(Debug, Clone, Copy)]
pub struct LongText;

/// The same, where '' clears the field (`edit` commands).
#[derive(Debug, Clone, Copy)]
pub struct LongTextOrClear;

impl TypedValueParser for LongText {
    type Value = Text;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<Text, clap::Error> {
        let flag = arg.map_or_else(|| "TEXT".to_owned(), ToString::to_string);
        long_text(value, &flag).map_err(|why| refused(cmd, &flag, &why))
    }
}

impl TypedValueParser for LongTextOrClear {
    type Value = OrClear<Text>;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<OrClear<Text>, clap::Error> {
        if value.is_empty() {
            return Ok(OrClear::Clear);
        }
        LongText.parse_ref(cmd, arg, value).map(OrClear::Set)
    }
}

/// The text a long text flag's value stands for, or why there is none (never quoting it).
fn long_text(value: &OsStr, flag: &str) -> Result<Text, String> {
    let Some(value) = value.to_str() else {
        return Err("the text is not valid UTF-8".to_owned());
    };
    let text = if value == "-" {
        read_stdin(flag)?
    } else if let Some(literal) = value.strip_prefix("@@") {
        format!("@{literal}")
    } else if let Some(path) = value.strip_prefix('@') {
        if path.is_empty() {
            return Err(
                "@ is followed by no file name; write @FILE, or @@ for a text starting with @"
                    .to_owned(),
            );
        }
        read_file(Path::new(path))?
    } else {
        value.to_owned()
    };
    Text::try_from(text).map_err(|e| e.to_string())
}

/// The most bytes read from a file or stdin: the longest text in UTF-8, and its line break.
const MAX_BYTES: u64 = Text::MAX_CHARS as u64 * 4 + 2;

fn read_stdin(flag: &str) -> Result<String, String> {
    if STDIN_TAKEN.swap(true, Ordering::SeqCst) {
        return Err(
            "another flag reads stdin (\"-\") already: give this text as @FILE instead".to_owned(),
        );
    }
    if std::io::stdin().is_terminal() {
        crate::output::message(&format!(
            "carnet: reading {flag} from the terminal; end it with Ctrl-D on a line of its own"
        ));
    }
    read_all(std::io::stdin().lock()).map_err(|e| format!("cannot read stdin: {e}"))
}

fn read_file(path: &Path) -> Result<String, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    read_all(file).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Reads at most `MAX_BYTES` and one more (to tell a text too long), drops one final line
/// break.
fn read_all(from: impl Read) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    from.take(MAX_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(std::io::Error::other(format!(
            "it holds more than the limit of {} characters",
            Text::MAX_CHARS
        )));
    }
    let mut text =
        String::from_utf8(bytes).map_err(|_| std::io::Error::other("it is not UTF-8 text"))?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(text)
}

/// A usage error for `flag` that says why, without the value.
fn refused(cmd: &Command, flag: &str, why: &str) -> clap::Error {
    let mut cmd = cmd.clone();
    clap::Error::raw(
        ErrorKind::ValueValidation,
        format!("invalid value for '{flag}': {why}\n"),
    )
    .format(&mut cmd)
}

/// Values longer than this are not echoed whole in clap's own errors.
const ECHO_MAX: usize = 60;

/// clap's error with an over-long value it would echo cut down to its start and its length.
pub fn quiet(mut e: clap::Error) -> clap::Error {
    if let Some(ContextValue::String(value)) = e.get(ContextKind::InvalidValue) {
        let chars = value.chars().count();
        if chars > ECHO_MAX {
            let start: String = value.chars().take(20).collect();
            let short = format!("{start}… ({chars} characters)");
            e.insert(ContextKind::InvalidValue, ContextValue::String(short));
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<Text, String> {
        long_text(OsStr::new(value), "--note <TEXT>")
    }

    #[test]
    fn text_comes_as_is_from_a_file_or_escaped() {
        assert_eq!(parse("plain words").unwrap().as_str(), "plain words");
        assert_eq!(parse("@@lea said hi").unwrap().as_str(), "@lea said hi");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "line one\nline two\r\n").unwrap();
        let from_file = parse(&format!("@{}", path.display())).unwrap();
        assert_eq!(from_file.as_str(), "line one\nline two");
        let missing = parse(&format!("@{}", dir.path().join("none").display())).unwrap_err();
        assert!(missing.contains("cannot open"), "{missing}");
        assert!(parse("@").unwrap_err().contains("@FILE"));
    }

    #[test]
    fn a_file_too_long_is_refused_without_reading_it_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.txt");
        std::fs::write(&path, "x".repeat(1_000_000)).unwrap();
        let why = parse(&format!("@{}", path.display())).unwrap_err();
        assert!(why.contains("10000"), "{why}");
        let why = parse(&"y".repeat(70_000)).unwrap_err();
        assert!(
            why.contains("the limit is 10000") && !why.contains("yyy"),
            "{why}"
        );
    }

    #[test]
    fn the_help_says_the_real_limit() {
        assert_eq!(Text::MAX_CHARS, 10_000);
        assert!(long_text_help!("x").contains("10,000"));
        assert!(crate::cli::MAIN_HELP.contains("at most 10,000 characters"));
    }
}
