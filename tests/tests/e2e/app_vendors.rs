//! The web app's Vendors: the list (filtered by name, a page at a time), a vendor's page
//! (facts, pictures, accesses, one timeline), the purchase and incident forms, sharing an
//! interaction; all over the same core services as the owner API, which checks the results.

use carnet_tests::browser::input_value;
use carnet_tests::vendor::VendorApp;
use carnet_tests::webapp::WebApp;
use carnet_tests::{Api, TestServer};
use serde_json::{Value, json};

fn vendor(s: &TestServer, name: &str) -> String {
    s.create("/v1/vendors", &json!({ "name": name }))
}

fn interaction(s: &TestServer, vendor: &str, summary: &str, sentiment: i64) -> String {
    s.create(
        "/v1/interactions",
        &json!({
            "vendor_id": vendor, "channel": "phone", "summary": summary,
            "sentiment": sentiment, "at": "2026-11-20T10:00:00Z"
        }),
    )
}

fn purchases_of(s: &TestServer, vendor: &str) -> Vec<Value> {
    s.list_all(&format!("/v1/purchases?vendor={vendor}"))
}

#[test]
fn the_list_shows_every_vendor_and_filters_by_the_beginning_of_the_name() {
    let s = TestServer::spawn();
    for name in ["Acme Appliances", "acme bis", "Boulangerie Martin"] {
        vendor(&s, name);
    }
    let acme = vendor(&s, "Acme Hardware");
    interaction(&s, &acme, "Asked for a quote", 1);
    let mut app = WebApp::signed_in(&s);
    let all = app.get("/app/vendors");
    assert_eq!(all.status, 200, "{}", all.text);
    for name in [
        "Acme Appliances",
        "acme bis",
        "Boulangerie Martin",
        "Acme Hardware",
    ] {
        assert!(all.text.contains(name), "{name}: {}", all.text);
    }
    assert!(all.text.contains(">Filter</label>"), "{}", all.text);
    assert!(all.text.contains("href=\"/app/vendors/new\""));
    let filtered = app.get("/app/vendors?q=acme");
    assert_eq!(filtered.status, 200);
    assert!(filtered.text.contains("Acme Appliances"));
    assert!(filtered.text.contains("acme bis"));
    assert!(!filtered.text.contains("Boulangerie"), "{}", filtered.text);
    assert_eq!(input_value(&filtered.text, "q").as_deref(), Some("acme"));
    // The vendor's tally comes along: one interaction, its day.
    assert!(filtered.text.contains("2026-11-20"), "{}", filtered.text);
    let none = app.get("/app/vendors?q=zzz");
    assert!(none.text.contains("No vendor"), "{}", none.text);
}

#[test]
fn the_list_goes_a_page_at_a_time() {
    let s = TestServer::spawn();
    for n in 0..55 {
        vendor(&s, &format!("Vendor {n:02}"));
    }
    let mut app = WebApp::signed_in(&s);
    let first = app.get("/app/vendors");
    assert!(first.text.contains("Vendor 00") && first.text.contains("Vendor 49"));
    assert!(!first.text.contains("Vendor 50"));
    let start = first.text.find("rel=\"next\"").expect("a next link");
    let href_at = first.text[..start].rfind("href=\"").unwrap() + 6;
    let href = &first.text[href_at..href_at + first.text[href_at..].find('"').unwrap()];
    let next = app.get(&href.replace("&amp;", "&"));
    assert_eq!(next.status, 200, "{}", next.text);
    assert!(next.text.contains("Vendor 50") && next.text.contains("Vendor 54"));
    assert!(!next.text.contains("Vendor 49"));
    assert!(!next.text.contains("rel=\"next\""));
}

#[test]
fn adding_a_vendor_from_the_web_app_records_it_and_a_taken_name_is_said_beside_the_field() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    let r = app.submit(
        "/app/vendors/new",
        "/app/vendors/new",
        &[
            ("name", "Acme"),
            ("website", "https://acme.example"),
            ("categories", "home.appliances"),
            ("accounts", "C-123\nlogin@acme"),
            ("channel", "email"),
            ("note", ""),
            ("contact_policy", ""),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text);
    let vendors = s.list_all("/v1/vendors");
    assert_eq!(vendors.len(), 1);
    assert_eq!(vendors[0]["website"], "https://acme.example");
    assert_eq!(vendors[0]["accounts"], json!(["C-123", "login@acme"]));
    assert_eq!(
        r.header("location"),
        Some(format!("/app/vendors/{}", vendors[0]["id"].as_str().unwrap()).as_str())
    );
    let again = app.submit(
        "/app/vendors/new",
        "/app/vendors/new",
        &[("name", "Acme"), ("website", "not a url")],
    );
    assert_eq!(again.status, 422, "{}", again.text);
    assert!(again.text.contains("f-website-err"), "{}", again.text);
    assert_eq!(
        input_value(&again.text, "website").as_deref(),
        Some("not a url")
    );
    let taken = app.submit("/app/vendors/new", "/app/vendors/new", &[("name", "Acme")]);
    assert_eq!(taken.status, 422, "{}", taken.text);
    assert!(taken.text.contains("already exists"), "{}", taken.text);
    assert_eq!(s.list_all("/v1/vendors").len(), 1);
}

#[test]
fn the_vendor_page_shows_one_timeline_of_every_kind_the_facts_and_the_pictures() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme Appliances");
    let acme = v.vendor_id.clone();
    interaction(&s, &acme, "Drum noise reported", -1);
    s.create(
        "/v1/purchases",
        &json!({"vendor_id": acme, "item": "Washing machine", "amount": "699.90",
                "currency": "EUR", "date": s.clock_now().date_naive()}),
    );
    s.create(
        "/v1/incidents",
        &json!({"vendor_id": acme, "description": "Drum broken after 3 weeks"}),
    );
    let grant = v.grant(&s, &["relationship:read"], None);
    let token = v.token();
    assert_eq!(v.get(&token, "/v1/vendor/relationship").status, 200);
    let mut app = WebApp::signed_in(&s);
    let page = app.get(&format!("/app/vendors/{acme}"));
    assert_eq!(page.status, 200, "{}", page.text);
    let t = &page.text;
    for text in [
        "Drum noise reported",
        "Washing machine",
        "Drum broken after 3 weeks",
        "Access granted",
        "Consent receipt",
        "699.90 EUR",
    ] {
        assert!(t.contains(text), "{text}: {t}");
    }
    // Newest first: the grant (made last) before the interaction of 2026-11-20.
    assert!(t.find("Access granted").unwrap() < t.find("Drum noise reported").unwrap());
    assert!(t.matches("<svg").count() >= 3, "{t}");
    assert!(t.contains("<title id=\"accesses-t\">Accesses per day</title>"));
    assert!(t.contains("Sentiment per month"));
    assert!(t.contains("<table class=\"hidden\">"), "{t}");
    assert!(t.contains("GET /v1/vendor/relationship"), "{t}");
    // Its token and its read, today, are the access log's entries of the last 30 days.
    let logged = s.list_all(&format!("/v1/access-log?vendor={acme}")).len();
    assert!(logged >= 2, "a token and a read");
    assert!(
        t.contains(&format!("{logged} access-log entries in the last 30 days")),
        "{logged}: {t}"
    );
    assert!(t.contains(&format!("href=\"/app/access?vendor={acme}\"")));
    assert!(t.contains(&format!("href=\"/app/interactions/new?vendor={acme}\"")));
    assert!(t.contains(&format!("action=\"/app/grants/{grant}/revoke\"")));
    assert!(t.contains("data-confirm="));
    assert!(!t.contains("style="), "no inline style");
}

#[test]
fn a_purchase_added_from_the_web_app_is_recorded() {
    let s = TestServer::spawn();
    let acme = vendor(&s, "Acme");
    let mut app = WebApp::signed_in(&s);
    let form = format!("/app/vendors/{acme}/purchases/new");
    let r = app.submit(
        &form,
        &form,
        &[
            ("item", "Kettle"),
            ("amount", "39.90"),
            ("currency", "eur"),
            ("at", "2026-10-01"),
            ("warranty_until", "2028-10-01"),
            ("receipt", "ORD-7"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text);
    let got = purchases_of(&s, &acme);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["item"], "Kettle");
    assert_eq!(got[0]["amount"], "39.90");
    assert_eq!(got[0]["currency"], "EUR");
    assert_eq!(got[0]["date"], "2026-10-01");
    assert_eq!(got[0]["warranty_until"], "2028-10-01");
    assert_eq!(got[0]["receipt"], "ORD-7");
}

#[test]
fn a_wrong_amount_keeps_what_was_typed_and_says_what_is_wrong() {
    let s = TestServer::spawn();
    let acme = vendor(&s, "Acme");
    let mut app = WebApp::signed_in(&s);
    let form = format!("/app/vendors/{acme}/purchases/new");
    for (amount, currency, says) in [
        ("12,5O", "EUR", "f-amount-err"),
        ("10.123", "EUR", "decimals"),
    ] {
        let r = app.submit(
            &form,
            &form,
            &[
                ("item", "Kettle"),
                ("amount", amount),
                ("currency", currency),
            ],
        );
        assert_eq!(r.status, 422, "{amount}: {}", r.text);
        assert!(r.text.contains(says), "{amount}: {}", r.text);
        assert!(r.text.contains("aria-invalid=\"true\""));
        assert_eq!(input_value(&r.text, "amount").as_deref(), Some(amount));
        assert_eq!(input_value(&r.text, "item").as_deref(), Some("Kettle"));
    }
    assert!(purchases_of(&s, &acme).is_empty());
}

#[test]
fn an_incident_added_from_the_web_app_is_recorded_and_a_wrong_time_is_sent_back() {
    let s = TestServer::spawn();
    let acme = vendor(&s, "Acme");
    let mut app = WebApp::signed_in(&s);
    let form = format!("/app/vendors/{acme}/incidents/new");
    let bad = app.submit(
        &form,
        &form,
        &[("description", "Drum broken"), ("at", "yesterday")],
    );
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains("Drum broken</textarea>"), "{}", bad.text);
    let r = app.submit(
        &form,
        &form,
        &[("description", "Drum broken"), ("at", "2026-11-20T14:30")],
    );
    assert_eq!(r.status, 303, "{}", r.text);
    let got = s.list_all(&format!("/v1/incidents?vendor={acme}"));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["description"], "Drum broken");
    assert_eq!(got[0]["status"], "open");
    assert!(
        got[0]["opened_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-20T14:30:00")
    );
}

#[test]
fn sharing_and_unsharing_from_the_timeline_changes_what_the_vendor_may_read() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    let id = interaction(&s, &v.vendor_id, "Drum noise", 0);
    v.grant(&s, &["interactions:read"], None);
    let token = v.token();
    let seen = |v: &VendorApp| {
        let r = v.get(&token, "/v1/vendor/interactions");
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["items"].as_array().unwrap().len()
    };
    assert_eq!(seen(&v), 0);
    let mut app = WebApp::signed_in(&s);
    let page = format!("/app/vendors/{}", v.vendor_id);
    let r = app.submit(&page, &format!("/app/interactions/{id}/share"), &[]);
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        s.get(&format!("/v1/interactions/{id}")).json()["shared"],
        true
    );
    assert_eq!(seen(&v), 1);
    assert!(app.get(&page).text.contains("Stop sharing"));
    let r = app.submit(&page, &format!("/app/interactions/{id}/unshare"), &[]);
    assert_eq!(r.status, 303, "{}", r.text);
    let after = s.get(&format!("/v1/interactions/{id}")).json();
    assert_eq!(after["shared"], false);
    assert_eq!(after["summary"], "Drum noise", "nothing else changed");
    assert_eq!(seen(&v), 0);
}

#[test]
fn a_vendor_name_with_a_script_is_shown_as_text() {
    let s = TestServer::spawn();
    let id = s.create("/v1/vendors", &json!({"name": "<script>alert(1)</script>"}));
    let mut app = WebApp::signed_in(&s);
    for path in ["/app/vendors".to_owned(), format!("/app/vendors/{id}")] {
        let r = app.get(&path);
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert!(!r.text.contains("<script>alert(1)"), "{path}: {}", r.text);
        assert!(
            r.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
    }
    let page = app.get(&format!("/app/vendors/{id}/purchases/new"));
    assert!(!page.text.contains("<script>alert(1)"));
}

#[test]
fn an_unknown_vendor_is_a_404_page() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    for path in [
        "/app/vendors/ven_0000000000000000",
        "/app/vendors/not-an-id",
        "/app/vendors/ven_0000000000000000/purchases/new",
        "/app/vendors/ven_0000000000000000/incidents/new",
    ] {
        let r = app.get(path);
        assert_eq!(r.status, 404, "{path}: {}", r.text);
        assert!(r.text.contains("<html"), "{path}: an HTML page");
    }
}

#[test]
fn a_form_without_its_token_or_with_another_sessions_changes_nothing() {
    let s = TestServer::spawn();
    let acme = vendor(&s, "Acme");
    let id = interaction(&s, &acme, "Drum noise", 0);
    let mut app = WebApp::signed_in(&s);
    let mut other = WebApp::new(&s);
    assert_eq!(other.sign_in(carnet_tests::webapp::PASSWORD).status, 303);
    let theirs = input_value(&other.get("/app/vendors").text, "csrf").unwrap();
    let purchase = format!("/app/vendors/{acme}/purchases/new");
    let fields = [("item", "Kettle"), ("amount", "10"), ("currency", "EUR")];
    let r = app.post_raw(&purchase, &fields);
    assert_eq!(r.status, 403, "{}", r.text);
    let mut with_theirs = vec![("csrf", theirs.as_str())];
    with_theirs.extend_from_slice(&fields);
    assert_eq!(app.post_raw(&purchase, &with_theirs).status, 403);
    assert!(purchases_of(&s, &acme).is_empty());
    let incident = format!("/app/vendors/{acme}/incidents/new");
    assert_eq!(app.post_raw(&incident, &[("description", "x")]).status, 403);
    assert!(
        s.list_all(&format!("/v1/incidents?vendor={acme}"))
            .is_empty()
    );
    assert_eq!(
        app.post_raw(&format!("/app/interactions/{id}/share"), &[])
            .status,
        403
    );
    assert_eq!(
        s.get(&format!("/v1/interactions/{id}")).json()["shared"],
        false
    );
    assert_eq!(
        app.post_raw("/app/vendors/new", &[("name", "Evil")]).status,
        403
    );
    assert_eq!(s.list_all("/v1/vendors").len(), 1);
}

/// The `href` of the link marked `rel="next"` in `html`, if any.
fn next_link(html: &str) -> Option<String> {
    let at = html.find("rel=\"next\"")?;
    let start = html[..at].rfind("href=\"")? + 6;
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}

#[test]
fn the_timeline_goes_back_a_page_at_a_time_with_every_record_once_newest_first() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    for n in 0..40 {
        s.create(
            "/v1/interactions",
            &json!({"vendor_id": v.vendor_id, "channel": "email",
                    "summary": format!("Message {n:02}"),
                    "at": format!("2026-10-{:02}T{:02}:00:00Z", 1 + n / 2, 8 + n % 2)}),
        );
    }
    for day in ["2026-10-05", "2026-10-15"] {
        s.create(
            "/v1/purchases",
            &json!({"vendor_id": v.vendor_id, "item": format!("Bought {day}"),
                    "amount": "5", "currency": "EUR", "date": day}),
        );
    }
    v.grant(&s, &["relationship:read"], None);
    let mut app = WebApp::signed_in(&s);
    let mut path = format!("/app/vendors/{}", v.vendor_id);
    let mut seen: Vec<String> = Vec::new();
    let mut pages = 0;
    loop {
        let page = app.get(&path);
        assert_eq!(page.status, 200, "{path}: {}", page.text);
        pages += 1;
        let timeline = &page.text[page.text.find("id=\"timeline\"").unwrap()..];
        for (i, _) in timeline.match_indices("<strong>") {
            let rest = &timeline[i + 8..];
            seen.push(rest[..rest.find('<').unwrap()].to_owned());
        }
        match next_link(&page.text) {
            Some(next) => path = next,
            None => break,
        }
    }
    assert_eq!(
        pages, 2,
        "40 interactions, 2 purchases, a grant and its receipt: 2 pages"
    );
    // The grant and its receipt were made now: first (in either order if made the same
    // millisecond).
    let mut first_two = seen[..2].to_vec();
    first_two.sort();
    assert_eq!(first_two, ["Access granted", "Consent receipt"]);
    let mut want: Vec<String> = Vec::new();
    for n in (0..40).rev() {
        want.push(format!("Message {n:02}"));
        // A purchase's time is its day at 00:00 UTC: after that day's interactions.
        match n {
            8 => want.push("Bought 2026-10-05".into()),
            28 => want.push("Bought 2026-10-15".into()),
            _ => {}
        }
    }
    assert_eq!(seen[2..], want[..]);
}
