//! Consent receipts as they are listed: every vendor's to the owner, its own to a vendor. The
//! owner keeps them beside the ledger as proof of what was consented to. Never lists a receipt
//! whose row does not read back whole (that is `Unreadable`).

use carnet_schemas::{Receipt, VendorId};
use chrono::{DateTime, Utc};

use super::{LedgerError, Listing};
use crate::access::{ReceiptRecord, receipts};
use crate::crypto::{Keys, Table, Unreadable};
use crate::store::Store;
use crate::store::access::{self as rows, ReceiptRow};

/// Receipts, newest first: all, or one vendor's.
pub fn list(
    store: &Store,
    keys: &Keys,
    vendor: Option<&VendorId>,
) -> Result<Vec<Receipt>, LedgerError> {
    store
        .read(|c| rows::receipts::<ReceiptRecord>(c, vendor.map(|v| v.as_str())))?
        .into_iter()
        .map(|row| open(keys, row))
        .collect()
}

/// A vendor's receipts made at or after `since`, oldest first.
pub fn of_vendor(
    store: &Store,
    keys: &Keys,
    vendor: &VendorId,
    since: Option<DateTime<Utc>>,
) -> Result<Listing<(i64, String), Receipt>, LedgerError> {
    Ok(list(store, keys, Some(vendor))?
        .into_iter()
        .filter(|r| since.is_none_or(|t| r.created_at >= t))
        .map(|r| ((r.created_at.timestamp_millis(), r.id.to_string()), r))
        .collect())
}

fn open(keys: &Keys, row: ReceiptRow<ReceiptRecord>) -> Result<Receipt, LedgerError> {
    let record: ReceiptRecord = keys.seal().open(&row.id, &row.sealed)?;
    let unreadable = || Unreadable {
        table: Table::Receipts.name(),
        id: row.id.clone(),
    };
    Ok(Receipt {
        id: row.id.parse().map_err(|_| unreadable())?,
        vendor_id: row.vendor_id.parse().map_err(|_| unreadable())?,
        grant_id: row.grant_id.parse().map_err(|_| unreadable())?,
        created_at: row.created_at,
        receipt: receipts::payload(&record.jws).ok_or_else(unreadable)?,
        jws: record.jws,
    })
}
