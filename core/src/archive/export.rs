//! Writing the archive: one read transaction (every section from the same snapshot), the
//! access log verified first and the result recorded, then each table row by row, opened and
//! written as the schema's JSON, one record per line, the market offers after the intents'
//! offers (`market`), the documents last (`documents`). Never collects a table in memory.

use std::io::{self, Write};

use carnet_schemas::ids::{
    IncidentKind, InteractionKind, PromiseKind, PurchaseKind, SubscriptionKind, VendorKind,
};
use carnet_schemas::{
    ARCHIVE_VERSION, ArchiveCounts, ArchiveFormat, ArchiveKeys, ArchivedAccessEntry,
    ArchivedClient, ArchivedGrant, ArchivedIntent, ArchivedIntentState, ArchivedOffer,
    ArchivedProfile, ArchivedPromise, ArchivedReceipt, ArchivedReceiptKey, ArchivedSubscription,
    GrantFields, Incident, IncidentFields, IntentFields, Interaction, InteractionFields,
    ProfileFields, PromiseFields, Purchase, PurchaseFields, SubscriptionFields, Vendor,
    VendorFields, VendorId,
};
use chrono::{DateTime, Utc};
use data_encoding::BASE64URL_NOPAD;
use rusqlite::Connection;
use serde::Serialize;

use crate::access::log::AccessRecord;
use crate::access::password::WEB_PASSWORD;
use crate::access::{ClientRecord, ReceiptRecord, chain};
use crate::intents::OfferRecord;
use crate::ledger::PROFILE_ID;
use crate::ledger::open;
use crate::store::archive as rows;
use crate::store::intents::StoredIntentState;
use crate::store::{StoreError, records};
use crate::vault::imported::encode_key;
use crate::vault::{Keys, Table, Unreadable};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Unreadable(#[from] Unreadable),
    /// A document's chunk does not open, or its chunks do not add up to its size.
    #[error("{0}")]
    Document(#[from] crate::documents::DocumentError),
    /// Writing failed: the client went away.
    #[error("writing the archive: {0}")]
    Write(#[from] io::Error),
}

fn unreadable(table: Table, id: &str) -> Unreadable {
    Unreadable {
        table: table.name(),
        id: id.to_owned(),
    }
}

fn parse<T: std::str::FromStr>(table: Table, id: &str, value: &str) -> Result<T, Unreadable> {
    value.parse().map_err(|_| unreadable(table, id))
}

/// The document, member by member.
pub(super) struct Doc<'w, W: Write> {
    out: &'w mut W,
    members: usize,
    elements: u64,
}

impl<W: Write> Doc<'_, W> {
    fn member<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> io::Result<()> {
        self.out
            .write_all(if self.members == 0 { b"{\n" } else { b",\n" })?;
        self.members += 1;
        serde_json::to_writer(&mut *self.out, name)?;
        self.out.write_all(b":")?;
        serde_json::to_writer(&mut *self.out, value)?;
        Ok(())
    }

    pub(super) fn open_section(&mut self, name: &str) -> io::Result<()> {
        self.out.write_all(b",\n")?;
        self.members += 1;
        self.elements = 0;
        serde_json::to_writer(&mut *self.out, name)?;
        self.out.write_all(b":[")
    }

    pub(super) fn element<T: Serialize>(&mut self, value: &T) -> io::Result<()> {
        self.out
            .write_all(if self.elements == 0 { b"\n" } else { b",\n" })?;
        self.elements += 1;
        serde_json::to_writer(&mut *self.out, value)?;
        Ok(())
    }

    pub(super) fn close_section(&mut self) -> io::Result<()> {
        self.out
            .write_all(if self.elements == 0 { b"]" } else { b"\n]" })
    }

    fn finish(self) -> io::Result<()> {
        self.out.write_all(b"\n}\n")?;
        self.out.flush()
    }
}

/// One ledger section: every record of a table, opened and written as its wire type (they
/// differ only by their types).
macro_rules! ledger_section {
    ($doc:ident, $c:ident, $keys:ident, $name:literal, $fields:ty, $kind:ty, $wire:ident) => {
        $doc.open_section($name)?;
        rows::each_record::<$fields, ExportError>($c, |row| {
            let o = open::<$kind, _>($keys, row)?;
            Ok($doc.element(&$wire {
                id: o.id,
                created_at: o.row.created_at,
                updated_at: o.row.updated_at,
                fields: o.fields,
            })?)
        })?;
        $doc.close_section()?;
    };
}

/// Writes the whole vault to `out`; returns how many records of each kind it wrote.
pub fn write(
    c: &Connection,
    keys: &Keys,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<ArchiveCounts, ExportError> {
    // A read transaction: the counts, the chain check and every section see one snapshot.
    let snapshot = c.unchecked_transaction().map_err(StoreError::from)?;
    let counts = rows::counts(c)?;
    let mut doc = Doc {
        out,
        members: 0,
        elements: 0,
    };
    write_head(&mut doc, c, keys, now, &counts)?;
    ledger_sections(&mut doc, c, keys)?;
    intent_sections(&mut doc, c, keys)?;
    super::market::write(&mut doc, c, keys)?;
    access_sections(&mut doc, c, keys)?;
    super::documents::write(&mut doc, c, keys)?;
    doc.finish()?;
    drop(snapshot);
    Ok(counts)
}

/// The members before the sections: what the archive is, the keys it carries, the access
/// log's verification, the web password and the profile.
fn write_head<W: Write>(
    doc: &mut Doc<'_, W>,
    c: &Connection,
    keys: &Keys,
    now: DateTime<Utc>,
    counts: &ArchiveCounts,
) -> Result<(), ExportError> {
    let started = std::time::Instant::now();
    let mut verification = chain::verify(c, keys)?;
    verification.checked_at = Some(now);
    verification.duration_ms = Some(started.elapsed().as_millis() as u64);
    let web_password = records::meta_get(c, WEB_PASSWORD)?
        .map(|b| String::from_utf8(b).map_err(|_| unreadable(Table::Meta, WEB_PASSWORD)))
        .transpose()?;
    let mut receipt_keys = Vec::new();
    for vendor in rows::receipt_key_vendors(c)? {
        let vendor_id: VendorId = parse(Table::Receipts, &vendor, &vendor)?;
        let seed = keys.receipt_seed(vendor_id.as_str());
        receipt_keys.push(ArchivedReceiptKey {
            vendor_id,
            seed: encode_key(&seed).to_string(),
        });
    }
    let archive_keys = ArchiveKeys {
        pseudonym_key: encode_key(keys.pseudonym_secret()).to_string(),
        receipt_keys,
    };
    let profile = match records::get::<ProfileFields>(c, PROFILE_ID)? {
        None => None,
        Some(row) => Some(ArchivedProfile {
            created_at: row.created_at,
            updated_at: row.updated_at,
            fields: keys.seal().open(&row.id, &row.sealed)?,
        }),
    };

    doc.member("format", &ArchiveFormat::CarnetArchive)?;
    doc.member("version", &ARCHIVE_VERSION)?;
    doc.member("exported_at", &now)?;
    doc.member("carnet_version", env!("CARGO_PKG_VERSION"))?;
    doc.member("counts", counts)?;
    doc.member("keys", &archive_keys)?;
    drop(archive_keys);
    doc.member("access_log_verification", &verification)?;
    // A checkpoint that does not open is not carried (the verification above says so).
    let checkpoint = crate::access::checkpoint::read(c, keys)?
        .ok()
        .flatten()
        .map(|cp| cp.summary());
    if checkpoint.is_some() {
        doc.member("access_log_checkpoint", &checkpoint)?;
    }
    doc.member("web_password", &web_password)?;
    doc.member("profile", &profile)?;
    Ok(())
}

/// The owner's ledger: vendors, incidents, purchases, interactions, promises, subscriptions.
fn ledger_sections<W: Write>(
    doc: &mut Doc<'_, W>,
    c: &Connection,
    keys: &Keys,
) -> Result<(), ExportError> {
    ledger_section!(doc, c, keys, "vendors", VendorFields, VendorKind, Vendor);

    ledger_section!(
        doc,
        c,
        keys,
        "incidents",
        IncidentFields,
        IncidentKind,
        Incident
    );

    ledger_section!(
        doc,
        c,
        keys,
        "purchases",
        PurchaseFields,
        PurchaseKind,
        Purchase
    );

    ledger_section!(
        doc,
        c,
        keys,
        "interactions",
        InteractionFields,
        InteractionKind,
        Interaction
    );

    ledger_section!(
        doc,
        c,
        keys,
        "promises",
        PromiseFields,
        PromiseKind,
        ArchivedPromise
    );

    ledger_section!(
        doc,
        c,
        keys,
        "subscriptions",
        SubscriptionFields,
        SubscriptionKind,
        ArchivedSubscription
    );
    Ok(())
}

/// Intents and the offers made on them.
fn intent_sections<W: Write>(
    doc: &mut Doc<'_, W>,
    c: &Connection,
    keys: &Keys,
) -> Result<(), ExportError> {
    doc.open_section("intents")?;
    rows::each_intent::<IntentFields, ExportError>(c, |r| {
        let row = r.row;
        let state = match row.state {
            StoredIntentState::Draft => ArchivedIntentState::Draft,
            StoredIntentState::Active => ArchivedIntentState::Active,
            StoredIntentState::Fulfilled => ArchivedIntentState::Fulfilled,
            StoredIntentState::Withdrawn => ArchivedIntentState::Withdrawn,
        };
        let fields = keys.seal().open(&row.id, &row.sealed)?;
        Ok(doc.element(&ArchivedIntent {
            id: parse(Table::Intents, &row.id, &row.id)?,
            state,
            created_at: row.created_at,
            updated_at: row.updated_at,
            activation_announced: r.activation_announced,
            expiry_announced: r.expiry_announced,
            fields,
        })?)
    })?;
    doc.close_section()?;

    doc.open_section("offers")?;
    rows::each_offer::<OfferRecord, ExportError>(c, |row| {
        let state = row.state.into();
        let record: OfferRecord = keys.seal().open(&row.id, &row.sealed)?;
        Ok(doc.element(&ArchivedOffer {
            id: parse(Table::Offers, &row.id, &row.id)?,
            intent_id: parse(Table::Offers, &row.id, &row.intent_id)?,
            vendor_id: parse(Table::Offers, &row.id, &row.vendor_id)?,
            state,
            created_at: row.created_at,
            updated_at: row.updated_at,
            fields: record.fields,
            decline_reason: record.decline_reason,
            purchase_id: record.purchase_id,
        })?)
    })?;
    doc.close_section()?;
    Ok(())
}

/// Vendor access: clients, grants, receipts and the access log.
fn access_sections<W: Write>(
    doc: &mut Doc<'_, W>,
    c: &Connection,
    keys: &Keys,
) -> Result<(), ExportError> {
    doc.open_section("clients")?;
    rows::each_client::<ClientRecord, ExportError>(c, |row| {
        let record: ClientRecord = keys.seal().open(&row.id, &row.sealed)?;
        Ok(doc.element(&ArchivedClient {
            client_id: parse(Table::Clients, &row.id, &row.id)?,
            vendor_id: parse(Table::Clients, &row.id, &row.vendor_id)?,
            secret_sha256: BASE64URL_NOPAD.encode(&row.secret_hash),
            verified: row.verified,
            redirect_uris: record.redirect_uris,
            webhook_url: record.webhook_url,
            webhook_secret: record.webhook_secret,
            grant_types: record.grant_types,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })?)
    })?;
    doc.close_section()?;

    doc.open_section("grants")?;
    rows::each_grant::<GrantFields, ExportError>(c, |r| {
        let row = r.row;
        let fields: GrantFields = keys.seal().open(&row.id, &row.sealed)?;
        Ok(doc.element(&ArchivedGrant {
            id: parse(Table::Grants, &row.id, &row.id)?,
            created_at: row.created_at,
            updated_at: r.updated_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
            fields,
        })?)
    })?;
    doc.close_section()?;

    doc.open_section("receipts")?;
    rows::each_receipt::<ReceiptRecord, ExportError>(c, |row| {
        let record: ReceiptRecord = keys.seal().open(&row.id, &row.sealed)?;
        Ok(doc.element(&ArchivedReceipt {
            id: parse(Table::Receipts, &row.id, &row.id)?,
            vendor_id: parse(Table::Receipts, &row.id, &row.vendor_id)?,
            grant_id: parse(Table::Receipts, &row.id, &row.grant_id)?,
            created_at: row.created_at,
            jws: record.jws,
        })?)
    })?;
    doc.close_section()?;

    doc.open_section("access_log")?;
    rows::each_access::<AccessRecord, ExportError>(c, |row| {
        let record = crate::access::record::open(keys, &row.id, &row.sealed)?;
        Ok(doc.element(&ArchivedAccessEntry {
            seq: row.seq,
            vendor_id: parse(Table::AccessLog, &row.id, &row.vendor_id)?,
            client_id: parse(Table::AccessLog, &row.id, &row.client_id)?,
            id: row.id,
            at: row.at,
            grant_id: record.grant_id,
            endpoint: record.endpoint,
            scope: record.scope,
            ids: record.ids,
            status: record.status,
            withheld: record.withheld,
            repeats: record.repeats,
        })?)
    })?;
    doc.close_section()?;
    Ok(())
}
