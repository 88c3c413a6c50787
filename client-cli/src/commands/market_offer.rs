//! Offers that came through the market relay (`mof_…`), for `carnet offers` and
//! `carnet offer show | accept | decline`: their vendor is the market directory's (its name as
//! the directory gave it when the offer arrived, marked "(relay)"); answering them answers
//! the vendor through the relay. The vendor's text reaches the terminal only through `output`.

use carnet_schemas::{AcceptOffer, DeclineOffer, Intent, MarketOffer, MarketOfferId, Text};

use super::Ctx;
use super::intent_view::window_end;
use super::offer::{intent_line, said, state};
use crate::client::Doc;
use crate::error::CliResult;
use crate::output::{self, Fields, TableOut, long_time, quoted};

fn path(id: &MarketOfferId) -> String {
    format!("/v1/market/offers/{id}")
}

/// The market offers (`query`: the same filter as `/v1/offers`).
pub(super) fn fetch(ctx: &Ctx, query: &[(&str, String)]) -> CliResult<Vec<Doc<MarketOffer>>> {
    ctx.client.get_array("/v1/market/offers", query)
}

/// `"Acme Appliances (relay)"`.
fn vendor(o: &MarketOffer) -> String {
    format!("{} (relay)", o.vendor_name)
}

fn price(o: &MarketOffer) -> String {
    format!("{} {}", o.price, o.price_currency)
}

fn price_marked(o: &MarketOffer) -> String {
    if o.over_budget {
        format!("{} (over budget)", price(o))
    } else {
        price(o)
    }
}

/// Adds market offers to `offers`' table (same columns).
pub(super) fn rows<'a>(t: &mut TableOut, offers: impl Iterator<Item = &'a MarketOffer>) {
    for o in offers {
        t.row([
            o.id.to_string(),
            o.intent_id.to_string(),
            vendor(o),
            state(o.state).to_owned(),
            price_marked(o),
            window_end(&o.valid_through.fixed_offset()),
            o.description
                .as_ref()
                .map_or(String::new(), Text::to_string),
        ]);
    }
}

fn intent_of(ctx: &Ctx, o: &MarketOffer) -> CliResult<Intent> {
    Ok(ctx
        .client
        .get::<Intent>(&format!("/v1/intents/{}", o.intent_id), &[])?
        .value)
}

pub(super) fn show(ctx: &Ctx, id: &MarketOfferId) -> CliResult<()> {
    let doc: Doc<MarketOffer> = ctx.client.get(&path(id), &[])?;
    if ctx.json {
        output::json(&doc.raw);
        return Ok(());
    }
    let o = &doc.value;
    let intent = intent_of(ctx, o)?;
    let mut out = Fields::new();
    out.add("id", &o.id)
        .add("intent", intent_line(&intent))
        .add(
            "vendor",
            format!("{} (market directory: {})", vendor(o), o.directory_vendor),
        )
        .opt("website", o.vendor_website.as_ref())
        .opt("your vendor", o.vendor_id.as_ref())
        .add("state", state(o.state))
        .add("price", price_marked(o))
        .opt("description", o.description.as_ref())
        .add(
            "valid until",
            format!(
                "{} ({})",
                window_end(&o.valid_through.fixed_offset()),
                long_time(&o.valid_through)
            ),
        )
        .add("received", long_time(&o.created_at))
        .add("changed", long_time(&o.updated_at))
        .opt("declined because", o.decline_reason.as_ref())
        .opt("purchase", o.purchase_id.as_ref());
    out.print();
    Ok(())
}

pub(super) fn accept(ctx: &Ctx, id: &MarketOfferId, keep_open: bool) -> CliResult<()> {
    let done: Doc<MarketOffer> = ctx.client.post(
        &format!("{}/accept", path(id)),
        &AcceptOffer {
            keep_open,
            date: Some(chrono::Local::now().date_naive()),
        },
    )?;
    let o = &done.value;
    let purchase = o
        .purchase_id
        .as_ref()
        .map_or("a purchase".to_owned(), |p| format!("purchase {p}"));
    let with = o
        .vendor_id
        .as_ref()
        .map_or_else(String::new, |v| format!(" ({v})"));
    let first = format!(
        "accepted offer {id}: {purchase} of {} was recorded with {}{with}; {}",
        price(o),
        quoted(&o.vendor_name),
        told(o),
    );
    let intent = intent_of(ctx, o)?;
    let second = format!(
        "intent {} {} is {}",
        intent.id,
        quoted(intent.fields.title.as_str()),
        intent.state
    );
    said(ctx, &done, &[&first, &second]);
    Ok(())
}

pub(super) fn decline(ctx: &Ctx, id: &MarketOfferId, reason: Option<Text>) -> CliResult<()> {
    let done: Doc<MarketOffer> = ctx
        .client
        .post(&format!("{}/decline", path(id)), &DeclineOffer { reason })?;
    let line = format!(
        "declined offer {id} from {} ({}); {}",
        quoted(&done.value.vendor_name),
        price(&done.value),
        told(&done.value)
    );
    said(ctx, &done, &[&line]);
    Ok(())
}

/// Whether the vendor hears of the answer: always, unless the offer was made to an
/// announcement of the vault this one was moved from (whose relay keys stay there).
fn told(o: &MarketOffer) -> &'static str {
    if o.vendor_told {
        "the vendor is told through the relay"
    } else {
        "the vendor cannot be told: the offer was made to the vault this one was moved from, whose relay keys stay there"
    }
}
