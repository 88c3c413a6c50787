//! Carnet's wire types: the JSON that carnetd speaks and the carnet CLI reads. Both sides depend
//! on this crate, so a field cannot drift between them; the JSON Schema files generated from
//! these types are checked in under `schemas/json/` (see `tests/drift.rs`).
#![forbid(unsafe_code)]

pub mod api;
pub mod archive;
pub mod consent;
pub mod documents;
pub mod grants;
pub mod ids;
pub mod intents;
pub mod ledger;
pub mod market;
pub mod notify;
pub mod oauth;
pub mod passphrase;
pub mod promises;
pub mod receipts;
pub mod subscriptions;
pub mod values;
pub mod webhooks;

pub use api::{FieldError, Health, HealthStatus, PROBLEM_JSON, Problem};
pub use archive::*;
pub use consent::*;
pub use documents::*;
pub use grants::*;
pub use ids::{
    ClientId, DocumentId, GrantId, Id, IdKind, IncidentId, IntentId, InteractionId, MarketOfferId,
    NotifyChannelId, OfferId, PromiseId, PurchaseId, ReceiptId, SubscriptionId, VendorId,
};
pub use intents::*;
pub use ledger::*;
pub use market::{MarketOffer, MarketOfferQuery, NewMarketVendor};
pub use notify::{
    NewNotifyChannel, NotifyChannel, NotifyChannelCreated, NotifyChannelPatch, NotifyDelivery,
    NotifyEvent, NotifyKind, NotifyTest, NotifyTiming,
};
pub use oauth::*;
pub use passphrase::{MIN_PASSPHRASE_CHARS, WeakPassphrase, check_new_passphrase};
pub use promises::*;
pub use receipts::*;
pub use subscriptions::*;
pub use values::{
    Amount, Category, Currency, InvalidValue, Line, Locale, Satisfaction, Sentiment, Text,
    TimeZoneName, WebUrl,
};
pub use webhooks::{GrantRevoked, IntentEnded, OfferAnswered, WebhookEvent};

/// Compares checked-in JSON Schema files (`DIR/STEM.schema.json`) with `schemas`, as written
/// by `serde_json`'s pretty printer plus a newline; with `update`, rewrites the ones that
/// differ instead. Returns the paths that differ and were not rewritten. Shared by the drift
/// tests of `schemas/json/` and of the relay's `schemas/relay/`.
pub fn stale_schema_files(
    dir: &std::path::Path,
    schemas: Vec<(&'static str, serde_json::Value)>,
    update: bool,
) -> std::io::Result<Vec<String>> {
    let mut stale = Vec::new();
    for (stem, schema) in schemas {
        let path = dir.join(format!("{stem}.schema.json"));
        let want = serde_json::to_string_pretty(&schema)? + "\n";
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != want {
            if update {
                std::fs::write(&path, want)?;
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    Ok(stale)
}

/// The JSON Schema of every top-level wire type, by file stem, for `schemas/json/`.
pub fn json_schemas() -> Vec<(&'static str, serde_json::Value)> {
    fn one<T: schemars::JsonSchema>() -> serde_json::Value {
        schemars::schema_for!(T).to_value()
    }
    vec![
        ("problem", one::<Problem>()),
        ("health", one::<Health>()),
        ("vendor-fields", one::<VendorFields>()),
        ("vendor", one::<Vendor>()),
        ("vendor-detail", one::<VendorDetail>()),
        ("interaction-fields", one::<InteractionFields>()),
        ("interaction", one::<Interaction>()),
        ("purchase-fields", one::<PurchaseFields>()),
        ("purchase", one::<Purchase>()),
        ("new-incident", one::<NewIncident>()),
        ("incident-resolution", one::<IncidentResolution>()),
        ("incident", one::<Incident>()),
        ("followup", one::<Followup>()),
        ("new-promise", one::<NewPromise>()),
        ("promise", one::<Promise>()),
        ("promise-record", one::<PromiseRecord>()),
        ("vendor-promises", one::<VendorPromises>()),
        ("new-notify-channel", one::<NewNotifyChannel>()),
        ("notify-channel", one::<NotifyChannel>()),
        ("notify-channel-created", one::<NotifyChannelCreated>()),
        ("notify-channel-patch", one::<NotifyChannelPatch>()),
        ("notify-test", one::<NotifyTest>()),
        ("new-subscription", one::<NewSubscription>()),
        ("subscription-patch", one::<SubscriptionPatch>()),
        ("subscription", one::<Subscription>()),
        ("payment-projection", one::<PaymentProjection>()),
        ("document", one::<Document>()),
        ("profile-fields", one::<ProfileFields>()),
        ("profile", one::<Profile>()),
        ("client-fields", one::<ClientFields>()),
        ("client", one::<Client>()),
        ("client-credentials", one::<ClientCredentials>()),
        ("new-grant", one::<NewGrant>()),
        ("grant", one::<Grant>()),
        ("grant-widening", one::<GrantWidening>()),
        ("token-response", one::<TokenResponse>()),
        ("oauth-error", one::<OAuthErrorBody>()),
        ("introspection", one::<Introspection>()),
        ("server-metadata", one::<ServerMetadata>()),
        ("receipt", one::<Receipt>()),
        ("receipt-keys", one::<ReceiptKeys>()),
        ("access-entry", one::<AccessEntry>()),
        ("vendor-relationship", one::<VendorRelationship>()),
        ("vendor-profile", one::<VendorProfile>()),
        ("shared-interaction", one::<SharedInteraction>()),
        ("intent-fields", one::<IntentFields>()),
        ("intent", one::<Intent>()),
        ("vendor-intent", one::<VendorIntent>()),
        ("offer-fields", one::<OfferFields>()),
        ("offer", one::<Offer>()),
        ("vendor-offer", one::<VendorOffer>()),
        ("market-offer", one::<MarketOffer>()),
        ("new-market-vendor", one::<NewMarketVendor>()),
        ("pending-consent", one::<PendingConsent>()),
        ("consent-decision", one::<ConsentDecision>()),
        ("invitation", one::<Invitation>()),
        ("registration-request", one::<RegistrationRequest>()),
        ("registration-response", one::<RegistrationResponse>()),
        ("archive", one::<Archive>()),
        ("import-report", one::<ImportReport>()),
    ]
}
