//! A vendor's local scorecard, the one rule for its figures and its score (see `Scorecard`'s
//! doc): computed from the owner's own ledger, for the owner only. Interactions are read
//! through the ledger index (time and sentiment), never opened; only the vendor's purchases,
//! incidents and promises (few) are. Never part of what a vendor may read.

use std::collections::BTreeMap;

use carnet_schemas::ids::{IncidentKind, PromiseKind, PurchaseKind};
use carnet_schemas::{
    Amount, Currency, IncidentFields, IncidentStatus, PromiseFields, PromiseState, PurchaseFields,
    Scorecard, VendorId,
};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rusqlite::Connection;
use rust_decimal::Decimal;

use super::index::{LedgerIndex, rid};
use super::{LedgerError, open};
use crate::crypto::Keys;
use crate::store::{Store, records};

/// A purchase as the scorecard counts it: amount, currency, and its day (its date, else the
/// day it was recorded).
pub struct Spent<'a> {
    pub fields: &'a PurchaseFields,
    pub day: NaiveDate,
}

/// What a scorecard is computed from.
pub struct Inputs<'a> {
    pub purchases: Vec<Spent<'a>>,
    pub incidents: &'a [IncidentFields],
    pub promises: &'a [PromiseFields],
    /// (time in milliseconds, sentiment) of the vendor's interactions of the last 12 months.
    pub sentiments: &'a [(i64, i8)],
    pub vendor_created: DateTime<Utc>,
}

fn round(x: f64, places: i32) -> f64 {
    let k = 10f64.powi(places);
    (x * k).round() / k
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    (n > 0).then(|| {
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    })
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Whole months from `from` to `to` (0 if `to` is not later).
fn months_between(from: NaiveDate, to: NaiveDate) -> u32 {
    let mut m = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
    if to.day() < from.day() {
        m -= 1;
    }
    u32::try_from(m).unwrap_or(0)
}

fn add(totals: &mut BTreeMap<Currency, Decimal>, p: &PurchaseFields) -> Result<(), LedgerError> {
    let amount = Decimal::from_str_exact(p.amount.as_str())
        .map_err(|e| LedgerError::Total(format!("stored amount does not parse: {e}")))?;
    let total = totals.entry(p.currency.clone()).or_default();
    *total = total
        .checked_add(amount)
        .ok_or_else(|| LedgerError::Total("total spent overflows a 96-bit decimal".into()))?;
    Ok(())
}

fn amounts(totals: BTreeMap<Currency, Decimal>) -> BTreeMap<Currency, Amount> {
    totals
        .into_iter()
        .map(|(c, d)| (c, Amount::total(d)))
        .collect()
}

/// The scorecard of `inputs` at `now`: the one rule.
pub fn card(inputs: &Inputs<'_>, now: DateTime<Utc>) -> Result<Scorecard, LedgerError> {
    let year_ago = now - Duration::days(365);
    let half = (now - Duration::days(182)).timestamp_millis();
    let year_ago_ms = year_ago.timestamp_millis();

    let mut total = BTreeMap::new();
    let mut recent = BTreeMap::new();
    for p in &inputs.purchases {
        add(&mut total, p.fields)?;
        if p.day >= year_ago.date_naive() {
            add(&mut recent, p.fields)?;
        }
    }
    let first = inputs
        .purchases
        .iter()
        .map(|p| p.day)
        .chain([inputs.vendor_created.date_naive()])
        .min()
        .unwrap_or(now.date_naive());

    let settled = inputs
        .promises
        .iter()
        .filter(|p| p.state != PromiseState::Open);
    let promises_settled = settled.clone().count() as u64;
    let promises_kept = settled.filter(|p| p.state == PromiseState::Kept).count() as u64;

    let resolved: Vec<&IncidentFields> = inputs
        .incidents
        .iter()
        .filter(|i| i.status == IncidentStatus::Resolved)
        .collect();
    let days = resolved.iter().filter_map(|i| {
        let r = i.resolved_at?;
        Some((r - i.opened_at.to_utc()).num_seconds() as f64 / 86_400.0)
    });
    let satisfaction = mean(
        resolved
            .iter()
            .filter(|i| i.resolved_at.is_some_and(|r| r >= year_ago))
            .filter_map(|i| i.satisfaction.map(|s| f64::from(s.get()))),
    );

    let in_year = || inputs.sentiments.iter().filter(|(t, _)| *t >= year_ago_ms);
    let sentiment = mean(in_year().map(|(_, s)| f64::from(*s)));
    let last_half = mean(
        in_year()
            .filter(|(t, _)| *t >= half)
            .map(|(_, s)| f64::from(*s)),
    );
    let first_half = mean(
        in_year()
            .filter(|(t, _)| *t < half)
            .map(|(_, s)| f64::from(*s)),
    );
    let trend = last_half.zip(first_half).map(|(l, f)| round(l - f, 2));

    let incidents = inputs.incidents.len() as u64;
    let incidents_resolved = resolved.len() as u64;
    let components = [
        ratio(promises_kept, promises_settled),
        ratio(incidents_resolved, incidents),
        satisfaction.map(|s| s / 10.0),
        sentiment.map(|s| (s + 2.0) / 4.0),
    ];
    let score =
        mean(components.into_iter().flatten()).map(|m| (m * 100.0).round().clamp(0.0, 100.0) as u8);

    Ok(Scorecard {
        promises_kept,
        promises_settled,
        incidents,
        incidents_resolved,
        median_days_to_resolution: median(days.collect()).map(|d| round(d, 1)),
        average_satisfaction: satisfaction.map(|s| round(s, 2)),
        average_sentiment: sentiment.map(|s| round(s, 2)),
        sentiment_trend: trend,
        spend_last_12_months: amounts(recent),
        spend_total: amounts(total),
        tenure_months: months_between(first, now.date_naive()),
        score,
    })
}

/// (time in milliseconds, sentiment) of `vendor`'s interactions of the 12 months before
/// `now`, from the index (read before any store transaction, as `loyalty::outline` does: the
/// index may be building from the store).
pub fn sentiments(
    index: &LedgerIndex,
    vendor: &VendorId,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, i8)>, LedgerError> {
    let since = (now - Duration::days(365)).timestamp_millis();
    match rid(vendor.as_str()) {
        Some(v) => index.read(|d| d.sentiments(&v, Some(since))),
        None => Ok(Vec::new()),
    }
}

/// `vendor`'s scorecard at `now` (the vendor created at `vendor_created`), given its
/// `sentiments` (`sentiments`); its purchases, incidents and promises opened in `conn`.
pub fn compute(
    conn: &Connection,
    keys: &Keys,
    vendor: &VendorId,
    sentiments: &[(i64, i8)],
    vendor_created: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Scorecard, LedgerError> {
    let purchases = records::list::<PurchaseFields>(conn, Some(vendor.as_str()))?
        .into_iter()
        .map(|r| {
            let o = open::<PurchaseKind, _>(keys, r)?;
            let day = o.fields.date.unwrap_or(o.row.created_at.date_naive());
            Ok((o.fields, day))
        })
        .collect::<Result<Vec<_>, LedgerError>>()?;
    let incidents = records::list::<IncidentFields>(conn, Some(vendor.as_str()))?
        .into_iter()
        .map(|r| Ok(open::<IncidentKind, _>(keys, r)?.fields))
        .collect::<Result<Vec<_>, LedgerError>>()?;
    let promises = records::list::<PromiseFields>(conn, Some(vendor.as_str()))?
        .into_iter()
        .map(|r| Ok(open::<PromiseKind, _>(keys, r)?.fields))
        .collect::<Result<Vec<_>, LedgerError>>()?;
    let inputs = Inputs {
        purchases: purchases
            .iter()
            .map(|(fields, day)| Spent { fields, day: *day })
            .collect(),
        incidents: &incidents,
        promises: &promises,
        sentiments,
        vendor_created,
    };
    card(&inputs, now)
}

/// `vendor`'s scorecard: its sentiments from the index, then its records in one transaction.
pub fn of(
    store: &Store,
    keys: &Keys,
    index: &LedgerIndex,
    vendor: &VendorId,
    vendor_created: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Scorecard, LedgerError> {
    let sentiments = sentiments(index, vendor, now)?;
    store.read(|c| compute(c, keys, vendor, &sentiments, vendor_created, now))
}

#[cfg(test)]
#[path = "scorecard_tests.rs"]
mod tests;
