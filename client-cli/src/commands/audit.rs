//! `carnet audit`: the access log, newest first, every page of it.

use carnet_schemas::AccessEntry;

use super::{Ctx, name_of};
use crate::cli::AuditArgs;
use crate::client::Doc;
use crate::error::CliResult;
use crate::output::{TableOut, short_time};

pub fn run(ctx: &Ctx, a: AuditArgs) -> CliResult<()> {
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
    ctx.print_list(&items, empty, |items| {
        // The endpoint says what was accessed: it keeps its width, like the time.
        let mut t = TableOut::new(&["when", "vendor", "endpoint", "status", "scope", "ids"])
            .fixed(&[0, 2, 3]);
        for e in items {
            t.row([
                short_time(&e.at),
                name_of(&names, &e.vendor_id),
                e.endpoint.clone(),
                e.status.to_string(),
                e.scope.clone(),
                ids(&e.ids),
            ]);
        }
        t.print();
    });
    Ok(())
}

/// The ids an access returned: none, the one, or how many then the ids (the table cuts them,
/// the count stays readable).
fn ids(ids: &[String]) -> String {
    match ids {
        [] => String::new(),
        [one] => one.clone(),
        many => format!("{}: {}", many.len(), many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_show_their_count_first() {
        assert_eq!(super::ids(&[]), "");
        assert_eq!(super::ids(&["int_a".into()]), "int_a");
        assert_eq!(
            super::ids(&["int_a".into(), "int_b".into()]),
            "2: int_a, int_b"
        );
    }
}
