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
use chrono::{DateTime, FixedOffset, NaiveDate};
use rusqlite::Connection;
use rust_decimal::Decimal;

use super::index::{LedgerIndex, rid};
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
    /// The owner's own: every record, and the promise record on this day.
    Owner(NaiveDate),
    /// The vendor's (`GET /v1/vendor/relationship`): counts, dates and sums of its purchases and
    /// incidents, interactions only as far as the owner shared them, and never the owner's
    /// satisfaction ratings.
    Vendor,
}

/// What the facts need of the interactions.
struct Talk {
    count: u64,
    last: Option<DateTime<FixedOffset>>,
    sentiments: Vec<i64>,
}

fn opened<K: carnet_schemas::IdKind, T: crate::crypto::Sealable>(
    conn: &Connection,
    keys: &Keys,
    vendor: &VendorId,
) -> Result<Vec<T>, LedgerError> {
    records::list::<T>(conn, Some(vendor.as_str()))?
        .into_iter()
        .map(|r| Ok(open::<K, _>(keys, r)?.fields))
        .collect()
}

/// The facts of `vendor`'s relationship, as `view` may see them.
pub fn compute(
    conn: &Connection,
    keys: &Keys,
    vendor: &VendorId,
    view: View,
) -> Result<Loyalty, LedgerError> {
    let purchases = opened::<PurchaseKind, PurchaseFields>(conn, keys, vendor)?;
    let interactions: Vec<InteractionFields> =
        opened::<InteractionKind, InteractionFields>(conn, keys, vendor)?
            .into_iter()
            .filter(|i| view != View::Vendor || i.shared)
            .collect();
    let incidents = opened::<IncidentKind, IncidentFields>(conn, keys, vendor)?;
    let talk = Talk {
        count: interactions.len() as u64,
        last: interactions.iter().filter_map(|i| i.at).max(),
        sentiments: interactions
            .iter()
            .filter_map(|i| i.sentiment.map(|s| i64::from(s.get())))
            .collect(),
    };
    let mut loyalty = facts(&purchases, talk, &incidents, view)?;
    if let View::Owner(today) = view {
        loyalty.promises = Some(super::promises::record_of(conn, keys, vendor, today)?);
    }
    Ok(loyalty)
}

/// The owner's facts of `vendor`'s relationship (as `compute` with `View::Owner`), its
/// interactions' part read from the ledger index, so that no interaction is opened however
/// many there are; and its purchases, opened (fewer, and what spend is made of).
pub fn outline(
    store: &Store,
    keys: &Keys,
    index: &LedgerIndex,
    vendor: &VendorId,
    today: NaiveDate,
) -> Result<(Loyalty, Vec<PurchaseFields>), LedgerError> {
    let (tally, sentiments) = match rid(vendor.as_str()) {
        Some(v) => index.read(|d| (d.tally(&v), d.sentiments(&v, None)))?,
        None => Default::default(),
    };
    let talk = Talk {
        count: tally.interactions as u64,
        last: tally
            .last_contact
            .and_then(|(ms, ns)| {
                DateTime::from_timestamp_millis(ms)
                    .map(|t| t + chrono::Duration::nanoseconds(i64::from(ns)))
            })
            .map(|t| t.fixed_offset()),
        sentiments: sentiments.iter().map(|(_, s)| i64::from(*s)).collect(),
    };
    store.read(|c| {
        let purchases = opened::<PurchaseKind, PurchaseFields>(c, keys, vendor)?;
        let incidents = opened::<IncidentKind, IncidentFields>(c, keys, vendor)?;
        let mut loyalty = facts(&purchases, talk, &incidents, View::Owner(today))?;
        loyalty.promises = Some(super::promises::record_of(c, keys, vendor, today)?);
        Ok((loyalty, purchases))
    })
}

fn facts(
    purchases: &[PurchaseFields],
    talk: Talk,
    incidents: &[IncidentFields],
    view: View,
) -> Result<Loyalty, LedgerError> {
    let mut totals: BTreeMap<Currency, Decimal> = BTreeMap::new();
    for p in purchases {
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
        interactions: talk.count,
        last_contact: talk.last,
        average_sentiment: mean(talk.sentiments.into_iter()),
        incidents: incidents.len() as u64,
        incidents_resolved: resolved.len() as u64,
        average_satisfaction: match view {
            View::Owner(_) => mean(
                resolved
                    .iter()
                    .filter_map(|i| i.satisfaction.map(|s| i64::from(s.get()))),
            ),
            View::Vendor => None,
        },
        promises: None,
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

    /// The owner's facts read through the index (`outline`) are the facts read by opening
    /// every record (`compute`), through adds, a share, a resolution and a deletion.
    #[tokio::test]
    async fn facts_from_the_index_are_the_facts_from_every_record() {
        use std::sync::Arc;

        use carnet_schemas::{
            Channel, IncidentResolution, InteractionFields, NewIncident, PurchaseFields,
            VendorFields,
        };

        use crate::crypto::{Keys, VaultKey};
        use crate::ledger::index::LedgerIndex;
        use crate::ledger::{self, Incidents, Interactions, Purchases, Vendors, listing};
        use crate::store::{Store, Synchronous};

        let dir = tempfile::tempdir().unwrap();
        let store =
            Arc::new(Store::open(&dir.path().join("carnet.db"), Synchronous::Normal).unwrap());
        let keys = Arc::new(Keys::new(VaultKey::generate().unwrap()));
        store.set_row_key(Some(crate::crypto::RowMac::new(&keys)));
        let index = LedgerIndex::start(store.clone(), keys.clone(), listing::loader());
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-02T10:00:00+01:00")
            .unwrap()
            .to_utc();
        let vendor = |name: &str| VendorFields {
            name: name.parse().unwrap(),
            website: None,
            categories: vec![],
            accounts: vec![],
            note: None,
            channel: None,
            contact_policy: None,
            directory_id: None,
        };
        let acme = ledger::create::<Vendors>(&store, &keys, &index, vendor("Acme"), now)
            .await
            .unwrap();
        let other = ledger::create::<Vendors>(&store, &keys, &index, vendor("Other"), now)
            .await
            .unwrap();
        let check = || {
            let today = now.date_naive();
            let (outlined, _) = super::outline(&store, &keys, &index, &acme.id, today).unwrap();
            let computed = store
                .read(|c| super::compute(c, &keys, &acme.id, super::View::Owner(today)))
                .unwrap();
            assert_eq!(outlined, computed);
            outlined
        };
        assert_eq!(check().interactions, 0);
        let mut made = Vec::new();
        for (n, (vendor, sentiment, at)) in [
            (&acme.id, Some(2), "2026-10-01T09:00:00+02:00"),
            (&acme.id, None, "2026-10-20T09:30:00.123456789-05:00"),
            (&acme.id, Some(-1), "2026-09-01T09:00:00Z"),
            (&other.id, Some(-2), "2026-11-01T09:00:00Z"),
        ]
        .into_iter()
        .enumerate()
        {
            let fields = InteractionFields {
                vendor_id: vendor.clone(),
                at: Some(chrono::DateTime::parse_from_rfc3339(at).unwrap()),
                channel: Channel::Phone,
                summary: format!("call {n}").parse().unwrap(),
                with: None,
                expected: None,
                i_said: None,
                they_said: None,
                outcome: None,
                sentiment: sentiment.map(|s: i64| s.try_into().unwrap()),
                next_step: None,
                next_due: None,
                next_done: false,
                incident_id: None,
                shared: false,
            };
            made.push(
                ledger::create::<Interactions>(&store, &keys, &index, fields, now)
                    .await
                    .unwrap(),
            );
        }
        for (amount, currency) in [("10.50", "EUR"), ("4.50", "EUR"), ("7", "USD")] {
            let p = PurchaseFields {
                vendor_id: acme.id.clone(),
                item: "thing".parse().unwrap(),
                amount: amount.parse().unwrap(),
                currency: currency.parse().unwrap(),
                date: None,
                warranty_until: None,
                receipt: None,
                import_key: None,
            };
            ledger::create::<Purchases>(&store, &keys, &index, p, now)
                .await
                .unwrap();
        }
        let incident = NewIncident {
            vendor_id: acme.id.clone(),
            description: "broken".parse().unwrap(),
            opened_at: None,
        };
        let inc = ledger::create::<Incidents>(&store, &keys, &index, incident, now)
            .await
            .unwrap();
        let facts = check();
        assert_eq!(
            (facts.interactions, facts.purchases, facts.incidents),
            (3, 3, 1)
        );
        assert_eq!(facts.average_sentiment, Some(0.5));
        let resolution = IncidentResolution {
            resolution: "replaced".parse().unwrap(),
            satisfaction: Some(8.try_into().unwrap()),
        };
        crate::ledger::incidents::resolve(&store, &keys, &index, &inc.id, resolution, now)
            .await
            .unwrap();
        let shared =
            crate::ledger::interactions::share(&store, &keys, &index, &made[0].id, true, now)
                .await
                .unwrap();
        assert!(shared.fields.shared);
        assert_eq!(shared.fields.summary, made[0].fields.summary);
        ledger::delete::<Interactions>(&store, &index, &made[1].id)
            .await
            .unwrap();
        let facts = check();
        assert_eq!(facts.interactions, 2);
        assert_eq!(facts.incidents_resolved, 1);
        assert_eq!(facts.average_satisfaction, Some(8.0));
    }

    #[test]
    fn means_round_to_two_decimals() {
        assert_eq!(mean([1, 2, 2].into_iter()), Some(1.67));
        assert_eq!(mean(std::iter::empty()), None);
        assert_eq!(mean([-2, -1].into_iter()), Some(-1.5));
    }
}
