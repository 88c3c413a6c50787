//! Offers that came through the market relay (`crate::relay::offers` takes them in), as the
//! owner reads and answers them. Accepting one records the purchase as accepting a vendor's
//! offer does (`offers::record_purchase`, `offers::fulfil`), with the vault's vendor linked to
//! the directory vendor, added from what was stored at receipt when the vault has none; the
//! answer (accepted or declined), signed with the intent's key and encrypted to the vendor, is
//! written to the relay's outbox in the same transaction — unless the offer came to another
//! vault's announcement (it was imported: the intent's keys never leave a vault), when the
//! answer is kept in the vault alone.
//!
//! Never needs the directory (the vendor's name, website and key were kept with the offer), and
//! never answers an offer that is not pending.

use std::collections::HashMap;

use carnet_market::keys::Recipient;
use carnet_market::wire::answer::Decision;
use carnet_schemas::{
    AcceptOffer, DeclineOffer, IntentId, IntentState, Line, MarketOffer, MarketOfferId, OfferState,
    PurchaseFields, PurchaseId,
};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::check::over_budget;
use super::offers::{fulfil, record_purchase};
use super::stored::{self, Stored};
use super::{OfferError, effective_state};
use crate::context::Core;
use crate::crypto::{Sealed, Unreadable};
use crate::ledger::vendors::{DirectoryListing, from_directory};
use crate::relay::announce::{enqueue, open_keys};
use crate::relay::offers::{MarketOfferRecord, schema_price};
use crate::store::intents::StoredOfferState;
use crate::store::relay::{self as rows, RelayOfferRow};
use crate::vault::Table;

/// A market offer with its intent, opened.
struct Loaded {
    id: MarketOfferId,
    row: RelayOfferRow,
    record: MarketOfferRecord,
    intent: Stored,
}

fn unreadable(table: Table, id: &str) -> Unreadable {
    Unreadable {
        table: table.name(),
        id: id.to_owned(),
    }
}

fn open_record(core: &Core, row: &RelayOfferRow) -> Result<MarketOfferRecord, OfferError> {
    let sealed = Sealed::<MarketOfferRecord>::from_stored(row.blob.clone());
    Ok(core.keys.seal().open(&row.id, &sealed)?)
}

fn load(c: &Connection, core: &Core, id: &MarketOfferId) -> Result<Loaded, OfferError> {
    let row = rows::offer(c, id.as_str())?.ok_or_else(|| OfferError::MarketNotFound(id.clone()))?;
    let record = open_record(core, &row)?;
    let intent_id: IntentId = row
        .intent_id
        .parse()
        .map_err(|_| unreadable(Table::RelayOffers, &row.id))?;
    let intent = stored::get::<OfferError>(c, &core.keys, &intent_id)?
        .ok_or(OfferError::IntentNotFound(intent_id))?;
    Ok(Loaded {
        id: id.clone(),
        row,
        record,
        intent,
    })
}

/// A market offer's state at `now`: a pending one is expired once its own `valid_through`
/// has passed or its intent is no longer active.
fn state(
    stored: StoredOfferState,
    record: &MarketOfferRecord,
    intent: IntentState,
    now: DateTime<Utc>,
) -> OfferState {
    match stored {
        StoredOfferState::Accepted => OfferState::Accepted,
        StoredOfferState::Declined => OfferState::Declined,
        StoredOfferState::Pending
            if intent != IntentState::Active || now >= record.terms.valid_through =>
        {
            OfferState::Expired
        }
        StoredOfferState::Pending => OfferState::Pending,
    }
}

fn wire(
    row: &RelayOfferRow,
    record: MarketOfferRecord,
    intent: (&IntentId, IntentState, &carnet_schemas::IntentFields),
    now: DateTime<Utc>,
) -> Result<MarketOffer, OfferError> {
    let (price, currency) =
        schema_price(&record.terms).map_err(|_| unreadable(Table::RelayOffers, &row.id))?;
    Ok(MarketOffer {
        id: row
            .id
            .parse()
            .map_err(|_| unreadable(Table::RelayOffers, &row.id))?,
        intent_id: intent.0.clone(),
        directory_vendor: row.directory_vendor.clone(),
        vendor_name: record.vendor.name.clone(),
        vendor_website: record.vendor.website.clone(),
        vendor_id: record.vendor_id.clone(),
        state: state(row.state, &record, intent.1, now),
        created_at: row.created_at,
        updated_at: row.updated_at,
        over_budget: over_budget(intent.2, &price, &currency),
        price,
        price_currency: currency,
        description: record
            .terms
            .description
            .as_deref()
            .and_then(|d| d.parse().ok()),
        valid_through: record.terms.valid_through,
        decline_reason: record.decline_reason,
        purchase_id: record.purchase_id,
        vendor_told: record.vendor_told,
    })
}

impl Loaded {
    fn into_wire(self, now: DateTime<Utc>) -> Result<MarketOffer, OfferError> {
        let state = self.intent.state(now);
        wire(
            &self.row,
            self.record,
            (&self.intent.id, state, &self.intent.fields),
            now,
        )
    }
}

/// Market offers (all, or one intent's), newest first; each intent opened once.
pub fn list(core: &Core, intent: Option<&IntentId>) -> Result<Vec<MarketOffer>, OfferError> {
    let now = core.now();
    core.store.read(|c| {
        if let Some(intent) = intent {
            stored::get::<OfferError>(c, &core.keys, intent)?
                .ok_or_else(|| OfferError::IntentNotFound(intent.clone()))?;
        }
        let mut intents: HashMap<String, Stored> = HashMap::new();
        let mut out = Vec::new();
        for row in rows::offers(c, intent.map(IntentId::as_str))? {
            let record = open_record(core, &row)?;
            if !intents.contains_key(&row.intent_id) {
                let id: IntentId = row
                    .intent_id
                    .parse()
                    .map_err(|_| unreadable(Table::RelayOffers, &row.id))?;
                let found = stored::get::<OfferError>(c, &core.keys, &id)?
                    .ok_or(OfferError::IntentNotFound(id))?;
                intents.insert(row.intent_id.clone(), found);
            }
            let i = &intents[&row.intent_id];
            let s = effective_state(i.row.state, &i.fields, now);
            out.push(wire(&row, record, (&i.id, s, &i.fields), now)?);
        }
        Ok(out)
    })
}

/// One market offer.
pub fn show(core: &Core, id: &MarketOfferId) -> Result<MarketOffer, OfferError> {
    core.store
        .read(|c| load(c, core, id))?
        .into_wire(core.now())
}

fn must_be_pending(l: &Loaded, now: DateTime<Utc>) -> Result<(), OfferError> {
    match state(l.row.state, &l.record, l.intent.state(now), now) {
        OfferState::Pending => Ok(()),
        s => Err(OfferError::MarketNotPending {
            id: l.id.clone(),
            state: s,
        }),
    }
}

/// Accepts a pending market offer: the vault's vendor for the directory vendor (added if
/// needed), the purchase recorded with it, the intent fulfilled unless `keep_open`, and the
/// answer queued for the relay, all in one transaction.
pub async fn accept(
    core: &Core,
    id: &MarketOfferId,
    how: AcceptOffer,
) -> Result<MarketOffer, OfferError> {
    let now = core.now();
    let purchase_id: PurchaseId = core.new_id();
    let new_vendor = core.new_id();
    let state = core.clone();
    let id = id.clone();
    let (offer, intent) = core
        .index
        .write(&core.store, move |c| {
            let mut l = load(c, &state, &id)?;
            must_be_pending(&l, now)?;
            let listing = DirectoryListing {
                directory_id: l.row.directory_vendor.clone(),
                name: l.record.vendor.name.clone(),
                website: l.record.vendor.website.clone(),
            };
            let (vendor_id, added) = from_directory(c, &state.keys, &listing, new_vendor, now)?;
            let (amount, currency) = schema_price(&l.record.terms)
                .map_err(|_| unreadable(Table::RelayOffers, &l.row.id))?;
            let fields = PurchaseFields {
                vendor_id: vendor_id.clone(),
                item: l.intent.fields.title.clone(),
                amount,
                currency,
                date: Some(how.date.unwrap_or_else(|| now.date_naive())),
                warranty_until: None,
                receipt: Line::try_from(format!("market offer {}", l.row.id)).ok(),
                import_key: None,
            };
            let mut ops: Vec<_> = added.into_iter().collect();
            ops.push(record_purchase(c, &state, &purchase_id, &fields, now)?);
            l.record.purchase_id = Some(purchase_id);
            l.record.vendor_id = Some(vendor_id);
            answer(c, &state, &mut l, Decision::Accepted, now)?;
            if !how.keep_open {
                fulfil(c, &state, &mut l.intent, now)?;
            }
            let intent = (
                l.intent.id.clone(),
                l.intent.row.state,
                l.intent.fields.clone(),
            );
            Ok::<_, OfferError>(((l.into_wire(now)?, intent), ops))
        })
        .await?;
    let (intent_id, intent_state, fields) = intent;
    core.intents.set(&intent_id, intent_state, &fields, now);
    core.webhook_wake.notify_one();
    core.relay_wake.notify_one();
    Ok(offer)
}

/// Declines a pending market offer, optionally saying why (kept for the owner: the relay's
/// answer carries the decision alone).
pub async fn decline(
    core: &Core,
    id: &MarketOfferId,
    why: DeclineOffer,
) -> Result<MarketOffer, OfferError> {
    let now = core.now();
    let state = core.clone();
    let id = id.clone();
    let offer = core
        .store
        .write(move |c| {
            let mut l = load(c, &state, &id)?;
            must_be_pending(&l, now)?;
            l.record.decline_reason = why.reason;
            answer(c, &state, &mut l, Decision::Declined, now)?;
            l.into_wire(now)
        })
        .await?;
    core.relay_wake.notify_one();
    Ok(offer)
}

/// Queues the answer for the relay (signed by the intent's key, encrypted to the vendor's key
/// kept at receipt) and stores the offer as answered. An offer whose intent's keys are not
/// here (an offer imported from another vault: an archive never carries them), or were made
/// afresh since (an imported intent announced again has another `intent_ref`), is answered in
/// the vault alone: nothing else could sign an answer the vendor would take.
fn answer(
    c: &Connection,
    core: &Core,
    l: &mut Loaded,
    decision: Decision,
    now: DateTime<Utc>,
) -> Result<(), OfferError> {
    let keys = match rows::intent(c, l.intent.id.as_str())? {
        None => None,
        Some(row) => Some(
            open_keys(core, &row)
                .ok_or_else(|| unreadable(Table::RelayIntents, l.intent.id.as_str()))?,
        ),
    };
    let recipient: Recipient = l
        .record
        .vendor
        .recipient
        .parse()
        .map_err(|_| unreadable(Table::RelayOffers, &l.row.id))?;
    match keys.filter(|k| k.intent_ref == l.record.terms.intent_ref) {
        Some(keys) => {
            let publication = keys.answer(
                &l.record.terms.vendor_id,
                &recipient,
                &l.record.terms.offer_id,
                decision,
                now,
            );
            enqueue(c, core, l.intent.id.as_str(), publication, None, now)?;
            l.record.vendor_told = true;
        }
        None => tracing::info!(
            offer = %l.row.id,
            "a market offer made to an announcement of another vault was answered here alone: the vendor is not told"
        ),
    }
    let to = match decision {
        Decision::Accepted => StoredOfferState::Accepted,
        Decision::Declined => StoredOfferState::Declined,
    };
    let sealed = core.keys.seal().seal(&l.row.id, &l.record);
    rows::update_offer(c, &l.row.id, to, now, sealed.as_bytes())?;
    l.row.state = to;
    l.row.updated_at = now;
    Ok(())
}
