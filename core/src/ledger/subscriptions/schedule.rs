//! The dates of a subscription, the one rule for them: payments fall on the anchor (`next`)
//! plus whole periods, each computed from the anchor (a 31 January monthly payment falls on
//! 28/29 February, then 31 March: never a clamped day carried on); the next payment is the
//! first of them on or after today; nothing is paid after a cancellation's day. The renewal
//! is the end of the term (`ends`) while it has not passed, else the next payment (a term that
//! passed without a cancellation renewed tacitly: payments go on, and each payment is a
//! renewal); the notice deadline is the renewal minus `notice_days`. The projection adds the
//! payments of 12 months per month and per currency, never across currencies.

use std::collections::BTreeMap;

use carnet_schemas::{
    Amount, Currency, PaymentProjection, Period, ProjectedPayment, ProjectedTotal, Subscription,
    SubscriptionFields, SubscriptionState,
};
use chrono::{Datelike, Days, Months, NaiveDate};
use rust_decimal::Decimal;

use crate::ledger::LedgerError;

/// Months in a period; `None` for a week.
fn months(every: Period) -> Option<u32> {
    match every {
        Period::Week => None,
        Period::Month => Some(1),
        Period::Quarter => Some(3),
        Period::Year => Some(12),
    }
}

/// The `k`-th payment day after `anchor` (`k = 0`: the anchor), computed from the anchor;
/// `None` past the calendar's end.
pub fn payment(anchor: NaiveDate, every: Period, k: u32) -> Option<NaiveDate> {
    match months(every) {
        None => anchor.checked_add_days(Days::new(7 * u64::from(k))),
        Some(m) => anchor.checked_add_months(Months::new(k.checked_mul(m)?)),
    }
}

/// The first `k` whose payment falls on or after `day`.
fn first_on_or_after(anchor: NaiveDate, every: Period, day: NaiveDate) -> Option<u32> {
    if anchor >= day {
        return Some(0);
    }
    // An estimate a step or two short, then forward.
    let mut k = match months(every) {
        None => u32::try_from((day - anchor).num_days() / 7).ok()?,
        Some(m) => {
            let diff =
                (day.year() - anchor.year()) * 12 + day.month() as i32 - anchor.month() as i32;
            u32::try_from(diff / m as i32).ok()?.saturating_sub(1)
        }
    };
    loop {
        if payment(anchor, every, k)? >= day {
            return Some(k);
        }
        k = k.checked_add(1)?;
    }
}

/// The payment days from `from` through `through` (both included), none after the
/// cancellation's day.
pub fn payments_between(
    f: &SubscriptionFields,
    from: NaiveDate,
    through: NaiveDate,
) -> Vec<NaiveDate> {
    let last = f.cancelled_at.map_or(through, |c| c.min(through));
    let mut out = Vec::new();
    let Some(mut k) = first_on_or_after(f.next, f.every, from) else {
        return out;
    };
    while let Some(day) = payment(f.next, f.every, k).filter(|d| *d <= last) {
        out.push(day);
        let Some(next) = k.checked_add(1) else { break };
        k = next;
    }
    out
}

/// The first payment on or after `today`; none once a cancellation's day is before it.
pub fn next_payment(f: &SubscriptionFields, today: NaiveDate) -> Option<NaiveDate> {
    let day = payment(f.next, f.every, first_on_or_after(f.next, f.every, today)?)?;
    (f.cancelled_at.is_none_or(|c| day <= c)).then_some(day)
}

/// Active; cancelled (a cancellation is recorded); ended (cancelled, and `ends` has passed).
pub fn state(f: &SubscriptionFields, today: NaiveDate) -> SubscriptionState {
    match (f.cancelled_at, f.ends) {
        (None, _) => SubscriptionState::Active,
        (Some(_), Some(ends)) if ends < today => SubscriptionState::Ended,
        (Some(_), _) => SubscriptionState::Cancelled,
    }
}

/// What renews next: `ends` while it has not passed, else the next payment (a passed term
/// renewed tacitly); nothing renews once cancelled.
pub fn renewal(f: &SubscriptionFields, today: NaiveDate) -> Option<NaiveDate> {
    if f.cancelled_at.is_some() {
        return None;
    }
    match f.ends {
        Some(ends) if ends >= today => Some(ends),
        _ => next_payment(f, today),
    }
}

/// The last day to give notice: the renewal minus `notice_days`; none without either.
pub fn notice_deadline(f: &SubscriptionFields, today: NaiveDate) -> Option<NaiveDate> {
    let days = f.notice_days?;
    renewal(f, today)?.checked_sub_days(Days::new(u64::from(days)))
}

/// A subscription's computed dates and state, set on its wire form.
pub fn at(mut s: Subscription, today: NaiveDate) -> Subscription {
    s.state = state(&s.fields, today);
    s.next_payment = next_payment(&s.fields, today);
    s.renewal = renewal(&s.fields, today);
    s.notice_deadline = notice_deadline(&s.fields, today);
    s
}

/// The last day of the 12 months from `today`: the day before the same date a year on.
pub fn year_through(today: NaiveDate) -> NaiveDate {
    today
        .checked_add_months(Months::new(12))
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

fn add(total: &mut Decimal, amount: &Amount) -> Result<(), LedgerError> {
    let a = Decimal::from_str_exact(amount.as_str())
        .map_err(|e| LedgerError::Total(format!("stored amount does not parse: {e}")))?;
    *total = total
        .checked_add(a)
        .ok_or_else(|| LedgerError::Total("a projected total overflows a 96-bit decimal".into()))?;
    Ok(())
}

/// Every payment of `subs` in the 12 months from `today`, soonest first, and their totals
/// per month and for the 12 months, per currency.
pub fn projection<'a>(
    subs: impl IntoIterator<Item = &'a Subscription>,
    today: NaiveDate,
) -> Result<PaymentProjection, LedgerError> {
    let through = year_through(today);
    let mut items = Vec::new();
    for s in subs {
        for date in payments_between(&s.fields, today, through) {
            items.push(ProjectedPayment {
                subscription_id: s.id.clone(),
                vendor_id: s.fields.vendor_id.clone(),
                item: s.fields.item.clone(),
                date,
                amount: s.fields.amount.clone(),
                currency: s.fields.currency.clone(),
            });
        }
    }
    items.sort_by(|a, b| {
        (a.date, a.subscription_id.as_str()).cmp(&(b.date, b.subscription_id.as_str()))
    });
    let mut months: BTreeMap<(String, Currency), Decimal> = BTreeMap::new();
    let mut year: BTreeMap<Currency, Decimal> = BTreeMap::new();
    for p in &items {
        let month = format!("{:04}-{:02}", p.date.year(), p.date.month());
        add(
            months.entry((month, p.currency.clone())).or_default(),
            &p.amount,
        )?;
        add(year.entry(p.currency.clone()).or_default(), &p.amount)?;
    }
    Ok(PaymentProjection {
        from: today,
        through,
        items,
        months: months
            .into_iter()
            .map(|((month, currency), d)| ProjectedTotal {
                month: Some(month),
                currency,
                amount: Amount::total(d),
            })
            .collect(),
        year: year
            .into_iter()
            .map(|(currency, d)| ProjectedTotal {
                month: None,
                currency,
                amount: Amount::total(d),
            })
            .collect(),
    })
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
