//! `carnet import-csv purchases FILE`: the rows `csv_import` reads, less those already
//! imported (their `import_key` is on a purchase), sent as vendors and purchases.

use std::collections::{BTreeSet, HashMap, HashSet};

use carnet_schemas::{Line, Purchase, PurchaseFields, PurchaseId, Vendor, VendorFields, VendorId};
use serde::Serialize;

use super::{Confirm, Ctx, confirm};
use crate::cli::{ImportCsvArgs, ImportCsvCmd};
use crate::client::Doc;
use crate::csv_import::{self, Options, Refused, Row};
use crate::error::{CliError, CliResult};
use crate::output::{self, quoted};

pub fn run(ctx: &Ctx, cmd: ImportCsvCmd) -> CliResult<()> {
    match cmd {
        ImportCsvCmd::Purchases(args) => purchases(ctx, args),
    }
}

/// What the import did (or, with `--dry-run`, would do).
#[derive(Debug, Serialize)]
struct Report {
    dry_run: bool,
    delimiter: String,
    decimal_comma: bool,
    vendors_created: Vec<String>,
    purchases_added: Vec<Added>,
    duplicates_skipped: Vec<u64>,
    credits_skipped: Vec<u64>,
    refused: Vec<Refused>,
}

#[derive(Debug, Serialize)]
struct Added {
    line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<PurchaseId>,
    date: String,
    vendor: String,
    item: String,
    amount: String,
    currency: String,
}

fn read(path: &std::path::Path, what: &str) -> CliResult<String> {
    std::fs::read(path)
        .map(|b| csv_import::decode(&b))
        .map_err(|e| {
            CliError::usage(format!("cannot read {what} {}: {e}", path.display()))
                .with_hint("give the path of an existing file")
        })
}

fn purchases(ctx: &Ctx, a: ImportCsvArgs) -> CliResult<()> {
    let text = read(&a.file, "the CSV file")?;
    let map = match &a.map {
        Some(p) => csv_import::parse_map(&read(p, "the map")?).map_err(|e| {
            CliError::usage(format!("{}: {e}", p.display()))
                .with_hint("each line of --map is `pattern = Vendor`; # starts a comment")
        })?,
        None => Vec::new(),
    };
    let opts = Options {
        vendor_column: a.vendor_column,
        date_column: a.date_column,
        amount_column: a.amount_column,
        date_format: a.date_format,
        currency: a.currency,
        map,
    };
    let parsed = csv_import::parse(&text, &opts).map_err(|e| {
        CliError::failed(format!("{}: {}", a.file.display(), e.message)).with_hint(e.hint)
    })?;
    let existing: Vec<Doc<Purchase>> = ctx.client.list_all("/v1/purchases", &[])?;
    let done: HashSet<String> = existing
        .iter()
        .filter_map(|p| p.value.fields.import_key.as_ref())
        .map(|k| k.as_str().to_owned())
        .collect();
    let (dups, new): (Vec<Row>, Vec<Row>) =
        parsed.rows.into_iter().partition(|r| done.contains(&r.key));
    let mut vendors: HashMap<String, VendorId> = ctx
        .vendors()?
        .into_iter()
        .map(|v| (v.value.fields.name.as_str().to_lowercase(), v.value.id))
        .collect();
    let unknown: BTreeSet<String> = new
        .iter()
        .filter(|r| !vendors.contains_key(&r.vendor.to_lowercase()))
        .map(|r| r.vendor.clone())
        .collect();
    let mut report = Report {
        dry_run: a.dry_run,
        delimiter: match parsed.delimiter {
            '\t' => "tab".into(),
            d => d.to_string(),
        },
        decimal_comma: parsed.decimal_comma,
        vendors_created: unknown.iter().cloned().collect(),
        purchases_added: Vec::new(),
        duplicates_skipped: dups.iter().map(|r| r.line).collect(),
        credits_skipped: parsed.credits,
        refused: parsed.refused,
    };
    if !a.dry_run {
        if !unknown.is_empty() && !a.yes {
            for name in &unknown {
                output::message(&format!("new vendor {}", quoted(name)));
            }
            confirm(&Confirm {
                verb: ["create", "creating", "created"],
                what: &format!(
                    "{} new vendors and import {} purchases",
                    unknown.len(),
                    new.len()
                ),
                with_yes: format!(
                    "carnet import-csv purchases {} … --yes (or --dry-run to see them)",
                    a.file.display()
                ),
                declined_hint: Some(
                    "nothing was imported; a --map file can name known vendors instead".into(),
                ),
            })?;
        }
        for name in &unknown {
            let fields = VendorFields {
                name: line(name)?,
                website: None,
                categories: Vec::new(),
                accounts: Vec::new(),
                note: None,
                channel: None,
                contact_policy: None,
                directory_id: None,
            };
            let v: Doc<Vendor> = ctx.client.post("/v1/vendors", &fields)?;
            vendors.insert(name.to_lowercase(), v.value.id);
        }
    }
    for r in new {
        let id = if a.dry_run {
            None
        } else {
            let fields = PurchaseFields {
                vendor_id: vendors[&r.vendor.to_lowercase()].clone(),
                item: line(&r.item)?,
                amount: r.amount.clone(),
                currency: r.currency.clone(),
                date: Some(r.date),
                warranty_until: None,
                receipt: None,
                import_key: Some(line(&r.key)?),
            };
            let p: Doc<Purchase> = ctx.client.post("/v1/purchases", &fields)?;
            Some(p.value.id)
        };
        report.purchases_added.push(Added {
            line: r.line,
            id,
            date: r.date.to_string(),
            vendor: r.vendor,
            item: r.item,
            amount: r.amount.to_string(),
            currency: r.currency.to_string(),
        });
    }
    if ctx.json {
        output::json(&serde_json::to_value(&report).unwrap_or_default());
    } else {
        output::stdout(&render(&report));
    }
    if report.refused.is_empty() {
        Ok(())
    } else {
        Err(CliError::failed(format!(
            "{} rows refused (see the report)",
            report.refused.len()
        ))
        .with_hint(
            "fix them in the file (or give --date-format, --currency, a column flag) and import \
             it again: rows already imported are skipped",
        ))
    }
}

fn line(s: &str) -> CliResult<Line> {
    s.parse()
        .map_err(|e| CliError::failed(format!("cannot import {}: {e}", quoted(s))))
}

/// `skipped 2 credits (lines 4, 9)`: at most 20 line numbers.
fn skipped(what: &str, v: &[u64]) -> String {
    if v.is_empty() {
        return format!("skipped 0 {what}\n");
    }
    let shown: Vec<String> = v.iter().take(20).map(u64::to_string).collect();
    let more = if v.len() > 20 { ", …" } else { "" };
    format!(
        "skipped {} {what} (lines {}{more})\n",
        v.len(),
        shown.join(", ")
    )
}

fn render(r: &Report) -> String {
    let (would, verb) = if r.dry_run {
        ("would ", "dry run: nothing was written\n")
    } else {
        ("", "")
    };
    let mut out = format!(
        "{verb}read with delimiter {}{}\n",
        r.delimiter,
        if r.decimal_comma {
            " and decimal comma"
        } else {
            ""
        }
    );
    out.push_str(&format!(
        "{would}create {} vendors\n",
        r.vendors_created.len()
    ));
    for v in &r.vendors_created {
        out.push_str(&format!("  {}\n", quoted(v)));
    }
    out.push_str(&format!(
        "{would}add {} purchases\n",
        r.purchases_added.len()
    ));
    for p in &r.purchases_added {
        out.push_str(&format!(
            "  line {}: {}{} {}{} {} {}\n",
            p.line,
            p.id.as_ref().map_or(String::new(), |id| format!("{id} ")),
            p.date,
            quoted(&p.vendor),
            if p.item == p.vendor {
                String::new()
            } else {
                format!(" {}", quoted(&p.item))
            },
            p.amount,
            p.currency
        ));
    }
    out.push_str(&skipped("already imported", &r.duplicates_skipped));
    out.push_str(&skipped("credits", &r.credits_skipped));
    out.push_str(&format!("refused {} rows\n", r.refused.len()));
    for f in &r.refused {
        out.push_str(&format!(
            "  line {}: {}\n",
            f.line,
            output::one_line(&f.reason)
        ));
    }
    out
}
