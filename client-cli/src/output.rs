//! Everything the CLI prints: tables, `key: value` blocks and JSON on stdout, messages on
//! stderr. Every string that came from the server passes through `one_line` or `multi_line`
//! before it reaches a terminal, so nothing stored in the vault can move the cursor, change
//! colours or reorder text on the owner's screen.

use std::fmt::Display;
use std::io::Write;

use chrono::{DateTime, Local, TimeZone};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::color;

mod table;

pub use table::{FULL_WIDTH, TableOut, csv_cell, cut_words, is_csv, set_csv, terminal_width};

/// Characters never printed: all C0 and C1 controls and DEL (`char::is_control`), and the
/// Unicode bidirectional embeddings, overrides and isolates, which can make text read
/// differently from what it is.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// For a table cell or a one-line message: line breaks and tabs become spaces, every other
/// unsafe character is dropped.
pub fn one_line(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '\n' | '\t' => Some(' '),
            c if is_unsafe(c) => None,
            c => Some(c),
        })
        .collect()
}

/// For a `show` value that may span lines: keeps `\n`, turns tabs into a space, drops every
/// other unsafe character (including a lone `\r`, which would let a line overwrite itself).
pub fn multi_line(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '\n' => Some('\n'),
            '\t' => Some(' '),
            c if is_unsafe(c) => None,
            c => Some(c),
        })
        .collect()
}

/// Writes to stdout; a closed pipe (`carnet vendor list | head -1`) is not an error.
pub fn stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// A message for the person at the terminal, on stderr (so `--json` stdout stays JSON).
/// A leading `carnet: warning:` is coloured when stderr is (see `color`).
pub fn message(text: &str) {
    let line = one_line(text);
    let line = match line.strip_prefix(WARNING) {
        Some(rest) => format!("{style}{WARNING}{style:#}{rest}", style = color::WARNING),
        None => line,
    };
    let mut err = anstream::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// How a warning message starts.
const WARNING: &str = "carnet: warning:";

/// JSON on stdout, pretty-printed, with the characters serde_json leaves raw (C1 controls,
/// bidi overrides) written as `\u` escapes: the same JSON value, harmless on a terminal.
pub fn json(value: &serde_json::Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    stdout(&format!("{}\n", escape_json_text(&text)));
}

fn escape_json_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        // serde_json already escapes C0 inside strings: a raw one is layout (newline, indent).
        if is_unsafe(c) && c > '\u{1f}' {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// The `key: value` lines of a `show`, values aligned; a multi-line value continues under
/// its first line.
#[derive(Default)]
pub struct Fields {
    rows: Vec<(String, String)>,
}

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, key: &str, value: impl Display) -> &mut Self {
        self.rows.push((key.to_owned(), value.to_string()));
        self
    }

    /// Adds the line only when there is a value.
    pub fn opt<T: Display>(&mut self, key: &str, value: Option<T>) -> &mut Self {
        if let Some(v) = value {
            self.add(key, v);
        }
        self
    }

    pub fn render(&self) -> String {
        let width = self.rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
        let mut out = String::new();
        for (key, value) in &self.rows {
            let clean = multi_line(value);
            let mut lines = clean.lines();
            let first = lines.next().unwrap_or("");
            out.push_str(format!("{:width$}{first}", format!("{key}:")).trim_end());
            out.push('\n');
            for line in lines {
                out.push_str(format!("{:width$}{line}", "").trim_end());
                out.push('\n');
            }
        }
        out
    }

    pub fn print(&self) {
        stdout(&self.render());
    }
}

/// A time in the owner's time zone, to the minute (tables).
pub fn short_time<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()
}

/// A time in the owner's time zone with its offset (`show`).
pub fn long_time<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    t.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

/// `"Acme"` with quotes, for messages; the name is made one safe line.
pub fn quoted(s: &str) -> String {
    format!("\"{}\"", one_line(s))
}

/// Cuts `s` to at most `max` terminal columns, ending with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.width() <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let evil = "Acme\u{1b}[2J\u{7}\u{9b}31m\u{0}\u{7f}\u{202e}gnp.exe\r\nok\tthere";
        assert_eq!(one_line(evil), "Acme[2J31mgnp.exe ok there");
        assert_eq!(multi_line(evil), "Acme[2J31mgnp.exe\nok there");
        assert_eq!(one_line("plain é ü 東京"), "plain é ü 東京");
    }

    #[test]
    fn json_stays_json_but_escapes_c1_and_bidi() {
        let v = serde_json::json!({"name": "a\u{9b}b\u{1b}c\u{202e}d\u{7f}"});
        let text = escape_json_text(&serde_json::to_string(&v).unwrap());
        assert_eq!(text, r#"{"name":"a\u009bb\u001bc\u202ed\u007f"}"#);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
        let pretty = escape_json_text(&serde_json::to_string_pretty(&v).unwrap());
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&pretty).unwrap(),
            v
        );
        assert!(pretty.contains('\n'));
    }

    #[test]
    fn fields_align_and_continue_multi_line_values() {
        let mut f = Fields::new();
        f.add("id", "ven_1").add("note", "line one\nline\u{1b}two");
        f.opt("website", None::<&str>);
        assert_eq!(f.render(), "id:   ven_1\nnote: line one\n      linetwo\n");
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("ééé", 3), "ééé");
        assert_eq!(truncate("東京都庁", 5), "東京…");
    }
}
