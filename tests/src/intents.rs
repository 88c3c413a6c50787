//! The intents the benches make: ~1 KiB washing-machine intents in `home.appliances`, valid
//! for 30 days, so a vendor granted that category sees them.

use serde_json::{Value, json};

use crate::Api;

/// The fields of bench intent `i` (its title says `i`; its description is 800 bytes).
pub fn washing_machine(i: usize) -> Value {
    let until = chrono::Utc::now() + chrono::Duration::days(30);
    json!({
        "category": "home.appliances.washing-machine",
        "title": format!("Washing machine {i}"),
        "description": "d".repeat(800),
        "price_specification": {"min_price": "400", "max_price": "700", "price_currency": "EUR"},
        "area_served": "Lyon",
        "valid_through": until.to_rfc3339(),
    })
}

/// Activates intent `id` (made as a draft); fails the bench if it is refused.
pub fn activate(s: &impl Api, id: &str) {
    let r = s.post(&format!("/v1/intents/{id}/activate"), &json!({}));
    assert_eq!(r.status, 200, "activate: {}", r.text);
}

/// Creates and activates bench intent `i`.
pub fn add_active(s: &impl Api, i: usize) {
    activate(s, &s.create("/v1/intents", &washing_machine(i)));
}
