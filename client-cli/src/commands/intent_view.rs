//! How an intent reads in the terminal: `intent show`'s fields, `intent list`'s table, and the
//! window and price texts the offer views share.

use carnet_schemas::{DEFAULT_MAX_OFFERS, Intent, IntentFields, PriceSpecification, RelayLevel};
use chrono::{DateTime, Days, FixedOffset, Local, NaiveTime};

use super::join;
use crate::cli::{condition_name, field_name};
use crate::output::{Fields, TableOut, long_time};

/// `from … until …`, in local time; the end as the owner typed it (see `window_end`).
pub(super) fn window(f: &IntentFields) -> String {
    let from = f
        .valid_from
        .map_or("from when it is activated".to_owned(), |t| {
            format!("from {}", minute(&t))
        });
    let until = f
        .valid_through
        .map_or(String::new(), |t| format!(" until {}", window_end(&t)));
    format!("{from}{until}")
}

pub(super) fn minute(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()
}

/// The end of a window in local time, to the minute. An end at local midnight is shown as
/// `24:00` of the day before, which is what `--until DATE` means (its end).
pub(super) fn window_end(t: &DateTime<FixedOffset>) -> String {
    let local = t.with_timezone(&Local);
    if local.time() == NaiveTime::MIN
        && let Some(day) = local.date_naive().checked_sub_days(Days::new(1))
    {
        return format!("{day} 24:00");
    }
    local.format("%Y-%m-%d %H:%M").to_string()
}

/// The last day of a window, in local time (for tables; `show` gives the time): the day of
/// its last moment, since the end itself is excluded.
pub(super) fn last_day(t: &DateTime<FixedOffset>) -> String {
    let local = t.with_timezone(&Local);
    let day = local.date_naive();
    if local.time() == NaiveTime::MIN {
        day.checked_sub_days(Days::new(1))
            .unwrap_or(day)
            .to_string()
    } else {
        day.to_string()
    }
}

/// The price range: `500–700 EUR`, `≤ 700 EUR`, `≥ 500 EUR`, `700 EUR`, or the currency alone.
pub(super) fn price_text(p: Option<&PriceSpecification>) -> String {
    p.map(ToString::to_string).unwrap_or_default()
}

/// `intent list`'s table.
pub(super) fn table(items: &[&Intent]) -> TableOut {
    let mut t = TableOut::new(&[
        "id", "state", "category", "title", "price", "until", "offers",
    ])
    .ids(&[0])
    .fixed(&[1, 4, 5, 6])
    .optional(&[5, 2])
    .right(&[6]);
    for i in items {
        let f = &i.fields;
        t.row([
            i.id.to_string(),
            i.state.to_string(),
            f.category.to_string(),
            f.title.to_string(),
            price_text(f.price_specification.as_ref()),
            f.valid_through.as_ref().map_or(String::new(), last_day),
            i.offers.to_string(),
        ]);
    }
    t
}

pub(super) fn yes_no(allowed: bool) -> &'static str {
    if allowed { "allowed" } else { "forbidden" }
}

/// `intent show`'s view.
pub(super) fn print_intent(i: &Intent) -> Fields {
    let f = &i.fields;
    let t = &f.terms;
    let mut out = Fields::new();
    out.add("id", &i.id)
        .add("state", i.state)
        .add("category", &f.category)
        .add("title", &f.title)
        .opt("description", f.description.as_ref())
        .add(
            "price",
            match price_text(f.price_specification.as_ref()) {
                p if p.is_empty() => "not said".to_owned(),
                p => p,
            },
        )
        .opt("quantity", f.eligible_quantity)
        .opt("area", f.area_served.as_ref())
        .opt("delivery", f.available_delivery_method.as_ref())
        .opt("condition", f.item_condition.map(condition_name))
        .add(
            "window from",
            f.valid_from
                .map_or("when it is activated".to_owned(), |t| long_time(&t)),
        )
        .opt(
            "window until",
            f.valid_through
                .map(|t| format!("{} ({})", window_end(&t), long_time(&t))),
        )
        .add(
            "offers",
            format!(
                "{} received, at most {}",
                i.offers,
                f.max_offers.unwrap_or(DEFAULT_MAX_OFFERS)
            ),
        )
        .add(
            "purpose",
            t.purpose.as_ref().map_or("not said", |p| p.as_str()),
        )
        .add("retention", format!("{} days", t.retention_days))
        .add("resale", yes_no(!t.no_resale))
        .add("tracking", yes_no(!t.no_tracking))
        .add(
            "withheld",
            if t.withhold.is_empty() {
                "nothing".to_owned()
            } else {
                join(t.withhold.iter().map(|w| field_name(*w)))
            },
        )
        .add(
            "market relay",
            match f.relay {
                RelayLevel::Off => "off: only vendors you grant see it".to_owned(),
                RelayLevel::Announce if f.public.is_empty() => {
                    "announce: category, region and window".to_owned()
                }
                RelayLevel::Announce => format!(
                    "announce: category, region and window, and its {}",
                    join(&f.public)
                ),
                RelayLevel::Sealed => {
                    "sealed: the intent, encrypted to the directory vendors granted it".to_owned()
                }
                RelayLevel::Notify => {
                    "notify: where to read it, encrypted to the directory vendors granted it"
                        .to_owned()
                }
            },
        )
        .add("written", long_time(&i.created_at))
        .add("changed", long_time(&i.updated_at));
    out
}
