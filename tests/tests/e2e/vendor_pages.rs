//! Built pages of a vendor's pull (a cursor, `updated_since`): walked in pull order through what
//! the vendor may see, with only the page's intents built. They must give exactly what the
//! rules say, in order, once each, with the fields the terms withhold left out and logged.

use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, TestServer};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

#[test]
fn pages_for_updated_since_give_exactly_the_intents_changed_since_in_order() {
    let s = TestServer::spawn_with_manual_clock();
    let until = s.clock_now() + Duration::days(5);
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["intents:read"], Some(&["home.appliances"]));
    // (when it last changed, id, whether the vendor may see it, whether it withholds)
    let mut made: Vec<(DateTime<Utc>, String, bool, bool)> = Vec::new();
    for i in 0..30 {
        let seen = i % 5 != 4;
        let withholds = i % 7 == 0;
        let mut body = json!({
            "category": if seen { "home.appliances.washer" } else { "garden.tools" },
            "title": format!("Intent {i}"),
            "description": "8 kg, quiet",
            "valid_through": until.to_rfc3339(),
        });
        if withholds {
            body["terms"] =
                json!({"withhold": ["description"], "purpose": "p", "retention_days": 7});
        }
        let id = s.create("/v1/intents", &body);
        let r = s.post(&format!("/v1/intents/{id}/activate"), &json!({}));
        assert_eq!(r.status, 200, "{}", r.text);
        let at: DateTime<Utc> = r.json()["updated_at"].as_str().unwrap().parse().unwrap();
        made.push((at, id, seen, withholds));
        // Some share their instant: those are ordered by id.
        if i % 3 != 0 {
            s.clock.advance(Duration::seconds(1));
        }
    }
    let since = made[10].0;
    let mut expected: Vec<&(DateTime<Utc>, String, bool, bool)> = made
        .iter()
        .filter(|(at, _, seen, _)| *seen && *at >= since)
        .collect();
    expected.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));

    let token = v.token();
    let since = since.to_rfc3339_opts(SecondsFormat::Millis, true);
    let (mut got, mut pages, mut cursor) = (Vec::new(), Vec::new(), None::<String>);
    loop {
        let mut path = format!("/v1/vendor/intents?updated_since={since}&limit=4");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = v.get(&token, &path);
        assert_eq!(page.status, 200, "{}", page.text);
        let page = page.json();
        let items = page["items"].as_array().unwrap().clone();
        assert!(items.len() <= 4);
        pages.push(
            items
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>(),
        );
        got.extend(items);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let ids: Vec<&str> = got.iter().map(|i| i["id"].as_str().unwrap()).collect();
    let want: Vec<&str> = expected.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(ids, want);
    for (item, (_, _, _, withholds)) in got.iter().zip(&expected) {
        assert_eq!(item.get("description").is_none(), *withholds, "{item}");
    }

    // One access-log entry per page: exactly its ids, and the fields its intents withheld.
    let log = s.list_all(&format!("/v1/access-log?vendor={}", v.vendor_id));
    let mut reads: Vec<&Value> = log
        .iter()
        .filter(|e| e["endpoint"] == "GET /v1/vendor/intents")
        .collect();
    reads.sort_by_key(|e| e["at"].as_str().unwrap().to_owned());
    assert_eq!(reads.len(), pages.len(), "{log:#?}");
    for page in &pages {
        let entry = reads
            .iter()
            .find(|e| e["ids"] == json!(page))
            .unwrap_or_else(|| panic!("no entry for page {page:?}: {log:#?}"));
        let withheld: serde_json::Map<String, Value> = made
            .iter()
            .filter(|(_, id, _, w)| *w && page.contains(id))
            .map(|(_, id, _, _)| (id.clone(), json!(["description"])))
            .collect();
        if withheld.is_empty() {
            assert!(
                entry["withheld"].as_object().is_none_or(|w| w.is_empty()),
                "{entry}"
            );
        } else {
            assert_eq!(entry["withheld"], Value::Object(withheld), "{entry}");
        }
    }
}
