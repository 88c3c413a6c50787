//! Tables that fit their width: which columns give way, in which order, and how a cell is
//! cut (text with `…`, lists between items, ids never from `FULL_WIDTH` on).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use unicode_width::UnicodeWidthStr;

use super::{one_line, stdout, truncate};

/// The width listings and help are laid out for: `COLUMNS` when it is set, else the
/// terminal's when stdout is one, else 80.
pub fn terminal_width() -> usize {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0);
    columns
        .or_else(|| {
            std::io::stdout()
                .is_terminal()
                .then(|| Table::new().width().map(usize::from))
                .flatten()
                .filter(|w| *w > 0)
        })
        .unwrap_or(80)
}

/// Below this width a listing may cut ids and scope names to fit; at it or above, never.
pub const FULL_WIDTH: usize = 80;

/// How a column gives way when the table is too wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Give {
    /// Free text: cut anywhere, ending with `…`.
    Text,
    /// Dates, states, amounts: kept whole unless the table cannot fit otherwise.
    Fixed,
    /// Ids: kept whole at `FULL_WIDTH` and above.
    Id,
    /// Ids, scopes, categories in a row: cut only between words, ending with ` +N` (the items
    /// left out) or ` …`, so no word is ever cut.
    Words,
}

/// A borderless table that fits its width (`terminal_width()`; `width` sets another): each
/// row on one line, no line wider than the width. The `ids` and `fixed` columns (dates,
/// states) keep their width, `words` columns (lists of ids, scopes, categories) are cut only
/// between words, the other columns share what is left and are cut with `…`. When that cannot
/// fit, the `optional` columns are left out, in their order, then fixed columns are cut. Only
/// below `FULL_WIDTH`, and only when that is not enough, are ids and scope names cut too.
#[derive(Clone)]
pub struct TableOut {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    give: Vec<Give>,
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
        Self::with_width(headers, terminal_width())
    }

    pub fn with_width(headers: &[&str], width: usize) -> Self {
        TableOut {
            headers: headers.iter().map(|h| h.to_uppercase()).collect(),
            rows: Vec::new(),
            give: vec![Give::Text; headers.len()],
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

    /// Keeps these columns (dates, states) at their content width when the table can fit.
    pub fn fixed(self, columns: &[usize]) -> Self {
        self.set(columns, Give::Fixed)
    }

    /// Keeps these columns (ids) whole; below `FULL_WIDTH` they may be cut as a last resort.
    pub fn ids(self, columns: &[usize]) -> Self {
        self.set(columns, Give::Id)
    }

    /// Cuts these columns (lists of ids, scopes, categories) only between words.
    pub fn words(self, columns: &[usize]) -> Self {
        self.set(columns, Give::Words)
    }

    fn set(mut self, columns: &[usize], give: Give) -> Self {
        for &i in columns {
            if let Some(g) = self.give.get_mut(i) {
                *g = give;
            }
        }
        self
    }

    /// Columns to leave out, in this order, when the others would not fit or the text columns
    /// would be too narrow to read (`--json` always has everything).
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

    fn cells(&self, i: usize) -> impl Iterator<Item = &str> + '_ {
        self.rows
            .iter()
            .map(move |r| r.get(i).map_or("", String::as_str))
    }

    /// The widest content of each column, its header included.
    fn content(&self) -> Vec<usize> {
        (0..self.headers.len())
            .map(|i| {
                self.cells(i)
                    .map(UnicodeWidthStr::width)
                    .chain([self.headers[i].width()])
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    /// The narrowest a column may be given how it gives way: its content when fixed, its
    /// widest first word (and what says more follow) for words, else its header or 6
    /// characters (a cut-down column must still say something), or less when its content is.
    fn least(&self, i: usize, give: Give, content: usize) -> usize {
        let header = self.headers[i].width();
        match give {
            Give::Fixed | Give::Id => content,
            Give::Words => self
                .cells(i)
                .map(least_words)
                .chain([header])
                .max()
                .unwrap_or(0),
            // A name column shows an id when the name is gone: that id is not cut either.
            Give::Text if self.width >= FULL_WIDTH => self
                .cells(i)
                .filter(|c| looks_like_id(c))
                .map(UnicodeWidthStr::width)
                .chain([content.min(header.max(6))])
                .max()
                .unwrap_or(0),
            Give::Text => content.min(header.max(6)),
        }
    }

    /// The columns shown and how each gives way: all of them, less the optional ones it takes
    /// (in their order) for the table to fit with every text column `READABLE`; when the table
    /// still cannot fit, fixed columns give way as text does, one at a time, until it fits, and
    /// below `FULL_WIDTH` words and ids then do too.
    fn layout(&self, content: &[usize]) -> (Vec<usize>, Vec<Give>) {
        let mut shown: Vec<usize> = (0..self.headers.len()).collect();
        let mut give = self.give.clone();
        let need = |shown: &[usize], give: &[Give], readable: bool| -> usize {
            let cells: usize = shown
                .iter()
                .map(|&i| {
                    let least = self.least(i, give[i], content[i]);
                    if readable && give[i] == Give::Text {
                        least.max(content[i].min(READABLE))
                    } else {
                        least
                    }
                })
                .sum();
            cells + GAP * shown.len().saturating_sub(1)
        };
        for drop in &self.optional {
            if need(&shown, &give, true) <= self.width {
                break;
            }
            shown.retain(|i| i != drop);
        }
        // Fixed columns first, then (below FULL_WIDTH) lists and ids, each kind from the
        // right: the id, usually first, is the last to be cut.
        let kinds: &[Give] = if self.width < FULL_WIDTH {
            &[Give::Fixed, Give::Words, Give::Id]
        } else {
            &[Give::Fixed]
        };
        let order: Vec<usize> = kinds
            .iter()
            .flat_map(|&kind| shown.iter().rev().filter(move |&&i| self.give[i] == kind))
            .copied()
            .collect();
        for i in order {
            if need(&shown, &give, false) <= self.width {
                break;
            }
            give[i] = Give::Text;
        }
        (shown, give)
    }

    /// Widths of the `shown` columns: each starts at its least; what is left goes first to the
    /// text columns, up to `READABLE`, then to every column that gives way, the ones wanting
    /// least served first, so short columns leave room to long ones.
    fn widths(&self, content: &[usize], shown: &[usize], give: &[Give]) -> Vec<usize> {
        let mut widths: Vec<usize> = shown
            .iter()
            .map(|&i| self.least(i, give[i], content[i]))
            .collect();
        let used: usize = widths.iter().sum::<usize>() + GAP * shown.len().saturating_sub(1);
        let mut left = self.width.saturating_sub(used);
        let of = |kinds: &[Give]| -> Vec<usize> {
            (0..shown.len())
                .filter(|&k| kinds.contains(&give[shown[k]]))
                .collect()
        };
        let readable = |k: usize| content[shown[k]].min(READABLE);
        let all = |k: usize| content[shown[k]];
        share(&mut widths, &mut left, of(&[Give::Text]), readable);
        share(&mut widths, &mut left, of(&[Give::Text, Give::Words]), all);
        // A list cut between items may leave part of its width unused: the text gets it.
        for k in of(&[Give::Words]) {
            let i = shown[k];
            let used = self
                .cells(i)
                .map(|c| cut_words(c, widths[k]).map_or(widths[k], |c| c.width()))
                .chain([self.headers[i].width()])
                .max()
                .unwrap_or(0);
            left += widths[k].saturating_sub(used);
            widths[k] = widths[k].min(used);
        }
        share(&mut widths, &mut left, of(&[Give::Text]), all);
        widths
    }

    pub fn render(&self) -> String {
        let content = self.content();
        let (shown, give) = self.layout(&content);
        let widths = self.widths(&content, &shown, &give);
        let fit = |text: &str, i: usize, w: usize| match give[i] {
            Give::Words => cut_words(text, w).unwrap_or_else(|| truncate(text, w)),
            Give::Text | Give::Fixed | Give::Id => truncate(text, w),
        };
        let mut table = Table::new();
        table
            .load_style(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled)
            .force_no_tty()
            .set_header(
                shown
                    .iter()
                    .zip(&widths)
                    .map(|(&i, &w)| truncate(&self.headers[i], w)),
            );
        for row in &self.rows {
            table.add_row(
                shown
                    .iter()
                    .zip(&widths)
                    .map(|(&i, &w)| fit(row.get(i).map_or("", String::as_str), i, w)),
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
            // Narrower than its columns' least (a terminal of a few characters): each line
            // is cut, so that nothing wraps.
            out.push_str(truncate(line.trim_end(), self.width.max(1)).trim_end());
            out.push('\n');
        }
        out
    }

    /// Prints the table, or with `--csv` (`set_csv`) its CSV.
    pub fn print(&self) {
        if is_csv() {
            stdout(&self.csv());
        } else {
            stdout(&self.render());
        }
    }

    /// The table as CSV: a header line of the column names (lower case) and every column of
    /// every row, nothing cut or left out. A cell that a spreadsheet would run as a formula
    /// (starting with `=`, `+`, `-`, `@`, a tab or a CR) starts with `'` instead.
    pub fn csv(&self) -> String {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let headers = self.headers.iter().map(|h| h.to_lowercase());
        let _ = w.write_record(headers);
        for row in &self.rows {
            let _ = w.write_record(row.iter().map(|c| csv_cell(c)));
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

/// Whether `TableOut::print` writes CSV (`--csv`), set once by `set_csv` before printing.
static CSV: AtomicBool = AtomicBool::new(false);

/// `--csv`: every table printed from now on is written as CSV.
pub fn set_csv(on: bool) {
    CSV.store(on, Ordering::Relaxed);
}

/// Whether `--csv` was given: a listing then prints only its rows, no totals after them.
pub fn is_csv() -> bool {
    CSV.load(Ordering::Relaxed)
}

/// A cell made safe for a spreadsheet: one that would start a formula gets a leading `'`
/// (OWASP's advice on CSV injection).
pub fn csv_cell(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// Gives the columns `open` (indexes into `widths`) up to `cap` each from `left`, those wanting
/// least first, each at most an equal share of what is left.
fn share(
    widths: &mut [usize],
    left: &mut usize,
    mut open: Vec<usize>,
    cap: impl Fn(usize) -> usize,
) {
    open.sort_by_key(|&k| cap(k).saturating_sub(widths[k]));
    let mut remaining = open.len();
    for k in open {
        let extra = cap(k)
            .saturating_sub(widths[k])
            .min(*left / remaining.max(1));
        widths[k] += extra;
        *left -= extra;
        remaining -= 1;
    }
}

/// Whether `s` is a record id (`ven_0123456789abcdef`).
fn looks_like_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b[3] == b'_'
        && b[..3].iter().all(u8::is_ascii_lowercase)
        && b[4..]
            .iter()
            .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'v'))
}

/// The words of a cell (a list's items keep their comma).
fn words(s: &str) -> Vec<&str> {
    s.split(' ').filter(|w| !w.is_empty()).collect()
}

/// What follows the words kept when some are left out: ` +N` for a list (`a, b, c`), else
/// ` …`.
fn more(s: &str, kept: &[&str], all: &[&str]) -> String {
    let list = s.contains(", ");
    let at_item = kept.last().is_some_and(|w| w.ends_with(','));
    if list && at_item {
        let items_left = all[kept.len()..]
            .iter()
            .filter(|w| w.ends_with(','))
            .count()
            + 1;
        format!(" +{items_left}")
    } else {
        " …".to_owned()
    }
}

/// The narrowest `cut_words` can make `s`: its first word, and what says more follow.
fn least_words(s: &str) -> usize {
    let all = words(s);
    match all.as_slice() {
        [] => 0,
        [one] => one.width(),
        [first, ..] => {
            let first = first.trim_end_matches(',');
            first.width() + more(s, &all[..1], &all).width()
        }
    }
}

/// `s` in at most `max` columns, cut only between words: the words that fit and ` +N` (the
/// items of a list left out) or ` …`; `None` when not even the first word fits.
pub fn cut_words(s: &str, max: usize) -> Option<String> {
    if s.width() <= max {
        return Some(s.to_owned());
    }
    let all = words(s);
    (1..all.len()).rev().find_map(|n| {
        let kept = &all[..n];
        let text = kept.join(" ");
        let text = text.trim_end_matches(',');
        let line = format!("{text}{}", more(s, kept, &all));
        (line.width() <= max).then_some(line)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn csv_has_every_column_uncut_and_defuses_formulas() {
        let mut t = TableOut::with_width(&["id", "vendor", "amount"], 20).optional(&[2]);
        t.row(["pur_1", "=HYPERLINK(\"http://x\")", "5.00 EUR"]);
        t.row([
            "pur_2",
            "Corner, \"the\" best shop with a very long name",
            "-1",
        ]);
        t.row(["pur_3", "@SUM(A1)", "+1"]);
        assert_eq!(
            t.csv(),
            "id,vendor,amount\r\n\
             pur_1,\"'=HYPERLINK(\"\"http://x\"\")\",5.00 EUR\r\n\
             pur_2,\"Corner, \"\"the\"\" best shop with a very long name\",'-1\r\n\
             pur_3,'@SUM(A1),'+1\r\n"
        );
        assert_eq!(csv_cell("\tcmd"), "'\tcmd");
        assert_eq!(csv_cell("\rcmd"), "'\rcmd");
        assert_eq!(csv_cell("plain -1"), "plain -1");
    }
}
