//! The owner's time zone (`time_zone` in the profile): it decides what is late; it must name a
//! zone the server knows; no vendor ever sees it.

use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, TestServer};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::vendor;

fn late_promises(s: &TestServer) -> usize {
    s.get("/v1/promises?state=late").json()["items"]
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn a_promise_due_yesterday_in_the_owners_zone_is_late_even_while_it_is_still_that_day_in_utc() {
    let s = TestServer::spawn_with_manual_clock();
    // 12:00 UTC on the 6th is already 02:00 on the 7th at UTC+14, still 01:00 on the 6th at UTC-11.
    s.clock
        .set("2026-12-06T12:00:00Z".parse::<DateTime<Utc>>().unwrap());
    let acme = vendor(&s, "Acme");
    s.create(
        "/v1/promises",
        &json!({"vendor_id": acme, "what": "Deliver the fridge", "due": "2026-12-06"}),
    );
    let set = |zone: &str| {
        let r = s.put("/v1/profile", &json!({"time_zone": zone}));
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json()["time_zone"], zone);
    };

    set("Pacific/Kiritimati");
    assert_eq!(late_promises(&s), 1);
    let followups = s.get("/v1/followups").json();
    assert_eq!(followups[0]["kind"], "promise", "{followups}");

    set("Pacific/Pago_Pago");
    assert_eq!(late_promises(&s), 0);
    assert_eq!(s.get("/v1/followups").json().as_array().unwrap().len(), 0);
}

#[test]
fn a_time_zone_must_be_one_the_server_knows_and_a_refused_one_changes_nothing() {
    let s = TestServer::spawn();
    let r = s.put(
        "/v1/profile",
        &json!({"time_zone": "Europe/Paris", "city": "Lyon"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    for wrong in [
        "Mars/Olympus_Mons",
        "Europe/Paris; DROP",
        "",
        "../../etc/passwd",
    ] {
        let p = s
            .put("/v1/profile", &json!({"time_zone": wrong}))
            .problem(422);
        assert!(p.to_string().contains("time_zone"), "{wrong}: {p}");
    }
    let kept = s.get("/v1/profile").json();
    assert_eq!(kept["time_zone"], "Europe/Paris");
    assert_eq!(kept["city"], "Lyon");
}

#[test]
fn a_vendor_reading_the_profile_never_sees_the_owners_time_zone() {
    let s = TestServer::spawn();
    let r = s.put(
        "/v1/profile",
        &json!({"display_name": "Camille", "time_zone": "Europe/Paris"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let acme = VendorApp::connect(&s, "Acme");
    acme.grant(&s, &["profile:read"], None);
    let seen = acme.get(&acme.token(), "/v1/vendor/profile");
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert_eq!(seen.json()["display_name"], "Camille");
    assert!(
        !seen.text.contains("time_zone") && !seen.text.contains("Paris"),
        "{}",
        seen.text
    );
}
