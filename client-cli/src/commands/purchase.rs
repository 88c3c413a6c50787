//! `carnet purchase add | list | show | edit | rm`.

use std::collections::HashMap;

use carnet_schemas::{Line, Purchase, PurchaseFields, PurchaseId, VendorId};

use super::{Ctx, delete_asking, name_of};
use crate::cli::{OrClear, PurchaseAdd, PurchaseCmd, PurchaseEdit, VendorRef};
use crate::client::Doc;
use crate::error::{CliError, CliResult};
use crate::output::{Fields, TableOut, long_time, quoted};
use crate::when::today;

pub fn run(ctx: &Ctx, cmd: PurchaseCmd) -> CliResult<()> {
    match cmd {
        PurchaseCmd::Add(args) => add(ctx, args),
        PurchaseCmd::List { vendor } => list(ctx, vendor.as_ref()),
        PurchaseCmd::Show { id } => show(ctx, &id),
        PurchaseCmd::Edit(args) => edit(ctx, args),
        PurchaseCmd::Rm { id, yes } => rm(ctx, &id, yes),
    }
}

fn add(ctx: &Ctx, a: PurchaseAdd) -> CliResult<()> {
    a.amount.fits(&a.currency).map_err(|e| {
        CliError::usage(e.to_string()).with_hint("give --amount with the currency's decimals")
    })?;
    let fields = PurchaseFields {
        vendor_id: ctx.vendor_id(&a.vendor)?,
        item: a.item,
        amount: a.amount,
        currency: a.currency,
        // The owner's today, not the server's (which would be UTC).
        date: Some(a.at.map_or_else(today, |d| d.0)),
        warranty_until: a.warranty_until.map(|d| d.0),
        receipt: a.receipt,
        import_key: None,
    };
    let created: Doc<Purchase> = ctx.client.post("/v1/purchases", &fields)?;
    ctx.print(&created, |p| {
        let f = &p.fields;
        ctx.done(&format!(
            "added purchase {} {} {} {}",
            p.id,
            quoted(f.item.as_str()),
            f.amount,
            f.currency
        ));
    });
    Ok(())
}

fn list(ctx: &Ctx, vendor: Option<&VendorRef>) -> CliResult<()> {
    let mut query = Vec::new();
    if let Some(v) = vendor {
        query.push(("vendor", ctx.vendor_id(v)?.to_string()));
    }
    let items: Vec<Doc<Purchase>> = ctx.client.list_all("/v1/purchases", &query)?;
    let names = if ctx.json || items.is_empty() {
        Default::default()
    } else {
        ctx.vendor_names()?
    };
    ctx.print_list(&items, "no purchases recorded", |items| {
        table(items, &names).print()
    });
    Ok(())
}

/// `purchase list`'s table.
pub(super) fn table(items: &[&Purchase], names: &HashMap<VendorId, Line>) -> TableOut {
    let mut t = TableOut::new(&["id", "date", "vendor", "item", "amount", "warranty"])
        .ids(&[0])
        .fixed(&[1, 4, 5])
        .optional(&[5])
        .right(&[4]);
    for p in items {
        let f = &p.fields;
        t.row([
            p.id.to_string(),
            f.date.map_or(String::new(), |d| d.to_string()),
            name_of(names, &f.vendor_id),
            f.item.to_string(),
            format!("{} {}", f.amount, f.currency),
            f.warranty_until.map_or(String::new(), |d| d.to_string()),
        ]);
    }
    t
}

fn show(ctx: &Ctx, id: &PurchaseId) -> CliResult<()> {
    let doc: Doc<Purchase> = ctx.client.get(&format!("/v1/purchases/{id}"), &[])?;
    let names = if ctx.json {
        Default::default()
    } else {
        ctx.vendor_names()?
    };
    ctx.print(&doc, |p| {
        let f = &p.fields;
        let mut out = Fields::new();
        out.add("id", &p.id)
            .add(
                "vendor",
                format!("{} ({})", name_of(&names, &f.vendor_id), f.vendor_id),
            )
            .add("item", &f.item)
            .add("amount", format!("{} {}", f.amount, f.currency))
            .opt("date", f.date)
            .opt("warranty until", f.warranty_until)
            .opt("receipt", f.receipt.as_ref())
            .add("recorded", long_time(&p.created_at));
        out.print();
    });
    Ok(())
}

fn edit(ctx: &Ctx, a: PurchaseEdit) -> CliResult<()> {
    let path = format!("/v1/purchases/{}", a.id);
    let mut f = ctx.client.get::<Purchase>(&path, &[])?.value.fields;
    if let Some(item) = a.item {
        f.item = item;
    }
    if let Some(amount) = a.amount {
        f.amount = amount;
    }
    if let Some(currency) = a.currency {
        f.currency = currency;
    }
    if let Some(at) = a.at {
        f.date = Some(at.0);
    }
    if let Some(w) = a.warranty_until {
        f.warranty_until = w.into_option().map(|d| d.0);
    }
    OrClear::set(&mut f.receipt, a.receipt);
    f.amount.fits(&f.currency).map_err(|e| {
        CliError::usage(e.to_string()).with_hint("give --amount with the currency's decimals")
    })?;
    let changed: Doc<Purchase> = ctx.client.put(&path, &f)?;
    ctx.print(&changed, |p| {
        ctx.done(&format!("changed purchase {}", p.id));
    });
    Ok(())
}

fn rm(ctx: &Ctx, id: &PurchaseId, yes: bool) -> CliResult<()> {
    delete_asking(ctx, "purchase", "purchases", id, yes, |p: &Purchase| {
        let f = &p.fields;
        format!(" {} {} {}", quoted(f.item.as_str()), f.amount, f.currency)
    })
}
