//! What a bank's export does not say: its delimiter, its decimal separator, which column is
//! which, and in which order its dates are written. Pure functions, unit-tested in `tests.rs`.

use chrono::NaiveDate;

/// The delimiter of the header line: the most frequent of `;`, tab and `,` outside quotes
/// (`,` on a tie or when none is there, a one-column file).
pub fn delimiter(text: &str) -> u8 {
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut counts = [(b';', 0usize), (b'\t', 0), (b',', 0)];
    let mut quoted = false;
    for c in header.bytes() {
        if c == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(slot) = counts.iter_mut().find(|(d, _)| *d == c) {
            slot.1 += 1;
        }
    }
    counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(d, n)| (*n, u8::from(*d != b',')))
        .map_or(b',', |(d, _)| *d)
}

/// Whether the amounts use a decimal comma: each amount votes by its last separator (`,` or
/// `.`) when what follows it cannot be a group of thousands (not exactly three digits), or when
/// both separators are in it; the comma wins on more votes.
pub fn decimal_comma<'a>(amounts: impl Iterator<Item = &'a str>) -> bool {
    let (mut comma, mut point) = (0usize, 0usize);
    for a in amounts {
        let a = a.trim();
        let Some(at) = a.rfind([',', '.']) else {
            continue;
        };
        let sep = a.as_bytes()[at];
        let after = a[at + 1..].chars().filter(char::is_ascii_digit).count();
        let both = a.contains(',') && a.contains('.');
        if both || after != 3 {
            if sep == b',' {
                comma += 1;
            } else {
                point += 1;
            }
        }
    }
    comma > point
}

/// An amount cell as a signed decimal string (`-1234.56`), or why it is not one. Spaces,
/// apostrophes and the thousands separator are dropped, currency signs and codes around the
/// number are ignored; `(12.50)` and a trailing `-` are negative.
pub fn amount(cell: &str, decimal_comma: bool) -> Result<Option<(bool, String)>, String> {
    let mut s: String = cell
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\'' | '’' | '\u{202f}'))
        .collect();
    for sign in ["€", "$", "£", "EUR", "USD", "GBP", "CHF"] {
        s = s.replace(sign, "");
    }
    if s.is_empty() {
        return Ok(None);
    }
    let mut negative = false;
    if let Some(inner) = s.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        negative = true;
        s = inner.to_owned();
    }
    if let Some(rest) = s.strip_prefix('-').or_else(|| s.strip_suffix('-')) {
        negative = !negative;
        s = rest.to_owned();
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest.to_owned();
    }
    let (thousands, decimal) = if decimal_comma {
        ('.', ',')
    } else {
        (',', '.')
    };
    let s: String = s
        .chars()
        .filter(|c| *c != thousands)
        .map(|c| if c == decimal { '.' } else { c })
        .collect();
    let valid = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_digit() || c == '.')
        && s.matches('.').count() <= 1
        && s.chars().any(|c| c.is_ascii_digit());
    if !valid {
        return Err(format!("{:?} is not an amount", cell.trim()));
    }
    let s = s.trim_start_matches('0');
    let s = if s.is_empty() || s.starts_with('.') {
        format!("0{s}")
    } else {
        s.to_owned()
    };
    Ok(Some((negative, s)))
}

/// A header made comparable: lower case, accents dropped, spaces collapsed.
pub fn normalize(header: &str) -> String {
    let folded: String = header
        .trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            '’' => '\'',
            c => c,
        })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a recognised header holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Date,
    Description,
    Amount,
    Debit,
    Credit,
    Currency,
}

/// Headers recognised without flags, by role, best first: a header matches when it equals
/// one, or starts with one followed by a space or `(` (`Montant (EUR)`, `Débit euros`).
const KNOWN: &[(Role, &[&str])] = &[
    (
        Role::Date,
        &[
            "date operation",
            "date de l'operation",
            "date",
            "transaction date",
            "booking date",
            "posting date",
            "posted date",
            "date comptable",
            "date de comptabilisation",
            "value date",
            "date de valeur",
        ],
    ),
    (
        Role::Description,
        &[
            "libelle",
            "libelle operation",
            "libelle de l'operation",
            "description",
            "payee",
            "merchant",
            "beneficiaire",
            "marchand",
            "commercant",
            "details",
            "narrative",
            "memo",
            "name",
            "label",
        ],
    ),
    (Role::Amount, &["amount", "montant", "transaction amount"]),
    (
        Role::Debit,
        &[
            "debit",
            "withdrawal",
            "withdrawals",
            "paid out",
            "money out",
        ],
    ),
    (
        Role::Credit,
        &["credit", "deposit", "deposits", "paid in", "money in"],
    ),
    (Role::Currency, &["currency", "devise"]),
];

/// The column (index) of `headers` that best holds `role`.
pub fn find(headers: &[String], role: Role) -> Option<usize> {
    let names = KNOWN.iter().find(|(r, _)| *r == role)?.1;
    let normalized: Vec<String> = headers.iter().map(|h| normalize(h)).collect();
    names.iter().find_map(|name| {
        normalized.iter().position(|h| {
            h == name
                || h.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('('))
        })
    })
}

/// The column a flag names: its header (compared as `normalize` does) or its number from 1.
pub fn named(headers: &[String], name: &str) -> Option<usize> {
    let wanted = normalize(name);
    headers
        .iter()
        .position(|h| normalize(h) == wanted)
        .or_else(|| {
            name.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=headers.len()).contains(n))
                .map(|n| n - 1)
        })
}

/// A date written as three numbers (`03/04/2026`, `3.4.26`, `2026-04-03`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbers {
    /// Year first: unambiguous.
    Ymd(NaiveDate),
    /// Day and month in some order, then the year.
    Dmy { a: u32, b: u32, year: i32 },
}

/// Splits a date cell into its numbers, or `None` when it is not three numbers.
pub fn numbers(cell: &str) -> Option<Numbers> {
    let parts: Vec<&str> = cell.trim().split(['/', '.', '-']).collect();
    let [x, y, z] = parts.as_slice() else {
        return None;
    };
    if ![x, y, z]
        .iter()
        .all(|p| !p.is_empty() && p.len() <= 4 && p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let (nx, ny, nz): (u32, u32, u32) = (x.parse().ok()?, y.parse().ok()?, z.parse().ok()?);
    if x.len() == 4 {
        return NaiveDate::from_ymd_opt(i32::try_from(nx).ok()?, ny, nz).map(Numbers::Ymd);
    }
    let year = match z.len() {
        2 => 2000 + i32::try_from(nz).ok()?,
        4 => i32::try_from(nz).ok()?,
        _ => return None,
    };
    Some(Numbers::Dmy { a: nx, b: ny, year })
}

/// In which order a file writes day and month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    DayFirst,
    MonthFirst,
    /// Nothing in the file says: a date with both numbers ≤ 12 is ambiguous.
    Unknown,
}

/// The order of a file's dates: day first with a decimal comma; else day first when some
/// first number is over 12, month first when some second one is.
pub fn order(dates: &[Numbers], decimal_comma: bool) -> Order {
    if decimal_comma {
        return Order::DayFirst;
    }
    let over = |f: fn(u32, u32) -> bool| {
        dates
            .iter()
            .any(|d| matches!(d, Numbers::Dmy { a, b, .. } if f(*a, *b)))
    };
    match (over(|a, _| a > 12), over(|_, b| b > 12)) {
        (true, false) => Order::DayFirst,
        (false, true) => Order::MonthFirst,
        _ => Order::Unknown,
    }
}
