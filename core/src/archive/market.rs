//! Market offers in the archive (version 5 on): every offer that came through the relay
//! (`relay_offers`), with what the vault seals of it (`relay::offers::MarketOfferRecord`: the
//! terms, the vendor's signed terms as received, the directory vendor at receipt, the answer),
//! so an imported offer can still be listed, accepted or declined. The import re-seals each
//! under this vault's keys in the import's one transaction, refusing an offer whose intent the
//! archive did not hold before it, or whose terms are not the ones its signed terms carry.
//!
//! Never exported: each announced intent's relay keys (`relay_intents`: secrets, like channel
//! secrets) and the relay's outbox. The signed terms are not verified again on import: the
//! vendor's Ed25519 key is the directory's, and the vault never kept it.

use std::io::Write;

use carnet_market::keys::Recipient;
use carnet_market::wire::Signed;
use carnet_market::wire::offer::OfferTerms;
use carnet_schemas::{ArchivedDirectoryVendor, ArchivedMarketOffer, ArchivedSignedTerms};
use rusqlite::Connection;

use super::export::{Doc, ExportError};
use super::import::{ImportError, Importer};
use crate::crypto::{Keys, Sealed, Table, Unreadable};
use crate::relay::offers::{MarketOfferRecord, VendorAtReceipt, schema_price};
use crate::store::archive as rows;
use crate::store::relay::{self as relay_rows, RelayOfferRow};

fn unreadable(id: &str) -> Unreadable {
    Unreadable {
        table: Table::RelayOffers.name(),
        id: id.to_owned(),
    }
}

/// Writes the `market_offers` section from the export's snapshot `c`, one row at a time.
pub(super) fn write<W: Write>(
    doc: &mut Doc<'_, W>,
    c: &Connection,
    keys: &Keys,
) -> Result<(), ExportError> {
    doc.open_section("market_offers")?;
    rows::each_market_offer::<ExportError>(c, |row| {
        let sealed = Sealed::<MarketOfferRecord>::from_stored(row.blob);
        let record: MarketOfferRecord = keys.seal().open(&row.id, &sealed)?;
        let (price, price_currency) =
            schema_price(&record.terms).map_err(|_| unreadable(&row.id))?;
        Ok(doc.element(&ArchivedMarketOffer {
            id: row.id.parse().map_err(|_| unreadable(&row.id))?,
            intent_id: row.intent_id.parse().map_err(|_| unreadable(&row.id))?,
            directory_vendor: row.directory_vendor,
            remote_id: row.remote_id,
            state: row.state.into(),
            created_at: row.created_at,
            updated_at: row.updated_at,
            vendor: ArchivedDirectoryVendor {
                name: record.vendor.name,
                website: record.vendor.website,
                x25519: record.vendor.recipient,
            },
            price,
            price_currency,
            description: record.terms.description,
            valid_through: record.terms.valid_through,
            signed_terms: ArchivedSignedTerms {
                payload: record.signed_terms.payload,
                signature: record.signed_terms.signature,
            },
            decline_reason: record.decline_reason,
            purchase_id: record.purchase_id,
            vendor_id: record.vendor_id,
            vendor_told: record.vendor_told,
        })?)
    })?;
    doc.close_section()?;
    Ok(())
}

impl Importer<'_> {
    pub(super) fn market_offer(&mut self, o: ArchivedMarketOffer) -> Result<(), ImportError> {
        self.counts.market_offers += 1;
        let terms = self.signed_terms(&o)?;
        if o.vendor.x25519.parse::<Recipient>().is_err() {
            return Err(self.invalid("vendor.x25519 is not an X25519 key (age1…)"));
        }
        if !self.writing {
            return self.conflict(Table::RelayOffers, "market offer", o.id.as_str());
        }
        self.require(Table::Intents, "intent", o.intent_id.as_str())?;
        // The vault's vendor (once accepted) may have been deleted since: it is not required,
        // as an interaction may name an incident deleted since.
        let record = MarketOfferRecord {
            terms,
            signed_terms: Signed {
                payload: o.signed_terms.payload,
                signature: o.signed_terms.signature,
            },
            vendor: VendorAtReceipt {
                name: o.vendor.name,
                website: o.vendor.website,
                recipient: o.vendor.x25519,
            },
            decline_reason: o.decline_reason,
            purchase_id: o.purchase_id,
            vendor_id: o.vendor_id,
            vendor_told: o.vendor_told,
        };
        let row = RelayOfferRow {
            id: o.id.to_string(),
            intent_id: o.intent_id.to_string(),
            directory_vendor: o.directory_vendor,
            remote_id: o.remote_id,
            state: o.state.into(),
            created_at: o.created_at,
            updated_at: o.updated_at,
            blob: self
                .keys
                .seal()
                .seal(o.id.as_str(), &record)
                .as_bytes()
                .to_vec(),
        };
        // The directory vendor's offer id is unique too: a second one is the same offer twice.
        self.inserted(
            relay_rows::insert_offer(self.c, &row),
            &format!("market offer {} (or its vendor's offer id)", o.id),
        )
    }

    /// The terms `o.signed_terms` carries, once they are the ones `o` shows: the same vendor,
    /// offer id, price, currency, end and description.
    fn signed_terms(&self, o: &ArchivedMarketOffer) -> Result<OfferTerms, ImportError> {
        let signed = Signed {
            payload: o.signed_terms.payload.clone(),
            signature: o.signed_terms.signature.clone(),
        };
        let terms = signed
            .decode()
            .ok()
            .and_then(|(payload, _)| serde_json::from_slice::<OfferTerms>(&payload).ok())
            .ok_or_else(|| {
                self.invalid("signed_terms is not a vendor's signed offer terms (base64url JSON)")
            })?;
        let same = terms.vendor_id.as_str() == o.directory_vendor
            && terms.offer_id.as_str() == o.remote_id
            && schema_price(&terms).is_ok_and(|(p, c)| p == o.price && c == o.price_currency)
            && terms.valid_through == o.valid_through
            && terms.description == o.description;
        if !same {
            return Err(self.invalid(
                "its vendor, offer id, price, currency, valid_through or description differ from the signed_terms it carries",
            ));
        }
        Ok(terms)
    }
}
