//! What the owner may write in an intent, and the defaults filled in (window end, offer cap);
//! what an offer must match in its intent (currency), and when it is over budget. (Whether an
//! intent takes more offers is `crate::active::takes_offers`, read by the active set too.)

use std::str::FromStr;

use carnet_schemas::{
    Amount, Currency, DEFAULT_MAX_OFFERS, DEFAULT_WINDOW_DAYS, IntentField, IntentFields,
    MAX_MAX_OFFERS, OfferFields,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{IntentError, OfferError};

pub(super) fn invalid(field: &'static str, message: impl Into<String>) -> IntentError {
    IntentError::Invalid {
        field,
        message: message.into(),
    }
}

/// Checks what the owner wrote and fills in the defaults.
pub(super) fn complete(
    mut f: IntentFields,
    now: DateTime<Utc>,
) -> Result<IntentFields, IntentError> {
    if let Some(p) = &f.price_specification {
        let currency = &p.price_currency;
        for (field, price) in [
            ("price_specification.min_price", &p.min_price),
            ("price_specification.max_price", &p.max_price),
        ] {
            if let Some(price) = price {
                price.fits(currency).map_err(|e| invalid(field, e.0))?;
            }
        }
    }
    if let Some(p) = &f.price_specification
        && let (Some(min), Some(max)) = (&p.min_price, &p.max_price)
    {
        let (min, max) = (
            Decimal::from_str(min.as_str()).unwrap_or_default(),
            Decimal::from_str(max.as_str()).unwrap_or_default(),
        );
        if min > max {
            return Err(invalid(
                "price_specification.min_price",
                format!("the minimum price {min} is above the maximum {max}"),
            ));
        }
    }
    if f.eligible_quantity == Some(0) {
        return Err(invalid("eligible_quantity", "a quantity is 1 or more"));
    }
    let max_offers = f.max_offers.unwrap_or(DEFAULT_MAX_OFFERS);
    if !(1..=MAX_MAX_OFFERS).contains(&max_offers) {
        return Err(invalid(
            "max_offers",
            format!("an intent accepts 1 to {MAX_MAX_OFFERS} offers, not {max_offers}"),
        ));
    }
    f.max_offers = Some(max_offers);
    if !(1..=3650).contains(&f.terms.retention_days) {
        return Err(invalid(
            "terms.retention_days",
            "retention is 1 to 3650 days",
        ));
    }
    let through = *f
        .valid_through
        .get_or_insert_with(|| (now + chrono::Duration::days(DEFAULT_WINDOW_DAYS)).fixed_offset());
    if let Some(from) = f.valid_from
        && from >= through
    {
        return Err(invalid(
            "valid_through",
            format!("the window ends ({through}) before it starts ({from})"),
        ));
    }
    f.terms.withhold.sort();
    f.terms.withhold.dedup();
    Ok(f)
}

/// Whether granted vendors could see the intent (its window had opened).
pub(super) fn was_visible(f: &IntentFields, now: DateTime<Utc>) -> bool {
    f.valid_from.is_some_and(|from| from <= now)
}

/// Activation opens the window now unless it opens later; refused when it is already over.
pub(super) fn open_window(f: &mut IntentFields, now: DateTime<Utc>) -> Result<(), IntentError> {
    let from = *f.valid_from.get_or_insert_with(|| now.fixed_offset());
    match f.valid_through {
        Some(through) if through > now && through > from => Ok(()),
        _ => Err(IntentError::WindowOver),
    }
}

/// An offer is in the intent's currency, when the intent names one. A vendor that was not
/// shown the price (the terms withhold it) is not told the currency either.
pub(super) fn offer_currency(intent: &IntentFields, offer: &OfferFields) -> Result<(), OfferError> {
    let Some(spec) = &intent.price_specification else {
        return Ok(());
    };
    if spec.price_currency == offer.price_currency {
        return Ok(());
    }
    let withheld = intent
        .terms
        .withhold
        .contains(&IntentField::PriceSpecification);
    Err(OfferError::Invalid {
        field: "price_currency",
        message: if withheld {
            format!(
                "{} is not the currency of this intent",
                offer.price_currency.as_str()
            )
        } else {
            format!(
                "this intent takes offers in {}, not {}",
                spec.price_currency.as_str(),
                offer.price_currency.as_str()
            )
        },
    })
}

/// Whether `price` is above the intent's `max_price` (in the same currency; an offer in
/// another currency, made before offers had to match, is not compared).
pub(super) fn over_budget(intent: &IntentFields, price: &Amount, currency: &Currency) -> bool {
    let Some(spec) = &intent.price_specification else {
        return false;
    };
    let Some(max) = &spec.max_price else {
        return false;
    };
    if spec.price_currency != *currency {
        return false;
    }
    match (
        Decimal::from_str(price.as_str()),
        Decimal::from_str(max.as_str()),
    ) {
        (Ok(price), Ok(max)) => price > max,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn intent(price: serde_json::Value, withhold: &[&str]) -> IntentFields {
        serde_json::from_value(json!({
            "category": "home.appliances", "title": "Washer",
            "price_specification": price, "terms": {"withhold": withhold},
        }))
        .unwrap()
    }

    fn offer(price: &str, currency: &str) -> OfferFields {
        serde_json::from_value(
            json!({"price": price, "price_currency": currency, "description": "WM-9"}),
        )
        .unwrap()
    }

    #[test]
    fn an_offer_is_over_budget_only_above_max_price_in_the_same_currency() {
        let washer = intent(json!({"max_price": "700", "price_currency": "EUR"}), &[]);
        let over = |price: &str, currency: &str| {
            let o = offer(price, currency);
            over_budget(&washer, &o.price, &o.price_currency)
        };
        assert!(over("700.01", "EUR"));
        assert!(!over("700.00", "EUR"), "700.00 is 700");
        assert!(!over("699.99", "EUR"));
        assert!(!over("9999", "USD"), "another currency is not compared");
        let no_max = intent(json!({"min_price": "100", "price_currency": "EUR"}), &[]);
        let o = offer("9999", "EUR");
        assert!(!over_budget(&no_max, &o.price, &o.price_currency));
    }

    #[test]
    fn an_offer_must_be_in_the_intents_currency_without_telling_a_withheld_one() {
        let shown = intent(json!({"max_price": "700", "price_currency": "EUR"}), &[]);
        assert!(offer_currency(&shown, &offer("600", "EUR")).is_ok());
        let told = offer_currency(&shown, &offer("600", "USD")).unwrap_err();
        assert!(told.to_string().contains("EUR"), "{told}");
        let hidden = intent(
            json!({"max_price": "700", "price_currency": "EUR"}),
            &["price_specification"],
        );
        let untold = offer_currency(&hidden, &offer("600", "USD")).unwrap_err();
        assert!(!untold.to_string().contains("EUR"), "{untold}");
        assert!(
            untold.to_string().starts_with("price_currency: "),
            "{untold}"
        );
    }
}
