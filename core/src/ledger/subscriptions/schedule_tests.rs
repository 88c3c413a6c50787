use carnet_schemas::{Period, Subscription, SubscriptionFields, SubscriptionState};
use chrono::{NaiveDate, TimeZone, Utc};

use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn sub(every: Period, next: &str) -> SubscriptionFields {
    SubscriptionFields {
        vendor_id: "ven_0123456789abcdef".parse().unwrap(),
        item: "Fibre".parse().unwrap(),
        amount: "30.00".parse().unwrap(),
        currency: "EUR".parse().unwrap(),
        every,
        next: d(next),
        notice_days: None,
        ends: None,
        category: None,
        cancelled_at: None,
        note: None,
    }
}

fn wired(id: &str, f: SubscriptionFields) -> Subscription {
    let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    Subscription {
        id: id.parse().unwrap(),
        created_at: t,
        updated_at: t,
        fields: f,
        state: SubscriptionState::Active,
        next_payment: None,
        renewal: None,
        notice_deadline: None,
    }
}

#[test]
fn month_end_payments_are_computed_from_the_anchor_never_from_a_clamped_day() {
    let f = sub(Period::Month, "2026-01-31");
    let days = payments_between(&f, d("2026-01-01"), d("2026-05-31"));
    assert_eq!(
        days,
        [
            d("2026-01-31"),
            d("2026-02-28"),
            d("2026-03-31"),
            d("2026-04-30"),
            d("2026-05-31")
        ]
    );
    // A leap year's February.
    let leap = sub(Period::Month, "2028-01-31");
    assert_eq!(payment(leap.next, leap.every, 1), Some(d("2028-02-29")));
    assert_eq!(payment(leap.next, leap.every, 2), Some(d("2028-03-31")));
    // Quarterly and yearly from 29 February.
    let q = sub(Period::Quarter, "2028-02-29");
    assert_eq!(payment(q.next, q.every, 1), Some(d("2028-05-29")));
    let y = sub(Period::Year, "2028-02-29");
    assert_eq!(payment(y.next, y.every, 1), Some(d("2029-02-28")));
    assert_eq!(payment(y.next, y.every, 4), Some(d("2032-02-29")));
    let w = sub(Period::Week, "2026-12-28");
    assert_eq!(payment(w.next, w.every, 1), Some(d("2027-01-04")));
}

#[test]
fn a_stale_next_moves_on_by_itself_to_the_first_payment_on_or_after_today() {
    let f = sub(Period::Month, "2025-01-31");
    assert_eq!(next_payment(&f, d("2026-02-01")), Some(d("2026-02-28")));
    assert_eq!(next_payment(&f, d("2026-02-28")), Some(d("2026-02-28")));
    assert_eq!(next_payment(&f, d("2026-03-01")), Some(d("2026-03-31")));
    let w = sub(Period::Week, "2020-01-06"); // a Monday
    assert_eq!(next_payment(&w, d("2026-12-09")), Some(d("2026-12-14")));
    assert_eq!(next_payment(&w, d("2026-12-14")), Some(d("2026-12-14")));
    // A future anchor is the next payment.
    let later = sub(Period::Year, "2027-06-01");
    assert_eq!(next_payment(&later, d("2026-12-01")), Some(d("2027-06-01")));
    // Near the end of the calendar there is none, and no panic.
    let mut end = sub(Period::Year, "2026-01-01");
    end.next = NaiveDate::MAX - chrono::Days::new(400);
    assert_eq!(next_payment(&end, NaiveDate::MAX), None);
}

#[test]
fn renewal_notice_deadline_and_state_follow_ends_and_the_cancellation() {
    let mut f = sub(Period::Month, "2026-01-15");
    f.notice_days = Some(30);
    let today = d("2026-03-01");
    // Without `ends`, the next payment renews.
    assert_eq!(renewal(&f, today), Some(d("2026-03-15")));
    assert_eq!(notice_deadline(&f, today), Some(d("2026-02-13")));
    // With `ends` ahead, the term's end renews.
    f.ends = Some(d("2026-12-31"));
    assert_eq!(renewal(&f, today), Some(d("2026-12-31")));
    assert_eq!(notice_deadline(&f, today), Some(d("2026-12-01")));
    // `ends` passed without a cancellation: renewed tacitly, the next payment renews.
    let after = d("2027-01-02");
    assert_eq!(state(&f, after), SubscriptionState::Active);
    assert_eq!(renewal(&f, after), Some(d("2027-01-15")));
    assert_eq!(next_payment(&f, after), Some(d("2027-01-15")));
    // No notice days: no deadline.
    f.notice_days = None;
    assert_eq!(notice_deadline(&f, today), None);
    // Cancelled: no renewal, payments through the cancellation's day only.
    f.notice_days = Some(30);
    f.cancelled_at = Some(d("2026-04-15"));
    assert_eq!(state(&f, today), SubscriptionState::Cancelled);
    assert_eq!(
        (renewal(&f, today), notice_deadline(&f, today)),
        (None, None)
    );
    assert_eq!(next_payment(&f, d("2026-04-15")), Some(d("2026-04-15")));
    assert_eq!(next_payment(&f, d("2026-04-16")), None);
    // Ended: cancelled, and the term's end passed.
    assert_eq!(state(&f, d("2026-12-31")), SubscriptionState::Cancelled);
    assert_eq!(state(&f, d("2027-01-01")), SubscriptionState::Ended);
}

#[test]
fn the_projection_covers_twelve_months_per_currency_and_stops_at_a_cancellation() {
    let today = d("2026-01-10");
    let monthly = wired("sub_aaaaaaaaaaaaaaaa", sub(Period::Month, "2026-01-31"));
    let mut usd = sub(Period::Quarter, "2025-11-10");
    usd.amount = "10.5".parse().unwrap();
    usd.currency = "USD".parse().unwrap();
    let quarterly = wired("sub_bbbbbbbbbbbbbbbb", usd);
    let mut gone = sub(Period::Month, "2026-01-20");
    gone.cancelled_at = Some(d("2026-03-19"));
    let cancelled = wired("sub_cccccccccccccccc", gone);
    let p = projection([&monthly, &quarterly, &cancelled], today).unwrap();
    assert_eq!((p.from, p.through), (today, d("2027-01-09")));
    let count = |id: &str| {
        p.items
            .iter()
            .filter(|i| i.subscription_id.as_str() == id)
            .count()
    };
    assert_eq!(
        count("sub_aaaaaaaaaaaaaaaa"),
        12,
        "31 Jan 2026 … 31 Dec 2026"
    );
    assert_eq!(count("sub_bbbbbbbbbbbbbbbb"), 4, "10 Feb, May, Aug, Nov");
    assert_eq!(
        count("sub_cccccccccccccccc"),
        2,
        "20 Jan and 20 Feb, not after 19 Mar"
    );
    assert!(p.items.windows(2).all(|w| w[0].date <= w[1].date));
    let year: Vec<(String, String)> = p
        .year
        .iter()
        .map(|t| (t.currency.to_string(), t.amount.to_string()))
        .collect();
    assert_eq!(
        year,
        [
            ("EUR".into(), "420.00".into()),
            ("USD".into(), "42.0".into())
        ]
    );
    let month = |m: &str, c: &str| {
        p.months
            .iter()
            .find(|t| t.month.as_deref() == Some(m) && t.currency.as_str() == c)
            .map(|t| t.amount.to_string())
    };
    assert_eq!(month("2026-01", "EUR").as_deref(), Some("60.00"));
    assert_eq!(month("2026-02", "EUR").as_deref(), Some("60.00"));
    assert_eq!(month("2026-02", "USD").as_deref(), Some("10.5"));
    assert_eq!(month("2026-03", "EUR").as_deref(), Some("30.00"));
    assert_eq!(month("2026-03", "USD"), None);
}
