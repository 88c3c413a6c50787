//! The web app's intents and offers: an intent written in the browser is the owner API's, a
//! wrong field comes back as typed with the error beside it, the moves change its state, a
//! vendor's offer shows on its page (its text escaped, its link only when http(s)), and
//! accepting it records the purchase. Nothing changes without the session's form token.

use carnet_tests::browser::input_value;
use carnet_tests::vendor::VendorApp;
use carnet_tests::webapp::WebApp;
use carnet_tests::{Api, Resp, TestServer, http};
use serde_json::{Value, json};

const NEW: &str = "/app/intents/new";

/// The new-intent form's fields, with `changes` replacing or adding some.
fn form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("category", "home.appliances.washing-machine"),
        ("title", "Washing machine"),
        ("description", "Front-loading, 8 kg"),
        ("min_price", "400"),
        ("max_price", "700"),
        ("currency", "EUR"),
        ("quantity", "1"),
        ("area", "Lyon"),
        ("delivery", "delivered, old one taken"),
        ("condition", "new"),
        ("valid_from", ""),
        ("valid_through", ""),
        ("max_offers", "5"),
        ("purpose", "one quote"),
        ("retention_days", "14"),
        ("withhold", "area_served"),
        ("then", "save"),
    ];
    for (k, v) in changes {
        match f.iter_mut().find(|(name, _)| name == k) {
            Some(slot) => slot.1 = v,
            None => f.push((k, v)),
        }
    }
    f
}

/// The intent the browser was sent to after a form (`/app/intents/{id}`), by its id.
fn created(r: &Resp) -> String {
    assert_eq!(r.status, 303, "{}", r.text);
    let to = r.header("location").expect("location");
    to.strip_prefix("/app/intents/")
        .unwrap_or_else(|| panic!("sent to {to}"))
        .to_owned()
}

fn intent(s: &TestServer, id: &str) -> Value {
    let r = s.get(&format!("/v1/intents/{id}"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

/// An active intent made through the owner API, and a vendor granted to answer it.
fn offered_on(s: &TestServer) -> (String, VendorApp, String) {
    let until = chrono::Utc::now() + chrono::Duration::days(5);
    let id = s.create(
        "/v1/intents",
        &json!({"category": "home.appliances", "title": "Fridge",
                "price_specification": {"max_price": "500", "price_currency": "EUR"},
                "valid_through": until.to_rfc3339()}),
    );
    carnet_tests::intents::activate(s, &id);
    let v = VendorApp::connect(s, "Acme");
    v.grant(s, &["intents:read", "offers:write"], None);
    let t = v.token();
    (id, v, t)
}

fn offer(v: &VendorApp, t: &str, intent: &str, body: Value) -> Resp {
    Resp::from(
        http()
            .post(format!("{}/v1/vendor/intents/{intent}/offers", v.base))
            .bearer_auth(t)
            .json(&body)
            .send()
            .unwrap(),
    )
}

#[test]
fn an_intent_written_in_the_web_app_is_a_draft_the_owner_api_lists() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    let page = app.get(NEW);
    assert_eq!(page.status, 200, "{}", page.text);
    for label in [
        "Category",
        "Title",
        "Min price",
        "Max price",
        "Currency",
        "Quantity",
        "Area",
        "Delivery",
        "Condition",
        "Valid from",
        "Valid through",
        "Max offers",
        "Purpose",
        "Retention days",
        "Allow resale",
        "Allow tracking",
        "Withhold",
    ] {
        assert!(page.text.contains(&format!(">{label}")), "no {label}");
    }
    let id = created(&app.submit(NEW, NEW, &form(&[("valid_through", "2099-06-30")])));
    let listed = s.get("/v1/intents").json();
    let i = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id.as_str())
        .expect("the owner API lists it");
    assert_eq!(i["state"], "draft");
    assert_eq!(i["title"], "Washing machine");
    assert_eq!(i["price_specification"]["min_price"], "400");
    assert_eq!(i["price_specification"]["max_price"], "700");
    assert_eq!(i["area_served"], "Lyon");
    assert_eq!(i["item_condition"], "new");
    assert_eq!(i["max_offers"], 5);
    assert_eq!(i["terms"]["retention_days"], 14);
    assert_eq!(i["terms"]["no_resale"], true);
    assert_eq!(i["terms"]["withhold"], json!(["area_served"]));
    // A date alone is the end of that day, as `--until DATE`.
    let through = i["valid_through"].as_str().unwrap();
    assert!(through.starts_with("2099-07-01T00:00:00"), "{through}");
    // The list shows it with its state.
    let list = app.get("/app/intents?state=draft");
    assert!(list.text.contains("Washing machine"), "{}", list.text);
    assert!(
        !app.get("/app/intents?state=active")
            .text
            .contains("Washing machine")
    );
}

#[test]
fn save_and_activate_publishes_the_intent_at_once() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    let id = created(&app.submit(NEW, NEW, &form(&[("then", "activate")])));
    assert_eq!(intent(&s, &id)["state"], "active");
}

#[test]
fn a_wrong_field_sends_the_form_back_as_typed_with_the_error_beside_it() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    // A maximum below the minimum: the core's rule, shown beside Min price.
    let r = app.submit(
        NEW,
        NEW,
        &form(&[("min_price", "900"), ("title", "Dryer 9kg")]),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(input_value(&r.text, "title").as_deref(), Some("Dryer 9kg"));
    assert_eq!(input_value(&r.text, "min_price").as_deref(), Some("900"));
    assert_eq!(input_value(&r.text, "max_price").as_deref(), Some("700"));
    assert_eq!(input_value(&r.text, "area").as_deref(), Some("Lyon"));
    assert!(r.text.contains("id=\"f-min_price-err\""), "{}", r.text);
    assert!(r.text.contains("above the maximum"), "{}", r.text);
    assert!(
        r.text.contains("Front-loading, 8 kg</textarea>"),
        "{}",
        r.text
    );
    // A bad category, said beside Category; the ticked field stays ticked.
    let r = app.submit(NEW, NEW, &form(&[("category", "Home Appliances")]));
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        input_value(&r.text, "category").as_deref(),
        Some("Home Appliances")
    );
    assert!(r.text.contains("id=\"f-category-err\""), "{}", r.text);
    assert!(
        r.text.contains("value=\"area_served\" checked"),
        "{}",
        r.text
    );
    // Prices without a currency.
    let r = app.submit(NEW, NEW, &form(&[("currency", "")]));
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("id=\"f-currency-err\""), "{}", r.text);
    // Announcing on a server without a market relay: said beside Relay, kept as chosen.
    let r = app.submit(
        NEW,
        NEW,
        &form(&[("relay", "announce"), ("public", "title")]),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("id=\"f-relay-err\""), "{}", r.text);
    assert!(r.text.contains("no market relay"), "{}", r.text);
    assert!(r.text.contains("value=\"title\" checked"), "{}", r.text);
    // Nothing was written.
    assert!(s.get("/v1/intents").json().as_array().unwrap().is_empty());
}

#[test]
fn activate_withdraw_and_fulfil_move_the_intent_and_only_valid_moves_are_offered() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    let id = created(&app.submit(NEW, NEW, &form(&[])));
    let page_path = format!("/app/intents/{id}");
    let page = app.get(&page_path);
    assert!(page.text.contains(&format!("/app/intents/{id}/activate")));
    assert!(!page.text.contains(&format!("/app/intents/{id}/fulfil")));

    let r = app.submit(&page_path, &format!("/app/intents/{id}/activate"), &[]);
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(intent(&s, &id)["state"], "active");
    let page = app.get(&page_path);
    assert!(!page.text.contains(&format!("/app/intents/{id}/activate")));
    assert!(page.text.contains(&format!("/app/intents/{id}/fulfil")));
    assert!(
        page.text.contains("data-confirm="),
        "withdrawing asks first"
    );

    let r = app.submit(&page_path, &format!("/app/intents/{id}/withdraw"), &[]);
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(intent(&s, &id)["state"], "withdrawn");
    let page = app.get(&page_path);
    assert!(!page.text.contains("/withdraw\""));
    assert!(
        !page.text.contains("/edit\""),
        "a withdrawn intent is final"
    );
    // The core refuses a move the page no longer offers.
    let r = app.submit(&page_path, &format!("/app/intents/{id}/activate"), &[]);
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(intent(&s, &id)["state"], "withdrawn");

    let other = created(&app.submit(NEW, NEW, &form(&[("then", "activate")])));
    let other_page = format!("/app/intents/{other}");
    let r = app.submit(&other_page, &format!("/app/intents/{other}/fulfil"), &[]);
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(intent(&s, &other)["state"], "fulfilled");
}

#[test]
fn the_edit_form_is_prefilled_and_replaces_the_intent() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    let id = created(&app.submit(NEW, NEW, &form(&[])));
    let edit = format!("/app/intents/{id}/edit");
    let page = app.get(&edit);
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(
        input_value(&page.text, "title").as_deref(),
        Some("Washing machine")
    );
    assert_eq!(input_value(&page.text, "max_price").as_deref(), Some("700"));
    let through = input_value(&page.text, "valid_through").expect("the window's end");
    let before = intent(&s, &id)["valid_through"].clone();
    let r = app.submit(
        &edit,
        &edit,
        &form(&[
            ("max_price", "750"),
            ("area", ""),
            ("valid_through", &through),
        ]),
    );
    assert_eq!(r.status, 303, "{}", r.text);
    let i = intent(&s, &id);
    assert_eq!(i["price_specification"]["max_price"], "750");
    assert!(i.get("area_served").is_none_or(Value::is_null), "{i}");
    assert_eq!(
        i["valid_through"], before,
        "an end left as shown is kept exactly"
    );
    // A wrong edit changes nothing and keeps what was typed.
    let r = app.submit(&edit, &edit, &form(&[("max_offers", "1000")]));
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(input_value(&r.text, "max_offers").as_deref(), Some("1000"));
    assert_eq!(intent(&s, &id)["max_offers"], 5);
    // An id that cannot be one, and one that is not there: pages that say so.
    assert_eq!(app.get("/app/intents/nonsense").status, 404);
    let gone = app.get("/app/intents/itt_0123456789abcdef");
    assert_eq!(gone.status, 404, "{}", gone.text);
    assert!(gone.text.contains("<html"), "{}", gone.text);
}

#[test]
fn a_vendors_offer_shows_on_the_intent_and_accepting_it_records_the_purchase() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    let (id, v, t) = offered_on(&s);
    let r = offer(
        &v,
        &t,
        &id,
        json!({"price": "480", "price_currency": "EUR", "description": "FR-2, delivered Tuesday",
               "url": "https://acme.example/fr-2"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let offer_id = r.json()["id"].as_str().unwrap().to_owned();
    let page_path = format!("/app/intents/{id}");
    let page = app.get(&page_path);
    assert!(
        page.text.contains("FR-2, delivered Tuesday"),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("href=\"https://acme.example/fr-2\" rel=\"noreferrer")
    );
    assert!(page.text.contains(&format!("/app/vendors/{}", v.vendor_id)));

    let r = app.submit(&page_path, &format!("/app/offers/{offer_id}/accept"), &[]);
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(r.header("location").unwrap().starts_with(&page_path));
    let purchases = s.list_all("/v1/purchases");
    assert_eq!(purchases.len(), 1, "{purchases:?}");
    let p = &purchases[0];
    assert_eq!(p["vendor_id"], v.vendor_id.as_str());
    assert_eq!(p["amount"], "480");
    assert_eq!(p["item"], "Fridge");
    assert_eq!(intent(&s, &id)["state"], "fulfilled");
    // The page shows the purchase, linked to the vendor's page.
    let page = app.get(&page_path);
    assert!(
        page.text.contains(p["id"].as_str().unwrap()),
        "{}",
        page.text
    );
    assert!(page.text.contains("See it on the vendor"));
    assert!(
        !page
            .text
            .contains(&format!("/app/offers/{offer_id}/accept"))
    );
}

#[test]
fn declining_an_offer_keeps_the_reason_and_records_nothing() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    let (id, v, t) = offered_on(&s);
    let r = offer(
        &v,
        &t,
        &id,
        json!({"price": "650", "price_currency": "EUR", "description": "Big one"}),
    );
    let offer_id = r.json()["id"].as_str().unwrap().to_owned();
    let page_path = format!("/app/intents/{id}");
    assert!(app.get(&page_path).text.contains("over budget"));
    let r = app.submit(
        &page_path,
        &format!("/app/offers/{offer_id}/decline"),
        &[("reason", "Too far away")],
    );
    assert_eq!(r.status, 303, "{}", r.text);
    let o = s.get(&format!("/v1/offers/{offer_id}")).json();
    assert_eq!(o["state"], "declined");
    assert_eq!(o["decline_reason"], "Too far away");
    assert!(s.list_all("/v1/purchases").is_empty());
    assert_eq!(intent(&s, &id)["state"], "active");
}

#[test]
fn vendor_text_is_shown_as_text_and_only_web_links_are_links() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    let (id, v, t) = offered_on(&s);
    // The vendor API refuses a link that is not http(s): it never reaches the page.
    let r = offer(
        &v,
        &t,
        &id,
        json!({"price": "450", "price_currency": "EUR", "description": "x",
               "url": "javascript:alert(1)"}),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    let r = offer(
        &v,
        &t,
        &id,
        json!({"price": "450", "price_currency": "EUR",
               "description": "<script>alert(1)</script><img src=x onerror=alert(2)>"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let page = app.get(&format!("/app/intents/{id}"));
    assert_eq!(page.status, 200);
    assert!(!page.text.contains("javascript:"), "{}", page.text);
    assert!(!page.text.contains("<script>alert"), "{}", page.text);
    assert!(!page.text.contains("<img src=x"), "{}", page.text);
    assert!(
        page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        page.text
    );
}

#[test]
fn no_change_without_the_sessions_form_token() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    let id = created(&app.submit(NEW, NEW, &form(&[])));
    // No token at all.
    let r = app.post_raw(&format!("/app/intents/{id}/activate"), &[]);
    assert_eq!(r.status, 403, "{}", r.text);
    let r = app.post_raw(NEW, &form(&[("title", "Forged")]));
    assert_eq!(r.status, 403, "{}", r.text);
    // Another session's token.
    let mut other = WebApp::new(&s);
    assert_eq!(other.sign_in(carnet_tests::webapp::PASSWORD).status, 303);
    let theirs = input_value(&other.get("/app/intents").text, "csrf").unwrap();
    let r = app.post_raw(
        &format!("/app/intents/{id}/activate"),
        &[("csrf", theirs.as_str())],
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(intent(&s, &id)["state"], "draft");
    assert_eq!(s.get("/v1/intents").json().as_array().unwrap().len(), 1);
}

#[test]
fn save_and_activate_that_cannot_activate_keeps_the_change_as_a_draft_and_says_why() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    let id = created(&app.submit(NEW, NEW, &form(&[])));
    let edit = format!("/app/intents/{id}/edit");
    assert!(
        app.get(&edit).text.contains("Save and activate"),
        "a draft can be activated from its form"
    );
    // A draft may keep a window that is over; it cannot be published with it.
    let r = app.submit(
        &edit,
        &edit,
        &form(&[
            ("valid_through", "2001-01-01"),
            ("title", "Old dryer"),
            ("then", "activate"),
        ]),
    );
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.text.contains("could not be activated"), "{}", r.text);
    let i = intent(&s, &id);
    assert_eq!(i["state"], "draft");
    assert_eq!(i["title"], "Old dryer");
}
