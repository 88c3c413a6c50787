//! Loyalty facts of one vendor, computed from the owner's own ledger: what the consumer can
//! show, rather than what a coupon scheme claims. The owner sees them all; the vendor itself
//! (`relationship:read`) sees only what is its own to know (`View::Vendor`), never the owner's
//! satisfaction ratings nor interactions not shared with it.

use std::collections::BTreeMap;

use carnet_schemas::ids::{IncidentKind, InteractionKind, PurchaseKind};
use carnet_schemas::{
    Amount, Currency, IncidentFields, IncidentStatus, InteractionFields, Loyalty, PurchaseFields,
    VendorId, VendorRelationship,
};
use rusqlite::Connection;
use rust_decimal::Decimal;

use super::{LedgerError, open};
use crate::access::pseudonym::customer_ref;
use crate::crypto::Keys;
use crate::store::Store;
use crate::store::records;

fn mean(values: impl Iterator<Item = i64>) -> Option<f64> {
    let (sum, n) = values.fold((0i64, 0i64), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| ((sum as f64 / n as f64) * 100.0).round() / 100.0)
}

/// Whose view of the facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The owner's own: every record.
    Owner,
    /// The vendor's (`GET /v1/vendor/relationship`): counts, dates and sums of its purchases and
    /// incidents, interactions only as far as the owner shared them, and never the owner's
    /// satisfaction ratings.
    Vendor,
}

/// The facts of `vendor`'s relationship, as `view` may see them.
pub fn compute(
    conn: &Connection,
    keys: &Keys,
    vendor: &VendorId,
    view: View,
) -> Result<Loyalty, LedgerError> {
    let v = Some(vendor.as_str());
    let purchases = records::list::<PurchaseFields>(conn, v)?
        .into_iter()
        .map(|r| open::<PurchaseKind, _>(keys, r).map(|o| o.fields))
        .collect::<Result<Vec<_>, _>>()?;
    let interactions = records::list::<InteractionFields>(conn, v)?
        .into_iter()
        .map(|r| open::<InteractionKind, _>(keys, r).map(|o| o.fields))
        .filter(|i| view == View::Owner || i.as_ref().map_or(true, |i| i.shared))
        .collect::<Result<Vec<_>, _>>()?;
    let incidents = records::list::<IncidentFields>(conn, v)?
        .into_iter()
        .map(|r| open::<IncidentKind, _>(keys, r).map(|o| o.fields))
        .collect::<Result<Vec<_>, _>>()?;

    let mut totals: BTreeMap<Currency, Decimal> = BTreeMap::new();
    for p in &purchases {
        let amount = Decimal::from_str_exact(p.amount.as_str())
            .map_err(|e| LedgerError::Total(format!("stored amount does not parse: {e}")))?;
        let total = totals.entry(p.currency.clone()).or_default();
        *total = total
            .checked_add(amount)
            .ok_or_else(|| LedgerError::Total("total spent overflows a 96-bit decimal".into()))?;
    }
    let resolved: Vec<&IncidentFields> = incidents
        .iter()
        .filter(|i| i.status == IncidentStatus::Resolved)
        .collect();

    Ok(Loyalty {
        customer_since: purchases.iter().filter_map(|p| p.date).min(),
        purchases: purchases.len() as u64,
        total_spent: totals
            .into_iter()
            .map(|(c, d)| (c, Amount::total(d)))
            .collect(),
        interactions: interactions.len() as u64,
        last_contact: interactions.iter().filter_map(|i| i.at).max(),
        average_sentiment: mean(
            interactions
                .iter()
                .filter_map(|i| i.sentiment.map(|s| i64::from(s.get()))),
        ),
        incidents: incidents.len() as u64,
        incidents_resolved: resolved.len() as u64,
        average_satisfaction: match view {
            View::Owner => mean(
                resolved
                    .iter()
                    .filter_map(|i| i.satisfaction.map(|s| i64::from(s.get()))),
            ),
            View::Vendor => None,
        },
    })
}

/// `vendor`'s relationship with the consumer, as the vendor may see it.
pub fn relationship(
    store: &Store,
    keys: &Keys,
    vendor: &VendorId,
) -> Result<VendorRelationship, LedgerError> {
    let loyalty = store.read(|c| compute(c, keys, vendor, View::Vendor))?;
    Ok(VendorRelationship {
        customer_ref: customer_ref(keys, vendor),
        loyalty,
    })
}

#[cfg(test)]
mod tests {
    use super::mean;

    #[test]
    fn means_round_to_two_decimals() {
        assert_eq!(mean([1, 2, 2].into_iter()), Some(1.67));
        assert_eq!(mean(std::iter::empty()), None);
        assert_eq!(mean([-2, -1].into_iter()), Some(-1.5));
    }
}
