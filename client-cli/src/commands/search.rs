//! `carnet search TEXT [--kind K] [--vendor V] [--limit N]`: records and documents (by
//! title and file name) best first.

use std::collections::HashMap;

use carnet_schemas::{Line, SearchHit, SearchResults, VendorId};

use super::Ctx;
use crate::cli::SearchArgs;
use crate::client::Doc;
use crate::error::CliResult;
use crate::output::TableOut;

pub fn run(ctx: &Ctx, a: SearchArgs) -> CliResult<()> {
    let mut query = vec![("q", a.text), ("limit", a.limit.to_string())];
    if let Some(k) = a.kind {
        query.push(("kind", k.to_string()));
    }
    if let Some(v) = &a.vendor {
        query.push(("vendor", ctx.vendor_id(v)?.to_string()));
    }
    let doc: Doc<SearchResults> = ctx.client.get("/v1/search", &query)?;
    let raw = match doc.raw.get("items") {
        Some(serde_json::Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    let items: Vec<Doc<SearchHit>> = doc
        .value
        .items
        .into_iter()
        .zip(
            raw.into_iter()
                .chain(std::iter::repeat(serde_json::Value::Null)),
        )
        .map(|(value, raw)| Doc { value, raw })
        .collect();
    let names = if ctx.json || items.is_empty() {
        Default::default()
    } else {
        ctx.vendor_names()?
    };
    ctx.print_list(&items, "nothing matches", |items| {
        table(items, &names).print()
    });
    Ok(())
}

/// A hit's title; a document's with its file name, when that is not already its title.
fn titled(h: &SearchHit) -> String {
    match &h.file_name {
        Some(f) if *f != h.title => format!("{} ({f})", h.title),
        _ => h.title.clone(),
    }
}

/// `search`'s table, best first (as the server ranked them).
pub(super) fn table(items: &[&SearchHit], names: &HashMap<VendorId, Line>) -> TableOut {
    let mut t = TableOut::new(&["kind", "id", "vendor", "title", "score"])
        .ids(&[1])
        .fixed(&[0, 4])
        .optional(&[2, 4]);
    for h in items {
        t.row([
            h.kind.to_string(),
            h.id.clone(),
            h.vendor_id
                .as_ref()
                .map_or(String::new(), |v| super::name_of(names, v)),
            titled(h),
            format!("{:.2}", h.score),
        ]);
    }
    t
}
