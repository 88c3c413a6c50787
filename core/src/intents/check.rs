//! What the owner may write in an intent, and the defaults filled in (window end, offer cap).

use std::str::FromStr;

use carnet_schemas::{DEFAULT_MAX_OFFERS, DEFAULT_WINDOW_DAYS, IntentFields, MAX_MAX_OFFERS};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::IntentError;

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
