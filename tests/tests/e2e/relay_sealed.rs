//! The relay's `sealed` and `notify` levels, with a real carnetd, nats-server and
//! `carnet-vendor listen`: a sealed intent goes whole (withheld fields left out) to the
//! directory vendors whose live grant covers it and to no one else — the relay sees its
//! envelope alone; a grant is checked at each revision, so a revoked vendor gets no later one
//! and cannot offer through the relay; a notify intent carries only where to pull it, and the
//! pull is checked and logged as any other; each publication is in the access log under each
//! recipient.

use carnet_tests::market::Market;
use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Carnetd, TestServer};
use serde_json::{Value, json};

use super::relay_announce::payload;
use super::relay_offers::{market_offers, wait_until};

/// acme and bolt sell appliances; greenhands gardens.
fn running() -> (Market, tempfile::TempDir, Carnetd) {
    let market = Market::start(&[
        ("acme", &["home.appliances"]),
        ("bolt", &["home.appliances"]),
        ("greenhands", &["home.garden"]),
    ]);
    let data = tempfile::tempdir().unwrap();
    let carnetd = market.carnetd(data.path());
    (market, data, carnetd)
}

/// Directory vendor `id` added to the vault and connected as an OAuth client.
pub(crate) fn directory_vendor(carnetd: &Carnetd, id: &str) -> VendorApp {
    let added = carnetd.post("/v1/market/vendors", &json!({ "directory_id": id }));
    assert_eq!(added.status, 201, "{}", added.text);
    let vendor_id = added.json()["id"].as_str().unwrap().to_owned();
    let r = carnetd.post(
        &format!("/v1/vendors/{vendor_id}/client"),
        &json!({"redirect_uris": ["https://vendor.example/cb"]}),
    );
    assert_eq!(r.status, 201, "connect: {}", r.text);
    let c = r.json();
    VendorApp {
        base: carnetd.base.clone(),
        vendor_id,
        client_id: c["client_id"].as_str().unwrap().to_owned(),
        secret: c["client_secret"].as_str().unwrap().to_owned(),
        webhook_secret: None,
    }
}

pub(crate) fn grant_appliances(carnetd: &Carnetd, v: &VendorApp) -> String {
    v.grant(
        carnetd,
        &["intents:read", "offers:write"],
        Some(&["home.appliances"]),
    )
}

/// An active intent at `level` in home.appliances, as JSON (stderr checked by the caller).
pub(crate) fn intent(carnetd: &Carnetd, level: &str, title: &str) -> (String, String) {
    let out = carnetd.carnet(&[
        "--json",
        "intent",
        "new",
        "--category",
        "home.appliances.washer",
        "--title",
        title,
        "--description",
        "Our old one floods the kitchen",
        "--withhold",
        "description",
        "--relay",
        level,
        "--activate",
    ]);
    out.ok();
    (
        out.json()["id"].as_str().unwrap().to_owned(),
        out.stderr.clone(),
    )
}

/// A public announcement in home.appliances: a marker that every appliances vendor hears, so
/// that hearing it proves what came before it on the stream was not shown.
fn marker(carnetd: &Carnetd, title: &str) {
    carnetd
        .carnet(&[
            "intent",
            "new",
            "--category",
            "home.appliances.marker",
            "--title",
            title,
            "--relay",
            "announce",
            "--public",
            "title",
            "--activate",
        ])
        .ok();
}

/// The access-log entries of vendor `v`.
fn log_of(carnetd: &Carnetd, v: &VendorApp) -> Vec<Value> {
    carnetd
        .get(&format!("/v1/access-log?vendor={}&limit=1000", v.vendor_id))
        .json()["items"]
        .as_array()
        .unwrap()
        .clone()
}

pub(crate) fn logged(carnetd: &Carnetd, v: &VendorApp, endpoint: &str, id: &str) -> Option<Value> {
    log_of(carnetd, v)
        .into_iter()
        .find(|e| e["endpoint"] == endpoint && e["ids"] == json!([id]))
}

#[test]
fn a_sealed_intent_goes_whole_to_its_granted_vendors_and_nothing_of_it_to_anyone_else() {
    let (market, _data, carnetd) = running();
    let acme = directory_vendor(&carnetd, "acme");
    grant_appliances(&carnetd, &acme);
    // bolt is in the vault and in the category's directory, but has no grant.
    directory_vendor(&carnetd, "bolt");

    let (id, said) = intent(&carnetd, "sealed", "Quiet washer");
    assert!(
        said.contains("relay sealed: once active") && said.contains("encrypted to"),
        "{said}"
    );
    let heard = market
        .listen("acme", 1, &["--category", "home.appliances"])
        .remove(0);
    assert_eq!(heard["level"], "sealed", "{heard}");
    let opened = &heard["opened"]["intent"];
    assert_eq!(opened["title"], "Quiet washer", "{heard}");
    assert_eq!(opened["id"], id.as_str());
    // Withheld, and the per-vendor pseudonym: not in the box.
    assert!(opened.get("description").is_none(), "{opened}");
    assert!(opened.get("customer_ref").is_none(), "{opened}");
    assert!(heard["public"].as_object().is_none_or(|p| p.is_empty()));
    assert!(heard.get("reply").is_none(), "{heard}");
    assert!(heard["opened"]["reply"]["bucket"].is_string(), "{heard}");

    // bolt hears the marker published after it, and never the sealed intent.
    marker(&carnetd, "Marker one");
    let bolt = market
        .listen("bolt", 1, &["--category", "home.appliances"])
        .remove(0);
    assert_eq!(bolt["public"]["title"], "Marker one", "{bolt}");

    // The relay (as its operator reads it) holds the envelope and the recipient count only.
    let on_relay = market.intents_on_the_relay();
    let sealed: Vec<String> = on_relay
        .iter()
        .map(|(_, _, body)| payload(body))
        .filter(|p| p.contains("\"level\":\"sealed\""))
        .collect();
    assert_eq!(sealed.len(), 1, "{on_relay:?}");
    for text in ["Quiet washer", "floods", &id, "bucket", "age1"] {
        assert!(
            !sealed[0].contains(text),
            "{text} is readable: {}",
            sealed[0]
        );
    }
    assert!(sealed[0].contains("\"recipients\":1"), "{}", sealed[0]);

    // The owner sees who received it, and what it left out.
    let entry = wait_until("the access log names acme", || {
        logged(&carnetd, &acme, "RELAY sealed", &id)
    });
    assert_eq!(entry["scope"], "intents:read", "{entry}");
    assert_eq!(entry["withheld"][&id], json!(["description"]), "{entry}");
    assert_eq!(entry["client_id"], acme.client_id.as_str());

    // The CLI says where it is.
    let shown = carnetd.carnet(&["intent", "show", &id]);
    shown.ok();
    assert!(
        shown.stdout.contains("sealed: the intent, encrypted"),
        "{}",
        shown.stdout
    );
}

#[test]
fn a_revoked_vendor_gets_no_later_revision_nor_is_its_offer_taken() {
    let (market, _data, carnetd) = running();
    let acme = directory_vendor(&carnetd, "acme");
    let bolt = directory_vendor(&carnetd, "bolt");
    let acme_grant = grant_appliances(&carnetd, &acme);
    let (id, _) = intent(&carnetd, "sealed", "Dryer");
    let first = market
        .listen("acme", 1, &["--category", "home.appliances"])
        .remove(0);
    assert_eq!(first["opened"]["intent"]["title"], "Dryer");
    let intent_ref = first["intent_ref"].as_str().unwrap().to_owned();

    // acme revoked, bolt granted: the next revision goes to bolt alone.
    let r = carnetd.post(&format!("/v1/grants/{acme_grant}/revoke"), &json!({}));
    assert!(r.status < 300, "{}", r.text);
    grant_appliances(&carnetd, &bolt);
    carnetd
        .carnet(&["intent", "edit", &id, "--title", "Dryer, condenser"])
        .ok();
    let second = market
        .listen("bolt", 1, &["--category", "home.appliances"])
        .remove(0);
    assert_eq!(second["intent_ref"], intent_ref.as_str());
    assert_eq!(second["revision"], 2);
    assert_eq!(second["opened"]["intent"]["title"], "Dryer, condenser");
    marker(&carnetd, "Marker two");
    let acme_next = market
        .listen("acme", 1, &["--category", "home.appliances"])
        .remove(0);
    assert_eq!(acme_next["public"]["title"], "Marker two", "{acme_next}");
    assert!(logged(&carnetd, &acme, "RELAY sealed", &id).is_some());
    wait_until("bolt's revision logged", || {
        logged(&carnetd, &bolt, "RELAY sealed", &id)
    });

    // acme still knows revision 1's reply address: its offer goes out, and is refused.
    let out = market.vendor(
        "offer",
        "acme",
        &[&intent_ref, "--price", "300", "--currency", "EUR", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    carnetd.wait_for_log(&["market offer refused", "no live grant"]);
    assert!(market_offers(&carnetd, &id).is_empty());
}

#[test]
fn a_notify_intent_points_to_the_vendor_api_where_the_grant_is_checked_again() {
    let (market, _data, carnetd) = running();
    let acme = directory_vendor(&carnetd, "acme");
    let grant = grant_appliances(&carnetd, &acme);
    let (id, said) = intent(&carnetd, "notify", "Fridge");
    assert!(said.contains("only where to read it goes out"), "{said}");
    let heard = market
        .listen("acme", 1, &["--category", "home.appliances"])
        .remove(0);
    assert_eq!(heard["level"], "notify");
    assert!(heard["opened"].get("intent").is_none(), "{heard}");
    let pointer = &heard["opened"]["pointer"];
    assert_eq!(pointer["intent_ref"], heard["intent_ref"]);
    // The vault's address as its vendors know it: its OAuth issuer.
    let issuer = carnetd
        .get("/.well-known/oauth-authorization-server")
        .json()["issuer"]
        .clone();
    assert_eq!(pointer["vendor_api"], issuer);
    let url = pointer["intent_url"].as_str().unwrap();
    let path = url.strip_prefix(issuer.as_str().unwrap()).unwrap();
    assert_eq!(path, format!("/v1/vendor/intents/{id}"));

    // The vendor pulls it with its token: the read is checked and logged as any other.
    let token = acme.token();
    let got = acme.get(&token, path);
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.json()["title"], "Fridge");
    wait_until("the notify publication and the pull logged", || {
        let notified = logged(&carnetd, &acme, "RELAY notify", &id)?;
        let pulled = logged(&carnetd, &acme, "GET /v1/vendor/intents/{id}", &id)?;
        Some((notified, pulled))
    });
    // Revoked: the pointer it holds leads nowhere.
    carnetd.post(&format!("/v1/grants/{grant}/revoke"), &json!({}));
    let after = acme.get(&token, path);
    assert!(after.status == 401 || after.status == 403, "{}", after.text);
}

#[test]
fn sealed_and_notify_refuse_public_fields_and_a_server_without_relay() {
    let (_market, _data, carnetd) = running();
    let out = carnetd.carnet(&[
        "intent",
        "new",
        "--category",
        "home.appliances.washer",
        "--title",
        "Washer",
        "--relay",
        "sealed",
        "--public",
        "title",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("public fields are for relay announce"),
        "{}",
        out.stderr
    );
    let kept = carnetd.get("/v1/intents").json();
    assert!(kept == json!([]) || kept["items"] == json!([]), "{kept}");

    let plain = TestServer::spawn();
    let out = plain.carnet(&[
        "intent",
        "new",
        "--category",
        "home.appliances.washer",
        "--title",
        "Washer",
        "--relay",
        "notify",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("no market relay") && out.stderr.contains("notify needs one"),
        "{}",
        out.stderr
    );
}
