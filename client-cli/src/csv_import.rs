//! `carnet import-csv purchases`: reading a bank's or a merchant's CSV export into purchases,
//! before anything is sent. Pure: the text in, the rows (and the rows refused, and why) out;
//! `commands/import_csv.rs` talks to carnetd.
//!
//! Each purchase carries an `import_key`: a SHA-256 of the row's cells and of its position
//! among the identical rows before it in the file, so importing the same file again (from any
//! machine: the key is sealed in the purchase on the server) finds every row already there,
//! while a second identical row of one file is a second purchase.

mod detect;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use carnet_schemas::{Amount, Currency, Line};
use chrono::NaiveDate;
use serde::Serialize;

use detect::{Numbers, Order, Role};

/// What the command line says about the file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub vendor_column: Option<String>,
    pub date_column: Option<String>,
    pub amount_column: Option<String>,
    pub date_format: Option<String>,
    pub currency: Option<Currency>,
    /// `--map`: description patterns and the vendor each one means.
    pub map: Vec<(String, String)>,
}

/// A debit row, ready to become a purchase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub date: NaiveDate,
    pub vendor: String,
    pub item: String,
    pub amount: Amount,
    pub currency: Currency,
    pub key: String,
}

/// A row that cannot be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refused {
    pub line: u64,
    pub reason: String,
}

/// The file read: its debits, the credits skipped, the rows refused.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<Row>,
    pub credits: Vec<u64>,
    pub refused: Vec<Refused>,
    pub delimiter: char,
    pub decimal_comma: bool,
}

/// The file cannot be read at all (a column missing, not CSV): nothing is imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub message: String,
    pub hint: String,
}

fn file_error(message: String, hint: impl Into<String>) -> FileError {
    FileError {
        message,
        hint: hint.into(),
    }
}

/// Which column holds what.
struct Columns {
    date: usize,
    description: usize,
    vendor: usize,
    amount: Option<usize>,
    debit: Option<usize>,
    credit: Option<usize>,
    currency: Option<usize>,
}

/// Reads the text of the file, as `carnet import-csv purchases` does.
pub fn parse(text: &str, opts: &Options) -> Result<Parsed, FileError> {
    // Line numbers count `\n`: a Windows export's CRLF counts once.
    let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let delimiter = detect::delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    for r in reader.records() {
        let r = r.map_err(|e| {
            file_error(
                format!("not readable as CSV: {e}"),
                "carnet reads comma, semicolon or tab separated text with a header line",
            )
        })?;
        if r.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let line = r.position().map_or(0, csv::Position::line);
        records.push((line, r.iter().map(str::to_owned).collect::<Vec<_>>()));
    }
    if records.is_empty() {
        return Err(file_error(
            "the file is empty".into(),
            "export the account's transactions as CSV, with a header line",
        ));
    }
    let (_, headers) = records.remove(0);
    let cols = columns(&headers, opts)?;
    let cell = |r: &[String], i: usize| r.get(i).map_or("", |c| c.trim()).to_owned();
    let amount_cells: Vec<String> = records
        .iter()
        .flat_map(|(_, r)| {
            [cols.amount, cols.debit, cols.credit]
                .into_iter()
                .flatten()
                .map(|i| cell(r, i))
        })
        .collect();
    let decimal_comma = detect::decimal_comma(amount_cells.iter().map(String::as_str));
    let dates: Vec<Numbers> = records
        .iter()
        .filter_map(|(_, r)| detect::numbers(&cell(r, cols.date)))
        .collect();
    let order = detect::order(&dates, decimal_comma);
    let mut out = Parsed {
        delimiter: char::from(delimiter),
        decimal_comma,
        ..Parsed::default()
    };
    let mut seen: HashMap<String, u32> = HashMap::new();
    for (line, r) in &records {
        let content = r
            .iter()
            .map(|c| c.trim())
            .collect::<Vec<_>>()
            .join("\u{1f}");
        let nth = seen.entry(content.clone()).or_default();
        *nth += 1;
        let key = import_key(&content, *nth);
        let read = || -> Result<Option<Row>, String> {
            let Some((negative, value)) = debit(r, &cols, decimal_comma)? else {
                return Ok(None);
            };
            if value.trim_start_matches(['0', '.']).is_empty() {
                return Err("the amount is zero".into());
            }
            if !negative {
                return Ok(None);
            }
            let date = date(&cell(r, cols.date), opts, order)?;
            let currency = match (cols.currency, &opts.currency) {
                (Some(i), _) if !cell(r, i).is_empty() => cell(r, i)
                    .to_uppercase()
                    .parse::<Currency>()
                    .map_err(|e| e.to_string())?,
                (_, Some(c)) => c.clone(),
                _ => return Err("no currency: give --currency".into()),
            };
            let amount: Amount = value
                .parse()
                .map_err(|e: carnet_schemas::InvalidValue| e.0)?;
            amount.fits(&currency).map_err(|e| e.0)?;
            let description = clean(&cell(r, cols.description));
            let vendor = vendor_of(&clean(&cell(r, cols.vendor)), &opts.map);
            if vendor.is_empty() {
                return Err("no vendor: the vendor column is empty".into());
            }
            let item = if description.is_empty() {
                vendor.clone()
            } else {
                description
            };
            Ok(Some(Row {
                line: *line,
                date,
                item: fit_line(&item),
                vendor: fit_line(&vendor),
                amount,
                currency,
                key: key.clone(),
            }))
        };
        match read() {
            Ok(Some(row)) => out.rows.push(row),
            Ok(None) => out.credits.push(*line),
            Err(reason) => out.refused.push(Refused {
                line: *line,
                reason,
            }),
        }
    }
    Ok(out)
}

fn columns(headers: &[String], opts: &Options) -> Result<Columns, FileError> {
    let shown = headers
        .iter()
        .map(|h| format!("{:?}", h.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let flag = |name: &Option<String>, flag: &str| -> Result<Option<usize>, FileError> {
        name.as_deref()
            .map(|n| {
                detect::named(headers, n).ok_or_else(|| {
                    file_error(
                        format!("line 1: no column {n:?} (the header has {shown})"),
                        format!("give {flag} one of the header's names, or its number from 1"),
                    )
                })
            })
            .transpose()
    };
    let missing = |what: &str, flag: &str| {
        file_error(
            format!("line 1: no {what} column recognised (the header has {shown})"),
            format!("say which with {flag} NAME"),
        )
    };
    let date = flag(&opts.date_column, "--date-column")?
        .or_else(|| detect::find(headers, Role::Date))
        .ok_or_else(|| missing("date", "--date-column"))?;
    let amount = flag(&opts.amount_column, "--amount-column")?;
    let (debit, credit) = if amount.is_some() {
        (None, None)
    } else {
        (
            detect::find(headers, Role::Debit),
            detect::find(headers, Role::Credit),
        )
    };
    let amount = amount.or_else(|| {
        debit
            .is_none()
            .then(|| detect::find(headers, Role::Amount))
            .flatten()
    });
    if amount.is_none() && debit.is_none() {
        return Err(missing("amount (or debit)", "--amount-column"));
    }
    let vendor = flag(&opts.vendor_column, "--vendor-column")?;
    let description = detect::find(headers, Role::Description).or(vendor);
    let Some(description) = description else {
        return Err(missing("description", "--vendor-column"));
    };
    Ok(Columns {
        date,
        description,
        vendor: vendor.unwrap_or(description),
        amount,
        debit,
        credit,
        currency: detect::find(headers, Role::Currency),
    })
}

/// The row's amount: `(true, …)` for a debit, `(false, …)` for a credit, `None` when the row
/// has none (a balance line).
fn debit(r: &[String], cols: &Columns, comma: bool) -> Result<Option<(bool, String)>, String> {
    let get = |i: Option<usize>| i.and_then(|i| r.get(i)).map_or("", |c| c.trim());
    if let Some(i) = cols.amount {
        return detect::amount(get(Some(i)), comma);
    }
    if let Some((_, v)) = detect::amount(get(cols.debit), comma)? {
        return Ok(Some((true, v)));
    }
    match detect::amount(get(cols.credit), comma)? {
        Some((_, v)) => Ok(Some((false, v))),
        None => Err("no amount: the debit and credit cells are empty".into()),
    }
}

fn date(cell: &str, opts: &Options, order: Order) -> Result<NaiveDate, String> {
    if let Some(f) = &opts.date_format {
        // An ISO date (2026-04-03) cannot be misread: it is taken whatever the format.
        return NaiveDate::parse_from_str(cell, f)
            .or_else(|e| NaiveDate::parse_from_str(cell, "%Y-%m-%d").map_err(|_| e))
            .map_err(|e| format!("date {cell:?} does not follow --date-format {f:?}: {e}"));
    }
    let bad = || format!("{cell:?} is not a date (give --date-format, e.g. %d/%m/%Y)");
    let (day, month, year) = match detect::numbers(cell).ok_or_else(bad)? {
        Numbers::Ymd(d) => return Ok(d),
        Numbers::Dmy { a, b, year } => match order {
            Order::DayFirst => (a, b, year),
            Order::MonthFirst => (b, a, year),
            Order::Unknown if a == b || a > 12 => (a, b, year),
            Order::Unknown if b > 12 => (b, a, year),
            Order::Unknown => {
                return Err(format!(
                    "ambiguous date {cell:?}: day or month first? give --date-format \
                     (%d/%m/%Y or %m/%d/%Y)"
                ));
            }
        },
    };
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(bad)
}

/// A description made one line: controls dropped, spaces collapsed.
fn clean(s: &str) -> String {
    crate::output::one_line(s)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// At most `Line::MAX_CHARS` characters.
fn fit_line(s: &str) -> String {
    s.chars().take(Line::MAX_CHARS).collect()
}

/// The vendor a description means: the first `--map` pattern it contains (any case), else
/// the description itself.
pub fn vendor_of(description: &str, map: &[(String, String)]) -> String {
    let lower = description.to_lowercase();
    map.iter()
        .find(|(pattern, _)| lower.contains(&pattern.to_lowercase()))
        .map_or_else(|| description.to_owned(), |(_, v)| v.clone())
}

/// Reads a `--map` file: one `pattern = Vendor` a line; blank lines and `#` comments skipped.
pub fn parse_map(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = line
            .split_once('=')
            .map(|(p, v)| (p.trim(), v.trim()))
            .filter(|(p, v)| !p.is_empty() && !v.is_empty());
        let Some((p, v)) = parsed else {
            return Err(format!("line {}: expected `pattern = Vendor`", n + 1));
        };
        v.parse::<Line>()
            .map_err(|e| format!("line {}: {e}", n + 1))?;
        out.push((p.to_owned(), v.to_owned()));
    }
    Ok(out)
}

/// The fingerprint of a row: its cells and its rank among identical rows, hashed, so the key
/// says nothing of the row.
fn import_key(content: &str, nth: u32) -> String {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("carnet-csv-1\u{0}{nth}\u{0}{content}").as_bytes(),
    );
    let hex: String = d.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("csv1-{hex}")
}

/// The text of a file: UTF-8, else Windows-1252/Latin-1 (older bank exports), byte by byte.
pub fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes
            .iter()
            .map(|&b| match b {
                0x80 => '€',
                b => char::from(b),
            })
            .collect(),
    }
}
