//! `carnet audit`: the access log, newest first, every page of it; `carnet audit verify`:
//! whether it is whole and unaltered, and whether every row that decides access still carries
//! its MAC (exit 6 when not).

use std::collections::HashMap;

use carnet_schemas::{
    AccessEntry, AuditVerification, BadEntry, Line, PrunedEntries, RowVerification, VendorId,
};

use super::{Ctx, name_of};
use crate::cli::{AuditArgs, AuditCmd};
use crate::client::Doc;
use crate::error::{CliError, CliResult, ExitKind};
use crate::output::{self, TableOut, short_time};

pub fn run(ctx: &Ctx, a: AuditArgs) -> CliResult<()> {
    match a.check {
        Some(AuditCmd::Verify) => verify(ctx),
        None => list(ctx, a),
    }
}

/// `GET /v1/access-log/verify` and `GET /v1/integrity`: a whole log and rows that all check
/// out are a message; a broken log (naming its first bad entry) or rows whose MAC fails (naming
/// each) are an error (exit 6). `--json` prints the log's result either way, with the rows'
/// under `rows`.
fn verify(ctx: &Ctx) -> CliResult<()> {
    let result = fresh_check(ctx)?;
    let rows: Doc<RowVerification> = ctx.client.get("/v1/integrity", &[])?;
    if ctx.json {
        let mut raw = result.raw.clone();
        if let Some(obj) = raw.as_object_mut() {
            obj.insert("rows".into(), rows.raw.clone());
        }
        output::json(&raw);
    }
    let v = result.value;
    let rows = rows.value;
    let pruned = v.pruned.as_ref().map(pruned_line);
    match (v.ok, v.first_bad) {
        (true, None) if rows.ok => {
            output::message(&whole(v.entries));
            if let Some(p) = &pruned {
                output::message(p);
            }
            output::message(&format!(
                "every row that decides access checks out ({} rows)",
                rows.rows
            ));
            Ok(())
        }
        (true, None) => {
            output::message(&whole(v.entries));
            if let Some(p) = &pruned {
                output::message(p);
            }
            Err(rows_altered(&rows))
        }
        (_, bad) => {
            if !rows.ok {
                output::message(&rows_altered(&rows).to_string());
            }
            Err(altered(v.entries, bad.as_ref()))
        }
    }
}

/// Asks carnetd for a full check of the log (`POST /v1/access-log/verify`) and waits for its
/// result, so what is shown covers every access, and any tampering, made before this command.
fn fresh_check(ctx: &Ctx) -> CliResult<Doc<AuditVerification>> {
    let _: Doc<AuditVerification> = ctx.client.post_empty("/v1/access-log/verify")?;
    loop {
        let result: Doc<AuditVerification> = ctx
            .client
            .get("/v1/access-log/verify", &[("wait", "true".to_owned())])?;
        if !result.value.in_progress {
            return Ok(result);
        }
    }
}

/// What retention removed, as the sealed checkpoint says.
fn pruned_line(p: &PrunedEntries) -> String {
    let entries = match p.entries {
        1 => "1 older entry was".to_owned(),
        n => format!("{n} older entries were"),
    };
    format!(
        "{entries} pruned by retention (up to entry {}, {}); the sealed checkpoint checks out",
        p.last_seq,
        p.until.format("%Y-%m-%d %H:%M UTC")
    )
}

/// The error for rows whose MAC fails: each is named (table and id).
fn rows_altered(rows: &RowVerification) -> CliError {
    let named: Vec<String> = rows
        .tampered
        .iter()
        .map(|t| format!("{} {}", t.table, t.id))
        .collect();
    CliError::new(
        ExitKind::LogAltered,
        format!(
            "{} of {} rows that decide access failed their integrity check (changed without the vault key; carnetd refuses them): {}",
            rows.tampered.len(),
            rows.rows,
            named.join(", ")
        ),
    )
    .with_hint("compare with a backup of carnet.db (restored elsewhere, not over this one); delete what you do not recognise, or restore the backup with `carnetd restore`")
}

fn whole(entries: u64) -> String {
    match entries {
        0 => "the access log is whole: it has no entries yet".to_owned(),
        1 => "the access log is whole: its 1 entry checks out".to_owned(),
        n => format!("the access log is whole: {n} entries check out"),
    }
}

/// The error for a log that failed verification: the first bad entry and why (the reason may
/// name the entry itself: it is not said twice).
fn altered(checked: u64, bad: Option<&BadEntry>) -> CliError {
    let what = match bad {
        Some(b) if b.reason.starts_with(&format!("entry {} ", b.seq)) => b.reason.clone(),
        Some(b) => format!("entry {}: {}", b.seq, b.reason),
        None => "carnetd did not say which entry".to_owned(),
    };
    let before = match checked {
        0 => String::new(),
        1 => " (the 1 entry before it checks out)".to_owned(),
        n => format!(" (the {n} entries before it check out)"),
    };
    CliError::new(
        ExitKind::LogAltered,
        format!("the access log failed verification: {what}{before}"),
    )
    .with_hint("compare with a backup of carnet.db (restored elsewhere, not over this one) to find what was changed; carnetd keeps running and your data stays reachable")
}

fn list(ctx: &Ctx, a: AuditArgs) -> CliResult<()> {
    let mut query = Vec::new();
    if let Some(v) = &a.vendor {
        query.push(("vendor", ctx.vendor_id(v)?.to_string()));
    }
    if let Some(s) = a.since {
        query.push(("since", s.start().to_rfc3339()));
    }
    let items: Vec<Doc<AccessEntry>> = ctx.client.list_all("/v1/access-log", &query)?;
    let names = if ctx.json || items.is_empty() {
        Default::default()
    } else {
        ctx.vendor_names()?
    };
    let empty = if query.is_empty() {
        "no vendor has accessed the vault yet"
    } else {
        "no vendor access matches"
    };
    ctx.print_list(&items, empty, |items| table(items, &names).print());
    Ok(())
}

/// `audit`'s table.
pub(super) fn table(items: &[&AccessEntry], names: &HashMap<VendorId, Line>) -> TableOut {
    // What was returned are ids, never cut; the endpoint gives way to them when it must.
    let mut t = TableOut::new(&["when", "vendor", "endpoint", "status", "grant", "what"])
        .fixed(&[0, 3])
        .ids(&[4])
        .words(&[5])
        .optional(&[4]);
    for e in items {
        t.row([
            short_time(&e.at),
            name_of(names, &e.vendor_id),
            e.endpoint.clone(),
            e.status.to_string(),
            e.grant_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            what(e),
        ]);
    }
    t
}

/// What an access concerned: the scope a token was issued for, or the ids a request returned
/// and, for intents, the fields they withheld.
fn what(e: &AccessEntry) -> String {
    let what = returned(e);
    match &e.repeats {
        // Compacted identical reads: the count and the span.
        Some(r) => format!("×{} more from {}: {what}", r.count, short_time(&r.from)),
        None => what,
    }
}

fn returned(e: &AccessEntry) -> String {
    if e.ids.is_empty() {
        return format!("scope {}", e.scope);
    }
    let id = |i: &String| match e.withheld.get(i) {
        Some(fields) => {
            let names: Vec<String> = fields
                .iter()
                .map(|f| {
                    serde_json::to_value(f)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                })
                .collect();
            format!("{i} (withheld: {})", names.join(", "))
        }
        None => i.clone(),
    };
    match e.ids.as_slice() {
        [one] => id(one),
        // A table cuts the list between ids, saying how many it left out (`+2`).
        many => many.iter().map(id).collect::<Vec<_>>().join(", "),
    }
}

#[cfg(test)]
mod tests {
    use carnet_schemas::BadEntry;

    use crate::error::ExitKind;

    #[test]
    fn a_whole_log_counts_its_entries() {
        assert_eq!(
            super::whole(17),
            "the access log is whole: 17 entries check out"
        );
        assert!(super::whole(1).contains("1 entry checks out"));
        assert!(super::whole(0).contains("no entries"));
    }

    #[test]
    fn a_broken_log_names_its_first_bad_entry_and_exits_6() {
        let bad = BadEntry {
            seq: 17,
            reason: "its MAC does not match: the entry was altered".into(),
        };
        let e = super::altered(16, Some(&bad));
        assert_eq!(e.kind, ExitKind::LogAltered);
        assert_eq!(e.kind.code(), 6);
        assert_eq!(
            e.message,
            "the access log failed verification: entry 17: its MAC does not match: the entry was altered (the 16 entries before it check out)"
        );
        assert!(e.hint.unwrap().contains("carnetd keeps running"));
        let missing = BadEntry {
            seq: 5,
            reason: "entry 5 is missing (the next one is 7): entries were removed".into(),
        };
        assert_eq!(
            super::altered(0, Some(&missing)).message,
            "the access log failed verification: entry 5 is missing (the next one is 7): entries were removed"
        );
        assert_eq!(super::altered(0, None).kind.code(), 6);
    }

    fn entry(
        ids: &[&str],
        withheld: &[(&str, carnet_schemas::IntentField)],
    ) -> carnet_schemas::AccessEntry {
        serde_json::from_value(serde_json::json!({
            "seq": 1, "at": "2026-11-22T10:00:00Z",
            "vendor_id": "ven_aaaaaaaaaaaaaaaa", "client_id": "cli_aaaaaaaaaaaaaaaa",
            "grant_id": null, "endpoint": "GET /v1/vendor/intents", "scope": "intents:read",
            "ids": ids, "status": 200,
            "withheld": withheld.iter().map(|(i, f)| (i.to_string(), vec![*f])).collect::<std::collections::BTreeMap<_, _>>(),
        }))
        .unwrap()
    }

    #[test]
    fn what_shows_the_scope_of_a_token_or_the_ids_and_withheld_fields() {
        use carnet_schemas::IntentField;
        assert_eq!(super::what(&entry(&[], &[])), "scope intents:read");
        assert_eq!(super::what(&entry(&["itt_a"], &[])), "itt_a");
        assert_eq!(
            super::what(&entry(
                &["itt_a", "itt_b"],
                &[("itt_b", IntentField::PriceSpecification)]
            )),
            "itt_a, itt_b (withheld: price_specification)"
        );
    }
}
