//! The vault's side of the market relay, apart from NATS: which intents may be announced and
//! what of them goes out (`check`, `public_fields`), the announcement written in the change's own
//! transaction with the intent's keys and next revision (`announce`), the outbox the publisher
//! in carnetd drains (`outbox`), and the offers that come back (`offers`), found by their
//! bucket (`buckets`).
//!
//! An intent at `relay: announce` is the one exception to "a vendor only sees intents of a live
//! grant": every vendor subscribed to its category receives its category (two levels), the
//! vault's region, its window and the fields named in `public` — never a field its terms
//! withhold, never its id, never anything else. Its `intent_ref`, keys and the random part of
//! its bucket are made for it alone; the bucket's first token is the vault host, the same for
//! all the vault's intents (`buckets`); withdrawn, fulfilled and expired are its last
//! announcement.
//!
//! At `sealed` and `notify` nothing of the intent is in the clear but its category, region and
//! window: the intent (or where to pull it) is encrypted to the directory vendors whose live
//! grant covers it (`recipients`), chosen again at each revision, and each publication is in
//! the access log under each recipient once the relay has it.
//!
//! Never talks to the relay itself (carnetd's `relay` adapter does), and never announces an
//! intent of a vault without a relay configured (`Policy::relay_region`, `Policy::relay_host`).

pub mod announce;
pub mod buckets;
pub mod offers;
pub mod outbox;
pub mod recipients;

use carnet_market::wire::announcement::{PriceBand, PublicFields, Window};
use carnet_market::wire::{Amount, Category, Currency, Region};
use carnet_schemas::{IntentFields, PublicField, RelayLevel};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::vault::{Sealable, Table};

/// The longest window of an announced intent, in days: the relay's streams keep messages that
/// long (`max_age`), so a longer window would outlive its own announcement.
pub const LONGEST_WINDOW_DAYS: i64 = 90;

/// Why an intent cannot be announced as written: the field and a message for the owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAnnounceable {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: impl Into<String>) -> NotAnnounceable {
    NotAnnounceable {
        field,
        message: message.into(),
    }
}

/// Checks an intent's relay settings against the vault (`region`: its `relay_region`, `None`
/// when no relay is configured) and its own terms, and puts `public` in order. An intent at
/// `off` passes whatever its `public` says (nothing of it goes out).
pub fn check(
    fields: &mut IntentFields,
    region: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), NotAnnounceable> {
    fields.public.sort();
    fields.public.dedup();
    if fields.relay == RelayLevel::Off {
        return Ok(());
    }
    let Some(region) = region else {
        return Err(refuse(
            "relay",
            format!(
                "this server has no market relay (relay_url is not set in carnetd's configuration); {} needs one, or use relay off",
                fields.relay
            ),
        ));
    };
    if fields.relay.is_boxed() && !fields.public.is_empty() {
        return Err(refuse(
            "public",
            format!(
                "public fields are for relay announce: at {} nothing of the intent goes out in the clear; leave out --public",
                fields.relay
            ),
        ));
    }
    region
        .parse::<Region>()
        .map_err(|e| refuse("relay", format!("relay_region: {e}")))?;
    category(fields)?;
    if let Some(withheld) = fields.public.iter().find(|p| {
        p.withholdable()
            .is_some_and(|f| fields.terms.withhold.contains(&f))
    }) {
        return Err(refuse(
            "public",
            format!(
                "{withheld} is withheld by the intent's terms, so it cannot be public; take it out of --public or of --withhold"
            ),
        ));
    }
    let from = fields.valid_from.map_or(now, |t| t.to_utc()).max(now);
    if let Some(through) = fields.valid_through
        && through.to_utc() - from > chrono::Duration::days(LONGEST_WINDOW_DAYS)
    {
        return Err(refuse(
            "valid_through",
            format!(
                "an announced intent's window is at most {LONGEST_WINDOW_DAYS} days (the relay keeps announcements that long); give an earlier end"
            ),
        ));
    }
    public_fields(fields)?;
    Ok(())
}

/// Whether intent `id`'s announcements on the relay ended (a terminal event went out): it is
/// never announced again.
pub fn ended(
    c: &rusqlite::Connection,
    id: &carnet_schemas::IntentId,
) -> Result<bool, crate::store::StoreError> {
    Ok(crate::store::relay::intent(c, id.as_str())?.is_some_and(|r| r.ended))
}

/// The category as announced: the two first levels of the intent's.
pub fn category(fields: &IntentFields) -> Result<Category, NotAnnounceable> {
    Category::from_dotted(fields.category.as_str()).map_err(|e| {
        refuse(
            "category",
            format!("an announced intent needs a category of two levels or more, e.g. home.appliances ({e})"),
        )
    })
}

/// The intent's window (opened: activation sets `valid_from`).
pub fn window(fields: &IntentFields, now: DateTime<Utc>) -> Window {
    let from = fields.valid_from.map_or(now, |t| t.to_utc());
    Window {
        valid_from: from,
        valid_through: fields.valid_through.map_or(from, |t| t.to_utc()),
    }
}

/// The fields the owner named public, as the wire carries them; nothing else.
pub fn public_fields(fields: &IntentFields) -> Result<PublicFields, NotAnnounceable> {
    let mut out = PublicFields::default();
    let too_long = |field, max| {
        refuse(
            field,
            format!(
                "too long to announce ({max} characters at most); shorten it or leave it out of --public"
            ),
        )
    };
    for p in &fields.public {
        match p {
            PublicField::Title => {
                let t = fields.title.as_str();
                if t.chars().count() > carnet_market::wire::announcement::MAX_TITLE {
                    return Err(too_long(
                        "title",
                        carnet_market::wire::announcement::MAX_TITLE,
                    ));
                }
                out.title = Some(t.to_owned());
            }
            PublicField::Description => {
                if let Some(d) = &fields.description {
                    let max = carnet_market::wire::announcement::MAX_DESCRIPTION;
                    if d.as_str().chars().count() > max {
                        return Err(too_long("description", max));
                    }
                    out.description = Some(d.as_str().to_owned());
                }
            }
            PublicField::PriceBand => {
                if let Some(spec) = &fields.price_specification {
                    let amount = |a: &Option<carnet_schemas::Amount>| {
                        a.as_ref()
                            .map(|a| a.as_str().parse::<Amount>())
                            .transpose()
                            .map_err(|e| refuse("price_specification", e.to_string()))
                    };
                    out.price_band = Some(PriceBand {
                        min: amount(&spec.min_price)?,
                        max: amount(&spec.max_price)?,
                        currency: spec
                            .price_currency
                            .as_str()
                            .parse::<Currency>()
                            .map_err(|e| refuse("price_specification", e.to_string()))?,
                    });
                }
            }
            PublicField::Quantity => out.quantity = fields.eligible_quantity,
            PublicField::ItemCondition => {
                out.item_condition = fields.item_condition.map(|c| {
                    serde_json::to_value(c)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                });
            }
            PublicField::DeliveryMethods => {
                out.delivery_methods = fields
                    .available_delivery_method
                    .iter()
                    .map(|m| m.as_str().to_owned())
                    .collect();
            }
        }
    }
    Ok(out)
}

/// An intent's relay keys as the vault keeps them (sealed, bound to the intent's id).
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredKeys {
    /// `IntentKeys::export`'s text.
    pub keys: String,
}

impl Sealable for StoredKeys {
    const TABLE: Table = Table::RelayIntents;
}
