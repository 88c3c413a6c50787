//! Intents as a granted vendor pulls them, the offers it answers with, and its own offers. A
//! vendor sees exactly the intents that are active now, inside their window, in a category
//! its token covers — read from the active set in memory, never from the database — and only
//! the fields the intent's terms allow. Paging (cursors, limits) and the access log are the
//! caller's; what the vendor saw and what it was not shown come back for the log.

use std::sync::Arc;

use bytes::Bytes;
use carnet_schemas::{
    IntentFields, IntentId, IntentState, Offer, OfferFields, OfferId, OfferState, VendorIntent,
    VendorOffer,
};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::check::offer_currency;
use super::offers::of_vendor;
use super::{IntentError, OfferError, OfferRecord, Withheld, effective_state};
use crate::access::Access;
use crate::access::pseudonym::customer_ref;
use crate::active::view;
use crate::active::{ActiveIntent, takes_offers};
use crate::context::Core;
use crate::crypto::Keys;
use crate::store::intents::{self as rows, OfferRow, StoredOfferState};

/// What a pull's intents are paged by: when each last changed (ms), then its id.
pub type PageKey = crate::active::PullKey;

/// What a vendor's pull asks for.
#[derive(Debug, Clone)]
pub struct Pull {
    /// Only intents changed since then.
    pub since: Option<DateTime<Utc>>,
    /// The page size asked for, if any (the cached first pages are kept per size asked).
    pub limit: Option<u32>,
    /// The page size.
    pub size: usize,
    /// Where an earlier page ended (its cursor's key).
    pub after: Option<PageKey>,
}

/// One page of a pull, ready to send, with the ids it shows and the fields they withhold.
pub struct Pulled {
    /// The page, as JSON.
    pub body: Bytes,
    pub ids: Arc<Vec<String>>,
    pub withheld: Option<Arc<Withheld>>,
}

/// The active intents `access` may see, one page of them (only the intents on the page are
/// built); `cursor` makes the next page's cursor of the last key shown. The usual poll (first
/// page, no `since`) is answered from the page computed for the same view, until an intent
/// changes or a window opens or closes.
pub fn pull(
    core: &Core,
    access: &Access,
    asked: Pull,
    cursor: impl FnOnce(&PageKey) -> String,
) -> Result<Pulled, IntentError> {
    let now = core.now();
    let first_page = asked.after.is_none() && asked.since.is_none();
    if first_page && let Some(hit) = core.intents.cached_page(access, asked.limit, now) {
        return Ok(Pulled {
            body: hit.body,
            ids: hit.ids,
            withheld: hit.withheld,
        });
    }
    let reference = customer_ref(&core.keys, &access.vendor_id);
    let mut seen = core.intents.visible_page(
        access,
        now,
        &reference,
        asked.since,
        asked.after.as_ref(),
        asked.size,
    );
    let ids = Arc::new(std::mem::take(&mut seen.ids));
    let withheld =
        (!seen.withheld.is_empty()).then(|| Arc::new(std::mem::take(&mut seen.withheld)));
    let next_cursor = seen.next.as_ref().map(cursor);
    let body = Bytes::from(view::page(&seen.shown, &reference, next_cursor.as_deref())?);
    if first_page {
        core.intents.keep_page(
            access,
            asked.limit,
            &seen,
            body.clone(),
            ids.clone(),
            withheld.clone(),
        );
    }
    Ok(Pulled {
        body,
        ids,
        withheld,
    })
}

/// One intent as a vendor sees it, with the fields it withholds.
pub struct Shown {
    pub intent: VendorIntent,
    pub withheld: Option<Arc<Withheld>>,
}

/// The intent `id`, if `access` may see it now.
pub fn show(core: &Core, access: &Access, id: &IntentId) -> Result<Shown, IntentError> {
    let intent = core
        .intents
        .visible_one(id, access, core.now())
        .ok_or_else(|| IntentError::NotFound(id.clone()))?;
    let withhold = &intent.fields.terms.withhold;
    let withheld = (!withhold.is_empty())
        .then(|| Arc::new(Withheld::from([(id.to_string(), withhold.clone())])));
    Ok(Shown {
        intent: intent.for_vendor(id, customer_ref(&core.keys, &access.vendor_id)),
        withheld,
    })
}

/// Answers intent `intent_id` with an offer, stored as `offer_id`. The intent must be one
/// `access` may see now, the offer must be in the intent's currency and must not outlast it,
/// the intent must take more offers, the vendor must have offers left in its allowance, and
/// when the offer is written the intent must still be active and take more offers. A price
/// above the intent's `max_price` is allowed: the owner sees it marked over budget.
pub async fn make_offer(
    core: &Core,
    access: &Access,
    intent_id: &IntentId,
    offer_id: OfferId,
    fields: OfferFields,
) -> Result<VendorOffer, OfferError> {
    let now = core.now();
    let intent = core
        .intents
        .visible_one(intent_id, access, now)
        .ok_or_else(|| OfferError::IntentNotFound(intent_id.clone()))?;
    check(&intent, &fields, now)?;
    offer_currency(&intent.fields, &fields)?;
    // A full intent does not cost the vendor an offer of its allowance.
    if !intent.takes_offers() {
        return Err(full(intent_id, &intent.fields));
    }
    core.offer_limits
        .take(&access.vendor_id, now)
        .map_err(|retry_after| OfferError::TooMany { retry_after })?;
    let record = OfferRecord {
        fields: fields.clone(),
        decline_reason: None,
        purchase_id: None,
    };
    let row = OfferRow {
        id: offer_id.to_string(),
        intent_id: intent_id.to_string(),
        vendor_id: access.vendor_id.to_string(),
        state: StoredOfferState::Pending,
        created_at: now,
        updated_at: now,
        sealed: core.keys.seal().seal(offer_id.as_str(), &record),
    };
    let (keys, iid) = (core.keys.clone(), intent_id.clone());
    core.store
        .write(move |c| record_offer(c, &keys, &iid, &row, now))
        .await?;
    core.intents.offer_made(intent_id);
    Ok(VendorOffer {
        id: offer_id,
        intent_id: intent_id.clone(),
        state: OfferState::Pending,
        created_at: now,
        updated_at: now,
        fields,
    })
}

fn full(intent: &IntentId, fields: &IntentFields) -> OfferError {
    OfferError::Full {
        intent: intent.clone(),
        max: fields
            .max_offers
            .unwrap_or(carnet_schemas::DEFAULT_MAX_OFFERS),
    }
}

/// The offers `access`'s vendor made (changed at or after `since`, if given), in every
/// state, keyed for paging by when each last changed (ms), then its id. They are its own:
/// listed whether or not it may still see their intents.
pub fn offers(
    core: &Core,
    access: &Access,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<(PageKey, VendorOffer)>, OfferError> {
    Ok(of_vendor(core, &access.vendor_id)?
        .into_iter()
        .filter(|o| since.is_none_or(|t| o.updated_at >= t))
        .map(|o| {
            let key = (o.updated_at.timestamp_millis(), o.id.to_string());
            (key, as_vendor_sees(o))
        })
        .collect())
}

/// An offer as the vendor that made it sees it (not the owner's reason, purchase or budget).
fn as_vendor_sees(o: Offer) -> VendorOffer {
    VendorOffer {
        id: o.id,
        intent_id: o.intent_id,
        state: o.state,
        created_at: o.created_at,
        updated_at: o.updated_at,
        fields: o.fields,
    }
}

/// An offer's price has its currency's decimals; it ends after it is made and no later than
/// the intent.
fn check(
    intent: &ActiveIntent,
    fields: &OfferFields,
    now: DateTime<Utc>,
) -> Result<(), OfferError> {
    fields
        .price
        .fits(&fields.price_currency)
        .map_err(|e| OfferError::Invalid {
            field: "price",
            message: e.0,
        })?;
    let invalid = |message: String| OfferError::Invalid {
        field: "valid_through",
        message,
    };
    match fields.valid_through {
        Some(t) if t <= now => Err(invalid("the offer would already be over".into())),
        Some(t) if t > intent.valid_through => Err(invalid(format!(
            "an offer cannot outlast the intent, which ends {}",
            intent.valid_through
        ))),
        _ => Ok(()),
    }
}

/// Writes the offer if the stored intent is still active and takes more offers: it may have
/// changed since the vendor's pull.
fn record_offer(
    c: &Connection,
    keys: &Keys,
    intent: &IntentId,
    row: &OfferRow<OfferRecord>,
    now: DateTime<Utc>,
) -> Result<(), OfferError> {
    let stored = match rows::intent::<IntentFields>(c, intent.as_str())? {
        Some(r) => {
            let fields: IntentFields = keys.seal().open(&r.id, &r.sealed)?;
            Some((effective_state(r.state, &fields, now), fields))
        }
        None => None,
    };
    let fields = match stored {
        Some((IntentState::Active, fields)) => fields,
        _ => return Err(OfferError::IntentEnded(intent.clone())),
    };
    if !takes_offers(&fields, rows::offer_count(c, intent.as_str())?) {
        return Err(full(intent, &fields));
    }
    rows::insert_offer(c, row)?;
    Ok(())
}
