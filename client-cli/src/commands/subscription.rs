//! `carnet subscription add | list | payments | show | edit | cancel | rm | shop`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use carnet_schemas::{
    Intent, Line, NewSubscription, PaymentProjection, ProjectedTotal, Subscription,
    SubscriptionCancel, SubscriptionId, SubscriptionList, SubscriptionPatch, SubscriptionState,
    VendorId,
};

use super::intent_view::print_intent;
use super::{Ctx, delete_asking, listed, name_of};
use crate::cli::{OrClear, SubscriptionAdd, SubscriptionCmd, SubscriptionEdit, VendorRef};
use crate::client::Doc;
use crate::error::CliResult;
use crate::output::{self, Fields, TableOut, long_time, quoted, truncate};

/// How many of its next payments `show` lists.
const SHOWN_PAYMENTS: usize = 6;

pub fn run(ctx: &Ctx, cmd: SubscriptionCmd) -> CliResult<()> {
    match cmd {
        SubscriptionCmd::Add(a) => add(ctx, a),
        SubscriptionCmd::List { vendor, state } => list(ctx, vendor.as_ref(), state),
        SubscriptionCmd::Payments { vendor } => payments(ctx, vendor.as_ref()),
        SubscriptionCmd::Show { id } => show(ctx, &id),
        SubscriptionCmd::Edit(e) => edit(ctx, e),
        SubscriptionCmd::Cancel { id, at } => cancel(ctx, &id, at.map(|d| d.0)),
        SubscriptionCmd::Rm { id, yes } => rm(ctx, &id, yes),
        SubscriptionCmd::Shop { id } => shop(ctx, &id),
    }
}

fn path(id: &SubscriptionId) -> String {
    format!("/v1/subscriptions/{id}")
}

/// What the owner reads after a change: the next payment and the notice deadline.
fn dates_line(s: &Subscription) -> String {
    let next = s.next_payment.map_or("no payment ahead".to_owned(), |d| {
        format!("next payment {d}")
    });
    match s.notice_deadline {
        Some(d) => format!("{next}, notice by {d}"),
        None => next,
    }
}

fn add(ctx: &Ctx, a: SubscriptionAdd) -> CliResult<()> {
    let new = NewSubscription {
        vendor_id: ctx.vendor_id(&a.vendor)?,
        item: a.item,
        amount: a.amount,
        currency: a.currency,
        every: a.every,
        next: a.next.0,
        notice_days: a.notice_days,
        ends: a.ends.map(|d| d.0),
        category: a.category,
        note: a.note,
    };
    let doc: Doc<Subscription> = ctx.client.post("/v1/subscriptions", &new)?;
    ctx.print(&doc, |s| {
        ctx.done(&format!("added subscription {} ({})", s.id, dates_line(s)));
    });
    Ok(())
}

/// A price per period: `29.99 EUR/month`.
fn price(s: &Subscription) -> String {
    let f = &s.fields;
    format!("{} {}/{}", f.amount, f.currency, f.every.as_str())
}

fn day(d: Option<chrono::NaiveDate>) -> String {
    d.map_or("-".to_owned(), |d| d.to_string())
}

fn list(ctx: &Ctx, vendor: Option<&VendorRef>, state: Option<SubscriptionState>) -> CliResult<()> {
    let vendor_id = vendor.map(|v| ctx.vendor_id(v)).transpose()?;
    let mut query = Vec::new();
    if let Some(v) = &vendor_id {
        query.push(("vendor", v.to_string()));
    }
    if let Some(s) = state {
        query.push(("state", s.as_str().to_owned()));
    }
    let doc: Doc<SubscriptionList> = ctx.client.get("/v1/subscriptions", &query)?;
    let items = listed(doc.value.items, &doc.raw);
    let empty = match state {
        Some(_) => "no subscriptions in that state",
        None => "no subscriptions recorded",
    };
    if ctx.json || items.is_empty() {
        ctx.print_list(&items, empty, |_| {});
        return Ok(());
    }
    let names = ctx.vendor_names()?;
    let refs: Vec<&Subscription> = items.iter().map(|d| &d.value).collect();
    table(&refs, &names).print();
    // With --csv, the listing alone: the totals are other tables.
    if state.is_none() && !output::is_csv() {
        let p = projection(ctx, vendor_id.as_ref())?;
        output::stdout(&format!("\n{}", totals(&p.value).render()));
        output::stdout(&format!("\n{}", months(&p.value).render()));
    }
    Ok(())
}

fn projection(ctx: &Ctx, vendor: Option<&VendorId>) -> CliResult<Doc<PaymentProjection>> {
    let query: Vec<_> = vendor
        .map(|v| ("vendor", v.to_string()))
        .into_iter()
        .collect();
    ctx.client.get("/v1/subscriptions/payments", &query)
}

/// `subscription list`'s table.
pub(super) fn table(items: &[&Subscription], names: &HashMap<VendorId, Line>) -> TableOut {
    let mut t = TableOut::new(&[
        "id",
        "vendor",
        "item",
        "price",
        "next",
        "notice by",
        "state",
    ])
    .ids(&[0])
    .fixed(&[3, 4, 5, 6])
    .optional(&[1, 6, 5]);
    for s in items {
        t.row([
            s.id.to_string(),
            name_of(names, &s.fields.vendor_id),
            s.fields.item.to_string(),
            price(s),
            day(s.next_payment),
            day(s.notice_deadline),
            s.state.as_str().to_owned(),
        ]);
    }
    t
}

/// The 12 months' total per currency, one line each.
pub(super) fn totals(p: &PaymentProjection) -> Fields {
    let mut out = Fields::new();
    out.add("projected", format!("{} to {}", p.from, p.through));
    if p.year.is_empty() {
        out.add("total", "no payment ahead");
    }
    for t in &p.year {
        out.add(&format!("total {}", t.currency), &t.amount);
    }
    out
}

/// The totals per month, one column per currency (never added across them).
pub(super) fn months(p: &PaymentProjection) -> TableOut {
    let currencies: BTreeSet<&str> = p.months.iter().map(|t| t.currency.as_str()).collect();
    let mut by_month: BTreeMap<&str, HashMap<&str, &ProjectedTotal>> = BTreeMap::new();
    for t in &p.months {
        if let Some(m) = &t.month {
            by_month
                .entry(m.as_str())
                .or_default()
                .insert(t.currency.as_str(), t);
        }
    }
    let mut headers = vec!["month"];
    headers.extend(currencies.iter().copied());
    let columns: Vec<usize> = (1..headers.len()).collect();
    let mut table = TableOut::new(&headers).fixed(&[0]).right(&columns);
    for (month, totals) in by_month {
        let mut row = vec![month.to_owned()];
        row.extend(currencies.iter().map(|c| {
            totals
                .get(c)
                .map_or("-".to_owned(), |t| t.amount.to_string())
        }));
        table.row(row);
    }
    table
}

fn payments(ctx: &Ctx, vendor: Option<&VendorRef>) -> CliResult<()> {
    let vendor_id = vendor.map(|v| ctx.vendor_id(v)).transpose()?;
    let p = projection(ctx, vendor_id.as_ref())?;
    if ctx.json {
        output::json(&p.raw);
        return Ok(());
    }
    if p.value.items.is_empty() {
        output::message("no payment in the next 12 months");
        return Ok(());
    }
    let names = ctx.vendor_names()?;
    payment_table(&p.value, &names).print();
    if !output::is_csv() {
        output::stdout(&format!("\n{}", totals(&p.value).render()));
        output::stdout(&format!("\n{}", months(&p.value).render()));
    }
    Ok(())
}

/// `subscription payments`' table: each payment, soonest first.
pub(super) fn payment_table(p: &PaymentProjection, names: &HashMap<VendorId, Line>) -> TableOut {
    let mut t = TableOut::new(&["date", "amount", "vendor", "item", "subscription"])
        .fixed(&[0, 1])
        .ids(&[4])
        .right(&[1])
        .optional(&[4]);
    for i in &p.items {
        t.row([
            i.date.to_string(),
            format!("{} {}", i.amount, i.currency),
            name_of(names, &i.vendor_id),
            i.item.to_string(),
            i.subscription_id.to_string(),
        ]);
    }
    t
}

fn show(ctx: &Ctx, id: &SubscriptionId) -> CliResult<()> {
    let doc: Doc<Subscription> = ctx.client.get(&path(id), &[])?;
    if ctx.json {
        output::json(&doc.raw);
        return Ok(());
    }
    let names = ctx.vendor_names()?;
    let p: Doc<PaymentProjection> = ctx.client.get(
        "/v1/subscriptions/payments",
        &[("subscription", id.to_string())],
    )?;
    let next: Vec<String> = p
        .value
        .items
        .iter()
        .take(SHOWN_PAYMENTS)
        .map(|i| i.date.to_string())
        .collect();
    let s = &doc.value;
    view(s, &name_of(&names, &s.fields.vendor_id), &next).print();
    Ok(())
}

/// `subscription show`'s view; `next` are its next payment days.
pub(super) fn view(s: &Subscription, vendor_name: &str, next: &[String]) -> Fields {
    let f = &s.fields;
    let mut out = Fields::new();
    out.add("id", &s.id)
        .add("vendor", format!("{vendor_name} ({})", f.vendor_id))
        .add("item", &f.item)
        .add("price", price(s))
        .add("state", s.state.as_str())
        .add(
            "next payments",
            if next.is_empty() {
                "none".to_owned()
            } else {
                next.join(", ")
            },
        )
        .opt("term ends", f.ends)
        .add("renewal", day(s.renewal))
        .add(
            "notice deadline",
            match (s.notice_deadline, f.notice_days) {
                (Some(d), Some(n)) => format!("{d} ({n} days before the renewal)"),
                (_, None) => "- (no notice days recorded)".to_owned(),
                _ => "-".to_owned(),
            },
        )
        .opt("cancelled as of", f.cancelled_at)
        .opt("category", f.category.as_ref())
        .opt("note", f.note.as_ref())
        .add("schedule from", f.next)
        .add("recorded", long_time(&s.created_at));
    out
}

/// An optional flag of `edit`: absent (`None`), cleared (`Some(None)`) or set.
fn change<T, U>(v: Option<OrClear<T>>, f: impl FnOnce(T) -> U) -> Option<Option<U>> {
    v.map(|v| match v {
        OrClear::Clear => None,
        OrClear::Set(x) => Some(f(x)),
    })
}

fn edit(ctx: &Ctx, e: SubscriptionEdit) -> CliResult<()> {
    let patch = SubscriptionPatch {
        item: e.item,
        amount: e.amount,
        currency: e.currency,
        every: e.every,
        next: e.next.map(|d| d.0),
        notice_days: change(e.notice_days, |n| n),
        ends: change(e.ends, |d| d.0),
        category: change(e.category, |c| c),
        cancelled_at: None,
        note: change(e.note, |n| n),
    };
    let doc: Doc<Subscription> = ctx.client.patch(&path(&e.id), &patch)?;
    ctx.print(&doc, |s| {
        ctx.done(&format!(
            "changed subscription {} ({})",
            s.id,
            dates_line(s)
        ));
    });
    Ok(())
}

fn cancel(ctx: &Ctx, id: &SubscriptionId, at: Option<chrono::NaiveDate>) -> CliResult<()> {
    // A conflict (already cancelled) carries the server's hint.
    let doc: Doc<Subscription> = ctx
        .client
        .post(&format!("{}/cancel", path(id)), &SubscriptionCancel { at })?;
    ctx.print(&doc, |s| {
        let at = s
            .fields
            .cancelled_at
            .map_or(String::new(), |d| d.to_string());
        ctx.done(&format!(
            "cancelled subscription {}: no payment after {at} ({})",
            s.id,
            dates_line(s)
        ));
    });
    Ok(())
}

fn rm(ctx: &Ctx, id: &SubscriptionId, yes: bool) -> CliResult<()> {
    delete_asking(
        ctx,
        "subscription",
        "subscriptions",
        id,
        yes,
        |s: &Subscription| {
            format!(
                " {} ({})",
                quoted(&truncate(s.fields.item.as_str(), 40)),
                price(s)
            )
        },
    )
}

fn shop(ctx: &Ctx, id: &SubscriptionId) -> CliResult<()> {
    // A conflict (no category, no notice deadline, or passed) carries the server's hint.
    let doc: Doc<Intent> = ctx.client.post_empty(&format!("{}/shop", path(id)))?;
    ctx.print(&doc, |i| print_intent(i).print());
    ctx.done(&format!(
        "drafted intent {}: no vendor sees it until you run: carnet intent activate {}",
        doc.value.id, doc.value.id
    ));
    Ok(())
}
