use carnet_schemas::{IncidentFields, IncidentStatus, PromiseFields, PromiseState, PurchaseFields};
use chrono::{DateTime, Duration, Utc};

use super::{Inputs, Spent, card};

fn now() -> DateTime<Utc> {
    "2026-11-02T10:00:00Z".parse().unwrap()
}

fn days_ago(d: i64) -> DateTime<Utc> {
    now() - Duration::days(d)
}

fn promise(state: PromiseState) -> PromiseFields {
    PromiseFields {
        vendor_id: "ven_0123456789abcdef".parse().unwrap(),
        what: "x".parse().unwrap(),
        due: "2026-10-01".parse().unwrap(),
        by: None,
        interaction_id: None,
        state,
        kept_at: None,
        broken_at: None,
        note: None,
    }
}

fn incident(opened: i64, resolved: Option<(i64, Option<i64>)>) -> IncidentFields {
    IncidentFields {
        vendor_id: "ven_0123456789abcdef".parse().unwrap(),
        description: "broken".parse().unwrap(),
        opened_at: days_ago(opened).fixed_offset(),
        status: if resolved.is_some() {
            IncidentStatus::Resolved
        } else {
            IncidentStatus::Open
        },
        resolution: None,
        satisfaction: resolved.and_then(|r| r.1).map(|s| s.try_into().unwrap()),
        resolved_at: resolved.map(|r| days_ago(r.0)),
    }
}

fn purchase(amount: &str, currency: &str) -> PurchaseFields {
    PurchaseFields {
        vendor_id: "ven_0123456789abcdef".parse().unwrap(),
        item: "thing".parse().unwrap(),
        amount: amount.parse().unwrap(),
        currency: currency.parse().unwrap(),
        date: None,
        warranty_until: None,
        receipt: None,
        import_key: None,
    }
}

fn at(d: i64, s: i8) -> (i64, i8) {
    (days_ago(d).timestamp_millis(), s)
}

#[test]
fn a_small_ledger_gives_its_figures_and_score() {
    let promises = [
        promise(PromiseState::Kept),
        promise(PromiseState::Kept),
        promise(PromiseState::Kept),
        promise(PromiseState::Broken),
        promise(PromiseState::Open),
    ];
    let incidents = [
        incident(10, Some((8, Some(8)))),    // 2 days, rated 8
        incident(30, Some((26, Some(6)))),   // 4 days, rated 6
        incident(500, Some((400, Some(0)))), // 100 days, rated more than a year ago
        incident(3, None),
    ];
    let (a, b, c) = (
        purchase("10.50", "EUR"),
        purchase("4.50", "EUR"),
        purchase("7", "USD"),
    );
    let purchases = vec![
        Spent {
            fields: &a,
            day: days_ago(20).date_naive(),
        },
        Spent {
            fields: &b,
            day: days_ago(400).date_naive(),
        },
        Spent {
            fields: &c,
            day: days_ago(700).date_naive(),
        },
    ];
    // Last 6 months: +2, +1 (mean 1.5); the 6 before: -1, 0 (mean -0.5).
    let sentiments = [at(10, 2), at(100, 1), at(200, -1), at(300, 0)];
    let inputs = Inputs {
        purchases,
        incidents: &incidents,
        promises: &promises,
        sentiments: &sentiments,
        vendor_created: days_ago(30),
    };
    let s = card(&inputs, now()).unwrap();
    assert_eq!((s.promises_kept, s.promises_settled), (3, 4));
    assert_eq!((s.incidents_resolved, s.incidents), (3, 4));
    assert_eq!(s.median_days_to_resolution, Some(4.0));
    assert_eq!(s.average_satisfaction, Some(7.0));
    assert_eq!(s.average_sentiment, Some(0.5));
    assert_eq!(s.sentiment_trend, Some(2.0));
    let text = |m: &std::collections::BTreeMap<_, carnet_schemas::Amount>| {
        m.iter()
            .map(|(c, a)| format!("{a} {c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    assert_eq!(text(&s.spend_last_12_months), "10.50 EUR");
    assert_eq!(text(&s.spend_total), "15.00 EUR, 7 USD");
    // 700 days ago is 2024-12-02: 23 whole months.
    assert_eq!(s.tenure_months, 23);
    // mean(0.75, 0.75, 0.7, 0.625) = 0.70625
    assert_eq!(s.score, Some(71));
}

#[test]
fn missing_components_are_left_out_and_nothing_known_is_no_score() {
    let nothing = Inputs {
        purchases: vec![],
        incidents: &[],
        promises: &[promise(PromiseState::Open)],
        sentiments: &[],
        vendor_created: days_ago(45),
    };
    let s = card(&nothing, now()).unwrap();
    assert_eq!(s.score, None);
    assert_eq!((s.promises_settled, s.incidents), (0, 0));
    assert_eq!(s.tenure_months, 1, "from the vendor's creation");
    assert_eq!(s.sentiment_trend, None);

    // Only a broken promise is known: 0, not the mean with absent parts.
    let broken = [promise(PromiseState::Broken)];
    let only = Inputs {
        promises: &broken,
        ..nothing
    };
    assert_eq!(card(&only, now()).unwrap().score, Some(0));
}

#[test]
fn the_trend_needs_both_halves() {
    let promises = [];
    let recent_only = [at(10, 2), at(20, -2)];
    let inputs = Inputs {
        purchases: vec![],
        incidents: &[],
        promises: &promises,
        sentiments: &recent_only,
        vendor_created: days_ago(400),
    };
    let s = card(&inputs, now()).unwrap();
    assert_eq!(s.sentiment_trend, None, "not enough data");
    assert_eq!(s.average_sentiment, Some(0.0));
    assert_eq!(s.score, Some(50));
    // Older than 12 months: not counted at all.
    let old = [at(10, 1), at(300, 2), at(400, -2)];
    let s = card(
        &Inputs {
            sentiments: &old,
            ..inputs
        },
        now(),
    )
    .unwrap();
    assert_eq!(s.sentiment_trend, Some(-1.0));
    assert_eq!(s.average_sentiment, Some(1.5));
}
