//! The `webhooks` section (OpenAPI 3.1): one entry per event a vendor's webhook URL receives,
//! with its Standard Webhooks envelope, the `data` each event carries (the types carnet-core
//! writes them with, in carnet-schemas), and the headers that sign it.

use carnet_schemas::WebhookEvent;
use serde_json::{Map, Value, json};

/// The schema name of each event's `data`.
fn data_schema(event: WebhookEvent) -> &'static str {
    match event {
        WebhookEvent::IntentActivated | WebhookEvent::IntentUpdated => "VendorIntent",
        WebhookEvent::IntentWithdrawn
        | WebhookEvent::IntentFulfilled
        | WebhookEvent::IntentExpired => "IntentEnded",
        WebhookEvent::OfferAccepted | WebhookEvent::OfferDeclined => "OfferAnswered",
        WebhookEvent::GrantRevoked => "GrantRevoked",
    }
}

fn header(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "header", "required": true, "description": description,
           "schema": {"type": "string"}})
}

fn entry(event: WebhookEvent) -> Value {
    let name = event.as_str();
    json!({"post": {
        "operationId": format!("webhook_{}", name.replace('.', "_")),
        "tags": ["webhooks"],
        "summary": name,
        "description": format!(
            "{}. Sent to the webhook URL of the vendor's client, at least once, signed as the \
             Standard Webhooks specification says; retried with backoff (up to 10 minutes \
             apart) until a 2xx. The grant is checked again at delivery: after a revoke only \
             `grant.revoked` goes out.",
            event.describe()
        ),
        "parameters": [
            header("webhook-id", "The event's id (`msg_…`), the same on every attempt: deduplicate on it"),
            header("webhook-timestamp", "Unix seconds of this attempt"),
            header("webhook-signature", "`v1,` and standard base64 of HMAC-SHA256 keyed with the base64-decoded webhook secret (after `whsec_`) over `{webhook-id}.{webhook-timestamp}.{body}`"),
        ],
        "requestBody": {
            "required": true,
            "content": {"application/json": {"schema": {
                "type": "object",
                "required": ["type", "timestamp", "data"],
                "properties": {
                    "type": {"type": "string", "const": name},
                    "timestamp": {"type": "string", "format": "date-time",
                                  "description": "When the event happened"},
                    "data": {"$ref": format!("#/components/schemas/{}", data_schema(event))},
                },
            }}},
        },
        "responses": {
            "2XX": {"description": "Received. Any other status, a redirect (never followed) or no answer in time is retried."},
        },
    }})
}

/// Adds `webhooks` and its tag to the document.
pub fn add(doc: &mut Value) {
    let hooks: Map<String, Value> = WebhookEvent::ALL
        .into_iter()
        .map(|e| (e.as_str().to_owned(), entry(e)))
        .collect();
    doc["webhooks"] = Value::Object(hooks);
    if let Some(tags) = doc["tags"].as_array_mut() {
        tags.push(json!({"name": "webhooks", "description": "What carnetd POSTs to a vendor's webhook URL"}));
    }
}
