//! Offers that come back through the relay, taken into the vault: one message of
//! `offer.v1.<bucket>` is matched to its intent by the bucket, opened with the intent's keys
//! (`open_offer`: the outer signature is verified before anything is decrypted, with the
//! directory vendor's key the adapter looks up), then checked as the vault's own rules say: the
//! intent is still active and still announced, it takes more offers (`max_offers` counts local
//! and relay offers together), the offer is in the intent's currency and within its window, the
//! directory vendor is within its allowance. It is stored sealed with the vendor's signed terms
//! as received (the proof) and the vendor as the directory described it at receipt (so an
//! answer needs no directory).
//!
//! A duplicate (same directory vendor, same offer id: kept across restarts by a unique key) is
//! dropped, never an error. Every outcome but a store failure is final, so the adapter may
//! acknowledge the message; it never talks to the relay itself and never reads a directory.

use carnet_market::directory::DirectoryVendor;
use carnet_market::keys::{Recipient, VerifyingKey};
use carnet_market::wire::offer::{OfferTerms, open_offer};
use carnet_market::wire::{Signed, VendorId, WireError};
use carnet_schemas::{
    IntentFields, IntentId, IntentState, MarketOfferId, PurchaseId, Text, VendorId as LocalVendorId,
};
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::announce::open_keys;
use crate::active::{effective_state, takes_offers};
use crate::context::Core;
use crate::store::StoreError;
use crate::store::intents::{self as intent_rows, StoredIntentState, StoredOfferState};
use crate::store::relay::{self as rows, RelayOfferRow};
use crate::vault::{Sealable, Table};

/// What the vault keeps of an offer that came through the relay (sealed, bound to its id).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MarketOfferRecord {
    /// The terms, as verified.
    pub terms: OfferTerms,
    /// The vendor's signed terms exactly as received: proof of what it offered.
    pub signed_terms: Signed,
    /// The vendor as the directory described it when the offer arrived.
    pub vendor: VendorAtReceipt,
    pub decline_reason: Option<Text>,
    /// The purchase recorded when it was accepted.
    pub purchase_id: Option<PurchaseId>,
    /// The vault's vendor for it, once accepting found or added one.
    pub vendor_id: Option<LocalVendorId>,
    /// Whether the answer was queued for the vendor through the relay.
    #[serde(default)]
    pub vendor_told: bool,
}

impl Sealable for MarketOfferRecord {
    const TABLE: Table = Table::RelayOffers;
}

/// A directory vendor as the vault keeps it with its offers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VendorAtReceipt {
    pub name: String,
    pub website: Option<String>,
    /// Its X25519 key (`age1…`): where the answer is encrypted to.
    pub recipient: String,
}

/// Why an offer was refused for good (the adapter logs it and acknowledges the message).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("no announced intent of this vault has bucket {0}")]
    UnknownBucket(String),
    #[error("the intent's relay keys do not open")]
    KeysUnreadable,
    #[error("{0}")]
    Wire(#[from] WireError),
    #[error("the intent is {0}, not active")]
    NotActive(IntentState),
    #[error("the intent is no longer announced on the relay")]
    NotAnnounced,
    #[error("the intent has received the {0} offers it takes")]
    Full(u32),
    #[error("the intent takes offers in {wanted}, not {got}")]
    Currency { wanted: String, got: String },
    #[error("{0}")]
    BadTerms(String),
    #[error("the vendor made too many offers: its allowance comes back in {0} s")]
    TooMany(u64),
    #[error("the intent is sealed to granted vendors, and this vendor has no live grant to it")]
    NotGranted,
}

/// What became of one offer message.
#[derive(Debug)]
pub enum Outcome {
    /// Stored, under this id.
    Stored(MarketOfferId),
    /// The same directory vendor's offer id was already taken: dropped.
    Duplicate,
    /// Refused for good.
    Refused(Refusal),
}

/// An offer that passed its signatures, ready for the vault's checks.
struct Opened {
    intent_id: IntentId,
    terms: OfferTerms,
    signed_terms: Signed,
    vendor: VendorAtReceipt,
}

/// Takes one message of `subject` (`offer.v1.<bucket>`) with its `header`s and `body`;
/// `directory` looks a directory vendor up by id. An `Err` is a store failure: the message
/// should come back.
pub async fn take(
    core: &Core,
    subject: &str,
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
    directory: impl Fn(&VendorId) -> Option<DirectoryVendor>,
) -> Result<Outcome, StoreError> {
    let now = core.now();
    let opened = match open(core, subject, header, body, &directory)? {
        Ok(o) => o,
        Err(refusal) => return Ok(Outcome::Refused(refusal)),
    };
    let (vendor, remote) = (&opened.terms.vendor_id, &opened.terms.offer_id);
    if core
        .store
        .read(|c| rows::has_offer(c, vendor.as_str(), remote.as_str()))?
    {
        return Ok(Outcome::Duplicate);
    }
    let fields = match core
        .store
        .read(|c| checked_intent(c, core, &opened.intent_id, now))?
    {
        Ok(fields) => fields,
        Err(refusal) => return Ok(Outcome::Refused(refusal)),
    };
    if let Err(refusal) = check_terms(&fields, &opened.terms, now) {
        return Ok(Outcome::Refused(refusal));
    }
    // A sealed or notify intent takes offers from the vendors it may go to, as of now.
    if fields.relay.is_boxed()
        && !core
            .store
            .read(|c| super::recipients::is_entitled(c, core, &fields.category, vendor, now))?
    {
        return Ok(Outcome::Refused(Refusal::NotGranted));
    }
    if let Err(retry_after) = core.relay_offer_limits.take(vendor, now) {
        return Ok(Outcome::Refused(Refusal::TooMany(retry_after)));
    }
    let id: MarketOfferId = core.new_id();
    let record = MarketOfferRecord {
        terms: opened.terms.clone(),
        signed_terms: opened.signed_terms,
        vendor: opened.vendor,
        decline_reason: None,
        purchase_id: None,
        vendor_id: None,
        vendor_told: false,
    };
    let row = RelayOfferRow {
        id: id.to_string(),
        intent_id: opened.intent_id.to_string(),
        directory_vendor: vendor.to_string(),
        remote_id: remote.to_string(),
        state: StoredOfferState::Pending,
        created_at: now,
        updated_at: now,
        blob: core
            .keys
            .seal()
            .seal(id.as_str(), &record)
            .as_bytes()
            .to_vec(),
    };
    let state = core.clone();
    let intent_id = opened.intent_id.clone();
    let outcome = core
        .store
        .write(move |c| {
            // Again in the transaction: the intent may have changed, the same offer may have
            // come twice at once.
            if rows::has_offer(c, &row.directory_vendor, &row.remote_id)? {
                return Ok::<_, StoreError>(Outcome::Duplicate);
            }
            if let Err(refusal) = checked_intent(c, &state, &intent_id, now)? {
                return Ok(Outcome::Refused(refusal));
            }
            rows::insert_offer(c, &row)?;
            Ok(Outcome::Stored(id))
        })
        .await?;
    if matches!(outcome, Outcome::Stored(_)) {
        core.intents.offer_made(&opened.intent_id);
    }
    Ok(outcome)
}

/// Finds the intent of the subject's bucket and opens the offer with its keys.
fn open(
    core: &Core,
    subject: &str,
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
    directory: &impl Fn(&VendorId) -> Option<DirectoryVendor>,
) -> Result<Result<Opened, Refusal>, StoreError> {
    let bucket = super::buckets::bucket_of(subject);
    let Some(row) = core.store.read(|c| rows::intent_of_bucket(c, bucket))? else {
        return Ok(Err(Refusal::UnknownBucket(bucket.to_owned())));
    };
    if row.ended {
        return Ok(Err(Refusal::NotAnnounced));
    }
    let Some(keys) = open_keys(core, &row) else {
        return Ok(Err(Refusal::KeysUnreadable));
    };
    let key = |id: &VendorId| -> Option<VerifyingKey> { directory(id)?.ed25519.parse().ok() };
    let verified = match open_offer(subject, header, body, &keys, key) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e.into())),
    };
    // `open_offer` found the vendor, so the directory has it (unless it changed in between).
    let Some(listed) = directory(&verified.terms.vendor_id) else {
        return Ok(Err(WireError::UnknownSender(
            verified.terms.vendor_id.to_string(),
        )
        .into()));
    };
    if listed.x25519.parse::<Recipient>().is_err() {
        return Ok(Err(Refusal::BadTerms(
            "the directory's X25519 key for this vendor is not valid".into(),
        )));
    }
    let Ok(intent_id) = row.intent_id.parse::<IntentId>() else {
        return Ok(Err(Refusal::KeysUnreadable));
    };
    Ok(Ok(Opened {
        intent_id,
        terms: verified.terms,
        signed_terms: verified.signed_terms,
        vendor: VendorAtReceipt {
            name: listed.name,
            website: listed.website,
            recipient: listed.x25519,
        },
    }))
}

/// The intent's fields if it takes one more relay offer now (`judge_intent`, on the stored
/// intent, its relay row and its offers of both kinds).
fn checked_intent(
    c: &Connection,
    core: &Core,
    id: &IntentId,
    now: DateTime<Utc>,
) -> Result<Result<IntentFields, Refusal>, StoreError> {
    let Some(row) = intent_rows::intent::<IntentFields>(c, id.as_str())? else {
        return Ok(Err(Refusal::NotActive(IntentState::Withdrawn)));
    };
    let Ok(fields) = core.keys.seal().open::<IntentFields>(&row.id, &row.sealed) else {
        return Ok(Err(Refusal::KeysUnreadable));
    };
    let ended = rows::intent(c, id.as_str())?.is_none_or(|r| r.ended);
    let offers = intent_rows::offer_count(c, id.as_str())?;
    Ok(judge_intent(row.state, &fields, ended, offers, now).map(|()| fields))
}

/// Whether an intent takes one more relay offer at `now`: active (its window read against
/// `now`), still at `announce` and not announced ended (`relay_ended`), below `max_offers` with
/// the `offers` it has (local and relay together).
fn judge_intent(
    stored: StoredIntentState,
    fields: &IntentFields,
    relay_ended: bool,
    offers: u32,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let state = effective_state(stored, fields, now);
    if state != IntentState::Active {
        return Err(Refusal::NotActive(state));
    }
    if fields.relay.is_off() || relay_ended {
        return Err(Refusal::NotAnnounced);
    }
    if !takes_offers(fields, offers) {
        return Err(Refusal::Full(
            fields
                .max_offers
                .unwrap_or(carnet_schemas::DEFAULT_MAX_OFFERS),
        ));
    }
    Ok(())
}

/// The offer's terms against the intent: its currency (when the intent names one), a price
/// with that currency's decimals, an end after now and not after the intent's.
fn check_terms(
    fields: &IntentFields,
    terms: &OfferTerms,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let (price, currency) = schema_price(terms)?;
    if let Some(spec) = &fields.price_specification
        && spec.price_currency != currency
    {
        return Err(Refusal::Currency {
            wanted: spec.price_currency.as_str().to_owned(),
            got: currency.as_str().to_owned(),
        });
    }
    price
        .fits(&currency)
        .map_err(|e| Refusal::BadTerms(format!("price: {}", e.0)))?;
    if terms.valid_through <= now {
        return Err(Refusal::BadTerms("the offer is already over".into()));
    }
    if fields
        .valid_through
        .is_some_and(|end| terms.valid_through > end.to_utc())
    {
        return Err(Refusal::BadTerms(
            "the offer outlasts the intent's window".into(),
        ));
    }
    Ok(())
}

/// The offer's price and currency as the vault's own values.
pub fn schema_price(
    terms: &OfferTerms,
) -> Result<(carnet_schemas::Amount, carnet_schemas::Currency), Refusal> {
    let price = terms
        .price
        .as_str()
        .parse::<carnet_schemas::Amount>()
        .map_err(|e| Refusal::BadTerms(format!("price: {}", e.0)))?;
    let currency = terms
        .currency
        .as_str()
        .parse::<carnet_schemas::Currency>()
        .map_err(|e| Refusal::BadTerms(format!("currency: {}", e.0)))?;
    Ok((price, currency))
}

#[cfg(test)]
#[path = "offers_tests.rs"]
mod tests;
