//! `carnet offers` and `carnet offer show | accept | decline`: what vendors answered to the
//! owner's intents (offers through the market relay, `mof_…`, are routed to `market_offer`). An offer's text (description, url) is the vendor's: it reaches the terminal
//! only through `output` (tables, `Fields`, messages), which strips control characters.

use std::collections::HashMap;

use carnet_schemas::{
    AcceptOffer, DeclineOffer, Intent, IntentId, IntentState, Line, Offer, OfferId, OfferState,
    Text, VendorId,
};
use chrono::{DateTime, FixedOffset};

use super::intent_view::window_end;
use super::{Ctx, market_offer, name_of};
use crate::cli::{OfferCmd, OfferRef, OffersArgs};
use crate::client::Doc;
use crate::error::CliResult;
use crate::output::{self, Fields, TableOut, long_time, quoted};

pub fn run(ctx: &Ctx, cmd: OfferCmd) -> CliResult<()> {
    match cmd {
        OfferCmd::Show {
            id: OfferRef::Vendor(id),
        } => show(ctx, &id),
        OfferCmd::Accept {
            id: OfferRef::Vendor(id),
            keep_open,
        } => accept(ctx, &id, keep_open),
        OfferCmd::Decline {
            id: OfferRef::Vendor(id),
            reason,
        } => decline(ctx, &id, reason),
        OfferCmd::Show {
            id: OfferRef::Market(id),
        } => market_offer::show(ctx, &id),
        OfferCmd::Accept {
            id: OfferRef::Market(id),
            keep_open,
        } => market_offer::accept(ctx, &id, keep_open),
        OfferCmd::Decline {
            id: OfferRef::Market(id),
            reason,
        } => market_offer::decline(ctx, &id, reason),
    }
}

fn path(id: &OfferId) -> String {
    format!("/v1/offers/{id}")
}

pub(super) fn state(s: OfferState) -> &'static str {
    match s {
        OfferState::Pending => "pending",
        OfferState::Accepted => "accepted",
        OfferState::Declined => "declined",
        OfferState::Expired => "expired",
    }
}

fn price(o: &Offer) -> String {
    format!("{} {}", o.fields.price, o.fields.price_currency)
}

/// The price, marked when it is above the intent's `max_price`.
fn price_marked(o: &Offer) -> String {
    if o.over_budget {
        format!("{} (over budget)", price(o))
    } else {
        price(o)
    }
}

/// Until when the offer holds: its own end, else, while it is pending, its intent's (it
/// expires with the intent).
fn valid_until(o: &Offer, intent_end: Option<&DateTime<FixedOffset>>) -> String {
    let fallback = intent_end.filter(|_| o.state == OfferState::Pending);
    o.fields
        .valid_through
        .as_ref()
        .or(fallback)
        .map_or(String::new(), window_end)
}

pub fn list(ctx: &Ctx, a: OffersArgs) -> CliResult<()> {
    let query: Vec<_> = a
        .intent
        .as_ref()
        .map(|i| ("intent", i.to_string()))
        .into_iter()
        .collect();
    let items: Vec<Doc<Offer>> = ctx.client.get_array("/v1/offers", &query)?;
    let market = market_offer::fetch(ctx, &query)?;
    if let (Some(i), true) = (&a.intent, items.is_empty() && market.is_empty()) {
        // The server lists nothing for an unknown intent: say it does not exist instead.
        ctx.client
            .get::<serde_json::Value>(&format!("/v1/intents/{i}"), &[])?;
    }
    let (names, ends) = if ctx.json || items.is_empty() {
        Default::default()
    } else {
        (ctx.vendor_names()?, intent_ends(ctx)?)
    };
    let empty = match &a.intent {
        Some(i) => format!("no offers on intent {i} yet"),
        None => "no offers yet: vendors answer active intents they are granted to read".to_owned(),
    };
    if ctx.json {
        let all = items.iter().map(|d| d.raw.clone());
        output::json(&serde_json::Value::Array(
            all.chain(market.iter().map(|d| d.raw.clone())).collect(),
        ));
    } else if items.is_empty() && market.is_empty() {
        output::message(&empty);
    } else {
        let items: Vec<&Offer> = items.iter().map(|d| &d.value).collect();
        let mut t = table(&items, &names, &ends);
        market_offer::rows(&mut t, market.iter().map(|d| &d.value));
        t.print();
    }
    Ok(())
}

/// `offers`' table: `ends` are the intents' window ends, for offers without their own.
pub(super) fn table(
    items: &[&Offer],
    names: &HashMap<VendorId, Line>,
    ends: &HashMap<IntentId, DateTime<FixedOffset>>,
) -> TableOut {
    let mut t = TableOut::new(&[
        "id",
        "intent",
        "vendor",
        "state",
        "price",
        "valid until",
        "description",
    ])
    .ids(&[0, 1])
    .fixed(&[3, 4, 5])
    .optional(&[1, 5])
    .right(&[4]);
    for o in items {
        t.row([
            o.id.to_string(),
            o.intent_id.to_string(),
            name_of(names, &o.vendor_id),
            state(o.state).to_owned(),
            price_marked(o),
            valid_until(o, ends.get(&o.intent_id)),
            o.fields.description.to_string(),
        ]);
    }
    t
}

/// Each intent's window end, for offers without their own.
fn intent_ends(ctx: &Ctx) -> CliResult<HashMap<IntentId, DateTime<FixedOffset>>> {
    let intents: Vec<Doc<Intent>> = ctx.client.get_array("/v1/intents", &[])?;
    Ok(intents
        .into_iter()
        .filter_map(|i| Some((i.value.id, i.value.fields.valid_through?)))
        .collect())
}

fn intent_of(ctx: &Ctx, o: &Offer) -> CliResult<Intent> {
    Ok(ctx
        .client
        .get::<Intent>(&format!("/v1/intents/{}", o.intent_id), &[])?
        .value)
}

fn show(ctx: &Ctx, id: &OfferId) -> CliResult<()> {
    let doc: Doc<Offer> = ctx.client.get(&path(id), &[])?;
    if ctx.json {
        output::json(&doc.raw);
        return Ok(());
    }
    let o = &doc.value;
    let names = ctx.vendor_names()?;
    let intent = intent_of(ctx, o)?;
    view(o, &intent, &names).print();
    Ok(())
}

/// `offer show`'s view, with the intent it answers.
pub(super) fn view(o: &Offer, intent: &Intent, names: &HashMap<VendorId, Line>) -> Fields {
    let f = &o.fields;
    let mut out = Fields::new();
    out.add("id", &o.id)
        .add("intent", intent_line(intent))
        .add(
            "vendor",
            format!("{} ({})", name_of(names, &o.vendor_id), o.vendor_id),
        )
        .add("state", state(o.state))
        .add("price", price_marked(o))
        .add("description", &f.description)
        .opt("url", f.url.as_ref())
        .add(
            "valid until",
            match &f.valid_through {
                Some(t) => format!("{} ({})", window_end(t), long_time(t)),
                None => format!(
                    "the end of the intent ({})",
                    intent
                        .fields
                        .valid_through
                        .as_ref()
                        .map_or(String::new(), window_end)
                ),
            },
        )
        .add("received", long_time(&o.created_at))
        .add("changed", long_time(&o.updated_at))
        .opt("declined because", o.decline_reason.as_ref())
        .opt("purchase", o.purchase_id.as_ref());
    out
}

/// The intent an offer answers, for `offer show`: `"Washer" (itt_…, active)`.
pub(super) fn intent_line(intent: &Intent) -> String {
    format!(
        "{} ({}, {})",
        quoted(intent.fields.title.as_str()),
        intent.id,
        intent.state
    )
}

/// `"Acme"`, or the vendor's id if it is gone.
fn vendor_name(ctx: &Ctx, o: &Offer) -> CliResult<String> {
    Ok(ctx
        .vendor_names()?
        .get(&o.vendor_id)
        .map_or_else(|| o.vendor_id.to_string(), |n| quoted(n.as_str())))
}

fn accept(ctx: &Ctx, id: &OfferId, keep_open: bool) -> CliResult<()> {
    // Asked first, to say which other offers expire when the intent is fulfilled.
    let offer: Doc<Offer> = ctx.client.get(&path(id), &[])?;
    let query = [("intent", offer.value.intent_id.to_string())];
    let others = ctx
        .client
        .get_array::<Offer>("/v1/offers", &query)?
        .into_iter()
        .filter(|o| o.value.id != *id && o.value.state == OfferState::Pending)
        .count();
    let done: Doc<Offer> = ctx.client.post(
        &format!("{}/accept", path(id)),
        // The purchase is dated in the owner's time zone, as `purchase add` does.
        &AcceptOffer {
            keep_open,
            date: Some(chrono::Local::now().date_naive()),
        },
    )?;
    let o = &done.value;
    let vendor = vendor_name(ctx, o)?;
    let intent = intent_of(ctx, o)?;
    let purchase = o
        .purchase_id
        .as_ref()
        .map_or("a purchase".to_owned(), |p| format!("purchase {p}"));
    let first = format!(
        "accepted offer {id}: {purchase} of {} was recorded with {vendor}",
        price(o)
    );
    let title = quoted(intent.fields.title.as_str());
    let second = match intent.state {
        IntentState::Fulfilled => format!(
            "intent {} {title} is fulfilled: vendors no longer see it{}",
            intent.id,
            match others {
                0 => String::new(),
                1 => ", and its other pending offer expired".to_owned(),
                n => format!(", and its {n} other pending offers expired"),
            }
        ),
        other => format!(
            "intent {} {title} is still {other}; `carnet intent fulfil {}` when you are done",
            intent.id, intent.id
        ),
    };
    said(ctx, &done, &[&first, &second]);
    Ok(())
}

/// An answered offer: its JSON with `--json` (the lines then on stderr), else the lines.
pub(super) fn said<T>(ctx: &Ctx, done: &Doc<T>, lines: &[&str]) {
    ctx.print(done, |_| {
        for line in lines {
            ctx.done(line);
        }
    });
    if ctx.json {
        for line in lines {
            output::message(line);
        }
    }
}

fn decline(ctx: &Ctx, id: &OfferId, reason: Option<Text>) -> CliResult<()> {
    let done: Doc<Offer> = ctx
        .client
        .post(&format!("{}/decline", path(id)), &DeclineOffer { reason })?;
    let line = format!(
        "declined offer {id} from {} ({})",
        vendor_name(ctx, &done.value)?,
        price(&done.value)
    );
    said(ctx, &done, &[&line]);
    Ok(())
}
