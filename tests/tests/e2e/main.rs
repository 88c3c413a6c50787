//! Carnet end to end: each test starts its own carnetd (in-process on port 0, or a real
//! process where the promise needs one) and checks one promise, named by the test.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed anyway

mod access_layout;
mod access_retention;
mod api_errors;
mod app;
mod app_access;
mod app_documents;
mod app_frame;
mod app_intents;
mod app_market;
mod app_subscriptions;
mod app_vendors;
mod audit;
mod backup;
mod cli;
mod cli_promises;
mod connections;
mod consent;
mod consent_abuse;
mod consent_page;
mod document_search;
mod documents;
mod durability;
mod export;
mod export_documents;
mod export_market;
mod generation;
mod grants;
mod import_csv;
mod import_upload;
mod intents;
mod json_bodies;
mod ledger;
mod ledger_index;
mod moving;
mod notify;
mod oauth;
mod openapi;
mod openapi_document;
mod operations;
mod password;
mod promises;
mod registration;
mod relay_announce;
mod relay_consent;
mod relay_offers;
mod relay_offers_host;
mod relay_sealed;
mod relay_start;
mod reminders;
mod revocation;
mod scorecard;
mod sealed;
mod search;
mod subscriptions;
mod tampering;
mod time_zone;
mod token_rows;
mod vault;
mod vendor_api;
mod vendor_log;
mod vendor_offers;
mod vendor_pages;
mod webhooks;

use carnet_tests::{Api, TestServer};
use serde_json::{Value, json};

/// Adds a vendor and returns its id.
pub fn vendor(s: &TestServer, name: &str) -> String {
    s.create("/v1/vendors", &json!({ "name": name }))
}

/// Records an interaction and returns its id.
pub fn interaction(s: &TestServer, vendor: &str, extra: Value) -> String {
    let mut body =
        json!({ "vendor_id": vendor, "channel": "email", "summary": "Asked about delivery" });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    s.create("/v1/interactions", &body)
}
