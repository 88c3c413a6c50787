//! A vault with something on every page: three vendors (one connected, granted, that has read
//! a few things and made an offer), interactions with sentiment and next steps (one late),
//! purchases with amounts and a warranty ending soon, documents (one shared), an incident, an
//! active intent closing within three days with an offer on it.

use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, TestServer, http};
use chrono::{Duration, Utc};
use serde_json::json;

pub struct Seed {
    /// Acme Appliances: connected, granted in `home.appliances`, has read and offered.
    pub acme: VendorApp,
    /// Dupont Plomberie: a vendor with purchases and interactions, not connected.
    pub plumber: String,
    /// The active intent Acme offered on.
    pub intent: String,
}

/// What `seed` puts in a search box finds: a word of several summaries.
pub const COMMON_WORD: &str = "washer";

/// An active intent in `home.appliances` closing in two days, with a budget of 700 EUR.
pub fn intent(s: &TestServer, title: &str, description: &str) -> String {
    let until = Utc::now() + Duration::days(2);
    let id = s.create(
        "/v1/intents",
        &json!({"category": "home.appliances.washing-machine", "title": title,
            "description": description,
            "price_specification": {"min_price": "400", "max_price": "700", "price_currency": "EUR"},
            "area_served": "Lyon", "valid_through": until.to_rfc3339()}),
    );
    carnet_tests::intents::activate(s, &id);
    id
}

/// A vendor connected and granted what offering and reading need, in `home.appliances`.
pub fn seller(s: &TestServer, name: &str) -> VendorApp {
    let v = VendorApp::connect(s, name);
    v.grant(
        s,
        &[
            "intents:read",
            "offers:write",
            "profile:read",
            "relationship:read",
        ],
        Some(&["home.appliances"]),
    );
    v
}

/// `v`'s offer of `price` EUR on `intent`; its id.
pub fn offer(v: &VendorApp, intent: &str, price: &str, description: &str) -> String {
    let r = carnet_tests::Resp::from(
        http()
            .post(format!("{}/v1/vendor/intents/{intent}/offers", v.base))
            .bearer_auth(v.token())
            .json(&json!({"price": price, "price_currency": "EUR", "description": description}))
            .send()
            .expect("offer"),
    );
    assert_eq!(r.status, 201, "offer: {}", r.text);
    r.json()["id"].as_str().expect("offer id").to_owned()
}

/// Uploads a document (`query` says what to), returns its id.
fn document(s: &TestServer, query: &str, bytes: &[u8]) -> String {
    let r = carnet_tests::Resp::from(
        http()
            .post(s.url(&format!("/v1/documents?{query}")))
            .bearer_auth(s.token())
            .body(bytes.to_vec())
            .send()
            .expect("document"),
    );
    assert_eq!(r.status, 201, "document: {}", r.text);
    r.json()["id"].as_str().expect("document id").to_owned()
}

pub fn seed(s: &TestServer) -> Seed {
    let today = Utc::now().date_naive();
    let acme = seller(s, "Acme Appliances");
    let plumber = s.create(
        "/v1/vendors",
        &json!({"name": "Dupont Plomberie", "website": "https://dupont-plomberie.example",
            "categories": ["home.plumbing"]}),
    );
    s.create(
        "/v1/vendors",
        &json!({"name": "Boulangerie Martin", "categories": ["food.bakery"]}),
    );
    let at = |days: i64| (Utc::now() - Duration::days(days)).to_rfc3339();
    for (vendor, days, channel, summary, sentiment, next, due) in [
        (
            acme.vendor_id.as_str(),
            20,
            "store",
            "Bought the washer in the Lyon store",
            2,
            None,
            None,
        ),
        (
            acme.vendor_id.as_str(),
            6,
            "phone",
            "The washer leaks at the door; they will send someone",
            -1,
            Some("Call back if nobody comes"),
            Some(today - Duration::days(1)),
        ),
        (
            acme.vendor_id.as_str(),
            2,
            "email",
            "Technician visit booked for the washer",
            1,
            Some("Be home for the technician"),
            Some(today + Duration::days(3)),
        ),
        (
            plumber.as_str(),
            40,
            "phone",
            "Boiler service quote",
            0,
            Some("Compare with another quote"),
            Some(today + Duration::days(5)),
        ),
        (
            plumber.as_str(),
            30,
            "store",
            "Boiler serviced; a washer replaced on the tap",
            1,
            None,
            None,
        ),
    ] {
        let mut body = json!({"vendor_id": vendor, "at": at(days), "channel": channel,
            "summary": summary, "sentiment": sentiment, "with": "Marie", "shared": true});
        if let (Some(n), Some(d)) = (next, due) {
            body["next_step"] = json!(n);
            body["next_due"] = json!(d.to_string());
        }
        s.create("/v1/interactions", &body);
    }
    let washer = s.create(
        "/v1/purchases",
        &json!({"vendor_id": acme.vendor_id, "item": "Washer WM-7", "amount": "549.00",
            "currency": "EUR", "date": (today - Duration::days(700)).to_string(),
            "warranty_until": (today + Duration::days(20)).to_string()}),
    );
    s.create(
        "/v1/purchases",
        &json!({"vendor_id": plumber, "item": "Boiler service", "amount": "120.00",
            "currency": "EUR", "date": (today - Duration::days(30)).to_string()}),
    );
    // Documents on Acme's page (one shared), and a document hit for the search page.
    let invoice = document(
        s,
        &format!("purchase={washer}&title=Washer%20invoice&file_name=washer-invoice.pdf"),
        b"%PDF-1.7 invoice",
    );
    document(
        s,
        &format!("vendor={}&file_name=IMG_0042.jpg", acme.vendor_id),
        &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0, 0],
    );
    let shared = s.post(&format!("/v1/documents/{invoice}/share"), &json!({}));
    assert_eq!(shared.status, 200, "share: {}", shared.text);
    s.create(
        "/v1/incidents",
        &json!({"vendor_id": acme.vendor_id, "description": "The washer leaks at the door"}),
    );
    // A contract whose notice deadline is near (on Today), and a weekly one in yen.
    s.create(
        "/v1/subscriptions",
        &json!({"vendor_id": plumber, "item": "Boiler maintenance contract", "amount": "14.90",
            "currency": "EUR", "every": "month", "next": (today + Duration::days(12)).to_string(),
            "notice_days": 30, "ends": (today + Duration::days(40)).to_string(),
            "category": "home.plumbing"}),
    );
    s.create(
        "/v1/subscriptions",
        &json!({"vendor_id": acme.vendor_id, "item": "Detergent delivery", "amount": "1200",
            "currency": "JPY", "every": "week", "next": (today + Duration::days(2)).to_string()}),
    );
    let intent = intent(
        s,
        "Washing machine",
        "A quiet 8 kg washer, delivered and installed, the old one taken away.",
    );
    offer(
        &acme,
        &intent,
        "649.90",
        "WM-9, delivered and installed on Thursday",
    );
    acme.alternating_reads(4);
    Seed {
        acme,
        plumber,
        intent,
    }
}
