//! The vault's checks of an offer that came through the relay, after its signatures: the
//! intent's life, its relay level, `max_offers`, the currency, the window, the rate.

use carnet_market::keys::VendorKeys;
use carnet_market::wire::OfferId;
use carnet_market::wire::announcement::IntentKeys;
use carnet_market::wire::offer::{OfferTarget, make_offer, open_offer};
use chrono::Duration;
use serde_json::json;

use super::*;
use crate::limits::OfferLimiter;
use crate::limits::offers::OFFER_BURST;

fn intent(extra: serde_json::Value) -> IntentFields {
    let mut v = json!({
        "category": "home.appliances.washer", "title": "Washer", "relay": "announce",
        "valid_from": "2026-12-01T00:00:00Z", "valid_through": "2026-12-31T00:00:00Z",
    });
    if let (Some(v), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        v.extend(e.clone());
    }
    serde_json::from_value(v).unwrap()
}

fn now() -> DateTime<Utc> {
    "2026-12-07T12:00:00Z".parse().unwrap()
}

fn terms(price: &str, currency: &str, valid_through: DateTime<Utc>) -> OfferTerms {
    OfferTerms {
        intent_ref: IntentKeys::generate().intent_ref,
        revision: 1,
        vendor_id: "acme".parse().unwrap(),
        offer_id: OfferId::generate(),
        price: price.parse().unwrap(),
        currency: currency.parse().unwrap(),
        valid_through,
        description: None,
        made_at: now(),
    }
}

#[test]
fn only_an_active_announced_intent_with_room_takes_a_relay_offer() {
    let washer = intent(json!({"max_offers": 2}));
    let active = StoredIntentState::Active;
    assert!(judge_intent(active, &washer, false, 1, now()).is_ok());
    for (stored, state) in [
        (StoredIntentState::Withdrawn, IntentState::Withdrawn),
        (StoredIntentState::Fulfilled, IntentState::Fulfilled),
        (StoredIntentState::Draft, IntentState::Draft),
    ] {
        assert!(
            matches!(judge_intent(stored, &washer, false, 0, now()), Err(Refusal::NotActive(s)) if s == state),
            "{state}"
        );
    }
    let after = "2026-12-31T00:00:00Z".parse().unwrap();
    assert!(matches!(
        judge_intent(active, &washer, false, 0, after),
        Err(Refusal::NotActive(IntentState::Expired))
    ));
    assert!(matches!(
        judge_intent(active, &washer, true, 0, now()),
        Err(Refusal::NotAnnounced)
    ));
    let off = intent(json!({"relay": "off"}));
    assert!(matches!(
        judge_intent(active, &off, false, 0, now()),
        Err(Refusal::NotAnnounced)
    ));
    // `offers` counts the vault's own vendors' offers and the relay's together.
    assert!(matches!(
        judge_intent(active, &washer, false, 2, now()),
        Err(Refusal::Full(2))
    ));
}

#[test]
fn a_relay_offer_is_in_the_intents_currency_and_inside_its_window() {
    let washer =
        intent(json!({"price_specification": {"max_price": "700", "price_currency": "EUR"}}));
    let end = "2026-12-20T00:00:00Z".parse().unwrap();
    assert!(check_terms(&washer, &terms("649.00", "EUR", end), now()).is_ok());
    assert!(matches!(
        check_terms(&washer, &terms("649.00", "USD", end), now()),
        Err(Refusal::Currency { .. })
    ));
    assert!(matches!(
        check_terms(&washer, &terms("649.001", "EUR", end), now()),
        Err(Refusal::BadTerms(_))
    ));
    assert!(matches!(
        check_terms(
            &washer,
            &terms("649.00", "EUR", now() - Duration::seconds(1)),
            now()
        ),
        Err(Refusal::BadTerms(_))
    ));
    let past_window = "2027-01-02T00:00:00Z".parse().unwrap();
    assert!(matches!(
        check_terms(&washer, &terms("649.00", "EUR", past_window), now()),
        Err(Refusal::BadTerms(_))
    ));
    // An intent without a price takes any currency.
    let any = intent(json!({}));
    assert!(check_terms(&any, &terms("90", "JPY", end), now()).is_ok());
}

#[test]
fn each_directory_vendor_has_its_own_allowance() {
    let limits: OfferLimiter<VendorId> = OfferLimiter::default();
    let acme: VendorId = "acme".parse().unwrap();
    for _ in 0..OFFER_BURST {
        assert!(limits.take(&acme, now()).is_ok());
    }
    assert!(limits.take(&acme, now()).is_err());
    assert!(limits.take(&"bolt".parse().unwrap(), now()).is_ok());
}

#[test]
fn an_offer_whose_ciphertext_was_altered_is_refused_before_decryption() {
    let keys = IntentKeys::generate();
    let vendor = VendorKeys::generate();
    let target = OfferTarget {
        intent_ref: keys.intent_ref.clone(),
        revision: 1,
        bucket: keys.bucket.clone(),
        recipient: keys.identity.recipient(),
    };
    let mut t = terms("649.00", "EUR", now() + Duration::days(1));
    t.intent_ref = keys.intent_ref.clone();
    let p = make_offer(&target, &t, &vendor.signing);
    let mut body = p.body.clone();
    let at = body.len() / 2;
    body[at] = if body[at] == b'A' { b'B' } else { b'A' };
    let key = vendor.signing.verifying_key();
    assert!(open_offer(&p.subject, |_| None, &body, &keys, |_| Some(key)).is_err());
    assert!(open_offer(&p.subject, |_| None, &p.body, &keys, |_| Some(key)).is_ok());
}
