//! Everything the CLI prints: tables, `key: value` blocks and JSON on stdout, messages on
//! stderr. Every string that came from the server passes through `one_line` or `multi_line`
//! before it reaches a terminal, so nothing stored in the vault can move the cursor, change
//! colours or reorder text on the owner's screen.

use std::fmt::Display;
use std::io::{IsTerminal, Write};

use chrono::{DateTime, Local, TimeZone};
use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::color;

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

/// A borderless table that fits `COLUMNS` when it is set, else the terminal (or 80 columns when
/// stdout is not one): the `fixed` columns (ids, dates) keep their width, the text columns share
/// what is left and are cut with `…`, one line per row. When that would leave a text column
/// too narrow to read, the `optional` columns are left out, in their order, until it would not.
pub struct TableOut {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    fixed: Vec<usize>,
    right: Vec<usize>,
    optional: Vec<usize>,
    width: usize,
}

/// How wide a text column should be before optional columns are left out for it.
const READABLE: usize = 16;

/// Space between columns.
const GAP: usize = 2;

impl TableOut {
    pub fn new(headers: &[&str]) -> Self {
        let columns = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|c| *c > 0);
        let width = columns.or_else(|| {
            std::io::stdout()
                .is_terminal()
                .then(|| Table::new().width().map(usize::from))
                .flatten()
        });
        Self::with_width(headers, width.unwrap_or(80))
    }

    pub fn with_width(headers: &[&str], width: usize) -> Self {
        TableOut {
            headers: headers.iter().map(|h| h.to_uppercase()).collect(),
            rows: Vec::new(),
            fixed: Vec::new(),
            right: Vec::new(),
            optional: Vec::new(),
            width,
        }
    }

    /// The same table at this width (tests pin it).
    pub fn width(mut self, width: usize) -> Self {
        self.width = width;
        self
    }

    /// Keeps these columns at their content width.
    pub fn fixed(mut self, columns: &[usize]) -> Self {
        self.fixed.extend_from_slice(columns);
        self
    }

    /// Columns to leave out, in this order, when the text columns would be too narrow to read
    /// (`--json` always has everything).
    pub fn optional(mut self, columns: &[usize]) -> Self {
        self.optional.extend_from_slice(columns);
        self
    }

    /// Right-aligns these columns (amounts, counts).
    pub fn right(mut self, columns: &[usize]) -> Self {
        self.right.extend_from_slice(columns);
        self
    }

    /// Adds a row; each cell is made one safe line.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.rows
            .push(cells.into_iter().map(|c| one_line(c.as_ref())).collect());
    }

    /// The widest content of each column, its header included.
    fn content(&self) -> Vec<usize> {
        (0..self.headers.len())
            .map(|i| {
                std::iter::once(&self.headers[i])
                    .chain(self.rows.iter().filter_map(|r| r.get(i)))
                    .map(|c| c.width())
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    /// The columns shown: all of them, less the optional ones it takes (in their order) for
    /// every text column to get `READABLE` characters, or all of its content if shorter.
    fn shown(&self, content: &[usize]) -> Vec<usize> {
        let mut shown: Vec<usize> = (0..self.headers.len()).collect();
        let wanted = |shown: &[usize]| -> usize {
            let cells: usize = shown
                .iter()
                .map(|&i| {
                    if self.fixed.contains(&i) {
                        content[i]
                    } else {
                        content[i].min(READABLE)
                    }
                })
                .sum();
            cells + GAP * shown.len().saturating_sub(1)
        };
        for drop in &self.optional {
            if wanted(&shown) <= self.width {
                break;
            }
            shown.retain(|i| i != drop);
        }
        shown
    }

    /// Widths of the `shown` columns: fixed columns get their content; the others share the
    /// rest, each taking no more than it needs (so short columns leave room to long ones).
    fn widths(&self, content: &[usize], shown: &[usize]) -> Vec<usize> {
        let mut widths: Vec<usize> = shown.iter().map(|&i| content[i]).collect();
        let used: usize = shown
            .iter()
            .filter(|i| self.fixed.contains(i))
            .map(|&i| content[i])
            .sum();
        let mut left = self
            .width
            .saturating_sub(used + GAP * shown.len().saturating_sub(1));
        let mut open: Vec<usize> = (0..shown.len())
            .filter(|&k| !self.fixed.contains(&shown[k]))
            .collect();
        open.sort_by_key(|&k| content[shown[k]]);
        let mut remaining = open.len();
        for k in open {
            let i = shown[k];
            let share = left / remaining.max(1);
            // Never narrower than the header or 6 characters: a cut-down column must still say
            // something.
            let w = content[i].min(share.max(self.headers[i].width()).max(6).min(content[i]));
            widths[k] = w;
            left = left.saturating_sub(w);
            remaining -= 1;
        }
        widths
    }

    pub fn render(&self) -> String {
        let content = self.content();
        let shown = self.shown(&content);
        let widths = self.widths(&content, &shown);
        let mut table = Table::new();
        table
            .load_style(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled)
            .force_no_tty()
            .set_header(shown.iter().map(|&i| self.headers[i].clone()));
        for row in &self.rows {
            table.add_row(
                shown
                    .iter()
                    .zip(&widths)
                    .map(|(&i, &w)| truncate(row.get(i).map_or("", String::as_str), w)),
            );
        }
        let last = shown.len().saturating_sub(1);
        for (k, column) in table.column_iter_mut().enumerate() {
            column.set_padding((0, if k == last { 0 } else { GAP as u16 }));
            if shown.get(k).is_some_and(|i| self.right.contains(i)) {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
        let mut out = String::new();
        for line in table.lines() {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    pub fn print(&self) {
        stdout(&self.render());
    }
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
    fn tables_cut_long_text_to_the_width() {
        let mut t = TableOut::with_width(&["id", "vendor", "ch", "summary"], 80).fixed(&[0, 2]);
        t.row(["int_0123456789abcdef", "Acme", "phone", &"word ".repeat(40)]);
        t.row([
            "int_0123456789abcdeg",
            "Boulangerie Martin",
            "chat",
            "short\u{1b}[2J",
        ]);
        let text = t.render();
        assert!(text.lines().all(|l| l.width() <= 80), "{text}");
        assert_eq!(
            text,
            "ID                    VENDOR              CH     SUMMARY\n\
             int_0123456789abcdef  Acme                phone  word word word word word word…\n\
             int_0123456789abcdeg  Boulangerie Martin  chat   short[2J\n"
        );
        // Many long columns still fit, each cut.
        let mut t = TableOut::with_width(&["a", "b", "c"], 40);
        t.row(["x".repeat(50), "y".repeat(50), "z".repeat(50)]);
        let text = t.render();
        assert!(text.lines().all(|l| l.width() <= 40), "{text}");
        assert_eq!(text.matches('…').count(), 3, "{text}");
    }

    #[test]
    fn optional_columns_make_room_in_their_order_only_when_needed() {
        let table = |width| {
            let mut t = TableOut::with_width(&["id", "grant", "when", "what"], width)
                .fixed(&[0, 1, 2])
                .optional(&[2, 1]);
            t.row([
                "acc_0123456789abcdef",
                "grt_0123456789abcdef",
                "2026-11-16 11:00",
                "scope intents:read offers:write",
            ]);
            t.render()
        };
        // Wide enough: everything.
        let wide = table(120);
        assert!(wide.starts_with("ID   "), "{wide}");
        assert!(wide.contains("GRANT") && wide.contains("WHEN"), "{wide}");
        assert!(wide.contains("scope intents:read offers:write"), "{wide}");
        // WHEN goes first, and GRANT stays while WHAT gets its readable width.
        let middle = table(64);
        assert!(
            !middle.contains("WHEN") && middle.contains("GRANT"),
            "{middle}"
        );
        assert!(middle.lines().all(|l| l.width() <= 64), "{middle}");
        // Narrower still: GRANT goes too, and what is left is cut to fit.
        let narrow = table(40);
        assert!(
            !narrow.contains("GRANT") && !narrow.contains("WHEN"),
            "{narrow}"
        );
        assert!(narrow.lines().all(|l| l.width() <= 40), "{narrow}");
        assert!(
            narrow.contains("acc_0123456789abcdef  scope intents"),
            "{narrow}"
        );
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("ééé", 3), "ééé");
        assert_eq!(truncate("東京都庁", 5), "東京…");
    }
}
