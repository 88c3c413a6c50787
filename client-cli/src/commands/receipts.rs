//! `carnet receipts`: the signed consent receipts, one per grant, newest first.

use carnet_schemas::Receipt;

use super::{Ctx, join, name_of};
use crate::cli::ReceiptsArgs;
use crate::client::Doc;
use crate::error::CliResult;
use crate::output::{TableOut, short_time};

pub fn run(ctx: &Ctx, a: ReceiptsArgs) -> CliResult<()> {
    let mut query = Vec::new();
    if let Some(v) = &a.vendor {
        query.push(("vendor", ctx.vendor_id(v)?.to_string()));
    }
    let items: Vec<Doc<Receipt>> = ctx.client.get_array("/v1/receipts", &query)?;
    let names = if ctx.json || items.is_empty() {
        Default::default()
    } else {
        ctx.vendor_names()?
    };
    ctx.print_list(
        &items,
        "no consent receipts yet: each grant (`carnet grant create`) produces one",
        |items| {
            let mut t = TableOut::new(&["receipt", "vendor", "grant", "date", "scopes"])
                .ids(&[0, 2])
                .fixed(&[3])
                .words(&[4])
                .optional(&[2]);
            for r in items {
                t.row([
                    r.id.to_string(),
                    name_of(&names, &r.vendor_id),
                    r.grant_id.to_string(),
                    short_time(&r.created_at),
                    join(&r.receipt.carnet.scopes),
                ]);
            }
            t.print();
        },
    );
    Ok(())
}
