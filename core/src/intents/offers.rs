//! Offers, as the owner reads and answers them. Accepting one records the purchase with that
//! vendor (so it counts in the loyalty facts) and fulfils the intent unless asked to keep it
//! open; the vendor is told the answer by webhook, in the same transaction.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use carnet_schemas::{
    AcceptOffer, DeclineOffer, IntentFields, IntentId, IntentState, Line, Offer, OfferId,
    OfferState, PurchaseFields, PurchaseId, VendorId,
};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::check::over_budget;
use super::stored::{self, Stored};
use super::{OfferError, OfferRecord};
use crate::context::Core;
use crate::crypto::{Keys, Unreadable};
use crate::ledger::index::Op;
use crate::ledger::{Kind, Purchases};
use crate::store::intents::{self as rows, OfferRow, StoredIntentState, StoredOfferState};
use crate::store::records::{self, Row};
use crate::vault::Table;
use crate::webhooks::{self, IntentEvent, OfferAnswer};

/// An offer's state at `now`: a pending offer is expired once its own `valid_through` has
/// passed or its intent is no longer active.
fn offer_state(
    stored: StoredOfferState,
    record: &OfferRecord,
    intent_state: IntentState,
    now: DateTime<Utc>,
) -> OfferState {
    match stored {
        StoredOfferState::Accepted => OfferState::Accepted,
        StoredOfferState::Declined => OfferState::Declined,
        StoredOfferState::Pending
            if intent_state != IntentState::Active
                || record.fields.valid_through.is_some_and(|t| now >= t) =>
        {
            OfferState::Expired
        }
        StoredOfferState::Pending => OfferState::Pending,
    }
}

/// A value of an offer's row that should parse, or the row is unreadable.
fn parsed<T: std::str::FromStr>(row: &OfferRow<OfferRecord>, value: &str) -> Result<T, Unreadable> {
    value.parse().map_err(|_| Unreadable {
        table: Table::Offers.name(),
        id: row.id.clone(),
    })
}

/// An offer with its intent, opened.
struct Loaded {
    id: OfferId,
    vendor: VendorId,
    row: OfferRow<OfferRecord>,
    record: OfferRecord,
    intent: Stored,
}

impl Loaded {
    fn state(&self, now: DateTime<Utc>) -> OfferState {
        offer_state(self.row.state, &self.record, self.intent.state(now), now)
    }

    fn into_wire(self, now: DateTime<Utc>) -> Offer {
        let intent = OfferedOn::of(&self.intent, now);
        wire(self.row, self.record, (self.id, self.vendor), &intent, now)
    }
}

/// What an offer's view needs of its intent: its id, its state now, and its content (for
/// the budget).
struct OfferedOn {
    id: IntentId,
    state: IntentState,
    fields: IntentFields,
}

impl OfferedOn {
    fn of(intent: &Stored, now: DateTime<Utc>) -> Self {
        OfferedOn {
            id: intent.id.clone(),
            state: intent.state(now),
            fields: intent.fields.clone(),
        }
    }
}

fn load(c: &Connection, keys: &Keys, id: &OfferId) -> Result<Loaded, OfferError> {
    let row = rows::offer::<OfferRecord>(c, id.as_str())?
        .ok_or_else(|| OfferError::NotFound(id.clone()))?;
    let record: OfferRecord = keys.seal().open(&row.id, &row.sealed)?;
    let intent_id: IntentId = parsed(&row, &row.intent_id)?;
    let intent = stored::get::<OfferError>(c, keys, &intent_id)?
        .ok_or(OfferError::IntentNotFound(intent_id))?;
    Ok(Loaded {
        id: parsed(&row, &row.id)?,
        vendor: parsed(&row, &row.vendor_id)?,
        row,
        record,
        intent,
    })
}

fn wire(
    row: OfferRow<OfferRecord>,
    record: OfferRecord,
    (id, vendor_id): (OfferId, VendorId),
    intent: &OfferedOn,
    now: DateTime<Utc>,
) -> Offer {
    let fields = &record.fields;
    Offer {
        id,
        intent_id: intent.id.clone(),
        vendor_id,
        state: offer_state(row.state, &record, intent.state, now),
        created_at: row.created_at,
        updated_at: row.updated_at,
        over_budget: over_budget(&intent.fields, &fields.price, &fields.price_currency),
        fields: record.fields,
        decline_reason: record.decline_reason,
        purchase_id: record.purchase_id,
    }
}

/// Offers (all, or one intent's), newest first.
pub fn list(core: &Core, intent: Option<&IntentId>) -> Result<Vec<Offer>, OfferError> {
    let now = core.now();
    let keys = &core.keys;
    core.store.read(|c| {
        if let Some(intent) = intent {
            // An unknown intent is a mistake worth saying, not an empty list.
            stored::get::<OfferError>(c, keys, intent)?
                .ok_or_else(|| OfferError::IntentNotFound(intent.clone()))?;
        }
        let rows = rows::offers::<OfferRecord>(c, intent.map(|i| i.as_str()))?;
        opened(c, keys, rows, now)
    })
}

/// The offers waiting for the owner's answer now (pending, on an intent still open), oldest
/// first: only those stored as pending are opened.
pub fn waiting(core: &Core) -> Result<Vec<Offer>, OfferError> {
    let now = core.now();
    let keys = &core.keys;
    let offers = core.store.read(|c| {
        let rows = rows::pending_offers::<OfferRecord>(c)?;
        opened(c, keys, rows, now)
    })?;
    Ok(offers
        .into_iter()
        .filter(|o| o.state == OfferState::Pending)
        .collect())
}

/// The offers vendor `vendor` made, newest first, as the owner sees them (the vendor's own
/// listing is `vendor::offers`).
pub(super) fn of_vendor(core: &Core, vendor: &VendorId) -> Result<Vec<Offer>, OfferError> {
    let now = core.now();
    let keys = &core.keys;
    core.store.read(|c| {
        let rows = rows::offers_of_vendor::<OfferRecord>(c, vendor.as_str())?;
        opened(c, keys, rows, now)
    })
}

/// Opens offer rows, each intent once however many offers it has.
fn opened(
    c: &Connection,
    keys: &Keys,
    rows: Vec<OfferRow<OfferRecord>>,
    now: DateTime<Utc>,
) -> Result<Vec<Offer>, OfferError> {
    let mut intents: HashMap<String, OfferedOn> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let record: OfferRecord = keys.seal().open(&row.id, &row.sealed)?;
        let ids = (parsed(&row, &row.id)?, parsed(&row, &row.vendor_id)?);
        let intent = match intents.entry(row.intent_id.clone()) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => {
                let id: IntentId = parsed(&row, &row.intent_id)?;
                let found = stored::get::<OfferError>(c, keys, &id)?
                    .ok_or_else(|| OfferError::IntentNotFound(id.clone()))?;
                new.insert(OfferedOn::of(&found, now))
            }
        };
        out.push(wire(row, record, ids, intent, now));
    }
    Ok(out)
}

/// One offer.
pub fn show(core: &Core, id: &OfferId) -> Result<Offer, OfferError> {
    let loaded = core.store.read(|c| load(c, &core.keys, id))?;
    Ok(loaded.into_wire(core.now()))
}

fn must_be_pending(l: &Loaded, now: DateTime<Utc>) -> Result<(), OfferError> {
    match l.state(now) {
        OfferState::Pending => Ok(()),
        state => Err(OfferError::NotPending {
            id: l.id.clone(),
            state,
        }),
    }
}

/// Accepts a pending offer: records the purchase with that vendor (`purchase_id` says which)
/// and fulfils the intent unless `keep_open`.
pub async fn accept(core: &Core, id: &OfferId, how: AcceptOffer) -> Result<Offer, OfferError> {
    let now = core.now();
    let purchase_id: PurchaseId = core.new_id();
    let state = core.clone();
    let id = id.clone();
    // Through the ledger index, so the purchase is listed (and on its vendor's page) at once.
    let (offer, intent) = core
        .index
        .write(&core.store, move |c| {
            let mut l = load(c, &state.keys, &id)?;
            must_be_pending(&l, now)?;
            let fields = PurchaseFields {
                vendor_id: l.vendor.clone(),
                item: l.intent.fields.title.clone(),
                amount: l.record.fields.price.clone(),
                currency: l.record.fields.price_currency.clone(),
                date: Some(how.date.unwrap_or_else(|| now.date_naive())),
                warranty_until: None,
                receipt: Line::try_from(format!("offer {}", l.row.id)).ok(),
                import_key: None,
            };
            let listed = record_purchase(c, &state, &purchase_id, &fields, now)?;
            l.record.purchase_id = Some(purchase_id);
            answer(c, &state, &mut l, StoredOfferState::Accepted, None, now)?;
            if !how.keep_open {
                fulfil(c, &state, &mut l.intent, now)?;
            }
            let intent = (
                l.intent.id.clone(),
                l.intent.row.state,
                l.intent.fields.clone(),
            );
            Ok::<_, OfferError>(((l.into_wire(now), intent), vec![listed]))
        })
        .await?;
    let (intent_id, intent_state, fields) = intent;
    core.intents.set(&intent_id, intent_state, &fields, now);
    core.webhook_wake.notify_one();
    core.relay_wake.notify_one();
    Ok(offer)
}

/// Records the purchase an accepted offer makes (`fields.vendor_id` is its vendor), in the
/// caller's transaction; returns the ledger index's change, for the caller's `index.write`.
pub(super) fn record_purchase(
    c: &Connection,
    core: &Core,
    id: &PurchaseId,
    fields: &PurchaseFields,
    now: DateTime<Utc>,
) -> Result<Op, OfferError> {
    records::insert(
        c,
        &Row {
            id: id.to_string(),
            vendor_id: Some(fields.vendor_id.to_string()),
            created_at: now,
            updated_at: now,
            sealed: core.keys.seal().seal(id.as_str(), fields),
        },
    )?;
    Ok(Op::Put(Purchases::index_item(id, now, fields)))
}

/// Fulfils the intent an accepted offer bought, and tells its vendors and the relay (in the
/// caller's transaction; the caller refreshes the active set after the commit).
pub(super) fn fulfil(
    c: &Connection,
    core: &Core,
    intent: &mut Stored,
    now: DateTime<Utc>,
) -> Result<(), OfferError> {
    rows::set_intent_state(c, intent.id.as_str(), StoredIntentState::Fulfilled, now)?;
    intent.row.state = StoredIntentState::Fulfilled;
    webhooks::intent_event(
        c,
        core,
        IntentEvent::Fulfilled,
        &intent.id,
        &intent.fields,
        now,
        now,
    )?;
    Ok(())
}

/// Declines a pending offer, optionally saying why (the vendor is told the reason).
pub async fn decline(core: &Core, id: &OfferId, why: DeclineOffer) -> Result<Offer, OfferError> {
    let now = core.now();
    let state = core.clone();
    let id = id.clone();
    let offer = core
        .store
        .write(move |c| {
            let mut l = load(c, &state.keys, &id)?;
            must_be_pending(&l, now)?;
            let reason = why.reason.as_ref().map(|r| r.as_str().to_owned());
            l.record.decline_reason = why.reason;
            answer(c, &state, &mut l, StoredOfferState::Declined, reason, now)?;
            Ok::<_, OfferError>(l.into_wire(now))
        })
        .await?;
    core.webhook_wake.notify_one();
    Ok(offer)
}

/// Tells the vendor the owner's answer and stores it (with the record as changed).
fn answer(
    c: &Connection,
    core: &Core,
    l: &mut Loaded,
    to: StoredOfferState,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), OfferError> {
    webhooks::offer_event(
        c,
        core,
        &OfferAnswer {
            accepted: to == StoredOfferState::Accepted,
            vendor: &l.vendor,
            offer: &l.id,
            intent: &l.intent.id,
            reason: reason.as_deref(),
        },
        now,
    )?;
    let sealed = core.keys.seal().seal(&l.row.id, &l.record);
    rows::update_offer(c, &l.row.id, to, now, &sealed)?;
    l.row.state = to;
    l.row.updated_at = now;
    Ok(())
}
