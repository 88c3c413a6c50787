//! The consumer's ledger through the owner API: vendors, interactions, purchases, incidents,
//! follow-ups, profile, and the loyalty facts derived from them.

use carnet_tests::{Api, TestServer};
use serde_json::json;

use crate::{interaction, vendor};

#[test]
fn a_vendor_keeps_everything_the_owner_wrote_about_it() {
    let s = TestServer::spawn();
    let body = json!({
        "name": "Acme Appliances",
        "website": "https://acme.example",
        "categories": ["home.appliances", "home.appliances.washing-machine"],
        "accounts": ["customer 4711"],
        "note": "Good after-sales, slow deliveries",
        "channel": "email",
        "contact_policy": "Email only, at most once a month"
    });
    let id = s.create("/v1/vendors", &body);
    let got = s.get(&format!("/v1/vendors/{id}")).json();
    for (k, v) in body.as_object().unwrap() {
        assert_eq!(&got[k], v, "{k}");
    }
    assert_eq!(got["id"], id);
    assert_eq!(got["loyalty"]["purchases"], 0);

    let edited = s.put(
        &format!("/v1/vendors/{id}"),
        &json!({"name": "Acme", "channel": "phone"}),
    );
    assert_eq!(edited.status, 200, "{}", edited.text);
    let got = s.get(&format!("/v1/vendors/{id}")).json();
    assert_eq!(got["name"], "Acme");
    assert_eq!(got["website"], serde_json::Value::Null);
    assert_eq!(got["created_at"], edited.json()["created_at"]);
}

#[test]
fn loyalty_facts_are_computed_from_the_ledger() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let other = vendor(&s, "Other");
    for (amount, currency, date) in [
        ("699.90", "EUR", "2025-03-01"),
        ("100.10", "EUR", "2024-11-20"),
        ("19.99", "USD", "2026-01-05"),
    ] {
        s.create(
            "/v1/purchases",
            &json!({"vendor_id": v, "item": "thing", "amount": amount, "currency": currency, "date": date}),
        );
    }
    s.create(
        "/v1/purchases",
        &json!({"vendor_id": other, "item": "not theirs", "amount": "5000", "currency": "EUR", "date": "2020-01-01"}),
    );
    interaction(
        &s,
        &v,
        json!({"sentiment": 2, "at": "2026-02-01T10:00:00+01:00"}),
    );
    interaction(
        &s,
        &v,
        json!({"sentiment": -1, "at": "2026-03-01T10:00:00+01:00"}),
    );
    interaction(&s, &v, json!({"at": "2026-01-01T10:00:00+01:00"}));
    let open = s.create(
        "/v1/incidents",
        &json!({"vendor_id": v, "description": "Drum noise"}),
    );
    s.create(
        "/v1/incidents",
        &json!({"vendor_id": v, "description": "Late"}),
    );
    let r = s.post(
        &format!("/v1/incidents/{open}/resolve"),
        &json!({"resolution": "Drum replaced", "satisfaction": 8}),
    );
    assert_eq!(r.status, 200, "{}", r.text);

    let loyalty = s.get(&format!("/v1/vendors/{v}")).json()["loyalty"].clone();
    assert_eq!(loyalty["customer_since"], "2024-11-20");
    assert_eq!(loyalty["purchases"], 3);
    assert_eq!(
        loyalty["total_spent"],
        json!({"EUR": "800.00", "USD": "19.99"})
    );
    assert_eq!(loyalty["interactions"], 3);
    assert_eq!(loyalty["last_contact"], "2026-03-01T10:00:00+01:00");
    assert_eq!(loyalty["average_sentiment"], 0.5);
    assert_eq!(loyalty["incidents"], 2);
    assert_eq!(loyalty["incidents_resolved"], 1);
    assert_eq!(loyalty["average_satisfaction"], 8.0);
}

#[test]
fn interactions_list_by_vendor_text_and_time_newest_first() {
    let s = TestServer::spawn();
    let a = vendor(&s, "A");
    let b = vendor(&s, "B");
    let old = interaction(
        &s,
        &a,
        json!({"at": "2026-01-01T09:00:00Z", "they_said": "Refund in 5 days"}),
    );
    let new = interaction(
        &s,
        &a,
        json!({"at": "2026-02-01T09:00:00Z", "summary": "Refund arrived"}),
    );
    let other = interaction(&s, &b, json!({"at": "2026-01-15T09:00:00Z"}));

    let ids = |path: &str| -> Vec<String> {
        s.list_all(path)
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids("/v1/interactions"),
        vec![new.clone(), other.clone(), old.clone()]
    );
    assert_eq!(
        ids(&format!("/v1/interactions?vendor={a}")),
        vec![new.clone(), old.clone()]
    );
    assert_eq!(
        ids("/v1/interactions?grep=REFUND"),
        vec![new.clone(), old.clone()]
    );
    assert_eq!(
        ids("/v1/interactions?since=2026-01-10T00:00:00Z&until=2026-02-01T09:00:00Z"),
        vec![other]
    );
}

#[test]
fn listings_page_through_every_record_once() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let mut made: Vec<String> = (0..7)
        .map(|i| {
            interaction(
                &s,
                &v,
                json!({"at": format!("2026-01-0{}T09:00:00Z", i + 1)}),
            )
        })
        .collect();
    let first = s.get("/v1/interactions?limit=3").json();
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    assert!(first["next_cursor"].is_string());
    let mut seen: Vec<String> = s
        .list_all("/v1/interactions?limit=3")
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    made.reverse();
    assert_eq!(seen, made);
    seen.dedup();
    assert_eq!(seen.len(), 7);
}

#[test]
fn an_interaction_keeps_its_whole_story() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let inc = s.create(
        "/v1/incidents",
        &json!({"vendor_id": v, "description": "Broken drum"}),
    );
    let body = json!({
        "vendor_id": v, "at": "2026-11-20T15:30:00+01:00", "channel": "phone",
        "summary": "Called about the drum", "with": "Claire, after-sales",
        "expected": "A technician this week", "i_said": "It is the second time",
        "they_said": "A technician comes Tuesday", "outcome": "Visit booked",
        "sentiment": 1, "next_step": "Check the visit happened", "next_due": "2026-11-26",
        "incident_id": inc, "shared": true
    });
    let id = s.create("/v1/interactions", &body);
    let got = s.get(&format!("/v1/interactions/{id}")).json();
    for (k, v) in body.as_object().unwrap() {
        assert_eq!(&got[k], v, "{k}");
    }
    assert_eq!(got["next_done"], false);
}

#[test]
fn an_interaction_cannot_point_at_another_vendors_incident() {
    let s = TestServer::spawn();
    let a = vendor(&s, "A");
    let b = vendor(&s, "B");
    let inc = s.create(
        "/v1/incidents",
        &json!({"vendor_id": b, "description": "x"}),
    );
    let p = s
        .post(
            "/v1/interactions",
            &json!({"vendor_id": a, "channel": "email", "summary": "x", "incident_id": inc}),
        )
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "incident_id");
    let p = s
        .post(
            "/v1/interactions",
            &json!({"vendor_id": a, "channel": "email", "summary": "x", "next_due": "2026-01-01"}),
        )
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "next_due");
}

#[test]
fn followups_list_open_next_steps_due_by_a_day_and_drop_done_ones() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let due_soon = interaction(
        &s,
        &v,
        json!({"next_step": "Chase refund", "next_due": "2026-11-25"}),
    );
    let later = interaction(
        &s,
        &v,
        json!({"next_step": "Renew contract", "next_due": "2027-03-01"}),
    );
    let undated = interaction(&s, &v, json!({"next_step": "Ask for a discount"}));
    interaction(&s, &v, json!({}));

    let ids = |path: &str| -> Vec<String> {
        s.get(path)
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["interaction_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids("/v1/followups?through=2026-11-30"),
        vec![due_soon.clone(), undated.clone()]
    );
    assert_eq!(
        ids("/v1/followups"),
        vec![due_soon.clone(), later.clone(), undated.clone()]
    );
    let f = &s.get("/v1/followups").json()[0];
    assert_eq!(f["vendor_name"], "Acme");
    assert_eq!(f["next_step"], "Chase refund");

    let done = s.post(&format!("/v1/followups/{due_soon}/done"), &json!({}));
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.json()["next_done"], true);
    assert_eq!(ids("/v1/followups"), vec![later, undated]);
}

#[test]
fn removing_a_vendor_removes_its_ledger_and_nothing_else() {
    let s = TestServer::spawn();
    let gone = vendor(&s, "Gone");
    let kept = vendor(&s, "Kept");
    interaction(&s, &gone, json!({}));
    let keep_i = interaction(&s, &kept, json!({}));
    s.create(
        "/v1/purchases",
        &json!({"vendor_id": gone, "item": "x", "amount": "1", "currency": "EUR"}),
    );
    s.create(
        "/v1/incidents",
        &json!({"vendor_id": gone, "description": "x"}),
    );

    assert_eq!(s.delete(&format!("/v1/vendors/{gone}")).status, 204);
    s.get(&format!("/v1/vendors/{gone}")).problem(404);
    let left: Vec<_> = s.list_all("/v1/interactions");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["id"], keep_i);
    assert!(s.list_all("/v1/purchases").is_empty());
    assert!(s.list_all("/v1/incidents").is_empty());
    s.delete(&format!("/v1/vendors/{gone}")).problem(404);
}

#[test]
fn the_profile_is_empty_until_set_and_then_replaced_whole() {
    let s = TestServer::spawn();
    let p = s.get("/v1/profile").json();
    assert_eq!(p["updated_at"], serde_json::Value::Null);
    assert_eq!(p["display_name"], serde_json::Value::Null);
    let set = s.put(
        "/v1/profile",
        &json!({"display_name": "Camille", "locale": "fr-FR", "city": "Lyon", "postal_code": "69003"}),
    );
    assert_eq!(set.status, 200, "{}", set.text);
    let p = s.get("/v1/profile").json();
    assert_eq!(p["city"], "Lyon");
    assert!(p["updated_at"].is_string());
    s.put("/v1/profile", &json!({"locale": "not a locale"}))
        .problem(422);
    assert_eq!(
        s.get("/v1/profile").json()["city"],
        "Lyon",
        "a refused write changes nothing"
    );
}

#[test]
fn records_survive_a_restart() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let i = interaction(&s, &v, json!({"i_said": "Please call before delivery"}));
    let token = s.token();
    let s = TestServer::restart_in(s.stop());
    assert_eq!(s.token(), token, "the owner token is reused");
    let got = s.get(&format!("/v1/interactions/{i}")).json();
    assert_eq!(got["i_said"], "Please call before delivery");
}

#[test]
fn a_purchase_can_be_corrected_but_stays_with_its_vendor() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let other = vendor(&s, "Other");
    let p = s.create(
        "/v1/purchases",
        &json!({"vendor_id": v, "item": "Washer", "amount": "699.00", "currency": "EUR", "date": "2026-01-02"}),
    );
    let r = s.put(
        &format!("/v1/purchases/{p}"),
        &json!({"vendor_id": v, "item": "Washer WM-7", "amount": "699.90", "currency": "EUR"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let got = s.get(&format!("/v1/purchases/{p}")).json();
    assert_eq!(got["amount"], "699.90");
    assert_eq!(
        got["date"], "2026-01-02",
        "a missing date keeps the old one"
    );
    s.put(
        &format!("/v1/purchases/{p}"),
        &json!({"vendor_id": other, "item": "x", "amount": "1", "currency": "EUR"}),
    )
    .problem(422);
    s.put(
        &format!("/v1/purchases/{p}"),
        &json!({"vendor_id": v, "item": "x", "amount": "1", "currency": "EUR", "warranty_until": "2025-01-01"}),
    )
    .problem(422);
}

#[test]
fn deleting_an_incident_leaves_interactions_that_mention_it_editable() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let inc = s.create(
        "/v1/incidents",
        &json!({"vendor_id": v, "description": "Drum"}),
    );
    let i = interaction(&s, &v, json!({"incident_id": inc}));
    assert_eq!(s.delete(&format!("/v1/incidents/{inc}")).status, 204);
    s.get(&format!("/v1/incidents/{inc}")).problem(404);
    let mut body = s.get(&format!("/v1/interactions/{i}")).json();
    for k in ["id", "created_at", "updated_at"] {
        body.as_object_mut().unwrap().remove(k);
    }
    body["outcome"] = json!("Settled");
    let r = s.put(&format!("/v1/interactions/{i}"), &body);
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn re_resolving_an_incident_keeps_the_earlier_satisfaction() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let inc = s.create(
        "/v1/incidents",
        &json!({"vendor_id": v, "description": "Drum"}),
    );
    s.post(
        &format!("/v1/incidents/{inc}/resolve"),
        &json!({"resolution": "Fixed", "satisfaction": 7}),
    );
    let r = s
        .post(
            &format!("/v1/incidents/{inc}/resolve"),
            &json!({"resolution": "Drum replaced"}),
        )
        .json();
    assert_eq!(r["resolution"], "Drum replaced");
    assert_eq!(r["satisfaction"], 7);
    assert_eq!(r["status"], "resolved");
}

#[test]
fn text_that_could_display_as_something_else_is_refused() {
    let s = TestServer::spawn();
    for name in ["Acme\u{1b}[2J", "invoice\u{202E}fdp.exe", "two\nlines"] {
        let p = s.post("/v1/vendors", &json!({"name": name})).problem(422);
        assert_eq!(p["errors"][0]["field"], "name");
    }
    let ok = s.post(
        "/v1/vendors",
        &json!({"name": "Acme", "note": "line one\nline two"}),
    );
    assert_eq!(ok.status, 201, "{}", ok.text);
}
